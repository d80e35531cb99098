//! The register file: one growable buffer of 64-bit slots that every frame of an
//! instance is a window into.
//!
//! It starts empty and grows (doubling, zero-filled) when a call needs more room, up to
//! the instance's `stack_slots` limit, so an idle instance costs no register memory.
//! Growing moves the buffer: the interpreter re-derives its cached pointers after every
//! call that may have grown it (`exec.rs`).
//!
//! All access goes through the one raw pointer this type owns, never through a `&mut`
//! to the slots, so pointers the interpreter derived from [`RegisterFile::base`] stay
//! valid while natives read and write slots through [`RegisterFile::get`] and
//! [`RegisterFile::set`] (no unique borrow of the buffer is ever created).

use std::alloc::{alloc_zeroed, dealloc, realloc, Layout};
use std::ptr::NonNull;

/// Smallest size the register file grows to, in slots.
const MIN_SLOTS: usize = 64;

/// A growable, zero-initialised buffer of register slots.
pub struct RegisterFile {
    ptr: NonNull<u64>,
    len: usize,
    limit: usize,
}

// SAFETY: the buffer is owned by this value alone and moves with it between threads.
unsafe impl Send for RegisterFile {}

impl RegisterFile {
    /// An empty register file that may grow to `limit` slots.
    pub fn new(limit: usize) -> RegisterFile {
        RegisterFile { ptr: NonNull::dangling(), len: 0, limit }
    }

    /// Slots available now.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Slot 0. Valid until the next [`RegisterFile::grow_to`].
    #[inline(always)]
    pub fn base(&self) -> *mut u64 {
        self.ptr.as_ptr()
    }

    /// The value in slot `i`.
    ///
    /// # Panics
    /// If `i` is out of range (callers pass slots of verified frames).
    #[inline(always)]
    pub fn get(&self, i: usize) -> u64 {
        assert!(i < self.len, "register slot out of range");
        // SAFETY: `i < len`, and the first `len` slots are allocated and initialised.
        unsafe { self.ptr.as_ptr().add(i).read() }
    }

    /// Writes slot `i`.
    ///
    /// # Panics
    /// If `i` is out of range.
    #[inline(always)]
    pub fn set(&mut self, i: usize, v: u64) {
        assert!(i < self.len, "register slot out of range");
        // SAFETY: as in `get`.
        unsafe { self.ptr.as_ptr().add(i).write(v) }
    }

    /// Slots `range`, read-only, for natives that copy them into an object. The slice
    /// must be dropped before the interpreter writes registers again.
    pub fn slice(&self, range: std::ops::Range<usize>) -> &[u64] {
        assert!(range.start <= range.end && range.end <= self.len, "register slots out of range");
        // SAFETY: the range is inside the initialised slots.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(range.start), range.len()) }
    }

    /// Makes at least `needed` slots available; `false` if that exceeds the limit or the
    /// system is out of memory. New slots are zero. Moves the buffer.
    pub fn grow_to(&mut self, needed: usize) -> bool {
        if needed <= self.len {
            return true;
        }
        if needed > self.limit {
            return false;
        }
        let new_len = needed.max(self.len.saturating_mul(2)).max(MIN_SLOTS).min(self.limit);
        let Ok(new_layout) = Layout::array::<u64>(new_len) else { return false };
        // SAFETY: the old block (if any) was allocated with `Layout::array::<u64>(len)`;
        // the new size is non-zero; the tail past the old length is zeroed before use.
        let p = unsafe {
            if self.len == 0 {
                alloc_zeroed(new_layout)
            } else {
                let old = Layout::array::<u64>(self.len).expect("allocated before");
                let p = realloc(self.ptr.as_ptr() as *mut u8, old, new_layout.size());
                if !p.is_null() {
                    std::ptr::write_bytes((p as *mut u64).add(self.len), 0, new_len - self.len);
                }
                p
            }
        };
        match NonNull::new(p as *mut u64) {
            Some(p) => {
                self.ptr = p;
                self.len = new_len;
                true
            }
            None => false,
        }
    }
}

impl Drop for RegisterFile {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: allocated by `grow_to` with this layout.
            unsafe {
                dealloc(self.ptr.as_ptr() as *mut u8, Layout::array::<u64>(self.len).expect("allocated"))
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_zeroed_up_to_its_limit() {
        let mut rf = RegisterFile::new(5000);
        assert_eq!(rf.len(), 0);
        assert!(rf.grow_to(10));
        assert_eq!(rf.len(), MIN_SLOTS);
        rf.set(3, 77);
        assert!(rf.grow_to(2000));
        assert_eq!(rf.len(), 2000);
        assert_eq!(rf.get(3), 77, "values survive growth");
        assert_eq!(rf.get(1999), 0, "new slots are zero");
        assert!(rf.grow_to(5000));
        assert!(!rf.grow_to(5001), "the limit holds");
    }
}
