//! Where a lab on loopback lives: a block of 127.B.C.x addresses whose XMPP ports are free.

use std::net::{Ipv4Addr, TcpListener};

use super::LabError;
use super::prosody;

/// `count` loopback addresses 127.B.C.1.. whose XMPP ports are free, in a block chosen from the
/// process id so that labs of parallel runs do not meet.
pub(super) fn free_addresses(count: usize) -> Result<Vec<Ipv4Addr>, LabError> {
    let seed = std::process::id() as usize
        ^ (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as usize));
    const TRIES: usize = 64;
    let mut last = String::new();
    for attempt in 0..TRIES {
        let block = (seed.wrapping_mul(2654435761).wrapping_add(attempt * 7919)) % (250 * 250);
        let (b, c) = ((block / 250 + 1) as u8, (block % 250 + 1) as u8);
        let addresses: Vec<Ipv4Addr> = (1..=count as u8)
            .map(|d| Ipv4Addr::new(127, b, c, d))
            .collect();
        let busy = addresses.iter().find_map(|&ip| {
            [
                prosody::C2S_PORT,
                prosody::C2S_DIRECT_TLS_PORT,
                prosody::S2S_PORT,
                prosody::S2S_DIRECT_TLS_PORT,
            ]
            .iter()
            .find_map(|&port| {
                TcpListener::bind((ip, port))
                    .err()
                    .map(|e| format!("{ip}:{port}: {e}"))
            })
        });
        match busy {
            None => return Ok(addresses),
            Some(reason) => last = reason,
        }
    }
    Err(LabError::NoAddresses { reason: last })
}
