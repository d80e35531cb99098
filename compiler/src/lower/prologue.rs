//! Hoisting constants out of loops: a constant used inside a loop is loaded once, in the
//! function's prologue, into a register of its own.

use super::func::FnLowerer;
use crate::sema::types::Ty;
use kiln_bytecode::*;

impl FnLowerer<'_, '_> {
    /// The register holding a hoisted constant, loading it in the prologue on first use.
    pub fn hoisted_const(
        &mut self,
        key: (u8, u64, String),
        ty: &Ty,
        load: impl Fn(Reg) -> Instr,
    ) -> Option<Reg> {
        if let Some(&r) = self.hoisted.get(&key) {
            return Some(r);
        }
        let vt = self.cx.b.val_type(ty)?;
        let r = self.fresh(vt);
        self.prologue.push(load(r));
        self.hoisted.insert(key, r);
        Some(r)
    }

    /// Puts the hoisted constant loads first. Their registers move to just above the
    /// parameters, below every call window, so no callee can overwrite them; every other
    /// register keeps its relative order, and branch targets and line rows shift.
    pub(super) fn place_prologue(&mut self, n_params: usize) {
        if self.prologue.is_empty() {
            return;
        }
        let n_hoisted = self.prologue.len();
        let mut hoisted_index = vec![None; self.regs.len()];
        for (j, load) in self.prologue.iter().enumerate() {
            let Some((_, dst)) = load.operand_values().iter().next() else { continue };
            hoisted_index[dst as usize] = Some(j);
        }
        // below[r]: how many hoisted registers are numbered below r.
        let mut below = vec![0usize; self.regs.len() + 1];
        for r in 0..self.regs.len() {
            below[r + 1] = below[r] + usize::from(hoisted_index[r].is_some());
        }
        let map = |r: usize| -> usize {
            match hoisted_index.get(r).copied().flatten() {
                _ if r < n_params => r,
                Some(j) => n_params + j,
                None if r < below.len() => r + n_hoisted - below[r],
                None => r,
            }
        };
        let position = |p: usize| -> usize {
            if p < n_params {
                p
            } else {
                p + n_hoisted - below[p.min(self.regs.len())]
            }
        };
        let mut regs = vec![ValType::Int; self.regs.len()];
        for (r, ty) in self.regs.iter().enumerate() {
            regs[map(r)] = *ty;
        }
        let shift = n_hoisted as u32;
        let items = self.cx.items;
        let b = &self.cx.b;
        let remap = |instr: &Instr, shift_targets: bool| -> Instr {
            // A call without a result names register 0, which is not a register use.
            let unit_call = match *instr {
                Instr::Call { func, .. } => items.fns.get(func.index()).is_none_or(|f| f.ret == Ty::Unit),
                Instr::CallNative { import, .. } => {
                    b.module.imports.get(import.index()).is_none_or(|i| i.sig.result.is_none())
                }
                _ => false,
            };
            let mut values = instr.operand_values().iter().map(|(_, v)| v).collect::<Vec<_>>().into_iter();
            let names = instr.opcode().info().operands.iter();
            let mut names = names.map(|(n, _)| *n);
            let rebuilt: Result<Instr, ()> = Instr::from_operands(instr.opcode(), |kind| {
                let v = values.next().unwrap_or(0);
                let name = names.next().unwrap_or("");
                Ok(match kind {
                    OperandKind::Reg if unit_call && name == "dst" => v,
                    // A window base is a position between registers, not a register: an
                    // empty window may start at a number later given to a hoisted
                    // constant, and must stay above every register live at the call.
                    OperandKind::Reg if name == "args" => position(v as usize) as i64,
                    OperandKind::Reg => map(v as usize) as i64,
                    OperandKind::Target if shift_targets => v + i64::from(shift),
                    _ => v,
                })
            });
            rebuilt.expect("remapped operands stay in range")
        };
        let mut code: Vec<Instr> = self.prologue.iter().map(|i| remap(i, false)).collect();
        code.extend(self.code.iter().map(|i| remap(i, true)));
        self.code = code;
        self.regs = regs;
        for row in &mut self.lines {
            row.pc += shift;
        }
        if let Some(first) = self.lines.first_mut() {
            // The prologue belongs to the function's first line.
            first.pc = 0;
        }
    }
}
