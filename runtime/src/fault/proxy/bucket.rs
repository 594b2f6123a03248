//! A bandwidth limit as a schedule: each piece of data reserves the time it takes to send at the
//! link's rate, after the pieces before it. Shared by all connections of a flow.

use std::time::{Duration, Instant};

/// The largest piece sent in one go under a limit: small enough that a limit holds within a few
/// percent over a second, large enough to keep the overhead low.
pub(crate) const PIECE: usize = 4096;

#[derive(Debug)]
pub(crate) struct TokenBucket {
    /// Bytes per second; `None` for no limit.
    rate: Option<f64>,
    /// When the link is free again.
    next_free: Instant,
}

impl TokenBucket {
    pub(crate) fn unlimited() -> TokenBucket {
        TokenBucket {
            rate: None,
            next_free: Instant::now(),
        }
    }

    pub(crate) fn set_rate(&mut self, bits_per_second: Option<f64>) {
        self.rate = bits_per_second.map(|bits| (bits / 8.0).max(1.0));
        self.next_free = Instant::now();
    }

    pub(crate) fn is_limited(&self) -> bool {
        self.rate.is_some()
    }

    /// Reserves the link for `bytes`; returns when the last of them has left at the rate.
    pub(crate) fn reserve(&mut self, bytes: usize, now: Instant) -> Instant {
        let Some(rate) = self.rate else { return now };
        let start = self.next_free.max(now);
        self.next_free = start + Duration::from_secs_f64(bytes as f64 / rate);
        self.next_free
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
