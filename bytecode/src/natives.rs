//! The built-in natives: names and signatures the compiler imports and the runtime provides.
//!
//! A module names each native it uses in its import section; the runtime links imports by
//! name when a module is loaded and rejects a signature that differs from the one here.

use crate::module::{CompositeType, Module, Signature, ValType};

/// A parameter or result type in a native's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeType {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// `[str]`: any module array type whose element type is `str`.
    StrArray,
}

/// One built-in native.
#[derive(Debug)]
pub struct NativeDecl {
    /// Its identity.
    pub id: Native,
    /// The import name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [NativeType],
    /// Result type, if any.
    pub result: Option<NativeType>,
}

macro_rules! natives {
    ($( $id:ident = $name:literal ( $($p:ident),* ) $(-> $r:ident)? ;)*) => {
        /// Every built-in native, in a fixed order.
        pub const NATIVES: &[NativeDecl] = &[
            $( NativeDecl {
                id: Native::$id,
                name: $name,
                params: &[$(NativeType::$p),*],
                result: natives!(@result $($r)?),
            } ),*
        ];

        /// Names a built-in native, so the runtime can dispatch on it with a `match`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Native {
            $( $id ),*
        }
    };
    (@result) => { None };
    (@result $r:ident) => { Some(NativeType::$r) };
}

natives! {
    Print = "print"(Str);
    Println = "println"(Str);
    Eprint = "eprint"(Str);
    Eprintln = "eprintln"(Str);
    Panic = "panic"(Str);
    Assert = "assert"(Bool);
    AssertMsg = "assert_msg"(Bool, Str);
    Exit = "exit"(Int);
    Args = "args"() -> StrArray;
    ClockNs = "clock_ns"() -> Int;
    AbsInt = "abs_int"(Int) -> Int;
    AbsFloat = "abs_float"(Float) -> Float;
    MinInt = "min_int"(Int, Int) -> Int;
    MaxInt = "max_int"(Int, Int) -> Int;
    MinFloat = "min_float"(Float, Float) -> Float;
    MaxFloat = "max_float"(Float, Float) -> Float;
    Sqrt = "sqrt"(Float) -> Float;
    Floor = "floor"(Float) -> Float;
    Ceil = "ceil"(Float) -> Float;
    Round = "round"(Float) -> Float;
    Sin = "sin"(Float) -> Float;
    Cos = "cos"(Float) -> Float;
    Exp = "exp"(Float) -> Float;
    Ln = "ln"(Float) -> Float;
    Pow = "pow"(Float, Float) -> Float;
    StrSlice = "str_slice"(Str, Int, Int) -> Str;
    StrByteAt = "str_byte_at"(Str, Int) -> Int;
    StrContains = "str_contains"(Str, Str) -> Bool;
    StrStartsWith = "str_starts_with"(Str, Str) -> Bool;
    StrEndsWith = "str_ends_with"(Str, Str) -> Bool;
    StrSplit = "str_split"(Str, Str) -> StrArray;
    StrTrim = "str_trim"(Str) -> Str;
    FromCharCode = "from_char_code"(Int) -> Str;
    StrFind = "str_find"(Str, Str) -> Int;
    StrIsInt = "str_is_int"(Str) -> Bool;
    StrToInt = "str_to_int"(Str) -> Int;
    StrIsFloat = "str_is_float"(Str) -> Bool;
    StrToFloat = "str_to_float"(Str) -> Float;
    HashInt = "hash_int"(Int) -> Int;
    HashStr = "hash_str"(Str) -> Int;
    MapModified = "map_modified"();
    MissingKey = "missing_key"(Str);
    // Capabilities (the `fs`, `env` and `io` modules): each answers with an array whose
    // first element says how it went ("ok", "err", "eof"); see stdlib/fs.kiln.
    FsReadText = "fs_read_text"(Str) -> StrArray;
    FsWriteText = "fs_write_text"(Str, Str) -> StrArray;
    FsList = "fs_list"(Str) -> StrArray;
    EnvGet = "env_get"(Str) -> StrArray;
    IoReadLine = "io_read_line"() -> StrArray;
}

// The run form numbers host imports after the built-ins, in 16 bits, with room left by
// `limits::MAX_IMPORTS` for at most 256 built-ins.
const _: () = assert!(NATIVES.len() <= 256);

/// The native with this name and its index in [`NATIVES`].
pub fn find(name: &str) -> Option<(usize, &'static NativeDecl)> {
    NATIVES.iter().enumerate().find(|(_, d)| d.name == name)
}

impl NativeType {
    /// Whether a module value type `ty` is this native type.
    pub fn matches(self, ty: ValType, module: &Module) -> bool {
        match (self, ty) {
            (NativeType::Int, ValType::Int)
            | (NativeType::Float, ValType::Float)
            | (NativeType::Bool, ValType::Bool)
            | (NativeType::Str, ValType::Str) => true,
            (NativeType::StrArray, ValType::Ref(t)) => {
                matches!(module.types.get(t.index()), Some(CompositeType::Array(ValType::Str)))
            }
            _ => false,
        }
    }
}

impl NativeDecl {
    /// Whether an import signature in `module` matches this declaration.
    pub fn matches(&self, sig: &Signature, module: &Module) -> bool {
        sig.params.len() == self.params.len()
            && self.params.iter().zip(&sig.params).all(|(p, ty)| p.matches(*ty, module))
            && match (self.result, sig.result) {
                (None, None) => true,
                (Some(p), Some(ty)) => p.matches(ty, module),
                _ => false,
            }
    }
}
