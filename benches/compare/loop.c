#include <stdio.h>
int main(void) {
    long long acc = 0;
    for (long long i = 0; i < 300000000; i++) acc = (acc * 31 + i) % 1000003;
    printf("%lld\n", acc);
    return 0;
}
