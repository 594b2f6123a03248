//! Runs statements: the dispatch of every statement, messages, waits, repeats, parallel
//! branches and procedure calls. Sessions are in `session.rs`, rooms in `room.rs`,
//! expectations in `expect.rs`. Every wait is bounded by a deadline and the case's
//! cancellation token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jspec_lang::ast::{Argument, Block, Name, Stmt, StmtKind, Str};
use minidom::Element;
use minidom::rxml::xml_ncname;

use super::context::{Bound, CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail, location};
use crate::event::RunEvent;

pub(crate) const NS_CLIENT: &str = "jabber:client";
pub(crate) const NS_MUC: &str = "http://jabber.org/protocol/muc";

type Boxed<'a> = Pin<Box<dyn Future<Output = StmtResult> + Send + 'a>>;

impl CaseContext<'_> {
    /// Runs a block's statements in order; the first that does not pass ends the block.
    pub(crate) fn block<'a>(&'a self, block: &'a Block, frame: &'a Frame) -> Boxed<'a> {
        Box::pin(async move {
            for stmt in &block.stmts {
                self.stmt(stmt, frame).await?;
            }
            Ok(())
        })
    }

    pub(crate) fn stmt<'a>(&'a self, stmt: &'a Stmt, frame: &'a Frame) -> Boxed<'a> {
        Box::pin(async move {
            if self.cancel().is_cancelled() {
                return Err(StmtError::Interrupted);
            }
            // Only the case's own statements are events; a procedure call is one.
            let top_line = frame.calls.is_empty().then(|| {
                let source = self.program.sources.get(frame.file);
                let (line, _) = source.line_col(stmt.span.start);
                let text = source
                    .slice(stmt.span)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                self.emit(RunEvent::Action {
                    case: self.case.clone(),
                    line,
                    text,
                    at: self.started.elapsed(),
                });
                line
            });
            let result = self.stmt_kind(stmt, frame).await;
            if let Some(line) = top_line {
                self.emit(RunEvent::ActionFinished {
                    case: self.case.clone(),
                    line,
                    at: self.started.elapsed(),
                    status: statement_status(&result),
                });
            }
            match result {
                Err(StmtError::Failed(mut failed)) => {
                    if failed.at.is_none() {
                        failed.at = Some(location(frame, stmt.span));
                    }
                    Err(StmtError::Failed(failed))
                }
                other => other,
            }
        })
    }

    fn stmt_kind<'a>(&'a self, stmt: &'a Stmt, frame: &'a Frame) -> Boxed<'a> {
        Box::pin(async move {
            match &stmt.kind {
                StmtKind::Connect { user, options } => self
                    .connect(&frame.name(&user.text), options, None)
                    .await
                    .map(drop),
                StmtKind::Disconnect { user, abrupt } => {
                    self.disconnect(&frame.name(&user.text), *abrupt, frame)
                        .await
                }
                StmtKind::Join(join) => {
                    if join.via.is_some() {
                        return Err(StmtError::Blocked(
                            "`join ... via` joins a federated room mirror (FMUC, XEP-0289), which the lab's servers do not offer".into(),
                        ));
                    }
                    let user = frame.name(&join.user.text);
                    let nick = match &join.nick {
                        Some(nick) => self.interpolate(nick, frame).map_err(fail)?,
                        None => user.clone(),
                    };
                    self.join(&user, &frame.name(&join.room.text), &nick).await
                }
                StmtKind::Leave { user, room } => {
                    self.leave(&frame.name(&user.text), &frame.name(&room.text))
                        .await
                }
                StmtKind::Send { body, from, to } => {
                    let body = self.interpolate(body, frame).map_err(fail)?;
                    self.send_message(&frame.name(&from.text), &frame.name(&to.text), &body)
                        .await
                }
                StmtKind::SendRaw { from, xml } => {
                    self.send_raw(&frame.name(&from.text), xml, frame).await
                }
                StmtKind::Wait(duration) => self.sleep(duration.as_std()).await,
                StmtKind::ExpectReceives(expect) => self.expect_receives(expect, frame).await,
                StmtKind::ExpectConnectFails(expect) => {
                    self.expect_connect_fails(expect, frame).await
                }
                StmtKind::ExpectArchive(expect) => self.expect_archive(expect, frame).await,
                StmtKind::Repeat { count, every, body } => {
                    for round in 1..=count.value {
                        let mut inner = frame.clone();
                        inner.rounds.push(round);
                        self.block(body, &inner).await?;
                        if let Some(every) = every
                            && round < count.value
                        {
                            self.sleep(every.as_std()).await?;
                        }
                    }
                    Ok(())
                }
                StmtKind::Parallel(block) => {
                    let branches = block.stmts.iter().map(|s| self.stmt(s, frame));
                    let results = futures_util::future::join_all(branches).await;
                    // The worst outcome wins: interrupted, then failed, then blocked.
                    let mut outcome = Ok(());
                    for result in results {
                        outcome = worst(outcome, result);
                    }
                    outcome
                }
                StmtKind::Call { name, args } => self.call(name, args, stmt, frame).await,
                StmtKind::ExpectLink(link) => self.expect_link(link, frame).await,
                StmtKind::SetCertificate { target, state, .. } => {
                    self.set_certificate(&frame.name(&target.text), *state)
                        .await
                }
                StmtKind::RevokeCertificate { target } => {
                    self.revoke_certificate(&frame.name(&target.text)).await
                }
                StmtKind::SetTicket { user, state } => {
                    self.set_ticket(&frame.name(&user.text), *state).await
                }
                StmtKind::SkewClock {
                    target,
                    offset_millis,
                    ..
                } => {
                    let origin = format!("line {}", self.line_of(stmt, frame));
                    self.set_clock(target, Some(*offset_millis), frame, &origin)
                        .await
                }
                StmtKind::RestoreClock { target } => {
                    let origin = format!("line {}", self.line_of(stmt, frame));
                    self.set_clock(target, None, frame, &origin).await
                }
                StmtKind::SetClock { target, at } => {
                    let origin = format!("line {}", self.line_of(stmt, frame));
                    self.stop_clock(target, at, frame, &origin).await
                }
                StmtKind::ExpectSession {
                    user,
                    event,
                    within,
                } => {
                    let within = within.map_or(self.default_timeout, |d| d.as_std());
                    self.expect_session(&frame.name(&user.text), event, within, frame)
                        .await
                }
                StmtKind::ExpectCluster {
                    cluster,
                    expected,
                    within,
                } => {
                    let within = within.map_or(self.default_timeout, |d| d.as_std());
                    self.expect_cluster(cluster, expected, within, frame).await
                }
                StmtKind::ExpectDatabase {
                    database,
                    expected,
                    within,
                } => {
                    let within = within.map_or(self.default_timeout, |d| d.as_std());
                    self.expect_database(database, expected, within, frame)
                        .await
                }
                StmtKind::SwitchDatabase { database, to } => {
                    let origin = format!("line {}", self.line_of(stmt, frame));
                    self.switch_database(database, to, frame, &origin).await
                }
                StmtKind::Chaos(chaos) => self.chaos(chaos, frame, self.line_of(stmt, frame)).await,
                StmtKind::CheckDelivery { room, properties } => {
                    let properties: Vec<_> = properties.iter().map(|(p, _)| *p).collect();
                    self.check_delivery(&frame.name(&room.text), &properties)
                        .await
                }
                // The faults on links and processes (named, so that a new statement must get
                // an arm of its own or be added here).
                fault @ (StmtKind::Partition(_)
                | StmtKind::Isolate(_)
                | StmtKind::Heal(_)
                | StmtKind::Impair { .. }
                | StmtKind::Flood { .. }
                | StmtKind::Restore(_)
                | StmtKind::Process { .. }) => {
                    let origin = format!("line {}", self.line_of(stmt, frame));
                    self.fault(fault, frame, &origin).await
                }
            }
        })
    }

    /// The line of `stmt` in its file (the call site's, inside a procedure).
    fn line_of(&self, stmt: &Stmt, frame: &Frame) -> usize {
        let (file, span) = frame
            .calls
            .first()
            .map_or((frame.file, stmt.span), |(file, span, _)| (*file, *span));
        self.program.sources.get(file).line_col(span.start).0
    }

    /// Sleeps, unless the case is cancelled first.
    pub(crate) async fn sleep(&self, duration: Duration) -> StmtResult {
        let cancel = self.cancel();
        tokio::select! {
            _ = cancel.cancelled() => Err(StmtError::Interrupted),
            _ = tokio::time::sleep(duration) => Ok(()),
        }
    }

    async fn send_message(&self, from: &str, to: &str, body: &str) -> StmtResult {
        let session = self.connected(from)?;
        let (target, kind) = match (self.scope.rooms.get(to), self.scope.user(to)) {
            (Some(room), _) => (room.jid.clone(), "groupchat"),
            // To a further session (`juliet/phone`): its full JID.
            (None, Some(_)) if to.contains('/') => (self.full_jid(to)?, "chat"),
            (None, Some(user)) => (user.jid(), "chat"),
            (None, None) => return Err(fail(format!("no user or room `{to}` in this case"))),
        };
        let message = Element::builder("message", NS_CLIENT)
            .attr(xml_ncname!("to").into(), target.as_str())
            .attr(xml_ncname!("type").into(), kind)
            .attr(xml_ncname!("id").into(), self.next_id().as_str())
            .append(Element::builder("body", NS_CLIENT).append(body).build())
            .build();
        self.record_sent(to, kind == "groupchat", from, body);
        session
            .send(message)
            .await
            .map_err(|e| fail(format!("{from} could not send: {e}")))
    }

    async fn send_raw(&self, from: &str, xml: &Str, frame: &Frame) -> StmtResult {
        let session = self.connected(from)?;
        let text = self.interpolate_xml(xml, frame).map_err(fail)?;
        session
            .send_raw(&text)
            .await
            .map_err(|e| fail(format!("{from} could not send the stanza: {e}")))
    }

    /// Expands a procedure call: binds the arguments and runs the body in the caller's case.
    async fn call(&self, name: &Name, args: &[Argument], stmt: &Stmt, frame: &Frame) -> StmtResult {
        let Some((file, procedure)) = self.procedures.get(name.text.as_str()).copied() else {
            return Err(fail(format!("no procedure named `{}`", name.text)));
        };
        let mut params = HashMap::new();
        for (param, arg) in procedure.params.iter().zip(args) {
            let bound = match arg {
                Argument::Name(n) => Bound::Name(frame.name(&n.text)),
                Argument::Str(s) => Bound::Text(self.interpolate(s, frame).map_err(fail)?),
            };
            params.insert(param.text.clone(), bound);
        }
        let mut calls = frame.calls.clone();
        calls.push((frame.file, stmt.span, name.text.clone()));
        let inner = Frame {
            file,
            params,
            calls,
            rounds: frame.rounds.clone(),
            teardown: frame.teardown,
        };
        self.block(&procedure.body, &inner).await
    }
}

pub(crate) fn worst(a: StmtResult, b: StmtResult) -> StmtResult {
    let rank = |r: &StmtResult| match r {
        Ok(()) => 0,
        Err(StmtError::Blocked(_)) => 1,
        Err(StmtError::Failed(_)) => 2,
        Err(StmtError::Interrupted) => 3,
    };
    if rank(&b) > rank(&a) { b } else { a }
}

/// A statement's outcome as a status for the event stream.
fn statement_status(result: &StmtResult) -> crate::event::Status {
    use crate::event::{FailureKind, Status};
    match result {
        Ok(()) => Status::Passed,
        Err(StmtError::Failed(failed)) if failed.kind == FailureKind::Harness => Status::Error,
        Err(StmtError::Failed(_)) => Status::Failed,
        Err(StmtError::Blocked(_)) => Status::Blocked,
        Err(StmtError::Interrupted) => Status::Retest,
    }
}
