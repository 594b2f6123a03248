//! Every keyword of the language, grouped by role: the one list editors are generated from.
//!
//! `lang/tests/keywords.rs` checks this list against the quoted words of `grammar.pest` (both
//! ways), so a keyword added to the grammar cannot be missing here; `lang/tests/editors.rs`
//! checks that the Vim and TextMate grammars under `editors/` carry these lists.

/// A group of keywords that share a role, and so a colour in editors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// The role, as editors name it (`declaration`, `statement`, ...).
    pub role: &'static str,
    /// The keywords, in the order the language reference introduces them.
    pub words: &'static [&'static str],
}

/// Words that open a file entry, a case entry or a case block.
pub const DECLARATIONS: Group = Group {
    role: "declaration",
    words: &[
        "suite",
        "section",
        "use",
        "procedure",
        "case",
        "priority",
        "type",
        "refs",
        "tags",
        "estimate",
        "requires",
        "preconditions",
        "servers",
        "databases",
        "user",
        "room",
        "setup",
        "step",
        "teardown",
    ],
};

/// Words that start a statement (and `every`, which starts a chaos rule).
pub const STATEMENTS: Group = Group {
    role: "statement",
    words: &[
        "connect",
        "disconnect",
        "join",
        "leave",
        "send",
        "wait",
        "expect",
        "set",
        "revoke",
        "partition",
        "isolate",
        "heal",
        "impair",
        "flood",
        "restore",
        "kill",
        "stop",
        "start",
        "restart",
        "pause",
        "resume",
        "chaos",
        "every",
        "parallel",
        "repeat",
        "check",
        "skew",
        "switch",
    ],
};

/// Words inside a statement that join its parts (`to`, `within`, `in order`, impairments, ...).
pub const CLAUSES: Group = Group {
    role: "clause",
    words: &[
        "with",
        "nodes",
        "on",
        "to",
        "auth",
        "abruptly",
        "as",
        "admin",
        "via",
        "from",
        "receives",
        "next",
        "delayed",
        "cluster",
        "clock",
        "strict",
        "in",
        "order",
        "within",
        "fails",
        "archive",
        "of",
        "has",
        "messages",
        "message",
        "link",
        "authenticated",
        "by",
        "over",
        "certificate",
        "ticket",
        "database",
        "primary",
        "is",
        "replicas",
        "process",
        "reject",
        "close",
        "lag",
        "jitter",
        "drop",
        "throttle",
        "duplicate",
        "reorder",
        "tamper",
        "bandwidth",
        "at",
        "without",
        "presence",
        "resumed",
        "reconnected",
        "disconnected",
        "seed",
        "for",
        "one",
        "times",
        "delivery",
        "no",
        "loss",
        "duplicates",
    ],
};

/// Fixed values: priority levels, TLS modes, SASL mechanisms, link authentication, certificate
/// and ticket states, and `nothing`.
pub const CONSTANTS: Group = Group {
    role: "constant",
    words: &[
        "low",
        "medium",
        "high",
        "critical",
        "starttls",
        "direct-tls",
        "scram",
        "plain",
        "external",
        "gssapi",
        "dialback",
        "valid",
        "expired",
        "not-yet-valid",
        "revoked",
        "wrong-host",
        "self-signed",
        "none",
        "nothing",
        "stanzas",
        "split",
        "xmpp",
        "stream-management",
        "carbons",
    ],
};

/// Every keyword group; no word is in two groups.
pub const GROUPS: [Group; 4] = [DECLARATIONS, STATEMENTS, CLAUSES, CONSTANTS];

/// Suffixes of durations (`5s`) and rates (`64kbit`): part of a number, not words of their own.
pub const UNIT_SUFFIXES: &[&str] = &["ms", "s", "m", "h", "gbit", "mbit", "kbit", "bit"];

/// Every keyword, in group order.
pub fn all() -> impl Iterator<Item = &'static str> {
    GROUPS.iter().flat_map(|group| group.words.iter().copied())
}

/// Whether `word` is a keyword of the language.
pub fn is_keyword(word: &str) -> bool {
    all().any(|keyword| keyword == word)
}
