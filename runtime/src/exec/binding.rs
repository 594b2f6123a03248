//! Binding an environment to the executor: managed roles come from the local lab, external
//! roles from the environment file (addresses resolved, CA files trusted, accounts provided).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::LabView;
use super::scope::ServerInfo;
use crate::env::{Address, Environment, Register, ServerEnv};
use crate::lab::Lab;

/// The servers of `roles` as the executor sees them, and the trust anchors for all of them.
pub async fn bind(
    env: &Environment,
    lab: Option<Arc<Lab>>,
    roles: &[String],
) -> Result<(LabView, RootCertStore), String> {
    let mut trust = RootCertStore::empty();
    let mut view = match &lab {
        Some(lab) => {
            trust = lab.trust_store();
            LabView::local(lab.clone(), &[])
        }
        None => LabView {
            name: String::new(),
            servers: BTreeMap::new(),
            capabilities: BTreeMap::new(),
            lab: None,
            accounts: BTreeMap::new(),
            registration: BTreeMap::new(),
            faults: None,
            databases: BTreeSet::new(),
        },
    };
    // External databases exist already: their faults run the environment's commands.
    view.databases.extend(
        env.databases
            .iter()
            .filter(|(_, database)| !database.is_managed())
            .map(|(role, _)| role.clone()),
    );
    let mut system_roots_added = false;
    view.name = if env.file.is_some() {
        format!("environment {}", env.describe())
    } else {
        "the local lab".into()
    };
    for role in roles {
        view.capabilities
            .insert(role.clone(), env.capabilities(role));
        let Some(ServerEnv::External(server)) = env.server(role) else {
            continue;
        };
        if !server.tls.verify {
            return Err(format!(
                "{}: servers.{role}.tls.verify = false is not supported: jspec always verifies \
                 certificates; give the server's CA in tls.ca_file",
                env.describe()
            ));
        }
        let Some(address) = &server.address else {
            continue;
        }; // a cluster: blocked per case
        let c2s = resolve(address).await?;
        let direct = match &server.direct_tls_address {
            Some(address) => resolve(address).await?,
            None => SocketAddr::new(c2s.ip(), 5223),
        };
        view.servers.insert(
            role.clone(),
            ServerInfo {
                role: role.clone(),
                domain: server.domain.clone(),
                muc_domain: server.muc_domain.clone(),
                c2s,
                c2s_direct_tls: direct,
                nodes: BTreeMap::new(),
            },
        );
        for (user, account) in &server.accounts.users {
            view.accounts.insert(
                (role.clone(), user.clone()),
                (account.jid.clone(), account.password.expose().to_string()),
            );
        }
        view.registration.insert(
            role.clone(),
            matches!(server.accounts.register, Register::InBand),
        );
        if server.tls.ca_file.is_none() && !system_roots_added {
            // No CA file: the server's certificate is checked against the system's roots.
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::warn!(%error, "a system root certificate could not be read");
            }
            let (added, ignored) = trust.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "system root certificates");
            system_roots_added = true;
        }
        if let Some(ca_file) = &server.tls.ca_file {
            let certificates = CertificateDer::pem_file_iter(ca_file)
                .map_err(|e| format!("cannot read the CA file {}: {e}", ca_file.display()))?;
            for certificate in certificates {
                let certificate = certificate
                    .map_err(|e| format!("bad certificate in {}: {e}", ca_file.display()))?;
                trust.add(certificate).map_err(|e| {
                    format!("unusable CA certificate in {}: {e}", ca_file.display())
                })?;
            }
        }
    }
    Ok((view, trust))
}

async fn resolve(address: &Address) -> Result<SocketAddr, String> {
    let target = format!("{}:{}", address.host, address.port);
    let mut found = tokio::net::lookup_host(&target)
        .await
        .map_err(|e| format!("cannot resolve {target}: {e}"))?;
    found
        .next()
        .ok_or_else(|| format!("{target} resolves to no address"))
}

/// The roles every planned case names (single servers and clusters alike).
pub fn roles_of(cases: &[crate::plan::PlannedCase<'_>]) -> Vec<String> {
    let mut roles = BTreeSet::new();
    for planned in cases {
        for entry in &planned.case.entries {
            if let jspec_lang::ast::CaseEntryKind::Servers(list) = &entry.kind {
                roles.extend(list.iter().map(|r| r.name.text.clone()));
            }
        }
    }
    roles.into_iter().collect()
}
