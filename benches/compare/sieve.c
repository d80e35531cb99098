#include <stdio.h>
#include <stdlib.h>
int main(void) {
    long long n = 1000000, count = 0;
    long long *flags = calloc(n + 1, sizeof *flags); /* 8-byte elements, as Kiln's */
    for (int rep = 0; rep < 60; rep++) {
        for (long long i = 0; i <= n; i++) flags[i] = 1;
        count = 0;
        for (long long i = 2; i <= n; i++)
            if (flags[i]) { count++; for (long long j = i * i; j <= n; j += i) flags[j] = 0; }
    }
    printf("%lld\n", count);
    free(flags);
    return 0;
}
