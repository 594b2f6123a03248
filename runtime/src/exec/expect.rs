//! Expectations: what an actor receives (text, XML patterns, nothing), a connection that must
//! fail, and a room's archive. Each searches the actor's inbox until its deadline; stanzas an
//! earlier expectation matched are consumed and not matched again.

use std::time::{Duration, Instant};

use jspec_lang::ast::{ConnectOptions, ExpectReceives, Expected, Str};
use minidom::Element;
use minidom::rxml::xml_ncname;

use super::context::{CaseContext, Frame};
use super::interp::NS_CLIENT;
use super::matcher::Pattern;
use super::outcome::{StmtError, StmtResult, fail, fail_expected};
use crate::xmpp::Received;

const NS_MAM: &str = "urn:xmpp:mam:2";
const NS_FORWARD: &str = "urn:xmpp:forward:0";
const NS_DELAY: &str = "urn:xmpp:delay";
const NS_RSM: &str = "http://jabber.org/protocol/rsm";
/// Archive pages fetched at most for one `expect archive`.
const MAX_ARCHIVE_PAGES: usize = 20;

/// What a text expectation looks for: a message with this body from this sender.
struct TextWanted {
    body: String,
    /// Bare JID the message must come from (a room or a user), if given.
    from: Option<String>,
}

impl TextWanted {
    fn matches(&self, stanza: &Element) -> bool {
        stanza.name() == "message"
            && stanza.attr("type") != Some("error")
            && body(stanza).as_deref() == Some(self.body.as_str())
            && self.sender_matches(stanza)
    }

    fn sender_matches(&self, stanza: &Element) -> bool {
        match &self.from {
            None => true,
            Some(from) => stanza.attr("from").is_some_and(|f| bare(f) == from),
        }
    }
}

impl CaseContext<'_> {
    pub(crate) async fn expect_receives(
        &self,
        expect: &ExpectReceives,
        frame: &Frame,
    ) -> StmtResult {
        let user = frame.name(&expect.user.text);
        let session = self.connected(&user)?;
        let deadline = Instant::now() + expect.within.map_or(self.default_timeout, |d| d.as_std());
        let from = match &expect.from {
            Some(from) => Some(self.bare_jid_of(&frame.name(&from.text))?),
            None => None,
        };
        // As written (`300ms`, `5s`), for messages.
        let window =
            crate::env::format_duration(expect.within.map_or(self.default_timeout, |d| d.as_std()));
        let messages = match &expect.expected {
            Expected::Nothing(_) => {
                return self
                    .expect_nothing(&user, from.as_deref(), deadline, &window)
                    .await;
            }
            Expected::Messages(messages) => messages,
        };
        let mut cursor = 0;
        for message in messages {
            let found = if message.is_xml() {
                self.expect_pattern(
                    &user,
                    message,
                    expect.strict,
                    from.as_deref(),
                    cursor,
                    deadline,
                    frame,
                )
                .await?
            } else {
                let wanted = TextWanted {
                    body: self.interpolate(message, frame).map_err(fail)?,
                    from: from.clone(),
                };
                let found = session
                    .inbox()
                    .wait_for(
                        cursor,
                        |r| {
                            !self.is_consumed(&user, r.seq)
                                && r.stanza().is_some_and(|s| wanted.matches(s))
                        },
                        deadline,
                        &self.cancel(),
                    )
                    .await;
                self.interrupted()?;
                match found {
                    Some(found) => found,
                    None => {
                        let source = expect
                            .from
                            .as_ref()
                            .map(|f| format!(" from {}", f.text))
                            .unwrap_or_default();
                        let closest = self.closest_text(&user, &wanted);
                        let reason = ended(&session.inbox().end());
                        return Err(fail_expected(
                            format!(
                                "{user} did not receive \"{}\"{source} within {window}{reason}",
                                wanted.body
                            ),
                            format!("a message{source} with body \"{}\"", wanted.body),
                            closest,
                        ));
                    }
                }
            };
            self.consume(&user, found.seq);
            if expect.in_order {
                cursor = found.seq + 1;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn expect_pattern(
        &self,
        user: &str,
        message: &Str,
        strict: bool,
        from: Option<&str>,
        cursor: u64,
        deadline: Instant,
        frame: &Frame,
    ) -> Result<Received, StmtError> {
        let session = self.connected(user)?;
        let xml = self.interpolate(message, frame).map_err(fail)?;
        let pattern = Pattern::parse(&xml, strict).map_err(fail)?;
        let mut captured = None;
        let found = session
            .inbox()
            .wait_for(
                cursor,
                |r| {
                    let Some(stanza) = r.stanza() else {
                        return false;
                    };
                    if self.is_consumed(user, r.seq)
                        || from.is_some_and(|f| stanza.attr("from").is_none_or(|s| bare(s) != f))
                    {
                        return false;
                    }
                    captured = pattern.matches(stanza);
                    captured.is_some()
                },
                deadline,
                &self.cancel(),
            )
            .await;
        self.interrupted()?;
        match (found, captured) {
            (Some(found), Some(captures)) => {
                self.capture(captures);
                Ok(found)
            }
            _ => {
                let closest = session
                    .inbox()
                    .snapshot()
                    .iter()
                    .filter_map(|r| r.stanza())
                    .map(|s| (pattern.similarity(s), s))
                    .filter(|(score, _)| *score > 0)
                    .max_by_key(|(score, _)| *score)
                    .map(|(_, s)| String::from(s));
                let reason = ended(&session.inbox().end());
                Err(fail_expected(
                    format!("{user} did not receive the expected stanza in time{reason}"),
                    xml,
                    closest,
                ))
            }
        }
    }

    async fn expect_nothing(
        &self,
        user: &str,
        from: Option<&str>,
        deadline: Instant,
        window: &str,
    ) -> StmtResult {
        let session = self.connected(user)?;
        let unwanted = |r: &Received| {
            !self.is_consumed(user, r.seq)
                && r.stanza().is_some_and(|s| {
                    s.name() == "message"
                        && body(s).is_some()
                        && from.is_none_or(|f| s.attr("from").is_some_and(|x| bare(x) == f))
                })
        };
        let found = session
            .inbox()
            .wait_for(0, unwanted, deadline, &self.cancel())
            .await;
        self.interrupted()?;
        match found.as_ref().and_then(|r| r.stanza()) {
            None => Ok(()),
            Some(stanza) => {
                let source = from.map(|f| format!(" from {f}")).unwrap_or_default();
                Err(fail_expected(
                    format!(
                        "{user} received a message{source} within {window}: \"{}\"",
                        body(stanza).unwrap_or_default()
                    ),
                    format!("no message{source} for {window}"),
                    Some(String::from(stanza)),
                ))
            }
        }
    }

    pub(crate) async fn expect_connect_fails(
        &self,
        user: &str,
        options: &ConnectOptions,
        reason: &str,
        within: Option<Duration>,
    ) -> StmtResult {
        let timeout = within.unwrap_or(self.default_timeout);
        match self.connect(user, options, Some(timeout)).await? {
            Ok(()) => {
                if let Some(session) = self.take_session(user) {
                    session.close().await;
                }
                Err(fail_expected(
                    format!("{user} connected, but the connection should have failed"),
                    format!("failure \"{reason}\""),
                    Some("connected".into()),
                ))
            }
            Err(error) => {
                let actual = error.reason().map(|r| r.as_str()).unwrap_or("unknown");
                if actual == reason {
                    Ok(())
                } else {
                    Err(fail_expected(
                        format!(
                            "{user}'s connection failed with \"{actual}\", not \"{reason}\": {error}"
                        ),
                        format!("failure \"{reason}\""),
                        Some(format!("failure \"{actual}\": {error}")),
                    ))
                }
            }
        }
    }

    /// Queries a room's (or a user's own) archive with MAM and checks the number of messages and
    /// that their timestamps never go back.
    pub(crate) async fn expect_archive(
        &self,
        archive: &str,
        reader: &str,
        count: u64,
        in_order: bool,
        timeout: Duration,
    ) -> StmtResult {
        let session = self.connected(reader)?;
        let target = self.bare_jid_of(archive)?;
        let deadline = Instant::now() + timeout;
        let mut messages: Vec<(Option<String>, String)> = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_ARCHIVE_PAGES {
            let id = self.next_id();
            let cursor = session.inbox().cursor();
            let mut query =
                Element::builder("query", NS_MAM).attr(xml_ncname!("queryid").into(), id.as_str());
            if let Some(after) = &after {
                query = query.append(
                    Element::builder("set", NS_RSM)
                        .append(
                            Element::builder("after", NS_RSM)
                                .append(after.as_str())
                                .build(),
                        )
                        .build(),
                );
            }
            let iq = Element::builder("iq", NS_CLIENT)
                .attr(xml_ncname!("type").into(), "set")
                .attr(xml_ncname!("id").into(), id.as_str())
                .attr(xml_ncname!("to").into(), target.as_str())
                .append(query.build())
                .build();
            session
                .send(iq)
                .await
                .map_err(|e| fail(format!("{reader} could not query the archive: {e}")))?;
            let done = session
                .inbox()
                .wait_for(
                    cursor,
                    |r| {
                        r.stanza()
                            .is_some_and(|s| s.name() == "iq" && s.attr("id") == Some(id.as_str()))
                    },
                    deadline,
                    &self.cancel(),
                )
                .await;
            self.interrupted()?;
            let Some(done) = done else {
                return Err(fail(format!(
                    "the archive of {archive} did not answer {reader} within {}s",
                    timeout.as_secs()
                )));
            };
            let Some(answer) = done.stanza() else {
                return Err(fail("the archive query ended the stream"));
            };
            if answer.attr("type") == Some("error") {
                return Err(fail(format!(
                    "the archive of {archive} refused {reader}'s query: {}",
                    super::interp::error_condition(answer)
                )));
            }
            for received in session.inbox().snapshot().iter().skip(cursor as usize) {
                if received.seq >= done.seq {
                    break;
                }
                if let Some(item) = received.stanza().and_then(|s| archived(s, &id)) {
                    self.consume(reader, received.seq);
                    messages.push(item);
                }
            }
            let fin = answer.get_child("fin", NS_MAM);
            let complete = fin.is_none_or(|f| f.attr("complete") == Some("true"));
            after = fin
                .and_then(|f| f.get_child("set", NS_RSM))
                .and_then(|s| s.get_child("last", NS_RSM))
                .map(Element::text);
            if complete || after.is_none() {
                break;
            }
        }
        if messages.len() as u64 != count {
            let bodies: Vec<String> = messages.iter().map(|(_, b)| format!("\"{b}\"")).collect();
            return Err(fail_expected(
                format!(
                    "the archive of {archive} has {} messages, not {count}",
                    messages.len()
                ),
                format!("{count} messages"),
                Some(format!(
                    "{} messages: {}",
                    messages.len(),
                    bodies.join(", ")
                )),
            ));
        }
        if in_order {
            let stamps: Vec<&str> = messages
                .iter()
                .filter_map(|(stamp, _)| stamp.as_deref())
                .collect();
            if let Some(pair) = stamps.windows(2).find(|w| w[1] < w[0]) {
                return Err(fail(format!(
                    "the archive of {archive} goes back in time: {} after {}",
                    pair[1], pair[0]
                )));
            }
            if stamps.len() != messages.len() {
                return Err(fail(format!(
                    "some messages in the archive of {archive} have no timestamp"
                )));
            }
        }
        Ok(())
    }

    fn interrupted(&self) -> StmtResult {
        if self.cancel().is_cancelled() {
            Err(StmtError::Interrupted)
        } else {
            Ok(())
        }
    }

    /// The bare JID of a user or room of the case.
    fn bare_jid_of(&self, name: &str) -> Result<String, StmtError> {
        if let Some(room) = self.scope.rooms.get(name) {
            return Ok(room.jid.clone());
        }
        self.scope
            .users
            .get(name)
            .map(|u| u.jid())
            .ok_or_else(|| fail(format!("no user or room `{name}` in this case")))
    }

    /// The message whose body is closest to the wanted one, for the failure report.
    fn closest_text(&self, user: &str, wanted: &TextWanted) -> Option<String> {
        let session = self.session(user)?;
        session
            .inbox()
            .snapshot()
            .iter()
            .filter_map(|r| r.stanza())
            .filter(|s| s.name() == "message" && body(s).is_some() && wanted.sender_matches(s))
            .map(|s| {
                (
                    strsim::normalized_levenshtein(&body(s).unwrap_or_default(), &wanted.body),
                    s,
                )
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, s)| String::from(s))
    }
}

/// `(delay stamp, body)` of a MAM result message for query `id`.
fn archived(stanza: &Element, id: &str) -> Option<(Option<String>, String)> {
    let result = stanza
        .get_child("result", NS_MAM)
        .filter(|r| r.attr("queryid") == Some(id))?;
    let forwarded = result.get_child("forwarded", NS_FORWARD)?;
    let stamp = forwarded
        .get_child("delay", NS_DELAY)
        .and_then(|d| d.attr("stamp"))
        .map(str::to_string);
    let message = forwarded.get_child("message", NS_CLIENT)?;
    Some((stamp, body(message)?))
}

fn body(stanza: &Element) -> Option<String> {
    stanza.get_child("body", NS_CLIENT).map(Element::text)
}

fn bare(jid: &str) -> &str {
    jid.split('/').next().unwrap_or(jid)
}

fn ended(end: &Option<crate::xmpp::StreamEnd>) -> String {
    end.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
}
