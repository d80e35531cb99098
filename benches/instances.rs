//! Instance cost, with the allocator `vmrun` ships (mimalloc) and the default limits:
//! loads one module, then
//! 1. creates, runs and drops 10 000 instances (time per instantiation, per first run),
//! 2. runs one reused instance 10 000 times (time per `Instance::run` of a `main` that
//!    calls one small function),
//! 3. keeps 10 000 idle instances (created, run once) alive and reports resident memory
//!    per instance (from /proc/self/statm).
//!
//! 4. the same with capabilities (a base directory, a read grant, an environment
//!    variable) and a linked host function: time per instantiation, KiB per idle instance,
//! 5. calls from the host into a trivial export (`Instance::call`, `Instance::call_func`),
//!    with the engine's per-call time accounting (wall and CPU clocks) off and on,
//! 6. calls from Kiln into a trivial host function, against the same loop calling a
//!    trivial Kiln function: the overhead per host call.
//!
//! `cargo bench --bench instances`. Targets (issues "The sandbox holds" and "Embedding
//! and isolation"): <= 5 us per instantiation, <= 2 us per run, <= 8 KiB resident per idle
//! instance, <= 100 ns per call into an export, <= 50 ns overhead per host call.

use kiln_runtime::{
    Capabilities, Engine, EngineConfig, Instance, InstanceConfig, Linker, Module, Tier, TierConfig, Type, Val,
};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SOURCE: &str = r#"
var calls: int = 0;
fn step(x: int) -> int { x * 3 + 1 }
fn main() { calls = step(calls); }
fn id(x: int) -> int { x }
"#;

const HOST_SOURCE: &str = r#"
extern fn host_id(x: int) -> int;
fn kiln_id(x: int) -> int { x }
fn main() {}
fn with_host(n: int) -> int { var t = 0; for i in 0..n { t += host_id(i); } t }
fn with_kiln(n: int) -> int { var t = 0; for i in 0..n { t += kiln_id(i); } t }
"#;

const N: usize = 10_000;

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let bytecode = kiln_compiler::compile_source("bench.kiln", SOURCE).expect("compiles");
    let engine = Engine::new();
    let module = Module::from_bytes(&engine, &kiln_bytecode::encode(&bytecode)).expect("loads");

    // `KILN_BENCH_CALLS=N`: only N host -> Kiln calls (for callgrind: run with two
    // values of N; the difference over the difference of N is the cost of one call).
    if let Some(n) = std::env::var("KILN_BENCH_CALLS").ok().and_then(|n| n.parse::<usize>().ok()) {
        let engine = Engine::with_config(EngineConfig { cpu_time: false, wall_time: false });
        let module = Module::from_bytecode(&engine, bytecode.clone()).expect("loads");
        let config = InstanceConfig {
            tier: TierConfig { tier: Tier::Interp, threshold: 0 },
            ..InstanceConfig::default()
        };
        let mut inst = Instance::new(&module, config).expect("instance");
        let arg = [Val::Int(7)];
        let id = module.func("id").expect("exported");
        for _ in 0..n {
            std::hint::black_box(inst.call_func(id, &arg).expect("calls"));
        }
        return;
    }

    // 1. create + run + drop, in batches so the median shrugs off a noisy neighbour.
    let (mut create, mut first_run) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let (mut c, mut r) = (0.0, 0.0);
        for _ in 0..N / 20 {
            let t = Instant::now();
            let mut inst = Instance::new(&module, InstanceConfig::default()).expect("instance");
            let t1 = Instant::now();
            inst.run().expect("runs");
            let t2 = Instant::now();
            drop(inst);
            c += (t1 - t).as_secs_f64();
            r += (t2 - t1).as_secs_f64();
        }
        create.push(c / (N / 20) as f64 * 1e9);
        first_run.push(r / (N / 20) as f64 * 1e9);
    }

    // 2. one instance, run again and again.
    let mut inst = Instance::new(&module, InstanceConfig::default()).expect("instance");
    inst.run().expect("runs");
    let mut rerun = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        for _ in 0..N / 20 {
            inst.run().expect("runs");
        }
        rerun.push(t.elapsed().as_secs_f64() / (N / 20) as f64 * 1e9);
    }
    drop(inst);

    // 3. idle instances.
    let before = resident_bytes();
    let mut idle = Vec::with_capacity(N);
    for _ in 0..N {
        let mut inst = Instance::new(&module, InstanceConfig::default()).expect("instance");
        inst.run().expect("runs");
        idle.push(inst);
    }
    let after = resident_bytes();
    let per_idle = (after.saturating_sub(before)) as f64 / N as f64;
    drop(idle);

    // 4. with capabilities and a host function linked.
    let host_bytecode = kiln_compiler::compile_source("host.kiln", HOST_SOURCE).expect("compiles");
    let host_module = Module::from_bytecode(&engine, host_bytecode).expect("loads");
    let mut linker = Linker::new();
    linker.func("host_id", &[Type::Int], Some(Type::Int), |_, args| Ok(Some(args[0].clone())));
    let dir = std::env::temp_dir();
    let mut caps = Capabilities::new();
    caps.base_dir(&dir).expect("base").allow_read(&dir).expect("grant").allow_env("LANG", "C");
    let full_config =
        || InstanceConfig { linker: linker.clone(), caps: caps.clone(), ..InstanceConfig::default() };
    let mut create_full = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        for _ in 0..N / 20 {
            let inst = Instance::new(&host_module, full_config()).expect("instance");
            drop(inst);
        }
        create_full.push(t.elapsed().as_secs_f64() / (N / 20) as f64 * 1e9);
    }
    let before = resident_bytes();
    let mut idle = Vec::with_capacity(N);
    for _ in 0..N {
        let mut inst = Instance::new(&host_module, full_config()).expect("instance");
        inst.run().expect("runs");
        idle.push(inst);
    }
    let per_idle_full = (resident_bytes().saturating_sub(before)) as f64 / N as f64;
    drop(idle);

    // 5. host -> Kiln calls, per-call CPU time off (the engine option) and on.
    let call_cost = |engine: &Engine| {
        let module = Module::from_bytecode(engine, bytecode.clone()).expect("loads");
        let tier = match std::env::var("KILN_BENCH_TIER").as_deref() {
            Ok("interp") => Tier::Interp,
            Ok("jit") => Tier::Jit,
            _ => Tier::Auto,
        };
        let config =
            InstanceConfig { tier: TierConfig { tier, threshold: 1000 }, ..InstanceConfig::default() };
        let mut inst = Instance::new(&module, config).expect("instance");
        let arg = [Val::Int(7)];
        let id = module.func("id").expect("exported");
        let (mut by_name, mut by_handle) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            let t = Instant::now();
            for _ in 0..N {
                std::hint::black_box(inst.call("id", &arg).expect("calls"));
            }
            by_name.push(t.elapsed().as_secs_f64() / N as f64 * 1e9);
            let t = Instant::now();
            for _ in 0..N {
                std::hint::black_box(inst.call_func(id, &arg).expect("calls"));
            }
            by_handle.push(t.elapsed().as_secs_f64() / N as f64 * 1e9);
        }
        (median(by_name), median(by_handle))
    };
    let call_untimed = call_cost(&Engine::with_config(EngineConfig { cpu_time: false, wall_time: false }));
    let call_no_cpu = call_cost(&Engine::with_config(EngineConfig { cpu_time: false, wall_time: true }));
    let call_cpu = call_cost(&Engine::new());

    // 6. Kiln -> host calls against Kiln -> Kiln calls, interpreted and compiled.
    let host_overhead = |tier: Tier| {
        let config = InstanceConfig {
            linker: linker.clone(),
            tier: TierConfig { tier, threshold: 0 },
            ..InstanceConfig::default()
        };
        let mut inst = Instance::new(&host_module, config).expect("instance");
        let n = Val::Int(100_000);
        let mut diff = Vec::new();
        for _ in 0..11 {
            let t = Instant::now();
            inst.call("with_host", std::slice::from_ref(&n)).expect("runs");
            let host = t.elapsed().as_secs_f64();
            let t = Instant::now();
            inst.call("with_kiln", std::slice::from_ref(&n)).expect("runs");
            let kiln = t.elapsed().as_secs_f64();
            diff.push((host - kiln) / 100_000.0 * 1e9);
        }
        median(diff)
    };
    let host_interp = host_overhead(Tier::Interp);
    let host_jit = host_overhead(Tier::Jit);

    println!("| measure | median | target |");
    println!("|---|---|---|");
    println!("| instantiation (Instance::new) | {:.2} us | <= 5 us |", median(create) / 1e3);
    println!("| first run of a new instance | {:.2} us | |", median(first_run) / 1e3);
    println!("| Instance::run, reused instance | {:.2} us | <= 2 us |", median(rerun) / 1e3);
    println!("| resident memory per idle instance | {:.2} KiB | <= 8 KiB |", per_idle / 1024.0);
    println!(
        "| instantiation with capabilities and a host function | {:.2} us | <= 5 us |",
        median(create_full) / 1e3
    );
    println!("| resident memory per idle instance, same | {:.2} KiB | <= 8 KiB |", per_idle_full / 1024.0);
    println!(
        "| host -> Kiln call of `id` by name (Instance::call), time accounting off | {:.0} ns | <= 100 ns |",
        call_untimed.0
    );
    println!("| the same through a handle (Instance::call_func) | {:.0} ns | <= 100 ns |", call_untimed.1);
    println!("| by name, wall time on, CPU time off | {:.0} ns | |", call_no_cpu.0);
    println!("| host -> Kiln call by name, wall and CPU time on (the default) | {:.0} ns | |", call_cpu.0);
    println!("| Kiln -> host call overhead (vs a Kiln call), interpreter | {host_interp:.0} ns | <= 50 ns |");
    println!("| Kiln -> host call overhead (vs a Kiln call), compiled | {host_jit:.0} ns | <= 50 ns |");
}
