//! The IPv4 and TCP a tamper needs: change one payload byte and keep the packet valid, since a
//! tampered packet must reach the application (a bad checksum would only look like a drop).
//! Parsing and the checksum are etherparse's; this module only picks the byte.

use std::net::Ipv4Addr;
use std::ops::Range;

use etherparse::{IpNumber, Ipv4Slice, TcpSlice};

/// Where the TCP header and payload of an unfragmented IPv4 packet are, with what the TCP
/// checksum covers.
struct Tcp {
    header: Range<usize>,
    payload: Range<usize>,
    source: [u8; 4],
    destination: [u8; 4],
    header_value: etherparse::TcpHeader,
}

fn tcp(packet: &[u8]) -> Option<Tcp> {
    let ip = Ipv4Slice::from_slice(packet).ok()?;
    let header = ip.header();
    // A packet longer than its total length (padding) or a fragment is not one we change.
    if header.protocol() != IpNumber::TCP
        || ip.is_payload_fragmented()
        || usize::from(header.total_len()) != packet.len()
    {
        return None;
    }
    let tcp = TcpSlice::from_slice(ip.payload().payload).ok()?;
    let start = header.slice().len();
    let payload_start = start + tcp.header_len();
    Some(Tcp {
        header: start..payload_start,
        payload: payload_start..packet.len(),
        source: header.source(),
        destination: header.destination(),
        header_value: tcp.to_header(),
    })
}

/// The destination of an IPv4 packet (where an injected copy is sent).
pub(crate) fn destination(packet: &[u8]) -> Option<Ipv4Addr> {
    let ip = etherparse::Ipv4HeaderSlice::from_slice(packet).ok()?;
    Some(Ipv4Addr::from(ip.destination()))
}

/// Flips the bits of one TCP payload byte (chosen by `choice`) and fixes the TCP checksum.
/// Returns false for packets without a TCP payload (nothing to change).
pub(crate) fn tamper(packet: &mut [u8], choice: u64) -> bool {
    let Some(tcp) = tcp(packet) else {
        return false;
    };
    if tcp.payload.is_empty() {
        return false;
    }
    let index = tcp.payload.start + (choice % tcp.payload.len() as u64) as usize;
    packet[index] ^= 0xff;
    fix_tcp_checksum(packet, &tcp)
}

/// Writes the checksum of the segment as it now is; false if etherparse refuses the size.
fn fix_tcp_checksum(packet: &mut [u8], tcp: &Tcp) -> bool {
    let Ok(checksum) = tcp.header_value.calc_checksum_ipv4_raw(
        tcp.source,
        tcp.destination,
        &packet[tcp.payload.clone()],
    ) else {
        return false;
    };
    let at = tcp.header.start + 16;
    packet[at..at + 2].copy_from_slice(&checksum.to_be_bytes());
    true
}

/// Whether the TCP checksum of an IPv4 packet is right (tests).
#[cfg(test)]
fn tcp_checksum_ok(packet: &[u8]) -> bool {
    let Some(tcp) = tcp(packet) else {
        return false;
    };
    let mut copy = packet.to_vec();
    fix_tcp_checksum(&mut copy, &tcp) && copy == packet
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCP segment 10.0.0.1:1234 -> 10.0.0.2:80 with payload "hello" and a correct checksum
    /// (0x42d0, computed independently with Python).
    fn packet() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 45, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
            0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x10, 0, 0, 0, 0, 0, // TCP
        ];
        p.extend_from_slice(b"hello");
        let tcp = tcp(&p).expect("tcp");
        assert!(fix_tcp_checksum(&mut p, &tcp));
        p
    }

    #[test]
    fn tamper_changes_one_payload_byte_and_keeps_the_checksum_valid() {
        let original = packet();
        assert_eq!(&original[36..38], &[0x42, 0xd0]);
        let mut p = original.clone();
        assert!(tamper(&mut p, 7));
        let changed: Vec<usize> = (0..p.len()).filter(|&i| p[i] != original[i]).collect();
        // One payload byte (index 40 + 7 % 5 = 42) and the two checksum bytes.
        assert!(changed.contains(&42));
        assert!(changed.iter().all(|&i| i == 42 || i == 36 || i == 37));
        assert!(tcp_checksum_ok(&p));
    }

    #[test]
    fn packets_without_payload_are_left_alone() {
        let mut p = packet();
        p.truncate(40);
        p[3] = 40;
        let before = p.clone();
        assert!(!tamper(&mut p, 1));
        assert_eq!(p, before);
        assert_eq!(destination(&p), Some(Ipv4Addr::new(10, 0, 0, 2)));
    }
}
