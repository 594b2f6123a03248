//! The proxy plane against real sockets on loopback: bytes pass untouched, a held cut keeps them
//! and lets them through on heal, reject and close act on live connections, a dead upstream is
//! refused as without the proxy, lag and bandwidth shape the flow.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jspec_runtime::fault::model::{CutMode, Endpoint, Impairment, Link, TcpTimeouts};
use jspec_runtime::fault::proxy::ProxyPlane;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server on loopback; returns its address.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

fn link() -> Link {
    Link::new(Endpoint::User("alice".into()), Endpoint::Server("a".into()))
}

async fn plane_to_echo(timeouts: TcpTimeouts) -> (ProxyPlane, SocketAddr, SocketAddr) {
    let upstream = echo_server().await;
    let plane = ProxyPlane::new(timeouts);
    let proxy = plane
        .route(&link(), "127.0.0.1:0".parse().unwrap(), upstream)
        .await
        .unwrap();
    (plane, proxy, upstream)
}

async fn round_trip(stream: &mut TcpStream, payload: &[u8]) -> Vec<u8> {
    stream.write_all(payload).await.unwrap();
    let mut back = vec![0u8; payload.len()];
    stream.read_exact(&mut back).await.unwrap();
    back
}

#[tokio::test]
async fn bytes_pass_untouched_without_faults() {
    let (_plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(round_trip(&mut stream, &payload).await, payload);
}

#[tokio::test]
async fn a_held_cut_keeps_bytes_and_releases_them_on_heal() {
    let (plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"before").await, b"before");
    plane.cut(&link(), CutMode::Hold).await;
    stream.write_all(b"during").await.unwrap();
    let mut back = [0u8; 6];
    let early =
        tokio::time::timeout(Duration::from_millis(500), stream.read_exact(&mut back)).await;
    assert!(early.is_err(), "bytes crossed a cut link");
    plane.uncut(&link()).await;
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut back))
        .await
        .expect("held bytes flow after the heal")
        .unwrap();
    assert_eq!(&back, b"during");
}

#[tokio::test]
async fn a_new_connection_waits_for_a_held_link() {
    let (plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    plane.cut(&link(), CutMode::Hold).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    stream.write_all(b"hello").await.unwrap();
    let mut back = [0u8; 5];
    let early =
        tokio::time::timeout(Duration::from_millis(300), stream.read_exact(&mut back)).await;
    assert!(early.is_err());
    plane.uncut(&link()).await;
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"hello");
}

#[tokio::test]
async fn a_cut_longer_than_tcp_retries_resets_the_connection() {
    let timeouts = TcpTimeouts {
        established: Duration::from_millis(300),
        connect: Duration::from_secs(5),
    };
    let (plane, proxy, _) = plane_to_echo(timeouts).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"x").await, b"x");
    plane.cut(&link(), CutMode::Hold).await;
    stream.write_all(b"lost").await.unwrap();
    let mut back = [0u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut back))
        .await
        .expect("the connection ends after the TCP timeout");
    let error = read.expect_err("a reset, not an orderly close");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn reject_resets_live_connections_and_refuses_new_ones() {
    let (plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"x").await, b"x");
    plane.cut(&link(), CutMode::Reject).await;
    let mut back = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut back))
        .await
        .unwrap();
    assert_eq!(
        read.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionReset
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = TcpStream::connect(proxy).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    plane.uncut(&link()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = TcpStream::connect(proxy)
        .await
        .expect("listening after the heal");
    assert_eq!(round_trip(&mut again, b"y").await, b"y");
}

#[tokio::test]
async fn close_ends_live_connections_with_a_fin() {
    let (plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"x").await, b"x");
    plane.cut(&link(), CutMode::Close).await;
    let mut back = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut back))
        .await
        .unwrap();
    assert_eq!(read.unwrap(), 0, "an orderly end of stream");
}

#[tokio::test]
async fn a_dead_upstream_is_refused_as_without_the_proxy() {
    let (plane, proxy, upstream) = plane_to_echo(TcpTimeouts::default()).await;
    // A port with nothing behind it, told to the plane as the process plane would.
    let closed = {
        let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
        socket.local_addr().unwrap()
    };
    let dead = plane
        .route(
            &Link::new(Endpoint::User("bob".into()), Endpoint::Server("b".into())),
            "127.0.0.1:0".parse().unwrap(),
            closed,
        )
        .await
        .unwrap();
    plane.set_upstream_up(closed, false).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = TcpStream::connect(dead).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    // The live one is untouched.
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    assert_eq!(round_trip(&mut stream, b"ok").await, b"ok");
    let _ = upstream;
}

#[tokio::test]
async fn lag_delays_each_direction_by_its_own_amount() {
    let (plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    let _ = stream.set_nodelay(true);
    assert_eq!(round_trip(&mut stream, b"x").await, b"x");
    let lag = Impairment {
        lag: Some((Duration::from_millis(100), Duration::ZERO)),
        ..Impairment::default()
    };
    plane.impair(&link().upstream(), &lag, 1);
    let started = Instant::now();
    assert_eq!(round_trip(&mut stream, b"ping").await, b"ping");
    let rtt = started.elapsed();
    assert!(rtt >= Duration::from_millis(100), "round trip {rtt:?}");
    plane.restore(&link().upstream());
    let started = Instant::now();
    assert_eq!(round_trip(&mut stream, b"ping").await, b"ping");
    assert!(started.elapsed() < Duration::from_millis(100));
}

#[tokio::test]
async fn throttle_releases_bytes_in_batches() {
    let (plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    let throttle = Impairment {
        throttle: Some(Duration::from_millis(400)),
        ..Impairment::default()
    };
    plane.impair(&link().upstream(), &throttle, 1);
    let started = Instant::now();
    assert_eq!(round_trip(&mut stream, b"a").await, b"a");
    let first = started.elapsed();
    assert!(
        first >= Duration::from_millis(300),
        "held until the window ends: {first:?}"
    );
}

#[tokio::test]
async fn bandwidth_limits_a_bulk_transfer() {
    let (plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    let limit = Impairment {
        bandwidth: Some(800_000.0), // 100 kB/s
        ..Impairment::default()
    };
    plane.impair(&link().upstream(), &limit, 1);
    let payload = vec![7u8; 50_000];
    let started = Instant::now();
    assert_eq!(round_trip(&mut stream, &payload).await, payload);
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}

/// Bulk bytes on the splice fast path: a held cut in the middle stops them (including what the
/// proxy had taken off the socket), and after the heal every byte arrives, intact and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_cut_during_a_bulk_transfer_keeps_every_byte_in_order() {
    const WORDS: u32 = 4 << 20; // 16 MiB
    let (plane, proxy, _) = plane_to_echo(TcpTimeouts::default()).await;
    let (mut from, mut to) = TcpStream::connect(proxy).await.unwrap().into_split();
    // Each 4-byte word is its own index: a lost, repeated or reordered byte shows.
    let payload: Vec<u8> = (0..WORDS).flat_map(u32::to_le_bytes).collect();
    let expected = payload.clone();
    let sender = tokio::spawn(async move {
        to.write_all(&payload).await.unwrap();
        to.shutdown().await.unwrap();
    });
    let mut received = Vec::with_capacity(expected.len());
    let mut buffer = vec![0u8; 64 * 1024];
    while received.len() < expected.len() / 4 {
        let n = from.read(&mut buffer).await.unwrap();
        assert!(n > 0, "ended early");
        received.extend_from_slice(&buffer[..n]);
    }
    plane.cut(&link(), CutMode::Hold).await;
    // What was past the proxy when the cut began still arrives; then nothing does.
    let quiet = Duration::from_millis(300);
    while let Ok(n) = tokio::time::timeout(quiet, from.read(&mut buffer)).await {
        received.extend_from_slice(&buffer[..n.unwrap()]);
    }
    let held_at = received.len();
    assert!(held_at < expected.len(), "every byte crossed a cut link");
    let late = tokio::time::timeout(Duration::from_millis(500), from.read(&mut buffer)).await;
    assert!(late.is_err(), "bytes crossed a cut link");
    plane.uncut(&link()).await;
    tokio::time::timeout(Duration::from_secs(20), from.read_to_end(&mut received))
        .await
        .expect("held bytes flow after the heal")
        .unwrap();
    sender.await.unwrap();
    assert_eq!(received.len(), expected.len());
    assert!(received == expected, "bytes lost or reordered");
}
