//! The JIT tier where it meets the rest of the runtime: on-stack replacement, tier-up in
//! the middle of recursion, interpreted and compiled frames calling each other, traps and
//! stack overflow in compiled code, collections under deep mixed stacks. Each program
//! runs in the interpreter too; every tier must print the same, stop the same way and
//! use the same fuel.

use kiln_runtime::{
    Engine, Instance, InstanceConfig, Limits, Module, RunError, SharedBuffer, Stats, Tier, TierConfig,
};

fn module(src: &str) -> Module {
    let bc = kiln_compiler::compile_source("app.kiln", src).unwrap_or_else(|d| panic!("{d}"));
    Module::from_bytes(&Engine::new(), &kiln_bytecode::encode(&bc)).expect("module loads")
}

#[derive(Debug, PartialEq)]
struct Outcome {
    stdout: String,
    ended: String,
    fuel: u64,
}

fn run(m: &Module, tier: Tier, threshold: u32, limits: Limits, gc_stress: bool) -> (Outcome, Stats) {
    let out = SharedBuffer::default();
    let mut inst = Instance::new(
        m,
        InstanceConfig {
            limits,
            gc_stress,
            stdout: Box::new(out.clone()),
            tier: TierConfig { tier, threshold },
            ..InstanceConfig::default()
        },
    )
    .expect("instance");
    let ended = match inst.run() {
        Ok(()) => "ok".to_string(),
        Err(RunError::Trap(t)) => t.to_string(),
        Err(e) => e.to_string(),
    };
    inst.check_heap().expect("heap consistent after the run");
    let stats = inst.stats();
    (
        Outcome { stdout: String::from_utf8(out.contents()).expect("utf-8"), ended, fuel: stats.fuel_used },
        stats,
    )
}

/// Runs `src` interpreted and in `tier`; asserts they agree and returns the compiled
/// run's outcome and statistics.
fn agree(src: &str, tier: Tier, threshold: u32, limits: Limits, gc_stress: bool) -> (Outcome, Stats) {
    let m = module(src);
    let (want, _) = run(&m, Tier::Interp, 0, limits.clone(), gc_stress);
    let (got, stats) = run(&m, tier, threshold, limits, gc_stress);
    assert_eq!(got, want, "{tier:?} (threshold {threshold}) differs from the interpreter");
    assert!(stats.jit.failures.is_empty(), "{:?}", stats.jit.failures);
    (got, stats)
}

#[test]
fn a_long_running_main_moves_to_compiled_code_at_its_loop_header() {
    let src = r#"
        fn main() {
            var sum = 0;
            var x = 1.5;
            for i in 0..200000 {
                sum = (sum + i * 7) % 1000003;
                x = x * 1.000001;
            }
            println("{sum} {x}");
        }
    "#;
    let (out, stats) = agree(src, Tier::Auto, 100, Limits::default(), false);
    assert_eq!(stats.osr_entries, 1, "main entered compiled code once");
    assert!(stats.jit.osr_compiled >= 1);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
}

#[test]
fn osr_happens_in_nested_loops_and_with_fuel_running_out_in_compiled_code() {
    let src = r#"
        fn main() {
            var n = 0;
            for i in 0..300 {
                for j in 0..300 { n += i ^ j; }
            }
            println("{n}");
            while true { n += 1; }
        }
    "#;
    let (out, stats) =
        agree(src, Tier::Auto, 50, Limits { fuel: Some(3_000_000), ..Limits::default() }, false);
    assert!(stats.osr_entries >= 1);
    assert!(out.ended.starts_with("error: fuel exhausted"), "{}", out.ended);
}

#[test]
fn a_function_compiled_while_deep_in_its_own_recursion_returns_through_interpreted_frames() {
    let src = r#"
        fn tree(depth: int) -> int {
            if depth == 0 { return 1; }
            return tree(depth - 1) + tree(depth - 1) + depth;
        }
        fn main() { println("{tree(16)}"); }
    "#;
    let (_, stats) = agree(src, Tier::Auto, 10, Limits::default(), false);
    assert_eq!(stats.jit.functions_compiled, 1);
}

/// `main` stays interpreted (called once), `hot` is compiled, `rare` is called too
/// seldom to be compiled: interpreted → compiled → interpreted → compiled frames.
const MIXED: &str = r#"
    struct Node { value: int, next: Option<Node> }
    fn rare(n: int, acc: Node) -> int {
        if n % 7 == 3 { return hot(n - 1, Node { value: n, next: Some(acc) }); }
        return n + acc.value;
    }
    fn hot(n: int, acc: Node) -> int {
        if n <= 0 { return acc.value; }
        if n % 50 == 0 { return rare(n - 1, Node { value: n * 2, next: Some(acc) }) + 1; }
        return hot(n - 1, Node { value: acc.value + n, next: Some(acc) });
    }
    fn main() {
        var total = 0;
        for i in 0..200 { total += hot(i * 3, Node { value: 0, next: None }); }
        println("{total}");
        println("{hot(600, Node { value: 1, next: None }) / 0}");
    }
"#;

#[test]
fn interpreted_and_compiled_frames_call_each_other_and_trap_with_one_trace() {
    let (out, stats) = agree(MIXED, Tier::Auto, 20, Limits::default(), false);
    assert!(stats.jit.functions_compiled >= 1);
    assert!(out.ended.starts_with("error: division by zero\n  at main (app.kiln:16:"), "{}", out.ended);
}

#[test]
fn collections_under_deep_mixed_stacks_keep_every_root() {
    // Every allocation collects; the linked nodes live only in frames of both tiers.
    let (out, _) = agree(MIXED, Tier::Auto, 20, Limits::default(), true);
    assert!(out.stdout.lines().count() == 1, "{}", out.stdout);
}

#[test]
fn traps_in_compiled_code_have_the_interpreters_trace_and_fuel() {
    let src = r#"
        fn get(a: [int], i: int) -> int { return a[i]; }
        fn walk(a: [int], i: int) -> int {
            if i == 0 { return get(a, 10); }
            return walk(a, i - 1) + 1;
        }
        fn main() { println("{walk([1, 2, 3], 30)}"); }
    "#;
    for tier in [Tier::Jit, Tier::Auto] {
        let (out, _) = agree(src, tier, 5, Limits::default(), false);
        assert!(out
            .ended
            .starts_with("error: index out of bounds: index 10, length 3\n  at get (app.kiln:2:"));
    }
}

#[test]
fn stack_overflow_in_compiled_code_is_the_interpreters() {
    let src = r#"
        fn down(n: int, s: str) -> int {
            if n == 0 { return 0; }
            return down(n - 1, s) + 1;
        }
        fn main() {
            println("{down(4000, "x")}");
            println("{down(100000000, "y")}");
        }
    "#;
    let limits = Limits { max_call_depth: 5000, ..Limits::default() };
    for (tier, threshold) in [(Tier::Jit, 0), (Tier::Auto, 100), (Tier::Auto, 2)] {
        let (out, _) = agree(src, tier, threshold, limits.clone(), false);
        assert_eq!(out.stdout, "4000\n");
        assert!(out.ended.starts_with("error: stack overflow\n"), "{}", out.ended);
    }
}

#[test]
fn the_default_depth_limit_holds_in_compiled_code_on_the_runs_own_stack() {
    let src = r#"
        fn down(n: int) -> int { if n == 0 { return 0; } return down(n - 1) + 1; }
        fn main() { println("{down(99990)}"); println("{down(1000000)}"); }
    "#;
    let (out, _) = agree(src, Tier::Jit, 0, Limits::default(), false);
    assert_eq!(out.stdout, "99990\n");
    assert!(out.ended.starts_with("error: stack overflow\n"));
}

/// Runs `m` in the JIT tier with `limits`, interrupted from another thread after `ms`
/// milliseconds; the run's error and statistics.
fn run_interrupted(m: &Module, limits: Limits, ms: u64) -> (String, Stats) {
    let config = InstanceConfig {
        tier: TierConfig { tier: Tier::Jit, threshold: 0 },
        limits,
        ..InstanceConfig::default()
    };
    let mut inst = Instance::new(m, config).expect("instance");
    let handle = inst.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(ms));
        handle.interrupt();
    });
    let err = inst.run().expect_err("interrupted").to_string();
    t.join().expect("thread");
    (err, inst.stats())
}

#[test]
fn an_interrupt_stops_a_compiled_loop() {
    let m = module("fn main() { var n = 0; while true { n += 1; } }");
    let (err, stats) = run_interrupted(&m, Limits::default(), 50);
    assert!(err.starts_with("error: interrupted"), "{err}");
    assert_eq!(stats.jit.functions_compiled, 1);
}

#[test]
fn compiled_code_is_shared_by_every_instance_of_a_module() {
    let m = module("fn sq(x: int) -> int { return x * x; } fn main() { var s = 0; for i in 0..10 { s += sq(i); } println(\"{s}\"); }");
    let (first, stats1) = run(&m, Tier::Jit, 0, Limits::default(), false);
    let (second, stats2) = run(&m, Tier::Jit, 0, Limits::default(), false);
    assert_eq!(first, second);
    assert_eq!(stats1.jit.functions_compiled, stats2.jit.functions_compiled, "nothing compiled twice");
    // The interpreter tier of the same module never runs that code.
    let (third, _) = run(&m, Tier::Interp, 0, Limits::default(), false);
    assert_eq!(first, third);
}

#[test]
fn interpreted_and_compiled_frames_alternate_to_the_depth_limit() {
    // `big` is too large to compile and stays interpreted: every other frame nests a
    // run of the interpreter under compiled code, the most machine stack a frame takes.
    let mut src = String::from("fn big(n: int) -> int {\n    var x = n;\n    if n < 0 {\n");
    src.push_str(&"        x = x * 3 + 1;\n".repeat(7000));
    src.push_str("    }\n    if n <= 0 { return x; }\n    return small(n - 1) + 1;\n}\n");
    src.push_str("fn small(n: int) -> int { if n <= 0 { return 0; } return big(n - 1) + 1; }\n");
    src.push_str("fn main() { println(\"{small(29990)}\"); println(\"{small(100000)}\"); }\n");
    let limits = Limits { max_call_depth: 30_000, ..Limits::default() };
    let m = module(&src);
    let (want, _) = run(&m, Tier::Interp, 0, limits.clone(), false);
    let (got, stats) = run(&m, Tier::Jit, 0, limits, false);
    assert_eq!(got, want);
    assert_eq!(got.stdout, "29990\n");
    assert!(got.ended.starts_with("error: stack overflow\n"), "{}", got.ended);
    assert_eq!(stats.jit.functions_compiled, 2, "main and small");
    assert!(stats.jit.failures[0].starts_with("big: "), "{:?}", stats.jit.failures);
}

#[test]
fn the_heap_limit_holds_for_objects_compiled_code_allocates_inline() {
    // Garbage far beyond the limit is fine; a live list past it traps, in every tier.
    let src = r#"
        struct Node { v: int, next: Option<Node> }
        fn churn(n: int) -> int {
            var s = 0;
            for i in 0..n { let t = Node { v: i, next: None }; s += t.v; }
            s
        }
        fn keep(n: int) -> Node {
            var head = Node { v: 0, next: None };
            for i in 0..n { head = Node { v: i, next: Some(head) }; }
            head
        }
        fn main() {
            println("{churn(30000)}");
            println("{keep(1000).v}");
            println("{keep(20000).v}");
        }
    "#;
    let limits = Limits { max_heap: 256 << 10, ..Limits::default() };
    for (tier, threshold) in [(Tier::Jit, 0), (Tier::Auto, 50)] {
        let (out, stats) = agree(src, tier, threshold, limits.clone(), false);
        assert_eq!(out.stdout, "449985000\n999\n");
        assert!(
            out.ended.starts_with("error: out of memory: heap limit of 262144 bytes exceeded"),
            "{}",
            out.ended
        );
        assert!(stats.heap.gc_cycles > 0);
    }
}

#[test]
fn dropping_a_module_frees_its_compiled_code_and_later_modules_compile_afresh() {
    for i in 0..50 {
        let m = module(&format!(
            // (`f` allocates, so it is compiled rather than inlined into `main`.)
            "fn f(x: int) -> int {{ let a = [x; 2]; return a[1] * {i}; }} fn main() {{ println(\"{{f(3)}}\"); }}"
        ));
        let (out, stats) = run(&m, Tier::Jit, 0, Limits::default(), false);
        assert_eq!(out.stdout, format!("{}\n", 3 * i));
        assert_eq!(stats.jit.functions_compiled, 2, "main and f");
    }
}

#[test]
fn an_interrupt_stops_compiled_recursion_without_loops() {
    // No loop back-edge runs: only the function-entry checks see the interrupt, with
    // limited and with unlimited fuel.
    let m = module("fn f(n: int) -> int { if n == 0 { return 1; } return f(n - 1) + f(n - 1); } fn main() { println(\"{f(62)}\"); }");
    for fuel in [None, Some(u64::MAX / 2)] {
        let (err, _) = run_interrupted(&m, Limits { fuel, ..Limits::default() }, 30);
        assert!(err.starts_with("error: interrupted"), "{err}");
    }
}

#[test]
fn leaf_functions_without_safepoints_keep_references_right_under_gc_stress() {
    // `swap` and `sum` reach no safepoint, so their reference registers live in machine
    // registers only; the caller allocates (and collects, under stress) between calls,
    // and its own references overlap the leaves' register windows.
    let src = r#"
        struct Box { v: [int], label: str }
        fn swap(b: Box, i: int, j: int) { let t = b.v[i]; b.v[i] = b.v[j]; b.v[j] = t; }
        fn sum(b: Box) -> int { var s = 0; for i in 0..b.v.len() { s += b.v[i]; } return s; }
        fn pick(a: Box, b: Box, first: bool) -> Box { if first { return a; } return b; }
        fn main() {
            var boxes: [Box] = [];
            for k in 0..40 {
                let b = Box { v: [k, k + 1, k + 2, k + 3], label: "box {k}" };
                swap(b, 0, 3);
                boxes.push(pick(b, Box { v: [0], label: "other" }, k % 2 == 0));
                let text = "{b.label}: {sum(b)}";
                if k % 13 == 0 { println(text); }
            }
            var total = 0;
            for b in boxes { swap(b, 0, b.v.len() - 1); total += sum(b) * b.v[0]; }
            println("{total}");
        }
    "#;
    for gc_stress in [false, true] {
        let (out, _) = agree(src, Tier::Jit, 0, Limits::default(), gc_stress);
        assert_eq!(out.stdout, "box 0: 6\nbox 13: 58\nbox 26: 110\nbox 39: 162\n41800\n", "{}", out.ended);
    }
}

#[test]
fn inlined_callees_trap_run_out_of_fuel_and_overflow_as_calls_do() {
    // `at` and `div` are small leaves, inlined at their call sites: a trap in one shows
    // its frame in the trace, and fuel and depth limits hit at the same instruction, with
    // the same count, as in the interpreter.
    let src = r#"
        fn at(v: [int], i: int) -> int { return v[i]; }
        fn div(a: int, b: int) -> int { return a / b; }
        fn walk(v: [int], n: int) -> int { if n == 0 { return at(v, 7); } return walk(v, n - 1) + at(v, n % 3); }
        fn main() {
            let v = [1, 2, 3];
            var s = 0;
            for i in 0..300 { s += at(v, i % 3) + div(i, 3); }
            println("{s}");
            println("{div(s, s - s)}");
        }
    "#;
    let (out, stats) = agree(src, Tier::Jit, 0, Limits::default(), false);
    assert_eq!(out.stdout, "15450\n");
    assert_eq!(stats.jit.functions_compiled, 1, "`at` and `div` are inlined into `main`, never called");
    assert!(out.ended.starts_with("error: division by zero"), "{}", out.ended);
    assert!(out.ended.contains("at div (") && out.ended.contains("at main ("), "{}", out.ended);
    let overflowing = src.replace("println(\"{div(s, s - s)}\")", "println(\"{walk(v, 5)}\")");
    let (out, _) = agree(&overflowing, Tier::Jit, 0, Limits::default(), false);
    assert!(out.ended.starts_with("error: index out of bounds"), "{}", out.ended);
    assert!(out.ended.contains("at at (") && out.ended.contains("at walk ("), "{}", out.ended);
    for fuel in [1, 7, 50, 333, 1000, 2500, 4001] {
        agree(src, Tier::Jit, 0, Limits { fuel: Some(fuel), ..Limits::default() }, false);
    }
    for depth in 1..9 {
        let limits = Limits { max_call_depth: depth, ..Limits::default() };
        let (out, _) = agree(&overflowing, Tier::Jit, 0, limits, false);
        if depth < 7 {
            assert!(out.ended.starts_with("error: stack overflow"), "{depth}: {}", out.ended);
        }
    }
}

#[test]
fn interface_calls_with_few_small_implementations_are_inlined_by_type() {
    // Each implementation of `Shape.area` is a small leaf: the site tests the receiver's
    // type and runs the matching body inline; a trap in one shows its frame.
    let src = r#"
        interface Shape { fn area(self) -> int; }
        struct Square { side: int }
        struct Rect { w: int, h: int }
        struct Slice { parts: [int], at: int }
        impl Shape for Square { fn area(self) -> int { return self.side * self.side; } }
        impl Shape for Rect { fn area(self) -> int { return self.w * self.h; } }
        impl Shape for Slice { fn area(self) -> int { return self.parts[self.at] / self.at; } }
        fn main() {
            var shapes: [Shape] = [];
            for i in 0..30 {
                let s: Shape = if i % 3 == 0 { Square { side: i } } else if i % 3 == 1 { Rect { w: i, h: 2 } } else { Slice { parts: [i, i, i], at: i % 5 } };
                shapes.push(s);
            }
            var total = 0;
            for s in shapes { total += s.area(); }
            println("{total}");
        }
    "#;
    let (out, stats) = agree(src, Tier::Jit, 0, Limits::default(), false);
    assert_eq!(stats.jit.functions_compiled, 1, "only main: every area() is inlined, none called");
    assert!(out.ended.starts_with("error: division by zero"), "{}", out.ended);
    assert!(out.ended.contains("at Slice.area (") && out.ended.contains("at main ("), "{}", out.ended);
    let fine = src.replace("% 5 }", "% 2 + 1 }").replace("[i, i, i]", "[i, i, i, i]");
    let (out, _) = agree(&fine, Tier::Jit, 0, Limits::default(), false);
    assert_eq!(out.ended, "ok");
    for fuel in [3, 40, 400, 900, 1500] {
        agree(&fine, Tier::Jit, 0, Limits { fuel: Some(fuel), ..Limits::default() }, true);
    }
}

#[test]
fn a_panic_in_an_inlined_leaf_traps_with_its_frame_and_roots() {
    // `push` and `pop` stop the run only through `panic`, so they are inlined; the panic
    // finds the callee's frame in the trace and its references in the register file.
    let src = r#"
        struct Disk { size: int, next: Option<Disk> }
        struct Pile { top: Option<Disk>, count: int }
        fn push(p: Pile, d: Disk) {
            match p.top { Some(t) => if d.size >= t.size { panic("a big disk on a small one"); }, None => {} }
            d.next = p.top;
            p.top = Some(d);
            p.count += 1;
        }
        fn pop(p: Pile) -> Disk {
            match p.top {
                Some(t) => { p.top = t.next; t.next = None; p.count -= 1; return t; }
                None => panic("an empty pile"),
            }
        }
        fn main() {
            let a = Pile { top: None, count: 0 };
            var i = 20;
            while i > 0 { push(a, Disk { size: i, next: None }); i -= 1; }
            let top = pop(a);
            println("{a.count} {top.size}");
            push(a, Disk { size: 99, next: None });
        }
    "#;
    for gc_stress in [false, true] {
        let (out, stats) = agree(src, Tier::Jit, 0, Limits::default(), gc_stress);
        assert_eq!(out.stdout, "19 1\n");
        assert!(out.ended.starts_with("error: panic: a big disk on a small one"), "{}", out.ended);
        assert!(out.ended.contains("at push (") && out.ended.contains("at main ("), "{}", out.ended);
        assert_eq!(stats.jit.functions_compiled, 1, "`push` and `pop` are inlined into `main`");
    }
}

#[test]
fn inlined_callees_with_loops_run_out_of_fuel_and_are_interrupted_in_their_own_frame() {
    let src = r#"
        fn spin(n: int) -> int { var s = 0; while s < n { s += 1; } return s; }
        fn main() { var t = 0; for i in 0..50 { t += spin(i); } println("{t}"); println("{spin(1 << 62)}"); }
    "#;
    for fuel in [5, 60, 700, 4000, 9999] {
        let (out, _) = agree(src, Tier::Jit, 0, Limits { fuel: Some(fuel), ..Limits::default() }, false);
        assert!(out.ended.starts_with("error: fuel exhausted"), "{}", out.ended);
        if fuel > 1000 {
            assert!(out.ended.contains("at spin (") && out.ended.contains("at main ("), "{}", out.ended);
        }
    }
    let (err, stats) = run_interrupted(&module(src), Limits::default(), 30);
    assert!(err.starts_with("error: interrupted") && err.contains("at spin ("), "{err}");
    assert_eq!(stats.jit.functions_compiled, 1, "`spin` is inlined into `main`");
}

#[test]
fn recursion_inlined_into_itself_keeps_frames_fuel_and_limits() {
    // `f`, `even` and `odd` hold no reference, so a call of one from another (or from
    // itself) is inlined one level deep and writes its frame only when it calls on or
    // traps. Traps deep in the recursion, every fuel and depth limit, an interrupt and
    // collections must look exactly as in the interpreter.
    let src = r#"
        fn f(n: int, d: int) -> int { if n < 2 { return n + 10 / d; } return f(n - 1, d) + f(n - 2, d - 1); }
        fn even(n: int) -> bool { if n == 0 { return true; } return odd(n - 1); }
        fn odd(n: int) -> bool { if n == 0 { return false; } return even(n - 1); }
        fn main() {
            println("{f(16, 100)} {even(31)} {odd(31)}");
            println("{even(2000)}");
            println("{f(14, 4)}");
        }
    "#;
    let (out, stats) = agree(src, Tier::Jit, 0, Limits::default(), false);
    assert_eq!(out.stdout, "987 false true\ntrue\n");
    assert!(out.ended.starts_with("error: division by zero\n  at f (app.kiln:2:"), "{}", out.ended);
    assert!(out.ended.matches("at f (").count() > 5, "{}", out.ended);
    assert_eq!(stats.jit.functions_compiled, 4, "main, f, even, odd");
    assert_eq!(stats.jit.calls_inlined, 4, "f in f twice, odd in even, even in odd");
    agree(src, Tier::Jit, 0, Limits::default(), true);
    agree(src, Tier::Auto, 7, Limits::default(), true);
    for fuel in [1, 2, 3, 5, 8, 13, 50, 97, 1000, 4321, 20_000] {
        let limits = Limits { fuel: Some(fuel), ..Limits::default() };
        let (out, _) = agree(src, Tier::Jit, 0, limits.clone(), false);
        assert!(out.ended.starts_with("error: fuel exhausted"), "{fuel}: {}", out.ended);
        agree(src, Tier::Auto, 3, limits, false);
    }
    for depth in (1..24).chain([1000, 1999, 2000, 2001, 2002]) {
        let limits = Limits { max_call_depth: depth, ..Limits::default() };
        let (out, _) = agree(src, Tier::Jit, 0, limits, false);
        assert!(out.ended.starts_with("error: "), "{depth}: {}", out.ended);
    }
    let (err, _) = run_interrupted(&module(&src.replace("f(14, 4)", "f(80, 100)")), Limits::default(), 30);
    assert!(err.starts_with("error: interrupted") && err.contains("at f ("), "{err}");
}

#[test]
fn loops_keep_array_lengths_in_registers_only_while_nothing_can_change_them() {
    // The nested loop keeps `a` and `b` loaded from before the outer loop (an on-stack
    // replacement entry at the inner header must load them too); the loops that push or
    // reassign an array do not; the last loop's out-of-bounds trap reports the length.
    let src = r#"
        fn main() {
            let a = [0; 100];
            let b = [1, 2, 3];
            var s = 0;
            for i in 0..300 {
                for j in 0..100 { a[j] = a[j] + i * j; s += b[j % 3] + a.len(); }
            }
            println("{s} {a[99]}");
            let grow = [7];
            var k = 0;
            while k < grow.len() && k < 50 {
                if grow[k] % 2 == 1 { grow.push(grow[k] * 3 + 1); } else { grow.push(grow[k] / 2); }
                k += 1;
            }
            println("{grow.len()} {grow[49]}");
            var c = [1, 2];
            var t = 0;
            for r in 0..10 { t += c[r % 2] + c.len(); if r == 4 { c = [5, 6, 7]; } }
            println("{t}");
            var u = 0;
            for q in 0..200 { u += a[q] % 1000; }
            println("{u}");
        }
    "#;
    let (out, _) = agree(src, Tier::Jit, 0, Limits::default(), false);
    assert_eq!(out.stdout, "3059700 4440150\n51 1\n60\n");
    assert!(out.ended.starts_with("error: index out of bounds: index 100, length 100"), "{}", out.ended);
    let mut osr = 0;
    for threshold in [1, 2, 5, 40, 300, 3000] {
        let (_, stats) = agree(src, Tier::Auto, threshold, Limits::default(), false);
        osr += stats.osr_entries;
        agree(src, Tier::Auto, threshold, Limits::default(), true);
    }
    assert!(osr > 0, "some run entered the loops by on-stack replacement");
    for fuel in [10, 999, 5000, 60_000, 123_456] {
        agree(src, Tier::Jit, 0, Limits { fuel: Some(fuel), ..Limits::default() }, false);
        agree(src, Tier::Auto, 20, Limits { fuel: Some(fuel), ..Limits::default() }, false);
    }
}
