//! Semantic model shared by the compiler's later phases: types, declarations and
//! compile-time constants. Function bodies are checked in `lower`, which types each
//! expression as it emits its code.

pub mod consts;
pub mod items;
pub mod types;
