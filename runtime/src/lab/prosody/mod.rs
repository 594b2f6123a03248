//! A managed Prosody server: its configuration, certificates, data and log in one folder of the
//! run, started in the foreground and stopped by PID.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod config;
pub mod gssapi;
mod tls;

pub use super::process::ServerState;
use super::process::{ManagedProcess, ProcessError, ProcessSlot, STOP_GRACE};
use super::server::ServerProcess;
use crate::lab::files::{WriteError, create_dir, write_file};
use crate::sync::lock;
pub(crate) use config::in_namespace;
pub use config::{ProsodyExtensions, ServerSettings, render_config};
pub use gssapi::ProsodyKerberos;
pub use tls::{S2sAuth, S2sLink};

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
    #[error(transparent)]
    Write(#[from] WriteError),
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
    pub programs: crate::lab::Programs,
    /// The network namespace to run in (the packet plane), entered with `ip netns exec`.
    pub netns: Option<String>,
    /// Kerberos single sign-on (SASL GSSAPI only) instead of the internal accounts.
    pub kerberos: Option<ProsodyKerberos>,
    /// Modules, options and administrators the run adds.
    pub extensions: ProsodyExtensions,
}

impl ProsodySpec {
    pub fn muc_domain(&self) -> String {
        format!("conference.{}", self.domain)
    }

    /// Its publish-subscribe service (XEP-0060), a component like Prosody's example config has.
    pub fn pubsub_domain(&self) -> String {
        format!("pubsub.{}", self.domain)
    }

    pub fn c2s_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, C2S_PORT))
    }

    pub fn c2s_direct_tls_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, C2S_DIRECT_TLS_PORT))
    }
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
    /// Its process while it runs, its PID and what the process plane made of it.
    slot: ProcessSlot,
    /// Its wall clock (libfaketime), when the library is installed.
    clock: Option<crate::lab::clock::Clock>,
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
        for sub in ["data", "certs"] {
            create_dir(dir.join(sub))?;
        }
        write_file(
            dir.join("certs").join(format!("{}.crt", spec.domain)),
            cert_pem,
        )?;
        write_file(
            dir.join("certs").join(format!("{}.key", spec.domain)),
            key_pem,
        )?;
        write_file(dir.join("prosody.cfg.lua"), render_config(&spec, dir))?;
        if let Some(kerberos) = &spec.kerberos {
            kerberos
                .write_sasl_conf(dir)
                .map_err(WriteError::at(dir.join("sasl")))?;
        }
        let frozen = spec.extensions.clock;
        let prosody = Prosody {
            settings: std::sync::Mutex::new(spec.settings.clone()),
            kerberos: std::sync::Mutex::new(spec.kerberos.clone()),
            spec,
            dir: dir.to_path_buf(),
            slot: ProcessSlot::default(),
            clock: crate::lab::clock::Clock::standing(dir, frozen)
                .map_err(WriteError::at(dir.join("clock-offset")))?,
        };
        if prosody.spec.extensions.clock.is_some() && prosody.clock.is_none() {
            return Err(ProsodyError::Ctl {
                what: "stop its clock".into(),
                status: "libfaketime is not installed".into(),
                output: "the environment file gives the server a `clock`; install libfaketime (scripts/deps.sh)".into(),
            });
        }
        prosody.start_process().await?;
        Ok(prosody)
    }

    /// Moves its wall clock (milliseconds ahead; negative: behind; `None`: real time). In
    /// force within two [`crate::lab::clock::REREAD`] periods; `false` when libfaketime is not
    /// installed.
    pub fn set_clock(&self, offset_millis: Option<f64>) -> Result<bool, ProsodyError> {
        self.move_clock(crate::lab::clock::ClockMove::offset(offset_millis))
    }

    /// Moves its wall clock; `false` when libfaketime is not installed.
    pub fn move_clock(&self, movement: crate::lab::clock::ClockMove) -> Result<bool, ProsodyError> {
        let Some(clock) = &self.clock else {
            return Ok(false);
        };
        clock
            .apply(movement)
            .map_err(WriteError::at(self.dir.join("clock-offset")))?;
        Ok(true)
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

impl ServerProcess for Prosody {
    type Error = ProsodyError;

    fn slot(&self) -> &ProcessSlot {
        &self.slot
    }

    fn not_running(&self) -> ProsodyError {
        ProsodyError::NotRunning {
            domain: self.spec.domain.clone(),
        }
    }

    /// Runs Prosody in the foreground (in its namespace on the packet plane), with its
    /// Kerberos keytab and faked clock when it has them.
    async fn launch(&self) -> Result<ManagedProcess, ProsodyError> {
        let config_arg = self.dir.join("prosody.cfg.lua").display().to_string();
        let prosody_args = ["--config", config_arg.as_str(), "-F"];
        let (program, args) = in_namespace(
            self.spec.netns.as_deref(),
            &self.spec.programs.prosody,
            &prosody_args,
        );
        let kerberos = lock(&self.kerberos).clone();
        let mut envs = match &kerberos {
            Some(kerberos) => kerberos.envs(&self.dir),
            None => Vec::new(),
        };
        if let Some(clock) = &self.clock {
            envs.extend(clock.envs());
        }
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
        Ok(process)
    }
}
