//! `expect cluster c has nodes c1, c2` and `expect cluster c split`: the membership of a
//! clustered server as each of its running nodes sees it, read again until the deadline.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jspec_lang::ast::{ClusterState, Name};

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail_observed, harness};
use crate::lab::NodeView;

/// Pause between two readings of the membership.
const POLL: Duration = Duration::from_millis(500);

impl CaseContext<'_> {
    pub(crate) async fn expect_cluster(
        &self,
        cluster: &Name,
        expected: &ClusterState,
        within: Duration,
        frame: &Frame,
    ) -> StmtResult {
        let role = frame.name(&cluster.text);
        let blocked = || {
            StmtError::Blocked(format!(
                "`expect cluster {role}` reads the membership from the cluster's nodes, and the \
                 lab runs no cluster `{role}` (an external cluster's membership is not readable \
                 from here)"
            ))
        };
        let Some(lab) = self.lab.as_ref() else {
            return Err(blocked());
        };
        let wanted: Option<BTreeSet<String>> = match expected {
            ClusterState::Nodes(nodes) => Some(nodes.iter().map(|n| frame.name(&n.text)).collect()),
            ClusterState::Split(_) => None,
        };
        let deadline = Instant::now() + within;
        loop {
            let views = lab
                .cluster_views(&role)
                .await
                .map_err(|e| harness(format!("cannot read the membership of {role}: {e}")))?
                .ok_or_else(blocked)?;
            let holds = match &wanted {
                Some(nodes) => whole(&views, nodes),
                None => split(&views),
            };
            if holds {
                return Ok(());
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                let window = crate::env::format_duration(within);
                let (what, expected) = match &wanted {
                    Some(nodes) => {
                        let list: Vec<&str> = nodes.iter().map(String::as_str).collect();
                        (
                            format!(
                                "cluster {role} did not have exactly the nodes {} within {window}",
                                list.join(", ")
                            ),
                            format!("every running node sees {}", list.join(", ")),
                        )
                    }
                    None => (
                        format!("cluster {role} was not split within {window}"),
                        "a running node that does not see another running node".to_string(),
                    ),
                };
                return Err(fail_observed(what, expected, describe(&views)));
            }
            self.sleep(remaining.min(POLL)).await?;
        }
    }
}

/// Every node listed runs, and every running node sees exactly the nodes listed.
fn whole(views: &[NodeView], nodes: &BTreeSet<String>) -> bool {
    let running: Vec<&NodeView> = views.iter().filter(|v| v.sees.is_some()).collect();
    nodes.iter().all(|n| running.iter().any(|v| &v.node == n))
        && running
            .iter()
            .all(|v| v.sees.as_ref().is_some_and(|sees| sees == nodes))
}

/// Some running node does not see another running node.
fn split(views: &[NodeView]) -> bool {
    let running: BTreeSet<&String> = views
        .iter()
        .filter(|v| v.sees.is_some())
        .map(|v| &v.node)
        .collect();
    views.iter().any(|v| {
        v.sees
            .as_ref()
            .is_some_and(|sees| running.iter().any(|r| !sees.contains(*r)))
    })
}

/// `c1 sees c1, c2; c2 is down`.
fn describe(views: &[NodeView]) -> String {
    let parts: Vec<String> = views
        .iter()
        .map(|v| match &v.sees {
            Some(sees) => {
                let list: Vec<&str> = sees.iter().map(String::as_str).collect();
                format!("{} sees {}", v.node, list.join(", "))
            }
            None => format!("{} is down", v.node),
        })
        .collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(node: &str, sees: Option<&[&str]>) -> NodeView {
        NodeView {
            node: node.into(),
            sees: sees.map(|s| s.iter().map(|n| n.to_string()).collect()),
        }
    }

    fn set(nodes: &[&str]) -> BTreeSet<String> {
        nodes.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_whole_cluster_is_every_node_seeing_every_node() {
        let both = [
            view("c1", Some(&["c1", "c2"])),
            view("c2", Some(&["c1", "c2"])),
        ];
        assert!(whole(&both, &set(&["c1", "c2"])));
        assert!(!split(&both));
        let one_down = [view("c1", Some(&["c1"])), view("c2", None)];
        assert!(whole(&one_down, &set(&["c1"])));
        assert!(
            !whole(&one_down, &set(&["c1", "c2"])),
            "c2 is listed but down"
        );
        let not_noticed = [view("c1", Some(&["c1", "c2"])), view("c2", None)];
        assert!(!whole(&not_noticed, &set(&["c1"])), "c1 still counts c2");
    }

    #[test]
    fn a_split_is_a_running_node_missing_another() {
        let split_views = [view("c1", Some(&["c1"])), view("c2", Some(&["c2"]))];
        assert!(split(&split_views));
        assert!(!whole(&split_views, &set(&["c1", "c2"])));
        assert_eq!(describe(&split_views), "c1 sees c1; c2 sees c2");
        let half = [view("c1", Some(&["c1", "c2"])), view("c2", Some(&["c2"]))];
        assert!(split(&half));
    }
}
