//! `expect archive of ROOM|USER as READER has N messages [in order] [within T]`: queries the
//! archive with MAM (XEP-0313), all pages, and asks again until the archive holds what the case
//! expects or the deadline passes (a server may archive a moment after it delivers). `in order`
//! means the archive lists the messages the case sent in the order the case sent them, and
//! that its timestamps never go back.

use std::time::{Duration, Instant};

use jspec_lang::ast::ExpectArchive;
use minidom::Element;

use super::context::{CaseContext, Frame, lock};
use super::expect::body;
use super::interp::NS_CLIENT;
use super::outcome::{StmtError, StmtResult, fail, fail_observed};
use crate::xmpp::mam;
use crate::xmpp::{Session, Verdict, Waited};

/// Archive pages fetched at most for one query.
const MAX_ARCHIVE_PAGES: usize = 20;
/// Pause between two queries of the same expectation.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// One archived message: its timestamp and body.
#[derive(Clone, Debug)]
struct Archived {
    stamp: Option<String>,
    body: String,
}

/// What one full query found, or why the archive did not answer.
enum Query {
    Answered(Vec<Archived>),
    Refused(String),
    /// No answer before the deadline.
    Unanswered(String),
}

impl CaseContext<'_> {
    pub(crate) async fn expect_archive(&self, expect: &ExpectArchive, frame: &Frame) -> StmtResult {
        let (archive, reader) = (
            &frame.name(&expect.archive.text),
            &frame.name(&expect.reader.text),
        );
        let (count, in_order) = (expect.count.value, expect.in_order);
        let session = self.connected(reader)?;
        let target = self.peer(archive)?.jid().to_string();
        let deadline = Instant::now() + expect.within.map_or(self.default_timeout, |d| d.as_std());
        let sent = self.sent_to_archive(archive);
        // The last answer's verdict: a query still waiting at the deadline reports it.
        let mut last: Option<StmtError> = None;
        loop {
            let query = self
                .query_archive(&session, archive, reader, &target, deadline)
                .await?;
            let verdict = match query {
                Query::Answered(messages) => judge(archive, &messages, count, in_order, &sent),
                Query::Refused(why) => Err(fail(why)),
                Query::Unanswered(why) => return Err(last.unwrap_or_else(|| fail(why))),
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            match verdict {
                Ok(()) => return Ok(()),
                Err(failure) if remaining.is_zero() => return Err(failure),
                Err(failure) => {
                    last = Some(failure);
                    self.sleep(remaining.min(RETRY_PAUSE)).await?;
                }
            }
        }
    }

    /// The bodies the case sent that belong in this archive, in the order it sent them: to
    /// the room, or (a user's own archive) by or to the user.
    fn sent_to_archive(&self, archive: &str) -> Vec<String> {
        let room = self.scope.rooms.contains_key(archive);
        lock(&self.delivery)
            .sent
            .iter()
            .filter(|s| match room {
                true => s.to_room && s.to == archive,
                false => s.from == archive || (!s.to_room && s.to == archive),
            })
            .map(|s| s.body.clone())
            .collect()
    }

    /// One full MAM query (every page). The results and the answer are consumed: no
    /// expectation sees them.
    async fn query_archive(
        &self,
        session: &Session,
        archive: &str,
        reader: &str,
        target: &str,
        deadline: Instant,
    ) -> Result<Query, StmtError> {
        let mut messages = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_ARCHIVE_PAGES {
            let id = self.next_id();
            let cursor = session.inbox().cursor();
            session
                .send(mam::query(&id, target, after.as_deref()))
                .await
                .map_err(|e| fail(format!("{reader} could not query the archive: {e}")))?;
            let answered = session
                .inbox()
                .next(
                    cursor,
                    |r| match r.stanza() {
                        Some(s) if s.name() == "iq" && s.attr("id") == Some(id.as_str()) => {
                            Verdict::Take
                        }
                        _ => Verdict::Skip,
                    },
                    deadline,
                    &self.cancel(),
                )
                .await;
            let done = match answered {
                Waited::Taken(done) => done,
                Waited::Cancelled => return Err(StmtError::Interrupted),
                Waited::Ended(_) => {
                    return Err(fail(format!(
                        "{reader}'s session ended while querying the archive of {archive}"
                    )));
                }
                Waited::TimedOut | Waited::Stopped(_) => {
                    return Ok(Query::Unanswered(format!(
                        "the archive of {archive} did not answer {reader} in time"
                    )));
                }
            };
            let Some(answer) = done.stanza() else {
                return Ok(Query::Refused("the archive query ended the stream".into()));
            };
            if answer.attr("type") == Some("error") {
                return Ok(Query::Refused(format!(
                    "the archive of {archive} refused {reader}'s query: {}",
                    crate::xmpp::error_condition(answer)
                )));
            }
            for received in session.inbox().snapshot().iter().skip(cursor as usize) {
                if received.seq >= done.seq {
                    break;
                }
                if let Some(item) = received.stanza().and_then(|s| archived(s, &id)) {
                    session.inbox().consume(received.seq);
                    messages.push(item);
                }
            }
            let end = mam::page_end(answer);
            after = end.last;
            if end.complete || after.is_none() {
                break;
            }
        }
        Ok(Query::Answered(messages))
    }
}

/// Whether the archive holds `count` messages and, `in_order`, the case's messages in the order
/// the case sent them with timestamps that never go back.
fn judge(
    archive: &str,
    messages: &[Archived],
    count: u64,
    in_order: bool,
    sent: &[String],
) -> StmtResult {
    let listed = || {
        let bodies: Vec<String> = messages.iter().map(|m| format!("\"{}\"", m.body)).collect();
        format!("{} messages: {}", messages.len(), bodies.join(", "))
    };
    if messages.len() as u64 != count {
        return Err(fail_observed(
            format!(
                "the archive of {archive} has {} messages, not {count}",
                messages.len()
            ),
            format!("{count} messages"),
            listed(),
        ));
    }
    if !in_order {
        return Ok(());
    }
    if let Some((later, earlier)) = out_of_sent_order(messages, sent) {
        return Err(fail_observed(
            format!(
                "the archive of {archive} lists \"{later}\" before \"{earlier}\", but the case sent \"{earlier}\" first"
            ),
            format!("the messages in the order sent: {}", quoted(sent)),
            listed(),
        ));
    }
    let stamps: Vec<&str> = messages.iter().filter_map(|m| m.stamp.as_deref()).collect();
    if stamps.len() != messages.len() {
        return Err(fail(format!(
            "some messages in the archive of {archive} have no timestamp"
        )));
    }
    if let Some(pair) = stamps.windows(2).find(|w| w[1] < w[0]) {
        return Err(fail_observed(
            format!(
                "the archive of {archive} goes back in time: {} after {}",
                pair[1], pair[0]
            ),
            "timestamps that never go back",
            listed(),
        ));
    }
    Ok(())
}

/// The first pair of archived messages that the case sent in the other order: (listed first,
/// sent first). Messages the case did not send are not ordered; a body sent twice takes the
/// next send of that body.
fn out_of_sent_order<'a>(
    messages: &'a [Archived],
    sent: &'a [String],
) -> Option<(&'a str, &'a str)> {
    let mut used = vec![false; sent.len()];
    let mut last: Option<(usize, &str)> = None;
    for message in messages {
        let Some(index) = (0..sent.len()).find(|&i| !used[i] && sent[i] == message.body) else {
            continue;
        };
        used[index] = true;
        if let Some((previous, previous_body)) = last
            && index < previous
        {
            return Some((previous_body, message.body.as_str()));
        }
        last = Some((index, message.body.as_str()));
    }
    None
}

fn quoted(bodies: &[String]) -> String {
    let quoted: Vec<String> = bodies.iter().map(|b| format!("\"{b}\"")).collect();
    quoted.join(", ")
}

/// The timestamp and body of a MAM result message for query `id`.
fn archived(stanza: &Element, id: &str) -> Option<Archived> {
    let (_, forwarded) = mam::result(stanza, |query| query == id)?;
    let stamp = crate::xmpp::delay_stamp_text(forwarded).map(str::to_string);
    let message = forwarded.get_child("message", NS_CLIENT)?;
    Some(Archived {
        stamp,
        body: body(message)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archived(bodies: &[&str]) -> Vec<Archived> {
        bodies
            .iter()
            .enumerate()
            .map(|(i, b)| Archived {
                stamp: Some(format!("2026-01-01T00:00:0{i}Z")),
                body: b.to_string(),
            })
            .collect()
    }

    fn sent(bodies: &[&str]) -> Vec<String> {
        bodies.iter().map(|b| b.to_string()).collect()
    }

    #[test]
    fn in_order_means_the_order_the_case_sent() {
        let sent = sent(&["m1", "m2", "m3"]);
        assert_eq!(
            out_of_sent_order(&archived(&["m1", "m2", "m3"]), &sent),
            None
        );
        assert_eq!(
            out_of_sent_order(&archived(&["m2", "m1", "m3"]), &sent),
            Some(("m2", "m1"))
        );
        assert!(judge("ops", &archived(&["m2", "m1", "m3"]), 3, true, &sent).is_err());
        assert!(judge("ops", &archived(&["m2", "m1", "m3"]), 3, false, &sent).is_ok());
    }

    #[test]
    fn messages_the_case_did_not_send_are_not_ordered_and_repeats_take_the_next_send() {
        let sent = sent(&["a", "b", "a"]);
        assert_eq!(
            out_of_sent_order(&archived(&["x", "a", "b", "a"]), &sent),
            None
        );
        assert_eq!(
            out_of_sent_order(&archived(&["b", "a", "a"]), &sent),
            Some(("b", "a"))
        );
    }

    #[test]
    fn timestamps_going_back_fail_even_in_the_sent_order() {
        let mut messages = archived(&["m1", "m2"]);
        messages[1].stamp = Some("2025-01-01T00:00:00Z".into());
        assert!(judge("ops", &messages, 2, true, &sent(&["m1", "m2"])).is_err());
    }
}
