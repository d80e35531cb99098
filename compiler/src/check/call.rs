//! Calls: user functions and methods, built-in functions and methods, natives.

use super::expr::invalid;
use super::Checker;
use crate::sema::types::{Bindings, Bound, Generic, Ty};
use crate::syntax::ast::{self, ExprKind};
use crate::syntax::span::Span;
use crate::tir::{self, Expr, Intrinsic};
use kiln_bytecode::natives::{self, NativeType};

/// The language type of a native's parameter or result type.
fn native_ty(t: NativeType) -> Ty {
    match t {
        NativeType::Int => Ty::Int,
        NativeType::Float => Ty::Float,
        NativeType::Bool => Ty::Bool,
        NativeType::Str => Ty::Str,
        NativeType::StrArray => Ty::Array(Box::new(Ty::Str)),
    }
}

/// One use of a possibly generic item, for [`Checker::infer`].
pub struct Use<'a> {
    /// The item's type parameters.
    pub generics: &'a [Generic],
    /// Its parameter (or field) types, in terms of those parameters.
    pub params: &'a [Ty],
    /// The type the use produces, in terms of those parameters.
    pub result: &'a Ty,
    /// How diagnostics name the item, in backquotes.
    pub what: &'a str,
    /// Where the use is.
    pub span: Span,
}

impl Checker<'_> {
    /// `callee(args)`: a function by name, or a built-in.
    pub fn call(&mut self, callee: &ast::Expr, args: &[ast::Expr], expect: Option<&Ty>, span: Span) -> Expr {
        let name = match &callee.kind {
            ExprKind::Name(name) if self.lookup(name).is_none() && self.global_named(name).is_none() => name,
            _ => {
                let f = self.expr(callee, None);
                return self.call_value(f, args, span);
            }
        };
        if let Some(f) = self.items.fn_named_in(self.file, name) {
            return self.call_user(f, None, args, expect, span);
        }
        if let Some((e, tag)) = self.items.unqualified_variant(name) {
            return self.variant_value(e, tag, args, expect, span);
        }
        self.builtin(name, callee.span, args, span)
    }

    /// `recv.name(args)`: a method, a built-in method, or `Type.f(args)`.
    pub fn method_call(
        &mut self,
        recv: &ast::Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        if let Some(module) = self.module_path(recv) {
            let qualified = format!("{module}.{}", name.name);
            if let Some(&f) = self.items.fn_by_name.get(&qualified) {
                return self.call_user(f, None, args, expect, span);
            }
            self.error(name.span, format!("module `{module}` has no function `{}`", name.name));
            return invalid(Ty::Error, span);
        }
        if let Some(ty) = self.type_path(recv) {
            if let Ty::Enum(e, _) = ty {
                if let Some((tag, _)) = self.items.enums[e].variant(&name.name) {
                    return self.variant_value(e, tag, args, expect, span);
                }
            }
            return match self.items.methods.get(&(ty.clone(), name.name.clone())) {
                Some(&f) => self.call_user(f, None, args, expect, span),
                None => {
                    let t = self.type_name(&ty);
                    self.error(name.span, format!("`{t}` has no function `{}`", name.name));
                    invalid(Ty::Error, span)
                }
            };
        }
        let r = self.expr(recv, None);
        match r.ty.clone() {
            ty @ (Ty::Struct(..) | Ty::Enum(..)) => {
                match self.items.methods.get(&(ty.head(), name.name.clone())).copied() {
                    Some(f) if self.items.fns[f].has_self => self.call_user(f, Some(r), args, expect, span),
                    Some(_) => {
                        let t = self.type_name(&ty.head());
                        let m = &name.name;
                        self.error(name.span, format!("`{t}.{m}` has no `self`; call it as `{t}.{m}(...)`"));
                        invalid(Ty::Error, span)
                    }
                    None => {
                        let t = self.type_name(&ty);
                        let kind = if matches!(ty, Ty::Struct(..)) { "struct" } else { "enum" };
                        self.error(name.span, format!("{kind} `{t}` has no method `{}`", name.name));
                        invalid(Ty::Error, span)
                    }
                }
            }
            Ty::Iface(i) => self.iface_method(i, r, name, args, span, false),
            Ty::Param(k, ref pname) => {
                let bounds = self.generics.get(k as usize).map(|g| g.bounds.clone()).unwrap_or_default();
                let found = bounds.iter().find_map(|b| match b {
                    Bound::Iface(i) => {
                        self.items.interfaces[*i].methods.iter().any(|(n, ..)| *n == name.name).then_some(*i)
                    }
                    _ => None,
                });
                match found {
                    Some(i) => self.iface_method(i, r, name, args, span, true),
                    None => {
                        self.error(
                            name.span,
                            format!("type `{pname}` has no method `{}` (its bounds give none)", name.name),
                        );
                        invalid(Ty::Error, span)
                    }
                }
            }
            Ty::Str => self.str_method(r, name, args, expect, span),
            Ty::Array(elem) => self.array_method(r, &elem, name, args, expect, span),
            Ty::Error => invalid(Ty::Error, span),
            other => {
                let t = self.type_name(&other);
                self.error(name.span, format!("type `{t}` has no method `{}`", name.name));
                invalid(Ty::Error, span)
            }
        }
    }

    /// A call of a function value `f`.
    fn call_value(&mut self, f: Expr, args: &[ast::Expr], span: Span) -> Expr {
        match f.ty.clone() {
            Ty::Fn(params, ret) => {
                let what = format!("this `{}`", self.type_name(&f.ty));
                match self.args(&params, None, args, &what, span) {
                    Some(args) => Expr::new(tir::ExprKind::CallValue(Box::new(f), args), *ret, span),
                    None => invalid(*ret, span),
                }
            }
            Ty::Error => {
                for a in args {
                    self.expr(a, None);
                }
                invalid(Ty::Error, span)
            }
            other => {
                let t = self.type_name(&other);
                self.error(f.span, format!("a value of type `{t}` cannot be called"));
                invalid(Ty::Error, span)
            }
        }
    }

    /// Method `name` of interface `i` on `recv` (an interface value, or with `bound` a
    /// value of a type parameter bounded by the interface).
    fn iface_method(
        &mut self,
        i: usize,
        recv: Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        bound: bool,
    ) -> Expr {
        let it = &self.items.interfaces[i];
        let Some(m) = it.methods.iter().position(|(n, ..)| *n == name.name) else {
            self.error(name.span, format!("interface `{}` has no method `{}`", it.name, name.name));
            return invalid(Ty::Error, span);
        };
        let (_, params, ret) = it.methods[m].clone();
        let what = format!("`{}.{}`", it.name, name.name);
        let mut all = vec![recv.ty.clone()];
        all.extend(params);
        match self.args(&all, Some(recv), args, &what, span) {
            Some(args) if bound => Expr::new(tir::ExprKind::CallBound(i, m as u32, args), ret, span),
            Some(args) => Expr::new(tir::ExprKind::CallIface(i, m as u32, args), ret, span),
            None => invalid(ret, span),
        }
    }

    /// The struct or enum type `e` names, when it is a bare type name (not shadowed by a
    /// local or global): the receiver of `Type.f(...)` and `Enum.Variant`.
    pub fn type_path(&self, e: &ast::Expr) -> Option<Ty> {
        match &e.kind {
            ExprKind::Name(n) if self.lookup(n).is_none() && self.global_named(n).is_none() => {
                self.items.type_named_in(self.file, n)
            }
            // `module.Type`
            ExprKind::Field(m, t) => {
                let module = self.module_path(m)?;
                self.items.type_named(&format!("{module}.{}", t.name))
            }
            _ => None,
        }
    }

    /// The module `e` names, when it is a bare module name (not shadowed).
    pub fn module_path<'e>(&self, e: &'e ast::Expr) -> Option<&'e str> {
        match &e.kind {
            ExprKind::Name(n)
                if self.lookup(n).is_none() && self.global_named(n).is_none() && self.items.is_module(n) =>
            {
                Some(n)
            }
            _ => None,
        }
    }

    /// `Enum.Variant(args)` (and `Enum.Variant` with no payload).
    pub fn variant_value(
        &mut self,
        e: usize,
        tag: u32,
        args: &[ast::Expr],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let items = self.items;
        let en = &items.enums[e];
        let (vname, fields) = &en.variants[tag as usize];
        let what = format!("`{}.{vname}`", en.name);
        let params: Vec<Ty> =
            (0..en.generics.len()).map(|i| Ty::Param(i as u32, en.generics[i].name.clone())).collect();
        let result = Ty::Enum(e, params);
        let u = Use { generics: &en.generics, params: fields, result: &result, what: &what, span };
        let args: Vec<&ast::Expr> = args.iter().collect();
        match self.infer(&u, None, &args, expect) {
            Some((args, targs)) => Expr::new(tir::ExprKind::Variant(e, tag, args), Ty::Enum(e, targs), span),
            None => invalid(Ty::Error, span),
        }
    }

    /// Reports a call with the wrong number of arguments.
    fn arg_count_error(&mut self, span: Span, what: &str, expected: usize, given: usize) {
        let plural = if expected == 1 { "" } else { "s" };
        self.error(span, format!("{what} takes {expected} argument{plural}, but {given} were given"));
    }

    /// Checks `args` against `params`; `first` is an already checked first argument (a
    /// method's receiver). `None` if the count is wrong (reported).
    fn args(
        &mut self,
        params: &[Ty],
        first: Option<Expr>,
        args: &[ast::Expr],
        what: &str,
        span: Span,
    ) -> Option<Vec<Expr>> {
        let use_ = Use { generics: &[], params, result: &Ty::Unit, what, span };
        let args: Vec<&ast::Expr> = args.iter().collect();
        self.infer(&use_, first, &args, None).map(|(args, _)| args)
    }

    /// Checks one use of a possibly generic item: a call, a variant, a struct literal.
    /// Its type parameters become inference variables; the expected type, the receiver
    /// and each argument in turn fix them (an argument is checked against its parameter
    /// type once that no longer mentions an unknown); each must end up known and satisfy
    /// its bounds. Returns the checked arguments and the type arguments, or `None` if
    /// the argument count is wrong (reported).
    pub fn infer(
        &mut self,
        u: &Use<'_>,
        first: Option<Expr>,
        args: &[&ast::Expr],
        expect: Option<&Ty>,
    ) -> Option<(Vec<Expr>, Vec<Ty>)> {
        let n_given = args.len() + usize::from(first.is_some());
        if n_given != u.params.len() {
            let expected = u.params.len() - usize::from(first.is_some());
            self.arg_count_error(u.span, u.what, expected, args.len());
            for a in args {
                self.expr(a, None);
            }
            return None;
        }
        let mut b = Bindings::default();
        let vars = b.fresh(u.generics.len());
        let params: Vec<Ty> = u.params.iter().map(|t| t.subst(&vars)).collect();
        if let Some(want) = expect {
            let mut trial = b.clone();
            if trial.unify(&u.result.subst(&vars), want) {
                b = trial;
            }
        }
        let mut out = Vec::with_capacity(params.len());
        if let Some(r) = first {
            if !b.unify(&params[0], &r.ty) {
                let want = b.apply(&params[0]);
                self.mismatch(r.span, &want, &r.ty);
            }
            out.push(r);
        }
        for (want, a) in params[out.len()..].iter().zip(args) {
            let want = b.apply(want);
            // A closure literal takes what is known of its type (its parameters, say)
            // even while the rest waits on it.
            let partial = matches!(a.kind, ExprKind::Closure(..)) && matches!(want, Ty::Fn(..));
            let hint = (!want.has_var() || partial).then_some(&want);
            let v = self.expr(a, hint);
            let v = if want.has_var() { v } else { self.coerce(v, &want) };
            if !b.unify(&want, &v.ty) {
                let want = b.apply(&want);
                self.mismatch(a.span, &want, &v.ty);
            }
            out.push(v);
        }
        let mut targs: Vec<Ty> = vars.iter().map(|v| b.apply(v)).collect();
        for (g, t) in u.generics.iter().zip(&mut targs) {
            if t.has_var() {
                let msg =
                    format!("cannot infer the type `{}` for {}; annotate the type it has", g.name, u.what);
                self.error(u.span, msg);
                *t = Ty::Error;
                continue;
            }
            for &bound in &g.bounds {
                if !self.satisfies(t, bound) {
                    let (tn, bn) = (self.type_name(t), self.bound_name(bound));
                    let msg = format!(
                        "`{tn}` does not implement `{bn}`, which {} requires of `{}`",
                        u.what, g.name
                    );
                    self.error(u.span, msg);
                }
            }
        }
        Some((out, targs))
    }

    /// Whether `ty` meets `bound` here (a type parameter meets the bounds it declares;
    /// `Ord` includes `Eq`).
    pub fn satisfies(&self, ty: &Ty, bound: Bound) -> bool {
        match (ty, bound) {
            (Ty::Error | Ty::Never, _) => true,
            // `Ord` includes `Eq`; only `int`, `str` and `bool` are `Hash`, and each is
            // also `Eq` and `Display`.
            (Ty::Param(i, _), _) => self.generics.get(*i as usize).is_some_and(|g| {
                g.bounds.contains(&bound)
                    || (bound == Bound::Eq && g.bounds.contains(&Bound::Ord))
                    || (matches!(bound, Bound::Eq | Bound::Display) && g.bounds.contains(&Bound::Hash))
            }),
            (Ty::Struct(..) | Ty::Enum(..), Bound::Iface(i)) => self.items.implements(ty, i),
            (Ty::Iface(j), Bound::Iface(i)) => *j == i,
            (Ty::Struct(..) | Ty::Enum(..), Bound::Display) => self.items.display.contains_key(&ty.head()),

            (t, _) => bound.holds_for(t),
        }
    }

    /// A bound's name as written.
    pub fn bound_name(&self, bound: Bound) -> String {
        match bound {
            Bound::Iface(i) => self.items.interfaces[i].name.clone(),
            b => b.name().to_string(),
        }
    }

    pub fn call_user(
        &mut self,
        f: usize,
        recv: Option<Expr>,
        args: &[ast::Expr],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let items = self.items;
        let info = &items.fns[f];
        let params: Vec<Ty> = info.params.iter().map(|(_, t)| t.clone()).collect();
        let what = format!("`{}`", info.name);
        let u = Use { generics: &info.generics, params: &params, result: &info.ret, what: &what, span };
        let args: Vec<&ast::Expr> = args.iter().collect();
        match self.infer(&u, recv, &args, expect) {
            Some((args, targs)) => {
                let ret = info.ret.subst(&targs);
                Expr::new(tir::ExprKind::Call(f, targs, args), ret, span)
            }
            None => invalid(info.ret.clone(), span),
        }
    }

    /// Calls native `name` with `args` (receiver first when given).
    fn native(
        &mut self,
        name: &'static str,
        recv: Option<Expr>,
        args: &[ast::Expr],
        span: Span,
        what: &str,
    ) -> Expr {
        let (_, decl) = natives::find(name).expect("the compiler only calls declared natives");
        let params: Vec<Ty> = decl.params.iter().map(|t| native_ty(*t)).collect();
        let ret = decl.result.map_or(Ty::Unit, native_ty);
        match self.args(&params, recv, args, what, span) {
            Some(args) => Expr::new(tir::ExprKind::Native(name, args), ret, span),
            None => invalid(Ty::Error, span),
        }
    }

    /// A native that ends the instance: its value never exists.
    fn diverging_native(&mut self, name: &'static str, args: &[ast::Expr], span: Span, what: &str) -> Expr {
        let mut call = self.native(name, None, args, span, what);
        call.ty = Ty::Never;
        call
    }

    /// Built-in free functions (the prelude).
    fn builtin(&mut self, name: &str, name_span: Span, args: &[ast::Expr], span: Span) -> Expr {
        let what = format!("`{name}`");
        let simple: Option<&'static str> = match name {
            "args" => Some("args"),
            "clock_ns" => Some("clock_ns"),
            "from_char_code" => Some("from_char_code"),
            "sqrt" => Some("sqrt"),
            "floor" => Some("floor"),
            "ceil" => Some("ceil"),
            "round" => Some("round"),
            "sin" => Some("sin"),
            "cos" => Some("cos"),
            "exp" => Some("exp"),
            "ln" => Some("ln"),
            "pow" => Some("pow"),
            // For the standard library's `fs`, `env` and `io`.
            "__fs_read_text" => Some("fs_read_text"),
            "__fs_write_text" => Some("fs_write_text"),
            "__fs_list" => Some("fs_list"),
            "__env_get" => Some("env_get"),
            "__io_read_line" => Some("io_read_line"),
            _ => None,
        };
        if let Some(native) = simple {
            return self.native(native, None, args, span, &what);
        }
        match name {
            "print" | "println" | "eprint" | "eprintln" => {
                let native: &'static str = match name {
                    "print" => "print",
                    "println" => "println",
                    "eprint" => "eprint",
                    _ => "eprintln",
                };
                let arg = match args {
                    [] if name.ends_with("ln") => None,
                    [arg] => {
                        let v = self.expr(arg, None);
                        Some(Box::new(self.text(v, arg.span)))
                    }
                    _ => {
                        self.arg_count_error(span, &what, 1, args.len());
                        return invalid(Ty::Unit, span);
                    }
                };
                Expr::new(tir::ExprKind::Print(native, arg), Ty::Unit, span)
            }
            "panic" => self.diverging_native("panic", args, span, &what),
            // For the prelude's `Map`.
            "__missing_key" => self.diverging_native("missing_key", args, span, &what),
            "__map_modified" => self.diverging_native("map_modified", args, span, &what),
            "__hash" if args.len() == 1 => {
                let v = self.expr(&args[0], None);
                if !self.satisfies(&v.ty, Bound::Hash) {
                    let t = self.type_name(&v.ty);
                    self.error(
                        args[0].span,
                        format!("`{t}` cannot be hashed (map keys are `int`, `str` or `bool`)"),
                    );
                }
                Expr::new(tir::ExprKind::HashOf(Box::new(v)), Ty::Int, span)
            }
            "exit" => self.diverging_native("exit", args, span, &what),
            "same" if args.len() == 2 => {
                // An interface value and an object of an implementing type compare
                // as the interface.
                let first = self.expr(&args[0], None);
                let second = self.expr(&args[1], Some(&first.ty));
                let (a, b) = match (&first.ty, &second.ty) {
                    (Ty::Iface(_), Ty::Struct(..) | Ty::Enum(..)) => {
                        let want = first.ty.clone();
                        (first, self.coerce(second, &want))
                    }
                    (Ty::Struct(..) | Ty::Enum(..), Ty::Iface(_)) => {
                        let want = second.ty.clone();
                        (self.coerce(first, &want), second)
                    }
                    _ => (first, second),
                };
                if let Some(e) = [&a, &b].into_iter().find(|e| matches!(e.ty, Ty::Unit | Ty::Never)) {
                    self.error(e.span, "`same` needs values; this expression has none".to_string());
                    return invalid(Ty::Bool, span);
                }
                if a.ty == Ty::Error || b.ty == Ty::Error {
                    return invalid(Ty::Bool, span);
                }
                if !a.ty.fits(&b.ty) || !b.ty.fits(&a.ty) {
                    let (ta, tb) = (self.type_name(&a.ty), self.type_name(&b.ty));
                    self.error(
                        span,
                        format!("`same` compares two values of one type, not `{ta}` and `{tb}`"),
                    );
                    return invalid(Ty::Bool, span);
                }
                Expr::new(tir::ExprKind::Same(Box::new(a), Box::new(b)), Ty::Bool, span)
            }
            "assert" if args.len() == 2 => self.native("assert_msg", None, args, span, &what),
            "assert" => self.native("assert", None, args, span, &what),
            "abs" | "min" | "max" => {
                // Overloaded on int and float: the first argument decides.
                let Some(first) = args.first() else {
                    self.error(span, format!("{what} needs arguments"));
                    return invalid(Ty::Error, span);
                };
                let v = self.expr(first, None);
                let native: &'static str = match (name, &v.ty) {
                    ("abs", Ty::Int) => "abs_int",
                    ("abs", Ty::Float) => "abs_float",
                    ("min", Ty::Int) => "min_int",
                    ("min", Ty::Float) => "min_float",
                    ("max", Ty::Int) => "max_int",
                    ("max", Ty::Float) => "max_float",
                    (_, Ty::Error) => return invalid(Ty::Error, span),
                    (_, t) => {
                        let t = self.type_name(t);
                        self.error(first.span, format!("{what} works on `int` or `float`, not `{t}`"));
                        return invalid(Ty::Error, span);
                    }
                };
                self.native(native, Some(v), &args[1..], span, &what)
            }
            _ => {
                self.error(name_span, format!("cannot find function `{name}`"));
                for a in args {
                    self.expr(a, None);
                }
                invalid(Ty::Error, span)
            }
        }
    }

    /// A built-in method whose Kiln side is prelude function `func`.
    fn prelude_method(
        &mut self,
        func: &str,
        recv: Expr,
        args: &[ast::Expr],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let f = self.items.fn_by_name[func];
        self.call_user(f, Some(recv), args, expect, span)
    }

    fn str_method(
        &mut self,
        s: Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let what = format!("`str.{}`", name.name);
        let native: &'static str = match name.name.as_str() {
            "len" => {
                if !args.is_empty() {
                    self.arg_count_error(span, &what, 0, args.len());
                }
                return Expr::new(tir::ExprKind::Intrinsic(Intrinsic::StrLen, vec![s]), Ty::Int, span);
            }
            "slice" => "str_slice",
            "byte_at" => "str_byte_at",
            "contains" => "str_contains",
            "starts_with" => "str_starts_with",
            "ends_with" => "str_ends_with",
            "split" => "str_split",
            "trim" => "str_trim",
            "find" | "parse_int" | "parse_float" => {
                return self.prelude_method(&format!("__str_{}", name.name), s, args, expect, span);
            }
            // The natives behind them, for the prelude.
            "__find_index" => "str_find",
            "__is_int" => "str_is_int",
            "__to_int" => "str_to_int",
            "__is_float" => "str_is_float",
            "__to_float" => "str_to_float",
            other => {
                self.error(name.span, format!("type `str` has no method `{other}`"));
                return invalid(Ty::Error, span);
            }
        };
        self.native(native, Some(s), args, span, &what)
    }

    fn array_method(
        &mut self,
        arr: Expr,
        elem: &Ty,
        name: &ast::Ident,
        args: &[ast::Expr],
        expect: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let what = format!("`[T].{}`", name.name);
        if name.name == "pop" {
            return self.prelude_method("__array_pop", arr, args, expect, span);
        }
        if name.name == "sort_by" {
            return self.prelude_method("__array_sort_by", arr, args, expect, span);
        }
        let (op, params, ret) = match name.name.as_str() {
            "len" => (Intrinsic::ArrayLen, vec![], Ty::Int),
            "sort" => (Intrinsic::ArraySort, vec![], Ty::Unit),
            "push" => (Intrinsic::ArrayPush, vec![elem.clone()], Ty::Unit),
            "remove" => (Intrinsic::ArrayRemove, vec![Ty::Int], elem.clone()),
            "insert" => (Intrinsic::ArrayInsert, vec![Ty::Int, elem.clone()], Ty::Unit),
            other => {
                let t = self.type_name(&arr.ty);
                self.error(name.span, format!("type `{t}` has no method `{other}`"));
                return invalid(Ty::Error, span);
            }
        };
        if args.len() != params.len() {
            self.arg_count_error(span, &what, params.len(), args.len());
            return invalid(Ty::Error, span);
        }
        let mut operands = vec![arr];
        for (a, want) in args.iter().zip(&params) {
            let v = self.expr(a, Some(want));
            operands.push(self.fit(v, want));
        }
        if op == Intrinsic::ArraySort && !matches!(elem, Ty::Int | Ty::Float | Ty::Str | Ty::Error) {
            let t = self.type_name(elem);
            self.error(name.span, format!("`sort` needs `int`, `float` or `str` elements, not `{t}`"));
        }
        Expr::new(tir::ExprKind::Intrinsic(op, operands), ret, span)
    }
}
