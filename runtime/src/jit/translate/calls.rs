//! Calls to Kiln functions, and instructions run by the runtime's handlers.

use super::*;

impl<M: Module> Tx<'_, '_, M> {
    /// A call to a Kiln function: inlined where the callee qualifies (`inline.rs`),
    /// otherwise made.
    pub(super) fn call(&mut self, pc: usize, instr: &Instr, dst: u16, args: u16, callee: Callee) {
        match callee {
            Callee::Known(f) if self.inlinable(f) => self.inline_call(pc, instr, dst, args, f),
            Callee::Iface(site) => match self.inlinable_site(site) {
                Some(targets) => self.inline_iface_call(pc, instr, dst, args, site, &targets),
                None => self.call_out(pc, instr, dst, args, callee),
            },
            _ => self.call_out(pc, instr, dst, args, callee),
        }
    }

    /// A call made (`abi.rs`: the callee pushes its frame).
    pub(super) fn call_out(&mut self, pc: usize, instr: &Instr, dst: u16, args: u16, callee: Callee) {
        self.safepoint(pc);
        // From an inlined callee (`Tx::inlinable`): its frame is there while the call runs.
        let inlined = self.f.inline;
        if let Some(inlined) = inlined {
            self.write_inlined_frames(inlined);
        }
        let window = self.window_slots(instr, callee);
        self.flush(args as usize, args as usize + window);
        let result = self.result_type(instr, callee);
        if result.is_none() {
            // Unknown signature (the verifier rules it out): keep `dst` current in the
            // register file and read it back after the call, whatever the callee does.
            if let Some((first, n)) = self.dst_slots(instr) {
                self.flush(first, first + n);
            }
        }
        // The caller's pc, for traces from below.
        self.store_frame_pc(pc);
        let new_base = self.b.ins().iadd_imm_s(self.f.base, i64::from(args));
        let ret = self.b.ins().iadd_imm_s(self.f.base, i64::from(dst));
        let func = match callee {
            // Compiled code ignores `func`: a direct call passes a value already in a
            // register rather than keep a constant alive across the call.
            Callee::Known(f) if self.direct.get(f as usize).copied().flatten().is_some() => new_base,
            Callee::Known(f) => self.iconst(i64::from(f)),
            Callee::Iface(site) if self.pm.dispatch.site_tables(site).2.is_some() => {
                // Rules F5 and M9: the receiver's type implements the interface, so its
                // entry in the dense table is a real one.
                let (_, method, table) = self.pm.dispatch.site_tables(site);
                let start = table.expect("checked above");
                let table = self.module_table(ModuleTable::Dense, i64::from(start) * 4);
                let funcs = self.module_table(ModuleTable::MethodFuncs, 0);
                let recv = self.get_bits(args);
                let desc = self.b.ins().load(types::I64, trusted(), recv, 0);
                let ty = self.b.ins().uload32(trusted(), desc, DESC_TY);
                let at = self.b.ins().ishl_imm_u(ty, 2);
                let slot = self.b.ins().iadd(at, table);
                let first = self.b.ins().uload32(trusted(), slot, 0);
                let index = self.b.ins().iadd_imm_s(first, i64::from(method));
                let at = self.b.ins().ishl_imm_u(index, 2);
                let slot = self.b.ins().iadd(at, funcs);
                self.b.ins().uload32(trusted(), slot, 0)
            }
            Callee::Iface(site) => {
                let recv = self.get_bits(args);
                let site = self.iconst(i64::from(site));
                let call = self.b.ins().call(self.helper.iface_target, &[self.ctx, site, recv]);
                let target = self.b.inst_results(call)[0];
                // `u64::MAX`: the helper failed and recorded why.
                let failed = self.b.ins().icmp_imm_s(IntCC::Equal, target, -1);
                self.check_status(failed);
                target
            }
            Callee::Closure => {
                let clo = self.get_bits(args);
                let desc = self.b.ins().load(types::I64, trusted(), clo, 0);
                self.b.ins().uload32(trusted(), desc, DESC_FUNC)
            }
        };
        let fuel = self.b.use_var(self.fuel);
        // The fuel counter goes in a register (`abi.rs`).
        let call_args = [self.ctx, new_base, ret, func, fuel];
        let direct = match callee {
            Callee::Known(f) => self.direct.get(f as usize).copied().flatten(),
            _ => None,
        };
        let call = match direct {
            Some(id) => {
                let fref = self.m.declare_func_in_func(id, self.b.func);
                self.b.ins().call(fref, &call_args)
            }
            None => {
                let table = self.ctx_load_fixed(off::ENTRIES);
                let at = self.b.ins().ishl_imm_u(func, 3);
                let slot = self.b.ins().iadd(table, at);
                let code = self.b.ins().load(types::I64, trusted(), slot, 0);
                self.b.ins().call_indirect(self.native_sig, code, &call_args)
            }
        };
        let (fuel, value) = (self.b.inst_results(call)[0], self.b.inst_results(call)[1]);
        let stopped = self.b.ins().icmp_imm_s(IntCC::Equal, fuel, STOPPED);
        self.check_status(stopped);
        self.b.def_var(self.fuel, fuel);
        if inlined.is_some() {
            self.pop_inlined_frame();
        }
        // The callee may have collected, and may have written a two-slot result.
        self.load_regs();
        self.renew_refs();
        let dst = self.dst_slots(instr);
        self.clear_leftovers(args as usize, dst);
        match (result, dst) {
            // One slot: from the register.
            (Some(Some(_)), Some((first, 1))) => self.set(first as u16, value),
            (Some(None), _) => {}
            // Two slots (the callee wrote both to the register file), or unknown.
            (_, Some((first, n))) => self.refill(first, first + n),
            (_, None) => {}
        }
    }

    /// Nulls this frame's reference slots from `from` (a call's argument window, where the
    /// callee's registers lay) up to its last reference slot, but for the call's result
    /// `dst`: the collector scans them as this frame's, and they may hold what the callee
    /// left there. (The runtime does the same for interpreted callers, `jit::call_native`.)
    pub(super) fn clear_leftovers(&mut self, from: usize, dst: Option<(usize, usize)>) {
        let end = self.f.pf.refs_end.min(self.f.kinds.len());
        let zero = self.iconst(0);
        for s in from..end {
            let in_dst = dst.is_some_and(|(first, n)| (first..first + n).contains(&s));
            if self.f.kinds[s] == Kind::Ref && !in_dst {
                let regs = self.b.use_var(self.f.regs);
                self.b.ins().store(self.mem.regs, zero, regs, Self::slot_offset(s as u32));
                self.copy_ref(s as u16, zero);
            }
        }
    }

    /// The result type of a call's callee (`Some(None)`: it has none), from its signature
    /// (a closure's function type, an interface method's); `None` if unknown.
    pub(super) fn result_type(&self, instr: &Instr, callee: Callee) -> Option<Option<ValType>> {
        let types_ = &self.pm.bytecode.types;
        let args_ty = reg_operand(instr, "args").and_then(|r| self.f.bf.regs.get(r).copied());
        match (callee, instr, args_ty) {
            (Callee::Known(f), _, _) => Some(self.pm.bytecode.funcs[f as usize].sig.result),
            (Callee::Closure, _, Some(ValType::Ref(t))) => match &types_[t.index()] {
                CompositeType::Func(sig) => Some(sig.result),
                _ => None,
            },
            (Callee::Iface(_), Instr::CallIface { method, .. }, Some(ValType::Ref(t))) => {
                match &types_[t.index()] {
                    CompositeType::Interface(it) => it.methods.get(method.index()).map(|s| s.result),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Slots of a call's argument window: the callee's parameters (a closure or an
    /// interface receiver first).
    pub(super) fn window_slots(&self, instr: &Instr, callee: Callee) -> usize {
        let width = |params: &[ValType]| params.iter().map(|t| t.width()).sum::<usize>();
        let types_ = &self.pm.bytecode.types;
        let args_ty = reg_operand(instr, "args").and_then(|r| self.f.bf.regs.get(r).copied());
        match (callee, instr) {
            (Callee::Known(f), _) => width(&self.pm.bytecode.funcs[f as usize].sig.params),
            (Callee::Closure, _) => match args_ty {
                Some(ValType::Ref(t)) => match &types_[t.index()] {
                    CompositeType::Func(sig) => 1 + width(&sig.params),
                    _ => self.f.kinds.len(),
                },
                _ => self.f.kinds.len(),
            },
            (Callee::Iface(_), Instr::CallIface { method, .. }) => match args_ty {
                Some(ValType::Ref(t)) => match &types_[t.index()] {
                    CompositeType::Interface(it) => {
                        1 + it.methods.get(method.index()).map_or(self.f.kinds.len(), |s| width(&s.params))
                    }
                    _ => self.f.kinds.len(),
                },
                _ => self.f.kinds.len(),
            },
            _ => self.f.kinds.len(),
        }
    }

    /// An instruction run by the interpreter's handler on the register file
    /// (`helpers::kiln_exec_slow`): its int and float operands are written there first,
    /// its result read back after.
    pub(super) fn slow(&mut self, pc: usize, instr: &Instr) {
        self.safepoint(pc);
        self.run_handler(pc, instr);
    }

    /// An instruction that always stops the run (`instr::stops_the_run`), in a function
    /// without safepoints: its handler reads its operands in the register file, may
    /// collect and builds the trace, so every reference of the frame is written there
    /// first (and an inlined callee's frames, `Tx::write_inlined_frames`).
    pub(super) fn terminal(&mut self, pc: usize, instr: &Instr) {
        if let Some(inlined) = self.f.inline {
            self.write_inlined_frames(inlined);
        }
        for s in 0..self.f.kinds.len() {
            if self.f.kinds[s] == Kind::Ref {
                let v = self.get(s as u16);
                let regs = self.b.use_var(self.f.regs);
                self.b.ins().store(self.mem.regs, v, regs, Self::slot_offset(s as u32));
            }
        }
        self.run_handler(pc, instr);
    }

    /// Runs instruction `pc` with the interpreter's handler (see [`Tx::slow`]).
    fn run_handler(&mut self, pc: usize, instr: &Instr) {
        // Operands: registers, and the windows some instructions read.
        let info = instr.opcode().info();
        let values: Vec<(kiln_bytecode::isa::OperandKind, i64)> = instr.operand_values().iter().collect();
        let count = values
            .iter()
            .find(|(k, _)| *k == kiln_bytecode::isa::OperandKind::Count)
            .map(|&(_, v)| v as usize);
        for (&(name, kind), &(_, v)) in info.operands.iter().zip(values.iter()) {
            if kind != kiln_bytecode::isa::OperandKind::Reg || name == "dst" {
                continue;
            }
            let r = v as usize;
            let first = self.f.reg_slots[r] as usize;
            let end = match (name, instr) {
                ("args", Instr::NewStruct { ty, .. }) | ("args", Instr::NewClosure { ty, .. }) => {
                    first + self.pm.descs[ty.index()].n_fields as usize
                }
                ("args", Instr::CallNative { .. }) => self.f.kinds.len(),
                ("args", _) => first + count.unwrap_or(1),
                _ => first + self.f.bf.regs[r].width(),
            };
            self.flush(first, end);
        }
        // A native without a result leaves `dst` alone: keep it current, it is read back.
        if let Some((first, n)) = self.dst_slots(instr) {
            self.flush(first, first + n);
        }
        let pc_v = self.iconst(pc as i64);
        let status = self.call_helper(pc, self.helper.exec_slow, &[self.ctx, pc_v]);
        self.check_status(status);
        if let Some((first, n)) = self.dst_slots(instr) {
            self.refill(first, first + n);
        }
    }
}
