//! Writing a [`Module`] in the `.bc` binary format (see `spec/bytecode.md`).
//!
//! The output depends only on the module: the same module always gives the same bytes.

use crate::limits::{FORMAT_VERSION, MAGIC};
use crate::module::*;

/// Section ids, in the order they appear in a file.
pub(crate) mod section {
    pub const TYPES: u8 = 1;
    pub const CONSTS: u8 = 2;
    pub const IMPORTS: u8 = 3;
    pub const GLOBALS: u8 = 4;
    pub const FUNCS: u8 = 5;
    pub const DEBUG: u8 = 6;
    pub const ENTRY: u8 = 7;
    pub const ALL: [u8; 7] = [TYPES, CONSTS, IMPORTS, GLOBALS, FUNCS, DEBUG, ENTRY];
}

/// Encodes `module` into `.bc` bytes.
pub fn encode(module: &Module) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    for id in section::ALL {
        let mut body = Vec::new();
        match id {
            section::TYPES => write_list(&mut body, &module.types, write_composite),
            section::CONSTS => write_list(&mut body, &module.consts, write_const),
            section::IMPORTS => write_list(&mut body, &module.imports, |out, import| {
                out.push(match import.kind {
                    ImportKind::Builtin => 0,
                    ImportKind::Host => 1,
                });
                write_str(out, &import.name);
                write_sig(out, &import.sig);
            }),
            section::GLOBALS => write_list(&mut body, &module.globals, |out, global| {
                write_str(out, &global.name);
                write_val_type(out, global.ty);
            }),
            section::FUNCS => write_list(&mut body, &module.funcs, write_function),
            section::DEBUG => {
                write_list(&mut body, &module.files, |out, file| write_str(out, file));
                write_list(&mut body, &module.funcs, |out, func| {
                    write_uleb(out, u64::from(func.file));
                    write_list(out, &func.lines, |out, row| {
                        write_uleb(out, u64::from(row.pc));
                        write_uleb(out, u64::from(row.line));
                        write_uleb(out, u64::from(row.col));
                    });
                });
            }
            _ => {
                write_uleb(&mut body, u64::from(module.entry.0));
                write_uleb(&mut body, module.init.map_or(0, |f| u64::from(f.0) + 1));
                write_list(&mut body, &module.exports, |out, export| {
                    write_str(out, &export.name);
                    write_uleb(out, u64::from(export.func.0));
                });
            }
        }
        out.push(id);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
    }
    out
}

fn write_function(out: &mut Vec<u8>, func: &Function) {
    write_str(out, &func.name);
    write_sig(out, &func.sig);
    write_list(out, &func.regs, |out, ty| write_val_type(out, *ty));
    write_list(out, &func.code, |out, instr| instr.encode_into(out));
}

fn write_composite(out: &mut Vec<u8>, ty: &CompositeType) {
    match ty {
        CompositeType::Struct(st) => {
            out.push(0);
            write_str(out, &st.name);
            write_list(out, &st.fields, |out, (name, ty)| {
                write_str(out, name);
                write_val_type(out, *ty);
            });
        }
        CompositeType::Array(elem) => {
            out.push(1);
            write_val_type(out, *elem);
        }
        CompositeType::Enum(en) => {
            out.push(2);
            write_str(out, &en.name);
            write_list(out, &en.variants, |out, t| write_uleb(out, u64::from(t.0)));
        }
        CompositeType::Variant(st) => {
            out.push(3);
            write_str(out, &st.name);
            write_list(out, &st.fields, |out, (name, ty)| {
                write_str(out, name);
                write_val_type(out, *ty);
            });
        }
        CompositeType::Func(sig) => {
            out.push(4);
            write_sig(out, sig);
        }
        CompositeType::Option(inner) => {
            out.push(7);
            write_val_type(out, *inner);
        }
        CompositeType::Pair(a, b) => {
            out.push(8);
            write_val_type(out, *a);
            write_val_type(out, *b);
        }
        CompositeType::Interface(it) => {
            out.push(6);
            write_str(out, &it.name);
            write_list(out, &it.methods, write_sig);
            write_list(out, &it.impls, |out, (t, funcs)| {
                write_uleb(out, u64::from(t.0));
                write_list(out, funcs, |out, f| write_uleb(out, u64::from(f.0)));
            });
        }
        CompositeType::Closure(c) => {
            out.push(5);
            write_uleb(out, u64::from(c.fn_type.0));
            write_uleb(out, u64::from(c.func.0));
            write_list(out, &c.captures, |out, ty| write_val_type(out, *ty));
        }
    }
}

fn write_const(out: &mut Vec<u8>, k: &Const) {
    match k {
        Const::Int(v) => {
            out.push(0);
            write_sleb(out, *v);
        }
        Const::Float(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        Const::Str(s) => {
            out.push(2);
            write_str(out, s);
        }
    }
}

fn write_sig(out: &mut Vec<u8>, sig: &Signature) {
    write_list(out, &sig.params, |out, ty| write_val_type(out, *ty));
    match sig.result {
        None => out.push(0),
        Some(ty) => {
            out.push(1);
            write_val_type(out, ty);
        }
    }
}

pub(crate) fn write_val_type(out: &mut Vec<u8>, ty: ValType) {
    match ty {
        ValType::Int => out.push(0),
        ValType::Float => out.push(1),
        ValType::Bool => out.push(2),
        ValType::Str => out.push(3),
        ValType::Ref(idx) => {
            out.push(4);
            write_uleb(out, u64::from(idx.0));
        }
        ValType::OptInt => out.push(5),
        ValType::OptFloat => out.push(6),
        ValType::OptBool => out.push(7),
        ValType::Pair(idx) => {
            out.push(8);
            write_uleb(out, u64::from(idx.0));
        }
    }
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    write_uleb(out, items.len() as u64);
    for item in items {
        write(out, item);
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_uleb(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Unsigned LEB128.
pub(crate) fn write_uleb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Signed LEB128.
pub(crate) fn write_sleb(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
