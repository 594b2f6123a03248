//! Certificate statements and `expect link`: what a case does to the lab's PKI and how it
//! observes the way server-to-server links authenticate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jspec_lang::ast::{
    Case, CaseEntryKind, CertificateState, ExpectLink, LinkAuth, TicketState, Transport,
};

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail, fail_expected, harness};
use crate::lab::prosody::S2S_DIRECT_TLS_PORT;
use crate::lab::{Lab, S2sAuth, S2sLink, ServerSettings};

/// How often `expect link` reads the server's links.
const LINK_POLL: Duration = Duration::from_millis(250);

/// The settings a case needs its managed servers to have, from what it `requires`.
pub(crate) fn case_settings(case: &Case) -> ServerSettings {
    let required: Vec<&str> = case
        .entries
        .iter()
        .filter_map(|entry| match &entry.kind {
            CaseEntryKind::Requires(names) => Some(names),
            _ => None,
        })
        .flatten()
        .map(|name| name.text.as_str())
        .collect();
    ServerSettings::for_requirements(required)
}

/// Whether a case changes the lab's PKI or needs servers configured otherwise than by default:
/// it then runs alone, and the lab is put back afterwards.
pub(crate) fn changes_security(
    case: &Case,
    procedures: &std::collections::HashMap<
        &str,
        (jspec_lang::span::SourceId, &jspec_lang::ast::Procedure),
    >,
) -> bool {
    case_settings(case) != ServerSettings::default()
        || super::faults::any_stmt(case, procedures, &|kind| {
            matches!(
                kind,
                jspec_lang::ast::StmtKind::SetCertificate { .. }
                    | jspec_lang::ast::StmtKind::RevokeCertificate { .. }
                    | jspec_lang::ast::StmtKind::SetTicket { .. }
            )
        })
}

fn needs_managed(what: &str, name: &str) -> StmtError {
    StmtError::Blocked(format!(
        "{what} needs {name} to be a server or user of the local lab, which issues its \
         certificates; for an external server, change them out of band and describe the \
         state in the case's preconditions"
    ))
}

fn needs_kdc(name: &str) -> StmtError {
    StmtError::Blocked(format!(
        "`set ticket` needs {name} to be a user of the local lab, whose KDC issues the \
         tickets; against an external realm, prepare the ticket out of band"
    ))
}

fn lab_error(error: crate::lab::LabError) -> StmtError {
    harness(format!("the lab could not do it: {error}"))
}

impl CaseContext<'_> {
    fn lab_for(&self, what: &str, name: &str) -> Result<&Arc<Lab>, StmtError> {
        self.lab.as_ref().ok_or_else(|| needs_managed(what, name))
    }

    /// `set certificate of X to STATE` for a server role or a user.
    pub(crate) async fn set_certificate(&self, name: &str, state: CertificateState) -> StmtResult {
        let what = "`set certificate`";
        let lab = self.lab_for(what, name)?;
        if let Some(user) = self.scope.users.get(name) {
            if lab.server(&user.server).is_none() {
                return Err(needs_managed(what, name));
            }
            return lab
                .set_user_certificate(&user.jid(), state)
                .await
                .map_err(lab_error);
        }
        if lab.server(name).is_none() {
            return Err(needs_managed(what, name));
        }
        lab.set_server_certificate(name, state)
            .await
            .map_err(lab_error)
    }

    /// `revoke certificate of X`: the CRL is published and checking servers reload.
    pub(crate) async fn revoke_certificate(&self, name: &str) -> StmtResult {
        let what = "`revoke certificate`";
        let lab = self.lab_for(what, name)?;
        if let Some(user) = self.scope.users.get(name) {
            if lab.server(&user.server).is_none() {
                return Err(needs_managed(what, name));
            }
            return lab
                .revoke_user_certificate(&user.jid())
                .await
                .map_err(lab_error);
        }
        if lab.server(name).is_none() {
            return Err(needs_managed(what, name));
        }
        lab.revoke_server_certificate(name).await.map_err(lab_error)
    }

    /// `set ticket of USER to valid | expired | none` (the lab KDC's tickets).
    pub(crate) async fn set_ticket(&self, name: &str, state: TicketState) -> StmtResult {
        let what = "`set ticket`";
        let lab = self.lab_for(what, name)?;
        let user = self
            .scope
            .user(name)
            .filter(|user| lab.server(&user.server).is_some())
            .ok_or_else(|| needs_kdc(name))?;
        lab.set_ticket(&user.localpart, &user.password, state)
            .await
            .map_err(lab_error)
    }

    /// The Kerberos settings of `name`'s GSSAPI login: a ticket from the lab KDC on a lab
    /// server; the environment's own credential cache on an external one.
    pub(crate) async fn kerberos_login(
        &self,
        name: &str,
    ) -> Result<crate::xmpp::KerberosConfig, StmtError> {
        let user = self
            .scope
            .user(name)
            .ok_or_else(|| fail(format!("no user `{name}` in this case")))?;
        match self
            .lab
            .as_ref()
            .filter(|lab| lab.server(&user.server).is_some())
        {
            Some(lab) => lab
                .kerberos_login(&user.localpart, &user.password)
                .await
                .map_err(|e| harness(format!("no Kerberos ticket for {name}: {e}"))),
            None => Ok(crate::xmpp::KerberosConfig::default()),
        }
    }

    /// `expect link a -> b authenticated by ... over ...`: reads a's server-to-server sessions
    /// until its link to b has authenticated (opening one with a ping if there is none), then
    /// compares.
    pub(crate) async fn expect_link(&self, expect: &ExpectLink, frame: &Frame) -> StmtResult {
        let (from, to) = (&frame.name(&expect.from.text), &frame.name(&expect.to.text));
        let auth = expect.auth.map(|(auth, _)| auth);
        let transport = expect.transport.map(|(transport, _)| transport);
        let within = expect.within.map_or(self.default_timeout, |d| d.as_std());
        let what = "`expect link`";
        let lab = self.lab_for(what, from)?;
        let domain = |role: &str| {
            lab.server(role)
                .map(|s| s.spec.domain.clone())
                .or_else(|| lab.cluster(role).map(|c| c.request.domain()))
        };
        // Prosody's admin shell shows the link: the sender's outgoing one, or (when the
        // sender is ejabberd, whose ejabberdctl does not say how a link authenticated) the
        // receiver's incoming one.
        let (server, outgoing, remote) =
            match (lab.server(from), lab.server(to), domain(from), domain(to)) {
                (Some(server), _, _, Some(remote)) => (server, true, remote),
                (None, Some(server), Some(remote), _) => (server, false, remote),
                _ => {
                    return Err(StmtError::Blocked(format!(
                        "{what} reads the links from Prosody's admin shell, so one end must be a \
                     Prosody of the local lab ({from} -> {to})"
                    )));
                }
            };
        let wanted = describe_wanted(auth, transport);
        let deadline = Instant::now() + within;
        let mut pinged = false;
        loop {
            let links = server
                .s2s_links()
                .await
                .map_err(|e| harness(format!("cannot read the links of {from}: {e}")))?;
            let seen: Vec<S2sLink> = links
                .into_iter()
                .filter(|l| l.outgoing == outgoing && l.remote == remote)
                .collect();
            if let Some(link) = seen.iter().find(|l| l.auth != S2sAuth::Pending) {
                let actual = describe_link(link);
                let auth_ok = auth.is_none_or(|a| link.auth == expected_auth(a));
                let transport_ok = transport.is_none_or(|t| over(link) == t);
                return if auth_ok && transport_ok {
                    Ok(())
                } else {
                    Err(fail_expected(
                        format!("link {from} -> {to} is {actual}, not {wanted}"),
                        wanted,
                        Some(actual),
                    ))
                };
            }
            // Only the sender can be asked to open a link.
            if seen.is_empty() && !pinged && outgoing {
                // No link yet: the server's own ping opens one, as a tester would from the
                // server's console. Awaited here (within the deadline), so nothing outlives
                // the case.
                pinged = true;
                let remaining = deadline.saturating_duration_since(Instant::now());
                let cancel = self.cancel();
                tokio::select! {
                    _ = cancel.cancelled() => return Err(StmtError::Interrupted),
                    _ = tokio::time::timeout(remaining, server.ping_remote(&remote)) => {}
                }
                continue;
            }
            if Instant::now() >= deadline {
                let actual = match seen.first() {
                    Some(link) => format!("{} (not authenticated yet)", describe_link(link)),
                    None => "no link".to_string(),
                };
                return Err(fail_expected(
                    format!(
                        "no authenticated link {from} -> {to} within {}s ({actual})",
                        within.as_secs()
                    ),
                    wanted,
                    Some(actual),
                ));
            }
            self.sleep(LINK_POLL).await?;
        }
    }
}

fn expected_auth(auth: LinkAuth) -> S2sAuth {
    match auth {
        LinkAuth::Certificate => S2sAuth::Certificate,
        LinkAuth::Dialback => S2sAuth::Dialback,
    }
}

/// Direct TLS links go to the peer's Direct TLS port (XEP-0368); the others start with
/// STARTTLS.
fn over(link: &S2sLink) -> Transport {
    match link.port {
        Some(S2S_DIRECT_TLS_PORT) => Transport::DirectTls,
        _ => Transport::StartTls,
    }
}

fn describe_wanted(auth: Option<LinkAuth>, transport: Option<Transport>) -> String {
    let mut text = String::from("authenticated");
    if let Some(auth) = auth {
        text.push_str(match auth {
            LinkAuth::Certificate => " by certificate",
            LinkAuth::Dialback => " by dialback",
        });
    }
    if let Some(transport) = transport {
        text.push_str(match transport {
            Transport::DirectTls => " over direct-tls",
            Transport::StartTls => " over starttls",
        });
    }
    text
}

fn describe_link(link: &S2sLink) -> String {
    let auth = match link.auth {
        S2sAuth::Certificate => "authenticated by certificate",
        S2sAuth::Dialback => "authenticated by dialback",
        S2sAuth::Pending => "not authenticated",
    };
    let transport = match over(link) {
        Transport::DirectTls => "direct-tls",
        Transport::StartTls => "starttls",
    };
    format!("{auth} over {transport} ({})", link.security)
}
