//! Patroni's REST API, the source of truth about a replicated database: who is the primary,
//! which replicas stream, on which timeline and how far behind. Every call is bounded.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use super::PatroniError;

/// Patroni answers in milliseconds; a paused node does not answer at all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// A switchover waits for the candidate to be promoted: about 3 s here.
const SWITCHOVER_TIMEOUT: Duration = Duration::from_secs(30);

/// One member of the cluster as Patroni's `/cluster` lists it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// `leader`, `replica`, `sync_standby`, ...
    pub role: String,
    /// `running`, `streaming`, `starting`, `stopped`, `crashed`, ...
    pub state: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub timeline: Option<u64>,
    /// Bytes behind the leader (a number), or `unknown`.
    #[serde(default)]
    pub lag: Option<serde_json::Value>,
}

impl Member {
    pub fn is_leader(&self) -> bool {
        self.role == "leader" || self.role == "standby_leader"
    }

    /// A replica that follows the leader: running (Patroni 3.0.2 says `running`, later
    /// versions `streaming`), on the leader's timeline, nothing to catch up.
    pub fn follows(&self, leader: &Member) -> bool {
        !self.is_leader()
            && (self.state == "streaming" || self.state == "running")
            && self.timeline.is_some()
            && self.timeline == leader.timeline
            && self.lag.as_ref().is_some_and(|lag| lag.as_u64() == Some(0))
    }
}

/// A node's own status (`GET /patroni`): its WAL position, read live from its PostgreSQL.
#[derive(Debug, Deserialize)]
struct NodeStatus {
    #[serde(default)]
    xlog: Option<Xlog>,
}

#[derive(Debug, Deserialize)]
struct Xlog {
    /// The primary's current write position.
    #[serde(default)]
    location: Option<u64>,
    /// How far a replica has replayed.
    #[serde(default)]
    replayed_location: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct ClusterView {
    #[serde(default)]
    members: Vec<Member>,
}

/// A plain-HTTP client for the lab's Patroni agents.
#[derive(Clone, Debug)]
pub(crate) struct Rest {
    http: reqwest::Client,
}

impl Rest {
    pub(crate) fn new() -> Result<Rest, PatroniError> {
        let http =
            crate::http::plain_client(REQUEST_TIMEOUT).map_err(|reason| PatroniError::Rest {
                node: "-".into(),
                reason,
            })?;
        Ok(Rest { http })
    }

    /// `GET /health`: 200 while the node's PostgreSQL runs.
    pub(crate) async fn healthy(&self, api: SocketAddr) -> bool {
        let url = format!("http://{api}/health");
        matches!(self.http.get(url).send().await, Ok(r) if r.status().is_success())
    }

    /// `GET path` on the node at `api`, as JSON.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        node: &str,
        api: SocketAddr,
        path: &str,
    ) -> Result<T, PatroniError> {
        let error = |reason: String| PatroniError::Rest {
            node: node.to_string(),
            reason,
        };
        let response = self
            .http
            .get(format!("http://{api}{path}"))
            .send()
            .await
            .map_err(|e| error(e.to_string()))?;
        response.json().await.map_err(|e| error(e.to_string()))
    }

    /// The members as the node at `api` sees them.
    pub(crate) async fn members(
        &self,
        node: &str,
        api: SocketAddr,
    ) -> Result<Vec<Member>, PatroniError> {
        let view: ClusterView = self.get(node, api, "/cluster").await?;
        Ok(view.members)
    }

    /// The node's WAL position now: a primary's write position, a replica's replay position.
    /// (The lag `/cluster` lists comes from etcd, up to `loop_wait` old.)
    pub(crate) async fn wal_position(
        &self,
        node: &str,
        api: SocketAddr,
    ) -> Result<Option<u64>, PatroniError> {
        let status: NodeStatus = self.get(node, api, "/patroni").await?;
        Ok(status.xlog.and_then(|x| x.location.or(x.replayed_location)))
    }

    /// `POST /reinitialize` on a replica: Patroni wipes its data and clones the primary again
    /// (what an operator does with a replica that can no longer follow).
    pub(crate) async fn reinitialize(
        &self,
        node: &str,
        api: SocketAddr,
    ) -> Result<(), PatroniError> {
        let response = self
            .http
            .post(format!("http://{api}/reinitialize"))
            .json(&serde_json::json!({ "force": true }))
            .send()
            .await
            .map_err(|e| PatroniError::Rest {
                node: node.to_string(),
                reason: e.to_string(),
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(PatroniError::Rest {
            node: node.to_string(),
            reason: format!(
                "reinitialize: {status}: {}",
                response.text().await.unwrap_or_default().trim()
            ),
        })
    }

    /// `POST /switchover` on the leader: hands the primary role to `candidate` now.
    pub(crate) async fn switchover(
        &self,
        api: SocketAddr,
        leader: &str,
        candidate: &str,
    ) -> Result<(), PatroniError> {
        let response = self
            .http
            .post(format!("http://{api}/switchover"))
            .timeout(SWITCHOVER_TIMEOUT)
            .json(&serde_json::json!({ "leader": leader, "candidate": candidate }))
            .send()
            .await
            .map_err(|e| PatroniError::Rest {
                node: leader.to_string(),
                reason: e.to_string(),
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            return Ok(());
        }
        Err(PatroniError::Switchover {
            candidate: candidate.to_string(),
            reason: format!("{status}: {}", text.trim()),
        })
    }
}

/// The members as a table, like `patronictl list` without the hosts (the lab's addresses
/// change from run to run; the names are what a case speaks of), for failure messages.
pub fn table(members: &[Member]) -> String {
    let rows: Vec<[String; 5]> = members
        .iter()
        .map(|m| {
            [
                m.name.clone(),
                m.role.clone(),
                m.state.clone(),
                m.timeline.map(|t| t.to_string()).unwrap_or_default(),
                match &m.lag {
                    Some(serde_json::Value::Number(n)) => n.to_string(),
                    Some(other) => other.as_str().unwrap_or("").to_string(),
                    None => String::new(),
                },
            ]
        })
        .collect();
    let header = ["Member", "Role", "State", "TL", "Lag (bytes)"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: &[String; 5]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    let mut text = line(&header);
    for row in &rows {
        text.push('\n');
        text.push_str(&line(row));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Vec<Member> {
        let json = r#"{"members": [
            {"name": "pg1", "role": "leader", "state": "running", "host": "127.0.9.1", "timeline": 2},
            {"name": "pg2", "role": "replica", "state": "running", "host": "127.0.9.2", "timeline": 2, "lag": 0},
            {"name": "pg3", "role": "replica", "state": "running", "host": "127.0.9.3", "timeline": 1, "lag": 0},
            {"name": "pg4", "role": "replica", "state": "starting", "host": "127.0.9.4", "lag": "unknown"}
        ]}"#;
        serde_json::from_str::<ClusterView>(json).unwrap().members
    }

    #[test]
    fn a_replica_follows_only_on_the_leaders_timeline_with_no_lag() {
        let members = members();
        let leader = &members[0];
        assert!(leader.is_leader());
        assert!(members[1].follows(leader));
        assert!(!members[2].follows(leader), "an old timeline");
        assert!(!members[3].follows(leader), "still starting");
        assert!(!leader.follows(leader));
    }

    /// As Patroni 3.0.2 answers `GET /patroni` on a primary and on a replica (measured).
    #[test]
    fn a_nodes_wal_position_is_the_primarys_write_or_the_replicas_replay() {
        let position = |json: &str| {
            serde_json::from_str::<NodeStatus>(json)
                .unwrap()
                .xlog
                .and_then(|x| x.location.or(x.replayed_location))
        };
        let primary = r#"{"state": "running", "role": "master", "xlog": {"location": 55579848}, "timeline": 1}"#;
        let replica = r#"{"state": "running", "role": "replica", "xlog": {"received_location": 55579536, "replayed_location": 55579500, "paused": false}}"#;
        let stopped = r#"{"state": "stopped", "role": "replica"}"#;
        assert_eq!(position(primary), Some(55_579_848));
        assert_eq!(position(replica), Some(55_579_500));
        assert_eq!(position(stopped), None);
    }

    #[test]
    fn the_table_lists_every_member() {
        let text = table(&members());
        assert!(text.starts_with("| Member |"), "{text}");
        assert!(
            text.contains("| pg2    | replica | running  | 2  | 0 "),
            "{text}"
        );
        assert!(text.contains("unknown"), "{text}");
    }
}
