//! The in-memory module model: types, constants, imports, globals, functions, debug info.
//!
//! This is what the compiler produces and the decoder returns. It carries no run-time
//! state and knows nothing about how the runtime executes it.

use crate::isa::Instr;

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub u32);
        impl $name {
            /// The index as a `usize`.
            pub fn index(self) -> usize { self.0 as usize }
        }
    };
}

index_type!(/// A register of the current function.
    Reg);
index_type!(/// An entry of the module's constant pool.
    ConstIdx);
index_type!(/// A function of the module.
    FuncIdx);
index_type!(/// A composite (struct or array) type of the module.
    TypeIdx);
index_type!(/// A module global.
    GlobalIdx);
index_type!(/// A field of a struct type.
    FieldIdx);
index_type!(/// An imported native function.
    ImportIdx);
index_type!(/// A branch target: an instruction index in the current function.
    Target);
index_type!(/// A count of consecutive registers.
    Count);

/// A signed 32-bit immediate operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Imm(pub i32);

/// The type of a register, a field, a global or an array element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 64-bit two's complement integer.
    Int,
    /// IEEE-754 binary64.
    Float,
    /// `true` or `false`, stored as 1 or 0.
    Bool,
    /// Reference to an immutable UTF-8 string.
    Str,
    /// Reference to an object of a composite type of the module.
    Ref(TypeIdx),
    /// An optional `int`: some value or none. Occupies two slots where it is stored
    /// (registers, fields, globals): the value, then 1 for some or 0 for none.
    OptInt,
    /// An optional `float`, stored like [`ValType::OptInt`].
    OptFloat,
    /// An optional `bool`, stored like [`ValType::OptInt`].
    OptBool,
    /// A pair of one-slot values of the pair type (`CompositeType::Pair`), stored inline
    /// in two slots like an optional value; either may be a reference.
    Pair(TypeIdx),
}

impl ValType {
    /// Whether values of this type are heap references (GC roots when held in registers).
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Str | ValType::Ref(_))
    }

    /// The type inside an optional value type (`OptInt` holds an `Int`).
    pub fn opt_inner(self) -> Option<ValType> {
        match self {
            ValType::OptInt => Some(ValType::Int),
            ValType::OptFloat => Some(ValType::Float),
            ValType::OptBool => Some(ValType::Bool),
            _ => None,
        }
    }

    /// The optional value type holding `self`, if `self` is a value type.
    pub fn optional(self) -> Option<ValType> {
        match self {
            ValType::Int => Some(ValType::OptInt),
            ValType::Float => Some(ValType::OptFloat),
            ValType::Bool => Some(ValType::OptBool),
            _ => None,
        }
    }

    /// How many 64-bit slots a value of this type occupies: 2 for optional values.
    pub fn width(self) -> usize {
        if self.opt_inner().is_some() || matches!(self, ValType::Pair(_)) {
            2
        } else {
            1
        }
    }
}

/// A composite type: the shape of a heap object.
#[derive(Clone, Debug, PartialEq)]
pub enum CompositeType {
    /// A struct: named fields stored inline in the object.
    Struct(StructType),
    /// A growable array of elements of one type.
    Array(ValType),
    /// An enum: a closed set of variants, each a composite type of its own. References to
    /// an enum point at an object of one of its variants.
    Enum(EnumType),
    /// One variant of exactly one enum: payload fields stored inline, as a struct's.
    Variant(StructType),
    /// A function type: what a closure register holds. Values are closure objects.
    Func(Signature),
    /// The object of one closure: the function its calls run, and the values it
    /// captured, stored inline like struct fields.
    Closure(ClosureType),
    /// An interface: a reference to an object of any struct or enum that implements it.
    Interface(InterfaceType),
    /// An optional reference: a value of the (reference) type inside, or none. No
    /// object: none is the null reference, which only `OptGet`, `JmpIfNone` and
    /// `JmpIfSome` look at.
    Option(ValType),
    /// Two one-slot values stored inline where a value of `ValType::Pair` of this type is
    /// (no object): what a `Result` of a value and a reference, or of two values of one
    /// type, is made of.
    Pair(ValType, ValType),
}

/// An interface type and its implementations.
#[derive(Clone, Debug, PartialEq)]
pub struct InterfaceType {
    /// The interface's name, for diagnostics and the disassembler.
    pub name: String,
    /// Its methods' signatures, without the receiver.
    pub methods: Vec<Signature>,
    /// The struct and enum types that implement it, each with the function of each
    /// method (in order), whose first parameter is a reference to that type.
    pub impls: Vec<(TypeIdx, Vec<FuncIdx>)>,
}

/// A closure's layout.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosureType {
    /// The function type its values have.
    pub fn_type: TypeIdx,
    /// The function a call runs: its first parameter is the closure object itself (of
    /// this type), the others and its result are the function type's.
    pub func: FuncIdx,
    /// The captured values' types, in order.
    pub captures: Vec<ValType>,
}

/// An enum type.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumType {
    /// The enum's name, for diagnostics and the disassembler.
    pub name: String,
    /// Its variants' types, by tag: variant `i` has tag `i`.
    pub variants: Vec<TypeIdx>,
}

/// A struct type.
#[derive(Clone, Debug, PartialEq)]
pub struct StructType {
    /// The struct's name, for diagnostics and the disassembler.
    pub name: String,
    /// Field names and types, in storage order.
    pub fields: Vec<(String, ValType)>,
}

/// A constant-pool entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// An integer.
    Int(i64),
    /// A float, compared bit for bit.
    Float(f64),
    /// A string.
    Str(String),
}

impl Const {
    /// The type a register loaded from this constant has.
    pub fn val_type(&self) -> ValType {
        match self {
            Const::Int(_) => ValType::Int,
            Const::Float(_) => ValType::Float,
            Const::Str(_) => ValType::Str,
        }
    }
}

/// The signature of a function or native: parameter types and an optional result.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Parameter types, in order.
    pub params: Vec<ValType>,
    /// The result type; `None` for functions that return nothing.
    pub result: Option<ValType>,
}

/// A native function the module imports, by name and signature.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// Who provides it.
    pub kind: ImportKind,
    /// The native's name, e.g. `str_slice`, or the host function's (an `extern fn`).
    pub name: String,
    /// The signature the module expects: a built-in's is checked when the module is
    /// verified, a host function's when an instance is linked.
    pub sig: Signature,
}

/// Who provides an import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// A built-in native of the runtime (`crate::natives`).
    Builtin,
    /// A function the embedding host registers, linked when an instance is created.
    Host,
}

/// A function the host may call by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    /// The name the host calls it by (the function's name in the entry file).
    pub name: String,
    /// The function.
    pub func: FuncIdx,
}

/// A module global: one per running instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Global {
    /// Source name.
    pub name: String,
    /// Type of the global.
    pub ty: ValType,
}

/// One row of a function's line table: instructions from `pc` on come from `line:col`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineEntry {
    /// First instruction covered by this row.
    pub pc: u32,
    /// 1-based source line.
    pub line: u32,
    /// 1-based source column.
    pub col: u32,
}

/// A function: signature, register types and code.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// Name used in stack traces (`main`, `Point.norm`).
    pub name: String,
    /// Parameters and result. Parameter `i` arrives in register `i`.
    pub sig: Signature,
    /// Type of every register; the first `sig.params.len()` match the parameters.
    pub regs: Vec<ValType>,
    /// The instructions.
    pub code: Vec<Instr>,
    /// Index into [`Module::files`] of the source file.
    pub file: u32,
    /// Line table, sorted by `pc`.
    pub lines: Vec<LineEntry>,
}

/// A whole bytecode module.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    /// Composite types.
    pub types: Vec<CompositeType>,
    /// Constant pool.
    pub consts: Vec<Const>,
    /// Imported natives.
    pub imports: Vec<Import>,
    /// Globals, initialised to their type's default value when an instance starts.
    pub globals: Vec<Global>,
    /// Functions.
    pub funcs: Vec<Function>,
    /// Source file names, relative to the entry file's folder.
    pub files: Vec<String>,
    /// `main`: what `vmrun` runs. No parameters, no result.
    pub entry: FuncIdx,
    /// The function that initialises the globals, run once when an instance is created:
    /// no parameters, no result. `None` when no global needs it.
    pub init: Option<FuncIdx>,
    /// The functions a host may call by name (`main` among them), sorted by name.
    pub exports: Vec<Export>,
}

impl Function {
    /// The source position of instruction `pc`, from the line table.
    pub fn position(&self, pc: usize) -> Option<(u32, u32)> {
        let row = self.lines.partition_point(|e| e.pc as usize <= pc);
        row.checked_sub(1).map(|i| (self.lines[i].line, self.lines[i].col))
    }
}
