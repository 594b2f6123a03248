//! The executor: runs planned cases against a lab, statement by statement, and emits the run's
//! events. Cases run concurrently up to `jobs`; each has a deadline and a cancellation token, and
//! teardown always runs.

mod archive;
pub mod binding;
mod case;
mod case_result;
mod chaos;
mod clock;
mod cluster;
mod context;
mod database;
pub mod delivery;
mod discover;
pub use discover::discover_capabilities;
mod expect;
mod faults;
mod interp;
pub mod matcher;
mod outcome;
mod peer;
mod room;
pub mod scope;
mod security;
mod session;
mod session_events;
mod transcript;

pub(crate) use case_result::{transcript_folder, transcript_stem};

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jspec_lang::load::Program;
use rustls::RootCertStore;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::event::{CaseResult, LabServer, RunEvent, Summary};
use crate::fault::control::FaultControl;
use crate::lab::Lab;
use crate::plan::PlannedCase;
use scope::{CaseScope, ServerInfo};

/// The result of a case that did not run, with `status` and `reason` on each of its steps.
pub fn not_run_result(
    program: &Program,
    planned: &PlannedCase<'_>,
    status: crate::event::Status,
    reason: String,
) -> CaseResult {
    case_result::not_run(
        planned.case,
        case_result::case_ref(program, planned),
        status,
        reason,
    )
}

/// How a run behaves.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The run folder (events, transcripts, lab logs, reports).
    pub out_dir: PathBuf,
    /// Cases run at once.
    pub jobs: usize,
    /// Deadline of an expectation without `within`.
    pub default_timeout: Duration,
    /// A case still running after this is stopped and failed.
    pub case_timeout: Duration,
    /// The master seed: account passwords, chaos schedules.
    pub seed: u64,
    /// Short text that makes this run's user and room names unique.
    pub run_tag: String,
    /// Where network faults are injected.
    pub plane: crate::fault::model::Plane,
    /// How long TCP keeps a cut connection.
    pub tcp_timeouts: crate::fault::model::TcpTimeouts,
    /// Deliberately wrong deliveries (the mutation test of jspec itself); `None` in real runs.
    pub mutation: Option<crate::xmpp::Mutation>,
    /// How deep and large a server's stanzas may be before a session ends with a protocol
    /// violation.
    pub limits: crate::xmpp::Limits,
}

/// The servers cases run against, as the executor sees them.
#[derive(Debug)]
pub struct LabView {
    /// For messages: "the local lab", "environment openfire-lab".
    pub name: String,
    pub servers: BTreeMap<String, ServerInfo>,
    pub capabilities: BTreeMap<String, BTreeSet<String>>,
    /// The managed lab, which creates accounts.
    pub lab: Option<Arc<Lab>>,
    /// Accounts of external servers, by (role, user name): (JID, password).
    pub accounts: BTreeMap<(String, String), (String, String)>,
    /// External roles that allow in-band registration.
    pub registration: BTreeMap<String, bool>,
    /// Fault injection for this run's lab.
    pub faults: Option<Arc<FaultControl>>,
    /// Database roles the lab runs (those of its clusters).
    pub databases: BTreeSet<String>,
}

impl LabView {
    /// The view of a running local lab: its single servers and its clusters.
    pub fn local(lab: Arc<Lab>, capabilities: &[&str]) -> LabView {
        let mut servers = lab
            .servers()
            .map(|s| {
                let info = ServerInfo {
                    role: s.spec.role.clone(),
                    domain: s.spec.domain.clone(),
                    muc_domain: s.spec.muc_domain(),
                    c2s: s.spec.c2s_addr(),
                    c2s_direct_tls: s.spec.c2s_direct_tls_addr(),
                    nodes: BTreeMap::new(),
                };
                (s.spec.role.clone(), info)
            })
            .collect::<BTreeMap<_, _>>();
        for cluster in lab.clusters() {
            let nodes: BTreeMap<String, scope::NodeInfo> = cluster
                .nodes()
                .iter()
                .map(|n| {
                    let info = scope::NodeInfo {
                        c2s: n.spec.c2s_addr(),
                        c2s_direct_tls: n.spec.c2s_direct_tls_addr(),
                    };
                    (n.spec.node.clone(), info)
                })
                .collect();
            let Some(first) = cluster.nodes().first() else {
                continue;
            };
            let info = ServerInfo {
                role: cluster.request.role.clone(),
                domain: cluster.request.domain(),
                muc_domain: cluster.request.muc_domain(),
                c2s: first.spec.c2s_addr(),
                c2s_direct_tls: first.spec.c2s_direct_tls_addr(),
                nodes,
            };
            servers.insert(cluster.request.role.clone(), info);
        }
        let offered: BTreeSet<String> = capabilities.iter().map(|c| c.to_string()).collect();
        let capabilities = servers
            .keys()
            .map(|role| (role.clone(), offered.clone()))
            .collect();
        let databases = lab.clusters().map(|c| c.request.database_role()).collect();
        LabView {
            name: "the local lab".into(),
            servers,
            capabilities,
            lab: Some(lab),
            accounts: BTreeMap::new(),
            registration: BTreeMap::new(),
            faults: None,
            databases,
        }
    }

    /// Creates the case's accounts on managed servers; on external ones, they must be listed.
    async fn create_accounts(&self, scope: &CaseScope) -> Result<(), String> {
        for user in scope.users.values() {
            if self
                .lab
                .as_ref()
                .is_some_and(|lab| lab.manages(&user.server))
            {
                continue;
            }
            if self
                .accounts
                .contains_key(&(user.server.clone(), user.name.clone()))
            {
                continue;
            }
            let hint = if self
                .registration
                .get(&user.server)
                .copied()
                .unwrap_or(false)
            {
                "in-band registration is not implemented yet; list the account"
            } else {
                "list it"
            };
            return Err(format!(
                "{} has no account for user {} on {}: {hint} under [servers.{}.users.{}] (docs/environment.md)",
                self.name, user.name, user.server, user.server, user.name
            ));
        }
        let Some(lab) = &self.lab else { return Ok(()) };
        for user in scope.users.values().filter(|u| lab.manages(&u.server)) {
            lab.register(&user.server, &user.localpart, &user.password)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    pub fn lab_servers(&self) -> Vec<LabServer> {
        self.servers
            .values()
            .map(|s| LabServer {
                role: s.role.clone(),
                domain: s.domain.clone(),
                address: s.c2s.ip().to_string(),
                software: match s.nodes.is_empty() {
                    true => "prosody".into(),
                    false => format!("ejabberd cluster ({})", join(s.nodes.keys())),
                },
            })
            .collect()
    }
}

/// Runs the planned cases and returns their results in plan order. Events go to `events`.
/// After `cancel`, running cases are interrupted (teardown runs, cut short by `force`) and the
/// cases not started yet are reported as not run.
#[allow(clippy::too_many_arguments)]
pub async fn run_cases(
    program: &Program,
    plan: &[PlannedCase<'_>],
    lab: &LabView,
    trust: Arc<RootCertStore>,
    options: &RunOptions,
    events: mpsc::UnboundedSender<RunEvent>,
    cancel: CancellationToken,
    force: CancellationToken,
) -> (Vec<CaseResult>, Summary) {
    let started = Instant::now();
    // Cases that inject faults run alone; the others share the lab.
    let gate = tokio::sync::RwLock::new(());
    let gate = &gate;
    let runs = plan.iter().enumerate().map(|(index, planned)| {
        case::CaseRun {
            gate,
            program,
            planned,
            index,
            lab,
            options,
            trust: trust.clone(),
            events: events.clone(),
            run_cancel: cancel.clone(),
            force: force.clone(),
        }
        .run()
    });
    let mut results: Vec<(usize, CaseResult)> = futures_util::stream::iter(runs.enumerate())
        .map(|(i, f)| async move { (i, f.await) })
        .buffer_unordered(options.jobs.max(1))
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    let results: Vec<CaseResult> = results.into_iter().map(|(_, r)| r).collect();
    let mut summary = Summary::default();
    // `not_run` counts cases never started; Skipped is their status.
    for result in &results {
        summary.add(result.status);
    }
    summary.elapsed = started.elapsed();
    (results, summary)
}

fn join<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(String::as_str).collect::<Vec<_>>().join(", ")
}
