/* wasm/ping: the plain synchronous C, the limit: the 500k round trips of
 * ping as direct calls (noinline, so that the loop cannot fold into a
 * closed form). Freestanding wasm32, no libc; driver.mjs (mode "ping") calls
 * ping_run and prints the sum. */
typedef unsigned long long u64;

__attribute__((noinline)) static u64 ponger(u64 v) { return v + 1; }

__attribute__((export_name("ping_run"))) u64 ping_run(u64 rounds) {
    u64 sum = 0;
    for (u64 i = 0; i < rounds; i++)
        sum += ponger(i);
    return sum;
}
