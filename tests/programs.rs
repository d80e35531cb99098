//! The golden corpus: every `tests/programs/**/*.kiln` runs from source, from a written
//! `.bc` file, and under `--gc-stress`, in every execution tier (the interpreter, the JIT
//! compiling every function first, and tier-up from the first call with on-stack
//! replacement), through the real `vmrun` and `vmc` binaries, and compiled ahead of
//! time (`vmc aot app.bc -o app`, run as an executable with the flags as `KILN_*`
//! variables, plain and under `KILN_GC_STRESS`). Every run reports its statistics: the
//! compiled tiers must match the interpreter's run of the same mode in stdout, stderr,
//! exit status and fuel used, and must compile every function. The ahead-of-time tier
//! needs the runtime library beside `vmc` (`cargo build --profile test -p kiln-aot-rt`;
//! scripts/test.sh builds it). Each program states what it expects in header comments:
//!
//! ```text
//! // stdout: one expected stdout line (repeat; the whole stdout must match)
//! // stderr: a line that must appear in stderr (repeat; in order)
//! // exit: 70               (default 0)
//! // args: a b c            (program arguments)
//! // flags: --fuel 1000     (extra vmrun flags)
//! // fuel: 1234             (fuel the run must report with --stats)
//! ```
//!
//! A file whose first line starts with `// module` is imported by a program beside it
//! and is not run on its own.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Execution tiers every program runs under: a name and the `vmrun` flags.
const TIERS: &[(&str, &[&str])] = &[
    ("interp", &["--tier", "interp"]),
    ("jit", &["--tier", "jit"]),
    ("auto1", &["--tier", "auto", "--jit-threshold", "1"]),
];

/// What a run printed and how it ended.
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    stdout: String,
    /// Without the `--stats` lines, which are compared separately.
    stderr: String,
    code: i32,
    fuel: Option<u64>,
}

/// Lines `--stats` adds to stderr: everything after the program's own output.
fn split_stats(stderr: &str) -> (String, Vec<String>) {
    match stderr.find("fuel used:") {
        Some(at) if at == 0 || stderr[..at].ends_with('\n') => {
            (stderr[..at].to_string(), stderr[at..].lines().map(String::from).collect())
        }
        _ => (stderr.to_string(), Vec::new()),
    }
}

#[derive(Default, Debug)]
struct Expect {
    stdout: Vec<String>,
    stderr: Vec<String>,
    exit: i32,
    args: Vec<String>,
    flags: Vec<String>,
    fuel: Option<u64>,
}

fn parse_header(text: &str) -> Expect {
    let mut e = Expect::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("//") else {
            continue;
        };
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        if let Some(v) = rest.strip_prefix("stdout:") {
            e.stdout.push(v.strip_prefix(' ').unwrap_or(v).to_string());
        } else if let Some(v) = rest.strip_prefix("stderr:") {
            e.stderr.push(v.strip_prefix(' ').unwrap_or(v).to_string());
        } else if let Some(v) = rest.strip_prefix("exit:") {
            e.exit = v.trim().parse().expect("exit status");
        } else if let Some(v) = rest.strip_prefix("args:") {
            e.args = v.split_whitespace().map(String::from).collect();
        } else if let Some(v) = rest.strip_prefix("flags:") {
            e.flags = v.split_whitespace().map(String::from).collect();
        } else if let Some(v) = rest.strip_prefix("fuel:") {
            e.fuel = Some(v.trim().parse().expect("fuel"));
        }
    }
    e
}

fn programs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("tests/programs").flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            programs(&p, out);
        } else if p.extension().is_some_and(|e| e == "kiln") {
            // A module some program beside it imports is not a program of its own.
            let module = std::fs::read_to_string(&p).is_ok_and(|t| t.starts_with("// module"));
            if !module {
                out.push(p);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Source,
    Bytecode,
    GcStress,
}

/// `vmrun` flags as the `KILN_*` variables an ahead-of-time executable reads:
/// `--max-heap 1M` is `KILN_MAX_HEAP=1M`, a flag without a value is a switch set to 1.
fn flags_as_env(flags: &[String]) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        let name = format!("KILN_{}", flags[i].trim_start_matches('-').replace('-', "_").to_uppercase());
        match flags.get(i + 1).filter(|v| !v.starts_with("--")) {
            Some(value) => {
                env.push((name, value.clone()));
                i += 2;
            }
            None => {
                env.push((name, "1".to_string()));
                i += 1;
            }
        }
    }
    env
}

/// An executable of `path` compiled ahead of time from its written bytecode, built once
/// per program and shared by its runs.
type AotExe = std::sync::Arc<std::sync::OnceLock<Result<(TempDir, PathBuf), String>>>;

fn build_aot(path: &Path) -> Result<(TempDir, PathBuf), String> {
    let tmp = TempDir(tempdir(path, &["aot"]));
    let (bc, exe) = (tmp.0.join("app.bc"), tmp.0.join("app"));
    for args in [
        &["build".as_ref(), path.as_os_str(), "-o".as_ref(), bc.as_os_str()][..],
        &["aot".as_ref(), bc.as_os_str(), "-o".as_ref(), exe.as_os_str()],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_vmc")).args(args).output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "vmc {:?} failed:\n{}\n(the test build's runtime library: cargo build --profile test -p kiln-aot-rt)",
                args[0],
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok((tmp, exe))
}

/// Runs `path` compiled ahead of time, plain or under GC stress.
fn run_aot(path: &Path, expect: &Expect, mode: Mode, exe: &AotExe) -> Result<(Outcome, Vec<String>), Failed> {
    let (_, exe) = exe.get_or_init(|| build_aot(path)).as_ref().map_err(|e| Failed::from(e.as_str()))?;
    let mut cmd = Command::new(exe);
    cmd.current_dir(path.parent().expect("parent")).envs(flags_as_env(&expect.flags)).env("KILN_STATS", "1");
    if let Mode::GcStress = mode {
        cmd.env("KILN_GC_STRESS", "1");
    }
    let out = cmd.args(&expect.args).output()?;
    Ok(outcome_of(&out))
}

/// A run's outcome, and its `--stats` lines.
fn outcome_of(out: &std::process::Output) -> (Outcome, Vec<String>) {
    let (stderr, stats) = split_stats(&String::from_utf8_lossy(&out.stderr));
    let fuel = stats.iter().find_map(|l| l.strip_prefix("fuel used:").and_then(|v| v.trim().parse().ok()));
    let outcome = Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        code: out.status.code().unwrap_or(-1),
        fuel,
    };
    (outcome, stats)
}

/// Runs `path` in one tier and mode.
fn run_once(
    path: &Path,
    expect: &Expect,
    tier_flags: &[&str],
    mode: Mode,
) -> Result<(Outcome, Vec<String>), Failed> {
    let dir = path.parent().expect("parent");
    let file = path.file_name().expect("file name");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vmrun"));
    cmd.current_dir(dir).args(tier_flags).args(&expect.flags).arg("--stats");
    let _tmp;
    match mode {
        Mode::Source => {
            cmd.arg(file);
        }
        Mode::GcStress => {
            cmd.arg("--gc-stress").arg(file);
        }
        Mode::Bytecode => {
            let tmp = tempdir(path, tier_flags);
            let bc = tmp.join("app.bc");
            let out =
                Command::new(env!("CARGO_BIN_EXE_vmc")).arg("build").arg(path).arg("-o").arg(&bc).output()?;
            if !out.status.success() {
                return Err(format!("vmc build failed:\n{}", String::from_utf8_lossy(&out.stderr)).into());
            }
            cmd.arg(&bc);
            _tmp = TempDir(tmp);
        }
    }
    cmd.args(&expect.args);
    Ok(outcome_of(&cmd.output()?))
}

/// Checks a run against the program's header.
fn check_expected(got: &Outcome, expect: &Expect) -> Vec<String> {
    let want_stdout: String = expect.stdout.iter().map(|l| format!("{l}\n")).collect();
    let mut problems = Vec::new();
    if got.stdout != want_stdout {
        problems.push(format!("stdout differs\n--- expected\n{want_stdout}--- got\n{}", got.stdout));
    }
    if got.code != expect.exit {
        problems.push(format!("exit status {}, expected {}", got.code, expect.exit));
    }
    let mut lines = got.stderr.lines();
    for want in &expect.stderr {
        if !lines.any(|l| l == want) {
            problems.push(format!("stderr lacks line (in order): {want:?}"));
            break;
        }
    }
    if let Some(fuel) = expect.fuel {
        if got.fuel != Some(fuel) {
            problems.push(format!("fuel used {:?}, expected {fuel}", got.fuel));
        }
    }
    problems
}

/// The interpreter's outcome for a program and mode, computed once and shared by the
/// compiled tiers' trials.
type Reference = std::sync::Arc<std::sync::OnceLock<Result<Outcome, String>>>;

fn run(
    path: &Path,
    expect: &Expect,
    tier: (&str, &[&str]),
    mode: Mode,
    reference: &Reference,
    aot: Option<&AotExe>,
) -> Result<(), Failed> {
    let (got, stats) = match aot {
        Some(exe) => run_aot(path, expect, mode, exe)?,
        None => run_once(path, expect, tier.1, mode)?,
    };
    let mut problems = check_expected(&got, expect);
    if tier.0 != "interp" {
        let interp = reference.get_or_init(|| {
            run_once(path, expect, TIERS[0].1, mode).map(|(o, _)| o).map_err(|e| format!("{e:?}"))
        });
        match interp {
            Ok(want) if *want != got => problems.push(format!(
                "differs from the interpreter\n--- interpreter\n{want:?}\n--- {}\n{got:?}",
                tier.0
            )),
            Ok(_) => {}
            Err(e) => problems.push(format!("interpreter run failed: {e}")),
        }
        if let Some(line) = stats.iter().find(|l| l.starts_with("jit fallback:")) {
            problems.push(format!("a function was not compiled: {line}"));
        }
    }
    if got.fuel.is_none() {
        problems.push("no `fuel used` line in the --stats output".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n--- stderr\n{}", problems.join("\n"), got.stderr).into())
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(path: &Path, tier_flags: &[&str]) -> PathBuf {
    // Unique per call: a tier's trial and the interpreter reference it runs may build
    // the same program at once.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let unique = format!(
        "kiln-test-{}-{}-{}-{}",
        std::process::id(),
        path.to_string_lossy().replace(['/', '\\', '.'], "_"),
        tier_flags.join("_").replace('-', ""),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let dir = std::env::temp_dir().join(unique);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
    let mut paths = Vec::new();
    programs(&root, &mut paths);
    let mut trials = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("read program");
        let expect = std::sync::Arc::new(parse_header(&text));
        let name = path.strip_prefix(&root).expect("under root").with_extension("");
        let name = name.to_string_lossy().replace('/', "::");
        let modes = [("source", Mode::Source), ("bytecode", Mode::Bytecode), ("gc_stress", Mode::GcStress)];
        let aot_exe = AotExe::default();
        for (mode_name, mode) in modes {
            let reference = Reference::default();
            for &tier in TIERS {
                let (path, expect, reference) = (path.clone(), expect.clone(), reference.clone());
                trials.push(Trial::test(format!("{name}::{}::{mode_name}", tier.0), move || {
                    run(&path, &expect, tier, mode, &reference, None)
                }));
            }
            if let Mode::Bytecode | Mode::GcStress = mode {
                let (path, expect, reference, exe) =
                    (path.clone(), expect.clone(), reference.clone(), aot_exe.clone());
                trials.push(Trial::test(format!("{name}::aot::{mode_name}"), move || {
                    run(&path, &expect, ("aot", &[]), mode, &reference, Some(&exe))
                }));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
