//! What a managed server offers, asked of the running server rather than assumed: once the
//! lab runs, a probe account logs in to each managed server and asks service discovery
//! (XEP-0030) what the server, its services and an account offer, and whether it offers stream
//! management. `requires pubsub` is then true exactly when the server has a publish-subscribe
//! service. What the lab configures for the case that requires it (`crl`, `dialback`,
//! `direct-tls`, `external`, `gssapi`) and what the lab is (`cluster`) stay as the environment
//! says: no disco feature tells them.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use minidom::Element;
use rustls::RootCertStore;
use tokio_util::sync::CancellationToken;

use super::LabView;
use crate::xmpp::{ConnectConfig, Session, UseStreamManagement};

/// The capabilities that service discovery tells; the others keep the environment's word.
const DISCOVERED: &[&str] = &[
    "carbons", "disco", "mam", "muc", "pubsub", "smacks", "stats", "vcard",
];

const NS_INFO: &str = "http://jabber.org/protocol/disco#info";
const NS_ITEMS: &str = "http://jabber.org/protocol/disco#items";
/// How long each question may take.
const ANSWER: Duration = Duration::from_secs(5);
/// The probe's name as a link endpoint (a name no case can declare).
const PROBE: &str = "(capability probe)";

/// Replaces the discoverable capabilities of every managed server of `view` with what the
/// server says. A server that cannot be asked keeps the environment's list (with a warning):
/// its cases will say why they fail.
pub async fn discover_capabilities(view: &mut LabView, trust: Arc<RootCertStore>, run_tag: &str) {
    let Some(lab) = view.lab.clone() else { return };
    let roles: Vec<String> = view
        .servers
        .keys()
        .filter(|role| lab.manages(role))
        .cloned()
        .collect();
    for role in roles {
        match probe(view, &role, trust.clone(), run_tag).await {
            Ok(found) => {
                let offered = view.capabilities.entry(role.clone()).or_default();
                offered.retain(|c| !DISCOVERED.contains(&c.as_str()));
                offered.extend(found);
                tracing::info!(role, capabilities = ?offered, "discovered");
            }
            Err(error) => {
                tracing::warn!(role, %error, "cannot discover what the server offers; keeping the environment's list");
            }
        }
    }
}

async fn probe(
    view: &LabView,
    role: &str,
    trust: Arc<RootCertStore>,
    run_tag: &str,
) -> Result<BTreeSet<String>, String> {
    let server = &view.servers[role];
    let lab = view.lab.as_ref().ok_or("no lab")?;
    let localpart = format!("jspec-probe-{run_tag}");
    let password = format!("probe-{run_tag}-{}", std::process::id());
    lab.register(role, &localpart, &password)
        .await
        .map_err(|e| format!("cannot create the probe account: {e}"))?;
    let mut config = ConnectConfig::new(
        server.c2s,
        server.domain.clone(),
        localpart,
        password,
        trust,
    );
    config.resource = "probe".into();
    config.stream_management = UseStreamManagement::IfOffered;
    if let Some(faults) = &view.faults {
        let endpoint = server
            .nodes
            .keys()
            .next()
            .cloned()
            .unwrap_or(role.to_string());
        let (route, bind) = faults
            .client_route(PROBE, &endpoint, server.c2s)
            .await
            .map_err(|e| e.to_string())?;
        config.route = Some(route);
        config.bind = bind;
    }
    let session = Session::connect(config, CancellationToken::new())
        .await
        .map_err(|e| format!("the probe cannot log in: {e}"))?;
    let found = ask(&session, &server.domain).await;
    session.close().await;
    let mut found = found?;
    if session.stream_managed() {
        found.insert("smacks".into());
    }
    Ok(found)
}

/// The discoverable capabilities, from the server, its services and the probe's account.
async fn ask(session: &Session, domain: &str) -> Result<BTreeSet<String>, String> {
    let mut found = BTreeSet::new();
    let server = query(session, domain, NS_INFO, "jspec-probe-info").await?;
    found.insert("disco".to_string());
    let features = |info: &Element| -> BTreeSet<String> {
        info.children()
            .filter(|c| c.name() == "feature")
            .filter_map(|c| c.attr("var").map(str::to_string))
            .collect()
    };
    let identities = |info: &Element| -> Vec<(String, String)> {
        info.children()
            .filter(|c| c.name() == "identity")
            .map(|c| {
                (
                    c.attr("category").unwrap_or_default().to_string(),
                    c.attr("type").unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let server_features = features(&server);
    let account = query(
        session,
        &session.bare_jid().to_string(),
        NS_INFO,
        "jspec-probe-account",
    )
    .await
    .map(|info| features(&info))
    .unwrap_or_default();
    for (capability, feature) in [
        ("carbons", "urn:xmpp:carbons:2"),
        ("vcard", "vcard-temp"),
        ("stats", "http://jabber.org/protocol/stats"),
        ("mam", "urn:xmpp:mam:2"),
    ] {
        if server_features.contains(feature) || account.contains(feature) {
            found.insert(capability.to_string());
        }
    }
    let items = query(session, domain, NS_ITEMS, "jspec-probe-items").await?;
    for (index, item) in items.children().filter(|c| c.name() == "item").enumerate() {
        let Some(jid) = item.attr("jid") else {
            continue;
        };
        let id = format!("jspec-probe-item-{index}");
        let Ok(info) = query(session, jid, NS_INFO, &id).await else {
            continue;
        };
        for (category, kind) in identities(&info) {
            match (category.as_str(), kind.as_str()) {
                ("conference", "text") => found.insert("muc".to_string()),
                ("pubsub", "service") => found.insert("pubsub".to_string()),
                _ => false,
            };
        }
    }
    Ok(found)
}

/// Asks `to` a disco question and returns the answer's `<query/>`.
async fn query(session: &Session, to: &str, ns: &str, id: &str) -> Result<Element, String> {
    let cursor = session.inbox().cursor();
    session
        .send_raw(&format!(
            "<iq type='get' id='{id}' to='{to}'><query xmlns='{ns}'/></iq>"
        ))
        .await
        .map_err(|e| format!("cannot ask {to}: {e}"))?;
    let answer = session
        .inbox()
        .wait_for(
            cursor,
            |r| {
                r.stanza()
                    .is_some_and(|s| s.name() == "iq" && s.attr("id") == Some(id))
            },
            Instant::now() + ANSWER,
            &CancellationToken::new(),
        )
        .await
        .ok_or_else(|| format!("{to} did not answer {ns} within {}s", ANSWER.as_secs()))?;
    let stanza = answer.stanza().ok_or("no stanza")?;
    if stanza.attr("type") != Some("result") {
        return Err(format!("{to} refused {ns}: {}", String::from(stanza)));
    }
    stanza
        .get_child("query", ns)
        .cloned()
        .ok_or_else(|| format!("{to} answered {ns} without a query"))
}
