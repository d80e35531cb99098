//! Compile-time evaluation of `const` initialisers. The arithmetic here is the run-time
//! arithmetic (wrapping, truncating, trapping on zero divisors), so folding never changes
//! what a program prints.

use crate::syntax::ast::*;

/// A compile-time value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstVal {
    /// `int`
    Int(i64),
    /// `float`
    Float(f64),
    /// `bool`
    Bool(bool),
    /// `str`
    Str(String),
}

/// Evaluates `e`; `lookup` gives the values of constants declared earlier.
/// Returns an error message for anything that is not a constant expression.
pub fn eval(e: &Expr, lookup: &dyn Fn(&str) -> Option<ConstVal>) -> Result<ConstVal, String> {
    use ConstVal::*;
    Ok(match &e.kind {
        ExprKind::Int(v) => Int(*v),
        ExprKind::Float(v) => Float(*v),
        ExprKind::Bool(v) => Bool(*v),
        ExprKind::Str(pieces) if pieces.iter().all(|p| matches!(p, StrPiece::Lit(_))) => Str(pieces
            .iter()
            .map(|p| match p {
                StrPiece::Lit(s) => s.as_str(),
                StrPiece::Expr(_) => "",
            })
            .collect()),
        ExprKind::Name(n) => {
            lookup(n).ok_or_else(|| format!("`{n}` is not a constant declared before this one"))?
        }
        ExprKind::Unary(op, inner) => match (op, eval(inner, lookup)?) {
            (UnOp::Neg, Int(v)) => Int(v.wrapping_neg()),
            (UnOp::Neg, Float(v)) => Float(-v),
            (UnOp::Not, Bool(v)) => Bool(!v),
            _ => return Err("invalid operand for unary operator".into()),
        },
        ExprKind::Cast(inner, TypeExpr::Named(t)) => match (eval(inner, lookup)?, t.name.as_str()) {
            (Int(v), "float") => Float(v as f64),
            (Float(v), "int") => Int(v as i64),
            (v @ Int(_), "int") | (v @ Float(_), "float") => v,
            _ => return Err("invalid cast in constant".into()),
        },
        ExprKind::Binary(op, l, r) => binary(*op, eval(l, lookup)?, eval(r, lookup)?)?,
        _ => return Err("a constant's value must be computable at compile time".into()),
    })
}

/// One binary operation with run-time semantics.
pub fn binary(op: BinOp, l: ConstVal, r: ConstVal) -> Result<ConstVal, String> {
    use BinOp::*;
    use ConstVal::*;
    Ok(match (l, r) {
        (Int(a), Int(b)) => match op {
            Add => Int(a.wrapping_add(b)),
            Sub => Int(a.wrapping_sub(b)),
            Mul => Int(a.wrapping_mul(b)),
            Div | Rem if b == 0 => return Err("division by zero in constant".into()),
            Div => Int(a.wrapping_div(b)),
            Rem => Int(a.wrapping_rem(b)),
            BitAnd => Int(a & b),
            BitOr => Int(a | b),
            BitXor => Int(a ^ b),
            Shl => Int(a.wrapping_shl(b as u32)),
            Shr => Int(a.wrapping_shr(b as u32)),
            Eq => Bool(a == b),
            Ne => Bool(a != b),
            Lt => Bool(a < b),
            Le => Bool(a <= b),
            Gt => Bool(a > b),
            Ge => Bool(a >= b),
            And | Or => return Err("`&&` and `||` need bool operands".into()),
        },
        (Float(a), Float(b)) => match op {
            Add => Float(a + b),
            Sub => Float(a - b),
            Mul => Float(a * b),
            Div => Float(a / b),
            Rem => Float(a % b),
            Eq => Bool(a == b),
            Ne => Bool(a != b),
            Lt => Bool(a < b),
            Le => Bool(a <= b),
            Gt => Bool(a > b),
            Ge => Bool(a >= b),
            _ => return Err(format!("operator `{}` does not apply to floats", op.text())),
        },
        (Bool(a), Bool(b)) => match op {
            And => Bool(a && b),
            Or => Bool(a || b),
            Eq => Bool(a == b),
            Ne => Bool(a != b),
            _ => return Err(format!("operator `{}` does not apply to bools in constants", op.text())),
        },
        (Str(a), Str(b)) => match op {
            Add => Str(a + &b),
            Eq => Bool(a == b),
            Ne => Bool(a != b),
            _ => return Err(format!("operator `{}` does not apply to strings in constants", op.text())),
        },
        _ => return Err("mismatched operand types in constant".into()),
    })
}
