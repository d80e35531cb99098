//! `vmc`: compile Kiln source to bytecode, check it, or list bytecode.

use clap::{Parser, Subcommand};
use kiln::cli::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "vmc", version, about = "The Kiln compiler")]
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
                        eprintln!("error: cannot write {}: {e}", out.display());
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

fn compile(input: &Path) -> Result<kiln_bytecode::Module, ExitCode> {
    kiln_compiler::compile_path(input).map_err(|e| {
        eprintln!("{e}");
        match e {
            kiln_compiler::CompileError::Io(_) => ExitCode::from(EXIT_NO_INPUT),
            kiln_compiler::CompileError::Diagnostics(_) => ExitCode::from(EXIT_COMPILE),
        }
    })
}

fn disasm(input: &Path) -> ExitCode {
    let module = if input.extension().is_some_and(|e| e == "kiln") {
        match compile(input) {
            Ok(m) => m,
            Err(code) => return code,
        }
    } else {
        let bytes = match std::fs::read(input) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", input.display());
                return ExitCode::from(EXIT_NO_INPUT);
            }
        };
        let module = match kiln_bytecode::decode(&bytes) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: invalid bytecode: {e}");
                return ExitCode::from(EXIT_BAD_BYTECODE);
            }
        };
        if let Err(e) = kiln_bytecode::verify(&module) {
            eprintln!("error: invalid bytecode: {e}");
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
    print!("{}", kiln_bytecode::disasm::disassemble(&module, Some(&lookup)));
    ExitCode::SUCCESS
}
