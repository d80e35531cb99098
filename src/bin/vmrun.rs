//! `vmrun`: run a Kiln program (`.bc`, or `.kiln` compiled in memory) in one instance.
//! A thin client of the embedding API.

use clap::{Parser, ValueEnum};
use kiln::cli::*;
use kiln_runtime::{Engine, Instance, InstanceConfig, Limits, Module, RunError};
use std::io::{BufWriter, LineWriter};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, ValueEnum)]
enum Tier {
    /// The bytecode interpreter.
    Interp,
}

#[derive(Parser)]
#[command(name = "vmrun", version, about = "Run a Kiln program")]
struct Cli {
    /// Execution tier.
    #[arg(long, value_enum, default_value = "interp")]
    tier: Tier,
    /// Heap limit, e.g. 64M (K, M, G are KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_heap: Option<usize>,
    /// Fuel limit: the run traps once it has used this much.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Collect garbage at every allocation and check the heap after each collection.
    #[arg(long)]
    gc_stress: bool,
    /// Print run statistics to stderr.
    #[arg(long)]
    stats: bool,
    /// The program: a .bc file, or a .kiln file to compile first.
    program: PathBuf,
    /// Arguments for the program.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let Tier::Interp = cli.tier;
    let engine = Engine::new();
    let module = if cli.program.extension().is_some_and(|e| e == "kiln") {
        match kiln_compiler::compile_path(&cli.program) {
            Ok(m) => Module::from_bytecode(&engine, m),
            Err(e @ kiln_compiler::CompileError::Io(_)) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_NO_INPUT);
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(EXIT_COMPILE);
            }
        }
    } else {
        match std::fs::read(&cli.program) {
            Ok(bytes) => Module::from_bytes(&engine, &bytes),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", cli.program.display());
                return ExitCode::from(EXIT_NO_INPUT);
            }
        }
    };
    let module = match module {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: invalid bytecode: {e}");
            return ExitCode::from(EXIT_BAD_BYTECODE);
        }
    };
    let defaults = Limits::default();
    let config = InstanceConfig {
        limits: Limits { max_heap: cli.max_heap.unwrap_or(defaults.max_heap), fuel: cli.fuel, ..defaults },
        gc_stress: cli.gc_stress,
        args: cli.args,
        stdout: Box::new(BufWriter::with_capacity(1 << 16, std::io::stdout())),
        stderr: Box::new(LineWriter::new(std::io::stderr())),
    };
    let mut instance = match Instance::new(&module, config) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_TRAP);
        }
    };
    let result = instance.run();
    if cli.stats {
        print_stats(&instance.stats());
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Exit(code)) => ExitCode::from(code as u8),
        Err(e) => {
            eprint!("{e}");
            ExitCode::from(EXIT_TRAP)
        }
    }
}

fn print_stats(s: &kiln_runtime::Stats) {
    eprintln!("fuel used:        {}", s.fuel_used);
    eprintln!("allocations:      {}", s.heap.allocations);
    eprintln!("bytes allocated:  {}", s.heap.bytes_allocated);
    eprintln!("peak heap:        {}", s.heap.peak_bytes);
    eprintln!("gc cycles:        {}", s.heap.gc_cycles);
    eprintln!("gc pause total:   {:.3} ms", s.heap.gc_time.as_secs_f64() * 1e3);
    eprintln!("bytes written:    {}", s.bytes_written);
    eprintln!("wall time:        {:.3} ms", s.wall_time.as_secs_f64() * 1e3);
    match s.cpu_time {
        Some(cpu) => eprintln!("cpu time:         {:.3} ms", cpu.as_secs_f64() * 1e3),
        None => eprintln!("cpu time:         unavailable"),
    }
}
