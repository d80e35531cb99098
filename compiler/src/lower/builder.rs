//! Module-level tables the lowering fills in: composite types, constants and native
//! imports, each interned so equal entries share one index.

use crate::sema::items::Items;
use crate::sema::types::Ty;
use kiln_bytecode::natives::{self, NativeType};
use kiln_bytecode::*;
use std::collections::HashMap;

/// The module under construction plus its intern tables.
pub struct ModuleBuilder {
    /// The module; functions are filled in by index as they are lowered.
    pub module: Module,
    arrays: HashMap<ValType, TypeIdx>,
    ints: HashMap<i64, ConstIdx>,
    floats: HashMap<u64, ConstIdx>,
    strs: HashMap<String, ConstIdx>,
    imports: HashMap<&'static str, ImportIdx>,
    /// Each enum's type, and its variants' types by tag.
    enums: Vec<(TypeIdx, Vec<TypeIdx>)>,
}

impl ModuleBuilder {
    /// A builder whose first types are the program's structs, in declaration order.
    pub fn new(items: &Items) -> ModuleBuilder {
        let mut b = ModuleBuilder {
            module: Module::default(),
            arrays: HashMap::new(),
            ints: HashMap::new(),
            floats: HashMap::new(),
            strs: HashMap::new(),
            imports: HashMap::new(),
            enums: Vec::new(),
        };
        for st in &items.structs {
            b.module
                .types
                .push(CompositeType::Struct(StructType { name: st.name.clone(), fields: Vec::new() }));
        }
        // Each enum, then its variants.
        for en in &items.enums {
            let e = TypeIdx(b.module.types.len() as u32);
            let first = e.0 + 1;
            let variants: Vec<TypeIdx> = (0..en.variants.len() as u32).map(|v| TypeIdx(first + v)).collect();
            b.module
                .types
                .push(CompositeType::Enum(EnumType { name: en.name.clone(), variants: variants.clone() }));
            for (name, _) in &en.variants {
                let name = format!("{}.{name}", en.name);
                b.module.types.push(CompositeType::Variant(StructType { name, fields: Vec::new() }));
            }
            b.enums.push((e, variants));
        }
        for (e, en) in items.enums.iter().enumerate() {
            for (tag, (_, fields)) in en.variants.iter().enumerate() {
                let fields: Vec<(String, ValType)> = fields
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (i.to_string(), b.val_type(t).unwrap_or(ValType::Int)))
                    .collect();
                let v = b.enums[e].1[tag];
                if let CompositeType::Variant(st) = &mut b.module.types[v.index()] {
                    st.fields = fields;
                }
            }
        }
        for (i, st) in items.structs.iter().enumerate() {
            let fields =
                st.fields.iter().map(|(n, t)| (n.clone(), b.val_type(t).unwrap_or(ValType::Int))).collect();
            if let CompositeType::Struct(s) = &mut b.module.types[i] {
                s.fields = fields;
            }
        }
        b
    }

    /// The register type of a value type; `None` for unit, never and error.
    pub fn val_type(&mut self, ty: &Ty) -> Option<ValType> {
        Some(match ty {
            Ty::Int => ValType::Int,
            Ty::Float => ValType::Float,
            Ty::Bool => ValType::Bool,
            Ty::Str => ValType::Str,
            Ty::Struct(s) => ValType::Ref(TypeIdx(*s as u32)),
            Ty::Enum(e) => ValType::Ref(self.enums[*e].0),
            Ty::Array(elem) => {
                let elem = self.val_type(elem).unwrap_or(ValType::Int);
                ValType::Ref(self.array_type(elem))
            }
            Ty::Unit | Ty::Never | Ty::Error => return None,
        })
    }

    /// The type of variant `tag` of enum `e`.
    pub fn variant_type(&self, e: usize, tag: u32) -> TypeIdx {
        self.enums[e].1[tag as usize]
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
        self.module.imports.push(Import { name: name.to_string(), sig: sig.clone() });
        self.imports.insert(name, i);
        (i, sig)
    }
}
