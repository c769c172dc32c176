/* wasm/gen: the xorshift64 generator as a resumable coroutine made with
 * binaryen's Asyncify (`wasm-opt --asyncify`), the way C code gets
 * generators in wasm without compiler support. Freestanding wasm32, no libc.
 *
 * gen_resume is an ordinary loop that hands each value to yield_value. After
 * the Asyncify pass, yield_value starts an unwind: gen_resume saves its locals
 * in the asyncify data buffer and returns to the consumer, which stops the
 * unwind, reads the value and starts a rewind; calling gen_resume again then
 * restores the locals, replays the call to yield_value (which stops the
 * rewind) and goes on after it.
 *
 * Two consumers, picked at build time:
 *  - by default the consumer loop is C, gen_sum below, in the same module:
 *    yield_value is C too and calls binaryen's asyncify.* intrinsics, so no
 *    JS runs per value and the cost is Asyncify's own;
 *  - with -DJS_DRIVER yield_value is imported from JS and the consumer loop
 *    is JS (driver.mjs, mode "asyncify-js"): the standard Asyncify pattern,
 *    where the host stops the unwind and rewinds. The value crosses as two
 *    32-bit halves: an i64 would cross as a BigInt, whose allocation and
 *    arithmetic in JS would cost more than the stack switch itself. */
typedef unsigned long long u64;
typedef unsigned int u32;

/* The asyncify data buffer: where the unwind saves gen_resume's state. */
struct asyncify_data {
    u32 cur, end;
    u64 buf[16];
};
static struct asyncify_data data;

static u64 gen_seed, gen_n;

#ifdef JS_DRIVER
__attribute__((import_module("env"), import_name("yield_value"))) void yield_halves(u32 lo, u32 hi);

static inline void yield_value(u64 v) { yield_halves((u32)v, (u32)(v >> 32)); }

/* For the JS driver: the address of the data buffer and its size. */
__attribute__((export_name("asyncify_data"))) u32 asyncify_data_addr(void) { return (u32)&data; }
__attribute__((export_name("asyncify_data_size"))) u32 asyncify_data_size(void) { return sizeof data; }
#else
__attribute__((import_module("asyncify"), import_name("start_unwind"))) void asyncify_start_unwind(void *);
__attribute__((import_module("asyncify"), import_name("stop_unwind"))) void asyncify_stop_unwind(void);
__attribute__((import_module("asyncify"), import_name("start_rewind"))) void asyncify_start_rewind(void *);
__attribute__((import_module("asyncify"), import_name("stop_rewind"))) void asyncify_stop_rewind(void);

static u64 yielded;
static int suspended, rewinding;

/* noinline: Asyncify instruments the callers of a function that starts an
 * unwind, not that function itself, so it must stay a call of its own. */
__attribute__((noinline)) static void yield_value(u64 v) {
    if (rewinding) {
        /* Replayed by the rewind: the generator is back where it yielded. */
        asyncify_stop_rewind();
        rewinding = 0;
        return;
    }
    yielded = v;
    suspended = 1;
    data.cur = (u32)data.buf;
    data.end = (u32)(data.buf + 16);
    asyncify_start_unwind(&data);
}
#endif

/* Sets up the generator; the first gen_resume starts it. */
__attribute__((export_name("gen_start"))) void gen_start(u64 seed, u64 n) {
    gen_seed = seed;
    gen_n = n;
}

/* The generator's body: returns at each yield (unwound) and at the end. */
__attribute__((export_name("gen_resume"), noinline)) void gen_resume(void) {
    u64 x = gen_seed;
    for (u64 i = 0; i < gen_n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        yield_value(x);
    }
}

#ifndef JS_DRIVER
/* The consumer: resumes the generator until it ends, summing the values.
 * It only stops unwinds and starts rewinds, so Asyncify leaves it as is. */
__attribute__((export_name("gen_sum"))) u64 gen_sum(u64 seed, u64 n) {
    u64 sum = 0;
    gen_start(seed, n);
    for (;;) {
        gen_resume();
        if (!suspended)
            return sum;
        asyncify_stop_unwind();
        suspended = 0;
        sum += yielded;
        rewinding = 1;
        asyncify_start_rewind(&data);
    }
}
#endif
