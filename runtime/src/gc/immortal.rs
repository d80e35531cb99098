//! Objects that belong to a prepared module rather than to any heap: the module's
//! constant strings. They are built once at load, shared read-only by every instance on
//! every thread, never collected and never counted against an instance's heap.
//!
//! An immortal object has the ordinary layout (`raw`), with `marked` permanently set to
//! [`IMMORTAL`]: the marker only marks objects whose mark is 0, so it never writes to one,
//! and no heap's sweep sees one (they are in no heap's object list).

use super::raw::{self, Header, ObjDesc, ObjKind};

/// The `marked` value of an immortal object.
pub const IMMORTAL: u32 = u32::MAX;

/// A module's constant strings, laid out as string objects in one buffer.
pub struct ImmortalStrings {
    /// The objects, 8-byte aligned (owned here; reached through `refs`).
    _buf: Box<[u64]>,
    /// The reference to each string (the address of its header in `buf`).
    refs: Box<[u64]>,
    /// The descriptor every one of them points at (boxed: its address is stable).
    _desc: Box<ObjDesc>,
}

// SAFETY: the buffer and descriptor are never written after `new` returns; the raw
// pointers inside the objects point into this same immutable value.
unsafe impl Send for ImmortalStrings {}
// SAFETY: as above: shared access is read-only (the marker never writes an immortal
// object's header).
unsafe impl Sync for ImmortalStrings {}

impl ImmortalStrings {
    /// Lays out `strings` as immortal string objects. Memory is linear in their total
    /// length (a 24-byte header, an 8-byte length, the bytes rounded up to 8).
    pub fn new<'a>(strings: impl Iterator<Item = &'a str> + Clone) -> ImmortalStrings {
        let desc = Box::new(ObjDesc {
            kind: ObjKind::Str,
            ref_fields: Box::new([]),
            n_fields: 0,
            tag: 0,
            func: 0,
            ty: 0,
        });
        let words: usize = strings.clone().map(|s| raw::STR_BYTES.div_ceil(8) + s.len().div_ceil(8)).sum();
        let mut buf = vec![0u64; words].into_boxed_slice();
        let mut refs = Vec::new();
        let mut at = 0usize;
        for s in strings {
            refs.push(buf.as_ptr() as u64 + at as u64 * 8);
            // SAFETY: `at` is the start of a block of STR_BYTES + len bytes inside `buf`
            // (sized above), 8-byte aligned; we write a header, the length and the bytes.
            unsafe {
                let o = buf.as_mut_ptr().add(at) as *mut Header;
                o.write(Header {
                    desc: &*desc,
                    next: std::ptr::null_mut(),
                    size: (raw::STR_BYTES + s.len()).min(u32::MAX as usize) as u32,
                    marked: IMMORTAL,
                });
                raw::set_str_len(o, s.len());
                std::ptr::copy_nonoverlapping(s.as_ptr(), raw::str_bytes_mut(o), s.len());
            }
            at += raw::STR_BYTES.div_ceil(8) + s.len().div_ceil(8);
        }
        ImmortalStrings { _buf: buf, refs: refs.into_boxed_slice(), _desc: desc }
    }

    /// The references to the strings, in order.
    #[inline(always)]
    pub fn refs(&self) -> &[u64] {
        &self.refs
    }
}

/// Whether `o` is an immortal object.
///
/// # Safety
/// `o` is a live object (of a heap, or immortal).
pub unsafe fn is_immortal(o: *mut Header) -> bool {
    // SAFETY: by the caller's contract the header is readable.
    unsafe { (*o).marked == IMMORTAL }
}
