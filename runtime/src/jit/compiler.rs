//! The `JITModule` holding one prepared module's machine code.

use super::helpers;
use super::translate::{self, Helpers};
use super::Entry;
use crate::loader::PreparedModule;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Module};

/// One function's compiled code.
pub struct Compiled {
    /// Its address.
    pub code: usize,
    /// Its size in bytes.
    pub bytes: usize,
    /// Call sites lowered inline.
    pub calls_inlined: usize,
}

/// Compiles functions of one module into one `JITModule`.
pub struct Compiler {
    /// Taken out (and its memory freed) on drop.
    module: std::mem::ManuallyDrop<JITModule>,
    ctx: Context,
    fcx: FunctionBuilderContext,
    helpers: Helpers,
    /// Each function's compiled code, where calls can go straight to it.
    ids: Vec<Option<FuncId>>,
}

// SAFETY: the JIT module owns its code memory and is only used under the module's lock.
unsafe impl Send for Compiler {}

impl Compiler {
    /// A compiler for the host, or why there is none.
    pub fn new() -> Result<Compiler, String> {
        let mut flags = settings::builder();
        for (k, v) in [("opt_level", "speed"), ("is_pic", "false"), ("use_colocated_libcalls", "false")] {
            flags.set(k, v).map_err(|e| e.to_string())?;
        }
        // The IR verifier costs a third of compile time; the tests keep it on.
        flags
            .set("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })
            .map_err(|e| e.to_string())?;
        let isa = cranelift_native::builder()
            .map_err(|e| format!("no JIT for this host: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| e.to_string())?;
        let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
        for (name, ptr) in helpers::symbols() {
            jb.symbol(name, ptr);
        }
        let mut module = JITModule::new(jb);
        let helpers = translate::declare_helpers(&mut module)?;
        let ctx = module.make_context();
        let module = std::mem::ManuallyDrop::new(module);
        Ok(Compiler { module, ctx, fcx: FunctionBuilderContext::new(), helpers, ids: Vec::new() })
    }

    /// Compiles `func` of `pm` with `entry`.
    pub fn compile(&mut self, pm: &PreparedModule, func: u32, entry: Entry) -> Result<Compiled, String> {
        if self.ids.len() < pm.funcs.len() {
            self.ids.resize(pm.funcs.len(), None);
        }
        let sig = translate::native_signature(&*self.module);
        let id = self.module.declare_anonymous_function(&sig).map_err(|e| e.to_string())?;
        self.module.clear_context(&mut self.ctx);
        self.ctx.func.signature = sig;
        // A function calls itself directly.
        let mut direct = self.ids.clone();
        if entry == Entry::Call {
            direct[func as usize] = Some(id);
        }
        let b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fcx);
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            translate::translate(&mut *self.module, b, pm, func, entry, &self.helpers, &direct, false)
        }));
        let translated = match res {
            Ok(r) => r,
            Err(_) => {
                self.fcx = FunctionBuilderContext::new();
                Err("the translator panicked".to_string())
            }
        };
        let calls_inlined = match translated {
            Ok(n) => n,
            Err(e) => {
                self.module.clear_context(&mut self.ctx);
                return Err(e);
            }
        };
        self.ctx.set_disasm(std::env::var_os("KILN_JIT_DISASM").is_some());
        if let Err(e) = self.module.define_function(id, &mut self.ctx) {
            self.module.clear_context(&mut self.ctx);
            return Err(format!("code generation failed: {e:?}"));
        }
        let size = self.ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
        if let Some(text) = self.ctx.compiled_code().and_then(|c| c.vcode.as_ref()) {
            eprintln!("; {} ({entry:?})\n{text}", pm.bytecode.funcs[func as usize].name);
        }
        self.module.clear_context(&mut self.ctx);
        self.module.finalize_definitions().map_err(|e| e.to_string())?;
        if entry == Entry::Call {
            self.ids[func as usize] = Some(id);
        }
        Ok(Compiled { code: self.module.get_finalized_function(id) as usize, bytes: size, calls_inlined })
    }
}

impl Drop for Compiler {
    /// Frees the machine code: a `JITModule` keeps it mapped unless told otherwise.
    fn drop(&mut self) {
        // SAFETY: taken once, here; the field is not used again.
        let module = unsafe { std::mem::ManuallyDrop::take(&mut self.module) };
        // SAFETY: the compiler belongs to a prepared module that is being dropped, so no
        // instance holds it any more and none of its code can be running or called.
        unsafe { module.free_memory() };
    }
}
