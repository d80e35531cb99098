//! Random well-typed programs, checked against a reference evaluator written in this
//! test from language.md (`random_programs/eval.rs`): the compiled program must print
//! exactly what the evaluator prints and trap exactly where it traps, when loaded from
//! the compiler's module, from encoded `.bc` bytes, and under GC stress, in the
//! interpreter, the JIT (every function compiled before its first call) and tier-up
//! after a few calls and back-edges (so loops move to compiled code mid-run), always
//! with the same fuel. The programs use int, float, bool and str, `[int]`, a struct, an
//! enum with three variants and `Option<int>` (optional values), in locals, globals,
//! parameters and results, with ifs, loops, calls, recursion and `match` (literal,
//! nested, binding and wildcard patterns); a generic function called at every type,
//! an interface method called by dynamic dispatch on a struct and an enum, and closures
//! called where they are made that read and assign the variables around them.
//!
//! The first programs (`KILN_RANDOM_AOT`, default 40) also run compiled ahead of time
//! (`vmc aot`, an executable run with the same limits as `KILN_*` variables), which
//! needs the test build's runtime library beside `vmc` (scripts/test.sh builds it).
//!
//! The default run checks a few hundred programs. For a long run:
//! `KILN_RANDOM_PROGRAMS=5000 cargo test --release --test random_programs`; a failing
//! program is written to `target/random-program-SEED.kiln`, and
//! `KILN_RANDOM_SEED=SEED` reruns that one program (`KILN_RANDOM_SHOW=1` prints it).

mod random_programs {
    pub mod ast;
    pub mod eval;
    pub mod gen;
    pub mod render;
}

use kiln_runtime::{
    Engine, Instance, InstanceConfig, Limits, Module, RunError, SharedBuffer, Tier, TierConfig,
};
use random_programs::{eval, gen, render};

struct Run {
    stdout: String,
    trap: Option<String>,
    fuel: u64,
}

fn run(module: &Module, gc_stress: bool, tier: Tier, threshold: u32) -> Run {
    let out = SharedBuffer::default();
    let limits = Limits { fuel: Some(100_000_000), max_heap: 256 << 20, ..Limits::default() };
    let mut inst = Instance::new(
        module,
        InstanceConfig {
            limits,
            gc_stress,
            stdout: Box::new(out.clone()),
            tier: TierConfig { tier, threshold },
            ..InstanceConfig::default()
        },
    )
    .expect("instance starts");
    let trap = match inst.run() {
        Ok(()) => None,
        Err(RunError::Trap(t)) => Some(t.kind.to_string()),
        Err(other) => Some(format!("unexpected end: {other}")),
    };
    Run {
        stdout: String::from_utf8(out.contents()).expect("utf-8 output"),
        trap,
        fuel: inst.stats().fuel_used,
    }
}

/// Runs `source` compiled ahead of time to an executable, with `run`'s limits.
fn run_aot(source: &str, seed: u64) -> Result<Run, String> {
    let dir = std::env::temp_dir().join(format!("kiln-random-aot-{}-{seed}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        std::fs::write(dir.join("random.kiln"), source).map_err(|e| e.to_string())?;
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vmc"))
            .args(["aot", "random.kiln", "-o", "random"])
            .current_dir(&dir)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "vmc aot failed: {}(the test build's runtime library: cargo build --profile test -p kiln-aot-rt)",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let out = std::process::Command::new(dir.join("random"))
            .current_dir(&dir)
            .envs([("KILN_FUEL", "100000000"), ("KILN_MAX_HEAP", "256M"), ("KILN_STATS_JSON", "ledger.json")])
            .output()
            .map_err(|e| e.to_string())?;
        let ledger = std::fs::read_to_string(dir.join("ledger.json")).map_err(|e| e.to_string())?;
        let field = |name: &str| -> Option<String> {
            let line = ledger.lines().find(|l| l.trim_start().starts_with(&format!("\"{name}\":")))?;
            Some(line.split_once(':')?.1.trim().trim_end_matches(',').to_string())
        };
        let fuel = field("fuel_used").and_then(|f| f.parse().ok()).ok_or("no fuel_used in the ledger")?;
        // The ledger's trap is the JSON string of the trap kind's text.
        let trap = field("trap").filter(|t| t != "null").map(|t| {
            let t = t.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(&t);
            t.replace("\\\"", "\"").replace("\\\\", "\\")
        });
        Ok(Run { stdout: String::from_utf8_lossy(&out.stdout).into_owned(), trap, fuel })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Checks one program; `Err` describes the first disagreement.
fn check(seed: u64) -> Result<bool, String> {
    let program = gen::Gen::new(seed).program();
    let Some(expected) = eval::run(&program) else {
        return Ok(false);
    };
    let source = render::program(&program);
    if std::env::var_os("KILN_RANDOM_SHOW").is_some() {
        println!("{source}");
    }
    let fail = |what: String| -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("target/random-program-{seed}.kiln"));
        let _ = std::fs::write(&path, &source);
        format!("seed {seed}: {what}\n(program written to {})\n{source}", path.display())
    };
    let bytecode = kiln_compiler::compile_source("random.kiln", &source)
        .map_err(|d| fail(format!("does not compile:\n{d}")))?;
    let engine = Engine::new();
    let direct = Module::from_bytecode(&engine, bytecode.clone())
        .map_err(|e| fail(format!("does not verify: {e}")))?;
    let from_bytes = Module::from_bytes(&engine, &kiln_bytecode::encode(&bytecode))
        .map_err(|e| fail(format!("does not load from bytes: {e}")))?;
    let mut runs = vec![
        ("module", run(&direct, false, Tier::Interp, 0)),
        ("bytes", run(&from_bytes, false, Tier::Interp, 0)),
        ("gc stress", run(&direct, true, Tier::Interp, 0)),
        ("jit", run(&direct, false, Tier::Jit, 0)),
        ("jit gc stress", run(&from_bytes, true, Tier::Jit, 0)),
        ("tier-up", run(&from_bytes, false, Tier::Auto, 3)),
    ];
    let aot_programs: u64 = std::env::var("KILN_RANDOM_AOT").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    if seed < aot_programs {
        runs.push(("ahead of time", run_aot(&source, seed).map_err(&fail)?));
    }
    for (how, got) in &runs {
        if got.stdout != expected.stdout || got.trap != expected.trap {
            return Err(fail(format!(
                "{how}: expected stdout {:?} and trap {:?}, got stdout {:?} and trap {:?}",
                expected.stdout, expected.trap, got.stdout, got.trap
            )));
        }
        if got.fuel != runs[0].1.fuel {
            return Err(fail(format!("{how}: fuel {} differs from {}", got.fuel, runs[0].1.fuel)));
        }
    }
    Ok(true)
}

#[test]
fn random_programs_match_the_reference_evaluator() {
    if let Some(seed) = std::env::var("KILN_RANDOM_SEED").ok().and_then(|s| s.parse().ok()) {
        if let Err(e) = check(seed) {
            panic!("{e}");
        }
        return;
    }
    let n: u64 = std::env::var("KILN_RANDOM_PROGRAMS").ok().and_then(|s| s.parse().ok()).unwrap_or(400);
    let mut checked = 0;
    for seed in 0..n {
        match check(seed) {
            Ok(true) => checked += 1,
            Ok(false) => {}
            Err(e) => panic!("{e}"),
        }
    }
    // Most programs finish within the evaluator's step budget; a generator that made
    // only runaway programs would test nothing.
    assert!(checked * 10 >= n * 8, "only {checked} of {n} programs were checked");
}
