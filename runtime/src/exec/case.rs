//! One case from start to end: blocked before it starts when the lab lacks what it needs,
//! accounts created, setup and steps in order (the rest skipped after a failure), teardown
//! always, sessions closed, transcripts written.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jspec_lang::ast::{Case, CaseEntryKind};
use jspec_lang::load::Program;
use rustls::RootCertStore;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::case_result::{
    block_lines, blocked, case_ref, case_status, errored, not_run, transcript_folder,
};
use super::context::{CaseContext, Frame, lock};
use super::outcome::StmtError;
use super::scope::CaseScope;
use super::transcript::write_transcripts;
use super::{LabView, RunOptions};
use crate::event::{BlockKind, CaseRef, CaseResult, FailureKind, RunEvent, Status, StepResult};
use crate::plan::PlannedCase;

/// How long teardown may take after the case was interrupted or timed out.
const TEARDOWN_GRACE: Duration = Duration::from_secs(10);

pub(crate) struct CaseRun<'a, 'p> {
    pub(crate) gate: &'a tokio::sync::RwLock<()>,
    pub(crate) program: &'p Program,
    pub(crate) planned: &'a PlannedCase<'p>,
    pub(crate) index: usize,
    pub(crate) lab: &'a LabView,
    pub(crate) options: &'a RunOptions,
    pub(crate) trust: Arc<RootCertStore>,
    pub(crate) events: mpsc::UnboundedSender<RunEvent>,
    pub(crate) run_cancel: CancellationToken,
    /// A forced stop: teardown after an interruption is skipped.
    pub(crate) force: CancellationToken,
}

impl CaseRun<'_, '_> {
    pub(crate) async fn run(self) -> CaseResult {
        let started = Instant::now();
        let case = self.planned.case;
        let case_ref = case_ref(self.program, self.planned);
        if self.run_cancel.is_cancelled() {
            // Stopped before this case began: not run, and quickly (no accounts, no lab work).
            let result = not_run(
                case,
                case_ref,
                Status::Skipped,
                "not run: the run was interrupted".into(),
            );
            let _ = self.events.send(RunEvent::CaseFinished {
                result: result.clone(),
            });
            return result;
        }
        let _ = self.events.send(RunEvent::CaseStarted {
            case: case_ref.clone(),
        });
        let procedures = self.program.visible_procedures(self.planned.file);
        let faulty = super::faults::disturbs(case, &procedures);
        let secure = super::security::changes_security(case, &procedures);
        let result = match self.blocked_reason(case) {
            Some(reason) => blocked(case, case_ref.clone(), reason),
            None if faulty || secure => {
                let _alone = self.gate.write().await;
                self.run_blocks(case, case_ref.clone(), started, faulty, secure)
                    .await
            }
            None => {
                let _shared = self.gate.read().await;
                self.run_blocks(case, case_ref.clone(), started, false, false)
                    .await
            }
        };
        let result = CaseResult {
            elapsed: started.elapsed(),
            ..result
        };
        let _ = self.events.send(RunEvent::CaseFinished {
            result: result.clone(),
        });
        result
    }

    /// Why the case cannot run in this lab, if it cannot.
    fn blocked_reason(&self, case: &Case) -> Option<String> {
        let mut required = BTreeSet::new();
        for entry in &case.entries {
            match &entry.kind {
                CaseEntryKind::Requires(names) => {
                    required.extend(names.iter().map(|n| n.text.clone()))
                }
                CaseEntryKind::Servers(roles) => {
                    for role in roles {
                        let Some(server) = self.lab.servers.get(&role.name.text) else {
                            return Some(format!(
                                "{} has no server for role {}",
                                self.lab.name, role.name.text
                            ));
                        };
                        let missing: Vec<&str> = role
                            .nodes
                            .iter()
                            .map(|n| n.text.as_str())
                            .filter(|n| !server.nodes.contains_key(*n))
                            .collect();
                        if !missing.is_empty() {
                            return Some(format!(
                                "server {} of {} has no node {}",
                                role.name.text,
                                self.lab.name,
                                missing.join(", ")
                            ));
                        }
                    }
                }
                CaseEntryKind::Databases(roles) => {
                    if let Some(role) = roles
                        .iter()
                        .find(|r| !self.lab.databases.contains(&r.name.text))
                    {
                        return Some(format!(
                            "database {} is needed, and {} runs no database of that name (the lab runs one per cluster, named by the case's `databases` line)",
                            role.name.text, self.lab.name
                        ));
                    }
                }
                _ => {}
            }
        }
        for entry in &case.entries {
            if let CaseEntryKind::Servers(roles) = &entry.kind {
                for role in roles {
                    let offered = self
                        .lab
                        .capabilities
                        .get(&role.name.text)
                        .cloned()
                        .unwrap_or_default();
                    let missing: Vec<&String> =
                        required.iter().filter(|c| !offered.contains(*c)).collect();
                    if !missing.is_empty() {
                        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                        return Some(format!(
                            "requires {}, which server {} ({}) does not offer",
                            list.join(", "),
                            role.name.text,
                            self.lab.name
                        ));
                    }
                }
            }
        }
        None
    }

    async fn run_blocks(
        &self,
        case: &Case,
        case_ref: CaseRef,
        started: Instant,
        faulty: bool,
        secure: bool,
    ) -> CaseResult {
        let tag = super::scope::case_tag(&self.options.run_tag, self.index);
        let scope = CaseScope::new(
            case,
            &self.lab.servers,
            &self.lab.accounts,
            &tag,
            self.options.seed,
        );
        if let Err(reason) = self.lab.create_accounts(&scope).await {
            let mut result = errored(
                case,
                case_ref,
                format!("setup could not create the accounts: {reason}"),
            );
            result.elapsed = started.elapsed();
            return result;
        }
        let cancel = self.run_cancel.child_token();
        let timeout_guard = {
            let cancel = cancel.clone();
            let limit = self.options.case_timeout;
            tokio::spawn(async move {
                tokio::time::sleep(limit).await;
                cancel.cancel();
            })
        };
        let mut ctx = CaseContext::new(
            self.program,
            case_ref.clone(),
            scope,
            self.program.visible_procedures(self.planned.file),
            self.trust.clone(),
            self.options.default_timeout,
            cancel.clone(),
            self.events.clone(),
        );
        // One clock for the case: its steps, faults and stanzas are timed from its start.
        ctx.started = started;
        ctx.faults = self.lab.faults.clone();
        ctx.lab = self.lab.lab.clone();
        ctx.seed = self.options.seed;
        ctx.mutation = self.options.mutation;
        ctx.limits = self.options.limits;
        let prepared = match secure {
            true => prepare_security(&ctx, case).await,
            false => Ok(()),
        };
        if let Err(reason) = prepared {
            timeout_guard.abort();
            let mut result = errored(
                case,
                case_ref,
                format!("setup could not configure the lab: {reason}"),
            );
            result.elapsed = started.elapsed();
            return result;
        }
        if faulty && let Err(reason) = heal(&ctx, "heal before the case").await {
            timeout_guard.abort();
            let mut result = errored(
                case,
                case_ref,
                format!("setup could not heal the lab: {reason}"),
            );
            result.elapsed = started.elapsed();
            return result;
        }
        let mut steps = Vec::new();
        let mut stopped: Option<Status> = None;
        for entry in &case.entries {
            let (kind, title, body) = match &entry.kind {
                CaseEntryKind::Setup(body) => (BlockKind::Setup, "Setup".to_string(), body),
                CaseEntryKind::Step { title, body } => (BlockKind::Step, title.display(), body),
                CaseEntryKind::Teardown(body) => {
                    (BlockKind::Teardown, "Teardown".to_string(), body)
                }
                _ => continue,
            };
            let index = steps.len();
            let (actions, expected) = block_lines(self.program, self.planned.file, case, body);
            if kind != BlockKind::Teardown && stopped.is_some() {
                let result = StepResult {
                    kind,
                    title,
                    status: Status::Skipped,
                    elapsed: Duration::ZERO,
                    actions,
                    expected,
                    actual: "not run: an earlier step did not pass".into(),
                    failure: None,
                };
                let case = case_ref.clone();
                let _ = self.events.send(RunEvent::StepFinished {
                    case,
                    index,
                    result: result.clone(),
                });
                steps.push(result);
                continue;
            }
            let _ = self.events.send(RunEvent::StepStarted {
                case: case_ref.clone(),
                index,
                kind,
                title: title.clone(),
                at: started.elapsed(),
            });
            let step_started = Instant::now();
            let mut frame = Frame::case(self.planned.file);
            frame.teardown = kind == BlockKind::Teardown;
            let outcome = if kind == BlockKind::Teardown && cancel.is_cancelled() {
                // Teardown always runs, with a fresh, short deadline after an interruption;
                // a forced stop cuts it short.
                let grace = CancellationToken::new();
                ctx.set_cancel(grace.clone());
                tokio::select! {
                    result = ctx.block(body, &frame) => result,
                    _ = tokio::time::sleep(TEARDOWN_GRACE) => { grace.cancel(); Err(StmtError::Interrupted) }
                    _ = self.force.cancelled() => { grace.cancel(); Err(StmtError::Interrupted) }
                }
            } else {
                ctx.block(body, &frame).await
            };
            let (status, actual, failure) = match outcome {
                Ok(()) => (Status::Passed, "as expected".to_string(), None),
                Err(StmtError::Failed(failed)) => {
                    let failure = ctx.failure((self.planned.file, body.span), *failed);
                    let status = match failure.kind {
                        FailureKind::Harness => Status::Error,
                        FailureKind::Expectation | FailureKind::Protocol => Status::Failed,
                    };
                    (status, failure.message.clone(), Some(failure))
                }
                Err(StmtError::Blocked(reason)) => (Status::Blocked, reason, None),
                Err(StmtError::Interrupted) => {
                    let why = if self.run_cancel.is_cancelled() {
                        "interrupted"
                    } else {
                        "the case ran out of time"
                    };
                    let status = if self.run_cancel.is_cancelled() {
                        Status::Retest
                    } else {
                        Status::Failed
                    };
                    (status, why.to_string(), None)
                }
            };
            if status != Status::Passed && stopped.is_none() {
                stopped = Some(status);
            }
            let result = StepResult {
                kind,
                title,
                status,
                elapsed: step_started.elapsed(),
                actions,
                expected,
                actual,
                failure,
            };
            let _ = self.events.send(RunEvent::StepFinished {
                case: case_ref.clone(),
                index,
                result: result.clone(),
            });
            steps.push(result);
        }
        timeout_guard.abort();
        for (_, session) in ctx.open_sessions() {
            if self.force.is_cancelled()
                || tokio::time::timeout(Duration::from_secs(3), session.close())
                    .await
                    .is_err()
            {
                session.abort().await;
            }
        }
        if faulty && let Err(reason) = heal(&ctx, "heal after the case").await {
            tracing::error!(case = case_ref.title, %reason, "the lab could not be healed after the case");
        }
        if secure && let Err(reason) = restore_security(&ctx).await {
            tracing::error!(case = case_ref.title, %reason, "the lab's certificates and settings could not be restored");
        }
        let history = lock(&ctx.history).clone();
        emit_stanzas(&ctx, &history);
        write_transcripts(
            &self
                .options
                .out_dir
                .join("transcripts")
                .join(transcript_folder(&case_ref)),
            &history,
        );
        let status = case_status(&steps);
        let reason = steps
            .iter()
            .find(|s| s.status == status && status != Status::Passed)
            .map(|s| s.actual.clone());
        CaseResult {
            case: case_ref,
            status,
            elapsed: started.elapsed(),
            steps,
            reason,
        }
    }
}

/// Heals every fault in the lab (network and processes), tracing what was still in force.
async fn heal(ctx: &CaseContext<'_>, origin: &str) -> Result<(), String> {
    let Some(faults) = &ctx.faults else {
        return Ok(());
    };
    let healed = faults.heal_all().await.map_err(|e| e.to_string())?;
    if !healed.is_empty() {
        ctx.trace_fault("heal", &healed.join("; "), origin);
    }
    Ok(())
}

/// Configures the case's managed servers as its `requires` ask (dialback allowed, CRL checked,
/// certificate login), tracing what changed.
async fn prepare_security(ctx: &CaseContext<'_>, case: &Case) -> Result<(), String> {
    let Some(lab) = &ctx.lab else {
        return Ok(());
    };
    let roles: Vec<String> = ctx.scope.servers.keys().cloned().collect();
    let settings = super::security::case_settings(case);
    let changed = lab
        .configure(&roles, &settings)
        .await
        .map_err(|e| e.to_string())?;
    if !changed.is_empty() {
        ctx.trace_fault("configure", &changed.join("; "), "the case's requirements");
    }
    Ok(())
}

/// Puts certificates and server settings back to the lab's defaults after a case changed them.
async fn restore_security(ctx: &CaseContext<'_>) -> Result<(), String> {
    let Some(lab) = &ctx.lab else {
        return Ok(());
    };
    let restored = lab.restore_security().await.map_err(|e| e.to_string())?;
    if !restored.is_empty() {
        ctx.trace_fault("restore", &restored.join("; "), "after the case");
    }
    Ok(())
}

/// Every stanza the case's sessions sent and received, in time order, as events (report.html
/// draws them on the case's timeline).
fn emit_stanzas(ctx: &CaseContext<'_>, history: &[(String, Arc<crate::xmpp::Session>)]) {
    use crate::xmpp::{Direction as Way, Entry};
    let mut stanzas: Vec<(Duration, &str, crate::event::Direction, String)> = Vec::new();
    for (actor, session) in history {
        for record in session.transcript() {
            let direction = match record.direction {
                Way::Sent => crate::event::Direction::Sent,
                Way::Received => crate::event::Direction::Received,
                Way::Event => continue,
            };
            let Entry::Stanza(element) = &record.entry else {
                continue;
            };
            let at = record.at.saturating_duration_since(ctx.started);
            stanzas.push((at, actor, direction, String::from(element)));
        }
    }
    stanzas.sort_by_key(|(at, ..)| *at);
    for (at, actor, direction, xml) in stanzas {
        ctx.emit(RunEvent::Stanza {
            case: ctx.case.clone(),
            actor: actor.to_string(),
            direction,
            at,
            xml,
        });
    }
}
