//! The meaning of Kiln's value operators, defined once.
//!
//! The interpreter executes these functions and the compiler's constant folder calls the
//! same ones, so folding a constant can never change what a program computes. Every
//! later tier (the JIT, AOT) must reproduce exactly these results.

use std::cmp::Ordering;

/// Why an integer operation has no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DivisionByZero;

/// `a + b`, wrapping.
#[inline(always)]
pub fn int_add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// `a - b`, wrapping.
#[inline(always)]
pub fn int_sub(a: i64, b: i64) -> i64 {
    a.wrapping_sub(b)
}

/// `a * b`, wrapping.
#[inline(always)]
pub fn int_mul(a: i64, b: i64) -> i64 {
    a.wrapping_mul(b)
}

/// `a / b`, rounding toward zero; `MIN / -1` is `MIN`.
#[inline(always)]
pub fn int_div(a: i64, b: i64) -> Result<i64, DivisionByZero> {
    if b == 0 {
        return Err(DivisionByZero);
    }
    Ok(a.wrapping_div(b))
}

/// `a % b`, with the sign of `a`; `MIN % -1` is 0.
#[inline(always)]
pub fn int_rem(a: i64, b: i64) -> Result<i64, DivisionByZero> {
    if b == 0 {
        return Err(DivisionByZero);
    }
    Ok(a.wrapping_rem(b))
}

/// `a << b`: the shift count is taken modulo 64.
#[inline(always)]
pub fn int_shl(a: i64, b: i64) -> i64 {
    a.wrapping_shl((b & 63) as u32)
}

/// `a >> b`, arithmetic: the shift count is taken modulo 64.
#[inline(always)]
pub fn int_shr(a: i64, b: i64) -> i64 {
    a.wrapping_shr((b & 63) as u32)
}

/// `-a`, wrapping (`-MIN` is `MIN`).
#[inline(always)]
pub fn int_neg(a: i64) -> i64 {
    a.wrapping_neg()
}

/// Float `a % b`: the truncated remainder (C's `fmod`).
#[inline(always)]
pub fn float_rem(a: f64, b: f64) -> f64 {
    a % b
}

/// `f as int`: saturating at the ends of the range; NaN gives 0.
#[inline(always)]
pub fn float_to_int(f: f64) -> i64 {
    f as i64
}

/// `i as float`: the nearest float (ties to even).
#[inline(always)]
pub fn int_to_float(i: i64) -> f64 {
    i as f64
}

/// Ordering of bools: `false < true`.
#[inline(always)]
pub fn bool_cmp(a: bool, b: bool) -> Ordering {
    a.cmp(&b)
}

/// Ordering of strings: byte-wise, lexicographic.
#[inline(always)]
pub fn str_cmp(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_cases_of_integer_division_and_shifts() {
        assert_eq!(int_div(i64::MIN, -1), Ok(i64::MIN));
        assert_eq!(int_rem(i64::MIN, -1), Ok(0));
        assert_eq!(int_div(7, 0), Err(DivisionByZero));
        assert_eq!(int_rem(-7, 2), Ok(-1));
        assert_eq!(int_div(-7, 2), Ok(-3));
        assert_eq!(int_shl(1, 65), 2);
        assert_eq!(int_shr(-8, 1), -4);
        assert_eq!(int_shl(1, -1), i64::MIN);
        assert_eq!(float_to_int(f64::NAN), 0);
        assert_eq!(float_to_int(1e300), i64::MAX);
        assert_eq!(bool_cmp(false, true), Ordering::Less);
        assert_eq!(str_cmp(b"a", b"b"), Ordering::Less);
        assert_eq!(str_cmp(b"ab", b"a"), Ordering::Greater);
    }
}
