//! The Are-We-Fast-Yet ports under benches/awfy/ each run through the harness at a
//! small size, and their own result check (`verify`) must pass.

use std::process::Command;

#[test]
fn awfy_ports_run_and_verify() {
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/awfy/harness.kiln");
    // Mandelbrot's inner count is its image size, which it verifies only at 1, 500, 750.
    let runs = [
        ("Sieve", "3"),
        ("Towers", "3"),
        ("Queens", "3"),
        ("Permute", "3"),
        ("List", "3"),
        ("Bounce", "3"),
        ("Storage", "3"),
        ("Mandelbrot", "1"),
        ("NBody", "1"),
        ("Richards", "1"),
        ("DeltaBlue", "20"),
        ("Json", "1"),
        ("Havlak", "1"),
        ("CD", "2"),
    ];
    for (name, inner) in runs {
        let out = Command::new(env!("CARGO_BIN_EXE_vmrun"))
            .args([harness, name, "2", inner])
            .output()
            .expect("vmrun");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let runs =
            stdout.lines().filter(|l| l.starts_with(&format!("{name}: iterations=1 runtime: "))).count();
        assert_eq!(runs, 2, "{name}: one line per outer iteration expected:\n{stdout}");
        assert!(stdout.contains(&format!("{name}: iterations=2 average: ")), "{stdout}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_vmrun")).args([harness, "Nope"]).output().expect("vmrun");
    assert_eq!(bad.status.code(), Some(64));
}
