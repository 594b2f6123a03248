//! `expect database pg primary is pg2`, `expect database pg has replicas pg1` and `switch
//! database pg to pg2`: a replicated database as its HA manager (Patroni) sees it, read again
//! until the deadline; on failure the cluster table, as `patronictl list` prints it.

use std::time::{Duration, Instant};

use jspec_lang::ast::{DatabaseState, Name};

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail_observed, harness};
use crate::lab::patroni::{Member, rest};

/// Pause between two readings of the cluster.
const POLL: Duration = Duration::from_millis(300);

impl CaseContext<'_> {
    pub(crate) async fn expect_database(
        &self,
        database: &Name,
        expected: &DatabaseState,
        within: Duration,
        frame: &Frame,
    ) -> StmtResult {
        let role = frame.name(&database.text);
        let replicated = self.replicated(&role)?;
        let deadline = Instant::now() + within;
        loop {
            let (members, holds) = match expected {
                DatabaseState::Primary(node) => {
                    let node = frame.name(&node.text);
                    let members = replicated.members().await;
                    let leads =
                        leader(&members).is_some_and(|l| l.name == node && l.state == "running");
                    (members, leads && replicated.writable().await)
                }
                DatabaseState::Replicas(nodes) => {
                    let names: Vec<String> = nodes.iter().map(|n| frame.name(&n.text)).collect();
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let (members, following) = replicated.followers(&names).await;
                    (members, following.len() == names.len())
                }
            };
            if holds {
                return Ok(());
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                let window = crate::env::format_duration(within);
                let (what, wanted) = match expected {
                    DatabaseState::Primary(node) => {
                        let node = frame.name(&node.text);
                        (
                            format!(
                                "database {role} did not have {node} as a writable primary within {window}"
                            ),
                            format!(
                                "{node} leads and a write through the database address succeeds"
                            ),
                        )
                    }
                    DatabaseState::Replicas(nodes) => {
                        let names: Vec<String> =
                            nodes.iter().map(|n| frame.name(&n.text)).collect();
                        (
                            format!(
                                "database {role} did not have {} streaming from the primary within {window}",
                                names.join(", ")
                            ),
                            format!(
                                "{} running on the primary's timeline, no lag",
                                names.join(", ")
                            ),
                        )
                    }
                };
                return Err(fail_observed(what, wanted, observed(&members)));
            }
            self.sleep(remaining.min(POLL)).await?;
        }
    }

    /// `switch database pg to pg2`: a planned switchover, done when pg2 takes writes.
    pub(crate) async fn switch_database(
        &self,
        database: &Name,
        to: &Name,
        frame: &Frame,
        origin: &str,
    ) -> StmtResult {
        let role = frame.name(&database.text);
        let node = frame.name(&to.text);
        self.replicated(&role)?;
        let lab = self.lab.as_ref().ok_or_else(|| blocked(&role))?;
        lab.switch_database(
            &role,
            &node,
            self.default_timeout.max(Duration::from_secs(30)),
        )
        .await
        .map_err(|e| harness(format!("the switchover of {role} to {node} failed: {e}")))?;
        self.trace_fault("switch database", &format!("{role} to {node}"), origin);
        Ok(())
    }

    /// The replicated database `role` of the lab, or Blocked with the reason.
    fn replicated(
        &self,
        role: &str,
    ) -> Result<&crate::lab::patroni::ReplicatedDatabase, StmtError> {
        self.lab
            .as_ref()
            .and_then(|lab| lab.cluster_of_database(role))
            .and_then(|cluster| cluster.database().replicated())
            .ok_or_else(|| blocked(role))
    }
}

fn blocked(role: &str) -> StmtError {
    StmtError::Blocked(format!(
        "database `{role}` is not a replicated database the lab runs (`databases {role} with \
         nodes ...` under a cluster of the local lab); an external one's HA state is not \
         readable from here"
    ))
}

fn leader(members: &[Member]) -> Option<&Member> {
    members.iter().find(|m| m.is_leader())
}

/// The table, or why there is none.
fn observed(members: &[Member]) -> String {
    if members.is_empty() {
        "no node answered (every Patroni is down or paused)".into()
    } else {
        format!("\n{}", rest::table(members))
    }
}
