//! Running one Kiln program as `vmrun` does, shared by `vmrun` and the executables
//! `vmc aot` links (whose runtime library has no compiler): the exit statuses, the
//! parsing of sizes and durations, and [`run::run`], which creates the instance with its
//! limits and grants, runs it, reports a trap and writes the ledger.

pub mod run;

/// Exit status for bad usage (unknown flag, bad value).
pub const EXIT_USAGE: u8 = 64;
/// Exit status for a program that does not compile.
pub const EXIT_COMPILE: u8 = 65;
/// Exit status for an input file that cannot be read.
pub const EXIT_NO_INPUT: u8 = 66;
/// Exit status for bytecode that fails to decode or verify.
pub const EXIT_BAD_BYTECODE: u8 = 67;
/// Exit status when `vmc aot` cannot link an executable (no linker, no runtime library,
/// the linker failed).
pub const EXIT_LINK: u8 = 69;
/// Exit status for a trap (and for an internal error of a tool).
pub const EXIT_TRAP: u8 = 70;
/// Exit status for an output file that cannot be written.
pub const EXIT_CANT_CREATE: u8 = 73;
/// Exit status when writing output (stdout, stderr) fails: a closed pipe, a full disk.
pub const EXIT_IO: u8 = 74;

/// The exit statuses, for `--help`.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0        success (or the program's exit(0))
  1-255    the program's exit(code); a code outside 0..=255 gives 255
  64       usage error (unknown flag, bad value)
  65       the source does not compile (or is not UTF-8, or is too large)
  66       the input cannot be read
  67       the bytecode is invalid (does not decode or verify, or is too large),
           or it imports host functions (extern fn) vmrun does not provide
  69       vmc aot: the executable cannot be linked (no linker, no runtime
           library, the linker failed)
  70       the program trapped (an error, or a limit: fuel, heap, stack, deadline,
           output)
  73       an output file cannot be created (vmc)
  74       writing output failed (closed pipe, full disk)";

/// Writes a message line to stderr without panicking when stderr is closed: the exit
/// status still tells what happened.
pub fn report(message: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

/// Reads at most `limit` bytes of `path`; `Ok(None)` when the file is larger.
pub fn read_bounded(path: &std::path::Path, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= limit).then_some(bytes))
}

/// Parses a size such as `4096`, `64K`, `16M` or `1G` (binary units).
pub fn parse_size(text: &str) -> Result<usize, String> {
    parse_size_or_zero(text).and_then(|n| {
        if n > 0 {
            Ok(n)
        } else {
            Err(format!("size `{text}` is out of range"))
        }
    })
}

/// Parses a size as [`parse_size`] does, 0 included (a limit that allows nothing).
pub fn parse_size_or_zero(text: &str) -> Result<usize, String> {
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
    n.checked_mul(1usize << shift).ok_or_else(|| format!("size `{text}` is out of range"))
}

/// Parses a duration: a whole number followed by `ms`, `s` or `m` (`500ms`, `2s`, `1m`).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let bad = || {
        format!("invalid duration `{text}` (expected a number followed by ms, s or m, e.g. 500ms, 2s, 1m)")
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        _ => return Err(bad()),
    };
    // Up to a year: longer is surely a mistake, and no deadline at all is the default.
    ms.filter(|&ms| ms > 0 && ms <= 366 * 24 * 3_600_000)
        .map(std::time::Duration::from_millis)
        .ok_or_else(|| format!("duration `{text}` is out of range (1ms to 366 days)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration(" 1m "), Ok(Duration::from_secs(60)));
        for bad in ["", "5", "ms", "1.5s", "-1s", "2h", "0s", "99999999999999999999s", "9999999m", "1 s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

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
        assert_eq!(parse_size_or_zero("0"), Ok(0));
        assert_eq!(parse_size_or_zero("2K"), Ok(2048));
        assert!(parse_size_or_zero("-1").is_err());
    }
}
