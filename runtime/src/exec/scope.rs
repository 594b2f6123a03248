//! What the names of a case stand for at run time: each user and room gets a name unique to
//! this run and case, so cases never see each other's traffic and can run in parallel.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use jspec_lang::ast::{Case, CaseEntryKind};

/// A server as the executor reaches it.
#[derive(Clone, Debug)]
pub struct ServerInfo {
    pub role: String,
    pub domain: String,
    pub muc_domain: String,
    /// Where clients connect without `to NODE` (a cluster's first node).
    pub c2s: SocketAddr,
    pub c2s_direct_tls: SocketAddr,
    /// A cluster's nodes by name (`c1`); empty for a single server.
    pub nodes: BTreeMap<String, NodeInfo>,
}

/// One node of a clustered server, as clients reach it.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub c2s: SocketAddr,
    pub c2s_direct_tls: SocketAddr,
}

/// A user of the case with its account.
#[derive(Clone, Debug)]
pub struct UserInfo {
    pub name: String,
    pub server: String,
    pub localpart: String,
    pub domain: String,
    pub password: String,
}

impl UserInfo {
    pub fn jid(&self) -> String {
        format!("{}@{}", self.localpart, self.domain)
    }
}

/// A room of the case.
#[derive(Clone, Debug)]
pub struct RoomInfo {
    pub name: String,
    pub server: String,
    pub jid: String,
    pub muc_domain: String,
}

/// The names of one case, resolved.
#[derive(Clone, Debug, Default)]
pub struct CaseScope {
    pub servers: BTreeMap<String, ServerInfo>,
    pub users: BTreeMap<String, UserInfo>,
    pub rooms: BTreeMap<String, RoomInfo>,
    /// The case's databases and their nodes (`databases pg with nodes pg1, pg2`).
    pub databases: BTreeMap<String, Vec<String>>,
    /// What makes the case's names unique in the run (`${case.tag}`).
    pub tag: String,
}

impl CaseScope {
    /// The user of a session name: `juliet` for `juliet` and for `juliet/phone`.
    pub fn user(&self, session: &str) -> Option<&UserInfo> {
        self.users.get(jspec_lang::ast::session_parts(session).0)
    }

    /// Resolves a case's declarations against the lab's servers. `tag` makes names unique (a
    /// short run id plus the case's index). Servers the lab lacks are left out; the caller
    /// reports the case as blocked before running it.
    pub fn new(
        case: &Case,
        servers: &BTreeMap<String, ServerInfo>,
        accounts: &BTreeMap<(String, String), (String, String)>,
        tag: &str,
        seed: u64,
    ) -> CaseScope {
        let mut scope = CaseScope {
            tag: tag.to_string(),
            ..CaseScope::default()
        };
        for entry in &case.entries {
            match &entry.kind {
                CaseEntryKind::Servers(roles) => {
                    for role in roles {
                        if let Some(server) = servers.get(&role.name.text) {
                            scope.servers.insert(role.name.text.clone(), server.clone());
                        }
                    }
                }
                CaseEntryKind::User { name, server, .. } => {
                    if let Some(info) = servers.get(&server.text) {
                        // An account the environment provides (external servers), or a fresh one.
                        let provided = accounts.get(&(server.text.clone(), name.text.clone()));
                        let (localpart, password) = match provided {
                            Some((jid, password)) => (local_part(jid), password.clone()),
                            None => {
                                let localpart = lab_localpart(&name.text, tag);
                                let password = password(seed, &localpart);
                                (localpart, password)
                            }
                        };
                        scope.users.insert(
                            name.text.clone(),
                            UserInfo {
                                name: name.text.clone(),
                                server: server.text.clone(),
                                localpart,
                                domain: info.domain.clone(),
                                password,
                            },
                        );
                    }
                }
                CaseEntryKind::Databases(roles) => {
                    for role in roles {
                        let nodes = role.nodes.iter().map(|n| n.text.clone()).collect();
                        scope.databases.insert(role.name.text.clone(), nodes);
                    }
                }
                CaseEntryKind::Room { name, server } => {
                    if let Some(info) = servers.get(&server.text) {
                        let jid = format!("{}-{tag}@{}", name.text.to_lowercase(), info.muc_domain);
                        scope.rooms.insert(
                            name.text.clone(),
                            RoomInfo {
                                name: name.text.clone(),
                                server: server.text.clone(),
                                jid,
                                muc_domain: info.muc_domain.clone(),
                            },
                        );
                    }
                }
                _ => {}
            }
        }
        scope
    }

    /// The value of `${name}` / `${name.field}` for users (and their sessions: `juliet/phone`),
    /// rooms and servers. A full JID exists only while the session is connected: `full_jid`
    /// gives it.
    pub fn field(
        &self,
        name: &str,
        field: Option<&str>,
        full_jid: impl Fn(&str) -> Option<String>,
    ) -> Option<String> {
        if let Some(user) = self.user(name) {
            return match field.unwrap_or("jid") {
                "jid" => Some(user.jid()),
                "full" => full_jid(name),
                "domain" => Some(user.domain.clone()),
                "local" => Some(user.localpart.clone()),
                "password" => Some(user.password.clone()),
                _ => None,
            };
        }
        if let Some(room) = self.rooms.get(name) {
            return match field.unwrap_or("jid") {
                "jid" => Some(room.jid.clone()),
                "name" => Some(local_part(&room.jid)),
                "domain" => Some(room.muc_domain.clone()),
                _ => None,
            };
        }
        if let Some(server) = self.servers.get(name) {
            return match field.unwrap_or("domain") {
                "domain" | "jid" => Some(server.domain.clone()),
                "muc" => Some(server.muc_domain.clone()),
                // Where Openfire, ejabberd and M-Link put publish-subscribe by default.
                "pubsub" => Some(format!("pubsub.{}", server.domain)),
                _ => None,
            };
        }
        None
    }
}

/// What makes a case's names unique in a run: the run's tag and the case's place in the plan.
pub fn case_tag(run_tag: &str, index: usize) -> String {
    format!("{run_tag}{index}")
}

/// The local part of the lab account of user `name` in the case tagged `tag`.
pub fn lab_localpart(name: &str, tag: &str) -> String {
    format!("{}-{tag}", name.to_lowercase())
}

/// A password for a lab account: different for every account and run.
fn password(seed: u64, localpart: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (seed, localpart).hash(&mut hasher);
    format!("jspec-{:016x}", hasher.finish())
}

/// The local part of a bare JID (`alice` of `alice@a.test`); the text itself if it has none.
fn local_part(jid: &str) -> String {
    jid.parse::<jid::BareJid>()
        .ok()
        .and_then(|bare| bare.node().map(|node| node.to_string()))
        .unwrap_or_else(|| jid.to_string())
}
