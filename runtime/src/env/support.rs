//! Faults an environment cannot inject on the servers a case names: warnings, since the case
//! is still run and ends Blocked with the reason (a `requires` the environment does not meet).
//! Today that is clock skew: only servers the local lab runs have a clock jspec can move
//! (libfaketime, on either fault plane).

use jspec_lang::ast::{Block, Case, CaseEntryKind, ChaosAction, Name, StmtKind};
use jspec_lang::diagnostic::{Code, Diagnostic};
use jspec_lang::span::SourceId;

use super::Environment;
use super::model::ServerEnv;

impl Environment {
    /// Warnings for faults of `case` that the servers of this environment cannot take.
    pub fn unsupported_faults(&self, file: SourceId, case: &Case) -> Vec<Diagnostic> {
        let roles: Vec<(&str, Vec<&str>)> = case
            .entries
            .iter()
            .filter_map(|entry| match &entry.kind {
                CaseEntryKind::Servers(roles) => Some(roles),
                _ => None,
            })
            .flatten()
            .map(|role| {
                let nodes = role.nodes.iter().map(|n| n.text.as_str()).collect();
                (role.name.text.as_str(), nodes)
            })
            .collect();
        // A node stands for the server role it belongs to.
        let role_of = |target: &str| {
            roles
                .iter()
                .find(|(role, nodes)| *role == target || nodes.contains(&target))
                .map(|(role, _)| *role)
        };
        let mut clocks = Vec::new();
        for body in case.entries.iter().filter_map(|e| e.kind.body()) {
            clock_targets(body, &mut clocks);
        }
        clocks
            .into_iter()
            .filter_map(|target| {
                let role = role_of(&target.text)?;
                let ServerEnv::External(server) = self.server(role)? else {
                    return None;
                };
                Some(
                    Diagnostic::warning(
                        Code::EnvCannotFault,
                        file,
                        format!(
                            "the clock of `{}` cannot be moved: `{role}` is an external {} \
                             server in {}",
                            target.text,
                            server.software,
                            self.describe()
                        ),
                    )
                    .with_label(target.span, "the case will be Blocked here")
                    .with_help(
                        "jspec moves the clocks of servers its local lab runs (Prosody, ejabberd; \
                         libfaketime, either fault plane); set an external server's clock out of \
                         band and say so in the case's `preconditions`",
                    ),
                )
            })
            .collect()
    }
}

/// The targets of `skew clock of X`, `set clock of X` and `restore clock of X` in `body`, nested blocks and
/// chaos rules included (procedure bodies are checked when the run reaches them).
fn clock_targets<'c>(body: &'c Block, out: &mut Vec<&'c Name>) {
    for stmt in &body.stmts {
        clock_target(&stmt.kind, out);
    }
}

fn clock_target<'c>(kind: &'c StmtKind, out: &mut Vec<&'c Name>) {
    match kind {
        StmtKind::SkewClock { target, .. }
        | StmtKind::SetClock { target, .. }
        | StmtKind::RestoreClock { target } => out.push(target),
        StmtKind::Parallel(inner) | StmtKind::Repeat { body: inner, .. } => {
            clock_targets(inner, out)
        }
        StmtKind::Chaos(chaos) => {
            for rule in &chaos.rules {
                if let ChaosAction::Fault(fault) = &rule.action {
                    clock_target(fault, out);
                }
            }
        }
        _ => {}
    }
}
