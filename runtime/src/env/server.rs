//! Checking one `[servers.ROLE]` table: a managed server takes only what jspec cannot choose
//! for it; an external one must say where it is and how jspec gets in.

use std::collections::{BTreeMap, BTreeSet};

use jspec_lang::check::CAPABILITIES;
use jspec_lang::diagnostic::{Code, did_you_mean};

use super::accounts::users;
use super::build::Context;
use super::database::DatabaseEnv;
use super::hints::{key_hint, known_capabilities};
use super::model::{Accounts, ExternalServer, ManagedServer, ServerEnv, Software, Tls};
use super::raw::{RawNodes, RawServer, RawTls};
use super::spans::display_path;
use super::value::is_host_name;

pub(super) fn build_server(
    cx: &mut Context<'_>,
    role: &str,
    raw: RawServer,
    databases: &BTreeMap<String, DatabaseEnv>,
) -> Option<ServerEnv> {
    let named = cx.name(&["servers", role], "server role");
    let server = if raw.software.is_managed() {
        managed(cx, role, raw, databases)
    } else {
        external(cx, role, raw)
    };
    server.filter(|_| named)
}

fn managed(
    cx: &mut Context<'_>,
    role: &str,
    raw: RawServer,
    databases: &BTreeMap<String, DatabaseEnv>,
) -> Option<ServerEnv> {
    let software = raw.software;
    let allowed: &[&str] = match software {
        Software::Ejabberd => &["nodes", "database"],
        Software::Prosody => &["modules", "modules_disabled", "options", "clock"],
        _ => &[],
    };
    for key in raw.keys_set() {
        if allowed.contains(&key) {
            continue;
        }
        let span = cx.key_span(&["servers", role, key]);
        let help = if key == "nodes" {
            "a managed Prosody is one node; a managed cluster is `software = \"ejabberd\"`".into()
        } else {
            "remove it; or, to use a server that already runs, make it external (`software = \
             \"prosody-external\"`, \"openfire\", \"mlink\", ...) with its domain and address"
                .into()
        };
        cx.report(
            Code::EnvUnknownKey,
            span,
            format!("`servers.{role}.{key}` does not apply to a managed {software} server"),
            "jspec chooses this for the servers it starts",
            help,
        );
    }
    let mut nodes = Vec::new();
    match raw.nodes {
        Some(RawNodes::Names(names)) => {
            for (i, name) in names.into_iter().enumerate() {
                let item = format!("[{i}]");
                let span = cx.value_span(&["servers", role, "nodes", &item]);
                cx.check_name(&name, span, &format!("servers.{role}.nodes{item}"), "node");
                nodes.push(name);
            }
        }
        Some(RawNodes::Table(_)) if software == Software::Ejabberd => {
            let span = cx.key_span(&["servers", role, "nodes"]);
            cx.report(
                Code::EnvBadValue,
                span,
                format!("`servers.{role}.nodes` of a managed cluster is a list of names"),
                "jspec gives its nodes their addresses",
                "write `nodes = [\"c1\", \"c2\"]`".into(),
            );
        }
        _ => {}
    }
    if let Some(database) = &raw.database
        && !databases.contains_key(database)
    {
        let span = cx.value_span(&["servers", role, "database"]);
        let help = match databases.keys().next() {
            Some(_) => format!(
                "database roles: {}",
                super::error::quoted(&databases.keys().collect::<Vec<_>>())
            ),
            None => format!("add `[databases.{database}]` with `software = \"postgresql\"`"),
        };
        cx.report(
            Code::EnvBadValue,
            span,
            format!("`servers.{role}.database` names `{database}`, which is not a database role"),
            "not under [databases]",
            help,
        );
    }
    let mut extensions = super::extensions::prosody_extensions(
        cx,
        role,
        raw.modules,
        raw.modules_disabled,
        raw.options,
    );
    extensions.clock = raw
        .clock
        .and_then(|clock| super::extensions::frozen_clock(cx, role, &clock));
    Some(ServerEnv::Managed(ManagedServer {
        extensions: Box::new(extensions),
        software,
        domain: format!("{role}.test"),
        nodes,
        database_nodes: raw
            .database
            .as_ref()
            .and_then(|d| databases.get(d))
            .filter(|d| d.is_managed())
            .map(|d| d.node_names.clone())
            .unwrap_or_default(),
        database: raw.database,
    }))
}

fn external(cx: &mut Context<'_>, role: &str, raw: RawServer) -> Option<ServerEnv> {
    let path = ["servers", role];
    if raw.database.is_some() {
        let span = cx.key_span(&["servers", role, "database"]);
        cx.report(
            Code::EnvUnknownKey,
            span,
            format!("`servers.{role}.database` does not apply to an external server"),
            "only a managed cluster is given a database",
            "remove it: an external server's database is described under [databases] when \
             cases need to fail it"
                .into(),
        );
    }
    let nodes = match raw.nodes {
        Some(RawNodes::Table(nodes)) => cx.nodes(&path, nodes),
        Some(RawNodes::Names(_)) => {
            let span = cx.key_span(&["servers", role, "nodes"]);
            cx.report(
                Code::EnvBadValue,
                span,
                format!("`servers.{role}.nodes` of an external cluster must describe each node"),
                "jspec needs each node's address",
                format!("write `[servers.{role}.nodes.c1]` with `address = \"host:5222\"`"),
            );
            BTreeMap::new()
        }
        None => BTreeMap::new(),
    };
    let domain = required(cx, role, raw.domain, "domain");
    let muc_domain = match (raw.muc_domain, &domain) {
        (Some(muc), _) => host_name(cx, &["servers", role, "muc_domain"], muc),
        (None, Some(domain)) => Some(format!("conference.{domain}")),
        (None, None) => None,
    };
    if raw.address.is_none() && nodes.is_empty() {
        required(cx, role, None, "address");
    }
    let tls = tls(cx, role, raw.tls);
    let users = users(cx, role, raw.users.unwrap_or_default());
    let mut capabilities = capabilities(cx, role, raw.capabilities.unwrap_or_default());
    if nodes.len() >= 2 {
        capabilities.insert("cluster".into());
    }
    let commands = cx.commands(&path, raw.commands);
    Some(ServerEnv::External(Box::new(ExternalServer {
        software: raw.software,
        domain: domain?,
        muc_domain: muc_domain?,
        address: raw.address,
        direct_tls_address: raw.direct_tls_address,
        tls: tls?,
        accounts: Accounts {
            register: raw.register.unwrap_or_default(),
            users: users?,
        },
        capabilities,
        commands,
        nodes,
    })))
}

/// A key an external server cannot do without.
fn required(cx: &mut Context<'_>, role: &str, value: Option<String>, key: &str) -> Option<String> {
    match value {
        Some(value) => host_name(cx, &["servers", role, key], value),
        None => {
            let span = cx.value_span(&["servers", role]);
            let what = if key == "address" {
                "`address` (or `nodes`)"
            } else {
                "`domain`"
            };
            cx.report(
                Code::EnvMissingKey,
                span,
                format!("missing key `servers.{role}.{key}`"),
                &format!("an external server needs {what}"),
                key_hint(key),
            );
            None
        }
    }
}

fn host_name(cx: &mut Context<'_>, path: &[&str], value: String) -> Option<String> {
    if is_host_name(&value) {
        return Some(value);
    }
    let span = cx.value_span(path);
    cx.report(
        Code::EnvBadValue,
        span,
        format!("`{}` is not a domain name: `{value}`", display_path(path)),
        "letters, digits, `-` and `.` only",
        key_hint(path.last().copied().unwrap_or_default()),
    );
    None
}

fn tls(cx: &mut Context<'_>, role: &str, raw: Option<RawTls>) -> Option<Tls> {
    let Some(raw) = raw else {
        return Some(Tls::default());
    };
    let ca_file = match raw.ca_file {
        None => None,
        Some(file) => {
            let path = cx.base.join(&file);
            if !path.is_file() {
                let span = cx.value_span(&["servers", role, "tls", "ca_file"]);
                cx.report(
                    Code::EnvBadValue,
                    span,
                    format!(
                        "`servers.{role}.tls.ca_file`: no file at {}",
                        path.display()
                    ),
                    "no such file",
                    format!(
                        "ca_file is relative to the environment file's folder ({})",
                        cx.base.display()
                    ),
                );
                return None;
            }
            Some(path)
        }
    };
    Some(Tls {
        ca_file,
        verify: raw.verify,
    })
}

fn capabilities(cx: &mut Context<'_>, role: &str, raw: Vec<String>) -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    for (i, capability) in raw.into_iter().enumerate() {
        if CAPABILITIES.contains(&capability.as_str()) {
            known.insert(capability);
            continue;
        }
        let item = format!("[{i}]");
        let span = cx.value_span(&["servers", role, "capabilities", &item]);
        let help = match did_you_mean(&capability, CAPABILITIES.iter().copied()) {
            Some(best) => format!("did you mean `{best}`? known: {}", known_capabilities()),
            None => format!("known capabilities: {}", known_capabilities()),
        };
        cx.report(
            Code::EnvBadValue,
            span,
            format!("`servers.{role}.capabilities` names an unknown capability `{capability}`"),
            "not a capability jspec knows",
            help,
        );
    }
    known
}
