//! Running `ip`, `nft` and `tc`: every call has a timeout, and a failure names the command line
//! and what it printed.
//!
//! Why commands and not netlink crates (checked 2026-12):
//! - `tc`: the bandwidth plane needs htb qdiscs and classes; netlink-packet-route 0.30 (what
//!   rtnetlink builds on) models only the fq_codel and ingress qdiscs, so tc stays a command.
//! - `nft`: the `nftables` crate writes the JSON form and still runs the `nft` binary; rustables
//!   (netlink) is young. Our rule sets are a few lines applied in one `nft -f -` transaction, in
//!   the text a tester reads back with `nft list ruleset` when looking for a leftover.
//! - `ip`: rtnetlink could create the bridge, veths and addresses, but servers are still started
//!   inside namespaces with `ip netns exec`, and namespaces must be the named ones `ip netns`
//!   manages (bind mounts under /var/run/netns) so that a crashed run's leftovers are found and
//!   removed with the same tool. Replacing half of the `ip` calls would leave two ways to do one
//!   job; the calls are a few per lab start, not per packet.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::PacketError;

/// Network configuration commands answer in milliseconds; this only catches a hung one.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The Debian package that provides `program`, for the "not found" hint.
fn package_of(program: &str) -> &'static str {
    match program {
        "nft" => "nftables",
        "iptables" | "iptables-restore" => "iptables",
        _ => "iproute2",
    }
}

/// Runs `program args` (with `stdin` fed to it when given) and returns its standard output.
pub(crate) async fn run(
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, PacketError> {
    let line = command_line(program, args);
    tracing::debug!(command = line, "packet plane");
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|source| spawn_error(program, source))?;
    let work = async {
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await?;
            // Dropping the pipe closes it, so that the program sees the end of its input.
        }
        child.wait_with_output().await
    };
    let output = tokio::time::timeout(TIMEOUT, work)
        .await
        .map_err(|_| PacketError::Timeout {
            command: line.clone(),
            seconds: TIMEOUT.as_secs(),
        })?
        .map_err(|source| PacketError::Io {
            what: line.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if let Some(text) = stdin {
            stderr = format!("{stderr}\ninput was:\n{}", text.trim_end());
        }
        Err(PacketError::Command {
            command: line,
            status: output.status.to_string(),
            stderr,
        })
    }
}

/// Runs `program args` inside the network namespace `netns`.
pub(crate) async fn run_in(
    netns: &str,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, PacketError> {
    // `ip netns exec` reports a missing program as its own failure; check first for a clear error.
    which(program)?;
    let mut all = vec!["netns", "exec", netns, program];
    all.extend_from_slice(args);
    run("ip", &all, stdin).await
}

/// Fails with a "not found" error when `program` is not on PATH.
pub(crate) fn which(program: &str) -> Result<(), PacketError> {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if found {
        Ok(())
    } else {
        Err(PacketError::Missing {
            program: program.to_string(),
            package: package_of(program),
        })
    }
}

/// The same commands, blocking, for `Drop` (no runtime to await on there), with the same
/// timeout; errors are only logged because a drop has no one to report them to.
pub(crate) fn run_blocking(program: &str, args: &[&str]) {
    let line = command_line(program, args);
    let child = std::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            tracing::warn!(command = line, %error, "packet plane cleanup failed");
            return;
        }
    };
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    match status {
        Some(status) if status.success() => {
            tracing::debug!(command = line, "packet plane cleanup")
        }
        _ => {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            tracing::warn!(
                command = line,
                ?status,
                stderr = stderr.trim(),
                "packet plane cleanup failed"
            );
        }
    }
}

fn spawn_error(program: &str, source: std::io::Error) -> PacketError {
    if source.kind() == std::io::ErrorKind::NotFound {
        PacketError::Missing {
            program: program.to_string(),
            package: package_of(program),
        }
    } else {
        PacketError::Io {
            what: format!("cannot start {program}"),
            source,
        }
    }
}

fn command_line(program: &str, args: &[&str]) -> String {
    std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether this process may configure the network: root, or CAP_NET_ADMIN (bit 12 of CapEff).
pub(crate) fn has_net_admin() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 12) != 0)
}
