//! The lab's DNS: a small authoritative server for the `test.` zone's SRV records
//! (`_xmpp-server._tcp`, `_xmpps-server._tcp`, `_xmpp-client._tcp`), so that Prosody finds its
//! peers the way it would on the Internet and uses Direct TLS (XEP-0368) where a peer
//! publishes it. Addresses stay in each server's own hosts file (its view of the lab, see the
//! proxy plane); Prosody's resolver answers those locally and forwards the rest here.
//!
//! Hickory DNS encodes and decodes the messages; the receive-answer loop (one UDP socket, a
//! dozen lines) is ours. Not hickory-server: its `ServerFuture` would replace only that loop;
//! the answers would still be ours (a `RequestHandler`), since its authorities serve whole
//! zones with an SOA, built up front, while the lab's records change live, per case (Direct
//! TLS published and withdrawn). That is four more crates (hickory-server, hickory-net,
//! async-trait, prefix-trie; counted against Cargo.lock, 2026-12) for no behaviour the lab needs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::SRV;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use crate::sync::lock;

/// Answers are never cached: a case may publish or withdraw Direct TLS at any time.
const TTL: u32 = 0;

/// The SRV services the lab publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Service {
    /// `_xmpp-client._tcp`: clients, STARTTLS.
    Client,
    /// `_xmpp-server._tcp`: servers, STARTTLS.
    Server,
    /// `_xmpps-server._tcp`: servers, Direct TLS.
    ServerDirectTls,
}

impl Service {
    fn label(self) -> &'static str {
        match self {
            Service::Client => "_xmpp-client._tcp",
            Service::Server => "_xmpp-server._tcp",
            Service::ServerDirectTls => "_xmpps-server._tcp",
        }
    }
}

/// The lab's records by owner name.
#[derive(Debug, Default)]
struct Zone {
    /// SRV: (port, target host).
    srv: BTreeMap<String, (u16, String)>,
    /// A: the address of a lab domain (for resolvers without the lab's hosts file: ejabberd).
    a: BTreeMap<String, std::net::Ipv4Addr>,
}

/// A running lab DNS server; stops when dropped.
#[derive(Debug)]
pub(crate) struct LabDns {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    stop: CancellationToken,
}

impl LabDns {
    /// Binds UDP on `ip` (a free port) and starts answering.
    pub(crate) async fn start(ip: std::net::Ipv4Addr) -> std::io::Result<LabDns> {
        let socket = UdpSocket::bind(SocketAddr::from((ip, 0))).await?;
        let addr = socket.local_addr()?;
        let zone = Arc::new(Mutex::new(Zone::default()));
        let stop = CancellationToken::new();
        tokio::spawn(serve(socket, Arc::clone(&zone), stop.clone()));
        Ok(LabDns { addr, zone, stop })
    }

    /// Where the server answers (`forward` target of the servers' resolvers).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Publishes (`Some(port)`) or withdraws (`None`) `service` for `domain`; the target is the
    /// domain itself.
    pub(crate) fn set(&self, domain: &str, service: Service, port: Option<u16>) {
        let owner = format!("{}.{domain}.", service.label()).to_ascii_lowercase();
        let mut zone = lock(&self.zone);
        match port {
            Some(port) => zone.srv.insert(owner, (port, format!("{domain}."))),
            None => zone.srv.remove(&owner),
        };
    }

    /// Publishes the address of a lab domain (its real address: a resolver that asks here
    /// bypasses the proxy plane's per-server views).
    pub(crate) fn set_address(&self, domain: &str, ip: std::net::Ipv4Addr) {
        let owner = format!("{domain}.").to_ascii_lowercase();
        lock(&self.zone).a.insert(owner, ip);
    }
}

impl Drop for LabDns {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serve(socket: UdpSocket, zone: Arc<Mutex<Zone>>, stop: CancellationToken) {
    let mut buffer = vec![0u8; 4096];
    loop {
        let (len, peer) = tokio::select! {
            _ = stop.cancelled() => return,
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                Err(error) => {
                    tracing::debug!(%error, "lab DNS receive");
                    continue;
                }
            },
        };
        let Some(reply) = answer(&buffer[..len], &zone) else {
            continue;
        };
        // A lost reply is retried by the resolver; nothing to wait for here.
        if let Err(error) = socket.try_send_to(&reply, peer) {
            tracing::debug!(%error, %peer, "lab DNS reply");
        }
    }
}

/// The reply to one query: the SRV or A record when the zone has it, NXDOMAIN otherwise;
/// `None` for what is not a query at all.
fn answer(packet: &[u8], zone: &Mutex<Zone>) -> Option<Vec<u8>> {
    let query = Message::from_vec(packet).ok()?;
    if query.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut reply = Message::response(query.metadata.id, OpCode::Query);
    reply.metadata.authoritative = true;
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    let mut found = false;
    for question in &query.queries {
        reply.add_query(question.clone());
        let owner = question.name().to_ascii().to_ascii_lowercase();
        let zone = lock(zone);
        if let Some((port, target)) = zone.srv.get(&owner).cloned() {
            found = true;
            if question.query_type() == RecordType::SRV
                && let Ok(target) = Name::from_ascii(&target)
            {
                let srv = RData::SRV(SRV::new(0, 0, port, target));
                reply.add_answer(Record::from_rdata(question.name().clone(), TTL, srv));
            }
        }
        if let Some(ip) = zone.a.get(&owner).copied() {
            found = true;
            if question.query_type() == RecordType::A {
                let a = RData::A(hickory_proto::rr::rdata::A(ip));
                reply.add_answer(Record::from_rdata(question.name().clone(), TTL, a));
            }
        }
    }
    if !found {
        reply.metadata.response_code = ResponseCode::NXDomain;
    }
    reply.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn ask(zone: &Mutex<Zone>, name: &str, kind: RecordType) -> Message {
        let mut query = Message::new(7, MessageType::Query, OpCode::Query);
        query.add_query(Query::query(Name::from_ascii(name).expect("name"), kind));
        let reply = answer(&query.to_vec().expect("encode"), zone).expect("a reply");
        Message::from_vec(&reply).expect("decode")
    }

    #[tokio::test]
    async fn answers_published_srv_records_and_forgets_withdrawn_ones() {
        let dns = LabDns::start(std::net::Ipv4Addr::LOCALHOST)
            .await
            .expect("bind");
        dns.set("b.test", Service::ServerDirectTls, Some(5270));
        let reply = ask(&dns.zone, "_xmpps-server._tcp.b.test.", RecordType::SRV);
        assert_eq!(reply.metadata.id, 7);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        let Some(RData::SRV(srv)) = reply.answers.first().map(|r| r.data.clone()) else {
            panic!("no SRV answer: {reply:?}");
        };
        assert_eq!(srv.port, 5270);
        assert_eq!(srv.target.to_ascii(), "b.test.");
        dns.set("b.test", Service::ServerDirectTls, None);
        let reply = ask(&dns.zone, "_xmpps-server._tcp.b.test.", RecordType::SRV);
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        assert!(reply.answers.is_empty());
    }
}
