//! The command-line tools end to end: exit statuses for every kind of bad input,
//! deterministic output, `disasm`, `--stats`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vmc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmc")).args(args).current_dir(dir).output().expect("vmc runs")
}

fn vmrun(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmrun")).args(args).current_dir(dir).output().expect("vmrun runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

const HELLO: &str = "fn main() {\n    let who = \"world\";\n    println(\"hello {who}\");\n}\n";

#[test]
fn build_then_run_and_default_output_path() {
    let dir = scratch("build");
    std::fs::write(dir.join("hello.kiln"), HELLO).unwrap();
    let o = vmc(&["build", "hello.kiln"], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("hello.bc").exists(), "default output is beside the input");
    let o = vmrun(&["hello.bc"], &dir);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hello world\n");
}

#[test]
fn output_is_the_same_from_any_folder() {
    let dir = scratch("determinism");
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    std::fs::write(dir.join("sub/app.kiln"), HELLO).unwrap();
    let a = vmc(&["build", "sub/app.kiln", "-o", "a.bc"], &dir);
    let b = vmc(&["build", "../app.kiln", "-o", "../../b.bc"], &dir.join("sub/deeper"));
    assert!(a.status.success() && b.status.success());
    let (a, b) = (std::fs::read(dir.join("a.bc")).unwrap(), std::fs::read(dir.join("b.bc")).unwrap());
    assert_eq!(a, b, "the same source gives the same bytes");
}

#[test]
fn usage_errors_exit_64() {
    let dir = scratch("usage");
    for args in [
        &["--no-such-flag", "x.bc"][..],
        &[][..],
        &["--max-heap", "12Q", "x.bc"][..],
        &["--fuel", "-5", "x.bc"][..],
        &["--tier", "warp", "x.bc"][..],
        &["--timeout", "5h", "x.bc"][..],
        &["--timeout", "0ms", "x.bc"][..],
        &["--timeout", "1.5s", "x.bc"][..],
        &["--max-stack", "0", "x.bc"][..],
        &["--max-stack", "99999999999", "x.bc"][..],
        &["--max-output", "-1", "x.bc"][..],
    ] {
        let o = vmrun(args, &dir);
        assert_eq!(o.status.code(), Some(64), "vmrun {args:?}: {}", stderr(&o));
    }
    let o = vmc(&["frobnicate"], &dir);
    assert_eq!(o.status.code(), Some(64));
    let o = vmrun(&["--help"], &dir);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn missing_input_exits_66() {
    let dir = scratch("missing");
    let o = vmrun(&["nope.bc"], &dir);
    assert_eq!(o.status.code(), Some(66));
    assert!(stderr(&o).contains("cannot read nope.bc"), "{}", stderr(&o));
    let o = vmrun(&["nope.kiln"], &dir);
    assert_eq!(o.status.code(), Some(66));
    let o = vmc(&["build", "nope.kiln"], &dir);
    assert_eq!(o.status.code(), Some(66));
    let o = vmc(&["disasm", "nope.bc"], &dir);
    assert_eq!(o.status.code(), Some(66));
}

#[test]
fn unwritable_output_and_unreadable_source_are_clear_errors() {
    let dir = scratch("io");
    std::fs::write(dir.join("hello.kiln"), HELLO).unwrap();
    let o = vmc(&["build", "hello.kiln", "-o", "no/such/dir/out.bc"], &dir);
    assert_eq!(o.status.code(), Some(73));
    assert!(stderr(&o).contains("cannot write no/such/dir/out.bc"), "{}", stderr(&o));
    std::fs::write(dir.join("latin1.kiln"), b"fn main() { println(\"caf\xe9\"); }\n").unwrap();
    let o = vmrun(&["latin1.kiln"], &dir);
    assert_eq!(o.status.code(), Some(65));
    assert!(
        stderr(&o).contains("error: latin1.kiln is not valid UTF-8: invalid byte at offset 24"),
        "{}",
        stderr(&o)
    );
    let o = vmrun(&["."], &dir);
    assert_eq!(o.status.code(), Some(66), "a directory is not a program: {}", stderr(&o));
}

#[test]
fn compile_errors_exit_65() {
    let dir = scratch("compile");
    std::fs::write(dir.join("bad.kiln"), "fn main() { let x: int = true; }\n").unwrap();
    for o in
        [vmrun(&["bad.kiln"], &dir), vmc(&["check", "bad.kiln"], &dir), vmc(&["build", "bad.kiln"], &dir)]
    {
        assert_eq!(o.status.code(), Some(65));
        assert!(stderr(&o).contains("--> bad.kiln:1:26"), "{}", stderr(&o));
    }
    assert!(!dir.join("bad.bc").exists(), "nothing is written for a program with errors");
}

#[test]
fn rejected_bytecode_exits_67() {
    let dir = scratch("bytecode");
    std::fs::write(dir.join("garbage.bc"), b"definitely not bytecode").unwrap();
    let o = vmrun(&["garbage.bc"], &dir);
    assert_eq!(o.status.code(), Some(67));
    assert!(stderr(&o).contains("not a Kiln bytecode file"), "{}", stderr(&o));

    std::fs::write(dir.join("hello.kiln"), HELLO).unwrap();
    assert!(vmc(&["build", "hello.kiln"], &dir).status.success());
    let mut bytes = std::fs::read(dir.join("hello.bc")).unwrap();
    bytes[4..8].copy_from_slice(&9u32.to_le_bytes());
    std::fs::write(dir.join("future.bc"), &bytes).unwrap();
    let o = vmrun(&["future.bc"], &dir);
    assert_eq!(o.status.code(), Some(67));
    assert!(stderr(&o).contains("version 9 is newer than this runtime supports"), "{}", stderr(&o));
    let o = vmc(&["disasm", "future.bc"], &dir);
    assert_eq!(o.status.code(), Some(67));
}

#[test]
fn traps_exit_70_and_exit_code_passes_through() {
    let dir = scratch("traps");
    std::fs::write(dir.join("t.kiln"), "fn main() { println(\"x\"); let a = [1]; println(a[2]); }\n")
        .unwrap();
    let o = vmrun(&["t.kiln"], &dir);
    assert_eq!(o.status.code(), Some(70));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "x\n");
    assert!(
        stderr(&o).starts_with("error: index out of bounds: index 2, length 1\n  at main (t.kiln:1:48)"),
        "{}",
        stderr(&o)
    );
    for (code, status) in [("300", 255), ("-1", 255), ("256", 255), ("0", 0), ("42", 42)] {
        std::fs::write(dir.join("e.kiln"), format!("fn main() {{ exit({code}); }}\n")).unwrap();
        assert_eq!(vmrun(&["e.kiln"], &dir).status.code(), Some(status), "exit({code})");
    }
}

#[test]
fn disasm_lists_instructions_with_source_lines() {
    let dir = scratch("disasm");
    std::fs::write(dir.join("hello.kiln"), HELLO).unwrap();
    assert!(vmc(&["build", "hello.kiln"], &dir).status.success());
    let o = vmc(&["disasm", "hello.bc"], &dir);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("fn f0 main()"), "{text}");
    assert!(text.contains("ConcatN"), "{text}");
    assert!(text.contains("hello.kiln:3:13  println(\"hello {who}\");"), "{text}");
}

#[test]
fn stats_report_every_counter() {
    let dir = scratch("stats");
    std::fs::write(dir.join("hello.kiln"), HELLO).unwrap();
    let o = vmrun(&["--stats", "--max-heap", "2M", "--fuel", "100000", "hello.kiln"], &dir);
    assert!(o.status.success());
    let err = stderr(&o);
    for key in [
        "fuel used:",
        "allocations:",
        "bytes allocated:",
        "peak heap:",
        "gc cycles:",
        "gc pause total:",
        "gc pause longest:",
        "live heap:",
        "bytes written:",
        "wall time:",
        "cpu time:",
        "compile time:",
    ] {
        assert!(err.contains(key), "missing `{key}` in {err}");
    }
}

#[test]
fn stats_json_writes_the_ledger_however_the_run_ends() {
    let dir = scratch("stats-json");
    std::fs::write(dir.join("hello.kiln"), HELLO).unwrap();
    std::fs::write(
        dir.join("bomb.kiln"),
        "fn main() { let keep: [str] = []; while true { keep.push(\"abcdefgh\" + \"x\"); } }\n",
    )
    .unwrap();
    let o = vmrun(&["--stats-json", "ok.json", "hello.kiln"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ok = std::fs::read_to_string(dir.join("ok.json")).unwrap();
    for field in ["\"exit_status\": 0,", "\"trap\": null,", "\"bytes_written\": 12,", "\"jit_failures\": []"]
    {
        assert!(ok.contains(field), "missing {field} in {ok}");
    }
    let o = vmrun(&["--max-heap", "1M", "--stats-json", "bomb.json", "bomb.kiln"], &dir);
    assert_eq!(o.status.code(), Some(70));
    let bomb = std::fs::read_to_string(dir.join("bomb.json")).unwrap();
    assert!(bomb.contains("\"exit_status\": 70,") && bomb.contains("\"trap\": \"out of memory"), "{bomb}");
    assert!(bomb.contains("\"heap_live_bytes\": 0,"), "a trapped instance frees its heap: {bomb}");
    assert!(!bomb.contains("\"heap_peak_bytes\": 0,"), "{bomb}");
    // Every key once, in the documented order.
    let keys: Vec<&str> =
        bomb.lines().filter_map(|l| l.trim().strip_prefix('"')?.split('"').next()).collect();
    assert_eq!(keys.len(), 23, "{keys:?}");
    let o = vmrun(&["--stats-json", "no/such/dir/s.json", "hello.kiln"], &dir);
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write no/such/dir/s.json"), "{}", stderr(&o));
}

#[test]
fn huge_inputs_get_diagnostics_not_crashes() {
    let dir = scratch("huge");
    let long_chain = format!("fn main() {{ println({}); }}\n", vec!["1"; 20_000].join(" + "));
    std::fs::write(dir.join("chain.kiln"), long_chain).unwrap();
    let o = vmc(&["check", "chain.kiln"], &dir);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("expression too long"), "{}", stderr(&o));

    let many_statements: String = (0..40_000).map(|i| format!("    let v{i} = {i} * 2;\n")).collect();
    std::fs::write(dir.join("big.kiln"), format!("fn main() {{\n{many_statements}}}\n")).unwrap();
    let o = vmc(&["check", "big.kiln"], &dir);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("is too large"), "{}", stderr(&o));

    let deep_blocks = format!("fn main() {{ {}1{} }}\n", "{ ".repeat(5_000), " }".repeat(5_000));
    std::fs::write(dir.join("deep.kiln"), deep_blocks).unwrap();
    let o = vmc(&["check", "deep.kiln"], &dir);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("nesting too deep"), "{}", stderr(&o));
}

#[test]
fn everything_after_the_program_goes_to_the_program() {
    let dir = scratch("args");
    let src = "fn main() { let a = args(); for i in 0..a.len() { println(a[i]); } }\n";
    std::fs::write(dir.join("args.kiln"), src).unwrap();
    let o = vmrun(&["--fuel", "100000", "args.kiln", "--stats", "-x", "--fuel", "5"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "--stats\n-x\n--fuel\n5\n");
    assert!(!stderr(&o).contains("fuel used"), "--stats after the program is the program's");
}

#[test]
fn help_lists_exit_statuses_and_vmc_errors_say_error() {
    let dir = scratch("help");
    let o = vmrun(&["--help"], &dir);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for status in ["64", "65", "66", "67", "70", "74"] {
        assert!(out.contains(&format!("  {status} ")), "--help lists exit status {status}: {out}");
    }
    let o = vmc(&["build", "nope.kiln"], &dir);
    assert!(stderr(&o).starts_with("error: cannot read nope.kiln"), "{}", stderr(&o));
}

#[test]
fn output_errors_exit_74_never_0_or_101() {
    let dir = scratch("output");
    std::fs::write(dir.join("hello.kiln"), HELLO).unwrap();
    // A full disk: the final flush fails.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let o = Command::new(env!("CARGO_BIN_EXE_vmrun"))
        .arg("hello.kiln")
        .current_dir(&dir)
        .stdout(full)
        .output()
        .expect("vmrun runs");
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write output"), "{}", stderr(&o));
    // A pipe whose reader has gone, for a program that writes a lot.
    std::fs::write(dir.join("lots.kiln"), "fn main() { for i in 0..200000 { println(\"line {i}\"); } }\n")
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmrun"))
        .arg("lots.kiln")
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("vmrun runs");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("vmrun ends");
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));
    // With stderr closed too, the status still tells.
    let o = Command::new(env!("CARGO_BIN_EXE_vmrun"))
        .arg("hello.kiln")
        .current_dir(&dir)
        .stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
        .stderr(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
        .output()
        .expect("vmrun runs");
    assert_eq!(o.status.code(), Some(74));
    let o = Command::new(env!("CARGO_BIN_EXE_vmc"))
        .args(["disasm", "hello.kiln"])
        .current_dir(&dir)
        .stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
        .output()
        .expect("vmc runs");
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));
}

#[test]
fn oversized_and_endless_inputs_are_refused() {
    let dir = scratch("big");
    let o = vmrun(&["/dev/zero"], &dir);
    assert_eq!(o.status.code(), Some(67), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than the module size limit"), "{}", stderr(&o));
    let o = vmrun(&["/dev/zero.kiln"], &dir);
    assert_eq!(o.status.code(), Some(66), "{}", stderr(&o));
}

/// Options of int, float and bool are optional values, and a Result of an int and a str
/// a pair, not objects: a loop that makes, returns, stores and matches 400 000 of them
/// allocates nothing per iteration (only the program's few fixed objects).
#[test]
fn optional_values_do_not_allocate() {
    let dir = scratch("optional_values");
    let src = r#"
struct Slot { last: Option<int>, ratio: Option<float> }
var flag: Option<bool> = None;
fn find_even(xs: [int], from: int) -> Option<int> {
    for i in from..xs.len() { if xs[i] % 2 == 0 { return Some(xs[i]); } }
    None
}
fn checked(i: int) -> Result<int, str> { if i % 3 == 0 { Err("multiple of three") } else { Ok(1) } }
fn main() {
    let xs = [1, 3, 4, 7, 8];
    let slot = Slot { last: None, ratio: None };
    var total = 0;
    for i in 0..100000 {
        match "123".parse_int() { Some(v) => total += v, None => {} }
        slot.last = find_even(xs, i % 5);
        match slot.last { Some(v) => total += v, None => total -= 1 }
        slot.ratio = if i % 2 == 0 { Some(1.5) } else { None };
        flag = Some(slot.ratio.is_some());
        match flag { Some(true) => total += 1, _ => {} }
        match checked(i) { Ok(v) => total += v, Err(e) => total -= e.len() }
    }
    println(total);
}
"#;
    std::fs::write(dir.join("opt.kiln"), src).unwrap();
    let o = vmrun(&["--stats", "opt.kiln"], &dir);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "12409988\n");
    let err = stderr(&o);
    let allocations: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("allocations:"))
        .map(|v| v.trim().parse().expect("a count"))
        .expect("an allocations line");
    assert!(allocations < 10, "{allocations} allocations:\n{err}");
}

#[test]
fn each_limit_flag_traps_with_its_own_error_line_and_exit_70() {
    let dir = scratch("limits");
    std::fs::write(dir.join("spin.kiln"), "fn main() { var n = 0; while true { n += 1; } }\n").unwrap();
    std::fs::write(dir.join("flood.kiln"), "fn main() { for i in 0..1000000 { println(\"{i}\"); } }\n")
        .unwrap();
    std::fs::write(
        dir.join("deep.kiln"),
        "fn d(n: int) -> int { if n == 0 { return 0; } return d(n - 1) + 1; }\nfn main() { println(\"{d(99)}\"); println(\"{d(100)}\"); }\n",
    )
    .unwrap();
    for tier in ["interp", "jit", "auto"] {
        let started = std::time::Instant::now();
        let o = vmrun(&["--tier", tier, "--timeout", "200ms", "spin.kiln"], &dir);
        assert_eq!(o.status.code(), Some(70), "{tier}");
        assert!(
            stderr(&o).starts_with("error: deadline exceeded: the run took longer than 200ms\n"),
            "{}",
            stderr(&o)
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{tier}: {:?}", started.elapsed());

        // "0\n" .. "9\n" are 20 bytes, and 10.. take 3 each: 26 bytes hold 0..=11.
        let o = vmrun(&["--tier", tier, "--max-output", "26", "flood.kiln"], &dir);
        assert_eq!(o.status.code(), Some(70), "{tier}");
        let printed: Vec<String> = (0..=11).map(|i| format!("{i}\n")).collect();
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            printed.concat(),
            "{tier}: the write that passes is not made"
        );
        assert!(
            stderr(&o).starts_with("error: output limit exceeded: more than 26 bytes written\n"),
            "{}",
            stderr(&o)
        );

        // `main` and 100 frames of `d` fit in 101; d(100) needs 102.
        let o = vmrun(&["--tier", tier, "--max-stack", "101", "deep.kiln"], &dir);
        assert_eq!(o.status.code(), Some(70), "{tier}");
        assert_eq!(String::from_utf8_lossy(&o.stdout), "99\n");
        assert!(stderr(&o).starts_with("error: stack overflow\n"), "{}", stderr(&o));
        let o = vmrun(&["--tier", tier, "--max-stack", "102", "--max-output", "7", "deep.kiln"], &dir);
        assert_eq!((o.status.code(), String::from_utf8_lossy(&o.stdout).as_ref()), (Some(0), "99\n100\n"));
        let o = vmrun(&["--tier", tier, "--max-output", "0", "deep.kiln"], &dir);
        assert_eq!((o.status.code(), o.stdout.len()), (Some(70), 0), "0 allows no output");
    }
}

#[test]
fn vmrun_provides_no_host_functions_and_says_which_one_is_missing() {
    let dir = scratch("extern");
    std::fs::write(
        dir.join("host.kiln"),
        "extern fn notify(msg: str) -> bool;\nfn main() { println(notify(\"x\")); }\n",
    )
    .unwrap();
    let o = vmrun(&["host.kiln"], &dir);
    assert_eq!(o.status.code(), Some(67), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the module imports `fn notify(str) -> bool`, which the host does not provide"),
        "{}",
        stderr(&o)
    );
    // A trap in a global's initialiser ends the run like one in `main`, ledger included.
    std::fs::write(dir.join("init.kiln"), "var z: int = 0;\nvar q: int = 1 / z;\nfn main() {}\n").unwrap();
    let o = vmrun(&["--stats-json", "s.json", "init.kiln"], &dir);
    assert_eq!(o.status.code(), Some(70));
    assert!(stderr(&o).contains("error: division by zero\n  at <init> (init.kiln:2:14)"), "{}", stderr(&o));
    let json = std::fs::read_to_string(dir.join("s.json")).unwrap();
    assert!(json.contains("\"trap\": \"division by zero\""), "{json}");
}

#[test]
fn timeout_bounds_the_initialisers_and_main_together() {
    let dir = scratch("init-deadline");
    // The initialiser takes 300 ms of the 500 ms; `main` never ends.
    std::fs::write(
        dir.join("slow.kiln"),
        "fn wait_ms(ms: int) -> int { var n = 0; while clock_ns() < ms * 1000000 { n += 1; } n }\n\
         var spent: int = wait_ms(300);\nfn main() { var i = 0; while true { i += 1; } }\n",
    )
    .unwrap();
    for tier in ["interp", "jit", "auto"] {
        let start = std::time::Instant::now();
        let o = vmrun(&["--tier", tier, "--timeout", "500ms", "slow.kiln"], &dir);
        let took = start.elapsed();
        assert_eq!(o.status.code(), Some(70), "{tier}: {}", stderr(&o));
        assert!(stderr(&o).contains("deadline exceeded: the run took longer than 500ms"), "{}", stderr(&o));
        // Separate deadlines would have let it run 800 ms.
        assert!(took < std::time::Duration::from_millis(750), "{tier}: {took:?}");
    }
}
