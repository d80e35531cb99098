//! A readable listing of a module, driven by the instruction table in [`crate::isa`].

use crate::isa::OperandKind;
use crate::module::*;
use std::fmt::Write;

/// Looks up the text of a source line: `(file name, 1-based line)`.
pub type SourceLookup<'a> = &'a dyn Fn(&str, u32) -> Option<String>;

/// Renders `module` as text. When `source` finds a line, it is printed beside the
/// instructions compiled from it.
pub fn disassemble(module: &Module, source: Option<SourceLookup<'_>>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "; kiln bytecode module");
    for (i, ty) in module.types.iter().enumerate() {
        let _ = match ty {
            CompositeType::Struct(st) => {
                let fields: Vec<String> =
                    st.fields.iter().map(|(n, t)| format!("{n}: {}", type_name(module, *t))).collect();
                writeln!(out, "type t{i} = struct {} {{ {} }}", st.name, fields.join(", "))
            }
            CompositeType::Array(elem) => {
                writeln!(out, "type t{i} = [{}]", type_name(module, *elem))
            }
            CompositeType::Enum(en) => {
                let variants: Vec<String> = en.variants.iter().map(|t| format!("t{}", t.0)).collect();
                writeln!(out, "type t{i} = enum {} {{ {} }}", en.name, variants.join(", "))
            }
            CompositeType::Variant(st) => {
                let fields: Vec<String> = st.fields.iter().map(|(_, t)| type_name(module, *t)).collect();
                writeln!(out, "type t{i} = variant {}({})", st.name, fields.join(", "))
            }
            CompositeType::Func(sig) => writeln!(out, "type t{i} = fn{}", sig_text(module, sig)),
            CompositeType::Option(inner) => writeln!(out, "type t{i} = option {}", type_name(module, *inner)),
            CompositeType::Pair(a, b) => {
                writeln!(out, "type t{i} = pair ({}, {})", type_name(module, *a), type_name(module, *b))
            }
            CompositeType::Interface(it) => {
                let methods: Vec<String> =
                    it.methods.iter().map(|s| format!("fn{}", sig_text(module, s))).collect();
                let impls: Vec<String> = it
                    .impls
                    .iter()
                    .map(|(t, fs)| {
                        let fs: Vec<String> = fs.iter().map(|f| format!("f{}", f.0)).collect();
                        format!("t{}: {}", t.0, fs.join(" "))
                    })
                    .collect();
                writeln!(
                    out,
                    "type t{i} = interface {} {{ {} }} impls {{ {} }}",
                    it.name,
                    methods.join("; "),
                    impls.join("; ")
                )
            }
            CompositeType::Closure(c) => {
                let caps: Vec<String> = c.captures.iter().map(|t| type_name(module, *t)).collect();
                writeln!(out, "type t{i} = closure t{} of f{} [{}]", c.fn_type.0, c.func.0, caps.join(", "))
            }
        };
    }
    for (i, k) in module.consts.iter().enumerate() {
        let _ = match k {
            Const::Int(v) => writeln!(out, "const k{i} = int {v}"),
            Const::Float(v) => writeln!(out, "const k{i} = float {v:?}"),
            Const::Str(s) => writeln!(out, "const k{i} = str {s:?}"),
        };
    }
    for (i, import) in module.imports.iter().enumerate() {
        let host = if import.kind == ImportKind::Host { "host " } else { "" };
        let _ = writeln!(out, "import n{i} = {host}{}{}", import.name, sig_text(module, &import.sig));
    }
    for (i, g) in module.globals.iter().enumerate() {
        let _ = writeln!(out, "global g{i} = {}: {}", g.name, type_name(module, g.ty));
    }
    let _ = writeln!(out, "entry f{}", module.entry.0);
    if let Some(init) = module.init {
        let _ = writeln!(out, "init f{}", init.0);
    }
    for export in &module.exports {
        let _ = writeln!(out, "export {} = f{}", export.name, export.func.0);
    }
    for (fi, func) in module.funcs.iter().enumerate() {
        let file = module.files.get(func.file as usize).map(String::as_str).unwrap_or("?");
        let _ = writeln!(out, "\nfn f{fi} {}{}  ; {file}", func.name, sig_text(module, &func.sig));
        let regs: Vec<String> =
            func.regs.iter().enumerate().map(|(i, t)| format!("r{i}:{}", type_name(module, *t))).collect();
        let _ = writeln!(out, "  ; registers: {}", regs.join(" "));
        let mut last_line = None;
        for (pc, instr) in func.code.iter().enumerate() {
            let info = instr.opcode().info();
            let operands: Vec<String> =
                instr.operand_values().iter().map(|(kind, v)| operand_text(kind, v)).collect();
            let mut line = format!("  {pc:5}  {:<12} {}", info.name, operands.join(", "));
            if let Some((l, c)) = func.position(pc) {
                if last_line != Some(l) {
                    last_line = Some(l);
                    let text = source.and_then(|f| f(file, l)).unwrap_or_default();
                    let pad = 44usize.saturating_sub(line.len());
                    let _ = write!(line, "{:pad$} ; {file}:{l}:{c}  {}", "", text.trim());
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

fn operand_text(kind: OperandKind, v: i64) -> String {
    match kind {
        OperandKind::Reg => format!("r{v}"),
        OperandKind::ConstIdx => format!("k{v}"),
        OperandKind::FuncIdx => format!("f{v}"),
        OperandKind::TypeIdx => format!("t{v}"),
        OperandKind::GlobalIdx => format!("g{v}"),
        OperandKind::FieldIdx => format!(".{v}"),
        OperandKind::ImportIdx => format!("n{v}"),
        OperandKind::Target => format!("@{v}"),
        OperandKind::Imm => format!("{v}"),
        OperandKind::Count => format!("#{v}"),
    }
}

fn sig_text(module: &Module, sig: &Signature) -> String {
    let params: Vec<String> = sig.params.iter().map(|t| type_name(module, *t)).collect();
    match sig.result {
        Some(r) => format!("({}) -> {}", params.join(", "), type_name(module, r)),
        None => format!("({})", params.join(", ")),
    }
}

/// The source-like name of a value type (`int`, `[str]`, `Point`).
pub fn type_name(module: &Module, ty: ValType) -> String {
    type_name_at(module, ty, 0)
}

/// Array types may name each other in a cycle; stop printing after a few levels.
fn type_name_at(module: &Module, ty: ValType, depth: usize) -> String {
    match ty {
        ValType::Ref(t) if depth > 8 => format!("t{}", t.0),
        ValType::Int => "int".into(),
        ValType::Float => "float".into(),
        ValType::Bool => "bool".into(),
        ValType::Str => "str".into(),
        ValType::OptInt => "int?".into(),
        ValType::OptFloat => "float?".into(),
        ValType::OptBool => "bool?".into(),
        ValType::Pair(t) => format!("pair t{}", t.0),
        ValType::Ref(t) => match module.types.get(t.index()) {
            Some(CompositeType::Struct(st) | CompositeType::Variant(st)) => st.name.clone(),
            Some(CompositeType::Enum(en)) => en.name.clone(),
            Some(CompositeType::Func(sig)) => format!("fn{}", sig_text(module, sig)),
            Some(CompositeType::Interface(it)) => it.name.clone(),
            Some(CompositeType::Option(inner)) => {
                format!("option {}", type_name_at(module, *inner, depth + 1))
            }
            Some(CompositeType::Closure(_)) => format!("closure t{}", t.0),
            Some(CompositeType::Array(elem)) => {
                format!("[{}]", type_name_at(module, *elem, depth + 1))
            }
            _ => format!("t{}", t.0),
        },
    }
}
