//! `chaos seed 42 for 2m { every 10s..30s kill one of c1, c2 }`: each rule on its own schedule,
//! all drawn from one seed, so the same seed gives the same faults at the same offsets. A fault
//! lasts for its `for`, or else until the rule's next fault; the block heals what it did when it
//! ends.

use std::time::Duration;

use futures_util::future::join_all;
use jspec_lang::ast::{Chaos, ChaosAction, ChaosRule, ChaosVerb, Name, ProcessAction, StmtKind};
use tokio::time::Instant;

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult};
use crate::fault::rng::{self, Rng};

/// How a chaos fault is undone.
enum Undo {
    /// The action, whether the target is a database, the target.
    Process(ProcessAction, bool, Name),
    Stmt(StmtKind),
    Isolation(Name),
}

impl CaseContext<'_> {
    pub(crate) async fn chaos(&self, chaos: &Chaos, frame: &Frame, line: usize) -> StmtResult {
        self.fault_control()?;
        let seed = match chaos.seed {
            Some(seed) => seed.value,
            None => rng::derive(self.seed, &format!("{}:chaos:{line}", self.case.title)),
        };
        let start = Instant::now();
        let end = start + chaos.duration.as_std();
        self.trace_fault(
            "chaos",
            &format!(
                "{} rule{} for {}",
                chaos.rules.len(),
                if chaos.rules.len() == 1 { "" } else { "s" },
                crate::env::format_duration(chaos.duration.as_std())
            ),
            &format!("chaos seed {seed}"),
        );
        let rules = chaos
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| self.chaos_rule(rule, index, frame, seed, start, end));
        let mut outcome = Ok(());
        for result in join_all(rules).await {
            outcome = super::interp::worst(outcome, result);
        }
        outcome
    }

    async fn chaos_rule(
        &self,
        rule: &ChaosRule,
        index: usize,
        frame: &Frame,
        seed: u64,
        start: Instant,
        end: Instant,
    ) -> StmtResult {
        let mut rng = Rng::seeded(rng::derive(seed, &format!("rule {index}")));
        let (min, max) = (
            rule.min.as_std(),
            rule.max.map_or(rule.min.as_std(), |m| m.as_std()),
        );
        let mut offset = Duration::ZERO;
        let mut pending: Option<Undo> = None;
        let result = loop {
            let wait = min + (max.saturating_sub(min)).mul_f64(rng.f64());
            // A zero period would spin; chaos acts at most once per millisecond per rule.
            offset += wait.max(Duration::from_millis(1));
            if start + offset >= end {
                break Ok(());
            }
            if let Err(error) = self.sleep_until(start + offset).await {
                break Err(error);
            }
            let origin = format!(
                "chaos seed {seed}, rule {}, +{:.3}s",
                index + 1,
                offset.as_secs_f64()
            );
            if let Some(undo) = pending.take()
                && let Err(error) = self.undo(undo, frame, &origin).await
            {
                break Err(error);
            }
            let undo = match self
                .chaos_fault(&rule.action, &mut rng, frame, &origin)
                .await
            {
                Ok(undo) => undo,
                Err(error) => break Err(error),
            };
            match (rule.hold, undo) {
                (Some(hold), Some(undo)) => {
                    offset += hold.as_std();
                    let until = (start + offset).min(end);
                    let slept = self.sleep_until(until).await;
                    let origin = format!(
                        "chaos seed {seed}, rule {}, +{:.3}s",
                        index + 1,
                        (until - start).as_secs_f64()
                    );
                    if let Err(error) = self.undo(undo, frame, &origin).await {
                        break Err(error);
                    }
                    if let Err(error) = slept {
                        break Err(error);
                    }
                }
                (_, undo) => pending = undo,
            }
        };
        if let Some(undo) = pending {
            let origin = format!("chaos seed {seed}, rule {}, end", index + 1);
            let healed = self.undo(undo, frame, &origin).await;
            return super::interp::worst(result, healed);
        }
        result
    }

    /// Applies one chaos fault; returns how to undo it.
    async fn chaos_fault(
        &self,
        action: &ChaosAction,
        rng: &mut Rng,
        frame: &Frame,
        origin: &str,
    ) -> Result<Option<Undo>, StmtError> {
        let faults = self.fault_control()?;
        match action {
            ChaosAction::Pick(pick) => {
                let target = pick.targets[rng.below(pick.targets.len())].clone();
                let action = match pick.verb {
                    ChaosVerb::Isolate => {
                        self.fault(&StmtKind::Isolate(target.clone()), frame, origin)
                            .await?;
                        return Ok(Some(Undo::Isolation(target)));
                    }
                    ChaosVerb::Kill => ProcessAction::Kill,
                    ChaosVerb::Stop => ProcessAction::Stop,
                    ChaosVerb::Restart => ProcessAction::Restart,
                    ChaosVerb::Pause => ProcessAction::Pause,
                };
                self.process(
                    faults,
                    action,
                    (pick.database, false),
                    &target,
                    frame,
                    origin,
                )
                .await?;
                Ok(undo_of_process(action, pick.database, target))
            }
            ChaosAction::Fault(kind) => {
                self.fault(kind, frame, origin).await?;
                Ok(match kind.as_ref() {
                    StmtKind::Partition(cut) => Some(Undo::Stmt(StmtKind::Heal(Some(cut.clone())))),
                    StmtKind::Isolate(target) => Some(Undo::Isolation(target.clone())),
                    StmtKind::Impair { link, .. } => {
                        Some(Undo::Stmt(StmtKind::Restore(Some(link.clone()))))
                    }
                    // The database process alone comes back by itself (its Patroni restarts it).
                    StmtKind::Process {
                        only_process: Some(_),
                        ..
                    } => None,
                    StmtKind::Process {
                        action,
                        database,
                        target,
                        ..
                    } => undo_of_process(*action, *database, target.clone()),
                    _ => None,
                })
            }
        }
    }

    async fn undo(&self, undo: Undo, frame: &Frame, origin: &str) -> StmtResult {
        // Healing must happen even when the case is being cancelled.
        match undo {
            Undo::Process(action, database, target) => {
                let faults = self.fault_control()?;
                self.process(faults, action, (database, false), &target, frame, origin)
                    .await
            }
            Undo::Stmt(kind) => self.fault(&kind, frame, origin).await,
            Undo::Isolation(target) => self.unisolate(&target, frame, origin).await,
        }
    }

    async fn sleep_until(&self, at: Instant) -> StmtResult {
        let cancel = self.cancel();
        tokio::select! {
            _ = cancel.cancelled() => Err(StmtError::Interrupted),
            _ = tokio::time::sleep_until(at) => Ok(()),
        }
    }
}

fn undo_of_process(action: ProcessAction, database: bool, target: Name) -> Option<Undo> {
    match action {
        ProcessAction::Kill | ProcessAction::Stop => {
            Some(Undo::Process(ProcessAction::Start, database, target))
        }
        ProcessAction::Pause => Some(Undo::Process(ProcessAction::Resume, database, target)),
        ProcessAction::Start | ProcessAction::Restart | ProcessAction::Resume => None,
    }
}
