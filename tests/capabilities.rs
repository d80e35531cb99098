//! Capabilities: files, environment variables and stdin reach a program only through
//! what the host grants, from the Rust API and from `vmrun`, in every tier; escapes by
//! `..`, absolute paths and symlinks are refused; a blocked stdin read stops at an
//! interrupt or deadline.

use kiln_runtime::{
    Capabilities, Engine, Instance, InstanceConfig, Limits, Module, RunError, SharedBuffer, Tier, TierConfig,
    TrapKind,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIERS: [(Tier, u32); 3] = [(Tier::Interp, 0), (Tier::Jit, 0), (Tier::Auto, 1)];

fn module(src: &str) -> Module {
    let bc = kiln_compiler::compile_source("app.kiln", src).unwrap_or_else(|d| panic!("{d}"));
    Module::from_bytes(&Engine::new(), &kiln_bytecode::encode(&bc)).expect("module loads")
}

/// A fresh directory tree for one test:
/// `root/data/{a.txt, sub/b.txt, inside -> a.txt, outside -> /etc/passwd, up -> ..}`,
/// `root/out/`, `root/secret.txt`.
fn tree(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("kiln-caps-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("data/sub")).unwrap();
    std::fs::create_dir_all(root.join("out")).unwrap();
    std::fs::write(root.join("data/a.txt"), "alpha\n").unwrap();
    std::fs::write(root.join("data/sub/b.txt"), "beta").unwrap();
    std::fs::write(root.join("secret.txt"), "top secret").unwrap();
    std::os::unix::fs::symlink("a.txt", root.join("data/inside")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("data/outside")).unwrap();
    std::os::unix::fs::symlink("..", root.join("data/up")).unwrap();
    root
}

/// Prints each probe's answer on its own line.
const PROBES: &str = r#"
import fs;
import env;
fn show(what: str, r: Result<str, str>) {
    match r { Ok(t) => println("{what}: ok {t.trim()}"), Err(e) => println("{what}: err {e}") }
}
fn main() {
    show("relative", fs.read_text("data/a.txt"));
    show("nested", fs.read_text("data/sub/b.txt"));
    show("dotdot inside", fs.read_text("data/sub/../a.txt"));
    show("symlink inside", fs.read_text("data/inside"));
    show("symlink out", fs.read_text("data/outside"));
    show("symlink up", fs.read_text("data/up/secret.txt"));
    show("dotdot out", fs.read_text("data/../secret.txt"));
    show("absolute out", fs.read_text("/etc/passwd"));
    show("missing", fs.read_text("data/nope.txt"));
    show("directory", fs.read_text("data"));
    show("empty", fs.read_text(""));
    match fs.list("data") { Ok(names) => println("list: {names.len()} {names[0]} {names[4]}"), Err(e) => println("list: err {e}") }
    match fs.list("out") { Ok(names) => println("list out: {names.len()}"), Err(e) => println("list out: err {e}") }
    match fs.write_text("out/new.txt", "héllo") { Ok(n) => println("write: ok {n}"), Err(e) => println("write: err {e}") }
    match fs.write_text("data/new.txt", "x") { Ok(n) => println("write data: ok {n}"), Err(e) => println("write data: err {e}") }
    match fs.write_text("out/../escape.txt", "x") { Ok(n) => println("write up: ok {n}"), Err(e) => println("write up: err {e}") }
    match env.get("KILN_TEST_GRANTED") { Some(v) => println("env: {v}"), None => println("env: none") }
    match env.get("PATH") { Some(v) => println("env PATH: {v}"), None => println("env PATH: none") }
}
"#;

const GRANTED: &str = "\
relative: ok alpha
nested: ok beta
dotdot inside: ok alpha
symlink inside: ok alpha
symlink out: err permission denied: data/outside
symlink up: err permission denied: data/up/secret.txt
dotdot out: err permission denied: no read access to data/../secret.txt
absolute out: err permission denied: no read access to /etc/passwd
missing: err not found: data/nope.txt
directory: err not a file: data
empty: err invalid path \"\"
list: 5 a.txt up
list out: err permission denied: no read access to out
write: ok 6
write data: err permission denied: no write access to data/new.txt
write up: err permission denied: no write access to out/../escape.txt
env: granted value
env PATH: none
";

fn probe_with(root: &Path, caps: Capabilities, tier: (Tier, u32)) -> String {
    let m = module(PROBES);
    let out = SharedBuffer::default();
    let config = InstanceConfig {
        caps,
        stdout: Box::new(out.clone()),
        tier: TierConfig { tier: tier.0, threshold: tier.1 },
        ..InstanceConfig::default()
    };
    let mut inst = Instance::new(&m, config).expect("instance");
    inst.run().expect("no probe traps");
    let _ = std::fs::remove_file(root.join("out/new.txt"));
    String::from_utf8(out.contents()).unwrap()
}

#[test]
fn granted_directories_are_reachable_and_nothing_else_is() {
    let root = tree("api");
    for tier in TIERS {
        let mut caps = Capabilities::new();
        caps.base_dir(&root).unwrap();
        caps.allow_read(root.join("data")).unwrap();
        caps.allow_write(root.join("out")).unwrap();
        caps.allow_env("KILN_TEST_GRANTED", "granted value");
        assert_eq!(probe_with(&root, caps, tier), GRANTED, "{tier:?}");
        assert!(!root.join("escape.txt").exists());
        assert!(!root.join("data/new.txt").exists());
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn without_grants_every_probe_is_refused_not_trapped() {
    let root = tree("none");
    let out = probe_with(&root, Capabilities::new(), TIERS[0]);
    for line in out.lines() {
        let answer = line.split_once(": ").map_or("", |(_, a)| a);
        assert!(
            answer.starts_with("err permission denied")
                || answer.starts_with("err invalid path")
                || answer == "none",
            "{line}"
        );
    }
    assert_eq!(out.lines().count(), GRANTED.lines().count());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn relative_paths_start_from_the_instance_base_not_the_process_directory() {
    let root = tree("base");
    let mut caps = Capabilities::new();
    caps.base_dir(root.join("data")).unwrap().allow_read(root.join("data")).unwrap();
    let m = module(
        "import fs;\nfn main() { match fs.read_text(\"a.txt\") { Ok(t) => print(t), Err(e) => println(e) } }",
    );
    let out = SharedBuffer::default();
    let mut inst = Instance::new(
        &m,
        InstanceConfig { caps, stdout: Box::new(out.clone()), ..InstanceConfig::default() },
    )
    .unwrap();
    inst.run().unwrap();
    assert_eq!(out.contents(), b"alpha\n");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn reads_and_writes_are_counted_and_bounded_by_the_heap() {
    let root = tree("ledger");
    std::fs::write(root.join("data/big.txt"), "x".repeat(200_000)).unwrap();
    let src = r#"
import fs;
fn main() {
    let a = fs.read_text("data/a.txt");
    let w = fs.write_text("out/w.txt", "12345");
    let big = fs.read_text("data/big.txt");
    match big { Ok(t) => println("{t.len()}"), Err(e) => println(e) }
}
"#;
    let m = module(src);
    let mut caps = Capabilities::new();
    caps.base_dir(&root)
        .unwrap()
        .allow_read(root.join("data"))
        .unwrap()
        .allow_write(root.join("out"))
        .unwrap();
    let out = SharedBuffer::default();
    let config =
        InstanceConfig { caps: caps.clone(), stdout: Box::new(out.clone()), ..InstanceConfig::default() };
    let mut inst = Instance::new(&m, config).unwrap();
    inst.run().unwrap();
    assert_eq!(out.contents(), b"200000\n");
    let stats = inst.stats();
    assert_eq!(stats.bytes_read, 6 + 200_000);
    assert_eq!(stats.file_bytes_written, 5);
    // A file larger than the whole heap is not even read into host memory.
    let limits = Limits { max_heap: 64 * 1024, ..Limits::default() };
    let mut inst = Instance::new(&m, InstanceConfig { caps, limits, ..InstanceConfig::default() }).unwrap();
    match inst.run() {
        Err(RunError::Trap(t)) => assert!(matches!(t.kind, TrapKind::HeapExhausted { .. }), "{:?}", t.kind),
        other => panic!("expected out of memory, got {other:?}"),
    }
    assert!(inst.stats().bytes_read < 1000, "the big file was not counted as read");
    let _ = std::fs::remove_dir_all(&root);
}

const LINES: &str = r#"
import io;
fn main() {
    var n = 0;
    while true {
        match io.read_line() {
            Ok(Some(l)) => { n += 1; println("{n}: [{l}]"); }
            Ok(None) => { println("eof after {n}"); return; }
            Err(e) => { println("err: {e}"); return; }
        }
    }
}
"#;

#[test]
fn stdin_lines_arrive_through_the_grant_only() {
    let m = module(LINES);
    for tier in TIERS {
        let out = SharedBuffer::default();
        let input: &[u8] = b"one\r\n\ntwo\nlast";
        let config = InstanceConfig {
            stdin: Some(Box::new(input)),
            stdout: Box::new(out.clone()),
            tier: TierConfig { tier: tier.0, threshold: tier.1 },
            ..InstanceConfig::default()
        };
        let mut inst = Instance::new(&m, config).unwrap();
        inst.run().unwrap();
        assert_eq!(
            String::from_utf8(out.contents()).unwrap(),
            "1: [one]\n2: []\n3: [two]\n4: [last]\neof after 4\n"
        );
        assert_eq!(inst.stats().bytes_read, input.len() as u64);
    }
    let out = SharedBuffer::default();
    let mut inst =
        Instance::new(&m, InstanceConfig { stdout: Box::new(out.clone()), ..InstanceConfig::default() })
            .unwrap();
    inst.run().unwrap();
    assert_eq!(out.contents(), b"err: permission denied: stdin was not granted\n");
    let out = SharedBuffer::default();
    let bad: &[u8] = b"ok\n\xff\xfe\n";
    let config = InstanceConfig {
        stdin: Some(Box::new(bad)),
        stdout: Box::new(out.clone()),
        ..InstanceConfig::default()
    };
    Instance::new(&m, config).unwrap().run().unwrap();
    assert_eq!(out.contents(), b"1: [ok]\nerr: stdin: a line is not UTF-8 text\n");
}

/// A reader that never returns (a terminal nobody types into).
struct Never;
impl std::io::Read for Never {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        std::thread::sleep(Duration::from_secs(3600));
        Ok(0)
    }
}

#[test]
fn a_blocked_stdin_read_stops_at_the_deadline_and_at_an_interrupt() {
    let m = module(LINES);
    for tier in TIERS {
        let limits = Limits { timeout: Some(Duration::from_millis(50)), ..Limits::default() };
        let config = InstanceConfig {
            limits,
            stdin: Some(Box::new(Never)),
            tier: TierConfig { tier: tier.0, threshold: tier.1 },
            ..InstanceConfig::default()
        };
        let mut inst = Instance::new(&m, config).unwrap();
        let start = Instant::now();
        match inst.run() {
            Err(RunError::Trap(t)) => assert!(matches!(t.kind, TrapKind::Timeout { .. }), "{:?}", t.kind),
            other => panic!("expected the deadline, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_millis(50 + 500), "{:?}", start.elapsed());
    }
    let config = InstanceConfig { stdin: Some(Box::new(Never)), ..InstanceConfig::default() };
    let mut inst = Instance::new(&m, config).unwrap();
    let handle = inst.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        handle.interrupt();
        Instant::now()
    });
    let r = inst.run();
    let latency = stopper.join().unwrap().elapsed();
    assert!(matches!(r, Err(RunError::Trap(ref t)) if t.kind == TrapKind::Interrupted), "{r:?}");
    assert!(latency < Duration::from_millis(500), "{latency:?}");
}

fn vmrun(dir: &Path, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmrun"))
        .args(args)
        .current_dir(dir)
        .env("KILN_TEST_GRANTED", "granted value")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vmrun");
    use std::io::Write;
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn vmrun_grants_with_allow_flags_in_every_tier() {
    let root = tree("vmrun");
    std::fs::write(root.join("probes.kiln"), PROBES).unwrap();
    std::fs::write(root.join("lines.kiln"), LINES).unwrap();
    for tier in ["interp", "jit", "auto"] {
        let args = [
            "--tier",
            tier,
            "--allow-read",
            "data",
            "--allow-write",
            &root.join("out").display().to_string(),
            "--allow-env",
            "KILN_TEST_GRANTED",
            "probes.kiln",
        ];
        let (code, stdout, stderr) = vmrun(&root, &args, b"");
        assert_eq!((code, stdout.as_str()), (0, GRANTED), "{tier}: {stderr}");
        assert_eq!(std::fs::read_to_string(root.join("out/new.txt")).unwrap(), "héllo");
        std::fs::remove_file(root.join("out/new.txt")).unwrap();
        let (code, stdout, _) = vmrun(&root, &["--tier", tier, "--allow-stdin", "lines.kiln"], b"a\nb\n");
        assert_eq!((code, stdout.as_str()), (0, "1: [a]\n2: [b]\neof after 2\n"));
        let (code, stdout, _) = vmrun(&root, &["--tier", tier, "lines.kiln"], b"a\nb\n");
        assert_eq!((code, stdout.as_str()), (0, "err: permission denied: stdin was not granted\n"));
    }
    let (code, stdout, _) = vmrun(&root, &["probes.kiln"], b"");
    assert_eq!(code, 0);
    assert!(stdout.contains("relative: err permission denied"), "{stdout}");
    assert!(stdout.contains("env: none"), "{stdout}");
    for (args, message) in [
        (&["--allow-read", "no-such-dir", "probes.kiln"][..], "error: --allow-read no-such-dir:"),
        (&["--allow-write", "data/a.txt", "probes.kiln"][..], "error: --allow-write data/a.txt:"),
        (&["--allow-env", "A=B", "probes.kiln"][..], "not a variable name"),
    ] {
        let (code, _, stderr) = vmrun(&root, args, b"");
        assert_eq!(code, 64, "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn vmrun_stops_a_blocked_stdin_read_at_its_timeout() {
    let root = tree("vmrun-stdin");
    std::fs::write(root.join("lines.kiln"), LINES).unwrap();
    // stdin stays open and empty: the read blocks until the deadline.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmrun"))
        .args(["--allow-stdin", "--timeout", "100ms", "lines.kiln"])
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let keep_open = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    drop(keep_open);
    assert_eq!(out.status.code(), Some(70));
    assert!(String::from_utf8_lossy(&out.stderr).contains("deadline exceeded"));
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
    let _ = std::fs::remove_dir_all(&root);
}
