//! Object layout and raw access to heap objects. All pointer arithmetic on objects is here.
//!
//! A reference is the address of an object's [`Header`], stored in a 64-bit slot.
//! Layouts (every word 8 bytes):
//! - struct: header, then one word per field, in declaration order;
//! - array: header, `len`, `cap`, pointer to a GC-owned buffer of `cap` words;
//! - string: header, `len`, then `len` UTF-8 bytes.
//!
//! Functions here are `unsafe` because they trust that a reference came from this heap
//! and has the kind the verifier proved (rule F5): the interpreter never checks a type.

use super::alloc::Allocator;
use std::ptr;

/// What kind of object a descriptor describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjKind {
    /// Fields inline after the header.
    Struct,
    /// Length, capacity and a separate element buffer.
    Array,
    /// Length and bytes inline.
    Str,
}

/// A type descriptor: what the GC needs to know to trace an object.
#[derive(Debug)]
pub struct ObjDesc {
    /// The kind of object.
    pub kind: ObjKind,
    /// Struct: indices of reference-typed fields. Array: `[0]` if elements are references.
    pub ref_fields: Box<[u32]>,
    /// Struct: number of fields.
    pub n_fields: u32,
    /// Enum variant: its tag (0 for every other object).
    pub tag: u32,
    /// Closure: the function its calls run (0 for every other object).
    pub func: u32,
    /// The composite type it describes (interface dispatch looks it up); 0 for strings
    /// and arrays.
    pub ty: u32,
}

impl ObjDesc {
    /// A descriptor for arrays whose elements are (`elem_ref`) or are not references.
    pub fn array(elem_ref: bool) -> ObjDesc {
        ObjDesc {
            kind: ObjKind::Array,
            ref_fields: Box::new([]),
            n_fields: elem_ref as u32,
            tag: 0,
            func: 0,
            ty: 0,
        }
    }

    /// Whether an array's elements are references (arrays keep this in `n_fields`).
    pub fn array_elem_ref(&self) -> bool {
        self.n_fields != 0
    }
}

/// The header every object starts with.
#[repr(C)]
pub struct Header {
    /// The object's type descriptor; outlives the heap (owned by the prepared module or static).
    pub desc: *const ObjDesc,
    /// Next object in the heap's list of all objects.
    pub next: *mut Header,
    /// Bytes of this allocation (not counting an array's buffer).
    pub size: u32,
    /// Mark bit for the current collection.
    pub marked: u32,
}

/// Size of the object header.
pub const HEADER: usize = std::mem::size_of::<Header>();
/// Offsets (bytes) of an array's words after the header.
const ARRAY_LEN: usize = HEADER;
const ARRAY_CAP: usize = HEADER + 8;
const ARRAY_BUF: usize = HEADER + 16;
/// Size of an array object (its buffer is separate).
pub const ARRAY_SIZE: usize = HEADER + 24;
const STR_LEN: usize = HEADER;
/// Offset of a string's first byte.
pub const STR_BYTES: usize = HEADER + 8;

/// Allocates `size` bytes with a header for `desc`; the rest is uninitialised. Returns
/// null when the system allocator fails.
///
/// # Safety
/// `desc` must outlive the object; the caller initialises the rest before the next
/// safepoint.
pub unsafe fn alloc_object(heap: &mut Allocator, desc: *const ObjDesc, size: usize) -> *mut Header {
    let p = heap.alloc(size) as *mut Header;
    if !p.is_null() {
        // SAFETY: `p` is a fresh block of at least HEADER bytes, aligned to 8.
        unsafe { p.write(Header { desc, next: ptr::null_mut(), size: size as u32, marked: 0 }) };
    }
    p
}

/// Frees a dead object (and an array's buffer) during a collection's sweep. Returns the
/// bytes released.
///
/// # Safety
/// `obj` was returned by [`alloc_object`] from the same allocator, is not used
/// afterwards, and its buffer (for arrays) was allocated with [`alloc_words`]; marking
/// has counted the live blocks (`Allocator::note_live`).
pub unsafe fn sweep_object(heap: &mut Allocator, obj: *mut Header) -> usize {
    // SAFETY: caller guarantees `obj` is a dead object of this heap.
    unsafe {
        let size = (*obj).size as usize;
        let mut freed = size;
        if (*(*obj).desc).kind == ObjKind::Array {
            let cap = array_cap(obj);
            let buf = array_buf(obj);
            if !buf.is_null() {
                heap.sweep_free(buf as *mut u8, cap * 8);
            }
            freed += cap * 8;
        }
        heap.sweep_free(obj as *mut u8, size);
        freed
    }
}

/// Allocates an uninitialised buffer of `n` words (null if `n` is 0 or allocation fails).
pub fn alloc_words(heap: &mut Allocator, n: usize) -> *mut u64 {
    if n == 0 {
        return ptr::null_mut();
    }
    heap.alloc(n * 8) as *mut u64
}

/// Frees a buffer from [`alloc_words`].
///
/// # Safety
/// `buf` came from `alloc_words(heap, n)` and is not used afterwards.
pub unsafe fn free_words(heap: &mut Allocator, buf: *mut u64, n: usize) {
    if !buf.is_null() {
        // SAFETY: caller guarantees the buffer and its size.
        unsafe { heap.free(buf as *mut u8, n * 8) };
    }
}

/// Converts a reference slot value to the object pointer.
#[inline(always)]
pub fn obj(r: u64) -> *mut Header {
    r as usize as *mut Header
}

/// Reads word `i` after the header (a struct field).
///
/// # Safety
/// `o` is a live struct with more than `i` fields (verifier rule F2 on field indices).
#[inline(always)]
pub unsafe fn field(o: *mut Header, i: usize) -> *mut u64 {
    // SAFETY: in bounds of the object by the caller's guarantee.
    unsafe { (o as *mut u8).add(HEADER + i * 8) as *mut u64 }
}

/// The composite type of struct, variant or closure `o`.
///
/// # Safety
/// `o` is a live object of this heap.
#[inline(always)]
pub unsafe fn type_index(o: *mut Header) -> u32 {
    // SAFETY: every object's header points at a descriptor that outlives it.
    unsafe { (*(*o).desc).ty }
}

/// The function closure `o` runs.
///
/// # Safety
/// `o` is a live closure object of this heap.
#[inline(always)]
pub unsafe fn closure_func(o: *mut Header) -> u32 {
    // SAFETY: every object's header points at a descriptor that outlives it.
    unsafe { (*(*o).desc).func }
}

/// The tag of enum value `o` (the variant its descriptor describes).
///
/// # Safety
/// `o` is a live object of this heap or an immortal one.
#[inline(always)]
pub unsafe fn tag(o: *mut Header) -> u32 {
    // SAFETY: every object's header points at a descriptor that outlives it.
    unsafe { (*(*o).desc).tag }
}

macro_rules! word_accessor {
    ($get:ident, $set:ident, $off:ident, $t:ty) => {
        /// Reads an object word (see the layouts at the top of this file).
        ///
        /// # Safety
        /// `o` is a live object of the kind this word belongs to.
        #[inline(always)]
        pub unsafe fn $get(o: *mut Header) -> $t {
            // SAFETY: the word is inside the object for its kind.
            unsafe { *((o as *mut u8).add($off) as *mut $t) }
        }
        /// Writes an object word.
        ///
        /// # Safety
        /// As for the getter.
        #[inline(always)]
        pub unsafe fn $set(o: *mut Header, v: $t) {
            // SAFETY: the word is inside the object for its kind.
            unsafe { *((o as *mut u8).add($off) as *mut $t) = v }
        }
    };
}
word_accessor!(array_len, set_array_len, ARRAY_LEN, usize);
word_accessor!(array_cap, set_array_cap, ARRAY_CAP, usize);
word_accessor!(array_buf, set_array_buf, ARRAY_BUF, *mut u64);
word_accessor!(str_len, set_str_len, STR_LEN, usize);

/// The elements of an array.
///
/// # Safety
/// `o` is a live array; the slice must not outlive a safepoint (a collection may free it
/// once unreachable, and growth replaces the buffer).
#[inline(always)]
pub unsafe fn array_slice<'a>(o: *mut Header) -> &'a mut [u64] {
    // SAFETY: `buf` holds `cap >= len` words, of which the first `len` are initialised.
    unsafe {
        let len = array_len(o);
        if len == 0 {
            return &mut [];
        }
        std::slice::from_raw_parts_mut(array_buf(o), len)
    }
}

/// The bytes of a string.
///
/// # Safety
/// `o` is a live string; the slice must not outlive a safepoint.
#[inline(always)]
pub unsafe fn str_bytes<'a>(o: *mut Header) -> &'a [u8] {
    // SAFETY: `len` bytes follow the length word.
    unsafe { std::slice::from_raw_parts((o as *mut u8).add(STR_BYTES), str_len(o)) }
}

/// The text of a string. Strings are built only from valid UTF-8.
///
/// # Safety
/// As for [`str_bytes`].
#[inline(always)]
pub unsafe fn str_text<'a>(o: *mut Header) -> &'a str {
    // SAFETY: every string object is created from a `&str` or from concatenating and
    // slicing (on character boundaries) such strings.
    unsafe { std::str::from_utf8_unchecked(str_bytes(o)) }
}

/// Pointer to the bytes of a string, for filling a fresh one.
///
/// # Safety
/// `o` is a live string object.
pub unsafe fn str_bytes_mut(o: *mut Header) -> *mut u8 {
    // SAFETY: the bytes follow the length word.
    unsafe { (o as *mut u8).add(STR_BYTES) }
}
