const size = 1600;
let inside = 0;
for (let y = 0; y < size; y++) {
  const ci = 2.0 * y / size - 1.0;
  for (let x = 0; x < size; x++) {
    const cr = 2.0 * x / size - 1.5;
    let zr = 0.0, zi = 0.0, k = 0;
    while (k < 50 && zr * zr + zi * zi <= 4.0) {
      const t = zr * zr - zi * zi + cr;
      zi = 2.0 * zr * zi + ci;
      zr = t;
      k++;
    }
    if (k === 50) inside++;
  }
}
console.log(String(inside));
