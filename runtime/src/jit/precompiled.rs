//! Code compiled ahead of time (`vmc aot`, `aot.rs`), as the runtime takes it from an
//! executable: the contract's version, the bytecode the code was compiled from and its
//! hash, and each function's address. Nothing here needs the code generator: this is
//! what the runtime library of ahead-of-time executables (built without the `jit`
//! feature) uses to run them.

use super::ModuleCode;
use crate::api::{Engine, LoadError, Module};
use crate::loader::PreparedModule;
use std::sync::atomic::Ordering;

/// The contract between compiled code and the runtime (`abi.rs`, the helpers'
/// symbols, the prepared module's layout of descriptors, strings and dispatch tables)
/// that an object was written for; a runtime refuses an object of another.
pub const ABI_VERSION: u32 = 1;

/// 64-bit FNV-1a of `bytes`: binds an object's code to the bytecode it was compiled
/// from (the runtime recomputes it over the bytecode it is about to verify).
pub fn module_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// What an ahead-of-time object holds for the runtime (spec/runtime.md, "Ahead-of-time
/// objects"), read from its symbols.
#[derive(Clone, Copy, Debug)]
pub struct AotImage<'a> {
    /// `kiln_aot_abi_version`.
    pub abi_version: u32,
    /// `kiln_aot_module`: the bytecode, as `vmc build` writes it.
    pub bytecode: &'a [u8],
    /// `kiln_aot_module_hash`: [`module_hash`] of `bytecode` when the object was written.
    pub bytecode_hash: u64,
    /// `kiln_aot_code`: each function's code address, 0 for a function left interpreted.
    pub code: &'a [usize],
}

/// Refuses an image written for another runtime ABI or whose bytecode is not the one
/// its code was compiled from (checked before the bytecode is decoded: another ABI may
/// mean another bytecode format).
fn check_origin(image: &AotImage<'_>) -> Result<(), String> {
    if image.abi_version != ABI_VERSION {
        return Err(format!(
            "the compiled code was written for runtime ABI version {}, this runtime has version {ABI_VERSION}: \
             compile the program again with this release's vmc",
            image.abi_version
        ));
    }
    if module_hash(image.bytecode) != image.bytecode_hash {
        return Err("the compiled code does not belong to the bytecode beside it (hash mismatch)".into());
    }
    Ok(())
}

impl ModuleCode {
    /// Installs each function's ahead-of-time code; a function without (0) stays
    /// interpreted for good, listed among the failures as such.
    ///
    /// # Safety
    /// Every non-zero entry of `code` is the address of a function with the `NativeFn`
    /// contract compiled from exactly `pm`'s bytecode for [`ABI_VERSION`], and stays
    /// valid while the module lives.
    unsafe fn install(&self, pm: &PreparedModule, code: &[usize]) {
        for (func, (entry, &address)) in self.entries.iter().zip(code).enumerate() {
            if address != 0 {
                entry.store(address, Ordering::Release);
                self.functions_compiled.fetch_add(1, Ordering::Relaxed);
            } else {
                self.fail(pm, func as u32, "not compiled ahead of time");
            }
        }
    }
}

impl Module {
    /// Loads a module compiled ahead of time (`vmc aot`) from what its object holds: the
    /// bytecode is decoded and verified as [`Module::from_bytes`] does, and the compiled
    /// code then runs in place of the JIT's for instances of tier [`crate::Tier::Jit`]
    /// or [`crate::Tier::Auto`] (functions without code are interpreted).
    ///
    /// # Errors
    /// [`LoadError::Aot`] when the image was written for another runtime ABI, its hash
    /// does not match its bytecode, or its code table does not fit the module;
    /// [`LoadError::Decode`] and [`LoadError::Verify`] as for [`Module::from_bytes`].
    ///
    /// # Safety
    /// The native code is trusted: every non-zero entry of `image.code` must be code
    /// `vmc aot` compiled from exactly `image.bytecode` for this runtime's ABI version,
    /// mapped executable for as long as the module lives. The checks above catch
    /// mismatched versions and corrupted bytecode, not forged code.
    pub unsafe fn from_aot(engine: &Engine, image: &AotImage<'_>) -> Result<Module, LoadError> {
        check_origin(image).map_err(LoadError::Aot)?;
        let bytecode = kiln_bytecode::decode(image.bytecode)?;
        if image.code.len() != bytecode.funcs.len() {
            return Err(LoadError::Aot(format!(
                "the code table has {} entries for a module of {} functions",
                image.code.len(),
                bytecode.funcs.len()
            )));
        }
        let module = Module::from_bytecode(engine, bytecode)?;
        // SAFETY: the caller's guarantee; the version, hash and length were checked.
        unsafe { module.prepared().jit.install(module.prepared(), image.code) };
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Instance, InstanceConfig, SharedBuffer, Tier, TierConfig};

    fn bytecode() -> Vec<u8> {
        let bc = kiln_compiler::compile_source(
            "p.kiln",
            "fn sq(x: int) -> int { x * x }\nfn main() { println(\"{sq(7)}\"); }",
        )
        .expect("compiles");
        kiln_bytecode::encode(&bc)
    }

    fn load(image: &AotImage<'_>) -> Result<Module, LoadError> {
        // SAFETY: every code entry in these images is 0: nothing native runs.
        unsafe { Module::from_aot(&Engine::new(), image) }
    }

    #[test]
    fn images_of_another_abi_bytecode_or_size_are_refused() {
        let bytes = bytecode();
        let code = [0usize; 2];
        let good = AotImage {
            abi_version: ABI_VERSION,
            bytecode: &bytes,
            bytecode_hash: module_hash(&bytes),
            code: &code,
        };
        let refused = |image: AotImage<'_>, says: &str| match load(&image) {
            Err(LoadError::Aot(m)) => assert!(m.contains(says), "{m}"),
            Err(e) => panic!("{says}: {e}"),
            Ok(_) => panic!("{says}: loaded"),
        };
        refused(
            AotImage { abi_version: ABI_VERSION + 1, ..good },
            "ABI version 2, this runtime has version 1",
        );
        refused(AotImage { bytecode_hash: good.bytecode_hash ^ 1, ..good }, "hash mismatch");
        refused(AotImage { code: &code[..1], ..good }, "1 entries for a module of 2 functions");
        let mut damaged = bytes.clone();
        damaged[8] ^= 0xff;
        let damaged = AotImage { bytecode: &damaged, bytecode_hash: module_hash(&damaged), ..good };
        assert!(
            matches!(load(&damaged), Err(LoadError::Decode(_) | LoadError::Verify(_))),
            "still decoded and verified"
        );
    }

    #[test]
    fn functions_without_code_are_interpreted_and_listed() {
        let bytes = bytecode();
        let code = [0usize; 2];
        let image = AotImage {
            abi_version: ABI_VERSION,
            bytecode: &bytes,
            bytecode_hash: module_hash(&bytes),
            code: &code,
        };
        let module = load(&image).expect("loads");
        let out = SharedBuffer::default();
        let config = InstanceConfig {
            tier: TierConfig { tier: Tier::Jit, threshold: 0 },
            stdout: Box::new(out.clone()),
            ..InstanceConfig::default()
        };
        let mut instance = Instance::new(&module, config).expect("instance");
        instance.run().expect("runs");
        assert_eq!(out.contents(), b"49\n");
        let stats = instance.stats();
        assert_eq!(stats.jit.functions_compiled, 0);
        assert!(
            stats.jit.failures.iter().any(|f| f == "main: not compiled ahead of time"),
            "{:?}",
            stats.jit.failures
        );
    }
}
