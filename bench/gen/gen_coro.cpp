// gen: a C++20 coroutine generator yielding 100M xorshift64 values, summed
// by the consumer. Built twice: as is (the coroutine may be inlined and its
// frame elided, so it can become the plain loop) and with -DCORO_NOINLINE
// (the coroutine is `noinline`: a heap frame and a real resume per value).
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <exception>

#ifdef CORO_NOINLINE
#define CORO_ATTR __attribute__((noinline))
#else
#define CORO_ATTR
#endif

struct Gen {
    struct promise_type {
        uint64_t value = 0;
        Gen get_return_object() { return Gen{std::coroutine_handle<promise_type>::from_promise(*this)}; }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        std::suspend_always yield_value(uint64_t v) noexcept {
            value = v;
            return {};
        }
        void return_void() noexcept {}
        void unhandled_exception() { std::terminate(); }
    };

    explicit Gen(std::coroutine_handle<promise_type> h) : h(h) {}
    Gen(const Gen &) = delete;
    ~Gen() { h.destroy(); }

    // Resumes to the next yield; false once the body has finished.
    bool next(uint64_t &out) {
        h.resume();
        if (h.done()) return false;
        out = h.promise().value;
        return true;
    }

    std::coroutine_handle<promise_type> h;
};

CORO_ATTR Gen xorshift(uint64_t x, long n) {
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        co_yield x;
    }
}

int main() {
    uint64_t sum = 0, v;
    Gen g = xorshift(88172645463325252ull, 100000000);
    while (g.next(v)) sum += v;
    std::printf("%lld\n", (long long)sum);
    return 0;
}
