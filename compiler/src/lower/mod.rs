//! Lowering: the typed IR of a checked program ([`crate::check::Program`]) to register
//! bytecode. Every diagnostic about the program was reported by the checker; the only
//! ones left here are the bytecode format's limits.
//!
//! **Register discipline** (what the bytecode verifier relies on, rule F8): every register
//! has one type; a call's argument window is always a block of *fresh* registers above
//! every register allocated so far, so nothing live at a call sits inside the callee's
//! frame. Other registers are recycled per type when their scope or temporary ends.

mod boxing;
mod builder;
mod call;
mod expr;
mod func;
mod hoist;
mod matching;

use crate::check::{GlobalDef, Program};
use crate::diag::{Diagnostic, SourceFile};
use crate::mono::{Callee, Monomorphic};
use crate::sema::consts::ConstVal;
use crate::sema::items::Items;
use crate::sema::types::Ty;
use crate::syntax::span::Span;
use crate::tir::{ExprKind, LocalDecl};
use builder::ModuleBuilder;
use func::FnLowerer;
use kiln_bytecode::ValType;
use kiln_bytecode::{Export, FuncIdx, Function, Global, GlobalIdx, Instr, Module, Signature};

/// State shared by every function's lowering.
pub(crate) struct Cx<'a> {
    pub items: &'a Items,
    pub b: ModuleBuilder<'a>,
    pub errors: &'a mut Vec<Diagnostic>,
    pub files: &'a [SourceFile],
    /// The bytecode global of each `var` (by index in `Items::globals`).
    pub global_idx: Vec<Option<GlobalIdx>>,
    /// The signature of each function instance (bytecode function index).
    pub sigs: Vec<Signature>,
}

impl Cx<'_> {
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(Diagnostic { message: message.into(), span, note: None });
    }

    /// The register type that holds `local`: its value's, or for a local shared with
    /// closures, a reference to its cell. Locals without values (unit, never) get `int`,
    /// which nothing reads.
    pub fn local_type(&mut self, local: &LocalDecl) -> ValType {
        let vt = self.b.val_type(&local.ty).unwrap_or(ValType::Int);
        if local.boxed {
            ValType::Ref(self.b.cell_type(vt))
        } else {
            vt
        }
    }
}

/// Lowers a checked program to a bytecode module. Returns `None` if a limit of the
/// bytecode format was broken (reported in `errors`).
pub fn lower_program(
    files: &[SourceFile],
    items: &Items,
    program: &Program,
    mono: &Monomorphic,
    errors: &mut Vec<Diagnostic>,
) -> Option<Module> {
    let b = ModuleBuilder::new(items);
    let mut cx = Cx { items, b, errors, files, global_idx: Vec::new(), sigs: Vec::new() };
    cx.b.module.files = files.iter().map(|f| f.name.clone()).collect();
    // Every instance's signature (and, for a closure, its closure type) first: calls
    // and closure values need them.
    for (i, inst) in mono.instances.iter().enumerate() {
        let body = &inst.body;
        let declared = &body.locals[..body.n_params];
        let mut params: Vec<ValType> = declared.iter().filter_map(|l| cx.b.val_type(&l.ty)).collect();
        let result = cx.b.val_type(&body.ret);
        if let Some(n) = body.closure {
            let fn_ty = Ty::Fn(declared.iter().map(|l| l.ty.clone()).collect(), Box::new(body.ret.clone()));
            let captures =
                body.locals[body.n_params..body.n_params + n].iter().map(|l| cx.local_type(l)).collect();
            let env = cx.b.closure_type(i, &fn_ty, captures);
            params.insert(0, ValType::Ref(env));
        }
        cx.sigs.push(Signature { params, result });
    }
    let start_body = lower_globals(&mut cx, program);
    for (i, inst) in mono.instances.iter().enumerate() {
        let (name, span) = match inst.callee {
            Callee::Fn(f) => (items.fns[f].name.clone(), items.fns[f].span),
            Callee::Closure(c) => (program.closures[c].name.clone(), inst.body.expr.span),
            // The adapter that makes a function a value is not a frame users wrote.
            Callee::FnValue(f) => (format!("<{}>", items.fns[f].name), items.fns[f].span),
        };
        let func = FnLowerer::lower_fn(&mut cx, &name, i, &inst.body, span);
        cx.b.module.funcs.push(func);
    }
    for (i, ty, insts) in &mono.vtables {
        let funcs = insts.iter().map(|&f| FuncIdx(f as u32)).collect();
        cx.b.add_impl(*i, ty, funcs);
    }
    cx.b.module.entry = FuncIdx(mono.main as u32);
    // `<init>` initialises globals in declaration order when an instance is created. With
    // many globals the initialisers are split over several `<init>` functions, and one
    // more `<init>` calls them in order.
    let mut chunks = start_body;
    cx.b.module.init = match chunks.len() {
        0 => None,
        1 => {
            cx.b.module.funcs.append(&mut chunks);
            Some(FuncIdx(cx.b.module.funcs.len() as u32 - 1))
        }
        n => {
            let first = cx.b.module.funcs.len();
            let reg0 = kiln_bytecode::Reg(0);
            let mut code: Vec<Instr> = (0..n)
                .map(|i| Instr::Call { dst: reg0, func: FuncIdx((first + i) as u32), args: reg0 })
                .collect();
            code.push(Instr::RetVoid {});
            let driver = Function {
                name: "<init>".into(),
                sig: Signature { params: Vec::new(), result: None },
                regs: Vec::new(),
                code,
                file: 0,
                lines: Vec::new(),
            };
            cx.b.module.funcs.append(&mut chunks);
            cx.b.module.funcs.push(driver);
            Some(FuncIdx(cx.b.module.funcs.len() as u32 - 1))
        }
    };
    cx.b.module.exports = exports(items, mono);
    if let Some(t) = cx.b.endless.take() {
        cx.error(
            Span::default(),
            format!("a type contains ever bigger instances of itself (such as `{t}`); its fields cannot be laid out"),
        );
    }
    if cx.errors.is_empty() {
        check_with_verifier(&cx.b.module, items, cx.errors);
    }
    if cx.errors.is_empty() {
        Some(cx.b.module)
    } else {
        None
    }
}

/// Runs the runtime's verifier on the finished module, so the compiler never emits what
/// the runtime would reject. A broken limit (rule M5) becomes a diagnostic that says
/// what to change; any other broken rule is a compiler bug, reported as such.
fn check_with_verifier(module: &Module, items: &Items, errors: &mut Vec<Diagnostic>) {
    let Err(e) = kiln_bytecode::verify(module) else {
        return;
    };
    let func = e.func.as_deref();
    let span =
        func.and_then(|name| items.fns.iter().find(|f| f.name == name)).map_or(Span::default(), |f| f.span);
    let message = match (e.rule, func) {
        (kiln_bytecode::verify::Rule::Limit, Some(name)) => format!(
            "function `{name}` is too large for the bytecode format ({}); split it into smaller functions",
            e.detail
        ),
        (kiln_bytecode::verify::Rule::Limit, None) => {
            format!("the program is too large for the bytecode format: {}", e.detail)
        }
        _ => {
            format!("internal compiler error: the compiler produced invalid bytecode ({e}); please report it")
        }
    };
    errors.push(Diagnostic { message, span, note: None });
}

/// Instructions after which `lower_globals` starts a new initialiser function, well below
/// the per-function limit, so any number of globals compiles.
const START_CHUNK: usize = 16_384;

/// Lowers `var` initialisers, in declaration order, into `<init>` functions of at most
/// about `START_CHUNK` instructions each. Returns them (none if there is no `var`).
fn lower_globals(cx: &mut Cx<'_>, program: &Program) -> Vec<Function> {
    let items = cx.items;
    cx.global_idx = vec![None; program.globals.len()];
    let mut chunks = Vec::new();
    let mut start = FnLowerer::new_start(cx, &program.start_locals);
    let mut any_var = false;
    // Until an initialiser runs code (a call could set a later global), one that stores
    // 0, 0.0 or false stores what the global already holds: it is left out, so such
    // globals cost instantiation nothing.
    let mut only_constants = true;
    for (gi, g) in program.globals.iter().enumerate() {
        let GlobalDef::Var(init) = &g.def else { continue };
        if start.code.len() >= START_CHUNK {
            chunks.push(start.finish_start());
            start = FnLowerer::new_start(cx, &program.start_locals);
        }
        let vt = start.cx.b.val_type(&g.ty).expect("a `var` global has a value type");
        let idx = GlobalIdx(start.cx.b.module.globals.len() as u32);
        start.cx.b.module.globals.push(Global { name: items.globals[gi].name.clone(), ty: vt });
        start.cx.global_idx[gi] = Some(idx);
        let zero = match &init.kind {
            ExprKind::Const(ConstVal::Int(0) | ConstVal::Bool(false)) => true,
            ExprKind::Const(ConstVal::Float(f)) => f.to_bits() == 0,
            ExprKind::Const(_) => false,
            _ => {
                only_constants = false;
                false
            }
        };
        if zero && only_constants {
            continue;
        }
        any_var = true;
        start.store_global(idx, init);
    }
    let func = start.finish_start();
    if any_var {
        chunks.push(func);
    }
    chunks
}

/// The functions a host may call: every free, non-generic function of the entry file
/// (`main` among them), sorted by name. Monomorphisation instantiates each of them with
/// no type arguments, so instance `i` is function `i` of the module.
fn exports(items: &Items, mono: &Monomorphic) -> Vec<Export> {
    let in_entry_file = |f: usize| {
        let info = &items.fns[f];
        !info.in_prelude
            && info.owner.is_none()
            && info.generics.is_empty()
            && items.modules.prefixes.get(info.span.file as usize).is_some_and(|p| p.is_empty())
    };
    let mut exports: Vec<Export> = mono
        .instances
        .iter()
        .enumerate()
        .filter_map(|(i, inst)| match inst.callee {
            Callee::Fn(f) if inst.args.is_empty() && in_entry_file(f) => {
                Some(Export { name: items.fns[f].name.clone(), func: FuncIdx(i as u32) })
            }
            _ => None,
        })
        .collect();
    exports.sort_by(|a, b| a.name.cmp(&b.name));
    exports
}

#[cfg(test)]
mod tests {
    use kiln_bytecode::Instr;

    fn main_code(src: &str) -> Vec<Instr> {
        let m = crate::compile_source("t.kiln", src).expect("compiles");
        m.funcs.iter().find(|f| f.name == "main").expect("main").code.clone()
    }

    #[test]
    fn loop_constants_are_loaded_once_before_the_loop() {
        let code = main_code("fn main() { var s = 0.0; for i in 0..10 { s = s + 2.5; } println(s); }");
        let loads: Vec<usize> = code
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i, Instr::LoadK { .. }))
            .map(|(pc, _)| pc)
            .collect();
        assert_eq!(loads.len(), 2, "0.0 and the hoisted 2.5: {code:?}");
        let first_branch = code.iter().position(|i| i.branch_target().is_some()).expect("a loop");
        assert!(loads.iter().all(|&pc| pc < first_branch), "{code:?}");
    }

    #[test]
    fn a_match_on_an_enum_reads_the_tag_once() {
        let code = main_code(
            "enum E { A, B, C } fn main() { let e = E.C; let n = match e { E.A => 1, E.B => 2, E.C => 3 }; println(n); }",
        );
        assert_eq!(code.iter().filter(|i| matches!(i, Instr::GetTag { .. })).count(), 1, "{code:?}");
        // A switch on the tag, and tag tests for every arm but the last (which the
        // checker proved matches whatever reaches it).
        assert_eq!(
            code.iter().filter(|i| matches!(i, Instr::Switch { count: kiln_bytecode::Count(3), .. })).count(),
            1
        );
        assert_eq!(code.iter().filter(|i| matches!(i, Instr::JneImm { .. })).count(), 2, "{code:?}");
    }

    #[test]
    fn switch_entries_skip_the_entered_arms_tag_test() {
        let code = main_code(
            "enum E { A, B, C } fn main() { let e = E.C; let n = match e { E.A => 1, E.B => 2, E.C => 3 }; println(n); }",
        );
        let at = code.iter().position(|i| matches!(i, Instr::Switch { .. })).expect("a switch");
        for (tag, entry) in code[at + 1..at + 4].iter().enumerate() {
            let Instr::Jmp { target } = entry else { panic!("a table of jumps: {code:?}") };
            // Each entry lands on the arm's value, not on a test of the tag.
            assert!(
                matches!(code[target.index()], Instr::LoadI { imm: kiln_bytecode::Imm(v), .. } if v == tag as i32 + 1),
                "entry {tag}: {code:?}"
            );
        }
    }
}
