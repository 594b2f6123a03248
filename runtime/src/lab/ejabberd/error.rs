//! What can go wrong with a managed ejabberd node, its epmd or its cluster. `node` reads
//! `c1@127.x.y.z (cluster c)`.

use std::path::PathBuf;

use crate::lab::process::ProcessError;

#[derive(Debug, thiserror::Error)]
pub enum EjabberdError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("ejabberd {node}: cannot start {program}: {source} (is ejabberd installed?)")]
    Spawn {
        node: String,
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("ejabberd {node}: cannot write {path}: {source}")]
    Write {
        node: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ejabberd {node}: {reason}")]
    Invalid { node: String, reason: String },
    #[error("ejabberd {node}: cannot make a private ejabberdctl from {path}: {reason}")]
    Script {
        node: String,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "ejabberd {node}: no epmd answers on {addr} (start the cluster's Epmd before its nodes)"
    )]
    EpmdDown { node: String, addr: String },
    #[error(
        "ejabberd {node}: the name is still registered in the epmd on {addr} (is an old beam of it running? `ss -ltnp` shows it)"
    )]
    StillRegistered { node: String, addr: String },
    #[error("ejabberd {node} exited during start-up ({status}); last lines of {log}:\n{tail}")]
    Exited {
        node: String,
        status: String,
        log: String,
        tail: String,
    },
    #[error(
        "ejabberd {node} did not start within {seconds}s (`ejabberdctl status` never said running); last lines of {log}:\n{tail}"
    )]
    NotReady {
        node: String,
        seconds: u64,
        log: String,
        tail: String,
    },
    #[error("ejabberd {node} is not running (killed or stopped; `start` it first)")]
    NotRunning { node: String },
    #[error("ejabberd {node}: `ejabberdctl {command}` failed ({status}): {output}")]
    Ctl {
        node: String,
        command: String,
        status: String,
        output: String,
    },
    #[error(
        "ejabberd {node}: `ejabberdctl {command}` did not finish within {seconds}s (is the node paused or overloaded?)"
    )]
    CtlTimeout {
        node: String,
        command: String,
        seconds: u64,
    },
    #[error("epmd {name} on port {port}: {reason}\n{tail}")]
    Epmd {
        name: String,
        port: u16,
        reason: String,
        tail: String,
    },
    #[error(
        "ejabberd {node} did not see the cluster {expected:?} within {seconds}s; it saw {seen:?} (see its log: log/ejabberd.log in its folder)"
    )]
    View {
        node: String,
        expected: Vec<String>,
        seen: Vec<String>,
        seconds: u64,
    },
    #[error("ejabberd cluster {role}: {reason}")]
    Cluster { role: String, reason: String },
}
