//! A small deterministic generator (xorshift64*), so a generated fleet or a
//! seeded failure can be replayed; no dependency needed. Shared by the tests
//! (`support::rng`) and the benchmark's fleet generator (`examples/gen-fleet.rs`,
//! which includes this file by path).

// Each user needs some of these methods, never all.
#![allow(dead_code)]

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
