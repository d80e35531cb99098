//! The instruction set, declared once.
//!
//! [`for_each_op!`] lists every opcode with its number, named operands, flags and a
//! one-line semantics string. The [`Instr`] enum, [`Opcode`], the operand walker used by
//! the verifier and disassembler, the binary encoding and decoding, and the instruction
//! table in `spec/bytecode.md` are all expanded from that list; nothing else repeats it.
//!
//! Notation in the semantics strings: `r[x]` is register `x`; `int`, `float`, `bool`,
//! `str`, `ref` name the register types the verifier requires.

use crate::module::*;

/// What an operand refers to; decides its range check and how it is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandKind {
    /// A register of the current function.
    Reg,
    /// A constant-pool index.
    ConstIdx,
    /// A function index.
    FuncIdx,
    /// A composite type index.
    TypeIdx,
    /// A global index.
    GlobalIdx,
    /// A field index of the struct type the instruction works on.
    FieldIdx,
    /// An imported native.
    ImportIdx,
    /// A branch target (instruction index).
    Target,
    /// A signed immediate.
    Imm,
    /// A count of consecutive registers.
    Count,
}

/// Property bits of an opcode.
pub mod flags {
    /// Control never falls through to the next instruction.
    pub const TERMINATOR: u8 = 1;
    /// Has a [`Target`](crate::Target) operand.
    pub const BRANCH: u8 = 2;
    /// Ends a basic block (calls do: the instruction after one starts a block).
    pub const ENDS_BLOCK: u8 = 4;
    /// May trap (besides the fuel and interrupt checks every call and back-edge makes).
    pub const MAY_TRAP: u8 = 8;
    /// May allocate, so may collect (a safepoint), and may trap when the heap is full.
    pub const ALLOC: u8 = 16;
}

/// The static description of one opcode, from the table.
#[derive(Debug)]
pub struct OpInfo {
    /// The opcode.
    pub opcode: Opcode,
    /// The name, as spelled in the spec, the disassembler and the interpreter.
    pub name: &'static str,
    /// Operand names and kinds, in encoding order.
    pub operands: &'static [(&'static str, OperandKind)],
    /// [`flags`] bits.
    pub flags: u8,
    /// One-line semantics.
    pub semantics: &'static str,
}

/// Calls `$m!` with the instruction table. Each row is
/// `Name = opcode { operand: Kind, ... } [FLAGS] "semantics";`.
#[macro_export]
macro_rules! for_each_op {
    ($m:ident) => {
        $m! {
            Nop = 0x00 {} [] "does nothing";
            Mov = 0x01 { dst: Reg, src: Reg } [] "r[dst] := r[src] (same type)";
            LoadI = 0x02 { dst: Reg, imm: Imm } [] "r[dst]:int := imm";
            LoadBool = 0x03 { dst: Reg, imm: Imm } [] "r[dst]:bool := imm (0 or 1)";
            LoadK = 0x04 { dst: Reg, k: ConstIdx } [] "r[dst] := constant k (int, float or str)";

            AddI = 0x10 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] + r[b] (int, wrapping)";
            SubI = 0x11 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] - r[b] (int, wrapping)";
            MulI = 0x12 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] * r[b] (int, wrapping)";
            DivI = 0x13 { dst: Reg, a: Reg, b: Reg } [MAY_TRAP] "r[dst] := r[a] / r[b] (int, toward zero; traps on 0; MIN / -1 = MIN)";
            RemI = 0x14 { dst: Reg, a: Reg, b: Reg } [MAY_TRAP] "r[dst] := r[a] % r[b] (int; traps on 0; MIN % -1 = 0)";
            AndI = 0x15 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] & r[b] (int)";
            OrI = 0x16 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] | r[b] (int)";
            XorI = 0x17 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] ^ r[b] (int)";
            ShlI = 0x18 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] << (r[b] & 63) (int)";
            ShrI = 0x19 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] >> (r[b] & 63) (int, arithmetic)";
            NegI = 0x1a { dst: Reg, src: Reg } [] "r[dst] := -r[src] (int, wrapping)";
            AddImm = 0x1b { dst: Reg, a: Reg, imm: Imm } [] "r[dst] := r[a] + imm (int, wrapping; imm fits in 16 bits)";

            AddF = 0x20 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] + r[b] (float)";
            SubF = 0x21 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] - r[b] (float)";
            MulF = 0x22 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] * r[b] (float)";
            DivF = 0x23 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] / r[b] (float, IEEE)";
            RemF = 0x24 { dst: Reg, a: Reg, b: Reg } [] "r[dst] := r[a] % r[b] (float, truncated remainder)";
            NegF = 0x25 { dst: Reg, src: Reg } [] "r[dst] := -r[src] (float)";

            EqI = 0x30 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] == r[b] (int)";
            NeI = 0x31 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] != r[b] (int)";
            LtI = 0x32 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] < r[b] (int)";
            LeI = 0x33 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] <= r[b] (int)";
            EqF = 0x34 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] == r[b] (float, IEEE)";
            NeF = 0x35 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] != r[b] (float, IEEE)";
            LtF = 0x36 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] < r[b] (float, IEEE)";
            LeF = 0x37 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] <= r[b] (float, IEEE)";
            EqB = 0x38 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] == r[b] (bool)";
            NeB = 0x39 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] != r[b] (bool)";
            LtB = 0x3f { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] < r[b] (bool, false < true)";
            LeB = 0x2f { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] <= r[b] (bool, false < true)";
            EqS = 0x3a { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] == r[b] (str, byte-wise)";
            NeS = 0x3b { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] != r[b] (str, byte-wise)";
            LtS = 0x3c { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] < r[b] (str, byte-wise)";
            LeS = 0x3d { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] <= r[b] (str, byte-wise)";
            EqR = 0x26 { dst: Reg, a: Reg, b: Reg } [] "r[dst]:bool := r[a] and r[b] are the same object (ref, one type; none is the same as none)";
            Not = 0x3e { dst: Reg, src: Reg } [] "r[dst]:bool := !r[src] (bool)";

            IntToFloat = 0x40 { dst: Reg, src: Reg } [] "r[dst]:float := r[src]:int as float";
            FloatToInt = 0x41 { dst: Reg, src: Reg } [] "r[dst]:int := r[src]:float as int (saturating, NaN gives 0)";
            IntToStr = 0x42 { dst: Reg, src: Reg } [ALLOC, MAY_TRAP] "r[dst]:str := decimal text of r[src]:int";
            FloatToStr = 0x43 { dst: Reg, src: Reg } [ALLOC, MAY_TRAP] "r[dst]:str := text of r[src]:float (shortest round-trip, `5.0`, `1e100`, `NaN`, `inf`)";
            BoolToStr = 0x44 { dst: Reg, src: Reg } [ALLOC, MAY_TRAP] "r[dst]:str := `true` or `false`";

            Jmp = 0x50 { target: Target } [TERMINATOR, BRANCH] "goto target";
            Switch = 0x5f { src: Reg, count: Count } [ENDS_BLOCK] "multi-way branch: the next `count` instructions are `Jmp`s; continue at the (r[src]:int)-th of them, or after them if r[src] is not in 0..count";
            JmpIf = 0x51 { cond: Reg, target: Target } [BRANCH] "if r[cond]:bool goto target";
            JmpIfNot = 0x52 { cond: Reg, target: Target } [BRANCH] "if !r[cond]:bool goto target";
            JeqI = 0x53 { a: Reg, b: Reg, target: Target } [BRANCH] "if r[a] == r[b] (int) goto target";
            JneI = 0x54 { a: Reg, b: Reg, target: Target } [BRANCH] "if r[a] != r[b] (int) goto target";
            JltI = 0x55 { a: Reg, b: Reg, target: Target } [BRANCH] "if r[a] < r[b] (int) goto target";
            JleI = 0x56 { a: Reg, b: Reg, target: Target } [BRANCH] "if r[a] <= r[b] (int) goto target";
            JgtI = 0x57 { a: Reg, b: Reg, target: Target } [BRANCH] "if r[a] > r[b] (int) goto target";
            JgeI = 0x58 { a: Reg, b: Reg, target: Target } [BRANCH] "if r[a] >= r[b] (int) goto target";
            JeqImm = 0x59 { a: Reg, imm: Imm, target: Target } [BRANCH] "if r[a] == imm (int; imm fits in 16 bits) goto target";
            JneImm = 0x5a { a: Reg, imm: Imm, target: Target } [BRANCH] "if r[a] != imm (int; imm fits in 16 bits) goto target";
            JltImm = 0x5b { a: Reg, imm: Imm, target: Target } [BRANCH] "if r[a] < imm (int; imm fits in 16 bits) goto target";
            JleImm = 0x5c { a: Reg, imm: Imm, target: Target } [BRANCH] "if r[a] <= imm (int; imm fits in 16 bits) goto target";
            JgtImm = 0x5d { a: Reg, imm: Imm, target: Target } [BRANCH] "if r[a] > imm (int; imm fits in 16 bits) goto target";
            JgeImm = 0x5e { a: Reg, imm: Imm, target: Target } [BRANCH] "if r[a] >= imm (int; imm fits in 16 bits) goto target";

            Call = 0x60 { dst: Reg, func: FuncIdx, args: Reg } [ENDS_BLOCK, MAY_TRAP, ALLOC] "r[dst] := func(r[args..args+n]); the callee's registers start at r[args]; dst is 0 and unused when func returns nothing";
            CallNative = 0x61 { dst: Reg, import: ImportIdx, args: Reg } [ENDS_BLOCK, MAY_TRAP, ALLOC] "r[dst] := native import(r[args..args+n]); dst is 0 and unused for natives that return nothing";
            Ret = 0x62 { src: Reg } [TERMINATOR] "return r[src] to the caller's dst";
            NewClosure = 0x65 { dst: Reg, ty: TypeIdx, args: Reg } [ALLOC, MAY_TRAP] "r[dst] := new closure of closure type ty capturing r[args..args+n_captures]; dst has ty's function type";
            OptNone = 0x69 { dst: Reg } [] "r[dst] := none (dst has an option type)";
            OptSome = 0x6a { dst: Reg, src: Reg } [] "r[dst] := r[src], a reference of dst's option type's inner type";
            OptGet = 0x6b { dst: Reg, src: Reg } [MAY_TRAP] "r[dst] := the reference in option r[src] (traps if none)";
            JmpIfNone = 0x6c { src: Reg, target: Target } [BRANCH] "if option r[src] is none goto target";
            JmpIfSome = 0x6d { src: Reg, target: Target } [BRANCH] "if option r[src] holds a reference goto target";
            PairNew = 0x6e { dst: Reg, args: Reg } [] "r[dst] := the pair (r[args], r[args+1]) of dst's pair type";
            PairGet = 0x6f { dst: Reg, src: Reg, part: Count } [] "r[dst] := part 0 or 1 of the pair r[src]";
            ToIface = 0x67 { dst: Reg, src: Reg } [] "r[dst] := r[src], a struct or enum value seen as an interface it implements (dst's type)";
            CallIface = 0x68 { dst: Reg, args: Reg, method: Count } [ENDS_BLOCK, MAY_TRAP, ALLOC] "r[dst] := method `method` of the interface value in r[args], on that value and r[args+1..]: calls the implementing type's function, whose window starts at args; dst is 0 and unused when the method has no result";
            CallClosure = 0x66 { dst: Reg, args: Reg } [ENDS_BLOCK, MAY_TRAP, ALLOC] "r[dst] := call of the closure in r[args] with r[args+1..args+1+n]; the callee's registers start at r[args], so its first parameter is the closure; dst is 0 and unused when the function type has no result";
            RetVoid = 0x63 {} [TERMINATOR] "return from a function without a result";
            Unreachable = 0x64 {} [TERMINATOR, MAY_TRAP] "trap: control reached code the compiler proved unreachable";

            GetGlobal = 0x70 { dst: Reg, global: GlobalIdx } [] "r[dst] := globals[global]";
            SetGlobal = 0x71 { global: GlobalIdx, src: Reg } [] "globals[global] := r[src] (write barrier)";

            NewStruct = 0x80 { dst: Reg, ty: TypeIdx, args: Reg } [ALLOC, MAY_TRAP] "r[dst] := new struct or enum variant ty with fields r[args..args+n_fields] (a variant's dst has its enum's type)";
            GetField = 0x81 { dst: Reg, obj: Reg, field: FieldIdx } [] "r[dst] := r[obj].field (a struct, or a variant after AsVariant)";
            SetField = 0x82 { obj: Reg, field: FieldIdx, src: Reg } [] "r[obj].field := r[src] (write barrier)";
            GetTag = 0x83 { dst: Reg, src: Reg } [] "r[dst]:int := the tag (variant index) of enum value r[src]";
            AsVariant = 0x84 { dst: Reg, src: Reg, ty: TypeIdx } [MAY_TRAP] "r[dst] := r[src] seen as variant ty of its enum (traps if it is another variant)";

            NewArray = 0x90 { dst: Reg, ty: TypeIdx, args: Reg, count: Count } [ALLOC, MAY_TRAP] "r[dst] := new array ty of r[args..args+count]";
            ArrayFill = 0x91 { dst: Reg, ty: TypeIdx, val: Reg, len: Reg } [ALLOC, MAY_TRAP] "r[dst] := new array ty of r[len]:int copies of r[val] (traps if negative; fuel per element)";
            ArrayGet = 0x92 { dst: Reg, arr: Reg, idx: Reg } [MAY_TRAP] "r[dst] := r[arr][r[idx]] (traps out of bounds)";
            ArraySet = 0x93 { arr: Reg, idx: Reg, src: Reg } [MAY_TRAP] "r[arr][r[idx]] := r[src] (traps out of bounds; write barrier)";
            ArrayLen = 0x94 { dst: Reg, arr: Reg } [] "r[dst]:int := length of r[arr]";
            ArrayPush = 0x95 { arr: Reg, src: Reg } [ALLOC, MAY_TRAP] "append r[src] to r[arr]";
            ArrayInsert = 0x96 { arr: Reg, idx: Reg, src: Reg } [ALLOC, MAY_TRAP] "insert r[src] at r[idx] (0 <= idx <= len, else trap; fuel per moved element)";
            ArrayRemove = 0x97 { dst: Reg, arr: Reg, idx: Reg } [MAY_TRAP] "r[dst] := element r[idx], removed, later ones shift down (traps out of bounds)";
            ArraySort = 0x98 { arr: Reg } [MAY_TRAP] "sort r[arr] ascending; elements int, float (total order) or str (byte-wise); fuel n*log2(n)";

            ConcatN = 0xa0 { dst: Reg, args: Reg, count: Count } [ALLOC, MAY_TRAP] "r[dst]:str := r[args] + ... + r[args+count-1] (fuel per 8 bytes)";
            StrLen = 0xa1 { dst: Reg, src: Reg } [] "r[dst]:int := byte length of r[src]:str";
        }
    };
}

macro_rules! define_isa {
    ($( $name:ident = $code:literal { $($field:ident : $kind:ident),* } [$($flag:ident),*] $sem:literal ;)*) => {
        /// One decoded instruction. Operand meanings are in [`OPCODES`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Instr {
            $( $name { $($field: $kind),* } ),*
        }

        /// The opcode byte of each instruction.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub enum Opcode {
            $( $name = $code ),*
        }

        /// The instruction table, in opcode order.
        pub const OPCODES: &[OpInfo] = &[
            $( OpInfo {
                opcode: Opcode::$name,
                name: stringify!($name),
                operands: &[$( (stringify!($field), OperandKind::$kind) ),*],
                flags: 0 $(| flags::$flag)*,
                semantics: $sem,
            } ),*
        ];

        impl Opcode {
            /// The opcode with this byte, if any.
            pub fn from_byte(byte: u8) -> Option<Opcode> {
                match byte {
                    $( $code => Some(Opcode::$name), )*
                    _ => None,
                }
            }
        }

        impl Instr {
            /// This instruction's opcode.
            pub fn opcode(&self) -> Opcode {
                match self { $( Instr::$name { .. } => Opcode::$name ),* }
            }

            /// Operand values in table order, as raw numbers (immediates sign-extended).
            pub fn operand_values(&self) -> Operands {
                let mut ops = Operands::default();
                match *self {
                    $( #[allow(unused_variables)] Instr::$name { $($field),* } => {
                        $( ops.push(OperandKind::$kind, $field.raw()); )*
                    } )*
                }
                ops
            }

            /// Appends the binary encoding: opcode byte, then each operand as LEB128.
            pub fn encode_into(&self, out: &mut Vec<u8>) {
                out.push(self.opcode() as u8);
                for (_, value) in self.operand_values().iter() {
                    crate::encode::write_sleb(out, value);
                }
            }

            /// Builds the instruction `opcode` from operand values produced by `next`.
            /// `next` gets each operand's kind and returns its value or an error.
            pub fn from_operands<E>(
                opcode: Opcode,
                mut next: impl FnMut(OperandKind) -> Result<i64, E>,
            ) -> Result<Instr, E> {
                Ok(match opcode {
                    $( Opcode::$name => Instr::$name {
                        $( $field: $kind::from_raw(next(OperandKind::$kind)?), )*
                    }, )*
                })
            }
        }
    };
}

for_each_op!(define_isa);

impl Opcode {
    /// The table row of this opcode.
    pub fn info(self) -> &'static OpInfo {
        // The table is small; a linear scan keeps it the single source of truth.
        OPCODES.iter().find(|info| info.opcode == self).expect("every opcode has a table row")
    }
}

impl Instr {
    /// The branch target, for instructions with the `BRANCH` flag.
    pub fn branch_target(&self) -> Option<Target> {
        self.operand_values()
            .iter()
            .find(|(kind, _)| *kind == OperandKind::Target)
            .map(|(_, v)| Target(v as u32))
    }
}

/// `leaders[pc]` is true where a basic block starts: the entry, every branch target, and
/// every instruction after a branch, a call or a terminator. Fuel is charged per block.
pub fn block_leaders(code: &[Instr]) -> Vec<bool> {
    let mut leaders = vec![false; code.len()];
    if let Some(first) = leaders.first_mut() {
        *first = true;
    }
    for (pc, instr) in code.iter().enumerate() {
        let f = instr.opcode().info().flags;
        if f & (flags::BRANCH | flags::ENDS_BLOCK | flags::TERMINATOR) != 0 && pc + 1 < code.len() {
            leaders[pc + 1] = true;
        }
        if let Some(t) = instr.branch_target() {
            if let Some(l) = leaders.get_mut(t.index()) {
                *l = true;
            }
        }
    }
    leaders
}

/// The instruction table as Markdown, for `spec/bytecode.md` (a test keeps them equal).
pub fn markdown_table() -> String {
    let mut out = String::from("| opcode | name | operands | flags | semantics |\n|---|---|---|---|---|\n");
    for info in OPCODES {
        let operands: Vec<String> =
            info.operands.iter().map(|(name, kind)| format!("{name}: {kind:?}")).collect();
        let mut fl = Vec::new();
        for (bit, name) in [
            (flags::TERMINATOR, "terminator"),
            (flags::BRANCH, "branch"),
            (flags::ENDS_BLOCK, "ends-block"),
            (flags::MAY_TRAP, "may-trap"),
            (flags::ALLOC, "safepoint"),
        ] {
            if info.flags & bit != 0 {
                fl.push(name);
            }
        }
        out.push_str(&format!(
            "| 0x{:02x} | `{}` | {} | {} | {} |\n",
            info.opcode as u8,
            info.name,
            operands.join(", "),
            fl.join(", "),
            info.semantics.replace('|', "\\|")
        ));
    }
    out
}

/// Up to four operands of one instruction, with their kinds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Operands {
    items: [(Option<OperandKind>, i64); 4],
    len: usize,
}

impl Operands {
    fn push(&mut self, kind: OperandKind, value: i64) {
        self.items[self.len] = (Some(kind), value);
        self.len += 1;
    }

    /// The operands as `(kind, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (OperandKind, i64)> + '_ {
        self.items[..self.len]
            .iter()
            .map(|&(kind, value)| (kind.expect("pushed operands have a kind"), value))
    }
}

/// Conversion between an operand newtype and its raw encoded number.
trait RawOperand: Sized {
    fn raw(self) -> i64;
    fn from_raw(raw: i64) -> Self;
}

macro_rules! unsigned_operand {
    ($($t:ident),*) => {$(
        impl RawOperand for $t {
            fn raw(self) -> i64 { i64::from(self.0) }
            // Decoding range-checks before calling this; truncation cannot happen there.
            fn from_raw(raw: i64) -> Self { $t(raw as u32) }
        }
    )*};
}
unsigned_operand!(Reg, ConstIdx, FuncIdx, TypeIdx, GlobalIdx, FieldIdx, ImportIdx, Target, Count);

impl RawOperand for Imm {
    fn raw(self) -> i64 {
        i64::from(self.0)
    }
    fn from_raw(raw: i64) -> Self {
        Imm(raw as i32)
    }
}

impl OperandKind {
    /// The range of raw values this operand kind can encode.
    pub fn raw_range(self) -> (i64, i64) {
        match self {
            OperandKind::Imm => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (0, i64::from(u32::MAX)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for info in OPCODES {
            assert!(seen.insert(info.opcode as u8), "duplicate opcode {}", info.name);
            assert_eq!(Opcode::from_byte(info.opcode as u8), Some(info.opcode));
            assert!(info.operands.len() <= 4);
        }
    }
}
