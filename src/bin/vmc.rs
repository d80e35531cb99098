//! `vmc`: compile Kiln source to bytecode, check it, or list bytecode.

use clap::{Parser, Subcommand};
use kiln::cli::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "vmc", version, about = "The Kiln compiler", after_help = EXIT_STATUS_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a .kiln file to portable bytecode.
    Build {
        /// The entry source file.
        input: PathBuf,
        /// Output path (default: the input with a .bc extension).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Check a .kiln file for errors without writing anything.
    Check {
        /// The entry source file.
        input: PathBuf,
    },
    /// Print a readable listing of a .bc file (or of a .kiln file, compiled first).
    Disasm {
        /// A .bc or .kiln file.
        input: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match cli.command {
        Command::Build { input, output } => match compile(&input) {
            Ok(module) => {
                let out = output.unwrap_or_else(|| input.with_extension("bc"));
                match std::fs::write(&out, kiln_bytecode::encode(&module)) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        report(format!("error: cannot write {}: {e}", out.display()));
                        ExitCode::from(EXIT_CANT_CREATE)
                    }
                }
            }
            Err(code) => code,
        },
        Command::Check { input } => match compile(&input) {
            Ok(_) => ExitCode::SUCCESS,
            Err(code) => code,
        },
        Command::Disasm { input } => disasm(&input),
    }
}

/// Compiles `input`, printing warnings (and, on failure, errors) to stderr.
fn compile(input: &Path) -> Result<kiln_bytecode::Module, ExitCode> {
    let compiled = kiln_compiler::compile_path_with_warnings(input).map_err(|e| {
        report(e.to_string().trim_end());
        match e {
            kiln_compiler::CompileError::Io(_) => ExitCode::from(EXIT_NO_INPUT),
            _ => ExitCode::from(EXIT_COMPILE),
        }
    })?;
    let warnings = compiled.warnings.warnings_text();
    if !warnings.is_empty() {
        report(warnings.trim_end());
    }
    Ok(compiled.module)
}

fn disasm(input: &Path) -> ExitCode {
    let module = if input.extension().is_some_and(|e| e == "kiln") {
        match compile(input) {
            Ok(m) => m,
            Err(code) => return code,
        }
    } else {
        let bytes = match read_bounded(input, kiln_bytecode::limits::MAX_MODULE_BYTES) {
            Ok(Some(b)) => b,
            Ok(None) => {
                report(format!(
                    "error: invalid bytecode: {} is larger than the module size limit",
                    input.display()
                ));
                return ExitCode::from(EXIT_BAD_BYTECODE);
            }
            Err(e) => {
                report(format!("error: cannot read {}: {e}", input.display()));
                return ExitCode::from(EXIT_NO_INPUT);
            }
        };
        let module = match kiln_bytecode::decode(&bytes) {
            Ok(m) => m,
            Err(e) => {
                report(format!("error: invalid bytecode: {e}"));
                return ExitCode::from(EXIT_BAD_BYTECODE);
            }
        };
        if let Err(e) = kiln_bytecode::verify(&module) {
            report(format!("error: invalid bytecode: {e}"));
            return ExitCode::from(EXIT_BAD_BYTECODE);
        }
        module
    };
    // Source lines come from files beside the input, when they are there.
    let dir = input.parent().map(Path::to_path_buf).unwrap_or_default();
    let lookup = |file: &str, line: u32| -> Option<String> {
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        text.lines().nth(line.checked_sub(1)? as usize).map(str::to_string)
    };
    let listing = kiln_bytecode::disasm::disassemble(&module, Some(&lookup));
    let mut out = std::io::stdout().lock();
    match std::io::Write::write_all(&mut out, listing.as_bytes())
        .and_then(|()| std::io::Write::flush(&mut out))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(format!("error: cannot write the listing: {e}"));
            ExitCode::from(EXIT_IO)
        }
    }
}
