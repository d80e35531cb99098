//! Every example in spec/stdlib.md is a complete program: each runs through `vmrun`
//! and must print exactly its `// stdout:` lines.

use std::process::Command;

#[test]
fn stdlib_examples_print_what_the_spec_says() {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/stdlib.md")).expect("spec");
    let dir = std::env::temp_dir().join(format!("kiln-stdlib-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut examples = 0;
    for (i, block) in spec.split("```kiln\n").skip(1).enumerate() {
        let code = &block[..block.find("```").expect("closing fence")];
        let want: Vec<&str> = code.lines().filter_map(|l| l.strip_prefix("// stdout: ")).collect();
        assert!(!want.is_empty(), "example {i} states no output:\n{code}");
        let path = dir.join(format!("example{i}.kiln"));
        std::fs::write(&path, code).expect("write");
        // `// vmrun: FLAGS` lines: flags for vmrun, which runs in the example's folder.
        let flags: Vec<&str> = code
            .lines()
            .filter_map(|l| l.strip_prefix("// vmrun: "))
            .flat_map(str::split_whitespace)
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_vmrun"))
            .args(&flags)
            .arg(&path)
            .current_dir(&dir)
            .output()
            .expect("vmrun");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let got: Vec<&str> = stdout.lines().collect();
        assert!(
            out.status.success(),
            "example {i} failed:\n{code}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(got, want, "example {i}:\n{code}");
        examples += 1;
    }
    assert!(examples >= 15, "only {examples} examples found");
    let _ = std::fs::remove_dir_all(&dir);
}
