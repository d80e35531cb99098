//! Chunk memory straight from the operating system.
//!
//! Chunks are 64 KiB aligned to their size. Asked of a general-purpose allocator, such an
//! aligned block is carved from a larger one at an offset that changes from reuse to
//! reuse, so over time the whole larger block becomes resident: a heap cycling through
//! its limit reached twice its size in RSS. Mapped pages are resident only while a chunk
//! is in use and go back to the system the moment it is released, so what the allocator
//! counts (its footprint) is what the instance costs the host.

use std::ptr;

/// Blocks of this many bytes or more (big array buffers and strings) are mapped on their
/// own, for the same reason: the system allocator keeps freed blocks of this size in its
/// per-thread arenas (glibc raises its mmap threshold after every such free), so a host
/// running many instances on many threads saw tens of MiB stay resident after every
/// instance was gone (tests/crowd.rs).
pub const MAP_DIRECTLY: usize = 64 << 10;

/// A fresh block of `size` bytes (at least [`MAP_DIRECTLY`]), page-aligned; null if the
/// system refuses.
#[cfg(unix)]
pub fn map_block(size: usize) -> *mut u8 {
    map(size.next_multiple_of(page_size()))
}

/// Returns a block from [`map_block`] to the system.
///
/// # Safety
/// `p` came from `map_block(size)` and nothing in it is used afterwards.
#[cfg(unix)]
pub unsafe fn unmap_block(p: *mut u8, size: usize) {
    unmap(p, size.next_multiple_of(page_size()));
}

/// A fresh, zeroed chunk of `size` bytes aligned to `size` (a power of two); null if the
/// system refuses.
#[cfg(unix)]
pub fn map_chunk(size: usize) -> *mut u8 {
    debug_assert!(size.is_power_of_two() && size >= page_size());
    // Anonymous mappings are usually placed next to the previous one, so the first try
    // is aligned most of the time; otherwise map twice the size and trim both ends.
    let p = map(size);
    if p.is_null() || p as usize & (size - 1) == 0 {
        return p;
    }
    unmap(p, size);
    let wide = map(2 * size);
    if wide.is_null() {
        return ptr::null_mut();
    }
    let start = (wide as usize).next_multiple_of(size);
    let head = start - wide as usize;
    if head > 0 {
        unmap(wide, head);
    }
    let tail = size - head;
    if tail > 0 {
        // SAFETY: `start + size` lies inside the 2 * size mapping at `wide`.
        unmap(unsafe { wide.add(head + size) }, tail);
    }
    start as *mut u8
}

/// Returns a chunk from [`map_chunk`] to the system.
///
/// # Safety
/// `p` came from `map_chunk(size)` and nothing in it is used afterwards.
#[cfg(unix)]
pub unsafe fn unmap_chunk(p: *mut u8, size: usize) {
    unmap(p, size);
}

#[cfg(unix)]
fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping at an address of the kernel's choosing touches
    // no existing memory.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        p as *mut u8
    }
}

#[cfg(unix)]
fn unmap(p: *mut u8, size: usize) {
    // SAFETY: callers pass whole pages of a mapping made by `map` that nothing uses any
    // more; munmap of such a range cannot fail.
    unsafe { libc::munmap(p as *mut libc::c_void, size) };
}

#[cfg(unix)]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// Elsewhere the system allocator serves big blocks.
#[cfg(not(unix))]
pub fn map_block(size: usize) -> *mut u8 {
    // SAFETY: non-zero size.
    unsafe { std::alloc::alloc(std::alloc::Layout::from_size_align(size, 4096).expect("bounded size")) }
}

/// # Safety
/// `p` came from `map_block(size)` and nothing in it is used afterwards.
#[cfg(not(unix))]
pub unsafe fn unmap_block(p: *mut u8, size: usize) {
    // SAFETY: allocated by `map_block` with this layout.
    unsafe { std::alloc::dealloc(p, std::alloc::Layout::from_size_align(size, 4096).expect("bounded size")) }
}

/// Elsewhere the system allocator serves chunks (aligned allocation).
#[cfg(not(unix))]
pub fn map_chunk(size: usize) -> *mut u8 {
    // SAFETY: non-zero size.
    unsafe { std::alloc::alloc_zeroed(layout(size)) }
}

/// # Safety
/// `p` came from `map_chunk(size)` and nothing in it is used afterwards.
#[cfg(not(unix))]
pub unsafe fn unmap_chunk(p: *mut u8, size: usize) {
    // SAFETY: allocated by `map_chunk` with this layout.
    unsafe { std::alloc::dealloc(p, layout(size)) }
}

#[cfg(not(unix))]
fn layout(size: usize) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(size, size).expect("a power of two")
}
