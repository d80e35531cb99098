//! Inlining small leaf callees at direct call sites.
//!
//! A callee qualifies when it is small and reaches no safepoint
//! (`instr::reaches_safepoint`): nothing can observe its registers or its frame while it
//! runs but a trap or a loop's fuel check. When neither it nor the caller has reference
//! slots it may also make direct calls (no slot of either is a GC root, so a call needs
//! only the frames): that inlines one level of a recursive function into itself. The call site first makes the checks the
//! callee's entry would (room for a frame, room in the register file, fuel and
//! interrupt); if any fails it
//! calls the callee normally, whose entry then grows the stacks or traps exactly as it
//! always does. Otherwise the callee's body runs in the caller's code on the callee's own
//! variables, charging fuel per block as a call would. It pushes no frame: the frames a
//! call would have (the caller's at its call instruction, the callee's on top) are written
//! only on the way to a trap or a loop's fuel check (and taken down again when the check
//! lets it continue), so traces and fuel are the same in every tier.

use super::*;

/// Most instructions a callee may have to be inlined.
const MAX_CALLEE_INSTRS: usize = 40;

/// Most implementations an interface call site may have to be inlined.
const MAX_SITE_TARGETS: usize = 4;

/// Most callee instructions inlined into one function.
pub(super) const BUDGET: usize = 2_000;

/// Where an inlined callee returns to, and what its traps write first.
#[derive(Clone, Copy)]
pub(super) struct Inlined {
    /// The caller's call instruction.
    call_pc: usize,
    /// The block after the inlined body; takes the result, if any, as its parameter.
    cont: Block,
}

impl<'a, M: Module> Tx<'a, '_, M> {
    /// Whether a direct call of `callee` from here is inlined.
    pub(super) fn inlinable(&self, callee: u32) -> bool {
        let (Some(pf), Some(bf)) =
            (self.pm.funcs.get(callee as usize), self.pm.bytecode.funcs.get(callee as usize))
        else {
            return false;
        };
        // Without references on either side, a callee's calls need nothing of it or of
        // the caller but its frame, written before each (`Tx::call_out`): no slot of
        // either is a root. That inlines one level of recursion into itself.
        let ref_free = self.f.pf.refs_end == 0 && pf.refs_end == 0;
        let safepoints_allowed = |op: &Op| {
            !instr::reaches_safepoint(op) || (ref_free && matches!(op, Op::Call { .. } | Op::CallFar { .. }))
        };
        self.f.inline.is_none()
            && matches!(self.f.refs, RefCopies::Vars(_))
            && bf.code.len() <= MAX_CALLEE_INSTRS.min(self.inline_budget)
            && bf.sig.result.is_none_or(|t| t.width() == 1)
            && pf.code.iter().all(safepoints_allowed)
    }

    /// Lowers the call at `pc` of `callee` ([`Tx::inlinable`]): arguments at `args`,
    /// result to `dst`.
    pub(super) fn inline_call(&mut self, pc: usize, instr: &Instr, dst: u16, args: u16, callee: u32) {
        let pm = self.pm;
        let (gpf, gbf) = (&pm.funcs[callee as usize], &pm.bytecode.funcs[callee as usize]);
        self.inline_budget -= gbf.code.len();
        self.calls_inlined += 1;
        let slow = self.b.create_block();
        let fast = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(slow);

        // The callee's entry checks (the prologue's, `Tx::prologue`, and its limit check).
        let top = self.ctx_load(off::FRAME_TOP);
        let end = self.ctx_load(off::FRAMES_END);
        let full = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, top, end);
        let need = self.b.ins().iadd_imm_s(self.f.base, i64::from(args) + gpf.n_regs as i64);
        let len = self.ctx_load(off::REGS_LEN);
        let short = self.b.ins().icmp(IntCC::UnsignedGreaterThan, need, len);
        let interrupt = self.ctx_load_fixed(off::INTERRUPT);
        let floor = self.b.ins().load(types::I64, trusted(), interrupt, 0);
        let fuel = self.b.use_var(self.fuel);
        let low = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, fuel, floor);
        let room = self.b.ins().bor(full, short);
        let any = self.b.ins().bor(room, low);
        self.b.ins().brif(any, slow, &[], fast, &[]);

        // Otherwise a call, which deals with whichever failed.
        self.b.switch_to_block(slow);
        self.call_out(pc, instr, dst, args, Callee::Known(callee));
        self.b.ins().jump(done, &[]);

        self.b.switch_to_block(fast);
        let window = self.window_slots(instr, Callee::Known(callee));
        let arg_values: Vec<Value> = (0..window as u16).map(|j| self.get(args + j)).collect();
        let caller_regs = self.b.use_var(self.f.regs);
        let base = self.b.ins().iadd_imm_s(self.f.base, i64::from(args));
        let cont = self.b.create_block();
        let result_ty = match gbf.sig.result {
            Some(ValType::Float) => Some(types::F64),
            Some(_) => Some(types::I64),
            None => None,
        };
        if let Some(ty) = result_ty {
            self.b.append_block_param(cont, ty);
        }
        let mut callee_state = FnState::new(&mut self.b, pm, callee, base, base);
        callee_state.inline = Some(Inlined { call_pc: pc, cont });
        self.swap_state(&mut callee_state);
        let regs = self.b.ins().iadd_imm_s(caller_regs, i64::from(args) * 8);
        self.b.def_var(self.f.regs, regs);
        for s in 0..self.f.kinds.len() {
            let v = match arg_values.get(s) {
                Some(&v) => v,
                None if self.f.kinds[s] == Kind::Float => self.b.ins().f64const(0.0),
                None => self.iconst(0),
            };
            if self.f.kinds[s] == Kind::Ref {
                self.copy_ref(s as u16, v);
            } else if let Some(var) = self.f.vars[s] {
                let v = self.as_type(v, self.ty(s as u16));
                self.b.def_var(var, v);
            }
        }
        let first = self.block_at(0);
        self.b.ins().jump(first, &[]);
        self.body();
        self.swap_state(&mut callee_state);

        // Back in the caller, as after a call (`Tx::call_out`).
        self.b.switch_to_block(cont);
        let dst_slots = self.dst_slots(instr);
        self.clear_leftovers(args as usize, dst_slots);
        if let (Some(_), Some((first, 1))) = (result_ty, dst_slots) {
            let v = self.b.block_params(cont)[0];
            self.set(first as u16, v);
        }
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
    }

    /// The implementations an interface call site may run, by object type, when there are
    /// few and each can be inlined.
    pub(super) fn inlinable_site(&self, site: u16) -> Option<Vec<(u32, u32)>> {
        let targets = self.pm.dispatch.implementations(site);
        let size: usize = targets.iter().map(|&(_, f)| self.pm.bytecode.funcs[f as usize].code.len()).sum();
        let fits = !targets.is_empty() && targets.len() <= MAX_SITE_TARGETS && size <= self.inline_budget;
        (fits && targets.iter().all(|&(_, f)| self.inlinable(f))).then_some(targets)
    }

    /// Lowers interface call site `site` at `pc` ([`Tx::inlinable_site`]): a test of the
    /// receiver's type per implementation, each inlined; a receiver of any other type
    /// (which the verifier rules out) is called through the site as usual.
    pub(super) fn inline_iface_call(
        &mut self,
        pc: usize,
        instr: &Instr,
        dst: u16,
        args: u16,
        site: u16,
        targets: &[(u32, u32)],
    ) {
        let recv = self.get_bits(args);
        let desc = self.b.ins().load(types::I64, trusted(), recv, 0);
        let ty = self.b.ins().uload32(trusted(), desc, DESC_TY);
        let done = self.b.create_block();
        for &(t, func) in targets {
            let case = self.b.create_block();
            let next = self.b.create_block();
            let is_t = self.b.ins().icmp_imm_s(IntCC::Equal, ty, i64::from(t));
            self.b.ins().brif(is_t, case, &[], next, &[]);
            self.b.switch_to_block(case);
            self.inline_call(pc, instr, dst, args, func);
            self.b.ins().jump(done, &[]);
            self.b.switch_to_block(next);
        }
        self.call_out(pc, instr, dst, args, Callee::Iface(site));
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
    }

    /// An inlined callee's return: to the caller's code after the call.
    pub(super) fn inline_return(&mut self, inlined: Inlined, values: &[Value]) {
        let params = self.b.func.dfg.block_params(inlined.cont).to_vec();
        let args: Vec<ir::BlockArg> = params
            .iter()
            .zip(values)
            .map(|(&p, &v)| {
                let ty = self.b.func.dfg.value_type(p);
                self.as_type(v, ty).into()
            })
            .collect();
        self.b.ins().jump(inlined.cont, &args);
    }

    /// Before a trap in an inlined callee: writes the frames a call would have had, the
    /// caller's at its call instruction and the callee's on top (the trap helper writes
    /// its pc). The entry checks made room for the frame.
    pub(super) fn write_inlined_frames(&mut self, inlined: Inlined) {
        self.store_frame_pc(inlined.call_pc);
        let top = self.ctx_load(off::FRAME_TOP);
        let base_hi = self.b.ins().ishl_imm_u(self.f.base, 32);
        let func_base = self.b.ins().bor_imm_u(base_hi, i64::from(self.f.func));
        self.b.ins().store(self.mem.frames, func_base, top, off::FRAME_FUNC);
        let new_top = self.b.ins().iadd_imm_s(top, off::FRAME_SIZE);
        self.ctx_store(new_top, off::FRAME_TOP);
    }

    /// Takes down the frame [`Tx::write_inlined_frames`] pushed, when the run goes on.
    pub(super) fn pop_inlined_frame(&mut self) {
        let top = self.ctx_load(off::FRAME_TOP);
        let popped = self.b.ins().iadd_imm_s(top, -off::FRAME_SIZE);
        self.ctx_store(popped, off::FRAME_TOP);
    }

    /// Exchanges what lowering knows of the current function with `st`.
    fn swap_state(&mut self, st: &mut FnState<'a>) {
        std::mem::swap(&mut self.f, st);
    }
}
