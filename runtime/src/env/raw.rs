//! The environment file exactly as written: serde types with `deny_unknown_fields`, so a typo is
//! an error, not a silently ignored key. Rules that span several keys (an external server needs
//! a domain; a managed one must not have an address) are checked afterwards, in `build`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::database::DatabaseSoftware;
use super::model::{Defaults, Register, Software};
use super::node::{Commands, NodeEnv};
use super::value::Address;

/// Top-level keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvironment {
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) defaults: Defaults,
    #[serde(default)]
    pub(super) servers: BTreeMap<String, RawServer>,
    #[serde(default)]
    pub(super) databases: BTreeMap<String, RawDatabase>,
}

/// `[servers.ROLE]`: the union of the keys of managed and external servers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) software: Software,
    pub(super) domain: Option<String>,
    pub(super) muc_domain: Option<String>,
    pub(super) address: Option<Address>,
    pub(super) direct_tls_address: Option<Address>,
    pub(super) tls: Option<RawTls>,
    pub(super) register: Option<Register>,
    pub(super) users: Option<BTreeMap<String, RawUser>>,
    pub(super) capabilities: Option<Vec<String>>,
    pub(super) commands: Option<Commands>,
    pub(super) nodes: Option<RawNodes>,
    pub(super) database: Option<String>,
    /// Further Prosody modules for a managed Prosody.
    pub(super) modules: Option<Vec<String>>,
    /// Lab modules a managed Prosody does without.
    pub(super) modules_disabled: Option<Vec<String>>,
    /// The time a managed Prosody's clock stands still at (RFC 3339).
    pub(super) clock: Option<String>,
    /// Further Prosody options for a managed Prosody, as Lua values.
    pub(super) options: Option<toml::Table>,
}

impl RawServer {
    /// The keys that are set, except `software`, for "does not apply" checks.
    pub(super) fn keys_set(&self) -> Vec<&'static str> {
        [
            ("domain", self.domain.is_some()),
            ("muc_domain", self.muc_domain.is_some()),
            ("address", self.address.is_some()),
            ("direct_tls_address", self.direct_tls_address.is_some()),
            ("tls", self.tls.is_some()),
            ("register", self.register.is_some()),
            ("users", self.users.is_some()),
            ("capabilities", self.capabilities.is_some()),
            ("commands", self.commands.is_some()),
            ("nodes", self.nodes.is_some()),
            ("database", self.database.is_some()),
            ("modules", self.modules.is_some()),
            ("modules_disabled", self.modules_disabled.is_some()),
            ("clock", self.clock.is_some()),
            ("options", self.options.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect()
    }
}

/// `tls = { ca_file = "...", verify = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub(super) ca_file: Option<String>,
    #[serde(default = "yes")]
    pub(super) verify: bool,
}

fn yes() -> bool {
    true
}

/// `[servers.ROLE.users.NAME]`: a pre-provisioned account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUser {
    pub(super) jid: Option<String>,
    pub(super) jid_env: Option<String>,
    pub(super) password_env: String,
}

/// `nodes`: a list of names for a managed cluster, a table of nodes for an external one.
#[derive(Debug)]
pub(super) enum RawNodes {
    Names(Vec<String>),
    Table(BTreeMap<String, NodeEnv>),
}

impl<'de> Deserialize<'de> for RawNodes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodesVisitor;
        impl<'de> Visitor<'de> for NodesVisitor {
            type Value = RawNodes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a list of node names (managed) or a table of nodes with addresses (external)",
                )
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawNodes, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawNodes::Names)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawNodes, A::Error> {
                BTreeMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawNodes::Table)
            }
        }
        deserializer.deserialize_any(NodesVisitor)
    }
}

/// `[databases.ROLE]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) software: DatabaseSoftware,
    pub(super) address: Option<Address>,
    pub(super) commands: Option<Commands>,
    pub(super) nodes: Option<RawNodes>,
}
