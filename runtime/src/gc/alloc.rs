//! The object allocator: segregated free lists for small sizes, carved from chunks by
//! bumping a pointer; larger blocks come from the system allocator.
//!
//! Memory is not zeroed: every caller writes an object's header and fields before the
//! next safepoint. Freed small blocks go back to their size class's list; chunks are
//! returned to the system only when the heap is dropped.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr;

/// Sizes are rounded up to this many bytes.
const GRANULE: usize = 8;
/// Largest block served from chunks.
const MAX_SMALL: usize = 512;
const N_CLASSES: usize = MAX_SMALL / GRANULE + 1;
/// Bytes requested from the system per chunk.
const CHUNK: usize = 256 << 10;

/// A free block, linked into its size class.
struct FreeBlock {
    next: *mut FreeBlock,
}

/// Free lists, the current chunk, and every chunk (to release them on drop).
pub struct Allocator {
    free: [*mut FreeBlock; N_CLASSES],
    bump: *mut u8,
    bump_end: *mut u8,
    chunks: Vec<*mut u8>,
}

/// Block size for a request of `size` bytes.
#[inline(always)]
pub fn rounded(size: usize) -> usize {
    (size.max(GRANULE) + GRANULE - 1) & !(GRANULE - 1)
}

fn large_layout(size: usize) -> Layout {
    Layout::from_size_align(size, GRANULE).expect("sizes are bounded by the heap limit")
}

impl Allocator {
    pub fn new() -> Allocator {
        Allocator {
            free: [ptr::null_mut(); N_CLASSES],
            bump: ptr::null_mut(),
            bump_end: ptr::null_mut(),
            chunks: Vec::new(),
        }
    }

    /// A block of at least `size` bytes, 8-aligned, uninitialised; null if the system is
    /// out of memory.
    #[inline]
    pub fn alloc(&mut self, size: usize) -> *mut u8 {
        let size = rounded(size);
        if size > MAX_SMALL {
            // SAFETY: `size` is non-zero.
            return unsafe { alloc(large_layout(size)) };
        }
        let class = size / GRANULE;
        let head = self.free[class];
        if !head.is_null() {
            // SAFETY: blocks on a free list are unused blocks of this class, and their
            // first word holds the link.
            self.free[class] = unsafe { (*head).next };
            return head as *mut u8;
        }
        if (self.bump_end as usize) - (self.bump as usize) < size && !self.new_chunk() {
            return ptr::null_mut();
        }
        let p = self.bump;
        // SAFETY: at least `size` bytes remain in the current chunk.
        self.bump = unsafe { self.bump.add(size) };
        p
    }

    #[cold]
    fn new_chunk(&mut self) -> bool {
        // SAFETY: non-zero size.
        let chunk = unsafe { alloc(large_layout(CHUNK)) };
        if chunk.is_null() {
            return false;
        }
        self.chunks.push(chunk);
        self.bump = chunk;
        // SAFETY: one past the end of the chunk.
        self.bump_end = unsafe { chunk.add(CHUNK) };
        true
    }

    /// Returns a block.
    ///
    /// # Safety
    /// `p` came from [`Allocator::alloc`] with the same `size` and is not used afterwards.
    #[inline]
    pub unsafe fn free(&mut self, p: *mut u8, size: usize) {
        let size = rounded(size);
        if size > MAX_SMALL {
            // SAFETY: large blocks come from the system allocator with this layout.
            unsafe { dealloc(p, large_layout(size)) };
            return;
        }
        let class = size / GRANULE;
        let block = p as *mut FreeBlock;
        // SAFETY: the block is at least one word and no longer in use.
        unsafe { (*block).next = self.free[class] };
        self.free[class] = block;
    }
}

impl Drop for Allocator {
    fn drop(&mut self) {
        for &chunk in &self.chunks {
            // SAFETY: every chunk was allocated with this layout and no object in it is
            // used once the heap is dropped.
            unsafe { dealloc(chunk, large_layout(CHUNK)) };
        }
    }
}
