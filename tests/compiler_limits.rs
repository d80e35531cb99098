//! The compiler never emits a module the runtime rejects: every limit of the format and
//! the verifier is either lifted far past what programs need or reported as a
//! diagnostic that says what to change. Sizes here are the hostile ones from the
//! "sandbox holds" issue.

use kiln_runtime::{Engine, Instance, InstanceConfig, Module, SharedBuffer};

/// Compiles `src`; on success, loads and runs it and returns its stdout.
fn build_and_run(src: &str) -> Result<String, String> {
    let bc = kiln_compiler::compile_source("big.kiln", src).map_err(|d| d.to_string())?;
    let module = Module::from_bytes(&Engine::new(), &kiln_bytecode::encode(&bc))
        .unwrap_or_else(|e| panic!("the compiler emitted a module the runtime rejects: {e}"));
    let out = SharedBuffer::default();
    let mut inst =
        Instance::new(&module, InstanceConfig { stdout: Box::new(out.clone()), ..InstanceConfig::default() })
            .expect("instance");
    inst.run().map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out.contents()).expect("utf-8"))
}

fn rejected_with(src: &str, message: &str) {
    match kiln_compiler::compile_source("big.kiln", src) {
        Ok(_) => panic!("compiled; expected a diagnostic containing {message:?}"),
        Err(d) => assert!(d.to_string().contains(message), "{d}"),
    }
}

#[test]
fn sixty_six_thousand_functions_and_structs_compile_and_run() {
    let mut src: String = (0..66_000).map(|i| format!("fn f{i}() -> int {{ {i} }}\n")).collect();
    src += &(0..66_000).map(|i| format!("struct S{i} {{ v: int }}\n")).collect::<String>();
    src += "fn main() { let s = S65999 { v: f65999() }; println(s.v); }\n";
    assert_eq!(build_and_run(&src).unwrap(), "65999\n");
}

#[test]
fn forty_thousand_globals_compile_and_run() {
    let mut src: String = (0..40_000).map(|i| format!("var g{i}: int = {i} + 1;\n")).collect();
    src += "fn main() { println(g0 + g39999); }\n";
    assert_eq!(build_and_run(&src).unwrap(), "40001\n");
}

#[test]
fn too_many_fields_is_a_diagnostic() {
    let fields: Vec<String> = (0..66_000).map(|i| format!("f{i}: int")).collect();
    let src = format!("struct Big {{ {} }}\nfn main() {{ println(1); }}\n", fields.join(", "));
    rejected_with(&src, "struct `Big` has 66000 field slots, limit 65535");
}

#[test]
fn structs_nested_too_deeply_is_a_diagnostic() {
    let mut src = String::from("struct L0 { v: int }\n");
    src += &(1..300).map(|i| format!("struct L{i} {{ a: L{}, b: L{} }}\n", i - 1, i - 1)).collect::<String>();
    src += "fn main() { println(1); }\n";
    rejected_with(&src, "struct `L256` nests structs inside structs more than 256 deep");
}

#[test]
fn a_chain_of_five_thousand_operators_compiles() {
    let chain = vec!["x"; 5_000].join(" + ");
    let ands = vec!["t"; 5_000].join(" && ");
    let src = format!("fn main() {{ let x = 1; let t = true; println({chain}); println({ands}); }}\n");
    assert_eq!(build_and_run(&src).unwrap(), "5000\ntrue\n");
}

#[test]
fn a_huge_array_literal_compiles_in_linear_time_or_says_split() {
    // 30 000 elements fit in one function; 400 000 do not, and say so (quickly).
    let items: Vec<String> = (0..30_000).map(|i| (i % 100).to_string()).collect();
    let src =
        format!("fn main() {{ let a = [{}]; println(a.len()); println(a[29999]); }}\n", items.join(", "));
    assert_eq!(build_and_run(&src).unwrap(), "30000\n99\n");
    let items: Vec<String> = (0..400_000).map(|i| (i % 100).to_string()).collect();
    let src = format!("fn main() {{ let a = [{}]; println(a.len()); }}\n", items.join(", "));
    rejected_with(&src, "function `main` is too large");
}

#[test]
fn a_diagnostic_past_column_65535_is_shown_not_a_panic() {
    let src = format!("fn main() {{ let x = 1;{}let y: str = 5; }}\n", " ".repeat(70_000));
    rejected_with(&src, "big.kiln:1:70036");
}

#[test]
fn a_long_function_with_thousands_of_live_variables_compiles() {
    // Thousands of blocks and thousands of variables live across them: the verifier's
    // definite-assignment state stays small for compiled code (hostile modules that
    // defeat it are in tests/regressions/).
    let mut body = String::new();
    for i in 0..6_000 {
        body += &format!("    var v{i} = {i};\n");
    }
    for i in 0..6_000 {
        body += &format!("    if v{i} > 5 {{ v{} += 1; }}\n", (i * 7) % 6_000);
    }
    body += "    println(v0 + v5999);\n";
    assert_eq!(build_and_run(&format!("fn main() {{\n{body}}}\n")).unwrap(), "6000\n");
}
