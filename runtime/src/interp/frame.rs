//! Call frames. Kiln calls never recurse on the Rust stack: the interpreter pushes a
//! [`Frame`] and continues in the same loop.

use super::op::Op;

/// One activation: which function, where it is, and where its registers start.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// The function's run-form code, so a return need not look the function up.
    pub code: *const Op,
    /// Function index.
    pub func: u32,
    /// For the running frame, the instruction being executed (synced at safepoints and
    /// traps); for a suspended frame, its pending `Call`.
    pub pc: u32,
    /// Index of register 0 in the register file.
    pub base: u32,
    /// Register-file slot that receives the result when this frame returns.
    pub ret: u32,
    /// The caller's `PreparedFunc::refs_end`: on return, the caller's registers from this
    /// frame's window up to there are nulled (kept here so a return needs no lookup).
    pub caller_refs_end: u32,
}

// SAFETY: `code` points into the code of a prepared module that the instance holds an
// `Arc` to; that code is immutable (and the module `Sync`), so a frame may move to
// another thread together with its instance.
unsafe impl Send for Frame {}
