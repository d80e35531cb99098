//! Semantic model shared by the compiler's later phases: types, declarations and
//! compile-time constants. Function bodies are checked in [`crate::check`].

pub mod consts;
pub mod items;
pub mod types;
