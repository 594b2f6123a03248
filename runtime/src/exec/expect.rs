//! Expectations on what an actor receives: messages by text, XML patterns, `nothing` and
//! `no stanzas`; and a connection that must fail. Each searches the actor's inbox until its
//! deadline. A stanza an expectation (or one of jspec's own statements) took is consumed and
//! never matched again; taking is atomic, so parallel branches never share a stanza.
//!
//! Only live stanzas match unless the expectation says `delayed`; then only delayed ones do
//! (see [`Received::is_delayed`]).

use std::time::{Duration, Instant};

use jspec_lang::ast::{ExpectConnectFails, ExpectReceives, Expected, Str};
use minidom::Element;

use super::context::{CaseContext, Frame};
use super::interp::NS_CLIENT;
use super::matcher::{Captures, Pattern};
use super::outcome::{StmtError, StmtResult, fail, fail_expected, fail_observed};
use super::peer::Peer;
use crate::xmpp::{Arrival, Received, Session, Verdict, Waited};

/// What one expected message is.
enum Wanted {
    /// A message with this body.
    Text(String),
    /// A stanza matching the pattern; the text is the pattern as written (interpolated).
    Pattern(Pattern, String),
}

/// One expected message with the conditions of its expectation.
struct Search<'a> {
    wanted: Wanted,
    from: Option<&'a Peer>,
    /// ` from alice` as the failure says it (a procedure's parameter resolved), or nothing.
    source: String,
    delayed: bool,
    /// `next`: in order, after what the user's previous `next` expectation took; live or
    /// delayed as it comes.
    next: bool,
    /// For `next`: where its search started (what came before is out of order).
    order_from: u64,
}

impl Search<'_> {
    /// Whether `stanza` is the one wanted, with the captures of a pattern.
    fn matches(&self, received: &Received) -> Option<Captures> {
        let stanza = received.stanza()?;
        // `next` takes the stanza as it comes, live or delayed, unless `delayed` is written.
        let delivery = match self.next {
            true => !self.delayed || received.is_delayed(),
            false => received.is_delayed() == self.delayed,
        };
        if !delivery || self.from.is_some_and(|p| !p.said(stanza)) {
            return None;
        }
        match &self.wanted {
            Wanted::Text(text) => {
                (is_message(stanza) && body(stanza).as_deref() == Some(text)).then(Captures::new)
            }
            Wanted::Pattern(pattern, _) => pattern.matches(stanza),
        }
    }

    /// Whether `stanza` is the error answer to the request whose result is wanted; for
    /// `next`, also a result that does not match (what came before it cannot be the answer).
    fn refused(&self, received: &Received) -> bool {
        let Wanted::Pattern(pattern, _) = &self.wanted else {
            return false;
        };
        let answer = |t: Option<&str>| t == Some("error") || (self.next && t == Some("result"));
        received.stanza().is_some_and(|s| {
            s.name() == "iq"
                && answer(s.attr("type"))
                && pattern
                    .result_of()
                    .is_some_and(|id| s.attr("id") == Some(id))
        })
    }

    /// The same search for the other kind of delivery (live or delayed), for a hint.
    fn other_delivery(&self, received: &Received) -> bool {
        let stanza = received.stanza();
        (!self.next || self.delayed)
            && received.is_delayed() != self.delayed
            && stanza.is_some_and(|s| self.from.is_none_or(|p| p.said(s)))
            && match &self.wanted {
                Wanted::Text(text) => {
                    stanza.is_some_and(|s| is_message(s) && body(s).as_deref() == Some(text))
                }
                Wanted::Pattern(pattern, _) => stanza.is_some_and(|s| pattern.matches(s).is_some()),
            }
    }
}

/// A `nothing` or `no stanzas` expectation.
struct Quiet<'a> {
    from: Option<&'a Peer>,
    /// " from alice", as written, for messages.
    source: String,
    silence: Silence,
}

/// What a `nothing` or `no stanzas` expectation counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Silence {
    /// Every message stanza: with or without a body, errors included, live or delayed.
    Messages,
    /// Every stanza: messages, presences and iqs.
    Stanzas,
}

impl CaseContext<'_> {
    pub(crate) async fn expect_receives(
        &self,
        expect: &ExpectReceives,
        frame: &Frame,
    ) -> StmtResult {
        let user = frame.name(&expect.user.text);
        let session = self.connected(&user)?;
        let within = expect.within.map_or(self.default_timeout, |d| d.as_std());
        let started = Instant::now();
        let deadline = started + within;
        let from = match &expect.from {
            Some(from) => Some(self.peer(&frame.name(&from.text))?),
            None => None,
        };
        let source = expect
            .from
            .as_ref()
            .map(|f| format!(" from {}", frame.name(&f.text)))
            .unwrap_or_default();
        let silence = |silence| Quiet {
            from: from.as_ref(),
            source: source.clone(),
            silence,
        };
        let messages = match &expect.expected {
            Expected::Nothing(_) => {
                let quiet = silence(Silence::Messages);
                return self.expect_silence(&user, &session, &quiet, within).await;
            }
            Expected::NoStanzas(_) => {
                let quiet = silence(Silence::Stanzas);
                return self.expect_silence(&user, &session, &quiet, within).await;
            }
            Expected::Messages(messages) => messages,
        };
        // `next` searches after what the previous `next` of this user took.
        let mut cursor = match expect.next {
            Some(_) => self.order_cursor(&user),
            None => 0,
        };
        for message in messages {
            let search = Search {
                wanted: self.wanted(message, expect.strict, frame)?,
                from: from.as_ref(),
                source: source.clone(),
                delayed: expect.delayed,
                next: expect.next.is_some(),
                order_from: cursor,
            };
            let mut captured = None;
            let waited = session
                .inbox()
                .next(
                    cursor,
                    |r| {
                        captured = search.matches(r);
                        match captured {
                            Some(_) => Verdict::Take,
                            None if search.refused(r) => Verdict::Stop,
                            None => Verdict::Skip,
                        }
                    },
                    deadline,
                    &self.cancel(),
                )
                .await;
            match waited {
                Waited::Taken(found) => {
                    self.capture(captured.unwrap_or_default());
                    if expect.in_order {
                        cursor = found.seq + 1;
                    }
                    if search.next {
                        self.set_order_cursor(&user, found.seq + 1);
                    }
                }
                Waited::Cancelled => return Err(StmtError::Interrupted),
                Waited::Stopped(error) => return Err(self.refused(&user, &search, &error)),
                Waited::Ended(end) => {
                    return Err(self.missed(
                        &user,
                        &session,
                        &search,
                        (started, within),
                        Some(&end),
                    ));
                }
                Waited::TimedOut => {
                    return Err(self.missed(&user, &session, &search, (started, within), None));
                }
            }
        }
        Ok(())
    }

    /// The text or pattern of one expected message, interpolated.
    fn wanted(&self, message: &Str, strict: bool, frame: &Frame) -> Result<Wanted, StmtError> {
        if message.is_xml() {
            let xml = self.interpolate_pattern(message, frame).map_err(fail)?;
            let pattern = Pattern::parse(&xml, strict).map_err(fail)?;
            let written = self.interpolate_xml(message, frame).map_err(fail)?;
            Ok(Wanted::Pattern(pattern, written.trim().to_string()))
        } else {
            Ok(Wanted::Text(
                self.interpolate(message, frame).map_err(fail)?,
            ))
        }
    }

    /// The failure of an expectation whose request was answered with an error.
    fn refused(&self, user: &str, search: &Search<'_>, error: &Received) -> StmtError {
        let stanza = error.stanza().map(String::from);
        let condition = error
            .stanza()
            .map(crate::xmpp::error_condition)
            .unwrap_or_default();
        let expected = match &search.wanted {
            Wanted::Pattern(_, written) => written.clone(),
            Wanted::Text(text) => text.clone(),
        };
        let message = match error.stanza().and_then(|s| s.attr("type")) {
            Some("result") => format!("{user}'s request was answered, but not as expected"),
            _ => format!("{user}'s request was answered with an error: {condition}"),
        };
        fail_expected(message, expected, stanza)
    }

    /// The failure of an expectation whose message never came, waited for `within` from `started`.
    fn missed(
        &self,
        user: &str,
        session: &Session,
        search: &Search<'_>,
        (started, within): (Instant, Duration),
        end: Option<&Received>,
    ) -> StmtError {
        let window = crate::env::format_duration(within);
        let source = &search.source;
        let delayed = if search.delayed { "delayed " } else { "" };
        let snapshot = session.inbox().snapshot();
        // A connection lost during the wait may be why: say so, and whether it came back.
        let is_back =
            |r: &Received| matches!(r.arrival, Arrival::Resumed | Arrival::Reconnected(_));
        let back = |lost: &Received| snapshot.iter().any(|r| r.seq > lost.seq && is_back(r));
        let mut losses: Vec<&Received> = snapshot
            .iter()
            .filter(|r| matches!(r.arrival, Arrival::Lost(_)) && r.at >= started)
            .collect();
        // So may one lost just before the wait (say, while the message was being sent), if the
        // connection was still not back when the wait began.
        if losses.is_empty()
            && let Some(earlier) = snapshot
                .iter()
                .rfind(|r| matches!(r.arrival, Arrival::Lost(_)))
            && !snapshot
                .iter()
                .any(|r| r.seq > earlier.seq && r.at < started && is_back(r))
        {
            losses.push(earlier);
        }
        let ended = match (end, losses.last()) {
            (Some(end), _) => format!(" ({})", self.session_end(end)),
            (None, Some(last)) => format!(
                " ({}{}; {})",
                self.session_end(last),
                match losses.len() {
                    1 => String::new(),
                    n => format!(", the last of {n} losses during the wait"),
                },
                match back(last) {
                    true => "the session got it back",
                    false => "the session is getting its connection back",
                }
            ),
            (None, None) => String::new(),
        };
        let taken = snapshot
            .iter()
            .any(|r| session.inbox().is_consumed(r.seq) && search.matches(r).is_some());
        let early = search.next
            && snapshot.iter().any(|r| {
                r.seq < search.order_from
                    && !session.inbox().is_consumed(r.seq)
                    && search.matches(r).is_some()
            });
        let hint = match snapshot.iter().any(|r| search.other_delivery(r)) {
            true if search.delayed => {
                "; it arrived live: write the expectation without `delayed`".to_string()
            }
            true => format!(
                "; it arrived only delayed (room history or offline storage): write `expect {user} receives delayed ...` if that is what the case means"
            ),
            false if early => "; a matching stanza arrived, but before the one the previous `next` expectation took: out of order".to_string(),
            false if taken => "; a matching stanza arrived, but an earlier statement or expectation already took it (each stanza counts once)".to_string(),
            false => String::new(),
        };
        let failure = match &search.wanted {
            Wanted::Text(text) => {
                let closest = closest_text(&snapshot, text, search.from);
                fail_expected(
                    format!(
                        "{user} did not receive {delayed}\"{text}\"{source} within {window}{ended}{hint}"
                    ),
                    format!("a {delayed}message{source} with body \"{text}\""),
                    closest,
                )
            }
            Wanted::Pattern(pattern, written) => {
                let closest = snapshot
                    .iter()
                    .filter_map(|r| r.stanza())
                    .map(|s| (pattern.similarity(s), s))
                    .filter(|(score, _)| *score > 0)
                    .max_by_key(|(score, _)| *score)
                    .map(|(_, s)| String::from(s));
                fail_expected(
                    format!(
                        "{user} did not receive the expected {delayed}stanza{source} within {window}{ended}{hint}"
                    ),
                    written.clone(),
                    closest,
                )
            }
        };
        violated(end, failure)
    }

    /// `nothing` / `no stanzas`: passes only if the session stays up for the whole window and
    /// nothing that counts arrives (also nothing unconsumed from before the window).
    async fn expect_silence(
        &self,
        user: &str,
        session: &Session,
        quiet: &Quiet<'_>,
        within: Duration,
    ) -> StmtResult {
        let window = crate::env::format_duration(within);
        let started = Instant::now();
        // A session getting its connection back is not connected now: it cannot observe silence.
        if let Some(lost) = super::session_events::reconnecting(session.inbox()) {
            let source = &quiet.source;
            let what = match quiet.silence {
                Silence::Messages => "no message",
                Silence::Stanzas => "no stanza",
            };
            return Err(fail_observed(
                format!(
                    "{user}'s connection was lost ({lost}): cannot observe that {user} receives {what}{source} for {window}"
                ),
                format!("{what}{source} for {window}, with {user} connected throughout"),
                format!("{user} not connected: {lost}"),
            ));
        }
        let counts = |s: &Element| {
            (quiet.silence == Silence::Stanzas || s.name() == "message")
                && quiet.from.is_none_or(|p| p.sent(s))
        };
        let waited = session
            .inbox()
            .next(
                0,
                |r| match r.stanza() {
                    Some(s) if counts(s) => Verdict::Stop,
                    // A connection lost during the window: the user could not observe silence.
                    None if matches!(r.arrival, Arrival::Lost(_)) && r.at >= started => {
                        Verdict::Stop
                    }
                    _ => Verdict::Skip,
                },
                started + within,
                &self.cancel(),
            )
            .await;
        let source = &quiet.source;
        let what = match quiet.silence {
            Silence::Messages => "no message",
            Silence::Stanzas => "no stanza",
        };
        match waited {
            Waited::TimedOut => Ok(()),
            Waited::Cancelled => Err(StmtError::Interrupted),
            Waited::Ended(end) => {
                // When it ended is in the session's end (time since the case began): whether
                // that was a moment before or after the window opened is a race, not a fact.
                let failure = fail_observed(
                    format!(
                        "{user}'s session ended ({}): cannot observe that {user} receives {what}{source} for {window}",
                        self.session_end(&end)
                    ),
                    format!("{what}{source} for {window}, with {user} connected throughout"),
                    format!("{user} disconnected: {}", self.session_end(&end)),
                );
                Err(violated(Some(&end), failure))
            }
            Waited::Stopped(found) if found.stanza().is_none() => {
                let how = match &found.arrival {
                    Arrival::Lost(how) => how.to_string(),
                    _ => "lost".to_string(),
                };
                Err(fail_observed(
                    format!(
                        "{user}'s connection was lost ({how}): cannot observe that {user} receives {what}{source} for {window}"
                    ),
                    format!("{what}{source} for {window}, with {user} connected throughout"),
                    format!("{user} not connected: {how}"),
                ))
            }
            Waited::Stopped(found) | Waited::Taken(found) => {
                let stanza = found
                    .stanza()
                    .cloned()
                    .unwrap_or_else(|| Element::builder("message", NS_CLIENT).build());
                let delayed = match found.is_delayed() {
                    true => format!(
                        " (delayed: room history or offline storage; take it first with `expect {user} receives delayed ...` if the case allows it)"
                    ),
                    false => String::new(),
                };
                Err(fail_expected(
                    format!(
                        "{user} received a {}{source} within {window} ({}){delayed}",
                        stanza.name(),
                        describe(&stanza)
                    ),
                    format!("{what}{source} for {window}"),
                    Some(String::from(&stanza)),
                ))
            }
        }
    }

    /// "connection lost: reset, 1.2s after the case began".
    fn session_end(&self, end: &Received) -> String {
        let what = match &end.arrival {
            Arrival::Ended(how) | Arrival::Lost(how) => how.to_string(),
            _ => "ended".to_string(),
        };
        let at = end.at.saturating_duration_since(self.started);
        format!(
            "{what}, {} after the case began",
            crate::env::format_duration(at)
        )
    }

    pub(crate) async fn expect_connect_fails(
        &self,
        expect: &ExpectConnectFails,
        frame: &Frame,
    ) -> StmtResult {
        let reason = &self.interpolate(&expect.reason, frame).map_err(fail)?;
        let user = &frame.name(&expect.user.text);
        let timeout = expect.within.map_or(self.default_timeout, |d| d.as_std());
        match self.connect(user, &expect.options, Some(timeout)).await? {
            Ok(()) => {
                if let Some(session) = self.take_session(user) {
                    session.close().await;
                }
                Err(fail_observed(
                    format!("{user} connected, but the connection should have failed"),
                    format!("failure \"{reason}\""),
                    "connected",
                ))
            }
            Err(error) => {
                let actual = error.reason().map(|r| r.as_str()).unwrap_or("unknown");
                if actual == reason {
                    Ok(())
                } else {
                    Err(fail_observed(
                        format!(
                            "{user}'s connection failed with \"{actual}\", not \"{reason}\": {error}"
                        ),
                        format!("failure \"{reason}\""),
                        format!("failure \"{actual}\": {error}"),
                    ))
                }
            }
        }
    }
}

/// A failure caused by the server breaking the protocol is a protocol failure.
fn violated(end: Option<&Received>, failure: StmtError) -> StmtError {
    let violation = end.is_some_and(|end| {
        matches!(
            end.arrival,
            Arrival::Ended(crate::xmpp::StreamEnd::Violation(_))
        )
    });
    match failure {
        StmtError::Failed(mut failed) if violation => {
            failed.kind = crate::event::FailureKind::Protocol;
            StmtError::Failed(failed)
        }
        other => other,
    }
}

/// `chat from alice@a.test/jspec, body "hi"`, `from ops@conference.a.test/Bob, no body`.
fn describe(stanza: &Element) -> String {
    let kind = stanza
        .attr("type")
        .map(|t| format!("{t} "))
        .unwrap_or_default();
    let from = stanza.attr("from").unwrap_or("the server");
    let text = match (stanza.name(), body(stanza)) {
        (_, Some(body)) => format!(", body \"{body}\""),
        ("message", None) => ", no body".to_string(),
        _ => String::new(),
    };
    format!("{kind}from {from}{text}")
}

fn is_message(stanza: &Element) -> bool {
    stanza.name() == "message" && stanza.attr("type") != Some("error")
}

pub(crate) fn body(stanza: &Element) -> Option<String> {
    stanza.get_child("body", NS_CLIENT).map(Element::text)
}

/// The message whose body is closest to the wanted one, for the failure report.
fn closest_text(snapshot: &[Received], wanted: &str, from: Option<&Peer>) -> Option<String> {
    snapshot
        .iter()
        .filter_map(|r| r.stanza())
        .filter(|s| s.name() == "message" && from.is_none_or(|p| p.sent(s)))
        .filter_map(|s| Some((strsim::normalized_levenshtein(&body(s)?, wanted), s)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, s)| String::from(s))
}
