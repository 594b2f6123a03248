//! A bandwidth limit as a schedule: each piece of data reserves the time it takes to send at the
//! link's rate, after the pieces before it. Shared by all connections of a flow.

use std::time::{Duration, Instant};

/// The largest piece sent in one go under a limit: small enough that a limit holds within a few
/// percent over a second, large enough to keep the overhead low.
pub(crate) const PIECE: usize = 4096;
/// How late a reservation may come after the link became free and still keep the schedule.
/// A writer sleeps until its piece has left, and tokio's timer wakes it 1-2 ms late (deadlines
/// are rounded up to the millisecond, the park is counted in whole milliseconds): starting
/// afresh from `now` after each piece lost that time every 4 KiB, 22 % of an 8 Mbit/s limit.
/// Longer pauses start afresh, so an idle link saves up at most this much credit.
const SLACK: Duration = Duration::from_millis(20);

#[derive(Debug)]
pub(crate) struct TokenBucket {
    /// Bytes per second; `None` for no limit.
    rate: Option<f64>,
    /// When the link is free again; `None` until the first reservation under a new rate.
    next_free: Option<Instant>,
}

impl TokenBucket {
    pub(crate) fn unlimited() -> TokenBucket {
        TokenBucket {
            rate: None,
            next_free: None,
        }
    }

    pub(crate) fn set_rate(&mut self, bits_per_second: Option<f64>) {
        self.rate = bits_per_second.map(|bits| (bits / 8.0).max(1.0));
        self.next_free = None;
    }

    pub(crate) fn is_limited(&self) -> bool {
        self.rate.is_some()
    }

    /// Reserves the link for `bytes`; returns when the last of them has left at the rate.
    pub(crate) fn reserve(&mut self, bytes: usize, now: Instant) -> Instant {
        let Some(rate) = self.rate else { return now };
        let start = match self.next_free {
            Some(free) if now.saturating_duration_since(free) <= SLACK => free,
            _ => now,
        };
        let free = start + Duration::from_secs_f64(bytes as f64 / rate);
        self.next_free = Some(free);
        free
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_follow_each_other_at_the_rate() {
        let mut bucket = TokenBucket::unlimited();
        let now = Instant::now();
        assert_eq!(bucket.reserve(1000, now), now);
        bucket.set_rate(Some(8000.0)); // 1000 bytes per second
        let now = Instant::now();
        let first = bucket.reserve(500, now);
        let second = bucket.reserve(500, now);
        assert_eq!(first - now, Duration::from_millis(500));
        assert_eq!(second - now, Duration::from_secs(1));
    }

    #[test]
    fn a_late_reservation_keeps_the_schedule() {
        let mut bucket = TokenBucket::unlimited();
        bucket.set_rate(Some(8000.0));
        let now = Instant::now();
        let first = bucket.reserve(500, now);
        // The writer wakes 2 ms after its piece left: the next piece still leaves on time.
        let late = first + Duration::from_millis(2);
        assert_eq!(bucket.reserve(500, late) - now, Duration::from_secs(1));
    }

    #[test]
    fn an_idle_link_does_not_save_up_credit() {
        let mut bucket = TokenBucket::unlimited();
        bucket.set_rate(Some(8000.0));
        let later = Instant::now() + Duration::from_secs(10);
        assert_eq!(
            bucket.reserve(100, later) - later,
            Duration::from_millis(100)
        );
    }
}
