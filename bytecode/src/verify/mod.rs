//! Load-time proof that a module is safe to run.
//!
//! The interpreter trusts everything listed here and checks none of it again at run time.
//! Each rule has a stable code, used in errors, tests and `spec/bytecode.md`.
//!
//! Module rules:
//! - **M1 type-index**: every type index (in types, signatures, globals, registers and
//!   instructions) names a type of the module.
//! - **M2 recursive-struct**: no struct contains itself through struct-typed fields (only
//!   through arrays), so every type has a finite default value.
//! - **M3 import**: every import names a built-in native and has exactly its signature.
//! - **M4 entry**: the entry function exists, takes no parameters and returns nothing.
//! - **M5 limit**: counts stay within `limits.rs` (functions, types, globals, imports,
//!   fields, constants, registers and instructions per function).
//! - **M6 debug**: file indices name a file; line tables are sorted and inside the code.
//! - **M7 enum**: an enum lists only variant types, and every variant type is listed by
//!   exactly one enum, once (its tag is its position there).
//! - **M8 closure**: a closure type names a function type and a function whose first
//!   parameter is a reference to the closure type itself and whose other parameters and
//!   result are the function type's (so a call through any closure of a function type
//!   passes what its function expects).
//! - **M9 interface**: each implementation of an interface names a struct or enum type
//!   (at most once) and one function per method, whose first parameter is a reference
//!   to that type and whose others and result are the method's.
//!
//! Function rules:
//! - **F1 params**: the first registers have the parameter types, in order.
//! - **F2 operand-range**: every register, constant, function, type, global, import and
//!   field operand is in range, including whole register windows (`args..args+n`).
//! - **F3 branch-target**: every branch target is an instruction of the function.
//! - **F4 fall-off**: the code is not empty and its last instruction is a terminator, so
//!   control never runs past the end.
//! - **F5 operand-type**: every register operand has the type its opcode requires; the
//!   kind of type operand (struct or array) fits the opcode.
//! - **F6 call**: call windows pass the callee's parameter types; `dst` has the result
//!   type, or is register 0 and unused when there is no result.
//! - **F7 return**: `Ret` appears only in functions with a result and returns its type;
//!   `RetVoid` only in functions without one.
//! - **F8 uninit**: on every path, every register (of any type) is written before it is
//!   read; parameters count as written at entry. A call's callee reuses the caller's
//!   registers from `args` up, so a call leaves registers at or above `args` unwritten
//!   again (except its `dst`). So no frame ever observes what another frame, or an
//!   earlier run, left in the register file.
//!
//! Not checked: integer overflow, array bounds and division by zero (defined traps at
//! run time), and termination (bounded by fuel).

mod func;
mod intervals;

use crate::limits::*;
use crate::module::*;
use crate::natives;

/// A broken verifier rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// M1 type-index.
    TypeIndex,
    /// M2 recursive-struct.
    RecursiveStruct,
    /// M3 import.
    Import,
    /// M4 entry.
    Entry,
    /// M5 limit.
    Limit,
    /// M6 debug.
    Debug,
    /// M7 enum.
    Enum,
    /// M8 closure.
    Closure,
    /// M9 interface.
    Interface,
    /// F1 params.
    Params,
    /// F2 operand-range.
    OperandRange,
    /// F3 branch-target.
    BranchTarget,
    /// F4 fall-off.
    FallOff,
    /// F5 operand-type.
    OperandType,
    /// F6 call.
    Call,
    /// F7 return.
    Return,
    /// F8 uninit.
    Uninit,
    /// F9 switch.
    Switch,
}

impl Rule {
    /// The rule's code, as in `spec/bytecode.md`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::TypeIndex => "M1 type-index",
            Rule::RecursiveStruct => "M2 recursive-struct",
            Rule::Import => "M3 import",
            Rule::Entry => "M4 entry",
            Rule::Limit => "M5 limit",
            Rule::Debug => "M6 debug",
            Rule::Enum => "M7 enum",
            Rule::Closure => "M8 closure",
            Rule::Interface => "M9 interface",
            Rule::Params => "F1 params",
            Rule::OperandRange => "F2 operand-range",
            Rule::BranchTarget => "F3 branch-target",
            Rule::FallOff => "F4 fall-off",
            Rule::OperandType => "F5 operand-type",
            Rule::Call => "F6 call",
            Rule::Return => "F7 return",
            Rule::Uninit => "F8 uninit",
            Rule::Switch => "F9 switch",
        }
    }
}

/// Why a module was rejected: the rule, where, and what was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("verifier rule {} broken{}: {detail}", rule.code(), location(.func, .pc))]
pub struct VerifyError {
    /// The broken rule.
    pub rule: Rule,
    /// Function name, when the problem is inside a function.
    pub func: Option<String>,
    /// Instruction index, when the problem is at one instruction.
    pub pc: Option<usize>,
    /// What was found.
    pub detail: String,
}

fn location(func: &Option<String>, pc: &Option<usize>) -> String {
    match (func, pc) {
        (Some(f), Some(pc)) => format!(" in function `{f}` at instruction {pc}"),
        (Some(f), None) => format!(" in function `{f}`"),
        _ => String::new(),
    }
}

fn err(rule: Rule, detail: impl Into<String>) -> VerifyError {
    VerifyError { rule, func: None, pc: None, detail: detail.into() }
}

/// Checks every rule above.
///
/// # Errors
/// The first broken rule found.
pub fn verify(module: &Module) -> Result<(), VerifyError> {
    check_limits(module)?;
    check_types(module)?;
    let owners = variant_owners(module)?;
    check_imports(module)?;
    for global in &module.globals {
        check_val_type(module, global.ty)?;
    }
    check_entry(module)?;
    for func in &module.funcs {
        func::verify_function(module, &owners, func).map_err(|mut e| {
            e.func = Some(func.name.clone());
            e
        })?;
    }
    Ok(())
}

fn check_limits(module: &Module) -> Result<(), VerifyError> {
    let counts = [
        ("functions", module.funcs.len(), MAX_ITEMS),
        ("types", module.types.len(), MAX_ITEMS),
        ("globals", module.globals.len(), MAX_ITEMS),
        ("imports", module.imports.len(), MAX_IMPORTS),
        ("constants", module.consts.len(), MAX_CONSTS),
    ];
    for (what, n, max) in counts {
        if n > max {
            return Err(err(Rule::Limit, format!("{n} {what}, limit {max}")));
        }
    }
    let methods: usize = module
        .types
        .iter()
        .map(|t| if let CompositeType::Interface(it) = t { it.methods.len() } else { 0 })
        .sum();
    if methods > MAX_IFACE_METHODS {
        return Err(err(
            Rule::Limit,
            format!("{methods} interface methods in all, limit {MAX_IFACE_METHODS}"),
        ));
    }
    for ty in &module.types {
        if let CompositeType::Enum(en) = ty {
            if en.variants.len() > MAX_VARIANTS {
                return Err(err(
                    Rule::Limit,
                    format!("enum `{}` has {} variants, limit {MAX_VARIANTS}", en.name, en.variants.len()),
                ));
            }
        }
        // Optional values take two slots, and the limits count slots.
        let slots = |types: &mut dyn Iterator<Item = &ValType>| types.map(|t| t.width()).sum::<usize>();
        if let CompositeType::Struct(st) | CompositeType::Variant(st) = ty {
            let n = slots(&mut st.fields.iter().map(|(_, t)| t));
            if n > MAX_FIELDS {
                return Err(err(
                    Rule::Limit,
                    format!("struct `{}` has {n} field slots, limit {MAX_FIELDS}", st.name),
                ));
            }
        }
        if let CompositeType::Closure(c) = ty {
            let n = slots(&mut c.captures.iter());
            if n > MAX_FIELDS {
                return Err(err(
                    Rule::Limit,
                    format!("closure type has {n} capture slots, limit {MAX_FIELDS}"),
                ));
            }
        }
    }
    for func in &module.funcs {
        let slots: usize = func.regs.iter().map(|t| t.width()).sum();
        if slots > MAX_REGS || func.code.len() > MAX_CODE_LEN {
            return Err(err(
                Rule::Limit,
                format!(
                    "function `{}` has {slots} register slots and {} instructions (limits {MAX_REGS} and {MAX_CODE_LEN})",
                    func.name,
                    func.code.len()
                ),
            ));
        }
    }
    Ok(())
}

/// M8: every closure type's function fits its function type.
fn check_closures(module: &Module) -> Result<(), VerifyError> {
    for (t, ty) in module.types.iter().enumerate() {
        let CompositeType::Closure(c) = ty else { continue };
        let CompositeType::Func(f) = &module.types[c.fn_type.index()] else {
            return Err(err(
                Rule::Closure,
                format!("closure type {t} names type {}, not a function type", c.fn_type.0),
            ));
        };
        let Some(func) = module.funcs.get(c.func.index()) else {
            return Err(err(
                Rule::Closure,
                format!("closure type {t} names function {}, out of range", c.func.0),
            ));
        };
        let fits = func.sig.params.first() == Some(&ValType::Ref(TypeIdx(t as u32)))
            && func.sig.params[1..] == f.params[..]
            && func.sig.result == f.result;
        if !fits {
            return Err(err(
                Rule::Closure,
                format!("closure type {t}: function `{}` does not take the closure and the function type's parameters", func.name),
            ));
        }
    }
    Ok(())
}

/// M9: every implementation fits its interface.
fn check_interfaces(module: &Module) -> Result<(), VerifyError> {
    for ty in &module.types {
        let CompositeType::Interface(it) = ty else { continue };
        let mut seen = std::collections::HashSet::new();
        for (t, funcs) in &it.impls {
            if !matches!(module.types[t.index()], CompositeType::Struct(_) | CompositeType::Enum(_))
                || !seen.insert(*t)
            {
                return Err(err(
                    Rule::Interface,
                    format!(
                        "interface `{}`: type {} is not a struct or enum, or is listed twice",
                        it.name, t.0
                    ),
                ));
            }
            if funcs.len() != it.methods.len() {
                return Err(err(
                    Rule::Interface,
                    format!(
                        "interface `{}`: type {} has {} methods, not {}",
                        it.name,
                        t.0,
                        funcs.len(),
                        it.methods.len()
                    ),
                ));
            }
            for (f, method) in funcs.iter().zip(&it.methods) {
                let Some(func) = module.funcs.get(f.index()) else {
                    return Err(err(
                        Rule::Interface,
                        format!("interface `{}`: function {} out of range", it.name, f.0),
                    ));
                };
                let fits = func.sig.params.first() == Some(&ValType::Ref(*t))
                    && func.sig.params[1..] == method.params[..]
                    && func.sig.result == method.result;
                if !fits {
                    return Err(err(
                        Rule::Interface,
                        format!(
                            "interface `{}`: function `{}` does not take type {} and the method's parameters",
                            it.name, func.name, t.0
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// For each type: `Some((enum, tag))` if it is a variant. Checks rule M7.
pub(crate) fn variant_owners(module: &Module) -> Result<Vec<Option<(TypeIdx, u32)>>, VerifyError> {
    let mut owner: Vec<Option<(TypeIdx, u32)>> = vec![None; module.types.len()];
    for (e, ty) in module.types.iter().enumerate() {
        let CompositeType::Enum(en) = ty else { continue };
        for (tag, v) in en.variants.iter().enumerate() {
            if !matches!(module.types[v.index()], CompositeType::Variant(_)) {
                return Err(err(
                    Rule::Enum,
                    format!("enum `{}` lists type {}, which is not a variant", en.name, v.0),
                ));
            }
            if owner[v.index()].is_some() {
                return Err(err(Rule::Enum, format!("variant type {} is listed twice", v.0)));
            }
            owner[v.index()] = Some((TypeIdx(e as u32), tag as u32));
        }
    }
    for (t, ty) in module.types.iter().enumerate() {
        if let (CompositeType::Variant(st), None) = (ty, owner[t]) {
            return Err(err(Rule::Enum, format!("variant `{}` belongs to no enum", st.name)));
        }
    }
    Ok(owner)
}

pub(crate) fn check_val_type(module: &Module, ty: ValType) -> Result<(), VerifyError> {
    match ty {
        ValType::Ref(t) | ValType::Pair(t) if t.index() >= module.types.len() => Err(err(
            Rule::TypeIndex,
            format!("type index {} out of range ({} types)", t.0, module.types.len()),
        )),
        ValType::Pair(t) if !matches!(module.types[t.index()], CompositeType::Pair(..)) => {
            Err(err(Rule::TypeIndex, format!("type {} is not a pair type", t.0)))
        }
        _ => Ok(()),
    }
}

fn check_types(module: &Module) -> Result<(), VerifyError> {
    for ty in &module.types {
        match ty {
            CompositeType::Struct(st) | CompositeType::Variant(st) => {
                for (_, field) in &st.fields {
                    check_val_type(module, *field)?;
                }
            }
            CompositeType::Array(elem) => {
                check_val_type(module, *elem)?;
                if elem.width() != 1 {
                    return Err(err(Rule::TypeIndex, "array elements cannot be optional values or pairs"));
                }
            }
            CompositeType::Enum(en) => {
                for v in &en.variants {
                    check_val_type(module, ValType::Ref(*v))?;
                }
            }
            CompositeType::Func(sig) => {
                for t in sig.params.iter().chain(&sig.result) {
                    check_val_type(module, *t)?;
                }
            }
            CompositeType::Pair(a, b) => {
                for part in [a, b] {
                    check_val_type(module, *part)?;
                    if part.width() != 1 {
                        return Err(err(Rule::TypeIndex, "the parts of a pair take one slot each"));
                    }
                }
            }
            CompositeType::Option(inner) => {
                check_val_type(module, *inner)?;
                if !inner.is_ref() {
                    return Err(err(Rule::TypeIndex, "an option type holds a reference type"));
                }
            }
            CompositeType::Closure(c) => {
                check_val_type(module, ValType::Ref(c.fn_type))?;
                for t in &c.captures {
                    check_val_type(module, *t)?;
                }
            }
            CompositeType::Interface(it) => {
                for t in it.methods.iter().flat_map(|s| s.params.iter().chain(&s.result)) {
                    check_val_type(module, *t)?;
                }
                for (t, _) in &it.impls {
                    check_val_type(module, ValType::Ref(*t))?;
                }
            }
        }
    }
    check_closures(module)?;
    check_interfaces(module)?;
    // Kahn's algorithm over "struct A has an inline struct field of type B" edges: what
    // cannot be ordered lies on a cycle. The order also bounds nesting depth without
    // recursion, so a hostile module cannot overflow the host stack.
    let n = module.types.len();
    let mut inner_of: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut n_outer = vec![0usize; n];
    for (t, ty) in module.types.iter().enumerate() {
        if let CompositeType::Struct(st) = ty {
            for (_, field) in &st.fields {
                if let ValType::Ref(inner) = field {
                    if matches!(module.types[inner.index()], CompositeType::Struct(_)) {
                        inner_of[t].push(inner.index());
                        n_outer[inner.index()] += 1;
                    }
                }
            }
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&t| n_outer[t] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(t) = ready.pop() {
        order.push(t);
        for &inner in &inner_of[t] {
            n_outer[inner] -= 1;
            if n_outer[inner] == 0 {
                ready.push(inner);
            }
        }
    }
    if order.len() != n {
        let t = (0..n).find(|&t| n_outer[t] > 0).unwrap_or(0);
        return Err(err(
            Rule::RecursiveStruct,
            format!("struct `{}` contains itself through struct fields", type_name(module, t)),
        ));
    }
    // Outer types come first in `order`; walk it backwards to get each type's depth.
    let mut depth = vec![0usize; n];
    for &t in order.iter().rev() {
        depth[t] = 1 + inner_of[t].iter().map(|&i| depth[i]).max().unwrap_or(0);
        if depth[t] > MAX_STRUCT_DEPTH {
            return Err(err(
                Rule::Limit,
                format!(
                    "struct `{}` nests structs inside structs more than {MAX_STRUCT_DEPTH} deep",
                    type_name(module, t)
                ),
            ));
        }
    }
    Ok(())
}

/// A type's name for messages: a struct's name, or its index.
fn type_name(module: &Module, t: usize) -> String {
    match &module.types[t] {
        CompositeType::Struct(st) | CompositeType::Variant(st) => st.name.clone(),
        CompositeType::Enum(en) => en.name.clone(),
        _ => format!("type {t}"),
    }
}

fn check_imports(module: &Module) -> Result<(), VerifyError> {
    for import in &module.imports {
        for ty in import.sig.params.iter().chain(&import.sig.result) {
            check_val_type(module, *ty)?;
        }
        match import.kind {
            ImportKind::Builtin => {
                let (_, decl) = natives::find(&import.name)
                    .ok_or_else(|| err(Rule::Import, format!("unknown native `{}`", import.name)))?;
                if !decl.matches(&import.sig, module) {
                    return Err(err(
                        Rule::Import,
                        format!("native `{}` imported with a different signature", import.name),
                    ));
                }
            }
            ImportKind::Host => {
                if import.name.is_empty() {
                    return Err(err(Rule::Import, "a host function import has an empty name".to_string()));
                }
                let scalar =
                    |ty: &ValType| matches!(ty, ValType::Int | ValType::Float | ValType::Bool | ValType::Str);
                if !import.sig.params.iter().chain(&import.sig.result).all(scalar) {
                    return Err(err(
                        Rule::Import,
                        format!(
                            "host function `{}` takes or returns a type other than int, float, bool or str",
                            import.name
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_entry(module: &Module) -> Result<(), VerifyError> {
    let runnable = |what: &str, f: FuncIdx| match module.funcs.get(f.index()) {
        None => Err(err(Rule::Entry, format!("{what} function {} does not exist", f.0))),
        Some(func) if !func.sig.params.is_empty() || func.sig.result.is_some() => Err(err(
            Rule::Entry,
            format!("{what} function `{}` must take no parameters and return nothing", func.name),
        )),
        Some(_) => Ok(()),
    };
    runnable("entry", module.entry)?;
    if let Some(init) = module.init {
        runnable("initialiser", init)?;
    }
    for (i, export) in module.exports.iter().enumerate() {
        if module.funcs.get(export.func.index()).is_none() {
            return Err(err(
                Rule::Entry,
                format!("export `{}` names function {}, which does not exist", export.name, export.func.0),
            ));
        }
        if i > 0 && module.exports[i - 1].name >= export.name {
            return Err(err(
                Rule::Entry,
                format!("export `{}` is out of order or repeated (exports are sorted by name)", export.name),
            ));
        }
    }
    Ok(())
}
