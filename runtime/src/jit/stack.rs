//! The machine stack a run that may use compiled code executes on.
//!
//! Compiled Kiln frames recurse on the machine stack, and so does the interpreter when
//! compiled code calls it, so such a run needs a stack sized for the deepest call stack
//! its limits allow, whatever stack the host gave the thread. Each thread keeps one
//! region for this, mapped once (address space only: pages are committed as they are
//! touched) and reused by every run on that thread, so a run costs a stack switch, not a
//! mapping; a run nested in another on the same thread gets a fresh one from `stacker`.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// A mapped stack region whose lowest page is a guard page.
struct Region {
    base: *mut u8,
    size: usize,
}

const PAGE: usize = 4096;

impl Region {
    #[cfg(unix)]
    fn map(size: usize) -> Option<Region> {
        let size = size.div_ceil(PAGE) * PAGE + PAGE;
        // SAFETY: an anonymous private mapping of fresh address space; the result is
        // checked before use.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: the first page of the mapping just made; a stack overflowing into it
        // faults instead of writing below the region.
        unsafe { libc::mprotect(base, PAGE, libc::PROT_NONE) };
        Some(Region { base: base as *mut u8, size })
    }

    #[cfg(not(unix))]
    fn map(_size: usize) -> Option<Region> {
        None
    }

    /// The usable stack: above the guard page.
    fn usable(&self) -> (*mut u8, usize) {
        // SAFETY: the guard page is inside the mapping.
        (unsafe { self.base.add(PAGE) }, self.size - PAGE)
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `map` made, which no stack frame uses any
        // more (the region is only dropped outside a run).
        #[cfg(unix)]
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.size);
        }
    }
}

thread_local! {
    static REGION: RefCell<Option<Region>> = const { RefCell::new(None) };
    static IN_USE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on a stack of at least `size` bytes; `f` gets the lowest address it may use.
pub fn run_on<R>(size: usize, f: impl FnOnce(usize) -> R) -> R {
    if IN_USE.with(|u| u.replace(true)) {
        return fresh(size, f);
    }
    let region = REGION.with(|r| {
        let mut r = r.borrow_mut();
        if r.as_ref().is_none_or(|reg| reg.usable().1 < size) {
            *r = None; // unmap the smaller one first
            *r = Region::map(size);
        }
        r.as_ref().map(Region::usable)
    });
    match region {
        Some((base, len)) => {
            let limit = base as usize;
            // SAFETY: `base..base + len` is a mapped, page-aligned region no frame uses
            // (`IN_USE`), and it stays mapped until the run is over; the callback does
            // not unwind (panics are caught and resumed on the original stack).
            let res = unsafe { psm::on_stack(base, len, || catch_unwind(AssertUnwindSafe(|| f(limit)))) };
            IN_USE.with(|u| u.set(false));
            match res {
                Ok(r) => r,
                Err(panic) => resume_unwind(panic),
            }
        }
        None => {
            let r = fresh(size, f);
            IN_USE.with(|u| u.set(false));
            r
        }
    }
}

/// A stack of its own for this run (`stacker` maps and unmaps it).
fn fresh<R>(size: usize, f: impl FnOnce(usize) -> R) -> R {
    stacker::grow(size, || {
        let marker = 0u8;
        let here = std::hint::black_box(&marker) as *const u8 as usize;
        f(here.saturating_sub(size))
    })
}
