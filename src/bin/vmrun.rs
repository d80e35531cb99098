//! `vmrun`: run a Kiln program (`.bc`, or `.kiln` compiled in memory) in one instance.
//! A thin client of the embedding API.

use clap::{Parser, ValueEnum};
use kiln::cli::*;
use kiln_bytecode::limits::MAX_MODULE_BYTES;
use kiln_runtime::{
    Capabilities, Engine, Instance, InstanceConfig, InstantiateError, Limits, Module, RunError, TrapKind,
};
use std::ffi::OsString;
use std::io::{BufWriter, LineWriter};
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
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1 << 22))]
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
    let caps = match capabilities(&cli.allow_read, &cli.allow_write, &cli.allow_env) {
        Ok(caps) => caps,
        Err(message) => {
            report(format!("error: {message}"));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let defaults = Limits::default();
    let config = InstanceConfig {
        limits: Limits {
            max_heap: cli.max_heap.unwrap_or(defaults.max_heap),
            fuel: cli.fuel,
            timeout: cli.timeout,
            max_call_depth: cli.max_stack.map_or(defaults.max_call_depth, |n| n as usize),
            max_output: cli.max_output.map(|n| n as u64),
            ..defaults
        },
        gc_stress: cli.gc_stress,
        args,
        stdout: Box::new(BufWriter::with_capacity(1 << 16, std::io::stdout())),
        stderr: Box::new(LineWriter::new(std::io::stderr())),
        tier,
        caps,
        stdin: cli.allow_stdin.then(|| Box::new(std::io::stdin()) as Box<dyn std::io::Read + Send>),
        ..InstanceConfig::default()
    };
    // Creating the instance runs the global initialisers: a trap there ends the run
    // like a trap in `main`.
    // `--timeout` bounds the whole program: the initialisers and `main` share it.
    let started = std::time::Instant::now();
    let (result, stats) = match Instance::new(&module, config) {
        Ok(mut instance) => {
            instance.set_deadline(cli.timeout.and_then(|t| started.checked_add(t)));
            (instance.run(), instance.stats())
        }
        Err(InstantiateError::Init { error, stats }) => (Err(error), *stats),
        Err(e @ InstantiateError::Link(_)) => {
            report(format!("error: cannot link {}: {e}", program.display()));
            return ExitCode::from(EXIT_BAD_BYTECODE);
        }
    };
    let status = match &result {
        Ok(()) => 0,
        Err(RunError::Exit(code)) => *code as u8,
        Err(RunError::Trap(t)) if matches!(t.kind, TrapKind::Io(_)) => {
            report(format!("error: {}", t.kind));
            EXIT_IO
        }
        Err(e) => {
            report(e.to_string().trim_end());
            EXIT_TRAP
        }
    };
    if cli.stats {
        print_stats(&stats);
    }
    if let Some(path) = &cli.stats_json {
        let trap = match &result {
            Err(RunError::Trap(t)) => Some(t.kind.to_string()),
            _ => None,
        };
        if let Err(e) = std::fs::write(path, stats_json(&stats, status, trap.as_deref())) {
            report(format!("error: cannot write {}: {e}", path.display()));
            return ExitCode::from(EXIT_IO);
        }
    }
    ExitCode::from(status)
}

/// The grants of the `--allow-*` flags; relative paths start from the working directory
/// `vmrun` started in.
fn capabilities(read: &[PathBuf], write: &[PathBuf], env: &[String]) -> Result<Capabilities, String> {
    let mut caps = Capabilities::new();
    let cwd = std::env::current_dir().map_err(|e| format!("cannot find the working directory: {e}"))?;
    caps.base_dir(&cwd).map_err(|e| format!("cannot use the working directory {}: {e}", cwd.display()))?;
    for (flag, dirs) in [("--allow-read", read), ("--allow-write", write)] {
        for dir in dirs {
            let granted = if flag == "--allow-read" { caps.allow_read(dir) } else { caps.allow_write(dir) };
            granted.map_err(|e| format!("{flag} {}: {e}", dir.display()))?;
        }
    }
    for name in env {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(format!("--allow-env {name:?}: not a variable name"));
        }
        // Not set (or not UTF-8) in vmrun's environment: granted, but `env.get` finds
        // nothing.
        if let Ok(value) = std::env::var(name) {
            caps.allow_env(name, &value);
        }
    }
    Ok(caps)
}

/// The run's ledger as JSON (the schema is in spec/runtime.md).
fn stats_json(s: &kiln_runtime::Stats, status: u8, trap: Option<&str>) -> String {
    let ns = |d: std::time::Duration| d.as_nanos().to_string();
    let text = |t: &str| {
        let mut out = String::from("\"");
        for c in t.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    let failures: Vec<String> = s.jit.failures.iter().map(|f| text(f)).collect();
    let fields = [
        ("exit_status", status.to_string()),
        ("trap", trap.map_or("null".into(), text)),
        ("fuel_used", s.fuel_used.to_string()),
        ("allocations", s.heap.allocations.to_string()),
        ("bytes_allocated", s.heap.bytes_allocated.to_string()),
        ("heap_live_bytes", s.heap.live_bytes.to_string()),
        ("heap_peak_bytes", s.heap.peak_bytes.to_string()),
        ("gc_cycles", s.heap.gc_cycles.to_string()),
        ("gc_pause_total_ns", ns(s.heap.gc_time)),
        ("gc_pause_max_ns", ns(s.heap.gc_max_pause)),
        ("bytes_written", s.bytes_written.to_string()),
        ("bytes_read", s.bytes_read.to_string()),
        ("file_bytes_written", s.file_bytes_written.to_string()),
        ("wall_time_ns", ns(s.wall_time)),
        ("cpu_time_ns", s.cpu_time.map_or("null".into(), ns)),
        ("osr_entries", s.osr_entries.to_string()),
        ("compile_time_ns", ns(s.compile_time)),
        ("jit_functions_compiled", s.jit.functions_compiled.to_string()),
        ("jit_loop_entries_compiled", s.jit.osr_compiled.to_string()),
        ("jit_calls_inlined", s.jit.calls_inlined.to_string()),
        ("jit_code_bytes", s.jit.code_bytes.to_string()),
        ("jit_compile_time_ns", s.jit.compile_ns.to_string()),
        ("jit_failures", format!("[{}]", failures.join(", "))),
    ];
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
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

fn print_stats(s: &kiln_runtime::Stats) {
    let ms = |d: std::time::Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
    report(format!("fuel used:        {}", s.fuel_used));
    report(format!("allocations:      {}", s.heap.allocations));
    report(format!("bytes allocated:  {}", s.heap.bytes_allocated));
    report(format!("live heap:        {}", s.heap.live_bytes));
    report(format!("peak heap:        {}", s.heap.peak_bytes));
    report(format!("gc cycles:        {}", s.heap.gc_cycles));
    report(format!("gc pause total:   {}", ms(s.heap.gc_time)));
    report(format!("gc pause longest: {}", ms(s.heap.gc_max_pause)));
    report(format!("bytes written:    {} (files {})", s.bytes_written, s.file_bytes_written));
    report(format!("bytes read:       {}", s.bytes_read));
    report(format!("wall time:        {}", ms(s.wall_time)));
    report(format!("cpu time:         {}", s.cpu_time.map_or("unavailable".into(), ms)));
    report(format!(
        "jit compiled:     {} functions, {} loop entries, {} calls inlined",
        s.jit.functions_compiled, s.jit.osr_compiled, s.jit.calls_inlined
    ));
    report(format!("jit code:         {} bytes", s.jit.code_bytes));
    let ns = std::time::Duration::from_nanos;
    report(format!(
        "jit compile time: {} (median {}, longest {})",
        ms(ns(s.jit.compile_ns)),
        ms(ns(s.jit.compile_median_ns)),
        ms(ns(s.jit.compile_max_ns))
    ));
    report(format!("osr entries:      {}", s.osr_entries));
    report(format!("compile time:     {} (this run's instance)", ms(s.compile_time)));
    for failure in &s.jit.failures {
        report(format!("jit fallback:     {failure} (stays interpreted)"));
    }
}
