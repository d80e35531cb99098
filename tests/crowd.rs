//! Many untrusted programs in one host process: 240 instances on 8 threads, well-behaved
//! ones mixed with hostile ones. Every well-behaved instance prints the right output and
//! uses exactly the fuel it uses alone; every hostile one ends with its own trap (or, for
//! escapes, with every attempt refused); the host survives, and once everything is
//! dropped its resident memory is within 16 MiB of where it started.
//!
//! The only test in this file: resident memory is the whole process's.

use kiln_runtime::{
    Capabilities, Engine, HostError, Instance, InstanceConfig, Limits, Linker, Module, RunError,
    SharedBuffer, Tier, TierConfig, TrapKind, Type, Val,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How an instance must end.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Normally, with this output and the fuel it uses alone.
    Output(&'static str),
    /// With this trap.
    Trap(fn(&TrapKind) -> bool),
}

struct Program {
    name: &'static str,
    source: &'static str,
    ending: Ending,
    limits: fn() -> Limits,
}

fn limits() -> Limits {
    Limits {
        max_heap: 8 << 20,
        fuel: Some(200_000_000),
        timeout: Some(Duration::from_secs(5)),
        max_output: Some(64 * 1024),
        max_call_depth: 20_000,
        ..Limits::default()
    }
}

fn short_deadline() -> Limits {
    Limits { fuel: None, timeout: Some(Duration::from_millis(40)), ..limits() }
}

const PROGRAMS: &[Program] = &[
    Program {
        name: "compute",
        source: r#"
fn fib(n: int) -> int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
fn main() {
    var xs: [int] = [];
    for i in 0..2000 { xs.push((i * 7919) % 1000); }
    xs.sort();
    var s = 0;
    for x in xs { s += x; }
    println("{fib(20)} {xs[0]} {xs[1999]} {s}");
}"#,
        ending: Ending::Output("6765 0 999 999000\n"),
        limits,
    },
    Program {
        name: "strings",
        source: r#"
fn main() {
    var parts: [str] = [];
    for i in 0..300 { parts.push("item{i}"); }
    var joined = "";
    for p in parts { joined = joined + p + ","; }
    let back = joined.split(",");
    println("{joined.len()} {back.len()} {back[299]}");
}"#,
        ending: Ending::Output("2290 301 item299\n"),
        limits,
    },
    Program {
        name: "maps",
        source: r#"
fn main() {
    var m: Map<str, int> = Map.new();
    for i in 0..500 { m["k{i % 50}"] = i; }
    println("{m.len()} {m["k7"]}");
}"#,
        ending: Ending::Output("50 457\n"),
        limits,
    },
    Program {
        name: "host call",
        source: r#"
extern fn host_mul(a: int, b: int) -> int;
fn main() { var t = 0; for i in 0..100 { t += host_mul(i, 3); } println("{t}"); }"#,
        ending: Ending::Output("14850\n"),
        limits,
    },
    Program {
        name: "granted file",
        source: r#"
import fs;
fn main() { match fs.read_text("data/a.txt") { Ok(t) => print(t), Err(e) => println(e) } }"#,
        ending: Ending::Output("alpha\n"),
        limits,
    },
    Program {
        name: "escapes",
        source: r#"
import fs;
fn try(p: str) { match fs.read_text(p) { Ok(_) => println("READ {p}"), Err(e) => println(e) } }
fn main() {
    try("/etc/passwd");
    try("data/../secret.txt");
    try("../../../../../../etc/passwd");
    try("data/outside");
    try("data/up/secret.txt");
    match fs.write_text("data/../planted.txt", "x") { Ok(_) => println("WROTE"), Err(e) => println(e) }
}"#,
        ending: Ending::Output(
            "permission denied: no read access to /etc/passwd\n\
             permission denied: no read access to data/../secret.txt\n\
             permission denied: no read access to ../../../../../../etc/passwd\n\
             permission denied: data/outside\n\
             permission denied: data/up/secret.txt\n\
             permission denied: no write access to data/../planted.txt\n",
        ),
        limits,
    },
    Program {
        name: "infinite loop",
        source: "fn main() { var i = 0; while true { i += 1; } }",
        ending: Ending::Trap(|k| *k == TrapKind::FuelExhausted),
        limits,
    },
    Program {
        name: "spin past the deadline",
        source: "fn main() { var i = 0; while true { i += 1; } }",
        ending: Ending::Trap(|k| matches!(k, TrapKind::Timeout { .. })),
        limits: short_deadline,
    },
    Program {
        name: "allocation bomb",
        source: r#"fn main() { var keep: [[int]] = []; while true { keep.push([0; 10000]); } }"#,
        ending: Ending::Trap(|k| matches!(k, TrapKind::HeapExhausted { .. })),
        limits,
    },
    Program {
        name: "unbounded recursion",
        source: "fn down(n: int) -> int { down(n + 1) + 1 }\nfn main() { println(down(0)); }",
        ending: Ending::Trap(|k| *k == TrapKind::StackOverflow),
        limits,
    },
    Program {
        name: "output flood",
        source: r#"fn main() { while true { println("all work and no play makes jack a dull boy"); } }"#,
        ending: Ending::Trap(|k| matches!(k, TrapKind::OutputLimit { .. })),
        limits,
    },
    Program {
        name: "panic",
        source: r#"fn main() { let xs = [1, 2, 3]; if xs.len() == 3 { panic("deliberate"); } }"#,
        ending: Ending::Trap(|k| *k == TrapKind::Panic("deliberate".into())),
        limits,
    },
    Program {
        name: "host function panics",
        source: "extern fn host_crash() -> int;\nfn main() { println(host_crash()); }",
        ending: Ending::Trap(|k| matches!(k, TrapKind::Host { .. })),
        limits,
    },
    Program {
        name: "long sort past the deadline",
        source: r#"
fn main() {
    var xs: [int] = [];
    for i in 0..100000 { xs.push((i * 7919) % 100003); }
    for round in 0..1000 { xs.sort_by(|a: int, b: int| -> bool { a % 1000 < b % 1000 || a > b }); }
}"#,
        ending: Ending::Trap(|k| matches!(k, TrapKind::Timeout { .. })),
        limits: short_deadline,
    },
];

fn tree() -> PathBuf {
    let root = std::env::temp_dir().join(format!("kiln-crowd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(root.join("data/a.txt"), "alpha\n").unwrap();
    std::fs::write(root.join("secret.txt"), "top secret").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("data/outside")).unwrap();
    std::os::unix::fs::symlink("..", root.join("data/up")).unwrap();
    root
}

fn linker() -> Linker {
    let mut linker = Linker::new();
    linker
        .func("host_mul", &[Type::Int, Type::Int], Some(Type::Int), |caller, args| {
            caller.charge_fuel(1)?;
            match args {
                [Val::Int(a), Val::Int(b)] => Ok(Some(Val::Int(a * b))),
                _ => Err(HostError::trap("bad arguments")),
            }
        })
        .func("host_crash", &[], Some(Type::Int), |_, _| panic!("a bug in the host function"));
    linker
}

/// Runs program `p` once; its output, fuel, and trap.
fn run_one(module: &Module, p: &Program, root: &Path, tier: Tier) -> (String, u64, Option<TrapKind>) {
    let out = SharedBuffer::default();
    let mut caps = Capabilities::new();
    caps.base_dir(root)
        .unwrap()
        .allow_read(root.join("data"))
        .unwrap()
        .allow_write(root.join("data"))
        .unwrap();
    let config = InstanceConfig {
        limits: (p.limits)(),
        stdout: Box::new(out.clone()),
        linker: linker(),
        caps,
        tier: TierConfig { tier, threshold: 50 },
        ..InstanceConfig::default()
    };
    let mut inst = Instance::new(module, config).expect("instantiates");
    let trap = match inst.run() {
        Ok(()) => None,
        Err(RunError::Trap(t)) => Some(t.kind),
        Err(e) => panic!("{}: {e}", p.name),
    };
    let fuel = inst.stats().fuel_used;
    (String::from_utf8(out.contents()).unwrap(), fuel, trap)
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `total` instances of the programs, round robin over the tiers, on 8 threads;
/// what went wrong with each that misbehaved.
fn crowd(modules: &[Module], alone: &[Option<u64>], root: &Path, total: usize) -> Vec<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (next, failures, modules, alone, root) =
                (next.clone(), failures.clone(), modules.to_vec(), alone.to_vec(), root.to_path_buf());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let k = i % PROGRAMS.len();
                let p = &PROGRAMS[k];
                let tier = [Tier::Interp, Tier::Auto, Tier::Jit][i / PROGRAMS.len() % 3];
                let (out, fuel, trap) = run_one(&modules[k], p, &root, tier);
                let ok = match p.ending {
                    Ending::Output(want) => out == want && trap.is_none() && Some(fuel) == alone[k],
                    Ending::Trap(is) => trap.as_ref().is_some_and(is),
                };
                if !ok {
                    failures.lock().unwrap().push(format!(
                        "instance {i} ({}, {tier:?}): output {out:?}, fuel {fuel} (alone {:?}), trap {trap:?}",
                        p.name, alone[k]
                    ));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no host thread died");
    }
    let failures = failures.lock().unwrap();
    failures.clone()
}

#[test]
fn two_hundred_and_forty_instances_of_friends_and_foes_share_one_process() {
    let root = tree();
    // A host function here panics on purpose: the default hook would print a backtrace,
    // and symbolising it loads the test binary's debug information (about 100 MiB, kept
    // for the life of the process) — the hook's memory, not the instances'.
    std::panic::set_hook(Box::new(|_| {}));
    // The programs are compiled to bytecode first: the host starts with bytecode.
    let bytecode: Vec<_> = PROGRAMS
        .iter()
        .map(|p| {
            kiln_compiler::compile_source("app.kiln", p.source).unwrap_or_else(|d| panic!("{}: {d}", p.name))
        })
        .collect();
    let start_kib = resident_kib();
    let (after_first, after_second);
    {
        let engine = Engine::new();
        let modules: Vec<Module> =
            bytecode.iter().map(|bc| Module::from_bytecode(&engine, bc.clone()).unwrap()).collect();
        // Alone first: each well-behaved program's output and fuel, in the interpreter.
        let alone: Vec<Option<u64>> = PROGRAMS
            .iter()
            .zip(&modules)
            .map(|(p, m)| match p.ending {
                Ending::Output(want) => {
                    let (out, fuel, trap) = run_one(m, p, &root, Tier::Interp);
                    assert_eq!((out.as_str(), trap), (want, None), "{} alone", p.name);
                    Some(fuel)
                }
                Ending::Trap(_) => None,
            })
            .collect();
        let total = 240;
        let failures = crowd(&modules, &alone, &root, total);
        assert!(
            failures.is_empty(),
            "{} of {total} instances misbehaved:\n{}",
            failures.len(),
            failures.join("\n")
        );
        after_first = resident_kib();
        let failures = crowd(&modules, &alone, &root, total);
        assert!(failures.is_empty(), "second round:\n{}", failures.join("\n"));
        after_second = resident_kib();
        drop(std::panic::take_hook());
        assert!(!root.join("planted.txt").exists());
    }
    let end_kib = resident_kib();
    let grown_mib = end_kib.saturating_sub(start_kib) as f64 / 1024.0;
    println!(
        "resident memory: {start_kib} KiB before, {after_first} KiB after 240 instances, {after_second} KiB after \
         240 more, {end_kib} KiB with everything dropped ({grown_mib:.1} MiB more)"
    );
    // A second crowd costs nothing lasting: what the first left is caches and arenas.
    let second_mib = after_second.saturating_sub(after_first) as f64 / 1024.0;
    assert!(second_mib <= 4.0, "the second 240 instances kept {second_mib:.1} MiB");
    assert!(grown_mib <= 16.0, "resident memory grew by {grown_mib:.1} MiB ({start_kib} -> {end_kib} KiB)");
    let _ = std::fs::remove_dir_all(&root);
}
