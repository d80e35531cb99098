//! Types as the compiler sees them.

/// A Kiln type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// The type of statements and functions without a result.
    Unit,
    /// The type of `return`, `break`, `continue` and `panic`: no value is ever produced.
    Never,
    /// `[T]`
    Array(Box<Ty>),
    /// A struct, by index in [`crate::sema::items::Items::structs`].
    Struct(usize),
    /// An enum, by index in [`crate::sema::items::Items::enums`].
    Enum(usize),
    /// A type error was already reported; suppresses follow-on errors.
    Error,
}

impl Ty {
    /// Whether values of this type need a register.
    pub fn has_value(&self) -> bool {
        !matches!(self, Ty::Unit | Ty::Never | Ty::Error)
    }

    /// Whether `self` can be used where `want` is expected.
    pub fn fits(&self, want: &Ty) -> bool {
        self == want || matches!(self, Ty::Never | Ty::Error) || matches!(want, Ty::Error)
    }
}
