/* binary-trees depth 18 with malloc/free: the C peer of binary.weft. */
#include <stdio.h>
#include <stdlib.h>

typedef struct Node { struct Node *left, *right; } Node;

static Node *make(int depth) {
    Node *n = malloc(sizeof *n);
    if (depth == 0) { n->left = n->right = NULL; return n; }
    n->left = make(depth - 1);
    n->right = make(depth - 1);
    return n;
}

static long check(Node *n) {
    long c = 1;
    if (n->left) c += check(n->left);
    if (n->right) c += check(n->right);
    return c;
}

static void release(Node *n) {
    if (n->left) release(n->left);
    if (n->right) release(n->right);
    free(n);
}

int main(void) {
    int max_depth = 18, stretch = max_depth + 1;
    Node *s = make(stretch);
    printf("stretch tree of depth %d\t check: %ld\n", stretch, check(s));
    release(s);
    Node *long_lived = make(max_depth);
    for (int depth = 4; depth <= max_depth; depth += 2) {
        long iterations = 1L << (max_depth - depth + 4), total = 0;
        for (long i = 0; i < iterations; i++) {
            Node *t = make(depth);
            total += check(t);
            release(t);
        }
        printf("%ld\t trees of depth %d\t check: %ld\n", iterations, depth, total);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
    release(long_lived);
    return 0;
}
