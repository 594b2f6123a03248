//! Kerberos single sign-on against a real lab: a private MIT KDC (krb5kdc) for TEST.REALM, a
//! Prosody that accepts GSSAPI through Cyrus SASL, and jspec's client with a ticket obtained by
//! kinit. No mocks. The programs come from scripts/deps.sh; without them the tests say so and
//! skip (CI installs them, so there they run).

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jspec_runtime::lab::kdc::{DEFAULT_REALM, Kdc};
use jspec_runtime::lab::pki::{CertificateKind, LabCa};
use jspec_runtime::lab::prosody::gssapi as prosody_gssapi;
use jspec_runtime::lab::prosody::{self, Prosody, ProsodySpec};
use jspec_runtime::xmpp::{AuthMechanism, ConnectConfig, ConnectError, FailureReason, Session};
use tokio_util::sync::CancellationToken;

const DOMAIN: &str = "a.test";

/// What is missing for these tests, if anything.
fn missing_programs() -> Option<String> {
    let mut missing = Kdc::missing_programs();
    let on_path = |program: &str| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|dir| dir.join(program).is_file())
    };
    if !on_path("prosody") {
        missing.push("prosody");
    }
    let module = prosody_gssapi::find_module_dir().is_none();
    let plugin = !Path::new("/usr/lib/x86_64-linux-gnu/sasl2/libgssapiv2.so").exists()
        && !Path::new("/usr/lib/sasl2/libgssapiv2.so").exists();
    if missing.is_empty() && !module && !plugin {
        return None;
    }
    let mut what = missing.join(", ");
    if module {
        what.push_str(" mod_auth_cyrus (prosody-modules)");
    }
    if plugin {
        what.push_str(" Cyrus GSSAPI plugin (libsasl2-modules-gssapi-mit)");
    }
    Some(what)
}

macro_rules! require_kerberos {
    () => {
        if let Some(missing) = missing_programs() {
            eprintln!("SKIPPED: Kerberos lab programs missing: {missing} (run scripts/deps.sh)");
            return;
        }
    };
}

/// A loopback address 127.B.C.1 whose XMPP ports are free (the lab's own search is private).
fn free_address() -> Ipv4Addr {
    let seed = std::process::id() as usize
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as usize);
    for attempt in 0..64usize {
        let block = seed.wrapping_mul(2654435761).wrapping_add(attempt * 7919) % (250 * 250);
        let ip = Ipv4Addr::new(127, (block / 250 + 1) as u8, (block % 250 + 1) as u8, 1);
        if prosody::PORTS
            .iter()
            .all(|&port| TcpListener::bind((ip, port)).is_ok())
        {
            return ip;
        }
    }
    panic!("no free loopback address for the test lab")
}

/// A KDC and a Prosody for a.test in `dir` (taking GSSAPI if `gssapi`), with users alice and
/// bob (passwords alice-pw, bob-pw; their tickets live at most `max_life`).
struct KerberosLab {
    kdc: Kdc,
    server: Prosody,
    trust: Arc<rustls::RootCertStore>,
    kdc_ready_in: Duration,
    started_in: Duration,
}

impl KerberosLab {
    async fn start(dir: &Path, max_life: Option<Duration>, gssapi: bool) -> KerberosLab {
        let started = Instant::now();
        let address = free_address();
        let kdc = Kdc::start(&dir.join("kdc"), DEFAULT_REALM, address)
            .await
            .unwrap_or_else(|e| panic!("KDC starts: {e}"));
        let kdc_ready_in = started.elapsed();
        for user in ["alice", "bob"] {
            kdc.add_user(user, &format!("{user}-pw"), max_life)
                .await
                .unwrap_or_else(|e| panic!("add {user}: {e}"));
        }
        let kerberos = kdc
            .prosody_kerberos(DOMAIN)
            .await
            .unwrap_or_else(|e| panic!("add the service: {e}"));
        let ca = LabCa::generate("jspec kerberos test CA").expect("CA");
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.cert_pem()).expect("CA file");
        let hosts_file = dir.join("hosts");
        std::fs::write(&hosts_file, format!("{address} {DOMAIN}\n")).expect("hosts");
        let spec = ProsodySpec {
            role: "a".into(),
            domain: DOMAIN.into(),
            address,
            hosts_file,
            ca_crl_file: ca_file.clone(),
            ca_file,
            settings: Default::default(),
            programs: Default::default(),
            netns: None,
            dns: None,
            kerberos: gssapi.then_some(kerberos),
            extensions: Default::default(),
        };
        let cert = ca
            .issue(
                &[DOMAIN.to_string(), spec.muc_domain()],
                CertificateKind::Valid,
            )
            .expect("server certificate");
        let server_dir = dir.join("a");
        std::fs::create_dir_all(&server_dir).expect("server dir");
        let server = Prosody::start(spec, &server_dir, &cert.cert_pem, &cert.key_pem)
            .await
            .unwrap_or_else(|e| panic!("prosody starts: {e}"));
        let mut trust = rustls::RootCertStore::empty();
        trust
            .add(rustls::pki_types::CertificateDer::from(ca.cert_der()))
            .expect("trust anchor");
        KerberosLab {
            kdc,
            server,
            trust: Arc::new(trust),
            kdc_ready_in,
            started_in: started.elapsed(),
        }
    }

    /// alice's GSSAPI config, with her own credential cache and the lab realm.
    fn config(&self) -> ConnectConfig {
        self.config_for("alice")
    }

    fn config_for(&self, user: &str) -> ConnectConfig {
        let mut config = ConnectConfig::new(
            self.server.spec.c2s_addr(),
            DOMAIN,
            user,
            "",
            self.trust.clone(),
        );
        config.auth = AuthMechanism::Gssapi;
        config.resource = "jspec".into();
        config.kerberos = self.kdc.client_kerberos(user);
        config.kerberos.helper = Some(env!("CARGO_BIN_EXE_jspec-gssapi").into());
        config
    }

    async fn stop(self) {
        self.server.stop().await;
        self.kdc.stop().await;
    }
}

async fn connect_err(config: ConnectConfig) -> ConnectError {
    match Session::connect(config, CancellationToken::new()).await {
        Ok(session) => panic!("connect unexpectedly succeeded as {}", session.jid()),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gssapi_login_with_a_ticket_binds_the_users_jid() {
    require_kerberos!();
    let dir = tempfile::tempdir().expect("temp dir");
    let lab = KerberosLab::start(dir.path(), None, true).await;
    let kinit = Instant::now();
    lab.kdc
        .kinit("alice", "alice-pw", None)
        .await
        .unwrap_or_else(|e| panic!("kinit: {e}"));
    let kinit = kinit.elapsed();
    let alice = Session::connect(lab.config(), CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("GSSAPI login: {e}\nprosody log: {}", log(&lab)));
    assert_eq!(alice.jid().to_string(), "alice@a.test/jspec");
    assert_eq!(alice.info().mechanism, "GSSAPI");
    let first = alice.info().connect_time;
    alice.close().await;
    // Later logins find the service ticket in the cache: no KDC round trip, only the helper.
    let mut later = Vec::new();
    for _ in 0..5 {
        let again = Session::connect(lab.config(), CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("GSSAPI login again: {e}"));
        later.push(again.info().connect_time);
        again.close().await;
    }
    later.sort();
    // Two users at once, each with a cache of their own: each helper sees only its user's.
    lab.kdc
        .kinit("bob", "bob-pw", None)
        .await
        .unwrap_or_else(|e| panic!("kinit bob: {e}"));
    // No helper named: found beside the running program (cargo puts it one folder up).
    let found = |user: &str| {
        let mut config = lab.config_for(user);
        config.kerberos.helper = None;
        config
    };
    let (a, b) = tokio::join!(
        Session::connect(found("alice"), CancellationToken::new()),
        Session::connect(found("bob"), CancellationToken::new()),
    );
    let (a, b) = (a.expect("alice again"), b.expect("bob"));
    assert_eq!(a.jid().to_string(), "alice@a.test/jspec");
    assert_eq!(b.jid().to_string(), "bob@a.test/jspec");
    a.close().await;
    b.close().await;
    eprintln!(
        "realm + KDC ready in {:?}, + principals + GSSAPI prosody in {:?}; kinit {:?}; \
         alice GSSAPI bound in {first:?} (first), {:?} (median of 5 more)",
        lab.kdc_ready_in, lab.started_in, kinit, later[2]
    );
    let kdc_pid = lab.kdc.pid();
    lab.stop().await;
    assert!(!alive(kdc_pid), "the KDC is gone after stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gssapi_login_without_a_ticket_says_kinit_first() {
    require_kerberos!();
    let dir = tempfile::tempdir().expect("temp dir");
    let lab = KerberosLab::start(dir.path(), None, true).await;
    let err = connect_err(lab.config()).await;
    assert_eq!(err.reason(), Some(FailureReason::AuthFailed), "{err}");
    assert!(
        err.message()
            .starts_with("no Kerberos ticket for alice (kinit first)"),
        "{err}"
    );
    eprintln!("without a ticket: {err}");
    // An empty cache file: the same answer (MIT krb5 1.20 itself would crash on it).
    std::fs::write(lab.kdc.ccache_path("alice"), b"").expect("empty cache");
    let err = connect_err(lab.config()).await;
    assert!(err.message().contains("is empty"), "{err}");
    // Not even a cache file of the right name: the same answer, from the helper this time.
    let mut config = lab.config();
    config.kerberos.ccache = None;
    config.kerberos.krb5_config = Some(lab.kdc.krb5_conf());
    let err = connect_err(config).await;
    assert_eq!(err.reason(), Some(FailureReason::AuthFailed), "{err}");
    eprintln!("with the default cache: {err}");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gssapi_login_with_an_expired_ticket_fails() {
    require_kerberos!();
    let dir = tempfile::tempdir().expect("temp dir");
    let life = Duration::from_secs(2);
    let lab = KerberosLab::start(dir.path(), Some(life), true).await;
    lab.kdc
        .kinit("alice", "alice-pw", Some(life))
        .await
        .unwrap_or_else(|e| panic!("kinit: {e}"));
    // Past the ticket's end and the lab's clock skew (1 s).
    tokio::time::sleep(life + Duration::from_millis(1500)).await;
    let err = connect_err(lab.config()).await;
    assert_eq!(err.reason(), Some(FailureReason::AuthFailed), "{err}");
    assert!(
        err.message().starts_with("the Kerberos ticket has expired"),
        "{err}"
    );
    eprintln!("with an expired ticket: {err}");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gssapi_not_offered_is_mechanism_unavailable() {
    require_kerberos!();
    let dir = tempfile::tempdir().expect("temp dir");
    // A server with its internal accounts only (SCRAM, PLAIN), though alice has a ticket.
    let lab = KerberosLab::start(dir.path(), None, false).await;
    lab.kdc
        .kinit("alice", "alice-pw", None)
        .await
        .unwrap_or_else(|e| panic!("kinit: {e}"));
    let err = connect_err(lab.config()).await;
    assert_eq!(
        err.reason(),
        Some(FailureReason::MechanismUnavailable),
        "{err}"
    );
    assert!(err.message().starts_with("GSSAPI not offered"), "{err}");
    // kadmin.local reports this on stderr with status 0; the lab still calls it a failure.
    let again = lab.kdc.add_user("alice", "other-pw", None).await;
    let again = again.map(|()| "").unwrap_err().to_string();
    assert!(
        again.contains("kadmin.local addprinc alice@TEST.REALM")
            && again.contains("already exists"),
        "{again}"
    );
    lab.stop().await;
}

fn log(lab: &KerberosLab) -> String {
    let text = std::fs::read_to_string(lab.server.log_path()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}
