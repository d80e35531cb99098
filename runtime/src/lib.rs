//! The Kiln runtime: load a `.bc` module, verify it, and run it in isolated instances.
//!
//! ```
//! use kiln_runtime::{Engine, Instance, InstanceConfig, Limits, Module};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let source = "fn main() { println(\"hi {6 * 7}\"); }";
//! let bytecode = kiln_compiler::compile_source("app.kiln", source).map_err(|d| d.to_string())?;
//! let engine = Engine::new();
//! let module = Module::from_bytes(&engine, &kiln_bytecode::encode(&bytecode))?;
//! let out = kiln_runtime::SharedBuffer::default();
//! let mut instance = Instance::new(&module, InstanceConfig {
//!     limits: Limits { fuel: Some(1_000_000), ..Limits::default() },
//!     stdout: Box::new(out.clone()),
//!     ..InstanceConfig::default()
//! })?;
//! instance.run()?;
//! assert_eq!(out.contents(), b"hi 42\n");
//! assert!(instance.stats().fuel_used > 0);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

// Only the embedding API is public: nothing reachable from safe code outside this crate
// can touch the heap, the register file or the run form (so safe code cannot cause
// undefined behaviour through them).
mod api;
mod gc;
mod instance;
mod interp;
mod jit;
mod loader;
mod natives;
mod sink;

pub use api::{
    CallError, Caller, Capabilities, Engine, EngineConfig, Func, HostError, Instance, InstanceConfig,
    InstantiateError, InterruptHandle, LinkError, Linker, LoadError, Module, RunError, Stats, Type, Val,
    MAX_ARRAY_DEPTH,
};
pub use gc::HeapStats;
pub use instance::limits::{Limits, MAX_CALL_DEPTH};
pub use interp::trap::{TraceFrame, Trap, TrapKind};
#[cfg(feature = "jit")]
pub use jit::aot::TARGETS as AOT_TARGETS;
pub use jit::precompiled::{module_hash, AotImage, ABI_VERSION as AOT_ABI_VERSION};
pub use jit::{JitStats, Tier, TierConfig, DEFAULT_JIT_THRESHOLD};
pub use sink::SharedBuffer;
