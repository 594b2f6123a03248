//! The packet plane against the real kernel: namespaces on a bridge, nftables cuts, NFQUEUE
//! impairments and tc shaping, observed with plain TCP and UDP between the lab's own addresses
//! (and one real Prosody). Skipped, with the reason printed, when not run as root.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jspec_runtime::fault::model::{CutMode, Endpoint, Impairment};
use jspec_runtime::fault::packet::{PacketError, cleanup_orphans};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use support::packet::{
    can_run, connect_as, connect_from, echo_in, flow, lab, link, median_rtt, ms, prosody_in,
    read_exact_within, round_trip, server, sink_in, udp_at, udp_in, udp_sequence, user,
};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_holds_bytes_and_uncut_delivers_them_on_the_same_connection() {
    if !can_run("cut/uncut") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let echo = echo_in(&net, "b").await;
    let mut from_a = connect_from(&net, "a", echo, SECOND).expect("a connects to b");
    let mut alice = connect_as(&net, "alice", echo).await;
    assert_eq!(
        round_trip(&mut from_a, b"before", SECOND).await.as_deref(),
        Some(&b"before"[..])
    );

    let a_to_b = link(server("a"), server("b"));
    let started = Instant::now();
    net.cut(&a_to_b, CutMode::Hold).await.expect("cut");
    let cut_took = started.elapsed();
    from_a.write_all(b"held").await.expect("write is buffered");
    assert_eq!(
        read_exact_within(&mut from_a, 4, SECOND).await,
        None,
        "nothing arrives through a cut within 1 s"
    );
    // Alice's link is not cut.
    assert!(round_trip(&mut alice, b"free", SECOND).await.is_some());

    let started = Instant::now();
    net.uncut(&a_to_b).await.expect("uncut");
    let uncut_took = started.elapsed();
    let back = read_exact_within(&mut from_a, 4, ms(10_000)).await;
    let resumed = started.elapsed();
    assert_eq!(
        back.as_deref(),
        Some(&b"held"[..]),
        "held bytes arrive after uncut"
    );
    assert!(
        round_trip(&mut from_a, b"after", SECOND).await.is_some(),
        "the connection was held, not reset"
    );
    eprintln!(
        "cut took {cut_took:?}, uncut {uncut_took:?}; held bytes arrived {resumed:?} after uncut (TCP retransmission backoff)"
    );
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_link_cut_holds_the_users_connection() {
    if !can_run("user cut") {
        return;
    }
    let net = lab(&["a"]).await;
    let echo = echo_in(&net, "a").await;
    let mut alice = connect_as(&net, "alice", echo).await;
    let mut bob = connect_as(&net, "bob", echo).await;
    assert_ne!(
        net.user_address("alice").await.expect("alice"),
        net.user_address("bob").await.expect("bob")
    );
    net.cut(&link(user("alice"), server("a")), CutMode::Hold)
        .await
        .expect("cut");
    alice.write_all(b"held").await.expect("write");
    assert_eq!(read_exact_within(&mut alice, 4, SECOND).await, None);
    assert!(
        round_trip(&mut bob, b"bob!", SECOND).await.is_some(),
        "bob's link is not cut"
    );
    net.heal_all().await.expect("heal");
    assert_eq!(
        read_exact_within(&mut alice, 4, ms(10_000))
            .await
            .as_deref(),
        Some(&b"held"[..])
    );
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_way_cut_blocks_the_openers_new_connections_only() {
    if !can_run("one-way cut") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let echo_a = echo_in(&net, "a").await;
    let echo_b = echo_in(&net, "b").await;
    net.cut(&link(server("a"), server("b")), CutMode::Hold)
        .await
        .expect("cut");
    let started = Instant::now();
    let blocked = connect_from(&net, "a", echo_b, SECOND);
    assert!(
        matches!(&blocked, Err(e) if e.kind() == std::io::ErrorKind::TimedOut),
        "a cannot reach b: {blocked:?}"
    );
    assert!(started.elapsed() >= ms(900));
    let mut b_to_a = connect_from(&net, "b", echo_a, SECOND).expect("b still reaches a");
    assert_eq!(
        round_trip(&mut b_to_a, b"b->a", SECOND).await.as_deref(),
        Some(&b"b->a"[..])
    );
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_resets_connections_and_refuses_new_ones_at_once() {
    if !can_run("reject") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let echo = echo_in(&net, "b").await;
    let mut existing = connect_from(&net, "a", echo, SECOND).expect("connect");
    assert!(round_trip(&mut existing, b"ok", SECOND).await.is_some());
    let a_to_b = link(server("a"), server("b"));
    net.cut(&a_to_b, CutMode::Reject).await.expect("cut");

    let started = Instant::now();
    let refused = connect_from(&net, "a", echo, ms(3000));
    let took = started.elapsed();
    assert!(
        matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
        "{refused:?}"
    );
    // Refused (a reset came back) rather than timed out: no timing bound needed.

    let _ = existing.write_all(b"reset me").await;
    let mut buffer = [0u8; 8];
    let read = tokio::time::timeout(ms(3000), existing.read(&mut buffer)).await;
    assert!(
        matches!(&read, Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "the open connection is reset: {read:?}"
    );
    eprintln!("reject: new connection refused in {took:?}");

    let close = net.cut(&a_to_b, CutMode::Close).await;
    assert!(
        matches!(&close, Err(e @ PacketError::CloseNeedsProxy { .. }) if e.to_string().contains("proxy plane")),
        "{close:?}"
    );
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_adds_to_the_round_trip_and_restore_removes_it() {
    if !can_run("lag") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let echo = echo_in(&net, "b").await;
    let mut stream = connect_from(&net, "a", echo, SECOND).expect("connect");
    let before = median_rtt(&mut stream, 10).await;
    let a_to_b = flow(server("a"), server("b"));
    let lag = Impairment {
        lag: Some((ms(100), Duration::ZERO)),
        ..Impairment::default()
    };
    net.impair(&a_to_b, &lag, 1).await.expect("impair");
    let lagged = median_rtt(&mut stream, 10).await;
    assert!(
        lagged > ms(90),
        "lag 100ms on a -> b: round trip {lagged:?}"
    );

    // The other direction too (b -> a), and with jitter: both add up on a round trip.
    let jitter = Impairment {
        lag: Some((ms(50), ms(20))),
        ..Impairment::default()
    };
    net.impair(&flow(server("b"), server("a")), &jitter, 2)
        .await
        .expect("impair back");
    let both = median_rtt(&mut stream, 10).await;
    assert!(both > ms(120), "100ms + 50±20ms: {both:?}");

    net.restore_all().await.expect("restore");
    let after = median_rtt(&mut stream, 10).await;
    eprintln!(
        "round trip: {before:?} plain, {lagged:?} with lag 100ms, {both:?} with 50±20ms back, {after:?} restored"
    );
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_releases_what_the_engine_holds() {
    if !can_run("restore releases") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let echo = echo_in(&net, "b").await;
    let mut stream = connect_from(&net, "a", echo, SECOND).expect("connect");
    let a_to_b = flow(server("a"), server("b"));
    let long = Impairment {
        lag: Some((Duration::from_secs(30), Duration::ZERO)),
        ..Impairment::default()
    };
    net.impair(&a_to_b, &long, 1).await.expect("impair");
    stream.write_all(b"held").await.expect("write");
    assert_eq!(read_exact_within(&mut stream, 4, ms(500)).await, None);
    let started = Instant::now();
    net.restore(&a_to_b).await.expect("restore");
    let back = read_exact_within(&mut stream, 4, ms(5000)).await;
    assert_eq!(back.as_deref(), Some(&b"held"[..]));
    eprintln!(
        "restore: held bytes back {:?} after restore",
        started.elapsed()
    );
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_all_holds_everything_and_drop_none_nothing() {
    if !can_run("drop") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let (sender, receiver) = (udp_in(&net, "a"), udp_in(&net, "b"));
    let a_to_b = flow(server("a"), server("b"));
    let all = Impairment {
        drop: 100.0,
        ..Impairment::default()
    };
    net.impair(&a_to_b, &all, 1).await.expect("impair");
    let got = udp_sequence(&sender, &receiver, 50, Duration::ZERO, ms(500));
    assert!(got.is_empty(), "drop 100%: {} arrived", got.len());
    net.restore(&a_to_b).await.expect("restore");

    // The engine runs (lag 0) but drops nothing.
    let none = Impairment {
        lag: Some((Duration::ZERO, Duration::ZERO)),
        ..Impairment::default()
    };
    net.impair(&a_to_b, &none, 1).await.expect("impair");
    let got = udp_sequence(&sender, &receiver, 200, ms(1), ms(500));
    assert_eq!(got.len(), 200, "drop 0%: all arrive");
    net.restore(&a_to_b).await.expect("restore");

    let some = Impairment {
        drop: 30.0,
        ..Impairment::default()
    };
    net.impair(&a_to_b, &some, 1).await.expect("impair");
    let got = udp_sequence(&sender, &receiver, 400, ms(1), ms(500));
    let lost = 400 - got.len();
    assert!((60..=180).contains(&lost), "drop 30%: {lost} of 400 lost");
    eprintln!("drop 30%: {lost} of 400 datagrams lost");
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_sends_copies_both_ways() {
    if !can_run("duplicate") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let dup = Impairment {
        duplicate: 50.0,
        ..Impairment::default()
    };
    // Into a server (queued at its input; copies go back in through its loopback).
    let (a, b) = (udp_in(&net, "a"), udp_in(&net, "b"));
    net.impair(&flow(server("a"), server("b")), &dup, 5)
        .await
        .expect("impair");
    let got = udp_sequence(&a, &b, 200, ms(1), ms(500));
    let copies = got.len() - unique(&got);
    assert_eq!(unique(&got), 200, "nothing lost");
    assert!(
        (50..=150).contains(&copies),
        "duplicate 50% into b: {copies} copies"
    );

    // Out of a server to a client (queued at its output; copies leave by its veth).
    let alice = udp_at(net.user_address("alice").await.expect("alice"));
    net.impair(&flow(server("b"), user("alice")), &dup, 6)
        .await
        .expect("impair");
    let got = udp_sequence(&b, &alice, 200, ms(1), ms(500));
    let copies_out = got.len() - unique(&got);
    assert!(
        (50..=150).contains(&copies_out),
        "duplicate 50% to alice: {copies_out} copies"
    );
    eprintln!("duplicate 50%: {copies} copies into b, {copies_out} out to alice (of 200)");
    net.destroy().await.expect("destroy");
}

fn unique(got: &[(u32, Instant)]) -> usize {
    got.iter().map(|(n, _)| n).collect::<BTreeSet<_>>().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorder_swaps_packets_and_loses_none() {
    if !can_run("reorder") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let (a, b) = (udp_in(&net, "a"), udp_in(&net, "b"));
    let reorder = Impairment {
        reorder: 30.0,
        ..Impairment::default()
    };
    net.impair(&flow(server("a"), server("b")), &reorder, 9)
        .await
        .expect("impair");
    let got = udp_sequence(&a, &b, 200, ms(1), ms(500));
    let order: Vec<u32> = got.iter().map(|(n, _)| *n).collect();
    let swaps = order.windows(2).filter(|w| w[0] > w[1]).count();
    // The last datagram may wait for a successor that never comes.
    assert!(unique(&got) >= 199, "{} of 200 arrived", unique(&got));
    assert!(swaps >= 20, "reorder 30%: {swaps} inversions");
    eprintln!("reorder 30%: {swaps} inversions in 200 datagrams");
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttle_releases_in_batches() {
    if !can_run("throttle") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let (a, b) = (udp_in(&net, "a"), udp_in(&net, "b"));
    let throttle = Impairment {
        throttle: Some(ms(500)),
        ..Impairment::default()
    };
    net.impair(&flow(server("a"), server("b")), &throttle, 1)
        .await
        .expect("impair");
    let got = udp_sequence(&a, &b, 30, ms(50), ms(1500));
    assert_eq!(got.len(), 30);
    // Arrivals come in bursts: count arrivals more than 100 ms after the previous one.
    let bursts = 1 + got
        .windows(2)
        .filter(|w| w[1].1.duration_since(w[0].1) > ms(100))
        .count();
    assert!(
        (3..=5).contains(&bursts),
        "1.5 s of sending in 500 ms batches: {bursts} bursts"
    );
    eprintln!("throttle 500ms: 30 datagrams over 1.5 s arrived in {bursts} bursts");
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tamper_changes_the_payload_that_arrives() {
    if !can_run("tamper") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    let echo = echo_in(&net, "b").await;
    let mut stream = connect_from(&net, "a", echo, SECOND).expect("connect");
    net.impair(
        &flow(server("a"), server("b")),
        &Impairment {
            tamper: 100.0,
            ..Impairment::default()
        },
        3,
    )
    .await
    .expect("impair");
    let sent = b"the quick brown fox";
    let back = round_trip(&mut stream, sent, SECOND).await.expect("echo");
    assert_ne!(&back[..], &sent[..], "tamper 100%: the payload differs");
    let changed = back.iter().zip(sent).filter(|(x, y)| x != y).count();
    assert_eq!(
        changed,
        1,
        "one byte per packet: {:?}",
        String::from_utf8_lossy(&back)
    );
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_limits_a_transfer_both_from_a_server_and_from_a_client() {
    if !can_run("bandwidth") {
        return;
    }
    let net = lab(&["a", "b"]).await;
    const BYTES: usize = 250_000;
    const BITS: f64 = 1_000_000.0;
    let expected = Duration::from_secs_f64(BYTES as f64 * 8.0 / BITS);
    for (from, kind) in [(server("a"), "server"), (user("alice"), "client")] {
        let sink = sink_in(&net, "b", BYTES).await;
        let mut stream = match &from {
            Endpoint::Server(role) | Endpoint::Database(role) => {
                connect_from(&net, role, sink, SECOND).expect("connect")
            }
            Endpoint::User(name) => connect_as(&net, name, sink).await,
        };
        let limit = Impairment {
            bandwidth: Some(BITS),
            ..Impairment::default()
        };
        let a_to_b = flow(from.clone(), server("b"));
        net.impair(&a_to_b, &limit, 1).await.expect("impair");
        let started = Instant::now();
        stream.write_all(&vec![7u8; BYTES]).await.expect("send");
        let done = read_exact_within(&mut stream, 1, ms(30_000)).await;
        let took = started.elapsed();
        assert!(done.is_some(), "the transfer completes");
        assert!(
            took >= expected.mul_f64(0.8),
            "{BYTES} bytes at 1 Mbit/s from a {kind}: {took:?}, expected about {expected:?}"
        );
        let rate = BYTES as f64 * 8.0 / took.as_secs_f64() / 1e6;
        eprintln!("bandwidth 1mbit from a {kind}: {BYTES} bytes in {took:?} ({rate:.2} Mbit/s)");
        net.restore(&a_to_b).await.expect("restore");
    }
    net.destroy().await.expect("destroy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_removes_namespaces_and_bridge() {
    if !can_run("destroy") {
        return;
    }
    let net = lab(&["a", "b-2"]).await;
    let namespaces =
        [net.netns("a").expect("a"), net.netns("b-2").expect("b-2")].map(|n| n.to_string());
    let bridge = net.bridge().to_string();
    assert!(
        namespaces
            .iter()
            .all(|n| n.starts_with(&format!("jspec-{}", std::process::id())))
    );
    assert!(
        std::path::Path::new("/sys/class/net")
            .join(&bridge)
            .exists()
    );
    net.destroy().await.expect("destroy");
    for netns in &namespaces {
        assert!(
            !std::path::Path::new("/var/run/netns").join(netns).exists(),
            "{netns}"
        );
    }
    assert!(
        !std::path::Path::new("/sys/class/net")
            .join(&bridge)
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_orphans_removes_only_what_dead_owners_left() {
    if !can_run("cleanup_orphans") {
        return;
    }
    // A pid that was just used and is gone.
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead = child.id();
    child.wait().expect("wait");
    let orphan_ns = format!("jspec-{dead}-orphan");
    let orphan_bridge = format!("jsbr{dead}");
    let alive_ns = format!("jspec-{}x999-alive", std::process::id());
    let ip = |args: &[&str]| {
        let status = std::process::Command::new("ip")
            .args(args)
            .status()
            .expect("ip");
        assert!(status.success(), "ip {args:?}");
    };
    ip(&["netns", "add", &orphan_ns]);
    ip(&["link", "add", &orphan_bridge, "type", "bridge"]);
    ip(&["netns", "add", &alive_ns]);

    let removed = cleanup_orphans().await;
    let exists = |netns: &str| std::path::Path::new("/var/run/netns").join(netns).exists();
    let alive_kept = exists(&alive_ns);
    ip(&["netns", "del", &alive_ns]);
    assert!(removed.contains(&orphan_ns), "{removed:?}");
    assert!(removed.contains(&orphan_bridge), "{removed:?}");
    assert!(!exists(&orphan_ns));
    assert!(alive_kept, "a namespace of a living owner stays");
    assert!(!removed.contains(&alive_ns));
}

/// A real Prosody inside a namespace, clients in the root namespace on their own addresses:
/// cutting alice's link holds her message; after uncut it is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_in_a_namespace_holds_a_cut_clients_message_until_uncut() {
    use jspec_runtime::xmpp::{ConnectConfig, Session};
    use tokio_util::sync::CancellationToken;

    if !can_run("prosody in a namespace") {
        return;
    }
    let net = lab(&["a"]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (prosody, trust) = prosody_in(&net, "a", dir.path()).await;
    let mut sessions = Vec::new();
    for name in ["alice", "bob"] {
        prosody.register(name, "pw").await.expect("register");
        let mut config =
            ConnectConfig::new(prosody.spec.c2s_addr(), "a.test", name, "pw", trust.clone());
        config.resource = "jspec".into();
        config.bind = Some(net.user_address(name).await.expect("address").into());
        let session = Session::connect(config, CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("{name} connects over the bridge: {e}"));
        sessions.push(session);
    }
    let (alice, bob) = (&sessions[0], &sessions[1]);
    let to = bob.jid().to_string();
    let cancel = CancellationToken::new();
    let has = |text: &'static str| {
        move |r: &jspec_runtime::xmpp::Received| {
            r.stanza().is_some_and(|el| {
                el.get_child("body", "jabber:client")
                    .is_some_and(|body| body.text() == text)
            })
        }
    };
    alice
        .send_raw(&format!(
            "<message to='{to}' type='chat'><body>before</body></message>"
        ))
        .await
        .expect("send");
    let deadline = Instant::now() + ms(5000);
    assert!(
        bob.inbox()
            .wait_for(0, has("before"), deadline, &cancel)
            .await
            .is_some()
    );

    let alice_link = link(user("alice"), server("a"));
    net.cut(&alice_link, CutMode::Hold).await.expect("cut");
    alice
        .send_raw(&format!(
            "<message to='{to}' type='chat'><body>held</body></message>"
        ))
        .await
        .expect("the send is buffered by TCP");
    let deadline = Instant::now() + ms(2000);
    assert!(
        bob.inbox()
            .wait_for(0, has("held"), deadline, &cancel)
            .await
            .is_none(),
        "nothing passes alice's cut link"
    );
    let started = Instant::now();
    net.uncut(&alice_link).await.expect("uncut");
    let deadline = Instant::now() + ms(10_000);
    let got = bob
        .inbox()
        .wait_for(0, has("held"), deadline, &cancel)
        .await;
    assert!(got.is_some(), "the held message is delivered after uncut");
    eprintln!(
        "prosody: held message delivered {:?} after uncut",
        started.elapsed()
    );

    for session in &sessions {
        session.close().await;
    }
    prosody.stop().await;
    net.destroy().await.expect("destroy");
}
