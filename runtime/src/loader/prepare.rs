//! Translating a verified module into the run form the interpreter executes.

use crate::gc::immortal::ImmortalStrings;
use crate::gc::raw::{ObjDesc, ObjKind};
use crate::interp::op::{Op, SortKind, U24};
use kiln_bytecode::{natives, CompositeType, Const, ImportKind, Instr, Module, ValType};

/// A function ready to run.
pub struct PreparedFunc {
    /// Run-form code: one op per bytecode instruction.
    pub code: Vec<Op>,
    /// Register-file slots the function uses (its frame size): one per register, two
    /// for an optional value or a pair.
    pub n_regs: usize,
    /// The slots of reference-typed registers, in increasing order: the GC scans these (below a
    /// suspended frame's call window), and the interpreter nulls them where they could
    /// hold another frame's leftovers (see `interp::exec`).
    pub refs: Box<[u16]>,
    /// The registers from the first reference-typed register that is not a parameter to
    /// the last reference-typed register: nulled on frame entry (nulling the others in
    /// between is harmless, since rule F8 has them written before they are read).
    pub local_ref_span: std::ops::Range<usize>,
    /// One past the last reference-typed register (0 if there is none).
    pub refs_end: usize,
    /// `block_rest[pc]`: how many instructions follow `pc` in its basic block. Fuel is
    /// charged per block on entry; the interpreter counts per instruction and adds this
    /// where fuel is observed inside a block (size-dependent charges, traps).
    pub block_rest: Box<[u16]>,
}

/// An immutable module in run form, shared by every instance that runs it.
pub struct PreparedModule {
    /// The verified bytecode, kept for names, types and line tables.
    pub bytecode: Module,
    /// Functions in run form, by function index.
    pub funcs: Vec<PreparedFunc>,
    /// Raw bits of int and float constants, by constant index (0 for strings).
    pub const_bits: Vec<u64>,
    /// String constants, as immortal objects every instance shares.
    pub strings: ImmortalStrings,
    /// Object descriptors by type index (array types get a placeholder; arrays use the
    /// heap's own two array descriptors).
    pub descs: Vec<ObjDesc>,
    /// Interface method dispatch.
    pub dispatch: Dispatch,
    /// The slot of each global in the instance's globals (two-slot values take two).
    pub global_slots: Vec<u32>,
    /// How many global slots an instance has.
    pub n_global_slots: usize,
    /// The global slots that hold references (roots for the collector).
    pub global_ref_slots: Vec<u32>,
    /// Machine code compiled from this module, shared by its instances.
    pub jit: crate::jit::ModuleCode,
}

/// The slots at or after `slot` that a value of type `ty` stored there keeps references
/// in: its own for a reference, each reference part's for a pair.
fn ref_slots(types: &[CompositeType], ty: ValType, slot: u32) -> impl Iterator<Item = u32> {
    let parts = match ty {
        ValType::Pair(t) => match &types[t.index()] {
            CompositeType::Pair(a, b) => [a.is_ref(), b.is_ref()],
            _ => [false, false],
        },
        t => [t.is_ref(), false],
    };
    (0..2u32).filter(move |&k| parts[k as usize]).map(move |k| slot + k)
}

/// The slot of each of `types` when they are stored one after another, optional values
/// and pairs taking two slots (registers in a frame, fields in an object, globals); and the total.
pub fn slot_layout(types: impl Iterator<Item = ValType>) -> (Vec<u32>, usize) {
    let mut next = 0usize;
    let slots = types
        .map(|t| {
            let s = next as u32;
            next += t.width();
            s
        })
        .collect();
    (slots, next)
}

/// Which function an interface method call runs, by the receiver's type: a table keyed
/// by (interface, object type), never a name lookup.
#[derive(Debug, Default)]
pub struct Dispatch {
    /// Each `CallIface` site's (interface, method), by the number its run form names.
    pub sites: Vec<(u32, u32)>,
    /// (interface, object type) to the index in `funcs` of its first method's function.
    table: std::collections::HashMap<(u32, u32), u32>,
    /// Method functions, each implementation's in method order.
    funcs: Vec<u32>,
    /// `sites` by value.
    site_index: std::collections::HashMap<(u32, u32), u16>,
    /// Per interface, where its dense table starts in `dense_cells`.
    dense: std::collections::HashMap<u32, u32>,
    /// The dense tables, one after another: per interface, by object type, the index in
    /// `funcs` of its first method (`u32::MAX` where the type does not implement the
    /// interface), so compiled code dispatches with two loads. One array, so that
    /// relocatable code needs one base address for them all. Built where it takes at most
    /// `DENSE_DISPATCH_MAX` entries in all; other interfaces dispatch through `target`.
    dense_cells: Vec<u32>,
}

/// Most entries the dense dispatch tables of a module may take (4 bytes each).
const DENSE_DISPATCH_MAX: usize = 1 << 20;

impl PreparedModule {
    /// The name of the global stored at `slot` (for a trap message).
    pub fn global_name(&self, slot: u32) -> String {
        let g = self.global_slots.iter().position(|&s| s == slot).unwrap_or_default();
        self.bytecode.globals[g].name.clone()
    }
}

impl Dispatch {
    fn new(module: &Module) -> Dispatch {
        let mut d = Dispatch::default();
        for (i, ty) in module.types.iter().enumerate() {
            let CompositeType::Interface(it) = ty else { continue };
            for (t, funcs) in &it.impls {
                let first = d.funcs.len() as u32;
                d.funcs.extend(funcs.iter().map(|f| f.0));
                // An enum value is an object of one of its variants.
                let objects = match &module.types[t.index()] {
                    CompositeType::Enum(en) => en.variants.iter().map(|v| v.0).collect(),
                    _ => vec![t.0],
                };
                for o in objects {
                    d.table.insert((i as u32, o), first);
                }
            }
        }
        let n_ifaces = module.types.iter().filter(|t| matches!(t, CompositeType::Interface(_))).count();
        if n_ifaces.saturating_mul(module.types.len()) <= DENSE_DISPATCH_MAX {
            let mut ifaces: Vec<u32> = d.table.keys().map(|&(iface, _)| iface).collect();
            ifaces.sort_unstable();
            ifaces.dedup();
            for iface in ifaces {
                d.dense.insert(iface, d.dense_cells.len() as u32);
                d.dense_cells.resize(d.dense_cells.len() + module.types.len(), u32::MAX);
            }
            for (&(iface, ty), &first) in &d.table {
                d.dense_cells[(d.dense[&iface] + ty) as usize] = first;
            }
        }
        d
    }

    /// For compiled code: the interface and method of call site `site`, and where the
    /// interface has one, where its dense table starts in [`Dispatch::dense_cells`].
    #[cfg_attr(not(feature = "jit"), allow(dead_code))] // used by the JIT's translator
    pub fn site_tables(&self, site: u16) -> (u32, u32, Option<u32>) {
        let (iface, method) = self.sites[site as usize];
        (iface, method, self.dense.get(&iface).copied())
    }

    /// Every interface's dense table (by object type, the first method's index in
    /// [`Dispatch::method_funcs`]), one after another.
    pub fn dense_cells(&self) -> &[u32] {
        &self.dense_cells
    }

    /// Method functions, each implementation's in method order.
    pub fn method_funcs(&self) -> &[u32] {
        &self.funcs
    }

    /// Every (object type, function) method site `site` may run, by type: the module is
    /// closed, so these are all the receivers it can see (rules F5, M9).
    #[cfg_attr(not(feature = "jit"), allow(dead_code))] // used by the JIT's translator
    pub fn implementations(&self, site: u16) -> Vec<(u32, u32)> {
        let (iface, method) = self.sites[site as usize];
        let mut found: Vec<(u32, u32)> = self
            .table
            .iter()
            .filter(|((i, _), _)| *i == iface)
            .filter_map(|(&(_, ty), &first)| self.funcs.get((first + method) as usize).map(|&f| (ty, f)))
            .collect();
        found.sort_unstable();
        found
    }

    /// The number of the call site of `method` of `iface`.
    fn site(&mut self, iface: u32, method: u32) -> u16 {
        let sites = &mut self.sites;
        *self.site_index.entry((iface, method)).or_insert_with(|| {
            sites.push((iface, method));
            (sites.len() - 1) as u16
        })
    }

    /// The function method site `site` runs for an object of type `ty`. The verifier
    /// (F5, M9) made every value of the interface an object of an implementing type.
    #[inline]
    pub fn target(&self, site: u16, ty: u32) -> u32 {
        let (iface, method) = self.sites[site as usize];
        let first = self.table[&(iface, ty)];
        self.funcs[(first + method) as usize]
    }
}

/// Builds the run form of a verified module.
pub fn prepare(module: Module) -> PreparedModule {
    let mut const_bits = Vec::with_capacity(module.consts.len());
    let mut str_slot = Vec::with_capacity(module.consts.len());
    let mut n_strings = 0usize;
    for k in &module.consts {
        match k {
            Const::Int(v) => const_bits.push(*v as u64),
            Const::Float(v) => const_bits.push(v.to_bits()),
            Const::Str(_) => {
                const_bits.push(0);
                str_slot.push((const_bits.len() - 1, n_strings));
                n_strings += 1;
            }
        }
    }
    let str_index = |k: usize| -> u32 {
        let pos = str_slot.partition_point(|&(c, _)| c < k);
        str_slot[pos].1 as u32
    };
    let mut tags = vec![0u32; module.types.len()];
    for ty in &module.types {
        if let CompositeType::Enum(en) = ty {
            for (tag, v) in en.variants.iter().enumerate() {
                tags[v.index()] = tag as u32;
            }
        }
    }
    // Where each field of each struct, variant or closure type is stored.
    let field_types = |ty: &CompositeType| -> Vec<ValType> {
        match ty {
            CompositeType::Struct(st) | CompositeType::Variant(st) => {
                st.fields.iter().map(|(_, t)| *t).collect()
            }
            CompositeType::Closure(c) => c.captures.clone(),
            _ => Vec::new(),
        }
    };
    let field_slots: Vec<Vec<u32>> =
        module.types.iter().map(|ty| slot_layout(field_types(ty).into_iter()).0).collect();
    // An object's slots (`n_fields`) and the slots of its reference fields.
    let object_slots = |ty: &CompositeType| -> (u32, Box<[u32]>) {
        let (slots, n) = slot_layout(field_types(ty).into_iter());
        let refs = field_types(ty)
            .into_iter()
            .zip(slots)
            .flat_map(|(t, s)| ref_slots(&module.types, t, s))
            .collect();
        (n as u32, refs)
    };
    let descs = module
        .types
        .iter()
        .zip(&tags)
        .map(|(ty, &tag)| match ty {
            CompositeType::Struct(_) | CompositeType::Variant(_) => {
                let (n_fields, ref_fields) = object_slots(ty);
                ObjDesc { kind: ObjKind::Struct, ref_fields, n_fields, tag, func: 0, ty: 0 }
            }
            // A closure object is laid out like a struct of its captures.
            CompositeType::Closure(c) => {
                let (n_fields, ref_fields) = object_slots(ty);
                ObjDesc { kind: ObjKind::Struct, ref_fields, n_fields, tag: 0, func: c.func.0, ty: 0 }
            }
            CompositeType::Array(elem) => ObjDesc::array(elem.is_ref()),
            // No object is ever an enum's own type: values are objects of its variants.
            CompositeType::Enum(_)
            | CompositeType::Func(_)
            | CompositeType::Interface(_)
            | CompositeType::Option(_)
            | CompositeType::Pair(..) => ObjDesc {
                kind: ObjKind::Struct,
                ref_fields: Box::new([]),
                n_fields: 0,
                tag: 0,
                func: 0,
                ty: 0,
            },
        })
        .enumerate()
        .map(|(t, mut desc)| {
            desc.ty = t as u32;
            desc
        })
        .collect();
    let mut dispatch = Dispatch::new(&module);
    let (global_slots, n_global_slots) = slot_layout(module.globals.iter().map(|g| g.ty));
    let global_ref_slots = module
        .globals
        .iter()
        .zip(&global_slots)
        .flat_map(|(g, &s)| ref_slots(&module.types, g.ty, s))
        .collect();
    let array_elem = |arr_ty: ValType| -> ValType {
        match arr_ty {
            ValType::Ref(t) => match &module.types[t.index()] {
                CompositeType::Array(elem) => *elem,
                _ => unreachable!("verifier rule F5"),
            },
            _ => unreachable!("verifier rule F5"),
        }
    };
    let native_numbers = native_numbers(&module);
    let mut funcs = Vec::with_capacity(module.funcs.len());
    for func in &module.funcs {
        // Registers become register-file slots (a two-slot value takes two); an empty
        // argument window may start just past the last register.
        let (mut reg_slots, n_slots) = slot_layout(func.regs.iter().copied());
        reg_slots.push(n_slots as u32);
        let r = |reg: kiln_bytecode::Reg| reg_slots[reg.index()] as u16;
        let wide = |reg: kiln_bytecode::Reg| func.regs[reg.index()].width() == 2;
        // The slots of the frame that hold references, in increasing order.
        let frame_refs: Vec<u32> =
            func.regs.iter().zip(&reg_slots).flat_map(|(&t, &s)| ref_slots(&module.types, t, s)).collect();
        // The slot of field `field` of the object register `obj` holds, and whether it
        // holds a two-slot value.
        let field_at = |obj: kiln_bytecode::Reg, field: kiln_bytecode::FieldIdx| -> (u16, bool) {
            let ValType::Ref(t) = func.regs[obj.index()] else { unreachable!("verifier rule F5") };
            let ty = match &module.types[t.index()] {
                CompositeType::Struct(st) | CompositeType::Variant(st) => st.fields[field.index()].1,
                CompositeType::Closure(c) => c.captures[field.index()],
                _ => unreachable!("verifier rule F5"),
            };
            (field_slots[t.index()][field.index()] as u16, ty.width() == 2)
        };
        let mut code = Vec::with_capacity(func.code.len());
        // A branch to itself or backwards is a loop back-edge, where fuel is checked.
        let back = |pc: usize, target: kiln_bytecode::Target| target.index() <= pc;
        // An instruction whose run form has the same name and only register operands.
        macro_rules! same {
            ($name:ident { $($field:ident),* }) => {
                Op::$name { $($field: r($field)),* }
            };
        }
        // A conditional branch; its register operands narrow, an immediate to 16 bits.
        macro_rules! branch {
            ($name:ident { $($field:ident),* }, $pc:expr, $target:expr) => {
                Op::$name { back: back($pc, $target), $($field: RunOperand::run($field, &reg_slots)),*, target: $target.0 as u16 }
            };
        }
        for (pc, instr) in func.code.iter().enumerate() {
            let op = match *instr {
                Instr::Nop {} => Op::Nop,
                Instr::Mov { dst, src } if wide(dst) => same!(Mov2 { dst, src }),
                // A pair's parts are two consecutive slots, like the window it is made of.
                Instr::PairNew { dst, args } => Op::Mov2 { dst: r(dst), src: r(args) },
                Instr::PairGet { dst, src, part } => Op::Mov { dst: r(dst), src: r(src) + part.0 as u16 },
                Instr::Mov { dst, src } => same!(Mov { dst, src }),
                Instr::LoadI { dst, imm } | Instr::LoadBool { dst, imm } => {
                    Op::LoadI { dst: r(dst), imm: imm.0 }
                }
                Instr::LoadK { dst, k } => match &module.consts[k.index()] {
                    Const::Str(_) => Op::LoadStr { dst: r(dst), k: str_index(k.index()) },
                    _ => Op::LoadBits { dst: r(dst), k: k.0 },
                },
                Instr::AddI { dst, a, b } => same!(AddI { dst, a, b }),
                Instr::SubI { dst, a, b } => same!(SubI { dst, a, b }),
                Instr::MulI { dst, a, b } => same!(MulI { dst, a, b }),
                Instr::DivI { dst, a, b } => same!(DivI { dst, a, b }),
                Instr::RemI { dst, a, b } => same!(RemI { dst, a, b }),
                Instr::AndI { dst, a, b } => same!(AndI { dst, a, b }),
                Instr::OrI { dst, a, b } => same!(OrI { dst, a, b }),
                Instr::XorI { dst, a, b } => same!(XorI { dst, a, b }),
                Instr::ShlI { dst, a, b } => same!(ShlI { dst, a, b }),
                Instr::ShrI { dst, a, b } => same!(ShrI { dst, a, b }),
                Instr::NegI { dst, src } => same!(NegI { dst, src }),
                Instr::AddImm { dst, a, imm } => Op::AddImm { dst: r(dst), a: r(a), imm: imm.0 as i16 },
                Instr::AddF { dst, a, b } => same!(AddF { dst, a, b }),
                Instr::SubF { dst, a, b } => same!(SubF { dst, a, b }),
                Instr::MulF { dst, a, b } => same!(MulF { dst, a, b }),
                Instr::DivF { dst, a, b } => same!(DivF { dst, a, b }),
                Instr::RemF { dst, a, b } => same!(RemF { dst, a, b }),
                Instr::NegF { dst, src } => same!(NegF { dst, src }),
                // Bools are 0 or 1, and a reference is its address (none is 0), so
                // their equality and identity are integer equality.
                Instr::EqI { dst, a, b } | Instr::EqB { dst, a, b } | Instr::EqR { dst, a, b } => {
                    same!(EqI { dst, a, b })
                }
                Instr::NeI { dst, a, b } | Instr::NeB { dst, a, b } => same!(NeI { dst, a, b }),
                Instr::LtI { dst, a, b } | Instr::LtB { dst, a, b } => same!(LtI { dst, a, b }),
                Instr::LeI { dst, a, b } | Instr::LeB { dst, a, b } => same!(LeI { dst, a, b }),
                Instr::EqF { dst, a, b } => same!(EqF { dst, a, b }),
                Instr::NeF { dst, a, b } => same!(NeF { dst, a, b }),
                Instr::LtF { dst, a, b } => same!(LtF { dst, a, b }),
                Instr::LeF { dst, a, b } => same!(LeF { dst, a, b }),
                Instr::EqS { dst, a, b } => same!(EqS { dst, a, b }),
                Instr::NeS { dst, a, b } => same!(NeS { dst, a, b }),
                Instr::LtS { dst, a, b } => same!(LtS { dst, a, b }),
                Instr::LeS { dst, a, b } => same!(LeS { dst, a, b }),
                Instr::Not { dst, src } => same!(Not { dst, src }),
                Instr::IntToFloat { dst, src } => same!(IntToFloat { dst, src }),
                Instr::FloatToInt { dst, src } => same!(FloatToInt { dst, src }),
                Instr::IntToStr { dst, src } => same!(IntToStr { dst, src }),
                Instr::FloatToStr { dst, src } => same!(FloatToStr { dst, src }),
                Instr::BoolToStr { dst, src } => same!(BoolToStr { dst, src }),
                Instr::Switch { src, count } => Op::Switch { src: r(src), count: count.0 },
                Instr::Jmp { target } if back(pc, target) => Op::Loop { target: target.0 },
                Instr::Jmp { target } => Op::Jmp { target: target.0 },
                Instr::JmpIf { cond, target } => branch!(JmpIf { cond }, pc, target),
                Instr::JmpIfNot { cond, target } => branch!(JmpIfNot { cond }, pc, target),
                Instr::JeqI { a, b, target } => branch!(JeqI { a, b }, pc, target),
                Instr::JneI { a, b, target } => branch!(JneI { a, b }, pc, target),
                Instr::JltI { a, b, target } => branch!(JltI { a, b }, pc, target),
                Instr::JleI { a, b, target } => branch!(JleI { a, b }, pc, target),
                Instr::JgtI { a, b, target } => branch!(JgtI { a, b }, pc, target),
                Instr::JgeI { a, b, target } => branch!(JgeI { a, b }, pc, target),
                Instr::JeqImm { a, imm, target } => branch!(JeqImm { a, imm }, pc, target),
                // An optional value's second slot is 1 for some, 0 for none.
                Instr::JmpIfNone { src, target } if wide(src) => {
                    Op::JeqImm { back: back(pc, target), a: r(src) + 1, imm: 0, target: target.0 as u16 }
                }
                Instr::JmpIfSome { src, target } if wide(src) => {
                    Op::JneImm { back: back(pc, target), a: r(src) + 1, imm: 0, target: target.0 as u16 }
                }
                Instr::OptNone { dst } if wide(dst) => Op::OptClear { dst: r(dst) },
                Instr::OptSome { dst, src } if wide(dst) => same!(OptWrap { dst, src }),
                Instr::OptGet { dst, src } if wide(src) => same!(OptPayload { dst, src }),
                // None is the null reference: a test against zero.
                Instr::JmpIfNone { src, target } => {
                    Op::JeqImm { back: back(pc, target), a: r(src), imm: 0, target: target.0 as u16 }
                }
                Instr::JmpIfSome { src, target } => {
                    Op::JneImm { back: back(pc, target), a: r(src), imm: 0, target: target.0 as u16 }
                }
                Instr::OptNone { dst } => Op::LoadI { dst: r(dst), imm: 0 },
                Instr::OptSome { dst, src } => same!(Mov { dst, src }),
                Instr::OptGet { dst, src } => same!(OptGet { dst, src }),
                Instr::JneImm { a, imm, target } => branch!(JneImm { a, imm }, pc, target),
                Instr::JltImm { a, imm, target } => branch!(JltImm { a, imm }, pc, target),
                Instr::JleImm { a, imm, target } => branch!(JleImm { a, imm }, pc, target),
                Instr::JgtImm { a, imm, target } => branch!(JgtImm { a, imm }, pc, target),
                Instr::JgeImm { a, imm, target } => branch!(JgeImm { a, imm }, pc, target),
                Instr::Call { dst, func: callee, args } => match u16::try_from(callee.0) {
                    Ok(func) => Op::Call { dst: r(dst), args: r(args), func },
                    Err(_) => Op::CallFar { dst: r(dst), args: r(args), func: U24::new(callee.0) },
                },
                Instr::CallNative { dst, import, args } => {
                    Op::CallNative { dst: r(dst), args: r(args), native: native_numbers[import.index()] }
                }
                Instr::Ret { src } if wide(src) => same!(Ret2 { src }),
                Instr::Ret { src } => same!(Ret { src }),
                Instr::RetVoid {} => Op::RetVoid,
                Instr::Unreachable {} => Op::Unreachable,
                Instr::GetGlobal { dst, global } if module.globals[global.index()].ty.is_ref() => {
                    Op::GetGlobalRef { dst: r(dst), global: global_slots[global.index()] }
                }
                // A pair of two references is never both null once initialised.
                Instr::GetGlobal { dst, global }
                    if ref_slots(&module.types, module.globals[global.index()].ty, 0).count() == 2 =>
                {
                    Op::GetGlobal2Ref { dst: r(dst), global: global_slots[global.index()] }
                }
                Instr::GetGlobal { dst, global } if wide(dst) => {
                    Op::GetGlobal2 { dst: r(dst), global: global_slots[global.index()] }
                }
                Instr::GetGlobal { dst, global } => {
                    Op::GetGlobal { dst: r(dst), global: global_slots[global.index()] }
                }
                Instr::SetGlobal { global, src } if wide(src) => {
                    Op::SetGlobal2 { global: global_slots[global.index()], src: r(src) }
                }
                Instr::SetGlobal { global, src } => {
                    Op::SetGlobal { global: global_slots[global.index()], src: r(src) }
                }
                Instr::NewStruct { dst, ty, args } => {
                    Op::NewStruct { dst: r(dst), ty: U24::new(ty.0), args: r(args) }
                }
                Instr::GetField { dst, obj, field } => match field_at(obj, field) {
                    (field, true) => Op::GetField2 { dst: r(dst), obj: r(obj), field },
                    (field, false) => Op::GetField { dst: r(dst), obj: r(obj), field },
                },
                Instr::SetField { obj, field, src } => match field_at(obj, field) {
                    (field, true) => Op::SetField2 { obj: r(obj), field, src: r(src) },
                    (field, false) => Op::SetField { obj: r(obj), field, src: r(src) },
                },
                Instr::GetTag { dst, src } => same!(GetTag { dst, src }),
                Instr::NewClosure { dst, ty, args } => {
                    Op::NewStruct { dst: r(dst), ty: U24::new(ty.0), args: r(args) }
                }
                Instr::CallClosure { dst, args } => same!(CallClosure { dst, args }),
                Instr::ToIface { dst, src } => same!(Mov { dst, src }),
                Instr::CallIface { dst, args, method } => {
                    let ValType::Ref(iface) = func.regs[args.index()] else {
                        unreachable!("verifier rule F5")
                    };
                    let site = dispatch.site(iface.0, method.0);
                    Op::CallIface { dst: r(dst), args: r(args), site }
                }
                Instr::AsVariant { dst, src, ty } => {
                    Op::AsVariant { dst: r(dst), src: r(src), tag: tags[ty.index()] as u16 }
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
                Instr::ArrayGet { dst, arr, idx } => same!(ArrayGet { dst, arr, idx }),
                Instr::ArraySet { arr, idx, src } => same!(ArraySet { arr, idx, src }),
                Instr::ArrayLen { dst, arr } => same!(ArrayLen { dst, arr }),
                Instr::ArrayPush { arr, src } => same!(ArrayPush { arr, src }),
                Instr::ArrayInsert { arr, idx, src } => same!(ArrayInsert { arr, idx, src }),
                Instr::ArrayRemove { dst, arr, idx } => same!(ArrayRemove { dst, arr, idx }),
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
                Instr::StrLen { dst, src } => same!(StrLen { dst, src }),
            };
            code.push(op);
        }
        funcs.push(PreparedFunc {
            code,
            n_regs: n_slots,
            refs: frame_refs.iter().map(|&s| s as u16).collect(),
            refs_end: frame_refs.last().map_or(0, |&s| s as usize + 1),
            local_ref_span: {
                let params_end = reg_slots[func.sig.params.len()];
                let first = frame_refs.iter().find(|&&s| s >= params_end);
                let end = frame_refs.last().map_or(0, |&s| s as usize + 1);
                first.map_or(0..0, |&first| first as usize..end)
            },
            block_rest: block_rest(&func.code),
        });
    }
    let strings = ImmortalStrings::new(module.consts.iter().filter_map(|k| match k {
        Const::Str(s) => Some(s.as_str()),
        _ => None,
    }));
    PreparedModule {
        jit: crate::jit::ModuleCode::new(funcs.len()),
        bytecode: module,
        funcs,
        const_bits,
        strings,
        descs,
        dispatch,
        global_slots,
        n_global_slots,
        global_ref_slots,
    }
}

/// A branch's operands in the run form: registers become their slots, immediates narrow
/// to 16 bits (verified to fit: rules F2, F5).
trait RunOperand<T> {
    fn run(self, reg_slots: &[u32]) -> T;
}

impl RunOperand<u16> for kiln_bytecode::Reg {
    fn run(self, reg_slots: &[u32]) -> u16 {
        reg_slots[self.index()] as u16
    }
}

impl RunOperand<i16> for kiln_bytecode::Imm {
    fn run(self, _: &[u32]) -> i16 {
        self.0 as i16
    }
}

/// The run form's native number for each import: a built-in's index in
/// `natives::NATIVES`, or, for the n-th host import, `NATIVES.len() + n` (an index into
/// the instance's linked host functions). Rule M5 keeps the imports few enough to fit.
fn native_numbers(module: &Module) -> Vec<u16> {
    let mut hosts = 0;
    let mut number = |import: &kiln_bytecode::Import| match import.kind {
        ImportKind::Builtin => natives::find(&import.name).expect("verifier rule M3").0 as u16,
        ImportKind::Host => {
            hosts += 1;
            (natives::NATIVES.len() + hosts - 1) as u16
        }
    };
    module.imports.iter().map(&mut number).collect()
}

/// For each instruction, how many instructions follow it in its basic block.
fn block_rest(code: &[Instr]) -> Box<[u16]> {
    let leaders = kiln_bytecode::isa::block_leaders(code);
    let mut rest = vec![0u16; code.len()];
    for pc in (0..code.len().saturating_sub(1)).rev() {
        // Code length is at most 65 535 (rule M5), so the count fits.
        rest[pc] = if leaders[pc + 1] { 0 } else { rest[pc + 1] + 1 };
    }
    rest.into_boxed_slice()
}
