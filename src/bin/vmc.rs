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
    /// Compile a program ahead of time: to a relocatable object for a target, or to an
    /// executable for this host linked with the runtime library (libkiln_rt.a, found
    /// beside vmc or through KILN_RT). The executable runs like `vmrun app.bc`: its
    /// arguments go to the program, limits and grants come from KILN_FUEL,
    /// KILN_MAX_HEAP, KILN_MAX_STACK, KILN_TIMEOUT, KILN_MAX_OUTPUT, KILN_ALLOW_READ,
    /// KILN_ALLOW_WRITE, KILN_ALLOW_ENV, KILN_ALLOW_STDIN, KILN_STATS, KILN_STATS_JSON.
    Aot {
        /// A .bc or .kiln file.
        input: PathBuf,
        /// Output path (default: the input without its extension). An output ending in
        /// .o or .obj is an object, anything else an executable (unless --emit says).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Target triple (default: this host's).
        #[arg(long, value_name = "TRIPLE")]
        target: Option<String>,
        /// What to write: `obj` or `exe`.
        #[arg(long, value_name = "KIND", value_parser = ["obj", "exe"])]
        emit: Option<String>,
        /// How an executable links the C library: `static` (the default on Linux: the
        /// executable needs no shared library) or `dynamic`.
        #[arg(long, value_name = "HOW", value_parser = ["static", "dynamic"])]
        link: Option<String>,
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
        Command::Aot { input, output, target, emit, link } => {
            aot(&input, output, target, emit.as_deref(), link.as_deref())
        }
    }
}

fn aot(
    input: &Path,
    output: Option<PathBuf>,
    target: Option<String>,
    emit: Option<&str>,
    link: Option<&str>,
) -> ExitCode {
    use kiln::aot::{build, host_target, Emit, Link};
    let output = output.unwrap_or_else(|| input.with_extension(""));
    let link = match link {
        Some("static") => Link::Static,
        Some(_) => Link::Dynamic,
        None => Link::host_default(),
    };
    let emit = match emit {
        Some("obj") => Emit::Object,
        Some(_) => Emit::Executable(link),
        None if output.extension().is_some_and(|e| e == "o" || e == "obj") => Emit::Object,
        None => Emit::Executable(link),
    };
    if output == input {
        report(format!("error: the output {} would overwrite the input", output.display()));
        return ExitCode::from(EXIT_USAGE);
    }
    let Some(target) = target.or_else(|| host_target().map(str::to_string)) else {
        report("error: this host is not a target of vmc aot: name one with --target");
        return ExitCode::from(EXIT_USAGE);
    };
    let module = match load_verified(input) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let module = match kiln_runtime::Module::from_bytecode(&kiln_runtime::Engine::new(), module) {
        Ok(m) => m,
        Err(e) => {
            report(format!("error: invalid bytecode: {e}"));
            return ExitCode::from(EXIT_BAD_BYTECODE);
        }
    };
    match build(&module, &target, emit, &output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
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

/// A .kiln file compiled, or a .bc file read, decoded and verified.
fn load_verified(input: &Path) -> Result<kiln_bytecode::Module, ExitCode> {
    let module = if input.extension().is_some_and(|e| e == "kiln") {
        compile(input)?
    } else {
        let bytes = match read_bounded(input, kiln_bytecode::limits::MAX_MODULE_BYTES) {
            Ok(Some(b)) => b,
            Ok(None) => {
                report(format!(
                    "error: invalid bytecode: {} is larger than the module size limit",
                    input.display()
                ));
                return Err(ExitCode::from(EXIT_BAD_BYTECODE));
            }
            Err(e) => {
                report(format!("error: cannot read {}: {e}", input.display()));
                return Err(ExitCode::from(EXIT_NO_INPUT));
            }
        };
        let module = match kiln_bytecode::decode(&bytes) {
            Ok(m) => m,
            Err(e) => {
                report(format!("error: invalid bytecode: {e}"));
                return Err(ExitCode::from(EXIT_BAD_BYTECODE));
            }
        };
        if let Err(e) = kiln_bytecode::verify(&module) {
            report(format!("error: invalid bytecode: {e}"));
            return Err(ExitCode::from(EXIT_BAD_BYTECODE));
        }
        module
    };
    Ok(module)
}

fn disasm(input: &Path) -> ExitCode {
    let module = match load_verified(input) {
        Ok(m) => m,
        Err(code) => return code,
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
