//! The embedding API: [`Engine`], [`Module`], [`Instance`]. `vmrun` uses nothing else.
//!
//! **API boundary:** everything an embedder touches is here and re-exported from the
//! crate root; errors are [`LoadError`] (bad bytecode) and [`RunError`] (how a run ended
//! early). Nothing here calls `process::exit` or writes to the process's own stdout.

use crate::gc::HeapStats;
use crate::instance::limits::Limits;
use crate::instance::{Io, Vm};
use crate::interp::trap::{Stop, Trap, TrapKind};
use crate::loader::{prepare, PreparedModule};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod timer;

/// What the modules and instances made from it share: the timer that enforces every
/// instance's deadline (one thread for the engine, started when the first deadline is
/// set). Cheap to create and to clone (clones share it); one per process is typical.
#[derive(Clone, Default)]
pub struct Engine {
    timer: Arc<timer::Timer>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// A new engine.
    pub fn new() -> Engine {
        Engine::default()
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
}

/// A loaded, verified, prepared module: immutable, cheap to clone, shareable across
/// threads.
#[derive(Clone)]
pub struct Module {
    prepared: Arc<PreparedModule>,
    timer: Arc<timer::Timer>,
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
        Ok(Module { prepared: Arc::new(prepare(module)), timer: Arc::clone(&engine.timer) })
    }

    /// The bytecode this module was loaded from.
    pub fn bytecode(&self) -> &kiln_bytecode::Module {
        &self.prepared.bytecode
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
    /// The instance could not even start. Creating an instance allocates nothing on its
    /// heap today (globals start uninitialised, constants belong to the module), so this
    /// is kept for limits that future start-up work may hit.
    #[error("instance could not start: {0}")]
    Start(crate::interp::trap::TrapKind),
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
    /// Wall time spent running.
    pub wall_time: Duration,
    /// CPU time the running thread spent in [`Instance::run`], where the OS reports it.
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
    /// Set by a trap: the instance freed its heap and refuses to run again.
    trapped: bool,
    wall_time: Duration,
    cpu_time: Option<Duration>,
}

impl Instance {
    /// Creates an instance of `module`.
    ///
    /// # Errors
    /// [`RunError::Start`] if the instance cannot start (see its documentation).
    pub fn new(module: &Module, config: InstanceConfig) -> Result<Instance, RunError> {
        let io = Io { stdout: config.stdout, stderr: config.stderr, bytes_written: 0 };
        let mut vm = Vm::new(Arc::clone(&module.prepared), config.limits, config.gc_stress, io, config.args)
            .map_err(RunError::Start)?;
        vm.tier = config.tier;
        Ok(Instance {
            vm,
            timer: Arc::clone(&module.timer),
            trapped: false,
            wall_time: Duration::ZERO,
            cpu_time: Some(Duration::ZERO),
        })
    }

    /// A handle another thread can use to interrupt this instance.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(Arc::clone(&self.vm.interrupt))
    }

    /// Runs the module's entry function. Output sinks are flushed however the run ends.
    /// With `Limits::timeout`, the run traps `deadline exceeded` once it has taken that
    /// long (each run has its own deadline).
    ///
    /// A trap ends the instance: its heap is freed at once, [`Instance::stats`] stays
    /// readable, and later runs return [`RunError::Trapped`].
    ///
    /// # Errors
    /// [`RunError::Exit`] when the program calls `exit`, [`RunError::Trap`] on a trap,
    /// [`RunError::Trapped`] after one.
    pub fn run(&mut self) -> Result<(), RunError> {
        if self.trapped {
            return Err(RunError::Trapped);
        }
        let start = Instant::now();
        let cpu_start = thread_cpu_time();
        let entry = self.vm.module.bytecode.entry.0;
        self.vm.interrupt.clear_deadline();
        let deadline = self
            .vm
            .limits
            .timeout
            .and_then(|t| start.checked_add(t))
            .map(|when| self.timer.arm(when, &self.vm.interrupt));
        let res = crate::interp::execute(&mut self.vm, entry);
        drop(deadline);
        self.wall_time += start.elapsed();
        self.cpu_time = match (self.cpu_time, cpu_start, thread_cpu_time()) {
            (Some(total), Some(a), Some(b)) => Some(total + b.saturating_sub(a)),
            _ => None,
        };
        let res = match res {
            Ok(()) => Ok(()),
            Err(Stop::Exit(code)) => Err(RunError::Exit(code)),
            Err(Stop::Trap(kind)) => Err(RunError::Trap(self.vm.make_trap(kind))),
        };
        // Output the program wrote but the sink still buffers is part of the run: failing
        // to deliver it is an output error, unless the run already failed otherwise.
        let flushed = self.vm.io.stdout.flush().and(self.vm.io.stderr.flush());
        let res = match (res, flushed) {
            (Ok(()) | Err(RunError::Exit(_)), Err(e)) => {
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

    /// Statistics so far.
    pub fn stats(&self) -> Stats {
        Stats {
            fuel_used: self.vm.fuel_used(),
            heap: self.vm.heap.stats(),
            bytes_written: self.vm.io.bytes_written,
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
