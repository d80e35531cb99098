//! Exit statuses and argument parsing shared by `vmc` and `vmrun`.

use std::process::ExitCode;

/// Exit status for bad usage (unknown flag, bad value).
pub const EXIT_USAGE: u8 = 64;
/// Exit status for a program that does not compile.
pub const EXIT_COMPILE: u8 = 65;
/// Exit status for an input file that cannot be read.
pub const EXIT_NO_INPUT: u8 = 66;
/// Exit status for bytecode that fails to decode or verify.
pub const EXIT_BAD_BYTECODE: u8 = 67;
/// Exit status for a trap.
pub const EXIT_TRAP: u8 = 70;
/// Exit status for an output file that cannot be written.
pub const EXIT_CANT_CREATE: u8 = 73;

/// Parses a size such as `4096`, `64K`, `16M` or `1G` (binary units).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: usize = digits.parse().map_err(|_| {
        format!("invalid size `{text}` (expected a number with an optional K, M or G suffix)")
    })?;
    n.checked_mul(1usize << shift).filter(|&n| n > 0).ok_or_else(|| format!("size `{text}` is out of range"))
}

/// Handles a clap parse failure: help and version go to stdout with status 0,
/// anything else is a usage error (status 64).
pub fn usage_error(e: clap::Error) -> ExitCode {
    let _ = e.print();
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::from(EXIT_USAGE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
