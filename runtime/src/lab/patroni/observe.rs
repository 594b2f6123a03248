//! What a replicated database is doing, as Patroni and its clients see it: members, the
//! primary, whether replicas follow (read live), whether a write gets through; and the waits and
//! actions built on them (switchover, reinitialising a replica that cannot follow).

use std::time::{Duration, Instant};

use super::rest::{self, Member};
use super::{PatroniError, ReplicatedDatabase, SWITCHOVER_RETRY};
use crate::lab::process::ServerState;
use crate::lab::server::ServerProcess;

impl ReplicatedDatabase {
    /// The members as the first running node that answers sees them; empty when none does.
    pub async fn members(&self) -> Vec<Member> {
        for node in self
            .nodes
            .iter()
            .filter(|n| n.state() == ServerState::Running)
        {
            if let Ok(members) = self.rest.members(&node.name, node.api()).await {
                return members;
            }
        }
        Vec::new()
    }

    /// The current primary's name.
    pub async fn primary(&self) -> Option<String> {
        self.members()
            .await
            .into_iter()
            .find(|m| m.is_leader() && m.state == "running")
            .map(|m| m.name)
    }

    /// Waits until `node` is the running leader and a write through HAProxy succeeds.
    pub async fn wait_for_primary(
        &self,
        node: &str,
        timeout: Duration,
    ) -> Result<(), PatroniError> {
        let deadline = Instant::now() + timeout;
        loop {
            let leads = self.primary().await.as_deref() == Some(node);
            if leads && self.writable().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self
                    .not_formed(format!("{node} did not become a writable primary"), timeout)
                    .await);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until each of `replicas` follows the leader (see [`Self::followers`]).
    pub async fn wait_for_replicas(
        &self,
        replicas: &[&str],
        timeout: Duration,
    ) -> Result<(), PatroniError> {
        let deadline = Instant::now() + timeout;
        loop {
            let (_, following) = self.followers(replicas).await;
            if following.len() == replicas.len() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self
                    .not_formed(
                        format!("{} did not stream from the primary", replicas.join(", ")),
                        timeout,
                    )
                    .await);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The members, and which of `replicas` follow the leader now: Patroni lists them running
    /// on the leader's timeline with no lag, and each has replayed, read live, at least the WAL
    /// the leader had written just before. (The lag Patroni lists comes from etcd and is up to
    /// `loop_wait` old: a replica cut off a moment ago would still look caught up.)
    pub async fn followers(&self, replicas: &[&str]) -> (Vec<Member>, Vec<String>) {
        let members = self.members().await;
        let Some(leader) = members.iter().find(|m| m.is_leader()) else {
            return (members, Vec::new());
        };
        // The leader first: a replica read afterwards must have reached this position.
        let Some(written) = self.wal_position(&leader.name).await else {
            return (members, Vec::new());
        };
        let mut following = Vec::new();
        for name in replicas {
            let listed = members.iter().any(|m| m.name == *name && m.follows(leader));
            let replayed = match listed {
                true => self.wal_position(name).await,
                false => None,
            };
            if replayed.is_some_and(|replayed| replayed >= written) {
                following.push(name.to_string());
            }
        }
        (members, following)
    }

    /// A node's WAL position read live from it; `None` when it does not answer.
    async fn wal_position(&self, name: &str) -> Option<u64> {
        let node = self.node(name).ok()?;
        self.rest
            .wal_position(name, node.api())
            .await
            .ok()
            .flatten()
    }

    /// Waits until `replicas` follow the primary; one that does not within `patience` (its
    /// WAL diverged, e.g. after every node crashed) is reinitialised from the primary, as an
    /// operator would, and waited for again. Returns the nodes it reinitialised.
    pub async fn heal_replicas(
        &self,
        replicas: &[&str],
        patience: Duration,
        timeout: Duration,
    ) -> Result<Vec<String>, PatroniError> {
        if self.wait_for_replicas(replicas, patience).await.is_ok() {
            return Ok(Vec::new());
        }
        let (_, following) = self.followers(replicas).await;
        let mut reinitialised = Vec::new();
        for name in replicas {
            if !following.iter().any(|f| f == name) {
                tracing::warn!(
                    node = name,
                    "a replica does not follow the primary; reinitialising it"
                );
                self.rest.reinitialize(name, self.node(name)?.api()).await?;
                reinitialised.push(name.to_string());
            }
        }
        self.wait_for_replicas(replicas, timeout).await?;
        Ok(reinitialised)
    }

    /// A write through any HAProxy: what a client of the database needs.
    pub async fn writable(&self) -> bool {
        for access in &self.spec.access {
            let written = self
                .client_at(access.address)
                .psql("postgres", "postgres", "", &["-c", "SELECT txid_current()"])
                .await
                .is_ok();
            if written {
                return true;
            }
        }
        false
    }

    /// Hands the primary role to `candidate` (a planned switchover) and waits until it holds it.
    pub async fn switch_to(&self, candidate: &str, timeout: Duration) -> Result<(), PatroniError> {
        self.node(candidate)?;
        let deadline = Instant::now() + timeout;
        loop {
            let leader = self
                .primary()
                .await
                .ok_or_else(|| PatroniError::Switchover {
                    candidate: candidate.to_string(),
                    reason: "there is no primary to hand over from".into(),
                })?;
            if leader == candidate {
                break;
            }
            // Patroni refuses a candidate that does not follow the leader yet (after a crash
            // of the leader's PostgreSQL the timeline moves on and the replica catches up).
            let remaining = deadline.saturating_duration_since(Instant::now());
            self.wait_for_replicas(&[candidate], remaining).await?;
            let api = self.node(&leader)?.api();
            match self.rest.switchover(api, &leader, candidate).await {
                Ok(()) => break,
                Err(error) if Instant::now() + SWITCHOVER_RETRY < deadline => {
                    tracing::debug!(%error, candidate, "switchover refused; trying again");
                    tokio::time::sleep(SWITCHOVER_RETRY).await;
                }
                Err(error) => return Err(error),
            }
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        self.wait_for_primary(candidate, remaining).await
    }

    async fn not_formed(&self, what: String, timeout: Duration) -> PatroniError {
        PatroniError::NotFormed {
            role: self.spec.role.clone(),
            what,
            seconds: timeout.as_secs(),
            table: rest::table(&self.members().await),
        }
    }
}
