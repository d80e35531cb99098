//! Calls: user functions and methods, built-in functions and methods, natives.

use super::func::{FnLowerer, Val};
use crate::sema::types::Ty;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use kiln_bytecode::*;

impl FnLowerer<'_, '_> {
    /// `callee(args)`: a function by name, or `Type.f(args)`.
    pub fn call(&mut self, callee: &Expr, args: &[Expr], span: Span, dst: Option<Reg>) -> Val {
        let ExprKind::Name(name) = &callee.kind else {
            self.cx.error(callee.span, "only named functions can be called");
            return Val::error();
        };
        if self.lookup(name).is_some() {
            self.cx.error(callee.span, format!("`{name}` is a variable, not a function"));
            return Val::error();
        }
        if let Some(&f) = self.cx.items.fn_by_name.get(name) {
            return self.call_user(f, None, args, span, dst);
        }
        self.builtin(name, callee.span, args, span, dst)
    }

    /// `recv.name(args)`: a method, a built-in method, or `Type.f(args)`.
    pub fn method_call(
        &mut self,
        recv: &Expr,
        name: &Ident,
        args: &[Expr],
        span: Span,
        dst: Option<Reg>,
    ) -> Val {
        if let ExprKind::Name(type_name) = &recv.kind {
            if self.lookup(type_name).is_none() && self.global(type_name).is_none() {
                if let Some(&sid) = self.cx.items.struct_by_name.get(type_name) {
                    return match self.cx.items.methods.get(&(sid, name.name.clone())) {
                        Some(&f) => self.call_user(f, None, args, span, dst),
                        None => {
                            self.cx
                                .error(name.span, format!("`{type_name}` has no function `{}`", name.name));
                            Val::error()
                        }
                    };
                }
            }
        }
        let r = self.expr(recv, None, None);
        match r.ty.clone() {
            Ty::Struct(sid) => match self.cx.items.methods.get(&(sid, name.name.clone())).copied() {
                Some(f) if self.cx.items.fns[f].has_self => self.call_user(f, Some(r), args, span, dst),
                Some(_) => {
                    let sname = &self.cx.items.structs[sid].name;
                    self.cx.error(
                        name.span,
                        format!(
                            "`{sname}.{}` has no `self`; call it as `{sname}.{}(...)`",
                            name.name, name.name
                        ),
                    );
                    Val::error()
                }
                None => {
                    let sname = self.cx.items.structs[sid].name.clone();
                    self.cx.error(name.span, format!("struct `{sname}` has no method `{}`", name.name));
                    Val::error()
                }
            },
            Ty::Str => self.str_method(r, name, args, span, dst),
            Ty::Array(elem) => self.array_method(r, &elem, name, args, span, dst),
            Ty::Error => Val::error(),
            other => {
                let t = self.cx.items.type_name(&other);
                self.cx.error(name.span, format!("type `{t}` has no method `{}`", name.name));
                Val::error()
            }
        }
    }

    /// Lowers `args` into a fresh window of registers typed `params`; `first` is an
    /// already lowered first argument (a method's receiver). Returns the window base.
    fn arg_window(
        &mut self,
        params: &[Ty],
        first: Option<Val>,
        args: &[Expr],
        what: &str,
        span: Span,
    ) -> Option<Reg> {
        let n_given = args.len() + usize::from(first.is_some());
        if n_given != params.len() {
            let expected = params.len() - usize::from(first.is_some());
            self.arg_count_error(span, what, expected, args.len());
            for a in args {
                self.discard(a);
            }
            if let Some(f) = first {
                self.release(&f);
            }
            return None;
        }
        let base = self.top();
        let window: Vec<Option<Reg>> =
            params.iter().map(|t| self.cx.b.val_type(t).map(|vt| self.fresh(vt))).collect();
        let mut slots = window.iter().zip(params);
        if let Some(f) = first {
            let (slot, _) = slots.next().expect("receiver slot");
            self.finish_val(f, *slot);
        }
        for ((slot, want), a) in slots.zip(args) {
            let v = self.expr(a, Some(want), *slot);
            if !v.ty.fits(want) {
                self.cx.mismatch(a.span, want, &v.ty);
            }
        }
        for r in window.into_iter().flatten() {
            self.release_reg(r);
        }
        Some(base)
    }

    fn call_user(&mut self, f: usize, recv: Option<Val>, args: &[Expr], span: Span, dst: Option<Reg>) -> Val {
        let items = self.cx.items;
        let info = &items.fns[f];
        let params: Vec<Ty> = info.params.iter().map(|(_, t)| t.clone()).collect();
        let what = format!("`{}`", info.name);
        let Some(base) = self.arg_window(&params, recv, args, &what, span) else {
            return Val::none(info.ret.clone());
        };
        let ret = info.ret.clone();
        let reg = self.target(&ret, dst);
        self.pos = span;
        self.emit(Instr::Call { dst: reg.unwrap_or_default(), func: FuncIdx(f as u32), args: base });
        self.val(ret, reg, dst)
    }

    /// Calls native `name` with `args` (receiver first when given).
    fn native(
        &mut self,
        name: &'static str,
        recv: Option<Val>,
        args: &[Expr],
        span: Span,
        dst: Option<Reg>,
        what: &str,
    ) -> Val {
        let (import, sig) = self.cx.b.import(name);
        let params: Vec<Ty> = sig.params.iter().map(|vt| self.ty_of(*vt)).collect();
        let Some(base) = self.arg_window(&params, recv, args, what, span) else {
            return Val::error();
        };
        let ret = sig.result.map_or(Ty::Unit, |vt| self.ty_of(vt));
        let reg = self.target(&ret, dst);
        self.pos = span;
        self.emit(Instr::CallNative {
            dst: reg.unwrap_or_default(),
            import,
            args: if params.is_empty() { Reg(0) } else { base },
        });
        self.val(ret, reg, dst)
    }

    /// The language type of a native's register type.
    fn ty_of(&self, vt: ValType) -> Ty {
        match vt {
            ValType::Int => Ty::Int,
            ValType::Float => Ty::Float,
            ValType::Bool => Ty::Bool,
            ValType::Str => Ty::Str,
            ValType::Ref(_) => Ty::Array(Box::new(Ty::Str)),
        }
    }

    /// Built-in free functions (the prelude).
    fn builtin(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span, dst: Option<Reg>) -> Val {
        let what = format!("`{name}`");
        match name {
            "print" | "println" | "eprint" | "eprintln" => {
                let native: &'static str = match name {
                    "print" => "print",
                    "println" => "println",
                    "eprint" => "eprint",
                    _ => "eprintln",
                };
                // The text goes straight into the native's one-register argument window.
                let slot = self.fresh(ValType::Str);
                match args {
                    [] if name.ends_with("ln") => {
                        self.load_const(&crate::sema::consts::ConstVal::Str(String::new()), Some(slot));
                    }
                    [arg] => {
                        let v = self.expr(arg, None, None);
                        self.text_of(v, arg.span, slot);
                    }
                    _ => {
                        self.arg_count_error(span, &what, 1, args.len());
                        return Val::none(Ty::Unit);
                    }
                }
                let (import, _) = self.cx.b.import(native);
                self.pos = span;
                self.emit(Instr::CallNative { dst: Reg(0), import, args: slot });
                self.release_reg(slot);
                Val::none(Ty::Unit)
            }
            "panic" => {
                self.native("panic", None, args, span, None, &what);
                self.emit(Instr::Unreachable {});
                Val::none(Ty::Never)
            }
            "exit" => {
                self.native("exit", None, args, span, None, &what);
                self.emit(Instr::Unreachable {});
                Val::none(Ty::Never)
            }
            "assert" if args.len() == 2 => {
                self.native("assert_msg", None, args, span, None, &what);
                Val::none(Ty::Unit)
            }
            "assert" => {
                self.native("assert", None, args, span, None, &what);
                Val::none(Ty::Unit)
            }
            "args" => self.native("args", None, args, span, dst, &what),
            "clock_ns" => self.native("clock_ns", None, args, span, dst, &what),
            "from_char_code" => self.native("from_char_code", None, args, span, dst, &what),
            "sqrt" => self.native("sqrt", None, args, span, dst, &what),
            "floor" => self.native("floor", None, args, span, dst, &what),
            "ceil" => self.native("ceil", None, args, span, dst, &what),
            "round" => self.native("round", None, args, span, dst, &what),
            "sin" => self.native("sin", None, args, span, dst, &what),
            "cos" => self.native("cos", None, args, span, dst, &what),
            "exp" => self.native("exp", None, args, span, dst, &what),
            "ln" => self.native("ln", None, args, span, dst, &what),
            "pow" => self.native("pow", None, args, span, dst, &what),
            "abs" | "min" | "max" => {
                // Overloaded on int and float: the first argument decides.
                let Some(first) = args.first() else {
                    self.cx.error(span, format!("{what} needs arguments"));
                    return Val::error();
                };
                let v = self.expr(first, None, None);
                let native: &'static str = match (name, &v.ty) {
                    ("abs", Ty::Int) => "abs_int",
                    ("abs", Ty::Float) => "abs_float",
                    ("min", Ty::Int) => "min_int",
                    ("min", Ty::Float) => "min_float",
                    ("max", Ty::Int) => "max_int",
                    ("max", Ty::Float) => "max_float",
                    (_, Ty::Error) => return Val::error(),
                    (_, t) => {
                        let t = self.cx.items.type_name(t);
                        self.cx.error(first.span, format!("{what} works on `int` or `float`, not `{t}`"));
                        self.release(&v);
                        return Val::error();
                    }
                };
                self.native(native, Some(v), &args[1..], span, dst, &what)
            }
            _ => {
                self.cx.error(name_span, format!("cannot find function `{name}`"));
                for a in args {
                    self.discard(a);
                }
                Val::error()
            }
        }
    }

    fn str_method(&mut self, s: Val, name: &Ident, args: &[Expr], span: Span, dst: Option<Reg>) -> Val {
        let what = format!("`str.{}`", name.name);
        let native: &'static str = match name.name.as_str() {
            "len" => {
                if !args.is_empty() {
                    self.arg_count_error(span, &what, 0, args.len());
                }
                self.release(&s);
                return self.emit_value(Ty::Int, dst, |d| Instr::StrLen { dst: d, src: s.r() });
            }
            "slice" => "str_slice",
            "byte_at" => "str_byte_at",
            "contains" => "str_contains",
            "starts_with" => "str_starts_with",
            "ends_with" => "str_ends_with",
            "split" => "str_split",
            "trim" => "str_trim",
            other => {
                self.cx.error(name.span, format!("type `str` has no method `{other}`"));
                self.release(&s);
                return Val::error();
            }
        };
        self.native(native, Some(s), args, span, dst, &what)
    }

    fn array_method(
        &mut self,
        arr: Val,
        elem: &Ty,
        name: &Ident,
        args: &[Expr],
        span: Span,
        dst: Option<Reg>,
    ) -> Val {
        let what = format!("`[T].{}`", name.name);
        let expected = match name.name.as_str() {
            "len" | "sort" => 0,
            "push" | "remove" => 1,
            "insert" => 2,
            other => {
                let t = self.cx.items.type_name(&arr.ty);
                self.cx.error(name.span, format!("type `{t}` has no method `{other}`"));
                self.release(&arr);
                return Val::error();
            }
        };
        if args.len() != expected {
            self.arg_count_error(span, &what, expected, args.len());
            self.release(&arr);
            return Val::error();
        }
        let mut lowered = Vec::new();
        let wants: Vec<Ty> = match name.name.as_str() {
            "push" => vec![elem.clone()],
            "remove" => vec![Ty::Int],
            "insert" => vec![Ty::Int, elem.clone()],
            _ => vec![],
        };
        let all_args: Vec<&Expr> = args.iter().collect();
        let arr = self.protect(arr, &all_args);
        for (k, (a, want)) in args.iter().zip(&wants).enumerate() {
            let v = self.expr(a, Some(want), None);
            if !v.ty.fits(want) {
                self.cx.mismatch(a.span, want, &v.ty);
            }
            let v = self.protect(v, &all_args[k + 1..]);
            lowered.push(v);
        }
        let a = arr.r();
        let arg = |i: usize| lowered[i].r();
        self.pos = span;
        let result = match name.name.as_str() {
            "len" => self.emit_value(Ty::Int, dst, |d| Instr::ArrayLen { dst: d, arr: a }),
            "push" => {
                self.emit(Instr::ArrayPush { arr: a, src: arg(0) });
                Val::none(Ty::Unit)
            }
            "insert" => {
                self.emit(Instr::ArrayInsert { arr: a, idx: arg(0), src: arg(1) });
                Val::none(Ty::Unit)
            }
            "remove" => {
                self.emit_value(elem.clone(), dst, |d| Instr::ArrayRemove { dst: d, arr: a, idx: arg(0) })
            }
            _ => {
                if !matches!(elem, Ty::Int | Ty::Float | Ty::Str | Ty::Error) {
                    let t = self.cx.items.type_name(elem);
                    self.cx.error(
                        name.span,
                        format!("`sort` needs `int`, `float` or `str` elements, not `{t}`"),
                    );
                } else {
                    self.emit(Instr::ArraySort { arr: a });
                }
                Val::none(Ty::Unit)
            }
        };
        for v in &lowered {
            self.release(v);
        }
        self.release(&arr);
        result
    }
}
