//! Per-function lowering state: registers, scopes, loops, code and line table; and the
//! statement and control-flow forms.

use super::{Cx, GlobalState};
use crate::sema::items::FnInfo;
use crate::sema::types::Ty;
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use kiln_bytecode::limits::{MAX_CODE_LEN, MAX_REGS};
use kiln_bytecode::*;
use std::collections::HashMap;

/// A value produced by an expression.
#[derive(Debug, Clone)]
pub(crate) struct Val {
    /// Its type.
    pub ty: Ty,
    /// Where it is; `None` for unit, never and error values.
    pub reg: Option<Reg>,
    /// Whether `reg` is a temporary the consumer should release.
    pub temp: bool,
}

impl Val {
    pub fn none(ty: Ty) -> Val {
        Val { ty, reg: None, temp: false }
    }

    pub fn error() -> Val {
        Val::none(Ty::Error)
    }

    /// The register, or register 0 when an error already made the module unusable.
    pub fn r(&self) -> Reg {
        self.reg.unwrap_or_default()
    }
}

/// A local variable.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub reg: Option<Reg>,
    pub ty: Ty,
    pub mutable: bool,
}

/// Jumps to patch when a loop's `break` and `continue` targets are known.
#[derive(Default)]
pub(crate) struct LoopCtx {
    pub breaks: Vec<usize>,
    pub continues: Vec<usize>,
}

pub(crate) struct FnLowerer<'c, 'a> {
    pub cx: &'c mut Cx<'a>,
    pub(super) regs: Vec<ValType>,
    free: HashMap<ValType, Vec<Reg>>,
    pub code: Vec<Instr>,
    pub(super) lines: Vec<LineEntry>,
    last_pos: (u32, u32),
    /// The span whose position new instructions get.
    pub pos: Span,
    scopes: Vec<Vec<(String, Local)>>,
    pub loops: Vec<LoopCtx>,
    pub ret: Ty,
    name: String,
    /// How deeply expressions are being lowered (bounded by the parser's nesting limit).
    pub depth: usize,
    /// How many loops (bodies or back-edge tests) enclose the code being lowered.
    pub loop_depth: usize,
    /// Constants used inside loops, loaded once in the prologue: key to register.
    pub(super) hoisted: HashMap<(u8, u64, String), Reg>,
    /// The prologue's loads, in first-use order.
    pub(super) prologue: Vec<Instr>,
}

impl<'c, 'a> FnLowerer<'c, 'a> {
    fn new(cx: &'c mut Cx<'a>, name: String, ret: Ty, pos: Span) -> Self {
        FnLowerer {
            cx,
            regs: Vec::new(),
            free: HashMap::new(),
            code: Vec::new(),
            lines: Vec::new(),
            last_pos: (0, 0),
            pos,
            scopes: vec![Vec::new()],
            loops: Vec::new(),
            ret,
            name,
            depth: 0,
            loop_depth: 0,
            hoisted: HashMap::new(),
            prologue: Vec::new(),
        }
    }

    /// Lowers one function or method.
    pub fn lower_fn(cx: &'c mut Cx<'a>, info: &FnInfo, decl: &FnDecl) -> Function {
        let mut f = FnLowerer::new(cx, info.name.clone(), info.ret.clone(), decl.name.span);
        let mut params = Vec::new();
        for (name, ty) in &info.params {
            let reg = f.cx.b.val_type(ty).map(|vt| {
                params.push(vt);
                f.fresh(vt)
            });
            f.declare(name, Local { reg, ty: ty.clone(), mutable: true });
        }
        let want = info.ret.clone();
        f.return_block(&decl.body, &want, &info.name);
        let result = f.cx.b.val_type(&info.ret);
        f.finish(Signature { params, result }, decl.name.span)
    }

    /// Lowers a function body so that every path ends in its own `Ret`: a tail `if`
    /// returns from each branch instead of joining first.
    fn return_block(&mut self, b: &Block, want: &Ty, fn_name: &str) {
        self.push_scope();
        let mut diverges = false;
        for s in &b.stmts {
            diverges |= self.stmt(s);
        }
        match &b.tail {
            Some(tail) => self.return_expr(tail, want, fn_name),
            None => {
                self.pos = Span { start: b.span.end.saturating_sub(1), ..b.span };
                if diverges {
                    self.emit(Instr::Unreachable {});
                } else if *want == Ty::Unit {
                    self.emit(Instr::RetVoid {});
                } else {
                    let w = self.cx.items.type_name(want);
                    self.cx.error(
                        b.span,
                        format!("function `{fn_name}` must return `{w}`, but its body has no final value"),
                    );
                }
            }
        }
        self.pop_scope();
    }

    fn return_expr(&mut self, e: &Expr, want: &Ty, fn_name: &str) {
        match &e.kind {
            ExprKind::If(cond, then, Some(els)) if *want != Ty::Unit => {
                let to_else = self.cond_jump(cond, false);
                self.return_block(then, want, fn_name);
                self.patch_here(to_else);
                self.return_expr(els, want, fn_name);
            }
            ExprKind::Block(b) => self.return_block(b, want, fn_name),
            _ => {
                let v = self.expr(e, Some(want), None);
                let saved = self.pos;
                self.pos = e.span;
                match (&v.ty, want) {
                    (Ty::Never, _) => {
                        self.emit(Instr::Unreachable {});
                    }
                    (_, Ty::Unit) => {
                        self.emit(Instr::RetVoid {});
                    }
                    (got, want) => {
                        if *got == Ty::Unit {
                            let w = self.cx.items.type_name(want);
                            self.cx.error(
                                e.span,
                                format!(
                                    "function `{fn_name}` must return `{w}`, but its body has no final value"
                                ),
                            );
                        } else if !got.fits(want) {
                            self.cx.mismatch(e.span, want, got);
                        }
                        self.emit(Instr::Ret { src: v.r() });
                    }
                }
                self.pos = saved;
                self.release(&v);
            }
        }
    }

    /// The `<start>` function that initialises globals.
    pub fn new_start(cx: &'c mut Cx<'a>) -> Self {
        FnLowerer::new(cx, "<start>".into(), Ty::Unit, Span::default())
    }

    /// Lowers a `var` initialiser into a register.
    pub fn lower_global_init(&mut self, init: &Expr, declared: Option<&Ty>) -> Val {
        let v = self.expr(init, declared, None);
        if let Some(want) = declared {
            if !v.ty.fits(want) {
                self.cx.mismatch(init.span, want, &v.ty);
                return Val::none(want.clone());
            }
            if v.ty == Ty::Never {
                return Val::none(want.clone());
            }
        }
        v
    }

    pub fn store_global(&mut self, idx: GlobalIdx, v: Val) {
        if let Some(src) = v.reg {
            self.emit(Instr::SetGlobal { global: idx, src });
        }
        self.release(&v);
    }

    pub fn finish_start(mut self) -> Function {
        self.emit(Instr::RetVoid {});
        self.finish(Signature { params: Vec::new(), result: None }, Span::default())
    }

    fn finish(mut self, sig: Signature, span: Span) -> Function {
        self.place_prologue(sig.params.len());
        if self.regs.len() > MAX_REGS || self.code.len() > MAX_CODE_LEN {
            self.cx.error(
                span,
                format!(
                    "function `{}` is too large: {} registers and {} instructions (limits {MAX_REGS} and {MAX_CODE_LEN}); split it",
                    self.name,
                    self.regs.len(),
                    self.code.len()
                ),
            );
        }
        Function {
            name: self.name,
            sig,
            regs: self.regs,
            code: self.code,
            file: self.pos.file,
            lines: self.lines,
        }
    }

    // ----- Registers -----

    /// A register of type `vt`, recycled if one is free.
    pub fn alloc(&mut self, vt: ValType) -> Reg {
        if let Some(r) = self.free.get_mut(&vt).and_then(Vec::pop) {
            return r;
        }
        self.fresh(vt)
    }

    /// A new register above every register allocated so far.
    pub fn fresh(&mut self, vt: ValType) -> Reg {
        self.regs.push(vt);
        Reg(self.regs.len() as u32 - 1)
    }

    /// The register after the last one: where an empty argument window starts.
    pub fn top(&self) -> Reg {
        Reg(self.regs.len() as u32)
    }

    /// A temporary for a value of type `ty`, or `dst` if given.
    pub fn target(&mut self, ty: &Ty, dst: Option<Reg>) -> Option<Reg> {
        if dst.is_some() {
            return dst;
        }
        let vt = self.cx.b.val_type(ty)?;
        Some(self.alloc(vt))
    }

    /// Gives a temporary back for reuse.
    pub fn release(&mut self, v: &Val) {
        if let (true, Some(r)) = (v.temp, v.reg) {
            self.release_reg(r);
        }
    }

    pub fn release_reg(&mut self, r: Reg) {
        let vt = self.regs[r.index()];
        self.free.entry(vt).or_default().push(r);
    }

    /// A value in register `reg` of type `ty`; a temporary unless it is `dst`.
    pub fn val(&self, ty: Ty, reg: Option<Reg>, dst: Option<Reg>) -> Val {
        Val { ty, reg, temp: reg.is_some() && dst.is_none() }
    }

    /// Emits the instruction `make` builds for a result register (`dst`, or a new
    /// temporary) and returns the value it produces.
    pub fn emit_value(&mut self, ty: Ty, dst: Option<Reg>, make: impl FnOnce(Reg) -> Instr) -> Val {
        let reg = self.target(&ty, dst);
        if let Some(r) = reg {
            self.emit(make(r));
        }
        self.val(ty, reg, dst)
    }

    /// Lowers `e` for its effects (and its errors), drops its value, and returns its type.
    pub fn discard(&mut self, e: &Expr) -> Ty {
        let v = self.expr(e, None, None);
        self.release(&v);
        v.ty
    }

    /// Reports a call with the wrong number of arguments.
    pub fn arg_count_error(&mut self, span: Span, what: &str, expected: usize, given: usize) {
        let plural = if expected == 1 { "" } else { "s" };
        self.cx.error(span, format!("{what} takes {expected} argument{plural}, but {given} were given"));
    }

    /// Keeps an already evaluated operand `v` safe from `later`, the operands still to be
    /// evaluated: if `v` is a variable's own register and `later` may assign a variable,
    /// `v` is copied to a temporary first (operands are evaluated left to right).
    pub fn protect(&mut self, v: Val, later: &[&Expr]) -> Val {
        let Some(r) = v.reg else { return v };
        if v.temp || !later.iter().any(|e| e.may_assign_local()) {
            return v;
        }
        let copy = self.alloc(self.regs[r.index()]);
        self.emit(Instr::Mov { dst: copy, src: r });
        Val { ty: v.ty, reg: Some(copy), temp: true }
    }

    /// Moves `v` into `dst` if one is wanted and `v` is elsewhere.
    pub fn finish_val(&mut self, v: Val, dst: Option<Reg>) -> Val {
        match (dst, v.reg) {
            (Some(d), Some(r)) if d != r => {
                self.emit(Instr::Mov { dst: d, src: r });
                self.release(&v);
                Val { ty: v.ty, reg: Some(d), temp: false }
            }
            _ => v,
        }
    }

    // ----- Code -----

    /// Appends an instruction, recording its source position.
    pub fn emit(&mut self, instr: Instr) -> usize {
        let pc = self.code.len();
        let file = &self.cx.files[self.pos.file as usize];
        let pos = file.line_col(self.pos.start);
        if pos != self.last_pos || self.lines.is_empty() {
            self.lines.push(LineEntry { pc: pc as u32, line: pos.0, col: pos.1 });
            self.last_pos = pos;
        }
        self.code.push(instr);
        pc
    }

    /// The index the next instruction will have.
    pub fn here(&self) -> usize {
        self.code.len()
    }

    /// Points the branch at `at` to `target`.
    pub fn patch(&mut self, at: usize, target: usize) {
        let t = Target(target as u32);
        match &mut self.code[at] {
            Instr::Jmp { target }
            | Instr::JmpIf { target, .. }
            | Instr::JmpIfNot { target, .. }
            | Instr::JeqI { target, .. }
            | Instr::JneI { target, .. }
            | Instr::JltI { target, .. }
            | Instr::JleI { target, .. }
            | Instr::JgtI { target, .. }
            | Instr::JgeI { target, .. }
            | Instr::JeqImm { target, .. }
            | Instr::JneImm { target, .. }
            | Instr::JltImm { target, .. }
            | Instr::JleImm { target, .. }
            | Instr::JgtImm { target, .. }
            | Instr::JgeImm { target, .. } => *target = t,
            _ => unreachable!("patching a non-branch"),
        }
    }

    pub fn patch_here(&mut self, jumps: Vec<usize>) {
        let here = self.here();
        for j in jumps {
            self.patch(j, here);
        }
    }

    // ----- Scopes -----

    pub fn declare(&mut self, name: &str, local: Local) {
        self.scopes.last_mut().expect("a scope").push((name.to_string(), local));
    }

    pub fn lookup(&self, name: &str) -> Option<&Local> {
        self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|(n, _)| n == name).map(|(_, l)| l)
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    /// Ends a scope; its variables' registers become free for reuse.
    pub fn pop_scope(&mut self) {
        let scope = self.scopes.pop().expect("a scope");
        for (_, local) in scope {
            if let Some(r) = local.reg {
                self.release_reg(r);
            }
        }
    }

    /// A global by name, with its state.
    pub fn global(&self, name: &str) -> Option<(usize, &GlobalState)> {
        let &i = self.cx.items.global_by_name.get(name)?;
        Some((i, &self.cx.globals[i]))
    }

    // ----- Blocks and statements -----

    /// `{ stmts; tail }`: the tail's value, or unit, or never if a statement diverges.
    pub fn block(&mut self, b: &Block, expect: Option<&Ty>, dst: Option<Reg>) -> Val {
        self.push_scope();
        let mut diverges = false;
        for s in &b.stmts {
            diverges |= self.stmt(s);
        }
        let v = match &b.tail {
            Some(tail) => self.expr(tail, expect, dst),
            None if diverges => Val::none(Ty::Never),
            None => Val::none(Ty::Unit),
        };
        // A tail value held in a block-local register must outlive the scope.
        let v = match (&v.reg, v.temp) {
            (Some(r), false) if dst.is_none() && self.is_scope_local(*r) => {
                let out = self.target(&v.ty.clone(), None);
                let moved = Val { ty: v.ty.clone(), reg: out, temp: true };
                if let Some(o) = out {
                    self.emit(Instr::Mov { dst: o, src: *r });
                }
                moved
            }
            _ => v,
        };
        self.pop_scope();
        v
    }

    fn is_scope_local(&self, r: Reg) -> bool {
        self.scopes.last().is_some_and(|s| s.iter().any(|(_, l)| l.reg == Some(r)))
    }

    /// Lowers a statement; returns whether it diverges.
    fn stmt(&mut self, s: &Stmt) -> bool {
        match s {
            Stmt::Let { mutable, name, ty, init } => {
                let declared = ty.as_ref().map(|t| self.cx.items.resolve_type(t, self.cx.errors));
                let saved = self.pos;
                self.pos = name.span;
                let probe = declared.clone();
                let dst = probe.as_ref().and_then(|t| self.cx.b.val_type(t)).map(|vt| self.alloc(vt));
                let v = self.expr(init, declared.as_ref(), dst);
                let ty = match declared {
                    Some(want) => {
                        if !v.ty.fits(&want) {
                            self.cx.mismatch(init.span, &want, &v.ty);
                        }
                        want
                    }
                    None => v.ty.clone(),
                };
                let reg = match (dst, &v.reg) {
                    (Some(d), _) => Some(d),
                    (None, Some(r)) if v.temp => Some(*r),
                    (None, Some(r)) => {
                        // The value lives in another variable's register: copy it.
                        let vt = self.cx.b.val_type(&ty).expect("a register type");
                        let d = self.alloc(vt);
                        self.emit(Instr::Mov { dst: d, src: *r });
                        Some(d)
                    }
                    (None, None) => None,
                };
                self.pos = saved;
                if ty == Ty::Unit {
                    self.cx.error(
                        name.span,
                        format!("`{}` would have no value (its initialiser returns nothing)", name.name),
                    );
                }
                self.declare(
                    &name.name,
                    Local { reg, ty: if ty == Ty::Never { Ty::Error } else { ty }, mutable: *mutable },
                );
                v.ty == Ty::Never
            }
            Stmt::Expr(e) => self.discard(e) == Ty::Never,
        }
    }

    // ----- Control flow -----

    /// Emits jumps taken when `cond` evaluates to `when`; returns them for patching.
    pub fn cond_jump(&mut self, cond: &Expr, when: bool) -> Vec<usize> {
        match &cond.kind {
            // `while true`: the test never fails, and its back-edge is a plain jump.
            ExprKind::Bool(b) if *b == when => return vec![self.emit(Instr::Jmp { target: Target(0) })],
            ExprKind::Bool(_) => return Vec::new(),
            ExprKind::Unary(UnOp::Not, inner) => return self.cond_jump(inner, !when),
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), l, r) => {
                // `a && b` jumps on false if either is false; on true only if both are.
                let short_on = *op == BinOp::Or;
                if when == short_on {
                    let mut jumps = self.cond_jump(l, when);
                    jumps.extend(self.cond_jump(r, when));
                    return jumps;
                }
                let skip = self.cond_jump(l, !when);
                let jumps = self.cond_jump(r, when);
                self.patch_here(skip);
                return jumps;
            }
            ExprKind::Binary(op, l, r) if op.is_comparison() => {
                let a = self.expr(l, None, None);
                if a.ty == Ty::Int {
                    return self.int_compare_jump(*op, a, r, when, cond.span);
                }
                let v = self.comparison(*op, a, r, cond.span, None);
                return self.jump_on_bool(v, cond.span, when);
            }
            _ => {}
        }
        let v = self.expr(cond, Some(&Ty::Bool), None);
        self.jump_on_bool(v, cond.span, when)
    }

    fn jump_on_bool(&mut self, v: Val, span: Span, when: bool) -> Vec<usize> {
        if !v.ty.fits(&Ty::Bool) {
            self.cx.mismatch(span, &Ty::Bool, &v.ty);
        }
        self.release(&v);
        let at = if when {
            self.emit(Instr::JmpIf { cond: v.r(), target: Target(0) })
        } else {
            self.emit(Instr::JmpIfNot { cond: v.r(), target: Target(0) })
        };
        vec![at]
    }

    /// A fused compare-and-branch on an int left operand `a`.
    fn int_compare_jump(&mut self, op: BinOp, a: Val, r: &Expr, when: bool, span: Span) -> Vec<usize> {
        let op = if when { op } else { negate(op) };
        let a = self.protect(a, &[r]);
        // Against a small literal, compare with an immediate.
        if let ExprKind::Int(k) = r.kind {
            if let Ok(imm) = i16::try_from(k) {
                let saved = self.pos;
                self.pos = span;
                let (a_r, imm, t) = (a.r(), Imm(i32::from(imm)), Target(0));
                let at = self.emit(match op {
                    BinOp::Eq => Instr::JeqImm { a: a_r, imm, target: t },
                    BinOp::Ne => Instr::JneImm { a: a_r, imm, target: t },
                    BinOp::Lt => Instr::JltImm { a: a_r, imm, target: t },
                    BinOp::Le => Instr::JleImm { a: a_r, imm, target: t },
                    BinOp::Gt => Instr::JgtImm { a: a_r, imm, target: t },
                    _ => Instr::JgeImm { a: a_r, imm, target: t },
                });
                self.pos = saved;
                self.release(&a);
                return vec![at];
            }
        }
        let b = self.expr(r, Some(&Ty::Int), None);
        let saved = self.pos;
        self.pos = span;
        if !b.ty.fits(&Ty::Int) {
            self.cx.mismatch(r.span, &Ty::Int, &b.ty);
        }
        let (a_r, b_r, t) = (a.r(), b.r(), Target(0));
        let at = self.emit(match op {
            BinOp::Eq => Instr::JeqI { a: a_r, b: b_r, target: t },
            BinOp::Ne => Instr::JneI { a: a_r, b: b_r, target: t },
            BinOp::Lt => Instr::JltI { a: a_r, b: b_r, target: t },
            BinOp::Le => Instr::JleI { a: a_r, b: b_r, target: t },
            BinOp::Gt => Instr::JgtI { a: a_r, b: b_r, target: t },
            _ => Instr::JgeI { a: a_r, b: b_r, target: t },
        });
        self.pos = saved;
        self.release(&a);
        self.release(&b);
        vec![at]
    }

    /// `if cond { then } else { els }`
    pub fn if_expr(
        &mut self,
        cond: &Expr,
        then: &Block,
        els: Option<&Expr>,
        expect: Option<&Ty>,
        dst: Option<Reg>,
    ) -> Val {
        let to_else = self.cond_jump(cond, false);
        let Some(els) = els else {
            let v = self.block(then, Some(&Ty::Unit), None);
            self.release(&v);
            if !matches!(v.ty, Ty::Unit | Ty::Never | Ty::Error) {
                let t = self.cx.items.type_name(&v.ty);
                self.cx.error(
                    then.tail.as_ref().map_or(then.span, |t| t.span),
                    format!("`if` without `else` cannot produce a value (found `{t}`); add an `else` branch or a `;`"),
                );
                self.patch_here(to_else);
                return Val::error();
            }
            self.patch_here(to_else);
            return Val::none(Ty::Unit);
        };
        let then_v = self.block(then, expect, dst);
        let result_reg = match then_v.reg {
            Some(_) if dst.is_some() => dst,
            Some(_) => {
                let r = self.target(&then_v.ty.clone(), None);
                self.finish_val(then_v.clone(), r);
                r
            }
            None => None,
        };
        let over = self.emit(Instr::Jmp { target: Target(0) });
        self.patch_here(to_else);
        let want = if then_v.ty == Ty::Never { expect.cloned() } else { Some(then_v.ty.clone()) };
        let else_dst = result_reg.or(dst);
        let else_v = self.expr(els, want.as_ref().or(expect), else_dst);
        let (ty, reg) = match (&then_v.ty, &else_v.ty) {
            (Ty::Never, _) => {
                // Only the else branch produces a value; it is already where it goes.
                let v = if else_dst.is_none() {
                    let r = self.target(&else_v.ty.clone(), None);
                    self.finish_val(else_v.clone(), r)
                } else {
                    else_v.clone()
                };
                (else_v.ty.clone(), v.reg)
            }
            (t, Ty::Never) => (t.clone(), result_reg),
            (t, e) => {
                if !e.fits(t) && !t.fits(e) {
                    self.cx.error(
                        els.span,
                        format!(
                            "`if` and `else` have different types: `{}` and `{}`",
                            self.cx.items.type_name(t),
                            self.cx.items.type_name(e)
                        ),
                    );
                }
                if let Some(r) = result_reg {
                    self.finish_val(else_v.clone(), Some(r));
                }
                (t.clone(), result_reg)
            }
        };
        self.patch(over, self.here());
        Val { temp: reg.is_some() && dst.is_none(), ty, reg }
    }

    /// `while cond { body }`, rotated: one test before the loop, and the back-edge is a
    /// conditional branch after the body, so an iteration dispatches no extra jump.
    pub fn while_loop(&mut self, cond: &Expr, body: &Block) -> Val {
        let exit = self.cond_jump(cond, false);
        let top = self.here();
        self.loop_body(body, top, |f| {
            // The condition was already checked above; do not report its errors twice.
            let n_errors = f.cx.errors.len();
            let back = f.cond_jump(cond, true);
            f.cx.errors.truncate(n_errors);
            back
        });
        self.patch_here(exit);
        Val::none(Ty::Unit)
    }

    /// `for var in a..b { body }` and `for var in array { body }`
    pub fn for_loop(&mut self, var: &Ident, iter: &Expr, body: &Block) -> Val {
        self.push_scope();
        if let ExprKind::Range(from, to) = &iter.kind {
            let i = self.fresh(ValType::Int);
            let end = self.fresh(ValType::Int);
            let a = self.expr(from, Some(&Ty::Int), Some(i));
            let b = self.expr(to, Some(&Ty::Int), Some(end));
            for (v, e) in [(&a, from), (&b, to)] {
                if !v.ty.fits(&Ty::Int) {
                    self.cx.mismatch(e.span, &Ty::Int, &v.ty);
                }
            }
            let exit = self.emit(Instr::JgeI { a: i, b: end, target: Target(0) });
            let top = self.here();
            // The variable is immutable in the body, so it can be the counter itself.
            self.declare(&var.name, Local { reg: Some(i), ty: Ty::Int, mutable: false });
            self.loop_body(body, top, |f| {
                f.emit(Instr::AddImm { dst: i, a: i, imm: Imm(1) });
                vec![f.emit(Instr::JltI { a: i, b: end, target: Target(0) })]
            });
            self.patch_here(vec![exit]);
        } else {
            let arr = self.expr(iter, None, None);
            let elem_ty = match &arr.ty {
                Ty::Array(elem) => (**elem).clone(),
                Ty::Error => Ty::Error,
                other => {
                    let t = self.cx.items.type_name(other);
                    self.cx.error(
                        iter.span,
                        format!("cannot iterate over `{t}`; expected an array or a range `a..b`"),
                    );
                    Ty::Error
                }
            };
            // Keep the array in a register of its own for the whole loop.
            let arr_reg = match (arr.temp, arr.reg, self.cx.b.val_type(&arr.ty)) {
                (false, Some(r), Some(vt)) => {
                    let own = self.fresh(vt);
                    self.emit(Instr::Mov { dst: own, src: r });
                    own
                }
                _ => arr.r(),
            };
            let idx = self.fresh(ValType::Int);
            let len = self.fresh(ValType::Int);
            self.emit(Instr::LoadI { dst: idx, imm: Imm(0) });
            self.emit(Instr::ArrayLen { dst: len, arr: arr_reg });
            let exit = self.emit(Instr::JgeI { a: idx, b: len, target: Target(0) });
            let top = self.here();
            let elem_reg = self.cx.b.val_type(&elem_ty).map(|vt| self.fresh(vt));
            if let Some(e) = elem_reg {
                self.emit(Instr::ArrayGet { dst: e, arr: arr_reg, idx });
            }
            self.declare(&var.name, Local { reg: elem_reg, ty: elem_ty, mutable: false });
            self.loop_body(body, top, |f| {
                f.emit(Instr::AddImm { dst: idx, a: idx, imm: Imm(1) });
                // The body may change the array's length: read it again each time.
                f.emit(Instr::ArrayLen { dst: len, arr: arr_reg });
                vec![f.emit(Instr::JltI { a: idx, b: len, target: Target(0) })]
            });
            self.patch_here(vec![exit]);
        }
        self.pop_scope();
        Val::none(Ty::Unit)
    }

    /// A loop body, then `back_edge` (which emits the step and the branches that jump
    /// back to `top`); `continue` goes to the back-edge, `break` past it.
    fn loop_body(&mut self, body: &Block, top: usize, back_edge: impl FnOnce(&mut Self) -> Vec<usize>) {
        self.loop_depth += 1;
        self.loops.push(LoopCtx::default());
        let v = self.block(body, Some(&Ty::Unit), None);
        self.release(&v);
        let ctx = self.loops.pop().expect("loop");
        self.patch_here(ctx.continues);
        for j in back_edge(self) {
            self.patch(j, top);
        }
        self.loop_depth -= 1;
        self.patch_here(ctx.breaks);
    }
}

/// The comparison that is true exactly when `op` is false (ints only: no NaN).
fn negate(op: BinOp) -> BinOp {
    match op {
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        BinOp::Lt => BinOp::Ge,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        _ => BinOp::Lt,
    }
}
