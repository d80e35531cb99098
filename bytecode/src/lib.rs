//! Kiln bytecode: the portable module format shared by the compiler and the runtime.
//!
//! The compiler builds a [`Module`] and [`encode`]s it; the runtime [`decode`]s bytes into
//! a `Module`, [`verify`]s it, and only then prepares it for execution. Every opcode is
//! declared once, in [`isa`], and that table drives the encoder, decoder, verifier operand
//! checks and the [`disasm`] listing.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod decode;
pub mod disasm;
pub mod encode;
pub mod isa;
pub mod limits;
pub mod module;
pub mod natives;
pub mod ops;
pub mod verify;

pub use decode::{decode, DecodeError};
pub use encode::encode;
pub use isa::{Instr, OpInfo, Opcode, OperandKind};
pub use module::*;
pub use verify::{verify, VerifyError};
