//! `skew clock of SERVER by 3s`, `set clock of SERVER to "2008-08-22T21:09:04Z"` and `restore
//! clock of SERVER`: a managed server's wall clock moved or stopped with libfaketime
//! (lab/clock.rs). Every move is undone after the case, with the other faults.

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail, harness};
use crate::lab::clock::ClockMove;
use jspec_lang::ast::{Name, Str};

impl CaseContext<'_> {
    /// Moves `target`'s clock by `offset_millis` (negative: behind), or back to real time.
    pub(crate) async fn set_clock(
        &self,
        target: &Name,
        offset_millis: Option<f64>,
        frame: &Frame,
        origin: &str,
    ) -> StmtResult {
        self.move_clock(target, ClockMove::offset(offset_millis), frame, origin)
            .await
    }

    /// `set clock of a to "..."`: the clock stands still at that time until restored.
    pub(crate) async fn stop_clock(
        &self,
        target: &Name,
        at: &Str,
        frame: &Frame,
        origin: &str,
    ) -> StmtResult {
        let text = self.interpolate(at, frame).map_err(fail)?;
        let at = time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .map_err(|e| fail(format!("\"{text}\" is not a date and time: {e}")))?;
        self.move_clock(target, ClockMove::StandAt(at), frame, origin)
            .await
    }

    async fn move_clock(
        &self,
        target: &Name,
        movement: ClockMove,
        frame: &Frame,
        origin: &str,
    ) -> StmtResult {
        let role = frame.name(&target.text);
        let Some(lab) = self
            .lab
            .as_ref()
            .filter(|lab| lab.manages(&role) || lab.cluster_of_node(&role).is_some())
        else {
            return Err(StmtError::Blocked(format!(
                "the clock of `{role}` can only be moved on a server the local lab runs (with \
                 libfaketime); against an external server, set its clock out of band and say so \
                 in the case's preconditions"
            )));
        };
        lab.move_clock(&role, movement).await.map_err(|e| match e {
            crate::lab::LabError::NoFaketime => StmtError::Blocked(e.to_string()),
            other => harness(format!(
                "the lab could not move the clock of {role}: {other}"
            )),
        })?;
        match movement {
            ClockMove::By(millis) => self.trace_fault(
                "skew clock",
                &format!("{role} by {}", signed(millis)),
                origin,
            ),
            ClockMove::StandAt(at) => {
                self.trace_fault("set clock", &format!("{role} to {at}"), origin)
            }
            ClockMove::Restore => self.trace_fault("restore clock", &role, origin),
        }
        Ok(())
    }
}

/// `+3s`, `-1.5s`.
fn signed(millis: f64) -> String {
    let sign = if millis < 0.0 { '-' } else { '+' };
    format!(
        "{sign}{}",
        crate::env::format_duration(std::time::Duration::from_secs_f64(millis.abs() / 1000.0))
    )
}
