//! Instance cost, with the allocator `vmrun` ships (mimalloc) and the default limits:
//! loads one module, then
//! 1. creates, runs and drops 10 000 instances (time per instantiation, per first run),
//! 2. runs one reused instance 10 000 times (time per `Instance::run` of a `main` that
//!    calls one small function),
//! 3. keeps 10 000 idle instances (created, run once) alive and reports resident memory
//!    per instance (from /proc/self/statm).
//!
//! `cargo bench --bench instances`. Targets (issue "The sandbox holds"): <= 5 us per
//! instantiation, <= 2 us per run, <= 8 KiB resident per idle instance.

use kiln_runtime::{Engine, Instance, InstanceConfig, Module};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SOURCE: &str = r#"
var calls: int = 0;
fn step(x: int) -> int { x * 3 + 1 }
fn main() { calls = step(calls); }
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

    println!("| measure | median | target |");
    println!("|---|---|---|");
    println!("| instantiation (Instance::new) | {:.2} us | <= 5 us |", median(create) / 1e3);
    println!("| first run of a new instance | {:.2} us | |", median(first_run) / 1e3);
    println!("| Instance::run, reused instance | {:.2} us | <= 2 us |", median(rerun) / 1e3);
    println!("| resident memory per idle instance | {:.2} KiB | <= 8 KiB |", per_idle / 1024.0);
}
