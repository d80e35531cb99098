//! The embedding API: one module shared by instances on several threads, limits,
//! interrupts, statistics and output capture.

use kiln_runtime::{Engine, Instance, InstanceConfig, Limits, Module, RunError, SharedBuffer, TrapKind};
use std::time::Duration;

fn module(src: &str) -> Module {
    let bc = kiln_compiler::compile_source("app.kiln", src).unwrap_or_else(|d| panic!("{d}"));
    Module::from_bytes(&Engine::new(), &kiln_bytecode::encode(&bc)).expect("module loads")
}

fn run_capture(m: &Module, limits: Limits, args: Vec<String>) -> (Result<(), RunError>, String) {
    let out = SharedBuffer::default();
    let mut inst = Instance::new(
        m,
        InstanceConfig { limits, args, stdout: Box::new(out.clone()), ..InstanceConfig::default() },
    )
    .expect("instance");
    let res = inst.run();
    (res, String::from_utf8(out.contents()).expect("utf-8"))
}

const COUNTER: &str = r#"
var calls: int = 0;
fn work(n: int) -> int {
    var acc = 0;
    for i in 0..n { acc = (acc + i * i) % 1000003; calls += 1; }
    acc
}
fn main() {
    let a = args();
    let n = a[0].len() * 1000;
    println("{work(n)} {calls}");
}
"#;

#[test]
fn one_module_runs_in_two_instances_on_two_threads() {
    let m = module(COUNTER);
    let handles: Vec<_> = ["xx", "xxx"]
        .into_iter()
        .map(|arg| {
            let m = m.clone();
            std::thread::spawn(move || run_capture(&m, Limits::default(), vec![arg.to_string()]))
        })
        .collect();
    let outputs: Vec<String> = handles
        .into_iter()
        .map(|h| {
            let (res, out) = h.join().expect("thread");
            res.expect("runs");
            out
        })
        .collect();
    // Each instance has its own globals: `calls` counts only its own loop.
    assert!(outputs[0].ends_with(" 2000\n"), "{}", outputs[0]);
    assert!(outputs[1].ends_with(" 3000\n"), "{}", outputs[1]);
}

#[test]
fn fuel_limit_traps_and_is_reported() {
    let m = module("fn main() { var i = 0; while true { i += 1; } }");
    let (res, _) = run_capture(&m, Limits { fuel: Some(5_000), ..Limits::default() }, vec![]);
    match res {
        Err(RunError::Trap(t)) => {
            assert_eq!(t.kind, TrapKind::FuelExhausted);
            assert_eq!(t.trace[0].function, "main");
        }
        other => panic!("expected a fuel trap, got {other:?}"),
    }
}

#[test]
fn fuel_is_deterministic() {
    let m = module(COUNTER);
    let used: Vec<u64> = (0..3)
        .map(|_| {
            let mut inst =
                Instance::new(&m, InstanceConfig { args: vec!["xx".into()], ..InstanceConfig::default() })
                    .expect("instance");
            inst.run().expect("runs");
            inst.stats().fuel_used
        })
        .collect();
    assert!(used[0] > 0);
    assert!(used.iter().all(|&u| u == used[0]), "{used:?}");
}

#[test]
fn interrupt_stops_a_running_instance_from_another_thread() {
    let m = module("fn main() { var i = 0; while true { i += 1; } }");
    let mut inst = Instance::new(&m, InstanceConfig::default()).expect("instance");
    let handle = inst.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.interrupt();
    });
    match inst.run() {
        Err(RunError::Trap(trap)) => assert_eq!(trap.kind, TrapKind::Interrupted),
        other => panic!("expected an interrupt, got {other:?}"),
    }
    t.join().expect("thread");
}

#[test]
fn exit_returns_to_the_host_with_the_code() {
    let m = module("fn main() { println(\"bye\"); exit(7); }");
    let (res, out) = run_capture(&m, Limits::default(), vec![]);
    assert!(matches!(res, Err(RunError::Exit(7))));
    assert_eq!(out, "bye\n");
}

#[test]
fn stats_count_allocations_and_collections() {
    let m = module("fn main() { for i in 0..50000 { let a = [i; 10]; assert(a.len() == 10); } }");
    let mut inst = Instance::new(
        &m,
        InstanceConfig {
            limits: Limits { max_heap: 1 << 20, ..Limits::default() },
            ..InstanceConfig::default()
        },
    )
    .expect("instance");
    inst.run().expect("runs in bounded memory");
    let s = inst.stats();
    assert_eq!(s.heap.allocations, 100_000, "an array is a header and a buffer");
    assert!(s.heap.bytes_allocated > 5 << 20, "allocated far more than the limit");
    assert!(s.heap.peak_bytes <= 1 << 20);
    assert!(s.heap.gc_cycles > 0);
    inst.check_heap().expect("heap is consistent");
}

#[test]
fn heap_limit_trap_names_the_limit() {
    let m = module("fn main() { let keep: [str] = []; while true { keep.push(\"abcdefgh\" + \"ijkl\"); } }");
    let (res, _) = run_capture(&m, Limits { max_heap: 64 << 10, ..Limits::default() }, vec![]);
    match res {
        Err(RunError::Trap(t)) => {
            assert_eq!(t.kind, TrapKind::HeapExhausted { limit: 64 << 10 });
            assert!(t.to_string().starts_with("error: out of memory"));
        }
        other => panic!("expected heap exhaustion, got {other:?}"),
    }
}

#[test]
fn gc_stress_runs_and_keeps_the_heap_consistent() {
    let src = r#"
struct Node { v: int, kids: [Node] }
fn build(d: int) -> Node {
    let n = Node { v: d, kids: [] };
    if d > 0 { n.kids.push(build(d - 1)); n.kids.push(build(d - 1)); }
    n
}
fn sum(n: Node) -> int { var s = n.v; for k in n.kids { s += sum(k); } s }
fn main() { var t = 0; for i in 0..5 { t += sum(build(6)); } let w = "a b c".split(" "); println("{t} {w.len()}"); }
"#;
    let m = module(src);
    let out = SharedBuffer::default();
    let mut inst = Instance::new(
        &m,
        InstanceConfig { gc_stress: true, stdout: Box::new(out.clone()), ..InstanceConfig::default() },
    )
    .expect("instance");
    inst.run().expect("runs under stress");
    assert_eq!(String::from_utf8(out.contents()).expect("utf-8"), "600 3\n");
    let heap = inst.stats().heap;
    assert!(heap.gc_cycles > 0 && heap.gc_cycles >= heap.allocations / 2, "{heap:?}");
}

#[test]
fn modules_are_shareable_and_instances_movable() {
    fn shareable<T: Send + Sync + Clone>() {}
    fn movable<T: Send>() {}
    shareable::<Module>();
    movable::<Instance>();
    movable::<kiln_runtime::InterruptHandle>();
    // An instance made on one thread can finish on another.
    let m = module("fn main() { println(\"moved\"); }");
    let out = SharedBuffer::default();
    let mut inst =
        Instance::new(&m, InstanceConfig { stdout: Box::new(out.clone()), ..InstanceConfig::default() })
            .expect("instance");
    std::thread::spawn(move || inst.run().expect("runs")).join().expect("thread");
    assert_eq!(out.contents(), b"moved\n");
}

fn instance_with(m: &Module, limits: Limits, tier: kiln_runtime::Tier) -> Instance {
    let config = InstanceConfig {
        limits,
        tier: kiln_runtime::TierConfig { tier, threshold: 2 },
        ..InstanceConfig::default()
    };
    Instance::new(m, config).expect("instance")
}

#[test]
fn a_deadline_stops_loops_and_loop_free_recursion_in_every_tier_and_each_run_has_its_own_deadline() {
    use kiln_runtime::Tier;
    let spin = module("fn main() { var i = 0; while true { i += 1; } }");
    let fib = module("fn f(n: int) -> int { if n < 2 { return n; } return f(n - 1) + f(n - 2); }\nfn main() { println(\"{f(60)}\"); }");
    let timeout = std::time::Duration::from_millis(150);
    for tier in [Tier::Interp, Tier::Jit, Tier::Auto] {
        for m in [&spin, &fib] {
            let mut inst = instance_with(m, Limits { timeout: Some(timeout), ..Limits::default() }, tier);
            let started = std::time::Instant::now();
            match inst.run() {
                Err(RunError::Trap(t)) => {
                    assert!(matches!(t.kind, TrapKind::Timeout { limit } if limit == timeout), "{t}")
                }
                other => panic!("{tier:?}: {other:?}"),
            }
            let took = started.elapsed();
            assert!(took >= timeout && took < timeout * 20, "{tier:?}: {took:?}");
            assert!(matches!(inst.run(), Err(RunError::Trapped)), "{tier:?}: a trap ends the instance");
        }
    }
    // A run that ends in time is not disturbed, and its next run has a fresh deadline.
    let quick = module("fn main() { var s = 0; for i in 0..1000 { s += i; } println(\"{s}\"); }");
    let mut inst = instance_with(&quick, Limits { timeout: Some(timeout), ..Limits::default() }, Tier::Auto);
    for _ in 0..3 {
        inst.run().expect("in time");
        std::thread::sleep(timeout);
    }
}

#[test]
fn deadlines_of_many_instances_share_one_timer_and_an_interrupt_is_still_an_interrupt() {
    let spin = module("fn main() { var i = 0; while true { i += 1; } }");
    let threads_before = thread_count();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let m = spin.clone();
            std::thread::spawn(move || {
                for k in 0..5 {
                    let ms = 20 + 10 * ((t + k) % 3) as u64;
                    let limits =
                        Limits { timeout: Some(std::time::Duration::from_millis(ms)), ..Limits::default() };
                    let mut inst = instance_with(&m, limits, kiln_runtime::Tier::Auto);
                    let err = inst.run().expect_err("times out").to_string();
                    assert!(
                        err.starts_with("error: deadline exceeded") || err.starts_with("deadline exceeded"),
                        "{err}"
                    );
                }
                thread_count()
            })
        })
        .map(|h| h.join().expect("thread"))
        .collect();
    if let (Some(before), Some(&during)) = (threads_before, handles.iter().flatten().max()) {
        assert!(during <= before + 4 + 1, "4 workers and one timer: {before} -> {during}");
    }
    // The host's interrupt is reported as such even with a deadline set.
    let limits = Limits { timeout: Some(std::time::Duration::from_secs(60)), ..Limits::default() };
    let mut inst = instance_with(&spin, limits, kiln_runtime::Tier::Jit);
    let h = inst.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(30));
        h.interrupt();
    });
    match inst.run() {
        Err(RunError::Trap(t)) => assert!(matches!(t.kind, TrapKind::Interrupted), "{t}"),
        other => panic!("{other:?}"),
    }
    t.join().expect("thread");
}

/// Threads of this process, where /proc says.
fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok())
}

#[test]
fn the_output_limit_counts_both_streams_over_the_instances_life() {
    let m = module("fn main() { println(\"abc\"); eprintln(\"de\"); print(\"f\"); }");
    for (limit, ok) in [(8, true), (7, false), (0, false)] {
        let out = kiln_runtime::SharedBuffer::default();
        let config = InstanceConfig {
            limits: Limits { max_output: Some(limit), ..Limits::default() },
            stdout: Box::new(out.clone()),
            ..InstanceConfig::default()
        };
        let mut inst = Instance::new(&m, config).expect("instance");
        let res = inst.run();
        assert_eq!(res.is_ok(), ok, "{limit}: {res:?}");
        if !ok {
            let Err(RunError::Trap(t)) = res else { panic!("{res:?}") };
            assert!(matches!(t.kind, TrapKind::OutputLimit { limit: l } if l == limit), "{t}");
            assert_eq!(inst.stats().bytes_written as usize, if limit == 7 { 7 } else { 0 });
            assert_eq!(out.contents(), if limit == 7 { &b"abc\n"[..] } else { &b""[..] });
        }
    }
    // Over the instance's life: a second run has what the first left.
    let config = InstanceConfig {
        limits: Limits { max_output: Some(12), ..Limits::default() },
        ..InstanceConfig::default()
    };
    let mut inst = Instance::new(&m, config).expect("instance");
    inst.run().expect("8 bytes");
    assert!(inst.run().is_err(), "16 bytes would pass 12");
}

#[test]
fn a_trapped_instance_frees_its_heap_keeps_its_ledger_and_refuses_to_run() {
    let m =
        module("var keep: [str] = [];\nfn main() { while true { keep.push(\"abcdefgh\" + \"ijklmnop\"); } }");
    for tier in [kiln_runtime::Tier::Interp, kiln_runtime::Tier::Jit, kiln_runtime::Tier::Auto] {
        let mut inst = instance_with(&m, Limits { max_heap: 1 << 20, ..Limits::default() }, tier);
        let err = inst.run().expect_err("the heap limit");
        assert!(
            matches!(&err, RunError::Trap(t) if matches!(t.kind, TrapKind::HeapExhausted { .. })),
            "{err}"
        );
        let after = inst.stats();
        assert_eq!(after.heap.live_bytes, 0, "{tier:?}: freed at once");
        assert!(after.heap.peak_bytes > 900_000 && after.fuel_used > 0, "{tier:?}: {after:?}");
        assert!(matches!(inst.run(), Err(RunError::Trapped)));
        assert_eq!(inst.stats().fuel_used, after.fuel_used, "a refused run uses nothing");
        inst.check_heap().expect("an empty heap is consistent");
    }
    // `exit` is not a trap: the instance may run again.
    let m = module("fn main() { exit(3); }");
    let mut inst = Instance::new(&m, InstanceConfig::default()).expect("instance");
    assert!(matches!(inst.run(), Err(RunError::Exit(3))));
    assert!(matches!(inst.run(), Err(RunError::Exit(3))));
}

/// Runs `src` in `tier`; once it has printed `go` and 5 ms more have passed, interrupts
/// it: how long the run took to stop after that, and what it printed.
fn stop_latency(src: &str, tier: kiln_runtime::Tier) -> (Duration, String) {
    let m = module(src);
    let out = SharedBuffer::default();
    let config = InstanceConfig {
        stdout: Box::new(out.clone()),
        tier: kiln_runtime::TierConfig { tier, threshold: 2 },
        ..InstanceConfig::default()
    };
    let mut inst = Instance::new(&m, config).expect("instance");
    let handle = inst.interrupt_handle();
    let watched = out.clone();
    let asked = std::thread::spawn(move || {
        while !watched.contents().starts_with(b"go\n") {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5));
        handle.interrupt();
        std::time::Instant::now()
    });
    let err = inst.run().expect_err("interrupted");
    let stopped = std::time::Instant::now();
    let asked = asked.join().expect("thread");
    assert!(matches!(&err, RunError::Trap(t) if matches!(t.kind, TrapKind::Interrupted)), "{err}");
    (stopped.saturating_duration_since(asked), String::from_utf8(out.contents()).expect("utf-8"))
}

#[test]
fn long_sorts_and_splits_stop_soon_after_an_interrupt() {
    let sort = "fn main() {
        let a: [int] = [];
        var x = 12345;
        for i in 0..3000000 { x = (x * 1103515245 + 12345) % 2147483648; a.push(x); }
        println(\"go\");
        a.sort();
        println(\"sorted\");
    }";
    let split = "fn main() {
        var s = \"ab,c\";
        for i in 0..21 { s = s + s; }
        println(\"go\");
        let parts = s.split(\",\");
        let chars = s.split(\"\");
        println(\"split {parts.len()} {chars.len()}\");
    }";
    for tier in [kiln_runtime::Tier::Interp, kiln_runtime::Tier::Jit] {
        for src in [sort, split] {
            let (latency, printed) = stop_latency(src, tier);
            assert_eq!(printed, "go\n", "stopped inside the long operation");
            // The runtime looks every 2^16 comparisons or 1 MiB: well under 10 ms in a
            // release build; a generous bound for unoptimised test builds on a busy machine.
            assert!(latency < Duration::from_millis(100), "{tier:?}: {latency:?}");
        }
    }
}
