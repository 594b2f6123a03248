//! One test per statement kind: the English a reader of TestRail sees.

use super::{LineKind, Prose};
use crate::ast::{CaseEntryKind, ItemKind};
use crate::load::Program;

/// The lines of `statements` written in a step of a case with users alice and bob, room ops and
/// a procedure `greet(room, text)`.
fn english(statements: &str) -> Vec<(LineKind, String)> {
    let text = format!(
        "procedure greet(room, text) {{\n  send \"${{text}}\" from alice to room\n  expect bob receives \"${{text}}!\" from room\n}}\n\
         case C1 \"t\" {{\n  servers a, b\n  user alice on a\n  user bob on b\n  room ops on a\n  step \"s\" {{\n{statements}\n  }}\n}}\n"
    );
    let program = Program::from_text("t.jspec", &text);
    assert!(program.diagnostics.is_empty(), "{:?}", program.diagnostics);
    let file = program.roots[0];
    let procedures = program.visible_procedures(file);
    let ast = program.module(file).ast.as_ref().expect("parsed");
    let case = ast
        .items
        .iter()
        .find_map(|item| match &item.kind {
            ItemKind::Case(case) => Some(case),
            _ => None,
        })
        .expect("a case");
    let body = case
        .entries
        .iter()
        .find_map(|e| match &e.kind {
            CaseEntryKind::Step { body, .. } => Some(body),
            _ => None,
        })
        .expect("a step");
    let prose = Prose::for_case(case, &procedures);
    prose
        .block(body)
        .into_iter()
        .map(|l| (l.kind, l.text))
        .collect()
}

fn one(statement: &str) -> String {
    let lines = english(statement);
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines[0].1.clone()
}

fn kind(statement: &str) -> LineKind {
    english(statement)[0].0
}

#[test]
fn connect() {
    assert_eq!(
        one("connect alice with direct-tls"),
        "Alice connects with Direct TLS"
    );
    assert_eq!(
        one("connect alice to c2 with starttls auth scram"),
        "Alice connects to node c2 with STARTTLS, authenticating with SCRAM"
    );
    assert_eq!(kind("connect alice"), LineKind::Action);
}

#[test]
fn disconnect() {
    assert_eq!(one("disconnect alice"), "Alice disconnects");
    assert_eq!(
        one("disconnect alice abruptly"),
        "Alice's connection drops abruptly"
    );
}

#[test]
fn join_and_leave() {
    assert_eq!(
        one("join bob to ops as \"Bob\" via b"),
        "Bob joins room ops as \"Bob\" via server b"
    );
    assert_eq!(one("leave alice from ops"), "Alice leaves room ops");
}

#[test]
fn send() {
    assert_eq!(
        one("send \"hi\" from alice to ops"),
        "Alice sends \"hi\" to room ops"
    );
    assert_eq!(
        one("send \"hi ${bob.jid}\" from alice to bob"),
        "Alice sends \"hi ${bob.jid}\" to Bob"
    );
}

#[test]
fn send_raw_shows_the_xml() {
    assert_eq!(
        one("send from alice \"\"\"<iq type=\"get\" id=\"v1\"/>\"\"\""),
        "Alice sends the stanza <iq type=\"get\" id=\"v1\"/>"
    );
    assert_eq!(
        one("send from alice \"\"\"\n<iq type=\"get\">\n  <query/>\n</iq>\n\"\"\""),
        "Alice sends the stanza:\n    <iq type=\"get\">\n      <query/>\n    </iq>"
    );
}

#[test]
fn wait() {
    assert_eq!(one("wait 2s"), "Wait 2 s");
    assert_eq!(one("wait 250ms"), "Wait 250 ms");
    assert_eq!(one("wait 1500ms"), "Wait 1.5 s");
    assert_eq!(one("wait 2m"), "Wait 2 min");
}

#[test]
fn expect_receives() {
    assert_eq!(
        one("expect bob receives \"hello\" from ops within 5s"),
        "Bob receives \"hello\" from room ops within 5 s"
    );
    assert_eq!(
        one("expect bob receives \"m1\", \"m2\" from ops in order within 30s"),
        "Bob receives \"m1\", \"m2\" in order from room ops within 30 s"
    );
    assert_eq!(
        one("expect bob receives nothing from alice within 3s"),
        "Bob receives nothing from Alice within 3 s"
    );
    assert_eq!(
        one("expect bob receives \"\"\"<presence from=\"{any}/Alice\"/>\"\"\" within 10s"),
        "Bob receives a stanza matching <presence from=\"{any}/Alice\"/> within 10 s"
    );
    assert_eq!(
        one("expect bob receives strict \"\"\"\n<iq>\n  <a/>\n</iq>\n\"\"\" within 1s"),
        "Bob receives a stanza matching (exactly these children, in this order) within 1 s:\n    <iq>\n      <a/>\n    </iq>"
    );
    assert_eq!(kind("expect bob receives nothing"), LineKind::Expectation);
    assert_eq!(
        one("expect bob receives no stanzas from alice within 2s"),
        "Bob receives no stanza of any kind from Alice within 2 s"
    );
    assert_eq!(
        one("expect bob receives delayed \"m1\" from ops within 5s"),
        "Bob receives (delayed, from history or offline storage) \"m1\" from room ops within 5 s"
    );
}

#[test]
fn expect_connect_fails() {
    assert_eq!(
        one("expect connect alice fails with \"certificate-expired\""),
        "Alice's connection fails: certificate-expired"
    );
    assert_eq!(
        one("expect connect alice with direct-tls fails with \"tls-failed\" within 10s"),
        "Alice's connection with Direct TLS fails within 10 s: tls-failed"
    );
}

#[test]
fn expect_archive() {
    assert_eq!(
        one("expect archive of ops as bob has 3 messages in order"),
        "The archive of room ops, read by Bob, has 3 messages, in order"
    );
}

#[test]
fn expect_link() {
    assert_eq!(
        one("expect link a -> b authenticated by certificate over direct-tls"),
        "The link from a to b is authenticated by certificate over Direct TLS"
    );
    assert_eq!(
        one("expect link a -> b authenticated by dialback within 5s"),
        "The link from a to b is authenticated by dialback within 5 s"
    );
}

#[test]
fn certificates_and_tickets() {
    assert_eq!(
        one("set certificate of b to expired"),
        "Give server b an expired certificate"
    );
    assert_eq!(
        one("revoke certificate of b"),
        "Revoke the certificate of server b (published by CRL and OCSP)"
    );
    assert_eq!(
        one("set certificate of alice to revoked"),
        "Give Alice a revoked certificate"
    );
    assert_eq!(
        one("set ticket of alice to expired"),
        "Give Alice an expired Kerberos ticket"
    );
    assert_eq!(
        one("set ticket of alice to none"),
        "Take Alice's Kerberos ticket away"
    );
}

#[test]
fn partition_isolate_heal() {
    assert_eq!(
        one("partition a | b"),
        "Cut the network between a and b in both directions"
    );
    assert_eq!(
        one("partition a -> b reject"),
        "Cut the network from a to b (one way: b can still reach a), resetting connections and refusing new ones"
    );
    assert_eq!(
        one("partition {a, b} | alice"),
        "Cut the network between {a, b} and alice in both directions"
    );
    assert_eq!(
        one("isolate a"),
        "Cut a off from every other server, node and client"
    );
    assert_eq!(
        one("heal a | b"),
        "Heal the network between a and b in both directions"
    );
    assert_eq!(
        one("heal"),
        "Heal every network cut and lift every impairment"
    );
}

#[test]
fn impair_and_restore() {
    assert_eq!(
        one("impair link a <-> b lag 200ms jitter 50ms drop 10%"),
        "Impair the link between a and b: 200 ms lag (± 50 ms jitter), 10% packet loss"
    );
    assert_eq!(
        one("impair link alice -> a bandwidth 64kbit throttle 2s"),
        "Impair the link from alice to a: bandwidth limited to 64 kbit/s, traffic held back and released every 2 s"
    );
    assert_eq!(
        one("restore link a <-> b"),
        "Restore the link between a and b"
    );
    assert_eq!(one("restore"), "Restore every impaired link");
}

#[test]
fn processes() {
    assert_eq!(one("kill a"), "Kill server a (as a crash would)");
    assert_eq!(one("restart a"), "Restart server a");
    assert_eq!(one("stop database pg"), "Stop database pg cleanly");
}

#[test]
fn chaos() {
    assert_eq!(
        one("chaos seed 7 for 30s { every 5s..10s kill one of a, b }"),
        "For 30 s, inject faults at random (seed 7), then undo them:\n  - Every 5 s to 10 s: kill one of a or b"
    );
    assert_eq!(
        one("chaos for 1m { every 10s partition a | b for 5s }"),
        "For 1 min, inject faults at random, then undo them:\n  - Every 10 s: cut the network between a and b in both directions, lasting 5 s"
    );
}

#[test]
fn parallel_and_repeat_nest_their_statements() {
    assert_eq!(
        one("parallel {\n send \"x\" from alice to ops\n kill a\n}"),
        "At the same time:\n  - Alice sends \"x\" to room ops\n  - Kill server a (as a crash would)"
    );
    assert_eq!(
        one("repeat 3 times every 200ms { send \"m${i}\" from alice to ops }"),
        "Repeat 3 times, every 200 ms:\n  - Alice sends \"m${i}\" to room ops"
    );
    assert_eq!(
        kind("repeat 2 times { expect bob receives \"x\" }"),
        LineKind::Expectation
    );
}

#[test]
fn check_delivery() {
    assert_eq!(
        one("check delivery in ops: no loss, no duplicates, in order"),
        "Messages sent to room ops were delivered with no loss, no duplicates, in order"
    );
}

#[test]
fn calls_are_expanded_with_their_arguments() {
    assert_eq!(
        english("greet(ops, \"hey ${bob.jid}\")"),
        vec![
            (
                LineKind::Action,
                "Alice sends \"hey ${bob.jid}\" to room ops".to_string()
            ),
            (
                LineKind::Expectation,
                "Bob receives \"hey ${bob.jid}!\" from room ops".to_string()
            ),
        ]
    );
}
