//! The run form of an instruction: what the interpreter dispatches on.
//!
//! One `Op` per bytecode instruction, at the same index (so pcs, line tables and traces
//! carry over unchanged), with operands narrowed to 16 bits and pre-resolved: constants
//! become raw bits or instance string slots, imports become native numbers, sort gets its
//! element kind; conditional branches know whether they jump backwards (a loop
//! back-edge, where fuel is checked). Eight bytes per op keeps the code dense.

/// Element kinds `ArraySort` knows how to order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKind {
    /// Signed integers.
    Int,
    /// Floats in IEEE total order.
    Float,
    /// Strings, byte-wise.
    Str,
}

/// A register index, checked by the verifier to be below the function's register count.
pub type R = u16;

#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub enum Op {
    Nop,
    Mov {
        dst: R,
        src: R,
    },
    /// `dst := imm` for ints and bools.
    LoadI {
        dst: R,
        imm: i32,
    },
    /// `dst := consts[k]` (raw bits of an int or float constant).
    LoadBits {
        dst: R,
        k: u32,
    },
    /// `dst := instance string constant k`.
    LoadStr {
        dst: R,
        k: u32,
    },
    AddI {
        dst: R,
        a: R,
        b: R,
    },
    SubI {
        dst: R,
        a: R,
        b: R,
    },
    MulI {
        dst: R,
        a: R,
        b: R,
    },
    DivI {
        dst: R,
        a: R,
        b: R,
    },
    RemI {
        dst: R,
        a: R,
        b: R,
    },
    AndI {
        dst: R,
        a: R,
        b: R,
    },
    OrI {
        dst: R,
        a: R,
        b: R,
    },
    XorI {
        dst: R,
        a: R,
        b: R,
    },
    ShlI {
        dst: R,
        a: R,
        b: R,
    },
    ShrI {
        dst: R,
        a: R,
        b: R,
    },
    NegI {
        dst: R,
        src: R,
    },
    /// The verifier limits the immediate to 16 bits (rule F5).
    AddImm {
        dst: R,
        a: R,
        imm: i16,
    },
    AddF {
        dst: R,
        a: R,
        b: R,
    },
    SubF {
        dst: R,
        a: R,
        b: R,
    },
    MulF {
        dst: R,
        a: R,
        b: R,
    },
    DivF {
        dst: R,
        a: R,
        b: R,
    },
    RemF {
        dst: R,
        a: R,
        b: R,
    },
    NegF {
        dst: R,
        src: R,
    },
    EqI {
        dst: R,
        a: R,
        b: R,
    },
    NeI {
        dst: R,
        a: R,
        b: R,
    },
    LtI {
        dst: R,
        a: R,
        b: R,
    },
    LeI {
        dst: R,
        a: R,
        b: R,
    },
    EqF {
        dst: R,
        a: R,
        b: R,
    },
    NeF {
        dst: R,
        a: R,
        b: R,
    },
    LtF {
        dst: R,
        a: R,
        b: R,
    },
    LeF {
        dst: R,
        a: R,
        b: R,
    },
    EqS {
        dst: R,
        a: R,
        b: R,
    },
    NeS {
        dst: R,
        a: R,
        b: R,
    },
    LtS {
        dst: R,
        a: R,
        b: R,
    },
    LeS {
        dst: R,
        a: R,
        b: R,
    },
    Not {
        dst: R,
        src: R,
    },
    IntToFloat {
        dst: R,
        src: R,
    },
    FloatToInt {
        dst: R,
        src: R,
    },
    IntToStr {
        dst: R,
        src: R,
    },
    FloatToStr {
        dst: R,
        src: R,
    },
    BoolToStr {
        dst: R,
        src: R,
    },
    /// `Switch`: continue at `pc + min(r[src] as unsigned, count)`, `pc` being the
    /// instruction after the switch (its table of `Jmp`s, then what follows it).
    Switch {
        src: R,
        count: u32,
    },
    /// Forward jump.
    Jmp {
        target: u32,
    },
    /// Backward jump: a loop back-edge, where fuel and the interrupt flag are checked.
    Loop {
        target: u32,
    },
    JmpIf {
        back: bool,
        cond: R,
        target: u16,
    },
    JmpIfNot {
        back: bool,
        cond: R,
        target: u16,
    },
    JeqI {
        back: bool,
        a: R,
        b: R,
        target: u16,
    },
    JneI {
        back: bool,
        a: R,
        b: R,
        target: u16,
    },
    JltI {
        back: bool,
        a: R,
        b: R,
        target: u16,
    },
    JleI {
        back: bool,
        a: R,
        b: R,
        target: u16,
    },
    JgtI {
        back: bool,
        a: R,
        b: R,
        target: u16,
    },
    JgeI {
        back: bool,
        a: R,
        b: R,
        target: u16,
    },
    JeqImm {
        back: bool,
        a: R,
        imm: i16,
        target: u16,
    },
    JneImm {
        back: bool,
        a: R,
        imm: i16,
        target: u16,
    },
    JltImm {
        back: bool,
        a: R,
        imm: i16,
        target: u16,
    },
    JleImm {
        back: bool,
        a: R,
        imm: i16,
        target: u16,
    },
    JgtImm {
        back: bool,
        a: R,
        imm: i16,
        target: u16,
    },
    JgeImm {
        back: bool,
        a: R,
        imm: i16,
        target: u16,
    },
    Call {
        dst: R,
        args: R,
        func: u16,
    },
    /// `Call` of a function whose index does not fit in 16 bits.
    CallFar {
        dst: R,
        args: R,
        func: U24,
    },
    CallNative {
        dst: R,
        args: R,
        native: u16,
    },
    Ret {
        src: R,
    },
    RetVoid,
    Unreachable,
    GetGlobal {
        dst: R,
        global: u32,
    },
    /// `GetGlobal` of a reference-typed global, which is null until its initialiser
    /// stores it: reading it then traps.
    GetGlobalRef {
        dst: R,
        global: u32,
    },
    SetGlobal {
        global: u32,
        src: R,
    },
    NewStruct {
        dst: R,
        ty: U24,
        args: R,
    },
    GetField {
        dst: R,
        obj: R,
        field: u16,
    },
    SetField {
        obj: R,
        field: u16,
        src: R,
    },
    GetTag {
        dst: R,
        src: R,
    },
    /// `OptGet`: the reference in an option, trapping on none.
    OptGet {
        dst: R,
        src: R,
    },
    // Optional values occupy two slots, the value and then 1 (some) or 0 (none), and a
    // pair its two parts; these are the forms of `Mov`, `Ret`, `GetField`, `SetField`,
    // `GetGlobal` and `SetGlobal` on two-slot values, and of `OptNone`, `OptSome` and
    // `OptGet` on optional values (`PairNew` and `PairGet` become `Mov2` and `Mov`).
    Mov2 {
        dst: R,
        src: R,
    },
    Ret2 {
        src: R,
    },
    OptClear {
        dst: R,
    },
    OptWrap {
        dst: R,
        src: R,
    },
    OptPayload {
        dst: R,
        src: R,
    },
    GetField2 {
        dst: R,
        obj: R,
        field: u16,
    },
    SetField2 {
        obj: R,
        field: u16,
        src: R,
    },
    GetGlobal2 {
        dst: R,
        global: u32,
    },
    /// `GetGlobal2` of a pair of two references, which are both null until the global's
    /// initialiser stores it: reading it then traps.
    GetGlobal2Ref {
        dst: R,
        global: u32,
    },
    SetGlobal2 {
        global: u32,
        src: R,
    },
    /// A call of an interface method on the value in `args`: `site` names the
    /// (interface, method) in the module's dispatch table.
    CallIface {
        dst: R,
        args: R,
        site: u16,
    },
    /// A call of the closure in `args` (its function reads its captures from it).
    CallClosure {
        dst: R,
        args: R,
    },
    /// `AsVariant`: the run form needs only the variant's tag.
    AsVariant {
        dst: R,
        src: R,
        tag: u16,
    },
    NewArray {
        elem_ref: bool,
        dst: R,
        args: R,
        count: u16,
    },
    ArrayFill {
        elem_ref: bool,
        dst: R,
        val: R,
        len: R,
    },
    ArrayGet {
        dst: R,
        arr: R,
        idx: R,
    },
    ArraySet {
        arr: R,
        idx: R,
        src: R,
    },
    ArrayLen {
        dst: R,
        arr: R,
    },
    ArrayPush {
        arr: R,
        src: R,
    },
    ArrayInsert {
        arr: R,
        idx: R,
        src: R,
    },
    ArrayRemove {
        dst: R,
        arr: R,
        idx: R,
    },
    ArraySort {
        kind: SortKind,
        arr: R,
    },
    ConcatN {
        dst: R,
        args: R,
        count: u16,
    },
    StrLen {
        dst: R,
        src: R,
    },
}

const _: () = assert!(std::mem::size_of::<Op>() == 8);

/// A 24-bit index (functions and types reach 2^24), in three bytes so the ops that
/// carry one stay 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct U24([u8; 3]);

impl U24 {
    /// `v` must be below 2^24 (verifier rule M5 bounds every index that gets here).
    pub fn new(v: u32) -> U24 {
        debug_assert!(v < 1 << 24);
        let [a, b, c, _] = v.to_le_bytes();
        U24([a, b, c])
    }

    #[inline(always)]
    pub fn get(self) -> usize {
        let [a, b, c] = self.0;
        u32::from_le_bytes([a, b, c, 0]) as usize
    }
}
