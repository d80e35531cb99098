//! Expressions: constants, locals and globals, operators, casts, struct and array
//! literals, field and index access, assignment and string interpolation.

use super::func::{small_int, FnLowerer, Val};
use crate::sema::consts::ConstVal;
use crate::sema::types::Ty;
use crate::syntax::ast::{BinOp, UnOp};
use crate::tir::{self, ExprKind, Piece, Place};
use kiln_bytecode::*;

/// Elements of an array literal built by one `NewArray`; the rest are pushed.
const ARRAY_WINDOW: usize = 64;

impl FnLowerer<'_, '_> {
    /// Lowers `e`. With `dst`, a value ends up in `dst`.
    pub fn expr(&mut self, e: &tir::Expr, dst: Option<Reg>) -> Val {
        let saved = self.pos;
        self.pos = e.span;
        let v = self.expr_kind(e, dst);
        self.pos = saved;
        v
    }

    fn expr_kind(&mut self, e: &tir::Expr, dst: Option<Reg>) -> Val {
        match &e.kind {
            ExprKind::Const(v) => self.load_const(v, dst),
            ExprKind::Local(id) if self.is_boxed(*id) => {
                let (ty, cell) = self.local(*id);
                let cell = cell.unwrap_or_default();
                self.emit_value(ty, dst, |d| Instr::GetField { dst: d, obj: cell, field: FieldIdx(0) })
            }
            ExprKind::Local(id) => {
                let (ty, reg) = self.local(*id);
                self.finish_val(Val { ty, reg, temp: false }, dst)
            }
            ExprKind::MakeClosure(inst, captures) => self.make_closure(*inst, captures, &e.ty, dst),
            ExprKind::CallValue(callee, args) => self.call_value(callee, args, &e.ty, dst),
            ExprKind::Closure(_) | ExprKind::FnRef(..) => {
                unreachable!("closures are lifted and instantiated")
            }
            ExprKind::CallBound(..) => unreachable!("monomorphisation resolves bound methods"),
            ExprKind::ToIface(v) => {
                let v = self.expr(v, None);
                self.release(&v);
                self.emit_value(e.ty.clone(), dst, |d| Instr::ToIface { dst: d, src: v.r() })
            }
            ExprKind::ToText(v) => {
                let v = self.expr(v, None);
                let reg = self.target(&Ty::Str, dst);
                if let Some(r) = reg {
                    self.text_of(v, r);
                }
                self.val(Ty::Str, reg, dst)
            }
            ExprKind::CallIface(i, m, args) => self.call_iface(*i, *m, args, &e.ty, dst),
            ExprKind::Same(a, b) => {
                let va = self.expr(a, None);
                if matches!(a.ty, Ty::Int | Ty::Float | Ty::Bool | Ty::Str) {
                    return self.comparison(BinOp::Eq, va, b, dst);
                }
                if self.cx.b.inline_result(&a.ty).is_some() {
                    return self.same_pair(va, b, dst);
                }
                if self.cx.b.boxed_in_arrays(&a.ty) {
                    return self.same_optional(va, b, dst);
                }
                let vb = self.expr(b, None);
                self.release(&va);
                self.release(&vb);
                self.emit_value(Ty::Bool, dst, |d| Instr::EqR { dst: d, a: va.r(), b: vb.r() })
            }
            ExprKind::HashOf(v) => match v.ty {
                Ty::Int => self.native("hash_int", std::slice::from_ref(&**v), &Ty::Int, dst),
                Ty::Str => self.native("hash_str", std::slice::from_ref(&**v), &Ty::Int, dst),
                // A bool's hash is itself as 0 or 1.
                _ => {
                    let b = self.expr(v, None);
                    self.release(&b);
                    let reg = self.target(&Ty::Int, dst).expect("int has a register");
                    self.emit(Instr::LoadI { dst: reg, imm: Imm(0) });
                    let skip = self.emit(Instr::JmpIfNot { cond: b.r(), target: Target(0) });
                    self.emit(Instr::LoadI { dst: reg, imm: Imm(1) });
                    self.patch_here(vec![skip]);
                    self.val(Ty::Int, Some(reg), dst)
                }
            },
            ExprKind::Global(g) => {
                let idx = self.cx.global_idx[*g].expect("a `var` global with a value type");
                self.emit_value(e.ty.clone(), dst, |r| Instr::GetGlobal { dst: r, global: idx })
            }
            ExprKind::PlaceValue => {
                let reg = *self.place_values.last().expect("inside a compound assignment");
                self.finish_val(Val { ty: e.ty.clone(), reg: Some(reg), temp: false }, dst)
            }
            ExprKind::Interp(pieces) => self.interp(pieces, dst),
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), ..) => self.logical(*op, e, dst),
            ExprKind::Binary(..) => self.binary_chain(e, dst),
            ExprKind::Unary(op, inner) => self.unary(*op, inner, &e.ty, dst),
            ExprKind::Assign(place, value) => self.assign(place, value),
            ExprKind::Call(f, _, args) => self.call(*f, args, &e.ty, dst),
            ExprKind::Native(name, args) => {
                let v = self.native(name, args, &e.ty, dst);
                if e.ty == Ty::Never {
                    self.emit(Instr::Unreachable {});
                }
                v
            }
            ExprKind::Host(name, args) => self.host_call(name, args, &e.ty, dst),
            ExprKind::Print(name, arg) => self.print(name, arg.as_deref()),
            ExprKind::Intrinsic(op, args) => self.intrinsic(*op, args, &e.ty, dst),
            ExprKind::Field(obj, field) => {
                let o = self.expr(obj, None);
                self.release(&o);
                let field = FieldIdx(*field);
                self.emit_value(e.ty.clone(), dst, |d| Instr::GetField { dst: d, obj: o.r(), field })
            }
            ExprKind::Index(arr, idx) => {
                let (a, i) = self.index_operands(arr, idx);
                self.release(&a);
                self.release(&i);
                self.array_get(&e.ty, a.r(), i.r(), dst)
            }
            ExprKind::Cast(inner) => {
                let v = self.expr(inner, None);
                self.release(&v);
                let make: fn(Reg, Reg) -> Instr = match e.ty {
                    Ty::Float => |dst, src| Instr::IntToFloat { dst, src },
                    _ => |dst, src| Instr::FloatToInt { dst, src },
                };
                self.emit_value(e.ty.clone(), dst, |d| make(d, v.r()))
            }
            ExprKind::If(..) => self.if_expr(e, dst),
            ExprKind::While(cond, body) => self.while_loop(cond, body),
            ExprKind::ForRange(var, from, to, body) => self.for_range(*var, from, to, body),
            ExprKind::ForArray(var, iter, body) => self.for_array(*var, iter, body),
            ExprKind::Block(b) => {
                let v = self.block(b, dst);
                if e.ty == Ty::Never {
                    Val::none(Ty::Never)
                } else {
                    v
                }
            }
            ExprKind::Break | ExprKind::Continue => {
                let at = self.emit(Instr::Jmp { target: Target(0) });
                let ctx = self.loops.last_mut().expect("the checker allows jumps only in loops");
                if matches!(e.kind, ExprKind::Break) {
                    ctx.breaks.push(at);
                } else {
                    ctx.continues.push(at);
                }
                Val::none(Ty::Never)
            }
            ExprKind::Return(value) => self.ret(value.as_deref()),
            ExprKind::StructLit(sid, fields) => self.struct_lit(*sid, fields, &e.ty, dst),
            ExprKind::Variant(_, tag, args) => self.variant(*tag, args, &e.ty, dst),
            ExprKind::Match(..) => self.match_expr(e, dst),
            ExprKind::ArrayLit(items) => self.array_lit(items, &e.ty, dst),
            ExprKind::ArrayRepeat(value, count) => {
                let v = self.expr(value, None);
                let v = self.protect(v, &[count]);
                let n = self.expr(count, None);
                self.release(&v);
                self.release(&n);
                let arr_ty = self.array_type_of(&e.ty);
                let (val, boxed) = self.array_elem(v.r(), &value.ty);
                let filled = self.emit_value(e.ty.clone(), dst, |d| Instr::ArrayFill {
                    dst: d,
                    ty: arr_ty,
                    val,
                    len: n.r(),
                });
                if boxed {
                    self.release_reg(val);
                }
                filled
            }
            ExprKind::Unreachable => Val::none(e.ty.clone()),
        }
    }

    /// `same(a, b)` on inline results: both parts alike (`==` for a value, identity for a
    /// nullable reference), so the same variant with the same payload.
    fn same_pair(&mut self, a: Val, b: &tir::Expr, dst: Option<Reg>) -> Val {
        let vb = self.expr(b, None);
        let res = self.target(&Ty::Bool, dst).expect("bool has a register");
        let parts = self.pair_parts(a.r());
        let mut differ = Vec::new();
        for (k, vt) in [parts.0, parts.1].into_iter().enumerate() {
            let (pa, pb) = (self.alloc(vt), self.alloc(vt));
            self.emit(Instr::PairGet { dst: pa, src: a.r(), part: Count(k as u32) });
            self.emit(Instr::PairGet { dst: pb, src: vb.r(), part: Count(k as u32) });
            self.emit(match vt {
                ValType::Int => Instr::EqI { dst: res, a: pa, b: pb },
                ValType::Float => Instr::EqF { dst: res, a: pa, b: pb },
                ValType::Bool => Instr::EqB { dst: res, a: pa, b: pb },
                _ => Instr::EqR { dst: res, a: pa, b: pb },
            });
            self.release_reg(pa);
            self.release_reg(pb);
            if k == 0 {
                differ.push(self.emit(Instr::JmpIfNot { cond: res, target: Target(0) }));
            }
        }
        self.patch_here(differ);
        self.release(&a);
        self.release(&vb);
        self.val(Ty::Bool, Some(res), dst)
    }

    /// `same(a, b)` on optional values: both none, or both some with `==` values.
    fn same_optional(&mut self, a: Val, b: &tir::Expr, dst: Option<Reg>) -> Val {
        let vb = self.expr(b, None);
        let res = self.target(&Ty::Bool, dst).expect("bool has a register");
        let inner = self.regs[a.r().index()].opt_inner().expect("an optional value");
        self.emit(Instr::LoadBool { dst: res, imm: Imm(0) });
        let a_none = self.emit(Instr::JmpIfNone { src: a.r(), target: Target(0) });
        let b_none = self.emit(Instr::JmpIfNone { src: vb.r(), target: Target(0) });
        let (pa, pb) = (self.alloc(inner), self.alloc(inner));
        self.emit(Instr::OptGet { dst: pa, src: a.r() });
        self.emit(Instr::OptGet { dst: pb, src: vb.r() });
        self.emit(match inner {
            ValType::Int => Instr::EqI { dst: res, a: pa, b: pb },
            ValType::Float => Instr::EqF { dst: res, a: pa, b: pb },
            _ => Instr::EqB { dst: res, a: pa, b: pb },
        });
        self.release_reg(pa);
        self.release_reg(pb);
        let done = self.emit(Instr::Jmp { target: Target(0) });
        self.patch_here(vec![a_none]);
        let b_some = self.emit(Instr::JmpIfSome { src: vb.r(), target: Target(0) });
        self.emit(Instr::LoadBool { dst: res, imm: Imm(1) });
        self.patch_here(vec![b_none, done, b_some]);
        self.release(&a);
        self.release(&vb);
        self.val(Ty::Bool, Some(res), dst)
    }

    /// The composite type index of array type `ty`.
    pub fn array_type_of(&mut self, ty: &Ty) -> TypeIdx {
        match self.cx.b.val_type(ty) {
            Some(ValType::Ref(t)) => t,
            _ => unreachable!("an array type"),
        }
    }

    /// Loads a compile-time value.
    pub fn load_const(&mut self, v: &ConstVal, dst: Option<Reg>) -> Val {
        let (ty, instr): (Ty, Box<dyn Fn(Reg) -> Instr>) = match v {
            ConstVal::Int(i) => match i32::try_from(*i) {
                Ok(imm) => (Ty::Int, Box::new(move |d| Instr::LoadI { dst: d, imm: Imm(imm) })),
                Err(_) => {
                    let k = self.cx.b.const_int(*i);
                    (Ty::Int, Box::new(move |d| Instr::LoadK { dst: d, k }))
                }
            },
            ConstVal::Float(f) => {
                let k = self.cx.b.const_float(*f);
                (Ty::Float, Box::new(move |d| Instr::LoadK { dst: d, k }))
            }
            ConstVal::Bool(b) => {
                let imm = Imm(i32::from(*b));
                (Ty::Bool, Box::new(move |d| Instr::LoadBool { dst: d, imm }))
            }
            ConstVal::Str(s) => {
                let k = self.cx.b.const_str(s);
                (Ty::Str, Box::new(move |d| Instr::LoadK { dst: d, k }))
            }
        };
        // Inside a loop, a constant is loaded once, at the start of the function.
        if dst.is_none() && self.loop_depth > 0 {
            if let Some(reg) = self.hoisted_const(v) {
                return Val { ty, reg: Some(reg), temp: false };
            }
        }
        self.emit_value(ty, dst, instr)
    }

    /// Interpolations and string `+` chains: every piece as text in a window of fresh
    /// registers, then one `ConcatN`.
    fn interp(&mut self, pieces: &[Piece], dst: Option<Reg>) -> Val {
        let base = self.top();
        let window: Vec<Reg> = pieces.iter().map(|_| self.fresh(ValType::Str)).collect();
        for (piece, &slot) in pieces.iter().zip(&window) {
            match piece {
                Piece::Lit(s) => {
                    self.load_const(&ConstVal::Str(s.clone()), Some(slot));
                }
                Piece::Value(e) if e.ty == Ty::Str => {
                    self.expr(e, Some(slot));
                }
                Piece::Value(e) => {
                    let v = self.expr(e, None);
                    self.text_of(v, slot);
                }
            }
        }
        let reg = self.target(&Ty::Str, dst);
        if let Some(r) = reg {
            self.emit(Instr::ConcatN { dst: r, args: base, count: Count(window.len() as u32) });
        }
        for r in window {
            self.release_reg(r);
        }
        self.val(Ty::Str, reg, dst)
    }

    /// Converts an int, float, bool or str value to text in `dst`.
    pub fn text_of(&mut self, v: Val, dst: Reg) {
        let src = v.r();
        match &v.ty {
            Ty::Str => {
                self.finish_val(v, Some(dst));
                return;
            }
            Ty::Int => self.emit(Instr::IntToStr { dst, src }),
            Ty::Float => self.emit(Instr::FloatToStr { dst, src }),
            Ty::Bool => self.emit(Instr::BoolToStr { dst, src }),
            _ => 0,
        };
        self.release(&v);
    }

    fn unary(&mut self, op: UnOp, inner: &tir::Expr, ty: &Ty, dst: Option<Reg>) -> Val {
        let v = self.expr(inner, None);
        let make: fn(Reg, Reg) -> Instr = match (op, ty) {
            (UnOp::Neg, Ty::Int) => |dst, src| Instr::NegI { dst, src },
            (UnOp::Neg, _) => |dst, src| Instr::NegF { dst, src },
            (UnOp::Not, _) => |dst, src| Instr::Not { dst, src },
        };
        self.release(&v);
        self.emit_value(ty.clone(), dst, |r| make(r, v.r()))
    }

    /// A left-associative chain of binary operators `a + b - c ...` (a left spine of
    /// binary nodes), lowered bottom-up in a loop rather than by recursion, so a chain as
    /// long as the parser allows (5 000 operators) needs no deep recursion.
    fn binary_chain(&mut self, e: &tir::Expr, dst: Option<Reg>) -> Val {
        let mut spine = Vec::new();
        let mut left = e;
        while let ExprKind::Binary(op, l, r) = &left.kind {
            if matches!(op, BinOp::And | BinOp::Or) {
                break;
            }
            spine.push((*op, &**r, left));
            left = l;
        }
        let mut a = self.expr(left, None);
        while let Some((op, r, node)) = spine.pop() {
            let outermost = spine.is_empty();
            let saved = self.pos;
            self.pos = node.span;
            a = self.binary_step(op, a, r, &node.ty, if outermost { dst } else { None });
            self.pos = saved;
        }
        a
    }

    /// One operator whose left operand `a` is already lowered.
    fn binary_step(&mut self, op: BinOp, a: Val, r: &tir::Expr, ty: &Ty, dst: Option<Reg>) -> Val {
        let a = self.protect(a, &[r]);
        if op.is_comparison() {
            return self.comparison(op, a, r, dst);
        }
        if op == BinOp::Add && a.ty == Ty::Str {
            let base = self.fresh(ValType::Str);
            let second = self.fresh(ValType::Str);
            self.finish_val(a, Some(base));
            self.expr(r, Some(second));
            let reg = self.target(&Ty::Str, dst);
            if let Some(d) = reg {
                self.emit(Instr::ConcatN { dst: d, args: base, count: Count(2) });
            }
            self.release_reg(base);
            self.release_reg(second);
            return self.val(Ty::Str, reg, dst);
        }
        // `x + k` and `x - k` with a small constant use `AddImm`.
        if a.ty == Ty::Int && matches!(op, BinOp::Add | BinOp::Sub) {
            let k = small_int(r).and_then(|k| if op == BinOp::Sub { k.checked_neg() } else { Some(k) });
            if let Some(imm) = k {
                self.release(&a);
                let reg = self.target(&Ty::Int, dst);
                if let Some(d) = reg {
                    self.emit(Instr::AddImm { dst: d, a: a.r(), imm: Imm(i32::from(imm)) });
                }
                return self.val(Ty::Int, reg, dst);
            }
        }
        let b = self.expr(r, None);
        self.release(&a);
        self.release(&b);
        let make: fn(Reg, Reg, Reg) -> Instr = match (op, &a.ty) {
            (BinOp::Add, Ty::Int) => |dst, a, b| Instr::AddI { dst, a, b },
            (BinOp::Sub, Ty::Int) => |dst, a, b| Instr::SubI { dst, a, b },
            (BinOp::Mul, Ty::Int) => |dst, a, b| Instr::MulI { dst, a, b },
            (BinOp::Div, Ty::Int) => |dst, a, b| Instr::DivI { dst, a, b },
            (BinOp::Rem, Ty::Int) => |dst, a, b| Instr::RemI { dst, a, b },
            (BinOp::BitAnd, Ty::Int) => |dst, a, b| Instr::AndI { dst, a, b },
            (BinOp::BitOr, Ty::Int) => |dst, a, b| Instr::OrI { dst, a, b },
            (BinOp::BitXor, Ty::Int) => |dst, a, b| Instr::XorI { dst, a, b },
            (BinOp::Shl, Ty::Int) => |dst, a, b| Instr::ShlI { dst, a, b },
            (BinOp::Shr, Ty::Int) => |dst, a, b| Instr::ShrI { dst, a, b },
            (BinOp::Add, _) => |dst, a, b| Instr::AddF { dst, a, b },
            (BinOp::Sub, _) => |dst, a, b| Instr::SubF { dst, a, b },
            (BinOp::Mul, _) => |dst, a, b| Instr::MulF { dst, a, b },
            (BinOp::Div, _) => |dst, a, b| Instr::DivF { dst, a, b },
            _ => |dst, a, b| Instr::RemF { dst, a, b },
        };
        self.emit_value(ty.clone(), dst, |d| make(d, a.r(), b.r()))
    }

    /// A comparison whose left operand `a` is already lowered; yields a bool.
    fn comparison(&mut self, op: BinOp, a: Val, r: &tir::Expr, dst: Option<Reg>) -> Val {
        let b = self.expr(r, None);
        self.release(&a);
        self.release(&b);
        // `>` and `>=` swap operands; for floats that keeps IEEE semantics (NaN is false).
        let (x, y) = match op {
            BinOp::Gt | BinOp::Ge => (b.r(), a.r()),
            _ => (a.r(), b.r()),
        };
        let strict = matches!(op, BinOp::Lt | BinOp::Gt);
        type Make = fn(Reg, Reg, Reg) -> Instr;
        let make: Make = match (&a.ty, op) {
            (Ty::Int, BinOp::Eq) => |dst, a, b| Instr::EqI { dst, a, b },
            (Ty::Int, BinOp::Ne) => |dst, a, b| Instr::NeI { dst, a, b },
            (Ty::Int, _) if strict => |dst, a, b| Instr::LtI { dst, a, b },
            (Ty::Int, _) => |dst, a, b| Instr::LeI { dst, a, b },
            (Ty::Float, BinOp::Eq) => |dst, a, b| Instr::EqF { dst, a, b },
            (Ty::Float, BinOp::Ne) => |dst, a, b| Instr::NeF { dst, a, b },
            (Ty::Float, _) if strict => |dst, a, b| Instr::LtF { dst, a, b },
            (Ty::Float, _) => |dst, a, b| Instr::LeF { dst, a, b },
            (Ty::Bool, BinOp::Eq) => |dst, a, b| Instr::EqB { dst, a, b },
            (Ty::Bool, BinOp::Ne) => |dst, a, b| Instr::NeB { dst, a, b },
            (Ty::Bool, _) if strict => |dst, a, b| Instr::LtB { dst, a, b },
            (Ty::Bool, _) => |dst, a, b| Instr::LeB { dst, a, b },
            (_, BinOp::Eq) => |dst, a, b| Instr::EqS { dst, a, b },
            (_, BinOp::Ne) => |dst, a, b| Instr::NeS { dst, a, b },
            (_, _) if strict => |dst, a, b| Instr::LtS { dst, a, b },
            (_, _) => |dst, a, b| Instr::LeS { dst, a, b },
        };
        self.emit_value(Ty::Bool, dst, |d| make(d, x, y))
    }

    /// `a && b`, `a || b` as values: the right side runs only when needed. A chain of
    /// the same operator (`a && b && c ...`, a left spine) is lowered in a loop.
    fn logical(&mut self, op: BinOp, e: &tir::Expr, dst: Option<Reg>) -> Val {
        let reg = self.target(&Ty::Bool, dst).expect("bool has a register");
        let mut operands = Vec::new();
        let mut left = e;
        while let ExprKind::Binary(inner, l, r) = &left.kind {
            if *inner != op {
                break;
            }
            operands.push(&**r);
            left = l;
        }
        operands.push(left);
        let mut skips = Vec::new();
        while let Some(e) = operands.pop() {
            self.expr(e, Some(reg));
            if !operands.is_empty() {
                skips.push(if op == BinOp::And {
                    self.emit(Instr::JmpIfNot { cond: reg, target: Target(0) })
                } else {
                    self.emit(Instr::JmpIf { cond: reg, target: Target(0) })
                });
            }
        }
        self.patch_here(skips);
        self.val(Ty::Bool, Some(reg), dst)
    }

    fn ret(&mut self, value: Option<&tir::Expr>) -> Val {
        match value {
            Some(e) => {
                let v = self.expr(e, None);
                if self.ret == Ty::Unit {
                    self.emit(Instr::RetVoid {});
                } else if v.ty != Ty::Never {
                    self.emit(Instr::Ret { src: v.r() });
                }
                self.release(&v);
            }
            None => {
                self.emit(Instr::RetVoid {});
            }
        }
        Val::none(Ty::Never)
    }

    fn struct_lit(&mut self, sid: usize, fields: &[(u32, tir::Expr)], ty: &Ty, dst: Option<Reg>) -> Val {
        let items = self.cx.items;
        let n = items.structs[sid].fields.len();
        let base = self.top();
        let window: Vec<Option<Reg>> =
            (0..n).map(|i| self.cx.b.val_type(&items.field_type(ty, i)).map(|vt| self.fresh(vt))).collect();
        // Fields are evaluated as written, each straight into its slot.
        for (i, e) in fields {
            self.expr(e, window[*i as usize]);
        }
        let Some(ValType::Ref(type_idx)) = self.cx.b.val_type(ty) else { unreachable!("a struct type") };
        let reg = self.target(ty, dst);
        if let Some(d) = reg {
            self.emit(Instr::NewStruct { dst: d, ty: type_idx, args: base });
        }
        for r in window.into_iter().flatten() {
            self.release_reg(r);
        }
        self.val(ty.clone(), reg, dst)
    }

    /// A value of variant `tag` of enum `en`: its payload in a window, then `NewStruct`.
    fn variant(&mut self, tag: u32, args: &[tir::Expr], ty: &Ty, dst: Option<Reg>) -> Val {
        // A nullable option: `Some(x)` is `x` itself, `None` the null reference.
        if self.cx.b.unboxed_option(ty).is_some() {
            if tag == 0 {
                let v = self.expr(&args[0], None);
                self.release(&v);
                return self.emit_value(ty.clone(), dst, |d| Instr::OptSome { dst: d, src: v.r() });
            }
            return self.emit_value(ty.clone(), dst, |d| Instr::OptNone { dst: d });
        }
        if self.cx.b.inline_result(ty).is_some() {
            let v = self.expr(&args[0], None);
            let reg = self.target(ty, dst).expect("a result type has values");
            self.make_result(ty, tag, v.r(), reg);
            self.release(&v);
            return self.val(ty.clone(), Some(reg), dst);
        }
        let fields = self.cx.items.variant_fields(ty, tag);
        let base = self.top();
        let window: Vec<Option<Reg>> =
            fields.iter().map(|t| self.cx.b.val_type(t).map(|vt| self.fresh(vt))).collect();
        for (a, slot) in args.iter().zip(&window) {
            self.expr(a, *slot);
        }
        let vty = self.cx.b.variant_type(ty, tag);
        let reg = self.target(ty, dst);
        if let Some(d) = reg {
            self.emit(Instr::NewStruct { dst: d, ty: vty, args: base });
        }
        for r in window.into_iter().flatten() {
            self.release_reg(r);
        }
        self.val(ty.clone(), reg, dst)
    }

    fn array_lit(&mut self, items: &[tir::Expr], ty: &Ty, dst: Option<Reg>) -> Val {
        let Ty::Array(elem) = ty else { unreachable!("an array literal has an array type") };
        let elem_vt = self.cx.b.elem_type(elem).expect("array elements have values");
        let boxed = self.cx.b.boxed_in_arrays(elem);
        let arr_ty = self.cx.b.array_type(elem_vt);
        // The first elements go straight into a window of fresh registers (above every
        // live register, like a call's arguments) and `NewArray` takes them; any further
        // ones are pushed one at a time, so registers and compile time stay linear.
        let n_window = items.len().min(ARRAY_WINDOW);
        let start = self.top();
        let window: Vec<Reg> = (0..n_window).map(|_| self.fresh(elem_vt)).collect();
        for (e, &slot) in items.iter().zip(&window) {
            if boxed {
                let v = self.expr(e, None);
                self.box_value(v.r(), elem, Some(slot));
                self.release(&v);
            } else {
                self.expr(e, Some(slot));
            }
        }
        let rest = &items[n_window..];
        // While elements are still pushed, the array lives in a temporary: `dst` may be a
        // variable that a later element reads.
        let reg = if rest.is_empty() { self.target(ty, dst) } else { self.target(ty, None) };
        if let Some(d) = reg {
            self.emit(Instr::NewArray { dst: d, ty: arr_ty, args: start, count: Count(n_window as u32) });
        }
        for r in window {
            self.release_reg(r);
        }
        if rest.is_empty() {
            return self.val(ty.clone(), reg, dst);
        }
        for e in rest {
            let v = self.expr(e, None);
            if let (Some(arr), Some(src)) = (reg, v.reg) {
                self.store_elem(src, elem, |src| Instr::ArrayPush { arr, src });
            }
            self.release(&v);
        }
        let v = self.val(ty.clone(), reg, None);
        self.finish_val(v, dst)
    }

    /// Lowers `arr[idx]`'s operands, left to right.
    fn index_operands(&mut self, arr: &tir::Expr, idx: &tir::Expr) -> (Val, Val) {
        let a = self.expr(arr, None);
        let a = self.protect(a, &[idx]);
        let i = self.expr(idx, None);
        (a, i)
    }

    /// `place = value` (a compound assignment's value reads the place's current value
    /// through [`ExprKind::PlaceValue`]). A field's object and an element's array and
    /// index are evaluated once, before the value.
    fn assign(&mut self, place: &Place, value: &tir::Expr) -> Val {
        match place {
            Place::Local(id) if self.is_boxed(*id) => {
                let (_, cell) = self.local(*id);
                let v = self.expr(value, None);
                if let (Some(cell), Some(src)) = (cell, v.reg) {
                    self.emit(Instr::SetField { obj: cell, field: FieldIdx(0), src });
                }
                self.release(&v);
            }
            Place::Local(id) => {
                let (_, reg) = self.local(*id);
                // Operators and plain values may write straight into the variable;
                // anything that branches computes into a temporary first.
                let direct = !matches!(
                    value.kind,
                    ExprKind::Binary(BinOp::And | BinOp::Or, ..)
                        | ExprKind::If(..)
                        | ExprKind::Block(_)
                        | ExprKind::Match(..)
                );
                if direct {
                    self.expr(value, reg);
                } else {
                    let v = self.expr(value, None);
                    self.finish_val(v, reg);
                }
            }
            Place::Global(g) => {
                let idx = self.cx.global_idx[*g];
                let v = self.expr(value, None);
                if let (Some(idx), Some(src)) = (idx, v.reg) {
                    self.emit(Instr::SetGlobal { global: idx, src });
                }
                self.release(&v);
            }
            Place::Field(obj, field) => {
                let o = self.expr(obj, None);
                let o = self.protect(o, &[value]);
                let field = FieldIdx(*field);
                let v = self.with_place_value(value, |f, d| {
                    f.emit(Instr::GetField { dst: d, obj: o.r(), field });
                });
                if let Some(src) = v.reg {
                    self.emit(Instr::SetField { obj: o.r(), field, src });
                }
                self.release(&v);
                self.release(&o);
            }
            Place::Index(arr, idx) => {
                let (a, i) = self.index_operands(arr, idx);
                let a = self.protect(a, &[value]);
                let i = self.protect(i, &[value]);
                let elem = value.ty.clone();
                let v = self.with_place_value(value, |f, d| {
                    f.array_get(&elem, a.r(), i.r(), Some(d));
                });
                if let Some(src) = v.reg {
                    self.store_elem(src, &elem, |src| Instr::ArraySet { arr: a.r(), idx: i.r(), src });
                }
                self.release(&v);
                self.release(&a);
                self.release(&i);
            }
        }
        Val::none(Ty::Unit)
    }

    /// Lowers a field's or element's new `value`; if it reads the current value (a
    /// compound assignment), `load` reads it first into a register of its own.
    fn with_place_value(&mut self, value: &tir::Expr, load: impl FnOnce(&mut Self, Reg)) -> Val {
        let current = match &value.kind {
            ExprKind::Binary(_, l, _) if matches!(l.kind, ExprKind::PlaceValue) => &l.ty,
            _ => return self.expr(value, None),
        };
        let vt = self.cx.b.val_type(current).expect("a place holds a value");
        let cur = self.alloc(vt);
        load(self, cur);
        self.place_values.push(cur);
        let v = self.expr(value, None);
        self.place_values.pop();
        self.release_reg(cur);
        v
    }
}
