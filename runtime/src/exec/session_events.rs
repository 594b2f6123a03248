//! Expectations on a user's connection itself: `expect alice resumed`, `expect alice
//! reconnected` (stream management got the connection back: the same session, or a new one),
//! `expect alice disconnected [with "condition"]` (the stream ended, as a case that tampers with
//! it or breaks a policy expects).

use std::time::{Duration, Instant};

use jspec_lang::ast::SessionEvent;

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail, fail_observed};
use crate::xmpp::{Arrival, Received, StreamEnd, Verdict, Waited};

impl CaseContext<'_> {
    pub(crate) async fn expect_session(
        &self,
        user: &str,
        event: &SessionEvent,
        within: Duration,
        frame: &Frame,
    ) -> StmtResult {
        let session = self.connected(user)?;
        let window = crate::env::format_duration(within);
        let deadline = Instant::now() + within;
        let wants_return = matches!(event, SessionEvent::Resumed | SessionEvent::Reconnected);
        if matches!(event, SessionEvent::Resumed) && !session.stream_managed() {
            return Err(fail(format!(
                "{user}'s session has no stream management, so it cannot resume (the server did \
                 not offer it): `connect {user} with stream-management` requires it"
            )));
        }
        let resumed = matches!(event, SessionEvent::Resumed);
        let decide = |r: &Received| match (&r.arrival, event) {
            (Arrival::Resumed, SessionEvent::Resumed)
            | (Arrival::Reconnected(_), SessionEvent::Reconnected)
            | (Arrival::Lost(_), SessionEvent::Disconnected(_)) => Verdict::Take,
            (Arrival::Resumed | Arrival::Reconnected(_), _) if wants_return => Verdict::Stop,
            _ => Verdict::Skip,
        };
        let waited = session
            .inbox()
            .next(0, decide, deadline, &self.cancel())
            .await;
        let expected = match event {
            SessionEvent::Resumed => "the session resumed".to_string(),
            SessionEvent::Reconnected => "a new session after the connection came back".to_string(),
            SessionEvent::Disconnected(None) => "the connection ended".to_string(),
            SessionEvent::Disconnected(Some(condition)) => {
                format!(
                    "the stream ended with \"{}\"",
                    self.interpolate(condition, frame).map_err(fail)?
                )
            }
        };
        match (waited, event) {
            (Waited::Cancelled, _) => Err(StmtError::Interrupted),
            (Waited::Taken(_), SessionEvent::Resumed | SessionEvent::Reconnected) => Ok(()),
            (
                Waited::Taken(found) | Waited::Ended(found),
                SessionEvent::Disconnected(condition),
            ) => {
                let Some(condition) = condition else {
                    return Ok(());
                };
                let wanted = self.interpolate(condition, frame).map_err(fail)?;
                let end = match &found.arrival {
                    Arrival::Lost(end) | Arrival::Ended(end) => end.clone(),
                    _ => StreamEnd::Broken("unknown".into()),
                };
                match &end {
                    StreamEnd::ServerError(text)
                        if text.split(':').next().map(str::trim) == Some(wanted.as_str()) =>
                    {
                        Ok(())
                    }
                    other => Err(fail_observed(
                        format!("{user}'s connection ended, but not with \"{wanted}\": {other}"),
                        expected,
                        other.to_string(),
                    )),
                }
            }
            (Waited::Stopped(found), _) => {
                let got = match &found.arrival {
                    Arrival::Reconnected(why) => format!("a new session ({why})"),
                    _ => "the same session, resumed".to_string(),
                };
                let wanted = if resumed { "resumed" } else { "a new session" };
                Err(fail_observed(
                    format!("{user}'s connection came back with {got}, not {wanted}"),
                    expected,
                    got,
                ))
            }
            (Waited::Ended(end), _) => {
                let how = match &end.arrival {
                    Arrival::Ended(how) => how.to_string(),
                    _ => "ended".to_string(),
                };
                Err(fail_observed(
                    format!("{user}'s session ended instead: {how}"),
                    expected,
                    format!("ended: {how}"),
                ))
            }
            (Waited::TimedOut, SessionEvent::Disconnected(_)) => Err(fail_observed(
                format!("{user} was still connected after {window}"),
                expected,
                "connected",
            )),
            (Waited::TimedOut, _) => {
                let lost = session
                    .inbox()
                    .snapshot()
                    .iter()
                    .any(|r| matches!(r.arrival, Arrival::Lost(_)));
                let state = match lost {
                    true => "the connection was lost and has not come back",
                    false => "the connection was never lost",
                };
                Err(fail_observed(
                    format!("{user}'s session did not come back within {window}: {state}"),
                    expected,
                    state,
                ))
            }
        }
    }
}

/// How the session's connection was lost, when it has not come back yet.
pub(crate) fn reconnecting(inbox: &crate::xmpp::Inbox) -> Option<String> {
    let snapshot = inbox.snapshot();
    let last = snapshot.iter().rev().find(|r| {
        matches!(
            r.arrival,
            Arrival::Lost(_) | Arrival::Resumed | Arrival::Reconnected(_)
        )
    })?;
    match &last.arrival {
        Arrival::Lost(how) => Some(how.to_string()),
        _ => None,
    }
}
