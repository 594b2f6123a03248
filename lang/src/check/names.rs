//! Vocabularies the checker knows: capabilities, failure reasons, interpolation fields.

/// Capabilities a server can advertise; `requires` names them.
pub const CAPABILITIES: &[&str] = &[
    "carbons",
    "cluster",
    "crl",
    "dialback",
    "direct-tls",
    "disco",
    "external",
    "fmuc",
    "gssapi",
    "mam",
    "muc",
    "ocsp",
    "pubsub",
    "smacks",
    "stats",
    "vcard",
];

/// Reasons `expect connect ... fails with` accepts.
pub const FAILURE_REASONS: &[&str] = &[
    "connection-refused",
    "connection-timeout",
    "tls-failed",
    "certificate-expired",
    "certificate-not-yet-valid",
    "certificate-revoked",
    "certificate-unknown-issuer",
    "certificate-wrong-host",
    "auth-failed",
    "mechanism-unavailable",
    "stream-error",
];

/// Fields of `${user.FIELD}`.
pub const USER_FIELDS: &[&str] = &["jid", "full", "domain", "local", "password"];
/// Fields of `${room.FIELD}`.
pub const ROOM_FIELDS: &[&str] = &["jid", "name", "domain"];
/// Fields of `${server.FIELD}`.
pub const SERVER_FIELDS: &[&str] = &["domain", "jid", "muc", "pubsub"];

/// Joins names as "`a`, `b` or `c`" for help texts.
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}
