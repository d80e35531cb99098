//! Ahead-of-time code for another architecture, run for real: functions doing
//! arithmetic, loops and recursion compiled with `--target aarch64-unknown-linux-gnu`,
//! linked with a small C driver (tests/aot_cross/driver_head.c: the runtime's context and
//! stub helpers) by `aarch64-linux-gnu-gcc`, run under `qemu-aarch64`; every result and
//! the fuel each call used must equal the interpreter's. The runtime itself cannot be
//! cross-built here (no Rust standard library for aarch64 can be fetched), so the driver
//! stands in for it. `scripts/deps.sh` installs gcc-aarch64-linux-gnu and qemu-user.

use kiln_runtime::{Engine, Instance, InstanceConfig, Module, Tier, TierConfig, Val};
use std::path::Path;
use std::process::Command;

const PROGRAM: &str = r#"
fn fib(n: int) -> int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
fn sum_to(n: int) -> int { var t = 0; var i = 1; while i <= n { t += i; i += 1; } t }
fn collatz(n: int) -> int {
    var steps = 0;
    var x = n;
    while x != 1 { if x % 2 == 0 { x = x / 2; } else { x = 3 * x + 1; } steps += 1; }
    steps
}
fn mix(a: int, b: int) -> int { ((a * 31) ^ (b << 3)) - (a >> 2) + (b & 255) - (a | 7) }
fn gcd(a: int, b: int) -> int { if b == 0 { a } else { gcd(b, a % b) } }
fn divide(a: int, b: int) -> int { a / b }
fn wrap(a: int) -> int { a * a * a * a }
fn poly(x: float) -> float { var acc = 0.0; for i in 0..10 { acc = acc * x + (i as float) * 0.5; } acc }
fn hyp(x: float, y: float) -> float { sqrt(x * x + y * y) }
fn main() { println("{fib(10)} {sum_to(10)} {collatz(27)} {poly(1.5)}"); }
"#;

/// (function, arguments): ints unless the function takes floats.
const CASES: &[(&str, &[f64])] = &[
    ("fib", &[0.0]),
    ("fib", &[1.0]),
    ("fib", &[20.0]),
    ("sum_to", &[0.0]),
    ("sum_to", &[100000.0]),
    ("collatz", &[27.0]),
    ("collatz", &[97.0]),
    ("mix", &[12345.0, -678.0]),
    ("mix", &[-1.0, 1.0]),
    ("gcd", &[1071.0, 462.0]),
    ("gcd", &[-48.0, 18.0]),
    ("divide", &[-7.0, 2.0]),
    ("divide", &[7.0, 0.0]),
    ("wrap", &[1_000_003.0]),
    ("poly", &[1.5]),
    ("poly", &[-0.25]),
    ("hyp", &[3.0, 4.0]),
    ("hyp", &[1e-3, 7.25]),
];

fn floats(name: &str) -> bool {
    matches!(name, "poly" | "hyp")
}

fn tool(name: &str) -> bool {
    Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn aarch64_objects_compute_what_the_interpreter_does() {
    for t in ["aarch64-linux-gnu-gcc", "qemu-aarch64"] {
        assert!(tool(t), "{t} is missing: install gcc-aarch64-linux-gnu and qemu-user (scripts/test.sh does, through scripts/deps.sh)");
    }
    let bc = kiln_compiler::compile_source("cross.kiln", PROGRAM).unwrap_or_else(|d| panic!("{d}"));
    let module = Module::from_bytecode(&Engine::new(), bc).expect("verifies");
    let (object, left_out) = module.aot_object("aarch64-unknown-linux-gnu").expect("object");
    assert!(left_out.is_empty(), "{left_out:?}");
    let index = |name: &str| module.bytecode().funcs.iter().position(|f| f.name == name).expect(name);

    // The interpreter's answers, and the fuel of each call.
    let mut want =
        format!("abi {}, {} functions\n", kiln_runtime::AOT_ABI_VERSION, module.bytecode().funcs.len());
    let config =
        || InstanceConfig { tier: TierConfig { tier: Tier::Interp, threshold: 0 }, ..Default::default() };
    let mut calls = String::new();
    for (i, (name, args)) in CASES.iter().enumerate() {
        let label = format!("{name}({})", args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "));
        let vals: Vec<Val> =
            args.iter().map(|&a| if floats(name) { Val::Float(a) } else { Val::Int(a as i64) }).collect();
        let mut instance = Instance::new(&module, config()).expect("instance");
        let before = instance.stats().fuel_used;
        match instance.call(name, &vals) {
            Ok(Some(Val::Int(v))) => {
                want += &format!("{label} = {v} fuel {}\n", instance.stats().fuel_used - before)
            }
            Ok(Some(Val::Float(v))) => {
                want += &format!(
                    "{label} = bits {:016x} fuel {}\n",
                    v.to_bits(),
                    instance.stats().fuel_used - before
                )
            }
            Err(_) => want += &format!("{label} = trap\n"),
            other => panic!("{label}: {other:?}"),
        }
        let bits: Vec<String> = args
            .iter()
            .map(|&a| {
                if floats(name) {
                    format!("{}ull", a.to_bits())
                } else {
                    format!("(uint64_t){}ll", a as i64)
                }
            })
            .collect();
        calls += &format!(
            "    {{ const uint64_t a{i}[] = {{{}}}; call(\"{label}\", {}, a{i}, {}, {}); }}\n",
            bits.join(", "),
            index(name),
            args.len(),
            u8::from(floats(name))
        );
    }

    let dir = std::env::temp_dir().join(format!("kiln-aot-cross-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let head =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aot_cross/driver_head.c"))
            .expect("driver");
    std::fs::write(dir.join("driver.c"), format!("{head}{calls}    return 0;\n}}\n")).expect("write driver");
    std::fs::write(dir.join("app.o"), &object).expect("write object");
    let out = Command::new("aarch64-linux-gnu-gcc")
        .current_dir(&dir)
        .args(["-O1", "-Wall", "-Wextra", "-Werror", "-static", "driver.c", "app.o", "-o", "driver", "-lm"])
        .output()
        .expect("gcc runs");
    assert!(out.status.success(), "link failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("qemu-aarch64").arg(dir.join("driver")).output().expect("qemu runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "driver failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}
