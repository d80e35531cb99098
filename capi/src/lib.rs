//! The C embedding API (`include/kiln.h`): thin wrappers over `kiln_runtime`'s Rust API.
//!
//! This crate is the fourth place `unsafe` appears (after the heap, the interpreter's
//! dispatch core and the JIT): it is the FFI boundary, where every pointer comes from C.
//! Each entry point checks its pointers for NULL, trusts the header's contract for the
//! rest (a pointer the library handed out and that was not freed yet), and runs its body
//! under `catch_unwind`, so no panic unwinds into C.

#![allow(non_camel_case_types)]

use kiln_runtime::{
    Capabilities, Engine, HostError, Instance, InstanceConfig, InstantiateError, InterruptHandle, Limits,
    Linker, Module, RunError, SharedBuffer, Tier, TierConfig, TrapKind, Type, Val,
};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

mod strings;
use strings::{new_c_string, set_error};

/// `kiln_engine`.
pub struct kiln_engine(Engine);
/// `kiln_module`.
pub struct kiln_module(Module);
/// `kiln_interrupt_handle`.
pub struct kiln_interrupt_handle(InterruptHandle);

/// `kiln_config`: what `kiln_instance_new` builds an `InstanceConfig` from.
#[derive(Default)]
pub struct kiln_config {
    limits: Limits,
    tier: TierConfig,
    capture: bool,
    args: Vec<String>,
    caps: Capabilities,
    stdin: bool,
    linker: Linker,
}

/// `kiln_instance`: the instance and, if captured, its output.
pub struct kiln_instance {
    instance: Instance,
    output: Option<(SharedBuffer, SharedBuffer)>,
    trap: kiln_trap,
}

/// `kiln_status`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kiln_status {
    KILN_OK = 0,
    KILN_EXIT = 1,
    KILN_TRAP = 2,
    KILN_ERROR = 3,
}

/// `kiln_trap`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kiln_trap {
    KILN_TRAP_NONE = 0,
    KILN_TRAP_FUEL = 1,
    KILN_TRAP_HEAP = 2,
    KILN_TRAP_STACK = 3,
    KILN_TRAP_TIMEOUT = 4,
    KILN_TRAP_INTERRUPTED = 5,
    KILN_TRAP_OUTPUT = 6,
    KILN_TRAP_HOST = 7,
    KILN_TRAP_PROGRAM = 8,
}

/// `kiln_type`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum kiln_type {
    KILN_INT = 0,
    KILN_FLOAT = 1,
    KILN_BOOL = 2,
    KILN_STR = 3,
}

/// The string member of `kiln_val`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kiln_str {
    ptr: *const c_char,
    len: usize,
}

/// The union in `kiln_val`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union kiln_val_of {
    i: i64,
    f: f64,
    /// C's `bool`, read as a byte so that no value C stores can be an invalid Rust `bool`.
    b: u8,
    s: kiln_str,
}

/// `kiln_val`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kiln_val {
    /// A `kiln_type`, kept as C's `int`: C may store any value there, which no Rust
    /// enum may hold ([`type_of`] checks it).
    ty: c_int,
    of: kiln_val_of,
}

/// `kiln_stats`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct kiln_stats {
    fuel_used: u64,
    allocations: u64,
    bytes_allocated: u64,
    heap_live_bytes: u64,
    heap_peak_bytes: u64,
    gc_cycles: u64,
    gc_pause_total_ns: u64,
    gc_pause_max_ns: u64,
    wall_time_ns: u64,
    cpu_time_ns: u64,
    bytes_written: u64,
    bytes_read: u64,
    file_bytes_written: u64,
    functions_compiled: u64,
    compile_time_ns: u64,
}

/// `kiln_caller`: what a C host function's `caller` points to during its call.
pub struct kiln_caller {
    /// The runtime's `Caller`, valid for the call (its lifetime erased for C).
    caller: *mut c_void,
    out_of_fuel: bool,
    message: Option<String>,
}

impl kiln_caller {
    /// The runtime's caller.
    ///
    /// # Safety
    /// Only during the host call that made this `kiln_caller`.
    unsafe fn runtime(&mut self) -> &mut kiln_runtime::Caller<'_> {
        // SAFETY: `caller` was made from a `&mut Caller` that outlives the host call.
        unsafe { &mut *self.caller.cast::<kiln_runtime::Caller<'_>>() }
    }
}

/// `kiln_host_fn`.
pub type kiln_host_fn =
    unsafe extern "C" fn(*mut c_void, *mut kiln_caller, *const kiln_val, usize, *mut kiln_val) -> c_int;

/// Runs `body`, turning a panic into `fallback` (and a message in `error`).
fn guard<T>(error: *mut *mut c_char, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(_) => {
            set_error(error, "internal error: the Kiln runtime panicked");
            fallback
        }
    }
}

/// The text of a NUL-terminated C string, or `None` for NULL or invalid UTF-8.
///
/// # Safety
/// `s` is NULL or a valid NUL-terminated string.
unsafe fn text<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: the caller's contract (kiln.h: strings passed in are NUL-terminated).
    unsafe { CStr::from_ptr(s) }.to_str().ok()
}

// ----- Engine and module -----

#[no_mangle]
pub extern "C" fn kiln_engine_new() -> *mut kiln_engine {
    guard(std::ptr::null_mut(), std::ptr::null_mut(), || Box::into_raw(Box::new(kiln_engine(Engine::new()))))
}

/// # Safety
/// `engine` is NULL or from `kiln_engine_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn kiln_engine_free(engine: *mut kiln_engine) {
    if !engine.is_null() {
        // SAFETY: by the contract, a live box this library made.
        guard(std::ptr::null_mut(), (), || drop(unsafe { Box::from_raw(engine) }));
    }
}

/// # Safety
/// `engine` is from `kiln_engine_new`; `bytes` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_new(
    engine: *const kiln_engine,
    bytes: *const u8,
    len: usize,
    error: *mut *mut c_char,
) -> *mut kiln_module {
    guard(error, std::ptr::null_mut(), || {
        if engine.is_null() || (bytes.is_null() && len > 0) {
            set_error(error, "kiln_module_new: NULL engine or bytes");
            return std::ptr::null_mut();
        }
        // SAFETY: the contract: `bytes` has `len` bytes (an empty slice for len 0).
        let bytes = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(bytes, len) } };
        // SAFETY: the contract: a live engine.
        let engine = unsafe { &(*engine).0 };
        match Module::from_bytes(engine, bytes) {
            Ok(m) => Box::into_raw(Box::new(kiln_module(m))),
            Err(e) => {
                set_error(error, &format!("invalid bytecode: {e}"));
                std::ptr::null_mut()
            }
        }
    })
}

/// # Safety
/// `module` is NULL or from `kiln_module_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn kiln_module_free(module: *mut kiln_module) {
    if !module.is_null() {
        // SAFETY: by the contract.
        guard(std::ptr::null_mut(), (), || drop(unsafe { Box::from_raw(module) }));
    }
}

// ----- Configuration -----

#[no_mangle]
pub extern "C" fn kiln_config_new() -> *mut kiln_config {
    guard(std::ptr::null_mut(), std::ptr::null_mut(), || Box::into_raw(Box::default()))
}

/// # Safety
/// `config` is NULL or from `kiln_config_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_free(config: *mut kiln_config) {
    if !config.is_null() {
        // SAFETY: by the contract.
        guard(std::ptr::null_mut(), (), || drop(unsafe { Box::from_raw(config) }));
    }
}

/// Applies `change` to a live config (nothing for NULL).
///
/// # Safety
/// `config` is NULL or a live config from `kiln_config_new`.
unsafe fn with_config<T>(
    config: *mut kiln_config,
    fallback: T,
    change: impl FnOnce(&mut kiln_config) -> T,
) -> T {
    if config.is_null() {
        return fallback;
    }
    // SAFETY: by the contract; C uses a config from one thread at a time.
    let config = unsafe { &mut *config };
    guard(std::ptr::null_mut(), fallback, || change(config))
}

/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_set_fuel(config: *mut kiln_config, fuel: u64) {
    // SAFETY: forwarded contract.
    unsafe { with_config(config, (), |c| c.limits.fuel = Some(fuel)) }
}

/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_set_max_heap(config: *mut kiln_config, bytes: u64) {
    // SAFETY: forwarded contract.
    unsafe { with_config(config, (), |c| c.limits.max_heap = usize::try_from(bytes).unwrap_or(usize::MAX)) }
}

/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_set_max_stack(config: *mut kiln_config, frames: u64) {
    // SAFETY: forwarded contract.
    unsafe {
        with_config(config, (), |c| c.limits.max_call_depth = usize::try_from(frames).unwrap_or(usize::MAX))
    }
}

/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_set_timeout_ms(config: *mut kiln_config, milliseconds: u64) {
    // SAFETY: forwarded contract.
    unsafe { with_config(config, (), |c| c.limits.timeout = Some(Duration::from_millis(milliseconds))) }
}

/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_set_max_output(config: *mut kiln_config, bytes: u64) {
    // SAFETY: forwarded contract.
    unsafe { with_config(config, (), |c| c.limits.max_output = Some(bytes)) }
}

/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_set_tier(config: *mut kiln_config, tier: c_int) {
    let tier = match tier {
        0 => Tier::Interp,
        1 => Tier::Jit,
        _ => Tier::Auto,
    };
    // SAFETY: forwarded contract.
    unsafe { with_config(config, (), |c| c.tier.tier = tier) }
}

/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_capture_output(config: *mut kiln_config) {
    // SAFETY: forwarded contract.
    unsafe { with_config(config, (), |c| c.capture = true) }
}

/// # Safety
/// `config` is NULL or a live config; `arg` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_add_arg(config: *mut kiln_config, arg: *const c_char) {
    // SAFETY: forwarded contract.
    if let Some(arg) = unsafe { text(arg) } {
        // SAFETY: forwarded contract.
        unsafe { with_config(config, (), |c| c.args.push(arg.to_string())) }
    }
}

/// A directory grant: 0, or non-zero with a message.
///
/// # Safety
/// `config` NULL or live; `dir` NULL or NUL-terminated.
unsafe fn grant(
    config: *mut kiln_config,
    dir: *const c_char,
    error: *mut *mut c_char,
    what: &str,
    apply: impl FnOnce(&mut Capabilities, &str) -> std::io::Result<()>,
) -> c_int {
    // SAFETY: forwarded contract.
    let Some(dir) = (unsafe { text(dir) }) else {
        set_error(error, &format!("{what}: NULL or non-UTF-8 directory"));
        return 1;
    };
    // SAFETY: forwarded contract.
    unsafe {
        with_config(config, 1, |c| match apply(&mut c.caps, dir) {
            Ok(()) => 0,
            Err(e) => {
                set_error(error, &format!("{what} {dir}: {e}"));
                1
            }
        })
    }
}

/// # Safety
/// `config` NULL or live; `dir` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_set_base_dir(
    config: *mut kiln_config,
    dir: *const c_char,
    error: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { grant(config, dir, error, "base directory", |caps, d| caps.base_dir(d).map(drop)) }
}

/// # Safety
/// `config` NULL or live; `dir` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_allow_read(
    config: *mut kiln_config,
    dir: *const c_char,
    error: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { grant(config, dir, error, "allow read", |caps, d| caps.allow_read(d).map(drop)) }
}

/// # Safety
/// `config` NULL or live; `dir` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_allow_write(
    config: *mut kiln_config,
    dir: *const c_char,
    error: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { grant(config, dir, error, "allow write", |caps, d| caps.allow_write(d).map(drop)) }
}

/// # Safety
/// `config` NULL or live; `name` and `value` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_allow_env(
    config: *mut kiln_config,
    name: *const c_char,
    value: *const c_char,
) {
    // SAFETY: forwarded contract.
    if let (Some(name), Some(value)) = unsafe { (text(name), text(value)) } {
        // SAFETY: forwarded contract.
        unsafe {
            with_config(config, (), |c| {
                c.caps.allow_env(name, value);
            })
        }
    }
}

/// # Safety
/// `config` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn kiln_config_allow_stdin(config: *mut kiln_config) {
    // SAFETY: forwarded contract.
    unsafe { with_config(config, (), |c| c.stdin = true) }
}

/// The C function and its data, callable from any thread the instance runs on.
#[derive(Clone, Copy)]
struct HostFn {
    func: kiln_host_fn,
    user_data: *mut c_void,
}

// SAFETY: kiln.h makes the host responsible for `user_data` being usable from the
// threads its instances run on; the function pointer itself is plain code.
unsafe impl Send for HostFn {}
// SAFETY: as above; the library never touches `user_data` itself.
unsafe impl Sync for HostFn {}

/// # Safety
/// `config` NULL or live; `name` NULL or NUL-terminated; `params` points to `nparams`
/// types; `user_data` is the host's business (see kiln.h).
#[no_mangle]
pub unsafe extern "C" fn kiln_config_define(
    config: *mut kiln_config,
    name: *const c_char,
    params: *const c_int,
    nparams: usize,
    has_result: bool,
    result: c_int,
    func: Option<kiln_host_fn>,
    user_data: *mut c_void,
) -> c_int {
    // SAFETY: forwarded contract.
    let (Some(name), Some(func)) = (unsafe { text(name) }, func) else { return 1 };
    if params.is_null() && nparams > 0 {
        return 1;
    }
    // SAFETY: `params` has `nparams` entries by the contract.
    let params: Option<Vec<Type>> = if nparams == 0 {
        Some(Vec::new())
    } else {
        unsafe { std::slice::from_raw_parts(params, nparams) }.iter().map(|t| type_of(*t)).collect()
    };
    let Some(params) = params else { return 1 };
    let result = match (has_result, type_of(result)) {
        (false, _) => None,
        (true, Some(t)) => Some(t),
        (true, None) => return 1,
    };
    let host = HostFn { func, user_data };
    // SAFETY: forwarded contract.
    unsafe {
        with_config(config, 1, |c| {
            c.linker.func(name, &params, result, move |caller, args| call_c(host, caller, args));
            0
        })
    }
}

/// The API type a C `kiln_type` value names, if it names one.
fn type_of(t: c_int) -> Option<Type> {
    Some(match t {
        0 => Type::Int,
        1 => Type::Float,
        2 => Type::Bool,
        3 => Type::Str,
        _ => return None,
    })
}

/// A C value of type `ty` holding `of`.
fn c_val(ty: kiln_type, of: kiln_val_of) -> kiln_val {
    kiln_val { ty: ty as c_int, of }
}

/// Calls a C host function: arguments out as `kiln_val`s (strings NUL-terminated, alive
/// for the call), its result back as a `Val`.
fn call_c(
    host: HostFn,
    caller: &mut kiln_runtime::Caller<'_>,
    args: &[Val],
) -> Result<Option<Val>, HostError> {
    let texts: Vec<Vec<u8>> = args
        .iter()
        .map(|a| match a {
            Val::Str(s) => [s.as_bytes(), b"\0"].concat(),
            _ => Vec::new(),
        })
        .collect();
    let c_args: Vec<kiln_val> = args
        .iter()
        .zip(&texts)
        .map(|(a, t)| match a {
            Val::Int(i) => c_val(kiln_type::KILN_INT, kiln_val_of { i: *i }),
            Val::Float(f) => c_val(kiln_type::KILN_FLOAT, kiln_val_of { f: *f }),
            Val::Bool(b) => c_val(kiln_type::KILN_BOOL, kiln_val_of { b: u8::from(*b) }),
            _ => c_val(
                kiln_type::KILN_STR,
                kiln_val_of { s: kiln_str { ptr: t.as_ptr().cast(), len: t.len() - 1 } },
            ),
        })
        .collect();
    let mut result = c_val(kiln_type::KILN_INT, kiln_val_of { i: 0 });
    let mut c_caller = kiln_caller {
        caller: (caller as *mut kiln_runtime::Caller<'_>).cast(),
        out_of_fuel: false,
        message: None,
    };
    // SAFETY: the C function has kiln_host_fn's signature (kiln.h); every pointer passed
    // is valid for the call.
    let status =
        unsafe { (host.func)(host.user_data, &mut c_caller, c_args.as_ptr(), c_args.len(), &mut result) };
    if c_caller.out_of_fuel {
        // The instance traps `fuel exhausted` whatever the function returned.
        return caller.charge_fuel(u64::MAX).map(|()| None);
    }
    if status != 0 {
        return Err(HostError::trap(c_caller.message.unwrap_or_else(|| format!("it returned {status}"))));
    }
    // SAFETY: the C function wrote the member its `type` names (the runtime then checks
    // the `Val` against the signature); a string result points to `len` bytes.
    match unsafe { from_c(&result) } {
        Some(val) => Ok(Some(val)),
        None => Err(HostError::trap(format!("it returned a value of unknown type {}", result.ty))),
    }
}

/// A `Val` copied from a C value; `None` if its type is none of `kiln_type`'s.
///
/// # Safety
/// `v.of` holds the member `v.ty` names; a string's `ptr` has `len` readable bytes.
unsafe fn from_c(v: &kiln_val) -> Option<Val> {
    // SAFETY: the caller's contract; every member read is plain data (no invalid values).
    unsafe {
        Some(match type_of(v.ty)? {
            Type::Int => Val::Int(v.of.i),
            Type::Float => Val::Float(v.of.f),
            Type::Bool => Val::Bool(v.of.b != 0),
            _ => {
                let s = v.of.s;
                let bytes = if s.len == 0 || s.ptr.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len)
                };
                Val::Str(String::from_utf8_lossy(bytes).into_owned())
            }
        })
    }
}

// ----- Instances -----

/// # Safety
/// `module` from `kiln_module_new` and `config` from `kiln_config_new`, both live.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_new(
    module: *const kiln_module,
    config: *const kiln_config,
    error: *mut *mut c_char,
) -> *mut kiln_instance {
    guard(error, std::ptr::null_mut(), || {
        if module.is_null() || config.is_null() {
            set_error(error, "kiln_instance_new: NULL module or config");
            return std::ptr::null_mut();
        }
        // SAFETY: the contract: both live.
        let (module, c) = unsafe { (&(*module).0, &*config) };
        let output = c.capture.then(|| (SharedBuffer::default(), SharedBuffer::default()));
        let (stdout, stderr): (Box<dyn std::io::Write + Send>, Box<dyn std::io::Write + Send>) = match &output
        {
            Some((out, err)) => (Box::new(out.clone()), Box::new(err.clone())),
            None => (Box::new(std::io::stdout()), Box::new(std::io::stderr())),
        };
        let config = InstanceConfig {
            limits: c.limits.clone(),
            args: c.args.clone(),
            stdout,
            stderr,
            tier: c.tier,
            linker: c.linker.clone(),
            caps: c.caps.clone(),
            stdin: c.stdin.then(|| Box::new(std::io::stdin()) as Box<dyn std::io::Read + Send>),
            ..InstanceConfig::default()
        };
        match Instance::new(module, config) {
            Ok(instance) => {
                Box::into_raw(Box::new(kiln_instance { instance, output, trap: kiln_trap::KILN_TRAP_NONE }))
            }
            Err(InstantiateError::Init { error: e, .. }) => {
                set_error(error, e.to_string().trim_end());
                std::ptr::null_mut()
            }
            Err(e) => {
                set_error(error, &e.to_string());
                std::ptr::null_mut()
            }
        }
    })
}

/// # Safety
/// `instance` is NULL or from `kiln_instance_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_free(instance: *mut kiln_instance) {
    if !instance.is_null() {
        // SAFETY: by the contract.
        guard(std::ptr::null_mut(), (), || drop(unsafe { Box::from_raw(instance) }));
    }
}

/// The status for how a run ended, recording a trap's kind.
fn finish(
    inst: &mut kiln_instance,
    res: Result<Option<Val>, RunError>,
    exit_code: *mut c_int,
    error: *mut *mut c_char,
) -> (kiln_status, Option<Val>) {
    match res {
        Ok(v) => (kiln_status::KILN_OK, v),
        Err(RunError::Exit(code)) => {
            if !exit_code.is_null() {
                // SAFETY: the contract: a writable int (or NULL, checked).
                unsafe { *exit_code = code };
            }
            (kiln_status::KILN_EXIT, None)
        }
        Err(RunError::Trap(t)) => {
            inst.trap = trap_kind(&t.kind);
            set_error(error, t.to_string().trim_end());
            (kiln_status::KILN_TRAP, None)
        }
        Err(e) => {
            set_error(error, &e.to_string());
            (kiln_status::KILN_ERROR, None)
        }
    }
}

fn trap_kind(kind: &TrapKind) -> kiln_trap {
    match kind {
        TrapKind::FuelExhausted => kiln_trap::KILN_TRAP_FUEL,
        TrapKind::HeapExhausted { .. } => kiln_trap::KILN_TRAP_HEAP,
        TrapKind::StackOverflow => kiln_trap::KILN_TRAP_STACK,
        TrapKind::Timeout { .. } => kiln_trap::KILN_TRAP_TIMEOUT,
        TrapKind::Interrupted => kiln_trap::KILN_TRAP_INTERRUPTED,
        TrapKind::OutputLimit { .. } => kiln_trap::KILN_TRAP_OUTPUT,
        TrapKind::Host { .. } => kiln_trap::KILN_TRAP_HOST,
        _ => kiln_trap::KILN_TRAP_PROGRAM,
    }
}

/// # Safety
/// `instance` live; `exit_code` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_run(
    instance: *mut kiln_instance,
    exit_code: *mut c_int,
    error: *mut *mut c_char,
) -> kiln_status {
    guard(error, kiln_status::KILN_ERROR, || {
        if instance.is_null() {
            set_error(error, "kiln_instance_run: NULL instance");
            return kiln_status::KILN_ERROR;
        }
        // SAFETY: the contract: live, used by one thread at a time.
        let inst = unsafe { &mut *instance };
        let res = inst.instance.run().map(|()| None);
        finish(inst, res, exit_code, error).0
    })
}

/// # Safety
/// `instance` live; `name` NUL-terminated; `args` points to `nargs` values; `result`,
/// `has_result`, `exit_code` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_call(
    instance: *mut kiln_instance,
    name: *const c_char,
    args: *const kiln_val,
    nargs: usize,
    result: *mut kiln_val,
    has_result: *mut bool,
    exit_code: *mut c_int,
    error: *mut *mut c_char,
) -> kiln_status {
    guard(error, kiln_status::KILN_ERROR, || {
        // SAFETY: forwarded contract.
        let name = unsafe { text(name) };
        let (Some(name), false, false) = (name, instance.is_null(), args.is_null() && nargs > 0) else {
            set_error(error, "kiln_instance_call: NULL instance, name or arguments");
            return kiln_status::KILN_ERROR;
        };
        // SAFETY: the contract: `nargs` values, each holding the member its type names.
        let vals: Option<Vec<Val>> = if nargs == 0 {
            Some(Vec::new())
        } else {
            unsafe { std::slice::from_raw_parts(args, nargs) }.iter().map(|v| unsafe { from_c(v) }).collect()
        };
        let Some(vals) = vals else {
            set_error(error, "kiln_instance_call: an argument's type is not a kiln_type");
            return kiln_status::KILN_ERROR;
        };
        // SAFETY: the contract: live, used by one thread at a time.
        let inst = unsafe { &mut *instance };
        let res = inst.instance.call(name, &vals);
        let (status, value) = finish(inst, res, exit_code, error);
        if !has_result.is_null() {
            // SAFETY: writable by the contract.
            unsafe { *has_result = value.is_some() };
        }
        if let (Some(v), false) = (value, result.is_null()) {
            // SAFETY: writable by the contract.
            unsafe { *result = to_c(&v) };
        }
        status
    })
}

/// A C value for a result; a string is the library's until `kiln_val_free`.
fn to_c(v: &Val) -> kiln_val {
    match v {
        Val::Int(i) => c_val(kiln_type::KILN_INT, kiln_val_of { i: *i }),
        Val::Float(f) => c_val(kiln_type::KILN_FLOAT, kiln_val_of { f: *f }),
        Val::Bool(b) => c_val(kiln_type::KILN_BOOL, kiln_val_of { b: u8::from(*b) }),
        Val::Str(s) => c_val(
            kiln_type::KILN_STR,
            kiln_val_of { s: kiln_str { ptr: new_c_string(s.as_bytes()), len: s.len() } },
        ),
        // Arrays do not cross the C API: exports taking or returning them are refused
        // before anything runs (no `kiln_val` can name an array type).
        Val::Array(_) => c_val(kiln_type::KILN_INT, kiln_val_of { i: 0 }),
    }
}

/// # Safety
/// `instance` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_trap(instance: *const kiln_instance) -> kiln_trap {
    if instance.is_null() {
        return kiln_trap::KILN_TRAP_NONE;
    }
    // SAFETY: the contract.
    unsafe { (*instance).trap }
}

/// # Safety
/// `instance` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_stats(instance: *const kiln_instance, out: *mut kiln_stats) {
    if instance.is_null() || out.is_null() {
        return;
    }
    guard(std::ptr::null_mut(), (), || {
        // SAFETY: the contract.
        let s = unsafe { (*instance).instance.stats() };
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let stats = kiln_stats {
            fuel_used: s.fuel_used,
            allocations: s.heap.allocations,
            bytes_allocated: s.heap.bytes_allocated,
            heap_live_bytes: s.heap.live_bytes as u64,
            heap_peak_bytes: s.heap.peak_bytes as u64,
            gc_cycles: s.heap.gc_cycles,
            gc_pause_total_ns: ns(s.heap.gc_time),
            gc_pause_max_ns: ns(s.heap.gc_max_pause),
            wall_time_ns: ns(s.wall_time),
            cpu_time_ns: s.cpu_time.map_or(u64::MAX, ns),
            bytes_written: s.bytes_written,
            bytes_read: s.bytes_read,
            file_bytes_written: s.file_bytes_written,
            functions_compiled: s.jit.functions_compiled,
            compile_time_ns: ns(s.compile_time),
        };
        // SAFETY: writable by the contract.
        unsafe { *out = stats };
    })
}

/// # Safety
/// `instance` NULL or live; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_output(
    instance: *const kiln_instance,
    stream: c_int,
    len: *mut usize,
) -> *mut c_char {
    if instance.is_null() {
        return std::ptr::null_mut();
    }
    guard(std::ptr::null_mut(), std::ptr::null_mut(), || {
        // SAFETY: the contract.
        let Some((out, err)) = (unsafe { &(*instance).output }) else { return std::ptr::null_mut() };
        let bytes = if stream == 2 { err.contents() } else { out.contents() };
        if !len.is_null() {
            // SAFETY: writable by the contract.
            unsafe { *len = bytes.len() };
        }
        new_c_string(&bytes)
    })
}

/// # Safety
/// `instance` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn kiln_instance_interrupt_handle(
    instance: *const kiln_instance,
) -> *mut kiln_interrupt_handle {
    if instance.is_null() {
        return std::ptr::null_mut();
    }
    guard(std::ptr::null_mut(), std::ptr::null_mut(), || {
        // SAFETY: the contract.
        let handle = unsafe { (*instance).instance.interrupt_handle() };
        Box::into_raw(Box::new(kiln_interrupt_handle(handle)))
    })
}

/// # Safety
/// `handle` NULL or live (any thread).
#[no_mangle]
pub unsafe extern "C" fn kiln_interrupt(handle: *const kiln_interrupt_handle) {
    if !handle.is_null() {
        // SAFETY: the contract; the handle is `Sync`.
        guard(std::ptr::null_mut(), (), || unsafe { (*handle).0.interrupt() });
    }
}

/// # Safety
/// `handle` NULL or from `kiln_instance_interrupt_handle`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn kiln_interrupt_handle_free(handle: *mut kiln_interrupt_handle) {
    if !handle.is_null() {
        // SAFETY: the contract.
        guard(std::ptr::null_mut(), (), || drop(unsafe { Box::from_raw(handle) }));
    }
}

// ----- Inside host functions -----

/// # Safety
/// `caller` is the pointer a host function received, during that call.
#[no_mangle]
pub unsafe extern "C" fn kiln_caller_charge_fuel(caller: *mut kiln_caller, units: u64) -> c_int {
    if caller.is_null() {
        return 1;
    }
    // SAFETY: the contract: valid for the running host call.
    let c = unsafe { &mut *caller };
    // SAFETY: during the host call, by the contract.
    guard(std::ptr::null_mut(), 1, || match unsafe { c.runtime() }.charge_fuel(units) {
        Ok(()) => 0,
        Err(_) => {
            c.out_of_fuel = true;
            1
        }
    })
}

/// # Safety
/// As for `kiln_caller_charge_fuel`.
#[no_mangle]
pub unsafe extern "C" fn kiln_caller_fuel_used(caller: *mut kiln_caller) -> u64 {
    if caller.is_null() {
        return 0;
    }
    // SAFETY: the contract: during the host call.
    unsafe { (*caller).runtime().fuel_used() }
}

/// # Safety
/// As for `kiln_caller_charge_fuel`; `message` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn kiln_caller_fail(caller: *mut kiln_caller, message: *const c_char) {
    if caller.is_null() {
        return;
    }
    // SAFETY: the contract.
    let message = unsafe { text(message) }.unwrap_or("failed").to_string();
    // SAFETY: the contract.
    unsafe { (*caller).message = Some(message) };
}

// ----- Freeing -----

/// # Safety
/// `val` NULL or a value this library wrote (a string result not yet freed).
#[no_mangle]
pub unsafe extern "C" fn kiln_val_free(val: *mut kiln_val) {
    if val.is_null() {
        return;
    }
    // SAFETY: the contract.
    let v = unsafe { &mut *val };
    if v.ty == kiln_type::KILN_STR as c_int {
        // SAFETY: a string result holds a pointer from `new_c_string` (or NULL).
        unsafe { strings::free_c_string(v.of.s.ptr.cast_mut()) };
        v.of.s = kiln_str { ptr: std::ptr::null(), len: 0 };
    }
}

/// # Safety
/// `s` NULL or a string this library returned, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn kiln_string_free(s: *mut c_char) {
    // SAFETY: the contract.
    unsafe { strings::free_c_string(s) }
}
