//! `match` and its patterns.

use super::exhaustive;
use super::expr::invalid;
use super::Checker;
use crate::sema::consts::ConstVal;
use crate::sema::types::Ty;
use crate::syntax::ast::{self, PatternKind};
use crate::syntax::span::Span;
use crate::tir::{self, Expr, Pat, PatKind};

impl Checker<'_> {
    /// `match scrutinee { arms }`: each arm's pattern against the scrutinee's type, the
    /// arms' values to one type, and the arms together exhaustive.
    pub fn match_expr(
        &mut self,
        scrutinee: &ast::Expr,
        arms: &[ast::Arm],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let s = self.expr(scrutinee, None);
        let n_errors = self.errors.len();
        let mut out = Vec::with_capacity(arms.len());
        let mut result: Option<Ty> = None;
        for arm in arms {
            self.push_scope();
            let pat = self.pattern(&arm.pat, &s.ty);
            let want = result.clone().or_else(|| expect.cloned());
            let body = self.expr(&arm.body, want.as_ref());
            // Arms of different types may meet as the interface expected here.
            let body = match expect {
                Some(to @ Ty::Iface(_)) => self.coerce(body, to),
                _ => body,
            };
            match (&result, &body.ty) {
                (_, Ty::Never) => {}
                (None, t) => result = Some(t.clone()),
                (Some(r), t) => {
                    if !t.fits(r) && !r.fits(t) {
                        let (r, t) = (self.type_name(r), self.type_name(t));
                        self.error(
                            arm.body.span,
                            format!("`match` arms have different types: `{r}` and `{t}`"),
                        );
                    }
                }
            }
            self.pop_scope();
            out.push(tir::Arm { pat, body });
        }
        // Patterns that did not check would give confusing follow-on reports.
        if self.errors.len() == n_errors && s.ty != Ty::Error {
            let report = exhaustive::check(self.items, &s.ty, &out);
            for (i, arm) in out.iter().enumerate() {
                if report.unreachable.contains(&i) {
                    self.warn(arm.pat.span, "unreachable match arm: earlier arms match every value it does");
                }
            }
            if let Some(missing) = report.missing {
                self.error(span, format!("non-exhaustive match: `{missing}` is not covered"));
            }
        }
        if s.ty == Ty::Error {
            return invalid(Ty::Error, span);
        }
        let ty = result.unwrap_or(Ty::Never);
        Expr::new(tir::ExprKind::Match(Box::new(s), out), ty, span)
    }

    /// `e?` on an `Option` in a function returning an `Option`, or on a `Result` in a
    /// function returning a `Result` with the same error type: a match that gives the
    /// `Some`/`Ok` value and returns `None`/`Err(e)` from the function.
    pub fn try_expr(&mut self, inner: &ast::Expr, span: Span) -> Expr {
        let v = self.expr(inner, None);
        let option = self.items.unqualified_variant("Some").map(|(e, _)| e);
        let result = self.items.unqualified_variant("Ok").map(|(e, _)| e);
        let ret = self.ret.clone();
        let (value_ty, out) = match (&v.ty, &ret) {
            (Ty::Error, _) => return invalid(Ty::Error, span),
            (Ty::Enum(e, a), Ty::Enum(r, _)) if Some(*e) == option && Some(*r) == option => {
                (a[0].clone(), None)
            }
            (Ty::Enum(e, a), Ty::Enum(r, b))
                if Some(*e) == result && Some(*r) == result && (a[1] == b[1]) =>
            {
                (a[0].clone(), Some(a[1].clone()))
            }
            (t, r) => {
                let (t, r) = (self.type_name(t), self.type_name(r));
                let msg = format!(
                    "`?` needs an `Option` in a function returning an `Option`, or a `Result` in a function returning a `Result` with the same error type; here it is applied to `{t}` in a function returning `{r}`"
                );
                self.error(span, msg);
                return invalid(Ty::Error, span);
            }
        };
        let Ty::Enum(en, _) = v.ty.clone() else { unreachable!("matched above") };
        self.push_scope();
        let ok = self.declare("?", value_ty.clone(), false);
        let pat = |kind, ty: &Ty| Pat { kind, ty: ty.clone(), span };
        let local = Expr::new(tir::ExprKind::Local(ok), value_ty.clone(), span);
        let arm_ok = tir::Arm {
            pat: pat(PatKind::Variant(en, 0, vec![pat(PatKind::Bind(ok), &value_ty)]), &v.ty),
            body: local,
        };
        let arm_fail = match out {
            None => {
                let none = Expr::new(tir::ExprKind::Variant(en, 1, Vec::new()), ret.clone(), span);
                let body = Expr::new(tir::ExprKind::Return(Some(Box::new(none))), Ty::Never, span);
                tir::Arm { pat: pat(PatKind::Variant(en, 1, Vec::new()), &v.ty), body }
            }
            Some(err_ty) => {
                let err = self.declare("?", err_ty.clone(), false);
                let err_val = Expr::new(tir::ExprKind::Local(err), err_ty.clone(), span);
                let wrapped = Expr::new(tir::ExprKind::Variant(en, 1, vec![err_val]), ret.clone(), span);
                let body = Expr::new(tir::ExprKind::Return(Some(Box::new(wrapped))), Ty::Never, span);
                tir::Arm {
                    pat: pat(PatKind::Variant(en, 1, vec![pat(PatKind::Bind(err), &err_ty)]), &v.ty),
                    body,
                }
            }
        };
        self.pop_scope();
        Expr::new(tir::ExprKind::Match(Box::new(v), vec![arm_ok, arm_fail]), value_ty, span)
    }

    /// Checks pattern `p` against a value of type `ty`, declaring its bindings.
    fn pattern(&mut self, p: &ast::Pattern, ty: &Ty) -> Pat {
        let pat = |kind| Pat { kind, ty: ty.clone(), span: p.span };
        let literal = |c: &mut Self, v: ConstVal, lit_ty: Ty| {
            if *ty != lit_ty && *ty != Ty::Error {
                c.mismatch(p.span, ty, &lit_ty);
            }
            pat(PatKind::Const(v))
        };
        match &p.kind {
            PatternKind::Wild => pat(PatKind::Wild),
            PatternKind::Bind(name) => {
                let id = self.declare(name, ty.clone(), false);
                pat(PatKind::Bind(id))
            }
            PatternKind::Int(v) => literal(self, ConstVal::Int(*v), Ty::Int),
            PatternKind::Bool(v) => literal(self, ConstVal::Bool(*v), Ty::Bool),
            PatternKind::Str(v) => literal(self, ConstVal::Str(v.clone()), Ty::Str),
            PatternKind::Variant(path, args) => self.variant_pattern(p, path, args, ty),
        }
    }

    fn variant_pattern(
        &mut self,
        p: &ast::Pattern,
        path: &[ast::Ident],
        args: &[ast::Pattern],
        ty: &Ty,
    ) -> Pat {
        let wild = |c: &mut Self| {
            // Still declare the bindings of the payload, so the arm's body checks.
            for a in args {
                c.pattern(a, &Ty::Error);
            }
            Pat { kind: PatKind::Wild, ty: ty.clone(), span: p.span }
        };
        let written: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
        let written = written.join(".");
        let (e, tag, fields) = match path {
            [single] => match self.items.unqualified_variant(&single.name) {
                Some((e, tag)) => (e, tag, &self.items.enums[e].variants[tag as usize].1[..]),
                None => {
                    self.error(p.span, format!("cannot find variant `{written}`; write `Enum.Variant`"));
                    return wild(self);
                }
            },
            [enum_name @ .., variant] if enum_name.len() <= 2 => {
                let written_enum: Vec<&str> = enum_name.iter().map(|i| i.name.as_str()).collect();
                let written_enum = written_enum.join(".");
                let enum_name = &enum_name[enum_name.len() - 1];
                let Some(Ty::Enum(e, _)) = self.items.type_named_in(self.file, &written_enum) else {
                    self.error(enum_name.span, format!("cannot find enum `{}`", enum_name.name));
                    return wild(self);
                };
                let Some((tag, fields)) = self.items.enums[e].variant(&variant.name) else {
                    let en = &self.items.enums[e].name;
                    self.error(variant.span, format!("enum `{en}` has no variant `{}`", variant.name));
                    return wild(self);
                };
                (e, tag, fields)
            }
            _ => {
                self.error(p.span, format!("cannot find variant `{written}`; write `Enum.Variant`"));
                return wild(self);
            }
        };
        if !matches!(ty, Ty::Enum(te, _) if *te == e) && *ty != Ty::Error {
            self.mismatch(p.span, ty, &Ty::Enum(e, Vec::new()));
            return wild(self);
        }
        let fields = if *ty == Ty::Error { fields.to_vec() } else { self.items.variant_fields(ty, tag) };
        if args.len() != fields.len() {
            let n = fields.len();
            let plural = if n == 1 { "" } else { "s" };
            let msg = format!("`{written}` holds {n} value{plural}, but the pattern has {}", args.len());
            self.error(p.span, msg);
            return wild(self);
        }
        let subs = args.iter().zip(&fields).map(|(a, t)| self.pattern(a, t)).collect();
        Pat { kind: PatKind::Variant(e, tag, subs), ty: ty.clone(), span: p.span }
    }
}
