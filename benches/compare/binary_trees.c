#include <stdio.h>
#include <stdlib.h>
typedef struct Tree { struct Tree *left, *right; } Tree;
static Tree *make(int d) {
    Tree *t = malloc(sizeof *t);
    if (d == 0) { t->left = t->right = NULL; } else { t->left = make(d - 1); t->right = make(d - 1); }
    return t;
}
static long long check(Tree *t) { return t->left ? 1 + check(t->left) + check(t->right) : 1; }
static void release(Tree *t) { if (t->left) { release(t->left); release(t->right); } free(t); }
int main(void) {
    int max_depth = 16;
    Tree *s = make(max_depth + 1);
    long long total = check(s);
    release(s);
    Tree *long_lived = make(max_depth);
    for (int d = 4; d <= max_depth; d += 2) {
        long long iterations = 1LL << (max_depth - d + 4);
        for (long long i = 0; i < iterations; i++) { Tree *t = make(d); total += check(t); release(t); }
    }
    printf("%lld\n", total + check(long_lived));
    release(long_lived);
    return 0;
}
