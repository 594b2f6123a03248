//! The packet plane: each managed server in its own network namespace on a lab bridge, cuts in
//! nftables, per-packet impairments through NFQUEUE, bandwidth with tc. (Being built.)
