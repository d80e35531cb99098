//! Two-slot values: optional values and inline results. An `Option` of `int`, `float`
//! or `bool` is an optional value (`ValType::OptInt`, ...) and a `Result` of a value and
//! a reference (or of two values of one type) is a pair (`ValType::Pair`): two slots in
//! registers, fields and globals, and no object. An array element is one slot, so as an
//! element either is boxed: an object of its enum (as every `Option` and `Result` was
//! before). Building a result from its payload, and converting at the array
//! instructions, happen here; nothing else sees the boxes.

use super::builder::ResultShape;
use super::func::{FnLowerer, Val};
use crate::sema::types::Ty;
use kiln_bytecode::*;

impl FnLowerer<'_, '_> {
    /// The two-slot value in `v` (of type `ty`) as a box, in `dst` or a new temporary.
    pub fn box_value(&mut self, v: Reg, ty: &Ty, dst: Option<Reg>) -> Reg {
        if self.cx.b.inline_result(ty).is_some() {
            self.box_result(v, ty, dst)
        } else {
            self.box_option(v, ty, dst)
        }
    }

    /// The two-slot value in box `boxed` (of type `ty`), into `dst`.
    pub fn unbox_value(&mut self, boxed: Reg, ty: &Ty, dst: Reg) {
        if self.cx.b.inline_result(ty).is_some() {
            self.unbox_result(boxed, ty, dst)
        } else {
            self.unbox_option(boxed, ty, dst)
        }
    }

    /// The optional value in `opt` (of type `ty`) as a box, in `dst` or a new temporary.
    fn box_option(&mut self, opt: Reg, ty: &Ty, dst: Option<Reg>) -> Reg {
        let boxed = self.cx.b.elem_type(ty).expect("an option type has values");
        let out = dst.unwrap_or_else(|| self.alloc(boxed));
        let inner = self.regs[opt.index()].opt_inner().expect("an optional value");
        let none = self.emit(Instr::JmpIfNone { src: opt, target: Target(0) });
        let payload = self.alloc(inner);
        self.emit(Instr::OptGet { dst: payload, src: opt });
        let some = self.cx.b.variant_type(ty, 0);
        self.emit(Instr::NewStruct { dst: out, ty: some, args: payload });
        self.release_reg(payload);
        let done = self.emit(Instr::Jmp { target: Target(0) });
        self.patch_here(vec![none]);
        let none_ty = self.cx.b.variant_type(ty, 1);
        // `None` has no fields: its (empty) window may start anywhere.
        self.emit(Instr::NewStruct { dst: out, ty: none_ty, args: out });
        self.patch_here(vec![done]);
        out
    }

    /// The optional value in box `boxed` (of type `ty`), into `dst`.
    fn unbox_option(&mut self, boxed: Reg, ty: &Ty, dst: Reg) {
        let inner = self.regs[dst.index()].opt_inner().expect("an optional value");
        let tag = self.alloc(ValType::Int);
        self.emit(Instr::GetTag { dst: tag, src: boxed });
        self.emit(Instr::OptNone { dst });
        let skip = self.emit(Instr::JneImm { a: tag, imm: Imm(0), target: Target(0) });
        let some = self.cx.b.variant_type(ty, 0);
        let variant = self.alloc(ValType::Ref(some));
        self.emit(Instr::AsVariant { dst: variant, src: boxed, ty: some });
        let payload = self.alloc(inner);
        self.emit(Instr::GetField { dst: payload, obj: variant, field: FieldIdx(0) });
        self.emit(Instr::OptSome { dst, src: payload });
        self.patch_here(vec![skip]);
        for r in [tag, variant, payload] {
            self.release_reg(r);
        }
    }

    /// `arr[idx]` into `dst` (or a new temporary), for elements of type `ty`.
    pub fn array_get(&mut self, ty: &Ty, arr: Reg, idx: Reg, dst: Option<Reg>) -> Val {
        if !self.cx.b.boxed_in_arrays(ty) {
            return self.emit_value(ty.clone(), dst, |d| Instr::ArrayGet { dst: d, arr, idx });
        }
        let boxed = self.cx.b.elem_type(ty).expect("an option type has values");
        let tmp = self.alloc(boxed);
        self.emit(Instr::ArrayGet { dst: tmp, arr, idx });
        let reg = self.target(ty, dst).expect("an option type has values");
        self.unbox_value(tmp, ty, reg);
        self.release_reg(tmp);
        self.val(ty.clone(), Some(reg), dst)
    }

    /// The register holding `v` (an element of type `ty`) as an array stores it, and
    /// whether that is a temporary box to release after the store.
    pub fn array_elem(&mut self, v: Reg, ty: &Ty) -> (Reg, bool) {
        if self.cx.b.boxed_in_arrays(ty) {
            (self.box_value(v, ty, None), true)
        } else {
            (v, false)
        }
    }

    /// Emits `store` with the element `v` (of type `ty`) as arrays hold it.
    pub fn store_elem(&mut self, v: Reg, ty: &Ty, store: impl FnOnce(Reg) -> Instr) {
        let (src, boxed) = self.array_elem(v, ty);
        self.emit(store(src));
        if boxed {
            self.release_reg(src);
        }
    }
}

impl FnLowerer<'_, '_> {
    /// Writes into pair register `dst` the inline result `Ok(payload)` (tag 0) or
    /// `Err(payload)` (tag 1) of type `ty`.
    pub fn make_result(&mut self, ty: &Ty, tag: u32, payload: Reg, dst: Reg) {
        let (shape, ..) = self.cx.b.inline_result(ty).expect("an inline result");
        let (a, b) = self.pair_parts(dst);
        // The pair is built from two consecutive fresh registers.
        let (wa, wb) = (self.fresh(a), self.fresh(b));
        let ok = tag == 0;
        match (shape, ok) {
            (ResultShape::ValueRef, true) => {
                self.emit(Instr::Mov { dst: wa, src: payload });
                self.emit(Instr::OptNone { dst: wb });
            }
            (ResultShape::ValueRef, false) => {
                self.zero(wa, a);
                self.emit(Instr::OptSome { dst: wb, src: payload });
            }
            (ResultShape::RefValue, true) => {
                self.emit(Instr::OptSome { dst: wa, src: payload });
                self.zero(wb, b);
            }
            (ResultShape::RefValue, false) => {
                self.emit(Instr::OptNone { dst: wa });
                self.emit(Instr::Mov { dst: wb, src: payload });
            }
            (ResultShape::RefRef, true) => {
                self.emit(Instr::OptSome { dst: wa, src: payload });
                self.emit(Instr::OptNone { dst: wb });
            }
            (ResultShape::RefRef, false) => {
                self.emit(Instr::OptNone { dst: wa });
                self.emit(Instr::OptSome { dst: wb, src: payload });
            }
            (ResultShape::SameValue, ok) => {
                self.emit(Instr::Mov { dst: wa, src: payload });
                self.emit(Instr::LoadBool { dst: wb, imm: Imm(i32::from(ok)) });
            }
        }
        self.emit(Instr::PairNew { dst, args: wa });
        self.release_reg(wa);
        self.release_reg(wb);
    }

    /// The parts of the pair type register `r` holds.
    pub fn pair_parts(&self, r: Reg) -> (ValType, ValType) {
        let ValType::Pair(t) = self.regs[r.index()] else { unreachable!("a pair register") };
        match self.cx.b.module.types[t.index()] {
            CompositeType::Pair(a, b) => (a, b),
            _ => unreachable!("a pair type"),
        }
    }

    /// The type inside option type `t`, if it is one (a nullable part of a pair).
    fn nullable_part(&self, t: TypeIdx) -> Option<ValType> {
        match self.cx.b.module.types[t.index()] {
            CompositeType::Option(inner) => Some(inner),
            _ => None,
        }
    }

    /// Writes the zero of one-slot value type `vt` (the unused part of a pair).
    fn zero(&mut self, r: Reg, vt: ValType) {
        match vt {
            ValType::Float => {
                let k = self.cx.b.const_float(0.0);
                self.emit(Instr::LoadK { dst: r, k });
            }
            ValType::Bool => {
                self.emit(Instr::LoadBool { dst: r, imm: Imm(0) });
            }
            _ => {
                self.emit(Instr::LoadI { dst: r, imm: Imm(0) });
            }
        }
    }

    /// For the inline result in `pair` (of type `ty`): when `test`, a branch taken when it
    /// is *not* variant `tag` (`Ok` 0, `Err` 1); and a new register holding the payload
    /// of `tag` (meaningful once that is the variant). New registers go on `temps`.
    pub fn test_result(
        &mut self,
        pair: Reg,
        ty: &Ty,
        tag: u32,
        test: bool,
        temps: &mut Vec<Reg>,
    ) -> (Option<usize>, Reg) {
        let (shape, ..) = self.cx.b.inline_result(ty).expect("an inline result");
        let (a, b) = self.pair_parts(pair);
        let ok = tag == 0;
        // The part that tells the variants apart, and the part holding the payload.
        let (flag_part, payload_part) = match (shape, ok) {
            (ResultShape::ValueRef, true) => (1, 0),
            (ResultShape::ValueRef, false) => (1, 1),
            (ResultShape::RefValue, true) => (0, 0),
            (ResultShape::RefValue, false) => (0, 1),
            (ResultShape::SameValue, _) => (1, 0),
            (ResultShape::RefRef, true) => (0, 0),
            (ResultShape::RefRef, false) => (0, 1),
        };
        let flag_ty = if flag_part == 0 { a } else { b };
        let flag = self.alloc(flag_ty);
        temps.push(flag);
        self.emit(Instr::PairGet { dst: flag, src: pair, part: Count(flag_part) });
        let t0 = Target(0);
        let fail = test.then(|| match (shape, ok) {
            // A null reference part means the other variant.
            (ResultShape::ValueRef, true) | (ResultShape::RefValue, false) | (ResultShape::RefRef, false) => {
                self.emit(Instr::JmpIfSome { src: flag, target: t0 })
            }
            (ResultShape::ValueRef, false) | (ResultShape::RefValue, true) | (ResultShape::RefRef, true) => {
                self.emit(Instr::JmpIfNone { src: flag, target: t0 })
            }
            (ResultShape::SameValue, true) => self.emit(Instr::JmpIfNot { cond: flag, target: t0 }),
            (ResultShape::SameValue, false) => self.emit(Instr::JmpIf { cond: flag, target: t0 }),
        });
        // The payload's part (already read when it is the flag); a nullable part holds
        // the payload itself when it is not null.
        let part_ty = if payload_part == 0 { a } else { b };
        let part = if payload_part == flag_part {
            flag
        } else {
            let p = self.alloc(part_ty);
            self.emit(Instr::PairGet { dst: p, src: pair, part: Count(payload_part) });
            p
        };
        let nullable = match part_ty {
            ValType::Ref(t) => self.nullable_part(t),
            _ => None,
        };
        let payload = match nullable {
            Some(inner) => {
                if part != flag {
                    temps.push(part);
                }
                let p = self.alloc(inner);
                self.emit(Instr::OptGet { dst: p, src: part });
                p
            }
            None => part,
        };
        temps.push(payload);
        (fail, payload)
    }

    /// The inline result in `pair` (of type `ty`) as a box, in `dst` or a new temporary.
    fn box_result(&mut self, pair: Reg, ty: &Ty, dst: Option<Reg>) -> Reg {
        let boxed = self.cx.b.elem_type(ty).expect("a result type has values");
        let out = dst.unwrap_or_else(|| self.alloc(boxed));
        let mut temps = Vec::new();
        let (not_ok, payload) = self.test_result(pair, ty, 0, true, &mut temps);
        let ok_ty = self.cx.b.variant_type(ty, 0);
        self.emit(Instr::NewStruct { dst: out, ty: ok_ty, args: payload });
        let done = self.emit(Instr::Jmp { target: Target(0) });
        self.patch_here(not_ok.into_iter().collect());
        let (_, payload) = self.test_result(pair, ty, 1, false, &mut temps);
        let err_ty = self.cx.b.variant_type(ty, 1);
        self.emit(Instr::NewStruct { dst: out, ty: err_ty, args: payload });
        self.patch_here(vec![done]);
        for r in temps {
            self.release_reg(r);
        }
        out
    }

    /// The inline result in box `boxed` (of type `ty`), into pair register `dst`.
    fn unbox_result(&mut self, boxed: Reg, ty: &Ty, dst: Reg) {
        let tag = self.alloc(ValType::Int);
        self.emit(Instr::GetTag { dst: tag, src: boxed });
        let to_err = self.emit(Instr::JneImm { a: tag, imm: Imm(0), target: Target(0) });
        self.release_reg(tag);
        let mut done = Vec::new();
        for variant in 0..2u32 {
            if variant == 1 {
                self.patch_here(vec![to_err]);
            }
            let vty = self.cx.b.variant_type(ty, variant);
            let v = self.alloc(ValType::Ref(vty));
            self.emit(Instr::AsVariant { dst: v, src: boxed, ty: vty });
            let Ty::Enum(_, args) = ty else { unreachable!("a result type") };
            let payload_vt = self.cx.b.val_type(&args[variant as usize]).expect("a payload with values");
            let p = self.alloc(payload_vt);
            self.emit(Instr::GetField { dst: p, obj: v, field: FieldIdx(0) });
            self.make_result(ty, variant, p, dst);
            self.release_reg(v);
            self.release_reg(p);
            if variant == 0 {
                done.push(self.emit(Instr::Jmp { target: Target(0) }));
            }
        }
        self.patch_here(done);
    }
}
