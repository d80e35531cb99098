//! `import name;`: finding and loading modules. A module is `name.kiln` beside the
//! entry file (or, later, in the standard library); it is loaded once however many files
//! import it, and its top-level items are renamed `name.item`, which is how other files
//! refer to them (inside the module, its own items keep their short names).

use crate::diag::{Diagnostic, SourceFile};
use crate::syntax::ast::Item;
use crate::syntax::span::Span;
use std::collections::HashMap;
use std::path::PathBuf;

/// Which module each file is: the prefix its items' names got.
#[derive(Debug, Default, Clone)]
pub struct ModuleMap {
    /// By file index: `""` for the entry file and the prelude, `"name."` for a module.
    pub prefixes: Vec<String>,
    /// Every loaded module's name.
    pub names: Vec<String>,
}

/// Loads modules for one compilation.
pub struct Loader {
    dir: Option<PathBuf>,
    /// Module name to file index.
    loaded: HashMap<String, usize>,
    /// The import chain being loaded (for cycles), the entry file first, with where
    /// each module was imported.
    chain: Vec<(String, Span)>,
    prefixes: Vec<String>,
}

impl Loader {
    /// A loader for an entry file named `entry` (without `.kiln`) in `dir`.
    pub fn new(dir: Option<PathBuf>, entry: String) -> Loader {
        Loader {
            dir,
            loaded: HashMap::new(),
            chain: vec![(entry, Span::default())],
            prefixes: vec![String::new()],
        }
    }

    /// Loads what `items` (of the file last added) import, and what those import.
    pub fn load_imports(
        &mut self,
        items: &[Item],
        files: &mut Vec<SourceFile>,
        out: &mut Vec<Item>,
        errors: &mut Vec<Diagnostic>,
    ) {
        for item in items {
            let Item::Import(name) = item else { continue };
            if let Some(pos) = self.chain.iter().position(|(m, _)| *m == name.name) {
                let mut cycle: Vec<&str> = self.chain[pos..].iter().map(|(m, _)| m.as_str()).collect();
                cycle.push(&name.name);
                // Reported at the import that starts the cycle.
                let at = self.chain.get(pos + 1).map_or(name.span, |(_, s)| *s);
                error(errors, at, format!("import cycle: {}", cycle.join(" -> ")));
                continue;
            }
            if self.loaded.contains_key(&name.name) {
                continue;
            }
            let Some(text) = self.find(&name.name, name.span, errors) else { continue };
            let file = files.len();
            files.push(SourceFile::new(format!("{}.kiln", name.name), text));
            self.prefixes.push(format!("{}.", name.name));
            self.loaded.insert(name.name.clone(), file);
            let mut module = crate::syntax::parser::parse(
                crate::syntax::lexer::lex(&files[file].text, file as u32, errors),
                errors,
            );
            prefix_items(&mut module, &name.name);
            self.chain.push((name.name.clone(), name.span));
            self.load_imports(&module, files, out, errors);
            self.chain.pop();
            out.extend(module);
        }
    }

    /// The text of module `name`.
    fn find(&self, name: &str, span: Span, errors: &mut Vec<Diagnostic>) -> Option<String> {
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{name}.kiln"));
            if path.is_file() {
                return match crate::read_source(&path, &format!("{name}.kiln")) {
                    Ok(text) => Some(text),
                    Err(e) => {
                        error(errors, span, e.to_string().trim_start_matches("error: ").to_string());
                        None
                    }
                };
            }
        }
        if let Some(text) = crate::stdlib::module(name) {
            return Some(text.to_string());
        }
        let beside = if self.dir.is_some() {
            format!("no `{name}.kiln` beside the program, and ")
        } else {
            String::new()
        };
        error(
            errors,
            span,
            format!("cannot find module `{name}` ({beside}no such module in the standard library)"),
        );
        None
    }

    /// The prefixes of all `n_files` files (the prelude, last, has none).
    pub fn into_map(mut self, n_files: usize) -> ModuleMap {
        self.prefixes.resize(n_files, String::new());
        let mut names: Vec<String> = self.loaded.into_keys().collect();
        names.sort();
        ModuleMap { prefixes: self.prefixes, names }
    }
}

/// Renames a module's top-level declarations `module.name`.
fn prefix_items(items: &mut [Item], module: &str) {
    for item in items {
        let name = match item {
            Item::Fn(f) => &mut f.name,
            Item::Struct(s) => &mut s.name,
            Item::Enum(e) => &mut e.name,
            Item::Interface(i) => &mut i.name,
            Item::Global(g) => &mut g.name,
            Item::Impl(_) | Item::Import(_) => continue,
        };
        name.name = format!("{module}.{}", name.name);
    }
}

fn error(errors: &mut Vec<Diagnostic>, span: Span, message: String) {
    errors.push(Diagnostic { message, span, note: None });
}
