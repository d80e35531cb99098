//! Embedding Kiln in a Rust program: compile source, load it, run it in an instance with
//! limits, capture its output and read its statistics.
//!
//! `cargo run --example embed`

use kiln_runtime::{Engine, Instance, InstanceConfig, Limits, Module, RunError, SharedBuffer};

const SOURCE: &str = r#"
fn fib(n: int) -> int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
fn main() {
    let a = args();
    println("fib(25) = {fib(25)}, called with {a.len()} args");
    while true {}   // runs until the fuel limit stops it
}
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bytecode = kiln_compiler::compile_source("embedded.kiln", SOURCE).map_err(|d| d.to_string())?;
    let engine = Engine::new();
    let module = Module::from_bytes(&engine, &kiln_bytecode::encode(&bytecode))?;

    let out = SharedBuffer::default();
    let mut instance = Instance::new(
        &module,
        InstanceConfig {
            limits: Limits { fuel: Some(5_000_000), max_heap: 16 << 20, ..Limits::default() },
            args: vec!["a".into(), "b".into()],
            stdout: Box::new(out.clone()),
            ..InstanceConfig::default()
        },
    )?;
    match instance.run() {
        Err(RunError::Trap(trap)) => println!("stopped as expected:\n{trap}"),
        other => println!("unexpected end: {other:?}"),
    }
    print!("program output: {}", String::from_utf8_lossy(&out.contents()));
    let stats = instance.stats();
    println!("fuel used: {}, allocations: {}", stats.fuel_used, stats.heap.allocations);
    Ok(())
}
