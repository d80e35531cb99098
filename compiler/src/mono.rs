//! Monomorphisation: the typed IR of a checked program, with one copy of each generic
//! function per list of type arguments it is called with. Every type in an instance is
//! concrete, and every call and closure names an instance (its index in the list)
//! instead of a function and type arguments, so lowering never sees a type parameter.
//!
//! Functions without type parameters come first, in declaration order; instances follow
//! in the order uses first reach them, so the output is deterministic. Besides
//! functions, instances are closure bodies (per type arguments of the function they
//! appear in) and adapters that let a named function be used as a function value.

use crate::check::{GlobalDef, Program};
use crate::diag::Diagnostic;
use crate::sema::items::Items;
use crate::sema::types::Ty;
use crate::tir::{self, ExprKind, LocalDecl, LocalId, PatKind};
use std::collections::HashMap;

/// What an instance is an instance of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Callee {
    /// A function or method, by index in `Items::fns`.
    Fn(usize),
    /// A closure literal's body, by index in `Program::closures`.
    Closure(usize),
    /// Function `i` of `Items::fns` as a function value: a closure without captures
    /// whose body calls it.
    FnValue(usize),
}

/// One function with its type arguments made concrete.
#[derive(Debug)]
pub struct Instance {
    /// What it instantiates.
    pub callee: Callee,
    /// Its type arguments (none for a function without type parameters).
    pub args: Vec<Ty>,
    /// Its body, every type concrete and every call resolved to an instance.
    pub body: tir::Body,
}

/// The instances a program needs.
#[derive(Debug)]
pub struct Monomorphic {
    /// Every function instance; `Call(i, ..)` in any body calls `instances[i]`.
    pub instances: Vec<Instance>,
    /// The instance of `main`.
    pub main: usize,
    /// Every implementation some value is seen as an interface through: (interface,
    /// concrete implementing type, the instance of each method).
    pub vtables: Vec<(usize, Ty, Vec<usize>)>,
}

struct Worklist<'a> {
    items: &'a Items,
    index: HashMap<(Callee, Vec<Ty>), usize>,
    pending: Vec<(Callee, Vec<Ty>)>,
    vtable_index: HashMap<(usize, Ty), usize>,
    vtables: Vec<(usize, Ty, Vec<usize>)>,
}

impl Worklist<'_> {
    /// The implementation of interface `iface` for concrete type `ty`, its method
    /// instances requested.
    fn vtable(&mut self, iface: usize, ty: &Ty) {
        if self.vtable_index.contains_key(&(iface, ty.clone())) {
            return;
        }
        let args = type_args(ty);
        let fns = self.items.impls[&(iface, ty.head())].clone();
        let insts = fns.into_iter().map(|f| self.request(Callee::Fn(f), args.clone())).collect();
        self.vtable_index.insert((iface, ty.clone()), self.vtables.len());
        self.vtables.push((iface, ty.clone(), insts));
    }
    /// The instance index of `callee` with `args`, queued for building if new.
    fn request(&mut self, callee: Callee, args: Vec<Ty>) -> usize {
        let next = self.index.len();
        *self.index.entry((callee, args.clone())).or_insert_with(|| {
            self.pending.push((callee, args));
            next
        })
    }

    /// Makes every type in `e` concrete with `args` and points its calls and closures at
    /// instances.
    fn rewrite(&mut self, e: &mut tir::Expr, args: &[Ty]) {
        e.visit_mut(&mut |e| {
            e.ty = e.ty.subst(args);
            match &mut e.kind {
                ExprKind::Call(f, targs, _) => {
                    let concrete: Vec<Ty> = targs.iter().map(|t| t.subst(args)).collect();
                    *f = self.request(Callee::Fn(*f), concrete);
                    targs.clear();
                }
                // A closure is instantiated with its enclosing function's arguments.
                ExprKind::MakeClosure(c, _) => *c = self.request(Callee::Closure(*c), args.to_vec()),
                ExprKind::FnRef(f, targs) => {
                    let concrete: Vec<Ty> = targs.iter().map(|t| t.subst(args)).collect();
                    let adapter = self.request(Callee::FnValue(*f), concrete);
                    e.kind = ExprKind::MakeClosure(adapter, Vec::new());
                }
                ExprKind::Match(_, arms) => {
                    for arm in arms {
                        subst_pat(&mut arm.pat, args);
                    }
                }
                // Its operand is not visited yet: make its type concrete here.
                ExprKind::ToIface(v) => {
                    let ty = v.ty.subst(args);
                    let Ty::Iface(i) = e.ty else { unreachable!("an interface type") };
                    self.vtable(i, &ty);
                }
                // A bound's method on a concrete receiver: a direct call, or dynamic
                // dispatch when the receiver is itself an interface value.
                ExprKind::CallBound(i, m, call_args) => {
                    let recv = call_args[0].ty.subst(args);
                    let (i, m) = (*i, *m);
                    let rest = std::mem::take(call_args);
                    e.kind = match recv {
                        Ty::Iface(_) => ExprKind::CallIface(i, m, rest),
                        ref t => {
                            let f = self.items.impls[&(i, t.head())][m as usize];
                            ExprKind::Call(f, type_args(t), rest)
                        }
                    };
                    // The new call is resolved like any other (its children are
                    // visited next, this node is not visited again).
                    if let ExprKind::Call(f, targs, _) = &mut e.kind {
                        *f = self.request(Callee::Fn(*f), std::mem::take(targs));
                    }
                }
                ExprKind::ToText(v) => {
                    let ty = v.ty.subst(args);
                    if let Ty::Struct(..) | Ty::Enum(..) = ty {
                        let f = self.items.display[&ty.head()];
                        let inst = self.request(Callee::Fn(f), type_args(&ty));
                        let inner = std::mem::replace(
                            &mut **v,
                            tir::Expr::new(ExprKind::Unreachable, Ty::Never, e.span),
                        );
                        e.kind = ExprKind::Call(inst, Vec::new(), vec![inner]);
                    }
                }
                _ => {}
            }
        });
    }
}

/// The type arguments of a struct or enum type.
fn type_args(ty: &Ty) -> Vec<Ty> {
    match ty {
        Ty::Struct(_, a) | Ty::Enum(_, a) => a.clone(),
        _ => Vec::new(),
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
    let mut work = Worklist {
        items,
        index: HashMap::new(),
        pending: Vec::new(),
        vtable_index: HashMap::new(),
        vtables: Vec::new(),
    };
    for (f, info) in items.fns.iter().enumerate() {
        if info.generics.is_empty() && !info.in_prelude {
            work.request(Callee::Fn(f), Vec::new());
        }
    }
    for g in &mut program.globals {
        if let GlobalDef::Var(init) = &mut g.def {
            work.rewrite(init, &[]);
        }
    }
    let main = work.index[&(Callee::Fn(program.main), Vec::new())];
    let mut instances = Vec::new();
    while instances.len() < work.pending.len() {
        let (callee, args) = work.pending[instances.len()].clone();
        if let Some(deep) = args.iter().find(|t| depth(t) > MAX_TYPE_DEPTH) {
            let f = match callee {
                Callee::Fn(f) | Callee::FnValue(f) => f,
                Callee::Closure(c) => program.closures[c].owner.unwrap_or(program.main),
            };
            let (name, t) = (&items.fns[f].name, items.type_name(deep));
            errors.push(Diagnostic {
                message: format!("`{name}` would be instantiated with ever deeper types (such as `{t}`); a generic function cannot call itself with a bigger type"),
                span: items.fns[f].span,
                note: None,
            });
            return None;
        }
        let mut body = match callee {
            Callee::Fn(f) if args.is_empty() => std::mem::replace(&mut program.bodies[f], placeholder()),
            Callee::Fn(f) => program.bodies[f].clone(),
            Callee::Closure(c) => program.closures[c].body.clone(),
            Callee::FnValue(f) => adapter(items, f, &args),
        };
        for local in &mut body.locals {
            local.ty = local.ty.subst(&args);
        }
        body.ret = body.ret.subst(&args);
        work.rewrite(&mut body.expr, &args);
        instances.push(Instance { callee, args, body });
    }
    Some(Monomorphic { instances, main, vtables: work.vtables })
}

/// The body of function `f` (with `args`) as a function value: a closure without
/// captures whose parameters are `f`'s, calling `f`.
fn adapter(items: &Items, f: usize, args: &[Ty]) -> tir::Body {
    let info = &items.fns[f];
    let span = info.span;
    let locals: Vec<LocalDecl> = info
        .params
        .iter()
        .map(|(name, ty)| LocalDecl { name: name.clone(), ty: ty.subst(args), boxed: false })
        .collect();
    let values = locals
        .iter()
        .enumerate()
        .map(|(i, l)| tir::Expr::new(ExprKind::Local(LocalId(i as u32)), l.ty.clone(), span))
        .collect();
    let ret = info.ret.subst(args);
    // Resolved to an instance by `rewrite`, like any call.
    let expr = tir::Expr::new(ExprKind::Call(f, args.to_vec(), values), ret.clone(), span);
    let n_params = locals.len();
    tir::Body { locals, n_params, closure: Some(0), ret, expr }
}

/// Type arguments nested deeper than this come from polymorphic recursion.
const MAX_TYPE_DEPTH: usize = 32;

fn depth(t: &Ty) -> usize {
    match t {
        Ty::Array(t) => 1 + depth(t),
        Ty::Struct(_, a) | Ty::Enum(_, a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Ty::Fn(p, r) => 1 + p.iter().chain([&**r]).map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// What a function's body is replaced with once its instance owns it.
fn placeholder() -> tir::Body {
    let span = Default::default();
    tir::Body {
        locals: Vec::new(),
        n_params: 0,
        closure: None,
        ret: Ty::Unit,
        expr: tir::Expr::new(ExprKind::Unreachable, Ty::Never, span),
    }
}
