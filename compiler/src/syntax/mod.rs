//! Front end: tokens, syntax tree and parser. Knows nothing about types or bytecode.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod span;
