//! Lowering: checks each function body's types and emits its register bytecode in the
//! same walk. Declarations were collected by `sema::items` first, so bodies may refer to
//! items declared later.
//!
//! **Register discipline** (what the bytecode verifier relies on, rule F8): every register
//! has one type; a call's argument window is always a block of *fresh* registers above
//! every register allocated so far, so nothing live at a call sits inside the callee's
//! frame. Other registers are recycled per type when their scope or temporary ends.

mod builder;
mod call;
mod expr;
mod func;
mod prologue;

use crate::diag::{Diagnostic, SourceFile};
use crate::sema::consts::{self, ConstVal};
use crate::sema::items::Items;
use crate::sema::types::Ty;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use builder::ModuleBuilder;
use func::FnLowerer;
use kiln_bytecode::{FuncIdx, Function, Global, GlobalIdx, Instr, Module, Signature};

/// What the lowering knows about a global while bodies are being lowered.
pub(crate) struct GlobalState {
    /// Type, once known (from the annotation or the initialiser).
    pub ty: Option<Ty>,
    /// The value, for constants.
    pub value: Option<ConstVal>,
    /// The bytecode global, for `var`s.
    pub idx: Option<GlobalIdx>,
}

/// State shared by every function's lowering.
pub(crate) struct Cx<'a> {
    pub items: &'a Items,
    pub ast: &'a [Item],
    pub b: ModuleBuilder,
    pub errors: &'a mut Vec<Diagnostic>,
    pub files: &'a [SourceFile],
    pub globals: Vec<GlobalState>,
}

impl Cx<'_> {
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(Diagnostic { message: message.into(), span, note: None });
    }

    pub fn mismatch(&mut self, span: Span, want: &Ty, got: &Ty) {
        if matches!(want, Ty::Error) || matches!(got, Ty::Error) {
            return;
        }
        let (w, g) = (self.items.type_name(want), self.items.type_name(got));
        self.error(span, format!("mismatched types: expected `{w}`, found `{g}`"));
    }
}

/// Lowers a parsed program (all files' items, entry file first) to a bytecode module.
/// Returns `None` if any error was reported.
pub fn lower_program(files: &[SourceFile], ast: &[Item], errors: &mut Vec<Diagnostic>) -> Option<Module> {
    let items = Items::collect(ast, errors);
    let b = ModuleBuilder::new(&items);
    let mut cx = Cx { items: &items, ast, b, errors, files, globals: Vec::new() };
    cx.b.module.files = files.iter().map(|f| f.name.clone()).collect();
    cx.b.module.funcs = items
        .fns
        .iter()
        .map(|f| Function {
            name: f.name.clone(),
            sig: Signature { params: Vec::new(), result: None },
            regs: Vec::new(),
            code: Vec::new(),
            file: 0,
            lines: Vec::new(),
        })
        .collect();
    let start_body = lower_globals(&mut cx);
    for (i, f) in items.fns.iter().enumerate() {
        let decl = match (&ast[f.decl.0], f.decl.1) {
            (Item::Fn(d), None) => d,
            (Item::Impl(imp), Some(m)) => &imp.methods[m],
            _ => continue,
        };
        let func = FnLowerer::lower_fn(&mut cx, f, decl);
        cx.b.module.funcs[i] = func;
    }
    let main = items.fn_by_name.get("main").copied();
    match main.map(|m| &items.fns[m]) {
        None => cx.error(Span::default(), "the program has no `fn main()`"),
        Some(m) if !m.params.is_empty() || m.ret != Ty::Unit => {
            cx.error(m.span, "`main` must take no parameters and return nothing")
        }
        Some(_) => {}
    }
    let main = main.unwrap_or(0);
    // `<start>` initialises globals in declaration order, then calls `main`. With many
    // globals the initialisers are split over several `<start>` functions, and one more
    // `<start>` calls them in order, then `main`.
    let mut chunks = start_body;
    match chunks.len() {
        0 => cx.b.module.entry = FuncIdx(main as u32),
        1 => {
            let mut start = chunks.pop().expect("one chunk");
            let ret = start.code.pop();
            debug_assert!(matches!(ret, Some(Instr::RetVoid {})));
            let args = kiln_bytecode::Reg(start.regs.len() as u32);
            start.code.push(Instr::Call { dst: kiln_bytecode::Reg(0), func: FuncIdx(main as u32), args });
            start.code.push(Instr::RetVoid {});
            cx.b.module.entry = FuncIdx(cx.b.module.funcs.len() as u32);
            cx.b.module.funcs.push(start);
        }
        n => {
            let first = cx.b.module.funcs.len();
            let calls = (0..n).map(|i| FuncIdx((first + i) as u32)).chain([FuncIdx(main as u32)]);
            let reg0 = kiln_bytecode::Reg(0);
            let mut code: Vec<Instr> =
                calls.map(|func| Instr::Call { dst: reg0, func, args: reg0 }).collect();
            code.push(Instr::RetVoid {});
            let driver = Function {
                name: "<start>".into(),
                sig: Signature { params: Vec::new(), result: None },
                regs: Vec::new(),
                code,
                file: 0,
                lines: Vec::new(),
            };
            cx.b.module.funcs.append(&mut chunks);
            cx.b.module.entry = FuncIdx(cx.b.module.funcs.len() as u32);
            cx.b.module.funcs.push(driver);
        }
    }
    if cx.errors.is_empty() {
        check_with_verifier(&cx.b.module, &items, cx.errors);
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

/// Evaluates constants and lowers `var` initialisers, in declaration order, into
/// `<start>` functions of at most about `START_CHUNK` instructions each. Returns them
/// (none if there is no `var`).
fn lower_globals(cx: &mut Cx<'_>) -> Vec<Function> {
    let items = cx.items;
    let ast = cx.ast;
    cx.globals = items.globals.iter().map(|_| GlobalState { ty: None, value: None, idx: None }).collect();
    let mut chunks = Vec::new();
    let mut start = FnLowerer::new_start(cx);
    let mut any_var = false;
    for (gi, g) in items.globals.iter().enumerate() {
        if start.code.len() >= START_CHUNK {
            chunks.push(start.finish_start());
            start = FnLowerer::new_start(cx);
        }
        let Item::Global(decl) = &ast[g.decl] else {
            continue;
        };
        let declared = decl.ty.as_ref().map(|t| items.resolve_type(t, start.cx.errors));
        if g.is_const {
            let globals = &start.cx.globals;
            let lookup = |name: &str| -> Option<ConstVal> {
                let &i = items.global_by_name.get(name)?;
                globals[i].value.clone()
            };
            match consts::eval(&decl.init, &lookup) {
                Ok(v) => {
                    let ty = match &v {
                        ConstVal::Int(_) => Ty::Int,
                        ConstVal::Float(_) => Ty::Float,
                        ConstVal::Bool(_) => Ty::Bool,
                        ConstVal::Str(_) => Ty::Str,
                    };
                    if let Some(want) = &declared {
                        if !ty.fits(want) {
                            start.cx.mismatch(decl.init.span, want, &ty);
                        }
                    }
                    start.cx.globals[gi].ty = Some(ty);
                    start.cx.globals[gi].value = Some(v);
                }
                Err(msg) => {
                    start.cx.error(decl.init.span, msg);
                    start.cx.globals[gi].ty = Some(declared.unwrap_or(Ty::Error));
                }
            }
            continue;
        }
        any_var = true;
        let value = start.lower_global_init(&decl.init, declared.as_ref());
        let ty = value.ty.clone();
        let vt = start.cx.b.val_type(&ty);
        match vt {
            Some(vt) => {
                let idx = GlobalIdx(start.cx.b.module.globals.len() as u32);
                start.cx.b.module.globals.push(Global { name: g.name.clone(), ty: vt });
                start.cx.globals[gi].idx = Some(idx);
                start.store_global(idx, value);
            }
            None if ty != Ty::Error => start.cx.error(decl.name.span, "a global must have a value type"),
            None => {}
        }
        start.cx.globals[gi].ty = Some(ty);
    }
    let func = start.finish_start();
    if any_var {
        chunks.push(func);
    }
    chunks
}
