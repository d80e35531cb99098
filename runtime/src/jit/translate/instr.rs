//! Lowering one instruction: arithmetic, compares and branches, fields, globals,
//! arrays, optional values and tags inline; calls, allocation and the rest by the
//! functions of the sibling modules.

use super::*;

/// The instructions run by the interpreter's handlers (`Tx::slow`).
macro_rules! slow_ops {
    () => {
        Op::IntToStr { .. }
            | Op::FloatToStr { .. }
            | Op::BoolToStr { .. }
            | Op::EqS { .. }
            | Op::NeS { .. }
            | Op::LtS { .. }
            | Op::LeS { .. }
            | Op::CallNative { .. }
            | Op::NewArray { .. }
            | Op::ArrayFill { .. }
            | Op::ArrayPush { .. }
            | Op::ArrayInsert { .. }
            | Op::ArrayRemove { .. }
            | Op::ArraySort { .. }
            | Op::ConcatN { .. }
    };
}

/// Whether native `native` always stops the run (a trap or `exit`; `natives/io.rs`).
pub(super) fn stops_the_run(native: u16) -> bool {
    use kiln_bytecode::natives::{Native, NATIVES};
    NATIVES.get(native as usize).is_some_and(|decl| {
        matches!(decl.id, Native::Panic | Native::Exit | Native::MapModified | Native::MissingKey)
    })
}

/// Whether lowering `op` may reach a safepoint: a call, or a runtime handler that may
/// collect or write registers. It must agree with [`Tx::instr`]; if it ever does not, the
/// function fails to compile (`Tx::safepoint`) rather than run without its roots.
pub(super) fn reaches_safepoint(op: &Op) -> bool {
    match *op {
        // Never continues: lowered by `Tx::terminal` in functions without safepoints.
        Op::CallNative { native, .. } if stops_the_run(native) => false,
        Op::CallNative { native, .. } if super::alloc::inlined_native(native) => false,
        Op::Call { .. } | Op::CallFar { .. } | Op::CallIface { .. } | Op::CallClosure { .. } => true,
        Op::NewStruct { .. } => true,
        slow_ops!() => true,
        _ => false,
    }
}

impl<M: Module> Tx<'_, '_, M> {
    /// Lowers instruction `pc`; returns whether control falls through.
    pub(super) fn instr(&mut self, pc: usize) -> bool {
        let op = self.f.pf.code[pc];
        let instr = self.f.bf.code[pc];
        macro_rules! int2 {
            ($dst:expr, $a:expr, $b:expr, $f:ident) => {{
                let (x, y) = (self.get_bits($a), self.get_bits($b));
                let v = self.b.ins().$f(x, y);
                self.set($dst, v);
            }};
        }
        macro_rules! float2 {
            ($dst:expr, $a:expr, $b:expr, $f:ident) => {{
                let (x, y) = (self.get_float($a), self.get_float($b));
                let v = self.b.ins().$f(x, y);
                self.set($dst, v);
            }};
        }
        macro_rules! icmp {
            ($dst:expr, $a:expr, $b:expr, $cc:expr) => {{
                let (x, y) = (self.get_bits($a), self.get_bits($b));
                let c = self.b.ins().icmp($cc, x, y);
                let v = self.b.ins().uextend(types::I64, c);
                self.set($dst, v);
            }};
        }
        macro_rules! fcmp {
            ($dst:expr, $a:expr, $b:expr, $cc:expr) => {{
                let (x, y) = (self.get_float($a), self.get_float($b));
                let c = self.b.ins().fcmp($cc, x, y);
                let v = self.b.ins().uextend(types::I64, c);
                self.set($dst, v);
            }};
        }
        macro_rules! cond_branch {
            ($back:expr, $target:expr, $cond:expr) => {{
                let c = $cond;
                self.branch(pc, $back, $target as usize, c);
                return false;
            }};
        }
        match op {
            Op::Nop => {}
            Op::Mov { dst, src } => {
                let v = self.get(src);
                self.set(dst, v);
            }
            Op::Mov2 { dst, src } => {
                let (v, t) = (self.get(src), self.get(src + 1));
                self.set(dst, v);
                self.set(dst + 1, t);
            }
            Op::LoadI { dst, imm } => {
                let v = self.iconst(i64::from(imm));
                self.set(dst, v);
            }
            Op::LoadBits { dst, k } => {
                let bits = self.pm.const_bits[k as usize];
                let v = if self.ty(dst) == types::F64 {
                    self.b.ins().f64const(f64::from_bits(bits))
                } else {
                    self.iconst(bits as i64)
                };
                self.set(dst, v);
            }
            Op::LoadStr { dst, k } => {
                // Constant strings are immortal objects of the module.
                let v = if self.relocatable {
                    let at = self.module_table(ModuleTable::Strings, i64::from(k) * 8);
                    self.b.ins().load(types::I64, trusted().with_readonly(), at, 0)
                } else {
                    self.iconst(self.pm.strings.refs()[k as usize] as i64)
                };
                self.set(dst, v);
            }
            Op::AddI { dst, a, b } => int2!(dst, a, b, iadd),
            Op::SubI { dst, a, b } => int2!(dst, a, b, isub),
            Op::MulI { dst, a, b } => int2!(dst, a, b, imul),
            Op::AndI { dst, a, b } => int2!(dst, a, b, band),
            Op::OrI { dst, a, b } => int2!(dst, a, b, bor),
            Op::XorI { dst, a, b } => int2!(dst, a, b, bxor),
            // Cranelift takes shift counts modulo the width, as `ops::int_shl` does.
            Op::ShlI { dst, a, b } => int2!(dst, a, b, ishl),
            Op::ShrI { dst, a, b } => int2!(dst, a, b, sshr),
            Op::DivI { dst, a, b } => self.div_rem(pc, dst, a, b, false),
            Op::RemI { dst, a, b } => self.div_rem(pc, dst, a, b, true),
            Op::NegI { dst, src } => {
                let x = self.get_bits(src);
                let v = self.b.ins().ineg(x);
                self.set(dst, v);
            }
            Op::AddImm { dst, a, imm } => {
                let x = self.get_bits(a);
                let v = self.b.ins().iadd_imm_s(x, i64::from(imm));
                self.set(dst, v);
            }
            Op::AddF { dst, a, b } => float2!(dst, a, b, fadd),
            Op::SubF { dst, a, b } => float2!(dst, a, b, fsub),
            Op::MulF { dst, a, b } => float2!(dst, a, b, fmul),
            Op::DivF { dst, a, b } => float2!(dst, a, b, fdiv),
            Op::RemF { dst, a, b } => {
                let (x, y) = (self.get_float(a), self.get_float(b));
                let call = self.b.ins().call(self.helper.float_rem, &[x, y]);
                let v = self.b.inst_results(call)[0];
                self.set(dst, v);
            }
            Op::NegF { dst, src } => {
                let x = self.get_float(src);
                let v = self.b.ins().fneg(x);
                self.set(dst, v);
            }
            Op::EqI { dst, a, b } => icmp!(dst, a, b, IntCC::Equal),
            Op::NeI { dst, a, b } => icmp!(dst, a, b, IntCC::NotEqual),
            Op::LtI { dst, a, b } => icmp!(dst, a, b, IntCC::SignedLessThan),
            Op::LeI { dst, a, b } => icmp!(dst, a, b, IntCC::SignedLessThanOrEqual),
            Op::EqF { dst, a, b } => fcmp!(dst, a, b, FloatCC::Equal),
            Op::NeF { dst, a, b } => fcmp!(dst, a, b, FloatCC::NotEqual),
            Op::LtF { dst, a, b } => fcmp!(dst, a, b, FloatCC::LessThan),
            Op::LeF { dst, a, b } => fcmp!(dst, a, b, FloatCC::LessThanOrEqual),
            Op::Not { dst, src } => {
                let x = self.get_bits(src);
                let v = self.b.ins().bxor_imm_u(x, 1);
                self.set(dst, v);
            }
            Op::IntToFloat { dst, src } => {
                let x = self.get_bits(src);
                let v = self.b.ins().fcvt_from_sint(types::F64, x);
                self.set(dst, v);
            }
            // Saturating, NaN to 0: Rust's `as`, which `ops::float_to_int` is.
            Op::FloatToInt { dst, src } => {
                let x = self.get_float(src);
                let v = self.b.ins().fcvt_to_sint_sat(types::I64, x);
                self.set(dst, v);
            }

            Op::Switch { src, count } => {
                let x = self.get_bits(src);
                let n = self.iconst(i64::from(count));
                let idx = self.b.ins().umin(x, n);
                let idx = self.b.ins().ireduce(types::I32, idx);
                let table: Vec<ir::BlockCall> = (0..count as usize)
                    .map(|k| {
                        let blk = self.branch_block(pc, pc + 1 + k);
                        self.b.func.dfg.block_call(blk, &[])
                    })
                    .collect();
                let dflt = self.branch_block(pc, pc + 1 + count as usize);
                let dflt = self.b.func.dfg.block_call(dflt, &[]);
                let jt = self.b.create_jump_table(JumpTableData::new(dflt, &table));
                self.b.ins().br_table(idx, jt);
                return false;
            }
            Op::Jmp { target } => {
                let blk = self.branch_block(pc, target as usize);
                self.b.ins().jump(blk, &[]);
                return false;
            }
            Op::Loop { target } => {
                self.back_edge(pc);
                let blk = self.branch_block(pc, target as usize);
                self.b.ins().jump(blk, &[]);
                return false;
            }
            Op::JmpIf { back, cond, target } => cond_branch!(back, target, {
                let c = self.get_bits(cond);
                self.b.ins().icmp_imm_s(IntCC::NotEqual, c, 0)
            }),
            Op::JmpIfNot { back, cond, target } => cond_branch!(back, target, {
                let c = self.get_bits(cond);
                self.b.ins().icmp_imm_s(IntCC::Equal, c, 0)
            }),
            Op::JeqI { back, a, b, target } => cond_branch!(back, target, self.cmp(a, b, IntCC::Equal)),
            Op::JneI { back, a, b, target } => cond_branch!(back, target, self.cmp(a, b, IntCC::NotEqual)),
            Op::JltI { back, a, b, target } => {
                cond_branch!(back, target, self.cmp(a, b, IntCC::SignedLessThan))
            }
            Op::JleI { back, a, b, target } => {
                cond_branch!(back, target, self.cmp(a, b, IntCC::SignedLessThanOrEqual))
            }
            Op::JgtI { back, a, b, target } => {
                cond_branch!(back, target, self.cmp(a, b, IntCC::SignedGreaterThan))
            }
            Op::JgeI { back, a, b, target } => {
                cond_branch!(back, target, self.cmp(a, b, IntCC::SignedGreaterThanOrEqual))
            }
            Op::JeqImm { back, a, imm, target } => {
                cond_branch!(back, target, self.cmp_imm(a, imm, IntCC::Equal))
            }
            Op::JneImm { back, a, imm, target } => {
                cond_branch!(back, target, self.cmp_imm(a, imm, IntCC::NotEqual))
            }
            Op::JltImm { back, a, imm, target } => {
                cond_branch!(back, target, self.cmp_imm(a, imm, IntCC::SignedLessThan))
            }
            Op::JleImm { back, a, imm, target } => {
                cond_branch!(back, target, self.cmp_imm(a, imm, IntCC::SignedLessThanOrEqual))
            }
            Op::JgtImm { back, a, imm, target } => {
                cond_branch!(back, target, self.cmp_imm(a, imm, IntCC::SignedGreaterThan))
            }
            Op::JgeImm { back, a, imm, target } => {
                cond_branch!(back, target, self.cmp_imm(a, imm, IntCC::SignedGreaterThanOrEqual))
            }

            Op::Call { dst, args, func } => self.call(pc, &instr, dst, args, Callee::Known(u32::from(func))),
            Op::CallFar { dst, args, func } => {
                self.call(pc, &instr, dst, args, Callee::Known(func.get() as u32))
            }
            Op::CallIface { dst, args, site } => self.call(pc, &instr, dst, args, Callee::Iface(site)),
            Op::CallClosure { dst, args } => self.call(pc, &instr, dst, args, Callee::Closure),
            Op::Ret { src } => {
                let v = self.get(src);
                self.ret(&[v]);
                return false;
            }
            Op::Ret2 { src } => {
                let (v, t) = (self.get(src), self.get(src + 1));
                self.ret(&[v, t]);
                return false;
            }
            Op::RetVoid => {
                self.ret(&[]);
                return false;
            }
            Op::Unreachable => {
                let z = self.iconst(0);
                self.trap_here(pc, TrapCode::Unreachable, z, z);
                return false;
            }

            Op::GetGlobal { dst, global } => {
                let globals = self.globals();
                let ty = self.ty(dst);
                let v = self.b.ins().load(ty, trusted(), globals, global as i32 * 8);
                self.set(dst, v);
            }
            Op::GetGlobalRef { dst, global } => {
                let globals = self.globals();
                let v = self.b.ins().load(types::I64, trusted(), globals, global as i32 * 8);
                let unset = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let (g, z) = (self.iconst(i64::from(global)), self.iconst(0));
                self.trap_if(unset, pc, TrapCode::GlobalUninitialised, g, z);
                self.set(dst, v);
            }
            Op::GetGlobal2 { dst, global } | Op::GetGlobal2Ref { dst, global } => {
                let globals = self.globals();
                let (t0, t1) = (self.ty(dst), self.ty(dst + 1));
                let v = self.b.ins().load(t0, trusted(), globals, global as i32 * 8);
                let t = self.b.ins().load(t1, trusted(), globals, global as i32 * 8 + 8);
                if matches!(op, Op::GetGlobal2Ref { .. }) {
                    let (vb, tb) = (self.as_type(v, types::I64), self.as_type(t, types::I64));
                    let both = self.b.ins().bor(vb, tb);
                    let unset = self.b.ins().icmp_imm_s(IntCC::Equal, both, 0);
                    let (g, z) = (self.iconst(i64::from(global)), self.iconst(0));
                    self.trap_if(unset, pc, TrapCode::GlobalUninitialised, g, z);
                }
                self.set(dst, v);
                self.set(dst + 1, t);
            }
            // The collector is not generational or incremental, so `Heap::write_barrier`
            // is empty; stores need no barrier until it is not.
            Op::SetGlobal { global, src } => {
                let globals = self.globals();
                let v = self.get(src);
                self.b.ins().store(trusted(), v, globals, global as i32 * 8);
            }
            Op::SetGlobal2 { global, src } => {
                let globals = self.globals();
                let (v, t) = (self.get(src), self.get(src + 1));
                self.b.ins().store(trusted(), v, globals, global as i32 * 8);
                self.b.ins().store(trusted(), t, globals, global as i32 * 8 + 8);
            }
            Op::GetField { dst, obj, field } => {
                let o = self.get(obj);
                let ty = self.ty(dst);
                let v = self.b.ins().load(ty, trusted(), o, field_offset(field));
                self.set(dst, v);
            }
            Op::SetField { obj, field, src } => {
                let o = self.get(obj);
                let v = self.get(src);
                self.b.ins().store(trusted(), v, o, field_offset(field));
            }
            Op::GetField2 { dst, obj, field } => {
                let o = self.get(obj);
                let (t0, t1) = (self.ty(dst), self.ty(dst + 1));
                let v = self.b.ins().load(t0, trusted(), o, field_offset(field));
                let t = self.b.ins().load(t1, trusted(), o, field_offset(field) + 8);
                self.set(dst, v);
                self.set(dst + 1, t);
            }
            Op::SetField2 { obj, field, src } => {
                let o = self.get(obj);
                let (v, t) = (self.get(src), self.get(src + 1));
                self.b.ins().store(trusted(), v, o, field_offset(field));
                self.b.ins().store(trusted(), t, o, field_offset(field) + 8);
            }
            Op::OptClear { dst } => {
                let z = self.iconst(0);
                self.set(dst, z);
                self.set(dst + 1, z);
            }
            Op::OptWrap { dst, src } => {
                let v = self.get(src);
                let one = self.iconst(1);
                self.set(dst, v);
                self.set(dst + 1, one);
            }
            Op::OptPayload { dst, src } => {
                let some = self.get_bits(src + 1);
                let none = self.b.ins().icmp_imm_s(IntCC::Equal, some, 0);
                let z = self.iconst(0);
                self.trap_if(none, pc, TrapCode::NoneUnwrapped, z, z);
                let v = self.get(src);
                self.set(dst, v);
            }
            Op::OptGet { dst, src } => {
                let v = self.get_bits(src);
                let none = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let z = self.iconst(0);
                self.trap_if(none, pc, TrapCode::NoneUnwrapped, z, z);
                self.set(dst, v);
            }
            Op::GetTag { dst, src } => {
                let o = self.get_bits(src);
                let tag = self.tag_of(o);
                self.set(dst, tag);
            }
            Op::AsVariant { dst, src, tag } => {
                let o = self.get_bits(src);
                let t = self.tag_of(o);
                let wrong = self.b.ins().icmp_imm_s(IntCC::NotEqual, t, i64::from(tag));
                let z = self.iconst(0);
                self.trap_if(wrong, pc, TrapCode::WrongVariant, z, z);
                self.set(dst, o);
            }
            Op::ArrayGet { dst, arr, idx } => {
                let addr = self.element(pc, arr, idx);
                let ty = self.ty(dst);
                let v = self.b.ins().load(ty, trusted(), addr, 0);
                self.set(dst, v);
            }
            Op::ArraySet { arr, idx, src } => {
                let addr = self.element(pc, arr, idx);
                let v = self.get(src);
                self.b.ins().store(trusted(), v, addr, 0);
            }
            Op::ArrayLen { dst, arr } => {
                let v = match self.cached_array(pc, arr) {
                    Some(a) => self.b.use_var(a.len),
                    None => {
                        let o = self.get_bits(arr);
                        self.b.ins().load(types::I64, trusted(), o, ARRAY_LEN)
                    }
                };
                self.set(dst, v);
            }
            Op::StrLen { dst, src } => {
                let o = self.get_bits(src);
                let v = self.b.ins().load(types::I64, trusted(), o, STR_LEN);
                self.set(dst, v);
            }

            Op::CallNative { dst, args, native } if self.inline_native(dst, args, native) => {}
            Op::CallNative { native, .. } if self.f.safepoint_free && stops_the_run(native) => {
                self.terminal(pc, &instr)
            }
            Op::NewStruct { dst, ty, args } => self.new_struct(pc, &instr, dst, ty.get(), args),
            // Allocation, strings, natives and size-proportional work: the interpreter's
            // own handlers, run on the register file.
            slow_ops!() => self.slow(pc, &instr),
        }
        // Calls end their block; the next instruction starts a new one.
        true
    }

    pub(super) fn get_float(&mut self, s: u16) -> Value {
        let v = self.get(s);
        self.as_type(v, types::F64)
    }

    pub(super) fn cmp(&mut self, a: u16, b: u16, cc: IntCC) -> Value {
        let (x, y) = (self.get_bits(a), self.get_bits(b));
        self.b.ins().icmp(cc, x, y)
    }

    pub(super) fn cmp_imm(&mut self, a: u16, imm: i16, cc: IntCC) -> Value {
        let x = self.get_bits(a);
        self.b.ins().icmp_imm_s(cc, x, i64::from(imm))
    }

    /// A conditional branch to `target`, checking fuel first when it jumps backwards.
    pub(super) fn branch(&mut self, pc: usize, back: bool, target: usize, cond: Value) {
        let next = self.branch_block(pc, pc + 1);
        let to = self.branch_block(pc, target);
        if back {
            let taken = self.b.create_block();
            self.b.ins().brif(cond, taken, &[], next, &[]);
            self.b.switch_to_block(taken);
            self.back_edge(pc);
            self.b.ins().jump(to, &[]);
        } else {
            self.b.ins().brif(cond, to, &[], next, &[]);
        }
    }

    /// A taken loop back-edge: the fuel and interrupt check.
    pub(super) fn back_edge(&mut self, pc: usize) {
        self.limit_check(pc, false);
    }

    /// `a / b` or `a % b`: division by zero traps; `MIN / -1` wraps to `MIN` and
    /// `MIN % -1` is 0 (`ops::int_div`, `ops::int_rem`), where the machine would fault.
    pub(super) fn div_rem(&mut self, pc: usize, dst: u16, a: u16, b: u16, rem: bool) {
        let (x, y) = (self.get_bits(a), self.get_bits(b));
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
        let z = self.iconst(0);
        self.trap_if(zero, pc, TrapCode::DivisionByZero, z, z);
        let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
        let special = self.b.create_block();
        let normal = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I64);
        self.b.ins().brif(minus_one, special, &[], normal, &[]);
        self.b.switch_to_block(special);
        let v = if rem { self.iconst(0) } else { self.b.ins().ineg(x) };
        self.b.ins().jump(done, &[v.into()]);
        self.b.switch_to_block(normal);
        let v = if rem { self.b.ins().srem(x, y) } else { self.b.ins().sdiv(x, y) };
        self.b.ins().jump(done, &[v.into()]);
        self.b.switch_to_block(done);
        let v = self.b.block_params(done)[0];
        self.set(dst, v);
    }

    /// The tag of enum value `o` (`raw::tag`: in its descriptor).
    pub(super) fn tag_of(&mut self, o: Value) -> Value {
        let desc = self.b.ins().load(types::I64, trusted(), o, 0);
        self.b.ins().uload32(trusted(), desc, DESC_TAG)
    }

    /// The address of element `idx` of array `arr`, after the bounds check.
    pub(super) fn element(&mut self, pc: usize, arr: u16, idx: u16) -> Value {
        let cached = self.cached_array(pc, arr);
        let o = self.get_bits(arr);
        let i = self.get_bits(idx);
        let len = match cached {
            Some(a) => self.b.use_var(a.len),
            None => self.b.ins().load(types::I64, trusted(), o, ARRAY_LEN),
        };
        let out = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i, len);
        self.trap_if(out, pc, TrapCode::IndexOutOfBounds, i, len);
        let buf = match cached {
            Some(a) => self.b.use_var(a.buf),
            None => self.b.ins().load(types::I64, trusted(), o, ARRAY_BUF),
        };
        let at = self.b.ins().ishl_imm_u(i, 3);
        self.b.ins().iadd(buf, at)
    }
}
