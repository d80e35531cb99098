//! The embedding API: [`Engine`], [`Module`], [`Instance`], with host functions
//! (`host.rs`), values crossing the boundary (`values.rs`) and the engine's timer
//! (`timer.rs`). `vmrun` and the C API (`capi/`) use nothing else.
//!
//! **API boundary:** everything an embedder touches is here and re-exported from the
//! crate root; errors are [`LoadError`] (bad bytecode), [`LinkError`] and
//! [`InstantiateError`] (creating an instance), [`CallError`] (a call refused) and
//! [`RunError`] (how a run or call ended early). Nothing here calls `process::exit` or
//! writes to the process's own stdout.

use crate::gc::HeapStats;
use crate::instance::limits::Limits;
use crate::instance::{Io, Vm};
use crate::interp::trap::{Stop, Trap, TrapKind};
use crate::loader::{prepare, PreparedModule};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod host;
mod timer;
mod values;

pub use crate::instance::caps::Capabilities;
pub(crate) use host::{call as call_host, HostFunc};
pub use host::{Caller, HostError, LinkError, Linker};
pub use values::{Type, Val, MAX_ARRAY_DEPTH};

/// What the modules and instances made from it share: the timer that enforces every
/// instance's deadline (one thread for the engine, started when the first deadline is
/// set), and the engine's settings. Cheap to create and to clone (clones share it); one
/// per process is typical.
#[derive(Clone, Default)]
pub struct Engine {
    timer: Arc<timer::Timer>,
    config: EngineConfig,
}

/// Settings for every instance of an engine's modules.
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Measure each run's and call's CPU time (`Stats::cpu_time`). Reading the thread's
    /// CPU clock is a system call at the start and end of every run or call; hosts making
    /// millions of tiny calls may turn it off (`Stats::cpu_time` is then `None`).
    pub cpu_time: bool,
    /// Measure each run's and call's wall time (`Stats::wall_time`): two clock reads per
    /// run or call (about 25 ns each here). Off, `Stats::wall_time` stays zero; deadlines
    /// still hold.
    pub wall_time: bool,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig { cpu_time: true, wall_time: true }
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// A new engine with the default settings.
    pub fn new() -> Engine {
        Engine::default()
    }

    /// A new engine with `config`.
    pub fn with_config(config: EngineConfig) -> Engine {
        Engine { config, ..Engine::default() }
    }
}

/// Why bytes could not be loaded as a module.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a well-formed `.bc` file.
    #[error("{0}")]
    Decode(#[from] kiln_bytecode::DecodeError),
    /// The module broke a verifier rule.
    #[error("{0}")]
    Verify(#[from] kiln_bytecode::VerifyError),
    /// Ahead-of-time code that does not fit this runtime or its bytecode.
    #[error("{0}")]
    Aot(String),
}

/// A loaded, verified, prepared module: immutable, cheap to clone, shareable across
/// threads.
#[derive(Clone)]
pub struct Module {
    prepared: Arc<PreparedModule>,
    timer: Arc<timer::Timer>,
    engine: EngineConfig,
    exports: Arc<[Export]>,
}

/// An export with its signature in API types (`None` if a host cannot pass one of them).
struct Export {
    name: String,
    func: u32,
    sig: Option<(Box<[Type]>, Option<Type>)>,
}

/// The module's exports, sorted by name as the bytecode has them.
fn exports_of(bc: &kiln_bytecode::Module) -> Arc<[Export]> {
    bc.exports
        .iter()
        .map(|e| {
            let sig = &bc.funcs[e.func.index()].sig;
            let params = sig.params.iter().map(|t| values::api_type(bc, *t)).collect::<Option<Box<[Type]>>>();
            let result = match sig.result {
                Some(t) => values::api_type(bc, t).map(Some),
                None => Some(None),
            };
            Export { name: e.name.clone(), func: e.func.0, sig: params.zip(result) }
        })
        .collect()
}

/// An export of a module, found once by name ([`Module::func`]); callable on any
/// instance of that module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    index: usize,
    /// Which module's exports (their table's address).
    module: usize,
}

fn export_index(exports: &[Export], name: &str) -> Option<usize> {
    exports.binary_search_by(|e| e.name.as_str().cmp(name)).ok()
}

impl Module {
    /// Decodes, verifies and prepares `.bc` bytes.
    ///
    /// # Errors
    /// [`LoadError`] if the bytes are malformed or the module fails verification.
    pub fn from_bytes(engine: &Engine, bytes: &[u8]) -> Result<Module, LoadError> {
        let module = kiln_bytecode::decode(bytes)?;
        Module::from_bytecode(engine, module)
    }

    /// Verifies and prepares an in-memory bytecode module (as the compiler produces).
    ///
    /// # Errors
    /// [`LoadError::Verify`] if the module fails verification.
    pub fn from_bytecode(engine: &Engine, module: kiln_bytecode::Module) -> Result<Module, LoadError> {
        kiln_bytecode::verify(&module)?;
        let exports = exports_of(&module);
        Ok(Module {
            prepared: Arc::new(prepare(module)),
            timer: Arc::clone(&engine.timer),
            engine: engine.config,
            exports,
        })
    }

    /// A relocatable object file of this module's functions compiled for `triple` (one of
    /// [`crate::AOT_TARGETS`]), with the bytecode, for `vmc aot` (spec/runtime.md,
    /// "Ahead-of-time compilation"). Also returns the functions left to the interpreter, with
    /// why.
    ///
    /// # Errors
    /// An unsupported target (the message lists the supported ones), or a failure of the
    /// code generator.
    #[cfg(feature = "jit")]
    pub fn aot_object(&self, triple: &str) -> Result<(Vec<u8>, Vec<String>), String> {
        crate::jit::aot::object(&self.prepared, triple)
    }

    /// The run form, for the runtime's other parts.
    pub(crate) fn prepared(&self) -> &PreparedModule {
        &self.prepared
    }

    /// The bytecode this module was loaded from.
    pub fn bytecode(&self) -> &kiln_bytecode::Module {
        &self.prepared.bytecode
    }

    /// The names of the functions a host may call ([`Instance::call`]): the entry file's
    /// top-level non-generic functions, `main` among them, sorted.
    pub fn exports(&self) -> impl Iterator<Item = &str> {
        self.prepared.bytecode.exports.iter().map(|e| e.name.as_str())
    }

    /// A handle to export `name`, for calling it repeatedly without looking it up by name
    /// ([`Instance::call_func`]).
    pub fn func(&self, name: &str) -> Option<Func> {
        let index = export_index(&self.exports, name)?;
        Some(Func { index, module: Arc::as_ptr(&self.exports) as *const u8 as usize })
    }

    /// The parameter and result types of export `name`, if it has one and a host can
    /// pass every one of them.
    pub fn export_signature(&self, name: &str) -> Option<(Vec<Type>, Option<Type>)> {
        let (params, result) = self.exports[export_index(&self.exports, name)?].sig.as_ref()?;
        Some((params.to_vec(), result.clone()))
    }
}

/// Settings for one instance.
pub struct InstanceConfig {
    /// Resource limits.
    pub limits: Limits,
    /// Collect at every allocation and check the heap after each collection.
    pub gc_stress: bool,
    /// Program arguments, as `args()` returns them.
    pub args: Vec<String>,
    /// Where `print`/`println` write.
    pub stdout: Box<dyn Write + Send>,
    /// Where `eprintln` writes.
    pub stderr: Box<dyn Write + Send>,
    /// Interpreter, JIT, or interpreter first with tier-up (the default).
    pub tier: crate::jit::TierConfig,
    /// Host functions for the module's `extern fn` declarations.
    pub linker: Linker,
    /// Directories and environment variables the program may reach (none by default).
    pub caps: Capabilities,
    /// Standard input for `io.read_line` (`None`: not granted; the program gets
    /// `Err("permission denied: ...")`). Read by a thread of the instance's own, so a
    /// blocked read never keeps an interrupt or deadline from stopping the instance.
    pub stdin: Option<Box<dyn std::io::Read + Send>>,
}

impl Default for InstanceConfig {
    fn default() -> InstanceConfig {
        InstanceConfig {
            limits: Limits::default(),
            gc_stress: false,
            args: Vec::new(),
            stdout: Box::new(std::io::sink()),
            stderr: Box::new(std::io::sink()),
            tier: crate::jit::TierConfig::default(),
            linker: Linker::default(),
            caps: Capabilities::default(),
            stdin: None,
        }
    }
}

/// How a run ended when it did not complete normally.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program called `exit(code)`.
    #[error("exit({0})")]
    Exit(i32),
    /// The program trapped.
    #[error("{0}")]
    Trap(Trap),
    /// The instance trapped in an earlier run: its heap is freed and it runs no more
    /// (its statistics stay readable). Make a new instance of the module.
    #[error("the instance trapped earlier and cannot run again")]
    Trapped,
    /// The call was refused before anything ran (the instance is unchanged).
    #[error("{0}")]
    Call(#[from] CallError),
}

/// Why [`Instance::call`] refused a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No export has that name.
    #[error("the module exports no function `{0}`")]
    NoSuchFunction(String),
    /// Too many or too few arguments.
    #[error("`{name}` takes {expected} argument(s), {given} given")]
    Arity {
        /// The export.
        name: String,
        /// Its parameter count.
        expected: usize,
        /// The arguments given.
        given: usize,
    },
    /// An argument of the wrong type.
    #[error("argument {index} of `{name}` must be {expected}, not {given}")]
    Type {
        /// The export.
        name: String,
        /// The argument's position, from 0.
        index: usize,
        /// The parameter's type.
        expected: Type,
        /// What was given (`int`, `array`, ...).
        given: &'static str,
    },
    /// The export takes or returns a type no [`Val`] stands for (a struct, an enum, a
    /// closure, a map, an optional value).
    #[error(
        "`{0}` takes or returns a type a host cannot pass (only int, float, bool, str and arrays of them)"
    )]
    Unsupported(String),
    /// A [`Func`] of another module.
    #[error("the function handle belongs to another module")]
    OtherModule,
}

/// Why [`Instance::new`] failed.
#[derive(Debug, thiserror::Error)]
pub enum InstantiateError {
    /// A host function the module imports is missing or has another signature.
    #[error("{0}")]
    Link(#[from] LinkError),
    /// A global's initialiser trapped or called `exit`; `stats` is the ledger of that
    /// run.
    #[error("{error}")]
    Init {
        /// How initialisation ended.
        error: RunError,
        /// What it used.
        stats: Box<Stats>,
    },
}

/// Counters for one instance.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Fuel used (one unit per instruction, charged per basic block, plus size-based
    /// charges).
    pub fuel_used: u64,
    /// Heap counters.
    pub heap: HeapStats,
    /// Bytes written to stdout and stderr.
    pub bytes_written: u64,
    /// Bytes read from files and stdin.
    pub bytes_read: u64,
    /// Bytes written to files.
    pub file_bytes_written: u64,
    /// Wall time spent running.
    pub wall_time: Duration,
    /// CPU time the running thread spent in [`Instance::run`] and [`Instance::call`],
    /// where the OS reports it and the engine measures it ([`EngineConfig::cpu_time`]).
    pub cpu_time: Option<Duration>,
    /// Times a running loop moved from the interpreter to compiled code.
    pub osr_entries: u64,
    /// Time this instance spent compiling, or waiting while another instance compiled
    /// what it needed (part of `wall_time`).
    pub compile_time: Duration,
    /// The module's JIT counters (shared by every instance of the module).
    pub jit: crate::jit::JitStats,
}

/// Lets another thread stop an instance at its next fuel check.
#[derive(Clone)]
pub struct InterruptHandle(Arc<crate::instance::Interrupt>);

impl InterruptHandle {
    /// Asks the instance to trap with `interrupted` at its next check.
    pub fn interrupt(&self) {
        self.0.request(crate::instance::Interrupt::HOST);
    }
}

/// One running copy of a module: its own heap, globals, stack and counters.
pub struct Instance {
    vm: Vm,
    timer: Arc<timer::Timer>,
    exports: Arc<[Export]>,
    /// Arguments' bits on their way in (kept to avoid allocating per call).
    arg_bits: Vec<u64>,
    /// Whether runs are timed ([`EngineConfig::wall_time`]).
    wall_clock: bool,
    /// An overall deadline ([`Instance::set_deadline`]).
    deadline: Option<Instant>,
    /// Set by a trap: the instance freed its heap and refuses to run again.
    trapped: bool,
    wall_time: Duration,
    cpu_time: Option<Duration>,
}

impl Instance {
    /// Creates an instance of `module`: links its `extern fn` imports against
    /// `config.linker`, then runs its global initialisers (under the instance's limits,
    /// deadline included).
    ///
    /// # Errors
    /// [`InstantiateError::Link`] if a host function is missing or has another signature;
    /// [`InstantiateError::Init`] if an initialiser traps or exits.
    pub fn new(module: &Module, config: InstanceConfig) -> Result<Instance, InstantiateError> {
        let host_funcs = config.linker.link(&module.prepared.bytecode)?;
        let io = Io {
            stdout: config.stdout,
            stderr: config.stderr,
            bytes_written: 0,
            bytes_read: 0,
            file_bytes_written: 0,
        };
        let mut vm = Vm::new(Arc::clone(&module.prepared), config.limits, config.gc_stress, io, config.args);
        vm.tier = config.tier;
        vm.host_funcs = host_funcs;
        vm.caps = config.caps;
        vm.stdin = config.stdin.map(crate::instance::stdin::Stdin::new);
        let mut instance = Instance {
            vm,
            timer: Arc::clone(&module.timer),
            exports: Arc::clone(&module.exports),
            arg_bits: Vec::new(),
            wall_clock: module.engine.wall_time,
            deadline: None,
            trapped: false,
            wall_time: Duration::ZERO,
            cpu_time: module.engine.cpu_time.then_some(Duration::ZERO),
        };
        if let Some(init) = module.prepared.bytecode.init {
            if let Err(error) = instance.invoke(init.0, &[], &[], None) {
                return Err(InstantiateError::Init { error, stats: Box::new(instance.stats()) });
            }
        }
        Ok(instance)
    }

    /// Sets an overall deadline for later runs and calls, on top of each one's own
    /// `Limits::timeout`: a run stops at whichever comes first, and the trap names
    /// `Limits::timeout`. `vmrun --timeout` bounds the initialisers and `main` together
    /// this way.
    pub fn set_deadline(&mut self, when: Option<Instant>) {
        self.deadline = when;
    }

    /// A handle another thread can use to interrupt this instance.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(Arc::clone(&self.vm.interrupt))
    }

    /// Runs `main`. Output sinks are flushed however the run ends. With
    /// `Limits::timeout`, the run traps `deadline exceeded` once it has taken that long
    /// (each run has its own deadline).
    ///
    /// A trap ends the instance: its heap is freed at once, [`Instance::stats`] stays
    /// readable, and later runs return [`RunError::Trapped`].
    ///
    /// # Errors
    /// [`RunError::Exit`] when the program calls `exit`, [`RunError::Trap`] on a trap,
    /// [`RunError::Trapped`] after one.
    pub fn run(&mut self) -> Result<(), RunError> {
        let main = self.vm.module.bytecode.entry.0;
        self.invoke(main, &[], &[], None).map(|_| ())
    }

    /// Calls exported function `name` with `args` and returns its result (`None` for a
    /// function that returns nothing). Runs like [`Instance::run`]: under the instance's
    /// limits, with its own deadline, and a trap ends the instance.
    ///
    /// ```
    /// use kiln_runtime::{Engine, Instance, InstanceConfig, Module, Val};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let source = "fn main() {}\nfn total(xs: [int], scale: int) -> int {\n    var t = 0;\n    for x in xs { t += x * scale; }\n    t\n}";
    /// let bytecode = kiln_compiler::compile_source("app.kiln", source).map_err(|d| d.to_string())?;
    /// let module = Module::from_bytecode(&Engine::new(), bytecode)?;
    /// let mut instance = Instance::new(&module, InstanceConfig::default())?;
    /// let xs = Val::Array(vec![Val::Int(1), Val::Int(2), Val::Int(3)]);
    /// assert_eq!(instance.call("total", &[xs, Val::Int(10)])?, Some(Val::Int(60)));
    /// assert!(instance.call("nope", &[]).is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`RunError::Call`] when there is no such export or the arguments do not fit its
    /// parameters (nothing runs); otherwise as for [`Instance::run`].
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Option<Val>, RunError> {
        if self.trapped {
            return Err(RunError::Trapped);
        }
        let index =
            export_index(&self.exports, name).ok_or_else(|| CallError::NoSuchFunction(name.to_string()))?;
        self.call_index(index, args)
    }

    /// Calls the export `func` names, as [`Instance::call`] does, without looking it up.
    ///
    /// # Errors
    /// As for [`Instance::call`]; [`CallError::OtherModule`] if `func` is another
    /// module's.
    pub fn call_func(&mut self, func: Func, args: &[Val]) -> Result<Option<Val>, RunError> {
        if func.module != Arc::as_ptr(&self.exports) as *const u8 as usize {
            return Err(CallError::OtherModule.into());
        }
        if self.trapped {
            return Err(RunError::Trapped);
        }
        self.call_index(func.index, args)
    }

    fn call_index(&mut self, index: usize, args: &[Val]) -> Result<Option<Val>, RunError> {
        // The table is moved out for the call (no reference count touched per call).
        let exports = std::mem::take(&mut self.exports);
        let res = self.call_export(&exports[index], args);
        self.exports = exports;
        res
    }

    fn call_export(&mut self, export: &Export, args: &[Val]) -> Result<Option<Val>, RunError> {
        let name = export.name.as_str();
        let (params, result) = export.sig.as_ref().ok_or_else(|| CallError::Unsupported(name.to_string()))?;
        if params.len() != args.len() {
            let (expected, given) = (params.len(), args.len());
            return Err(CallError::Arity { name: name.to_string(), expected, given }.into());
        }
        if let Some(index) = args.iter().zip(params.iter()).position(|(a, t)| !a.has_type(t)) {
            let (expected, given) = (params[index].clone(), args[index].kind());
            return Err(CallError::Type { name: name.to_string(), index, expected, given }.into());
        }
        self.invoke(export.func, args, params, result.as_ref())
    }

    /// Runs function `func` with `args` (checked against its parameters), the way every
    /// run goes: deadline armed, time and CPU counted, sinks flushed, and a trap ending
    /// the instance.
    fn invoke(
        &mut self,
        func: u32,
        args: &[Val],
        params: &[Type],
        result: Option<&Type>,
    ) -> Result<Option<Val>, RunError> {
        if self.trapped {
            return Err(RunError::Trapped);
        }
        let timed = self.wall_clock || self.vm.limits.timeout.is_some() || self.deadline.is_some();
        let start = timed.then(Instant::now);
        let cpu_start = if self.cpu_time.is_some() { thread_cpu_time() } else { None };
        self.vm.interrupt.clear_deadline();
        let own = match (start, self.vm.limits.timeout) {
            (Some(start), Some(t)) => start.checked_add(t),
            _ => None,
        };
        let when = match (own, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let deadline = when.map(|when| self.timer.arm(when, &self.vm.interrupt));
        let res = self.run_with(func, args, params, result);
        drop(deadline);
        if let (true, Some(start)) = (self.wall_clock, start) {
            self.wall_time += start.elapsed();
        }
        self.cpu_time = match (self.cpu_time, cpu_start) {
            (Some(total), Some(a)) => thread_cpu_time().map(|b| total + b.saturating_sub(a)),
            _ => None,
        };
        let res = match res {
            Ok(val) => Ok(val),
            Err(Stop::Exit(code)) => Err(RunError::Exit(code)),
            Err(Stop::Trap(kind)) => Err(RunError::Trap(self.vm.make_trap(kind))),
        };
        // Output the program wrote but the sink still buffers is part of the run: failing
        // to deliver it is an output error, unless the run already failed otherwise.
        let flushed = self.vm.io.stdout.flush().and(self.vm.io.stderr.flush());
        let res = match (res, flushed) {
            (Ok(_) | Err(RunError::Exit(_)), Err(e)) => {
                Err(RunError::Trap(Trap { kind: TrapKind::Io(e.to_string()), trace: Vec::new() }))
            }
            (res, _) => res,
        };
        if let Err(RunError::Trap(_)) = res {
            self.trapped = true;
            self.vm.release();
        }
        res
    }

    /// Copies the arguments into the instance, runs `func`, and copies its result out.
    fn run_with(
        &mut self,
        func: u32,
        args: &[Val],
        params: &[Type],
        result: Option<&Type>,
    ) -> Result<Option<Val>, Stop> {
        let vm = &mut self.vm;
        let rooted = vm.heap.temp_roots.len();
        let mut bits = std::mem::take(&mut self.arg_bits);
        bits.clear();
        let mut ran = Ok(0);
        for (val, ty) in args.iter().zip(params) {
            match values::to_bits(vm, val, ty) {
                Ok(b) => bits.push(b),
                Err(stop) => {
                    ran = Err(stop);
                    break;
                }
            }
        }
        if ran.is_ok() {
            ran = crate::interp::execute(vm, func, &bits);
        }
        self.arg_bits = bits;
        vm.heap.temp_roots.truncate(rooted);
        let out = ran?;
        Ok(result.map(|ty| values::from_bits(vm, out, ty)))
    }

    /// Statistics so far.
    pub fn stats(&self) -> Stats {
        Stats {
            fuel_used: self.vm.fuel_used(),
            heap: self.vm.heap.stats(),
            bytes_written: self.vm.io.bytes_written,
            bytes_read: self.vm.io.bytes_read,
            file_bytes_written: self.vm.io.file_bytes_written,
            wall_time: self.wall_time,
            cpu_time: self.cpu_time,
            osr_entries: self.vm.osr_entries,
            compile_time: self.vm.compile_time,
            jit: self.vm.module.jit.stats(),
        }
    }

    /// Runs a full collection and checks the heap's invariants (for tests and hosts that
    /// want to be sure).
    ///
    /// # Errors
    /// A description of the first broken invariant.
    pub fn check_heap(&mut self) -> Result<(), String> {
        self.vm.frames.clear();
        self.vm.collect_garbage();
        self.vm.heap.verify()
    }
}

/// CPU time of the calling thread (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`); `None`
/// where the system does not report it.
fn thread_cpu_time() -> Option<Duration> {
    cpu_time::ThreadTime::try_now().ok().map(|t| t.as_duration())
}
