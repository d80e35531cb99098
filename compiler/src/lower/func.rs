//! Per-function lowering state: registers, locals, loops, code and line table; and the
//! statement and control-flow forms.

use super::hoist::{HoistKey, Hoisting};
use super::Cx;
use crate::sema::consts::ConstVal;
use crate::sema::types::Ty;
use crate::syntax::ast::{BinOp, UnOp};
use crate::syntax::span::Span;
use crate::tir::{self, ExprKind, LocalDecl, LocalId, Stmt};
use kiln_bytecode::limits::{MAX_CODE_LEN, MAX_REGS};
use kiln_bytecode::*;
use std::collections::HashMap;

/// A value produced by an expression.
#[derive(Debug, Clone)]
pub(crate) struct Val {
    /// Its type.
    pub ty: Ty,
    /// Where it is; `None` for unit and never values.
    pub reg: Option<Reg>,
    /// Whether `reg` is a temporary the consumer should release.
    pub temp: bool,
}

impl Val {
    pub fn none(ty: Ty) -> Val {
        Val { ty, reg: None, temp: false }
    }

    /// The register (register 0 for a value that never exists: unreachable code).
    pub fn r(&self) -> Reg {
        self.reg.unwrap_or_default()
    }
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
    /// Each local's type and register (once declared).
    locals: Vec<(Ty, Option<Reg>)>,
    /// Whether each local lives in a cell (its register holds the cell).
    boxed: Vec<bool>,
    pub loops: Vec<LoopCtx>,
    pub ret: Ty,
    name: String,
    /// How many loops (bodies or back-edge tests) enclose the code being lowered.
    pub loop_depth: usize,
    /// The current values of the places being assigned by compound assignments.
    pub place_values: Vec<Reg>,
    /// Whether constants used inside loops are loaded once, at the start.
    pub(super) hoisting: Hoisting,
    /// Whether the code being emitted is unreachable (see [`FnLowerer::emit`]).
    dead: bool,
    /// Hoisted constants and their registers.
    pub(super) hoisted: HashMap<HoistKey, Reg>,
    /// Constants hoisted by a probing pass, in first-use order.
    pub(super) hoist_order: Vec<ConstVal>,
}

impl<'c, 'a> FnLowerer<'c, 'a> {
    pub fn new(cx: &'c mut Cx<'a>, name: String, ret: Ty, locals: &[LocalDecl], pos: Span) -> Self {
        FnLowerer {
            cx,
            regs: Vec::new(),
            free: HashMap::new(),
            code: Vec::new(),
            lines: Vec::new(),
            last_pos: (0, 0),
            pos,
            locals: locals.iter().map(|l| (l.ty.clone(), None)).collect(),
            boxed: locals.iter().map(|l| l.boxed).collect(),
            loops: Vec::new(),
            ret,
            name,
            loop_depth: 0,
            place_values: Vec::new(),
            hoisting: Hoisting::Off,
            dead: false,
            hoisted: HashMap::new(),
            hoist_order: Vec::new(),
        }
    }

    /// Lowers one function or method; twice if its loops use constants (`hoist.rs`).
    pub fn lower_fn(cx: &'c mut Cx<'a>, name: &str, inst: usize, body: &tir::Body, span: Span) -> Function {
        let (mut f, sig) = FnLowerer::with_params(&mut *cx, name, inst, body, span);
        f.hoisting = Hoisting::Probe;
        f.return_expr(&body.expr);
        if f.hoist_order.is_empty() {
            return f.finish(sig, span);
        }
        let constants = std::mem::take(&mut f.hoist_order);
        drop(f);
        let (mut f, sig) = FnLowerer::with_params(cx, name, inst, body, span);
        f.load_hoisted(&constants);
        f.return_expr(&body.expr);
        f.finish(sig, span)
    }

    /// A lowerer for instance `inst` with `body`, whose parameters have their registers
    /// (a closure's first: the closure itself), whose captures are loaded from the
    /// closure, and whose parameters shared with closures are in cells; and its
    /// signature.
    fn with_params(
        cx: &'c mut Cx<'a>,
        name: &str,
        inst: usize,
        body: &tir::Body,
        span: Span,
    ) -> (Self, Signature) {
        let sig = cx.sigs[inst].clone();
        let mut f = FnLowerer::new(cx, name.to_string(), body.ret.clone(), &body.locals, span);
        let env = body.closure.map(|_| f.fresh(sig.params[0]));
        for i in 0..body.n_params {
            let ty = body.locals[i].ty.clone();
            if let Some(vt) = f.cx.b.val_type(&ty) {
                let r = f.fresh(vt);
                f.locals[i].1 = Some(r);
            }
        }
        if let (Some(env), Some(n)) = (env, body.closure) {
            for j in 0..n {
                let id = body.n_params + j;
                let vt = f.cx.local_type(&body.locals[id]);
                let r = f.fresh(vt);
                f.emit(Instr::GetField { dst: r, obj: env, field: FieldIdx(j as u32) });
                f.locals[id].1 = Some(r);
            }
        }
        for i in 0..body.n_params {
            if let (true, Some(value)) = (body.locals[i].boxed, f.locals[i].1) {
                let cell = f.new_cell(value);
                f.locals[i].1 = Some(cell);
            }
        }
        (f, sig)
    }

    /// A new cell holding the value in `value`, for a local shared with closures.
    pub fn new_cell(&mut self, value: Reg) -> Reg {
        let vt = self.regs[value.index()];
        let cell_ty = self.cx.b.cell_type(vt);
        let slot = self.fresh(vt);
        self.emit(Instr::Mov { dst: slot, src: value });
        let cell = self.alloc(ValType::Ref(cell_ty));
        self.emit(Instr::NewStruct { dst: cell, ty: cell_ty, args: slot });
        self.release_reg(slot);
        cell
    }

    /// Lowers a function's final expression: every path ends in its own `Ret`, and a
    /// final `if` returns from each branch instead of joining first.
    fn return_expr(&mut self, e: &tir::Expr) {
        match &e.kind {
            ExprKind::If(cond, then, Some(els)) if self.ret != Ty::Unit => {
                let to_else = self.cond_jump(cond, false);
                self.return_expr(then);
                self.patch_here(to_else);
                self.return_expr(els);
            }
            ExprKind::Block(b) => {
                let declared = self.stmts(&b.stmts);
                match &b.tail {
                    Some(tail) => self.return_expr(tail),
                    None => {
                        self.pos = b.end;
                        if e.ty == Ty::Never {
                            self.emit(Instr::Unreachable {});
                        } else {
                            self.emit(Instr::RetVoid {});
                        }
                    }
                }
                self.release_locals(&declared);
            }
            _ => {
                let v = self.expr(e, None);
                let saved = self.pos;
                self.pos = e.span;
                match (&v.ty, self.ret == Ty::Unit) {
                    (Ty::Never, _) => self.emit(Instr::Unreachable {}),
                    (_, true) => self.emit(Instr::RetVoid {}),
                    _ => self.emit(Instr::Ret { src: v.r() }),
                };
                self.pos = saved;
                self.release(&v);
            }
        }
    }

    /// A `<init>` function, which initialises globals; `locals` are those declared in
    /// initialisers.
    pub fn new_start(cx: &'c mut Cx<'a>, locals: &[LocalDecl]) -> Self {
        FnLowerer::new(cx, "<init>".into(), Ty::Unit, locals, Span::default())
    }

    /// Lowers global `idx`'s initialiser into the `<init>` function being built.
    pub fn store_global(&mut self, idx: GlobalIdx, init: &tir::Expr) {
        let v = self.expr(init, None);
        if let Some(src) = v.reg {
            self.emit(Instr::SetGlobal { global: idx, src });
        }
        self.release(&v);
    }

    pub fn finish_start(mut self) -> Function {
        self.emit(Instr::RetVoid {});
        self.finish(Signature { params: Vec::new(), result: None }, Span::default())
    }

    /// Points every branch that lands on an unconditional `Jmp` at where that jump goes
    /// (through a short chain of them), so leaving nested matches, ifs and loop bodies
    /// takes one jump instead of one per level.
    fn thread_jumps(&mut self) {
        for pc in 0..self.code.len() {
            let Some(first) = self.code[pc].branch_target() else { continue };
            let mut t = first;
            for _ in 0..8 {
                match self.code[t.index()] {
                    Instr::Jmp { target } if target != t => t = target,
                    _ => break,
                }
            }
            if t != first {
                self.patch(pc, t.index());
            }
        }
    }

    fn finish(mut self, sig: Signature, span: Span) -> Function {
        self.thread_jumps();
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

    /// A temporary for a value of type `ty`, or `dst` if given; nothing for a type
    /// without values (a call that returns nothing names no result register, even
    /// where the caller wanted its value somewhere: it never produces one).
    pub fn target(&mut self, ty: &Ty, dst: Option<Reg>) -> Option<Reg> {
        let vt = self.cx.b.val_type(ty)?;
        if dst.is_some() {
            return dst;
        }
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

    /// Lowers `e` for its effects and drops its value; returns its type.
    pub fn discard(&mut self, e: &tir::Expr) -> Ty {
        let v = self.expr(e, None);
        self.release(&v);
        v.ty
    }

    /// Keeps an already evaluated operand `v` safe from `later`, the operands still to be
    /// evaluated: if `v` is a variable's own register and `later` may assign a variable,
    /// `v` is copied to a temporary first (operands are evaluated left to right).
    pub fn protect(&mut self, v: Val, later: &[&tir::Expr]) -> Val {
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

    /// Appends an instruction, recording its source position. Code after a terminator
    /// that no branch targets yet cannot run (`f(return)` evaluates no call): it is
    /// emitted in a harmless form, since its operands may be registers that a value which
    /// never exists did not fill. Branches stay branches, so they can still be patched.
    pub fn emit(&mut self, instr: Instr) -> usize {
        let instr = if self.dead {
            match instr.branch_target() {
                Some(target) => Instr::Jmp { target },
                None if is_terminator(&instr) => Instr::Unreachable {},
                None => Instr::Nop {},
            }
        } else {
            instr
        };
        self.dead |= is_terminator(&instr);
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

    /// Code from here on can run although it follows a terminator: branches not yet
    /// emitted or patched will reach it (a `Switch`'s table).
    pub fn mark_reachable(&mut self) {
        self.dead = false;
    }

    /// The index the next instruction will have.
    pub fn here(&self) -> usize {
        self.code.len()
    }

    /// Points the branch at `at` to `target`.
    pub fn patch(&mut self, at: usize, target: usize) {
        if target == self.code.len() {
            // A branch lands on the next instruction: it can run.
            self.dead = false;
        }
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
            | Instr::JgeImm { target, .. }
            | Instr::JmpIfNone { target, .. }
            | Instr::JmpIfSome { target, .. } => *target = t,
            _ => unreachable!("patching a non-branch"),
        }
    }

    pub fn patch_here(&mut self, jumps: Vec<usize>) {
        let here = self.here();
        // A branch lands here: what follows can run.
        if !jumps.is_empty() {
            self.dead = false;
        }
        for j in jumps {
            self.patch(j, here);
        }
    }

    // ----- Locals -----

    /// Gives local `id` a register (if its type has values) and returns it.
    pub fn bind(&mut self, id: LocalId, reg: Option<Reg>) {
        self.locals[id.0 as usize].1 = reg;
    }

    /// A fresh or recycled register for local `id`.
    pub fn local_target(&mut self, id: LocalId) -> Option<Reg> {
        let ty = self.locals[id.0 as usize].0.clone();
        self.cx.b.val_type(&ty).map(|vt| self.alloc(vt))
    }

    /// Whether local `id` lives in a cell.
    pub fn is_boxed(&self, id: LocalId) -> bool {
        self.boxed[id.0 as usize]
    }

    /// Local `id`'s type and register.
    pub fn local(&self, id: LocalId) -> (Ty, Option<Reg>) {
        self.locals[id.0 as usize].clone()
    }

    /// Ends the scope of `ids`: their registers become free for reuse.
    pub fn release_locals(&mut self, ids: &[LocalId]) {
        for &id in ids {
            if let Some(r) = self.locals[id.0 as usize].1 {
                self.release_reg(r);
            }
        }
    }

    // ----- Blocks and statements -----

    /// Lowers statements; returns the locals they declared.
    fn stmts(&mut self, stmts: &[Stmt]) -> Vec<LocalId> {
        let mut declared = Vec::new();
        for s in stmts {
            match s {
                Stmt::Let(id, init) => {
                    self.let_stmt(*id, init);
                    declared.push(*id);
                }
                Stmt::Expr(e) => {
                    self.discard(e);
                }
            }
        }
        declared
    }

    /// `{ stmts; tail }`: the tail's value, or nothing.
    pub fn block(&mut self, b: &tir::Block, dst: Option<Reg>) -> Val {
        let declared = self.stmts(&b.stmts);
        let v = match &b.tail {
            Some(tail) => self.expr(tail, dst),
            None => Val::none(Ty::Unit),
        };
        // A tail value held in a block-local register must outlive the block.
        let v = match (&v.reg, v.temp) {
            (Some(r), false) if dst.is_none() && declared.iter().any(|&id| self.local(id).1 == Some(*r)) => {
                let out = self.target(&v.ty.clone(), None);
                if let Some(o) = out {
                    self.emit(Instr::Mov { dst: o, src: *r });
                }
                Val { ty: v.ty.clone(), reg: out, temp: true }
            }
            _ => v,
        };
        self.release_locals(&declared);
        v
    }

    /// `let x = init;`: the variable's register is chosen first and the value computed
    /// straight into it.
    fn let_stmt(&mut self, id: LocalId, init: &tir::Expr) {
        let saved = self.pos;
        if self.is_boxed(id) {
            // A cell around the value, which closures share.
            let v = self.expr(init, None);
            let cell = v.reg.map(|r| self.new_cell(r));
            self.release(&v);
            self.pos = saved;
            self.bind(id, cell);
            return;
        }
        let dst = self.local_target(id);
        self.expr(init, dst);
        self.pos = saved;
        self.bind(id, dst);
    }

    // ----- Control flow -----

    /// Emits jumps taken when `cond` evaluates to `when`; returns them for patching.
    pub fn cond_jump(&mut self, cond: &tir::Expr, when: bool) -> Vec<usize> {
        match &cond.kind {
            // `while true`: the test never fails, and its back-edge is a plain jump.
            ExprKind::Const(crate::sema::consts::ConstVal::Bool(b)) => {
                return if *b == when {
                    vec![self.emit(Instr::Jmp { target: Target(0) })]
                } else {
                    Vec::new()
                };
            }
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
            ExprKind::Binary(op, l, r) if op.is_comparison() && l.ty == Ty::Int => {
                let a = self.expr(l, None);
                return self.int_compare_jump(*op, a, r, when, cond.span);
            }
            _ => {}
        }
        let v = self.expr(cond, None);
        self.release(&v);
        let at = if when {
            self.emit(Instr::JmpIf { cond: v.r(), target: Target(0) })
        } else {
            self.emit(Instr::JmpIfNot { cond: v.r(), target: Target(0) })
        };
        vec![at]
    }

    /// A fused compare-and-branch on an int left operand `a`.
    fn int_compare_jump(&mut self, op: BinOp, a: Val, r: &tir::Expr, when: bool, span: Span) -> Vec<usize> {
        let op = if when { op } else { negate(op) };
        let a = self.protect(a, &[r]);
        let saved = self.pos;
        // Against a small constant, compare with an immediate.
        if let Some(imm) = small_int(r) {
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
        let b = self.expr(r, None);
        self.pos = span;
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
    pub fn if_expr(&mut self, e: &tir::Expr, dst: Option<Reg>) -> Val {
        let ExprKind::If(cond, then, els) = &e.kind else { unreachable!("an if") };
        let to_else = self.cond_jump(cond, false);
        let Some(els) = els else {
            self.discard(then);
            self.patch_here(to_else);
            return Val::none(Ty::Unit);
        };
        let has_value = self.cx.b.val_type(&e.ty).is_some();
        let then_v = self.expr(then, dst);
        let result_reg = match then_v.reg {
            Some(_) if !has_value => {
                self.release(&then_v);
                None
            }
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
        let else_dst = if has_value { result_reg.or(dst) } else { None };
        let else_v = self.expr(els, else_dst);
        let reg = match (&then_v.ty, &else_v.ty) {
            _ if !has_value => {
                self.release(&else_v);
                None
            }
            (Ty::Never, _) => {
                // Only the else branch produces a value; it is already where it goes.
                if else_dst.is_none() {
                    let r = self.target(&else_v.ty.clone(), None);
                    self.finish_val(else_v, r).reg
                } else {
                    else_v.reg
                }
            }
            (_, Ty::Never) => result_reg,
            _ => {
                if let Some(r) = result_reg {
                    self.finish_val(else_v, Some(r));
                }
                result_reg
            }
        };
        self.patch(over, self.here());
        Val { temp: reg.is_some() && dst.is_none(), ty: e.ty.clone(), reg }
    }

    /// `while cond { body }`, rotated: one test before the loop, and the back-edge is a
    /// conditional branch after the body, so an iteration dispatches no extra jump.
    pub fn while_loop(&mut self, cond: &tir::Expr, body: &tir::Expr) -> Val {
        let exit = self.cond_jump(cond, false);
        let top = self.here();
        self.loop_body(body, top, |f| f.cond_jump(cond, true));
        self.patch_here(exit);
        Val::none(Ty::Unit)
    }

    /// `for var in a..b { body }`
    pub fn for_range(&mut self, var: LocalId, from: &tir::Expr, to: &tir::Expr, body: &tir::Expr) -> Val {
        let i = self.fresh(ValType::Int);
        let end = self.fresh(ValType::Int);
        self.expr(from, Some(i));
        self.expr(to, Some(end));
        let exit = self.emit(Instr::JgeI { a: i, b: end, target: Target(0) });
        let top = self.here();
        // The variable is immutable in the body, so it can be the counter itself.
        self.bind(var, Some(i));
        self.loop_body(body, top, |f| {
            f.emit(Instr::AddImm { dst: i, a: i, imm: Imm(1) });
            vec![f.emit(Instr::JltI { a: i, b: end, target: Target(0) })]
        });
        self.patch_here(vec![exit]);
        self.release_reg(i);
        self.release_reg(end);
        Val::none(Ty::Unit)
    }

    /// `for var in array { body }`
    pub fn for_array(&mut self, var: LocalId, iter: &tir::Expr, body: &tir::Expr) -> Val {
        let arr = self.expr(iter, None);
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
        let elem_ty = self.local(var).0;
        let elem_reg = self.cx.b.val_type(&elem_ty).map(|vt| self.fresh(vt));
        if let Some(e) = elem_reg {
            self.array_get(&elem_ty, arr_reg, idx, Some(e));
        }
        self.bind(var, elem_reg);
        self.loop_body(body, top, |f| {
            f.emit(Instr::AddImm { dst: idx, a: idx, imm: Imm(1) });
            // The body may change the array's length: read it again each time.
            f.emit(Instr::ArrayLen { dst: len, arr: arr_reg });
            vec![f.emit(Instr::JltI { a: idx, b: len, target: Target(0) })]
        });
        self.patch_here(vec![exit]);
        for r in [Some(arr_reg), Some(idx), Some(len), elem_reg].into_iter().flatten() {
            self.release_reg(r);
        }
        Val::none(Ty::Unit)
    }

    /// A loop body, then `back_edge` (which emits the step and the branches that jump
    /// back to `top`); `continue` goes to the back-edge, `break` past it.
    fn loop_body(&mut self, body: &tir::Expr, top: usize, back_edge: impl FnOnce(&mut Self) -> Vec<usize>) {
        self.loop_depth += 1;
        self.loops.push(LoopCtx::default());
        self.discard(body);
        let ctx = self.loops.pop().expect("loop");
        self.patch_here(ctx.continues);
        for j in back_edge(self) {
            self.patch(j, top);
        }
        self.loop_depth -= 1;
        self.patch_here(ctx.breaks);
    }
}

fn is_terminator(instr: &Instr) -> bool {
    instr.opcode().info().flags & kiln_bytecode::isa::flags::TERMINATOR != 0
}

/// A constant int operand that fits an instruction's 16-bit immediate.
pub fn small_int(e: &tir::Expr) -> Option<i16> {
    match e.kind {
        ExprKind::Const(crate::sema::consts::ConstVal::Int(k)) => i16::try_from(k).ok(),
        _ => None,
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
