//! The stand-in for `compiler.rs` in a runtime built without the `jit` feature (the
//! runtime library ahead-of-time executables link): there is no code generator, so
//! every compilation is refused and the function stays interpreted.

use super::Entry;
use crate::loader::PreparedModule;

/// One function's compiled code (never made here).
pub struct Compiled {
    pub code: usize,
    pub bytes: usize,
    pub calls_inlined: usize,
}

/// No compiler: [`Compiler::new`] says why.
pub enum Compiler {}

impl Compiler {
    pub fn new() -> Result<Compiler, String> {
        Err("this runtime was built without the JIT compiler".to_string())
    }

    pub fn compile(&mut self, _: &PreparedModule, _: u32, _: Entry) -> Result<Compiled, String> {
        match *self {}
    }
}
