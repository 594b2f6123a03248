//! `skew clock of SERVER by 3s` and `restore clock of SERVER`: a managed server's wall clock
//! moved with libfaketime (lab/clock.rs). Every skew is undone after the case, with the other
//! faults.

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, harness};
use jspec_lang::ast::Name;

impl CaseContext<'_> {
    /// Moves `target`'s clock by `offset_millis` (negative: behind), or back to real time.
    pub(crate) async fn set_clock(
        &self,
        target: &Name,
        offset_millis: Option<f64>,
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
        lab.set_clock(&role, offset_millis)
            .await
            .map_err(|e| match e {
                crate::lab::LabError::NoFaketime => StmtError::Blocked(e.to_string()),
                other => harness(format!(
                    "the lab could not move the clock of {role}: {other}"
                )),
            })?;
        match offset_millis {
            Some(millis) => self.trace_fault(
                "skew clock",
                &format!("{role} by {}", signed(millis)),
                origin,
            ),
            None => self.trace_fault("restore clock", &role, origin),
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
