//! Expressions: literals, names, operators, casts, struct and array literals, field and
//! index access, assignment and string interpolation.

use super::{Checker, GlobalDef};
use crate::sema::consts::ConstVal;
use crate::sema::types::{Bound, Ty};
use crate::syntax::ast::{self, BinOp, ExprKind, StrPiece, UnOp};
use crate::syntax::span::Span;
use crate::tir::{self, Expr, Place};

/// Deepest expression recursion; the parser's own limit keeps real input far below it.
const MAX_DEPTH: usize = 1_000;

/// Operands of a string `+` chain beyond which it is checked (and lowered) as nested
/// pairs rather than one concatenation.
pub const MAX_CONCAT: usize = 64;

/// An expression whose error was already reported (or that is never lowered).
pub fn invalid(ty: Ty, span: Span) -> Expr {
    Expr::new(tir::ExprKind::Unreachable, ty, span)
}

impl Checker<'_> {
    /// Checks `e`. `expect` guides literals such as `[]`; the caller checks the result's
    /// type against what it needs.
    pub fn expr(&mut self, e: &ast::Expr, expect: Option<&Ty>) -> Expr {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            self.error(e.span, "expression nested too deeply");
            return invalid(Ty::Error, e.span);
        }
        let v = self.expr_kind(e, expect);
        self.depth -= 1;
        v
    }

    fn expr_kind(&mut self, e: &ast::Expr, expect: Option<&Ty>) -> Expr {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(v) => constant(ConstVal::Int(*v), span),
            ExprKind::Float(v) => constant(ConstVal::Float(*v), span),
            ExprKind::Bool(v) => constant(ConstVal::Bool(*v), span),
            ExprKind::Str(pieces) => self.string(pieces, span),
            ExprKind::Name(name) => self.name(name, expect, span),
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, span, expect),
            ExprKind::Unary(op, inner) => self.unary(*op, inner, span),
            ExprKind::Assign(op, target, value) => self.assign(*op, target, value, span),
            ExprKind::Call(callee, args) => self.call(callee, args, expect, span),
            ExprKind::MethodCall(recv, name, args) => self.method_call(recv, name, args, expect, span),
            ExprKind::Field(obj, name) if self.module_path(obj).is_some() => {
                let module = self.module_path(obj).expect("matched above");
                let qualified = format!("{module}.{}", name.name);
                match self.items.global_by_name.get(&qualified) {
                    Some(_) => self.name(&qualified, expect, span),
                    None if self.items.fn_by_name.contains_key(&qualified) => {
                        self.name(&qualified, expect, span)
                    }
                    None => {
                        self.error(name.span, format!("module `{module}` has no item `{}`", name.name));
                        invalid(Ty::Error, span)
                    }
                }
            }
            ExprKind::Field(obj, name) if matches!(self.type_path(obj), Some(Ty::Enum(..))) => {
                let Some(Ty::Enum(e, _)) = self.type_path(obj) else { unreachable!("matched above") };
                self.unit_variant(e, name, expect, span)
            }
            ExprKind::Match(scrutinee, arms) => self.match_expr(scrutinee, arms, expect, span),
            ExprKind::Try(inner) => self.try_expr(inner, span),
            ExprKind::Closure(params, ret, body) => self.closure(params, ret.as_ref(), body, expect, span),
            ExprKind::Field(obj, name) => match self.field_of(obj, name) {
                Some((o, field, ty)) => Expr::new(tir::ExprKind::Field(Box::new(o), field), ty, span),
                None => invalid(Ty::Error, span),
            },
            ExprKind::Index(arr, idx) => {
                let a = self.expr(arr, None);
                if self.items.map_args(&a.ty).is_some() {
                    return self.map_call("__index", a, &[idx], expect, span);
                }
                match self.index_of(a, arr.span, idx) {
                    Some((a, i, elem)) => {
                        Expr::new(tir::ExprKind::Index(Box::new(a), Box::new(i)), elem, span)
                    }
                    None => invalid(Ty::Error, span),
                }
            }
            ExprKind::Cast(inner, ty) => self.cast(inner, ty, span),
            ExprKind::If(cond, then, els) => self.if_expr(cond, then, els.as_deref(), expect, span),
            ExprKind::While(cond, body) => self.while_loop(cond, body, span),
            ExprKind::For(var, iter, body) => self.for_loop(var, iter, body, span),
            ExprKind::ForPair(key, value, iter, body) => self.map_loop(key, value, iter, body, span),
            ExprKind::Range(..) => {
                self.error(span, "a range `a..b` can only be used in a `for` loop");
                invalid(Ty::Error, span)
            }
            ExprKind::Block(b) => self.block(b, expect),
            ExprKind::Break | ExprKind::Continue => self.jump(e),
            ExprKind::Return(value) => self.ret(value.as_deref(), span),
            ExprKind::StructLit(name, fields) => self.struct_lit(name, fields, expect, span),
            ExprKind::ArrayLit(items) => self.array_lit(items, expect, span),
            ExprKind::ArrayRepeat(value, count) => self.array_repeat(value, count, expect, span),
        }
    }

    fn string(&mut self, pieces: &[StrPiece], span: Span) -> Expr {
        if let [StrPiece::Lit(s)] = pieces {
            return constant(ConstVal::Str(s.clone()), span);
        }
        let mut out = Vec::with_capacity(pieces.len());
        for piece in pieces {
            out.push(match piece {
                StrPiece::Lit(s) => tir::Piece::Lit(s.clone()),
                StrPiece::Expr(e) => {
                    let v = self.expr(e, None);
                    tir::Piece::Value(self.text(v, e.span))
                }
            });
        }
        Expr::new(tir::ExprKind::Interp(out), Ty::Str, span)
    }

    /// Checks that a value of type `ty` can be shown as text.
    /// `v` ready to be shown as text: a basic value as it is, a user type's through its
    /// `to_str` (`impl Display`), a type parameter's through its `Display` bound.
    pub fn text(&mut self, v: Expr, span: Span) -> Expr {
        self.check_text(&v.ty, span);
        match &v.ty {
            Ty::Struct(_, args) | Ty::Enum(_, args) => match self.items.display.get(&v.ty.head()) {
                Some(&f) => {
                    let args = args.clone();
                    Expr::new(tir::ExprKind::Call(f, args, vec![v]), Ty::Str, span)
                }
                None => v,
            },
            Ty::Param(..) => Expr::new(tir::ExprKind::ToText(Box::new(v)), Ty::Str, span),
            _ => v,
        }
    }

    pub fn check_text(&mut self, ty: &Ty, span: Span) {
        let shown = matches!(ty, Ty::Int | Ty::Float | Ty::Bool | Ty::Str | Ty::Error)
            || matches!(ty, Ty::Param(..) | Ty::Struct(..) | Ty::Enum(..))
                && self.satisfies(ty, Bound::Display);
        if !shown {
            let t = self.type_name(ty);
            let hint = if matches!(ty, Ty::Param(..)) {
                format!(" (add the bound `{t}: Display`)")
            } else {
                String::new()
            };
            self.error(span, format!("cannot turn a value of type `{t}` into text{hint}"));
        }
    }

    fn name(&mut self, name: &str, expect: Option<&Ty>, span: Span) -> Expr {
        if let Some((id, ty, _)) = self.lookup(name) {
            return Expr::new(tir::ExprKind::Local(id), ty, span);
        }
        if let Some((gi, g)) = self.global_named(name) {
            return match g {
                Some(g) => match &g.def {
                    GlobalDef::Const(v) => constant(v.clone(), span),
                    GlobalDef::Var(_) => Expr::new(tir::ExprKind::Global(gi), g.ty.clone(), span),
                    GlobalDef::Invalid => invalid(Ty::Error, span),
                },
                None => {
                    self.error(
                        span,
                        format!("global `{name}` is used before its declaration is initialised"),
                    );
                    invalid(Ty::Error, span)
                }
            };
        }
        if let Some((e, tag)) = self.items.unqualified_variant(name) {
            let n = self.items.enums[e].variants[tag as usize].1.len();
            if n == 0 {
                return self.variant_value(e, tag, &[], expect, span);
            }
            self.error(span, format!("`{name}` holds a value; write `{name}(...)`"));
            return invalid(Ty::Error, span);
        }
        if let Some(f) = self.items.fn_named_in(self.file, name) {
            return self.fn_value(f, expect, span);
        }
        let what = if self.items.is_module(name) {
            format!("`{name}` is a module; use its items as `{name}.item`")
        } else if self.items.type_named_in(self.file, name).is_some() {
            format!("type `{name}` cannot be used as a value")
        } else {
            format!("cannot find `{name}` in this scope")
        };
        self.error(span, what);
        invalid(Ty::Error, span)
    }

    /// A named function used as a value: a function value (type arguments from the
    /// expected function type).
    fn fn_value(&mut self, f: usize, expect: Option<&Ty>, span: Span) -> Expr {
        let info = &self.items.fns[f];
        let mut b = crate::sema::types::Bindings::default();
        let vars = b.fresh(info.generics.len());
        let params: Vec<Ty> = info.params.iter().map(|(_, t)| t.subst(&vars)).collect();
        let ty = Ty::Fn(params, Box::new(info.ret.subst(&vars)));
        if let Some(want) = expect {
            b.unify(&ty, want);
        }
        let targs: Vec<Ty> = vars.iter().map(|v| b.apply(v)).collect();
        if let Some(i) = targs.iter().position(Ty::has_var) {
            let (g, n) = (&info.generics[i].name, &info.name);
            self.error(span, format!("cannot infer the type `{g}` for `{n}` used as a value; annotate the function type it has"));
            return invalid(Ty::Error, span);
        }
        let ty = b.apply(&ty);
        Expr::new(tir::ExprKind::FnRef(f, targs), ty, span)
    }

    fn unary(&mut self, op: UnOp, inner: &ast::Expr, span: Span) -> Expr {
        match (op, &inner.kind) {
            (UnOp::Neg, ExprKind::Int(v)) => return constant(ConstVal::Int(v.wrapping_neg()), span),
            (UnOp::Neg, ExprKind::Float(v)) => return constant(ConstVal::Float(-v), span),
            _ => {}
        }
        let v = self.expr(inner, None);
        let ty = match (op, &v.ty) {
            (UnOp::Neg, Ty::Int) => Ty::Int,
            (UnOp::Neg, Ty::Float) => Ty::Float,
            (UnOp::Not, Ty::Bool) => Ty::Bool,
            (_, Ty::Error) => return invalid(Ty::Error, span),
            (op, t) => {
                let t = self.type_name(t);
                let o = if op == UnOp::Neg { "-" } else { "!" };
                self.error(span, format!("operator `{o}` cannot be applied to `{t}`"));
                return invalid(Ty::Error, span);
            }
        };
        Expr::new(tir::ExprKind::Unary(op, Box::new(v)), ty, span)
    }

    fn binary(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span, expect: Option<&Ty>) -> Expr {
        if matches!(op, BinOp::And | BinOp::Or) {
            return self.logical(op, l, r, span);
        }
        if op == BinOp::Add {
            if let Some(v) = self.concat_chain(l, r, expect, span) {
                return v;
            }
        }
        // A left-associative chain `a + b - c ...` is a left spine of binary nodes; check
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
        // The expected type is the operands' only when no operator of the chain turns
        // them into a bool (`f(x) + 1 > 2` expects a bool, not `f(x)`).
        let same_type = spine.iter().all(|(op, ..)| !op.is_comparison());
        let mut a = self.expr(left, expect.filter(|_| same_type));
        while let Some((op, r, span)) = spine.pop() {
            a = self.binary_step(op, a, r, span);
        }
        a
    }

    /// One operator whose left operand `a` is already checked.
    pub fn binary_step(&mut self, op: BinOp, a: Expr, r: &ast::Expr, span: Span) -> Expr {
        if a.ty == Ty::Error {
            self.expr(r, None);
            return invalid(Ty::Error, span);
        }
        if op.is_comparison() {
            return self.comparison(op, a, r, span);
        }
        if op == BinOp::Add && a.ty == Ty::Str {
            let b = self.expr(r, Some(&Ty::Str));
            if !b.ty.fits(&Ty::Str) {
                let t = self.type_name(&b.ty);
                self.error(r.span, format!("cannot add `{t}` to a string (use interpolation: \"{{x}}\")"));
            }
            return Expr::new(tir::ExprKind::Binary(op, Box::new(a), Box::new(b)), Ty::Str, span);
        }
        let Some(b) = self.same_type_operand(&a, r, span, |ta, tb| {
            format!("operator `{}` cannot combine `{ta}` and `{tb}` (convert with `as`)", op.text())
        }) else {
            return invalid(Ty::Error, span);
        };
        let valid = match &a.ty {
            Ty::Int => !matches!(op, BinOp::And | BinOp::Or),
            Ty::Float => matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem),
            _ => false,
        };
        if !valid {
            let t = self.type_name(&a.ty);
            self.error(span, format!("operator `{}` cannot be applied to `{t}`", op.text()));
            return invalid(Ty::Error, span);
        }
        let ty = a.ty.clone();
        Expr::new(tir::ExprKind::Binary(op, Box::new(a), Box::new(b)), ty, span)
    }

    /// `a + b + c ...` on strings: one concatenation of every operand.
    fn concat_chain(
        &mut self,
        l: &ast::Expr,
        r: &ast::Expr,
        expect: Option<&Ty>,
        span: Span,
    ) -> Option<Expr> {
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
        if !looks_str || operands.len() > MAX_CONCAT {
            return None;
        }
        let mut pieces = Vec::with_capacity(operands.len());
        for e in operands {
            let v = self.expr(e, Some(&Ty::Str));
            if !v.ty.fits(&Ty::Str) {
                let t = self.type_name(&v.ty);
                self.error(e.span, format!("cannot add `{t}` to a string (use interpolation: \"{{x}}\")"));
            }
            pieces.push(tir::Piece::Value(v));
        }
        Some(Expr::new(tir::ExprKind::Interp(pieces), Ty::Str, span))
    }

    /// Checks the right operand `r` of a binary operator whose left operand `a` is
    /// already checked, and that both have one type (`message` words the error).
    fn same_type_operand(
        &mut self,
        a: &Expr,
        r: &ast::Expr,
        span: Span,
        message: impl FnOnce(&str, &str) -> String,
    ) -> Option<Expr> {
        let b = self.expr(r, Some(&a.ty));
        if a.ty == Ty::Error || b.ty == Ty::Error {
            return None;
        }
        if a.ty != b.ty {
            let (ta, tb) = (self.type_name(&a.ty), self.type_name(&b.ty));
            self.error(span, message(&ta, &tb));
            return None;
        }
        Some(b)
    }

    /// A comparison whose left operand `a` is already checked; yields a bool.
    pub fn comparison(&mut self, op: BinOp, a: Expr, r: &ast::Expr, span: Span) -> Expr {
        let Some(b) =
            self.same_type_operand(&a, r, span, |ta, tb| format!("cannot compare `{ta}` with `{tb}`"))
        else {
            return invalid(Ty::Error, span);
        };
        let needs = if matches!(op, BinOp::Eq | BinOp::Ne) { Bound::Eq } else { Bound::Ord };
        if !matches!(a.ty, Ty::Int | Ty::Float | Ty::Bool | Ty::Str) && !self.satisfies(&a.ty, needs) {
            let t = self.type_name(&a.ty);
            let hint = match &a.ty {
                Ty::Param(_, name) => format!(" (add the bound `{name}: {}`)", needs.name()),
                _ => String::new(),
            };
            self.error(span, format!("values of type `{t}` cannot be compared with `{}`{hint}", op.text()));
            return invalid(Ty::Error, span);
        }
        Expr::new(tir::ExprKind::Binary(op, Box::new(a), Box::new(b)), Ty::Bool, span)
    }

    /// `a && b`, `a || b`. A chain of the same operator is checked in a loop.
    fn logical(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> Expr {
        let mut operands = vec![(r, span)];
        let mut left = l;
        while let ExprKind::Binary(inner, ll, lr) = &left.kind {
            if *inner != op {
                break;
            }
            operands.push((lr, left.span));
            left = ll;
        }
        let check = |c: &mut Self, e: &ast::Expr| {
            let v = c.expr(e, Some(&Ty::Bool));
            c.expect_fits(e.span, &Ty::Bool, &v.ty);
            v
        };
        let mut acc = check(self, left);
        while let Some((e, span)) = operands.pop() {
            let b = check(self, e);
            acc = Expr::new(tir::ExprKind::Binary(op, Box::new(acc), Box::new(b)), Ty::Bool, span);
        }
        acc
    }

    fn cast(&mut self, inner: &ast::Expr, ty: &ast::TypeExpr, span: Span) -> Expr {
        let to = self.resolve_type(ty);
        let v = self.expr(inner, None);
        match (&v.ty, &to) {
            (Ty::Error, _) | (_, Ty::Error) => invalid(Ty::Error, span),
            (a, b) if a == b => v,
            (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => {
                Expr::new(tir::ExprKind::Cast(Box::new(v)), to, span)
            }
            (a, b) => {
                let (a, b) = (self.type_name(a), self.type_name(b));
                self.error(span, format!("cannot cast `{a}` to `{b}`"));
                invalid(Ty::Error, span)
            }
        }
    }

    fn struct_lit(
        &mut self,
        name: &ast::Ident,
        fields: &[(ast::Ident, ast::Expr)],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let Some(Ty::Struct(sid, _)) = self.items.type_named_in(self.file, &name.name) else {
            self.error(name.span, format!("cannot find struct `{}`", name.name));
            for (_, e) in fields {
                self.expr(e, None);
            }
            return invalid(Ty::Error, span);
        };
        let items = self.items;
        let st = &items.structs[sid];
        let decl = &st.fields;
        let mut seen = vec![false; decl.len()];
        let mut given: Vec<(u32, &ast::Expr)> = Vec::with_capacity(fields.len());
        for (fname, e) in fields {
            match decl.iter().position(|(n, _)| *n == fname.name) {
                Some(i) if seen[i] => {
                    self.error(fname.span, format!("field `{}` is given twice", fname.name));
                }
                Some(i) => {
                    seen[i] = true;
                    given.push((i as u32, e));
                }
                None => {
                    self.error(fname.span, format!("struct `{}` has no field `{}`", name.name, fname.name));
                    self.expr(e, None);
                }
            }
        }
        // The fields run as written; their types may fix the struct's type arguments.
        let params: Vec<Ty> = given.iter().map(|(i, _)| decl[*i as usize].1.clone()).collect();
        let exprs: Vec<&ast::Expr> = given.iter().map(|(_, e)| *e).collect();
        let own: Vec<Ty> =
            (0..st.generics.len()).map(|i| Ty::Param(i as u32, st.generics[i].name.clone())).collect();
        let result = Ty::Struct(sid, own);
        let what = format!("`{}`", name.name);
        let u =
            super::call::Use { generics: &st.generics, params: &params, result: &result, what: &what, span };
        let (values, targs) = self.infer(&u, None, &exprs, expect).expect("one value per field");
        let missing: Vec<String> =
            decl.iter().zip(&seen).filter(|(_, s)| !**s).map(|((n, _), _)| format!("`{n}`")).collect();
        if !missing.is_empty() {
            let plural = if missing.len() > 1 { "s" } else { "" };
            self.error(span, format!("missing field{plural} {} in `{}`", missing.join(", "), name.name));
        }
        let out = given.iter().map(|(i, _)| *i).zip(values).collect();
        Expr::new(tir::ExprKind::StructLit(sid, out), Ty::Struct(sid, targs), span)
    }

    fn array_lit(&mut self, items: &[ast::Expr], expect: Option<&Ty>, span: Span) -> Expr {
        let mut elem = match expect {
            Some(Ty::Array(e)) => Some((**e).clone()),
            _ => None,
        };
        if items.is_empty() && elem.is_none() {
            self.error(
                span,
                "cannot infer the element type of `[]`; annotate it, as in `let a: [int] = [];`",
            );
            return invalid(Ty::Error, span);
        }
        let mut out = Vec::with_capacity(items.len());
        // The first element decides the type when the context does not.
        if elem.is_none() {
            let v = self.expr(&items[0], None);
            elem = Some(v.ty.clone());
            out.push(v);
        }
        let elem = elem.unwrap_or(Ty::Error);
        if !elem.has_value() {
            if elem != Ty::Error {
                self.error(span, "array elements must have a value");
            }
            for e in &items[out.len()..] {
                self.expr(e, None);
            }
            return invalid(Ty::Error, span);
        }
        for e in &items[out.len()..] {
            let v = self.expr(e, Some(&elem));
            out.push(self.fit(v, &elem));
        }
        Expr::new(tir::ExprKind::ArrayLit(out), Ty::Array(Box::new(elem)), span)
    }

    fn array_repeat(
        &mut self,
        value: &ast::Expr,
        count: &ast::Expr,
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let want = match expect {
            Some(Ty::Array(e)) => Some((**e).clone()),
            _ => None,
        };
        let v = self.expr(value, want.as_ref());
        let n = self.expr(count, Some(&Ty::Int));
        self.expect_fits(count.span, &Ty::Int, &n.ty);
        if !v.ty.has_value() {
            if v.ty != Ty::Error {
                self.error(value.span, "array elements must have a value");
            }
            return invalid(Ty::Error, span);
        }
        let ty = Ty::Array(Box::new(v.ty.clone()));
        Expr::new(tir::ExprKind::ArrayRepeat(Box::new(v), Box::new(n)), ty, span)
    }

    /// `Enum.Variant` written without arguments: a variant without payload.
    fn unit_variant(&mut self, e: usize, name: &ast::Ident, expect: Option<&Ty>, span: Span) -> Expr {
        match self.items.enums[e].variant(&name.name) {
            Some((tag, [])) => self.variant_value(e, tag, &[], expect, span),
            Some((_, fields)) => {
                let (en, n) = (&self.items.enums[e].name, fields.len());
                let plural = if n == 1 { "" } else { "s" };
                let v = &name.name;
                let msg = format!("`{en}.{v}` holds {n} value{plural}; write `{en}.{v}(...)`");
                self.error(span, msg);
                invalid(Ty::Error, span)
            }
            None => {
                let en = &self.items.enums[e].name;
                self.error(name.span, format!("enum `{en}` has no variant `{}`", name.name));
                invalid(Ty::Error, span)
            }
        }
    }

    /// Checks `obj` and that it is a struct with field `name`: (object, field, type).
    fn field_of(&mut self, obj: &ast::Expr, name: &ast::Ident) -> Option<(Expr, u32, Ty)> {
        if let ExprKind::Name(n) = &obj.kind {
            if self.lookup(n).is_none() && self.items.type_named_in(self.file, n).is_some() {
                self.error(name.span, format!("`{n}.{}` is a function; call it with `(...)`", name.name));
                return None;
            }
        }
        let o = self.expr(obj, None);
        match &o.ty {
            Ty::Struct(s, _) => {
                let st = &self.items.structs[*s];
                match st.fields.iter().position(|(n, _)| *n == name.name) {
                    Some(i) => {
                        let fty = self.items.field_type(&o.ty, i);
                        Some((o, i as u32, fty))
                    }
                    None => {
                        let sname = st.name.clone();
                        self.error(name.span, format!("struct `{sname}` has no field `{}`", name.name));
                        None
                    }
                }
            }
            Ty::Error => None,
            other => {
                let t = self.type_name(other);
                self.error(name.span, format!("type `{t}` has no field `{}`", name.name));
                None
            }
        }
    }

    /// Checks `arr[idx]`'s operands: (array, index, element type).
    fn index_of(&mut self, a: Expr, arr_span: Span, idx: &ast::Expr) -> Option<(Expr, Expr, Ty)> {
        let i = self.expr(idx, Some(&Ty::Int));
        self.expect_fits(idx.span, &Ty::Int, &i.ty);
        match &a.ty {
            Ty::Array(elem) => {
                let elem = (**elem).clone();
                Some((a, i, elem))
            }
            Ty::Error => None,
            other => {
                let t = self.type_name(other);
                self.error(arr_span, format!("type `{t}` cannot be indexed"));
                None
            }
        }
    }

    /// `target = value` and `target op= value`. A compound assignment's value is
    /// `current op value`, where the current value of a field or element is
    /// [`tir::ExprKind::PlaceValue`] (its object and index are evaluated once).
    fn assign(&mut self, op: Option<BinOp>, target: &ast::Expr, value: &ast::Expr, span: Span) -> Expr {
        let unit = |kind| Expr::new(kind, Ty::Unit, span);
        match &target.kind {
            ExprKind::Name(name) => {
                if let Some((id, ty, mutable)) = self.lookup(name) {
                    if !mutable {
                        self.error(
                            target.span,
                            format!("cannot assign to `{name}`: it was declared with `let` (use `var`)"),
                        );
                    }
                    let v = match op {
                        Some(op) => self.binary(op, target, value, span, Some(&ty)),
                        None => self.expr(value, Some(&ty)),
                    };
                    let v = self.fit(v, &ty);
                    return unit(tir::ExprKind::Assign(Place::Local(id), Box::new(v)));
                }
                if let Some((gi, g)) = self.global_named(name) {
                    if let Some(GlobalDef::Const(_)) = g.map(|g| &g.def) {
                        self.error(target.span, format!("cannot assign to constant `{name}`"));
                        return invalid(Ty::Unit, span);
                    }
                    let ty = g.map_or(Ty::Error, |g| g.ty.clone());
                    let v = match op {
                        Some(op) => self.binary(op, target, value, span, Some(&ty)),
                        None => self.expr(value, Some(&ty)),
                    };
                    let v = self.fit(v, &ty);
                    return unit(tir::ExprKind::Assign(Place::Global(gi), Box::new(v)));
                }
                self.name(name, None, target.span);
                invalid(Ty::Unit, span)
            }
            // `module.global = value`
            ExprKind::Field(obj, name) if self.module_path(obj).is_some() => {
                let module = self.module_path(obj).expect("matched above");
                let qualified =
                    ast::Expr { kind: ExprKind::Name(format!("{module}.{}", name.name)), span: target.span };
                self.assign(op, &qualified, value, span)
            }
            ExprKind::Field(obj, name) => {
                let Some((o, field, fty)) = self.field_of(obj, name) else {
                    self.expr(value, None);
                    return invalid(Ty::Unit, span);
                };
                let v = self.compound(op, &fty, value, span);
                unit(tir::ExprKind::Assign(Place::Field(Box::new(o), field), Box::new(v)))
            }
            ExprKind::Index(arr, idx) => {
                let a = self.expr(arr, None);
                if self.items.map_args(&a.ty).is_some() {
                    return self.map_assign(op, a, idx, value, span);
                }
                let Some((a, i, elem)) = self.index_of(a, arr.span, idx) else {
                    self.expr(value, None);
                    return invalid(Ty::Unit, span);
                };
                let v = self.compound(op, &elem, value, span);
                unit(tir::ExprKind::Assign(Place::Index(Box::new(a), Box::new(i)), Box::new(v)))
            }
            _ => {
                self.error(target.span, "cannot assign to this expression");
                invalid(Ty::Unit, span)
            }
        }
    }

    /// The value to store for `place = value` or `place op= value`, where the place
    /// holds a `ty`.
    fn compound(&mut self, op: Option<BinOp>, ty: &Ty, value: &ast::Expr, span: Span) -> Expr {
        let v = match op {
            None => self.expr(value, Some(ty)),
            Some(op) => {
                let current = Expr::new(tir::ExprKind::PlaceValue, ty.clone(), span);
                self.binary_step(op, current, value, span)
            }
        };
        self.fit(v, ty)
    }
}

/// A compile-time value as an expression.
pub fn constant(v: ConstVal, span: Span) -> Expr {
    let ty = super::const_type(&v);
    Expr::new(tir::ExprKind::Const(v), ty, span)
}
