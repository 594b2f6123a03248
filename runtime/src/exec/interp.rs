//! Runs statements: sessions, rooms, messages, waits, repeats, parallel branches and procedure
//! calls. Expectations are in `expect.rs`. Every wait is bounded by a deadline and the case's
//! cancellation token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jspec_lang::ast::{
    Argument, AuthMechanism as Auth, Block, ConnectOptions, Name, Stmt, StmtKind, Str,
    TlsMode as Tls,
};
use minidom::Element;
use minidom::rxml::xml_ncname;

use super::context::{Bound, CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail, harness, location};
use crate::event::RunEvent;
use crate::xmpp::{
    AuthMechanism, ConnectConfig, ConnectError, Jid, Session, TlsMode, Verdict, Waited,
};

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
            if frame.calls.is_empty() {
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
                });
            }
            let result = self.stmt_kind(stmt, frame).await;
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
                StmtKind::Join {
                    user,
                    room,
                    nick,
                    via,
                } => {
                    if via.is_some() {
                        return Err(StmtError::Blocked(
                            "`join ... via` joins a federated room mirror (FMUC, XEP-0289), which the lab's servers do not offer".into(),
                        ));
                    }
                    let nick = match nick {
                        Some(nick) => self.interpolate(nick, frame).map_err(fail)?,
                        None => frame.name(&user.text),
                    };
                    self.join(&frame.name(&user.text), &frame.name(&room.text), &nick)
                        .await
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
                StmtKind::ExpectConnectFails {
                    user,
                    options,
                    reason,
                    within,
                } => {
                    let reason = self.interpolate(reason, frame).map_err(fail)?;
                    self.expect_connect_fails(
                        &frame.name(&user.text),
                        options,
                        &reason,
                        within.map(|d| d.as_std()),
                    )
                    .await
                }
                StmtKind::ExpectArchive {
                    archive,
                    reader,
                    count,
                    in_order,
                    within,
                } => {
                    let deadline = within.map_or(self.default_timeout, |d| d.as_std());
                    self.expect_archive(
                        &frame.name(&archive.text),
                        &frame.name(&reader.text),
                        count.value,
                        *in_order,
                        deadline,
                    )
                    .await
                }
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
                StmtKind::ExpectLink {
                    from,
                    to,
                    auth,
                    transport,
                    within,
                } => {
                    let within = within.map_or(self.default_timeout, |d| d.as_std());
                    self.expect_link(
                        &frame.name(&from.text),
                        &frame.name(&to.text),
                        auth.map(|(a, _)| a),
                        transport.map(|(t, _)| t),
                        within,
                    )
                    .await
                }
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
                StmtKind::Partition(_)
                | StmtKind::Isolate(_)
                | StmtKind::Heal(_)
                | StmtKind::Impair { .. }
                | StmtKind::Restore(_)
                | StmtKind::Process { .. } => {
                    let origin = format!("line {}", self.line_of(stmt, frame));
                    self.fault(&stmt.kind, frame, &origin).await
                }
                StmtKind::Chaos(chaos) => self.chaos(chaos, frame, self.line_of(stmt, frame)).await,
                StmtKind::CheckDelivery { room, properties } => {
                    let properties: Vec<_> = properties.iter().map(|(p, _)| *p).collect();
                    self.check_delivery(&frame.name(&room.text), &properties)
                        .await
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

    /// Opens a session for `user`; `Err` of the inner result is the connect failure itself
    /// (for `expect connect ... fails`).
    pub(crate) async fn connect(
        &self,
        user: &str,
        options: &ConnectOptions,
        timeout: Option<Duration>,
    ) -> Result<Result<(), ConnectError>, StmtError> {
        let mut config = self.connect_config(user, options, timeout)?;
        if config.auth == AuthMechanism::Gssapi {
            config.kerberos = self.kerberos_login(user).await?;
        }
        if let Some(faults) = &self.faults {
            let role = self
                .scope
                .users
                .get(user)
                .map(|u| u.server.clone())
                .unwrap_or_default();
            let (route, bind) = faults
                .client_route(user, &role, config.addr)
                .await
                .map_err(super::faults::fault_error)?;
            config.route = Some(route);
            config.bind = bind;
        }
        let attempt = Session::connect(config, self.cancel().child_token()).await;
        if self.cancel().is_cancelled() {
            return Err(StmtError::Interrupted);
        }
        match attempt {
            Ok(session) => {
                let session = Arc::new(session);
                let cursor = session.inbox().cursor();
                session
                    .send_initial_presence()
                    .await
                    .map_err(|e| fail(format!("{user} could not send presence: {e}")))?;
                // Online once the server echoes the presence back: until then, messages to the
                // user would be stored offline and arrive later, delayed. The echo is the
                // statement's own: consumed, no expectation sees it.
                let own = Jid::from(session.jid().clone());
                let echo = |s: &Element| {
                    s.name() == "presence"
                        && s.attr("type").is_none()
                        && s.attr("from").and_then(|f| f.parse::<Jid>().ok()).as_ref() == Some(&own)
                };
                if self.take(&session, cursor, echo).await?.is_none() {
                    return Err(fail(format!(
                        "{user} connected, but the server did not confirm the presence within {}",
                        crate::env::format_duration(self.default_timeout)
                    )));
                }
                if let Some(old) = self.take_session(user) {
                    old.abort().await;
                }
                self.set_session(user, session);
                Ok(Ok(()))
            }
            Err(error) if timeout.is_some() => Ok(Err(error)),
            Err(error) => Err(fail(format!("{user} could not connect: {error}"))),
        }
    }

    fn connect_config(
        &self,
        user: &str,
        options: &ConnectOptions,
        timeout: Option<Duration>,
    ) -> Result<ConnectConfig, StmtError> {
        let info = self
            .scope
            .users
            .get(user)
            .ok_or_else(|| fail(format!("no user `{user}` in this case")))?;
        let server = self
            .scope
            .servers
            .get(&info.server)
            .ok_or_else(|| harness(format!("no server `{}` in the lab", info.server)))?;
        let tls = match options.tls.map(|(mode, _)| mode) {
            None | Some(Tls::StartTls) => TlsMode::StartTls,
            Some(Tls::DirectTls) => TlsMode::DirectTls,
        };
        let auth = match options.auth.map(|(auth, _)| auth) {
            None | Some(Auth::Scram) => AuthMechanism::Scram,
            Some(Auth::Plain) => AuthMechanism::Plain,
            Some(Auth::External) => AuthMechanism::External,
            // The ticket comes from the lab KDC (see `connect`) or, for an external server,
            // from the environment's credential cache (KRB5CCNAME).
            Some(Auth::Gssapi) => AuthMechanism::Gssapi,
        };
        if options.node.is_some() {
            return Err(StmtError::Blocked(
                "`connect ... to NODE` needs a clustered server, which the local lab does not run"
                    .into(),
            ));
        }
        let addr = match tls {
            TlsMode::StartTls => server.c2s,
            TlsMode::DirectTls => server.c2s_direct_tls,
        };
        let mut config = ConnectConfig::new(
            addr,
            info.domain.clone(),
            info.localpart.clone(),
            info.password.clone(),
            self.trust.clone(),
        );
        config.tls = tls;
        config.auth = auth;
        if let Some(lab) = self
            .lab
            .as_ref()
            .filter(|lab| lab.server(&info.server).is_some())
        {
            // The lab's clients check revocation as a careful client would: the CRL in the
            // handshake, then OCSP.
            config.crls = lab.crls();
            config.ocsp = Some(lab.ocsp_check());
            // A plain `connect` still reaches a server whose certificate the case broke on
            // purpose (to test the servers); `expect connect ... fails` checks strictly.
            if timeout.is_none() {
                config.accept_certificate = lab.deliberate_certificate(&info.server);
            }
            if auth == AuthMechanism::External {
                let issued = lab
                    .user_certificate(&info.jid())
                    .map_err(|e| harness(format!("no client certificate for {user}: {e}")))?;
                config.client_certificate = Some(crate::xmpp::ClientCertificate {
                    cert_pem: issued.cert_pem,
                    key_pem: issued.key_pem,
                });
            }
        }
        config.resource = "jspec".to_string();
        config.timeout = timeout.unwrap_or(self.default_timeout);
        config.mutation = self.mutation;
        config.limits = self.limits;
        Ok(config)
    }

    /// Ends a session. In teardown, a user who is not connected (never was, or a failed step
    /// left early) is fine: teardown only cleans up.
    async fn disconnect(&self, user: &str, abrupt: bool, frame: &Frame) -> StmtResult {
        let Some(session) = self.take_session(user) else {
            if frame.teardown {
                return Ok(());
            }
            return Err(fail(format!("{user} is not connected")));
        };
        if abrupt {
            session.abort().await;
        } else {
            session.close().await;
        }
        Ok(())
    }

    pub(crate) fn connected(&self, user: &str) -> Result<Arc<Session>, StmtError> {
        self.session(user).ok_or_else(|| {
            fail(format!(
                "{user} is not connected (add `connect {user}` before this line)"
            ))
        })
    }

    pub(crate) fn room_jid(&self, room: &str) -> Result<String, StmtError> {
        self.scope
            .rooms
            .get(room)
            .map(|r| r.jid.clone())
            .ok_or_else(|| fail(format!("no room `{room}` in this case")))
    }

    /// Joins a room (XEP-0045 7.2): the room answers with the user's own presence (or an
    /// error), then the history, then the subject, which ends the join. The own presence and the
    /// subject are consumed; the history stays for `expect ... receives delayed`.
    async fn join(&self, user: &str, room: &str, nick: &str) -> StmtResult {
        let session = self.connected(user)?;
        let occupant = format!("{}/{nick}", self.room_jid(room)?);
        let occupant_jid: Option<Jid> = occupant.parse().ok();
        let cursor = session.inbox().cursor();
        let presence = Element::builder("presence", NS_CLIENT)
            .attr(xml_ncname!("to").into(), occupant.as_str())
            .append(Element::builder("x", NS_MUC).build())
            .build();
        session
            .send(presence)
            .await
            .map_err(|e| fail(format!("{user} could not send the join: {e}")))?;
        let own = |s: &Element| {
            s.name() == "presence"
                && s.attr("from").and_then(|f| f.parse::<Jid>().ok()) == occupant_jid
        };
        let answer = self.take(&session, cursor, own).await?;
        match answer.as_ref().and_then(|r| r.stanza()) {
            Some(presence) if presence.attr("type") == Some("error") => {
                return Err(fail(format!(
                    "{user} could not join {room} as \"{nick}\": {}",
                    error_condition(presence)
                )));
            }
            Some(_) => {}
            None => {
                return Err(fail(format!(
                    "{user} got no answer from {room} within {} when joining",
                    crate::env::format_duration(self.default_timeout)
                )));
            }
        }
        let speaker = self.peer(room)?;
        let subject = |s: &Element| {
            s.name() == "message"
                && speaker.said(s)
                && s.get_child("subject", NS_CLIENT).is_some()
                && s.get_child("body", NS_CLIENT).is_none()
        };
        if self.take(&session, cursor, subject).await?.is_none() {
            return Err(fail(format!(
                "{user} joined {room}, but the room did not send its subject within {}; the subject ends the join (XEP-0045 7.2.15)",
                crate::env::format_duration(self.default_timeout)
            )));
        }
        self.record_join(room, user);
        Ok(())
    }

    /// Takes (consumes) the first stanza after `cursor` that `wanted` accepts, waiting up to
    /// the default deadline; `None` when none came or the stream ended.
    pub(crate) async fn take(
        &self,
        session: &Session,
        cursor: u64,
        wanted: impl Fn(&Element) -> bool,
    ) -> Result<Option<crate::xmpp::Received>, StmtError> {
        let deadline = std::time::Instant::now() + self.default_timeout;
        let decide = |r: &crate::xmpp::Received| match r.stanza() {
            Some(s) if wanted(s) => Verdict::Take,
            _ => Verdict::Skip,
        };
        match session
            .inbox()
            .next(cursor, decide, deadline, &self.cancel())
            .await
        {
            Waited::Taken(found) => Ok(Some(found)),
            Waited::Cancelled => Err(StmtError::Interrupted),
            Waited::Stopped(_) | Waited::Ended(_) | Waited::TimedOut => Ok(None),
        }
    }

    async fn leave(&self, user: &str, room: &str) -> StmtResult {
        let session = self.connected(user)?;
        let presence = Element::builder("presence", NS_CLIENT)
            .attr(xml_ncname!("to").into(), self.room_jid(room)?.as_str())
            .attr(xml_ncname!("type").into(), "unavailable")
            .build();
        session
            .send(presence)
            .await
            .map_err(|e| fail(format!("{user} could not leave {room}: {e}")))?;
        self.record_leave(room, user);
        Ok(())
    }

    async fn send_message(&self, from: &str, to: &str, body: &str) -> StmtResult {
        let session = self.connected(from)?;
        let (target, kind) = match (self.scope.rooms.get(to), self.scope.users.get(to)) {
            (Some(room), _) => (room.jid.clone(), "groupchat"),
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

/// `item-not-found: text` from an error stanza.
pub(crate) fn error_condition(stanza: &Element) -> String {
    let Some(error) = stanza.children().find(|c| c.name() == "error") else {
        return "error".to_string();
    };
    let condition = error
        .children()
        .find(|c| c.name() != "text")
        .map_or("error".to_string(), |c| c.name().to_string());
    match error
        .children()
        .find(|c| c.name() == "text")
        .map(Element::text)
    {
        Some(text) if !text.is_empty() => format!("{condition}: {text}"),
        _ => condition,
    }
}
