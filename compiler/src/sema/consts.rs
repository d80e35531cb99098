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
            (UnOp::Neg, Int(v)) => Int(kiln_bytecode::ops::int_neg(v)),
            (UnOp::Neg, Float(v)) => Float(-v),
            (UnOp::Not, Bool(v)) => Bool(!v),
            _ => return Err("invalid operand for unary operator".into()),
        },
        ExprKind::Cast(inner, TypeExpr::Named(t)) => match (eval(inner, lookup)?, t.name.as_str()) {
            (Int(v), "float") => Float(kiln_bytecode::ops::int_to_float(v)),
            (Float(v), "int") => Int(kiln_bytecode::ops::float_to_int(v)),
            (v @ Int(_), "int") | (v @ Float(_), "float") => v,
            _ => return Err("invalid cast in constant".into()),
        },
        ExprKind::Binary(op, l, r) => binary(*op, eval(l, lookup)?, eval(r, lookup)?)?,
        _ => return Err("a constant's value must be computable at compile time".into()),
    })
}

/// One binary operation with run-time semantics (`kiln_bytecode::ops`, which the
/// interpreter executes too).
pub fn binary(op: BinOp, l: ConstVal, r: ConstVal) -> Result<ConstVal, String> {
    use kiln_bytecode::ops;
    use std::cmp::Ordering;
    use BinOp::*;
    use ConstVal::*;
    // The comparisons every comparable type shares, from its ordering.
    let compare = |ord: Option<Ordering>| -> Option<ConstVal> {
        let ord = ord?;
        Some(Bool(match op {
            Eq => ord == Ordering::Equal,
            Ne => ord != Ordering::Equal,
            Lt => ord == Ordering::Less,
            Le => ord != Ordering::Greater,
            Gt => ord == Ordering::Greater,
            Ge => ord != Ordering::Less,
            _ => return None,
        }))
    };
    let zero = |_| "division by zero in constant".to_string();
    Ok(match (l, r) {
        (Int(a), Int(b)) => match op {
            Add => Int(ops::int_add(a, b)),
            Sub => Int(ops::int_sub(a, b)),
            Mul => Int(ops::int_mul(a, b)),
            Div => Int(ops::int_div(a, b).map_err(zero)?),
            Rem => Int(ops::int_rem(a, b).map_err(zero)?),
            BitAnd => Int(a & b),
            BitOr => Int(a | b),
            BitXor => Int(a ^ b),
            Shl => Int(ops::int_shl(a, b)),
            Shr => Int(ops::int_shr(a, b)),
            And | Or => return Err("`&&` and `||` need bool operands".into()),
            _ => compare(Some(a.cmp(&b))).expect("a comparison"),
        },
        (Float(a), Float(b)) => match op {
            Add => Float(a + b),
            Sub => Float(a - b),
            Mul => Float(a * b),
            Div => Float(a / b),
            Rem => Float(ops::float_rem(a, b)),
            // IEEE: every comparison with NaN is false, except `!=`.
            Ne => Bool(a != b),
            _ if op.is_comparison() => compare(a.partial_cmp(&b)).unwrap_or(Bool(false)),
            _ => return Err(format!("operator `{}` does not apply to floats", op.text())),
        },
        (Bool(a), Bool(b)) => match op {
            And => Bool(a && b),
            Or => Bool(a || b),
            _ if op.is_comparison() => compare(Some(ops::bool_cmp(a, b))).expect("a comparison"),
            _ => return Err(format!("operator `{}` does not apply to bools", op.text())),
        },
        (Str(a), Str(b)) => match op {
            Add => Str(a + &b),
            _ if op.is_comparison() => {
                compare(Some(ops::str_cmp(a.as_bytes(), b.as_bytes()))).expect("a comparison")
            }
            _ => return Err(format!("operator `{}` does not apply to strings", op.text())),
        },
        _ => return Err("mismatched operand types in constant".into()),
    })
}
