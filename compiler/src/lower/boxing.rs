//! Optional values in arrays. An `Option` of `int`, `float` or `bool` is an optional
//! value (`ValType::OptInt`, ...): two slots in registers, fields and globals, and no
//! object. An array element is one slot, so as an element it is boxed: an object of the
//! `Option` enum (as every `Option` was before optional values). The array instructions'
//! lowering converts with these helpers; nothing else sees the boxes.

use super::func::{FnLowerer, Val};
use crate::sema::types::Ty;
use kiln_bytecode::*;

impl FnLowerer<'_, '_> {
    /// The optional value in `opt` (of type `ty`) as a box, in `dst` or a new temporary.
    pub fn box_option(&mut self, opt: Reg, ty: &Ty, dst: Option<Reg>) -> Reg {
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
    pub fn unbox_option(&mut self, boxed: Reg, ty: &Ty, dst: Reg) {
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
        self.unbox_option(tmp, ty, reg);
        self.release_reg(tmp);
        self.val(ty.clone(), Some(reg), dst)
    }

    /// The register holding `v` (an element of type `ty`) as an array stores it, and
    /// whether that is a temporary box to release after the store.
    pub fn array_elem(&mut self, v: Reg, ty: &Ty) -> (Reg, bool) {
        if self.cx.b.boxed_in_arrays(ty) {
            (self.box_option(v, ty, None), true)
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
