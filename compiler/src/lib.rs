//! The Kiln compiler: source text to a bytecode [`Module`](kiln_bytecode::Module).
//!
//! Phases, each a module: [`syntax`] (lex, parse) → [`sema`] (declarations, types,
//! constants) → [`check`] (type-check bodies into the typed IR, [`tir`]) → [`mono`]
//! (one copy of each generic function per type arguments) → `lower` (typed IR to
//! register bytecode, then the runtime's own verifier). Errors are collected
//! in [`diag`]. The output is deterministic: the same sources give the same bytes.
#![forbid(unsafe_code)]

pub mod check;
pub mod diag;
mod lower;
mod modules;
pub mod mono;
pub mod sema;
mod stdlib;
pub mod syntax;
pub mod tir;

use diag::{Diagnostics, SourceFile};
use std::path::Path;

/// Stack size for the compiler's thread: deep (but within the nesting limits) input
/// recurses a few hundred levels in the parser and the lowering.
const COMPILER_STACK: usize = 256 << 20;

/// A compiled program and the warnings its compilation gave.
#[derive(Debug)]
pub struct Compiled {
    /// The bytecode.
    pub module: kiln_bytecode::Module,
    /// Warnings (no errors), with the files they point into.
    pub warnings: Diagnostics,
}

/// Compiles one source text named `name` (as recorded in traces).
///
/// # Errors
/// Every diagnostic found, when the program is not valid.
pub fn compile_source(name: &str, text: &str) -> Result<kiln_bytecode::Module, Diagnostics> {
    compile_source_with_warnings(name, text).map(|c| c.module)
}

/// Like [`compile_source`], keeping the warnings.
///
/// # Errors
/// Every diagnostic found, when the program is not valid.
pub fn compile_source_with_warnings(name: &str, text: &str) -> Result<Compiled, Diagnostics> {
    compile_in(name, text, None)
}

/// Compiles `text` named `name`, whose imports are looked for in `dir` (if any) before
/// the standard library.
fn compile_in(name: &str, text: &str, dir: Option<std::path::PathBuf>) -> Result<Compiled, Diagnostics> {
    let files = vec![SourceFile::new(name, text)];
    let name = name.to_string();
    let run = move || compile_files(files, dir);
    // Run on a thread with a large stack, so pathological nesting gives a diagnostic
    // rather than overflowing the caller's stack.
    match std::thread::Builder::new().stack_size(COMPILER_STACK).spawn(run) {
        Ok(handle) => handle.join().unwrap_or_else(|_| {
            Err(Diagnostics {
                files: vec![SourceFile::new(name, "")],
                errors: vec![diag::Diagnostic {
                    message: "internal compiler error".into(),
                    span: Default::default(),
                    note: None,
                }],
                warnings: Vec::new(),
            })
        }),
        // No thread available: compile here, with the caller's stack.
        Err(_) => compile_files(vec![SourceFile::new(name, text.to_string())], None),
    }
}

/// Reads and compiles the file at `path`. File names in the bytecode are relative to the
/// entry file's folder, so output does not depend on where the compiler runs.
///
/// # Errors
/// An I/O error message, or the diagnostics.
pub fn compile_path(path: &Path) -> Result<kiln_bytecode::Module, CompileError> {
    compile_path_with_warnings(path).map(|c| c.module)
}

/// Like [`compile_path`], keeping the warnings.
///
/// # Errors
/// An I/O error message, or the diagnostics.
pub fn compile_path_with_warnings(path: &Path) -> Result<Compiled, CompileError> {
    let name =
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "main.kiln".into());
    let text = read_source(path, &name)?;
    let dir = path.parent().map(Path::to_path_buf);
    compile_in(&name, &text, dir).map_err(CompileError::Diagnostics)
}

/// Largest source file the compiler reads, in bytes.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// Reads a source file: at most [`MAX_SOURCE_BYTES`], and UTF-8.
pub(crate) fn read_source(path: &Path, name: &str) -> Result<String, CompileError> {
    use std::io::Read;
    let io = |e: std::io::Error| CompileError::Io(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(CompileError::Invalid(format!(
            "{name} is larger than the source size limit of {MAX_SOURCE_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        CompileError::Invalid(format!(
            "{name} is not valid UTF-8: invalid byte at offset {}",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Why compiling a file failed.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The file could not be read.
    #[error("error: {0}")]
    Io(String),
    /// The file was read but is not a source file the compiler accepts (too large, not
    /// UTF-8).
    #[error("error: {0}")]
    Invalid(String),
    /// The program has errors.
    #[error("{0}")]
    Diagnostics(Diagnostics),
}

/// Declarations every program sees (`Option`, `Result`, the Kiln side of built-in
/// methods), compiled with it.
const PRELUDE: &str = include_str!("prelude.kiln");

fn compile_files(
    mut files: Vec<SourceFile>,
    dir: Option<std::path::PathBuf>,
) -> Result<Compiled, Diagnostics> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut items = syntax::parser::parse(syntax::lexer::lex(&files[0].text, 0, &mut errors), &mut errors);
    // Imported modules follow the entry file, each once, their items named `module.item`.
    let entry = files[0].name.trim_end_matches(".kiln").to_string();
    let mut loader = modules::Loader::new(dir, entry);
    let mut module_items = Vec::new();
    loader.load_imports(&items, &mut files, &mut module_items, &mut errors);
    items.extend(module_items);
    // The prelude is the last file (the entry file stays file 0), and its items come
    // first, so a program's own declaration is the one a clash reports.
    files.push(SourceFile::new("<prelude>", PRELUDE));
    let prelude_file = files.len() as u32 - 1;
    let prelude = syntax::parser::parse(syntax::lexer::lex(PRELUDE, prelude_file, &mut errors), &mut errors);
    let n_prelude = prelude.len();
    items.splice(0..0, prelude);
    let module_map = loader.into_map(files.len());
    // Even after syntax errors, check what parsed, to report type errors too; but never
    // emit.
    let parsed = errors.is_empty();
    let decls = sema::items::Items::collect(&items, n_prelude, module_map, &mut errors);
    let program = check::check_program(&items, &decls, &mut errors, &mut warnings);
    let module = match program {
        Some(mut program) if parsed => mono::monomorphize(&decls, &mut program, &mut errors)
            .and_then(|mono| lower::lower_program(&files, &decls, &program, &mono, &mut errors)),
        _ => None,
    };
    // Dropping a deeply nested tree recurses; do it here, on the big stack.
    drop(items);
    match module {
        Some(module) if errors.is_empty() => {
            Ok(Compiled { module, warnings: Diagnostics { files, errors, warnings } })
        }
        _ => Err(Diagnostics { files, errors, warnings }),
    }
}
