//! The dispatch loop.
//!
//! Fuel: every dispatched instruction costs one unit, kept in a local counter. Because
//! calls, branches and terminators end basic blocks, this equals charging each block its
//! length on entry at every point where fuel is observed: at function entry and loop
//! back-edges (where it is checked), at the end of the run, and at traps (where
//! `Vm::make_trap` adds the rest of the trapping block).

use super::frame::Frame;
use super::op::Op;
use super::slow;
use super::trap::{Stop, TrapKind};
use crate::gc::raw;
use crate::instance::Vm;
use crate::loader::PreparedFunc;
use kiln_bytecode::ops;
use std::cmp::Ordering as CmpOrdering;
use std::sync::Arc;

/// Runs function `func` to completion with arguments `args` (the bits of each parameter,
/// one slot each; references among them rooted by the caller until this returns) and
/// returns its one-slot result (0 for none).
///
/// The outermost frame's registers start at slot 1 of the register file; its result is
/// written to slot 0.
///
/// On `Err`, `vm.frames` still holds the stack at the stopping point, with the running
/// frame's `pc` at the instruction that stopped it.
pub fn execute(vm: &mut Vm, func: u32, args: &[u64]) -> Result<u64, Stop> {
    vm.frames.clear();
    vm.native.stack_limit = 0;
    if !vm.stack.grow_to(1 + args.len()) {
        return Err(TrapKind::StackOverflow.into());
    }
    vm.stack.set(0, 0);
    for (i, &bits) in args.iter().enumerate() {
        vm.stack.set(1 + i, bits);
    }
    // Compiled code, where there is some, moves to a stack of its own when it is first
    // entered (`jit::call_native`): a run that compiles nothing never maps one.
    call_function(vm, func, 1, 0, 0)?;
    Ok(vm.stack.get(0))
}

/// Calls function `func` as a callee of the running frame (or as the outermost frame):
/// its arguments are in register-file slots `base..`, its result goes to `ret`, and on
/// return the slots `base..clear_end` are zeroed (see [`Frame::clear_end`]). Runs compiled
/// code where the function has some (compiling it first if the tier says so), the
/// interpreter otherwise.
pub fn call_function(vm: &mut Vm, func: u32, base: usize, ret: usize, clear_end: usize) -> Result<(), Stop> {
    if let Some(code) = crate::jit::code_for_call(vm, func) {
        return crate::jit::call_native(vm, code, func, base, ret, clear_end);
    }
    let (module, interrupt) = shared(vm);
    let callee = &module.funcs[func as usize];
    let depth = vm.frames.len();
    if depth >= vm.limits.max_call_depth || !grow(vm, base + callee.n_regs, depth + 1) {
        return Err(TrapKind::StackOverflow.into());
    }
    vm.frames.push(Frame {
        code: callee.code.as_ptr(),
        func,
        pc: 0,
        base: base as u32,
        ret: ret as u32,
        clear_end: clear_end as u32,
    });
    // SAFETY: the frame's registers fit in the register file (grown above).
    unsafe { null_local_refs(vm.stack.base().add(base), callee) };
    if vm.fuel <= interrupt.floor() {
        if let Err(kind) = limit_reached(vm, interrupt) {
            vm.trapped_at_entry = true;
            return Err(kind.into());
        }
    }
    run(vm, depth)
}

/// The instance's module and interrupt, borrowed apart from `vm` so the run can change
/// `vm` while reading them (without touching their reference counts on every entry).
fn shared<'a>(vm: &Vm) -> (&'a crate::loader::PreparedModule, &'a crate::instance::Interrupt) {
    // SAFETY: `vm.module` and `vm.interrupt` are set when the instance is created and
    // never replaced (instance/mod.rs), and each `Arc` keeps its value alive while `vm`
    // lives; every caller uses the references only during a run on `vm`.
    unsafe { (&*Arc::as_ptr(&vm.module), &*Arc::as_ptr(&vm.interrupt)) }
}

/// Interprets the running frame (the last of `vm.frames`, entered but not yet started
/// or resumed at its `pc`) and every frame it pushes, until the stack is back to `floor`
/// frames: that frame has returned, its result written to its `ret` slot.
fn run(vm: &mut Vm, floor: usize) -> Result<(), Stop> {
    let (module, interrupt) = shared(vm);
    let funcs = &module.funcs[..];
    let jit_on = vm.tier.uses_jit();
    // Frames are written through this pointer, below `frames_cap`; when a call needs
    // more, `grow` reallocates `vm.frames` and the pointer is derived again. The same
    // goes for the register file and `stack`.
    let mut frames: *mut Frame = vm.frames.as_mut_ptr();
    let mut frames_cap = vm.frames.capacity();
    let mut depth: usize = vm.frames.len();
    let mut stack: *mut u64 = vm.stack.base();
    let mut stack_len = vm.stack.len();
    let max_depth = vm.limits.max_call_depth;
    let top = *vm.frames.last().expect("a frame to run");
    let mut code: *const Op = top.code;
    let mut pc: usize = top.pc as usize;
    let mut func_index = top.func;
    let mut base: usize = top.base as usize;
    // SAFETY: the running frame lies inside the register file.
    let mut regs: *mut u64 = unsafe { stack.add(base) };
    let mut fuel: i64 = vm.fuel;
    // The running function's `refs_end`, handed to its callees' frames.
    let mut refs_end: u32 = funcs[func_index as usize].refs_end as u32;

    // Register access.
    macro_rules! r {
        ($i:expr) => {
            *{
                #[cfg(feature = "checked")]
                assert!(base + ($i as usize) < stack_len);
                // SAFETY: rule F2: every register operand is below the function's register
                // count, and a frame is only entered when `base + n_regs <= stack_len`
                // (`Call` grows the register file first). Only this loop touches slots
                // through `regs` while it runs (natives get the slot index instead).
                unsafe { &mut *regs.add($i as usize) }
            }
        };
    }
    macro_rules! rf {
        ($i:expr) => {
            f64::from_bits(r!($i))
        };
    }
    macro_rules! ri {
        ($i:expr) => {
            r!($i) as i64
        };
    }
    // Saves the hot state so the collector, natives and traces see it.
    macro_rules! sync {
        () => {
            vm.fuel = fuel;
            // SAFETY: the frames below `depth` were written (by `execute` and `Call`) and
            // `depth <= frames_cap`, the vector's capacity.
            unsafe {
                vm.frames.set_len(depth);
                (*frames.add(depth - 1)).pc = (pc - 1) as u32;
            }
        };
    }
    macro_rules! trap {
        ($kind:expr) => {{
            sync!();
            return Err(Stop::Trap($kind));
        }};
    }
    // Calls an out-of-line handler at a safepoint.
    macro_rules! slow {
        ($e:expr) => {{
            sync!();
            let res = $e;
            fuel = vm.fuel;
            res?
        }};
    }
    // Derives the cached pointers again after code outside this loop ran (it may have
    // grown the frame stack or the register file, and charged fuel).
    macro_rules! reload {
        () => {
            frames = vm.frames.as_mut_ptr();
            frames_cap = vm.frames.capacity();
            stack = vm.stack.base();
            stack_len = vm.stack.len();
            // SAFETY: the running frame lies inside the register file.
            regs = unsafe { stack.add(base) };
            fuel = vm.fuel;
        };
    }
    // The running frame has returned and written its result: continue in its caller, or
    // leave when the stack is back to `floor`.
    macro_rules! resume_caller {
        () => {{
            depth -= 1;
            if depth == floor {
                // SAFETY: frames below `depth` are written.
                unsafe { vm.frames.set_len(depth) };
                vm.fuel = fuel;
                return Ok(());
            }
            // SAFETY: frames `0..depth` were written by `call_function` and `Call`.
            let caller = unsafe { *frames.add(depth - 1) };
            code = caller.code;
            pc = caller.pc as usize + 1;
            base = caller.base as usize;
            func_index = caller.func;
            // SAFETY: the caller's frame was inside the register file when it was entered,
            // and the register file only grows.
            regs = unsafe { stack.add(base) };
            refs_end = funcs[func_index as usize].refs_end as u32;
        }};
    }
    // A taken branch; a backward one is a loop back-edge and checks fuel first, and with
    // the JIT on counts towards compiling the function and entering it here (OSR).
    macro_rules! branch {
        ($back:expr, $cond:expr, $target:expr) => {
            if $cond {
                if $back {
                    if fuel <= interrupt.floor() {
                        vm.fuel = fuel;
                        match limit_reached(vm, interrupt) {
                            Ok(()) => fuel = vm.fuel,
                            Err(kind) => trap!(kind),
                        }
                    }
                    if jit_on && crate::jit::count_back_edge(vm, func_index) {
                        sync!();
                        if let Some(osr) = crate::jit::osr_code(vm, func_index, $target as u32) {
                            // SAFETY: the running frame is written.
                            let me = unsafe { *frames.add(depth - 1) };
                            let res = crate::jit::enter_osr(vm, osr, &me);
                            // The caller's registers are derived in `resume_caller`.
                            frames = vm.frames.as_mut_ptr();
                            frames_cap = vm.frames.capacity();
                            stack = vm.stack.base();
                            stack_len = vm.stack.len();
                            fuel = vm.fuel;
                            res?;
                            resume_caller!();
                            continue;
                        }
                    }
                }
                pc = $target as usize;
            }
        };
    }
    // Compares two string registers byte-wise, charging one unit of fuel per full 8 bytes
    // of the shorter one (a comparison's work grows with its input).
    macro_rules! str_compare {
        ($a:expr, $b:expr, $test:expr) => {{
            // Rule F5: both operands are `str` registers, so they hold live strings;
            // charging fuel does not collect, so the slices stay valid.
            let (ra, rb) = (r!($a), r!($b));
            // SAFETY: live strings (rule F5, above).
            let (x, y) = unsafe { (str_of(ra), str_of(rb)) };
            let cost = (x.len().min(y.len()) / 8) as u64;
            if cost > 0 {
                slow!(vm.charge(cost));
            }
            $test(ops::str_cmp(x, y)) as u64
        }};
    }
    // Returns from the running frame: zeroes the caller's slots its registers took (see
    // `Frame::clear_end`), then writes the result with `$write(stack, ret slot)`.
    macro_rules! ret {
        ($write:expr) => {{
            // SAFETY: frames below `depth` are written.
            let me = unsafe { *frames.add(depth - 1) };
            // SAFETY: `base..clear_end` lies in the caller's frame, inside the register file.
            unsafe { zero_range(stack, me.base as usize, me.clear_end as usize) };
            $write(stack, me.ret as usize);
            resume_caller!();
        }};
    }

    // A call: push a frame for function `func` whose registers start at `args`.
    macro_rules! call {
        ($dst:expr, $args:expr, $func:expr) => {{
            let (dst, args, func): (u16, u16, usize) = ($dst, $args, $func);
            // SAFETY: rule F2 (function index in range).
            let callee = unsafe { funcs.get_unchecked(func) };
            let new_base = base + args as usize;
            if jit_on {
                if let Some(native) = crate::jit::code_for_call(vm, func as u32) {
                    sync!();
                    let res = crate::jit::call_native(
                        vm,
                        native,
                        func as u32,
                        new_base,
                        base + dst as usize,
                        base + refs_end as usize,
                    );
                    reload!();
                    res?;
                    continue;
                }
            }
            if new_base + callee.n_regs > stack_len || depth >= frames_cap {
                // SAFETY: frames below `depth` are written; `depth <= frames_cap`.
                unsafe { vm.frames.set_len(depth) };
                if depth >= max_depth || !grow(vm, new_base + callee.n_regs, depth + 1) {
                    trap!(TrapKind::StackOverflow);
                }
                frames = vm.frames.as_mut_ptr();
                frames_cap = vm.frames.capacity();
                stack = vm.stack.base();
                stack_len = vm.stack.len();
            }
            // SAFETY: `depth < frames_cap` (grown above), so both frames are inside
            // the vector's buffer; the new frame's registers fit in the register
            // file (`new_base + n_regs <= stack_len`, grown above).
            unsafe {
                (*frames.add(depth - 1)).pc = (pc - 1) as u32;
                frames.add(depth).write(Frame {
                    code: callee.code.as_ptr(),
                    func: func as u32,
                    pc: 0,
                    base: new_base as u32,
                    ret: (base + dst as usize) as u32,
                    clear_end: (base + refs_end as usize) as u32,
                });
                regs = stack.add(new_base);
                null_local_refs(regs, callee);
            }
            depth += 1;
            refs_end = callee.refs_end as u32;
            func_index = func as u32;
            code = callee.code.as_ptr();
            pc = 0;
            base = new_base;
            if fuel <= interrupt.floor() {
                vm.fuel = fuel;
                // SAFETY: frames below `depth` are written; `depth <= frames_cap`.
                unsafe { vm.frames.set_len(depth) };
                match limit_reached(vm, interrupt) {
                    Ok(()) => fuel = vm.fuel,
                    Err(kind) => {
                        vm.trapped_at_entry = true;
                        return Err(Stop::Trap(kind));
                    }
                }
            }
        }};
    }

    loop {
        // SAFETY: `pc` is always an instruction of the current function: it starts at 0,
        // branch targets are in range (rule F3), and
        // the last instruction is a terminator (rule F4).
        let op = unsafe { *code.add(pc) };
        pc += 1;
        fuel -= 1;
        // Object accesses below rely on rule F5 (operand types: a register read as an
        // array holds an array, and so on) and on heap invariant 1: a reference register
        // that is read holds a live object (rule F8: this frame wrote it; the collector
        // scans every reference register of every frame).
        match op {
            Op::Nop => {}
            Op::Mov { dst, src } => r!(dst) = r!(src),
            Op::LoadI { dst, imm } => r!(dst) = imm as i64 as u64,
            // SAFETY: rule F2 (constant index in range); `prepare` maps it 1:1.
            Op::LoadBits { dst, k } => r!(dst) = unsafe { *module.const_bits.get_unchecked(k as usize) },
            Op::LoadStr { dst, k } => {
                // SAFETY: rule F2; `prepare` numbered exactly the module's string constants.
                r!(dst) = unsafe { *module.strings.refs().get_unchecked(k as usize) }
            }

            Op::AddI { dst, a, b } => r!(dst) = r!(a).wrapping_add(r!(b)),
            Op::SubI { dst, a, b } => r!(dst) = r!(a).wrapping_sub(r!(b)),
            Op::MulI { dst, a, b } => r!(dst) = ri!(a).wrapping_mul(ri!(b)) as u64,
            Op::DivI { dst, a, b } => match ops::int_div(ri!(a), ri!(b)) {
                Ok(v) => r!(dst) = v as u64,
                Err(_) => trap!(TrapKind::DivisionByZero),
            },
            Op::RemI { dst, a, b } => match ops::int_rem(ri!(a), ri!(b)) {
                Ok(v) => r!(dst) = v as u64,
                Err(_) => trap!(TrapKind::DivisionByZero),
            },
            Op::AndI { dst, a, b } => r!(dst) = r!(a) & r!(b),
            Op::OrI { dst, a, b } => r!(dst) = r!(a) | r!(b),
            Op::XorI { dst, a, b } => r!(dst) = r!(a) ^ r!(b),
            Op::ShlI { dst, a, b } => r!(dst) = ops::int_shl(ri!(a), ri!(b)) as u64,
            Op::ShrI { dst, a, b } => r!(dst) = ops::int_shr(ri!(a), ri!(b)) as u64,
            Op::NegI { dst, src } => r!(dst) = ops::int_neg(ri!(src)) as u64,
            Op::AddImm { dst, a, imm } => r!(dst) = ri!(a).wrapping_add(imm as i64) as u64,

            Op::AddF { dst, a, b } => r!(dst) = (rf!(a) + rf!(b)).to_bits(),
            Op::SubF { dst, a, b } => r!(dst) = (rf!(a) - rf!(b)).to_bits(),
            Op::MulF { dst, a, b } => r!(dst) = (rf!(a) * rf!(b)).to_bits(),
            Op::DivF { dst, a, b } => r!(dst) = (rf!(a) / rf!(b)).to_bits(),
            Op::RemF { dst, a, b } => r!(dst) = ops::float_rem(rf!(a), rf!(b)).to_bits(),
            Op::NegF { dst, src } => r!(dst) = (-rf!(src)).to_bits(),

            Op::EqI { dst, a, b } => r!(dst) = (r!(a) == r!(b)) as u64,
            Op::NeI { dst, a, b } => r!(dst) = (r!(a) != r!(b)) as u64,
            Op::LtI { dst, a, b } => r!(dst) = (ri!(a) < ri!(b)) as u64,
            Op::LeI { dst, a, b } => r!(dst) = (ri!(a) <= ri!(b)) as u64,
            Op::EqF { dst, a, b } => r!(dst) = (rf!(a) == rf!(b)) as u64,
            Op::NeF { dst, a, b } => r!(dst) = (rf!(a) != rf!(b)) as u64,
            Op::LtF { dst, a, b } => r!(dst) = (rf!(a) < rf!(b)) as u64,
            Op::LeF { dst, a, b } => r!(dst) = (rf!(a) <= rf!(b)) as u64,
            Op::EqS { dst, a, b } => r!(dst) = str_compare!(a, b, CmpOrdering::is_eq),
            Op::NeS { dst, a, b } => r!(dst) = str_compare!(a, b, CmpOrdering::is_ne),
            Op::LtS { dst, a, b } => r!(dst) = str_compare!(a, b, CmpOrdering::is_lt),
            Op::LeS { dst, a, b } => r!(dst) = str_compare!(a, b, CmpOrdering::is_le),
            Op::Not { dst, src } => r!(dst) = r!(src) ^ 1,

            Op::IntToFloat { dst, src } => r!(dst) = ops::int_to_float(ri!(src)).to_bits(),
            Op::FloatToInt { dst, src } => r!(dst) = ops::float_to_int(rf!(src)) as u64,
            Op::IntToStr { dst, src } => {
                let v = ri!(src);
                r!(dst) = slow!(slow::int_to_str(vm, v));
            }
            Op::FloatToStr { dst, src } => {
                let v = rf!(src);
                r!(dst) = slow!(slow::float_to_str(vm, v));
            }
            Op::BoolToStr { dst, src } => {
                let v = r!(src) != 0;
                r!(dst) = slow!(slow::bool_to_str(vm, v));
            }

            // Rule F9: the table and the instruction after it exist.
            Op::Switch { src, count } => pc += r!(src).min(u64::from(count)) as usize,
            Op::Jmp { target } => pc = target as usize,
            Op::Loop { target } => branch!(true, true, target),
            Op::JmpIf { back, cond, target } => branch!(back, r!(cond) != 0, target),
            Op::JmpIfNot { back, cond, target } => branch!(back, r!(cond) == 0, target),
            Op::JeqI { back, a, b, target } => branch!(back, r!(a) == r!(b), target),
            Op::JneI { back, a, b, target } => branch!(back, r!(a) != r!(b), target),
            Op::JltI { back, a, b, target } => branch!(back, ri!(a) < ri!(b), target),
            Op::JleI { back, a, b, target } => branch!(back, ri!(a) <= ri!(b), target),
            Op::JgtI { back, a, b, target } => branch!(back, ri!(a) > ri!(b), target),
            Op::JgeI { back, a, b, target } => branch!(back, ri!(a) >= ri!(b), target),
            Op::JeqImm { back, a, imm, target } => branch!(back, ri!(a) == imm as i64, target),
            Op::JneImm { back, a, imm, target } => branch!(back, ri!(a) != imm as i64, target),
            Op::JltImm { back, a, imm, target } => branch!(back, ri!(a) < imm as i64, target),
            Op::JleImm { back, a, imm, target } => branch!(back, ri!(a) <= imm as i64, target),
            Op::JgtImm { back, a, imm, target } => branch!(back, ri!(a) > imm as i64, target),
            Op::JgeImm { back, a, imm, target } => branch!(back, ri!(a) >= imm as i64, target),

            Op::Call { dst, args, func } => call!(dst, args, func as usize),
            Op::CallFar { dst, args, func } => call!(dst, args, func.get()),
            Op::CallIface { dst, args, site } => {
                let recv = raw::obj(r!(args));
                // SAFETY: rule F5: `args` holds an interface value, a live object of an
                // implementing type (heap invariant 1), whose descriptor names its type.
                let ty = unsafe { raw::type_index(recv) };
                call!(dst, args, module.dispatch.target(site, ty) as usize)
            }
            Op::CallClosure { dst, args } => {
                let clo = raw::obj(r!(args));
                // SAFETY: rule F5: `args` holds a closure, a live object (heap invariant
                // 1) whose descriptor names its function; rule M8 makes that function
                // take this closure and the window's arguments.
                let func = unsafe { raw::closure_func(clo) };
                call!(dst, args, func as usize)
            }
            Op::CallNative { dst, args, native } => {
                slow!(crate::natives::call(vm, native, base + args as usize, base + dst as usize))
            }
            Op::Ret { src } => {
                let value = r!(src);
                // SAFETY: `ret` is the caller's `dst` slot, inside its frame (rule F2).
                ret!(|stack: *mut u64, ret: usize| unsafe { *stack.add(ret) = value })
            }
            Op::RetVoid => ret!(|_, _| ()),
            Op::Unreachable => trap!(TrapKind::Unreachable),

            Op::GetGlobal { dst, global } => {
                // SAFETY: rule F2 (global index in range; the vector has one per global).
                r!(dst) = unsafe { *vm.globals.get_unchecked(global as usize) }
            }
            Op::GetGlobalRef { dst, global } => {
                // SAFETY: rule F2, as above.
                let v = unsafe { *vm.globals.get_unchecked(global as usize) };
                if v == 0 {
                    trap!(TrapKind::GlobalUninitialised(module.global_name(global)));
                }
                r!(dst) = v;
            }
            Op::SetGlobal { global, src } => {
                let v = r!(src);
                // SAFETY: rule F2, as above.
                unsafe { *vm.globals.get_unchecked_mut(global as usize) = v };
                vm.heap.write_barrier(std::ptr::null_mut(), v);
            }

            Op::NewStruct { dst, ty, args } => {
                r!(dst) = slow!(slow::new_struct(vm, ty.get(), base + args as usize));
            }
            Op::GetField { dst, obj, field } => {
                let o = raw::obj(r!(obj));
                // SAFETY: rule F5: `obj` is a struct register with this field (heap
                // invariant 1: it holds a live struct of that type).
                r!(dst) = unsafe { *raw::field(o, field as usize) };
            }
            Op::SetField { obj, field, src } => {
                let o = raw::obj(r!(obj));
                let v = r!(src);
                // SAFETY: as for `GetField`; rule F5 also gives `src` the field's type.
                unsafe { *raw::field(o, field as usize) = v };
                vm.heap.write_barrier(o, v);
            }
            Op::Mov2 { dst, src } => {
                let (v, t) = (r!(src), r!(src + 1));
                r!(dst) = v;
                r!(dst + 1) = t;
            }
            Op::Ret2 { src } => {
                let (v, t) = (r!(src), r!(src + 1));
                // SAFETY: `ret` is the caller's `dst`, a two-slot value's slots (an
                // optional value or a pair) inside its frame (rules F2, F6).
                ret!(|stack: *mut u64, ret: usize| unsafe {
                    *stack.add(ret) = v;
                    *stack.add(ret + 1) = t;
                })
            }
            Op::OptClear { dst } => {
                r!(dst) = 0;
                r!(dst + 1) = 0;
            }
            Op::OptWrap { dst, src } => {
                r!(dst) = r!(src);
                r!(dst + 1) = 1;
            }
            Op::OptPayload { dst, src } => {
                if r!(src + 1) == 0 {
                    trap!(TrapKind::NoneUnwrapped);
                }
                r!(dst) = r!(src);
            }
            Op::GetField2 { dst, obj, field } => {
                let o = raw::obj(r!(obj));
                // SAFETY: as for `GetField`; a two-slot field's slots are both in the
                // object (`prepare` laid it out).
                let (v, t) = unsafe { (*raw::field(o, field as usize), *raw::field(o, field as usize + 1)) };
                r!(dst) = v;
                r!(dst + 1) = t;
            }
            Op::SetField2 { obj, field, src } => {
                let o = raw::obj(r!(obj));
                let (v, t) = (r!(src), r!(src + 1));
                // SAFETY: as for `GetField2`.
                unsafe {
                    *raw::field(o, field as usize) = v;
                    *raw::field(o, field as usize + 1) = t;
                }
                // A pair's parts may be references.
                vm.heap.write_barrier(o, v);
                vm.heap.write_barrier(o, t);
            }
            Op::GetGlobal2 { dst, global } => {
                // SAFETY: rule F2; `prepare` gave the global two slots of the vector.
                let (v, t) = unsafe {
                    (
                        *vm.globals.get_unchecked(global as usize),
                        *vm.globals.get_unchecked(global as usize + 1),
                    )
                };
                r!(dst) = v;
                r!(dst + 1) = t;
            }
            Op::GetGlobal2Ref { dst, global } => {
                // SAFETY: as for `GetGlobal2`.
                let (v, t) = unsafe {
                    (
                        *vm.globals.get_unchecked(global as usize),
                        *vm.globals.get_unchecked(global as usize + 1),
                    )
                };
                if v == 0 && t == 0 {
                    trap!(TrapKind::GlobalUninitialised(module.global_name(global)));
                }
                r!(dst) = v;
                r!(dst + 1) = t;
            }
            Op::SetGlobal2 { global, src } => {
                let (v, t) = (r!(src), r!(src + 1));
                // SAFETY: as for `GetGlobal2`.
                unsafe {
                    *vm.globals.get_unchecked_mut(global as usize) = v;
                    *vm.globals.get_unchecked_mut(global as usize + 1) = t;
                }
                vm.heap.write_barrier(std::ptr::null_mut(), v);
                vm.heap.write_barrier(std::ptr::null_mut(), t);
            }
            Op::OptGet { dst, src } => {
                let v = r!(src);
                if v == 0 {
                    trap!(TrapKind::NoneUnwrapped);
                }
                r!(dst) = v;
            }
            Op::GetTag { dst, src } => {
                let o = raw::obj(r!(src));
                // SAFETY: rule F5: `src` holds an enum value, a live object of one of its
                // variants (heap invariant 1), whose descriptor carries the tag.
                r!(dst) = u64::from(unsafe { raw::tag(o) });
            }
            Op::AsVariant { dst, src, tag } => {
                let v = r!(src);
                // SAFETY: as for `GetTag`.
                if unsafe { raw::tag(raw::obj(v)) } != u32::from(tag) {
                    trap!(TrapKind::WrongVariant);
                }
                r!(dst) = v;
            }

            Op::NewArray { elem_ref, dst, args, count } => {
                r!(dst) = slow!(slow::new_array(vm, elem_ref, base + args as usize, count as usize))
            }
            Op::ArrayFill { elem_ref, dst, val, len } => {
                let (v, n) = (r!(val), ri!(len));
                r!(dst) = slow!(slow::array_fill(vm, elem_ref, v, n));
            }
            Op::ArrayGet { dst, arr, idx } => {
                let o = raw::obj(r!(arr));
                let i = ri!(idx);
                // SAFETY: rule F5: `arr` holds a live array.
                let len = unsafe { raw::array_len(o) };
                if i as u64 >= len as u64 {
                    trap!(TrapKind::IndexOutOfBounds { index: i, len });
                }
                // SAFETY: `0 <= i < len <= cap`, checked just above.
                r!(dst) = unsafe { *raw::array_buf(o).add(i as usize) };
            }
            Op::ArraySet { arr, idx, src } => {
                let o = raw::obj(r!(arr));
                let i = ri!(idx);
                // SAFETY: rule F5: `arr` holds a live array.
                let len = unsafe { raw::array_len(o) };
                if i as u64 >= len as u64 {
                    trap!(TrapKind::IndexOutOfBounds { index: i, len });
                }
                let v = r!(src);
                // SAFETY: `0 <= i < len <= cap`, checked just above.
                unsafe { *raw::array_buf(o).add(i as usize) = v };
                vm.heap.write_barrier(o, v);
            }
            Op::ArrayLen { dst, arr } => {
                let o = raw::obj(r!(arr));
                // SAFETY: rule F5: `arr` holds a live array.
                r!(dst) = unsafe { raw::array_len(o) } as u64;
            }
            Op::ArrayPush { arr, src } => {
                let (o, v) = (raw::obj(r!(arr)), r!(src));
                // SAFETY: rule F5: a live array, rooted by its register across the
                // collection pushing may run.
                slow!(unsafe { slow::array_push(vm, o, v) })
            }
            Op::ArrayInsert { arr, idx, src } => {
                let (o, i, v) = (raw::obj(r!(arr)), ri!(idx), r!(src));
                // SAFETY: as for `ArrayPush`.
                slow!(unsafe { slow::array_insert(vm, o, i, v) })
            }
            Op::ArrayRemove { dst, arr, idx } => {
                let (o, i) = (raw::obj(r!(arr)), ri!(idx));
                // SAFETY: rule F5: a live array.
                r!(dst) = slow!(unsafe { slow::array_remove(vm, o, i) });
            }
            Op::ArraySort { kind, arr } => {
                let o = raw::obj(r!(arr));
                // SAFETY: rule F5: a live array whose elements have the kind `prepare`
                // recorded from the register's type.
                slow!(unsafe { slow::array_sort(vm, kind, o) })
            }
            Op::ConcatN { dst, args, count } => {
                r!(dst) = slow!(slow::concat(vm, base + args as usize, count as usize));
            }
            Op::StrLen { dst, src } => {
                let o = raw::obj(r!(src));
                // SAFETY: rule F5: `src` holds a live string.
                r!(dst) = unsafe { raw::str_len(o) } as u64;
            }
        }
    }
}

/// Makes room for `slots` register slots and `depth` frames (`vm.frames` holds every
/// live frame); `false` if a limit or the system's memory does not allow it. Both
/// buffers may move.
#[cold]
pub(crate) fn grow(vm: &mut Vm, slots: usize, depth: usize) -> bool {
    if depth > vm.frames.capacity() {
        let want = (vm.frames.capacity() * 2).max(16).min(vm.limits.max_call_depth).max(depth);
        if vm.frames.try_reserve_exact(want - vm.frames.len()).is_err() {
            return false;
        }
    }
    vm.stack.grow_to(slots)
}

/// A fuel or interrupt check failed: the trap to raise, or `Ok` when fuel is unlimited
/// and the counter was only topped up.
#[cold]
pub(crate) fn limit_reached(vm: &mut Vm, interrupt: &crate::instance::Interrupt) -> Result<(), TrapKind> {
    match interrupt.reason() {
        Some(_) => Err(vm.interrupt_trap()),
        None => vm.out_of_fuel(),
    }
}

/// Nulls a new frame's reference registers that are not parameters, so that the GC,
/// which scans every reference register of a frame, never sees a stale value there.
/// (Rule F8 already keeps the program from reading them before writing them.)
///
/// # Safety
/// `regs` is the frame's register 0 and the whole frame lies inside the register file.
#[inline(always)]
pub(crate) unsafe fn null_local_refs(regs: *mut u64, func: &PreparedFunc) {
    let span = &func.local_ref_span;
    if !span.is_empty() {
        // SAFETY: the span lies inside the frame's registers, which fit in the register file.
        unsafe { zero_slots(regs.add(span.start), span.len()) };
    }
}

/// Zeroes register-file slots `from..to` (nothing if `to <= from`).
///
/// # Safety
/// `stack` is the register file's slot 0 and `from..to` lies inside it.
#[inline(always)]
pub(crate) unsafe fn zero_range(stack: *mut u64, from: usize, to: usize) {
    if from < to {
        // SAFETY: the caller's range.
        unsafe { zero_slots(stack.add(from), to - from) };
    }
}

/// Zeroes `n` slots from `p`. Spans of up to 8 slots, the usual case on a call, are
/// written directly rather than through a call to `memset`.
///
/// # Safety
/// `p..p + n` is inside the register file.
#[inline(always)]
unsafe fn zero_slots(p: *mut u64, n: usize) {
    // SAFETY: every write is below `p + n` (the caller's range).
    unsafe {
        if n > 8 {
            std::ptr::write_bytes(p, 0, n);
            return;
        }
        if n >= 4 {
            p.cast::<[u64; 4]>().write_unaligned([0; 4]);
            p.add(n - 4).cast::<[u64; 4]>().write_unaligned([0; 4]);
        } else if n >= 2 {
            p.cast::<[u64; 2]>().write_unaligned([0; 2]);
            p.add(n - 2).cast::<[u64; 2]>().write_unaligned([0; 2]);
        } else if n == 1 {
            p.write(0);
        }
    }
}

/// The bytes of a string register.
///
/// # Safety
/// `r` holds a live string (rule F5).
#[inline(always)]
unsafe fn str_of<'a>(r: u64) -> &'a [u8] {
    // SAFETY: caller guarantees `r` is a live string.
    unsafe { raw::str_bytes(raw::obj(r)) }
}
