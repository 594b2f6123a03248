//! One managed ejabberd node: its files, its beam (the PID we spawned: the private
//! ejabberdctl execs Erlang, which execs the emulator), and its admin calls.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::ctl::{self, Ctl};
use super::epmd::registered_names;
use super::{EjabberdError, EjabberdSpec, LIBFAKETIME, config};
use crate::lab::process::ServerState;
use crate::lab::process::{ManagedProcess, ProcessSlot, STOP_GRACE};
use crate::lab::server::ServerProcess;

/// A node starts in 2-3 s here, up to 5 s when two start at once on 2 cores.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Admin calls: `status` and `list_cluster` answer in about 0.5 s.
const QUICK_CTL_TIMEOUT: Duration = Duration::from_secs(10);
const CTL_TIMEOUT: Duration = Duration::from_secs(30);
/// `join_cluster` copies the Mnesia tables: about 1 s here.
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// `stop` returns after about 1.3 s; the beam is gone about 2.3 s later.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// epmd forgets a node as soon as its beam is gone.
const UNREGISTER_TIMEOUT: Duration = Duration::from_secs(10);

/// A managed ejabberd node. The process plane kills, stops, starts and pauses it; its Mnesia
/// spool survives, so a restarted node rejoins its cluster by itself.
#[derive(Debug)]
pub struct EjabberdNode {
    pub spec: EjabberdSpec,
    pub dir: PathBuf,
    ctl: Ctl,
    /// Its process while it runs, its PID and what the process plane made of it.
    slot: ProcessSlot,
}

/// `program args` in a mount namespace of its own whose /etc/hosts is `hosts`: ejabberd looks
/// up the address of an s2s peer with the C library (`net:getaddrinfo`), which reads only
/// /etc/hosts and the system's DNS, never the node's inetrc; the lab's domains exist in
/// neither. Every step execs, so the PID spawned is still the beam's.
fn with_private_hosts(hosts: &Path, program: String, args: Vec<String>) -> (String, Vec<String>) {
    let mut wrapped: Vec<String> = [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    wrapped.push(hosts.display().to_string());
    wrapped.push(program);
    wrapped.extend(args);
    ("unshare".to_string(), wrapped)
}

impl EjabberdNode {
    /// Writes the node's folder (configuration, a PEM of `cert_pem` and `key_pem`, a private
    /// ejabberdctl), starts the node and waits until ejabberd runs in it. The cluster's epmd
    /// must be running.
    pub async fn start(
        spec: EjabberdSpec,
        dir: &Path,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<EjabberdNode, EjabberdError> {
        // Absolute: ejabberdctl changes into the spool before it reads anything.
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        spec.check(&dir)?;
        let write_error = |path: &Path| {
            let node = spec.label();
            let path = path.to_path_buf();
            move |source| EjabberdError::Write { node, path, source }
        };
        for sub in ["spool", "log"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(write_error(&path))?;
        }
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(write_error(&path))
        };
        let certfile = dir.join("node.pem");
        write("node.pem", &format!("{cert_pem}\n{key_pem}\n"))?;
        std::fs::set_permissions(&certfile, std::fs::Permissions::from_mode(0o600))
            .map_err(write_error(&certfile))?;
        write("ejabberd.yml", &config::render_yml(&spec, &certfile))?;
        write("ejabberdctl.cfg", &config::render_ctl_cfg(&spec, &dir))?;
        write(
            "inetrc",
            &config::render_inetrc(&spec.hosts, spec.nameserver),
        )?;
        write("hosts", &config::render_hosts(&spec.hosts))?;
        let script = dir.join("ejabberdctl");
        ctl::write_private_script(&spec.label(), &script)?;
        let node = EjabberdNode {
            ctl: Ctl {
                label: spec.label(),
                script,
                config_dir: dir.clone(),
                netns: spec.netns.clone(),
            },
            spec,
            dir,
            slot: ProcessSlot::default(),
        };
        node.start_process().await?;
        Ok(node)
    }

    pub fn erlang_node(&self) -> String {
        self.spec.erlang_node()
    }

    /// ejabberd's own log (the beam's standard output goes to `ejabberd.stdout.log`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("log").join("ejabberd.log")
    }

    /// Ready when ejabberd runs: the client port accepts (cheap to probe), then `status`
    /// says "is running" (the only sign that the application finished starting; a
    /// `join_cluster` before that wrecks the node).
    async fn wait_ready(&self, process: &mut ManagedProcess) -> Result<(), EjabberdError> {
        let started = Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                return Err(EjabberdError::Exited {
                    node: self.spec.label(),
                    status: status.to_string(),
                    log: self.log_path().display().to_string(),
                    tail: self.log_tail(process),
                });
            }
            let listening = tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(self.spec.c2s_addr()),
            )
            .await;
            if matches!(listening, Ok(Ok(_)))
                && let Ok(output) = self.ctl.run(&["status"], QUICK_CTL_TIMEOUT).await
                && ctl::says_started(&output)
            {
                tracing::debug!(
                    node = self.spec.label(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "ejabberd ready"
                );
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(EjabberdError::NotReady {
                    node: self.spec.label(),
                    seconds: READY_TIMEOUT.as_secs(),
                    log: self.log_path().display().to_string(),
                    tail: self.log_tail(process),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (bounded) until the cluster's epmd no longer lists this node, so that a start
    /// right after a stop or kill is not refused; fails when no epmd answers at all.
    async fn wait_unregistered(&self) -> Result<(), EjabberdError> {
        let addr = self.spec.epmd_addr();
        let started = Instant::now();
        loop {
            let names = registered_names(addr)
                .await
                .map_err(|_| EjabberdError::EpmdDown {
                    node: self.spec.label(),
                    addr: addr.to_string(),
                })?;
            if !names.contains(&self.spec.node) {
                return Ok(());
            }
            if started.elapsed() > UNREGISTER_TIMEOUT {
                return Err(EjabberdError::StillRegistered {
                    node: self.spec.label(),
                    addr: addr.to_string(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_tail(&self, process: &ManagedProcess) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        if tail.is_empty() {
            process.log_tail(20)
        } else {
            tail
        }
    }

    /// Runs `ejabberdctl <args>` against this node (bounded) and returns its output.
    pub async fn ctl(&self, args: &[&str]) -> Result<String, EjabberdError> {
        if self.state() == ServerState::Down {
            return Err(EjabberdError::NotRunning {
                node: self.spec.label(),
            });
        }
        self.ctl.call(args, CTL_TIMEOUT).await
    }

    /// Creates an account in the cluster's SQL database.
    pub async fn register(&self, user: &str, password: &str) -> Result<(), EjabberdError> {
        self.ctl(&["register", user, &self.spec.domain, password])
            .await
            .map(drop)
    }

    /// The Erlang nodes this node sees in its cluster now (`list_cluster`: Mnesia's running
    /// nodes), sorted.
    pub async fn cluster_view(&self) -> Result<Vec<String>, EjabberdError> {
        if self.state() == ServerState::Down {
            return Err(EjabberdError::NotRunning {
                node: self.spec.label(),
            });
        }
        let text = self.ctl.call(&["list_cluster"], QUICK_CTL_TIMEOUT).await?;
        Ok(ctl::parse_node_list(&text))
    }

    /// Makes this node join the cluster of `other` (its Mnesia is replaced by a copy).
    pub async fn join_cluster(&self, other: &EjabberdNode) -> Result<(), EjabberdError> {
        let other_node = other.erlang_node();
        let command = ["join_cluster", other_node.as_str()];
        let output = self.ctl.run(&command, JOIN_TIMEOUT).await?;
        // A failed join may still exit 0 and print `Error: ...`.
        if !output.status.success() || output.text().contains("Error") {
            return Err(EjabberdError::Ctl {
                node: self.spec.label(),
                command: command.join(" "),
                status: output.status.to_string(),
                output: output.text(),
            });
        }
        Ok(())
    }

    /// Polls the view until it is exactly `expected` (Erlang node names); returns how long
    /// that took.
    pub async fn wait_for_view(
        &self,
        expected: &[String],
        timeout: Duration,
    ) -> Result<Duration, EjabberdError> {
        let mut expected = expected.to_vec();
        expected.sort();
        let started = Instant::now();
        loop {
            let seen = self.cluster_view().await.unwrap_or_default();
            if seen == expected {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                return Err(EjabberdError::View {
                    node: self.spec.label(),
                    expected,
                    seen,
                    seconds: timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `ejabberdctl stop` and the rest (the end of the lab). Before the cluster's epmd stops.
    pub async fn stop(self) {
        self.stop_process().await;
    }

    /// SIGKILL (a forced end of the lab).
    pub async fn kill(self) {
        self.kill_process().await;
    }
}

impl ServerProcess for EjabberdNode {
    type Error = EjabberdError;

    fn slot(&self) -> &ProcessSlot {
        &self.slot
    }

    fn not_running(&self) -> EjabberdError {
        EjabberdError::NotRunning {
            node: self.spec.label(),
        }
    }

    /// Starts the beam from the node's folder, once epmd has forgotten its last run. A node
    /// whose spool knows a cluster rejoins it by itself.
    async fn launch(&self) -> Result<ManagedProcess, EjabberdError> {
        self.wait_unregistered().await?;
        let (program, args) = self.ctl.command_line(&["foreground"]);
        // Outermost, so that `ip netns exec` (packet plane) inherits the bind mount.
        let (program, args) = with_private_hosts(&self.dir.join("hosts"), program, args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let faketime_file = self
            .spec
            .faketime
            .as_ref()
            .map(|file| file.display().to_string());
        // Only the server gets the faked clock; epmd and admin calls run on the real one.
        let envs: Vec<(&str, &str)> = match &faketime_file {
            Some(file) => vec![
                ("LD_PRELOAD", LIBFAKETIME),
                ("FAKETIME_TIMESTAMP_FILE", file.as_str()),
                ("FAKETIME_NO_CACHE", "1"),
                ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ],
            None => Vec::new(),
        };
        let stdout_log = self.dir.join("ejabberd.stdout.log");
        let mut process =
            ManagedProcess::spawn(&self.spec.node, &program, &args, &stdout_log, &envs)?;
        if let Err(error) = self.wait_ready(&mut process).await {
            process.kill().await;
            return Err(error);
        }
        Ok(process)
    }

    /// `ejabberdctl stop`, then waits for the beam to exit; SIGTERM and SIGKILL if it does not.
    async fn shut_down(&self, mut process: ManagedProcess) {
        // A paused node cannot answer `stop`.
        let _ = process.signal(Signal::SIGCONT);
        if process.exit_status().is_none() {
            if let Err(error) = self.ctl.call(&["stop"], STOP_TIMEOUT).await {
                tracing::warn!(%error, "ejabberdctl stop failed; the beam gets SIGTERM");
            }
            let deadline = Instant::now() + STOP_TIMEOUT;
            while process.exit_status().is_none() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if process.exit_status().is_none() {
            tracing::warn!(
                node = self.spec.label(),
                pid = process.pid(),
                "ejabberd did not stop; sending SIGTERM"
            );
        }
        process.stop(STOP_GRACE).await;
    }

    /// Until epmd has forgotten the node, so that a start right after is not refused. Peers
    /// count a paused node as down after net_ticktime.
    async fn settle(&self) {
        let _ = self.wait_unregistered().await;
    }
}
