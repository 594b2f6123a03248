//! The lab's PKI and security settings as cases change them: server and client certificates
//! replaced (valid, expired, revoked, ...), revocations published as a CRL, servers configured
//! for what a case requires, and everything put back to the defaults afterwards.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jspec_lang::ast::CertificateState;
use rustls::pki_types::CertificateRevocationListDer;

use super::pki::{CertificateKind, IssuedCertificate};
use super::prosody::{Prosody, ServerSettings};
use super::{Lab, LabError};
use crate::sync::lock;

/// The certificate a holder (server role or user JID) presents now.
#[derive(Clone, Debug)]
pub(crate) struct Held {
    pub(crate) issued: IssuedCertificate,
    /// Anything but a fresh valid certificate: the lab re-issues it after the case.
    pub(crate) changed: bool,
}

/// What the lab's PKI holds beyond the CA: current certificates and the published CRL.
#[derive(Debug, Default)]
pub(crate) struct SecurityState {
    pub(crate) servers: Mutex<BTreeMap<String, Held>>,
    pub(crate) users: Mutex<BTreeMap<String, Held>>,
}

/// The kind to issue for a state; `revoked` is a valid certificate whose serial is then revoked.
fn kind_of(state: CertificateState) -> CertificateKind {
    match state {
        CertificateState::Valid | CertificateState::Revoked => CertificateKind::Valid,
        CertificateState::Expired => CertificateKind::Expired,
        CertificateState::NotYetValid => CertificateKind::NotYetValid,
        CertificateState::WrongHost => CertificateKind::WrongHost,
        CertificateState::SelfSigned => CertificateKind::SelfSigned,
    }
}

impl Lab {
    /// Gives server `role` a new certificate of `state`. New connections see it at once; its
    /// existing server-to-server links are closed so that they authenticate again.
    pub async fn set_server_certificate(
        &self,
        role: &str,
        state: CertificateState,
    ) -> Result<(), LabError> {
        let server = self.managed(role)?;
        let names = vec![server.spec.domain.clone(), server.spec.muc_domain()];
        let issued = self.ca.issue(&names, kind_of(state))?;
        server
            .replace_certificate(&issued.cert_pem, &issued.key_pem)
            .await
            .map_err(|e| self.server_error(role, e))?;
        let serial = issued.serial;
        lock(&self.security.servers).insert(
            role.to_string(),
            Held {
                issued,
                changed: state != CertificateState::Valid,
            },
        );
        if state == CertificateState::Revoked {
            self.ca.revoke(serial);
            self.publish_crl().await?;
        }
        self.close_links_of(role).await
    }

    /// Revokes the certificate server `role` presents now: the CRL is published, servers that
    /// check it reload, and links with `role` are closed so that they are checked again.
    pub async fn revoke_server_certificate(&self, role: &str) -> Result<(), LabError> {
        self.managed(role)?;
        let serial = {
            let mut servers = lock(&self.security.servers);
            let held = servers.get_mut(role).ok_or_else(|| {
                LabError::UnknownServer(format!("{role} (it has no lab certificate)"))
            })?;
            held.changed = true;
            held.issued.serial
        };
        self.ca.revoke(serial);
        self.publish_crl().await?;
        self.close_links_of(role).await
    }

    /// Gives user `jid` a client certificate of `state` (for SASL EXTERNAL); a revoked one is
    /// published in the CRL at once.
    pub async fn set_user_certificate(
        &self,
        jid: &str,
        state: CertificateState,
    ) -> Result<(), LabError> {
        let issued = self.ca.issue_client(jid, kind_of(state))?;
        let serial = issued.serial;
        lock(&self.security.users).insert(
            jid.to_string(),
            Held {
                issued,
                changed: true,
            },
        );
        if state == CertificateState::Revoked {
            self.ca.revoke(serial);
            self.publish_crl().await?;
        }
        Ok(())
    }

    /// Revokes user `jid`'s client certificate (issuing one first if it has none).
    pub async fn revoke_user_certificate(&self, jid: &str) -> Result<(), LabError> {
        let issued = self.user_certificate(jid)?;
        self.ca.revoke(issued.serial);
        if let Some(held) = lock(&self.security.users).get_mut(jid) {
            held.changed = true;
        }
        self.publish_crl().await
    }

    /// The client certificate user `jid` presents: a valid one unless a case set another.
    pub fn user_certificate(&self, jid: &str) -> Result<IssuedCertificate, LabError> {
        if let Some(held) = lock(&self.security.users).get(jid) {
            return Ok(held.issued.clone());
        }
        let issued = self.ca.issue_client(jid, CertificateKind::Valid)?;
        lock(&self.security.users).insert(
            jid.to_string(),
            Held {
                issued: issued.clone(),
                changed: false,
            },
        );
        Ok(issued)
    }

    /// The certificate (DER) server `role` presents, when a case made it something other than
    /// a fresh valid one.
    pub fn deliberate_certificate(&self, role: &str) -> Option<Vec<u8>> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let servers = lock(&self.security.servers);
        let held = servers.get(role).filter(|held| held.changed)?;
        CertificateDer::from_pem_slice(held.issued.cert_pem.as_bytes())
            .ok()
            .map(|der| der.to_vec())
    }

    /// The OCSP check the lab's clients make after each handshake (the responder named in the
    /// certificate, signed by the lab CA).
    pub fn ocsp_check(&self) -> crate::xmpp::OcspCheck {
        crate::xmpp::OcspCheck {
            source: crate::xmpp::OcspSource::FromAia,
            issuer: rustls::pki_types::CertificateDer::from(self.ca.cert_der()),
        }
    }

    /// The current CRL, for clients that check revocation.
    pub fn crls(&self) -> Vec<CertificateRevocationListDer<'static>> {
        match self.ca.crl() {
            Ok(crl) => vec![crl.der().clone()],
            Err(error) => {
                tracing::error!(%error, "cannot sign the lab CRL");
                Vec::new()
            }
        }
    }

    /// Configures the servers `roles` as a case needs them (restarting those that change).
    /// Returns what changed, e.g. `a: s2s dialback allowed, CRL not checked, ...`.
    pub async fn configure(
        &self,
        roles: &[String],
        settings: &ServerSettings,
    ) -> Result<Vec<String>, LabError> {
        let mut changed = Vec::new();
        for role in roles {
            let Some(server) = self.servers.get(role) else {
                continue;
            };
            // Before the restart: the restarted resolvers ask afresh.
            self.publish_srv(&server.spec, settings);
            let kerberos = match settings.kerberos {
                true => Some(self.kerberos_for(&server.spec.domain).await?),
                false => None,
            };
            if server
                .reconfigure(settings, kerberos)
                .await
                .map_err(|e| self.server_error(role, e))?
            {
                self.after_restart(role).await;
                changed.push(format!("{role}: {settings}"));
            }
        }
        Ok(changed)
    }

    /// Puts the PKI and every server's settings back to the defaults: fresh valid certificates
    /// for those a case changed, no user certificates. Returns what it restored.
    pub async fn restore_security(&self) -> Result<Vec<String>, LabError> {
        let mut restored = self
            .configure(
                &self.servers.keys().cloned().collect::<Vec<_>>(),
                &ServerSettings::default(),
            )
            .await?;
        let changed: Vec<String> = lock(&self.security.servers)
            .iter()
            .filter(|(_, held)| held.changed)
            .map(|(role, _)| role.clone())
            .collect();
        for role in changed {
            self.set_server_certificate(&role, CertificateState::Valid)
                .await?;
            restored.push(format!("{role}: valid certificate"));
        }
        lock(&self.security.users).clear();
        self.restore_tickets();
        Ok(restored)
    }

    /// Publishes `server`'s SRV records: STARTTLS always, Direct TLS when its settings say so.
    pub(super) fn publish_srv(
        &self,
        server: &super::prosody::ProsodySpec,
        settings: &ServerSettings,
    ) {
        use super::dns::Service;
        use super::prosody::{C2S_PORT, S2S_DIRECT_TLS_PORT, S2S_PORT};
        for domain in [server.domain.clone(), server.muc_domain()] {
            self.dns.set(&domain, Service::Server, Some(S2S_PORT));
            let direct = settings.s2s_direct_tls.then_some(S2S_DIRECT_TLS_PORT);
            self.dns.set(&domain, Service::ServerDirectTls, direct);
        }
        self.dns
            .set(&server.domain, Service::Client, Some(C2S_PORT));
    }

    /// Writes the CA and a fresh CRL into the file servers read, and reloads the servers that
    /// check revocation (live links keep their old verdict until closed).
    pub(super) async fn publish_crl(&self) -> Result<(), LabError> {
        let crl = self.ca.crl()?;
        let pem = crl
            .pem()
            .map_err(|source| LabError::Pki(super::pki::PkiError::new("the lab CRL", source)))?;
        let bundle = format!("{}{pem}", self.ca.cert_pem());
        std::fs::write(&self.ca_crl_file, bundle).map_err(|source| LabError::Folder {
            path: self.ca_crl_file.clone(),
            source,
        })?;
        for (role, server) in &self.servers {
            if server.settings().crl_check {
                server
                    .reload()
                    .await
                    .map_err(|e| self.server_error(role, e))?;
            }
        }
        Ok(())
    }

    /// Closes the server-to-server links of `role`, on it and on every other server.
    async fn close_links_of(&self, role: &str) -> Result<(), LabError> {
        let domain = self.managed(role)?.spec.domain.clone();
        for (other, server) in &self.servers {
            let remote = (other != role).then_some(domain.as_str());
            server
                .close_s2s(remote)
                .await
                .map_err(|e| self.server_error(other, e))?;
        }
        Ok(())
    }

    /// After a restart: the new PID is recorded (so `jspec lab down` finds the server after a
    /// crash), and the other servers may still hold half-dead links to `role`.
    async fn after_restart(&self, role: &str) {
        if let Err(error) = super::registry::record(&self.registry, &self.record()) {
            tracing::warn!(%error, "cannot record the lab's new PIDs");
        }
        if let Err(error) = self.close_links_of(role).await {
            tracing::debug!(%error, role, "closing links after a restart");
        }
    }

    pub(super) fn managed(&self, role: &str) -> Result<&Prosody, LabError> {
        self.servers
            .get(role)
            .ok_or_else(|| LabError::UnknownServer(role.to_string()))
    }

    pub(super) fn server_error(
        &self,
        role: &str,
        source: super::prosody::ProsodyError,
    ) -> LabError {
        LabError::Server {
            role: role.to_string(),
            source: Box::new(source),
        }
    }
}
