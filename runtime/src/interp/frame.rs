//! Call frames. Kiln calls never recurse on the Rust stack: the interpreter pushes a
//! [`Frame`] and continues in the same loop.

use super::op::Op;

/// One activation: which function, where it is, and where its registers start. Compiled
/// and interpreted functions push the same frames (`repr(C)`: compiled code writes them
/// at fixed offsets, `jit/abi.rs`).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
///
/// A compiled function writes only `func` and `base` when it enters (one 8-byte store:
/// they are adjacent), and `pc` before it calls or traps; `code`, `ret` and `clear_end`
/// are the interpreter's, which never resumes a compiled frame (it keeps them in machine
/// registers), and hold leftovers there.
pub struct Frame {
    /// The function's run-form code, so a return need not look the function up.
    pub code: *const Op,
    /// Function index.
    pub func: u32,
    /// Index of register 0 in the register file.
    pub base: u32,
    /// For the running frame, the instruction being executed (synced at safepoints and
    /// traps); for a suspended frame, its pending `Call`.
    pub pc: u32,
    /// Register-file slot that receives the result when this frame returns.
    pub ret: u32,
    /// One past the caller's last reference slot (absolute, `caller base + refs_end`): on
    /// return, the slots from this frame's `base` up to there, which held this frame's
    /// registers, are zeroed so the collector never reads a leftover in the caller.
    pub clear_end: u32,
}

// SAFETY: `code` points into the code of a prepared module that the instance holds an
// `Arc` to; that code is immutable (and the module `Sync`), so a frame may move to
// another thread together with its instance.
unsafe impl Send for Frame {}
