//! gen: a Rust iterator yields 100M values of xorshift64 (seed
//! 88172645463325252), summed by the consumer; printed as i64 to match Weft.

struct XorShift64 {
    x: u64,
}

impl Iterator for XorShift64 {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let mut x = self.x;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.x = x;
        Some(x)
    }
}

fn main() {
    let values = XorShift64 {
        x: 88172645463325252,
    }
    .take(100_000_000);
    let sum = values.fold(0u64, |acc, v| acc.wrapping_add(v));
    println!("{}", sum as i64);
}
