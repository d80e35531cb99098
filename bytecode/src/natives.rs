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
    /// The import name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [NativeType],
    /// Result type, if any.
    pub result: Option<NativeType>,
}

macro_rules! natives {
    ($( $name:literal ( $($p:ident),* ) $(-> $r:ident)? ;)*) => {
        /// Every built-in native, in a fixed order.
        pub const NATIVES: &[NativeDecl] = &[
            $( NativeDecl {
                name: $name,
                params: &[$(NativeType::$p),*],
                result: natives!(@result $($r)?),
            } ),*
        ];
    };
    (@result) => { None };
    (@result $r:ident) => { Some(NativeType::$r) };
}

natives! {
    "print"(Str);
    "println"(Str);
    "eprint"(Str);
    "eprintln"(Str);
    "panic"(Str);
    "assert"(Bool);
    "assert_msg"(Bool, Str);
    "exit"(Int);
    "args"() -> StrArray;
    "clock_ns"() -> Int;
    "abs_int"(Int) -> Int;
    "abs_float"(Float) -> Float;
    "min_int"(Int, Int) -> Int;
    "max_int"(Int, Int) -> Int;
    "min_float"(Float, Float) -> Float;
    "max_float"(Float, Float) -> Float;
    "sqrt"(Float) -> Float;
    "floor"(Float) -> Float;
    "ceil"(Float) -> Float;
    "round"(Float) -> Float;
    "sin"(Float) -> Float;
    "cos"(Float) -> Float;
    "exp"(Float) -> Float;
    "ln"(Float) -> Float;
    "pow"(Float, Float) -> Float;
    "str_slice"(Str, Int, Int) -> Str;
    "str_byte_at"(Str, Int) -> Int;
    "str_contains"(Str, Str) -> Bool;
    "str_starts_with"(Str, Str) -> Bool;
    "str_ends_with"(Str, Str) -> Bool;
    "str_split"(Str, Str) -> StrArray;
    "str_trim"(Str) -> Str;
    "from_char_code"(Int) -> Str;
}

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
