//! The self-checking programs under benches/programs/ run at small sizes; each panics
//! (exit 70) when its result is wrong, and the first lines are compared here too.

use std::process::Command;

fn run(program: &str, arg: &str) -> String {
    let path = format!("{}/benches/programs/{program}.kiln", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_vmrun")).args([&path, arg]).output().expect("vmrun");
    assert!(out.status.success(), "{program} {arg} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn binary_trees_checks_its_counts() {
    let out = run("binary_trees", "6");
    assert!(out.starts_with("stretch tree of depth 7\t check: 255\n"), "{out}");
    assert!(out.ends_with("long lived tree of depth 6\t check: 127\n"), "{out}");
}

#[test]
fn fannkuch_redux_matches_the_published_result() {
    assert_eq!(run("fannkuch_redux", "7"), "228\nPfannkuchen(7) = 16\n");
}

#[test]
fn spectral_norm_matches_the_published_result() {
    assert_eq!(run("spectral_norm", "100"), "1.274219991\n");
}

#[test]
fn k_nucleotide_counts_agree_with_a_scan() {
    let out = run("k_nucleotide", "2000");
    let lines: Vec<&str> = out.lines().collect();
    // Four 1-mers, a blank line, sixteen 2-mers, a blank line, five sequences.
    assert_eq!(lines.len(), 4 + 1 + 16 + 1 + 5, "{out}");
    assert!(lines[26].ends_with("\tGGTATTTTAATTTATAGT"), "{out}");
}
