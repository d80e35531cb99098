//! Hand-made invalid modules: each breaks one verifier rule and must be rejected for
//! that rule.

use kiln_bytecode::verify::Rule;
use kiln_bytecode::*;

fn r(i: u32) -> Reg {
    Reg(i)
}

/// A small valid module that exercises structs, arrays, calls, natives and globals.
fn base() -> Module {
    Module {
        types: vec![
            CompositeType::Struct(StructType {
                name: "P".into(),
                fields: vec![("x".into(), ValType::Int), ("s".into(), ValType::Str)],
            }),
            CompositeType::Array(ValType::Int),
        ],
        consts: vec![Const::Int(5), Const::Str("hi".into())],
        imports: vec![Import {
            kind: ImportKind::Builtin,
            name: "println".into(),
            sig: Signature { params: vec![ValType::Str], result: None },
        }],
        globals: vec![Global { name: "g".into(), ty: ValType::Int }],
        funcs: vec![
            Function {
                name: "main".into(),
                sig: Signature { params: vec![], result: None },
                regs: vec![
                    ValType::Int,
                    ValType::Str,
                    ValType::Ref(TypeIdx(0)),
                    ValType::Ref(TypeIdx(1)),
                    ValType::Int,
                ],
                code: vec![
                    Instr::LoadI { dst: r(0), imm: Imm(1) },
                    Instr::LoadK { dst: r(1), k: ConstIdx(1) },
                    Instr::NewStruct { dst: r(2), ty: TypeIdx(0), args: r(0) },
                    Instr::NewArray { dst: r(3), ty: TypeIdx(1), args: r(0), count: Count(1) },
                    Instr::LoadK { dst: r(4), k: ConstIdx(0) },
                    Instr::Call { dst: r(4), func: FuncIdx(1), args: r(4) },
                    Instr::SetGlobal { global: GlobalIdx(0), src: r(4) },
                    Instr::GetField { dst: r(0), obj: r(2), field: FieldIdx(0) },
                    Instr::CallNative { dst: r(0), import: ImportIdx(0), args: r(1) },
                    Instr::RetVoid {},
                ],
                file: 0,
                lines: vec![LineEntry { pc: 0, line: 1, col: 1 }],
            },
            Function {
                name: "double".into(),
                sig: Signature { params: vec![ValType::Int], result: Some(ValType::Int) },
                regs: vec![ValType::Int],
                code: vec![Instr::AddI { dst: r(0), a: r(0), b: r(0) }, Instr::Ret { src: r(0) }],
                file: 0,
                lines: vec![],
            },
        ],
        files: vec!["main.kiln".into()],
        entry: FuncIdx(0),
        init: None,
        exports: vec![
            Export { name: "double".into(), func: FuncIdx(1) },
            Export { name: "main".into(), func: FuncIdx(0) },
        ],
    }
}

fn main_code(m: &mut Module) -> &mut Vec<Instr> {
    &mut m.funcs[0].code
}

/// Adds `enum E { A(int), B }` as types 2, 3 and 4, registers for an `E` and an `E.A` to
/// main, and code (before its `RetVoid`) that builds an `E.A`, reads its tag, and reads
/// its field after `AsVariant`. Returns (the E register, the E.A register).
fn with_enum(m: &mut Module) -> (Reg, Reg) {
    m.types.push(CompositeType::Enum(EnumType { name: "E".into(), variants: vec![TypeIdx(3), TypeIdx(4)] }));
    m.types.push(CompositeType::Variant(StructType {
        name: "E.A".into(),
        fields: vec![("0".into(), ValType::Int)],
    }));
    m.types.push(CompositeType::Variant(StructType { name: "E.B".into(), fields: vec![] }));
    let regs = &mut m.funcs[0].regs;
    let (e, a) = (r(regs.len() as u32), r(regs.len() as u32 + 1));
    regs.push(ValType::Ref(TypeIdx(2)));
    regs.push(ValType::Ref(TypeIdx(3)));
    let code = main_code(m);
    let end = code.len() - 1;
    code.splice(
        end..end,
        [
            Instr::NewStruct { dst: e, ty: TypeIdx(3), args: r(0) },
            Instr::GetTag { dst: r(0), src: e },
            Instr::AsVariant { dst: a, src: e, ty: TypeIdx(3) },
            Instr::GetField { dst: r(0), obj: a, field: FieldIdx(0) },
        ],
    );
    (e, a)
}

/// Adds `fn(int) -> int` as type 2, a closure type capturing an int as type 3, its
/// function `clo` (adds the capture to its argument) as function 2, and to main code
/// that builds the closure and calls it. Returns main's closure register.
fn with_closure(m: &mut Module) -> Reg {
    m.types.push(CompositeType::Func(Signature { params: vec![ValType::Int], result: Some(ValType::Int) }));
    m.types.push(CompositeType::Closure(ClosureType {
        fn_type: TypeIdx(2),
        func: FuncIdx(2),
        captures: vec![ValType::Int],
    }));
    m.funcs.push(Function {
        name: "clo".into(),
        sig: Signature { params: vec![ValType::Ref(TypeIdx(3)), ValType::Int], result: Some(ValType::Int) },
        regs: vec![ValType::Ref(TypeIdx(3)), ValType::Int, ValType::Int],
        code: vec![
            Instr::GetField { dst: r(2), obj: r(0), field: FieldIdx(0) },
            Instr::AddI { dst: r(1), a: r(1), b: r(2) },
            Instr::Ret { src: r(1) },
        ],
        file: 0,
        lines: vec![],
    });
    let regs = &mut m.funcs[0].regs;
    let c = r(regs.len() as u32);
    regs.push(ValType::Ref(TypeIdx(2)));
    regs.push(ValType::Int);
    let code = main_code(m);
    let end = code.len() - 1;
    code.splice(
        end..end,
        [
            Instr::NewClosure { dst: c, ty: TypeIdx(3), args: r(0) },
            Instr::LoadI { dst: r(c.0 + 1), imm: Imm(5) },
            Instr::CallClosure { dst: r(0), args: c },
        ],
    );
    c
}

/// Adds interface `Get { fn get(self) -> int }` as type 2, implemented by struct `P`
/// (type 0) with function `P.get` (function 2), and to main code that sees its `P` as a
/// `Get` and calls `get`. Returns main's interface register.
fn with_iface(m: &mut Module) -> Reg {
    m.types.push(CompositeType::Interface(InterfaceType {
        name: "Get".into(),
        methods: vec![Signature { params: vec![], result: Some(ValType::Int) }],
        impls: vec![(TypeIdx(0), vec![FuncIdx(2)])],
    }));
    m.funcs.push(Function {
        name: "P.get".into(),
        sig: Signature { params: vec![ValType::Ref(TypeIdx(0))], result: Some(ValType::Int) },
        regs: vec![ValType::Ref(TypeIdx(0)), ValType::Int],
        code: vec![Instr::GetField { dst: r(1), obj: r(0), field: FieldIdx(0) }, Instr::Ret { src: r(1) }],
        file: 0,
        lines: vec![],
    });
    let regs = &mut m.funcs[0].regs;
    let iv = r(regs.len() as u32);
    regs.push(ValType::Ref(TypeIdx(2)));
    let code = main_code(m);
    let end = code.len() - 1;
    code.splice(
        end..end,
        [Instr::ToIface { dst: iv, src: r(2) }, Instr::CallIface { dst: r(0), args: iv, method: Count(0) }],
    );
    iv
}

/// The instruction `with_enum` added at position `i` (0 to 3).
fn enum_instr(m: &mut Module, i: usize) -> &mut Instr {
    let code = main_code(m);
    let at = code.len() - 5 + i;
    &mut code[at]
}

type Case = (&'static str, Rule, fn(&mut Module));

/// Adds a bool register to main and, before its `RetVoid`, `EqR` of `a` and `b` into it.
fn with_identity(m: &mut Module, a: Reg, b: Reg) {
    let dst = r(m.funcs[0].regs.len() as u32);
    m.funcs[0].regs.push(ValType::Bool);
    let code = main_code(m);
    let at = code.len() - 1;
    code.insert(at, Instr::EqR { dst, a, b });
}

/// Puts `Switch r0, count` and then `code` at the start of main (r0 is an int).
fn with_switch(m: &mut Module, count: u32, table: &[Instr]) {
    let code = main_code(m);
    code.insert(0, Instr::LoadI { dst: r(0), imm: Imm(1) });
    code.insert(1, Instr::Switch { src: r(0), count: Count(count) });
    for (i, instr) in table.iter().enumerate() {
        code.insert(2 + i, *instr);
    }
}

/// Adds an `int?` register and code (before main's `RetVoid`) that wraps r0 in it,
/// tests it and reads it back into r0. Returns the optional register.
fn with_optional(m: &mut Module) -> Reg {
    let o = r(m.funcs[0].regs.len() as u32);
    m.funcs[0].regs.push(ValType::OptInt);
    let code = main_code(m);
    let at = code.len() - 1;
    let after = Target((at + 4) as u32);
    code.insert(at, Instr::OptSome { dst: o, src: r(0) });
    code.insert(at + 1, Instr::JmpIfNone { src: o, target: after });
    code.insert(at + 2, Instr::OptGet { dst: r(0), src: o });
    code.insert(at + 3, Instr::OptNone { dst: o });
    o
}

/// Adds pair type `(int, option of P)` and main code that builds one from r0 and a
/// none, then reads its first part back into r0. Returns the pair register.
fn with_pair(m: &mut Module) -> Reg {
    m.types.push(CompositeType::Option(ValType::Ref(TypeIdx(0))));
    let opt = TypeIdx(m.types.len() as u32 - 1);
    m.types.push(CompositeType::Pair(ValType::Int, ValType::Ref(opt)));
    let pair_ty = TypeIdx(m.types.len() as u32 - 1);
    let regs = &mut m.funcs[0].regs;
    let (a, b, p) = (r(regs.len() as u32), r(regs.len() as u32 + 1), r(regs.len() as u32 + 2));
    regs.extend([ValType::Int, ValType::Ref(opt), ValType::Pair(pair_ty)]);
    let code = main_code(m);
    let at = code.len() - 1;
    code.insert(at, Instr::LoadI { dst: a, imm: Imm(4) });
    code.insert(at + 1, Instr::OptNone { dst: b });
    code.insert(at + 2, Instr::PairNew { dst: p, args: a });
    code.insert(at + 3, Instr::PairGet { dst: r(0), src: p, part: Count(0) });
    p
}

const CASES: &[Case] = &[
    ("pair built from a window of the wrong types", Rule::OperandType, |m| {
        let p = with_pair(m);
        let code = main_code(m);
        let at = code.iter().position(|i| matches!(i, Instr::PairNew { .. })).unwrap();
        code[at] = Instr::PairNew { dst: p, args: r(0) };
    }),
    ("pair part 2", Rule::OperandRange, |m| {
        let p = with_pair(m);
        let code = main_code(m);
        let at = code.iter().position(|i| matches!(i, Instr::PairGet { .. })).unwrap();
        code[at] = Instr::PairGet { dst: r(0), src: p, part: Count(2) };
    }),
    ("pair part read into a register of another type", Rule::OperandType, |m| {
        let p = with_pair(m);
        let code = main_code(m);
        let at = code.iter().position(|i| matches!(i, Instr::PairGet { .. })).unwrap();
        code[at] = Instr::PairGet { dst: r(0), src: p, part: Count(1) };
    }),
    ("pair with a two-slot part", Rule::TypeIndex, |m| {
        m.types.push(CompositeType::Pair(ValType::OptInt, ValType::Int))
    }),
    ("array of pairs", Rule::TypeIndex, |m| {
        with_pair(m);
        let pair_ty = TypeIdx(m.types.len() as u32 - 1);
        m.types.push(CompositeType::Array(ValType::Pair(pair_ty)));
    }),
    ("pair value type naming a struct", Rule::TypeIndex, |m| {
        m.globals.push(Global { name: "p".into(), ty: ValType::Pair(TypeIdx(0)) })
    }),
    ("array of optional values", Rule::TypeIndex, |m| m.types.push(CompositeType::Array(ValType::OptInt))),
    ("optional int made from a float", Rule::OperandType, |m| {
        let o = with_optional(m);
        m.funcs[0].regs.push(ValType::Float);
        let f = r(m.funcs[0].regs.len() as u32 - 1);
        let code = main_code(m);
        let at = code.iter().position(|i| matches!(i, Instr::OptSome { .. })).unwrap();
        code.insert(at, Instr::LoadK { dst: f, k: ConstIdx(0) });
        code[at + 1] = Instr::OptSome { dst: o, src: f };
    }),
    ("optional int read into a string", Rule::OperandType, |m| {
        let o = with_optional(m);
        let code = main_code(m);
        let at = code.iter().position(|i| matches!(i, Instr::OptGet { .. })).unwrap();
        code[at] = Instr::OptGet { dst: r(1), src: o };
    }),
    ("identity of optional values", Rule::OperandType, |m| {
        let o = with_optional(m);
        with_identity(m, o, o);
    }),
    ("more register slots than the format allows", Rule::Limit, |m| {
        m.funcs[1].regs.extend(std::iter::repeat_n(ValType::OptInt, 40_000));
    }),
    ("switch without entries", Rule::Switch, |m| with_switch(m, 0, &[])),
    ("switch table entry that is not a Jmp", Rule::Switch, |m| {
        with_switch(m, 2, &[Instr::Jmp { target: Target(4) }, Instr::Nop {}])
    }),
    ("switch table past the end of the code", Rule::Switch, |m| {
        let n = main_code(m).len() as u32 + 5;
        with_switch(m, n, &[])
    }),
    ("switch on a string", Rule::OperandType, |m| {
        with_switch(m, 1, &[Instr::Jmp { target: Target(3) }]);
        main_code(m)[1] = Instr::Switch { src: r(1), count: Count(1) };
    }),
    ("register read after a switch entry that skips its write", Rule::Uninit, |m| {
        // Entry 0 writes r4 then joins; entry 1 jumps straight to the join, which reads r4.
        m.funcs[0].regs.push(ValType::Int);
        let r5 = r(5);
        let code = main_code(m);
        code.insert(0, Instr::LoadI { dst: r(0), imm: Imm(1) });
        code.insert(1, Instr::Switch { src: r(0), count: Count(2) });
        code.insert(2, Instr::Jmp { target: Target(5) });
        code.insert(3, Instr::Jmp { target: Target(6) });
        code.insert(4, Instr::Unreachable {});
        code.insert(5, Instr::LoadI { dst: r5, imm: Imm(7) });
        code.insert(6, Instr::AddI { dst: r(0), a: r5, b: r5 });
    }),
    ("identity of references of two types", Rule::OperandType, |m| with_identity(m, r(2), r(3))),
    ("identity of strings", Rule::OperandType, |m| with_identity(m, r(1), r(1))),
    ("identity of ints", Rule::OperandType, |m| with_identity(m, r(0), r(4))),
    ("option of an int", Rule::TypeIndex, |m| m.types.push(CompositeType::Option(ValType::Int))),
    ("field read through an option without OptGet", Rule::OperandType, |m| {
        m.types.push(CompositeType::Option(ValType::Ref(TypeIdx(0))));
        let o = r(m.funcs[0].regs.len() as u32);
        m.funcs[0].regs.push(ValType::Ref(TypeIdx(2)));
        let code = main_code(m);
        code.insert(0, Instr::OptNone { dst: o });
        code.insert(1, Instr::GetField { dst: r(0), obj: o, field: FieldIdx(0) });
    }),
    ("OptGet into a register of another type", Rule::OperandType, |m| {
        m.types.push(CompositeType::Option(ValType::Ref(TypeIdx(0))));
        let o = r(m.funcs[0].regs.len() as u32);
        m.funcs[0].regs.push(ValType::Ref(TypeIdx(2)));
        let code = main_code(m);
        code.insert(0, Instr::OptNone { dst: o });
        code.insert(1, Instr::OptGet { dst: r(1), src: o });
    }),
    ("interface implemented by an array type", Rule::Interface, |m| {
        with_iface(m);
        if let CompositeType::Interface(it) = &mut m.types[2] {
            it.impls[0].0 = TypeIdx(1);
        }
    }),
    ("implementation missing a method", Rule::Interface, |m| {
        with_iface(m);
        if let CompositeType::Interface(it) = &mut m.types[2] {
            it.impls[0].1.clear();
        }
    }),
    ("implementing function with another result", Rule::Interface, |m| {
        with_iface(m);
        m.funcs[2].sig.result = Some(ValType::Bool);
        m.funcs[2].regs[1] = ValType::Bool;
        m.funcs[2].code[0] = Instr::LoadBool { dst: r(1), imm: Imm(0) };
    }),
    ("value seen as an interface its type does not implement", Rule::OperandType, |m| {
        let iv = with_iface(m);
        let code = main_code(m);
        let at = code.len() - 3;
        code[at] = Instr::ToIface { dst: iv, src: r(3) };
    }),
    ("interface method out of range", Rule::OperandRange, |m| {
        let iv = with_iface(m);
        let code = main_code(m);
        let at = code.len() - 2;
        code[at] = Instr::CallIface { dst: r(0), args: iv, method: Count(1) };
    }),
    ("closure type names a struct as its function type", Rule::Closure, |m| {
        with_closure(m);
        if let CompositeType::Closure(c) = &mut m.types[3] {
            c.fn_type = TypeIdx(0);
        }
    }),
    ("closure function without the closure first", Rule::Closure, |m| {
        with_closure(m);
        m.funcs[2].sig.params.remove(0);
        m.funcs[2].regs.remove(0);
    }),
    ("closure function with another result", Rule::Closure, |m| {
        with_closure(m);
        m.funcs[2].sig.result = None;
    }),
    ("closure built into a register of another type", Rule::OperandType, |m| {
        with_closure(m);
        let code = main_code(m);
        let at = code.len() - 4;
        code[at] = Instr::NewClosure { dst: r(2), ty: TypeIdx(3), args: r(0) };
    }),
    ("call of a struct as a closure", Rule::OperandType, |m| {
        with_closure(m);
        let code = main_code(m);
        let at = code.len() - 2;
        code[at] = Instr::CallClosure { dst: r(0), args: r(2) };
    }),
    ("closure called with an argument of another type", Rule::Call, |m| {
        let c = with_closure(m);
        m.funcs[0].regs[c.index() + 1] = ValType::Bool;
        let code = main_code(m);
        let at = code.len() - 3;
        code[at] = Instr::LoadBool { dst: r(c.0 + 1), imm: Imm(1) };
    }),
    ("a closure's capture changed", Rule::OperandType, |m| {
        with_closure(m);
        m.funcs[2].code.insert(0, Instr::SetField { obj: r(0), field: FieldIdx(0), src: r(1) });
    }),
    ("capture out of range", Rule::OperandRange, |m| {
        with_closure(m);
        m.funcs[2].code[0] = Instr::GetField { dst: r(2), obj: r(0), field: FieldIdx(1) };
    }),
    ("enum lists a struct", Rule::Enum, |m| {
        with_enum(m);
        if let CompositeType::Enum(en) = &mut m.types[2] {
            en.variants[1] = TypeIdx(0);
        }
    }),
    ("variant listed twice", Rule::Enum, |m| {
        with_enum(m);
        if let CompositeType::Enum(en) = &mut m.types[2] {
            en.variants[1] = TypeIdx(3);
        }
    }),
    ("variant of no enum", Rule::Enum, |m| {
        with_enum(m);
        if let CompositeType::Enum(en) = &mut m.types[2] {
            en.variants.pop();
        }
    }),
    ("variant built as a value of its own type", Rule::OperandType, |m| {
        let (_, a) = with_enum(m);
        *enum_instr(m, 0) = Instr::NewStruct { dst: a, ty: TypeIdx(3), args: r(0) };
    }),
    ("tag of a struct", Rule::OperandType, |m| {
        with_enum(m);
        *enum_instr(m, 1) = Instr::GetTag { dst: r(0), src: r(2) };
    }),
    ("AsVariant to a struct type", Rule::OperandType, |m| {
        let (e, _) = with_enum(m);
        *enum_instr(m, 2) = Instr::AsVariant { dst: r(2), src: e, ty: TypeIdx(0) };
    }),
    ("AsVariant into a register of another variant", Rule::OperandType, |m| {
        let (e, a) = with_enum(m);
        *enum_instr(m, 2) = Instr::AsVariant { dst: a, src: e, ty: TypeIdx(4) };
    }),
    ("field of an enum value without AsVariant", Rule::OperandType, |m| {
        let (e, _) = with_enum(m);
        *enum_instr(m, 3) = Instr::GetField { dst: r(0), obj: e, field: FieldIdx(0) };
    }),
    ("global of unknown type", Rule::TypeIndex, |m| m.globals[0].ty = ValType::Ref(TypeIdx(9))),
    ("field of unknown type", Rule::TypeIndex, |m| {
        m.types[1] = CompositeType::Array(ValType::Ref(TypeIdx(7)));
    }),
    ("register of unknown type", Rule::TypeIndex, |m| m.funcs[1].regs.push(ValType::Ref(TypeIdx(3)))),
    ("struct contains itself", Rule::RecursiveStruct, |m| {
        if let CompositeType::Struct(st) = &mut m.types[0] {
            st.fields.push(("me".into(), ValType::Ref(TypeIdx(0))));
        }
    }),
    ("unknown native", Rule::Import, |m| m.imports[0].name = "launch_missiles".into()),
    ("native with the wrong signature", Rule::Import, |m| m.imports[0].sig.params = vec![ValType::Int]),
    ("entry out of range", Rule::Entry, |m| m.entry = FuncIdx(7)),
    ("entry with parameters", Rule::Entry, |m| m.entry = FuncIdx(1)),
    ("initialiser out of range", Rule::Entry, |m| m.init = Some(FuncIdx(7))),
    ("initialiser with parameters", Rule::Entry, |m| m.init = Some(FuncIdx(1))),
    ("export of a missing function", Rule::Entry, |m| {
        m.exports.push(Export { name: "zzz".into(), func: FuncIdx(9) })
    }),
    ("exports out of order", Rule::Entry, |m| m.exports.swap(0, 1)),
    ("export named twice", Rule::Entry, |m| m.exports[1].name = "double".into()),
    ("host import without a name", Rule::Import, |m| {
        m.imports[0].kind = ImportKind::Host;
        m.imports[0].name = String::new();
    }),
    ("host import taking an array", Rule::Import, |m| {
        m.imports[0].kind = ImportKind::Host;
        m.imports[0].sig.params = vec![ValType::Ref(TypeIdx(1))];
    }),
    ("host import returning an optional int", Rule::Import, |m| {
        m.imports[0].kind = ImportKind::Host;
        m.imports[0].sig.result = Some(ValType::OptInt);
    }),
    ("too many registers", Rule::Limit, |m| m.funcs[1].regs.resize(70_000, ValType::Int)),
    ("file index out of range", Rule::Debug, |m| m.funcs[0].file = 5),
    ("line table not sorted", Rule::Debug, |m| {
        m.funcs[0].lines = vec![LineEntry { pc: 3, line: 1, col: 1 }, LineEntry { pc: 1, line: 2, col: 1 }]
    }),
    ("parameter registers disagree", Rule::Params, |m| m.funcs[1].regs[0] = ValType::Float),
    ("register out of range", Rule::OperandRange, |m| {
        main_code(m)[0] = Instr::LoadI { dst: r(9), imm: Imm(0) }
    }),
    ("constant out of range", Rule::OperandRange, |m| {
        main_code(m)[1] = Instr::LoadK { dst: r(1), k: ConstIdx(9) }
    }),
    ("function out of range", Rule::OperandRange, |m| {
        main_code(m)[5] = Instr::Call { dst: r(4), func: FuncIdx(9), args: r(4) }
    }),
    ("global out of range", Rule::OperandRange, |m| {
        main_code(m)[6] = Instr::SetGlobal { global: GlobalIdx(3), src: r(4) }
    }),
    ("register window past the end", Rule::OperandRange, |m| {
        main_code(m)[2] = Instr::NewStruct { dst: r(2), ty: TypeIdx(0), args: r(4) }
    }),
    ("field out of range", Rule::OperandRange, |m| {
        main_code(m)[7] = Instr::GetField { dst: r(0), obj: r(2), field: FieldIdx(5) }
    }),
    ("branch outside the code", Rule::BranchTarget, |m| {
        main_code(m).insert(0, Instr::Jmp { target: Target(99) })
    }),
    ("falls off the end", Rule::FallOff, |m| {
        main_code(m).pop();
    }),
    ("no code at all", Rule::FallOff, |m| m.funcs[1].code.clear()),
    ("int op on a string register", Rule::OperandType, |m| {
        main_code(m)[0] = Instr::AddI { dst: r(0), a: r(1), b: r(0) }
    }),
    ("int constant into a string register", Rule::OperandType, |m| {
        main_code(m)[1] = Instr::LoadK { dst: r(1), k: ConstIdx(0) }
    }),
    ("array of a struct type", Rule::OperandType, |m| {
        main_code(m)[3] = Instr::NewArray { dst: r(3), ty: TypeIdx(0), args: r(0), count: Count(1) }
    }),
    ("bool immediate out of range", Rule::OperandType, |m| {
        m.funcs[0].regs.push(ValType::Bool);
        main_code(m).insert(0, Instr::LoadBool { dst: r(5), imm: Imm(2) });
    }),
    ("AddImm immediate too wide", Rule::OperandType, |m| {
        main_code(m)[0] = Instr::AddImm { dst: r(0), a: r(0), imm: Imm(40_000) }
    }),
    ("sort of struct elements", Rule::OperandType, |m| {
        m.types.push(CompositeType::Array(ValType::Ref(TypeIdx(0))));
        m.funcs[0].regs.push(ValType::Ref(TypeIdx(2)));
        main_code(m).insert(0, Instr::ArraySort { arr: r(5) });
    }),
    ("call argument of the wrong type", Rule::Call, |m| {
        main_code(m)[5] = Instr::Call { dst: r(4), func: FuncIdx(1), args: r(1) }
    }),
    ("call result into the wrong type", Rule::Call, |m| {
        main_code(m)[5] = Instr::Call { dst: r(1), func: FuncIdx(1), args: r(4) }
    }),
    ("native without a result names a register", Rule::Call, |m| {
        main_code(m)[8] = Instr::CallNative { dst: r(3), import: ImportIdx(0), args: r(1) }
    }),
    ("Ret in a function without a result", Rule::Return, |m| {
        let last = main_code(m).len() - 1;
        main_code(m)[last] = Instr::Ret { src: r(0) };
    }),
    ("RetVoid in a function with a result", Rule::Return, |m| m.funcs[1].code[1] = Instr::RetVoid {}),
    ("Ret of the wrong type", Rule::Return, |m| {
        m.funcs[1].regs.push(ValType::Float);
        m.funcs[1].code[1] = Instr::Ret { src: r(1) };
    }),
    ("reference read before it is written", Rule::Uninit, |m| {
        main_code(m).insert(0, Instr::CallNative { dst: r(0), import: ImportIdx(0), args: r(1) })
    }),
    ("reference written on one path only", Rule::Uninit, |m| {
        m.funcs[0].regs.push(ValType::Bool);
        let code = main_code(m);
        code.insert(0, Instr::LoadBool { dst: r(5), imm: Imm(1) });
        code.insert(1, Instr::JmpIf { cond: r(5), target: Target(3) });
        code.insert(2, Instr::LoadK { dst: r(1), k: ConstIdx(1) });
        // Instruction 3 onward: r1 is written again at 4, but read at 3 first.
        code.insert(3, Instr::CallNative { dst: r(0), import: ImportIdx(0), args: r(1) });
    }),
    ("reference clobbered by a call's window", Rule::Uninit, |m| {
        // Calling with the window at r0 reuses r1 (a string) for the callee's frame.
        main_code(m)[5] = Instr::Call { dst: r(4), func: FuncIdx(1), args: r(0) };
    }),
    ("int read before it is written", Rule::Uninit, |m| {
        main_code(m).insert(0, Instr::SetGlobal { global: GlobalIdx(0), src: r(4) })
    }),
    ("int written on one branch only", Rule::Uninit, |m| {
        m.funcs[0].regs.push(ValType::Bool);
        let code = main_code(m);
        code.insert(0, Instr::LoadBool { dst: r(5), imm: Imm(0) });
        code.insert(1, Instr::JmpIf { cond: r(5), target: Target(3) });
        code.insert(2, Instr::LoadI { dst: r(4), imm: Imm(7) });
        code.insert(3, Instr::SetGlobal { global: GlobalIdx(0), src: r(4) });
    }),
    ("int read in a loop's first iteration", Rule::Uninit, |m| {
        // r4 is written at the end of the loop body but read at its start.
        let code = main_code(m);
        code.insert(0, Instr::LoadI { dst: r(0), imm: Imm(0) });
        code.insert(1, Instr::AddI { dst: r(0), a: r(0), b: r(4) });
        code.insert(2, Instr::LoadI { dst: r(4), imm: Imm(1) });
        code.insert(3, Instr::JltImm { a: r(0), imm: Imm(3), target: Target(1) });
    }),
    ("bool read before it is written by a branch", Rule::Uninit, |m| {
        m.funcs[0].regs.push(ValType::Bool);
        main_code(m).insert(0, Instr::JmpIf { cond: r(5), target: Target(1) });
    }),
    ("index read before it is written", Rule::Uninit, |m| {
        m.funcs[0].regs.push(ValType::Int);
        main_code(m).insert(4, Instr::ArrayGet { dst: r(0), arr: r(3), idx: r(5) });
    }),
    ("caller reads as int what its callee left in the window", Rule::Uninit, |m| {
        // `leak` writes a string into its r0, which is main's r0; main then reads r0.
        m.funcs.push(Function {
            name: "leak".into(),
            sig: Signature { params: vec![], result: None },
            regs: vec![ValType::Str],
            code: vec![Instr::LoadK { dst: r(0), k: ConstIdx(1) }, Instr::RetVoid {}],
            file: 0,
            lines: vec![],
        });
        let code = main_code(m);
        code.insert(0, Instr::LoadI { dst: r(0), imm: Imm(3) });
        code.insert(1, Instr::Call { dst: r(0), func: FuncIdx(2), args: r(0) });
        code.insert(2, Instr::SetGlobal { global: GlobalIdx(0), src: r(0) });
    }),
];

#[test]
fn base_module_is_valid() {
    verify(&base()).expect("the base module is valid");
    let mut m = base();
    with_enum(&mut m);
    verify(&m).expect("the base module with an enum is valid");
    let mut m = base();
    with_closure(&mut m);
    verify(&m).expect("the base module with a closure is valid");
    let mut m = base();
    with_iface(&mut m);
    verify(&m).expect("the base module with an interface is valid");
    let mut m = base();
    with_identity(&mut m, r(2), r(2));
    verify(&m).expect("the base module with an identity test is valid");
    let mut m = base();
    // Both entries and the fall-through reach the rest of main.
    with_switch(
        &mut m,
        2,
        &[
            Instr::Jmp { target: Target(5) },
            Instr::Jmp { target: Target(5) },
            Instr::Jmp { target: Target(5) },
        ],
    );
    verify(&m).expect("the base module with a switch is valid");
    let mut m = base();
    with_optional(&mut m);
    // An optional field and an optional global hold one too.
    m.types.push(CompositeType::Struct(StructType {
        name: "Q".into(),
        fields: vec![("o".into(), ValType::OptInt)],
    }));
    m.globals.push(Global { name: "go".into(), ty: ValType::OptInt });
    verify(&m).expect("the base module with optional values is valid");
    let mut m = base();
    with_pair(&mut m);
    verify(&m).expect("the base module with a pair is valid");
}

#[test]
fn each_invalid_module_is_rejected_for_its_rule() {
    assert!(CASES.len() >= 25);
    for (name, rule, mutate) in CASES {
        let mut m = base();
        mutate(&mut m);
        match verify(&m) {
            Ok(_) => panic!("`{name}` was accepted"),
            Err(e) => assert_eq!(e.rule, *rule, "`{name}` rejected for another reason: {e}"),
        }
        // The same module also survives the binary format unchanged.
        assert_eq!(decode(&encode(&m)).map(|d| encode(&d)), Ok(encode(&m)));
    }
}

#[test]
fn errors_name_the_rule_function_and_instruction() {
    let mut m = base();
    main_code(&mut m)[0] = Instr::AddI { dst: r(0), a: r(1), b: r(0) };
    let e = verify(&m).expect_err("type error");
    let text = e.to_string();
    assert!(text.contains("F5 operand-type"), "{text}");
    assert!(text.contains("function `main` at instruction 0"), "{text}");
}
