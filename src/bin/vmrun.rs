//! `vmrun`: run a Kiln program (`.bc`, or `.kiln` compiled in memory) in one instance.
//! A thin client of the embedding API.

use clap::{Parser, ValueEnum};
use kiln::cli::*;
use kiln_bytecode::limits::MAX_MODULE_BYTES;
use kiln_launch::run::{run, Options, Source};
use kiln_runtime::{Engine, Module};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, ValueEnum)]
enum Tier {
    /// The bytecode interpreter only.
    Interp,
    /// Compile every function with the JIT before its first call.
    Jit,
    /// Interpret first; compile functions once hot (calls plus loop back-edges past
    /// --jit-threshold), entering running loops at their header.
    Auto,
}

#[derive(Parser)]
#[command(name = "vmrun", version, about = "Run a Kiln program", after_help = EXIT_STATUS_HELP)]
struct Cli {
    /// Execution tier.
    #[arg(long, value_enum, default_value = "auto")]
    tier: Tier,
    /// Calls plus loop back-edges of a function before `--tier auto` compiles it.
    #[arg(long, value_name = "N", default_value_t = kiln_runtime::DEFAULT_JIT_THRESHOLD)]
    jit_threshold: u32,
    /// Heap limit, e.g. 64M (K, M, G are KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_heap: Option<usize>,
    /// Fuel limit: the run traps once it has used this much.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Wall-clock limit for the run, e.g. 500ms, 2s, 1m: past it the run traps.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<std::time::Duration>,
    /// Deepest call stack, in frames (default 100000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=kiln_runtime::MAX_CALL_DEPTH as u64))]
    max_stack: Option<u64>,
    /// Most bytes the program may write to stdout and stderr together, e.g. 1M (0: none).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_or_zero)]
    max_output: Option<usize>,
    /// Let the program read files in DIR and below (`fs.read_text`, `fs.list`); repeatable.
    #[arg(long, value_name = "DIR")]
    allow_read: Vec<PathBuf>,
    /// Let the program create and replace files in DIR and below (`fs.write_text`);
    /// repeatable.
    #[arg(long, value_name = "DIR")]
    allow_write: Vec<PathBuf>,
    /// Let the program see environment variable NAME (`env.get`); repeatable.
    #[arg(long, value_name = "NAME")]
    allow_env: Vec<String>,
    /// Let the program read standard input (`io.read_line`).
    #[arg(long)]
    allow_stdin: bool,
    /// Collect garbage at every allocation and check the heap after each collection.
    #[arg(long)]
    gc_stress: bool,
    /// Print run statistics to stderr when the run ends.
    #[arg(long)]
    stats: bool,
    /// Write run statistics to FILE as JSON when the run ends (schema: spec/runtime.md).
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
    /// The program (a .bc file, or a .kiln file to compile first), then its arguments.
    /// Everything after the program's path goes to the program, flags included.
    #[arg(
        value_name = "PROGRAM [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    command: Vec<OsString>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let tier = kiln_runtime::TierConfig {
        tier: match cli.tier {
            Tier::Interp => kiln_runtime::Tier::Interp,
            Tier::Jit => kiln_runtime::Tier::Jit,
            Tier::Auto => kiln_runtime::Tier::Auto,
        },
        threshold: cli.jit_threshold,
    };
    let mut command = cli.command.into_iter();
    let program = PathBuf::from(command.next().unwrap_or_default());
    let mut args = Vec::new();
    for a in command {
        match a.into_string() {
            Ok(a) => args.push(a),
            Err(a) => {
                report(format!("error: program argument {a:?} is not valid UTF-8"));
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let module = match load(&program) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let options = Options {
        source: Source::Flags,
        tier,
        max_heap: cli.max_heap,
        fuel: cli.fuel,
        timeout: cli.timeout,
        max_stack: cli.max_stack,
        max_output: cli.max_output,
        allow_read: cli.allow_read,
        allow_write: cli.allow_write,
        allow_env: cli.allow_env,
        allow_stdin: cli.allow_stdin,
        gc_stress: cli.gc_stress,
        stats: cli.stats,
        stats_json: cli.stats_json,
        args,
    };
    ExitCode::from(run(&module, options, &program.display().to_string()))
}

/// Loads the program: compiles a `.kiln` file, or reads and verifies a `.bc` file of at
/// most `MAX_MODULE_BYTES`.
fn load(program: &std::path::Path) -> Result<Module, ExitCode> {
    let engine = Engine::new();
    let module = if program.extension().is_some_and(|e| e == "kiln") {
        match kiln_compiler::compile_path(program) {
            Ok(m) => Module::from_bytecode(&engine, m),
            Err(e @ kiln_compiler::CompileError::Io(_)) => {
                report(e);
                return Err(ExitCode::from(EXIT_NO_INPUT));
            }
            Err(e) => {
                report(e.to_string().trim_end());
                return Err(ExitCode::from(EXIT_COMPILE));
            }
        }
    } else {
        match read_bounded(program, MAX_MODULE_BYTES) {
            Ok(Some(bytes)) => Module::from_bytes(&engine, &bytes),
            Ok(None) => {
                report(format!(
                    "error: invalid bytecode: {} is larger than the module size limit of {MAX_MODULE_BYTES} bytes",
                    program.display()
                ));
                return Err(ExitCode::from(EXIT_BAD_BYTECODE));
            }
            Err(e) => {
                report(format!("error: cannot read {}: {e}", program.display()));
                return Err(ExitCode::from(EXIT_NO_INPUT));
            }
        }
    };
    module.map_err(|e| {
        report(format!("error: invalid bytecode: {e}"));
        ExitCode::from(EXIT_BAD_BYTECODE)
    })
}
