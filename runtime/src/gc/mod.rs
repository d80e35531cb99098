//! The per-instance garbage-collected heap: allocation, accounting and a precise,
//! non-moving mark-sweep collector.
//!
//! Heap invariants (checked by [`Heap::verify`] after every collection in tests):
//! 1. Every object starts with a [`raw::Header`] whose descriptor says which of its words
//!    are references; every reference word of a live object points at a live object.
//! 2. Every byte of an object (header, fields, array buffer, string bytes) is allocated
//!    here and counted in `bytes_live`; nothing inside an object is a Rust `Vec` or `String`.
//! 3. A collection happens only inside an allocation (a safepoint). At that moment every
//!    reference the program can still use is reachable from the roots the caller passes:
//!    frames (every reference register below a suspended frame's window), globals, and
//!    [`Heap::temp_roots`] for natives that allocate more than once. A reference may also
//!    point at an immortal object of the module (`immortal.rs`), which no heap owns.
//! 4. Every store of a reference into an object or global goes through
//!    [`Heap::write_barrier`]. The collector does not need it yet (it neither moves nor
//!    works incrementally); the hook is there so a generational collector can come later
//!    without touching the interpreter.

mod alloc;
mod collect;
pub mod immortal;
mod os;
pub mod raw;
mod verify;

use raw::{Header, ObjDesc};
use std::time::Duration;

/// The heap ran out: the instance's limit would be exceeded even after a full collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapExhausted {
    /// The limit in bytes.
    pub limit: usize,
}

/// Allocation and collection counters, for `--stats` and the embedding API.
#[derive(Debug, Clone, Default)]
pub struct HeapStats {
    /// Objects and buffers allocated.
    pub allocations: u64,
    /// Total bytes allocated over the run.
    pub bytes_allocated: u64,
    /// Most bytes live at once.
    pub peak_bytes: usize,
    /// Collections run.
    pub gc_cycles: u64,
    /// Total time spent collecting.
    pub gc_time: Duration,
    /// The longest single collection.
    pub gc_max_pause: Duration,
    /// Bytes live now (as of the last allocation or collection).
    pub live_bytes: usize,
}

/// Bytes a long operation (filling an array, copying a string) handles between two looks
/// at whether the run must stop (an interrupt or a deadline): about a millisecond's work.
pub const POLL_BYTES: usize = 1 << 20;

/// Smallest allocation volume between two collections.
const MIN_GC_THRESHOLD: usize = 4 << 20;

/// See [`Heap::inline_alloc_layout`]: a block size and byte offsets into a [`Heap`].
#[cfg_attr(not(feature = "jit"), allow(dead_code))] // used by the JIT's translator
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct InlineAlloc {
    pub size: usize,
    pub objects: usize,
    pub bytes_live: usize,
    pub limit: usize,
    pub next_gc: usize,
    pub stress: usize,
    pub allocations: usize,
    pub bytes_allocated: usize,
    pub peak_bytes: usize,
    pub free: usize,
    pub bump: usize,
    pub bump_end: usize,
}

/// One instance's heap.
pub struct Heap {
    /// Head of the intrusive list of every object.
    objects: *mut Header,
    bytes_live: usize,
    limit: usize,
    /// Collect when `bytes_live` passes this.
    next_gc: usize,
    stress: bool,
    /// Verify heap invariants after every collection (tests, `--gc-stress`).
    pub verify_after_gc: bool,
    stats: HeapStats,
    /// Extra roots held by natives across their own allocations.
    pub temp_roots: Vec<u64>,
    str_desc: Box<ObjDesc>,
    array_descs: [Box<ObjDesc>; 2],
    /// The collector's grey stack, kept between collections to avoid reallocating.
    grey: Vec<*mut Header>,
    /// Where object memory comes from.
    allocator: alloc::Allocator,
}

// SAFETY: a heap and all its objects are owned by one instance and only ever touched by
// the thread that currently owns that instance; no pointer into it is shared.
unsafe impl Send for Heap {}

impl Heap {
    /// A heap that may hold at most `limit` bytes; `stress` collects at every allocation.
    pub fn new(limit: usize, stress: bool) -> Heap {
        Heap {
            objects: std::ptr::null_mut(),
            bytes_live: 0,
            limit,
            next_gc: MIN_GC_THRESHOLD,
            stress,
            // Debug builds (and so every test) check the heap after each collection.
            verify_after_gc: stress || cfg!(debug_assertions),
            stats: HeapStats::default(),
            temp_roots: Vec::new(),
            str_desc: Box::new(ObjDesc {
                kind: raw::ObjKind::Str,
                ref_fields: Box::new([]),
                n_fields: 0,
                tag: 0,
                func: 0,
                ty: 0,
            }),
            array_descs: [Box::new(ObjDesc::array(false)), Box::new(ObjDesc::array(true))],
            grey: Vec::new(),
            allocator: alloc::Allocator::new(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> HeapStats {
        HeapStats { live_bytes: self.bytes_live, ..self.stats.clone() }
    }

    /// Frees every object at once (the instance is done with them: nothing may refer to
    /// them afterwards), keeping the counters.
    pub fn release_all(&mut self) {
        let mut empty = Heap::new(self.limit, self.stress);
        empty.verify_after_gc = self.verify_after_gc;
        std::mem::swap(&mut self.stats, &mut empty.stats);
        // Dropping the old heap frees its objects and chunks.
        drop(std::mem::replace(self, empty));
    }

    /// Bytes currently allocated.
    #[cfg(test)]
    pub fn bytes_live(&self) -> usize {
        self.bytes_live
    }

    /// Whether allocating `size` more bytes should first run a collection.
    #[inline]
    pub fn wants_collection(&self, size: usize) -> bool {
        self.stress
            || self.bytes_live + size > self.next_gc
            || self.bytes_live + size > self.limit
            || self.allocator.footprint().saturating_add(size) > self.limit
    }

    /// Reserves `size` bytes against the limit. The caller has already collected if
    /// [`Heap::wants_collection`] said so.
    fn charge(&mut self, size: usize) -> Result<(), HeapExhausted> {
        if self.bytes_live.saturating_add(size) > self.limit {
            return Err(HeapExhausted { limit: self.limit });
        }
        // What the allocator holds from the system for the heap (whole chunks: slack and
        // fragmentation included) stays within the limit too. `size` is within the limit
        // here, so the sums cannot overflow.
        let footprint = self.allocator.footprint();
        if footprint + size.max(alloc::CHUNK) > self.limit
            && size > 0
            && footprint + self.allocator.growth_for(size) > self.limit
        {
            return Err(HeapExhausted { limit: self.limit });
        }
        self.bytes_live += size;
        self.stats.allocations += 1;
        self.stats.bytes_allocated += size as u64;
        self.stats.peak_bytes = self.stats.peak_bytes.max(self.bytes_live);
        Ok(())
    }

    /// For compiled code's inline allocation of a small object of `size` bytes: the block
    /// size and byte offsets (from the heap) of what `Heap::alloc` reads and writes, so
    /// it can take the same steps while no collection is due: charge (`bytes_live`,
    /// statistics), pop the size class's free list or bump, write the header and link
    /// the object. `None` for blocks the allocator does not serve from chunks.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))] // used by the JIT's translator
    pub fn inline_alloc_layout(size: usize) -> Option<InlineAlloc> {
        use std::mem::offset_of;
        let (size, free, bump, bump_end) = alloc::Allocator::inline_layout(size)?;
        let a = offset_of!(Heap, allocator);
        Some(InlineAlloc {
            size,
            objects: offset_of!(Heap, objects),
            bytes_live: offset_of!(Heap, bytes_live),
            limit: offset_of!(Heap, limit),
            next_gc: offset_of!(Heap, next_gc),
            stress: offset_of!(Heap, stress),
            allocations: offset_of!(Heap, stats) + offset_of!(HeapStats, allocations),
            bytes_allocated: offset_of!(Heap, stats) + offset_of!(HeapStats, bytes_allocated),
            peak_bytes: offset_of!(Heap, stats) + offset_of!(HeapStats, peak_bytes),
            free: a + free,
            bump: a + bump,
            bump_end: a + bump_end,
        })
    }

    fn link(&mut self, o: *mut Header) {
        // SAFETY: `o` is a fresh object owned by this heap.
        unsafe { (*o).next = self.objects };
        self.objects = o;
    }

    fn alloc(&mut self, desc: *const ObjDesc, size: usize) -> Result<*mut Header, HeapExhausted> {
        // The block the allocator hands out is rounded up; all of it counts.
        let size = alloc::rounded(size);
        self.charge(size)?;
        // SAFETY: `desc` is either owned by this heap or by the prepared module, which the
        // instance keeps alive for as long as the heap.
        let o = unsafe { raw::alloc_object(&mut self.allocator, desc, size) };
        if o.is_null() {
            self.bytes_live -= size;
            return Err(HeapExhausted { limit: self.limit });
        }
        self.link(o);
        Ok(o)
    }

    /// A struct of type `desc` holding `fields` (one value per field, in order).
    pub fn alloc_struct(&mut self, desc: &ObjDesc, fields: &[u64]) -> Result<*mut Header, HeapExhausted> {
        assert_eq!(fields.len(), desc.n_fields as usize, "a value for every field");
        let o = self.alloc(desc, raw::HEADER + fields.len() * 8)?;
        for (i, v) in fields.iter().enumerate() {
            // SAFETY: `o` is a fresh struct with `fields.len()` fields.
            unsafe { *raw::field(o, i) = *v };
        }
        Ok(o)
    }

    /// A string holding `bytes`, which must be UTF-8.
    pub fn alloc_str_from(&mut self, bytes: &[u8]) -> Result<*mut Header, HeapExhausted> {
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        let o = self.alloc_str(bytes.len())?;
        // SAFETY: `o` is a fresh string of `bytes.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), raw::str_bytes_mut(o), bytes.len()) };
        Ok(o)
    }

    /// An array holding `values`.
    pub fn alloc_array_from(&mut self, elem_ref: bool, values: &[u64]) -> Result<*mut Header, HeapExhausted> {
        let o = self.alloc_array(elem_ref, values.len())?;
        // SAFETY: `o` is a fresh array with capacity `values.len()`.
        unsafe {
            if !values.is_empty() {
                std::ptr::copy_nonoverlapping(values.as_ptr(), raw::array_buf(o), values.len());
            }
            raw::set_array_len(o, values.len());
        }
        Ok(o)
    }

    /// An array of `n` copies of `value`, or `None` if `stop` (asked between every
    /// [`POLL_BYTES`] written) says the run must end first; the array then holds what
    /// was written so far, so the heap stays consistent.
    pub fn alloc_array_filled(
        &mut self,
        elem_ref: bool,
        value: u64,
        n: usize,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<Option<*mut Header>, HeapExhausted> {
        let o = self.alloc_array(elem_ref, n)?;
        let mut done = 0;
        while done < n {
            let end = (done + POLL_BYTES / 8).min(n);
            // SAFETY: `o` is a fresh array with capacity `n`; `done..end` lies inside it.
            unsafe {
                let buf = raw::array_buf(o);
                for i in done..end {
                    *buf.add(i) = value;
                }
                raw::set_array_len(o, end);
            }
            done = end;
            if done < n && stop() {
                return Ok(None);
            }
        }
        Ok(Some(o))
    }

    /// A string of `bytes` copied [`POLL_BYTES`] at a time, or `None` if `stop` says the
    /// run must end first (the string then holds zero bytes where the copy did not reach).
    pub fn alloc_str_polled(
        &mut self,
        bytes: &[u8],
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<Option<*mut Header>, HeapExhausted> {
        let o = self.alloc_str(bytes.len())?;
        for (k, chunk) in bytes.chunks(POLL_BYTES).enumerate() {
            if k > 0 && stop() {
                // SAFETY: `o` is a fresh string of `bytes.len()` bytes; the rest is zeroed
                // so it stays valid UTF-8.
                unsafe {
                    let at = k * POLL_BYTES;
                    std::ptr::write_bytes(raw::str_bytes_mut(o).add(at), 0, bytes.len() - at);
                }
                return Ok(None);
            }
            // SAFETY: as above; chunk `k` lies inside the string.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    chunk.as_ptr(),
                    raw::str_bytes_mut(o).add(k * POLL_BYTES),
                    chunk.len(),
                )
            };
        }
        Ok(Some(o))
    }

    /// An array of new strings. Allocation never collects inside the heap, so the parts
    /// made so far need no rooting.
    pub fn alloc_str_array(&mut self, parts: &[&str]) -> Result<*mut Header, HeapExhausted> {
        let mut values = Vec::with_capacity(parts.len());
        for p in parts {
            values.push(self.alloc_str_from(p.as_bytes())? as u64);
        }
        self.alloc_array_from(true, &values)
    }

    /// Bytes [`Heap::alloc_str_array`] will need, to reserve them first.
    pub fn str_array_size(parts: &[&str]) -> usize {
        raw::ARRAY_SIZE + parts.len() * 8 + parts.iter().map(|p| raw::STR_BYTES + p.len()).sum::<usize>()
    }

    /// Appends `value` to array `o`, growing its buffer if needed.
    ///
    /// # Safety
    /// `o` is a live array of this heap.
    pub unsafe fn array_push(&mut self, o: *mut Header, value: u64) -> Result<(), HeapExhausted> {
        // SAFETY: caller guarantees `o` is a live array; `len < cap` after growing.
        unsafe {
            let len = raw::array_len(o);
            if len == raw::array_cap(o) {
                self.grow_array(o, len + 1)?;
            }
            *raw::array_buf(o).add(len) = value;
            raw::set_array_len(o, len + 1);
        }
        self.write_barrier(o, value);
        Ok(())
    }

    /// An empty array with room for `cap` elements.
    pub fn alloc_array(&mut self, elem_ref: bool, cap: usize) -> Result<*mut Header, HeapExhausted> {
        let desc: *const ObjDesc = &*self.array_descs[elem_ref as usize];
        let buf_bytes = cap.checked_mul(8).ok_or(HeapExhausted { limit: self.limit })?;
        self.charge(buf_bytes)?;
        let buf = raw::alloc_words(&mut self.allocator, cap);
        if cap != 0 && buf.is_null() {
            self.bytes_live -= buf_bytes;
            return Err(HeapExhausted { limit: self.limit });
        }
        let o = match self.alloc(desc, raw::ARRAY_SIZE) {
            Ok(o) => o,
            Err(e) => {
                // SAFETY: `buf` was just allocated with `cap` words.
                unsafe { raw::free_words(&mut self.allocator, buf, cap) };
                self.bytes_live -= buf_bytes;
                return Err(e);
            }
        };
        // SAFETY: `o` is a fresh array object.
        unsafe {
            raw::set_array_buf(o, buf);
            raw::set_array_cap(o, cap);
            raw::set_array_len(o, 0);
        }
        Ok(o)
    }

    /// Grows array `o`'s buffer to hold at least `min_cap` elements.
    ///
    /// # Safety
    /// `o` is a live array of this heap.
    unsafe fn grow_array(&mut self, o: *mut Header, min_cap: usize) -> Result<(), HeapExhausted> {
        // SAFETY: caller guarantees `o` is a live array.
        unsafe {
            let old_cap = raw::array_cap(o);
            let new_cap = min_cap.max(old_cap.saturating_mul(2)).max(4);
            let bytes = new_cap.checked_mul(8).ok_or(HeapExhausted { limit: self.limit })?;
            self.charge(bytes)?;
            let buf = raw::alloc_words(&mut self.allocator, new_cap);
            if buf.is_null() {
                self.bytes_live -= bytes;
                return Err(HeapExhausted { limit: self.limit });
            }
            let len = raw::array_len(o);
            let old = raw::array_buf(o);
            if len > 0 {
                std::ptr::copy_nonoverlapping(old, buf, len);
            }
            raw::free_words(&mut self.allocator, old, old_cap);
            self.bytes_live -= old_cap * 8;
            raw::set_array_buf(o, buf);
            raw::set_array_cap(o, new_cap);
        }
        Ok(())
    }

    /// A string of `len` uninitialised bytes; the caller writes valid UTF-8 before the
    /// next safepoint.
    pub fn alloc_str(&mut self, len: usize) -> Result<*mut Header, HeapExhausted> {
        let size = raw::STR_BYTES.checked_add(len).ok_or(HeapExhausted { limit: self.limit })?;
        if size > u32::MAX as usize {
            return Err(HeapExhausted { limit: self.limit });
        }
        let desc: *const ObjDesc = &*self.str_desc;
        let o = self.alloc(desc, size)?;
        // SAFETY: `o` is a fresh string object.
        unsafe { raw::set_str_len(o, len) };
        Ok(o)
    }

    /// Called on every store of a reference `value` into object `obj` (or a global, with
    /// a null `obj`). Nothing to do for a non-moving, non-incremental collector.
    #[inline(always)]
    pub fn write_barrier(&mut self, _obj: *mut Header, _value: u64) {}
}

impl Drop for Heap {
    fn drop(&mut self) {
        // With no block counted live, sweeping every object frees only the large blocks;
        // the chunks go when the allocator is dropped.
        self.allocator.begin_census();
        let mut o = self.objects;
        while !o.is_null() {
            // SAFETY: every object in the list is live and owned by this heap; we read
            // `next` before freeing it.
            unsafe {
                let next = (*o).next;
                raw::sweep_object(&mut self.allocator, o);
                o = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::raw::{ObjDesc, ObjKind};
    use super::*;

    fn pair_desc() -> ObjDesc {
        // struct { value: int, next: ref }
        ObjDesc { kind: ObjKind::Struct, ref_fields: Box::new([1]), n_fields: 2, tag: 0, func: 0, ty: 0 }
    }

    #[test]
    fn unreachable_objects_are_freed_and_reachable_ones_kept() {
        let desc = pair_desc();
        let mut heap = Heap::new(1 << 20, false);
        let s = heap.alloc_str_from(b"kept").expect("string") as u64;
        let inner = heap.alloc_struct(&desc, &[1, s]).expect("inner") as u64;
        let outer = heap.alloc_struct(&desc, &[2, inner]).expect("outer") as u64;
        for i in 0..100 {
            heap.alloc_array_filled(false, i, 10, &mut || false).expect("garbage");
        }
        let before = heap.bytes_live();
        heap.collect(|m| m.mark(outer));
        heap.verify().expect("consistent");
        assert!(heap.bytes_live() < before);
        // Two structs of two fields and a four-byte string (its block rounded up to 8
        // bytes) survive.
        assert_eq!(heap.bytes_live(), 2 * (raw::HEADER + 16) + raw::STR_BYTES + 8);
        heap.collect(|_| {});
        assert_eq!(heap.bytes_live(), 0);
        assert_eq!(heap.stats().gc_cycles, 2);
    }

    #[test]
    fn arrays_grow_and_keep_their_elements() {
        let mut heap = Heap::new(1 << 20, false);
        let a = heap.alloc_array_from(true, &[]).expect("array");
        let mut strings = Vec::new();
        for i in 0..100u8 {
            let s = heap.alloc_str_from(&[b'a' + i % 26]).expect("string") as u64;
            strings.push(s);
            // SAFETY: `a` is a live array of this heap.
            unsafe { heap.array_push(a, s) }.expect("push");
        }
        heap.collect(|m| m.mark(a as u64));
        heap.verify().expect("consistent");
        // SAFETY: `a` survived the collection (it was a root).
        let items = unsafe { raw::array_slice(a) };
        assert_eq!(items, &strings[..]);
    }

    #[test]
    fn the_limit_is_enforced_and_freed_blocks_are_reused() {
        let mut heap = Heap::new(256 << 10, false);
        let mut n = 0;
        while heap.alloc_str_from(b"0123456789abcdef").is_ok() {
            n += 1;
        }
        assert!(n > 10 && heap.bytes_live() <= 256 << 10);
        assert_eq!(heap.alloc_str_from(b"x"), Err(HeapExhausted { limit: 256 << 10 }));
        heap.collect(|_| {});
        assert_eq!(heap.bytes_live(), 0);
        for _ in 0..n {
            heap.alloc_str_from(b"0123456789abcdef").expect("room again after collecting");
        }
        heap.verify().expect("consistent");
    }
}
