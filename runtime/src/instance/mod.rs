//! Per-instance state: heap, globals, register file, frames, fuel, output sinks.
//!
//! **Invariant:** all mutable run-time state lives in a [`Vm`]; the [`PreparedModule`] it
//! runs is immutable and may be shared by many instances on many threads.

pub mod caps;
pub mod limits;
pub mod stdin;

use crate::gc::raw;
use crate::gc::Heap;
use crate::interp::frame::Frame;
use crate::interp::regfile::RegisterFile;
use crate::interp::trap::{Stop, TraceFrame, Trap, TrapKind};
use crate::jit::abi::NativeCtx;
use crate::jit::TierConfig;
use crate::loader::PreparedModule;
use limits::Limits;
use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::Arc;

/// An instance's interrupt request, kept as the floor of its fuel counter: every fuel
/// check is `fuel <= floor` (one compare covers both limits, in the interpreter and in
/// compiled code), and an interrupt raises the floor above every count, unlimited fuel's
/// `i64::MAX` included. (Compiled code reads the floor as an `i64` at offset 0.)
#[repr(C)]
pub struct Interrupt {
    floor: AtomicI64,
    /// Who asked: [`Interrupt::HOST`] and [`Interrupt::DEADLINE`] bits.
    reason: AtomicU8,
}

// Compiled code loads the floor from the interrupt's address.
const _: () = assert!(std::mem::offset_of!(Interrupt, floor) == 0);

impl Default for Interrupt {
    fn default() -> Interrupt {
        Interrupt { floor: AtomicI64::new(Interrupt::CLEAR), reason: AtomicU8::new(0) }
    }
}

impl Interrupt {
    /// The floor without an interrupt: `fuel <= -1` is `fuel < 0`, out of fuel.
    const CLEAR: i64 = -1;
    /// The host asked (`InterruptHandle::interrupt`).
    pub const HOST: u8 = 1;
    /// The run's deadline passed (the engine's timer asked).
    pub const DEADLINE: u8 = 2;

    /// Asks the instance to stop at its next check (any thread), for `reason`.
    pub fn request(&self, reason: u8) {
        self.reason.fetch_or(reason, Ordering::Release);
        self.floor.store(i64::MAX, Ordering::Release);
    }

    /// Whether an interrupt was requested (a long operation stops at once).
    pub fn requested(&self) -> bool {
        self.reason.load(Ordering::Acquire) != 0
    }

    /// Why an interrupt was requested, if one was: the host's request wins over a
    /// deadline's.
    pub fn reason(&self) -> Option<u8> {
        match self.reason.load(Ordering::Acquire) {
            0 => None,
            r if r & Interrupt::HOST != 0 => Some(Interrupt::HOST),
            _ => Some(Interrupt::DEADLINE),
        }
    }

    /// Withdraws a deadline's request (a new run has a new deadline); a host's stays.
    pub fn clear_deadline(&self) {
        let before = self.reason.fetch_and(!Interrupt::DEADLINE, Ordering::AcqRel);
        if before == Interrupt::DEADLINE {
            self.floor.store(Interrupt::CLEAR, Ordering::Release);
            // A host's request that came in meanwhile is kept.
            if self.reason.load(Ordering::Acquire) & Interrupt::HOST != 0 {
                self.floor.store(i64::MAX, Ordering::Release);
            }
        }
    }

    /// The fuel counter at or below which a check calls the runtime.
    #[inline(always)]
    pub fn floor(&self) -> i64 {
        self.floor.load(Ordering::Relaxed)
    }
}

/// Where an instance's output goes, and how much it wrote.
pub struct Io {
    /// Standard output sink.
    pub stdout: Box<dyn Write + Send>,
    /// Standard error sink.
    pub stderr: Box<dyn Write + Send>,
    /// Bytes written to both.
    pub bytes_written: u64,
    /// Bytes read from files and stdin.
    pub bytes_read: u64,
    /// Bytes written to files.
    pub file_bytes_written: u64,
}

/// The state of one running instance.
pub struct Vm {
    /// The module being run. Never replaced once the instance exists (the interpreter
    /// reads it without holding a count: `interp::exec::shared`).
    pub module: Arc<PreparedModule>,
    /// The instance's heap.
    pub heap: Heap,
    /// The register file; frames are windows into it. It grows on demand (moving), up to
    /// `limits.stack_slots`.
    pub stack: RegisterFile,
    /// Call frames, outermost first; the last is the running function. The interpreter
    /// writes them through a raw pointer and grows the vector itself (re-deriving the
    /// pointer), up to `limits.max_call_depth`.
    pub frames: Vec<Frame>,
    /// Global values.
    pub globals: Vec<u64>,
    /// The interpreter's per-instruction fuel counter: the fuel left, counting every
    /// instruction executed so far. It may go negative before a check sees it. Without a
    /// fuel limit it starts at `i64::MAX` and is topped up if it ever runs out.
    pub fuel: i64,
    /// What `fuel` started at (or was last topped up to).
    pub fuel_start: i64,
    /// Fuel used that `fuel` does not show: size-dependent charges when there is no
    /// limit, and top-ups.
    pub fuel_uncounted: u64,
    /// The limits this instance was created with.
    pub limits: Limits,
    /// Output sinks.
    pub io: Io,
    /// Program arguments (after the program path).
    pub args: Vec<String>,
    /// Set by another thread to stop the instance at its next check. Never replaced once
    /// the instance exists (as for `module`).
    pub interrupt: Arc<Interrupt>,
    /// When the instance was created; `clock_ns()` counts from here.
    pub started: std::time::Instant,
    /// Set when a trap happens at a function's entry check, before its first block.
    pub trapped_at_entry: bool,
    /// Which code this instance runs.
    pub tier: TierConfig,
    /// Per function: calls plus loop back-edges counted towards compiling it.
    pub hotness: Vec<u32>,
    /// Times a running loop moved from the interpreter to compiled code.
    pub osr_entries: u64,
    /// Time this instance spent compiling (or waiting for the module's compiler).
    pub compile_time: std::time::Duration,
    /// What compiled code sees of this instance while it runs (`jit/abi.rs`).
    pub native: NativeCtx,
    /// Why compiled code stopped, set by the runtime helper that stopped it.
    pub native_stop: Option<Stop>,
    /// The host functions the module's host imports were linked to, in import order.
    pub host_funcs: Vec<crate::api::HostFunc>,
    /// Scratch space for a host call's arguments (kept to avoid allocating per call).
    pub host_args: Vec<crate::api::Val>,
    /// What the instance may reach outside itself.
    pub caps: caps::Capabilities,
    /// Standard input, if the host granted it.
    pub stdin: Option<stdin::Stdin>,
}

impl Vm {
    /// Creates an instance. Nothing is allocated up front beyond the globals: the register
    /// file and frame stack grow when a run needs them, constant strings are the
    /// module's, and every global starts as 0 (a reference-typed one as "not yet
    /// initialised": reading it traps).
    pub fn new(
        module: Arc<PreparedModule>,
        mut limits: Limits,
        gc_stress: bool,
        io: Io,
        args: Vec<String>,
    ) -> Vm {
        let fuel = limits.fuel.map_or(i64::MAX, |f| f.min(i64::MAX as u64) as i64);
        limits.max_call_depth = limits.max_call_depth.clamp(1, limits::MAX_CALL_DEPTH);
        limits.stack_slots = limits.stack_slots.min(limits::MAX_STACK_SLOTS);
        Vm {
            heap: Heap::new(limits.max_heap, gc_stress),
            stack: RegisterFile::new(limits.stack_slots),
            frames: Vec::new(),
            globals: vec![0; module.n_global_slots],
            fuel,
            fuel_start: fuel,
            fuel_uncounted: 0,
            limits,
            io,
            args,
            interrupt: Arc::new(Interrupt::default()),
            started: std::time::Instant::now(),
            trapped_at_entry: false,
            tier: TierConfig::default(),
            hotness: vec![0; module.funcs.len()],
            osr_entries: 0,
            compile_time: std::time::Duration::ZERO,
            native: NativeCtx::default(),
            native_stop: None,
            host_funcs: Vec::new(),
            host_args: Vec::new(),
            caps: caps::Capabilities::default(),
            stdin: None,
            module,
        }
    }

    // ----- Allocation: every path that may collect goes through here -----

    /// Collects if allocating `size` bytes calls for it. This is the safepoint: the
    /// running frame's `pc` must name the allocating instruction.
    #[inline]
    fn safepoint(&mut self, size: usize) {
        if self.heap.wants_collection(size) {
            self.collect_garbage();
        }
    }

    /// Runs a full collection with the instance's roots.
    pub fn collect_garbage(&mut self) {
        let Vm { heap, frames, stack, globals, module, .. } = self;
        heap.collect(|marker| {
            // A suspended frame's registers from its call window up belong to its callee;
            // every reference register below that holds an object or null (see
            // `interp::exec`: frames null their reference registers on entry, and a
            // caller's from the window up when a call returns).
            for (i, frame) in frames.iter().enumerate() {
                let func = &module.funcs[frame.func as usize];
                let base = frame.base as usize;
                let limit = frames.get(i + 1).map_or(func.n_regs, |callee| callee.base as usize - base);
                for &r in func.refs.iter().take_while(|&&r| (r as usize) < limit) {
                    marker.mark(stack.get(base + r as usize));
                }
            }
            for &slot in &module.global_ref_slots {
                marker.mark(globals[slot as usize]);
            }
        });
    }

    /// Collects if the next allocations, of `size` bytes in all, call for it. Call it
    /// before allocating through `self.heap` directly: the heap itself never collects.
    pub fn reserve(&mut self, size: usize) {
        self.safepoint(size);
    }

    /// A new string holding `bytes`, which must be UTF-8.
    pub fn new_str(&mut self, bytes: &[u8]) -> Result<u64, Stop> {
        self.safepoint(raw::STR_BYTES + bytes.len());
        Ok(self.heap.alloc_str_from(bytes).map_err(heap_trap)? as u64)
    }

    /// An array of new strings.
    pub fn new_str_array(&mut self, parts: &[&str]) -> Result<u64, Stop> {
        self.safepoint(Heap::str_array_size(parts));
        Ok(self.heap.alloc_str_array(parts).map_err(heap_trap)? as u64)
    }

    /// An array holding the `count` values in register-file slots `first..`.
    pub fn new_array_from_slots(&mut self, elem_ref: bool, first: usize, count: usize) -> Result<u64, Stop> {
        self.safepoint(raw::ARRAY_SIZE + count * 8);
        let values = self.stack.slice(first..first + count);
        Ok(self.heap.alloc_array_from(elem_ref, values).map_err(heap_trap)? as u64)
    }

    /// An array holding `values` (the references among them rooted by the caller).
    pub fn new_array(&mut self, elem_ref: bool, values: &[u64]) -> Result<u64, Stop> {
        self.safepoint(raw::ARRAY_SIZE.saturating_add(values.len().saturating_mul(8)));
        Ok(self.heap.alloc_array_from(elem_ref, values).map_err(heap_trap)? as u64)
    }

    /// An array of `n` copies of `value` (rooted by the caller).
    pub fn new_array_filled(&mut self, elem_ref: bool, value: u64, n: usize) -> Result<u64, Stop> {
        self.safepoint(raw::ARRAY_SIZE.saturating_add(n.saturating_mul(8)));
        let interrupt = Arc::clone(&self.interrupt);
        let filled = self.heap.alloc_array_filled(elem_ref, value, n, &mut || interrupt.requested());
        match filled.map_err(heap_trap)? {
            Some(o) => Ok(o as u64),
            None => Err(self.interrupt_trap().into()),
        }
    }

    /// A struct of type `ty` whose fields are register-file slots `first..`.
    pub fn new_struct_from_slots(&mut self, ty: usize, first: usize) -> Result<u64, Stop> {
        let n = self.module.descs[ty].n_fields as usize;
        self.safepoint(raw::HEADER + n * 8);
        let desc = &self.module.descs[ty];
        let fields = self.stack.slice(first..first + n);
        Ok(self.heap.alloc_struct(desc, fields).map_err(heap_trap)? as u64)
    }

    /// Frees what the instance holds for running (its heap's objects, register file,
    /// frame stack and globals) once it has trapped and will not run again; the counters
    /// stay.
    pub fn release(&mut self) {
        self.heap.release_all();
        self.stack = RegisterFile::new(self.limits.stack_slots);
        self.frames = Vec::new();
        self.globals.fill(0);
        self.native_stop = None;
    }

    // ----- Fuel -----

    /// Charges `units` of fuel for work that grows with its input, trapping when the
    /// limit is passed. The check sees fuel as the spec counts it: the whole basic block
    /// of the running instruction is charged on entry, so the instructions still to come
    /// in that block count as spent (spec/bytecode.md, Fuel).
    pub fn charge(&mut self, units: u64) -> Result<(), Stop> {
        if units == 0 {
            return Ok(());
        }
        if self.limits.fuel.is_none() {
            self.fuel_uncounted = self.fuel_uncounted.saturating_add(units);
            return Ok(());
        }
        self.fuel = self.fuel.saturating_sub(i64::try_from(units).unwrap_or(i64::MAX));
        if self.fuel.saturating_sub(self.rest_of_block()) < 0 {
            return Err(TrapKind::FuelExhausted.into());
        }
        Ok(())
    }

    /// Charges fuel for handling `bytes` bytes: one unit per started 8 bytes.
    pub fn charge_bytes(&mut self, bytes: usize) -> Result<(), Stop> {
        self.charge((bytes as u64).div_ceil(8))
    }

    /// Charges an output call: a fixed cost plus one unit per started 8 bytes.
    pub fn charge_io(&mut self, bytes: usize) -> Result<(), Stop> {
        self.charge(limits::IO_CALL_FUEL + (bytes as u64).div_ceil(8))
    }

    /// The trap an interrupt request raises: the deadline's, or the host's.
    pub fn interrupt_trap(&self) -> TrapKind {
        match self.interrupt.reason() {
            Some(Interrupt::DEADLINE) => TrapKind::Timeout { limit: self.limits.timeout.unwrap_or_default() },
            _ => TrapKind::Interrupted,
        }
    }

    /// Called when a fuel check finds the counter negative: traps if there is a limit,
    /// otherwise tops the counter up (it would take centuries to get here).
    pub fn out_of_fuel(&mut self) -> Result<(), TrapKind> {
        if self.limits.fuel.is_some() {
            return Err(TrapKind::FuelExhausted);
        }
        let spent = (self.fuel_start as i128 - self.fuel as i128).max(0);
        self.fuel_uncounted = self.fuel_uncounted.saturating_add(u64::try_from(spent).unwrap_or(u64::MAX));
        self.fuel = i64::MAX;
        self.fuel_start = i64::MAX;
        Ok(())
    }

    /// Instructions after the running one in its basic block (0 outside a run).
    fn rest_of_block(&self) -> i64 {
        match self.frames.last() {
            Some(frame) => {
                let rest = &self.module.funcs[frame.func as usize].block_rest;
                rest.get(frame.pc as usize).map_or(0, |&n| i64::from(n))
            }
            None => 0,
        }
    }

    /// Fuel used so far, as the spec counts it; never more than the limit.
    pub fn fuel_used(&self) -> u64 {
        let counted = u64::try_from((self.fuel_start as i128 - self.fuel as i128).max(0)).unwrap_or(u64::MAX);
        let used = counted.saturating_add(self.fuel_uncounted);
        self.limits.fuel.map_or(used, |limit| used.min(limit))
    }

    // ----- Traps -----

    /// The stack trace at the current frames, innermost first.
    /// Frames of compiler-generated functions (names starting with `<`, such as
    /// `<init>`) are left out unless the trap happened in one of them; frames of code
    /// from a library compiled with the program (a file named `<...>`, such as the
    /// prelude's `Map`) are left out, so a trap in `m[k]` is traced to the line that
    /// wrote it.
    pub fn trace(&self) -> Vec<TraceFrame> {
        let bc = &self.module.bytecode;
        let library = |frame: &Frame| {
            let func = &bc.funcs[frame.func as usize];
            bc.files.get(func.file as usize).is_some_and(|f| f.starts_with('<'))
        };
        let shown: Vec<&Frame> = self
            .frames
            .iter()
            .rev()
            .enumerate()
            .filter(|(depth, frame)| {
                (*depth == 0 || !bc.funcs[frame.func as usize].name.starts_with('<')) && !library(frame)
            })
            .map(|(_, frame)| frame)
            .collect();
        let shown = if shown.is_empty() { self.frames.iter().rev().take(1).collect() } else { shown };
        shown
            .into_iter()
            .map(|frame| {
                let func = &bc.funcs[frame.func as usize];
                let (line, col) = func.position(frame.pc as usize).unwrap_or((0, 0));
                TraceFrame {
                    function: func.name.clone(),
                    file: bc.files.get(func.file as usize).cloned().unwrap_or_default(),
                    line,
                    col,
                }
            })
            .collect()
    }

    /// Turns a trap at the current frames into a [`Trap`], charging the rest of the
    /// trapping instruction's basic block so fuel counts whole blocks in every tier.
    pub fn make_trap(&mut self, kind: TrapKind) -> Trap {
        // A trap at a function's entry check comes before its first block is entered.
        if !std::mem::take(&mut self.trapped_at_entry) {
            self.fuel = self.fuel.saturating_sub(self.rest_of_block());
        }
        Trap { kind, trace: self.trace() }
    }
}

/// The trap for a failed allocation.
pub fn heap_trap(e: crate::gc::HeapExhausted) -> Stop {
    Stop::Trap(TrapKind::HeapExhausted { limit: e.limit })
}
