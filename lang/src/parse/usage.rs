//! One line of usage per keyword that starts a line: shown as help on syntax errors, and by
//! editors on hover.

/// `(keyword, usage)`, for every word that can start a line of a `.jspec` file.
pub const LINE_KEYWORDS: &[(&str, &str)] = &[
    // file level
    ("suite", r#"suite "NAME""#),
    ("section", r#"section "TOP > SUB""#),
    ("use", r#"use "stdlib/muc.jspec""#),
    ("procedure", "procedure NAME(PARAM, ...) { STATEMENTS }"),
    ("case", r#"case C123 "TITLE" { ... }"#),
    // case level
    ("priority", "priority low | medium | high | critical"),
    ("type", r#"type "Functional""#),
    ("refs", r#"refs "XEP-0313", "JCHAT-88""#),
    ("tags", "tags NAME, NAME"),
    ("estimate", "estimate 2m"),
    ("requires", "requires CAPABILITY, CAPABILITY"),
    ("preconditions", r#"preconditions "TEXT" (or """TEXT""")"#),
    ("servers", "servers a, b   or   servers c with nodes c1, c2"),
    (
        "databases",
        "databases pg   or   databases pg with nodes pg1, pg2",
    ),
    ("user", "user NAME on SERVER"),
    ("room", "room NAME on SERVER"),
    ("setup", "setup { STATEMENTS }"),
    ("step", r#"step "WHAT THE TESTER DOES" { STATEMENTS }"#),
    ("teardown", "teardown { STATEMENTS }"),
    // statements
    (
        "connect",
        "connect USER [to NODE] [with starttls | direct-tls] [auth scram | plain | external | gssapi] [with stream-management, carbons] [without presence]",
    ),
    ("disconnect", "disconnect USER [abruptly]"),
    ("join", r#"join USER to ROOM [as "NICK"] [via SERVER]"#),
    ("leave", "leave USER from ROOM"),
    (
        "send",
        r#"send "TEXT" from USER to ROOM|USER   or   send from USER """<stanza/>""""#,
    ),
    ("wait", "wait DURATION"),
    (
        "expect",
        r#"expect USER receives [delayed] "TEXT", ... [from ROOM|USER] [in order] [within 5s]   (also: receives nothing | no stanzas, expect connect USER fails with "REASON", expect archive of ROOM as USER has N messages, expect link a -> b authenticated by certificate|dialback [over direct-tls|starttls] [within 30s], expect cluster C has nodes c1, c2 | split [within 60s], expect database D primary is N | has replicas N1, N2 [within 30s], expect USER resumed | reconnected | disconnected [with "CONDITION"] [within 30s]; `receives strict """<xml/>"""`: exactly these children, in order)"#,
    ),
    (
        "set",
        "set certificate of SERVER|USER to valid | expired | not-yet-valid | revoked | wrong-host | self-signed   (also: set ticket of USER to valid | expired | none)",
    ),
    ("revoke", "revoke certificate of SERVER|USER"),
    (
        "partition",
        "partition a | b   or   partition {a1, a2} | b   or   partition a -> b",
    ),
    ("isolate", "isolate SERVER"),
    ("heal", "heal [a | b]"),
    (
        "impair",
        "impair link A <-> B | A -> B  lag 200ms [jitter 50ms] | drop 10% | throttle 2s | duplicate 5% | reorder 10% | tamper 1% | bandwidth 64kbit [priority xmpp]",
    ),
    ("flood", "flood link A -> B at 2mbit for 30s"),
    (
        "restore",
        "restore [link A <-> B]   or   restore clock of SERVER|NODE",
    ),
    ("switch", "switch database DB to NODE"),
    (
        "skew",
        "skew clock of SERVER|NODE by 3s   (or by -3s: behind)",
    ),
    (
        "kill",
        "kill SERVER   or   kill database DB   or   kill database NODE process",
    ),
    ("stop", "stop SERVER   or   stop database DB"),
    ("start", "start SERVER   or   start database DB"),
    ("restart", "restart SERVER   or   restart database DB"),
    ("pause", "pause SERVER   or   pause database DB"),
    ("resume", "resume SERVER   or   resume database DB"),
    (
        "chaos",
        "chaos [seed N] for DURATION { every 10s..30s kill one of c1, c2 [for 5s] }",
    ),
    (
        "every",
        "every 10s[..30s] kill|stop|restart|pause|isolate one of a, b [for 5s]",
    ),
    ("parallel", "parallel { STATEMENTS }"),
    ("repeat", "repeat N times [every DURATION] { STATEMENTS }"),
    (
        "check",
        "check delivery in ROOM: no loss, no duplicates, in order",
    ),
];

/// The usage line of a keyword that starts a line.
pub fn usage(keyword: &str) -> Option<&'static str> {
    LINE_KEYWORDS
        .iter()
        .find(|(k, _)| *k == keyword)
        .map(|(_, usage)| *usage)
}

/// Keywords that start a statement (as opposed to file or case entries, and `every`, which
/// starts a chaos rule inside a chaos block).
pub fn is_statement(keyword: &str) -> bool {
    usage(keyword).is_some()
        && !crate::keywords::DECLARATIONS.words.contains(&keyword)
        && keyword != "every"
}
