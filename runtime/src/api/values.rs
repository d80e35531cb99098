//! Values crossing the API boundary: arguments and results of exported functions and of
//! host functions, copied into and out of an instance's heap.

use crate::instance::Vm;
use crate::interp::trap::Stop;
use kiln_bytecode::{CompositeType, ValType};

/// A value passed to or returned from Kiln code.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// `int`
    Int(i64),
    /// `float`
    Float(f64),
    /// `bool`
    Bool(bool),
    /// `str`
    Str(String),
    /// An array (`[int]`, `[str]`, `[[float]]`, ...): every element of the element type.
    Array(Vec<Val>),
}

/// The type of a [`Val`], as signatures name it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// `[T]`
    Array(Box<Type>),
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Str => f.write_str("str"),
            Type::Array(elem) => write!(f, "[{elem}]"),
        }
    }
}

impl Val {
    /// Whether this value has type `ty` (an empty array has every array type).
    pub fn has_type(&self, ty: &Type) -> bool {
        match (self, ty) {
            (Val::Int(_), Type::Int)
            | (Val::Float(_), Type::Float)
            | (Val::Bool(_), Type::Bool)
            | (Val::Str(_), Type::Str) => true,
            (Val::Array(items), Type::Array(elem)) => items.iter().all(|v| v.has_type(elem)),
            _ => false,
        }
    }

    /// A short description of the value's kind, for errors.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Val::Int(_) => "int",
            Val::Float(_) => "float",
            Val::Bool(_) => "bool",
            Val::Str(_) => "str",
            Val::Array(_) => "array",
        }
    }
}

/// The API type of module value type `ty`, if a host can pass it: scalars, strings and
/// arrays of them, nested at most [`MAX_ARRAY_DEPTH`] deep (a hand-made module may even
/// declare an array type that contains itself).
pub(crate) fn api_type(module: &kiln_bytecode::Module, ty: ValType) -> Option<Type> {
    fn go(module: &kiln_bytecode::Module, ty: ValType, depth: usize) -> Option<Type> {
        Some(match ty {
            ValType::Int => Type::Int,
            ValType::Float => Type::Float,
            ValType::Bool => Type::Bool,
            ValType::Str => Type::Str,
            ValType::Ref(t) if depth < MAX_ARRAY_DEPTH => match module.types.get(t.index())? {
                CompositeType::Array(elem) => Type::Array(Box::new(go(module, *elem, depth + 1)?)),
                _ => return None,
            },
            _ => return None,
        })
    }
    go(module, ty, 0)
}

/// How deeply arrays passed across the API may nest.
pub const MAX_ARRAY_DEPTH: usize = 32;

/// Writes `val` (of type `ty`, already checked) into the instance: a scalar's bits, or a
/// new object. Every object made on the way is pushed on `heap.temp_roots` (the caller
/// truncates it), so a collection between allocations keeps them.
pub(crate) fn to_bits(vm: &mut Vm, val: &Val, ty: &Type) -> Result<u64, Stop> {
    let bits = match (val, ty) {
        (Val::Int(v), _) => *v as u64,
        (Val::Float(v), _) => v.to_bits(),
        (Val::Bool(v), _) => u64::from(*v),
        (Val::Str(s), _) => {
            vm.charge_bytes(s.len())?;
            let r = vm.new_str(s.as_bytes())?;
            vm.heap.temp_roots.push(r);
            r
        }
        (Val::Array(items), Type::Array(elem)) => {
            let mut bits = Vec::with_capacity(items.len());
            for item in items {
                bits.push(to_bits(vm, item, elem)?);
            }
            vm.charge(items.len() as u64)?;
            let r = vm.new_array(matches!(**elem, Type::Str | Type::Array(_)), &bits)?;
            vm.heap.temp_roots.push(r);
            r
        }
        (Val::Array(_), _) => unreachable!("checked against the type first"),
    };
    Ok(bits)
}

/// Reads a value of type `ty` out of the instance (copying strings and arrays).
pub(crate) fn from_bits(vm: &Vm, bits: u64, ty: &Type) -> Val {
    match ty {
        Type::Int => Val::Int(bits as i64),
        Type::Float => Val::Float(f64::from_bits(bits)),
        Type::Bool => Val::Bool(bits != 0),
        Type::Str => Val::Str(crate::interp::ref_str(vm, bits).unwrap_or_default().to_owned()),
        Type::Array(elem) => {
            let items = crate::interp::ref_array(vm, bits).unwrap_or_default();
            Val::Array(items.iter().map(|&b| from_bits(vm, b, elem)).collect())
        }
    }
}
