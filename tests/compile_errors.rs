//! Every `tests/compile_errors/*.kiln` must fail `vmc check` with status 65 and print
//! the diagnostics its header names:
//!
//! ```text
//! // error: mismatched types: expected `int`, found `str`
//! // at: 3:18               (the `--> file:line:col` of the first error)
//! ```

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;

fn check(path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path)?;
    let mut errors = Vec::new();
    let mut at = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("// error: ") {
            errors.push(v.to_string());
        } else if let Some(v) = line.strip_prefix("// at: ") {
            at = Some(v.trim().to_string());
        }
    }
    if errors.is_empty() {
        return Err("test file names no `// error:`".into());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vmc"))
        .current_dir(path.parent().expect("parent"))
        .arg("check")
        .arg(path.file_name().expect("name"))
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status.code() != Some(65) {
        problems.push(format!("exit status {:?}, expected 65", out.status.code()));
    }
    for e in &errors {
        if !stderr.lines().any(|l| l == format!("error: {e}")) {
            problems.push(format!("missing diagnostic `error: {e}`"));
        }
    }
    if let Some(at) = at {
        let file = path.file_name().expect("name").to_string_lossy();
        let want = format!("--> {file}:{at}");
        if !stderr.lines().any(|l| l.trim_start() == want) {
            problems.push(format!("missing location `{want}`"));
        }
    }
    if !stderr.lines().any(|l| {
        l.contains(" | ") && l.trim_end().ends_with('^') || l.trim_start().starts_with('|') && l.contains('^')
    }) {
        problems.push("no source snippet with a caret".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n--- stderr\n{stderr}", problems.join("\n")).into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compile_errors");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/compile_errors")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kiln"))
        .collect();
    paths.sort();
    let trials = paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().expect("stem").to_string_lossy().into_owned();
            Trial::test(name, move || check(&p))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
