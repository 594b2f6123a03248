//! The managed lab against real Prosody: servers start on their own loopback addresses, accept
//! connections, take accounts, and are gone after `stop`.

use jspec_runtime::lab::ServerProcess;
use jspec_runtime::lab::{Lab, LabSpec, Programs};

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_start_take_accounts_and_stop() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = LabSpec {
        servers: vec!["a".into(), "b".into()],
        ..LabSpec::default()
    };
    let lab = Lab::start(&spec, dir.path()).await.expect("lab starts");

    let a = lab.server("a").expect("a");
    let b = lab.server("b").expect("b");
    assert_eq!(a.spec.domain, "a.test");
    assert_ne!(
        a.spec.address, b.spec.address,
        "each server has its own address"
    );
    for server in lab.servers() {
        tokio::net::TcpStream::connect(server.spec.c2s_addr())
            .await
            .expect("c2s accepts");
        tokio::net::TcpStream::connect(server.spec.c2s_direct_tls_addr())
            .await
            .expect("direct tls accepts");
    }
    a.register("alice", "secret").await.expect("register");
    let users = a
        .shell("user:list('a.test')")
        .await
        .expect("admin shell answers");
    assert!(
        users.contains("alice"),
        "admin shell lists the new account: {users}"
    );
    // Each server has its own view of the lab.
    let hosts = std::fs::read_to_string(dir.path().join("a").join("hosts")).expect("hosts file");
    assert!(hosts.contains("conference.b.test"));
    assert!(
        hosts.contains(&format!("{} b.test", b.spec.address)),
        "{hosts}"
    );

    let pids: Vec<u32> = lab.servers().map(|s| s.pid()).collect();
    assert!(pids.iter().all(|&pid| alive(pid)));
    lab.stop().await;
    assert!(
        pids.iter().all(|&pid| !alive(pid)),
        "every server is gone after stop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_server_program_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let programs = Programs {
        prosody: "/nonexistent/prosody".into(),
        ..Programs::default()
    };
    let spec = LabSpec {
        servers: vec!["a".into()],
        programs,
        ..LabSpec::default()
    };
    let error = Lab::start(&spec, dir.path())
        .await
        .expect_err("no such program");
    assert!(error.to_string().contains("lab server a"), "{error}");
    let source = std::error::Error::source(&error)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        source.contains("cannot start /nonexistent/prosody") && source.contains("is it installed"),
        "{source}"
    );
}
