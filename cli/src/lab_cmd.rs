//! `jspec lab up|down|status`: the built-in local lab by hand, and clean-up after a crash.

use std::path::PathBuf;

use jspec_runtime::lab::registry::{self, registry_dir};
use jspec_runtime::lab::{Lab, LabSpec};

use crate::exit;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum LabCommand {
    /// Start lab servers and keep them running until Ctrl-C (for exploring with a client).
    Up {
        /// Server roles to start; each gets domain ROLE.test on its own loopback address.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "a,b",
            value_name = "ROLES"
        )]
        servers: Vec<String>,
        /// Folder for configuration, certificates, data and logs.
        #[arg(long, value_name = "DIR", default_value = "runs/lab")]
        dir: PathBuf,
        /// Accounts to create, as USER@ROLE:PASSWORD (may be repeated).
        #[arg(long = "user", value_name = "USER@ROLE:PASSWORD")]
        users: Vec<String>,
    },
    /// Stop lab servers left behind by a jspec that was killed (or, with --all, every lab).
    Down {
        /// Also stop labs whose jspec is still running.
        #[arg(long)]
        all: bool,
    },
    /// List recorded labs and their servers.
    Status,
}

pub(crate) fn run(command: LabCommand) -> u8 {
    let runtime = match crate::output::async_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        match command {
            LabCommand::Up {
                servers,
                dir,
                users,
            } => up(servers, dir, users).await,
            LabCommand::Down { all } => down(all).await,
            LabCommand::Status => status(),
        }
    })
}

async fn up(servers: Vec<String>, dir: PathBuf, users: Vec<String>) -> u8 {
    let accounts = match users
        .iter()
        .map(|u| parse_user(u))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(accounts) => accounts,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::SPEC_ERROR;
        }
    };
    let spec = LabSpec {
        servers,
        ..LabSpec::default()
    };
    let lab = match Lab::start(&spec, &dir).await {
        Ok(lab) => lab,
        Err(error) => {
            eprintln!("error: the lab did not start: {error}");
            return exit::INFRASTRUCTURE;
        }
    };
    for (user, role, password) in &accounts {
        let result = match lab.server(role) {
            Some(server) => server
                .register(user, password)
                .await
                .map_err(|e| e.to_string()),
            None => Err(format!("no server role {role} in this lab")),
        };
        if let Err(error) = result {
            eprintln!("error: cannot create {user}@{role}: {error}");
            lab.stop().await;
            return exit::INFRASTRUCTURE;
        }
    }
    println!(
        "lab running in {} (CA: {})",
        lab.dir.display(),
        lab.ca_file.display()
    );
    for server in lab.servers() {
        let spec = &server.spec;
        println!(
            "  {:<6} {:<16} c2s {}  direct-tls {}  log {}",
            spec.role,
            spec.domain,
            spec.c2s_addr(),
            spec.c2s_direct_tls_addr(),
            server.log_path().display()
        );
    }
    for (user, role, _) in &accounts {
        println!("  account {user}@{role}.test");
    }
    println!("press Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping the lab");
    lab.stop().await;
    exit::OK
}

async fn down(all: bool) -> u8 {
    let done = registry::cleanup(&registry_dir(), all).await;
    if done.stopped.is_empty() {
        println!(
            "no lab servers to stop ({} record(s) removed)",
            done.records
        );
    } else {
        println!(
            "stopped {} ({} record(s) removed)",
            done.stopped.join(", "),
            done.records
        );
    }
    // Network namespaces and bridges of packet-plane runs whose jspec is gone (root only).
    if nix::unistd::geteuid().is_root() {
        let removed = jspec_runtime::fault::packet::cleanup_orphans().await;
        if !removed.is_empty() {
            println!("removed the packet lab left behind: {}", removed.join(", "));
        }
    }
    exit::OK
}

fn status() -> u8 {
    let labs = registry::list(&registry_dir());
    if labs.is_empty() {
        println!("no labs recorded");
    }
    for (lab, owner_alive) in labs {
        let owner = if owner_alive {
            "running"
        } else {
            "owner gone: `jspec lab down` stops it"
        };
        println!(
            "lab {} (jspec {}, {owner})",
            lab.dir.display(),
            lab.owner_pid
        );
        for server in lab.servers {
            println!(
                "  {:<6} {:<16} {:<15} pid {}",
                server.role, server.domain, server.address, server.pid
            );
        }
    }
    exit::OK
}

fn parse_user(text: &str) -> Result<(String, String, String), String> {
    let (jid, password) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}`: write USER@ROLE:PASSWORD"))?;
    let (user, role) = jid
        .split_once('@')
        .ok_or_else(|| format!("`{text}`: write USER@ROLE:PASSWORD"))?;
    if user.is_empty() || role.is_empty() || password.is_empty() {
        return Err(format!("`{text}`: write USER@ROLE:PASSWORD"));
    }
    Ok((user.to_string(), role.to_string(), password.to_string()))
}
