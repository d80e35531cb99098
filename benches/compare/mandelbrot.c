#include <stdio.h>
int main(void) {
    long long size = 1600, inside = 0;
    for (long long y = 0; y < size; y++) {
        double ci = 2.0 * (double)y / (double)size - 1.0;
        for (long long x = 0; x < size; x++) {
            double cr = 2.0 * (double)x / (double)size - 1.5, zr = 0.0, zi = 0.0;
            long long k = 0;
            while (k < 50 && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                k++;
            }
            if (k == 50) inside++;
        }
    }
    printf("%lld\n", inside);
    return 0;
}
