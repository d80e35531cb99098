//! encode → decode → encode is the identity, for arbitrary modules (valid or not).

use kiln_bytecode::isa::OPCODES;
use kiln_bytecode::*;
use proptest::prelude::*;

fn val_type() -> impl Strategy<Value = ValType> {
    prop_oneof![
        Just(ValType::Int),
        Just(ValType::Float),
        Just(ValType::Bool),
        Just(ValType::Str),
        (0u32..8).prop_map(|t| ValType::Ref(TypeIdx(t))),
    ]
}

fn instr() -> impl Strategy<Value = Instr> {
    (0..OPCODES.len(), prop::collection::vec(any::<i64>(), 4)).prop_map(|(op, raw)| {
        let info = &OPCODES[op];
        let mut values = raw.into_iter();
        let built: Result<Instr, ()> = Instr::from_operands(info.opcode, |kind| {
            let (lo, hi) = kind.raw_range();
            let v = values.next().unwrap_or(0);
            Ok(lo + v.rem_euclid(hi - lo + 1))
        });
        built.expect("operands in range")
    })
}

fn function() -> impl Strategy<Value = Function> {
    (
        "[a-z.<>]{0,12}",
        prop::collection::vec(val_type(), 0..4),
        prop::option::of(val_type()),
        prop::collection::vec(val_type(), 0..8),
        prop::collection::vec(instr(), 0..24),
        0u32..3,
        prop::collection::vec((0u32..50, 1u32..500, 1u32..80), 0..5),
    )
        .prop_map(|(name, params, result, regs, code, file, lines)| Function {
            name,
            sig: Signature { params, result },
            regs,
            code,
            file,
            lines: lines.into_iter().map(|(pc, line, col)| LineEntry { pc, line, col }).collect(),
        })
}

fn composite() -> impl Strategy<Value = CompositeType> {
    prop_oneof![
        val_type().prop_map(CompositeType::Array),
        ("[A-Z][a-z]{0,6}", prop::collection::vec(("[a-z]{1,4}", val_type()), 0..4))
            .prop_map(|(name, fields)| CompositeType::Struct(StructType { name, fields })),
        ("[A-Z][a-z]{0,6}", prop::collection::vec(("[a-z]{1,4}", val_type()), 0..4))
            .prop_map(|(name, fields)| CompositeType::Variant(StructType { name, fields })),
        ("[A-Z][a-z]{0,6}", prop::collection::vec((0u32..8).prop_map(TypeIdx), 0..4))
            .prop_map(|(name, variants)| CompositeType::Enum(EnumType { name, variants })),
        (prop::collection::vec(val_type(), 0..3), prop::option::of(val_type()))
            .prop_map(|(params, result)| CompositeType::Func(Signature { params, result })),
        (0u32..8, 0u32..8, prop::collection::vec(val_type(), 0..3)).prop_map(|(t, f, captures)| {
            CompositeType::Closure(ClosureType { fn_type: TypeIdx(t), func: FuncIdx(f), captures })
        }),
    ]
}

fn constant() -> impl Strategy<Value = Const> {
    prop_oneof![
        any::<i64>().prop_map(Const::Int),
        any::<f64>().prop_map(Const::Float),
        ".{0,10}".prop_map(Const::Str),
    ]
}

fn module() -> impl Strategy<Value = Module> {
    (
        prop::collection::vec(composite(), 0..5),
        prop::collection::vec(constant(), 0..6),
        prop::collection::vec(
            (
                any::<bool>(),
                "[a-z_]{1,10}",
                prop::collection::vec(val_type(), 0..3),
                prop::option::of(val_type()),
            ),
            0..4,
        ),
        prop::collection::vec(("[a-z]{1,6}", val_type()), 0..4),
        prop::collection::vec(function(), 0..4),
        prop::collection::vec("[a-z/]{1,10}\\.kiln", 0..3),
        (0u32..5, prop::option::of(0u32..5), prop::collection::vec(("[a-z]{1,6}", 0u32..5), 0..3)),
    )
        .prop_map(|(types, consts, imports, globals, funcs, files, (entry, init, exports))| Module {
            types,
            consts,
            imports: imports
                .into_iter()
                .map(|(host, name, params, result)| Import {
                    kind: if host { ImportKind::Host } else { ImportKind::Builtin },
                    name,
                    sig: Signature { params, result },
                })
                .collect(),
            globals: globals.into_iter().map(|(name, ty)| Global { name, ty }).collect(),
            funcs,
            files,
            entry: FuncIdx(entry),
            init: init.map(FuncIdx),
            exports: exports.into_iter().map(|(name, f)| Export { name, func: FuncIdx(f) }).collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn encode_decode_encode_is_identity(m in module()) {
        let bytes = encode(&m);
        let decoded = decode(&bytes).expect("an encoded module decodes");
        prop_assert_eq!(encode(&decoded), bytes);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
        let mut with_header = b"\x7fKBC\x04\x00\x00\x00".to_vec();
        with_header.extend_from_slice(&bytes);
        if let Ok(m) = decode(&with_header) {
            let _ = verify(&m);
        }
    }
}

#[test]
fn other_versions_are_refused_with_a_clear_message() {
    let mut bytes = encode(&Module::default());
    bytes[4..8].copy_from_slice(&5u32.to_le_bytes());
    let e = decode(&bytes).expect_err("version 5 is from the future");
    assert_eq!(e, DecodeError::NewerVersion { found: 5, supported: 4 });
    assert!(e.to_string().contains("newer than this runtime supports"));
    bytes[4..8].copy_from_slice(&3u32.to_le_bytes());
    let e = decode(&bytes).expect_err("version 3 (before host imports and exports) is no longer read");
    assert_eq!(e, DecodeError::OlderVersion { found: 3, supported: 4 });
    assert!(e.to_string().contains("rebuild the program"));
}

#[test]
fn bad_magic_and_truncation_are_errors() {
    assert_eq!(decode(b"hello world"), Err(DecodeError::BadMagic));
    let bytes = encode(&Module::default());
    for len in 0..bytes.len() {
        assert!(decode(&bytes[..len]).is_err(), "truncated at {len} must not decode");
    }
}
