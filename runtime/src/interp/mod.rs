//! The register interpreter: dispatch loop, frames, traps, and out-of-line handlers.
//!
//! The loop in `exec.rs` keeps the hot state (code pointer, pc, register window, fuel) in
//! locals and trusts the verifier: it never checks a register's type or index. Anything
//! that allocates, calls a native or traps goes through a named handler in `slow.rs`,
//! which first saves the pc so the collector and stack traces see the right place.

mod exec;
pub mod frame;
pub mod op;
pub mod regfile;
mod slow;
pub mod text;
pub mod trap;

pub use exec::{call_function, execute};
pub(crate) use exec::{grow, limit_reached};
pub(crate) use slow::run_slow_op;
pub(crate) use slow::{new_substr, ref_array, ref_str, slot_str, split, write_str_slot};
