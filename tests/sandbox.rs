//! Hand-made modules that try to observe or corrupt what the runtime must keep to
//! itself: another frame's leftovers in the register file, a stale slot the collector
//! might scan.

use kiln_bytecode::*;
use kiln_runtime::{Engine, Instance, InstanceConfig, Module as RtModule, SharedBuffer};

fn r(i: u32) -> Reg {
    Reg(i)
}

fn func(name: &str, params: Vec<ValType>, regs: Vec<ValType>, code: Vec<Instr>) -> Function {
    Function {
        name: name.into(),
        sig: Signature { params, result: None },
        regs,
        code,
        file: 0,
        lines: vec![],
    }
}

fn module(funcs: Vec<Function>) -> Module {
    Module {
        types: vec![],
        consts: vec![Const::Str("x".into())],
        imports: vec![Import {
            kind: ImportKind::Builtin,
            name: "println".into(),
            sig: Signature { params: vec![ValType::Str], result: None },
        }],
        globals: vec![],
        funcs,
        files: vec!["hand.kiln".into()],
        entry: FuncIdx(0),
        init: None,
        exports: vec![],
    }
}

fn run(m: &Module, gc_stress: bool) -> String {
    let loaded = RtModule::from_bytes(&Engine::new(), &encode(m)).expect("module loads");
    let out = SharedBuffer::default();
    let mut inst = Instance::new(
        &loaded,
        InstanceConfig { gc_stress, stdout: Box::new(out.clone()), ..InstanceConfig::default() },
    )
    .expect("instance");
    inst.run().expect("runs");
    String::from_utf8(out.contents()).expect("utf-8")
}

/// A callee writes an int where its caller keeps a string register; the caller then
/// allocates before writing that register. The collector must not take the int for an
/// object (the caller's reference registers in the window are nulled on return).
#[test]
fn collector_never_scans_a_callees_leftovers() {
    let main = func(
        "main",
        vec![],
        vec![ValType::Int, ValType::Str, ValType::Int],
        vec![
            Instr::Call { dst: r(0), func: FuncIdx(1), args: r(0) },
            Instr::LoadI { dst: r(2), imm: Imm(0x0012_3458) },
            Instr::IntToStr { dst: r(1), src: r(2) },
            Instr::CallNative { dst: r(0), import: ImportIdx(0), args: r(1) },
            Instr::RetVoid {},
        ],
    );
    let scribble = func(
        "scribble",
        vec![],
        vec![ValType::Int, ValType::Int],
        vec![Instr::LoadI { dst: r(1), imm: Imm(0x0012_3458) }, Instr::RetVoid {}],
    );
    let m = module(vec![main, scribble]);
    for stress in [false, true] {
        assert_eq!(run(&m, stress), "1193048\n");
    }
}

/// A frame's fresh reference registers are null to the collector even when an earlier
/// frame left a value in the same slots.
#[test]
fn collector_never_scans_an_earlier_frames_values() {
    let main = func(
        "main",
        vec![],
        vec![ValType::Int],
        vec![
            Instr::Call { dst: r(0), func: FuncIdx(1), args: r(0) },
            Instr::Call { dst: r(0), func: FuncIdx(2), args: r(0) },
            Instr::RetVoid {},
        ],
    );
    let scribble = func(
        "scribble",
        vec![],
        vec![ValType::Int, ValType::Int],
        vec![Instr::LoadI { dst: r(1), imm: Imm(0x0777_7777) }, Instr::RetVoid {}],
    );
    let allocate = func(
        "allocate",
        vec![],
        vec![ValType::Str, ValType::Str],
        vec![
            Instr::LoadK { dst: r(0), k: ConstIdx(0) },
            Instr::ConcatN { dst: r(1), args: r(0), count: Count(1) },
            Instr::CallNative { dst: r(0), import: ImportIdx(0), args: r(1) },
            Instr::RetVoid {},
        ],
    );
    let m = module(vec![main, scribble, allocate]);
    for stress in [false, true] {
        assert_eq!(run(&m, stress), "x\n");
    }
}

/// Runs `m` in `tier` (compiled before each function's first call for `Jit`): what it
/// printed and how it ended.
fn run_in(m: &Module, tier: kiln_runtime::Tier) -> (String, String) {
    let loaded = RtModule::from_bytes(&Engine::new(), &encode(m)).expect("module loads");
    let out = SharedBuffer::default();
    let config = InstanceConfig {
        stdout: Box::new(out.clone()),
        tier: kiln_runtime::TierConfig { tier, threshold: 0 },
        ..InstanceConfig::default()
    };
    let mut inst = Instance::new(&loaded, config).expect("instance");
    let ended = match inst.run() {
        Ok(()) => "ok".to_string(),
        Err(e) => e.to_string(),
    };
    assert!(inst.stats().jit.failures.is_empty(), "{:?}", inst.stats().jit.failures);
    (String::from_utf8(out.contents()).expect("utf-8"), ended)
}

/// Loops the JIT must not treat as keeping an array header in registers (`jit/translate/
/// loops.rs`): one whose array read is unreachable (so the register is never written and
/// holds null: loading its length before the loop would crash the host), and one entered
/// in its middle (the loads made before its header would be skipped).
#[test]
fn compiled_loops_never_load_arrays_they_cannot_prove_are_there() {
    use kiln_runtime::Tier;
    let int_array = vec![CompositeType::Array(ValType::Int)];
    let arr = ValType::Ref(TypeIdx(0));
    let unreachable_read = func(
        "main",
        vec![],
        vec![ValType::Int, arr, ValType::Int, ValType::Int],
        vec![
            Instr::LoadI { dst: r(0), imm: Imm(0) },
            Instr::LoadI { dst: r(2), imm: Imm(1000) },
            Instr::Jmp { target: Target(4) },
            Instr::ArrayGet { dst: r(3), arr: r(1), idx: r(0) },
            Instr::AddImm { dst: r(0), a: r(0), imm: Imm(1) },
            Instr::JltI { a: r(0), b: r(2), target: Target(2) },
            Instr::RetVoid {},
        ],
    );
    let entered_inside = func(
        "main",
        vec![],
        vec![ValType::Int, arr, ValType::Int, ValType::Int, ValType::Int, ValType::Str],
        vec![
            Instr::LoadI { dst: r(0), imm: Imm(0) },
            Instr::LoadI { dst: r(2), imm: Imm(100) },
            Instr::LoadI { dst: r(4), imm: Imm(3) },
            Instr::ArrayFill { dst: r(1), ty: TypeIdx(0), val: r(2), len: r(4) },
            Instr::Jmp { target: Target(6) },
            Instr::AddI { dst: r(0), a: r(0), b: r(3) },
            Instr::ArrayGet { dst: r(3), arr: r(1), idx: r(4) },
            Instr::JltI { a: r(0), b: r(2), target: Target(5) },
            Instr::IntToStr { dst: r(5), src: r(0) },
            Instr::CallNative { dst: r(0), import: ImportIdx(0), args: r(5) },
            Instr::RetVoid {},
        ],
    );
    for (main, want) in [(unreachable_read, ("", "ok")), (entered_inside, ("", "error: index out of bounds"))]
    {
        let m = Module { types: int_array.clone(), ..module(vec![main]) };
        let interp = run_in(&m, Tier::Interp);
        assert_eq!((interp.0.as_str(), &interp.1[..want.1.len().min(interp.1.len())]), want);
        assert_eq!(run_in(&m, Tier::Jit), interp, "the JIT agrees with the interpreter");
    }
}
