//! `check delivery in ROOM: no loss, no duplicates, in order`: from what the case sent to the
//! room and what each occupant's sessions received, the messages lost, duplicated and out of
//! order, and delivery latency quantiles. A copy a session missed live but fetched from the
//! room's archive when it came back (a new session catches up, xmpp/catch_up.rs), or got later
//! with a delay stamp (the room's history on rejoining, a resumed stream sending again), is
//! delivered late, not lost: that is what the user sees; the report counts such copies.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use jspec_lang::ast::DeliveryProperty;

use super::context::{CaseContext, lock};
use super::outcome::{StmtResult, fail};
use super::peer::Peer;
use crate::event::{DeliveryReport, RunEvent};

/// A message the case sent to a room or a user.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    /// The room or user it went to.
    pub(crate) to: String,
    pub(crate) to_room: bool,
    pub(crate) from: String,
    pub(crate) body: String,
    pub(crate) at: Instant,
    /// The wall-clock time it was sent, to compare with the date a server gives a late copy.
    pub(crate) wall: OffsetDateTime,
}

/// A user's time in a room.
#[derive(Clone, Debug)]
pub(crate) struct Stay {
    pub(crate) room: String,
    pub(crate) user: String,
    pub(crate) joined: Instant,
    pub(crate) left: Option<Instant>,
}

/// What the case did in rooms.
#[derive(Debug, Default)]
pub(crate) struct DeliveryLog {
    pub(crate) sent: Vec<Sent>,
    pub(crate) stays: Vec<Stay>,
}

impl CaseContext<'_> {
    pub(crate) fn record_sent(&self, to: &str, to_room: bool, from: &str, body: &str) {
        lock(&self.delivery).sent.push(Sent {
            to: to.into(),
            to_room,
            from: from.into(),
            body: body.into(),
            at: Instant::now(),
            wall: OffsetDateTime::now_utc(),
        });
    }

    pub(crate) fn record_join(&self, room: &str, user: &str) {
        lock(&self.delivery).stays.push(Stay {
            room: room.into(),
            user: user.into(),
            joined: Instant::now(),
            left: None,
        });
    }

    pub(crate) fn record_leave(&self, room: &str, user: &str) {
        let now = Instant::now();
        for stay in lock(&self.delivery).stays.iter_mut() {
            if stay.room == room && stay.user == user && stay.left.is_none() {
                stay.left = Some(now);
            }
        }
    }

    /// Waits (up to the default deadline) for copies still on their way, and for sessions that
    /// are still catching up with their rooms' archives, then reports.
    pub(crate) async fn check_delivery(
        &self,
        room: &str,
        properties: &[DeliveryProperty],
    ) -> StmtResult {
        let speaker = self.peer(room)?;
        let deadline = Instant::now() + self.default_timeout;
        let mut report = self.delivery_report(room, &speaker);
        while (!report.lost.is_empty() || self.catching_up()) && Instant::now() < deadline {
            self.sleep(Duration::from_millis(50)).await?;
            report = self.delivery_report(room, &speaker);
        }
        self.emit(RunEvent::Delivery {
            case: self.case.clone(),
            report: report.clone(),
        });
        let mut broken = Vec::new();
        for property in properties {
            let (name, found) = match property {
                DeliveryProperty::NoLoss => ("lost", &report.lost),
                DeliveryProperty::NoDuplicates => ("duplicated", &report.duplicated),
                DeliveryProperty::InOrder => ("out of order", &report.out_of_order),
            };
            if !found.is_empty() {
                let shown: Vec<&str> = found.iter().take(10).map(String::as_str).collect();
                let more = found.len().saturating_sub(shown.len());
                broken.push(format!(
                    "{} {name}: {}{}",
                    found.len(),
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ));
            }
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(fail(format!(
                "{} ({})",
                broken.join("; "),
                report.summary()
            )))
        }
    }

    /// Whether a session of the case is still fetching what its rooms said while it was gone:
    /// the archive's copies take precedence over history's, so the report waits for them.
    fn catching_up(&self) -> bool {
        lock(&self.history)
            .iter()
            .any(|(_, session)| session.catching_up())
    }

    fn delivery_report(&self, room: &str, speaker: &Peer) -> DeliveryReport {
        let log = lock(&self.delivery);
        let sent: Vec<&Sent> = log
            .sent
            .iter()
            .filter(|s| s.to_room && s.to == room)
            .collect();
        let mut report = DeliveryReport {
            room: room.into(),
            sent: sent.len(),
            ..DeliveryReport::default()
        };
        let mut latencies = Vec::new();
        let occupants: Vec<String> = {
            let mut users: Vec<String> = log
                .stays
                .iter()
                .filter(|s| s.room == room)
                .map(|s| s.user.clone())
                .collect();
            users.sort();
            users.dedup();
            users
        };
        let history = lock(&self.history).clone();
        for user in &occupants {
            let present = |at: Instant| {
                log.stays.iter().any(|s| {
                    s.room == room
                        && &s.user == user
                        && s.joined <= at
                        && s.left.is_none_or(|l| at < l)
                })
            };
            // Live copies of each body, in arrival order, from every session the user had: what
            // `expect USER receives "BODY" from ROOM` would match (a live groupchat message).
            let mut arrivals: Vec<(Instant, String)> = Vec::new();
            // Copies a new session fetched from the room's archive for what it missed.
            let mut from_archive = LateCopies::default();
            // Copies that came with a delay stamp (history on rejoining, a resumed stream).
            let mut delayed = LateCopies::default();
            for (_, session) in history.iter().filter(|(u, _)| u == user) {
                for received in session.inbox().snapshot() {
                    let Some(stanza) = received.stanza() else {
                        continue;
                    };
                    if let Some((archived, stamp)) = crate::xmpp::archived_copy(stanza) {
                        if speaker.said(archived)
                            && let Some(body) = super::expect::body(archived)
                        {
                            from_archive.add(body, received.at, stamp);
                        }
                        continue;
                    }
                    if stanza.name() != "message" || !speaker.said(stanza) {
                        continue;
                    }
                    match super::expect::body(stanza) {
                        Some(body) if received.is_delayed() => {
                            delayed.add(body, received.at, crate::xmpp::delay_stamp(stanza));
                        }
                        Some(body) => arrivals.push((received.at, body)),
                        None => {}
                    }
                }
            }
            arrivals.sort_by_key(|(at, _)| *at);
            let mut copies: BTreeMap<&str, usize> = BTreeMap::new();
            let mut newest_sent: BTreeMap<&str, usize> = BTreeMap::new();
            for (at, body) in &arrivals {
                let Some((index, sent)) = sent.iter().enumerate().find(|(_, s)| &s.body == body)
                else {
                    continue;
                };
                let count = copies.entry(sent.body.as_str()).or_default();
                *count += 1;
                if *count > 1 {
                    report.duplicated.push(format!("{user}: {:?}", sent.body));
                    continue;
                }
                latencies.push(at.saturating_duration_since(sent.at));
                // Order is per sender: a message older than one already seen from that sender.
                let newest = newest_sent.entry(sent.from.as_str()).or_insert(index);
                if index < *newest {
                    report.out_of_order.push(format!("{user}: {:?}", sent.body));
                } else {
                    *newest = index;
                }
            }
            for message in sent.iter().filter(|s| present(s.at)) {
                report.expected += 1;
                if copies.contains_key(message.body.as_str()) {
                    report.delivered += 1;
                } else if let Some(at) = from_archive.take(message) {
                    // Missed live, seen once the user's client caught up: late, not lost.
                    report.delivered += 1;
                    report.from_archive += 1;
                    latencies.push(at.saturating_duration_since(message.at));
                } else if let Some(at) = delayed.take(message) {
                    // Missed live, replayed with a delay stamp: late, not lost.
                    report.delivered += 1;
                    report.delayed += 1;
                    latencies.push(at.saturating_duration_since(message.at));
                } else {
                    report.lost.push(format!("{user}: {:?}", message.body));
                }
            }
        }
        report.latency_ms = quantiles(&mut latencies);
        report
    }
}

/// How much earlier than jspec sent a message a server may date a late copy of it: stamps
/// have whole seconds, and a server's clock may be a little behind jspec's.
const STAMP_SLACK: Duration = Duration::from_secs(5);

/// Copies of messages an occupant got late, by body: each one stands for one sent message at
/// most, and only for a message it can be a copy of.
#[derive(Debug, Default)]
struct LateCopies(BTreeMap<String, Vec<LateCopy>>);

#[derive(Debug)]
struct LateCopy {
    /// When it arrived.
    at: Instant,
    /// When the server says the message was first handled.
    stamp: Option<OffsetDateTime>,
}

impl LateCopies {
    fn add(&mut self, body: String, at: Instant, stamp: Option<OffsetDateTime>) {
        self.0.entry(body).or_default().push(LateCopy { at, stamp });
    }

    /// The arrival of a copy of `sent`, which it uses up: one that came after `sent` was sent
    /// and that the server dated no earlier than that (within [`STAMP_SLACK`]). A copy dated
    /// earlier is of an older message with the same text (a room kept from an earlier run) or
    /// misdated; a copy without a date cannot be told apart, so it does not count.
    fn take(&mut self, sent: &Sent) -> Option<Instant> {
        let copies = self.0.get_mut(&sent.body)?;
        let earliest = sent.wall - STAMP_SLACK;
        let index = copies.iter().position(|copy| {
            copy.at > sent.at && copy.stamp.is_some_and(|stamp| stamp >= earliest)
        })?;
        Some(copies.remove(index).at)
    }
}

/// p50, p90, p99 and max in milliseconds (nearest rank).
fn quantiles(values: &mut [Duration]) -> Option<[f64; 4]> {
    if values.is_empty() {
        return None;
    }
    values.sort();
    let at = |q: f64| {
        let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
        values[rank - 1].as_secs_f64() * 1000.0
    };
    Some([at(0.5), at(0.9), at(0.99), at(1.0)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(body: &str, at: Instant, wall: OffsetDateTime) -> Sent {
        Sent {
            to: "ops@conference.a.test".into(),
            to_room: true,
            from: "alice".into(),
            body: body.into(),
            at,
            wall,
        }
    }

    #[test]
    fn a_late_copy_stands_for_one_message_sent_before_it() {
        let (start, wall) = (Instant::now(), OffsetDateTime::now_utc());
        let second = Duration::from_secs(1);
        let message = sent("tick", start, wall);
        let mut copies = LateCopies::default();
        // Arrived before the message was sent: a copy of an earlier one with the same text.
        copies.add("tick".into(), start - second, Some(wall));
        assert_eq!(copies.take(&message), None);
        // Stamps have whole seconds: a copy dated a little earlier than the send still counts.
        copies.add(
            "tick".into(),
            start + second,
            Some(wall - Duration::from_millis(900)),
        );
        assert_eq!(copies.take(&message), Some(start + second));
        // Used up: the same text sent again needs a copy of its own.
        let again = sent("tick", start + Duration::from_millis(10), wall);
        assert_eq!(copies.take(&again), None);
        copies.add("tick".into(), start + 2 * second, Some(wall + second));
        assert_eq!(copies.take(&again), Some(start + 2 * second));
    }

    #[test]
    fn a_late_copy_dated_before_the_send_or_undated_does_not_count() {
        let (start, wall) = (Instant::now(), OffsetDateTime::now_utc());
        let later = start + Duration::from_secs(1);
        let message = sent("tick", start, wall);
        let mut copies = LateCopies::default();
        // Left in the room by an earlier run, or misdated (jspec's `stamp` mutation: 2000).
        copies.add("tick".into(), later, Some(wall - Duration::from_secs(3600)));
        copies.add(
            "tick".into(),
            later,
            Some(time::macros::datetime!(2000-01-01 0:00 UTC)),
        );
        copies.add("tick".into(), later, None);
        assert_eq!(copies.take(&message), None);
        assert_eq!(copies.take(&sent("tock", start, wall)), None);
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let mut values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantiles(&mut values), Some([50.0, 90.0, 99.0, 100.0]));
        assert_eq!(quantiles(&mut []), None);
    }
}
