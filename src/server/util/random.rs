//! The server's pseudo-random numbers (sampling for eviction, expiry, SPOP,
//! RANDOMKEY...).

/// A small, fast xorshift PRNG: the server owns one for random sampling.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the clock (µs) and the process id; the seed is made
    /// odd so it is never the all-zero state xorshift cannot leave.
    pub fn new() -> Self {
        let seed = super::clock::now_us() as u64
            ^ ((std::process::id() as u64) << 32)
            ^ 0x9E37_79B9_7F4A_7C15;
        Rng(seed | 1)
    }
    /// A generator with a fixed seed: the same sequence on every run (seeded tests).
    #[cfg(test)]
    pub fn seeded(seed: u64) -> Self {
        Rng(seed | 1)
    }
    /// The next 64-bit value: the xorshift 13/7/17 state passed through
    /// splitmix64's finalizer. Raw xorshift outputs are linearly related,
    /// low bits most visibly: a value drawn right after one whose low bits
    /// were constrained (a random bucket that turned out to be near a chain)
    /// had a biased parity. Not cryptographic: for sampling only.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

impl Default for Rng {
    fn default() -> Self {
        Self::new()
    }
}
