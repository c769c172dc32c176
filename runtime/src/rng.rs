//! The runtime's pseudo-random numbers, for the choices the language leaves
//! to chance (which ready arm a `select` takes, see `chan`).
//!
//! xorshift64* (Vigna): one word of state, a few instructions per number,
//! and good enough statistics for picking among a handful of arms; not for
//! anything that must be unpredictable. Seeded once at start-up from the
//! clock and an address (so two runs differ, ASLR permitting), or natively
//! from the environment variable `WEFT_SEED` (a decimal integer), so that a
//! run that went wrong can be replayed with the same choices. On wasm32 the
//! seed always comes from the clock (app.js passes only on/off switches).

use crate::platform;
use core::cell::Cell;

struct State(Cell<u64>);

// The runtime is single-threaded (the unit tests serialise on a lock, and
// a number drawn from any state is as good as another).
unsafe impl Sync for State {}

/// The generator's state; 0 means not seeded yet (xorshift never reaches 0).
static STATE: State = State(Cell::new(0));

/// Seeds the generator for the program: from `WEFT_SEED` if it is set to an
/// integer, else from the clock. Called once before `weft_main`.
pub fn init() {
    match platform::env_u64("WEFT_SEED") {
        Some(seed) => seed_with(seed),
        None => seed_from_clock(),
    }
}

/// Seeds the generator with `seed`: equal seeds give equal sequences.
pub fn seed_with(seed: u64) {
    // splitmix64's finaliser spreads small seeds (0, 1, 2...) over the
    // whole state, and the result is never 0 but for one input.
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    STATE.0.set(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z });
}

fn seed_from_clock() {
    let local = 0u8;
    let address = &local as *const u8 as usize as u64;
    seed_with(platform::now_ms().to_bits() ^ address.rotate_left(32));
}

/// The next 64 random bits.
pub fn next_u64() -> u64 {
    if STATE.0.get() == 0 {
        // Used before `init` (unit tests): any seed will do.
        seed_from_clock();
    }
    let mut x = STATE.0.get();
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    STATE.0.set(x);
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// A number in `0..n` (`n > 0`), by multiply-and-shift: its bias, at most
/// n / 2^64, is far below anything a test could see.
pub fn below(n: usize) -> usize {
    ((next_u64() as u128 * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_seeds_replay_and_draws_cover_the_range() {
        // The state is global: the heap lock keeps other tests' selects off it.
        let _heap = crate::tests::heap_lock();
        seed_with(42);
        let a: Vec<u64> = (0..8).map(|_| next_u64()).collect();
        seed_with(42);
        let b: Vec<u64> = (0..8).map(|_| next_u64()).collect();
        assert_eq!(a, b);
        seed_with(0);
        assert!(!a.contains(&next_u64()));
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            seen[below(5)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 700), "{seen:?}");
    }
}
