//! Mutated source programs: the compiler reports diagnostics or produces a module that
//! verifies; it never panics (a panic would surface as "internal compiler error").

use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn sources() -> &'static Vec<String> {
    static SOURCES: OnceLock<Vec<String>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
        let mut out = Vec::new();
        for dir in std::fs::read_dir(&root).expect("corpus").flatten() {
            for f in std::fs::read_dir(dir.path()).expect("category").flatten() {
                if f.path().extension().is_some_and(|e| e == "kiln") {
                    out.push(std::fs::read_to_string(f.path()).expect("source"));
                }
            }
        }
        out.sort();
        out
    })
}

/// Fragments that are likely to build odd but parseable programs.
const SNIPPETS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    ".",
    "..",
    "=",
    "+=",
    "-",
    "!",
    "&&",
    "||",
    "as",
    "int",
    "float",
    "str",
    "bool",
    "[int]",
    "self",
    "fn",
    "let",
    "var",
    "if",
    "else",
    "while",
    "for",
    "in",
    "break",
    "return",
    "struct",
    "impl",
    "\"{x}\"",
    "\"",
    "0",
    "-9223372036854775808",
    "1e309",
    "x",
    "main",
    "println",
    "true",
    "Point",
    "a[0]",
    "p.x",
    "f(",
    "0..",
    "/*",
    "*/",
    "//",
    "\\u{",
    "{{",
    "}}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_sources_never_crash_the_compiler(
        which in any::<usize>(),
        edits in prop::collection::vec((any::<usize>(), 0usize..3, 0..SNIPPETS.len()), 1..6),
    ) {
        let sources = sources();
        let mut text = sources[which % sources.len()].clone();
        for (at, kind, snippet) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match kind {
                0 => text.insert_str(at, SNIPPETS[snippet]),
                1 => {
                    let mut end = (at + 1 + snippet % 7).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                }
                _ => {
                    let mut end = (at + 1).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, SNIPPETS[snippet]);
                }
            }
        }
        match kiln_compiler::compile_source("fuzz.kiln", &text) {
            Ok(module) => {
                prop_assert!(kiln_bytecode::verify(&module).is_ok(), "compiled module fails verification:\n{text}");
            }
            Err(diags) => {
                let shown = diags.to_string();
                prop_assert!(!shown.contains("internal compiler error"), "compiler panicked on:\n{text}");
            }
        }
    }
}
