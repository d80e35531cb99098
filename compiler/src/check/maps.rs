//! The syntax `Map` has beyond method calls: `m[k]`, `m[k] = v`, `m[k] op= v` and
//! `for (k, v) in m`, in terms of the prelude's `Map` methods and fields.

use super::expr::invalid;
use super::Checker;
use crate::sema::types::Ty;
use crate::syntax::ast::{self, BinOp};
use crate::syntax::span::Span;
use crate::tir::{self, Expr, ExprKind, Stmt};

impl Checker<'_> {
    /// `map.method(args)` for a prelude `Map` method.
    pub fn map_call(
        &mut self,
        method: &str,
        map: Expr,
        args: &[&ast::Expr],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let f = self.items.methods[&(map.ty.head(), method.to_string())];
        let args: Vec<ast::Expr> = args.iter().map(|a| (*a).clone()).collect();
        self.call_user(f, Some(map), &args, expect, span)
    }

    /// A direct call of `Map` method `method` on checked arguments (the map first).
    fn map_method(&self, method: &str, args: Vec<Expr>, span: Span) -> Expr {
        let map_ty = args[0].ty.clone();
        let f = self.items.methods[&(map_ty.head(), method.to_string())];
        let Ty::Struct(_, targs) = &map_ty else { unreachable!("a map") };
        let ret = self.items.fns[f].ret.subst(targs);
        Expr::new(ExprKind::Call(f, targs.clone(), args), ret, span)
    }

    /// `m[k] = v` and `m[k] op= v` (the map and key evaluated once).
    pub fn map_assign(
        &mut self,
        op: Option<BinOp>,
        map: Expr,
        key: &ast::Expr,
        value: &ast::Expr,
        span: Span,
    ) -> Expr {
        let Some(op) = op else {
            let e = self.map_call("__set", map, &[key, value], None, span);
            return Expr { ty: Ty::Unit, ..e };
        };
        let (k_ty, _) = self.items.map_args(&map.ty).expect("a map");
        let k = self.expr(key, Some(&k_ty));
        let k = self.fit(k, &k_ty);
        self.push_scope();
        let (map_ty, k_span) = (map.ty.clone(), k.span);
        let tm = self.declare("<map>", map_ty.clone(), false);
        let tk = self.declare("<key>", k_ty.clone(), false);
        let local = |id, ty: &Ty, s| Expr::new(ExprKind::Local(id), ty.clone(), s);
        let current =
            self.map_method("__index", vec![local(tm, &map_ty, span), local(tk, &k_ty, k_span)], span);
        let new = self.binary_step(op, current, value, span);
        let set =
            self.map_method("__set", vec![local(tm, &map_ty, span), local(tk, &k_ty, k_span), new], span);
        self.pop_scope();
        let block = tir::Block {
            stmts: vec![Stmt::Let(tm, map), Stmt::Let(tk, k)],
            tail: Some(Box::new(set)),
            end: span,
        };
        Expr::new(ExprKind::Block(block), Ty::Unit, span)
    }

    /// `for (k, v) in m { body }`: the live entries in insertion order; the map's
    /// version is checked before each entry and after the loop, so a change to the map
    /// while the loop runs traps.
    pub fn map_loop(
        &mut self,
        key: &ast::Ident,
        value: &ast::Ident,
        iter: &ast::Expr,
        body: &ast::Block,
        span: Span,
    ) -> Expr {
        let m = self.expr(iter, None);
        let Some((k_ty, v_ty)) = self.items.map_args(&m.ty) else {
            if m.ty != Ty::Error {
                let t = self.type_name(&m.ty);
                self.error(iter.span, format!("`for (k, v) in` needs a `Map`, found `{t}`"));
            }
            return invalid(Ty::Unit, span);
        };
        let map_ty = m.ty.clone();
        let field = |c: &Self, name: &str| -> (u32, Ty) {
            let Ty::Struct(s, _) = &map_ty else { unreachable!("a map") };
            let i = c.items.structs[*s].fields.iter().position(|(n, _)| n == name).expect("a Map field");
            (i as u32, c.items.field_type(&map_ty, i))
        };
        let (version, keys, vals, live) =
            (field(self, "version"), field(self, "keys"), field(self, "vals"), field(self, "live"));
        self.push_scope();
        let tm = self.declare("<map>", map_ty.clone(), false);
        let tv = self.declare("<version>", Ty::Int, false);
        let te = self.declare("<entry>", Ty::Int, false);
        let at = |kind, ty: Ty| Expr::new(kind, ty, span);
        let map = || at(ExprKind::Local(tm), map_ty.clone());
        let get = |(i, ty): &(u32, Ty)| at(ExprKind::Field(Box::new(map()), *i), ty.clone());
        let entry = || at(ExprKind::Local(te), Ty::Int);
        let element =
            |f: &(u32, Ty), elem: &Ty| at(ExprKind::Index(Box::new(get(f)), Box::new(entry())), elem.clone());
        let check = || {
            let changed = at(
                ExprKind::Binary(
                    BinOp::Ne,
                    Box::new(get(&version)),
                    Box::new(at(ExprKind::Local(tv), Ty::Int)),
                ),
                Ty::Bool,
            );
            let trap = at(ExprKind::Native("map_modified", Vec::new()), Ty::Never);
            at(ExprKind::If(Box::new(changed), Box::new(trap), None), Ty::Unit)
        };
        self.loop_depth += 1;
        self.push_scope();
        let k = self.declare(&key.name, k_ty.clone(), false);
        let v = self.declare(&value.name, v_ty.clone(), false);
        let user = self.block(body, Some(&Ty::Unit));
        self.pop_scope();
        self.loop_depth -= 1;
        let bind = tir::Block {
            stmts: vec![
                Stmt::Let(k, element(&keys, &k_ty)),
                Stmt::Let(v, element(&vals, &v_ty)),
                Stmt::Expr(user),
            ],
            tail: None,
            end: body.span,
        };
        let live_now = element(&live, &Ty::Bool);
        let visit = at(
            ExprKind::If(Box::new(live_now), Box::new(at(ExprKind::Block(bind), Ty::Unit)), None),
            Ty::Unit,
        );
        let step =
            tir::Block { stmts: vec![Stmt::Expr(check()), Stmt::Expr(visit)], tail: None, end: body.span };
        let n = at(ExprKind::Intrinsic(tir::Intrinsic::ArrayLen, vec![get(&keys)]), Ty::Int);
        let zero = at(ExprKind::Const(crate::sema::consts::ConstVal::Int(0)), Ty::Int);
        let lp = at(
            ExprKind::ForRange(
                te,
                Box::new(zero),
                Box::new(n),
                Box::new(at(ExprKind::Block(step), Ty::Unit)),
            ),
            Ty::Unit,
        );
        self.pop_scope();
        let stmts = vec![Stmt::Let(tm, m), Stmt::Let(tv, get(&version)), Stmt::Expr(lp), Stmt::Expr(check())];
        at(ExprKind::Block(tir::Block { stmts, tail: None, end: span }), Ty::Unit)
    }
}
