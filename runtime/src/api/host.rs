//! Host functions: Rust (or C) functions a Kiln program calls through `extern fn`
//! declarations, registered in a [`Linker`] and linked when an instance is created.
//!
//! A host function cannot call back into the instance that called it: [`Caller`] gives
//! it the instance's fuel and nothing else, so the instance's heap and frames never
//! change under a running native.

use super::values::{from_bits, to_bits, Type, Val};
use crate::instance::Vm;
use crate::interp::trap::{Stop, TrapKind};
use kiln_bytecode::{ImportKind, ValType};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The callback behind a host function.
type Callback = dyn Fn(&mut Caller<'_>, &[Val]) -> Result<Option<Val>, HostError> + Send + Sync;

/// A host function: its signature and its callback.
#[derive(Clone)]
pub(crate) struct HostFunc {
    name: Arc<str>,
    params: Arc<[Type]>,
    result: Option<Type>,
    callback: Arc<Callback>,
}

/// Host functions by name, for instances to link their modules' `extern fn` imports
/// against. Cheap to clone (clones share the functions); adding to a clone does not
/// change the original.
///
/// ```
/// use kiln_runtime::{Linker, Type, Val};
/// let mut linker = Linker::new();
/// linker.func("add", &[Type::Int, Type::Int], Some(Type::Int), |_caller, args| {
///     match args {
///         [Val::Int(a), Val::Int(b)] => Ok(Some(Val::Int(a.wrapping_add(*b)))),
///         _ => unreachable!("the runtime checks the types"),
///     }
/// });
/// ```
#[derive(Clone, Default)]
pub struct Linker {
    funcs: Arc<BTreeMap<String, HostFunc>>,
}

impl std::fmt::Debug for Linker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.funcs.keys()).finish()
    }
}

impl Linker {
    /// An empty linker.
    pub fn new() -> Linker {
        Linker::default()
    }

    /// Registers (or replaces) host function `name` with parameter types `params` and
    /// result type `result` (`None`: returns nothing). Only `int`, `float`, `bool` and
    /// `str` cross this boundary. The runtime checks arguments and results against the
    /// signature: the callback gets exactly `params`, and a result of another type traps.
    pub fn func<F>(&mut self, name: &str, params: &[Type], result: Option<Type>, callback: F) -> &mut Linker
    where
        F: Fn(&mut Caller<'_>, &[Val]) -> Result<Option<Val>, HostError> + Send + Sync + 'static,
    {
        let func =
            HostFunc { name: name.into(), params: params.into(), result, callback: Arc::new(callback) };
        Arc::make_mut(&mut self.funcs).insert(name.to_string(), func);
        self
    }

    /// Finds the host function for each of `module`'s host imports, in import order.
    pub(crate) fn link(&self, module: &kiln_bytecode::Module) -> Result<Vec<HostFunc>, LinkError> {
        let host_type = |ty: &ValType| match ty {
            ValType::Int => Type::Int,
            ValType::Float => Type::Float,
            ValType::Bool => Type::Bool,
            // Verifier rule M3: host imports use scalars and strings only.
            _ => Type::Str,
        };
        let mut linked = Vec::new();
        for import in module.imports.iter().filter(|i| i.kind == ImportKind::Host) {
            let params: Vec<Type> = import.sig.params.iter().map(host_type).collect();
            let result = import.sig.result.as_ref().map(host_type);
            let wanted = signature_text(&import.name, &params, result.as_ref());
            let func = self
                .funcs
                .get(&import.name)
                .ok_or_else(|| LinkError::Missing { signature: wanted.clone() })?;
            if *func.params != params[..] || func.result != result {
                return Err(LinkError::Signature {
                    imported: wanted,
                    provided: signature_text(&func.name, &func.params, func.result.as_ref()),
                });
            }
            linked.push(func.clone());
        }
        Ok(linked)
    }
}

fn signature_text(name: &str, params: &[Type], result: Option<&Type>) -> String {
    let params: Vec<String> = params.iter().map(Type::to_string).collect();
    match result {
        Some(r) => format!("fn {name}({}) -> {r}", params.join(", ")),
        None => format!("fn {name}({})", params.join(", ")),
    }
}

/// Why a module's imports could not be linked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The module declares an `extern fn` the linker has no function for.
    #[error("the module imports `{signature}`, which the host does not provide")]
    Missing {
        /// The import's signature, as Kiln would declare it.
        signature: String,
    },
    /// The linker's function has another signature.
    #[error("the module imports `{imported}`, but the host provides `{provided}`")]
    Signature {
        /// The import's signature.
        imported: String,
        /// The host function's.
        provided: String,
    },
}

/// How a host function failed: it raises a trap in the calling instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(HostErrorKind);

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostErrorKind {
    Trap(String),
    Fuel,
}

impl HostError {
    /// A trap with `message`: the instance ends with `host function `f` failed: message`.
    pub fn trap(message: impl Into<String>) -> HostError {
        HostError(HostErrorKind::Trap(message.into()))
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            HostErrorKind::Trap(message) => f.write_str(message),
            HostErrorKind::Fuel => f.write_str("out of fuel"),
        }
    }
}

impl std::error::Error for HostError {}

/// What a host function sees of the instance calling it.
pub struct Caller<'a> {
    vm: &'a mut Vm,
}

impl Caller<'_> {
    /// Charges `units` of fuel to the instance. When that passes its fuel limit the
    /// error says so: return it (`?`) and the instance traps `out of fuel`.
    ///
    /// # Errors
    /// The instance has run out of fuel.
    pub fn charge_fuel(&mut self, units: u64) -> Result<(), HostError> {
        self.vm.charge(units).map_err(|_| HostError(HostErrorKind::Fuel))
    }

    /// Fuel the instance has used so far.
    pub fn fuel_used(&self) -> u64 {
        self.vm.fuel_used()
    }
}

/// Calls the instance's linked host function `index` with arguments in register-file
/// slots `args..`; its result goes to slot `dst`.
pub(crate) fn call(vm: &mut Vm, index: usize, args: usize, dst: usize) -> Result<(), Stop> {
    // The table is moved out for the call (no reference counts touched per call) and put
    // back however the call ends.
    let funcs = std::mem::take(&mut vm.host_funcs);
    let res = call_linked(vm, &funcs[index], args, dst);
    vm.host_funcs = funcs;
    res
}

fn call_linked(vm: &mut Vm, func: &HostFunc, args: usize, dst: usize) -> Result<(), Stop> {
    let mut vals = std::mem::take(&mut vm.host_args);
    vals.clear();
    for (i, ty) in func.params.iter().enumerate() {
        let val = from_bits(vm, vm.stack.get(args + i), ty);
        if let Val::Str(s) = &val {
            vm.charge_bytes(s.len())?;
        }
        vals.push(val);
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (func.callback)(&mut Caller { vm: &mut *vm }, &vals)
    }));
    vm.host_args = vals;
    let failed = |message: String| Stop::Trap(TrapKind::Host { function: func.name.to_string(), message });
    let result = match outcome {
        Ok(Ok(result)) => result,
        Ok(Err(HostError(HostErrorKind::Fuel))) => return Err(TrapKind::FuelExhausted.into()),
        Ok(Err(HostError(HostErrorKind::Trap(message)))) => return Err(failed(message)),
        Err(_) => return Err(failed("it panicked".to_string())),
    };
    match (result, &func.result) {
        (None, None) => Ok(()),
        (Some(val), Some(ty)) if val.has_type(ty) => {
            let before = vm.heap.temp_roots.len();
            let bits = to_bits(vm, &val, ty);
            vm.heap.temp_roots.truncate(before);
            vm.stack.set(dst, bits?);
            Ok(())
        }
        (val, _) => Err(failed(format!(
            "it returned {}, but its signature says {}",
            val.as_ref().map_or("nothing", Val::kind),
            func.result.as_ref().map_or("nothing".to_string(), Type::to_string)
        ))),
    }
}
