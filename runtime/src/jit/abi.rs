//! The contract between compiled code and the runtime.
//!
//! **Compiled functions** have the C calling convention of the host and the signature
//! [`NativeFn`]: `(ctx, base, ret, func, fuel) -> (fuel, value)`.
//! - `ctx` is the instance's [`NativeCtx`]; `base` the register-file slot of the callee's
//!   register 0 (its argument window); `ret` the slot that receives a two-slot result;
//!   `func` the function index (compiled code ignores it; the runtime's
//!   [`crate::jit::helpers::kiln_call_slow`], which sits in the code table for functions
//!   without code, needs it); `fuel` the fuel counter, which comes back as the first
//!   result when the call returns normally (it stays in a machine register across calls).
//!   The second result is the first slot of the function's result; a two-slot result is
//!   also written to `ret` and `ret + 1` (the caller reads it from there).
//! - The caller stores a one-slot result where it belongs, and nulls its own reference
//!   slots that the callee's registers overlaid (from `base` up to the caller's last
//!   reference slot, but for the result's): the collector scans the caller's reference
//!   slots, and they may hold what the callee left. Compiled callers do it inline
//!   (`translate/calls.rs`), the runtime in [`crate::jit::call_native`], as the
//!   interpreter's return does for interpreted callers.
//! - The callee pushes its own [`Frame`] (at `frame_top`, then `frame_top += 1`), pops it
//!   on return, and returns [`STATUS_OK`]. On a trap or `exit` it leaves every frame in place
//!   (the stack trace reads them), records why in the instance and returns [`STOPPED`] as
//!   its fuel, the counter being in `ctx.fuel`; each compiled caller returns it in turn.
//! - The register file and the frame stack may grow (and move) inside any call or helper:
//!   compiled code reloads `ctx.regs` and `ctx.frame_top` after each.
//!
//! **Helpers** are `extern "C"` functions of `helpers.rs` that take `ctx` first. Before
//! calling one that may collect, trap or observe fuel, compiled code stores the fuel
//! counter (as the interpreter would have it at that instruction) in `ctx.fuel` and passes
//! the instruction's pc; afterwards it reloads `ctx.fuel` and `ctx.regs`. Each helper
//! catches panics: none unwinds into compiled code.
//!
//! **Registers.** Reference-typed slots are in the register file at every safepoint (a
//! call, or a helper that may collect or write registers): compiled code writes them
//! through, and what it holds in machine registers it reads again after each safepoint,
//! so the collector finds every root in the register file and could update it in place.
//! A function that reaches no safepoint keeps its references in machine registers only
//! (nothing can look while it runs). Int, float and bool slots live in machine registers
//! (Cranelift variables) and are written to the register file only where a callee, a
//! native or a helper reads them (a call's argument window, a slow instruction's
//! operands).
//!
//! **Checks.** Fuel and interrupts are one compare: the counter against the floor behind
//! `ctx.interrupt` ([`Interrupt`]), at or below which the runtime is called.

use crate::instance::Interrupt;
use crate::instance::Vm;
use crate::interp::frame::Frame;

/// A compiled function (see the module documentation).
pub type NativeFn = unsafe extern "C" fn(*mut NativeCtx, u64, u64, u64, i64) -> NativeRet;

/// What a compiled function returns: two integer registers in the C convention.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NativeRet {
    /// The fuel counter after the call, or [`STOPPED`].
    pub fuel: i64,
    /// The first slot of the result (unspecified for functions without one).
    pub value: u64,
}

/// The fuel a compiled function returns when the run stopped. A run that returns
/// normally never has this count: fuel below zero traps at the next check, and
/// size-dependent charges saturate no lower than this only by trapping.
pub const STOPPED: i64 = i64::MIN;

/// A helper returned normally.
pub const STATUS_OK: u64 = 0;
/// A helper stopped the run (trap or `exit`); the reason is in `Vm::native_stop`.
pub const STATUS_STOP: u64 = 1;

/// What compiled code reads and writes of an instance, at fixed offsets. It mirrors the
/// instance's register file, frame stack and fuel while compiled code runs; helpers copy
/// it back into the [`Vm`] on entry and refresh it on exit ([`NativeCtx::refresh`]).
#[repr(C)]
pub struct NativeCtx {
    /// Register-file slot 0.
    pub regs: *mut u64,
    /// Slots available in the register file.
    pub regs_len: u64,
    /// The frame stack's buffer.
    pub frames: *mut Frame,
    /// One past the last frame the buffer has room for.
    pub frames_end: *mut Frame,
    /// One past the top frame in use (`frames + depth`).
    pub frame_top: *mut Frame,
    /// The fuel counter, as the interpreter keeps it (`Vm::fuel`).
    pub fuel: i64,
    /// The instance's interrupt request: the fuel counter's floor (`Interrupt`).
    pub interrupt: *const Interrupt,
    /// The instance's globals.
    pub globals: *mut u64,
    /// The module's code table: each function's compiled code, or
    /// [`crate::jit::helpers::kiln_call_slow`] where it has none.
    pub entries: *const usize,
    /// Compiled code traps with a stack overflow below this stack address (a backstop: the
    /// run's stack is sized for the deepest call stack the limits allow).
    pub stack_limit: usize,
    /// The instance.
    pub vm: *mut Vm,
    /// The instance's heap (compiled code allocates small objects inline).
    pub heap: *mut crate::gc::Heap,
    /// The status of the last fuel or interrupt check that called the runtime (the check
    /// goes through a trampoline that preserves every register and returns nothing).
    pub check_status: u64,
    /// The module's object descriptors (`PreparedModule::descs`), for relocatable code:
    /// the JIT embeds these four addresses in its code, ahead-of-time code cannot.
    pub descs: *const crate::gc::raw::ObjDesc,
    /// The module's constant strings (`ImmortalStrings::refs`).
    pub strings: *const u64,
    /// The module's dense interface dispatch tables (`Dispatch::dense_cells`).
    pub dense: *const u32,
    /// The module's method functions (`Dispatch::method_funcs`).
    pub method_funcs: *const u32,
}

// SAFETY: the pointers are only dereferenced while the owning instance runs, on the
// thread running it.
unsafe impl Send for NativeCtx {}

impl Default for NativeCtx {
    fn default() -> NativeCtx {
        NativeCtx {
            regs: std::ptr::null_mut(),
            regs_len: 0,
            frames: std::ptr::null_mut(),
            frames_end: std::ptr::null_mut(),
            frame_top: std::ptr::null_mut(),
            fuel: 0,
            interrupt: std::ptr::null(),
            globals: std::ptr::null_mut(),
            entries: std::ptr::null(),
            stack_limit: 0,
            vm: std::ptr::null_mut(),
            heap: std::ptr::null_mut(),
            check_status: 0,
            descs: std::ptr::null(),
            strings: std::ptr::null(),
            dense: std::ptr::null(),
            method_funcs: std::ptr::null(),
        }
    }
}

/// Byte offsets of the fields compiled code uses.
#[cfg_attr(not(feature = "jit"), allow(dead_code))] // used by the JIT's translator
pub mod offsets {
    use super::NativeCtx;
    use crate::interp::frame::Frame;
    use std::mem::offset_of;

    pub const REGS: i32 = offset_of!(NativeCtx, regs) as i32;
    pub const REGS_LEN: i32 = offset_of!(NativeCtx, regs_len) as i32;
    pub const FRAMES_END: i32 = offset_of!(NativeCtx, frames_end) as i32;
    pub const FRAME_TOP: i32 = offset_of!(NativeCtx, frame_top) as i32;
    pub const FUEL: i32 = offset_of!(NativeCtx, fuel) as i32;
    pub const INTERRUPT: i32 = offset_of!(NativeCtx, interrupt) as i32;
    pub const GLOBALS: i32 = offset_of!(NativeCtx, globals) as i32;
    pub const ENTRIES: i32 = offset_of!(NativeCtx, entries) as i32;
    pub const STACK_LIMIT: i32 = offset_of!(NativeCtx, stack_limit) as i32;
    pub const HEAP: i32 = offset_of!(NativeCtx, heap) as i32;
    pub const CHECK_STATUS: i32 = offset_of!(NativeCtx, check_status) as i32;
    pub const DESCS: i32 = offset_of!(NativeCtx, descs) as i32;
    pub const STRINGS: i32 = offset_of!(NativeCtx, strings) as i32;
    pub const DENSE: i32 = offset_of!(NativeCtx, dense) as i32;
    pub const METHOD_FUNCS: i32 = offset_of!(NativeCtx, method_funcs) as i32;

    pub const FRAME_SIZE: i64 = std::mem::size_of::<Frame>() as i64;
    pub const FRAME_FUNC: i32 = offset_of!(Frame, func) as i32;
    pub const FRAME_PC: i32 = offset_of!(Frame, pc) as i32;
    // Compiled code writes `func` and `base` with one 8-byte store.
    const _: () = assert!(offset_of!(Frame, base) == offset_of!(Frame, func) + 4);

    // The layout spec/runtime.md documents: code compiled ahead of time depends on it, so
    // a change here is a new `precompiled::ABI_VERSION`.
    const _: () = {
        assert!(REGS == 0 && REGS_LEN == 8 && offset_of!(NativeCtx, frames) == 16 && FRAMES_END == 24);
        assert!(FRAME_TOP == 32 && FUEL == 40 && INTERRUPT == 48 && GLOBALS == 56 && ENTRIES == 64);
        assert!(STACK_LIMIT == 72 && offset_of!(NativeCtx, vm) == 80 && HEAP == 88 && CHECK_STATUS == 96);
        assert!(DESCS == 104 && STRINGS == 112 && DENSE == 120 && METHOD_FUNCS == 128);
        assert!(FRAME_SIZE == 32 && FRAME_FUNC == 8 && FRAME_PC == 16);
    };
}

impl NativeCtx {
    /// Points the context at `vm`: what may move (`refresh_moving`), and what stays put
    /// for the whole run (the instance, its heap, globals, interrupt flag, code table).
    pub fn refresh(vm: &mut Vm) {
        NativeCtx::refresh_moving(vm);
        let vm_ptr: *mut Vm = vm;
        let interrupt: *const Interrupt = &*vm.interrupt;
        let entries = vm.module.jit.entries_ptr();
        let heap: *mut crate::gc::Heap = &mut vm.heap;
        let globals = vm.globals.as_mut_ptr();
        let pm = &*vm.module;
        let (descs, strings) = (pm.descs.as_ptr(), pm.strings.refs().as_ptr());
        let (dense, method_funcs) = (pm.dispatch.dense_cells().as_ptr(), pm.dispatch.method_funcs().as_ptr());
        let ctx = &mut vm.native;
        (ctx.descs, ctx.strings, ctx.dense, ctx.method_funcs) = (descs, strings, dense, method_funcs);
        ctx.heap = heap;
        ctx.interrupt = interrupt;
        ctx.globals = globals;
        ctx.entries = entries;
        ctx.vm = vm_ptr;
    }

    /// Points the context at what a helper may have changed: the register file and the
    /// frame stack (which may have moved), the frames in use and fuel. The rest stays
    /// put for the whole run.
    pub fn refresh_moving(vm: &mut Vm) {
        let ctx = &mut vm.native;
        ctx.regs = vm.stack.base();
        ctx.regs_len = vm.stack.len() as u64;
        let frames = vm.frames.as_mut_ptr();
        ctx.frames = frames;
        // SAFETY: both are within (or one past) the buffer's allocation.
        unsafe {
            ctx.frames_end = frames.add(vm.frames.capacity());
            ctx.frame_top = frames.add(vm.frames.len());
        }
        ctx.fuel = vm.fuel;
    }

    /// Frames in use.
    pub fn depth(&self) -> usize {
        (self.frame_top as usize - self.frames as usize) / std::mem::size_of::<Frame>()
    }

    /// Copies what compiled code changed (frames in use, fuel) back into `vm`.
    ///
    /// # Safety
    /// The frames of `vm.frames`' buffer below `frame_top` are initialised (compiled code
    /// writes frames below `frames_end` only).
    pub unsafe fn sync_into(vm: &mut Vm) {
        let (depth, fuel) = (vm.native.depth(), vm.native.fuel);
        // SAFETY: the caller's guarantee.
        unsafe { vm.frames.set_len(depth) };
        vm.fuel = fuel;
    }
}
