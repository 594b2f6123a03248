//! Just enough IPv4 and TCP to change a payload byte and keep the packet valid: a tampered
//! packet must reach the application (a bad checksum would only look like a drop).

use std::net::Ipv4Addr;

const TCP: u8 = 6;

/// Where the TCP header and payload are in an IPv4 packet, if it is one.
struct Tcp {
    header_start: usize,
    payload_start: usize,
}

fn tcp(packet: &[u8]) -> Option<Tcp> {
    let version = packet.first()? >> 4;
    let ihl = usize::from(packet.first()? & 0x0f) * 4;
    if version != 4 || ihl < 20 || *packet.get(9)? != TCP {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
    if total != packet.len() {
        return None;
    }
    let data_offset = usize::from(packet.get(ihl + 12)? >> 4) * 4;
    if data_offset < 20 || ihl + data_offset > packet.len() {
        return None;
    }
    Some(Tcp {
        header_start: ihl,
        payload_start: ihl + data_offset,
    })
}

/// The destination of an IPv4 packet (where an injected copy is sent).
pub(crate) fn destination(packet: &[u8]) -> Option<Ipv4Addr> {
    let bytes: [u8; 4] = packet.get(16..20)?.try_into().ok()?;
    (packet.first()? >> 4 == 4).then(|| Ipv4Addr::from(bytes))
}

/// Flips the bits of one TCP payload byte (chosen by `choice`) and fixes the TCP checksum.
/// Returns false for packets without a TCP payload (nothing to change).
pub(crate) fn tamper(packet: &mut [u8], choice: u64) -> bool {
    let Some(tcp) = tcp(packet) else {
        return false;
    };
    let payload = packet.len() - tcp.payload_start;
    if payload == 0 {
        return false;
    }
    let index = tcp.payload_start + (choice % payload as u64) as usize;
    packet[index] ^= 0xff;
    fix_tcp_checksum(packet, &tcp);
    true
}

fn fix_tcp_checksum(packet: &mut [u8], tcp: &Tcp) {
    let check = tcp.header_start + 16;
    packet[check] = 0;
    packet[check + 1] = 0;
    let segment = &packet[tcp.header_start..];
    let mut sum: u32 = 0;
    // Pseudo-header: source, destination, protocol, TCP length.
    for pair in packet[12..20].chunks(2) {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    sum += u32::from(TCP);
    sum += segment.len() as u32;
    for pair in segment.chunks(2) {
        let word = [pair[0], pair.get(1).copied().unwrap_or(0)];
        sum += u32::from(u16::from_be_bytes(word));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let checksum = !(sum as u16);
    packet[check..check + 2].copy_from_slice(&checksum.to_be_bytes());
}

/// Whether the TCP checksum of an IPv4 packet is right (tests).
#[cfg(test)]
fn tcp_checksum_ok(packet: &[u8]) -> bool {
    let Some(tcp) = tcp(packet) else {
        return false;
    };
    let mut copy = packet.to_vec();
    fix_tcp_checksum(&mut copy, &tcp);
    copy == packet
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
        fix_tcp_checksum(&mut p, &tcp);
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
