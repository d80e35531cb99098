//! String natives. Offsets are byte offsets; slicing traps unless both ends fall on
//! character boundaries.

use super::Args;
use crate::instance::Vm;
use crate::interp::trap::{Stop, TrapKind};
use kiln_bytecode::natives::Native;

pub(super) fn call(vm: &mut Vm, id: Native, a: &Args) -> Result<u64, Stop> {
    match id {
        Native::StrSlice => {
            let (from, to) = (a.int(vm, 1), a.int(vm, 2));
            let s = a.str_ref(vm, 0);
            let ok = 0 <= from
                && from <= to
                && to as u64 <= s.len() as u64
                && s.is_char_boundary(from as usize)
                && s.is_char_boundary(to as usize);
            if !ok {
                return Err(TrapKind::InvalidArgument(format!(
                    "slice {from}..{to} is out of range or not on character boundaries of a string of length {}",
                    s.len()
                ))
                .into());
            }
            vm.charge_bytes((to - from) as usize)?;
            crate::interp::new_substr(vm, a.slot(0), from as usize, to as usize)
        }
        Native::StrByteAt => {
            let i = a.int(vm, 1);
            let s = a.str_ref(vm, 0).as_bytes();
            match s.get(usize::try_from(i).unwrap_or(usize::MAX)) {
                Some(b) => Ok(u64::from(*b)),
                None => Err(TrapKind::IndexOutOfBounds { index: i, len: s.len() }.into()),
            }
        }
        Native::StrContains | Native::StrStartsWith | Native::StrEndsWith => {
            let (s, t) = (a.str_ref(vm, 0), a.str_ref(vm, 1));
            let found = match id {
                Native::StrContains => s.contains(t),
                Native::StrStartsWith => s.starts_with(t),
                _ => s.ends_with(t),
            };
            // Linear-time search: the work is bounded by both lengths.
            let cost = s.len() + t.len();
            vm.charge_bytes(cost)?;
            Ok(u64::from(found))
        }
        Native::StrTrim => {
            // Scanning may cover the whole string (all white space), so charge all of it.
            let s = a.str_ref(vm, 0);
            let len = s.len();
            let t = s.trim();
            let from = t.as_ptr() as usize - s.as_ptr() as usize;
            let to = from + t.len();
            vm.charge_bytes(len)?;
            crate::interp::new_substr(vm, a.slot(0), from, to)
        }
        // Splitting on "" gives the characters, without empty ends.
        Native::StrSplit => crate::interp::split(vm, a.slot(0), a.slot(1)),
        Native::FromCharCode => {
            let n = a.int(vm, 0);
            let c = u32::try_from(n).ok().and_then(char::from_u32).ok_or_else(|| {
                Stop::Trap(TrapKind::InvalidArgument(format!("{n} is not a Unicode scalar value")))
            })?;
            let mut buf = [0u8; 4];
            vm.new_str(c.encode_utf8(&mut buf).as_bytes())
        }
        Native::StrFind => {
            let (s, t) = (a.str_ref(vm, 0), a.str_ref(vm, 1));
            let at = s.find(t).map_or(-1, |i| i as i64);
            vm.charge_bytes(s.len() + t.len())?;
            Ok(at as u64)
        }
        // `parse_int`: an optional sign and decimal digits, within `int` (Rust's rule).
        Native::StrIsInt | Native::StrToInt => {
            let s = a.str_ref(vm, 0);
            let parsed = s.parse::<i64>();
            vm.charge_bytes(s.len())?;
            Ok(match id {
                Native::StrIsInt => u64::from(parsed.is_ok()),
                _ => parsed.unwrap_or(0) as u64,
            })
        }
        // `parse_float`: what Rust's `f64::from_str` accepts.
        Native::StrIsFloat | Native::StrToFloat => {
            let s = a.str_ref(vm, 0);
            let parsed = s.parse::<f64>();
            vm.charge_bytes(s.len())?;
            Ok(match id {
                Native::StrIsFloat => u64::from(parsed.is_ok()),
                _ => parsed.unwrap_or(0.0).to_bits(),
            })
        }
        other => unreachable!("{other:?} is not a string native"),
    }
}

/// The hash of an int for `Map`: a fixed mix (SplitMix64's finaliser), the same on every
/// host and in every run, so iteration-independent behaviour is deterministic too.
pub fn hash_int(v: i64) -> u64 {
    let mut z = (v as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) >> 1
}

/// The hash of a string's bytes for `Map`: FNV-1a, then the int mix.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash_int(h as i64)
}
