//! Per-function rules F1-F8 (see the module docs of `verify`).

use super::{check_val_type, err, Rule, VerifyError};
use crate::isa::{flags, Instr, OperandKind};
use crate::module::*;

use super::intervals::IntervalSet;
use crate::limits::{MAX_DATAFLOW_INTERVALS, MAX_DATAFLOW_INTERVALS_BASE};
/// Upper bound on the dataflow's work (instructions visited plus intervals copied and
/// merged) for a function of `size` instructions and registers, so that verifying takes
/// time linear in the module's size whatever the module.
fn max_dataflow_work(size: usize) -> usize {
    (1 << 20) + 64 * size
}

/// Upper bound on the intervals the dataflow stores at once (8 bytes each): compiled code
/// needs a few per basic block.
fn max_dataflow_intervals(size: usize) -> usize {
    (MAX_DATAFLOW_INTERVALS_BASE + 2 * size).min(MAX_DATAFLOW_INTERVALS)
}

/// What one instruction does to registers, for the F8 dataflow. Plain data, computed
/// again whenever needed (storing it per instruction would cost more memory than the
/// bytecode itself).
#[derive(Clone, Copy, Default)]
struct Effects {
    /// Single registers read (at most three per instruction in today's table).
    uses: [u32; 4],
    n_uses: u8,
    /// A register window read: `(first, count)`.
    window: (u32, u32),
    /// Registers from this index up lose their values (a call's callee window).
    kill_from: Option<u32>,
    def: Option<u32>,
}

impl Effects {
    fn uses(&self) -> &[u32] {
        &self.uses[..self.n_uses as usize]
    }
}

/// Total register-window length the verifier checks per function, beyond which it gives
/// up (rule M5): windows are checked register by register, so this bounds the time a
/// hostile module can make it spend. Generous next to compiled code (argument lists,
/// struct and array literals of up to 64 elements).
fn window_budget(func: &Function) -> u64 {
    (1 << 20) + 16 * (func.code.len() as u64 + func.regs.len() as u64)
}

/// Immediates of `AddImm` and the compare-with-immediate branches are 16-bit in the
/// run form.
fn check_imm16(imm: Imm) -> Result<(), VerifyError> {
    match i16::try_from(imm.0) {
        Ok(_) => Ok(()),
        Err(_) => Err(err(Rule::OperandType, format!("immediate {} does not fit in 16 bits", imm.0))),
    }
}

struct Checker<'a> {
    module: &'a Module,
    /// Each variant type's enum and tag (rule M7).
    owners: &'a [Option<(TypeIdx, u32)>],
    func: &'a Function,
}

fn at(pc: usize, e: VerifyError) -> VerifyError {
    VerifyError { pc: Some(pc), ..e }
}

pub(super) fn verify_function(
    module: &Module,
    owners: &[Option<(TypeIdx, u32)>],
    func: &Function,
) -> Result<(), VerifyError> {
    for ty in &func.regs {
        check_val_type(module, *ty)?;
    }
    for ty in func.sig.params.iter().chain(&func.sig.result) {
        check_val_type(module, *ty)?;
    }
    if func.regs.len() < func.sig.params.len() || func.regs[..func.sig.params.len()] != func.sig.params[..] {
        return Err(err(Rule::Params, "registers do not start with the parameter types"));
    }
    match func.code.last() {
        None => return Err(err(Rule::FallOff, "function has no code")),
        Some(last) if last.opcode().info().flags & flags::TERMINATOR == 0 => {
            return Err(at(
                func.code.len() - 1,
                err(Rule::FallOff, "last instruction can fall through past the end"),
            ))
        }
        Some(_) => {}
    }
    if usize::try_from(func.file).map_or(true, |f| f >= module.files.len().max(1)) {
        return Err(err(Rule::Debug, format!("file index {} out of range", func.file)));
    }
    let sorted = func.lines.windows(2).all(|w| w[0].pc < w[1].pc);
    if !sorted || func.lines.iter().any(|e| e.pc as usize >= func.code.len()) {
        return Err(err(Rule::Debug, "line table not sorted or outside the code"));
    }
    let checker = Checker { module, owners, func };
    let mut windows = 0u64;
    for (pc, instr) in func.code.iter().enumerate() {
        checker.check_ranges(instr).map_err(|e| at(pc, e))?;
        windows += u64::from(checker.effects(instr).window.1);
        if windows > window_budget(func) {
            return Err(at(pc, err(Rule::Limit, "register windows too large in total to verify")));
        }
        checker.check_instr(instr).map_err(|e| at(pc, e))?;
        if let Instr::Switch { count, .. } = *instr {
            check_switch_table(&func.code, pc, count).map_err(|e| at(pc, e))?;
        }
    }
    checker.check_initialized()
}

/// Rule F9: a `Switch` at `pc` has a table of `count` (at least one) `Jmp`s after it,
/// and an instruction after the table for values outside it.
fn check_switch_table(code: &[Instr], pc: usize, count: Count) -> Result<(), VerifyError> {
    let n = count.index();
    if n == 0 {
        return Err(err(Rule::Switch, "a switch needs at least one entry"));
    }
    if pc + 1 + n >= code.len() {
        return Err(err(Rule::Switch, "the switch table runs past the end of the code"));
    }
    if !code[pc + 1..=pc + n].iter().all(|i| matches!(i, Instr::Jmp { .. })) {
        return Err(err(Rule::Switch, "a switch table entry is not a `Jmp`"));
    }
    Ok(())
}

impl Checker<'_> {
    fn n_regs(&self) -> usize {
        self.func.regs.len()
    }

    /// The registers `instr` reads, writes and loses. Its operands are in range (F2).
    fn effects(&self, instr: &Instr) -> Effects {
        let mut fx = Effects::default();
        let names = instr.opcode().info().operands.iter().map(|(name, _)| *name);
        for ((kind, v), name) in instr.operand_values().iter().zip(names) {
            match (kind, name) {
                (OperandKind::Reg, "dst") => fx.def = Some(v as u32),
                (OperandKind::Reg, "args") => {}
                (OperandKind::Reg, _) => {
                    fx.uses[fx.n_uses as usize] = v as u32;
                    fx.n_uses += 1;
                }
                _ => {}
            }
        }
        let m = self.module;
        match *instr {
            Instr::Call { dst, func, args } => {
                let sig = &m.funcs[func.index()].sig;
                fx.window = (args.0, sig.params.len() as u32);
                fx.kill_from = Some(args.0);
                fx.def = sig.result.map(|_| dst.0);
            }
            Instr::CallNative { dst, import, args } => {
                let sig = &m.imports[import.index()].sig;
                fx.window = (args.0, sig.params.len() as u32);
                fx.def = sig.result.map(|_| dst.0);
            }
            Instr::NewStruct { ty, args, .. } => {
                let n = match &m.types[ty.index()] {
                    CompositeType::Struct(st) | CompositeType::Variant(st) => st.fields.len(),
                    _ => 0,
                };
                fx.window = (args.0, n as u32);
            }
            Instr::NewArray { args, count, .. } | Instr::ConcatN { args, count, .. } => {
                fx.window = (args.0, count.0)
            }
            Instr::PairNew { args, .. } => fx.window = (args.0, 2),
            Instr::NewClosure { ty, args, .. } => {
                if let CompositeType::Closure(c) = &m.types[ty.index()] {
                    fx.window = (args.0, c.captures.len() as u32);
                }
            }
            Instr::CallIface { dst, args, method } => {
                let sig = self.iface_method(args, method).ok();
                fx.window = (args.0, 1 + sig.map_or(0, |s| s.params.len() as u32));
                fx.kill_from = Some(args.0);
                fx.def = sig.and_then(|s| s.result).map(|_| dst.0);
            }
            Instr::CallClosure { dst, args } => {
                // The window is the closure and the arguments; an ill-typed closure
                // register is `check_instr`'s to report.
                let sig = self.func_type_of(args).ok();
                fx.window = (args.0, 1 + sig.map_or(0, |s| s.params.len() as u32));
                fx.kill_from = Some(args.0);
                fx.def = sig.and_then(|s| s.result).map(|_| dst.0);
            }
            _ => {}
        }
        fx
    }

    /// F2 and F3 for the operands the table describes.
    fn check_ranges(&self, instr: &Instr) -> Result<(), VerifyError> {
        let m = self.module;
        let names = instr.opcode().info().operands.iter().map(|(name, _)| *name);
        let is_call = matches!(
            instr,
            Instr::Call { .. }
                | Instr::CallNative { .. }
                | Instr::CallClosure { .. }
                | Instr::CallIface { .. }
        );
        for ((kind, value), name) in instr.operand_values().iter().zip(names) {
            let value = value as usize;
            let (len, what) = match kind {
                // A register window may be empty and start just past the last register;
                // `check_instr` checks the whole window.
                OperandKind::Reg if name == "args" => (self.n_regs() + 1, "register"),
                // A call without a result names register 0, checked by `check_call`.
                OperandKind::Reg if name == "dst" && is_call => continue,
                OperandKind::Reg => (self.n_regs(), "register"),
                OperandKind::ConstIdx => (m.consts.len(), "constant"),
                OperandKind::FuncIdx => (m.funcs.len(), "function"),
                OperandKind::TypeIdx => (m.types.len(), "type"),
                OperandKind::GlobalIdx => (m.globals.len(), "global"),
                OperandKind::ImportIdx => (m.imports.len(), "import"),
                OperandKind::Target => {
                    if value >= self.func.code.len() {
                        return Err(err(
                            Rule::BranchTarget,
                            format!("branch target {value} outside the code"),
                        ));
                    }
                    continue;
                }
                // Checked with the instruction's types, and by window checks.
                OperandKind::FieldIdx | OperandKind::Imm | OperandKind::Count => continue,
            };
            if value >= len {
                return Err(err(
                    Rule::OperandRange,
                    format!("{what} {value} out of range ({len} available)"),
                ));
            }
        }
        Ok(())
    }

    fn ty(&self, r: Reg) -> Result<ValType, VerifyError> {
        self.func.regs.get(r.index()).copied().ok_or_else(|| {
            err(Rule::OperandRange, format!("register {} out of range ({} registers)", r.0, self.n_regs()))
        })
    }

    fn expect(&self, r: Reg, want: ValType) -> Result<(), VerifyError> {
        let got = self.ty(r)?;
        if got != want {
            return Err(err(
                Rule::OperandType,
                format!("register {} has type {got:?}, expected {want:?}", r.0),
            ));
        }
        Ok(())
    }

    fn window(&self, base: Reg, n: usize) -> Result<Vec<Reg>, VerifyError> {
        if base.index() + n > self.n_regs() {
            return Err(err(
                Rule::OperandRange,
                format!("register window {}..{} out of range", base.0, base.index() + n),
            ));
        }
        Ok((0..n).map(|i| Reg(base.0 + i as u32)).collect())
    }

    /// The fields of a struct or variant type.
    fn struct_type(&self, t: TypeIdx) -> Result<&StructType, VerifyError> {
        match &self.module.types[t.index()] {
            CompositeType::Struct(st) | CompositeType::Variant(st) => Ok(st),
            _ => Err(err(Rule::OperandType, format!("type {} is not a struct or variant", t.0))),
        }
    }

    fn array_elem(&self, t: TypeIdx) -> Result<ValType, VerifyError> {
        match &self.module.types[t.index()] {
            CompositeType::Array(elem) => Ok(*elem),
            _ => Err(err(Rule::OperandType, format!("type {} is not an array", t.0))),
        }
    }

    /// The enum a variant type belongs to (rule M7 made it exactly one).
    fn variant_enum(&self, t: TypeIdx) -> Result<TypeIdx, VerifyError> {
        self.owners[t.index()]
            .map(|(e, _)| e)
            .ok_or_else(|| err(Rule::OperandType, format!("type {} is not an enum variant", t.0)))
    }

    /// The enum type a reference register holds.
    fn enum_reg(&self, r: Reg) -> Result<TypeIdx, VerifyError> {
        let t = self.ref_type(r)?;
        match &self.module.types[t.index()] {
            CompositeType::Enum(_) => Ok(t),
            _ => Err(err(Rule::OperandType, format!("register {} does not hold an enum", r.0))),
        }
    }

    /// The composite type a reference register holds.
    fn ref_type(&self, r: Reg) -> Result<TypeIdx, VerifyError> {
        match self.ty(r)? {
            ValType::Ref(t) => Ok(t),
            other => Err(err(
                Rule::OperandType,
                format!("register {} has type {other:?}, expected a reference", r.0),
            )),
        }
    }

    /// The type inside the option type register `r` holds: an optional value type, or a
    /// reference to an option type.
    fn option_inner(&self, r: Reg) -> Result<ValType, VerifyError> {
        if let Some(inner) = self.ty(r)?.opt_inner() {
            return Ok(inner);
        }
        match &self.module.types[self.ref_type(r)?.index()] {
            CompositeType::Option(inner) => Ok(*inner),
            _ => Err(err(Rule::OperandType, format!("register {} does not hold an option", r.0))),
        }
    }

    /// The signature of method `method` of the interface register `r` holds.
    fn iface_method(&self, r: Reg, method: Count) -> Result<&Signature, VerifyError> {
        match &self.module.types[self.ref_type(r)?.index()] {
            CompositeType::Interface(it) => it.methods.get(method.index()).ok_or_else(|| {
                err(
                    Rule::OperandRange,
                    format!("method {} out of range in interface `{}`", method.0, it.name),
                )
            }),
            _ => Err(err(Rule::OperandType, format!("register {} does not hold an interface value", r.0))),
        }
    }

    /// The two parts of the pair type register `r` holds.
    fn pair_parts(&self, r: Reg) -> Result<(ValType, ValType), VerifyError> {
        match self.ty(r)? {
            ValType::Pair(t) => match &self.module.types[t.index()] {
                CompositeType::Pair(a, b) => Ok((*a, *b)),
                _ => Err(err(Rule::OperandType, format!("register {} does not hold a pair", r.0))),
            },
            other => {
                Err(err(Rule::OperandType, format!("register {} has type {other:?}, expected a pair", r.0)))
            }
        }
    }

    /// The function type a closure register holds.
    fn func_type_of(&self, r: Reg) -> Result<&Signature, VerifyError> {
        match &self.module.types[self.ref_type(r)?.index()] {
            CompositeType::Func(sig) => Ok(sig),
            _ => Err(err(Rule::OperandType, format!("register {} does not hold a function", r.0))),
        }
    }

    /// The type of field `field` of the object in `obj` (a struct, a variant, or a
    /// closure's captures).
    fn field(&self, obj: Reg, field: FieldIdx) -> Result<ValType, VerifyError> {
        let t = self.ref_type(obj)?;
        if let CompositeType::Closure(c) = &self.module.types[t.index()] {
            return c.captures.get(field.index()).copied().ok_or_else(|| {
                err(Rule::OperandRange, format!("capture {} out of range in closure type {}", field.0, t.0))
            });
        }
        let st = self.struct_type(t)?;
        st.fields.get(field.index()).map(|(_, ty)| *ty).ok_or_else(|| {
            err(Rule::OperandRange, format!("field {} out of range in `{}`", field.0, st.name))
        })
    }

    fn array_reg(&self, arr: Reg) -> Result<ValType, VerifyError> {
        self.array_elem(self.ref_type(arr)?)
    }

    /// Checks a call's window and result against `sig`; returns the used registers.
    fn check_call(&self, sig: &Signature, dst: Reg, args: Reg) -> Result<Vec<Reg>, VerifyError> {
        let window = self.window(args, sig.params.len())?;
        for (r, want) in window.iter().zip(&sig.params) {
            if self.ty(*r)? != *want {
                return Err(err(
                    Rule::Call,
                    format!("argument register {} does not have parameter type {want:?}", r.0),
                ));
            }
        }
        match sig.result {
            Some(want) if self.ty(dst)? != want => {
                Err(err(Rule::Call, format!("result register {} does not have result type {want:?}", dst.0)))
            }
            None if dst.0 != 0 => Err(err(Rule::Call, "call without a result must name register 0")),
            _ => Ok(window),
        }
    }

    /// F5-F7 for one instruction.
    fn check_instr(&self, instr: &Instr) -> Result<(), VerifyError> {
        use ValType::*;
        let same3 = |dst: Reg, a: Reg, b: Reg, operand: ValType, result: ValType| {
            self.expect(a, operand)?;
            self.expect(b, operand)?;
            self.expect(dst, result)?;
            Ok::<(), VerifyError>(())
        };
        let unary = |dst: Reg, src: Reg, from: ValType, to: ValType| {
            self.expect(src, from)?;
            self.expect(dst, to)?;
            Ok::<(), VerifyError>(())
        };
        match *instr {
            Instr::Nop {} | Instr::Jmp { .. } | Instr::Unreachable {} => {}
            Instr::Mov { dst, src } => {
                let ty = self.ty(src)?;
                unary(dst, src, ty, ty)?;
            }
            Instr::LoadI { dst, .. } => {
                self.expect(dst, Int)?;
            }
            Instr::LoadBool { dst, imm } => {
                self.expect(dst, Bool)?;
                if !(0..=1).contains(&imm.0) {
                    return Err(err(Rule::OperandType, "bool immediate must be 0 or 1"));
                }
            }
            Instr::LoadK { dst, k } => {
                self.expect(dst, self.module.consts[k.index()].val_type())?;
            }
            Instr::AddI { dst, a, b }
            | Instr::SubI { dst, a, b }
            | Instr::MulI { dst, a, b }
            | Instr::DivI { dst, a, b }
            | Instr::RemI { dst, a, b }
            | Instr::AndI { dst, a, b }
            | Instr::OrI { dst, a, b }
            | Instr::XorI { dst, a, b }
            | Instr::ShlI { dst, a, b }
            | Instr::ShrI { dst, a, b } => same3(dst, a, b, Int, Int)?,
            Instr::AddImm { dst, a, imm } => {
                check_imm16(imm)?;
                unary(dst, a, Int, Int)?
            }
            Instr::JeqImm { a, imm, .. }
            | Instr::JneImm { a, imm, .. }
            | Instr::JltImm { a, imm, .. }
            | Instr::JleImm { a, imm, .. }
            | Instr::JgtImm { a, imm, .. }
            | Instr::JgeImm { a, imm, .. } => {
                check_imm16(imm)?;
                self.expect(a, Int)?;
            }
            Instr::NegI { dst, src } => unary(dst, src, Int, Int)?,
            Instr::AddF { dst, a, b }
            | Instr::SubF { dst, a, b }
            | Instr::MulF { dst, a, b }
            | Instr::DivF { dst, a, b }
            | Instr::RemF { dst, a, b } => same3(dst, a, b, Float, Float)?,
            Instr::NegF { dst, src } => unary(dst, src, Float, Float)?,
            Instr::EqI { dst, a, b }
            | Instr::NeI { dst, a, b }
            | Instr::LtI { dst, a, b }
            | Instr::LeI { dst, a, b } => same3(dst, a, b, Int, Bool)?,
            Instr::EqF { dst, a, b }
            | Instr::NeF { dst, a, b }
            | Instr::LtF { dst, a, b }
            | Instr::LeF { dst, a, b } => same3(dst, a, b, Float, Bool)?,
            Instr::EqB { dst, a, b }
            | Instr::NeB { dst, a, b }
            | Instr::LtB { dst, a, b }
            | Instr::LeB { dst, a, b } => same3(dst, a, b, Bool, Bool)?,
            Instr::EqS { dst, a, b }
            | Instr::NeS { dst, a, b }
            | Instr::LtS { dst, a, b }
            | Instr::LeS { dst, a, b } => same3(dst, a, b, Str, Bool)?,
            Instr::EqR { dst, a, b } => {
                let t = self.ref_type(a)?;
                same3(dst, a, b, Ref(t), Bool)?
            }
            Instr::Not { dst, src } => unary(dst, src, Bool, Bool)?,
            Instr::IntToFloat { dst, src } => unary(dst, src, Int, Float)?,
            Instr::FloatToInt { dst, src } => unary(dst, src, Float, Int)?,
            Instr::IntToStr { dst, src } => unary(dst, src, Int, Str)?,
            Instr::FloatToStr { dst, src } => unary(dst, src, Float, Str)?,
            Instr::BoolToStr { dst, src } => unary(dst, src, Bool, Str)?,
            Instr::Switch { src, .. } => self.expect(src, Int)?,
            Instr::JmpIf { cond, .. } | Instr::JmpIfNot { cond, .. } => {
                self.expect(cond, Bool)?;
            }
            Instr::JeqI { a, b, .. }
            | Instr::JneI { a, b, .. }
            | Instr::JltI { a, b, .. }
            | Instr::JleI { a, b, .. }
            | Instr::JgtI { a, b, .. }
            | Instr::JgeI { a, b, .. } => {
                self.expect(a, Int)?;
                self.expect(b, Int)?;
            }
            Instr::Call { dst, func, args } => {
                self.check_call(&self.module.funcs[func.index()].sig, dst, args)?;
            }
            Instr::CallNative { dst, import, args } => {
                self.check_call(&self.module.imports[import.index()].sig, dst, args)?;
            }
            Instr::Ret { src } => match self.func.sig.result {
                Some(want) => {
                    self.expect(src, want).map_err(|e| VerifyError { rule: Rule::Return, ..e })?;
                }
                None => return Err(err(Rule::Return, "`Ret` in a function without a result")),
            },
            Instr::RetVoid {} => {
                if self.func.sig.result.is_some() {
                    return Err(err(Rule::Return, "`RetVoid` in a function with a result"));
                }
            }
            Instr::GetGlobal { dst, global } => {
                self.expect(dst, self.module.globals[global.index()].ty)?;
            }
            Instr::SetGlobal { global, src } => {
                self.expect(src, self.module.globals[global.index()].ty)?;
            }
            Instr::PairNew { dst, args } => {
                let (a, b) = self.pair_parts(dst)?;
                let window = self.window(args, 2)?;
                self.expect(window[0], a)?;
                self.expect(window[1], b)?;
            }
            Instr::PairGet { dst, src, part } => {
                let (a, b) = self.pair_parts(src)?;
                match part.0 {
                    0 => self.expect(dst, a)?,
                    1 => self.expect(dst, b)?,
                    n => {
                        return Err(err(
                            Rule::OperandRange,
                            format!("pair part {n} (a pair has parts 0 and 1)"),
                        ))
                    }
                }
            }
            Instr::NewStruct { dst, ty, args } => {
                let st = self.struct_type(ty)?;
                // A variant is built as a value of its enum.
                let result = match self.owners[ty.index()] {
                    Some((en, _)) => en,
                    None => ty,
                };
                self.expect(dst, Ref(result))?;
                let window = self.window(args, st.fields.len())?;
                for (r, (_, want)) in window.iter().zip(&st.fields) {
                    self.expect(*r, *want)?;
                }
            }
            Instr::GetField { dst, obj, field } => {
                self.expect(dst, self.field(obj, field)?)?;
            }
            Instr::SetField { obj, field, src } => {
                if let CompositeType::Closure(_) = &self.module.types[self.ref_type(obj)?.index()] {
                    return Err(err(Rule::OperandType, "a closure's captures cannot be changed"));
                }
                self.expect(src, self.field(obj, field)?)?;
            }
            Instr::NewClosure { dst, ty, args } => {
                let CompositeType::Closure(c) = &self.module.types[ty.index()] else {
                    return Err(err(Rule::OperandType, format!("type {} is not a closure type", ty.0)));
                };
                self.expect(dst, Ref(c.fn_type))?;
                let window = self.window(args, c.captures.len())?;
                for (r, want) in window.iter().zip(&c.captures) {
                    self.expect(*r, *want)?;
                }
            }
            Instr::OptNone { dst } => {
                self.option_inner(dst)?;
            }
            Instr::OptSome { dst, src } => {
                self.expect(src, self.option_inner(dst)?)?;
            }
            Instr::OptGet { dst, src } => {
                self.expect(dst, self.option_inner(src)?)?;
            }
            Instr::JmpIfNone { src, .. } | Instr::JmpIfSome { src, .. } => {
                self.option_inner(src)?;
            }
            Instr::ToIface { dst, src } => {
                let from = self.ref_type(src)?;
                let CompositeType::Interface(it) = &self.module.types[self.ref_type(dst)?.index()] else {
                    return Err(err(
                        Rule::OperandType,
                        format!("register {} does not hold an interface value", dst.0),
                    ));
                };
                if !it.impls.iter().any(|(t, _)| *t == from) {
                    return Err(err(
                        Rule::OperandType,
                        format!("type {} does not implement interface `{}`", from.0, it.name),
                    ));
                }
            }
            Instr::CallIface { dst, args, method } => {
                let sig = self.iface_method(args, method)?.clone();
                self.check_call(&sig, dst, Reg(args.0 + 1))?;
            }
            Instr::CallClosure { dst, args } => {
                let sig = self.func_type_of(args)?.clone();
                self.check_call(&sig, dst, Reg(args.0 + 1))?;
            }
            Instr::GetTag { dst, src } => {
                self.enum_reg(src)?;
                self.expect(dst, Int)?;
            }
            Instr::AsVariant { dst, src, ty } => {
                let en = self.variant_enum(ty)?;
                self.expect(src, Ref(en))?;
                self.expect(dst, Ref(ty))?;
            }
            Instr::NewArray { dst, ty, args, count } => {
                let elem = self.array_elem(ty)?;
                self.expect(dst, Ref(ty))?;
                let window = self.window(args, count.index())?;
                for r in &window {
                    self.expect(*r, elem)?;
                }
            }
            Instr::ArrayFill { dst, ty, val, len } => {
                let elem = self.array_elem(ty)?;
                self.expect(dst, Ref(ty))?;
                self.expect(val, elem)?;
                self.expect(len, Int)?;
            }
            Instr::ArrayGet { dst, arr, idx } | Instr::ArrayRemove { dst, arr, idx } => {
                self.expect(dst, self.array_reg(arr)?)?;
                self.expect(idx, Int)?;
            }
            Instr::ArraySet { arr, idx, src } | Instr::ArrayInsert { arr, idx, src } => {
                self.expect(src, self.array_reg(arr)?)?;
                self.expect(idx, Int)?;
            }
            Instr::ArrayLen { dst, arr } => {
                self.array_reg(arr)?;
                self.expect(dst, Int)?;
            }
            Instr::ArrayPush { arr, src } => {
                self.expect(src, self.array_reg(arr)?)?;
            }
            Instr::ArraySort { arr } => {
                if !matches!(self.array_reg(arr)?, Int | Float | Str) {
                    return Err(err(Rule::OperandType, "sort needs int, float or str elements"));
                }
            }
            Instr::ConcatN { dst, args, count } => {
                self.expect(dst, Str)?;
                let window = self.window(args, count.index())?;
                for r in &window {
                    self.expect(*r, Str)?;
                }
            }
            Instr::StrLen { dst, src } => unary(dst, src, Str, Int)?,
        }
        Ok(())
    }

    /// F8: forward dataflow over basic blocks of "registers written on every path".
    ///
    /// Only registers that some block reads before writing can break the rule, so only
    /// those are tracked; the state is a bit set of them per block. The state's size,
    /// blocks x tracked registers, is bounded by `MAX_DATAFLOW_BITS` (rule M5), which the
    /// compiler checks too.
    fn check_initialized(&self) -> Result<(), VerifyError> {
        let code = &self.func.code[..];
        let n_regs = self.n_regs();
        let n_params = self.func.sig.params.len();
        let leader = crate::isa::block_leaders(code);
        let starts: Vec<usize> = (0..code.len()).filter(|&pc| leader[pc]).collect();
        let end_of = |b: usize| starts.get(b + 1).copied().unwrap_or(code.len());
        // Registers read in a block before that block writes them; every register of a
        // window, to keep this linear (tracking more registers is only slower).
        let mut written_in = vec![usize::MAX; n_regs];
        let mut tracked = vec![false; n_regs];
        let mut window_marks = vec![0i32; n_regs + 1];
        for b in 0..starts.len() {
            for instr in &code[starts[b]..end_of(b)] {
                let fx = self.effects(instr);
                for &r in fx.uses() {
                    if written_in[r as usize] != b {
                        tracked[r as usize] = true;
                    }
                }
                let (first, n) = fx.window;
                if n > 0 {
                    window_marks[first as usize] += 1;
                    window_marks[(first + n) as usize] -= 1;
                }
                if let Some(d) = fx.def {
                    written_in[d as usize] = b;
                }
            }
        }
        drop(written_in);
        let mut depth = 0i32;
        for (r, t) in tracked.iter_mut().enumerate() {
            depth += window_marks[r];
            *t |= depth > 0;
        }
        drop(window_marks);
        // Tracked registers get dense indices, in register order, so a call's "from
        // `args` up" is a suffix of the bit set.
        let mut slot = vec![u32::MAX; n_regs];
        let mut n_tracked = 0usize;
        for (r, _) in tracked.iter().enumerate().filter(|(_, t)| **t) {
            slot[r] = n_tracked as u32;
            n_tracked += 1;
        }
        drop(tracked);
        if n_tracked == 0 {
            return Ok(());
        }
        // first_tracked_from[r]: the dense index of the first tracked register at or above r.
        let mut first_tracked_from = vec![n_tracked; n_regs + 1];
        for r in (0..n_regs).rev() {
            first_tracked_from[r] =
                if slot[r] != u32::MAX { slot[r] as usize } else { first_tracked_from[r + 1] };
        }
        let dense = |r: u32| first_tracked_from[(r as usize).min(n_regs)] as u32;
        let mut block_of = vec![0u32; code.len()];
        for (b, &s) in starts.iter().enumerate() {
            block_of[s..end_of(b)].fill(b as u32);
        }
        let mut state_in: Vec<Option<IntervalSet>> = vec![None; starts.len()];
        let mut entry = IntervalSet::default();
        for &i in slot.iter().take(n_params).filter(|&&i| i != u32::MAX) {
            entry.insert(i);
        }
        let mut stored = entry.len();
        state_in[0] = Some(entry);
        let mut worklist = vec![0usize];
        let mut queued = vec![false; starts.len()];
        queued[0] = true;
        let mut work = 0usize;
        let size = code.len() + n_regs;
        let (max_work, max_stored) = (max_dataflow_work(size), max_dataflow_intervals(size));
        let too_large = || {
            err(
                Rule::Limit,
                format!(
                    "function too large to verify: its definite-assignment state needs more than \
                     {max_stored} intervals, or more than {max_work} steps"
                ),
            )
        };
        while let Some(b) = worklist.pop() {
            queued[b] = false;
            let end = end_of(b);
            let mut state = state_in[b].clone().expect("queued blocks have a state");
            work += (end - starts[b]) + 2 * state.len();
            if work > max_work {
                return Err(too_large());
            }
            for (pc, instr) in code.iter().enumerate().take(end).skip(starts[b]) {
                let fx = self.effects(instr);
                let unwritten = |r: u32| err(Rule::Uninit, format!("register {r} read before it is written"));
                for &r in fx.uses() {
                    let i = slot[r as usize];
                    if i != u32::MAX && !state.contains(i) {
                        return Err(at(pc, unwritten(r)));
                    }
                }
                let (first, n) = fx.window;
                if n > 0 && !state.contains_range(dense(first), dense(first + n)) {
                    let r = (first..first + n)
                        .find(|&r| slot[r as usize] != u32::MAX && !state.contains(slot[r as usize]));
                    return Err(at(pc, unwritten(r.unwrap_or(first))));
                }
                if let Some(from) = fx.kill_from {
                    state.clear_from(dense(from));
                }
                if let Some(d) = fx.def {
                    let i = slot[d as usize];
                    if i != u32::MAX {
                        state.insert(i);
                    }
                }
            }
            let last = &code[end - 1];
            let fall = last.opcode().info().flags & flags::TERMINATOR == 0 && end < code.len();
            let succs = [last.branch_target().map(|t| block_of[t.index()] as usize), fall.then_some(b + 1)];
            // A switch continues at any entry of its table (one block each: they are
            // `Jmp`s) or after it (rule F9); the entry right after it is `b + 1`.
            let table = match *last {
                Instr::Switch { count, .. } => (b + 2)..(b + 2 + count.index()),
                _ => 0..0,
            };
            for s in succs.into_iter().flatten().chain(table) {
                let merged = match &state_in[s] {
                    None => state.clone(),
                    Some(old) => old.intersection(&state),
                };
                let old_len = state_in[s].as_ref().map_or(0, IntervalSet::len);
                let changed = state_in[s].as_ref() != Some(&merged);
                if changed {
                    stored = stored - old_len + merged.len();
                    work += merged.len() + old_len;
                    if stored > max_stored {
                        return Err(too_large());
                    }
                    state_in[s] = Some(merged);
                    if !queued[s] {
                        queued[s] = true;
                        worklist.push(s);
                    }
                }
            }
        }
        Ok(())
    }
}
