//! Sockets inside the packet plane's namespaces for tests: a socket opened on a thread that has
//! entered a namespace stays in it, so the test's runtime can use it from anywhere.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use jspec_runtime::fault::model::{Endpoint, Flow, Link};
use jspec_runtime::fault::packet::{PacketNet, run_in_netns};
use jspec_runtime::lab::pki::{CertificateKind, LabCa};
use jspec_runtime::lab::prosody::{Prosody, ProsodySpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Whether the tests can use the packet plane; prints why not.
pub(crate) fn can_run(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        eprintln!("skipping {test}: the packet plane needs root (CAP_NET_ADMIN)");
        false
    }
}

pub(crate) async fn lab(roles: &[&str]) -> PacketNet {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    PacketNet::create(&roles).await.expect("packet lab")
}

fn netns<'a>(net: &'a PacketNet, role: &str) -> &'a str {
    net.netns(role).expect("a role of the lab")
}

/// A TCP echo server on `role`'s address; returns where it listens.
pub(crate) async fn echo_in(net: &PacketNet, role: &str) -> SocketAddr {
    let ip = net.address(role).expect("role address");
    let listener = run_in_netns(netns(net, role), move || {
        let listener = std::net::TcpListener::bind((ip, 0))?;
        listener.set_nonblocking(true)?;
        Ok::<_, std::io::Error>(listener)
    })
    .expect("enter namespace")
    .expect("bind echo");
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    addr
}

/// A TCP server on `role`'s address that reads `total` bytes and then answers one byte.
pub(crate) async fn sink_in(net: &PacketNet, role: &str, total: usize) -> SocketAddr {
    let ip = net.address(role).expect("role address");
    let listener = run_in_netns(netns(net, role), move || {
        let listener = std::net::TcpListener::bind((ip, 0))?;
        listener.set_nonblocking(true)?;
        Ok::<_, std::io::Error>(listener)
    })
    .expect("enter namespace")
    .expect("bind sink");
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        if let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 64 * 1024];
            let mut seen = 0;
            while seen < total {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen += n,
                }
            }
            let _ = stream.write_all(b"!").await;
        }
    });
    addr
}

/// A TCP connection opened from `role`'s namespace (from its address).
pub(crate) fn connect_from(
    net: &PacketNet,
    role: &str,
    to: SocketAddr,
    timeout: Duration,
) -> std::io::Result<TcpStream> {
    let stream = run_in_netns(netns(net, role), move || {
        let stream = std::net::TcpStream::connect_timeout(&to, timeout)?;
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok::<_, std::io::Error>(stream)
    })
    .expect("enter namespace")?;
    TcpStream::from_std(stream)
}

/// A TCP connection from the root namespace, bound to `user`'s address.
pub(crate) async fn connect_as(net: &PacketNet, user: &str, to: SocketAddr) -> TcpStream {
    let ip = net.user_address(user).await.expect("user address");
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((ip, 0))).expect("bind");
    let stream = socket.connect(to).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// A UDP socket on `role`'s address (or on `user`'s in the root namespace).
pub(crate) fn udp_in(net: &PacketNet, role: &str) -> UdpSocket {
    let ip = net.address(role).expect("role address");
    run_in_netns(netns(net, role), move || UdpSocket::bind((ip, 0)))
        .expect("enter namespace")
        .expect("bind udp")
}

pub(crate) fn udp_at(ip: Ipv4Addr) -> UdpSocket {
    UdpSocket::bind((ip, 0)).expect("bind udp")
}

/// Writes `text` and reads the same number of bytes back, or fails after `within`.
pub(crate) async fn round_trip(
    stream: &mut TcpStream,
    text: &[u8],
    within: Duration,
) -> Option<Vec<u8>> {
    stream.write_all(text).await.ok()?;
    read_exact_within(stream, text.len(), within).await
}

pub(crate) async fn read_exact_within(
    stream: &mut TcpStream,
    len: usize,
    within: Duration,
) -> Option<Vec<u8>> {
    let mut buffer = vec![0u8; len];
    match tokio::time::timeout(within, stream.read_exact(&mut buffer)).await {
        Ok(Ok(_)) => Some(buffer),
        _ => None,
    }
}

/// The median round trip of `count` one-byte echoes.
pub(crate) async fn median_rtt(stream: &mut TcpStream, count: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..count {
        let started = Instant::now();
        round_trip(stream, b"x", Duration::from_secs(5))
            .await
            .expect("echo");
        times.push(started.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// Sends datagrams numbered 0..count, `gap` apart, and collects what arrives (number and
/// arrival time) until `quiet` passes without any.
pub(crate) fn udp_sequence(
    from: &UdpSocket,
    to: &UdpSocket,
    count: u32,
    gap: Duration,
    quiet: Duration,
) -> Vec<(u32, Instant)> {
    let target = to.local_addr().expect("addr");
    let receiver = to.try_clone().expect("clone");
    receiver.set_read_timeout(Some(quiet)).expect("timeout");
    let collector = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buffer = [0u8; 64];
        while let Ok(n) = receiver.recv(&mut buffer) {
            if n >= 4 {
                let number = u32::from_be_bytes([buffer[0], buffer[1], buffer[2], buffer[3]]);
                got.push((number, Instant::now()));
            }
        }
        got
    });
    for number in 0..count {
        from.send_to(&number.to_be_bytes(), target).expect("send");
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
    collector.join().expect("collector")
}

pub(crate) fn server(name: &str) -> Endpoint {
    Endpoint::Server(name.into())
}

pub(crate) fn user(name: &str) -> Endpoint {
    Endpoint::User(name.into())
}

pub(crate) fn link(from: Endpoint, to: Endpoint) -> Link {
    Link::new(from, to)
}

pub(crate) fn flow(from: Endpoint, to: Endpoint) -> Flow {
    Flow { from, to }
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A Prosody for `<role>.test` running inside `role`'s namespace, with its files in `dir`, and
/// the trust anchors its clients need.
pub(crate) async fn prosody_in(
    net: &PacketNet,
    role: &str,
    dir: &std::path::Path,
) -> (Prosody, std::sync::Arc<rustls::RootCertStore>) {
    let ca = LabCa::generate("jspec packet test CA").expect("ca");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.cert_pem()).expect("ca file");
    let address = net.address(role).expect("role address");
    let domain = format!("{role}.test");
    let hosts_file = dir.join("hosts");
    std::fs::write(
        &hosts_file,
        format!("{address} {domain} conference.{domain}\n"),
    )
    .expect("hosts");
    let spec = ProsodySpec {
        role: role.into(),
        domain,
        address,
        hosts_file,
        ca_crl_file: ca_file.clone(),
        ca_file,
        settings: Default::default(),
        dns: None,
        programs: Default::default(),
        netns: Some(netns(net, role).to_string()),
        kerberos: None,
        extensions: Default::default(),
    };
    let names = vec![spec.domain.clone(), spec.muc_domain()];
    let cert = ca.issue(&names, CertificateKind::Valid).expect("cert");
    let server_dir = dir.join(role);
    std::fs::create_dir_all(&server_dir).expect("server dir");
    let prosody = Prosody::start(spec, &server_dir, &cert.cert_pem, &cert.key_pem)
        .await
        .expect("prosody starts inside the namespace");
    let mut trust = rustls::RootCertStore::empty();
    trust
        .add(rustls::pki_types::CertificateDer::from(ca.cert_der()))
        .expect("trust anchor");
    (prosody, std::sync::Arc::new(trust))
}
