//! Kerberos single sign-on in the lab: the KDC starts when a case first needs it, servers that
//! a case configures for Kerberos get a service key, users get principals and tickets, and a
//! case may take a user's ticket away or let it expire.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use jspec_lang::ast::TicketState;

use super::kdc::Kdc;
use super::prosody::ProsodyKerberos;
use super::{Lab, LabError};
use crate::sync::lock;
use crate::xmpp::KerberosConfig;

/// The lab realm.
pub(super) const REALM: &str = "TEST.REALM";
/// The lifetime of a ticket made to expire, and how long to wait for that (the realm allows
/// one second of clock skew).
const SHORT_TICKET: Duration = Duration::from_secs(1);
const EXPIRY_WAIT: Duration = Duration::from_secs(3);

/// What the lab holds for Kerberos.
#[derive(Debug, Default)]
pub(crate) struct KerberosState {
    kdc: tokio::sync::OnceCell<Kdc>,
    /// Service keys by domain (a principal is added once).
    services: Mutex<BTreeMap<String, ProsodyKerberos>>,
    /// User principals added.
    users: Mutex<BTreeSet<String>>,
    /// Tickets a case set; users not listed get a fresh one at each login.
    tickets: Mutex<BTreeMap<String, TicketState>>,
}

impl Lab {
    /// The lab KDC, started on first use (realm and database in `<lab>/kdc`).
    pub(super) async fn kdc(&self) -> Result<&Kdc, LabError> {
        let mut started = false;
        let kdc = self
            .kerberos
            .kdc
            .get_or_try_init(|| async {
                let kdc = Kdc::start(&self.dir.join("kdc"), REALM, self.service_ip).await?;
                tracing::info!(realm = REALM, addr = %kdc.addr(), "lab KDC started");
                started = true;
                Ok::<Kdc, LabError>(kdc)
            })
            .await?;
        if started {
            // Recorded, so that a crash of jspec leaves no KDC `jspec lab down` cannot stop.
            if let Err(error) = super::registry::record(&self.registry, &self.record()) {
                tracing::warn!(%error, "cannot record the lab KDC");
            }
        }
        Ok(kdc)
    }

    /// What the Prosody for `domain` needs to accept tickets (its service key made once).
    pub(super) async fn kerberos_for(&self, domain: &str) -> Result<ProsodyKerberos, LabError> {
        if let Some(known) = lock(&self.kerberos.services).get(domain) {
            return Ok(known.clone());
        }
        let made = self.kdc().await?.prosody_kerberos(domain).await?;
        lock(&self.kerberos.services).insert(domain.to_string(), made.clone());
        Ok(made)
    }

    /// What `user`'s client needs for a GSSAPI login: a principal with the user's password and,
    /// unless the case said otherwise, a fresh ticket.
    pub async fn kerberos_login(
        &self,
        user: &str,
        password: &str,
    ) -> Result<KerberosConfig, LabError> {
        self.ensure_principal(user, password).await?;
        let kdc = self.kdc().await?;
        let state = lock(&self.kerberos.tickets).get(user).copied();
        if state.is_none() || state == Some(TicketState::Valid) {
            kdc.kinit(user, password, None).await?;
        }
        Ok(kdc.client_kerberos(user))
    }

    /// `set ticket of USER to ...`: a fresh ticket, one that has expired (this waits for it to
    /// expire), or none at all.
    pub async fn set_ticket(
        &self,
        user: &str,
        password: &str,
        state: TicketState,
    ) -> Result<(), LabError> {
        self.ensure_principal(user, password).await?;
        let kdc = self.kdc().await?;
        match state {
            TicketState::Valid => {
                kdc.kinit(user, password, None).await?;
            }
            TicketState::Expired => {
                kdc.kinit(user, password, Some(SHORT_TICKET)).await?;
                tokio::time::sleep(EXPIRY_WAIT).await;
            }
            TicketState::None => {
                let cache = kdc.ccache_path(user);
                match std::fs::remove_file(&cache) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(LabError::Folder {
                            path: cache,
                            source,
                        });
                    }
                }
            }
        }
        lock(&self.kerberos.tickets).insert(user.to_string(), state);
        Ok(())
    }

    /// Forgets the tickets cases set (the next login gets a fresh one).
    pub(super) fn restore_tickets(&self) {
        lock(&self.kerberos.tickets).clear();
    }

    /// The KDC's PID, when it runs (for the lab record).
    pub(super) fn kdc_record(&self) -> Option<(u32, std::path::PathBuf, String)> {
        let kdc = self.kerberos.kdc.get()?;
        Some((kdc.pid(), kdc.pid_file(), kdc.addr().to_string()))
    }

    /// Stops the KDC if it was started.
    pub(super) async fn stop_kdc(&mut self) {
        if let Some(kdc) = self.kerberos.kdc.take() {
            kdc.stop().await;
        }
    }

    async fn ensure_principal(&self, user: &str, password: &str) -> Result<(), LabError> {
        if lock(&self.kerberos.users).contains(user) {
            return Ok(());
        }
        self.kdc().await?.add_user(user, password, None).await?;
        lock(&self.kerberos.users).insert(user.to_string());
        Ok(())
    }
}
