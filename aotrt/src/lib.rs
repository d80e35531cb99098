//! The runtime library of ahead-of-time executables (`libkiln_rt.a`). `vmc aot -o app`
//! links an object of compiled Kiln code with this archive: the archive's `main` finds
//! the object's bytecode and code table through its symbols (spec/runtime.md,
//! "Ahead-of-time compilation"), checks them against this runtime, and runs the program as
//! `vmrun` would, every command-line argument going to the program and the limits,
//! grants and statistics coming from `KILN_*` environment variables (`env.rs`).
//!
//! This crate and the C API are the runtime's foreign-function boundaries: the `unsafe`
//! here reads the object's symbols.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod env;

use kiln_launch::{report, EXIT_BAD_BYTECODE, EXIT_TRAP, EXIT_USAGE};
use kiln_runtime::{AotImage, Engine, Module};
use std::ffi::c_int;

// The system allocator, not mimalloc as `vmrun` has: mimalloc's initialisation was half
// the instructions of an executable's whole start-up (it reads every `MIMALLOC_*`
// option from the environment and reserves a gigabyte), and the benchmark programs ran
// as fast without it (the collector manages its own chunks).

// The object `vmc aot` writes (`kiln_runtime`'s `jit/aot.rs`) defines these.
extern "C" {
    static kiln_aot_abi_version: u32;
    static kiln_aot_module: [u8; 0];
    static kiln_aot_module_len: u64;
    static kiln_aot_module_hash: u64;
    static kiln_aot_code: [usize; 0];
    static kiln_aot_code_len: u64;
}

/// The program's entry: what the C runtime calls.
#[no_mangle]
pub extern "C" fn main(_argc: c_int, _argv: *const *const u8) -> c_int {
    // A panic must not unwind into C; the runtime reports its own errors, so one here is
    // a bug, reported as an internal error.
    match std::panic::catch_unwind(run) {
        Ok(status) => c_int::from(status),
        Err(_) => {
            report("error: internal error in the Kiln runtime");
            c_int::from(EXIT_TRAP)
        }
    }
}

fn run() -> u8 {
    let program = std::env::args_os().next().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    let mut options = match env::options() {
        Ok(options) => options,
        Err(message) => {
            report(format!("error: {message}"));
            return EXIT_USAGE;
        }
    };
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(a) => options.args.push(a),
            Err(a) => {
                report(format!("error: program argument {a:?} is not valid UTF-8"));
                return EXIT_USAGE;
            }
        }
    }
    // SAFETY: the object `vmc aot` wrote defines these symbols with these types; the
    // module and code table are `kiln_aot_module_len` bytes and `kiln_aot_code_len`
    // entries long, in the executable's read-only data for its whole life.
    let image = unsafe {
        AotImage {
            abi_version: kiln_aot_abi_version,
            bytecode: std::slice::from_raw_parts(
                std::ptr::addr_of!(kiln_aot_module).cast::<u8>(),
                kiln_aot_module_len as usize,
            ),
            bytecode_hash: kiln_aot_module_hash,
            code: std::slice::from_raw_parts(
                std::ptr::addr_of!(kiln_aot_code).cast::<usize>(),
                kiln_aot_code_len as usize,
            ),
        }
    };
    let engine = Engine::new();
    // SAFETY: the code was compiled by `vmc aot` from this bytecode (the trusted output
    // of the compiler, linked into this executable); `from_aot` checks the ABI version,
    // the hash and the table's length.
    let module = match unsafe { Module::from_aot(&engine, &image) } {
        Ok(module) => module,
        Err(e) => {
            report(format!("error: {program}: {e}"));
            return EXIT_BAD_BYTECODE;
        }
    };
    kiln_launch::run::run(&module, options, &program)
}
