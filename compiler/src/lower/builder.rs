//! Module-level tables the lowering fills in: composite types, constants and native
//! imports, each interned so equal entries share one index.

use crate::sema::items::Items;
use crate::sema::types::Ty;
use kiln_bytecode::natives::{self, NativeType};
use kiln_bytecode::*;
use std::collections::HashMap;

/// The module under construction plus its intern tables.
pub struct ModuleBuilder<'a> {
    /// The module; functions are added as they are lowered.
    pub module: Module,
    items: &'a Items,
    arrays: HashMap<ValType, TypeIdx>,
    ints: HashMap<i64, ConstIdx>,
    floats: HashMap<u64, ConstIdx>,
    strs: HashMap<String, ConstIdx>,
    imports: HashMap<&'static str, ImportIdx>,
    /// Each struct instance (struct, type arguments) and its type.
    structs: HashMap<(usize, Vec<Ty>), TypeIdx>,
    /// Each enum instance: its type, and its variants' types by tag.
    enums: HashMap<(usize, Vec<Ty>), (TypeIdx, Vec<TypeIdx>)>,
    /// Function types by signature.
    funcs: HashMap<Signature, TypeIdx>,
    /// The cell type holding a captured, assigned local of each register type.
    cells: HashMap<ValType, TypeIdx>,
    /// Each closure instance's closure type.
    closures: HashMap<usize, TypeIdx>,
    /// Each interface's type.
    ifaces: HashMap<usize, TypeIdx>,
    /// Option types by the reference type they hold.
    options: HashMap<ValType, TypeIdx>,
    /// Interned pair types, by their parts.
    pairs: HashMap<(ValType, ValType), TypeIdx>,
    /// How many struct and enum instances are being laid out, one inside another.
    depth: usize,
    /// A type whose fields need ever deeper instances of itself (`struct S<T> { next:
    /// Option<S<[T]>> }`), found while laying it out: reported by the lowering.
    pub endless: Option<String>,
}

/// Struct and enum instances laid out one inside another beyond this come from a type
/// that contains ever bigger instances of itself.
const MAX_LAYOUT_DEPTH: usize = 64;

impl<'a> ModuleBuilder<'a> {
    /// A builder whose first types are the program's structs without type parameters,
    /// in declaration order, then its enums without type parameters (each followed by
    /// its variants). Instances of generic types are added as they are used.
    pub fn new(items: &'a Items) -> ModuleBuilder<'a> {
        let mut b = ModuleBuilder {
            module: Module::default(),
            items,
            arrays: HashMap::new(),
            ints: HashMap::new(),
            floats: HashMap::new(),
            strs: HashMap::new(),
            imports: HashMap::new(),
            structs: HashMap::new(),
            enums: HashMap::new(),
            funcs: HashMap::new(),
            cells: HashMap::new(),
            closures: HashMap::new(),
            ifaces: HashMap::new(),
            options: HashMap::new(),
            pairs: HashMap::new(),
            depth: 0,
            endless: None,
        };
        // Every placeholder first, so that fields naming later types find them.
        let structs: Vec<usize> =
            (0..items.structs.len()).filter(|&s| items.structs[s].generics.is_empty()).collect();
        let enums: Vec<usize> =
            (0..items.enums.len()).filter(|&e| items.enums[e].generics.is_empty()).collect();
        for &s in &structs {
            b.struct_placeholder(s, Vec::new());
        }
        for &e in &enums {
            b.enum_placeholder(e, Vec::new());
        }
        for &s in &structs {
            b.fill_struct(s, &[]);
        }
        for &e in &enums {
            b.fill_enum(e, &[]);
        }
        b
    }

    fn struct_placeholder(&mut self, s: usize, args: Vec<Ty>) -> TypeIdx {
        let t = TypeIdx(self.module.types.len() as u32);
        let name = self.items.type_name(&Ty::Struct(s, args.clone()));
        self.module.types.push(CompositeType::Struct(StructType { name, fields: Vec::new() }));
        self.structs.insert((s, args), t);
        t
    }

    fn fill_struct(&mut self, s: usize, args: &[Ty]) {
        let t = self.structs[&(s, args.to_vec())];
        let fields = self.items.structs[s]
            .fields
            .iter()
            .map(|(n, ty)| (n.clone(), self.val_type(&ty.subst(args)).unwrap_or(ValType::Int)))
            .collect();
        if let CompositeType::Struct(st) = &mut self.module.types[t.index()] {
            st.fields = fields;
        }
    }

    fn enum_placeholder(&mut self, e: usize, args: Vec<Ty>) -> TypeIdx {
        let en = &self.items.enums[e];
        let t = TypeIdx(self.module.types.len() as u32);
        let name = self.items.type_name(&Ty::Enum(e, args.clone()));
        let variants: Vec<TypeIdx> = (0..en.variants.len() as u32).map(|v| TypeIdx(t.0 + 1 + v)).collect();
        self.module
            .types
            .push(CompositeType::Enum(EnumType { name: name.clone(), variants: variants.clone() }));
        for (vname, _) in &en.variants {
            let name = format!("{name}.{vname}");
            self.module.types.push(CompositeType::Variant(StructType { name, fields: Vec::new() }));
        }
        self.enums.insert((e, args), (t, variants));
        t
    }

    fn fill_enum(&mut self, e: usize, args: &[Ty]) {
        let variants = self.enums[&(e, args.to_vec())].1.clone();
        for (tag, v) in variants.into_iter().enumerate() {
            let fields: Vec<(String, ValType)> = self.items.enums[e].variants[tag]
                .1
                .iter()
                .enumerate()
                .map(|(i, t)| (i.to_string(), self.val_type(&t.subst(args)).unwrap_or(ValType::Int)))
                .collect();
            if let CompositeType::Variant(st) = &mut self.module.types[v.index()] {
                st.fields = fields;
            }
        }
    }

    /// The register type of a value type; `None` for unit, never and error.
    pub fn val_type(&mut self, ty: &Ty) -> Option<ValType> {
        Some(match ty {
            Ty::Int => ValType::Int,
            Ty::Float => ValType::Float,
            Ty::Bool => ValType::Bool,
            Ty::Str => ValType::Str,
            Ty::Struct(s, args) => ValType::Ref(match self.structs.get(&(*s, args.clone())) {
                Some(&t) => t,
                None if self.depth >= MAX_LAYOUT_DEPTH => {
                    self.endless.get_or_insert_with(|| self.items.type_name(ty));
                    return Some(ValType::Int);
                }
                None => {
                    let t = self.struct_placeholder(*s, args.clone());
                    self.depth += 1;
                    self.fill_struct(*s, args);
                    self.depth -= 1;
                    t
                }
            }),
            Ty::Enum(..) if self.unboxed_option(ty).is_some() => {
                let inner = self.unboxed_option(ty).expect("checked");
                let inner = self.val_type(&inner).expect("a reference or value type");
                match inner.optional() {
                    Some(opt) => opt,
                    None => ValType::Ref(self.option_type(inner)),
                }
            }
            Ty::Enum(..) if self.inline_result(ty).is_some() => {
                let (shape, ok, err) = self.inline_result(ty).expect("checked");
                let ok = self.val_type(&ok).expect("a value or reference type");
                let err = self.val_type(&err).expect("a value or reference type");
                let parts = match shape {
                    ResultShape::ValueRef => (ok, ValType::Ref(self.option_type(err))),
                    ResultShape::RefValue => (ValType::Ref(self.option_type(ok)), err),
                    ResultShape::SameValue => (ok, ValType::Bool),
                    ResultShape::RefRef => {
                        (ValType::Ref(self.option_type(ok)), ValType::Ref(self.option_type(err)))
                    }
                };
                ValType::Pair(self.pair_type(parts))
            }
            Ty::Enum(e, args) => ValType::Ref(self.enum_type(*e, args)),
            Ty::Array(elem) => {
                let elem = self.elem_type(elem).unwrap_or(ValType::Int);
                ValType::Ref(self.array_type(elem))
            }
            Ty::Iface(i) => ValType::Ref(self.iface_type(*i)),
            Ty::Fn(params, ret) => {
                let sig = Signature {
                    params: params.iter().filter_map(|p| self.val_type(p)).collect(),
                    result: self.val_type(ret),
                };
                ValType::Ref(self.func_type(sig))
            }
            Ty::Unit | Ty::Never | Ty::Error | Ty::Param(..) | Ty::Var(_) => return None,
        })
    }

    /// The type of interface `i` (its implementations are added by `add_impl`).
    fn iface_type(&mut self, i: usize) -> TypeIdx {
        if let Some(&t) = self.ifaces.get(&i) {
            return t;
        }
        let t = TypeIdx(self.module.types.len() as u32);
        let it = &self.items.interfaces[i];
        self.module.types.push(CompositeType::Interface(InterfaceType {
            name: it.name.clone(),
            methods: Vec::new(),
            impls: Vec::new(),
        }));
        self.ifaces.insert(i, t);
        let methods = it
            .methods
            .iter()
            .map(|(_, params, ret)| Signature {
                params: params.iter().filter_map(|p| self.val_type(p)).collect(),
                result: self.val_type(ret),
            })
            .collect();
        if let CompositeType::Interface(ty) = &mut self.module.types[t.index()] {
            ty.methods = methods;
        }
        t
    }

    /// Records that `ty` implements interface `i` with functions `funcs`.
    pub fn add_impl(&mut self, i: usize, ty: &Ty, funcs: Vec<FuncIdx>) {
        let t = self.iface_type(i);
        let Some(ValType::Ref(implementer)) = self.val_type(ty) else { unreachable!("a struct or enum") };
        if let CompositeType::Interface(it) = &mut self.module.types[t.index()] {
            it.impls.push((implementer, funcs));
        }
    }

    /// The function type with signature `sig`.
    fn func_type(&mut self, sig: Signature) -> TypeIdx {
        if let Some(&t) = self.funcs.get(&sig) {
            return t;
        }
        let t = TypeIdx(self.module.types.len() as u32);
        self.module.types.push(CompositeType::Func(sig.clone()));
        self.funcs.insert(sig, t);
        t
    }

    /// The one-field struct that holds a local of register type `vt` shared with
    /// closures.
    pub fn cell_type(&mut self, vt: ValType) -> TypeIdx {
        if let Some(&t) = self.cells.get(&vt) {
            return t;
        }
        let t = TypeIdx(self.module.types.len() as u32);
        let fields = vec![("value".to_string(), vt)];
        self.module.types.push(CompositeType::Struct(StructType { name: "<cell>".into(), fields }));
        self.cells.insert(vt, t);
        t
    }

    /// The closure type of function instance `func`, whose value has function type
    /// `fn_ty` and captures values of `captures`.
    pub fn closure_type(&mut self, func: usize, fn_ty: &Ty, captures: Vec<ValType>) -> TypeIdx {
        if let Some(&t) = self.closures.get(&func) {
            return t;
        }
        let Some(ValType::Ref(fn_type)) = self.val_type(fn_ty) else { unreachable!("a function type") };
        let t = TypeIdx(self.module.types.len() as u32);
        self.module.types.push(CompositeType::Closure(ClosureType {
            fn_type,
            func: FuncIdx(func as u32),
            captures,
        }));
        self.closures.insert(func, t);
        t
    }

    /// The closure type of function instance `func`, once made by `closure_type`.
    pub fn closure_of(&self, func: usize) -> TypeIdx {
        self.closures[&func]
    }

    /// The type of enum `e` with type arguments `args`.
    fn enum_type(&mut self, e: usize, args: &[Ty]) -> TypeIdx {
        if let Some((t, _)) = self.enums.get(&(e, args.to_vec())) {
            return *t;
        }
        let t = self.enum_placeholder(e, args.to_vec());
        if self.depth >= MAX_LAYOUT_DEPTH {
            self.endless.get_or_insert_with(|| self.items.type_name(&Ty::Enum(e, args.to_vec())));
            return t;
        }
        self.depth += 1;
        self.fill_enum(e, args);
        self.depth -= 1;
        t
    }

    /// For `Option<T>` with `T` a reference type other than an `Option`, or `int`,
    /// `float` or `bool`: `T`. Such an option needs no object: it is a nullable reference
    /// (`Some(x)` is `x`, `None` null) or an optional value (`ValType::OptInt`, ...).
    pub fn unboxed_option(&self, ty: &Ty) -> Option<Ty> {
        let Ty::Enum(e, args) = ty else { return None };
        let (option, _) = self.items.unqualified_variant("Some")?;
        if *e != option {
            return None;
        }
        let inner = &args[0];
        let unboxed = match inner {
            Ty::Str | Ty::Array(_) | Ty::Struct(..) | Ty::Fn(..) | Ty::Iface(_) => true,
            Ty::Int | Ty::Float | Ty::Bool => true,
            Ty::Enum(ie, _) => *ie != option,
            _ => false,
        };
        unboxed.then(|| inner.clone())
    }

    /// Whether `ty` is an `Option` of `int`, `float` or `bool` or an inline `Result`: two
    /// slots in registers, fields and globals, but boxed as an array element (an object
    /// of the enum), since array elements are one slot each.
    pub fn boxed_in_arrays(&self, ty: &Ty) -> bool {
        self.unboxed_option(ty).is_some_and(|inner| matches!(inner, Ty::Int | Ty::Float | Ty::Bool))
            || self.inline_result(ty).is_some()
    }

    /// Whether values of enum type `ty` are objects (with a tag to read): not an option
    /// without objects, not an inline result.
    pub fn enum_objects(&self, ty: &Ty) -> bool {
        matches!(ty, Ty::Enum(..)) && self.unboxed_option(ty).is_none() && self.inline_result(ty).is_none()
    }

    /// For `Result<T, E>` that needs no object: how its pair is laid out, `T` and `E`.
    /// That is when each of `T`, `E` is `int`, `float` or `bool` or a reference type that
    /// is not an `Option` (a reference's part is a nullable reference, null for the other
    /// variant), except two different ones of those three; two of the same one take a
    /// second part saying `Ok`. Any other `Result` is an object.
    pub fn inline_result(&self, ty: &Ty) -> Option<(ResultShape, Ty, Ty)> {
        let Ty::Enum(e, args) = ty else { return None };
        let (result, _) = self.items.unqualified_variant("Ok")?;
        if *e != result {
            return None;
        }
        let (ok, err) = (&args[0], &args[1]);
        let value = |t: &Ty| matches!(t, Ty::Int | Ty::Float | Ty::Bool);
        let option = self.option_enum()?;
        let nullable =
            |t: &Ty| !value(t) && self.unboxed_option(&Ty::Enum(option, vec![t.clone()])).is_some();
        let shape = if value(ok) && nullable(err) {
            ResultShape::ValueRef
        } else if nullable(ok) && value(err) {
            ResultShape::RefValue
        } else if value(ok) && ok == err {
            ResultShape::SameValue
        } else if nullable(ok) && nullable(err) {
            ResultShape::RefRef
        } else {
            return None;
        };
        Some((shape, ok.clone(), err.clone()))
    }

    /// The prelude's `Option` enum.
    fn option_enum(&self) -> Option<usize> {
        self.items.unqualified_variant("Some").map(|(e, _)| e)
    }

    /// The pair type with these parts.
    fn pair_type(&mut self, parts: (ValType, ValType)) -> TypeIdx {
        if let Some(&t) = self.pairs.get(&parts) {
            return t;
        }
        let t = TypeIdx(self.module.types.len() as u32);
        self.module.types.push(CompositeType::Pair(parts.0, parts.1));
        self.pairs.insert(parts, t);
        t
    }

    /// The type of an array element of type `ty` (see [`ModuleBuilder::boxed_in_arrays`]).
    pub fn elem_type(&mut self, ty: &Ty) -> Option<ValType> {
        match ty {
            Ty::Enum(e, args) if self.boxed_in_arrays(ty) => Some(ValType::Ref(self.enum_type(*e, args))),
            _ => self.val_type(ty),
        }
    }

    /// The option type holding references of type `inner`.
    fn option_type(&mut self, inner: ValType) -> TypeIdx {
        if let Some(&t) = self.options.get(&inner) {
            return t;
        }
        let t = TypeIdx(self.module.types.len() as u32);
        self.module.types.push(CompositeType::Option(inner));
        self.options.insert(inner, t);
        t
    }

    /// The type of variant `tag` of enum type `ty`.
    pub fn variant_type(&mut self, ty: &Ty, tag: u32) -> TypeIdx {
        let Ty::Enum(e, args) = ty else { unreachable!("a variant of an enum type") };
        self.enum_type(*e, args);
        self.enums[&(*e, args.clone())].1[tag as usize]
    }

    /// The composite type index of `[elem]`.
    pub fn array_type(&mut self, elem: ValType) -> TypeIdx {
        if let Some(&t) = self.arrays.get(&elem) {
            return t;
        }
        let t = TypeIdx(self.module.types.len() as u32);
        self.module.types.push(CompositeType::Array(elem));
        self.arrays.insert(elem, t);
        t
    }

    /// Constant-pool index of an int.
    pub fn const_int(&mut self, v: i64) -> ConstIdx {
        let pool = &mut self.module.consts;
        *self.ints.entry(v).or_insert_with(|| {
            pool.push(Const::Int(v));
            ConstIdx(pool.len() as u32 - 1)
        })
    }

    /// Constant-pool index of a float (by bits, so `0.0` and `-0.0` differ).
    pub fn const_float(&mut self, v: f64) -> ConstIdx {
        let pool = &mut self.module.consts;
        *self.floats.entry(v.to_bits()).or_insert_with(|| {
            pool.push(Const::Float(v));
            ConstIdx(pool.len() as u32 - 1)
        })
    }

    /// Constant-pool index of a string.
    pub fn const_str(&mut self, s: &str) -> ConstIdx {
        if let Some(&k) = self.strs.get(s) {
            return k;
        }
        self.module.consts.push(Const::Str(s.to_string()));
        let k = ConstIdx(self.module.consts.len() as u32 - 1);
        self.strs.insert(s.to_string(), k);
        k
    }

    /// The import of host function `name` (declared by one `extern fn`, so with one
    /// signature), added on first use.
    pub fn host_import(&mut self, name: &str, sig: &Signature) -> ImportIdx {
        let found = self.module.imports.iter().position(|i| i.kind == ImportKind::Host && i.name == name);
        if let Some(i) = found {
            return ImportIdx(i as u32);
        }
        self.module.imports.push(Import { kind: ImportKind::Host, name: name.to_string(), sig: sig.clone() });
        ImportIdx(self.module.imports.len() as u32 - 1)
    }

    /// The import of built-in native `name`, added on first use.
    pub fn import(&mut self, name: &'static str) -> (ImportIdx, Signature) {
        let (_, decl) = natives::find(name).expect("the compiler only imports declared natives");
        let mut native_ty = |t: NativeType| match t {
            NativeType::Int => ValType::Int,
            NativeType::Float => ValType::Float,
            NativeType::Bool => ValType::Bool,
            NativeType::Str => ValType::Str,
            NativeType::StrArray => ValType::Ref(self.array_type(ValType::Str)),
        };
        let sig = Signature {
            params: decl.params.iter().map(|t| native_ty(*t)).collect(),
            result: decl.result.map(native_ty),
        };
        if let Some(&i) = self.imports.get(name) {
            return (i, sig);
        }
        let i = ImportIdx(self.module.imports.len() as u32);
        self.module.imports.push(Import {
            kind: ImportKind::Builtin,
            name: name.to_string(),
            sig: sig.clone(),
        });
        self.imports.insert(name, i);
        (i, sig)
    }
}

/// How an inline `Result` (see [`ModuleBuilder::inline_result`]) lays out its pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultShape {
    /// `(ok value, nullable err)`: `Ok` when the second part is null.
    ValueRef,
    /// `(nullable ok, err value)`: `Ok` when the first part is not null.
    RefValue,
    /// `(value, is_ok)`.
    SameValue,
    /// `(nullable ok, nullable err)`: exactly one is not null.
    RefRef,
}
