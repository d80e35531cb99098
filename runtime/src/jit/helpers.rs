//! The runtime functions compiled code calls (`abi.rs` has the contract).
//!
//! Each takes the instance's [`NativeCtx`] first, copies what compiled code changed into
//! the [`Vm`] (frames in use, fuel), does its work with the interpreter's own code, and
//! refreshes the context before returning, since the register file or the frame stack may
//! have moved. None lets a panic unwind into compiled code: a panic becomes an internal
//! error trap.

use super::abi::{NativeCtx, NativeRet, STATUS_OK, STATUS_STOP, STOPPED};
use crate::gc::raw;
use crate::instance::Vm;
use crate::interp::trap::{Stop, TrapKind};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Why compiled code traps (the `code` argument of [`kiln_trap`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum TrapCode {
    DivisionByZero = 0,
    /// `a` is the index, `b` the length.
    IndexOutOfBounds = 1,
    Unreachable = 2,
    NoneUnwrapped = 3,
    WrongVariant = 4,
    /// `a` is the global's slot.
    GlobalUninitialised = 5,
    StackOverflow = 6,
}

impl TrapCode {
    fn from_raw(code: i64) -> Option<TrapCode> {
        use TrapCode::*;
        [
            DivisionByZero,
            IndexOutOfBounds,
            Unreachable,
            NoneUnwrapped,
            WrongVariant,
            GlobalUninitialised,
            StackOverflow,
        ]
        .into_iter()
        .find(|c| *c as i64 == code)
    }
}

/// Runs `f` on the instance behind `ctx` with the context synced in and out, turning a
/// stop or a panic into [`STATUS_STOP`].
///
/// # Safety
/// `ctx` is the context of a running instance (`NativeCtx::vm` is valid and nothing else
/// holds a reference to it while compiled code runs).
unsafe fn with_vm(ctx: *mut NativeCtx, f: impl FnOnce(&mut Vm) -> Result<(), Stop>) -> u64 {
    // SAFETY: the caller's guarantee; the instance outlives the call.
    let vm: &mut Vm = unsafe { &mut *(*ctx).vm };
    // SAFETY: compiled code wrote every frame below `depth`.
    unsafe { NativeCtx::sync_into(vm) };
    let vm_ptr: *mut Vm = vm;
    // SAFETY: `vm_ptr` is the unique reference above, reborrowed for the closure only.
    let res = catch_unwind(AssertUnwindSafe(|| f(unsafe { &mut *vm_ptr })));
    // SAFETY: as above; the closure's borrow has ended.
    let vm = unsafe { &mut *vm_ptr };
    let status = match res {
        Ok(Ok(())) => STATUS_OK,
        Ok(Err(stop)) => {
            vm.native_stop = Some(stop);
            STATUS_STOP
        }
        Err(panic) => {
            vm.native_stop = Some(Stop::Trap(TrapKind::Internal(panic_text(&panic))));
            STATUS_STOP
        }
    };
    NativeCtx::refresh_moving(vm);
    status
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic in the runtime".to_string())
}

/// Sets the running frame's pc (for traces and the fuel of the rest of its block).
fn at_pc(vm: &mut Vm, pc: i64) {
    if let (Ok(pc), Some(frame)) = (u32::try_from(pc), vm.frames.last_mut()) {
        frame.pc = pc;
    }
}

/// Runs instruction `pc` of the running frame with the interpreter's handler
/// (`interp::slow::run_slow_op`).
///
/// # Safety
/// `ctx` is a running instance's context (see [`with_vm`]).
#[export_name = "kiln_rt_exec_slow"]
pub unsafe extern "C" fn kiln_exec_slow(ctx: *mut NativeCtx, pc: i64) -> u64 {
    // SAFETY: the caller's guarantee.
    unsafe {
        with_vm(ctx, |vm| {
            at_pc(vm, pc);
            let frame = *vm.frames.last().expect("compiled code runs in a frame");
            let op = vm.module.funcs[frame.func as usize].code[pc as usize];
            crate::interp::run_slow_op(vm, op, frame.base as usize)
        })
    }
}

/// Raises the trap `code` at instruction `pc` of the running frame (`pc < 0`: leave the
/// frame's pc, for a trap on entry to a function not yet pushed). Always returns
/// [`STATUS_STOP`].
///
/// # Safety
/// `ctx` is a running instance's context.
#[export_name = "kiln_rt_trap"]
pub unsafe extern "C" fn kiln_trap(ctx: *mut NativeCtx, pc: i64, code: i64, a: i64, b: i64) -> u64 {
    // SAFETY: the caller's guarantee.
    unsafe {
        with_vm(ctx, |vm| {
            at_pc(vm, pc);
            let kind = match TrapCode::from_raw(code) {
                Some(TrapCode::DivisionByZero) => TrapKind::DivisionByZero,
                Some(TrapCode::IndexOutOfBounds) => TrapKind::IndexOutOfBounds { index: a, len: b as usize },
                Some(TrapCode::Unreachable) => TrapKind::Unreachable,
                Some(TrapCode::NoneUnwrapped) => TrapKind::NoneUnwrapped,
                Some(TrapCode::WrongVariant) => TrapKind::WrongVariant,
                Some(TrapCode::GlobalUninitialised) => {
                    TrapKind::GlobalUninitialised(vm.module.global_name(a as u32))
                }
                Some(TrapCode::StackOverflow) => TrapKind::StackOverflow,
                None => TrapKind::Internal(format!("unknown trap code {code}")),
            };
            Err(kind.into())
        })
    }
}

/// A fuel or interrupt check failed at `pc` (a loop back-edge, or the entry of the
/// running function when `at_entry` is 1): traps, or tops unmetered fuel up.
///
/// # Safety
/// `ctx` is a running instance's context.
#[export_name = "kiln_rt_limit"]
pub unsafe extern "C" fn kiln_limit(ctx: *mut NativeCtx, pc: i64, at_entry: i64) -> u64 {
    // SAFETY: the caller's guarantee.
    unsafe {
        with_vm(ctx, |vm| {
            at_pc(vm, pc);
            let interrupt = Arc::clone(&vm.interrupt);
            crate::interp::limit_reached(vm, &interrupt).map_err(|kind| {
                vm.trapped_at_entry = at_entry != 0;
                kind.into()
            })
        })
    }
}

/// Makes room for one more frame and `slots` register-file slots for a function being
/// entered, or traps with a stack overflow (at the caller's call site).
///
/// # Safety
/// `ctx` is a running instance's context.
#[export_name = "kiln_rt_enter_slow"]
pub unsafe extern "C" fn kiln_enter_slow(ctx: *mut NativeCtx, slots: i64) -> u64 {
    // SAFETY: the caller's guarantee.
    unsafe {
        with_vm(ctx, |vm| {
            let (slots, depth) = (slots as usize, vm.frames.len() + 1);
            if depth > vm.limits.max_call_depth || !crate::interp::grow(vm, slots, depth) {
                return Err(TrapKind::StackOverflow.into());
            }
            Ok(())
        })
    }
}

/// The function interface call site `site` runs for receiver `obj`, or `u64::MAX` after
/// recording an internal error.
///
/// # Safety
/// `ctx` is a running instance's context; `obj` is a live object (rule F5).
#[export_name = "kiln_rt_iface_target"]
pub unsafe extern "C" fn kiln_iface_target(ctx: *mut NativeCtx, site: i64, obj: u64) -> u64 {
    let mut target = u64::MAX;
    // SAFETY: the caller's guarantee.
    let status = unsafe {
        with_vm(ctx, |vm| {
            // `obj` is a live object of an implementing type (rules F5, M9).
            let ty = raw::type_index(raw::obj(obj));
            target = u64::from(vm.module.dispatch.target(site as u16, ty));
            Ok(())
        })
    };
    if status == STATUS_OK {
        target
    } else {
        u64::MAX
    }
}

/// Float remainder (`ops::float_rem`, C's `fmod`).
#[export_name = "kiln_rt_float_rem"]
pub extern "C" fn kiln_float_rem(a: f64, b: f64) -> f64 {
    kiln_bytecode::ops::float_rem(a, b)
}

/// The code-table entry of every function without compiled code: calls it through the
/// runtime (`interp::call_function`), which compiles it first when the tier says so and
/// interprets it otherwise. Has the signature of compiled code (`abi::NativeFn`).
///
/// # Safety
/// `ctx` is a running instance's context; the arguments are a call's (`abi.rs`).
#[export_name = "kiln_rt_call_slow"]
pub unsafe extern "C" fn kiln_call_slow(
    ctx: *mut NativeCtx,
    base: u64,
    ret: u64,
    func: u64,
    fuel: i64,
) -> NativeRet {
    // SAFETY: the caller's guarantee.
    unsafe {
        (*ctx).fuel = fuel;
        let status = with_vm(ctx, |vm| {
            super::check_native_stack(vm)?;
            // The compiled caller clears what the callee left in its registers itself.
            crate::interp::call_function(vm, func as u32, base as usize, ret as usize, 0)
        });
        if status != STATUS_OK {
            return NativeRet { fuel: STOPPED, value: 0 };
        }
        let value = if ret < (*ctx).regs_len { *(*ctx).regs.add(ret as usize) } else { 0 };
        NativeRet { fuel: (*ctx).fuel, value }
    }
}

/// Every helper by symbol name, for the JIT's symbol table (`translate::HELPER_SIGS`
/// gives their signatures). The same names are exported from the runtime's libraries,
/// where ahead-of-time objects find them (`kiln_rt_*`: the C API's names are `kiln_*`).
#[cfg(feature = "jit")]
pub fn symbols() -> [(&'static str, *const u8); 6] {
    [
        ("kiln_rt_exec_slow", kiln_exec_slow as *const u8),
        ("kiln_rt_trap", kiln_trap as *const u8),
        ("kiln_rt_limit", kiln_limit as *const u8),
        ("kiln_rt_enter_slow", kiln_enter_slow as *const u8),
        ("kiln_rt_iface_target", kiln_iface_target as *const u8),
        ("kiln_rt_float_rem", kiln_float_rem as *const u8),
    ]
}
