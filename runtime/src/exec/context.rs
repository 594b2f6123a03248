//! The state of one running case: its resolved names, its sessions (each inbox knows what was
//! consumed), captures, and where events go.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jspec_lang::ast::{Procedure, Str, StrPart};
use jspec_lang::load::Program;
use jspec_lang::span::{SourceId, Span};
use rustls::RootCertStore;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::scope::CaseScope;
use crate::event::{CaseRef, FaultEvent, RunEvent};
use crate::fault::control::FaultControl;
use crate::xmpp::Session;

/// What a procedure parameter stands for at one call.
#[derive(Clone, Debug)]
pub(crate) enum Bound {
    /// A name of the case (`ops`).
    Name(String),
    /// A string value.
    Text(String),
}

/// Where the statements being run come from, and the parameters in force.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub(crate) file: SourceId,
    pub(crate) params: HashMap<String, Bound>,
    /// Call sites from the case inward: failures are reported at the first one.
    pub(crate) calls: Vec<(SourceId, Span, String)>,
    /// `${i}` of the enclosing repeats, innermost last.
    pub(crate) rounds: Vec<u64>,
    /// Running the case's teardown, which only cleans up.
    pub(crate) teardown: bool,
}

impl Frame {
    pub(crate) fn case(file: SourceId) -> Frame {
        Frame {
            file,
            params: HashMap::new(),
            calls: Vec::new(),
            rounds: Vec::new(),
            teardown: false,
        }
    }

    /// The name a written name stands for here; in a session name (`who/phone`) the user part
    /// is substituted.
    pub(crate) fn name(&self, written: &str) -> String {
        if let (user, Some(resource)) = jspec_lang::ast::session_parts(written) {
            return format!("{}/{resource}", self.name(user));
        }
        match self.params.get(written) {
            Some(Bound::Name(name)) => name.clone(),
            Some(Bound::Text(text)) => text.clone(),
            None => written.to_string(),
        }
    }
}

/// A running case.
#[derive(Debug)]
pub(crate) struct CaseContext<'p> {
    pub(crate) program: &'p Program,
    pub(crate) case: CaseRef,
    pub(crate) scope: CaseScope,
    pub(crate) procedures: HashMap<&'p str, (SourceId, &'p Procedure)>,
    pub(crate) trust: Arc<RootCertStore>,
    pub(crate) default_timeout: Duration,
    cancel: Mutex<CancellationToken>,
    pub(crate) events: mpsc::UnboundedSender<RunEvent>,
    sessions: Mutex<BTreeMap<String, Arc<Session>>>,
    captures: Mutex<BTreeMap<String, String>>,
    /// Per session, where the next `expect ... receives next` searches from.
    order: Mutex<HashMap<String, u64>>,
    /// Every session this case opened, also the closed ones, for the transcripts.
    pub(crate) history: Mutex<Vec<(String, Arc<Session>)>>,
    next_id: Mutex<u64>,
    /// Faults of the run (none when the lab offers no fault control).
    pub(crate) faults: Option<Arc<FaultControl>>,
    /// The managed lab (certificates, server settings, admin shells), if the run has one.
    pub(crate) lab: Option<Arc<crate::lab::Lab>>,
    /// The run's master seed; fault seeds derive from it.
    pub(crate) seed: u64,
    /// Deliberately wrong deliveries for every session (the mutation test).
    pub(crate) mutation: Option<crate::xmpp::Mutation>,
    /// Stream limits for every session.
    pub(crate) limits: crate::xmpp::Limits,
    pub(crate) started: Instant,
    /// Messages sent to rooms and who was there, for `check delivery`.
    pub(crate) delivery: Mutex<super::delivery::DeliveryLog>,
}

impl<'p> CaseContext<'p> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        program: &'p Program,
        case: CaseRef,
        scope: CaseScope,
        procedures: HashMap<&'p str, (SourceId, &'p Procedure)>,
        trust: Arc<RootCertStore>,
        default_timeout: Duration,
        cancel: CancellationToken,
        events: mpsc::UnboundedSender<RunEvent>,
    ) -> Self {
        CaseContext {
            program,
            case,
            scope,
            procedures,
            trust,
            default_timeout,
            cancel: Mutex::new(cancel),
            events,
            sessions: Mutex::default(),
            order: Mutex::default(),
            captures: Mutex::default(),
            history: Mutex::default(),
            next_id: Mutex::new(0),
            faults: None,
            lab: None,
            seed: 0,
            mutation: None,
            limits: crate::xmpp::Limits::default(),
            started: Instant::now(),
            delivery: Mutex::default(),
        }
    }

    /// Emits a fault of the trace.
    pub(crate) fn trace_fault(&self, action: &str, target: &str, origin: &str) {
        self.emit(RunEvent::Fault(FaultEvent {
            case: self.case.clone(),
            at: self.started.elapsed(),
            action: action.to_string(),
            target: target.to_string(),
            origin: origin.to_string(),
        }));
    }

    /// The token that cancels the case's waits.
    pub(crate) fn cancel(&self) -> CancellationToken {
        lock(&self.cancel).clone()
    }

    /// Replaces the cancellation token (teardown after an interruption gets a fresh one).
    pub(crate) fn set_cancel(&self, token: CancellationToken) {
        *lock(&self.cancel) = token;
    }

    pub(crate) fn emit(&self, event: RunEvent) {
        // The receiver lives until the run ends; a closed channel only means reporting stopped.
        let _ = self.events.send(event);
    }

    pub(crate) fn session(&self, user: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).get(user).cloned()
    }

    /// Where `user`'s next `expect ... receives next` searches from: after what the previous
    /// one took.
    pub(crate) fn order_cursor(&self, user: &str) -> u64 {
        lock(&self.order).get(user).copied().unwrap_or(0)
    }

    pub(crate) fn set_order_cursor(&self, user: &str, cursor: u64) {
        lock(&self.order).insert(user.to_string(), cursor);
    }

    /// The full JID a session has, or had last (after `disconnect`); `None` before it ever
    /// connected.
    pub(crate) fn bound_jid(&self, user: &str) -> Option<String> {
        self.session(user)
            .or_else(|| {
                lock(&self.history)
                    .iter()
                    .rev()
                    .find(|(name, _)| name == user)
                    .map(|(_, s)| s.clone())
            })
            .map(|s| s.jid().to_string())
    }

    pub(crate) fn set_session(&self, user: &str, session: Arc<Session>) {
        // A new session has a new inbox: `next` starts from its beginning.
        lock(&self.order).remove(user);
        lock(&self.history).push((user.to_string(), session.clone()));
        lock(&self.sessions).insert(user.to_string(), session);
    }

    pub(crate) fn take_session(&self, user: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).remove(user)
    }

    pub(crate) fn open_sessions(&self) -> Vec<(String, Arc<Session>)> {
        lock(&self.sessions)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub(crate) fn capture(&self, values: BTreeMap<String, String>) {
        lock(&self.captures).extend(values);
    }

    /// A stanza id unique in this case.
    pub(crate) fn next_id(&self) -> String {
        let mut next = lock(&self.next_id);
        *next += 1;
        format!("jspec-{}", *next)
    }

    /// The value of a string with its interpolations replaced.
    pub(crate) fn interpolate(&self, string: &Str, frame: &Frame) -> Result<String, String> {
        self.interpolate_as(string, frame, Escape::None)
    }

    /// A raw stanza: interpolated values are XML-escaped, so `<&"` in a value stay text.
    pub(crate) fn interpolate_xml(&self, string: &Str, frame: &Frame) -> Result<String, String> {
        self.interpolate_as(string, frame, Escape::Xml)
    }

    /// An XML pattern: values are XML-escaped and their braces doubled, so a value is matched
    /// literally (a value `{any}` is not a wildcard).
    pub(crate) fn interpolate_pattern(
        &self,
        string: &Str,
        frame: &Frame,
    ) -> Result<String, String> {
        self.interpolate_as(string, frame, Escape::Pattern)
    }

    fn interpolate_as(
        &self,
        string: &Str,
        frame: &Frame,
        escape: Escape,
    ) -> Result<String, String> {
        let mut out = String::new();
        for part in &string.parts {
            match part {
                StrPart::Text(text) => out.push_str(text),
                StrPart::Interp(interp) => {
                    let name = &interp.name.text;
                    let field = interp.field.as_ref().map(|f| f.text.as_str());
                    let value = match (frame.params.get(name), field) {
                        (Some(Bound::Text(text)), None) => Some(text.clone()),
                        _ if name == "i" && field.is_none() && !frame.rounds.is_empty() => {
                            frame.rounds.last().map(u64::to_string)
                        }
                        _ if name == "case" && field == Some("tag") => Some(self.scope.tag.clone()),
                        _ => lock(&self.captures)
                            .get(name)
                            .filter(|_| field.is_none())
                            .cloned()
                            .or_else(|| {
                                let target = frame.name(name);
                                self.scope
                                    .field(&target, field, |user| self.bound_jid(user))
                            }),
                    };
                    match value {
                        Some(value) => escape.push(&value, &mut out),
                        None if field == Some("full")
                            && self.scope.user(&frame.name(name)).is_some() =>
                        {
                            let session = frame.name(name);
                            return Err(format!(
                                "`${{{}}}` has no value here: {session} has not connected yet (a full JID exists once `connect {session}` has bound its resource)",
                                interp_text(name, field)
                            ));
                        }
                        None => {
                            return Err(format!(
                                "`${{{}}}` has no value here",
                                interp_text(name, field)
                            ));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// How interpolated values are written into the text around them.
#[derive(Clone, Copy, Debug)]
enum Escape {
    None,
    Xml,
    Pattern,
}

impl Escape {
    fn push(self, value: &str, out: &mut String) {
        match self {
            Escape::None => out.push_str(value),
            Escape::Xml => out.push_str(&escape_xml(value)),
            Escape::Pattern => out.push_str(&super::matcher::escape_braces(&escape_xml(value))),
        }
    }
}

/// `&`, `<`, `>` and both quotes as entities: safe in text and in attribute values.
fn escape_xml(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn interp_text(name: &str, field: Option<&str>) -> String {
    match field {
        Some(field) => format!("{name}.{field}"),
        None => name.to_string(),
    }
}

pub(crate) use crate::sync::lock;
