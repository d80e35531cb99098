//! Type checking: function bodies and global initialisers, from the syntax tree to the
//! typed IR ([`crate::tir`]). Declarations were collected by `sema::items` first, so
//! bodies may use items declared later. Every diagnostic about a body is reported here;
//! the lowering that follows only sees programs without errors.

mod call;
mod closures;
mod control;
mod exhaustive;
mod expr;
mod maps;
mod patterns;

use crate::diag::Diagnostic;
use crate::sema::consts::{self, ConstVal};
use crate::sema::items::Items;
use crate::sema::types::{Generic, Ty};
use crate::syntax::ast::{self, Item};
use crate::syntax::span::Span;
use crate::tir::{self, LocalDecl, LocalId};

/// A module-level global, as checked.
#[derive(Debug, Clone)]
pub enum GlobalDef {
    /// A `const`: its folded value.
    Const(ConstVal),
    /// A `var` with a value type: its initialiser, run by `<init>`.
    Var(tir::Expr),
    /// A global that cannot exist (an error was reported).
    Invalid,
}

/// A checked global.
#[derive(Debug, Clone)]
pub struct Global {
    /// Its type.
    pub ty: Ty,
    /// What it is.
    pub def: GlobalDef,
}

/// The whole program, checked.
#[derive(Debug)]
pub struct Program {
    /// Globals in declaration order (as in `Items::globals`).
    pub globals: Vec<Global>,
    /// Locals declared inside global initialisers (blocks in them), shared by all.
    pub start_locals: Vec<LocalDecl>,
    /// One body per function of `Items::fns`, in order.
    pub bodies: Vec<tir::Body>,
    /// The bodies of closure literals, lifted out of the bodies they appear in.
    pub closures: Vec<closures::ClosureDef>,
    /// The function `main`.
    pub main: usize,
}

/// What a name in scope stands for.
#[derive(Debug, Clone)]
pub(crate) struct ScopeEntry {
    name: String,
    id: LocalId,
    mutable: bool,
}

/// The checker's state: the program's declarations, and the function being checked.
pub(crate) struct Checker<'a> {
    pub items: &'a Items,
    pub errors: &'a mut Vec<Diagnostic>,
    pub warnings: &'a mut Vec<Diagnostic>,
    /// Globals checked so far (`None`: declared later, not yet known).
    pub globals: Vec<Option<Global>>,
    pub locals: Vec<LocalDecl>,
    scopes: Vec<Vec<ScopeEntry>>,
    /// The type parameters of the function being checked.
    pub generics: Vec<Generic>,
    /// The file of the body being checked (which module's names it sees).
    pub file: u32,
    /// Loops enclosing the expression being checked.
    pub loop_depth: usize,
    /// The current function's result type.
    pub ret: Ty,
    /// How deeply expressions are being checked (bounded by the parser's nesting limit).
    pub depth: usize,
    /// Inside a closure whose result type comes from its body: the `return`s seen.
    pub closure_returns: Option<usize>,
    /// Closures lifted so far.
    pub closures: Vec<closures::ClosureDef>,
}

/// Checks every global and function body of a program whose declarations are `items`.
/// Returns `None` when anything was reported (the errors are in `errors`).
pub fn check_program(
    ast: &[Item],
    items: &Items,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Program> {
    let mut c = Checker {
        items,
        errors,
        warnings,
        globals: vec![None; items.globals.len()],
        locals: Vec::new(),
        scopes: vec![Vec::new()],
        generics: Vec::new(),
        file: 0,
        loop_depth: 0,
        ret: Ty::Unit,
        depth: 0,
        closure_returns: None,
        closures: Vec::new(),
    };
    for (gi, g) in items.globals.iter().enumerate() {
        let Item::Global(decl) = &ast[g.decl] else { continue };
        let global = c.global(decl);
        c.globals[gi] = Some(global);
    }
    // Closures in initialisers belong to `<init>`.
    let mut inits: Vec<&mut tir::Expr> = c
        .globals
        .iter_mut()
        .filter_map(|g| match g.as_mut().map(|g| &mut g.def) {
            Some(GlobalDef::Var(init)) => Some(init),
            _ => None,
        })
        .collect();
    closures::lift(&mut c.locals, &mut inits, None, "<init>", &mut c.closures);
    let start_locals = std::mem::take(&mut c.locals);
    let mut bodies = Vec::with_capacity(items.fns.len());
    for f in &items.fns {
        let decl = match (&ast[f.decl.0], f.decl.1) {
            (Item::Fn(d), None) => d,
            (Item::Impl(imp), Some(m)) => &imp.methods[m],
            _ => unreachable!("a function's declaration is a function"),
        };
        let mut body = c.function(f, decl);
        closures::lift(&mut body.locals, &mut [&mut body.expr], Some(bodies.len()), &f.name, &mut c.closures);
        bodies.push(body);
    }
    let main = items.fn_by_name.get("main").copied();
    match main.map(|m| &items.fns[m]) {
        None => c.error(Span::default(), "the program has no `fn main()`"),
        Some(m) if !m.params.is_empty() || m.ret != Ty::Unit => {
            c.error(m.span, "`main` must take no parameters and return nothing")
        }
        Some(_) => {}
    }
    if !c.errors.is_empty() {
        return None;
    }
    let globals = c.globals.into_iter().map(|g| g.expect("every global is checked")).collect();
    Some(Program { globals, start_locals, bodies, closures: c.closures, main: main.expect("checked above") })
}

impl Checker<'_> {
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(Diagnostic { message: message.into(), span, note: None });
    }

    pub fn warn(&mut self, span: Span, message: impl Into<String>) {
        self.warnings.push(Diagnostic { message: message.into(), span, note: None });
    }

    /// Reports `got` where `want` was expected, unless either is already an error.
    pub fn mismatch(&mut self, span: Span, want: &Ty, got: &Ty) {
        if matches!(want, Ty::Error) || matches!(got, Ty::Error) {
            return;
        }
        let (w, g) = (self.items.type_name(want), self.items.type_name(got));
        self.error(span, format!("mismatched types: expected `{w}`, found `{g}`"));
    }

    /// `e`, seen as interface `want` if it is one that `e`'s struct or enum type
    /// implements (language.md: a value converts to an interface type wherever one is
    /// expected); otherwise `e` unchanged.
    pub fn coerce(&mut self, e: tir::Expr, want: &Ty) -> tir::Expr {
        match want {
            Ty::Iface(i)
                if matches!(e.ty, Ty::Struct(..) | Ty::Enum(..)) && self.items.implements(&e.ty, *i) =>
            {
                let span = e.span;
                tir::Expr::new(tir::ExprKind::ToIface(Box::new(e)), want.clone(), span)
            }
            _ => e,
        }
    }

    /// `e` checked against `want`: coerced to an interface if that is what is wanted,
    /// and a mismatch reported otherwise.
    pub fn fit(&mut self, e: tir::Expr, want: &Ty) -> tir::Expr {
        let e = self.coerce(e, want);
        self.expect_fits(e.span, want, &e.ty);
        e
    }

    /// Checks that `e` (of type `got`) fits `want`, reporting a mismatch if not.
    pub fn expect_fits(&mut self, span: Span, want: &Ty, got: &Ty) {
        if !got.fits(want) {
            self.mismatch(span, want, got);
        }
    }

    pub fn type_name(&self, ty: &Ty) -> String {
        self.items.type_name(ty)
    }

    pub fn resolve_type(&mut self, ty: &ast::TypeExpr) -> Ty {
        self.items.resolve_type(ty, &self.generics, self.errors)
    }

    /// Checks one `const` or `var` declaration.
    fn global(&mut self, decl: &ast::GlobalDecl) -> Global {
        self.file = decl.name.span.file;
        let declared = decl.ty.as_ref().map(|t| self.resolve_type(t));
        if decl.is_const {
            let lookup = |name: &str| -> Option<ConstVal> {
                let i = self.items.global_named_in(self.file, name)?;
                match &self.globals[i] {
                    Some(Global { def: GlobalDef::Const(v), .. }) => Some(v.clone()),
                    _ => None,
                }
            };
            return match consts::eval(&decl.init, &lookup) {
                Ok(v) => {
                    let ty = const_type(&v);
                    if let Some(want) = &declared {
                        self.expect_fits(decl.init.span, want, &ty);
                    }
                    Global { ty, def: GlobalDef::Const(v) }
                }
                Err(msg) => {
                    self.error(decl.init.span, msg);
                    Global { ty: declared.unwrap_or(Ty::Error), def: GlobalDef::Invalid }
                }
            };
        }
        self.ret = Ty::Unit;
        let mut init = self.expr(&decl.init, declared.as_ref());
        let ty = match declared {
            Some(want) => {
                init = self.fit(init, &want);
                want
            }
            None => init.ty.clone(),
        };
        if ty.has_value() {
            Global { ty, def: GlobalDef::Var(init) }
        } else {
            if ty != Ty::Error {
                self.error(decl.name.span, "a global must have a value type");
            }
            Global { ty, def: GlobalDef::Invalid }
        }
    }

    /// Checks one function or method body.
    fn function(&mut self, info: &crate::sema::items::FnInfo, decl: &ast::FnDecl) -> tir::Body {
        self.locals.clear();
        self.scopes = vec![Vec::new()];
        self.loop_depth = 0;
        self.ret = info.ret.clone();
        self.generics = info.generics.clone();
        self.file = info.span.file;
        for (name, ty) in &info.params {
            self.declare(name, ty.clone(), true);
        }
        let n_params = self.locals.len();
        let expr = match &info.external {
            // The host provides the body: a call passing the parameters on.
            Some(host_name) => {
                let args = (0..n_params)
                    .map(|i| {
                        let ty = self.locals[i].ty.clone();
                        tir::Expr::new(tir::ExprKind::Local(LocalId(i as u32)), ty, info.span)
                    })
                    .collect();
                tir::Expr::new(tir::ExprKind::Host(host_name.clone(), args), info.ret.clone(), info.span)
            }
            None => self.return_block(&decl.body, &info.name),
        };
        tir::Body {
            locals: std::mem::take(&mut self.locals),
            n_params,
            closure: None,
            ret: info.ret.clone(),
            expr,
        }
    }

    // ----- Scopes -----

    /// Declares a new local in the innermost scope.
    pub fn declare(&mut self, name: &str, ty: Ty, mutable: bool) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(LocalDecl { name: name.to_string(), ty, boxed: false });
        self.scopes.last_mut().expect("a scope").push(ScopeEntry { name: name.to_string(), id, mutable });
        id
    }

    /// The local `name` refers to here: (id, type, mutable).
    pub fn lookup(&self, name: &str) -> Option<(LocalId, Ty, bool)> {
        let entry = self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|e| e.name == name)?;
        Some((entry.id, self.locals[entry.id.0 as usize].ty.clone(), entry.mutable))
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    pub fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    /// A global by name, with what is known of it so far (`None` if it is declared
    /// later and not checked yet).
    pub fn global_named(&self, name: &str) -> Option<(usize, Option<&Global>)> {
        let i = self.items.global_named_in(self.file, name)?;
        Some((i, self.globals[i].as_ref()))
    }
}

/// The type of a compile-time value.
pub fn const_type(v: &ConstVal) -> Ty {
    match v {
        ConstVal::Int(_) => Ty::Int,
        ConstVal::Float(_) => Ty::Float,
        ConstVal::Bool(_) => Ty::Bool,
        ConstVal::Str(_) => Ty::Str,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{lexer, parser};
    use crate::tir::{ExprKind, Stmt};

    /// Checks `src`; returns the program or the error messages.
    fn check(src: &str) -> Result<(Items, Program), Vec<String>> {
        let mut errors = Vec::new();
        let items = parser::parse(lexer::lex(src, 0, &mut errors), &mut errors);
        let decls = Items::collect(&items, 0, Default::default(), &mut errors);
        let mut warnings = Vec::new();
        let program = check_program(&items, &decls, &mut errors, &mut warnings);
        match program {
            Some(p) if errors.is_empty() => Ok((decls, p)),
            _ => Err(errors.into_iter().map(|e| e.message).collect()),
        }
    }

    fn main_stmts(p: &Program, items: &Items) -> Vec<Stmt> {
        let ExprKind::Block(b) = &p.bodies[items.fn_by_name["main"]].expr.kind else { panic!("a block") };
        b.stmts.clone()
    }

    #[test]
    fn names_resolve_to_locals_and_constants_fold() {
        let (items, p) = check("const K: int = 2 * 3; fn main() { let a = K; let b = a; }").expect("valid");
        let stmts = main_stmts(&p, &items);
        let Stmt::Let(a, init) = &stmts[0] else { panic!("a let") };
        assert!(matches!(init.kind, ExprKind::Const(ConstVal::Int(6))), "{init:?}");
        let Stmt::Let(_, init) = &stmts[1] else { panic!("a let") };
        assert!(matches!(init.kind, ExprKind::Local(id) if id == *a));
        assert_eq!(init.ty, Ty::Int);
    }

    #[test]
    fn constant_comparisons_on_every_type_fold() {
        let (_, p) = check(
            "const A: bool = false < true; const B: bool = \"a\" < \"b\"; const C: bool = 1.5 >= 2.0; fn main() {}",
        )
        .expect("valid");
        let values: Vec<_> = p.globals.iter().map(|g| g.def.clone()).collect();
        assert!(matches!(
            values[..],
            [
                GlobalDef::Const(ConstVal::Bool(true)),
                GlobalDef::Const(ConstVal::Bool(true)),
                GlobalDef::Const(ConstVal::Bool(false))
            ]
        ));
    }

    #[test]
    fn compound_assignment_reads_the_place_once() {
        let (items, p) =
            check("struct S { n: int } fn main() { let s = S { n: 1 }; s.n += 2; }").expect("valid");
        let stmts = main_stmts(&p, &items);
        let Stmt::Expr(e) = &stmts[1] else { panic!("an expression") };
        let ExprKind::Assign(tir::Place::Field(_, 0), value) = &e.kind else { panic!("{e:?}") };
        let ExprKind::Binary(BinOp::Add, l, _) = &value.kind else { panic!("{value:?}") };
        assert!(matches!(l.kind, ExprKind::PlaceValue));
    }

    #[test]
    fn match_reports_the_missing_case_and_checks_patterns() {
        let e = check("enum E { A(int), B } fn main() { match E.B { E.A(1) => {} E.B => {} } }").unwrap_err();
        assert_eq!(e, ["non-exhaustive match: `E.A(_)` is not covered"]);
        let e = check("enum E { A, B } fn main() { match 1 { E.A => {} _ => {} } }").unwrap_err();
        assert_eq!(e, ["mismatched types: expected `int`, found `E`"]);
        check("enum E { A(int), B } fn main() { match E.B { E.A(_) => {} E.B => {} } }").expect("exhaustive");
    }

    use crate::syntax::ast::BinOp;
}
