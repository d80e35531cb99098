#include <stdio.h>
#include <stdlib.h>
typedef struct Shape { long long (*area)(const struct Shape *); long long a, b; } Shape;
static long long square(const Shape *s) { return s->a * s->a; }
static long long rect(const Shape *s) { return s->a * s->b; }
static long long tri(const Shape *s) { return s->a * s->b / 2; }
int main(void) {
    Shape *shapes[300];
    for (int i = 0; i < 300; i++) {
        Shape *s = malloc(sizeof *s);
        if (i % 3 == 0) { s->area = square; s->a = i % 7; s->b = 0; }
        else if (i % 3 == 1) { s->area = rect; s->a = i % 5; s->b = i % 11; }
        else { s->area = tri; s->a = i % 13; s->b = i % 4; }
        shapes[i] = s;
    }
    long long total = 0;
    for (int rep = 0; rep < 100000; rep++)
        for (int i = 0; i < 300; i++) total += shapes[i]->area(shapes[i]);
    printf("%lld\n", total);
    return 0;
}
