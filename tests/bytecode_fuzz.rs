//! Mutated `.bc` files: decoding and verifying never panic, and whatever still passes
//! the verifier runs under a fuel and heap limit without crashing the host.

use kiln_runtime::{Engine, Instance, InstanceConfig, Limits, Module};
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
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn mutated_bytecode_never_crashes_the_host(seed in 0usize..8, mutations in prop::collection::vec(mutation(), 1..4)) {
        let mut bytes = seeds()[seed % seeds().len()].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        run_if_valid(&bytes)?;
    }
}

/// Runs bytes that passed loading under tight limits; the heap must stay consistent.
fn run_if_valid(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let engine = Engine::new();
    let Ok(module) = Module::from_bytes(&engine, bytes) else {
        return Ok(false);
    };
    let config = InstanceConfig {
        limits: Limits {
            fuel: Some(200_000),
            max_heap: 4 << 20,
            max_call_depth: 1_000,
            stack_slots: 1 << 16,
        },
        ..InstanceConfig::default()
    };
    if let Ok(mut instance) = Instance::new(&module, config) {
        let _ = instance.run();
        prop_assert!(instance.check_heap().is_ok());
    }
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]

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

#[test]
fn seeds_are_valid_and_run() {
    let engine = Engine::new();
    for bytes in seeds() {
        let module = Module::from_bytes(&engine, bytes).expect("seed verifies");
        let mut instance = Instance::new(&module, InstanceConfig::default()).expect("instance");
        instance.run().expect("seed runs");
    }
}
