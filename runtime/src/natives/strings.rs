//! String natives. Offsets are byte offsets; slicing traps unless both ends fall on
//! character boundaries.

use super::Args;
use crate::instance::Vm;
use crate::interp::trap::{Stop, TrapKind};

pub(super) fn call(vm: &mut Vm, name: &str, a: &Args) -> Result<u64, Stop> {
    match name {
        "str_slice" => {
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
            let part = s[from as usize..to as usize].to_owned();
            vm.charge_bytes(part.len())?;
            vm.new_str(part.as_bytes())
        }
        "str_byte_at" => {
            let i = a.int(vm, 1);
            let s = a.str_ref(vm, 0).as_bytes();
            match s.get(usize::try_from(i).unwrap_or(usize::MAX)) {
                Some(b) => Ok(u64::from(*b)),
                None => Err(TrapKind::IndexOutOfBounds { index: i, len: s.len() }.into()),
            }
        }
        "str_contains" | "str_starts_with" | "str_ends_with" => {
            let (s, t) = (a.str_ref(vm, 0), a.str_ref(vm, 1));
            let found = match name {
                "str_contains" => s.contains(t),
                "str_starts_with" => s.starts_with(t),
                _ => s.ends_with(t),
            };
            let cost = s.len();
            vm.charge_bytes(cost)?;
            Ok(u64::from(found))
        }
        "str_trim" => {
            let t = a.str_ref(vm, 0).trim().to_owned();
            vm.charge_bytes(t.len())?;
            vm.new_str(t.as_bytes())
        }
        "str_split" => {
            let (s, sep) = (a.string(vm, 0), a.string(vm, 1));
            vm.charge_bytes(s.len())?;
            let parts: Vec<&str> = if sep.is_empty() {
                // Splitting on "" gives the characters, without empty ends.
                s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]).collect()
            } else {
                s.split(sep.as_str()).collect()
            };
            vm.charge(parts.len() as u64)?;
            vm.new_str_array(&parts)
        }
        "from_char_code" => {
            let n = a.int(vm, 0);
            let c = u32::try_from(n).ok().and_then(char::from_u32).ok_or_else(|| {
                Stop::Trap(TrapKind::InvalidArgument(format!("{n} is not a Unicode scalar value")))
            })?;
            let mut buf = [0u8; 4];
            vm.new_str(c.encode_utf8(&mut buf).as_bytes())
        }
        other => unreachable!("native `{other}` is declared but not implemented"),
    }
}
