//! Expressions: literals, names, operators, casts, literals of structs and arrays, field
//! and index access, assignment and string interpolation.

use super::func::{FnLowerer, Val};
use crate::sema::consts::ConstVal;
use crate::sema::types::Ty;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use kiln_bytecode::*;

/// Elements of an array literal built by one `NewArray`; the rest are pushed.
const ARRAY_WINDOW: usize = 64;

/// Deepest expression recursion; the parser's own limit keeps real input far below it.
const MAX_DEPTH: usize = 1_000;

impl FnLowerer<'_, '_> {
    /// Lowers `e`. With `dst`, a value ends up in `dst`; `expect` guides literals such
    /// as `[]` and is checked by the caller.
    pub fn expr(&mut self, e: &Expr, expect: Option<&Ty>, dst: Option<Reg>) -> Val {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            self.cx.error(e.span, "expression nested too deeply");
            return Val::error();
        }
        let saved = self.pos;
        self.pos = e.span;
        let v = self.expr_kind(e, expect, dst);
        self.pos = saved;
        self.depth -= 1;
        v
    }

    fn expr_kind(&mut self, e: &Expr, expect: Option<&Ty>, dst: Option<Reg>) -> Val {
        match &e.kind {
            ExprKind::Int(v) => self.load_const(&ConstVal::Int(*v), dst),
            ExprKind::Float(v) => self.load_const(&ConstVal::Float(*v), dst),
            ExprKind::Bool(v) => self.load_const(&ConstVal::Bool(*v), dst),
            ExprKind::Str(pieces) => self.string(pieces, dst),
            ExprKind::Name(name) => self.name(name, e.span, dst),
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, e.span, expect, dst),
            ExprKind::Unary(op, inner) => self.unary(*op, inner, e.span, dst),
            ExprKind::Assign(op, target, value) => self.assign(*op, target, value, e.span),
            ExprKind::Call(callee, args) => self.call(callee, args, e.span, dst),
            ExprKind::MethodCall(recv, name, args) => self.method_call(recv, name, args, e.span, dst),
            ExprKind::Field(obj, name) => self.field(obj, name, dst),
            ExprKind::Index(arr, idx) => self.index(arr, idx, dst),
            ExprKind::Cast(inner, ty) => self.cast(inner, ty, e.span, dst),
            ExprKind::If(cond, then, els) => self.if_expr(cond, then, els.as_deref(), expect, dst),
            ExprKind::While(cond, body) => self.while_loop(cond, body),
            ExprKind::For(var, iter, body) => self.for_loop(var, iter, body),
            ExprKind::Range(..) => {
                self.cx.error(e.span, "a range `a..b` can only be used in a `for` loop");
                Val::error()
            }
            ExprKind::Block(b) => self.block(b, expect, dst),
            ExprKind::Break | ExprKind::Continue => {
                let at = self.emit(Instr::Jmp { target: Target(0) });
                match self.loops.last_mut() {
                    Some(ctx) if matches!(e.kind, ExprKind::Break) => ctx.breaks.push(at),
                    Some(ctx) => ctx.continues.push(at),
                    None => {
                        self.code.pop();
                        let what = if matches!(e.kind, ExprKind::Break) { "break" } else { "continue" };
                        self.cx.error(e.span, format!("`{what}` outside of a loop"));
                    }
                }
                Val::none(Ty::Never)
            }
            ExprKind::Return(value) => self.ret(value.as_deref(), e.span),
            ExprKind::StructLit(name, fields) => self.struct_lit(name, fields, e.span, dst),
            ExprKind::ArrayLit(items) => self.array_lit(items, expect, e.span, dst),
            ExprKind::ArrayRepeat(value, count) => self.array_repeat(value, count, expect, dst),
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
        // Inside a loop, a constant is loaded once, in the function's prologue.
        if dst.is_none() && self.loop_depth > 0 {
            let key = match v {
                ConstVal::Int(i) => (0, *i as u64, String::new()),
                ConstVal::Float(f) => (1, f.to_bits(), String::new()),
                ConstVal::Bool(b) => (2, u64::from(*b), String::new()),
                ConstVal::Str(s) => (3, 0, s.clone()),
            };
            let reg = self.hoisted_const(key, &ty, &instr);
            return Val { ty, reg, temp: false };
        }
        self.emit_value(ty, dst, instr)
    }

    fn name(&mut self, name: &str, span: Span, dst: Option<Reg>) -> Val {
        if let Some(local) = self.lookup(name) {
            let v = Val { ty: local.ty.clone(), reg: local.reg, temp: false };
            return self.finish_val(v, dst);
        }
        if let Some((_, g)) = self.global(name) {
            let (ty, value, idx) = (g.ty.clone(), g.value.clone(), g.idx);
            return match (ty, value, idx) {
                (_, Some(v), _) => self.load_const(&v, dst),
                (Some(ty), None, Some(idx)) => {
                    self.emit_value(ty, dst, |r| Instr::GetGlobal { dst: r, global: idx })
                }
                (Some(ty), None, None) => Val::none(ty),
                (None, _, _) => {
                    self.cx.error(
                        span,
                        format!("global `{name}` is used before its declaration is initialised"),
                    );
                    Val::error()
                }
            };
        }
        let what = if self.cx.items.fn_by_name.contains_key(name) {
            format!("function `{name}` cannot be used as a value (call it with `{name}(...)`)")
        } else if self.cx.items.struct_by_name.contains_key(name) {
            format!("type `{name}` cannot be used as a value")
        } else {
            format!("cannot find `{name}` in this scope")
        };
        self.cx.error(span, what);
        Val::error()
    }

    fn string(&mut self, pieces: &[StrPiece], dst: Option<Reg>) -> Val {
        if let [StrPiece::Lit(s)] = pieces {
            return self.load_const(&ConstVal::Str(s.clone()), dst);
        }
        let base = self.top();
        let window: Vec<Reg> = pieces.iter().map(|_| self.fresh(ValType::Str)).collect();
        for (piece, &slot) in pieces.iter().zip(&window) {
            match piece {
                StrPiece::Lit(s) => {
                    self.load_const(&ConstVal::Str(s.clone()), Some(slot));
                }
                StrPiece::Expr(e) => {
                    let v = self.expr(e, None, None);
                    self.text_of(v, e.span, slot);
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
    pub fn text_of(&mut self, v: Val, span: Span, dst: Reg) {
        let src = v.r();
        match &v.ty {
            Ty::Str => {
                self.finish_val(v, Some(dst));
                return;
            }
            Ty::Int => self.emit(Instr::IntToStr { dst, src }),
            Ty::Float => self.emit(Instr::FloatToStr { dst, src }),
            Ty::Bool => self.emit(Instr::BoolToStr { dst, src }),
            Ty::Error => 0,
            other => {
                let t = self.cx.items.type_name(other);
                self.cx.error(span, format!("cannot turn a value of type `{t}` into text"));
                0
            }
        };
        self.release(&v);
    }

    fn unary(&mut self, op: UnOp, inner: &Expr, span: Span, dst: Option<Reg>) -> Val {
        if let (UnOp::Neg, ExprKind::Int(v)) = (op, &inner.kind) {
            return self.load_const(&ConstVal::Int(v.wrapping_neg()), dst);
        }
        if let (UnOp::Neg, ExprKind::Float(v)) = (op, &inner.kind) {
            return self.load_const(&ConstVal::Float(-v), dst);
        }
        let v = self.expr(inner, None, None);
        let (ty, make): (Ty, fn(Reg, Reg) -> Instr) = match (op, &v.ty) {
            (UnOp::Neg, Ty::Int) => (Ty::Int, |dst, src| Instr::NegI { dst, src }),
            (UnOp::Neg, Ty::Float) => (Ty::Float, |dst, src| Instr::NegF { dst, src }),
            (UnOp::Not, Ty::Bool) => (Ty::Bool, |dst, src| Instr::Not { dst, src }),
            (_, Ty::Error) => return Val::error(),
            (op, t) => {
                let t = self.cx.items.type_name(t);
                let o = if op == UnOp::Neg { "-" } else { "!" };
                self.cx.error(span, format!("operator `{o}` cannot be applied to `{t}`"));
                return Val::error();
            }
        };
        self.release(&v);
        self.emit_value(ty, dst, |r| make(r, v.r()))
    }

    fn binary(
        &mut self,
        op: BinOp,
        l: &Expr,
        r: &Expr,
        span: Span,
        expect: Option<&Ty>,
        dst: Option<Reg>,
    ) -> Val {
        if matches!(op, BinOp::And | BinOp::Or) {
            return self.logical(op, l, r, dst);
        }
        if op == BinOp::Add {
            if let Some(v) = self.concat_chain(l, r, expect, dst) {
                return v;
            }
        }
        // A left-associative chain `a + b - c ...` is a left spine of binary nodes; lower
        // it bottom-up in a loop rather than by recursion, so a chain as long as the
        // parser allows (5 000 operators) needs no deep recursion.
        let mut spine = vec![(op, r, span)];
        let mut left = l;
        while let ExprKind::Binary(inner, ll, lr) = &left.kind {
            if matches!(inner, BinOp::And | BinOp::Or) {
                break;
            }
            spine.push((*inner, lr, left.span));
            left = ll;
        }
        let (first_op, ..) = *spine.last().expect("the spine holds `op`");
        let mut a = self.expr(left, expect.filter(|_| !first_op.is_comparison()), None);
        while let Some((op, r, span)) = spine.pop() {
            let outermost = spine.is_empty();
            a = self.binary_step(op, a, r, span, if outermost { dst } else { None });
        }
        a
    }

    /// One operator of a binary chain whose left operand `a` is already lowered.
    fn binary_step(&mut self, op: BinOp, a: Val, r: &Expr, span: Span, dst: Option<Reg>) -> Val {
        let saved = self.pos;
        self.pos = span;
        let v = self.binary_step_at(op, a, r, span, dst);
        self.pos = saved;
        v
    }

    fn binary_step_at(&mut self, op: BinOp, a: Val, r: &Expr, span: Span, dst: Option<Reg>) -> Val {
        if a.ty == Ty::Error {
            self.discard(r);
            return Val::error();
        }
        let a = self.protect(a, &[r]);
        if op.is_comparison() {
            return self.comparison(op, a, r, span, dst);
        }
        if op == BinOp::Add && a.ty == Ty::Str {
            let base = self.fresh(ValType::Str);
            let second = self.fresh(ValType::Str);
            self.finish_val(a, Some(base));
            let b = self.expr(r, Some(&Ty::Str), Some(second));
            if !b.ty.fits(&Ty::Str) {
                let t = self.cx.items.type_name(&b.ty);
                self.cx.error(r.span, format!("cannot add `{t}` to a string (use interpolation: \"{{x}}\")"));
            }
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
            if let ExprKind::Int(k) = r.kind {
                let k = if op == BinOp::Sub { k.checked_neg() } else { Some(k) };
                if let Some(imm) = k.and_then(|k| i16::try_from(k).ok()) {
                    self.release(&a);
                    let reg = self.target(&Ty::Int, dst);
                    if let Some(d) = reg {
                        self.emit(Instr::AddImm { dst: d, a: a.r(), imm: Imm(i32::from(imm)) });
                    }
                    return self.val(Ty::Int, reg, dst);
                }
            }
        }
        let Some(b) = self.same_type_operand(&a, r, span, |ta, tb| {
            format!("operator `{}` cannot combine `{ta}` and `{tb}` (convert with `as`)", op.text())
        }) else {
            return Val::error();
        };
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
            (BinOp::Add, Ty::Float) => |dst, a, b| Instr::AddF { dst, a, b },
            (BinOp::Sub, Ty::Float) => |dst, a, b| Instr::SubF { dst, a, b },
            (BinOp::Mul, Ty::Float) => |dst, a, b| Instr::MulF { dst, a, b },
            (BinOp::Div, Ty::Float) => |dst, a, b| Instr::DivF { dst, a, b },
            (BinOp::Rem, Ty::Float) => |dst, a, b| Instr::RemF { dst, a, b },
            (op, t) => {
                let t = self.cx.items.type_name(t);
                self.cx.error(span, format!("operator `{}` cannot be applied to `{t}`", op.text()));
                return Val::error();
            }
        };
        let ty = a.ty.clone();
        self.emit_value(ty, dst, |d| make(d, a.r(), b.r()))
    }

    /// `a + b + c ...` on strings becomes one `ConcatN`.
    fn concat_chain(&mut self, l: &Expr, r: &Expr, expect: Option<&Ty>, dst: Option<Reg>) -> Option<Val> {
        // Only when the leftmost operand is visibly a string literal or interpolation, or
        // the context wants a string; otherwise the general path decides by type.
        let mut operands = vec![r];
        let mut left = l;
        while let ExprKind::Binary(BinOp::Add, ll, lr) = &left.kind {
            operands.push(lr);
            left = ll;
        }
        operands.push(left);
        operands.reverse();
        let looks_str = matches!(left.kind, ExprKind::Str(_)) || expect == Some(&Ty::Str);
        if !looks_str || operands.len() > 64 {
            return None;
        }
        let base = self.top();
        let window: Vec<Reg> = operands.iter().map(|_| self.fresh(ValType::Str)).collect();
        for (e, &slot) in operands.iter().zip(&window) {
            let v = self.expr(e, Some(&Ty::Str), Some(slot));
            if !v.ty.fits(&Ty::Str) {
                let t = self.cx.items.type_name(&v.ty);
                self.cx.error(e.span, format!("cannot add `{t}` to a string (use interpolation: \"{{x}}\")"));
            }
        }
        let reg = self.target(&Ty::Str, dst);
        if let Some(d) = reg {
            self.emit(Instr::ConcatN { dst: d, args: base, count: Count(window.len() as u32) });
        }
        for r in window {
            self.release_reg(r);
        }
        Some(self.val(Ty::Str, reg, dst))
    }

    /// Lowers the right operand `r` of a binary operator whose left operand `a` is already
    /// lowered, and checks both have one type (`message` words the error). Both
    /// temporaries are released: the caller emits the one instruction that reads them.
    fn same_type_operand(
        &mut self,
        a: &Val,
        r: &Expr,
        span: Span,
        message: impl FnOnce(&str, &str) -> String,
    ) -> Option<Val> {
        let b = self.expr(r, Some(&a.ty), None);
        self.release(a);
        self.release(&b);
        if a.ty == Ty::Error || b.ty == Ty::Error {
            return None;
        }
        if a.ty != b.ty {
            let (ta, tb) = (self.cx.items.type_name(&a.ty), self.cx.items.type_name(&b.ty));
            self.cx.error(span, message(&ta, &tb));
            return None;
        }
        Some(b)
    }

    /// A comparison whose left operand `a` is already lowered; yields a bool.
    pub fn comparison(&mut self, op: BinOp, a: Val, r: &Expr, span: Span, dst: Option<Reg>) -> Val {
        let Some(b) =
            self.same_type_operand(&a, r, span, |ta, tb| format!("cannot compare `{ta}` with `{tb}`"))
        else {
            return Val::error();
        };
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
            (Ty::Str, BinOp::Eq) => |dst, a, b| Instr::EqS { dst, a, b },
            (Ty::Str, BinOp::Ne) => |dst, a, b| Instr::NeS { dst, a, b },
            (Ty::Str, _) if strict => |dst, a, b| Instr::LtS { dst, a, b },
            (Ty::Str, _) => |dst, a, b| Instr::LeS { dst, a, b },
            (t, _) => {
                let t = self.cx.items.type_name(t);
                self.cx.error(span, format!("values of type `{t}` cannot be compared with `{}`", op.text()));
                return Val::error();
            }
        };
        self.emit_value(Ty::Bool, dst, |d| make(d, x, y))
    }

    /// `a && b`, `a || b` as values: the right side runs only when needed. A chain of
    /// the same operator (`a && b && c ...`) is lowered in a loop, not by recursion.
    fn logical(&mut self, op: BinOp, l: &Expr, r: &Expr, dst: Option<Reg>) -> Val {
        let reg = self.target(&Ty::Bool, dst).expect("bool has a register");
        let mut operands = vec![r];
        let mut left = l;
        while let ExprKind::Binary(inner, ll, lr) = &left.kind {
            if *inner != op {
                break;
            }
            operands.push(lr);
            left = ll;
        }
        operands.push(left);
        let mut skips = Vec::new();
        while let Some(e) = operands.pop() {
            let v = self.expr(e, Some(&Ty::Bool), Some(reg));
            if !v.ty.fits(&Ty::Bool) {
                self.cx.mismatch(e.span, &Ty::Bool, &v.ty);
            }
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

    fn cast(&mut self, inner: &Expr, ty: &TypeExpr, span: Span, dst: Option<Reg>) -> Val {
        let to = self.cx.items.resolve_type(ty, self.cx.errors);
        let v = self.expr(inner, None, None);
        let make: Option<fn(Reg, Reg) -> Instr> = match (&v.ty, &to) {
            (Ty::Error, _) | (_, Ty::Error) => return Val::error(),
            (a, b) if a == b => return self.finish_val(Val { ty: to, ..v }, dst),
            (Ty::Int, Ty::Float) => Some(|dst, src| Instr::IntToFloat { dst, src }),
            (Ty::Float, Ty::Int) => Some(|dst, src| Instr::FloatToInt { dst, src }),
            _ => None,
        };
        let Some(make) = make else {
            let (a, b) = (self.cx.items.type_name(&v.ty), self.cx.items.type_name(&to));
            self.cx.error(span, format!("cannot cast `{a}` to `{b}`"));
            return Val::error();
        };
        self.release(&v);
        self.emit_value(to, dst, |d| make(d, v.r()))
    }

    fn ret(&mut self, value: Option<&Expr>, span: Span) -> Val {
        let want = self.ret.clone();
        match value {
            Some(e) => {
                let v = self.expr(e, Some(&want), None);
                if want == Ty::Unit {
                    if !matches!(v.ty, Ty::Unit | Ty::Never | Ty::Error) {
                        self.cx.error(e.span, "this function returns nothing, but `return` has a value");
                    }
                    self.emit(Instr::RetVoid {});
                } else {
                    if !v.ty.fits(&want) {
                        self.cx.mismatch(e.span, &want, &v.ty);
                    }
                    if v.ty != Ty::Never {
                        self.emit(Instr::Ret { src: v.r() });
                    }
                }
                self.release(&v);
            }
            None => {
                if !matches!(want, Ty::Unit | Ty::Error) {
                    let w = self.cx.items.type_name(&want);
                    self.cx.error(span, format!("`return` needs a value of type `{w}`"));
                }
                self.emit(Instr::RetVoid {});
            }
        }
        Val::none(Ty::Never)
    }

    fn struct_lit(&mut self, name: &Ident, fields: &[(Ident, Expr)], span: Span, dst: Option<Reg>) -> Val {
        let Some(&sid) = self.cx.items.struct_by_name.get(&name.name) else {
            self.cx.error(name.span, format!("cannot find struct `{}`", name.name));
            for (_, e) in fields {
                self.discard(e);
            }
            return Val::error();
        };
        let items = self.cx.items;
        let decl = &items.structs[sid].fields;
        let base = self.top();
        let window: Vec<Option<Reg>> =
            decl.iter().map(|(_, t)| self.cx.b.val_type(t).map(|vt| self.fresh(vt))).collect();
        let mut seen = vec![false; decl.len()];
        for (fname, e) in fields {
            match decl.iter().position(|(n, _)| *n == fname.name) {
                Some(i) if seen[i] => {
                    self.cx.error(fname.span, format!("field `{}` is given twice", fname.name));
                }
                Some(i) => {
                    seen[i] = true;
                    let v = self.expr(e, Some(&decl[i].1), window[i]);
                    if !v.ty.fits(&decl[i].1) {
                        self.cx.mismatch(e.span, &decl[i].1, &v.ty);
                    }
                }
                None => {
                    self.cx
                        .error(fname.span, format!("struct `{}` has no field `{}`", name.name, fname.name));
                    self.discard(e);
                }
            }
        }
        let missing: Vec<&str> =
            decl.iter().zip(&seen).filter(|(_, s)| !**s).map(|((n, _), _)| n.as_str()).collect();
        if !missing.is_empty() {
            self.cx.error(
                span,
                format!(
                    "missing field{} {} in `{}`",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                    name.name
                ),
            );
        }
        let ty = Ty::Struct(sid);
        let reg = self.target(&ty, dst);
        if let Some(d) = reg {
            self.emit(Instr::NewStruct { dst: d, ty: TypeIdx(sid as u32), args: base });
        }
        for r in window.into_iter().flatten() {
            self.release_reg(r);
        }
        self.val(ty, reg, dst)
    }

    fn array_lit(&mut self, items: &[Expr], expect: Option<&Ty>, span: Span, dst: Option<Reg>) -> Val {
        let mut elem = match expect {
            Some(Ty::Array(e)) => Some((**e).clone()),
            _ => None,
        };
        if items.is_empty() && elem.is_none() {
            self.cx.error(
                span,
                "cannot infer the element type of `[]`; annotate it, as in `let a: [int] = [];`",
            );
            return Val::error();
        }
        // The first element decides the type when the context does not.
        let first = match (&elem, items.first()) {
            (None, Some(e)) => {
                let v = self.expr(e, None, None);
                elem = Some(v.ty.clone());
                Some(v)
            }
            _ => None,
        };
        let elem = elem.unwrap_or(Ty::Error);
        let ty = Ty::Array(Box::new(elem.clone()));
        let Some(elem_vt) = self.cx.b.val_type(&elem) else {
            if elem != Ty::Error {
                self.cx.error(span, "array elements must have a value");
            }
            for e in items.iter().skip(usize::from(first.is_some())) {
                self.discard(e);
            }
            return Val::error();
        };
        let arr_ty = self.cx.b.array_type(elem_vt);
        // The first elements go straight into a window of fresh registers (above every
        // live register, like a call's arguments) and `NewArray` takes them; any further
        // ones are pushed one at a time, so registers and compile time stay linear.
        let n_window = items.len().min(ARRAY_WINDOW);
        let start = self.top();
        let window: Vec<Reg> = (0..n_window).map(|_| self.fresh(elem_vt)).collect();
        let lower_into = |f: &mut Self, e: &Expr, slot: Reg| {
            let v = f.expr(e, Some(&elem), Some(slot));
            if !v.ty.fits(&elem) {
                f.cx.mismatch(e.span, &elem, &v.ty);
            }
        };
        for (i, (e, &slot)) in items.iter().zip(&window).enumerate() {
            match (i, &first) {
                (0, Some(v)) => {
                    self.finish_val(v.clone(), Some(slot));
                }
                _ => lower_into(self, e, slot),
            }
        }
        let rest = &items[n_window..];
        // While elements are still pushed, the array lives in a temporary: `dst` may be a
        // variable that a later element reads.
        let reg = if rest.is_empty() { self.target(&ty, dst) } else { self.target(&ty, None) };
        if let Some(d) = reg {
            self.emit(Instr::NewArray { dst: d, ty: arr_ty, args: start, count: Count(n_window as u32) });
        }
        for r in window {
            self.release_reg(r);
        }
        if rest.is_empty() {
            return self.val(ty, reg, dst);
        }
        for e in rest {
            let v = self.expr(e, Some(&elem), None);
            if !v.ty.fits(&elem) {
                self.cx.mismatch(e.span, &elem, &v.ty);
            }
            if let (Some(arr), Some(src)) = (reg, v.reg) {
                self.emit(Instr::ArrayPush { arr, src });
            }
            self.release(&v);
        }
        let v = self.val(ty, reg, None);
        self.finish_val(v, dst)
    }

    fn array_repeat(&mut self, value: &Expr, count: &Expr, expect: Option<&Ty>, dst: Option<Reg>) -> Val {
        let want = match expect {
            Some(Ty::Array(e)) => Some((**e).clone()),
            _ => None,
        };
        let v = self.expr(value, want.as_ref(), None);
        let n = self.expr(count, Some(&Ty::Int), None);
        if !n.ty.fits(&Ty::Int) {
            self.cx.mismatch(count.span, &Ty::Int, &n.ty);
        }
        self.release(&v);
        self.release(&n);
        let Some(elem_vt) = self.cx.b.val_type(&v.ty) else {
            return Val::error();
        };
        let ty = Ty::Array(Box::new(v.ty.clone()));
        let arr_ty = self.cx.b.array_type(elem_vt);
        self.emit_value(ty, dst, |d| Instr::ArrayFill { dst: d, ty: arr_ty, val: v.r(), len: n.r() })
    }

    /// Lowers `obj` and checks it is a struct with field `name`: (object, field, type).
    fn field_of(&mut self, obj: &Expr, name: &Ident) -> Option<(Val, FieldIdx, Ty)> {
        if let ExprKind::Name(n) = &obj.kind {
            if self.lookup(n).is_none() && self.cx.items.struct_by_name.contains_key(n) {
                self.cx.error(name.span, format!("`{n}.{}` is a function; call it with `(...)`", name.name));
                return None;
            }
        }
        let o = self.expr(obj, None, None);
        match &o.ty {
            Ty::Struct(s) => {
                let fields = &self.cx.items.structs[*s].fields;
                match fields.iter().position(|(n, _)| *n == name.name) {
                    Some(i) => {
                        let fty = fields[i].1.clone();
                        Some((o, FieldIdx(i as u32), fty))
                    }
                    None => {
                        let sname = self.cx.items.structs[*s].name.clone();
                        self.cx.error(name.span, format!("struct `{sname}` has no field `{}`", name.name));
                        None
                    }
                }
            }
            Ty::Error => None,
            other => {
                let t = self.cx.items.type_name(other);
                self.cx.error(name.span, format!("type `{t}` has no field `{}`", name.name));
                None
            }
        }
    }

    fn field(&mut self, obj: &Expr, name: &Ident, dst: Option<Reg>) -> Val {
        let Some((o, field, fty)) = self.field_of(obj, name) else {
            return Val::error();
        };
        self.release(&o);
        self.emit_value(fty, dst, |d| Instr::GetField { dst: d, obj: o.r(), field })
    }

    /// Lowers `arr[idx]`'s operands: (array, index, element type).
    fn index_of(&mut self, arr: &Expr, idx: &Expr) -> Option<(Val, Val, Ty)> {
        let a = self.expr(arr, None, None);
        let a = self.protect(a, &[idx]);
        let i = self.expr(idx, Some(&Ty::Int), None);
        if !i.ty.fits(&Ty::Int) {
            self.cx.mismatch(idx.span, &Ty::Int, &i.ty);
        }
        match &a.ty {
            Ty::Array(elem) => {
                let elem = (**elem).clone();
                Some((a, i, elem))
            }
            Ty::Error => None,
            other => {
                let t = self.cx.items.type_name(other);
                self.cx.error(arr.span, format!("type `{t}` cannot be indexed"));
                None
            }
        }
    }

    fn index(&mut self, arr: &Expr, idx: &Expr, dst: Option<Reg>) -> Val {
        let Some((a, i, elem)) = self.index_of(arr, idx) else {
            return Val::error();
        };
        self.release(&a);
        self.release(&i);
        self.emit_value(elem, dst, |d| Instr::ArrayGet { dst: d, arr: a.r(), idx: i.r() })
    }

    /// `target = value` and `target op= value`. Evaluates the target's object and index
    /// once.
    fn assign(&mut self, op: Option<BinOp>, target: &Expr, value: &Expr, span: Span) -> Val {
        match &target.kind {
            ExprKind::Name(name) => {
                if let Some(local) = self.lookup(name).cloned() {
                    if !local.mutable {
                        self.cx.error(
                            target.span,
                            format!("cannot assign to `{name}`: it was declared with `let` (use `var`)"),
                        );
                    }
                    // Operators and plain values may write straight into the variable;
                    // anything that branches computes into a temporary first.
                    let direct = op.is_some()
                        || !matches!(
                            value.kind,
                            ExprKind::Binary(BinOp::And | BinOp::Or, ..)
                                | ExprKind::If(..)
                                | ExprKind::Block(_)
                        );
                    let v = match op {
                        Some(op) => self.binary(op, target, value, span, Some(&local.ty), local.reg),
                        None if direct => self.expr(value, Some(&local.ty), local.reg),
                        None => {
                            let v = self.expr(value, Some(&local.ty), None);
                            self.finish_val(v, local.reg)
                        }
                    };
                    if !v.ty.fits(&local.ty) {
                        self.cx.mismatch(value.span, &local.ty, &v.ty);
                    }
                    return Val::none(Ty::Unit);
                }
                if let Some((_, g)) = self.global(name) {
                    let (ty, idx, is_const) = (g.ty.clone(), g.idx, g.value.is_some());
                    if is_const {
                        self.cx.error(target.span, format!("cannot assign to constant `{name}`"));
                        return Val::none(Ty::Unit);
                    }
                    let ty = ty.unwrap_or(Ty::Error);
                    let v = match op {
                        Some(op) => self.binary(op, target, value, span, Some(&ty), None),
                        None => self.expr(value, Some(&ty), None),
                    };
                    if !v.ty.fits(&ty) {
                        self.cx.mismatch(value.span, &ty, &v.ty);
                    }
                    if let (Some(idx), Some(src)) = (idx, v.reg) {
                        self.emit(Instr::SetGlobal { global: idx, src });
                    }
                    self.release(&v);
                    return Val::none(Ty::Unit);
                }
                self.name(name, target.span, None);
                Val::none(Ty::Unit)
            }
            ExprKind::Field(obj, name) => {
                let Some((o, field, fty)) = self.field_of(obj, name) else {
                    self.discard(value);
                    return Val::none(Ty::Unit);
                };
                let o = self.protect(o, &[value]);
                let v = self.compound(op, &fty, value, span, |f, d| {
                    f.emit(Instr::GetField { dst: d, obj: o.r(), field });
                });
                if let Some(src) = v.reg {
                    self.emit(Instr::SetField { obj: o.r(), field, src });
                }
                self.release(&v);
                self.release(&o);
                Val::none(Ty::Unit)
            }
            ExprKind::Index(arr, idx) => {
                let Some((a, i, elem)) = self.index_of(arr, idx) else {
                    self.discard(value);
                    return Val::none(Ty::Unit);
                };
                let a = self.protect(a, &[value]);
                let i = self.protect(i, &[value]);
                let v = self.compound(op, &elem, value, span, |f, d| {
                    f.emit(Instr::ArrayGet { dst: d, arr: a.r(), idx: i.r() });
                });
                if let Some(src) = v.reg {
                    self.emit(Instr::ArraySet { arr: a.r(), idx: i.r(), src });
                }
                self.release(&v);
                self.release(&a);
                self.release(&i);
                Val::none(Ty::Unit)
            }
            _ => {
                self.cx.error(target.span, "cannot assign to this expression");
                Val::none(Ty::Unit)
            }
        }
    }

    /// The value to store for `place = value` or `place op= value`, where `load` reads
    /// the place's current value into a register.
    fn compound(
        &mut self,
        op: Option<BinOp>,
        ty: &Ty,
        value: &Expr,
        span: Span,
        load: impl FnOnce(&mut Self, Reg),
    ) -> Val {
        let v = match op {
            None => self.expr(value, Some(ty), None),
            Some(op) => {
                let Some(vt) = self.cx.b.val_type(ty) else {
                    return Val::error();
                };
                let cur = self.alloc(vt);
                load(self, cur);
                // Reuse the binary-operator rules on a synthetic `cur op value`.
                let tmp_name = format!("\u{0}cur{}", cur.0);
                self.push_scope();
                self.declare(
                    &tmp_name,
                    super::func::Local { reg: Some(cur), ty: ty.clone(), mutable: false },
                );
                let lhs = Expr { kind: ExprKind::Name(tmp_name), span };
                let v = self.binary(op, &lhs, value, span, Some(ty), None);
                self.pop_scope();
                v
            }
        };
        if !v.ty.fits(ty) {
            self.cx.mismatch(value.span, ty, &v.ty);
        }
        v
    }
}
