//! `Heap::verify`: checks the heap invariants listed in `gc/mod.rs`.

use super::raw::{self, ObjKind};
use super::Heap;
use std::collections::HashSet;

impl Heap {
    /// Checks that every reference in every object points at an object of this heap, that
    /// no mark bit is left set, and that the byte count matches the objects.
    pub fn verify(&self) -> Result<(), String> {
        let mut all = HashSet::new();
        let mut o = self.objects;
        while !o.is_null() {
            all.insert(o as u64);
            // SAFETY: walks the heap's own list of live objects.
            o = unsafe { (*o).next };
        }
        let mut bytes = 0usize;
        for &addr in &all {
            let o = raw::obj(addr);
            // SAFETY: `o` is in the object list, so it is a live object of this heap.
            unsafe {
                if (*o).marked != 0 {
                    return Err(format!("object {addr:#x} still marked after sweep"));
                }
                if (*o).desc.is_null() {
                    return Err(format!("object {addr:#x} has no descriptor"));
                }
                bytes += (*o).size as usize;
                let desc = &*(*o).desc;
                let refs: Vec<u64> = match desc.kind {
                    ObjKind::Str => {
                        if std::str::from_utf8(raw::str_bytes(o)).is_err() {
                            return Err(format!("string {addr:#x} is not UTF-8"));
                        }
                        Vec::new()
                    }
                    ObjKind::Struct => desc.ref_fields.iter().map(|&f| *raw::field(o, f as usize)).collect(),
                    ObjKind::Array => {
                        bytes += raw::array_cap(o) * 8;
                        if raw::array_len(o) > raw::array_cap(o) {
                            return Err(format!("array {addr:#x} longer than its capacity"));
                        }
                        if desc.array_elem_ref() {
                            raw::array_slice(o).to_vec()
                        } else {
                            Vec::new()
                        }
                    }
                };
                let immortal = |r: u64| super::immortal::is_immortal(raw::obj(r));
                if let Some(bad) = refs.iter().find(|&&r| r != 0 && !all.contains(&r) && !immortal(r)) {
                    return Err(format!("object {addr:#x} refers to {bad:#x}, which is not a live object"));
                }
            }
        }
        if bytes != self.bytes_live {
            return Err(format!("objects hold {bytes} bytes but the heap counts {}", self.bytes_live));
        }
        Ok(())
    }
}
