//! Strings the library hands to C: NUL-terminated, with their length stored just before
//! the bytes so `kiln_string_free` can free any of them (even one holding a NUL byte,
//! such as captured output) from the pointer alone.

use std::ffi::c_char;

const HEADER: usize = std::mem::size_of::<usize>();

/// A new C string holding `bytes` and a final NUL.
pub fn new_c_string(bytes: &[u8]) -> *mut c_char {
    let mut buf = Vec::with_capacity(HEADER + bytes.len() + 1);
    buf.extend_from_slice(&bytes.len().to_ne_bytes());
    buf.extend_from_slice(bytes);
    buf.push(0);
    let raw = Box::into_raw(buf.into_boxed_slice()).cast::<u8>();
    // SAFETY: the allocation is HEADER + len + 1 bytes long.
    unsafe { raw.add(HEADER).cast() }
}

/// Frees a string from [`new_c_string`] (nothing for NULL).
///
/// # Safety
/// `s` is NULL or came from `new_c_string` and was not freed yet.
pub unsafe fn free_c_string(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: `new_c_string` put the length HEADER bytes before `s`, at the start of a
    // boxed slice of HEADER + len + 1 bytes.
    unsafe {
        let start = s.cast::<u8>().sub(HEADER);
        let len = usize::from_ne_bytes(*start.cast::<[u8; HEADER]>());
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(start, HEADER + len + 1)));
    }
}

/// Stores `message` in `*error` if `error` is not NULL.
pub fn set_error(error: *mut *mut c_char, message: &str) {
    if !error.is_null() {
        // SAFETY: kiln.h: a non-NULL `error` points to a writable `char *`.
        unsafe { *error = new_c_string(message.as_bytes()) };
    }
}
