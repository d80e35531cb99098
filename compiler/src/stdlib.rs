//! The standard library's Kiln modules, embedded into the compiler so `import name;`
//! finds them from any folder.

/// The source of standard library module `name`, if there is one.
pub fn module(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

const MODULES: &[(&str, &str)] = &[];
