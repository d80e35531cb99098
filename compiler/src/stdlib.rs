//! The standard library's Kiln modules (the repository's `stdlib/`), embedded into the
//! compiler so `import name;` finds them from any folder. spec/stdlib.md documents
//! them, with an example per function that a test runs.

/// The source of standard library module `name`, if there is one.
pub fn module(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

const MODULES: &[(&str, &str)] = &[
    ("strings", include_str!("../../stdlib/strings.kiln")),
    ("math", include_str!("../../stdlib/math.kiln")),
    ("collections", include_str!("../../stdlib/collections.kiln")),
    ("fmt", include_str!("../../stdlib/fmt.kiln")),
    ("fs", include_str!("../../stdlib/fs.kiln")),
    ("env", include_str!("../../stdlib/env.kiln")),
    ("io", include_str!("../../stdlib/io.kiln")),
];
