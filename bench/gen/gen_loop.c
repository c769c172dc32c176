/* gen: the plain C loop, the limit for a generator: xorshift64 (seed
 * 88172645463325252), 100M values summed. Printed as a signed 64-bit integer
 * to match Weft's `int`. */
#include <stdint.h>
#include <stdio.h>

int main(void) {
    uint64_t x = 88172645463325252ull, sum = 0;
    for (long i = 0; i < 100000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum += x;
    }
    printf("%lld\n", (long long)sum);
    return 0;
}
