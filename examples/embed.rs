//! Embedding Kiln in a Rust program: compile a script, give it a host function, run it
//! in an instance under limits, call one of its functions with typed values, and print
//! its output and its ledger.
//!
//! `cargo run --example embed`

use kiln_runtime::{
    Engine, HostError, Instance, InstanceConfig, Limits, Linker, Module, RunError, SharedBuffer, Type, Val,
};
use std::time::Duration;

const SCRIPT: &str = r#"
// The host provides this one (see `linker.func("price", ...)` below).
extern fn price(item: str) -> float;

var basket: [str] = ["apple", "pear", "apple", "fig"];

fn total() -> float {
    var t = 0.0;
    for item in basket { t += price(item); }
    t
}

fn main() {
    println("basket of {basket.len()}: {total()}");
    var spin = 0;
    while true { spin += 1; }   // runs until the fuel limit stops it
}
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bytecode = kiln_compiler::compile_source("shop.kiln", SCRIPT).map_err(|d| d.to_string())?;
    let engine = Engine::new();
    let module = Module::from_bytes(&engine, &kiln_bytecode::encode(&bytecode))?;

    let mut linker = Linker::new();
    linker.func("price", &[Type::Str], Some(Type::Float), |caller, args| {
        caller.charge_fuel(10)?; // a lookup costs the script 10 units
        match args {
            [Val::Str(item)] if item == "apple" => Ok(Some(Val::Float(0.5))),
            [Val::Str(item)] if item == "pear" => Ok(Some(Val::Float(0.75))),
            [Val::Str(item)] if item == "fig" => Ok(Some(Val::Float(2.0))),
            // An unknown item ends the script with a trap naming this function.
            [Val::Str(item)] => Err(HostError::trap(format!("no price for {item}"))),
            _ => unreachable!("the runtime checks argument types"),
        }
    });

    let out = SharedBuffer::default();
    let mut instance = Instance::new(
        &module,
        InstanceConfig {
            limits: Limits {
                fuel: Some(1_000_000),
                max_heap: 16 << 20,
                timeout: Some(Duration::from_secs(2)),
                ..Limits::default()
            },
            linker,
            stdout: Box::new(out.clone()),
            ..InstanceConfig::default()
        },
    )?;
    match instance.run() {
        Err(RunError::Trap(trap)) => println!("the script stopped:\n{trap}"),
        other => println!("unexpected end: {other:?}"),
    }
    print!("its output: {}", String::from_utf8_lossy(&out.contents()));

    let s = instance.stats();
    println!("ledger:");
    println!("  fuel used        {}", s.fuel_used);
    println!("  allocations      {} ({} bytes)", s.heap.allocations, s.heap.bytes_allocated);
    println!("  heap live, peak  {} / {} bytes", s.heap.live_bytes, s.heap.peak_bytes);
    println!(
        "  gc cycles        {} ({:?} total, {:?} longest)",
        s.heap.gc_cycles, s.heap.gc_time, s.heap.gc_max_pause
    );
    println!("  bytes written    {}", s.bytes_written);
    println!("  wall, cpu time   {:?} / {:?}", s.wall_time, s.cpu_time);
    println!("  compiled         {} functions in {:?}", s.jit.functions_compiled, s.compile_time);

    // A fresh instance (the trapped one runs no more) can be called function by function.
    let mut fresh = Instance::new(&module, {
        let mut linker = Linker::new();
        linker.func("price", &[Type::Str], Some(Type::Float), |_, _| Ok(Some(Val::Float(1.0))));
        InstanceConfig { linker, ..InstanceConfig::default() }
    })?;
    println!("total() at 1.0 each = {:?}", fresh.call("total", &[])?);
    Ok(())
}
