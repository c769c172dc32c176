/* fasta (the Benchmarks Game), the same algorithm as fasta.weft: lines are
   built in a buffer and written a section at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IM 139968
#define IA 3877
#define IC 29573
#define WIDTH 60

static long seed = 42;
static double random_next(double max) {
    seed = (seed * IA + IC) % IM;
    return max * (double)seed / (double)IM;
}

static const char *ALU =
    "GGCCGGGCGCGGTGGCTCACGCCTGTAATCCCAGCACTTTGGGAGGCCGAGGCGGGCGGATCACCTGAGGTCAGGAGTTCGAGACCAGCCTGGCCAACATGGTGAAACCCCGTCTCTACTAAAAATACAAAAATTAGCCGGGCGTGGTGGCGCGCGCCTGTAATCCCAGCTACTCGGGAGGCTGAGGCAGGAGAATCGCTTGAACCCGGGAGGCGGAGGTTGCAGTGAGCCGAGATCGCGCCACTGCACTCCAGCCTGGGCGACAGAGCGAGACTCCGTCTCAAAAA";

static char *buf;
static size_t len, cap;
static void add(const char *s, size_t n) {
    if (len + n > cap) {
        cap = (len + n) * 2;
        buf = realloc(buf, cap);
    }
    memcpy(buf + len, s, n);
    len += n;
}
static void flush(void) {
    fwrite(buf, 1, len, stdout);
    len = 0;
}

static void repeat_fasta(const char *header, const char *s, long n) {
    size_t sl = strlen(s);
    char *twice = malloc(2 * sl);
    memcpy(twice, s, sl);
    memcpy(twice + sl, s, sl);
    add(header, strlen(header));
    size_t pos = 0;
    while (n > 0) {
        long m = n < WIDTH ? n : WIDTH;
        add(twice + pos, m);
        add("\n", 1);
        pos += m;
        if (pos >= sl) pos -= sl;
        n -= m;
    }
    flush();
    free(twice);
}

static void random_fasta(const char *header, const char *codes, const double *probs, int k, long n) {
    double cum[16], acc = 0.0;
    for (int i = 0; i < k; i++) {
        acc += probs[i];
        cum[i] = acc;
    }
    add(header, strlen(header));
    char line[WIDTH + 1];
    while (n > 0) {
        long m = n < WIDTH ? n : WIDTH;
        for (long i = 0; i < m; i++) {
            double r = random_next(1.0);
            int j = 0;
            while (j < k - 1 && cum[j] < r) j++;
            line[i] = codes[j];
        }
        line[m] = '\n';
        add(line, m + 1);
        n -= m;
    }
    flush();
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2500000;
    static const double iub[] = {0.27, 0.12, 0.12, 0.27, 0.02, 0.02, 0.02, 0.02,
                                 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02};
    static const double homo[] = {0.3029549426680, 0.1979883004921, 0.1975473066391, 0.3015094502008};
    repeat_fasta(">ONE Homo sapiens alu\n", ALU, 2 * n);
    random_fasta(">TWO IUB ambiguity codes\n", "acgtBDHKMNRSVWY", iub, 15, 3 * n);
    random_fasta(">THREE Homo sapiens frequency\n", "acgt", homo, 4, 5 * n);
    return 0;
}
