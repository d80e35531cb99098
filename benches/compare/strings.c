#include <stdio.h>
#include <string.h>
int main(void) {
    char line[512];
    size_t len = 0;
    long long total = 0;
    for (long long i = 0; i < 2000000; i++) {
        len += (size_t)sprintf(line + len, "item-%lld:%lld,", i, i * 7);
        if (len > 200) {
            long long parts = 1;
            for (size_t k = 0; k < len; k++) parts += line[k] == ',';
            total += parts + (long long)len;
            len = 0;
        }
    }
    printf("%lld\n", total);
    return 0;
}
