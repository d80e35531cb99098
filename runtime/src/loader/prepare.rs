//! Translating a verified module into the run form the interpreter executes.

use crate::gc::raw::{ObjDesc, ObjKind};
use crate::interp::op::{Op, SortKind};
use kiln_bytecode::verify::Verified;
use kiln_bytecode::{natives, CompositeType, Const, Instr, Module, ValType};

/// A function ready to run.
pub struct PreparedFunc {
    /// Run-form code: one op per bytecode instruction.
    pub code: Vec<Op>,
    /// Registers the function uses (its frame size).
    pub n_regs: usize,
    /// GC root map: reference registers holding values at each safepoint pc (sorted).
    pub roots: Vec<(u32, Vec<u16>)>,
    /// `leaders[pc]`: instruction `pc` starts a basic block (for fuel accounting at traps).
    pub leaders: Vec<bool>,
}

/// An immutable module in run form, shared by every instance that runs it.
pub struct PreparedModule {
    /// The verified bytecode, kept for names, types and line tables.
    pub bytecode: Module,
    /// Functions in run form, by function index.
    pub funcs: Vec<PreparedFunc>,
    /// Raw bits of int and float constants, by constant index (0 for strings).
    pub const_bits: Vec<u64>,
    /// String constants; instances allocate one heap string per entry at start.
    pub str_consts: Vec<String>,
    /// Object descriptors by type index (array types get a placeholder; arrays use the
    /// heap's own two array descriptors).
    pub descs: Vec<ObjDesc>,
}

/// Builds the run form of a verified module.
pub fn prepare(module: Module, verified: Verified) -> PreparedModule {
    let mut const_bits = Vec::with_capacity(module.consts.len());
    let mut str_slot = Vec::with_capacity(module.consts.len());
    let mut str_consts = Vec::new();
    for k in &module.consts {
        match k {
            Const::Int(v) => const_bits.push(*v as u64),
            Const::Float(v) => const_bits.push(v.to_bits()),
            Const::Str(s) => {
                const_bits.push(0);
                str_slot.push((const_bits.len() - 1, str_consts.len()));
                str_consts.push(s.clone());
            }
        }
    }
    let str_index = |k: usize| -> u32 {
        let pos = str_slot.partition_point(|&(c, _)| c < k);
        str_slot[pos].1 as u32
    };
    let descs = module
        .types
        .iter()
        .map(|ty| match ty {
            CompositeType::Struct(st) => ObjDesc {
                kind: ObjKind::Struct,
                ref_fields: st
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, t))| t.is_ref())
                    .map(|(i, _)| i as u32)
                    .collect(),
                n_fields: st.fields.len() as u32,
                name: st.name.as_str().into(),
            },
            CompositeType::Array(elem) => ObjDesc::array(elem.is_ref()),
        })
        .collect();
    let array_elem = |arr_ty: ValType| -> ValType {
        match arr_ty {
            ValType::Ref(t) => match &module.types[t.index()] {
                CompositeType::Array(elem) => *elem,
                CompositeType::Struct(_) => unreachable!("verifier rule F5"),
            },
            _ => unreachable!("verifier rule F5"),
        }
    };
    let mut funcs = Vec::with_capacity(module.funcs.len());
    for (func, roots) in module.funcs.iter().zip(verified.safepoint_roots) {
        let r = |reg: kiln_bytecode::Reg| reg.0 as u16;
        let mut code = Vec::with_capacity(func.code.len());
        // A branch to itself or backwards is a loop back-edge, where fuel is checked.
        let back = |pc: usize, target: kiln_bytecode::Target| target.index() <= pc;
        for (pc, instr) in func.code.iter().enumerate() {
            let op = match *instr {
                Instr::Nop {} => Op::Nop,
                Instr::Mov { dst, src } => Op::Mov { dst: r(dst), src: r(src) },
                Instr::LoadI { dst, imm } | Instr::LoadBool { dst, imm } => {
                    Op::LoadI { dst: r(dst), imm: imm.0 }
                }
                Instr::LoadK { dst, k } => match &module.consts[k.index()] {
                    Const::Str(_) => Op::LoadStr { dst: r(dst), k: str_index(k.index()) },
                    _ => Op::LoadBits { dst: r(dst), k: k.0 },
                },
                Instr::AddI { dst, a, b } => Op::AddI { dst: r(dst), a: r(a), b: r(b) },
                Instr::SubI { dst, a, b } => Op::SubI { dst: r(dst), a: r(a), b: r(b) },
                Instr::MulI { dst, a, b } => Op::MulI { dst: r(dst), a: r(a), b: r(b) },
                Instr::DivI { dst, a, b } => Op::DivI { dst: r(dst), a: r(a), b: r(b) },
                Instr::RemI { dst, a, b } => Op::RemI { dst: r(dst), a: r(a), b: r(b) },
                Instr::AndI { dst, a, b } => Op::AndI { dst: r(dst), a: r(a), b: r(b) },
                Instr::OrI { dst, a, b } => Op::OrI { dst: r(dst), a: r(a), b: r(b) },
                Instr::XorI { dst, a, b } => Op::XorI { dst: r(dst), a: r(a), b: r(b) },
                Instr::ShlI { dst, a, b } => Op::ShlI { dst: r(dst), a: r(a), b: r(b) },
                Instr::ShrI { dst, a, b } => Op::ShrI { dst: r(dst), a: r(a), b: r(b) },
                Instr::NegI { dst, src } => Op::NegI { dst: r(dst), src: r(src) },
                Instr::AddImm { dst, a, imm } => Op::AddImm { dst: r(dst), a: r(a), imm: imm.0 as i16 },
                Instr::AddF { dst, a, b } => Op::AddF { dst: r(dst), a: r(a), b: r(b) },
                Instr::SubF { dst, a, b } => Op::SubF { dst: r(dst), a: r(a), b: r(b) },
                Instr::MulF { dst, a, b } => Op::MulF { dst: r(dst), a: r(a), b: r(b) },
                Instr::DivF { dst, a, b } => Op::DivF { dst: r(dst), a: r(a), b: r(b) },
                Instr::RemF { dst, a, b } => Op::RemF { dst: r(dst), a: r(a), b: r(b) },
                Instr::NegF { dst, src } => Op::NegF { dst: r(dst), src: r(src) },
                // Bools are 0 or 1, so their equality is integer equality.
                Instr::EqI { dst, a, b } | Instr::EqB { dst, a, b } => {
                    Op::EqI { dst: r(dst), a: r(a), b: r(b) }
                }
                Instr::NeI { dst, a, b } | Instr::NeB { dst, a, b } => {
                    Op::NeI { dst: r(dst), a: r(a), b: r(b) }
                }
                Instr::LtI { dst, a, b } | Instr::LtB { dst, a, b } => {
                    Op::LtI { dst: r(dst), a: r(a), b: r(b) }
                }
                Instr::LeI { dst, a, b } | Instr::LeB { dst, a, b } => {
                    Op::LeI { dst: r(dst), a: r(a), b: r(b) }
                }
                Instr::EqF { dst, a, b } => Op::EqF { dst: r(dst), a: r(a), b: r(b) },
                Instr::NeF { dst, a, b } => Op::NeF { dst: r(dst), a: r(a), b: r(b) },
                Instr::LtF { dst, a, b } => Op::LtF { dst: r(dst), a: r(a), b: r(b) },
                Instr::LeF { dst, a, b } => Op::LeF { dst: r(dst), a: r(a), b: r(b) },
                Instr::EqS { dst, a, b } => Op::EqS { dst: r(dst), a: r(a), b: r(b) },
                Instr::NeS { dst, a, b } => Op::NeS { dst: r(dst), a: r(a), b: r(b) },
                Instr::LtS { dst, a, b } => Op::LtS { dst: r(dst), a: r(a), b: r(b) },
                Instr::LeS { dst, a, b } => Op::LeS { dst: r(dst), a: r(a), b: r(b) },
                Instr::Not { dst, src } => Op::Not { dst: r(dst), src: r(src) },
                Instr::IntToFloat { dst, src } => Op::IntToFloat { dst: r(dst), src: r(src) },
                Instr::FloatToInt { dst, src } => Op::FloatToInt { dst: r(dst), src: r(src) },
                Instr::IntToStr { dst, src } => Op::IntToStr { dst: r(dst), src: r(src) },
                Instr::FloatToStr { dst, src } => Op::FloatToStr { dst: r(dst), src: r(src) },
                Instr::BoolToStr { dst, src } => Op::BoolToStr { dst: r(dst), src: r(src) },
                Instr::Jmp { target } if back(pc, target) => Op::Loop { target: target.0 },
                Instr::Jmp { target } => Op::Jmp { target: target.0 },
                Instr::JmpIf { cond, target } => {
                    Op::JmpIf { back: back(pc, target), cond: r(cond), target: target.0 as u16 }
                }
                Instr::JmpIfNot { cond, target } => {
                    Op::JmpIfNot { back: back(pc, target), cond: r(cond), target: target.0 as u16 }
                }
                Instr::JeqI { a, b, target } => {
                    Op::JeqI { back: back(pc, target), a: r(a), b: r(b), target: target.0 as u16 }
                }
                Instr::JneI { a, b, target } => {
                    Op::JneI { back: back(pc, target), a: r(a), b: r(b), target: target.0 as u16 }
                }
                Instr::JltI { a, b, target } => {
                    Op::JltI { back: back(pc, target), a: r(a), b: r(b), target: target.0 as u16 }
                }
                Instr::JleI { a, b, target } => {
                    Op::JleI { back: back(pc, target), a: r(a), b: r(b), target: target.0 as u16 }
                }
                Instr::JgtI { a, b, target } => {
                    Op::JgtI { back: back(pc, target), a: r(a), b: r(b), target: target.0 as u16 }
                }
                Instr::JgeI { a, b, target } => {
                    Op::JgeI { back: back(pc, target), a: r(a), b: r(b), target: target.0 as u16 }
                }
                Instr::JeqImm { a, imm, target } => {
                    Op::JeqImm { back: back(pc, target), a: r(a), imm: imm.0 as i16, target: target.0 as u16 }
                }
                Instr::JneImm { a, imm, target } => {
                    Op::JneImm { back: back(pc, target), a: r(a), imm: imm.0 as i16, target: target.0 as u16 }
                }
                Instr::JltImm { a, imm, target } => {
                    Op::JltImm { back: back(pc, target), a: r(a), imm: imm.0 as i16, target: target.0 as u16 }
                }
                Instr::JleImm { a, imm, target } => {
                    Op::JleImm { back: back(pc, target), a: r(a), imm: imm.0 as i16, target: target.0 as u16 }
                }
                Instr::JgtImm { a, imm, target } => {
                    Op::JgtImm { back: back(pc, target), a: r(a), imm: imm.0 as i16, target: target.0 as u16 }
                }
                Instr::JgeImm { a, imm, target } => {
                    Op::JgeImm { back: back(pc, target), a: r(a), imm: imm.0 as i16, target: target.0 as u16 }
                }
                Instr::Call { dst, func, args } => {
                    Op::Call { dst: r(dst), args: r(args), func: func.0 as u16 }
                }
                Instr::CallNative { dst, import, args } => Op::CallNative {
                    dst: r(dst),
                    args: r(args),
                    native: natives_for(&module, import.index()),
                },
                Instr::Ret { src } => Op::Ret { src: r(src) },
                Instr::RetVoid {} => Op::RetVoid,
                Instr::Unreachable {} => Op::Unreachable,
                Instr::GetGlobal { dst, global } => Op::GetGlobal { dst: r(dst), global: global.0 as u16 },
                Instr::SetGlobal { global, src } => Op::SetGlobal { global: global.0 as u16, src: r(src) },
                Instr::NewStruct { dst, ty, args } => {
                    Op::NewStruct { dst: r(dst), ty: ty.0 as u16, args: r(args) }
                }
                Instr::GetField { dst, obj, field } => {
                    Op::GetField { dst: r(dst), obj: r(obj), field: field.0 as u16 }
                }
                Instr::SetField { obj, field, src } => {
                    Op::SetField { obj: r(obj), field: field.0 as u16, src: r(src) }
                }
                Instr::NewArray { dst, ty: _, args, count } => Op::NewArray {
                    elem_ref: array_elem(func.regs[dst.index()]).is_ref(),
                    dst: r(dst),
                    args: r(args),
                    count: count.0 as u16,
                },
                Instr::ArrayFill { dst, ty: _, val, len } => Op::ArrayFill {
                    elem_ref: array_elem(func.regs[dst.index()]).is_ref(),
                    dst: r(dst),
                    val: r(val),
                    len: r(len),
                },
                Instr::ArrayGet { dst, arr, idx } => Op::ArrayGet { dst: r(dst), arr: r(arr), idx: r(idx) },
                Instr::ArraySet { arr, idx, src } => Op::ArraySet { arr: r(arr), idx: r(idx), src: r(src) },
                Instr::ArrayLen { dst, arr } => Op::ArrayLen { dst: r(dst), arr: r(arr) },
                Instr::ArrayPush { arr, src } => Op::ArrayPush { arr: r(arr), src: r(src) },
                Instr::ArrayInsert { arr, idx, src } => {
                    Op::ArrayInsert { arr: r(arr), idx: r(idx), src: r(src) }
                }
                Instr::ArrayRemove { dst, arr, idx } => {
                    Op::ArrayRemove { dst: r(dst), arr: r(arr), idx: r(idx) }
                }
                Instr::ArraySort { arr } => Op::ArraySort {
                    kind: match array_elem(func.regs[arr.index()]) {
                        ValType::Int => SortKind::Int,
                        ValType::Float => SortKind::Float,
                        _ => SortKind::Str,
                    },
                    arr: r(arr),
                },
                Instr::ConcatN { dst, args, count } => {
                    Op::ConcatN { dst: r(dst), args: r(args), count: count.0 as u16 }
                }
                Instr::StrLen { dst, src } => Op::StrLen { dst: r(dst), src: r(src) },
            };
            code.push(op);
        }
        funcs.push(PreparedFunc {
            code,
            n_regs: func.regs.len(),
            roots,
            leaders: kiln_bytecode::isa::block_leaders(&func.code),
        });
    }
    PreparedModule { bytecode: module, funcs, const_bits, str_consts, descs }
}

fn natives_for(module: &Module, import: usize) -> u16 {
    natives::find(&module.imports[import].name).expect("verifier rule M3").0 as u16
}
