//! Nodes of external clusters and databases, and the shell commands that perform process faults
//! (kill, stop, start, restart, pause, resume) on external servers and nodes.

use serde::Deserialize;

use super::value::Address;

/// What a process fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeAction {
    Kill,
    Stop,
    Start,
    Restart,
    Pause,
    Resume,
}

impl NodeAction {
    pub const ALL: [NodeAction; 6] = [
        NodeAction::Kill,
        NodeAction::Stop,
        NodeAction::Start,
        NodeAction::Restart,
        NodeAction::Pause,
        NodeAction::Resume,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeAction::Kill => "kill",
            NodeAction::Stop => "stop",
            NodeAction::Start => "start",
            NodeAction::Restart => "restart",
            NodeAction::Pause => "pause",
            NodeAction::Resume => "resume",
        }
    }
}

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
    pub fn get(&self, action: NodeAction) -> Option<&str> {
        match action {
            NodeAction::Kill => self.kill.as_deref(),
            NodeAction::Stop => self.stop.as_deref(),
            NodeAction::Start => self.start.as_deref(),
            NodeAction::Restart => self.restart.as_deref(),
            NodeAction::Pause => self.pause.as_deref(),
            NodeAction::Resume => self.resume.as_deref(),
        }
    }

    pub fn is_empty(&self) -> bool {
        NodeAction::ALL
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
