//! Statements in plain English, for readers who do not know jspec (TestRail's step content and
//! expected results, run reports). One function per statement kind; procedure calls are
//! expanded into the procedure's statements with the arguments put in for the parameters.
//!
//! `connect alice with direct-tls` reads "Alice connects with Direct TLS";
//! `expect bob receives "hello" from ops within 5s` reads "Bob receives "hello" from room ops
//! within 5 s".

mod expect;
mod fault;
mod session;
mod words;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::ast::{
    Argument, Block, Case, CaseEntryKind, Count, Duration, Name, Procedure, StmtKind, Str,
};
use crate::span::SourceId;

/// Procedures by name, as [`crate::load::Program::visible_procedures`] returns them.
pub type Procedures<'a> = HashMap<&'a str, (SourceId, &'a Procedure)>;

/// Calls nested deeper than this are not expanded (the checker reports recursion; this only
/// keeps prose finite on a program that was not checked).
const MAX_CALL_DEPTH: usize = 16;

/// Calls expanded in the prose of one case, at most; later calls read as written. No readable
/// case comes near, and it keeps procedures that call procedures several times over from making
/// the prose, and the time to write it, explode (two calls a level made 2^16 lines down to the
/// depth limit, ten calls a level 10^16).
const MAX_EXPANDED_CALLS: usize = 1_000;

/// Whether a line says what the tester does or what must be seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Action,
    Expectation,
}

/// One statement in English. The text may span lines (a raw stanza, a nested block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub text: String,
}

/// Renders statements for one case: knows its rooms (so `to ops` reads "to room ops") and the
/// procedures its file can call.
#[derive(Clone, Debug)]
pub struct Prose<'a> {
    procedures: &'a Procedures<'a>,
    rooms: HashSet<String>,
    users: HashSet<String>,
    /// The parameters of the procedure being expanded, bound to the caller's arguments.
    frame: HashMap<String, Arg>,
    depth: usize,
    /// Calls that may still be expanded, shared with the callees' prose.
    expansions_left: Arc<AtomicUsize>,
}

/// An argument as the callee sees it.
#[derive(Clone, Debug)]
enum Arg {
    /// A name of the calling case (a user, room, server).
    Name(String),
    /// A string's value (interpolations of the caller kept as `${...}`).
    Text(String),
}

impl<'a> Prose<'a> {
    /// Prose for the statements of `case`.
    pub fn for_case(case: &Case, procedures: &'a Procedures<'a>) -> Prose<'a> {
        let declared = |room: bool| {
            case.entries
                .iter()
                .filter_map(move |entry| match &entry.kind {
                    CaseEntryKind::Room { name, .. } if room => Some(name.text.clone()),
                    CaseEntryKind::User { name, .. } if !room => Some(name.text.clone()),
                    _ => None,
                })
        };
        let mut prose = Prose::new(declared(true), procedures);
        prose.users = declared(false).collect();
        prose
    }

    /// Prose for statements outside a case: `rooms` are the names that read "room NAME".
    pub fn new(
        rooms: impl IntoIterator<Item = String>,
        procedures: &'a Procedures<'a>,
    ) -> Prose<'a> {
        Prose {
            procedures,
            rooms: rooms.into_iter().collect(),
            users: HashSet::new(),
            frame: HashMap::new(),
            depth: 0,
            expansions_left: Arc::new(AtomicUsize::new(MAX_EXPANDED_CALLS)),
        }
    }

    /// The statements of a block, in order, with calls expanded.
    pub fn block(&self, block: &Block) -> Vec<Line> {
        block
            .stmts
            .iter()
            .flat_map(|s| self.statement(&s.kind))
            .collect()
    }

    /// One statement; a call gives the lines of the procedure's body.
    pub fn statement(&self, kind: &StmtKind) -> Vec<Line> {
        match kind {
            StmtKind::Call { name, args } => self.call(name, args),
            other => vec![self.simple(other)],
        }
    }

    /// A statement that is one line of English.
    fn simple(&self, kind: &StmtKind) -> Line {
        match kind {
            StmtKind::Connect { user, options } => action(self.connect(user, options)),
            StmtKind::Disconnect { user, abrupt } => action(self.disconnect(user, *abrupt)),
            StmtKind::Join(join) => action(self.join(join)),
            StmtKind::Leave { user, room } => action(self.leave(user, room)),
            StmtKind::Send { body, from, to } => action(self.send(body, from, to)),
            StmtKind::SendRaw { from, xml } => action(self.send_raw(from, xml)),
            StmtKind::Wait(d) => action(wait(d)),
            StmtKind::ExpectReceives(receives) => expectation(self.receives(receives)),
            StmtKind::ExpectConnectFails(fails) => expectation(self.connect_fails(fails)),
            StmtKind::ExpectArchive(archive) => expectation(self.archive(archive)),
            StmtKind::ExpectLink(link) => expectation(self.link(link)),
            StmtKind::SetCertificate { target, state, .. } => {
                action(self.set_certificate(target, *state))
            }
            StmtKind::RevokeCertificate { target } => action(self.revoke_certificate(target)),
            StmtKind::SetTicket { user, state } => action(self.set_ticket(user, *state)),
            StmtKind::Partition(cut) => action(self.partition(cut)),
            StmtKind::Isolate(target) => action(self.isolate(target)),
            StmtKind::Heal(cut) => action(self.heal(cut.as_ref())),
            StmtKind::Impair { link, impairments } => action(self.impair(link, impairments)),
            StmtKind::Flood {
                link,
                rate,
                duration,
            } => action(self.flood(link, rate, duration)),
            StmtKind::Restore(link) => action(self.restore(link.as_ref())),
            StmtKind::SkewClock {
                target,
                offset_millis,
                ..
            } => action(self.skew_clock(target, *offset_millis)),
            StmtKind::RestoreClock { target } => action(self.restore_clock(target)),
            StmtKind::SetClock { target, at } => action(self.set_clock(target, at)),
            StmtKind::ExpectSession {
                user,
                event,
                within,
            } => expectation(self.session_event(user, event, within.as_ref())),
            StmtKind::ExpectCluster {
                cluster,
                expected,
                within,
            } => expectation(self.cluster(cluster, expected, within.as_ref())),
            StmtKind::ExpectDatabase {
                database,
                expected,
                within,
            } => expectation(self.database(database, expected, within.as_ref())),
            StmtKind::SwitchDatabase { database, to } => action(self.switch_database(database, to)),
            StmtKind::Process {
                action: verb,
                database,
                target,
                only_process,
            } => action(self.process(*verb, *database, target, only_process.is_some())),
            StmtKind::Chaos(chaos) => action(self.chaos(chaos)),
            StmtKind::CheckDelivery { room, properties } => {
                expectation(self.check_delivery(room, properties))
            }
            StmtKind::Parallel(body) => self.parallel(body),
            StmtKind::Repeat { count, every, body } => self.repeat(count, every.as_ref(), body),
            // A call where one line is wanted (a chaos rule's fault): its lines joined.
            StmtKind::Call { name, args } => joined(self.call(name, args)),
        }
    }

    /// `parallel { ... }`: "At the same time:" and each branch on its own line.
    fn parallel(&self, body: &Block) -> Line {
        nested("At the same time:".to_string(), &self.block(body))
    }

    /// `repeat 3 times every 200ms { ... }`: "Repeat 3 times, every 200 ms:" and the body.
    fn repeat(&self, count: &Count, every: Option<&Duration>, body: &Block) -> Line {
        let mut head = format!("Repeat {} times", count.value);
        if let Some(every) = every {
            head.push_str(&format!(", every {}", words::duration(every)));
        }
        head.push(':');
        nested(head, &self.block(body))
    }

    /// `join_both(ops)`: the procedure's statements, its parameters bound to the arguments. An
    /// unknown procedure (or one too deeply nested, or past the expansions allowed) reads as
    /// the call itself.
    fn call(&self, name: &Name, args: &[Argument]) -> Vec<Line> {
        let found = self.procedures.get(name.text.as_str());
        let expandable = |_: &_| self.depth < MAX_CALL_DEPTH && self.take_expansion();
        let Some((_, procedure)) = found.filter(expandable) else {
            return vec![action(self.call_as_written(name, args))];
        };
        let frame = procedure
            .params
            .iter()
            .zip(args)
            .map(|(param, arg)| {
                let bound = match arg {
                    Argument::Name(n) => self.bound(n),
                    Argument::Str(s) => Arg::Text(self.text(s)),
                };
                (param.text.clone(), bound)
            })
            .collect();
        let callee = Prose {
            procedures: self.procedures,
            rooms: self.rooms.clone(),
            users: self.users.clone(),
            frame,
            depth: self.depth + 1,
            expansions_left: Arc::clone(&self.expansions_left),
        };
        let lines = callee.block(&procedure.body);
        if lines.is_empty() {
            return vec![action(self.call_as_written(name, args))];
        }
        lines
    }

    /// Whether one more call may be expanded (and counts it).
    fn take_expansion(&self) -> bool {
        self.expansions_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }

    /// `Call join_both(ops)`.
    fn call_as_written(&self, name: &Name, args: &[Argument]) -> String {
        let args: Vec<String> = args
            .iter()
            .map(|arg| match arg {
                Argument::Name(n) => self.raw(n),
                Argument::Str(s) => words::quoted(&self.text(s)),
            })
            .collect();
        format!("Call {}({})", name.text, args.join(", "))
    }

    /// What a name stands for here: a parameter's argument, or the name itself.
    fn bound(&self, name: &Name) -> Arg {
        self.frame
            .get(&name.text)
            .cloned()
            .unwrap_or_else(|| Arg::Name(name.text.clone()))
    }

    /// The name as the case knows it (`ops`, `alice`, `a`).
    fn raw(&self, name: &Name) -> String {
        match self.bound(name) {
            Arg::Name(text) | Arg::Text(text) => text,
        }
    }

    /// A user: `Alice`.
    fn user(&self, name: &Name) -> String {
        words::capitalized(&self.raw(name))
    }

    /// A message peer, a user or a room: `Bob`, `room ops`.
    fn peer(&self, name: &Name) -> String {
        let raw = self.raw(name);
        if self.rooms.contains(&raw) {
            format!("room {raw}")
        } else {
            words::capitalized(&raw)
        }
    }

    /// What holds a certificate: `Alice` (a client certificate) or `server b`.
    fn holder(&self, name: &Name) -> String {
        let raw = self.raw(name);
        if self.users.contains(&raw) {
            words::capitalized(&raw)
        } else {
            format!("server {raw}")
        }
    }

    /// A string's value, interpolations of parameters replaced by their arguments.
    fn text(&self, s: &Str) -> String {
        let mut out = String::new();
        for part in &s.parts {
            match part {
                crate::ast::StrPart::Text(text) => out.push_str(text),
                crate::ast::StrPart::Interp(interp) => {
                    match (self.bound(&interp.name), &interp.field) {
                        (Arg::Text(text), None) => out.push_str(&text),
                        (Arg::Name(name), Some(field)) => {
                            out.push_str(&format!("${{{name}.{}}}", field.text))
                        }
                        (Arg::Name(name), None) => out.push_str(&format!("${{{name}}}")),
                        (Arg::Text(_), Some(_)) => out.push_str(&interp.written()),
                    }
                }
            }
        }
        out
    }
}

fn action(text: String) -> Line {
    Line {
        kind: LineKind::Action,
        text,
    }
}

fn expectation(text: String) -> Line {
    Line {
        kind: LineKind::Expectation,
        text,
    }
}

/// A heading and indented inner lines; an expectation only when everything inside is one.
fn nested(head: String, inner: &[Line]) -> Line {
    let all_expect = !inner.is_empty() && inner.iter().all(|l| l.kind == LineKind::Expectation);
    let mut text = head;
    for line in inner {
        for (i, part) in line.text.lines().enumerate() {
            text.push('\n');
            text.push_str(if i == 0 { "  - " } else { "    " });
            text.push_str(part);
        }
    }
    Line {
        kind: if all_expect {
            LineKind::Expectation
        } else {
            LineKind::Action
        },
        text,
    }
}

/// Several lines as one; an expectation only when each is one.
fn joined(lines: Vec<Line>) -> Line {
    let all_expect = lines.iter().all(|l| l.kind == LineKind::Expectation);
    let text: Vec<String> = lines.into_iter().map(|l| l.text).collect();
    Line {
        kind: if all_expect {
            LineKind::Expectation
        } else {
            LineKind::Action
        },
        text: text.join("\n"),
    }
}

/// `wait 2s`: "Wait 2 s".
fn wait(d: &Duration) -> String {
    format!("Wait {}", words::duration(d))
}

#[cfg(test)]
mod tests;
