//! The golden corpus: every `tests/programs/**/*.kiln` runs from source, from a written
//! `.bc` file, and under `--gc-stress`, in every execution tier, through the real `vmrun`
//! and `vmc` binaries. Each program states what it expects in header comments:
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

/// Execution tiers every program runs under.
const TIERS: &[&str] = &["interp"];

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

fn run(path: &Path, expect: &Expect, tier: &str, mode: Mode) -> Result<(), Failed> {
    let dir = path.parent().expect("parent");
    let file = path.file_name().expect("file name");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vmrun"));
    cmd.current_dir(dir).arg("--tier").arg(tier).args(&expect.flags);
    if expect.fuel.is_some() {
        cmd.arg("--stats");
    }
    let _tmp;
    match mode {
        Mode::Source => {
            cmd.arg(file);
        }
        Mode::GcStress => {
            cmd.arg("--gc-stress").arg(file);
        }
        Mode::Bytecode => {
            let tmp = tempdir(path);
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
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want_stdout: String = expect.stdout.iter().map(|l| format!("{l}\n")).collect();
    let mut problems = Vec::new();
    if stdout != want_stdout {
        problems.push(format!("stdout differs\n--- expected\n{want_stdout}--- got\n{stdout}"));
    }
    let code = out.status.code().unwrap_or(-1);
    if code != expect.exit {
        problems.push(format!("exit status {code}, expected {}", expect.exit));
    }
    let mut lines = stderr.lines();
    for want in &expect.stderr {
        if !lines.any(|l| l == want) {
            problems.push(format!("stderr lacks line (in order): {want:?}"));
            break;
        }
    }
    if let Some(fuel) = expect.fuel {
        let line = format!("fuel used:        {fuel}");
        if !stderr.lines().any(|l| l == line) {
            problems.push(format!("expected `{line}` in --stats output"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n--- stderr\n{stderr}", problems.join("\n")).into())
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(path: &Path) -> PathBuf {
    let unique =
        format!("kiln-test-{}-{}", std::process::id(), path.to_string_lossy().replace(['/', '\\', '.'], "_"));
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
        for tier in TIERS {
            let modes =
                [("source", Mode::Source), ("bytecode", Mode::Bytecode), ("gc_stress", Mode::GcStress)];
            for (mode_name, mode) in modes {
                let (path, expect) = (path.clone(), expect.clone());
                trials.push(Trial::test(format!("{name}::{tier}::{mode_name}"), move || {
                    run(&path, &expect, tier, mode)
                }));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
