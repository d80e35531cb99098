//! Blocks, `let`, conditions, `if`, loops and `return`, including a function body's
//! final expression (whose `if` branches each return).

use super::Checker;
use crate::sema::types::Ty;
use crate::syntax::ast::{self, BinOp, ExprKind, UnOp};
use crate::syntax::span::Span;
use crate::tir::{self, Expr, Stmt};

impl Checker<'_> {
    /// `{ stmts; tail }`: the tail's value, or unit, or never if a statement diverges.
    pub fn block(&mut self, b: &ast::Block, expect: Option<&Ty>) -> Expr {
        self.push_scope();
        let (stmts, diverges) = self.stmts(&b.stmts);
        let tail = b.tail.as_ref().map(|t| Box::new(self.expr(t, expect)));
        let ty = match &tail {
            Some(t) => t.ty.clone(),
            None if diverges => Ty::Never,
            None => Ty::Unit,
        };
        self.pop_scope();
        Expr::new(tir::ExprKind::Block(tir::Block { stmts, tail, end: block_end(b) }), ty, b.span)
    }

    /// The statements of a block, and whether one of them diverges.
    fn stmts(&mut self, stmts: &[ast::Stmt]) -> (Vec<Stmt>, bool) {
        let mut out = Vec::with_capacity(stmts.len());
        let mut diverges = false;
        for s in stmts {
            let (stmt, d) = self.stmt(s);
            out.push(stmt);
            diverges |= d;
        }
        (out, diverges)
    }

    /// Checks a statement; returns it and whether it diverges.
    fn stmt(&mut self, s: &ast::Stmt) -> (Stmt, bool) {
        match s {
            ast::Stmt::Let { mutable, name, ty, init } => {
                let declared = ty.as_ref().map(|t| self.resolve_type(t));
                let mut v = self.expr(init, declared.as_ref());
                let ty = match declared {
                    Some(want) => {
                        v = self.fit(v, &want);
                        want
                    }
                    None => v.ty.clone(),
                };
                if ty == Ty::Unit {
                    self.error(
                        name.span,
                        format!("`{}` would have no value (its initialiser returns nothing)", name.name),
                    );
                }
                let diverges = v.ty == Ty::Never;
                let id = self.declare(&name.name, if ty == Ty::Never { Ty::Error } else { ty }, *mutable);
                (Stmt::Let(id, v), diverges)
            }
            ast::Stmt::Expr(e) => {
                let v = self.expr(e, None);
                let diverges = v.ty == Ty::Never;
                (Stmt::Expr(v), diverges)
            }
        }
    }

    /// A condition: a `bool`. Comparisons with an int left operand and `!` report their
    /// operands' mismatches as a branch would see them.
    pub fn cond(&mut self, cond: &ast::Expr) -> Expr {
        match &cond.kind {
            ExprKind::Bool(_) => self.expr(cond, Some(&Ty::Bool)),
            ExprKind::Unary(UnOp::Not, inner) => {
                let inner = self.cond(inner);
                Expr::new(tir::ExprKind::Unary(UnOp::Not, Box::new(inner)), Ty::Bool, cond.span)
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), l, r) => {
                let l = self.cond(l);
                let r = self.cond(r);
                Expr::new(tir::ExprKind::Binary(*op, Box::new(l), Box::new(r)), Ty::Bool, cond.span)
            }
            ExprKind::Binary(op, l, r) if op.is_comparison() => {
                let a = self.expr(l, None);
                if a.ty == Ty::Int {
                    let b = self.expr(r, Some(&Ty::Int));
                    self.expect_fits(r.span, &Ty::Int, &b.ty);
                    return Expr::new(
                        tir::ExprKind::Binary(*op, Box::new(a), Box::new(b)),
                        Ty::Bool,
                        cond.span,
                    );
                }
                let v = self.comparison(*op, a, r, cond.span);
                self.expect_fits(cond.span, &Ty::Bool, &v.ty);
                v
            }
            _ => {
                let v = self.expr(cond, Some(&Ty::Bool));
                self.expect_fits(cond.span, &Ty::Bool, &v.ty);
                v
            }
        }
    }

    /// `if cond { then } else { els }`
    pub fn if_expr(
        &mut self,
        cond: &ast::Expr,
        then: &ast::Block,
        els: Option<&ast::Expr>,
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let c = Box::new(self.cond(cond));
        let Some(els) = els else {
            let then_v = self.block(then, Some(&Ty::Unit));
            let mut ty = Ty::Unit;
            if !matches!(then_v.ty, Ty::Unit | Ty::Never | Ty::Error) {
                let t = self.type_name(&then_v.ty);
                self.error(
                    then.tail.as_ref().map_or(then.span, |t| t.span),
                    format!("`if` without `else` cannot produce a value (found `{t}`); add an `else` branch or a `;`"),
                );
                ty = Ty::Error;
            }
            return Expr::new(tir::ExprKind::If(c, Box::new(then_v), None), ty, span);
        };
        // Branches of different types may meet as the interface expected here.
        let to_iface = |c: &mut Self, v: Expr| match expect {
            Some(want @ Ty::Iface(_)) => c.coerce(v, want),
            _ => v,
        };
        let then_v = self.block(then, expect);
        let then_v = to_iface(self, then_v);
        let want = if then_v.ty == Ty::Never { expect.cloned() } else { Some(then_v.ty.clone()) };
        let else_v = self.expr(els, want.as_ref().or(expect));
        let else_v = to_iface(self, else_v);
        let ty = match (&then_v.ty, &else_v.ty) {
            (Ty::Never, e) => e.clone(),
            (t, Ty::Never) => t.clone(),
            (t, e) => {
                if !e.fits(t) && !t.fits(e) {
                    let (t, e) = (self.type_name(t), self.type_name(e));
                    self.error(els.span, format!("`if` and `else` have different types: `{t}` and `{e}`"));
                }
                t.clone()
            }
        };
        Expr::new(tir::ExprKind::If(c, Box::new(then_v), Some(Box::new(else_v))), ty, span)
    }

    /// A loop body: a block whose value is dropped.
    fn loop_body(&mut self, body: &ast::Block) -> Expr {
        self.loop_depth += 1;
        let b = self.block(body, Some(&Ty::Unit));
        self.loop_depth -= 1;
        b
    }

    /// `while cond { body }`
    pub fn while_loop(&mut self, cond: &ast::Expr, body: &ast::Block, span: Span) -> Expr {
        let c = self.cond(cond);
        let b = self.loop_body(body);
        Expr::new(tir::ExprKind::While(Box::new(c), Box::new(b)), Ty::Unit, span)
    }

    /// `for var in a..b { body }` and `for var in array { body }`
    pub fn for_loop(&mut self, var: &ast::Ident, iter: &ast::Expr, body: &ast::Block, span: Span) -> Expr {
        self.push_scope();
        let kind = if let ExprKind::Range(from, to) = &iter.kind {
            let a = self.expr(from, Some(&Ty::Int));
            let b = self.expr(to, Some(&Ty::Int));
            self.expect_fits(from.span, &Ty::Int, &a.ty);
            self.expect_fits(to.span, &Ty::Int, &b.ty);
            let id = self.declare(&var.name, Ty::Int, false);
            let body = self.loop_body(body);
            tir::ExprKind::ForRange(id, Box::new(a), Box::new(b), Box::new(body))
        } else {
            let arr = self.expr(iter, None);
            let elem = match &arr.ty {
                Ty::Array(elem) => (**elem).clone(),
                Ty::Error => Ty::Error,
                other => {
                    let t = self.type_name(other);
                    self.error(
                        iter.span,
                        format!("cannot iterate over `{t}`; expected an array or a range `a..b`"),
                    );
                    Ty::Error
                }
            };
            let id = self.declare(&var.name, elem, false);
            let body = self.loop_body(body);
            tir::ExprKind::ForArray(id, Box::new(arr), Box::new(body))
        };
        self.pop_scope();
        Expr::new(kind, Ty::Unit, span)
    }

    /// `break` and `continue`.
    pub fn jump(&mut self, e: &ast::Expr) -> Expr {
        let is_break = matches!(e.kind, ExprKind::Break);
        if self.loop_depth == 0 {
            let what = if is_break { "break" } else { "continue" };
            self.error(e.span, format!("`{what}` outside of a loop"));
        }
        let kind = if is_break { tir::ExprKind::Break } else { tir::ExprKind::Continue };
        Expr::new(kind, Ty::Never, e.span)
    }

    /// `return` and `return value`.
    pub fn ret(&mut self, value: Option<&ast::Expr>, span: Span) -> Expr {
        if let Some(n) = &mut self.closure_returns {
            *n += 1;
        }
        let want = self.ret.clone();
        let value = match value {
            Some(e) => {
                let mut v = self.expr(e, Some(&want));
                if want == Ty::Unit {
                    if !matches!(v.ty, Ty::Unit | Ty::Never | Ty::Error) {
                        self.error(e.span, "this function returns nothing, but `return` has a value");
                    }
                } else {
                    v = self.fit(v, &want);
                }
                Some(Box::new(v))
            }
            None => {
                if !matches!(want, Ty::Unit | Ty::Error) {
                    let w = self.type_name(&want);
                    self.error(span, format!("`return` needs a value of type `{w}`"));
                }
                None
            }
        };
        Expr::new(tir::ExprKind::Return(value), Ty::Never, span)
    }

    /// A function's body: its final value is the result. A final `if` with `else`
    /// returns from each branch (the lowering does the same), so each is checked
    /// against the result type on its own.
    pub fn return_block(&mut self, b: &ast::Block, fn_name: &str) -> Expr {
        self.push_scope();
        let (stmts, diverges) = self.stmts(&b.stmts);
        let want = self.ret.clone();
        let tail = match &b.tail {
            Some(tail) => Some(Box::new(self.return_expr(tail, fn_name))),
            None => {
                if !diverges && want != Ty::Unit {
                    let w = self.type_name(&want);
                    self.error(
                        b.span,
                        format!("function `{fn_name}` must return `{w}`, but its body has no final value"),
                    );
                }
                None
            }
        };
        self.pop_scope();
        let ty = if tail.is_none() && diverges { Ty::Never } else { want };
        Expr::new(tir::ExprKind::Block(tir::Block { stmts, tail, end: block_end(b) }), ty, b.span)
    }

    fn return_expr(&mut self, e: &ast::Expr, fn_name: &str) -> Expr {
        let want = self.ret.clone();
        match &e.kind {
            ExprKind::If(cond, then, Some(els)) if want != Ty::Unit => {
                let c = self.cond(cond);
                let t = self.return_block(then, fn_name);
                let f = self.return_expr(els, fn_name);
                Expr::new(tir::ExprKind::If(Box::new(c), Box::new(t), Some(Box::new(f))), want, e.span)
            }
            ExprKind::Block(b) => self.return_block(b, fn_name),
            _ => {
                let v = self.expr(e, Some(&want));
                match (&v.ty, &want) {
                    (Ty::Never, _) | (_, Ty::Unit) => {}
                    (Ty::Unit, want) => {
                        let w = self.type_name(want);
                        self.error(
                            e.span,
                            format!(
                                "function `{fn_name}` must return `{w}`, but its body has no final value"
                            ),
                        );
                    }
                    (_, want) => {
                        let want = want.clone();
                        return self.fit(v, &want);
                    }
                }
                v
            }
        }
    }
}

/// The closing brace of a block: where its implicit return is.
fn block_end(b: &ast::Block) -> Span {
    Span { start: b.span.end.saturating_sub(1), ..b.span }
}
