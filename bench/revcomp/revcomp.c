// reverse-complement of the Benchmarks Game, single-threaded C peer for
// bench/run.py: the same algorithm as revcomp.weft (all of stdin in one
// buffer, each section reversed and complemented into one output buffer,
// 60 characters a line, written at once).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    size_t cap = 1 << 20, n = 0, got;
    unsigned char *in = malloc(cap);
    while ((got = fread(in + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) in = realloc(in, cap *= 2);
    }
    unsigned char table[256];
    for (int i = 0; i < 256; i++) table[i] = (unsigned char)i;
    const char *from = "ACGTUMRWSYKVHDBN", *to = "TGCAAKYWSRMBDHVN";
    for (int i = 0; from[i]; i++) {
        table[(unsigned char)from[i]] = (unsigned char)to[i];
        table[(unsigned char)from[i] | 32] = (unsigned char)to[i];
    }
    unsigned char *out = malloc(n + n / 60 + 64);
    size_t o = 0, i = 0;
    while (i < n) {
        size_t header = i;
        while (i < n && in[i] != '\n') i++;
        size_t end = i < n ? i + 1 : n;
        memcpy(out + o, in + header, end - header);
        o += end - header;
        if (i >= n && in[n - 1] != '\n') out[o++] = '\n';
        i++;
        size_t start = i;
        while (i < n && in[i] != '>') i++;
        int col = 0;
        for (size_t j = i; j-- > start;) {
            unsigned char b = in[j];
            if (b == '\n') continue;
            out[o++] = table[b];
            if (++col == 60) { out[o++] = '\n'; col = 0; }
        }
        if (col > 0) out[o++] = '\n';
    }
    fwrite(out, 1, o, stdout);
    return 0;
}
