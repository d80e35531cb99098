//! Mutated `.bc` files: decoding and verifying never panic, and whatever still passes
//! the verifier runs under a fuel and heap limit without crashing the host.

use kiln_bytecode::{CompositeType, Instr, OperandKind, ValType};
use kiln_runtime::{
    Engine, Instance, InstanceConfig, Limits, Module, RunError, SharedBuffer, Tier, TierConfig,
};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// Valid modules to start from: a spread of corpus programs.
fn seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs");
        [
            "structs/methods.kiln",
            "arrays/insert_remove.kiln",
            "strings/interpolation.kiln",
            "control/while_break_continue.kiln",
            "gc/binary_trees.kiln",
            "globals/struct_and_array_globals.kiln",
            "functions/recursion.kiln",
            "arrays/sort.kiln",
        ]
        .iter()
        .map(|p| {
            let m = kiln_compiler::compile_path(&root.join(p)).expect("corpus program compiles");
            kiln_bytecode::encode(&m)
        })
        .collect()
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let n = bytes.len();
    match *m {
        Mutation::Flip(i, b) => bytes[i % n] ^= b,
        Mutation::Set(i, b) => bytes[i % n] = b,
        Mutation::Insert(i, b) => bytes.insert(i % (n + 1), b),
        Mutation::Delete(i) => {
            bytes.remove(i % n);
        }
        Mutation::Truncate(i) => bytes.truncate(i % n),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_bytecode_never_crashes_the_host(seed in 0usize..8, mutations in prop::collection::vec(mutation(), 1..4)) {
        let mut bytes = seeds()[seed % seeds().len()].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        run_if_valid(&bytes)?;
    }
}

/// Runs bytes that passed loading, with and without GC stress, and in the JIT: the heap
/// must stay consistent, and every run must give the same output, the same trap (or
/// none) and the same fuel (spec/runtime.md: only peak heap and GC counts may differ).
/// Whatever the verifier accepts, the JIT compiles or leaves to the interpreter. The heap limit
/// is far above what 20 000 units of fuel can allocate, so it never decides.
fn run_if_valid(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let engine = Engine::new();
    let Ok(module) = Module::from_bytes(&engine, bytes) else {
        return Ok(false);
    };
    let run = |gc_stress: bool, tier: Tier| -> Result<Option<(String, String, u64)>, TestCaseError> {
        let out = SharedBuffer::default();
        let config = InstanceConfig {
            limits: Limits {
                fuel: Some(20_000),
                max_heap: 256 << 20,
                max_call_depth: 1_000,
                stack_slots: 1 << 16,
                max_output: Some(1 << 20),
                ..Limits::default()
            },
            gc_stress,
            stdout: Box::new(out.clone()),
            tier: TierConfig { tier, threshold: 0 },
            ..InstanceConfig::default()
        };
        let Ok(mut instance) = Instance::new(&module, config) else {
            return Ok(None);
        };
        let ended = match instance.run() {
            Ok(()) => "ok".to_string(),
            Err(RunError::Trap(t)) => t.kind.to_string(),
            Err(other) => other.to_string(),
        };
        let stats = instance.stats();
        let fuel = stats.fuel_used;
        // The JIT may leave a function to the interpreter (size, code cap), never by
        // failing on input the verifier accepted.
        prop_assert!(stats.jit.failures.is_empty(), "the JIT refused: {:?}", stats.jit.failures);
        prop_assert!(instance.check_heap().is_ok());
        Ok(Some((String::from_utf8_lossy(&out.contents()).into_owned(), ended, fuel)))
    };
    let plain = run(false, Tier::Interp)?;
    let stressed = run(true, Tier::Interp)?;
    prop_assert_eq!(&plain, &stressed, "GC stress changed what the program did");
    let compiled = run(false, Tier::Jit)?;
    prop_assert_eq!(plain, compiled, "the JIT changed what the program did");
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Structural mutations reach the verifier far more often than byte flips: replace
    /// one instruction with an arbitrary one whose operands are small numbers.
    #[test]
    fn mutated_instructions_never_crash_the_host(
        seed in 0usize..8,
        func in any::<usize>(),
        pc in any::<usize>(),
        opcode in 0..kiln_bytecode::isa::OPCODES.len(),
        operands in prop::collection::vec(-2i64..24, 4),
    ) {
        let mut module = kiln_bytecode::decode(&seeds()[seed % seeds().len()]).expect("seed decodes");
        let f = func % module.funcs.len();
        let code = &mut module.funcs[f].code;
        let at = pc % code.len();
        let mut values = operands.into_iter();
        let built: Result<kiln_bytecode::Instr, ()> = kiln_bytecode::Instr::from_operands(
            kiln_bytecode::isa::OPCODES[opcode].opcode,
            |kind| {
                let v = values.next().unwrap_or(0);
                Ok(if kind == kiln_bytecode::OperandKind::Imm { v } else { v.max(0) })
            },
        );
        code[at] = built.expect("small operands fit");
        run_if_valid(&kiln_bytecode::encode(&module))?;
    }
}

/// A mutation of a module's structure rather than its bytes.
#[derive(Debug, Clone)]
enum Structural {
    /// Replace operand `which` of one instruction with `value`.
    Operand { func: usize, pc: usize, which: usize, value: i64 },
    /// Change the type of one register.
    RegisterType { func: usize, reg: usize, ty: u8 },
    /// Add, drop or retype a parameter or the result of a function's signature.
    Signature { func: usize, param: Option<usize>, ty: u8 },
    /// Retype a struct field or an array's elements, or drop a field.
    TypeDecl { ty: usize, field: usize, new_ty: u8, drop_field: bool },
}

fn structural() -> impl Strategy<Value = Structural> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), 0usize..4, -2i64..40)
            .prop_map(|(func, pc, which, value)| Structural::Operand { func, pc, which, value }),
        (any::<usize>(), any::<usize>(), any::<u8>()).prop_map(|(func, reg, ty)| Structural::RegisterType {
            func,
            reg,
            ty
        }),
        (any::<usize>(), prop::option::of(0usize..4), any::<u8>())
            .prop_map(|(func, param, ty)| Structural::Signature { func, param, ty }),
        (any::<usize>(), any::<usize>(), any::<u8>(), any::<bool>()).prop_map(
            |(ty, field, new_ty, drop_field)| Structural::TypeDecl { ty, field, new_ty, drop_field }
        ),
    ]
}

/// A value type from a byte, with indices into the module's types.
fn val_type(b: u8, n_types: usize) -> ValType {
    let idx = kiln_bytecode::TypeIdx((b as usize / 9 % (n_types + 1)) as u32);
    match b % 9 {
        0 => ValType::Int,
        1 => ValType::Float,
        2 => ValType::Bool,
        3 => ValType::Str,
        4 => ValType::OptInt,
        5 => ValType::OptFloat,
        6 => ValType::OptBool,
        7 => ValType::Pair(idx),
        _ => ValType::Ref(idx),
    }
}

fn apply_structural(module: &mut kiln_bytecode::Module, m: &Structural) {
    let n_types = module.types.len();
    let n_funcs = module.funcs.len();
    match *m {
        Structural::Operand { func, pc, which, value } => {
            let f = &mut module.funcs[func % n_funcs];
            let at = pc % f.code.len();
            let old = f.code[at];
            let mut k = 0;
            let rebuilt: Result<Instr, ()> = Instr::from_operands(old.opcode(), |kind| {
                let v = old.operand_values().iter().nth(k).map_or(0, |(_, v)| v);
                k += 1;
                Ok(if k - 1 == which {
                    if kind == OperandKind::Imm {
                        value
                    } else {
                        value.max(0)
                    }
                } else {
                    v
                })
            });
            if let Ok(instr) = rebuilt {
                f.code[at] = instr;
            }
        }
        Structural::RegisterType { func, reg, ty } => {
            let f = &mut module.funcs[func % n_funcs];
            if !f.regs.is_empty() {
                let r = reg % f.regs.len();
                f.regs[r] = val_type(ty, n_types);
            }
        }
        Structural::Signature { func, param, ty } => {
            let f = &mut module.funcs[func % n_funcs];
            let t = val_type(ty, n_types);
            match param {
                Some(p) if p < f.sig.params.len() => f.sig.params[p] = t,
                Some(_) => f.sig.params.push(t),
                None if ty % 2 == 0 => f.sig.result = None,
                None => f.sig.result = Some(t),
            }
        }
        Structural::TypeDecl { ty, field, new_ty, drop_field } => {
            if n_types == 0 {
                return;
            }
            let t = val_type(new_ty, n_types);
            match &mut module.types[ty % n_types] {
                CompositeType::Struct(st) | CompositeType::Variant(st) if !st.fields.is_empty() => {
                    let i = field % st.fields.len();
                    if drop_field {
                        st.fields.remove(i);
                    } else {
                        st.fields[i].1 = t;
                    }
                }
                CompositeType::Array(elem) => *elem = t,
                // An enum's variant list: point one entry elsewhere.
                CompositeType::Enum(en) if !en.variants.is_empty() => {
                    let i = field % en.variants.len();
                    if drop_field {
                        en.variants.remove(i);
                    } else {
                        en.variants[i] = kiln_bytecode::TypeIdx((new_ty as usize % n_types) as u32);
                    }
                }
                // A closure's captures, or a function type's parameters.
                CompositeType::Closure(c) if !c.captures.is_empty() => {
                    let i = field % c.captures.len();
                    c.captures[i] = t;
                }
                CompositeType::Func(sig) if !sig.params.is_empty() => {
                    let i = field % sig.params.len();
                    sig.params[i] = t;
                }
                _ => {}
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Mutations of operands, register types, signatures and type declarations: the
    /// verifier rejects what is unsafe, and whatever it accepts runs the same with and
    /// without GC stress.
    #[test]
    fn structurally_mutated_modules_never_crash_the_host(
        seed in 0usize..8,
        mutations in prop::collection::vec(structural(), 1..3),
    ) {
        let mut module = kiln_bytecode::decode(&seeds()[seed % seeds().len()]).expect("seed decodes");
        for m in &mutations {
            apply_structural(&mut module, m);
        }
        run_if_valid(&kiln_bytecode::encode(&module))?;
    }
}

#[test]
fn seeds_are_valid_and_run() {
    let engine = Engine::new();
    for bytes in seeds() {
        let module = Module::from_bytes(&engine, bytes).expect("seed verifies");
        let mut instance = Instance::new(&module, InstanceConfig::default()).expect("instance");
        instance.run().expect("seed runs");
    }
}
