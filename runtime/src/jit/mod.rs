//! The JIT tier: hot functions compiled to machine code with Cranelift.
//!
//! - `abi.rs` — the contract between compiled code and the runtime: the native
//!   signature, the context (`NativeCtx`), status codes, what lives where.
//! - `translate/` — bytecode to Cranelift IR, generic over `cranelift_module::Module`.
//! - `helpers.rs` — the `extern "C"` runtime functions compiled code calls.
//! - `compiler.rs` — the `JITModule` that holds a module's code (`no_compiler.rs` in
//!   a runtime built without the `jit` feature).
//! - `aot.rs` — relocatable objects of a whole module for a target (`vmc aot`);
//!   `precompiled.rs` — installing such code when an executable starts.
//! - `stack.rs` — the machine stack runs that may use compiled code execute on.
//!
//! Compiled code belongs to the prepared module ([`ModuleCode`]) and is shared by every
//! instance of it; which code an instance runs is decided per instance by its
//! [`TierConfig`]. Compiled and interpreted functions push the same frames on the same
//! frame stack and register file, so traces, the collector's roots, fuel and interrupts
//! see one stack whatever mix of tiers it holds (ARCHITECTURE.md, "Frames").

pub mod abi;
#[cfg(feature = "jit")]
pub mod aot;
// Without the `jit` feature (the runtime library of ahead-of-time executables) a
// stand-in refuses every compilation: functions without ahead-of-time code are
// interpreted.
#[cfg_attr(not(feature = "jit"), path = "no_compiler.rs")]
mod compiler;
pub mod helpers;
pub mod precompiled;
mod stack;
#[cfg(feature = "jit")]
mod translate;

use crate::instance::Vm;
use crate::interp::frame::Frame;
use crate::interp::trap::{Stop, TrapKind};
use abi::{NativeCtx, NativeFn};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Where a compiled function starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A call: the function pushes its frame.
    Call,
    /// On-stack replacement at the loop header `pc`: the interpreter's frame is already
    /// pushed and every register is in the register file.
    Osr(u32),
}

/// Which code an instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// The interpreter only.
    Interp,
    /// Every function compiled before its first call.
    Jit,
    /// Interpreted first; a function is compiled once its calls and loop back-edges
    /// pass the threshold, and a running loop moves to compiled code at its header.
    Auto,
}

/// Default tier-up threshold: calls plus loop back-edges of one function.
pub const DEFAULT_JIT_THRESHOLD: u32 = 1000;
/// Most bytes of machine code one module compiles; later functions stay interpreted.
pub const MAX_CODE_BYTES: u64 = 64 << 20;
/// Machine stack per frame the run's stack is sized for (a compiled frame, or an
/// interpreted one entered from compiled code, with its runtime frames).
const STACK_PER_FRAME: usize = 1024;
/// Machine stack kept free below the deepest Kiln frame, for the runtime's own work
/// (natives, sorting, collections).
const STACK_RESERVE: usize = 512 << 10;

/// An instance's tier choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierConfig {
    /// The tier.
    pub tier: Tier,
    /// For [`Tier::Auto`]: calls plus back-edges before a function is compiled.
    pub threshold: u32,
}

impl Default for TierConfig {
    fn default() -> TierConfig {
        TierConfig { tier: Tier::Auto, threshold: DEFAULT_JIT_THRESHOLD }
    }
}

impl TierConfig {
    /// Whether compiled code may run.
    pub fn uses_jit(&self) -> bool {
        self.tier != Tier::Interp
    }
}

/// JIT statistics of a module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Functions compiled (each function once; OSR entries not counted).
    pub functions_compiled: u64,
    /// Loop headers compiled for on-stack replacement.
    pub osr_compiled: u64,
    /// Time spent compiling, in nanoseconds.
    pub compile_ns: u64,
    /// The median time of one compilation (a function or an OSR entry), in nanoseconds.
    pub compile_median_ns: u64,
    /// The longest compilation, in nanoseconds.
    pub compile_max_ns: u64,
    /// Machine code bytes.
    pub code_bytes: u64,
    /// Call sites lowered as the callee's body rather than a call (an interface site
    /// counts once per implementation inlined).
    pub calls_inlined: u64,
    /// Functions that stay interpreted because they could not be compiled, with why.
    pub failures: Vec<String>,
}

/// A module's compiled code.
pub struct ModuleCode {
    /// Each function's entry: its compiled code, or [`helpers::kiln_call_slow`].
    entries: Box<[AtomicUsize]>,
    /// Functions that failed to compile (never retried).
    failed: Box<[AtomicBool]>,
    /// OSR entries by (function, loop header pc).
    osr: Mutex<HashMap<(u32, u32), usize>>,
    compiler: Mutex<Option<Result<compiler::Compiler, String>>>,
    functions_compiled: AtomicU64,
    osr_compiled: AtomicU64,
    compile_ns: AtomicU64,
    /// The time of each compilation, in nanoseconds.
    compile_times: Mutex<Vec<u64>>,
    code_bytes: AtomicU64,
    calls_inlined: AtomicU64,
    failures: Mutex<Vec<String>>,
}

fn slow_entry() -> usize {
    helpers::kiln_call_slow as *const () as usize
}

impl ModuleCode {
    /// No compiled code yet, for a module of `n_funcs` functions.
    pub fn new(n_funcs: usize) -> ModuleCode {
        ModuleCode {
            entries: (0..n_funcs).map(|_| AtomicUsize::new(slow_entry())).collect(),
            failed: (0..n_funcs).map(|_| AtomicBool::new(false)).collect(),
            osr: Mutex::new(HashMap::new()),
            compiler: Mutex::new(None),
            functions_compiled: AtomicU64::new(0),
            osr_compiled: AtomicU64::new(0),
            compile_ns: AtomicU64::new(0),
            compile_times: Mutex::new(Vec::new()),
            code_bytes: AtomicU64::new(0),
            calls_inlined: AtomicU64::new(0),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// The code table compiled code calls through.
    pub fn entries_ptr(&self) -> *const usize {
        self.entries.as_ptr() as *const usize
    }

    /// Statistics so far.
    pub fn stats(&self) -> JitStats {
        let mut times = self.compile_times.lock().map(|t| t.clone()).unwrap_or_default();
        times.sort_unstable();
        JitStats {
            functions_compiled: self.functions_compiled.load(Ordering::Relaxed),
            osr_compiled: self.osr_compiled.load(Ordering::Relaxed),
            compile_ns: self.compile_ns.load(Ordering::Relaxed),
            compile_median_ns: times.get(times.len() / 2).copied().unwrap_or(0),
            compile_max_ns: times.last().copied().unwrap_or(0),
            code_bytes: self.code_bytes.load(Ordering::Relaxed),
            calls_inlined: self.calls_inlined.load(Ordering::Relaxed),
            failures: self.failures.lock().map(|f| f.clone()).unwrap_or_default(),
        }
    }

    /// Compiled code of `func` (with `entry`), compiling it now; `None` when it cannot
    /// be compiled (recorded in the statistics, never retried).
    fn compile(&self, pm: &crate::loader::PreparedModule, func: u32, entry: Entry) -> Option<usize> {
        if self.failed[func as usize].load(Ordering::Relaxed) {
            return None;
        }
        let mut guard = self.compiler.lock().unwrap_or_else(|e| e.into_inner());
        if let Entry::Call = entry {
            let e = self.entries[func as usize].load(Ordering::Acquire);
            if e != slow_entry() {
                return Some(e); // another instance compiled it meanwhile
            }
        }
        let compiler = match guard.get_or_insert_with(compiler::Compiler::new) {
            Ok(c) => c,
            Err(e) => {
                let e = e.clone();
                self.fail(pm, func, &e);
                return None;
            }
        };
        if self.code_bytes.load(Ordering::Relaxed) >= MAX_CODE_BYTES {
            self.fail(
                pm,
                func,
                &format!("the module's compiled code reached its cap of {MAX_CODE_BYTES} bytes"),
            );
            return None;
        }
        let start = Instant::now();
        let res = compiler.compile(pm, func, entry);
        let took = start.elapsed().as_nanos() as u64;
        self.compile_ns.fetch_add(took, Ordering::Relaxed);
        if let Ok(mut times) = self.compile_times.lock() {
            times.push(took);
        }
        match res {
            Ok(compiler::Compiled { code, bytes, calls_inlined }) => {
                self.code_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
                self.calls_inlined.fetch_add(calls_inlined as u64, Ordering::Relaxed);
                match entry {
                    Entry::Call => {
                        self.entries[func as usize].store(code, Ordering::Release);
                        self.functions_compiled.fetch_add(1, Ordering::Relaxed);
                    }
                    Entry::Osr(_) => {
                        self.osr_compiled.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Some(code)
            }
            Err(e) => {
                self.fail(pm, func, &e);
                None
            }
        }
    }

    fn fail(&self, pm: &crate::loader::PreparedModule, func: u32, why: &str) {
        if !self.failed[func as usize].swap(true, Ordering::Relaxed) {
            let name = &pm.bytecode.funcs[func as usize].name;
            if let Ok(mut f) = self.failures.lock() {
                f.push(format!("{name}: {why}"));
            }
        }
    }
}

/// The compiled code a call to `func` should run, compiling it first if the instance's
/// tier says it is time; `None` to interpret it.
#[inline]
pub fn code_for_call(vm: &mut Vm, func: u32) -> Option<NativeFn> {
    if !vm.tier.uses_jit() {
        return None;
    }
    let e = vm.module.jit.entries[func as usize].load(Ordering::Acquire);
    if e != slow_entry() {
        // SAFETY: non-slow entries are compiled functions with the `NativeFn` signature.
        return Some(unsafe { std::mem::transmute::<usize, NativeFn>(e) });
    }
    if !hot(vm, func) {
        return None;
    }
    let module = std::sync::Arc::clone(&vm.module);
    let code = compile_for(vm, &module, func, Entry::Call)?;
    // SAFETY: as above: the compiler made `code` with the `NativeFn` signature.
    Some(unsafe { std::mem::transmute::<usize, NativeFn>(code) })
}

/// Compiles for instance `vm`, which is charged the time (its ledger: `Vm::compile_time`).
fn compile_for(
    vm: &mut Vm,
    module: &crate::loader::PreparedModule,
    func: u32,
    entry: Entry,
) -> Option<usize> {
    let start = Instant::now();
    let code = module.jit.compile(module, func, entry);
    vm.compile_time += start.elapsed();
    code
}

/// Counts a call or a loop back-edge of `func`: whether it is now hot enough to compile.
fn hot(vm: &mut Vm, func: u32) -> bool {
    match vm.tier.tier {
        Tier::Interp => false,
        Tier::Jit => true,
        Tier::Auto => {
            let count = &mut vm.hotness[func as usize];
            *count = count.saturating_add(1);
            *count >= vm.tier.threshold
        }
    }
}

/// Counts a taken loop back-edge of interpreted `func`: whether to try entering
/// compiled code at the loop header.
#[inline]
pub fn count_back_edge(vm: &mut Vm, func: u32) -> bool {
    hot(vm, func) && !vm.module.jit.failed[func as usize].load(Ordering::Relaxed)
}

/// Compiled code entering `func` at loop header `pc` with its frame already running
/// (compiling it now if needed).
pub fn osr_code(vm: &mut Vm, func: u32, pc: u32) -> Option<NativeFn> {
    let module = std::sync::Arc::clone(&vm.module);
    let known = module.jit.osr.lock().ok().and_then(|m| m.get(&(func, pc)).copied());
    let code = match known {
        Some(code) => code,
        None => {
            // Later calls run compiled code too.
            compile_for(vm, &module, func, Entry::Call)?;
            let code = compile_for(vm, &module, func, Entry::Osr(pc))?;
            if let Ok(mut m) = module.jit.osr.lock() {
                m.insert((func, pc), code);
            }
            code
        }
    };
    // SAFETY: the compiler made `code` with the `NativeFn` signature.
    Some(unsafe { std::mem::transmute::<usize, NativeFn>(code) })
}

/// Continues the running interpreted frame `me` in compiled code `osr` from the loop
/// header it was compiled for; returns when that frame has returned.
pub fn enter_osr(vm: &mut Vm, osr: NativeFn, me: &Frame) -> Result<(), Stop> {
    vm.osr_entries += 1;
    call_native(vm, osr, me.func, me.base as usize, me.ret as usize, me.clear_end as usize)
}

/// Runs compiled code `code` for a call of `func` from the runtime, as
/// [`crate::interp::call_function`] does: on return the slots `base..clear_end` are
/// zeroed and the result is in its `ret` slot (compiled code returns a one-slot result
/// in a register only; `abi.rs`).
pub fn call_native(
    vm: &mut Vm,
    code: NativeFn,
    func: u32,
    base: usize,
    ret: usize,
    clear_end: usize,
) -> Result<(), Stop> {
    if vm.native.stack_limit == 0 {
        return first_entry(vm, code, func, base, ret, clear_end);
    }
    NativeCtx::refresh(vm);
    let ctx: *mut NativeCtx = &mut vm.native;
    let fuel = vm.fuel;
    // SAFETY: `code` has the `NativeFn` contract; the context describes this instance,
    // which nothing else touches until the call returns (helpers reach it through `ctx`).
    let res = unsafe { code(ctx, base as u64, ret as u64, u64::from(func), fuel) };
    // SAFETY: compiled code keeps `depth` frames written.
    unsafe { NativeCtx::sync_into(vm) };
    if res.fuel == abi::STOPPED {
        return Err(vm
            .native_stop
            .take()
            .unwrap_or_else(|| TrapKind::Internal("compiled code stopped without a reason".into()).into()));
    }
    vm.fuel = res.fuel;
    let width = vm.module.bytecode.funcs[func as usize].sig.result.map_or(0, |t| t.width());
    let len = vm.stack.len();
    // A two-slot result is in the register file already: keep it while clearing.
    let kept = (width == 2 && ret + 1 < len).then(|| (vm.stack.get(ret), vm.stack.get(ret + 1)));
    for slot in base..clear_end.min(len) {
        vm.stack.set(slot, 0);
    }
    if let Some((first, second)) = kept {
        vm.stack.set(ret, first);
        vm.stack.set(ret + 1, second);
    } else if width == 1 && ret < len {
        vm.stack.set(ret, res.value);
    }
    Ok(())
}

/// The run's first entry into compiled code, from the interpreter on the host's stack:
/// the rest of the call runs on the run's own stack. Kept out of line so that the stack
/// switch does not enlarge [`call_native`]'s frame, which every nesting of compiled and
/// interpreted code repeats.
#[cold]
#[inline(never)]
fn first_entry(
    vm: &mut Vm,
    code: NativeFn,
    func: u32,
    base: usize,
    ret: usize,
    clear_end: usize,
) -> Result<(), Stop> {
    on_run_stack(vm, |vm| call_native(vm, code, func, base, ret, clear_end))
}

/// Runs `f` on a machine stack sized for the instance's deepest allowed call stack, and
/// sets the stack limit compiled code checks as a backstop (0, the limit outside such a
/// stack, means "not on it yet": compiled code is only ever entered on it).
fn on_run_stack<R>(vm: &mut Vm, f: impl FnOnce(&mut Vm) -> R) -> R {
    let size = vm
        .limits
        .max_call_depth
        .saturating_mul(STACK_PER_FRAME)
        .saturating_add(2 * STACK_RESERVE)
        .min(4 << 30);
    stack::run_on(size, |lowest| {
        vm.native.stack_limit = lowest + STACK_RESERVE;
        let r = f(vm);
        vm.native.stack_limit = 0;
        r
    })
}

fn approximate_sp() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// The backstop stack check before the runtime nests a run of the interpreter under
/// compiled code.
pub fn check_native_stack(vm: &Vm) -> Result<(), Stop> {
    if approximate_sp() < vm.native.stack_limit {
        return Err(TrapKind::StackOverflow.into());
    }
    Ok(())
}
