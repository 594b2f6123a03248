//! The per-packet decisions of an impaired flow, apart from the kernel: which packets drop,
//! which are tampered with or copied, and when each held one is released. Decisions come from
//! a seeded ChaCha8 stream, so the same seed and the same packets give the same decisions.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::fault::model::Impairment;

/// What happens to one packet as it arrives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decision {
    pub(crate) drop: bool,
    /// A random word choosing the byte to change, when the packet is tampered with.
    pub(crate) tamper: Option<u64>,
    pub(crate) duplicate: bool,
    /// Held back until the flow's next packet has been released (or [`HOLD_BACK_LIMIT`]).
    pub(crate) reorder: bool,
    /// When to release it.
    pub(crate) due: Instant,
}

/// A packet released by the engine, and whether a copy follows it.
#[derive(Debug, PartialEq)]
pub(crate) struct Release<P> {
    pub(crate) packet: P,
    pub(crate) duplicate: bool,
}

/// The longest a reordered packet waits for a later one: the last packet of a burst has none,
/// and holding it until the impairment ends would stall the stream (TCP's RTO backs off).
pub(crate) const HOLD_BACK_LIMIT: std::time::Duration = std::time::Duration::from_millis(50);

#[derive(Debug)]
struct Held<P> {
    packet: P,
    due: Instant,
    duplicate: bool,
}

/// One flow's engine: decisions and the packets it holds, in release order.
#[derive(Debug)]
pub(crate) struct Engine<P> {
    impairment: Impairment,
    rng: ChaCha8Rng,
    /// Throttle boundaries count from here.
    start: Instant,
    /// Due times never go back, so that jitter cannot reorder packets.
    last_due: Instant,
    held: VecDeque<Held<P>>,
    /// The packet a reorder holds back behind the next one.
    held_back: Option<Held<P>>,
}

impl<P> Engine<P> {
    pub(crate) fn new(impairment: Impairment, seed: u64, now: Instant) -> Self {
        Engine {
            impairment,
            rng: ChaCha8Rng::seed_from_u64(seed),
            start: now,
            last_due: now,
            held: VecDeque::new(),
            held_back: None,
        }
    }

    /// A later `impair` of the same flow: new settings for packets from now on.
    pub(crate) fn update(&mut self, impairment: Impairment) {
        self.impairment = impairment;
    }

    /// Draws the decisions for a packet arriving at `now`; always in the same order.
    pub(crate) fn decide(&mut self, now: Instant) -> Decision {
        let drop = self.chance(self.impairment.drop);
        let mut due = now;
        if let Some((lag, jitter)) = self.impairment.lag {
            let spread = self.uniform() * 2.0 - 1.0;
            let offset = lag.as_secs_f64() + spread * jitter.as_secs_f64();
            due += Duration::from_secs_f64(offset.max(0.0));
        }
        if let Some(period) = self.impairment.throttle.filter(|p| !p.is_zero()) {
            due = next_boundary(self.start, period, due);
        }
        let duplicate = self.chance(self.impairment.duplicate);
        let reorder = self.chance(self.impairment.reorder);
        let tamper = self
            .chance(self.impairment.tamper)
            .then(|| self.rng.next_u64());
        if !drop {
            due = due.max(self.last_due);
            self.last_due = due;
        }
        Decision {
            drop,
            tamper,
            duplicate,
            reorder,
            due,
        }
    }

    /// Holds a packet that was not dropped, as `decision` says.
    pub(crate) fn hold(&mut self, packet: P, decision: &Decision) {
        let held = Held {
            packet,
            due: decision.due,
            duplicate: decision.duplicate,
        };
        if decision.reorder && self.held_back.is_none() {
            self.held_back = Some(Held {
                due: held.due + HOLD_BACK_LIMIT,
                ..held
            });
        } else {
            self.held.push_back(held);
        }
    }

    /// The packets due at `now`, in order; a held-back one right after the packet that passed
    /// it, or alone once it has waited [`HOLD_BACK_LIMIT`] for one.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<Release<P>> {
        let mut out = Vec::new();
        while self.held.front().is_some_and(|held| held.due <= now) {
            if let Some(held) = self.held.pop_front() {
                out.push(release(held));
                if let Some(back) = self.held_back.take() {
                    out.push(release(back));
                }
            }
        }
        if self.held_back.as_ref().is_some_and(|back| back.due <= now) {
            out.extend(self.held_back.take().map(release));
        }
        out
    }

    /// When the next held packet is due (a held-back one when it stops waiting for a later
    /// packet).
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let front = self.held.front().map(|held| held.due);
        let back = self.held_back.as_ref().map(|held| held.due);
        match (front, back) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Everything still held, in order, for when the impairment ends.
    pub(crate) fn drain(&mut self) -> Vec<Release<P>> {
        let mut out: Vec<Release<P>> = self.held.drain(..).map(release).collect();
        out.extend(self.held_back.take().map(release));
        out
    }

    fn chance(&mut self, percent: f64) -> bool {
        // One draw per question even at 0%, so settings never shift later decisions.
        let draw = self.uniform() * 100.0;
        percent > 0.0 && draw < percent
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn release<P>(held: Held<P>) -> Release<P> {
    Release {
        packet: held.packet,
        duplicate: held.duplicate,
    }
}

/// The first throttle boundary (start + k * period) at or after `at`.
fn next_boundary(start: Instant, period: Duration, at: Instant) -> Instant {
    let since = at.saturating_duration_since(start).as_nanos();
    let period_ns = period.as_nanos().max(1);
    let periods = since.div_ceil(period_ns);
    let offset = u64::try_from(periods * period_ns).unwrap_or(u64::MAX);
    start + Duration::from_nanos(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn run(engine: &mut Engine<u32>, packets: u32, now: Instant) -> Vec<Decision> {
        (0..packets)
            .map(|n| {
                let d = engine.decide(now);
                if !d.drop {
                    engine.hold(n, &d);
                }
                d
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_decisions() {
        let imp = Impairment {
            drop: 30.0,
            duplicate: 20.0,
            tamper: 10.0,
            lag: Some((ms(50), ms(20))),
            ..Impairment::default()
        };
        let now = Instant::now();
        let a = run(&mut Engine::new(imp.clone(), 7, now), 200, now);
        let b = run(&mut Engine::new(imp.clone(), 7, now), 200, now);
        let c = run(&mut Engine::new(imp, 8, now), 200, now);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let dropped = a.iter().filter(|d| d.drop).count();
        assert!((30..90).contains(&dropped), "{dropped} of 200 at 30%");
    }

    #[test]
    fn drop_all_and_drop_none() {
        let now = Instant::now();
        let all = Impairment {
            drop: 100.0,
            ..Impairment::default()
        };
        assert!(
            run(&mut Engine::new(all, 1, now), 100, now)
                .iter()
                .all(|d| d.drop)
        );
        let none = Impairment::default();
        assert!(
            run(&mut Engine::new(none, 1, now), 100, now)
                .iter()
                .all(|d| !d.drop)
        );
    }

    #[test]
    fn jitter_never_reorders() {
        let now = Instant::now();
        let imp = Impairment {
            lag: Some((ms(100), ms(90))),
            ..Impairment::default()
        };
        let mut engine = Engine::new(imp, 3, now);
        for n in 0..100u32 {
            let at = now + ms(u64::from(n));
            let d = engine.decide(at);
            assert!(d.due >= at + ms(10));
            engine.hold(n, &d);
        }
        let order: Vec<u32> = engine
            .due(now + ms(1000))
            .into_iter()
            .map(|r| r.packet)
            .collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn throttle_releases_in_batches_at_boundaries() {
        let now = Instant::now();
        let imp = Impairment {
            throttle: Some(ms(500)),
            ..Impairment::default()
        };
        let mut engine = Engine::new(imp, 3, now);
        for (n, at) in [(0, 10), (1, 200), (2, 499), (3, 501)] {
            let d = engine.decide(now + ms(at));
            engine.hold(n, &d);
        }
        assert!(engine.due(now + ms(499)).is_empty());
        let first: Vec<u32> = engine
            .due(now + ms(500))
            .into_iter()
            .map(|r| r.packet)
            .collect();
        assert_eq!(first, vec![0, 1, 2]);
        assert_eq!(engine.next_due(), Some(now + ms(1000)));
    }

    #[test]
    fn a_reordered_packet_without_a_successor_is_released_after_the_limit() {
        let now = Instant::now();
        let mut engine = Engine::new(
            Impairment {
                reorder: 100.0,
                ..Impairment::default()
            },
            1,
            now,
        );
        let d = engine.decide(now);
        engine.hold(0u32, &d);
        assert!(
            engine.due(now).is_empty(),
            "held back, waiting for a later packet"
        );
        assert_eq!(engine.next_due(), Some(d.due + HOLD_BACK_LIMIT));
        let released: Vec<u32> = engine
            .due(d.due + HOLD_BACK_LIMIT)
            .into_iter()
            .map(|r| r.packet)
            .collect();
        assert_eq!(released, [0]);
        assert_eq!(engine.next_due(), None);
    }

    #[test]
    fn a_reordered_packet_follows_the_next_one() {
        let now = Instant::now();
        let imp = Impairment {
            reorder: 100.0,
            ..Impairment::default()
        };
        let mut engine = Engine::new(imp, 3, now);
        for n in 0..3u32 {
            let d = engine.decide(now);
            engine.hold(n, &d);
        }
        // 0 is held back; 1 and 2 find the slot taken and queue in order; 1 releases 0.
        let order: Vec<u32> = engine.due(now).into_iter().map(|r| r.packet).collect();
        assert_eq!(order, vec![1, 0, 2]);
        assert!(engine.drain().is_empty());
    }
}
