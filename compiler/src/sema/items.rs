//! Declarations: structs, functions, methods and globals, collected before any body is
//! checked, so items may be used before they are declared.

use super::types::{Bound, Generic, Ty};
use crate::diag::Diagnostic;
use crate::modules::ModuleMap;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use std::collections::HashMap;

/// A struct declaration, resolved.
#[derive(Debug)]
pub struct StructInfo {
    /// Name.
    pub name: String,
    /// Type parameters (field types mention them as `Ty::Param`).
    pub generics: Vec<Generic>,
    /// Fields and their types.
    pub fields: Vec<(String, Ty)>,
    /// Where it was declared.
    pub span: Span,
}

/// An enum declaration, resolved.
#[derive(Debug)]
pub struct EnumInfo {
    /// Name.
    pub name: String,
    /// Type parameters (payload types mention them as `Ty::Param`).
    pub generics: Vec<Generic>,
    /// Variants in order (a variant's tag is its position): name and payload types.
    pub variants: Vec<(String, Vec<Ty>)>,
    /// Where it was declared.
    pub span: Span,
}

impl EnumInfo {
    /// The variant named `name`: (tag, payload types).
    pub fn variant(&self, name: &str) -> Option<(u32, &[Ty])> {
        let i = self.variants.iter().position(|(n, _)| n == name)?;
        Some((i as u32, &self.variants[i].1))
    }
}

/// An interface, resolved.
#[derive(Debug)]
pub struct IfaceInfo {
    /// Name.
    pub name: String,
    /// Its methods: name, parameter types after `self`, result type.
    pub methods: Vec<(String, Vec<Ty>, Ty)>,
    /// Where it was declared.
    pub span: Span,
}

/// A function or method signature, resolved.
#[derive(Debug)]
pub struct FnInfo {
    /// Name in traces: `f` or `Type.method`.
    pub name: String,
    /// Type parameters: an impl's first, then the function's own.
    pub generics: Vec<Generic>,
    /// Parameter names and types, `self` first for methods.
    pub params: Vec<(String, Ty)>,
    /// The type the function belongs to, for methods and static functions.
    pub owner: Option<Ty>,
    /// Whether the first parameter is `self`.
    pub has_self: bool,
    /// Result type (`Ty::Unit` if none).
    pub ret: Ty,
    /// The declaration: (item index, method index within an impl).
    pub decl: (usize, Option<usize>),
    /// Where the name was declared.
    pub span: Span,
    /// Whether it is the prelude's (compiled only if used).
    pub in_prelude: bool,
    /// For an `extern fn`, the name the host provides it under (as declared, without a
    /// module prefix).
    pub external: Option<String>,
}

/// A module-level global.
#[derive(Debug)]
pub struct GlobalInfo {
    /// Name.
    pub name: String,
    /// Whether it is a `const`.
    pub is_const: bool,
    /// Item index of the declaration.
    pub decl: usize,
}

/// Every declaration of the program.
#[derive(Debug, Default)]
pub struct Items {
    /// Structs in declaration order (their bytecode type index is their position).
    pub structs: Vec<StructInfo>,
    /// Struct index by name.
    pub struct_by_name: HashMap<String, usize>,
    /// Enums in declaration order.
    pub enums: Vec<EnumInfo>,
    /// Enum index by name.
    pub enum_by_name: HashMap<String, usize>,
    /// Interfaces in declaration order.
    pub interfaces: Vec<IfaceInfo>,
    /// Interface index by name.
    pub iface_by_name: HashMap<String, usize>,
    /// Implementations: (interface, type without arguments) to the function of each
    /// method, in the interface's order.
    pub impls: HashMap<(usize, Ty), Vec<usize>>,
    /// `impl Display for T`: T (without arguments) to its `to_str`.
    pub display: HashMap<Ty, usize>,
    /// Functions, then methods, in declaration order (bytecode function index).
    pub fns: Vec<FnInfo>,
    /// Free function index by name.
    pub fn_by_name: HashMap<String, usize>,
    /// Method or static function by (owner type, name).
    pub methods: HashMap<(Ty, String), usize>,
    /// Globals in declaration order.
    pub globals: Vec<GlobalInfo>,
    /// Global index by name.
    pub global_by_name: HashMap<String, usize>,
    /// How many of the items passed to [`Items::collect`] are the prelude's.
    pub n_prelude_items: usize,
    /// Which module each file is.
    pub modules: ModuleMap,
}

const BUILTIN_TYPES: &[&str] = &["int", "float", "bool", "str"];

fn error(errors: &mut Vec<Diagnostic>, span: Span, message: impl Into<String>) {
    errors.push(Diagnostic { message: message.into(), span, note: None });
}

impl Items {
    /// Collects the declarations of `items`, reporting duplicates and unknown types.
    pub fn collect(
        items: &[Item],
        n_prelude_items: usize,
        modules: ModuleMap,
        errors: &mut Vec<Diagnostic>,
    ) -> Items {
        let mut out = Items { n_prelude_items, modules, ..Items::default() };
        for item in items {
            let name = match item {
                Item::Struct(s) => &s.name,
                Item::Enum(e) => &e.name,
                Item::Interface(i) => &i.name,
                _ => continue,
            };
            if BUILTIN_TYPES.contains(&name.name.as_str()) || out.type_named(&name.name).is_some() {
                error(errors, name.span, format!("type `{}` is defined more than once", name.name));
                continue;
            }
            match item {
                Item::Struct(st) => {
                    let generics = out.generics(&[], &st.generics, errors);
                    out.struct_by_name.insert(name.name.clone(), out.structs.len());
                    out.structs.push(StructInfo {
                        name: name.name.clone(),
                        generics,
                        fields: Vec::new(),
                        span: name.span,
                    });
                }
                Item::Enum(en) => {
                    let generics = out.generics(&[], &en.generics, errors);
                    out.enum_by_name.insert(name.name.clone(), out.enums.len());
                    out.enums.push(EnumInfo {
                        name: name.name.clone(),
                        generics,
                        variants: Vec::new(),
                        span: name.span,
                    });
                }
                Item::Interface(_) => {
                    out.iface_by_name.insert(name.name.clone(), out.interfaces.len());
                    out.interfaces.push(IfaceInfo {
                        name: name.name.clone(),
                        methods: Vec::new(),
                        span: name.span,
                    });
                }
                _ => unreachable!("only types are named here"),
            }
        }
        for item in items {
            let Item::Interface(it) = item else { continue };
            let Some(&id) = out.iface_by_name.get(&it.name.name) else { continue };
            if out.interfaces[id].span != it.name.span {
                continue;
            }
            let mut methods: Vec<(String, Vec<Ty>, Ty)> = Vec::new();
            for m in &it.methods {
                if methods.iter().any(|(n, ..)| *n == m.name.name) {
                    error(errors, m.name.span, format!("method `{}` is declared twice", m.name.name));
                    continue;
                }
                let params = m.params.iter().map(|(_, t)| out.resolve_type(t, &[], errors)).collect();
                let ret = m.ret.as_ref().map_or(Ty::Unit, |t| out.resolve_type(t, &[], errors));
                methods.push((m.name.name.clone(), params, ret));
            }
            out.interfaces[id].methods = methods;
        }
        for item in items {
            let Item::Enum(e) = item else { continue };
            let Some(&id) = out.enum_by_name.get(&e.name.name) else { continue };
            if out.enums[id].span != e.name.span {
                continue;
            }
            let mut variants: Vec<(String, Vec<Ty>)> = Vec::new();
            for (vname, fields) in &e.variants {
                if variants.iter().any(|(n, _)| *n == vname.name) {
                    error(errors, vname.span, format!("variant `{}` is declared twice", vname.name));
                    continue;
                }
                let scope = out.enums[id].generics.clone();
                let fields = fields.iter().map(|t| out.resolve_type(t, &scope, errors)).collect();
                variants.push((vname.name.clone(), fields));
            }
            if variants.is_empty() {
                error(errors, e.name.span, format!("enum `{}` has no variants", e.name.name));
            }
            out.enums[id].variants = variants;
        }
        for item in items {
            if let Item::Struct(s) = item {
                let Some(&id) = out.struct_by_name.get(&s.name.name) else {
                    continue;
                };
                if out.structs[id].span != s.name.span {
                    continue;
                }
                let mut fields: Vec<(String, Ty)> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for (name, ty) in &s.fields {
                    if !seen.insert(name.name.as_str()) {
                        error(errors, name.span, format!("field `{}` is declared twice", name.name));
                    }
                    let scope = out.structs[id].generics.clone();
                    let ty = out.resolve_type(ty, &scope, errors);
                    fields.push((name.name.clone(), ty));
                }
                out.structs[id].fields = fields;
            }
        }
        out.check_struct_cycles(errors);
        for (i, item) in items.iter().enumerate() {
            match item {
                Item::Fn(f) => {
                    if out.fn_by_name.contains_key(&f.name.name) {
                        error(
                            errors,
                            f.name.span,
                            format!("function `{}` is defined more than once", f.name.name),
                        );
                        continue;
                    }
                    let info = out.fn_info(f, None, &[], (i, None), errors);
                    // One host function per name: two modules declaring it must agree.
                    if let Some(host) = &info.external {
                        let clash = out.fns.iter().find(|g| {
                            g.external.as_ref() == Some(host)
                                && (g.params.iter().map(|p| &p.1).ne(info.params.iter().map(|p| &p.1))
                                    || g.ret != info.ret)
                        });
                        if clash.is_some() {
                            error(
                                errors,
                                f.name.span,
                                format!(
                                    "host function `{host}` is declared elsewhere with another signature"
                                ),
                            );
                        }
                    }
                    out.fn_by_name.insert(f.name.name.clone(), out.fns.len());
                    out.fns.push(info);
                }
                Item::Impl(imp) => {
                    let Some(owner) = out.impl_owner(imp, errors) else { continue };
                    let impl_generics = out.generics(&[], &imp.generics, errors);
                    for (m, f) in imp.methods.iter().enumerate() {
                        // A method may share a field's name: `p.len` and `p.len()` differ.
                        let key = (owner.head(), f.name.name.clone());
                        if out.methods.contains_key(&key) {
                            error(
                                errors,
                                f.name.span,
                                format!("`{}.{}` is defined more than once", imp.ty.name, f.name.name),
                            );
                            continue;
                        }
                        let info = out.fn_info(f, Some(owner.clone()), &impl_generics, (i, Some(m)), errors);
                        out.methods.insert(key, out.fns.len());
                        out.fns.push(info);
                    }
                    if let Some(iface) = &imp.iface {
                        out.record_impl(iface, &owner, imp, errors);
                    }
                }
                Item::Global(g) => {
                    let taken = out.global_by_name.contains_key(&g.name.name);
                    if taken {
                        error(
                            errors,
                            g.name.span,
                            format!("global `{}` is defined more than once", g.name.name),
                        );
                        continue;
                    }
                    out.global_by_name.insert(g.name.name.clone(), out.globals.len());
                    out.globals.push(GlobalInfo { name: g.name.name.clone(), is_const: g.is_const, decl: i });
                }
                Item::Struct(_) | Item::Enum(_) | Item::Interface(_) | Item::Import(_) => {}
            }
        }
        out
    }

    fn fn_info(
        &self,
        f: &FnDecl,
        owner: Option<Ty>,
        impl_generics: &[Generic],
        decl: (usize, Option<usize>),
        errors: &mut Vec<Diagnostic>,
    ) -> FnInfo {
        let generics = self.generics(impl_generics, &f.generics, errors);
        let mut params = Vec::new();
        if f.has_self {
            // `self` outside an `impl` was already reported by the parser.
            params.push(("self".to_string(), owner.clone().unwrap_or(Ty::Error)));
        }
        for (name, ty) in &f.params {
            if params.iter().any(|(n, _)| *n == name.name) {
                error(errors, name.span, format!("parameter `{}` is declared twice", name.name));
            }
            params.push((name.name.clone(), self.resolve_type(ty, &generics, errors)));
        }
        let ret = f.ret.as_ref().map_or(Ty::Unit, |t| self.resolve_type(t, &generics, errors));
        let in_prelude = decl.0 < self.n_prelude_items;
        let name = match (&owner, f.name.name.strip_prefix("__")) {
            (Some(o), _) => format!("{}.{}", self.type_name(&o.head()), f.name.name),
            // A built-in method's Kiln side: hidden in traces like other runtime frames.
            (None, Some(method)) if in_prelude => format!("<{method}>"),
            (None, _) => f.name.name.clone(),
        };
        let external = f.external.then(|| {
            let host_type = |t: &Ty| matches!(t, Ty::Int | Ty::Float | Ty::Bool | Ty::Str | Ty::Error);
            if !generics.is_empty() {
                error(errors, f.name.span, "an `extern fn` cannot have type parameters".to_string());
            }
            if !params.iter().all(|(_, t)| host_type(t)) || !(host_type(&ret) || ret == Ty::Unit) {
                error(
                    errors,
                    f.name.span,
                    format!("`extern fn {}` may only take and return int, float, bool or str", f.name.name),
                );
            }
            let prefix = self.modules.prefixes.get(f.name.span.file as usize).map_or("", String::as_str);
            f.name.name.strip_prefix(prefix).unwrap_or(&f.name.name).to_string()
        });
        FnInfo {
            name,
            generics,
            params,
            owner,
            has_self: f.has_self,
            ret,
            decl,
            span: f.name.span,
            in_prelude,
            external,
        }
    }

    /// Records `impl iface for owner`: every method of the interface, with its
    /// signature, among the impl's methods.
    fn record_impl(&mut self, iface: &Ident, owner: &Ty, imp: &ImplDecl, errors: &mut Vec<Diagnostic>) {
        let tname = self.type_name(&owner.head());
        let required: Vec<(String, Vec<Ty>, Ty)> = if iface.name == "Display" {
            vec![("to_str".to_string(), Vec::new(), Ty::Str)]
        } else if let Some(i) = self.iface_named_in(iface.span.file, &iface.name) {
            self.interfaces[i].methods.clone()
        } else {
            error(errors, iface.span, format!("cannot find interface `{}`", iface.name));
            return;
        };
        let mut fns = Vec::new();
        for (name, params, ret) in &required {
            let Some(&f) = self.methods.get(&(owner.head(), name.clone())) else {
                error(
                    errors,
                    imp.ty.span,
                    format!("`{tname}` does not implement `{name}` of `{}`", iface.name),
                );
                return;
            };
            let info = &self.fns[f];
            let given: Vec<&Ty> = info.params.iter().skip(1).map(|(_, t)| t).collect();
            let fits = info.has_self
                && given.len() == params.len()
                && given.iter().zip(params).all(|(a, b)| **a == *b)
                && info.ret == *ret;
            if !fits {
                let ps: Vec<String> = params.iter().map(|t| self.type_name(t)).collect();
                let r = self.type_name(ret);
                let msg = format!(
                    "`{tname}.{name}` must be `fn {name}(self{}{}) -> {r}` to implement `{}`",
                    if ps.is_empty() { "" } else { ", " },
                    ps.join(", "),
                    iface.name
                );
                error(errors, info.span, msg);
                return;
            }
            fns.push(f);
        }
        if iface.name == "Display" {
            self.display.insert(owner.head(), fns[0]);
        } else if let Some(i) = self.iface_named_in(iface.span.file, &iface.name) {
            self.impls.insert((i, owner.head()), fns);
        }
    }

    /// `ty`'s key and value types, if it is the prelude's `Map`.
    pub fn map_args(&self, ty: &Ty) -> Option<(Ty, Ty)> {
        match ty {
            Ty::Struct(s, args)
                if self.structs[*s].name == "Map" && self.struct_by_name.get("Map") == Some(s) =>
            {
                Some((args[0].clone(), args[1].clone()))
            }
            _ => None,
        }
    }

    /// Whether struct or enum type `ty` implements interface `i`.
    pub fn implements(&self, ty: &Ty, i: usize) -> bool {
        self.impls.contains_key(&(i, ty.head()))
    }

    /// The type parameters `written` after `outer` (an impl's), with their bounds.
    fn generics(
        &self,
        outer: &[Generic],
        written: &[GenericParam],
        errors: &mut Vec<Diagnostic>,
    ) -> Vec<Generic> {
        let mut out = outer.to_vec();
        for g in written {
            if out.iter().any(|o| *o.name == *g.name.name) {
                error(errors, g.name.span, format!("type parameter `{}` is declared twice", g.name.name));
            }
            let mut bounds = Vec::new();
            for b in &g.bounds {
                match Bound::named(&b.name)
                    .or_else(|| self.iface_named_in(b.span.file, &b.name).map(Bound::Iface))
                {
                    Some(bound) => bounds.push(bound),
                    None => error(errors, b.span, format!("cannot find interface `{}`", b.name)),
                }
            }
            out.push(Generic { name: g.name.name.as_str().into(), bounds });
        }
        out
    }

    /// The type an `impl` adds methods to: `impl Name` or `impl<T, ...> Name<T, ...>`.
    fn impl_owner(&self, imp: &ImplDecl, errors: &mut Vec<Diagnostic>) -> Option<Ty> {
        let Some(head) = self.type_named_in(imp.ty.span.file, &imp.ty.name) else {
            error(errors, imp.ty.span, format!("cannot find struct `{}`", imp.ty.name));
            return None;
        };
        let n = self.generics_of(&head).len();
        let own = imp.args.len() == n
            && imp.generics.len() == n
            && imp
                .args
                .iter()
                .zip(&imp.generics)
                .all(|(a, g)| matches!(a, TypeExpr::Named(id) if id.name == g.name.name));
        if !own {
            let params: Vec<&str> = self.generics_of(&head).iter().map(|g| &*g.name).collect();
            let name = &imp.ty.name;
            let example = if n == 0 {
                format!("impl {name}")
            } else {
                format!("impl<{0}> {name}<{0}>", params.join(", "))
            };
            error(
                errors,
                imp.ty.span,
                format!("an impl must name its type's parameters in order, as in `{example}`"),
            );
            return None;
        }
        let args = (0..n).map(|i| Ty::Param(i as u32, self.generics_of(&head)[i].name.clone())).collect();
        Some(match head {
            Ty::Struct(s, _) => Ty::Struct(s, args),
            Ty::Enum(e, _) => Ty::Enum(e, args),
            other => other,
        })
    }

    /// The type parameters of a struct or enum type.
    pub fn generics_of(&self, ty: &Ty) -> &[Generic] {
        match ty {
            Ty::Struct(s, _) => &self.structs[*s].generics,
            Ty::Enum(e, _) => &self.enums[*e].generics,
            _ => &[],
        }
    }

    /// Resolves a written type, reporting unknown names; `scope` is the type
    /// parameters in scope.
    pub fn resolve_type(&self, ty: &TypeExpr, scope: &[Generic], errors: &mut Vec<Diagnostic>) -> Ty {
        let (id, args) = match ty {
            TypeExpr::Array(inner, _) => return Ty::Array(Box::new(self.resolve_type(inner, scope, errors))),
            TypeExpr::Fn(params, ret, _) => {
                let params = params.iter().map(|p| self.resolve_type(p, scope, errors)).collect();
                let ret = ret.as_ref().map_or(Ty::Unit, |r| self.resolve_type(r, scope, errors));
                return Ty::Fn(params, Box::new(ret));
            }
            TypeExpr::Named(id) => (id, &[][..]),
            TypeExpr::Generic(id, args, _) => (id, &args[..]),
        };
        let basic = match id.name.as_str() {
            "int" => Some(Ty::Int),
            "float" => Some(Ty::Float),
            "bool" => Some(Ty::Bool),
            "str" => Some(Ty::Str),
            _ => None,
        };
        let param = scope
            .iter()
            .position(|g| *g.name == *id.name)
            .map(|i| Ty::Param(i as u32, scope[i].name.clone()));
        let head = match basic.or(param).or_else(|| self.type_named_in(id.span.file, &id.name)) {
            Some(head) => head,
            None => {
                error(errors, id.span, format!("cannot find type `{}`", id.name));
                return Ty::Error;
            }
        };
        let want = self.generics_of(&head).len();
        if args.len() != want {
            let plural = if want == 1 { "" } else { "s" };
            let msg =
                format!("`{}` takes {want} type argument{plural}, but {} were given", id.name, args.len());
            error(errors, ty.span(), msg);
            return Ty::Error;
        }
        let args: Vec<Ty> = args.iter().map(|a| self.resolve_type(a, scope, errors)).collect();
        match head {
            Ty::Struct(s, _) => Ty::Struct(s, args),
            Ty::Enum(e, _) => Ty::Enum(e, args),
            other => other,
        }
    }

    /// The prelude variant a bare name stands for: `Some`, `None` (of `Option`), `Ok`,
    /// `Err` (of `Result`): (enum, tag).
    pub fn unqualified_variant(&self, name: &str) -> Option<(usize, u32)> {
        let (en, tag) = match name {
            "Some" => ("Option", 0),
            "None" => ("Option", 1),
            "Ok" => ("Result", 0),
            "Err" => ("Result", 1),
            _ => return None,
        };
        Some((*self.enum_by_name.get(en)?, tag))
    }

    /// Whether enum `e` is the prelude's `Option` or `Result`, whose variants are
    /// written without the enum's name.
    pub fn is_prelude_enum(&self, e: usize) -> bool {
        matches!(self.enums[e].name.as_str(), "Option" | "Result")
            && self.enum_by_name.get(&self.enums[e].name) == Some(&e)
    }

    /// The names `name` may stand for in file `file`: the file's module's own item
    /// first, then a top-level item of the program or the prelude (or, written
    /// `module.item`, another module's).
    pub fn candidates(&self, file: u32, name: &str) -> impl Iterator<Item = String> + '_ {
        let prefix = self.modules.prefixes.get(file as usize).map_or("", String::as_str);
        let own = (!prefix.is_empty()).then(|| format!("{prefix}{name}"));
        own.into_iter().chain(std::iter::once(name.to_string()))
    }

    /// The function `name` stands for in file `file`.
    pub fn fn_named_in(&self, file: u32, name: &str) -> Option<usize> {
        self.candidates(file, name).find_map(|n| self.fn_by_name.get(&n).copied())
    }

    /// The type `name` stands for in file `file`.
    pub fn type_named_in(&self, file: u32, name: &str) -> Option<Ty> {
        self.candidates(file, name).find_map(|n| self.type_named(&n))
    }

    /// The interface `name` stands for in file `file`.
    pub fn iface_named_in(&self, file: u32, name: &str) -> Option<usize> {
        self.candidates(file, name).find_map(|n| self.iface_by_name.get(&n).copied())
    }

    /// The global `name` stands for in file `file`.
    pub fn global_named_in(&self, file: u32, name: &str) -> Option<usize> {
        self.candidates(file, name).find_map(|n| self.global_by_name.get(&n).copied())
    }

    /// Whether `name` is an imported module.
    pub fn is_module(&self, name: &str) -> bool {
        self.modules.names.iter().any(|m| m == name)
    }

    /// The struct, enum or interface type named `name`, without type arguments.
    pub fn type_named(&self, name: &str) -> Option<Ty> {
        if let Some(&s) = self.struct_by_name.get(name) {
            return Some(Ty::Struct(s, Vec::new()));
        }
        if let Some(&i) = self.iface_by_name.get(name) {
            return Some(Ty::Iface(i));
        }
        self.enum_by_name.get(name).map(|&e| Ty::Enum(e, Vec::new()))
    }

    /// The type of field `i` of struct type `ty` (type arguments substituted).
    pub fn field_type(&self, ty: &Ty, i: usize) -> Ty {
        match ty {
            Ty::Struct(s, args) => self.structs[*s].fields[i].1.subst(args),
            _ => Ty::Error,
        }
    }

    /// The payload types of variant `tag` of enum type `ty` (arguments substituted).
    pub fn variant_fields(&self, ty: &Ty, tag: u32) -> Vec<Ty> {
        match ty {
            Ty::Enum(e, args) => {
                self.enums[*e].variants[tag as usize].1.iter().map(|t| t.subst(args)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// A struct that contains itself through struct fields has no finite value.
    fn check_struct_cycles(&self, errors: &mut Vec<Diagnostic>) {
        for start in 0..self.structs.len() {
            let mut stack = vec![start];
            let mut seen = vec![false; self.structs.len()];
            while let Some(s) = stack.pop() {
                for (_, ty) in &self.structs[s].fields {
                    if let Ty::Struct(inner, _) = ty {
                        if *inner == start {
                            error(
                                errors,
                                self.structs[start].span,
                                format!("struct `{}` contains itself; use an array field to hold values of its own type", self.structs[start].name),
                            );
                            stack.clear();
                            break;
                        }
                        if !seen[*inner] {
                            seen[*inner] = true;
                            stack.push(*inner);
                        }
                    }
                }
            }
        }
    }

    /// The source-like name of a type.
    pub fn type_name(&self, ty: &Ty) -> String {
        match ty {
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Bool => "bool".into(),
            Ty::Str => "str".into(),
            Ty::Unit => "()".into(),
            Ty::Never => "!".into(),
            Ty::Array(t) => format!("[{}]", self.type_name(t)),
            Ty::Struct(s, args) => self.with_args(&self.structs[*s].name, args),
            Ty::Enum(e, args) => self.with_args(&self.enums[*e].name, args),
            Ty::Param(_, name) => name.to_string(),
            Ty::Iface(i) => self.interfaces[*i].name.clone(),
            Ty::Fn(params, ret) => {
                let params: Vec<String> = params.iter().map(|t| self.type_name(t)).collect();
                match **ret {
                    Ty::Unit => format!("fn({})", params.join(", ")),
                    ref r => format!("fn({}) -> {}", params.join(", "), self.type_name(r)),
                }
            }
            Ty::Var(_) => "_".into(),
            Ty::Error => "{error}".into(),
        }
    }

    fn with_args(&self, name: &str, args: &[Ty]) -> String {
        if args.is_empty() {
            return name.to_string();
        }
        let args: Vec<String> = args.iter().map(|t| self.type_name(t)).collect();
        format!("{name}<{}>", args.join(", "))
    }
}
