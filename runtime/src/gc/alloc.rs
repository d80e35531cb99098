//! The object allocator: segregated free lists for small sizes, carved by bumping one
//! pointer through chunks (so objects allocated together sit together, whatever their
//! size); larger blocks come from the system allocator.
//!
//! Memory is not zeroed: every caller writes an object's header and fields before the
//! next safepoint. Each collection is also a census of chunks: marking counts the live
//! blocks of each chunk ([`Allocator::note_live`]), the sweep puts freed blocks back on
//! their free lists only in chunks that keep a live block ([`Allocator::sweep_free`]),
//! and chunks left with none go to a pool that any size class draws from. So memory
//! freed in one size class serves the others, and what the allocator holds from the
//! system, [`Allocator::footprint`], is what the heap limit bounds: chunk slack and
//! fragmentation count against the instance.
//!
//! A collection starts the free lists afresh: a block freed earlier and not reused by
//! then waits until its chunk empties. Collections come after at least the live size
//! has been allocated again, so little waits.

use super::os;
use std::alloc::{alloc, dealloc, Layout};
use std::ptr;

/// Sizes are rounded up to this many bytes.
const GRANULE: usize = 8;
/// Largest block served from chunks.
const MAX_SMALL: usize = 512;
const N_CLASSES: usize = MAX_SMALL / GRANULE + 1;
/// Bytes per chunk; chunks are aligned to their size, so a block's chunk is its address
/// rounded down. (16 KiB chunks made collections 2.5x slower on binary trees: memory
/// spread over many small aligned blocks.)
pub const CHUNK: usize = 64 << 10;
/// Bytes at the start of a chunk holding its [`ChunkHeader`].
const CHUNK_HEADER: usize = 16;
/// Pooled empty chunks beyond this many bytes, and beyond what the program may allocate
/// before the next collection, go back to the system after a collection.
const POOL_KEEP: usize = 1 << 20;

/// A free block, linked into its size class.
struct FreeBlock {
    next: *mut FreeBlock,
}

/// The start of every chunk.
struct ChunkHeader {
    /// Live blocks counted by the last (or current) collection's marking.
    live: u32,
}

/// Free lists, the chunk being bumped through, every chunk, and the pool.
pub struct Allocator {
    free: [*mut FreeBlock; N_CLASSES],
    bump: *mut u8,
    bump_end: *mut u8,
    chunks: Vec<*mut u8>,
    /// Empty chunks kept for reuse (part of the footprint).
    pool: Vec<*mut u8>,
    /// Bytes of blocks larger than `MAX_SMALL`, held from the system.
    large_bytes: usize,
}

/// Block size for a request of `size` bytes.
#[inline(always)]
pub fn rounded(size: usize) -> usize {
    (size.max(GRANULE) + GRANULE - 1) & !(GRANULE - 1)
}

fn large_layout(size: usize) -> Layout {
    Layout::from_size_align(size, GRANULE).expect("sizes are bounded by the heap limit")
}

/// The header of the chunk holding small block `p`.
#[inline(always)]
fn chunk_of(p: *mut u8) -> *mut ChunkHeader {
    (p as usize & !(CHUNK - 1)) as *mut ChunkHeader
}

impl Allocator {
    pub fn new() -> Allocator {
        Allocator {
            free: [ptr::null_mut(); N_CLASSES],
            bump: ptr::null_mut(),
            bump_end: ptr::null_mut(),
            chunks: Vec::new(),
            pool: Vec::new(),
            large_bytes: 0,
        }
    }
    /// Byte offsets of the free-list heads and the bump pointers, and the size class of
    /// a small block of `size` bytes (rounded), for compiled code's inline allocation.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))] // used by the JIT's translator
    pub fn inline_layout(size: usize) -> Option<(usize, usize, usize, usize)> {
        let size = rounded(size);
        (size <= MAX_SMALL).then(|| {
            let free =
                std::mem::offset_of!(Allocator, free) + (size / GRANULE) * std::mem::size_of::<usize>();
            (size, free, std::mem::offset_of!(Allocator, bump), std::mem::offset_of!(Allocator, bump_end))
        })
    }
    /// Bytes held from the system: every chunk, whole (pooled ones too), and every large
    /// block.
    pub fn footprint(&self) -> usize {
        (self.chunks.len() + self.pool.len()) * CHUNK + self.large_bytes
    }
    /// How much `footprint` grows if a block of `size` bytes is allocated now.
    pub fn growth_for(&self, size: usize) -> usize {
        let size = rounded(size);
        if size > MAX_SMALL {
            return size;
        }
        let room = self.bump_end as usize - self.bump as usize;
        if self.free[size / GRANULE].is_null() && room < size && self.pool.is_empty() {
            CHUNK
        } else {
            0
        }
    }
    /// A block of at least `size` bytes, 8-aligned, uninitialised; null if the system is
    /// out of memory.
    #[inline]
    pub fn alloc(&mut self, size: usize) -> *mut u8 {
        let size = rounded(size);
        if size > MAX_SMALL {
            let p = if size >= os::MAP_DIRECTLY {
                os::map_block(size)
            } else {
                // SAFETY: `size` is non-zero.
                unsafe { alloc(large_layout(size)) }
            };
            if !p.is_null() {
                self.large_bytes += size;
            }
            return p;
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
        self.bump = unsafe { p.add(size) };
        p
    }
    #[cold]
    fn new_chunk(&mut self) -> bool {
        let chunk = match self.pool.pop() {
            Some(chunk) => chunk,
            None => os::map_chunk(CHUNK),
        };
        if chunk.is_null() {
            return false;
        }
        // SAFETY: the chunk starts with room for its header; one past its end bounds it.
        unsafe {
            (chunk as *mut ChunkHeader).write(ChunkHeader { live: 0 });
            self.bump = chunk.add(CHUNK_HEADER);
            self.bump_end = chunk.add(CHUNK);
        }
        self.chunks.push(chunk);
        true
    }
    /// Returns a block outside a collection.
    ///
    /// # Safety
    /// `p` came from [`Allocator::alloc`] with the same `size` and is not used afterwards.
    #[inline]
    pub unsafe fn free(&mut self, p: *mut u8, size: usize) {
        let size = rounded(size);
        if size > MAX_SMALL {
            self.large_bytes -= size;
            if size >= os::MAP_DIRECTLY {
                // SAFETY: blocks this large come from `map_block(size)`.
                unsafe { os::unmap_block(p, size) };
            } else {
                // SAFETY: other large blocks come from the system allocator with this layout.
                unsafe { dealloc(p, large_layout(size)) };
            }
            return;
        }
        let block = p as *mut FreeBlock;
        // SAFETY: the block is at least one word and no longer in use.
        unsafe { (*block).next = self.free[size / GRANULE] };
        self.free[size / GRANULE] = block;
    }
    /// Starts a collection's census: no chunk has a live block until marking says so,
    /// and the free lists start afresh.
    pub fn begin_census(&mut self) {
        self.free = [ptr::null_mut(); N_CLASSES];
        for &c in &self.chunks {
            // SAFETY: every chunk starts with its header.
            unsafe { (*(c as *mut ChunkHeader)).live = 0 };
        }
    }
    /// Marking found block `p` of `size` bytes (a null `p` is an empty buffer) alive.
    ///
    /// # Safety
    /// `p` is null or came from [`Allocator::alloc`] with this `size` and is in use.
    #[inline]
    pub unsafe fn note_live(&mut self, p: *mut u8, size: usize) {
        if !p.is_null() && rounded(size) <= MAX_SMALL {
            // SAFETY: a small block lies in a chunk whose header is at its aligned start.
            unsafe { (*chunk_of(p)).live += 1 };
        }
    }
    /// The sweep returns a dead block: back on its free list if its chunk keeps a live
    /// block, otherwise left for the whole chunk to be pooled.
    ///
    /// # Safety
    /// As for [`Allocator::free`], during a collection after marking.
    #[inline]
    pub unsafe fn sweep_free(&mut self, p: *mut u8, size: usize) {
        // SAFETY: a small block lies in a chunk whose header is at its aligned start; the
        // rest is `free`'s contract.
        unsafe {
            if rounded(size) > MAX_SMALL || (*chunk_of(p)).live > 0 {
                self.free(p, size);
            }
        }
    }
    /// Ends the census: chunks without a live block go to the pool, and what the pool
    /// holds beyond `headroom` bytes (what may be allocated before the next collection)
    /// back to the system.
    pub fn end_census(&mut self, headroom: usize) {
        // SAFETY: every chunk pointer is a chunk with its header; no free-list block lies
        // in an empty chunk (`sweep_free` and `begin_census` saw to that).
        unsafe {
            let empty = |c: *mut u8| (*(c as *mut ChunkHeader)).live == 0;
            if !self.bump.is_null() && empty(chunk_of(self.bump.wrapping_sub(1)) as *mut u8) {
                self.bump = ptr::null_mut();
                self.bump_end = ptr::null_mut();
            }
            let pool = &mut self.pool;
            self.chunks.retain(|&c| {
                let keep = !empty(c);
                if !keep {
                    pool.push(c);
                }
                keep
            });
            let keep = (POOL_KEEP.max(headroom)).div_ceil(CHUNK);
            for c in self.pool.drain(keep.min(self.pool.len())..) {
                os::unmap_chunk(c, CHUNK);
            }
        }
    }
}

impl Drop for Allocator {
    fn drop(&mut self) {
        for &chunk in self.chunks.iter().chain(&self.pool) {
            // SAFETY: every chunk came from `map_chunk` and no object in it is used once
            // the heap is dropped.
            unsafe { os::unmap_chunk(chunk, CHUNK) };
        }
    }
}
