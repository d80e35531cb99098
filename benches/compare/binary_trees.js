function make(d) { return d === 0 ? { left: null, right: null } : { left: make(d - 1), right: make(d - 1) }; }
function check(t) { return t.left ? 1 + check(t.left) + check(t.right) : 1; }
const maxDepth = 16;
let total = check(make(maxDepth + 1));
const longLived = make(maxDepth);
for (let d = 4; d <= maxDepth; d += 2) {
  const iterations = 1 << (maxDepth - d + 4);
  for (let i = 0; i < iterations; i++) total += check(make(d));
}
console.log(String(total + check(longLived)));
