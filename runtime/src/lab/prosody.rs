//! A managed Prosody server: its configuration, certificates, data and log in one folder of the
//! run, started in the foreground and stopped by PID.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::process::{ManagedProcess, ProcessError, STOP_GRACE};
pub use super::prosody_gssapi::ProsodyKerberos;

/// Ports Prosody listens on, on the server's own loopback address.
pub const C2S_PORT: u16 = 5222;
pub const C2S_DIRECT_TLS_PORT: u16 = 5223;
pub const S2S_PORT: u16 = 5269;
pub const S2S_DIRECT_TLS_PORT: u16 = 5270;
pub const PORTS: [u16; 4] = [C2S_PORT, C2S_DIRECT_TLS_PORT, S2S_PORT, S2S_DIRECT_TLS_PORT];

/// How long a new Prosody may take to accept client connections.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum ProsodyError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("prosody for {domain} exited during start-up ({status}); last lines of {log}:\n{tail}")]
    Exited {
        domain: String,
        status: String,
        log: String,
        tail: String,
    },
    #[error(
        "prosody for {domain} did not accept connections on {addr} within {seconds}s; last lines of {log}:\n{tail}"
    )]
    NotReady {
        domain: String,
        addr: SocketAddr,
        seconds: u64,
        log: String,
        tail: String,
    },
    #[error("prosody for {domain} is not running (killed or stopped; `start` it first)")]
    NotRunning { domain: String },
    #[error("prosodyctl failed to {what} ({status}): {output}")]
    Ctl {
        what: String,
        status: String,
        output: String,
    },
}

/// What a managed Prosody serves.
#[derive(Clone, Debug)]
pub struct ProsodySpec {
    /// The role in the spec (`a`), used in names and logs.
    pub role: String,
    /// Its XMPP domain (`a.test`); its MUC service is `conference.<domain>`.
    pub domain: String,
    pub address: Ipv4Addr,
    /// Lab hosts file mapping every lab domain to its address (for s2s name resolution).
    pub hosts_file: PathBuf,
    /// PEM of the lab CA the server trusts for s2s.
    pub ca_file: PathBuf,
    /// PEM of the lab CA followed by its current CRL (LuaSec reads both from one file).
    pub ca_crl_file: PathBuf,
    /// How the server is configured; the lab changes it per case.
    pub settings: ServerSettings,
    /// The lab DNS that answers SRV queries (none: the hosts file alone, STARTTLS on 5269).
    pub dns: Option<SocketAddr>,
    pub programs: super::Programs,
    /// The network namespace to run in (the packet plane), entered with `ip netns exec`.
    pub netns: Option<String>,
    /// Kerberos single sign-on (SASL GSSAPI only) instead of the internal accounts.
    pub kerberos: Option<ProsodyKerberos>,
}

/// What a case may need a managed server to do differently from the lab's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    /// Refuse s2s peers whose certificate does not verify (no dialback fallback). On by
    /// default: a federation of this kind requires authenticated links.
    pub s2s_secure_auth: bool,
    /// Check peer certificates against the lab CRL.
    pub crl_check: bool,
    /// Clients log in with certificates (SASL EXTERNAL, prosody-modules' mod_auth_ccert)
    /// instead of passwords.
    pub certificate_login: bool,
    /// Peers find the server's Direct TLS port (XEP-0368): the lab DNS publishes its
    /// `_xmpps-server._tcp` record, so server-to-server links to it start with TLS.
    pub s2s_direct_tls: bool,
    /// Clients log in with Kerberos tickets (SASL GSSAPI through Cyrus SASL) from the lab KDC.
    pub kerberos: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            s2s_secure_auth: true,
            crl_check: false,
            certificate_login: false,
            s2s_direct_tls: false,
            kerberos: false,
        }
    }
}

impl ServerSettings {
    /// The settings a case needs from what it `requires`: `dialback` lets unauthenticated peers
    /// in by dialback, `crl` checks revocation, `external` logs clients in by certificate.
    pub fn for_requirements<'a>(required: impl IntoIterator<Item = &'a str>) -> ServerSettings {
        let mut settings = ServerSettings::default();
        for capability in required {
            match capability {
                "dialback" => settings.s2s_secure_auth = false,
                "crl" => settings.crl_check = true,
                "external" => settings.certificate_login = true,
                "direct-tls" => settings.s2s_direct_tls = true,
                "gssapi" => settings.kerberos = true,
                _ => {}
            }
        }
        settings
    }

    /// The settings as the server's log of a change shows them.
    pub fn describe(&self) -> String {
        format!(
            "s2s {}, CRL {}, client login by {}",
            if self.s2s_secure_auth {
                "secure auth"
            } else {
                "dialback allowed"
            },
            if self.crl_check {
                "checked"
            } else {
                "not checked"
            },
            if self.kerberos {
                "Kerberos ticket"
            } else if self.certificate_login {
                "certificate"
            } else {
                "password"
            },
        ) + if self.s2s_direct_tls {
            ", s2s Direct TLS published"
        } else {
            ""
        }
    }
}

impl ProsodySpec {
    pub fn muc_domain(&self) -> String {
        format!("conference.{}", self.domain)
    }

    pub fn c2s_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, C2S_PORT))
    }

    pub fn c2s_direct_tls_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, C2S_DIRECT_TLS_PORT))
    }
}

/// The text of `prosody.cfg.lua` for a server whose files live in `dir`.
pub fn render_config(spec: &ProsodySpec, dir: &Path) -> String {
    let path = |name: &str| lua_string(&dir.join(name).display().to_string());
    let address = spec.address;
    let hosts = lua_string(&spec.hosts_file.display().to_string());
    let settings = &spec.settings;
    // With crl_check, LuaSec refuses every peer unless the CRL sits in the CA file.
    let (ca, verifyext) = match settings.crl_check {
        true => (&spec.ca_crl_file, r#"; verifyext = { "crl_check" }"#),
        false => (&spec.ca_file, ""),
    };
    let ca = lua_string(&ca.display().to_string());
    let authentication = match (&spec.kerberos, settings.certificate_login) {
        (Some(kerberos), _) => kerberos.config_lines(&spec.domain),
        (None, true) => "authentication = \"ccert\"".to_string(),
        (None, false) => "authentication = \"internal_hashed\"".to_string(),
    };
    // mod_auth_ccert reads the client certificate, which is only asked for when told to.
    let client_certificates = match settings.certificate_login {
        true => concat!(
            "certificate_match = \"xmppaddr\"\n",
            "c2s_ssl = { verify = { \"peer\", \"client_once\" } }\n",
            "c2s_direct_tls_ssl = { verify = { \"peer\", \"client_once\" } }\n",
        ),
        false => "",
    };
    let domain = lua_string(&spec.domain);
    let muc = lua_string(&spec.muc_domain());
    format!(
        r#"-- Generated by jspec for lab role "{role}". Edits are overwritten at the next start.
run_as_root = true
pidfile = {pidfile}
data_path = {data}
admin_socket = {socket}
log = {{ {{ levels = {{ min = "debug" }}, to = "file", filename = {log} }} }}

interfaces = {{ "{address}" }}
c2s_ports = {{ {C2S_PORT} }}
c2s_direct_tls_ports = {{ {C2S_DIRECT_TLS_PORT} }}
s2s_ports = {{ {S2S_PORT} }}
s2s_direct_tls_ports = {{ {S2S_DIRECT_TLS_PORT} }}
http_ports = {{ }}
https_ports = {{ }}

modules_enabled = {{
  "roster"; "saslauth"; "tls"; "dialback"; "disco"; "ping"; "pep"; "private";
  "vcard_legacy"; "vcard4"; "mam"; "carbons"; "smacks"; "admin_shell";
}}
modules_disabled = {{ "posix" }}

{authentication}
{client_certificates}storage = "internal"
-- Nagle's algorithm adds ~40 ms to every exchange on loopback; a test lab wants it off.
network_settings = {{ nagle = false }}
archive_expires_after = "never"

c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = {secure}

certificates = {certs}
ssl = {{ cafile = {ca}; capath = false{verifyext} }}

-- Lab name resolution: libunbound with the lab's hosts file; `test.` is not reserved here.
{unbound}

VirtualHost {domain}

Component {muc} "muc"
  modules_enabled = {{ "muc_mam" }}
  muc_room_locking = false
  muc_room_default_persistent = true
"#,
        role = spec.role,
        pidfile = path("prosody.pid"),
        data = path("data"),
        socket = path("prosody.sock"),
        log = path("prosody.log"),
        secure = settings.s2s_secure_auth,
        unbound = unbound_config(&hosts, spec.dns),
        certs = path("certs"),
    )
}

/// Prosody's resolver: addresses from the server's hosts file; with a lab DNS, the other names
/// of `test.` (SRV records) are forwarded to it (`forward` takes a port, resolv.conf does not).
fn unbound_config(hosts: &str, dns: Option<SocketAddr>) -> String {
    match dns {
        Some(dns) => format!(
            r#"unbound = {{ hoststxt = {hosts}; resolvconf = false; forward = "{ip}@{port}"; options = {{ ["local-zone:"] = "test. transparent"; ["do-not-query-localhost:"] = "no" }} }}"#,
            ip = dns.ip(),
            port = dns.port(),
        ),
        None => format!(
            r#"unbound = {{ hoststxt = {hosts}; resolvconf = false; options = {{ ["local-zone:"] = "test. static" }} }}"#
        ),
    }
}

/// The command that runs `program args` inside `netns` (`ip netns exec` execs it, so the PID is
/// the program's own), or as is.
pub(crate) fn in_namespace(
    netns: Option<&str>,
    program: &str,
    args: &[&str],
) -> (String, Vec<String>) {
    match netns {
        Some(netns) => {
            let mut all = vec![
                "netns".to_string(),
                "exec".to_string(),
                netns.to_string(),
                program.to_string(),
            ];
            all.extend(args.iter().map(|a| a.to_string()));
            ("ip".to_string(), all)
        }
        None => (
            program.to_string(),
            args.iter().map(|a| a.to_string()).collect(),
        ),
    }
}

/// A Lua string literal.
fn lua_string(text: &str) -> String {
    format!("{:?}", text)
}

/// Where a managed Prosody stands, as the process plane changed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    Running,
    /// SIGSTOP: the process exists but does nothing; connections stay open.
    Paused,
    /// Killed or stopped.
    Down,
}

/// A managed Prosody: its files, and its process while it runs. The process plane kills,
/// stops, starts and pauses it; its accounts and archives survive in its data folder.
#[derive(Debug)]
pub struct Prosody {
    pub spec: ProsodySpec,
    pub dir: PathBuf,
    /// The settings in force (the spec holds the ones it started with).
    pub(super) settings: std::sync::Mutex<ServerSettings>,
    /// How it accepts Kerberos logins, while its settings ask for that.
    pub(super) kerberos: std::sync::Mutex<Option<ProsodyKerberos>>,
    process: tokio::sync::Mutex<Option<ManagedProcess>>,
    pid: AtomicU32,
    state: std::sync::Mutex<ServerState>,
}

impl Prosody {
    /// Writes the configuration and certificate into `dir`, starts Prosody and waits until it
    /// accepts client connections.
    pub async fn start(
        spec: ProsodySpec,
        dir: &Path,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<Prosody, ProsodyError> {
        let write = |path: PathBuf, text: &str| {
            std::fs::write(&path, text).map_err(|source| ProsodyError::Write { path, source })
        };
        for sub in ["data", "certs"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path)
                .map_err(|source| ProsodyError::Write { path, source })?;
        }
        write(
            dir.join("certs").join(format!("{}.crt", spec.domain)),
            cert_pem,
        )?;
        write(
            dir.join("certs").join(format!("{}.key", spec.domain)),
            key_pem,
        )?;
        write(dir.join("prosody.cfg.lua"), &render_config(&spec, dir))?;
        if let Some(kerberos) = &spec.kerberos {
            kerberos
                .write_sasl_conf(dir)
                .map_err(|source| ProsodyError::Write {
                    path: dir.join("sasl"),
                    source,
                })?;
        }
        let prosody = Prosody {
            settings: std::sync::Mutex::new(spec.settings.clone()),
            kerberos: std::sync::Mutex::new(spec.kerberos.clone()),
            spec,
            dir: dir.to_path_buf(),
            process: tokio::sync::Mutex::new(None),
            pid: AtomicU32::new(0),
            state: std::sync::Mutex::new(ServerState::Down),
        };
        prosody.start_process().await?;
        Ok(prosody)
    }

    /// Starts the process again from the same files (after a kill or stop); nothing to do if
    /// it runs.
    pub async fn start_process(&self) -> Result<(), ProsodyError> {
        let mut slot = self.process.lock().await;
        if let Some(process) = slot.as_mut()
            && process.exit_status().is_none()
        {
            return Ok(());
        }
        let config_arg = self.dir.join("prosody.cfg.lua").display().to_string();
        let prosody_args = ["--config", config_arg.as_str(), "-F"];
        let (program, args) = in_namespace(
            self.spec.netns.as_deref(),
            &self.spec.programs.prosody,
            &prosody_args,
        );
        let kerberos = self
            .kerberos
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let envs = match &kerberos {
            Some(kerberos) => kerberos.envs(&self.dir),
            None => Vec::new(),
        };
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut process = ManagedProcess::spawn(
            &self.spec.role,
            &program,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            &self.dir.join("prosody.stdout.log"),
            &envs,
        )?;
        if let Err(error) = self.wait_ready(&mut process).await {
            process.stop(STOP_GRACE).await;
            return Err(error);
        }
        self.pid.store(process.pid(), Ordering::SeqCst);
        *slot = Some(process);
        self.set_state(ServerState::Running);
        Ok(())
    }

    /// SIGKILL, like a crash.
    pub async fn kill_process(&self) {
        if let Some(process) = self.process.lock().await.take() {
            process.kill().await;
        }
        self.pid.store(0, Ordering::SeqCst);
        self.set_state(ServerState::Down);
    }

    /// SIGTERM, grace, SIGKILL.
    pub async fn stop_process(&self) {
        if let Some(process) = self.process.lock().await.take() {
            process.stop(STOP_GRACE).await;
        }
        self.pid.store(0, Ordering::SeqCst);
        self.set_state(ServerState::Down);
    }

    /// SIGSTOP (`pause`) or SIGCONT (`resume`).
    pub async fn pause_process(&self, pause: bool) -> Result<(), ProsodyError> {
        let slot = self.process.lock().await;
        let Some(process) = slot.as_ref() else {
            return Err(ProsodyError::NotRunning {
                domain: self.spec.domain.clone(),
            });
        };
        let signal = if pause {
            nix::sys::signal::Signal::SIGSTOP
        } else {
            nix::sys::signal::Signal::SIGCONT
        };
        process.signal(signal)?;
        self.set_state(if pause {
            ServerState::Paused
        } else {
            ServerState::Running
        });
        Ok(())
    }

    pub fn state(&self) -> ServerState {
        *self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_state(&self, state: ServerState) {
        *self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = state;
    }

    async fn wait_ready(&self, process: &mut ManagedProcess) -> Result<(), ProsodyError> {
        let addr = self.spec.c2s_addr();
        let started = Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                return Err(ProsodyError::Exited {
                    domain: self.spec.domain.clone(),
                    status: status.to_string(),
                    log: self.log_path().display().to_string(),
                    tail: self.log_tail(process),
                });
            }
            // Ready when every port accepts: s2s peers and proxies connect right after.
            let mut ready = true;
            for port in PORTS {
                let at = SocketAddr::from((self.spec.address, port));
                let attempt = tokio::time::timeout(
                    Duration::from_millis(200),
                    tokio::net::TcpStream::connect(at),
                )
                .await;
                if !matches!(attempt, Ok(Ok(_))) {
                    ready = false;
                    break;
                }
            }
            if ready {
                tracing::debug!(
                    domain = self.spec.domain,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "prosody ready"
                );
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(ProsodyError::NotReady {
                    domain: self.spec.domain.clone(),
                    addr,
                    seconds: READY_TIMEOUT.as_secs(),
                    log: self.log_path().display().to_string(),
                    tail: self.log_tail(process),
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The PID of the running process; 0 while it is down.
    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::SeqCst)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("prosody.log")
    }

    fn log_tail(&self, process: &ManagedProcess) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        if tail.is_empty() {
            process.log_tail(15)
        } else {
            tail
        }
    }

    /// Creates an account (works while the server runs).
    pub async fn register(&self, user: &str, password: &str) -> Result<(), ProsodyError> {
        self.ctl(
            &format!("register {user}"),
            &["register", user, &self.spec.domain, password],
        )
        .await
        .map(drop)
    }

    /// Runs a `prosodyctl shell` command (the admin shell) and returns its output.
    pub async fn shell(&self, command: &str) -> Result<String, ProsodyError> {
        self.ctl(command, &["shell", command]).await
    }

    pub(super) async fn ctl(&self, what: &str, args: &[&str]) -> Result<String, ProsodyError> {
        let config = self.dir.join("prosody.cfg.lua").display().to_string();
        let mut command = tokio::process::Command::new(&self.spec.programs.prosodyctl);
        command
            .arg("--config")
            .arg(&config)
            .args(args)
            .kill_on_drop(true);
        let output = tokio::time::timeout(Duration::from_secs(30), command.output())
            .await
            .map_err(|_| ProsodyError::Ctl {
                what: what.into(),
                status: "timed out after 30s".into(),
                output: String::new(),
            })?
            .map_err(|source| {
                ProsodyError::Process(ProcessError::Spawn {
                    program: self.spec.programs.prosodyctl.clone(),
                    source,
                })
            })?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() {
            Ok(text)
        } else {
            Err(ProsodyError::Ctl {
                what: what.into(),
                status: output.status.to_string(),
                output: text.trim().to_string(),
            })
        }
    }

    /// SIGTERM, grace, SIGKILL (the end of the lab).
    pub async fn stop(self) {
        self.stop_process().await;
    }

    /// SIGKILL (a crash at the end of the lab).
    pub async fn kill(self) {
        self.kill_process().await;
    }
}
