//! Nodes of external clusters and databases, and the shell commands that perform process faults
//! (kill, stop, start, restart, pause, resume) on external servers and nodes.

use jspec_lang::ast::ProcessAction;
use serde::Deserialize;

use super::value::Address;

/// Shell commands (run with `sh -c`) that perform process faults on an external node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    pub kill: Option<String>,
    pub stop: Option<String>,
    pub start: Option<String>,
    pub restart: Option<String>,
    pub pause: Option<String>,
    pub resume: Option<String>,
}

impl Commands {
    pub fn get(&self, action: ProcessAction) -> Option<&str> {
        match action {
            ProcessAction::Kill => self.kill.as_deref(),
            ProcessAction::Stop => self.stop.as_deref(),
            ProcessAction::Start => self.start.as_deref(),
            ProcessAction::Restart => self.restart.as_deref(),
            ProcessAction::Pause => self.pause.as_deref(),
            ProcessAction::Resume => self.resume.as_deref(),
        }
    }

    pub fn is_empty(&self) -> bool {
        ProcessAction::ALL
            .iter()
            .all(|&action| self.get(action).is_none())
    }
}

/// One node of an external cluster (or of an external replicated database).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEnv {
    pub address: Address,
    #[serde(default)]
    pub direct_tls_address: Option<Address>,
    #[serde(default)]
    pub commands: Commands,
}
