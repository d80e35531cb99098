//! The C API: examples/c_host/host.c, built with `cc` against the static library and the
//! shared one, runs every part of kiln.h (limits, traps, host functions, grants, calls,
//! the ledger) and prints exactly examples/c_host/expected.txt; under valgrind's memcheck
//! it leaks nothing and touches no invalid memory.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds libkiln.a and libkiln.so with the profile the tests use (a no-op when they are
/// current) and returns the folder holding them.
fn build_libraries() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "kiln-capi", "--profile", "test"])
        .current_dir(root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the C API failed");
    let exe = std::env::current_exe().expect("test path");
    // target/debug/deps/c_api-HASH -> target/debug
    exe.parent().and_then(Path::parent).expect("target folder").to_path_buf()
}

/// Runs `cmd` with two lines on its stdin.
fn run(cmd: &mut Command) -> (i32, String, String) {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(b"first line\r\nsecond line\n").expect("writes");
    let out = child.wait_with_output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn the_c_host_runs_against_both_libraries_and_is_clean_under_memcheck() {
    let lib = build_libraries();
    let work = std::env::temp_dir().join(format!("kiln-c-api-{}", std::process::id()));
    std::fs::create_dir_all(work.join("granted")).unwrap();
    std::fs::write(work.join("granted/secret.txt"), "the secret\n").unwrap();
    let bc = work.join("app.bc");
    let (code, _, err) = run(Command::new(env!("CARGO_BIN_EXE_vmc"))
        .arg("build")
        .arg(root().join("examples/c_host/app.kiln"))
        .arg("-o")
        .arg(&bc));
    assert_eq!(code, 0, "{err}");
    let source = root().join("examples/c_host/host.c");
    let include = root().join("capi/include");
    let expected = std::fs::read_to_string(root().join("examples/c_host/expected.txt")).unwrap();

    let static_host = work.join("host-static");
    let (code, _, err) = run(Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-I"])
        .arg(&include)
        .arg(&source)
        .arg(lib.join("libkiln.a"))
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&static_host));
    assert_eq!(code, 0, "cc (static): {err}");
    for tier in ["0", "1", "2"] {
        let (code, out, err) =
            run(Command::new(&static_host).arg(&bc).arg(work.join("granted")).env("KILN_HOST_TIER", tier));
        assert_eq!((code, out.as_str()), (0, expected.as_str()), "static host, tier {tier}: {err}");
        assert_eq!(std::fs::read_to_string(work.join("granted/out.txt")).unwrap(), "12345");
    }

    let shared_host = work.join("host-shared");
    let (code, _, err) = run(Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-I"])
        .arg(&include)
        .arg(&source)
        .arg(lib.join("libkiln.so"))
        .args(["-lpthread", "-o"])
        .arg(&shared_host));
    assert_eq!(code, 0, "cc (shared): {err}");
    let (code, out, err) =
        run(Command::new(&shared_host).arg(&bc).arg(work.join("granted")).env("LD_LIBRARY_PATH", &lib));
    assert_eq!((code, out.as_str()), (0, expected.as_str()), "shared host: {err}");

    // memcheck: no invalid access, no definite or indirect leak (scripts/deps.sh installs
    // valgrind; the engine's timer thread is joined, so nothing is left running).
    let (code, out, err) = run(Command::new("valgrind")
        .args(["--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect", "-q"])
        .arg(&static_host)
        .arg(&bc)
        .arg(work.join("granted")));
    assert_eq!(code, 0, "valgrind found errors (or is missing):\n{err}");
    assert_eq!(out, expected);
    let _ = std::fs::remove_dir_all(&work);
}
