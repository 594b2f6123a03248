//! Fault injection. One vocabulary ([`model`]) and three planes: the proxy plane (a TCP proxy
//! per link, no privileges), the packet plane (network namespaces, nftables, NFQUEUE, tc; root)
//! and the process plane (signals to managed servers, commands for external ones).

pub mod control;
pub mod model;
pub mod packet;
pub mod proxy;
pub mod rng;
