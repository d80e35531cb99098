//! Calls: user functions and methods, natives, printing, and the one-instruction
//! operations on strings and arrays.

use super::func::{FnLowerer, Val};
use crate::sema::consts::ConstVal;
use crate::sema::types::Ty;
use crate::tir::{self, Intrinsic};
use kiln_bytecode::*;

impl FnLowerer<'_, '_> {
    /// Lowers `args` into a fresh window of registers of the callee's parameter types
    /// `params`, each straight into its slot. Returns the window base.
    fn arg_window(&mut self, params: &[ValType], args: &[tir::Expr]) -> Reg {
        let base = self.top();
        let window: Vec<Option<Reg>> = params.iter().map(|&vt| Some(self.fresh(vt))).collect();
        for (a, slot) in args.iter().zip(&window) {
            self.expr(a, *slot);
        }
        for r in window.into_iter().flatten() {
            self.release_reg(r);
        }
        base
    }

    /// A call of user function `f`.
    pub fn call(&mut self, f: usize, args: &[tir::Expr], ret: &Ty, dst: Option<Reg>) -> Val {
        let span = self.pos;
        let params = self.cx.sigs[f].params.clone();
        let base = self.arg_window(&params, args);
        let reg = self.target(ret, dst);
        self.pos = span;
        self.emit(Instr::Call { dst: reg.unwrap_or_default(), func: FuncIdx(f as u32), args: base });
        self.val(ret.clone(), reg, dst)
    }

    /// A closure value of instance `inst` capturing `captures` (a shared local's cell,
    /// not its value).
    pub fn make_closure(&mut self, inst: usize, captures: &[tir::LocalId], ty: &Ty, dst: Option<Reg>) -> Val {
        let env = self.cx.b.closure_of(inst);
        let base = self.top();
        let window: Vec<Reg> = captures
            .iter()
            .map(|&id| {
                let r = self.local(id).1.unwrap_or_default();
                let slot = self.fresh(self.regs[r.index()]);
                self.emit(Instr::Mov { dst: slot, src: r });
                slot
            })
            .collect();
        let reg = self.target(ty, dst);
        if let Some(d) = reg {
            self.emit(Instr::NewClosure { dst: d, ty: env, args: base });
        }
        for r in window {
            self.release_reg(r);
        }
        self.val(ty.clone(), reg, dst)
    }

    /// A call of a function value: the closure, then the arguments, in a window.
    pub fn call_value(&mut self, callee: &tir::Expr, args: &[tir::Expr], ret: &Ty, dst: Option<Reg>) -> Val {
        let span = self.pos;
        let Ty::Fn(params, _) = &callee.ty else { unreachable!("a function value") };
        let base = self.top();
        let clo_vt = self.cx.b.val_type(&callee.ty).expect("a function type");
        let clo = self.fresh(clo_vt);
        let slots: Vec<Option<Reg>> =
            params.iter().map(|p| self.cx.b.val_type(p).map(|vt| self.fresh(vt))).collect();
        self.expr(callee, Some(clo));
        for (a, slot) in args.iter().zip(&slots) {
            self.expr(a, *slot);
        }
        let reg = self.target(ret, dst);
        self.pos = span;
        self.emit(Instr::CallClosure { dst: reg.unwrap_or_default(), args: base });
        self.release_reg(clo);
        for r in slots.into_iter().flatten() {
            self.release_reg(r);
        }
        self.val(ret.clone(), reg, dst)
    }

    /// Method `m` of interface `i` on the interface value `args[0]`: dynamic dispatch.
    pub fn call_iface(&mut self, i: usize, m: u32, args: &[tir::Expr], ret: &Ty, dst: Option<Reg>) -> Val {
        let span = self.pos;
        let items = self.cx.items;
        let recv_vt = self.cx.b.val_type(&args[0].ty).expect("an interface type");
        let mut params = vec![recv_vt];
        params.extend(items.interfaces[i].methods[m as usize].1.iter().filter_map(|p| self.cx.b.val_type(p)));
        let base = self.arg_window(&params, args);
        let reg = self.target(ret, dst);
        self.pos = span;
        self.emit(Instr::CallIface { dst: reg.unwrap_or_default(), args: base, method: Count(m) });
        self.val(ret.clone(), reg, dst)
    }

    /// A call of native `name`.
    pub fn native(&mut self, name: &'static str, args: &[tir::Expr], ret: &Ty, dst: Option<Reg>) -> Val {
        let (import, sig) = self.cx.b.import(name);
        self.call_import(import, &sig.params, args, ret, dst)
    }

    /// A call of host function `name` (the body of an `extern fn`).
    pub fn host_call(&mut self, name: &str, args: &[tir::Expr], ret: &Ty, dst: Option<Reg>) -> Val {
        let params: Vec<ValType> = args.iter().filter_map(|a| self.cx.b.val_type(&a.ty)).collect();
        let sig = Signature { params, result: self.cx.b.val_type(ret) };
        let import = self.cx.b.host_import(name, &sig);
        self.call_import(import, &sig.params, args, ret, dst)
    }

    /// `CallNative` of `import` with `args` in a window typed `params`.
    fn call_import(
        &mut self,
        import: ImportIdx,
        params: &[ValType],
        args: &[tir::Expr],
        ret: &Ty,
        dst: Option<Reg>,
    ) -> Val {
        let span = self.pos;
        let base = self.arg_window(params, args);
        let reg = self.target(ret, dst);
        self.pos = span;
        self.emit(Instr::CallNative {
            dst: reg.unwrap_or_default(),
            import,
            args: if args.is_empty() { Reg(0) } else { base },
        });
        self.val(ret.clone(), reg, dst)
    }

    /// `print(x)` and friends: the text goes straight into the native's one-register
    /// argument window.
    pub fn print(&mut self, name: &'static str, arg: Option<&tir::Expr>) -> Val {
        let span = self.pos;
        let slot = self.fresh(ValType::Str);
        match arg {
            None => {
                self.load_const(&ConstVal::Str(String::new()), Some(slot));
            }
            Some(arg) => {
                let v = self.expr(arg, None);
                self.text_of(v, slot);
            }
        }
        let (import, _) = self.cx.b.import(name);
        self.pos = span;
        self.emit(Instr::CallNative { dst: Reg(0), import, args: slot });
        self.release_reg(slot);
        Val::none(Ty::Unit)
    }

    /// A one-instruction operation on a string or an array (receiver first).
    pub fn intrinsic(&mut self, op: Intrinsic, args: &[tir::Expr], ty: &Ty, dst: Option<Reg>) -> Val {
        let span = self.pos;
        let recv = self.expr(&args[0], None);
        if let Intrinsic::StrLen | Intrinsic::ArrayLen = op {
            self.release(&recv);
            let src = recv.r();
            return match op {
                Intrinsic::StrLen => self.emit_value(Ty::Int, dst, |d| Instr::StrLen { dst: d, src }),
                _ => self.emit_value(Ty::Int, dst, |d| Instr::ArrayLen { dst: d, arr: src }),
            };
        }
        let rest: Vec<&tir::Expr> = args[1..].iter().collect();
        let recv = self.protect(recv, &rest);
        let mut operands = Vec::with_capacity(rest.len());
        for (k, a) in rest.iter().enumerate() {
            let v = self.expr(a, None);
            operands.push(self.protect(v, &rest[k + 1..]));
        }
        let a = recv.r();
        let arg = |i: usize| operands[i].r();
        self.pos = span;
        let result = match op {
            Intrinsic::StrLen | Intrinsic::ArrayLen => unreachable!("handled above"),
            Intrinsic::ArrayPush => {
                let (v, elem) = (arg(0), rest[0].ty.clone());
                self.store_elem(v, &elem, |src| Instr::ArrayPush { arr: a, src });
                Val::none(Ty::Unit)
            }
            Intrinsic::ArrayInsert => {
                let (i, v, elem) = (arg(0), arg(1), rest[1].ty.clone());
                self.store_elem(v, &elem, |src| Instr::ArrayInsert { arr: a, idx: i, src });
                Val::none(Ty::Unit)
            }
            Intrinsic::ArrayRemove if self.cx.b.boxed_in_arrays(ty) => {
                let boxed = self.cx.b.elem_type(ty).expect("an option type has values");
                let tmp = self.alloc(boxed);
                self.emit(Instr::ArrayRemove { dst: tmp, arr: a, idx: arg(0) });
                let reg = self.target(ty, dst).expect("an option type has values");
                self.unbox_value(tmp, ty, reg);
                self.release_reg(tmp);
                self.val(ty.clone(), Some(reg), dst)
            }
            Intrinsic::ArrayRemove => {
                self.emit_value(ty.clone(), dst, |d| Instr::ArrayRemove { dst: d, arr: a, idx: arg(0) })
            }
            Intrinsic::ArraySort => {
                self.emit(Instr::ArraySort { arr: a });
                Val::none(Ty::Unit)
            }
        };
        for v in &operands {
            self.release(v);
        }
        self.release(&recv);
        result
    }
}
