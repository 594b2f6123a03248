//! A whole run: the environment checked against the cases, the lab started, the fault planes
//! set up, the cases run, every event sent to the reporters, the lab stopped, whatever
//! happens. The result is a value ([`RunOutcome`]); the command line maps it to an exit code.
//!
//! Stopping: [`RunControl::stop`] (the first Ctrl-C, SIGTERM or SIGHUP) interrupts the running
//! cases (their teardown still runs, briefly), reports the cases never started as not run,
//! heals the faults and stops the lab. [`RunControl::force`] (a second signal) also cuts
//! teardown short and kills the lab's servers instead of stopping them gracefully.

mod folder;

pub use folder::{FolderError, RunFolder};

use std::sync::Arc;
use std::time::Instant;

use jspec_lang::diagnostic::Diagnostic;
use jspec_lang::load::Program;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::env::{Environment, ServerEnv};
use crate::event::{CaseResult, RunEvent, RunStart, Status, Summary};
use crate::exec::binding::{bind, roles_of};
use crate::exec::{RunOptions, not_run_result, run_cases};
use crate::fault::control::FaultControl;
use crate::fault::model::Plane;
use crate::fault::proxy::ProxyPlane;
use crate::lab::Lab;
use crate::plan::PlannedCase;
use crate::report::Fanout;

/// How a run is asked to stop.
#[derive(Clone, Debug, Default)]
pub struct RunControl {
    /// Stop: interrupt the cases, tear down, stop the lab.
    pub stop: CancellationToken,
    /// Stop now: no teardown grace, the lab's servers killed.
    pub force: CancellationToken,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every planned case ran (whatever its status).
    Completed,
    /// Stopped by [`RunControl::stop`]; cases not started are reported as not run.
    Interrupted,
    /// The lab or the environment could not be set up: no case ran (each is an error).
    LabFailed(String),
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// One result per planned case, in plan order.
    pub results: Vec<CaseResult>,
    pub summary: Summary,
    pub end: RunEnd,
}

impl RunOutcome {
    /// Whether a case ended with `status`.
    pub fn any(&self, status: Status) -> bool {
        self.results.iter().any(|r| r.status == status)
    }
}

/// Runs planned cases against an environment.
#[derive(Debug)]
pub struct Runner<'a, 'p> {
    pub program: &'p Program,
    pub planned: &'a [PlannedCase<'p>],
    pub environment: &'a Environment,
    pub options: RunOptions,
}

impl Runner<'_, '_> {
    /// Errors for roles, nodes and accounts the cases need and an environment file lacks
    /// (`jspec::env_missing_role`), and warnings for faults its servers cannot take
    /// (`jspec::env_cannot_fault`: those cases will be Blocked); none for the built-in local
    /// lab, which makes what it can and blocks cases that need more.
    pub fn check_environment(&self) -> Vec<Diagnostic> {
        if self.environment.file.is_none() {
            return Vec::new();
        }
        self.planned
            .iter()
            .flat_map(|p| {
                let mut found = self.environment.check_case(p.file, p.case);
                found.extend(self.environment.unsupported_faults(p.file, p.case));
                found
            })
            .collect()
    }

    /// Runs every planned case and reports each event to `reporters` as it happens.
    pub async fn run(self, reporters: Fanout, control: RunControl) -> RunOutcome {
        let mut reporters = reporters;
        let (events, mut receiver) = mpsc::unbounded_channel::<RunEvent>();
        // A burst of events (an interrupted run reporting its remaining cases) is written out
        // once: reporters that rewrite a whole file do it at `flush`.
        let reporting = tokio::spawn(async move {
            while let Some(event) = receiver.recv().await {
                reporters.send(&event);
                while let Ok(event) = receiver.try_recv() {
                    reporters.send(&event);
                }
                reporters.flush_all();
            }
        });
        let options = &self.options;
        let _ = events.send(RunEvent::RunStarted(RunStart {
            run_id: options.run_tag.clone(),
            seed: options.seed,
            cases: self.planned.len(),
            out_dir: options.out_dir.display().to_string(),
            jspec_version: env!("CARGO_PKG_VERSION").to_string(),
        }));
        let outcome = self.run_with(&events, &control).await;
        let error = match &outcome.end {
            RunEnd::Completed => None,
            RunEnd::Interrupted => Some("interrupted: the cases not started were not run".into()),
            RunEnd::LabFailed(error) => Some(error.clone()),
        };
        let _ = events.send(RunEvent::RunFinished {
            summary: outcome.summary.clone(),
            error,
        });
        drop(events);
        let _ = reporting.await;
        outcome
    }

    async fn run_with(
        &self,
        events: &mpsc::UnboundedSender<RunEvent>,
        control: &RunControl,
    ) -> RunOutcome {
        let started = Instant::now();
        let options = &self.options;
        let roles = roles_of(self.planned);
        // The roles the environment has; cases naming others are blocked with the reason.
        let known: Vec<String> = roles
            .into_iter()
            .filter(|r| self.environment.server(r).is_some())
            .collect();
        let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
        let proxy = match options.plane {
            Plane::Proxy => Some(Arc::new(ProxyPlane::new(options.tcp_timeouts))),
            Plane::Packet => None,
        };
        let mut spec = match self.environment.lab_spec(&known_refs) {
            Ok(spec) => spec,
            Err(error) => return self.failed(events, format!("{error}"), started),
        };
        add_admins(&mut spec, self.planned, &options.run_tag);
        spec.proxy = proxy.clone();
        spec.packet = options.plane == Plane::Packet;
        let lab = if spec.servers.is_empty() && spec.clusters.is_empty() {
            None
        } else {
            let clusters = spec
                .clusters
                .iter()
                .map(|c| format!("{} (ejabberd cluster: {})", c.role, c.nodes.join(", ")));
            let _ = events.send(RunEvent::LabStarting {
                servers: spec.servers.iter().cloned().chain(clusters).collect(),
            });
            // A start is not cut short (a half-built packet lab would be left behind); it takes
            // about a second, and a stop asked meanwhile is honoured right after.
            match Lab::start(&spec, &options.out_dir.join("lab")).await {
                Ok(lab) if control.stop.is_cancelled() => {
                    stop_lab(Some(Arc::new(lab)), control.force.is_cancelled()).await;
                    return self.stopped_before_start(events, started);
                }
                Ok(lab) => Some(Arc::new(lab)),
                Err(error) => {
                    return self.failed(
                        events,
                        format!("the local lab did not start: {error}"),
                        started,
                    );
                }
            }
        };
        let (mut view, trust) = match bind(self.environment, lab.clone(), &known).await {
            Ok(bound) => bound,
            Err(error) => {
                stop_lab(lab, false).await;
                return self.failed(events, error, started);
            }
        };
        let commands = known
            .iter()
            .filter_map(|role| match self.environment.server(role) {
                Some(ServerEnv::External(server)) => Some((role.clone(), server.commands.clone())),
                _ => None,
            })
            .collect();
        view.faults = Some(Arc::new(
            FaultControl::new(options.plane, lab.clone(), proxy, commands)
                .with_database_commands(self.environment.database_commands()),
        ));
        // What the managed servers offer, asked of them (`requires` is judged on it).
        let trust = Arc::new(trust);
        crate::exec::discover_capabilities(&mut view, trust.clone(), &options.run_tag).await;
        let _ = events.send(RunEvent::LabReady {
            servers: view.lab_servers(),
            elapsed: started.elapsed(),
        });
        let (results, summary) = run_cases(
            self.program,
            self.planned,
            &view,
            trust,
            options,
            events.clone(),
            control.stop.clone(),
            control.force.clone(),
        )
        .await;
        drop(view);
        stop_lab(lab, control.force.is_cancelled()).await;
        let end = match control.stop.is_cancelled() {
            true => RunEnd::Interrupted,
            false => RunEnd::Completed,
        };
        RunOutcome {
            results,
            summary,
            end,
        }
    }

    /// Every case is an error: the run could not be set up.
    fn failed(
        &self,
        events: &mpsc::UnboundedSender<RunEvent>,
        error: String,
        started: Instant,
    ) -> RunOutcome {
        let outcome = self.unrun(events, Status::Error, &error, started);
        RunOutcome {
            end: RunEnd::LabFailed(error),
            ..outcome
        }
    }

    fn stopped_before_start(
        &self,
        events: &mpsc::UnboundedSender<RunEvent>,
        started: Instant,
    ) -> RunOutcome {
        let outcome = self.unrun(
            events,
            Status::Skipped,
            "not run: the run was interrupted",
            started,
        );
        RunOutcome {
            end: RunEnd::Interrupted,
            ..outcome
        }
    }

    /// Reports every planned case as not run, with `status` and `reason`.
    fn unrun(
        &self,
        events: &mpsc::UnboundedSender<RunEvent>,
        status: Status,
        reason: &str,
        started: Instant,
    ) -> RunOutcome {
        let mut summary = Summary::default();
        let results: Vec<CaseResult> = self
            .planned
            .iter()
            .map(|planned| {
                let result = not_run_result(self.program, planned, status, reason.to_string());
                let _ = events.send(RunEvent::CaseFinished {
                    result: result.clone(),
                });
                summary.add(result.status);
                result
            })
            .collect();
        summary.elapsed = started.elapsed();
        RunOutcome {
            results,
            summary,
            end: RunEnd::Completed,
        }
    }
}

/// Stops the lab's servers (kills them when `force`), heals its networks, removes its
/// namespaces.
async fn stop_lab(lab: Option<Arc<Lab>>, force: bool) {
    let Some(lab) = lab else { return };
    match Arc::try_unwrap(lab) {
        Ok(lab) if force => lab.kill().await,
        Ok(lab) => lab.stop().await,
        Err(_) => tracing::warn!("the lab is still in use; its servers stop when jspec exits"),
    }
}

/// The administrators the cases declare (`user boss on a as admin`), as the managed Prosody of
/// their role must list them from its start: its MUC and pubsub services read `admins` only
/// from the configuration. The accounts are the ones the cases will create.
fn add_admins(spec: &mut crate::lab::LabSpec, planned: &[PlannedCase<'_>], run_tag: &str) {
    use crate::exec::scope::{case_tag, lab_localpart};
    use jspec_lang::ast::CaseEntryKind;
    for (index, case) in planned.iter().enumerate() {
        let tag = case_tag(run_tag, index);
        for entry in &case.case.entries {
            let CaseEntryKind::User {
                name,
                server,
                admin: Some(_),
            } = &entry.kind
            else {
                continue;
            };
            let jid = format!("{}@{}.test", lab_localpart(&name.text, &tag), server.text);
            if let Some(extensions) = spec.extensions.get_mut(&server.text) {
                extensions.admins.push(jid);
            } else if let Some(cluster) = spec.clusters.iter_mut().find(|c| c.role == server.text) {
                cluster.admins.push(jid);
            }
        }
    }
}
