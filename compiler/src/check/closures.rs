//! Closures: checking a closure literal, and lifting closure bodies out of the body
//! they appear in once it is checked.
//!
//! A closure is checked in place, with the enclosing function's locals in scope (it
//! reads them like any local). When the enclosing body is complete, `lift` decides
//! what each closure captures (the enclosing locals its body uses), puts every captured
//! local that is ever assigned in a heap cell (so the closure and the function share
//! it: language.md's "captured variables are shared"), and moves each closure body into
//! a body of its own, whose locals are its parameters, its captures and its own locals.

use super::expr::invalid;
use super::Checker;
use crate::sema::types::Ty;
use crate::syntax::ast;
use crate::syntax::span::Span;
use crate::tir::{self, Body, ClosureExpr, Expr, ExprKind, LocalDecl, LocalId, PatKind, Place, Stmt};
use std::collections::{BTreeSet, HashMap};

/// A closure literal's body, lifted out.
#[derive(Debug, Clone)]
pub struct ClosureDef {
    /// The function it appears in (`None`: a global initialiser).
    pub owner: Option<usize>,
    /// Its name in traces: the enclosing function's, then `.{closure}`.
    pub name: String,
    /// Its body: parameters, then captures (`closure` gives their count), then locals.
    pub body: Body,
}

impl Checker<'_> {
    /// `|params| body`: parameter types as written or from the expected function type;
    /// the result type as written, expected, or the body's.
    pub fn closure(
        &mut self,
        params: &[(ast::Ident, Option<ast::TypeExpr>)],
        ret: Option<&ast::TypeExpr>,
        body: &ast::Expr,
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let (want_params, want_ret) = match expect {
            Some(Ty::Fn(p, r)) if p.len() == params.len() => (Some(p.clone()), Some((**r).clone())),
            _ => (None, None),
        };
        let first = self.locals.len() as u32;
        self.push_scope();
        let saved_loops = std::mem::replace(&mut self.loop_depth, 0);
        let mut ids = Vec::new();
        let mut types = Vec::new();
        for (i, (name, written)) in params.iter().enumerate() {
            let ty = match (written, &want_params) {
                (Some(t), _) => self.resolve_type(t),
                (None, Some(p)) if !p[i].has_var() => p[i].clone(),
                (None, _) => {
                    let n = &name.name;
                    self.error(name.span, format!("cannot infer the type of closure parameter `{n}`; annotate it, as in `|{n}: int|`"));
                    Ty::Error
                }
            };
            ids.push(self.declare(&name.name, ty.clone(), true));
            types.push(ty);
        }
        let declared = ret.map(|t| self.resolve_type(t)).or(want_ret.filter(|t| !t.has_var()));
        // Until the body says, a `return` inside fits anything; the count below catches
        // a `return` in a closure whose result type only the body decides.
        let saved_ret = std::mem::replace(&mut self.ret, declared.clone().unwrap_or(Ty::Error));
        let saved_returns = std::mem::replace(&mut self.closure_returns, declared.is_none().then_some(0));
        let mut value = self.expr(body, declared.as_ref());
        if let Some(r) = &declared {
            value = self.coerce(value, r);
        }
        let returns = std::mem::replace(&mut self.closure_returns, saved_returns);
        self.ret = saved_ret;
        self.loop_depth = saved_loops;
        self.pop_scope();
        let result = match declared {
            Some(r) => {
                if r != Ty::Unit {
                    self.expect_fits(body.span, &r, &value.ty);
                }
                r
            }
            None => {
                if returns.is_some_and(|n| n > 0) {
                    self.error(
                        span,
                        "a closure that uses `return` needs its result type: write `|...| -> T { ... }`",
                    );
                }
                if value.ty == Ty::Never {
                    Ty::Unit
                } else {
                    value.ty.clone()
                }
            }
        };
        if types.contains(&Ty::Error) || result == Ty::Error {
            return invalid(Ty::Error, span);
        }
        let end = self.locals.len() as u32;
        let closure = ClosureExpr { params: ids, body: value, locals: first..end };
        Expr::new(ExprKind::Closure(Box::new(closure)), Ty::Fn(types, Box::new(result)), span)
    }
}

/// Every local `e` mentions (reads, assigns, declares, captures), with a mutable
/// reference to each mention.
fn each_local(e: &mut Expr, f: &mut impl FnMut(&mut LocalId)) {
    e.visit_mut(&mut |e| match &mut e.kind {
        ExprKind::Local(id) | ExprKind::Assign(Place::Local(id), _) => f(id),
        ExprKind::ForRange(id, ..) | ExprKind::ForArray(id, ..) => f(id),
        ExprKind::Block(b) => {
            for s in &mut b.stmts {
                if let Stmt::Let(id, _) = s {
                    f(id);
                }
            }
        }
        ExprKind::Match(_, arms) => {
            for arm in arms {
                each_pat_local(&mut arm.pat, f);
            }
        }
        ExprKind::MakeClosure(_, caps) => caps.iter_mut().for_each(&mut *f),
        ExprKind::Closure(c) => c.params.iter_mut().for_each(&mut *f),
        _ => {}
    });
}

fn each_pat_local(p: &mut tir::Pat, f: &mut impl FnMut(&mut LocalId)) {
    match &mut p.kind {
        PatKind::Bind(id) => f(id),
        PatKind::Variant(_, _, subs) => subs.iter_mut().for_each(|s| each_pat_local(s, f)),
        _ => {}
    }
}

/// The locals outside `range` that `body` mentions: what a closure must capture.
fn free_locals(body: &mut Expr, range: &std::ops::Range<u32>) -> BTreeSet<LocalId> {
    let mut free = BTreeSet::new();
    each_local(body, &mut |id| {
        if !range.contains(&id.0) {
            free.insert(*id);
        }
    });
    free
}

/// Lifts the closures out of `exprs` (one body, or the global initialisers, whose
/// locals are `locals`) into `out`, and marks the locals that must live in cells.
pub fn lift(
    locals: &mut [LocalDecl],
    exprs: &mut [&mut Expr],
    owner: Option<usize>,
    owner_name: &str,
    out: &mut Vec<ClosureDef>,
) {
    // Which locals closures capture, and which are assigned anywhere.
    let mut captured = BTreeSet::new();
    let mut assigned = BTreeSet::new();
    for e in exprs.iter_mut() {
        e.visit_mut(&mut |e| match &mut e.kind {
            ExprKind::Closure(c) => captured.extend(free_locals(&mut c.body, &c.locals)),
            ExprKind::Assign(Place::Local(id), _) => {
                assigned.insert(*id);
            }
            _ => {}
        });
    }
    for id in captured.intersection(&assigned) {
        locals[id.0 as usize].boxed = true;
    }
    let name = format!("{owner_name}.{{closure}}");
    for e in exprs.iter_mut() {
        extract(e, locals, owner, &name, out);
    }
}

/// Replaces every closure literal in `e`, innermost first, by a closure value.
fn extract(e: &mut Expr, locals: &[LocalDecl], owner: Option<usize>, name: &str, out: &mut Vec<ClosureDef>) {
    e.for_each_child_mut(|c| extract(c, locals, owner, name, out));
    let ExprKind::Closure(c) = &mut e.kind else { return };
    let ClosureExpr { params, body, locals: range } = &mut **c;
    let free: Vec<LocalId> = free_locals(body, range).into_iter().collect();
    // The lifted body's locals: parameters, captures, then its own others.
    let mut order: Vec<LocalId> = params.clone();
    order.extend(&free);
    order.extend(range.clone().map(LocalId).filter(|id| !params.contains(id)));
    let map: HashMap<LocalId, LocalId> =
        order.iter().enumerate().map(|(i, id)| (*id, LocalId(i as u32))).collect();
    let mut body = std::mem::replace(body, invalid(Ty::Never, e.span));
    each_local(&mut body, &mut |id| *id = map[id]);
    let Ty::Fn(_, ret) = &e.ty else { unreachable!("a closure has a function type") };
    let lifted = Body {
        locals: order.iter().map(|id| locals[id.0 as usize].clone()).collect(),
        n_params: params.len(),
        closure: Some(free.len()),
        ret: (**ret).clone(),
        expr: body,
    };
    out.push(ClosureDef { owner, name: name.to_string(), body: lifted });
    e.kind = ExprKind::MakeClosure(out.len() - 1, free);
}
