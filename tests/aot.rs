//! `vmc aot` end to end: objects for every target, executables that behave like
//! `vmrun` (arguments, exit statuses, traps, the `KILN_*` limits and grants, the
//! ledger), every error of `vmc aot`, and executables whose object does not fit the
//! runtime refused. The executables link the runtime library beside the test build's
//! `vmc` (`cargo build --profile test -p kiln-aot-rt`; scripts/test.sh builds it).

use object::{Object, ObjectSection, ObjectSymbol};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vmc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmc")).args(args).current_dir(dir).output().expect("vmc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-aot-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `src` compiled ahead of time to the executable `dir/app`.
fn executable(dir: &Path, src: &str) -> PathBuf {
    std::fs::write(dir.join("app.kiln"), src).expect("write source");
    let o = vmc(&["aot", "app.kiln", "-o", "app"], dir);
    assert!(
        o.status.success(),
        "vmc aot: {}\n(the test build's runtime library: cargo build --profile test -p kiln-aot-rt)",
        text(&o.stderr)
    );
    dir.join("app")
}

/// Runs `exe` in `dir` with `args` and the environment `env` (and no other `KILN_*`).
fn run(exe: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(exe);
    for (k, _) in std::env::vars() {
        if k.starts_with("KILN_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir).args(args).envs(env.iter().copied()).output().expect("executable runs")
}

fn vmrun(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmrun")).args(args).current_dir(dir).output().expect("vmrun runs")
}

#[test]
fn objects_for_every_target_through_vmc() {
    let dir = scratch("targets");
    std::fs::write(
        dir.join("app.kiln"),
        "fn sq(x: int) -> int { x * x }\nfn main() { var t = 0; for i in 0..5 { t += sq(i); } println(\"{t}\"); }\n",
    )
    .unwrap();
    for (triple, arch, format) in [
        ("x86_64-unknown-linux-gnu", object::Architecture::X86_64, object::BinaryFormat::Elf),
        ("aarch64-unknown-linux-gnu", object::Architecture::Aarch64, object::BinaryFormat::Elf),
        ("x86_64-apple-darwin", object::Architecture::X86_64, object::BinaryFormat::MachO),
        ("aarch64-apple-darwin", object::Architecture::Aarch64, object::BinaryFormat::MachO),
        ("x86_64-pc-windows-msvc", object::Architecture::X86_64, object::BinaryFormat::Coff),
    ] {
        let o = vmc(&["aot", "app.kiln", "--target", triple, "-o", "app.o"], &dir);
        assert!(o.status.success(), "{triple}: {}", text(&o.stderr));
        let bytes = std::fs::read(dir.join("app.o")).unwrap();
        let again = vmc(&["aot", "app.kiln", "--target", triple, "-o", "again.o"], &dir);
        assert!(again.status.success());
        assert!(
            std::fs::read(dir.join("again.o")).unwrap() == bytes,
            "{triple}: the same input gives the same bytes"
        );
        let file = object::File::parse(&*bytes).unwrap_or_else(|e| panic!("{triple}: {e}"));
        assert_eq!((file.architecture(), file.format()), (arch, format), "{triple}");
        assert_eq!(file.kind(), object::ObjectKind::Relocatable, "{triple}");
        let symbol = |name: &str| {
            file.symbols()
                .find(|s| s.name().is_ok_and(|n| n.trim_start_matches('_') == name.trim_start_matches('_')))
        };
        for f in ["kiln_aot_f0", "kiln_aot_f1", "kiln_aot_module", "kiln_aot_code", "kiln_aot_abi_version"] {
            let s = symbol(f).unwrap_or_else(|| panic!("{triple}: no {f}"));
            assert!(s.is_definition() && s.is_global(), "{triple}: {f} is a global definition");
        }
        for helper in ["kiln_rt_exec_slow", "kiln_rt_limit", "kiln_rt_trap"] {
            let s = symbol(helper).unwrap_or_else(|| panic!("{triple}: no {helper}"));
            assert!(s.is_undefined(), "{triple}: {helper} is an import");
        }
        // The bytecode is in the object as `vmc build` writes it.
        let module = symbol("kiln_aot_module").unwrap();
        let section = file.section_by_index(module.section_index().unwrap()).unwrap();
        let data = section.data().unwrap();
        let at = (module.address() - section.address()) as usize;
        assert_eq!(&data[at..at + 4], b"\x7fKBC", "{triple}: the module blob");
        // Calls and the code table are relocations: in code, and in the table's section.
        let code_section = symbol("kiln_aot_code").unwrap().section_index().unwrap();
        let table_relocs = file.section_by_index(code_section).unwrap().relocations().count();
        assert!(table_relocs >= 2, "{triple}: one relocation per function in the code table");
        let text_relocs: usize = file
            .sections()
            .filter(|s| s.kind() == object::SectionKind::Text)
            .map(|s| s.relocations().count())
            .sum();
        assert!(text_relocs > 0, "{triple}: calls are relocations");
    }
}

/// Runs `exe` with `env` and `vmrun` with `flags` on the same program: they must agree
/// in stdout, stderr and exit status, which must be `code`. Returns the executable's run.
fn agree(dir: &Path, exe: &Path, env: &[(&str, &str)], flags: &[&str], args: &[&str], code: i32) -> Output {
    let a = run(exe, dir, args, env);
    let b = vmrun(dir, &[flags, &["app.kiln"], args].concat());
    assert_eq!(
        (text(&a.stdout), text(&a.stderr), a.status.code()),
        (text(&b.stdout), text(&b.stderr), b.status.code()),
        "executable with {env:?} vs vmrun {flags:?}"
    );
    assert_eq!(a.status.code(), Some(code), "{env:?}: {}", text(&a.stderr));
    a
}

#[test]
fn executables_pass_every_argument_and_the_exit_status() {
    let dir = scratch("args");
    let exe = executable(
        &dir,
        "fn main() { let a = args(); for x in a { println(x); } if a.len() > 0 { exit(a.len() + 40); } }\n",
    );
    let o = agree(&dir, &exe, &[], &[], &["one", "--fuel", "3", "-o", ""], 45);
    assert_eq!(text(&o.stdout), "one\n--fuel\n3\n-o\n\n");
    agree(&dir, &exe, &[], &[], &[], 0);
}

#[test]
fn executables_link_statically_by_default_or_dynamically() {
    let dir = scratch("link");
    std::fs::write(dir.join("app.kiln"), "fn main() { println(\"linked\"); }\n").unwrap();
    for (flags, dynamic) in
        [(&[][..], false), (&["--link", "static"][..], false), (&["--link", "dynamic"][..], true)]
    {
        let o = vmc(&[&["aot", "app.kiln", "-o", "app"][..], flags].concat(), &dir);
        assert!(o.status.success(), "{flags:?}: {}", text(&o.stderr));
        let bytes = std::fs::read(dir.join("app")).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        assert_eq!(
            file.section_by_name(".interp").is_some(),
            dynamic,
            "{flags:?}: a dynamic loader is named"
        );
        assert_eq!(text(&run(&dir.join("app"), &dir, &[], &[]).stdout), "linked\n", "{flags:?}");
    }
    let o = vmc(&["aot", "app.kiln", "--link", "shared"], &dir);
    assert_eq!(o.status.code(), Some(64), "{}", text(&o.stderr));
}

#[test]
fn executables_trap_with_vmruns_message_and_trace() {
    let dir = scratch("trap");
    let exe = executable(
        &dir,
        "fn pick(xs: [int], i: int) -> int { xs[i] }\nfn main() {\n    println(\"before\");\n    println(\"{pick([1, 2], 5)}\");\n}\n",
    );
    let o = agree(&dir, &exe, &[], &[], &[], 70);
    assert!(text(&o.stderr).contains("app.kiln:1"), "the trace names the callee's line: {}", text(&o.stderr));
}

#[test]
fn every_limit_comes_from_the_environment() {
    let dir = scratch("limits");
    let exe = executable(
        &dir,
        r#"
fn deep(n: int) -> int { if n == 0 { 0 } else { 1 + deep(n - 1) } }
fn main() {
    let what = args()[0];
    if what == "spin" { var i = 0; while true { i += 1; } }
    if what == "alloc" { var xs: [[int]] = []; while true { xs.push([1, 2, 3, 4, 5, 6, 7, 8]); } }
    if what == "deep" { println("{deep(100000)}"); }
    if what == "flood" { while true { println("0123456789"); } }
    println("done");
}
"#,
    );
    for (env, flags, arg) in [
        (("KILN_FUEL", "5000"), ["--fuel", "5000"], "spin"),
        (("KILN_MAX_HEAP", "256K"), ["--max-heap", "256K"], "alloc"),
        (("KILN_MAX_STACK", "50"), ["--max-stack", "50"], "deep"),
        (("KILN_MAX_OUTPUT", "1K"), ["--max-output", "1K"], "flood"),
    ] {
        let o = agree(&dir, &exe, &[env], &flags, &[arg], 70);
        assert!(text(&o.stderr).contains("error:"), "{env:?}: {}", text(&o.stderr));
    }
    let start = std::time::Instant::now();
    let o = run(&exe, &dir, &["spin"], &[("KILN_TIMEOUT", "200ms")]);
    assert_eq!(o.status.code(), Some(70), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("200ms") || text(&o.stderr).contains("time"), "{}", text(&o.stderr));
    assert!(start.elapsed() < std::time::Duration::from_secs(5), "the deadline stopped it");
    // Unset and empty variables leave the defaults.
    agree(&dir, &exe, &[("KILN_FUEL", "")], &[], &["none"], 0);
}

#[test]
fn grants_come_from_the_environment() {
    let dir = scratch("grants");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    std::fs::write(dir.join("data/in.txt"), "granted text").unwrap();
    let exe = executable(
        &dir,
        r#"
import fs;
import env;
import io;
fn main() {
    match fs.read_text("data/in.txt") { Ok(t) => println(t), Err(e) => println(e) }
    match fs.write_text("out/note.txt", "hi") { Ok(n) => println("wrote {n}"), Err(e) => println(e) }
    match env.get("KILN_TEST_VALUE") { Some(v) => println("env {v}"), None => println("no env") }
    match io.read_line() { Ok(Some(l)) => println("line {l}"), Ok(None) => println("eof"), Err(e) => println(e) }
}
"#,
    );
    let none = agree(&dir, &exe, &[], &[], &[], 0);
    assert_eq!(
        text(&none.stdout),
        "permission denied: no read access to data/in.txt\npermission denied: no write access to out/note.txt\n\
         no env\npermission denied: stdin was not granted\n"
    );
    let env = [
        ("KILN_ALLOW_READ", "data"),
        ("KILN_ALLOW_WRITE", "out"),
        ("KILN_ALLOW_ENV", "OTHER,KILN_TEST_VALUE"),
        ("KILN_ALLOW_STDIN", "1"),
        ("KILN_TEST_VALUE", "seen"),
    ];
    let mut child = Command::new(&exe)
        .current_dir(&dir)
        .envs(env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"typed\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(text(&o.stdout), "granted text\nwrote 2\nenv seen\nline typed\n");
    assert_eq!(std::fs::read_to_string(dir.join("out/note.txt")).unwrap(), "hi");
}

#[test]
fn statistics_come_from_the_environment() {
    let dir = scratch("stats");
    let exe = executable(&dir, "fn main() { println(\"hi\"); }\n");
    let o = run(&exe, &dir, &[], &[("KILN_STATS", "1"), ("KILN_STATS_JSON", "ledger.json")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stderr).contains("fuel used:"), "{}", text(&o.stderr));
    let ledger = std::fs::read_to_string(dir.join("ledger.json")).unwrap();
    assert!(ledger.contains("\"exit_status\": 0") && ledger.contains("\"jit_failures\": []"), "{ledger}");
    let quiet = run(&exe, &dir, &[], &[("KILN_STATS", "0")]);
    assert_eq!(text(&quiet.stderr), "");
}

#[test]
fn bad_environment_values_are_usage_errors() {
    let dir = scratch("badenv");
    let exe = executable(&dir, "fn main() { println(\"ran\"); }\n");
    for (name, value) in [
        ("KILN_FUEL", "lots"),
        ("KILN_FUEL", "-1"),
        ("KILN_MAX_HEAP", "0"),
        ("KILN_MAX_HEAP", "12Q"),
        ("KILN_MAX_STACK", "0"),
        ("KILN_MAX_STACK", "99999999"),
        ("KILN_TIMEOUT", "5"),
        ("KILN_MAX_OUTPUT", "-3"),
        ("KILN_ALLOW_READ", "no/such/dir"),
        ("KILN_ALLOW_WRITE", "no/such/dir"),
        ("KILN_ALLOW_ENV", "A=B"),
        ("KILN_ALLOW_STDIN", "maybe"),
        ("KILN_STATS", "verbose"),
    ] {
        let o = run(&exe, &dir, &[], &[(name, value)]);
        assert_eq!(o.status.code(), Some(64), "{name}={value}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(name), "{name}={value}: the message names it: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "", "{name}={value}: nothing ran");
    }
}

/// The file offset of symbol `name`'s data in the executable `bytes`.
fn symbol_offset(bytes: &[u8], name: &str) -> usize {
    let file = object::File::parse(bytes).expect("executable parses");
    let sym = file.symbols().find(|s| s.name() == Ok(name)).unwrap_or_else(|| panic!("{name}"));
    let section = file.section_by_index(sym.section_index().expect("defined")).unwrap();
    let (start, _) = section.file_range().expect("in the file");
    (start + sym.address() - section.address()) as usize
}

#[test]
fn an_object_of_another_abi_or_bytecode_is_refused() {
    let dir = scratch("abi");
    let exe = executable(&dir, "fn main() { println(\"ran\"); }\n");
    let bytes = std::fs::read(&exe).unwrap();
    let abi = symbol_offset(&bytes, "kiln_aot_abi_version");
    let version = u32::from_le_bytes(bytes[abi..abi + 4].try_into().unwrap());
    assert_eq!(version, kiln_runtime::AOT_ABI_VERSION);
    let patched = |at: usize, new: &[u8], name: &str| {
        let mut b = bytes.clone();
        b[at..at + new.len()].copy_from_slice(new);
        let path = dir.join(name);
        std::fs::write(&path, b).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        run(&path, &dir, &[], &[])
    };
    let o = patched(abi, &(version + 1).to_le_bytes(), "other_abi");
    assert_eq!(o.status.code(), Some(67), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains(&format!("ABI version {}", version + 1)), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "");
    // One byte of the bytecode changed (its last: the rest would not decode).
    let module = symbol_offset(&bytes, "kiln_aot_module");
    let len_at = symbol_offset(&bytes, "kiln_aot_module_len");
    let len = u64::from_le_bytes(bytes[len_at..len_at + 8].try_into().unwrap()) as usize;
    let last = module + len - 1;
    let o = patched(last, &[bytes[last] ^ 1], "other_bytecode");
    assert_eq!(o.status.code(), Some(67), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("hash mismatch"), "{}", text(&o.stderr));
}

#[test]
fn vmc_aot_errors_are_clear() {
    let dir = scratch("errors");
    std::fs::write(dir.join("app.kiln"), "fn main() { println(\"hi\"); }\n").unwrap();
    let expect = |args: &[&str], env: &[(&str, &str)], code: i32, says: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_vmc"))
            .args(args)
            .current_dir(&dir)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(code), "{args:?} {env:?}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(says), "{args:?}: expected {says:?} in {}", text(&o.stderr));
    };
    for triple in ["aarch64-pc-windows-msvc", "riscv64gc-unknown-linux-gnu", "x86_64"] {
        expect(
            &["aot", "app.kiln", "--target", triple, "-o", "app.o"],
            &[],
            64,
            "supported: x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, x86_64-apple-darwin, \
             aarch64-apple-darwin, x86_64-pc-windows-msvc",
        );
    }
    expect(
        &["aot", "app.kiln", "--target", "aarch64-apple-darwin", "-o", "app"],
        &[],
        64,
        "only be linked for this host",
    );
    expect(&["aot", "app.kiln", "-o", "app"], &[("CC", "/no/such/cc")], 69, "no linker");
    expect(&["aot", "app.kiln", "-o", "app"], &[("KILN_RT", "/no/such/libkiln_rt.a")], 69, "KILN_RT");
    expect(&["aot", "app.kiln", "-o", "no/such/dir/app"], &[], 73, "cannot write");
    expect(&["aot", "app.kiln", "-o", "no/such/dir/app.o"], &[], 73, "cannot write");
    std::fs::create_dir_all(dir.join("adir")).unwrap();
    expect(&["aot", "app.kiln", "-o", "adir"], &[], 73, "is a directory");
    expect(&["aot", "app.kiln", "--emit", "obj", "-o", "adir"], &[], 73, "is a directory");
    expect(&["aot", "app.kiln", "--emit", "dll"], &[], 64, "dll");
    expect(&["aot", "missing.kiln"], &[], 66, "missing.kiln");
    std::fs::write(dir.join("bad.kiln"), "fn main() { nope }\n").unwrap();
    expect(&["aot", "bad.kiln"], &[], 65, "error");
    let host_src =
        "extern fn price(item: str) -> float;\nfn main() { let p = price(\"tea\"); println(\"{p}\"); }\n";
    std::fs::write(dir.join("host.kiln"), host_src).unwrap();
    expect(&["aot", "host.kiln", "-o", "host"], &[], 67, "extern fn price");
    expect(&["aot", "host.kiln", "-o", "host.o"], &[], 0, "");
    std::fs::write(dir.join("bad.bc"), b"\x7fKBC garbage").unwrap();
    expect(&["aot", "bad.bc"], &[], 67, "invalid bytecode");
    // A linker that fails: its message is passed on.
    std::fs::write(dir.join("notanarchive.a"), b"nothing").unwrap();
    expect(&["aot", "app.kiln", "-o", "app"], &[("KILN_RT", "notanarchive.a")], 69, "linking app failed");
    assert!(!dir.join("app").exists(), "no executable is left from a failed link");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("kiln-aot"))
        .collect();
    assert!(leftovers.is_empty(), "temporary objects are removed: {leftovers:?}");
    // `CC` may carry flags.
    let o = Command::new(env!("CARGO_BIN_EXE_vmc"))
        .args(["aot", "app.kiln", "-o", "app"])
        .current_dir(&dir)
        .env("CC", "cc -O0")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&run(&dir.join("app"), &dir, &[], &[]).stdout), "hi\n");
}

#[test]
fn functions_left_out_are_interpreted_and_reported() {
    let dir = scratch("leftout");
    // More instructions than the translator takes (`translate::MAX_JIT_INSTRS`).
    let body: String = (0..12_000).map(|i| format!("    t = t * 3 + {i};\n")).collect();
    let src = format!("fn big(x: int) -> int {{\n    var t = x;\n{body}    t\n}}\nfn main() {{ println(\"{{big(1)}}\"); }}\n");
    std::fs::write(dir.join("app.kiln"), &src).unwrap();
    let o = vmc(&["aot", "app.kiln", "-o", "app"], &dir);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("warning: big:") && text(&o.stderr).contains("left to the interpreter"),
        "{}",
        text(&o.stderr)
    );
    let exe = dir.join("app");
    let o = agree(&dir, &exe, &[], &[], &[], 0);
    assert!(!text(&o.stdout).is_empty());
    let o = run(&exe, &dir, &[], &[("KILN_STATS", "1")]);
    assert!(
        text(&o.stderr).contains("jit fallback:     big: not compiled ahead of time"),
        "{}",
        text(&o.stderr)
    );
    assert!(text(&o.stderr).contains("jit compiled:     1 functions"), "main has code: {}", text(&o.stderr));
}
