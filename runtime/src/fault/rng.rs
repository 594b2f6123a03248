//! The random choices of faults: ChaCha8 from a seed, so the same seed gives the same choices
//! on every machine and in every version of jspec that keeps this generator.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng};

#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, n); 0 when n is 0.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.f64() * n as f64) as usize % n
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

/// A seed derived from a master seed and a label (a case id, a statement's position), so that
/// each consumer of randomness has its own stream and adding one does not shift the others.
pub fn derive(master: u64, label: &str) -> u64 {
    // FNV-1a over the label, mixed with the master seed: stable across platforms and versions.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ master;
    for byte in label.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Rng::seeded(hash).u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_choices() {
        let a: Vec<usize> = (0..5)
            .scan(Rng::seeded(7), |r, _| Some(r.below(100)))
            .collect();
        let b: Vec<usize> = (0..5)
            .scan(Rng::seeded(7), |r, _| Some(r.below(100)))
            .collect();
        let c: Vec<usize> = (0..5)
            .scan(Rng::seeded(8), |r, _| Some(r.below(100)))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn derived_seeds_differ_by_label() {
        assert_eq!(derive(1, "C1"), derive(1, "C1"));
        assert_ne!(derive(1, "C1"), derive(1, "C2"));
        assert_ne!(derive(1, "C1"), derive(2, "C1"));
    }
}
