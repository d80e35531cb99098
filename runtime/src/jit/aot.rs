//! Ahead-of-time objects (`vmc aot`): the JIT's translator (`translate/`, generic over
//! `cranelift_module::Module`), in its relocatable mode, writing every function of a
//! module into a relocatable object for a target triple through cranelift-object.
//!
//! The object holds each function's code (`kiln_aot_f<index>`; calls between them and to
//! the runtime's `kiln_rt_*` helpers are relocations), a code table of their addresses,
//! the module's bytecode, its hash and the ABI version; `precompiled.rs` is the runtime's
//! side. spec/runtime.md ("Ahead-of-time compilation") documents the layout and why no
//! stack maps, trap sites or pc maps are needed.

use super::precompiled::{module_hash, ABI_VERSION};
use super::translate;
use super::Entry;
use crate::loader::PreparedModule;
use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{default_libcall_names, DataDescription, FuncId, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};

/// The object's symbols (spec/runtime.md, "Ahead-of-time compilation"); function `i` is
/// `kiln_aot_f<i>`.
pub const SYM_MODULE: &str = "kiln_aot_module";
pub const SYM_MODULE_LEN: &str = "kiln_aot_module_len";
pub const SYM_MODULE_HASH: &str = "kiln_aot_module_hash";
pub const SYM_ABI_VERSION: &str = "kiln_aot_abi_version";
pub const SYM_CODE: &str = "kiln_aot_code";
pub const SYM_CODE_LEN: &str = "kiln_aot_code_len";

/// The targets objects can be written for.
pub const TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

/// A relocatable object holding `pm`'s functions for `triple`, and the functions left
/// out (with why).
pub fn object(pm: &PreparedModule, triple: &str) -> Result<(Vec<u8>, Vec<String>), String> {
    if !TARGETS.contains(&triple) {
        return Err(format!("unsupported target `{triple}`; supported: {}", TARGETS.join(", ")));
    }
    let mut flags = settings::builder();
    let apple = triple.contains("apple");
    for (k, v) in
        [("opt_level", "speed"), ("is_pic", if triple.contains("windows") { "false" } else { "true" })]
    {
        flags.set(k, v).map_err(|e| e.to_string())?;
    }
    // cranelift-object 0.135 panics writing unwind information into Mach-O.
    flags.set("unwind_info", if apple { "false" } else { "true" }).map_err(|e| e.to_string())?;
    let isa = cranelift_codegen::isa::lookup_by_name(triple)
        .map_err(|e| format!("target `{triple}`: {e}"))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())?;
    let builder = ObjectBuilder::new(isa, "kiln_aot", default_libcall_names()).map_err(|e| e.to_string())?;
    let mut m = ObjectModule::new(builder);
    let helpers = translate::declare_helpers(&mut m)?;
    let sig = translate::native_signature(&m);
    let ids: Vec<FuncId> = (0..pm.funcs.len())
        .map(|i| {
            m.declare_function(&format!("kiln_aot_f{i}"), Linkage::Export, &sig).map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let call_slow = m.declare_function(CALL_SLOW, Linkage::Import, &sig).map_err(|e| e.to_string())?;
    let direct: Vec<Option<FuncId>> = ids.iter().copied().map(Some).collect();
    let (mut ctx, mut fcx) = (m.make_context(), FunctionBuilderContext::new());
    let mut left_out = Vec::new();
    let mut defined = vec![false; ids.len()];
    for (i, &id) in ids.iter().enumerate() {
        m.clear_context(&mut ctx);
        ctx.func.signature = sig.clone();
        let b = FunctionBuilder::new(&mut ctx.func, &mut fcx);
        let name = &pm.bytecode.funcs[i].name;
        let translated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            translate::translate(&mut m, b, pm, i as u32, Entry::Call, &helpers, &direct, true)
        }))
        .unwrap_or_else(|_| Err("the translator panicked".to_string()));
        let generated = translated.and_then(|_| {
            m.define_function(id, &mut ctx).map_err(|e| format!("code generation failed: {e:?}"))
        });
        match generated {
            Ok(()) => defined[i] = true,
            Err(why) => {
                // Other functions call this one directly: it forwards to the runtime,
                // which interprets it.
                left_out.push(format!("{name}: {why}"));
                fcx = FunctionBuilderContext::new();
                m.clear_context(&mut ctx);
                ctx.func.signature = sig.clone();
                forward(&mut m, FunctionBuilder::new(&mut ctx.func, &mut fcx), call_slow, i as u32);
                m.define_function(id, &mut ctx).map_err(|e| format!("{name}: forwarding stub: {e:?}"))?;
            }
        }
    }
    let blob = kiln_bytecode::encode(&pm.bytecode);
    let hash = module_hash(&blob);
    let n = ids.len();
    for (name, bytes) in [
        (SYM_MODULE, blob.clone()),
        (SYM_MODULE_LEN, (blob.len() as u64).to_le_bytes().to_vec()),
        (SYM_MODULE_HASH, hash.to_le_bytes().to_vec()),
        (SYM_ABI_VERSION, ABI_VERSION.to_le_bytes().to_vec()),
        (SYM_CODE_LEN, (n as u64).to_le_bytes().to_vec()),
        (SYM_CODE, vec![0; n.max(1) * 8]),
    ] {
        let id = m.declare_data(name, Linkage::Export, false, false).map_err(|e| e.to_string())?;
        let mut data = DataDescription::new();
        data.define(bytes.into_boxed_slice());
        if name == SYM_CODE {
            // Each function's address, or 0 where it was left out (the runtime
            // interprets those).
            for (i, &id) in ids.iter().enumerate() {
                if defined[i] {
                    let f = m.declare_func_in_data(id, &mut data);
                    data.write_function_addr((i * 8) as u32, f);
                }
            }
        }
        m.define_data(id, &data).map_err(|e| e.to_string())?;
    }
    let bytes = m.finish().emit().map_err(|e| e.to_string())?;
    Ok((bytes, left_out))
}

/// The runtime's entry for a function without code (`helpers::kiln_call_slow`).
const CALL_SLOW: &str = "kiln_rt_call_slow";

/// A body for function `func` that passes its call on to `call_slow` (same signature)
/// and returns its result.
fn forward(m: &mut ObjectModule, mut b: FunctionBuilder<'_>, call_slow: FuncId, func: u32) {
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    let mut params = b.block_params(block).to_vec();
    // Direct callers pass anything as `func` (abi.rs); the runtime needs the index.
    params[3] = b.ins().iconst(cranelift_codegen::ir::types::I64, i64::from(func));
    let callee = m.declare_func_in_func(call_slow, b.func);
    let call = b.ins().call(callee, &params);
    let results = b.inst_results(call).to_vec();
    b.ins().return_(&results);
    b.finalize(m.target_config());
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::{Architecture, BinaryFormat, Object, ObjectSection, ObjectSymbol};

    fn prepared(src: &str) -> PreparedModule {
        let bc = kiln_compiler::compile_source("aot.kiln", src).expect("compiles");
        kiln_bytecode::verify(&bc).expect("verifies");
        crate::loader::prepare(bc)
    }

    #[test]
    fn objects_for_every_target_hold_the_functions_the_blob_and_relocations() {
        let pm = prepared(
            "fn fib(n: int) -> int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }\n\
             fn main() { var t = 0; for i in 0..10 { t += fib(i); } println(\"{t}\"); }",
        );
        for (triple, arch, format) in [
            ("x86_64-unknown-linux-gnu", Architecture::X86_64, BinaryFormat::Elf),
            ("aarch64-unknown-linux-gnu", Architecture::Aarch64, BinaryFormat::Elf),
            ("x86_64-apple-darwin", Architecture::X86_64, BinaryFormat::MachO),
            ("aarch64-apple-darwin", Architecture::Aarch64, BinaryFormat::MachO),
            ("x86_64-pc-windows-msvc", Architecture::X86_64, BinaryFormat::Coff),
        ] {
            let (bytes, left_out) = object(&pm, triple).unwrap_or_else(|e| panic!("{triple}: {e}"));
            assert!(left_out.is_empty(), "{triple}: {left_out:?}");
            let file = object::File::parse(&*bytes).unwrap_or_else(|e| panic!("{triple}: {e}"));
            assert_eq!((file.architecture(), file.format()), (arch, format), "{triple}");
            let names: Vec<String> = file
                .symbols()
                .filter_map(|s| s.name().ok().map(|n| n.trim_start_matches('_').to_string()))
                .collect();
            for f in 0..pm.funcs.len() {
                assert!(names.contains(&format!("kiln_aot_f{f}")), "{triple}: kiln_aot_f{f} in {names:?}");
            }
            for data in [SYM_MODULE, SYM_MODULE_LEN, SYM_MODULE_HASH, SYM_ABI_VERSION, SYM_CODE, SYM_CODE_LEN]
            {
                assert!(names.iter().any(|n| n == data), "{triple}: {data}");
            }
            assert!(names.iter().any(|n| n == "kiln_rt_exec_slow"), "{triple}: helpers are imports");
            let relocations: usize = file.sections().map(|s| s.relocations().count()).sum();
            assert!(relocations > 0, "{triple}: calls are relocations");
        }
    }

    #[test]
    fn other_targets_are_refused_with_the_list() {
        let pm = prepared("fn main() {}");
        for triple in ["aarch64-pc-windows-msvc", "riscv64gc-unknown-linux-gnu", "nonsense"] {
            let err = object(&pm, triple).expect_err(triple);
            assert!(err.contains("unsupported target") && err.contains("x86_64-pc-windows-msvc"), "{err}");
        }
    }
}
