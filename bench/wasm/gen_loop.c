/* wasm/gen: the plain synchronous C loop, the limit: xorshift64 (seed given
 * by the driver, 88172645463325252), n values summed. Freestanding wasm32, no
 * libc: the driver (gen_loop.mjs) calls the export and prints the sum. */
typedef unsigned long long u64;

__attribute__((export_name("gen_sum"))) u64 gen_sum(u64 seed, u64 n) {
    u64 x = seed, sum = 0;
    for (u64 i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum += x;
    }
    return sum;
}
