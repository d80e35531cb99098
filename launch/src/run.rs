//! One program run from start to exit status, as `vmrun` and ahead-of-time executables
//! do it.

use crate::{report, EXIT_BAD_BYTECODE, EXIT_IO, EXIT_TRAP, EXIT_USAGE};
use kiln_runtime::{
    Capabilities, Instance, InstanceConfig, InstantiateError, Limits, Module, RunError, Stats, TierConfig,
    TrapKind,
};
use std::io::{BufWriter, LineWriter};
use std::path::PathBuf;
use std::time::Duration;

/// Where the options came from, for messages about them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `vmrun`'s flags (`--allow-read`).
    Flags,
    /// An ahead-of-time executable's environment (`KILN_ALLOW_READ`).
    Environment,
}

impl Source {
    /// How the option of `vmrun` flag `--flag-name` is spelled here.
    pub fn name(self, flag: &str) -> String {
        match self {
            Source::Flags => flag.to_string(),
            Source::Environment => {
                format!("KILN_{}", flag.trim_start_matches('-').replace('-', "_").to_uppercase())
            }
        }
    }
}

/// A run's limits, grants and reporting (each `None` or empty: the default).
#[derive(Debug)]
pub struct Options {
    pub source: Source,
    pub tier: TierConfig,
    pub max_heap: Option<usize>,
    pub fuel: Option<u64>,
    pub timeout: Option<Duration>,
    pub max_stack: Option<u64>,
    pub max_output: Option<usize>,
    pub allow_read: Vec<PathBuf>,
    pub allow_write: Vec<PathBuf>,
    pub allow_env: Vec<String>,
    pub allow_stdin: bool,
    pub gc_stress: bool,
    pub stats: bool,
    pub stats_json: Option<PathBuf>,
    /// The program's arguments.
    pub args: Vec<String>,
}

impl Options {
    /// The defaults, for options from `source`.
    pub fn new(source: Source) -> Options {
        Options {
            source,
            tier: TierConfig::default(),
            max_heap: None,
            fuel: None,
            timeout: None,
            max_stack: None,
            max_output: None,
            allow_read: Vec::new(),
            allow_write: Vec::new(),
            allow_env: Vec::new(),
            allow_stdin: false,
            gc_stress: false,
            stats: false,
            stats_json: None,
            args: Vec::new(),
        }
    }
}

/// Runs `module` (named `program` in messages) in one instance with stdout and stderr
/// as its output: the global initialisers, then `main`. Returns the exit status.
pub fn run(module: &Module, options: Options, program: &str) -> u8 {
    let caps = match capabilities(&options) {
        Ok(caps) => caps,
        Err(message) => {
            report(format!("error: {message}"));
            return EXIT_USAGE;
        }
    };
    let defaults = Limits::default();
    let config = InstanceConfig {
        limits: Limits {
            max_heap: options.max_heap.unwrap_or(defaults.max_heap),
            fuel: options.fuel,
            timeout: options.timeout,
            max_call_depth: options.max_stack.map_or(defaults.max_call_depth, |n| n as usize),
            max_output: options.max_output.map(|n| n as u64),
            ..defaults
        },
        gc_stress: options.gc_stress,
        args: options.args,
        stdout: Box::new(BufWriter::with_capacity(1 << 16, std::io::stdout())),
        stderr: Box::new(LineWriter::new(std::io::stderr())),
        tier: options.tier,
        caps,
        stdin: options.allow_stdin.then(|| Box::new(std::io::stdin()) as Box<dyn std::io::Read + Send>),
        ..InstanceConfig::default()
    };
    // Creating the instance runs the global initialisers: a trap there ends the run
    // like a trap in `main`. The timeout bounds the whole program: the initialisers and
    // `main` share it.
    let started = std::time::Instant::now();
    let (result, stats) = match Instance::new(module, config) {
        Ok(mut instance) => {
            instance.set_deadline(options.timeout.and_then(|t| started.checked_add(t)));
            (instance.run(), instance.stats())
        }
        Err(InstantiateError::Init { error, stats }) => (Err(error), *stats),
        Err(e @ InstantiateError::Link(_)) => {
            report(format!("error: cannot link {program}: {e}"));
            return EXIT_BAD_BYTECODE;
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
    if options.stats {
        print_stats(&stats);
    }
    if let Some(path) = &options.stats_json {
        let trap = match &result {
            Err(RunError::Trap(t)) => Some(t.kind.to_string()),
            _ => None,
        };
        if let Err(e) = std::fs::write(path, stats_json(&stats, status, trap.as_deref())) {
            report(format!("error: cannot write {}: {e}", path.display()));
            return EXIT_IO;
        }
    }
    status
}

/// The grants; relative paths start from the working directory the program started in.
fn capabilities(options: &Options) -> Result<Capabilities, String> {
    let mut caps = Capabilities::new();
    let cwd = std::env::current_dir().map_err(|e| format!("cannot find the working directory: {e}"))?;
    caps.base_dir(&cwd).map_err(|e| format!("cannot use the working directory {}: {e}", cwd.display()))?;
    for (flag, dirs) in [("--allow-read", &options.allow_read), ("--allow-write", &options.allow_write)] {
        for dir in dirs {
            let granted = if flag == "--allow-read" { caps.allow_read(dir) } else { caps.allow_write(dir) };
            granted.map_err(|e| format!("{} {}: {e}", options.source.name(flag), dir.display()))?;
        }
    }
    for name in &options.allow_env {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(format!("{} {name:?}: not a variable name", options.source.name("--allow-env")));
        }
        // Not set (or not UTF-8) in this process's environment: granted, but `env.get`
        // finds nothing.
        if let Ok(value) = std::env::var(name) {
            caps.allow_env(name, &value);
        }
    }
    Ok(caps)
}

/// The run's ledger as JSON (the schema is in spec/runtime.md).
pub fn stats_json(s: &Stats, status: u8, trap: Option<&str>) -> String {
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

/// The run's ledger as text on stderr (`--stats`).
pub fn print_stats(s: &Stats) {
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
