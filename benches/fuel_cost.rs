//! Nanoseconds per unit of fuel, for every operation that charges fuel, on large inputs:
//! fuel bounds time only if no operation does much more work per unit than the others.
//! Each program spends nearly all of its run in one operation; its whole run time is
//! divided by the fuel it used. Target (issue "The sandbox holds"): at most 50 ns per
//! unit for every row, in the interpreter.
//!
//! `cargo bench --bench fuel_cost` (prints a Markdown table; medians of 3 runs).

use kiln_runtime::{Engine, Instance, InstanceConfig, Module, SharedBuffer};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// (operation, program). Helpers shared by the programs come first in each.
const CASES: &[(&str, &str)] = &[
    ("instructions (int loop)", "fn main() { var s = 0; for i in 0..20000000 { s = (s + i * 3) ^ 5; } println(s); }"),
    ("calls (fib)", "fn fib(n: int) -> int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } fn main() { println(fib(30)); }"),
    ("ConcatN (1 MiB strings)", "fn main() { var s = \"0123456789abcdef\"; for i in 0..16 { s = s + s; } var n = 0; for i in 0..200 { let t = s + s + s; n += t.len(); } println(n); }"),
    ("EqS/LtS (1 MiB equal prefixes)", "fn main() { var s = \"0123456789abcdef\"; for i in 0..16 { s = s + s; } let t = s + \"x\"; let u = s + \"y\"; var n = 0; for i in 0..500 { if t == u { n += 1; } if t < u { n += 2; } } println(n); }"),
    ("NewArray (64-element literals)", "fn main() { var n = 0; for i in 0..100000 { let a = [i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i]; n += a.len(); } println(n); }"),
    ("NewStruct (24 fields)", "struct W { a: int, b: int, c: int, d: int, e: int, f: int, g: int, h: int, i: int, j: int, k: int, l: int, m: int, n: int, o: int, p: int, q: int, r: int, s: int, t: int, u: int, v: int, w: int, x: int } fn main() { var n = 0; for i in 0..1000000 { let w = W { a: i, b: i, c: i, d: i, e: i, f: i, g: i, h: i, i: i, j: i, k: i, l: i, m: i, n: i, o: i, p: i, q: i, r: i, s: i, t: i, u: i, v: i, w: i, x: i }; n += w.x; } println(n); }"),
    ("ArrayFill ([x; 1e6])", "fn main() { var n = 0; for i in 0..200 { let a = [i; 1000000]; n += a.len(); } println(n); }"),
    ("ArrayInsert/Remove at the front", "fn main() { var a = [0; 200000]; for i in 0..2000 { a.insert(0, i); let x = a.remove(0); } println(a.len()); }"),
    ("ArraySort int (1e6)", "fn main() { var n = 0; for r in 0..5 { var a: [int] = []; var x = r; for i in 0..1000000 { x = (x * 1103515245 + 12345) % 2147483648; a.push(x); } a.sort(); n += a[0]; } println(n); }"),
    ("ArraySort float (1e6)", "fn main() { var n = 0.0; for r in 0..5 { var a: [float] = []; var x = r; for i in 0..1000000 { x = (x * 1103515245 + 12345) % 2147483648; a.push(x as float); } a.sort(); n += a[0]; } println(n); }"),
    ("ArraySort str (long shared prefix)", "fn main() { var p = \"0123456789abcdef\"; for i in 0..8 { p = p + p; } var a: [str] = []; var x = 1; for i in 0..20000 { x = (x * 1103515245 + 12345) % 2147483648; a.push(p + \"{x}\"); } a.sort(); println(a.len()); }"),
    ("print (1 MiB lines)", "fn main() { var s = \"0123456789abcdef\"; for i in 0..16 { s = s + s; } for i in 0..300 { println(s); } }"),
    ("println (short lines)", "fn main() { for i in 0..2000000 { println(\"x\"); } }"),
    ("str_slice (512 KiB)", "fn main() { var s = \"0123456789abcdef\"; for i in 0..16 { s = s + s; } var n = 0; for i in 0..300 { n += s.slice(1, 524289).len(); } println(n); }"),
    ("str_trim (4 MiB of spaces)", "fn main() { var s = \"                \"; for i in 0..18 { s = s + s; } var n = 0; for i in 0..50 { n += s.trim().len(); } println(n); }"),
    ("str_contains (1 MiB, absent)", "fn main() { var s = \"0123456789abcdef\"; for i in 0..16 { s = s + s; } var n = 0; for i in 0..300 { if s.contains(\"0123456789abcdefX\") { n += 1; } if s.ends_with(\"fX\") { n += 1; } } println(n); }"),
    ("str_split (1 MiB by ,)", "fn main() { var s = \"abc,def,\"; for i in 0..17 { s = s + s; } var n = 0; for i in 0..20 { n += s.split(\",\").len(); } println(n); }"),
    ("str_split (\"\": 1 MiB of chars)", "fn main() { var s = \"abcdefgh\"; for i in 0..17 { s = s + s; } var n = 0; for i in 0..10 { n += s.split(\"\").len(); } println(n); }"),
    ("IntToStr/FloatToStr", "fn main() { var n = 0; for i in 0..2000000 { n += \"{i}{i as float / 3.0}\".len(); } println(n); }"),
    ("str_find / parse_int / parse_float (1 MiB)", "fn main() { var s = \"0123456789abcdef\"; for i in 0..16 { s = s + s; } var d = \"1234567812345678\"; for i in 0..16 { d = d + d; } var n = 0; for i in 0..100 { match s.find(\"X\") { Some(_) => n += 1, None => {} } match d.parse_int() { Some(_) => n += 1, None => {} } match d.parse_float() { Some(_) => n += 2, None => {} } } println(n); }"),
    ("hash_str (Map with 64 KiB keys)", "fn main() { var s = \"0123456789abcdef\"; for i in 0..12 { s = s + s; } let m: Map<str, int> = Map.new(); for i in 0..200 { m[s + \"{i}\"] = i; } var n = 0; for i in 0..200 { n += m[s + \"{i}\"]; } println(n); }"),
    ("Map insert/lookup (int keys)", "fn main() { let m: Map<int, int> = Map.new(); for i in 0..200000 { m[i * 7] = i; } var n = 0; for i in 0..200000 { n += m[i * 7]; } println(n); }"),
    ("CallClosure / CallIface / match", "interface V { fn v(self) -> int; } struct A { x: int } impl V for A { fn v(self) -> int { self.x } } enum E { P(int), Q } fn main() { let k = 3; let f = |x: int| x + k; let vs: [V] = [A { x: 1 }, A { x: 2 }]; var n = 0; for i in 0..1000000 { n += f(i) + vs[i % 2].v(); let e = if i % 3 == 0 { E.Q } else { E.P(i) }; n += match e { E.P(x) => x, E.Q => 1 }; } println(n); }"),
    ("Switch / optional values (int?, float?, fields, arrays)", "enum K { A, B, C, D } struct S { o: Option<int> } fn pick(i: int) -> Option<int> { if i % 4 == 0 { None } else { Some(i) } } fn main() { let ks = [K.A, K.B, K.C, K.D]; let s = S { o: None }; let xs: [Option<float>] = [None, Some(1.5)]; var n = 0; for i in 0..1000000 { n += match ks[i % 4] { K.A => 1, K.B => 2, K.C => 3, K.D => 4 }; s.o = pick(i); match s.o { Some(v) => n += v, None => n -= 1 } match xs[i % 2] { Some(f) => n += f as int, None => {} } } println(n); }"),
    ("sort_by (200 000 ints)", "fn main() { let xs: [int] = []; var x = 7; for i in 0..200000 { x = (x * 1103515245 + 12345) % 2147483648; xs.push(x); } xs.sort_by(|a, b| a < b); println(xs[0]); }"),
    ("allocation + GC (binary trees)", "struct T { kids: [T] } fn make(d: int) -> T { if d == 0 { T { kids: [] } } else { T { kids: [make(d - 1), make(d - 1)] } } } fn check(t: T) -> int { if t.kids.len() == 0 { 1 } else { 1 + check(t.kids[0]) + check(t.kids[1]) } } fn main() { var n = 0; for i in 0..40 { n += check(make(14)); } println(n); }"),
];

fn run_once(module: &Module) -> (f64, u64) {
    let out = SharedBuffer::default();
    let mut inst =
        Instance::new(module, InstanceConfig { stdout: Box::new(out.clone()), ..InstanceConfig::default() })
            .expect("instance");
    let t = Instant::now();
    inst.run().expect("runs");
    (t.elapsed().as_secs_f64() * 1e9, inst.stats().fuel_used)
}

fn main() {
    let engine = Engine::new();
    println!("| operation | fuel used | run time | ns per unit | within 50 ns |");
    println!("|---|---|---|---|---|");
    for (name, src) in CASES {
        let bc = kiln_compiler::compile_source("fuel.kiln", src).unwrap_or_else(|d| panic!("{name}: {d}"));
        let module = Module::from_bytecode(&engine, bc).expect("loads");
        let mut runs: Vec<(f64, u64)> = (0..3).map(|_| run_once(&module)).collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (ns, fuel) = runs[1];
        let per = ns / fuel as f64;
        println!(
            "| {name} | {fuel} | {:.1} ms | {per:.2} | {} |",
            ns / 1e6,
            if per <= 50.0 { "yes" } else { "**no**" }
        );
    }
}
