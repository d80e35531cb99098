//! Value-to-text rules shared by every tier: `println`, interpolation and `as`-free
//! conversions must print the same bytes everywhere.

/// Float text: Rust's `{:?}` for `f64` (`5.0`, `0.1`, `1e100`, `NaN`, `inf`).
pub fn float_text(v: f64) -> String {
    format!("{v:?}")
}

/// Decimal text of an integer, written into `buf`; returns the used tail.
pub fn int_text(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_print_like_rust() {
        for v in [0, 7, -7, 10, i64::MIN, i64::MAX, 1234567890] {
            let mut buf = [0u8; 20];
            assert_eq!(int_text(v, &mut buf), v.to_string().as_bytes());
        }
    }

    #[test]
    fn floats_print_like_rust_debug() {
        assert_eq!(float_text(5.0), "5.0");
        assert_eq!(float_text(1e100), "1e100");
        assert_eq!(float_text(f64::NAN), "NaN");
        assert_eq!(float_text(f64::NEG_INFINITY), "-inf");
    }
}
