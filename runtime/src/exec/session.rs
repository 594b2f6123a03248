//! Sessions: `connect` (with what the lab knows about certificates, Kerberos and fault
//! routes), `disconnect`, and taking the stanzas a statement itself waits for, so that no
//! expectation sees them again.

use std::sync::Arc;
use std::time::Duration;

use jspec_lang::ast::ConnectOptions;
use minidom::Element;

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail, harness};
use crate::xmpp::{
    AuthMechanism, ConnectConfig, ConnectError, Jid, Received, Session, TlsMode,
    UseStreamManagement, Verdict, Waited,
};

impl CaseContext<'_> {
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
            // The link's server end: the node the user connects to, for a cluster.
            let endpoint = self.server_endpoint(user, options);
            let (route, bind) = faults
                .client_route(user, &endpoint, config.addr)
                .await
                .map_err(super::faults::fault_error)?;
            config.route = Some(route);
            config.bind = bind;
        }
        // A new login replaces the user's session: the old one goes first, or its own
        // reconnection could bind the resource after this one and replace it.
        if timeout.is_none()
            && let Some(old) = self.take_session(user)
        {
            old.abort().await;
        }
        let attempt = Session::connect(config, self.cancel().child_token()).await;
        if self.cancel().is_cancelled() {
            return Err(StmtError::Interrupted);
        }
        match attempt {
            Ok(session) => {
                let session = Arc::new(session);
                if options.carbons.is_some() {
                    self.enable_carbons(user, &session).await?;
                }
                if options.without_presence.is_none() {
                    self.announce(user, &session).await?;
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

    /// The full JID of a connected session (`juliet`, `juliet/phone`).
    /// After `disconnect`, the last one it had (what others still see it as).
    pub(crate) fn full_jid(&self, session: &str) -> Result<String, StmtError> {
        self.bound_jid(session).ok_or_else(|| {
            fail(format!(
                "{session} has not connected yet: its full JID exists once `connect {session}` has bound its resource"
            ))
        })
    }

    /// Sends the initial presence and waits for its echo: online only then (until then,
    /// messages to the user would be stored offline and arrive later, delayed). The echo is the
    /// statement's own: consumed, no expectation sees it.
    async fn announce(&self, user: &str, session: &Session) -> StmtResult {
        let cursor = session.inbox().cursor();
        session
            .send_initial_presence()
            .await
            .map_err(|e| fail(format!("{user} could not send presence: {e}")))?;
        let own = Jid::from(session.jid().clone());
        let echo = |s: &Element| {
            s.name() == "presence"
                && s.attr("type").is_none()
                && s.attr("from").and_then(|f| f.parse::<Jid>().ok()).as_ref() == Some(&own)
        };
        match self.take(session, cursor, echo).await? {
            Some(_) => Ok(()),
            None => Err(fail(format!(
                "{user} connected, but the server did not confirm the presence within {}",
                crate::env::format_duration(self.default_timeout)
            ))),
        }
    }

    /// Turns message carbons on (XEP-0280), as a client with several devices does; the server
    /// must confirm.
    async fn enable_carbons(&self, user: &str, session: &Session) -> StmtResult {
        const ID: &str = "jspec-carbons";
        let cursor = session.inbox().cursor();
        session
            .send_raw(&format!(
                "<iq type='set' id='{ID}'><enable xmlns='urn:xmpp:carbons:2'/></iq>"
            ))
            .await
            .map_err(|e| fail(format!("{user} could not ask for carbons: {e}")))?;
        let answer = |s: &Element| s.name() == "iq" && s.attr("id") == Some(ID);
        match self.take(session, cursor, answer).await? {
            Some(found) if found.stanza().and_then(|s| s.attr("type")) == Some("result") => Ok(()),
            Some(found) => Err(fail(format!(
                "{user}'s server refused message carbons (XEP-0280): {}",
                found.stanza().map(String::from).unwrap_or_default()
            ))),
            None => Err(fail(format!(
                "{user}'s server did not answer the request for message carbons within {}",
                crate::env::format_duration(self.default_timeout)
            ))),
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
            .user(user)
            .ok_or_else(|| fail(format!("no user `{user}` in this case")))?;
        let server = self
            .scope
            .servers
            .get(&info.server)
            .ok_or_else(|| harness(format!("no server `{}` in the lab", info.server)))?;
        let tls = options.tls.map_or(TlsMode::StartTls, |(mode, _)| mode);
        // For GSSAPI the ticket comes from the lab KDC (see `connect`) or, for an external
        // server, from the environment's credential cache (KRB5CCNAME).
        let auth = options.auth.map_or(AuthMechanism::Scram, |(auth, _)| auth);
        let (c2s, c2s_direct_tls) = match &options.node {
            Some(node) => {
                let Some(found) = server.nodes.get(&node.text) else {
                    return Err(StmtError::Blocked(format!(
                        "`connect ... to {}`: the environment gives no address for node {} of \
                         server {}",
                        node.text, node.text, info.server
                    )));
                };
                (found.c2s, found.c2s_direct_tls)
            }
            None => (server.c2s, server.c2s_direct_tls),
        };
        let addr = match tls {
            TlsMode::StartTls => c2s,
            TlsMode::DirectTls => c2s_direct_tls,
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
        // `juliet/phone` binds resource `phone`; the default session, `jspec`.
        config.resource = jspec_lang::ast::session_parts(user)
            .1
            .unwrap_or("jspec")
            .to_string();
        // A session reconnects by itself when its connection is lost, with stream management
        // when the server offers it, as real clients do; `with stream-management` requires it.
        // A probe (`expect connect ... fails`) is a bare connection.
        if timeout.is_none() {
            config.reconnect = Some(crate::xmpp::Reconnect::default());
            config.stream_management = match options.stream_management {
                Some(_) => UseStreamManagement::Required,
                None => UseStreamManagement::IfOffered,
            };
        }
        config.timeout = timeout.unwrap_or(self.default_timeout);
        config.mutation = self.mutation;
        config.limits = self.limits;
        Ok(config)
    }

    /// Ends a session. In teardown, a user who is not connected (never was, or a failed step
    /// left early) is fine: teardown only cleans up.
    pub(crate) async fn disconnect(&self, user: &str, abrupt: bool, frame: &Frame) -> StmtResult {
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

    /// The server end of `user`'s link, as faults name it: the node a cluster user connects to
    /// (`to NODE`, else the first node), or the user's server.
    pub(crate) fn server_endpoint(&self, user: &str, options: &ConnectOptions) -> String {
        let role = self
            .scope
            .user(user)
            .map(|u| u.server.clone())
            .unwrap_or_default();
        if let Some(node) = &options.node {
            return node.text.clone();
        }
        self.scope
            .servers
            .get(&role)
            .and_then(|s| s.nodes.keys().next().cloned())
            .unwrap_or(role)
    }

    /// Takes (consumes) the first stanza after `cursor` that `wanted` accepts, waiting up to
    /// the default deadline; `None` when none came or the stream ended.
    pub(crate) async fn take(
        &self,
        session: &Session,
        cursor: u64,
        wanted: impl Fn(&Element) -> bool,
    ) -> Result<Option<Received>, StmtError> {
        let deadline = std::time::Instant::now() + self.default_timeout;
        let decide = |r: &Received| match r.stanza() {
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
}
