//! Mark and sweep. `collect` is `mark roots`, `trace`, `sweep`, in that order.

use super::raw::{self, Header, ObjKind};
use super::Heap;
use std::time::Instant;

/// Hands roots to the collector.
pub struct Marker<'a> {
    grey: &'a mut Vec<*mut Header>,
}

impl Marker<'_> {
    /// Marks the object a reference slot points at (zero means "no value yet").
    #[inline]
    pub fn mark(&mut self, value: u64) {
        if value == 0 {
            return;
        }
        let o = raw::obj(value);
        // SAFETY: roots and reference fields hold live objects of this heap (invariant 1 and 3).
        unsafe {
            if (*o).marked == 0 {
                (*o).marked = 1;
                self.grey.push(o);
            }
        }
    }
}

impl Heap {
    /// Runs a full collection. `roots` marks every root.
    pub fn collect(&mut self, roots: impl FnOnce(&mut Marker<'_>)) {
        let start = Instant::now();
        self.allocator.begin_census();
        let mut grey = std::mem::take(&mut self.grey);
        {
            let mut marker = Marker { grey: &mut grey };
            roots(&mut marker);
            for &r in &self.temp_roots {
                marker.mark(r);
            }
            while let Some(o) = marker.grey.pop() {
                // SAFETY: grey objects are live objects of this heap (immortal ones are
                // never marked, so never grey); an array's buffer is its block too.
                unsafe {
                    self.allocator.note_live(o as *mut u8, (*o).size as usize);
                    if (*(*o).desc).kind == ObjKind::Array {
                        self.allocator.note_live(raw::array_buf(o) as *mut u8, raw::array_cap(o) * 8);
                    }
                    trace(o, &mut marker);
                }
            }
        }
        self.grey = grey;
        self.sweep();
        self.next_gc = (self.bytes_live * 2).max(super::MIN_GC_THRESHOLD);
        // Until the next collection the program may allocate this much more: the chunks
        // it will need are kept rather than unmapped now and mapped again (page faults
        // and zeroing made binary trees 1.6x slower).
        let headroom = self.next_gc.min(self.limit) - self.bytes_live.min(self.limit);
        self.allocator.end_census(headroom);
        self.stats.gc_cycles += 1;
        let pause = start.elapsed();
        self.stats.gc_time += pause;
        self.stats.gc_max_pause = self.stats.gc_max_pause.max(pause);
        if self.verify_after_gc {
            if let Err(problem) = self.verify() {
                panic!("heap invariant broken after collection: {problem}");
            }
        }
    }

    fn sweep(&mut self) {
        let mut link: *mut *mut Header = &mut self.objects;
        // SAFETY: walks the heap's own object list; unmarked objects are unreachable from
        // the roots (invariant 3), so nothing can use them again.
        unsafe {
            while !(*link).is_null() {
                let o = *link;
                if (*o).marked != 0 {
                    (*o).marked = 0;
                    link = &mut (*o).next;
                } else {
                    *link = (*o).next;
                    self.bytes_live -= raw::sweep_object(&mut self.allocator, o);
                }
            }
        }
    }
}

/// Marks everything `o` refers to.
///
/// # Safety
/// `o` is a live object of the heap being collected.
unsafe fn trace(o: *mut Header, marker: &mut Marker<'_>) {
    // SAFETY: descriptors outlive their objects; field indices come from the descriptor.
    unsafe {
        let desc = &*(*o).desc;
        match desc.kind {
            ObjKind::Str => {}
            ObjKind::Struct => {
                for &f in desc.ref_fields.iter() {
                    marker.mark(*raw::field(o, f as usize));
                }
            }
            ObjKind::Array => {
                if desc.array_elem_ref() {
                    for &v in raw::array_slice(o).iter() {
                        marker.mark(v);
                    }
                }
            }
        }
    }
}
