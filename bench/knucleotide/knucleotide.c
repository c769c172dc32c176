// k-nucleotide of the Benchmarks Game, single-threaded C peer for
// bench/run.py: the same algorithm as knucleotide.weft (2-bit codes, one
// hash table of k-mer counts per k, updated as the window slides), with an
// open-addressing table of 64-bit keys.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t key; int64_t n; } Entry;
typedef struct { Entry *slots; size_t cap, len; } Table;

static size_t slot_of(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

static void grow(Table *t);

static void add(Table *t, uint64_t key) {
    size_t mask = t->cap - 1, i = slot_of(key, mask);
    for (;;) {
        Entry *e = &t->slots[i];
        if (e->n == 0) {
            e->key = key;
            e->n = 1;
            if (++t->len * 2 > t->cap) grow(t);
            return;
        }
        if (e->key == key) { e->n++; return; }
        i = (i + 1) & mask;
    }
}

static void grow(Table *t) {
    Entry *old = t->slots;
    size_t cap = t->cap;
    t->cap *= 2;
    t->slots = calloc(t->cap, sizeof(Entry));
    for (size_t i = 0; i < cap; i++) {
        if (old[i].n == 0) continue;
        size_t mask = t->cap - 1, j = slot_of(old[i].key, mask);
        while (t->slots[j].n != 0) j = (j + 1) & mask;
        t->slots[j] = old[i];
    }
    free(old);
}

static int64_t get(const Table *t, uint64_t key) {
    size_t mask = t->cap - 1, i = slot_of(key, mask);
    for (;;) {
        const Entry *e = &t->slots[i];
        if (e->n == 0) return 0;
        if (e->key == key) return e->n;
        i = (i + 1) & mask;
    }
}

static Table count(const uint8_t *seq, size_t n, int k) {
    Table t = { calloc(64, sizeof(Entry)), 64, 0 };
    uint64_t mask = (k == 32) ? ~0ull : ((1ull << (2 * k)) - 1), key = 0;
    for (int i = 0; i < k - 1; i++) key = (key << 2) | seq[i];
    for (size_t i = k - 1; i < n; i++) {
        key = ((key << 2) | seq[i]) & mask;
        add(&t, key);
    }
    return t;
}

static int code(int b) {
    switch (b | 32) { case 'a': return 0; case 'c': return 1; case 'g': return 2; default: return 3; }
}

typedef struct { char name[4]; int64_t n; } Freq;

static int by_count(const void *a, const void *b) {
    const Freq *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void frequencies(const uint8_t *seq, size_t n, int k) {
    Table t = count(seq, n, k);
    Freq all[16];
    size_t m = 0;
    for (size_t i = 0; i < t.cap; i++) {
        if (t.slots[i].n == 0) continue;
        for (int j = 0; j < k; j++) all[m].name[j] = "ACGT"[(t.slots[i].key >> (2 * (k - 1 - j))) & 3];
        all[m].name[k] = 0;
        all[m++].n = t.slots[i].n;
    }
    qsort(all, m, sizeof(Freq), by_count);
    for (size_t i = 0; i < m; i++) printf("%s %.3f\n", all[i].name, 100.0 * all[i].n / (double)(n - k + 1));
    printf("\n");
    free(t.slots);
}

static void occurrences(const uint8_t *seq, size_t n, const char *pattern) {
    int k = (int)strlen(pattern);
    Table t = count(seq, n, k);
    uint64_t key = 0;
    for (int i = 0; i < k; i++) key = (key << 2) | code(pattern[i]);
    printf("%lld\t%s\n", (long long)get(&t, key), pattern);
    free(t.slots);
}

int main(void) {
    size_t cap = 1 << 20, len = 0;
    uint8_t *in = malloc(cap);
    size_t got;
    while ((got = fread(in + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) in = realloc(in, cap *= 2);
    }
    size_t i = 0;
    while (i < len && !(in[i] == '>' && len - i >= 6 && memcmp(in + i, ">THREE", 6) == 0)) {
        while (i < len && in[i] != '\n') i++;
        i++;
    }
    while (i < len && in[i] != '\n') i++;
    uint8_t *seq = malloc(len);
    size_t n = 0;
    for (; i < len && in[i] != '>'; i++)
        if (in[i] != '\n') seq[n++] = (uint8_t)code(in[i]);
    frequencies(seq, n, 1);
    frequencies(seq, n, 2);
    const char *patterns[] = { "GGT", "GGTA", "GGTATT", "GGTATTTTAATT", "GGTATTTTAATTTATAGT" };
    for (int p = 0; p < 5; p++) occurrences(seq, n, patterns[p]);
    return 0;
}
