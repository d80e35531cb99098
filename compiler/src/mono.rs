//! Monomorphisation: the typed IR of a checked program, with one copy of each generic
//! function per list of type arguments it is called with. Every type in an instance is
//! concrete, and every call names an instance (its index in the list) instead of a
//! function and type arguments, so lowering never sees a type parameter.
//!
//! Functions without type parameters come first, in declaration order; instances follow
//! in the order calls first reach them, so the output is deterministic.

use crate::check::{GlobalDef, Program};
use crate::diag::Diagnostic;
use crate::sema::items::Items;
use crate::sema::types::Ty;
use crate::tir::{self, ExprKind, PatKind};
use std::collections::HashMap;

/// One function with its type arguments made concrete.
#[derive(Debug)]
pub struct Instance {
    /// The function, by index in `Items::fns`.
    pub func: usize,
    /// Its type arguments (none for a function without type parameters).
    pub args: Vec<Ty>,
    /// Its body, every type concrete and every call resolved to an instance.
    pub body: tir::Body,
}

/// The instances a program needs, and its global initialisers with calls resolved.
#[derive(Debug)]
pub struct Monomorphic {
    /// Every function instance; `Call(i, ..)` in any body calls `instances[i]`.
    pub instances: Vec<Instance>,
    /// The instance of `main`.
    pub main: usize,
}

struct Worklist {
    index: HashMap<(usize, Vec<Ty>), usize>,
    pending: Vec<(usize, Vec<Ty>)>,
}

impl Worklist {
    /// The instance index of `func` with `args`, queued for processing if new.
    fn request(&mut self, func: usize, args: Vec<Ty>) -> usize {
        let next = self.index.len();
        *self.index.entry((func, args.clone())).or_insert_with(|| {
            self.pending.push((func, args));
            next
        })
    }

    /// Makes every type in `e` concrete with `args` and points its calls at instances.
    fn rewrite(&mut self, e: &mut tir::Expr, args: &[Ty]) {
        e.visit_mut(&mut |e| {
            e.ty = e.ty.subst(args);
            match &mut e.kind {
                ExprKind::Call(f, targs, _) => {
                    let concrete: Vec<Ty> = targs.iter().map(|t| t.subst(args)).collect();
                    *f = self.request(*f, concrete);
                    targs.clear();
                }
                ExprKind::Match(_, arms) => {
                    for arm in arms {
                        subst_pat(&mut arm.pat, args);
                    }
                }
                _ => {}
            }
        });
    }
}

fn subst_pat(p: &mut tir::Pat, args: &[Ty]) {
    p.ty = p.ty.subst(args);
    if let PatKind::Variant(_, _, subs) = &mut p.kind {
        for s in subs {
            subst_pat(s, args);
        }
    }
}

/// Instantiates every function `program` reaches. Takes the program's bodies (a
/// function without type parameters is used as is; a generic one is copied per
/// instance) and resolves the calls in its global initialisers in place.
pub fn monomorphize(
    items: &Items,
    program: &mut Program,
    errors: &mut Vec<Diagnostic>,
) -> Option<Monomorphic> {
    let mut work = Worklist { index: HashMap::new(), pending: Vec::new() };
    for (f, info) in items.fns.iter().enumerate() {
        if info.generics.is_empty() && !info.in_prelude {
            work.request(f, Vec::new());
        }
    }
    for g in &mut program.globals {
        if let GlobalDef::Var(init) = &mut g.def {
            work.rewrite(init, &[]);
        }
    }
    let main = work.index[&(program.main, Vec::new())];
    let mut instances: Vec<Option<Instance>> = Vec::new();
    let mut done = 0;
    while done < work.pending.len() {
        let (func, args) = work.pending[done].clone();
        if let Some(deep) = args.iter().find(|t| depth(t) > MAX_TYPE_DEPTH) {
            let (f, t) = (&items.fns[func].name, items.type_name(deep));
            errors.push(Diagnostic {
                message: format!("`{f}` would be instantiated with ever deeper types (such as `{t}`); a generic function cannot call itself with a bigger type"),
                span: items.fns[func].span,
                note: None,
            });
            return None;
        }
        let mut body = if args.is_empty() {
            std::mem::replace(&mut program.bodies[func], placeholder())
        } else {
            program.bodies[func].clone()
        };
        for local in &mut body.locals {
            local.ty = local.ty.subst(&args);
        }
        body.ret = body.ret.subst(&args);
        work.rewrite(&mut body.expr, &args);
        instances.push(Some(Instance { func, args, body }));
        done += 1;
    }
    let instances = instances.into_iter().map(|i| i.expect("every instance is built")).collect();
    Some(Monomorphic { instances, main })
}

/// Type arguments nested deeper than this come from polymorphic recursion.
const MAX_TYPE_DEPTH: usize = 32;

fn depth(t: &Ty) -> usize {
    match t {
        Ty::Array(t) => 1 + depth(t),
        Ty::Struct(_, a) | Ty::Enum(_, a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// What a function's body is replaced with once its instance owns it.
fn placeholder() -> tir::Body {
    let span = Default::default();
    tir::Body {
        locals: Vec::new(),
        n_params: 0,
        ret: Ty::Unit,
        expr: tir::Expr::new(ExprKind::Unreachable, Ty::Never, span),
    }
}
