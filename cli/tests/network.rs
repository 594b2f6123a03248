//! Bad input from the network: a server that sends garbage, one that never answers, and one
//! whose connection is cut mid-stream (the session reconnects, as a client does, and is cut
//! again). Each gives a clear failure of that case within its
//! deadline: never a hang, never a panic. The servers here are stand-ins reached through an
//! environment file; the mid-stream cut goes through a forwarding proxy to a real Prosody.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use jspec_runtime::lab::{Lab, LabSpec};

const CASE: &str = r#"case C9600 "A session against a misbehaving server" {
  servers a
  user alice on a

  step "Connect and wait for a message" {
    connect alice
    expect alice receives "anything" within 8s
  }
}
"#;

/// An environment whose role `a` is the server at `address`.
fn environment(dir: &Path, address: SocketAddr, ca_file: Option<&Path>) -> std::path::PathBuf {
    let tls = ca_file
        .map(|ca| format!("tls = {{ ca_file = {:?} }}\n", ca.display().to_string()))
        .unwrap_or_default();
    let text = format!(
        "[servers.a]\nsoftware = \"prosody-external\"\ndomain = \"a.test\"\naddress = \"{address}\"\n{tls}\n\
         [servers.a.users.alice]\njid = \"alice@a.test\"\npassword_env = \"JSPEC_TEST_PASSWORD\"\n"
    );
    let path = dir.join("env.toml");
    std::fs::write(&path, text).expect("write env");
    path
}

fn run(dir: &Path, env: &Path, timeout: &str) -> (Output, Duration) {
    std::fs::write(dir.join("case.jspec"), CASE).expect("write case");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_jspec"))
        .args([
            "run",
            "case.jspec",
            "--timeout",
            timeout,
            "--out",
            "run",
            "--env",
        ])
        .arg(env)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("JSPEC_STATE_DIR", dir.join("state"))
        .env("JSPEC_TEST_PASSWORD", "secret")
        .output()
        .expect("jspec runs");
    (output, started.elapsed())
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A server that answers every connection with `reply` and then holds it open.
fn fake_server(reply: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = stream.write_all(reply);
                std::thread::sleep(Duration::from_secs(20));
            });
        }
    });
    address
}

#[test]
fn garbage_from_the_server_fails_the_case_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let address = fake_server(b"\x00\x01this is not XML <<<>>>\xff\xfe");
    let (output, took) = run(dir.path(), &environment(dir.path(), address, None), "5s");
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("alice could not connect: stream-error"),
        "{text}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_server_that_never_answers_fails_within_the_deadline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let address = fake_server(b"");
    let (output, took) = run(dir.path(), &environment(dir.path(), address, None), "2s");
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("alice could not connect: connection-timeout"),
        "{text}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// Forwards connections to `upstream` and cuts each one (both directions) after `cut_after`.
fn cutting_proxy(upstream: SocketAddr, cut_after: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let pipe = |mut from: TcpStream, mut to: TcpStream| {
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 8192];
                    while let Ok(n) = from.read(&mut buffer) {
                        if n == 0 || to.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                });
            };
            let (c2, s2) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            pipe(
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            pipe(s2, c2);
            std::thread::spawn(move || {
                std::thread::sleep(cut_after);
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    address
}

#[test]
fn a_connection_cut_mid_stream_fails_the_expectation_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let spec = LabSpec {
        servers: vec!["a".into()],
        ..LabSpec::default()
    };
    let lab = runtime
        .block_on(Lab::start(&spec, &dir.path().join("lab")))
        .expect("lab");
    let server = lab.server("a").expect("server a");
    runtime
        .block_on(server.register("alice", "secret"))
        .expect("account");
    let proxy = cutting_proxy(server.spec.c2s_addr(), Duration::from_secs(2));

    let env = environment(dir.path(), proxy, Some(&lab.ca_file));
    let (output, took) = run(dir.path(), &env, "5s");
    runtime.block_on(lab.stop());
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("alice did not receive \"anything\""),
        "{text}"
    );
    assert!(
        text.contains("connection lost"),
        "the failure names the cut: {text}"
    );
    // The session reconnects (through the same proxy, cut again): the message could still come,
    // so the expectation waits for its 8 s deadline, and no longer.
    assert!(
        text.contains("losses during the wait") || text.contains("getting its connection back"),
        "the failure says the session was reconnecting: {text}"
    );
    assert!(took < Duration::from_secs(12), "took {took:?}");
}
