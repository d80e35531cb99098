class Square { constructor(side) { this.side = side; } area() { return this.side * this.side; } }
class Rect { constructor(w, h) { this.w = w; this.h = h; } area() { return this.w * this.h; } }
class Tri { constructor(b, h) { this.b = b; this.h = h; } area() { return Math.trunc(this.b * this.h / 2); } }
const shapes = [];
for (let i = 0; i < 300; i++) {
  shapes.push(i % 3 === 0 ? new Square(i % 7) : i % 3 === 1 ? new Rect(i % 5, i % 11) : new Tri(i % 13, i % 4));
}
let total = 0;
for (let rep = 0; rep < 100000; rep++) for (const s of shapes) total += s.area();
console.log(String(total));
