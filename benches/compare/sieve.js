const n = 1000000;
const flags = new Array(n + 1).fill(false);
let count = 0;
for (let rep = 0; rep < 60; rep++) {
  for (let i = 0; i <= n; i++) flags[i] = true;
  count = 0;
  for (let i = 2; i <= n; i++) {
    if (flags[i]) { count++; for (let j = i * i; j <= n; j += i) flags[j] = false; }
  }
}
console.log(String(count));
