//! Array lengths and element buffers kept in machine registers through loops that
//! cannot change them.
//!
//! A loop none of whose instructions reaches a safepoint (`instr::reaches_safepoint`: no
//! call, no runtime handler, so no push, insert, remove or sort, and no collection) changes
//! no array's length or buffer. An array register that such a loop indexes and never
//! writes holds one array all through it, so its length and buffer are loaded once,
//! before the loop, rather than at every access.
//!
//! Loading before the loop is safe: the register holds an array there. It is read at an
//! instruction of the loop reachable from the function's entry, and no path from the
//! loop's header to that read writes it, so rule F8 (which the verifier checks on every
//! reachable instruction) has it written before the header on every path; and a verified
//! array register is never null (spec/bytecode.md). The loop must be entered only at its
//! header: branches from outside go to a block that makes the loads and then enters the
//! header, while the loop's own back-edges go straight to the header. An on-stack
//! replacement entry makes the loads of every loop around its pc.

use super::*;
use kiln_bytecode::isa::flags;

/// Most arrays one loop keeps in registers (each takes two).
const MAX_ARRAYS: usize = 4;

/// A loop whose arrays' headers are loaded once, before it.
pub(super) struct CachedLoop {
    /// The loop's first instruction, its header.
    header: usize,
    /// Its last instruction (its last back-edge).
    end: usize,
    arrays: Vec<CachedArray>,
    /// The header's block as back-edges reach it; `FnState::blocks[header]` is the block
    /// that makes the loads first.
    header_block: Block,
}

/// One array register's length and buffer, in variables.
#[derive(Clone, Copy)]
pub(super) struct CachedArray {
    slot: u16,
    pub(super) len: Variable,
    pub(super) buf: Variable,
}

/// The register operand `name` of `instr`, if it has one.
pub(super) fn reg_operand(instr: &Instr, name: &str) -> Option<usize> {
    let info = instr.opcode().info();
    info.operands
        .iter()
        .zip(instr.operand_values().iter())
        .find(|((n, k), _)| *n == name && *k == kiln_bytecode::isa::OperandKind::Reg)
        .map(|(_, (_, v))| v as usize)
}

/// Where control may go after instruction `pc`, as the verifier follows it.
fn successors(code: &[Instr], pc: usize) -> impl Iterator<Item = usize> {
    let instr = &code[pc];
    let falls = instr.opcode().info().flags & flags::TERMINATOR == 0;
    let table = match *instr {
        Instr::Switch { count, .. } => pc + 1..pc + 2 + count.index(),
        _ => 0..0,
    };
    let target = instr.branch_target().map(|t| t.index());
    let n = code.len();
    falls.then_some(pc + 1).into_iter().chain(target).chain(table).filter(move |&s| s < n)
}

/// The instructions reachable from the function's entry.
fn reachable(code: &[Instr]) -> Vec<bool> {
    let mut seen = vec![false; code.len()];
    let mut work = vec![0];
    while let Some(pc) = work.pop() {
        if pc >= code.len() || std::mem::replace(&mut seen[pc], true) {
            continue;
        }
        work.extend(successors(code, pc));
    }
    seen
}

/// The loops of a function whose array headers are kept in variables (declared in `b`),
/// outermost first; an array register is kept by the outermost loop that can keep it.
pub(super) fn find(
    b: &mut FunctionBuilder<'_>,
    pf: &PreparedFunc,
    bf: &kiln_bytecode::Function,
    reg_slots: &[u32],
) -> Vec<CachedLoop> {
    let code = &bf.code;
    // Each loop: its header and last back-edge (a branch to an earlier instruction).
    let mut ends: std::collections::BTreeMap<usize, usize> = Default::default();
    for (pc, instr) in code.iter().enumerate() {
        if let Some(t) = instr.branch_target().map(|t| t.index()).filter(|&t| t <= pc) {
            let end = ends.entry(t).or_insert(pc);
            *end = (*end).max(pc);
        }
    }
    let mut loops: Vec<(usize, usize)> = ends.into_iter().collect();
    if loops.is_empty() {
        return Vec::new();
    }
    loops.sort_by_key(|&(h, e)| (h, std::cmp::Reverse(e)));
    let live = reachable(code);
    // The first and last instruction that may continue at each one.
    let (mut first_pred, mut last_pred) = (vec![usize::MAX; code.len()], vec![0; code.len()]);
    for pc in 0..code.len() {
        for s in successors(code, pc) {
            first_pred[s] = first_pred[s].min(pc);
            last_pred[s] = last_pred[s].max(pc);
        }
    }
    let mut found: Vec<CachedLoop> = Vec::new();
    for (header, end) in loops {
        if pf.code[header..=end].iter().any(instr::reaches_safepoint) {
            continue;
        }
        let written = |slot: usize| {
            code[header..=end].iter().any(|i| {
                reg_operand(i, "dst")
                    .is_some_and(|r| (reg_slots[r] as usize..reg_slots[r + 1] as usize).contains(&slot))
            })
        };
        let kept_outside = |slot: u16| {
            found
                .iter()
                .any(|l| l.header <= header && end <= l.end && l.arrays.iter().any(|a| a.slot == slot))
        };
        let mut slots: Vec<u16> = Vec::new();
        for pc in (header..=end).filter(|&pc| live[pc]) {
            let arr = match pf.code[pc] {
                Op::ArrayGet { arr, .. } | Op::ArraySet { arr, .. } | Op::ArrayLen { arr, .. } => arr,
                _ => continue,
            };
            if slots.len() < MAX_ARRAYS
                && !slots.contains(&arr)
                && !written(arr as usize)
                && !kept_outside(arr)
            {
                slots.push(arr);
            }
        }
        let entered_inside = || (header + 1..=end).any(|t| first_pred[t] < header || last_pred[t] > end);
        if slots.is_empty() || entered_inside() {
            continue;
        }
        let arrays = slots
            .into_iter()
            .map(|slot| CachedArray { slot, len: b.declare_var(types::I64), buf: b.declare_var(types::I64) })
            .collect();
        found.push(CachedLoop { header, end, arrays, header_block: b.create_block() });
    }
    found
}

impl<M: Module> Tx<'_, '_, M> {
    /// The block a branch at `from` to `to` goes to: the header itself from inside a
    /// loop with cached arrays, the block that loads them from outside.
    pub(super) fn branch_block(&self, from: usize, to: usize) -> Block {
        match self.f.loops.iter().find(|l| l.header == to) {
            Some(l) if (l.header..=l.end).contains(&from) => l.header_block,
            _ => self.block_at(to),
        }
    }

    /// The cached length and buffer of the array in `slot` at `pc`, if a loop keeps them.
    pub(super) fn cached_array(&self, pc: usize, slot: u16) -> Option<CachedArray> {
        self.f
            .loops
            .iter()
            .filter(|l| (l.header..=l.end).contains(&pc))
            .find_map(|l| l.arrays.iter().find(|a| a.slot == slot).copied())
    }

    /// At a loop header `pc` with cached arrays, in the block branches from outside reach
    /// (`FnState::blocks[pc]`, current): loads them and continues to the header. Returns
    /// the header's block, or `None` if `pc` heads no such loop.
    pub(super) fn enter_cached_loop(&mut self, pc: usize) -> Option<Block> {
        let l = self.f.loops.iter().position(|l| l.header == pc)?;
        self.load_arrays(l);
        let header = self.f.loops[l].header_block;
        self.b.ins().jump(header, &[]);
        Some(header)
    }

    /// On-stack replacement at `pc`: the loads of every cached loop around it.
    pub(super) fn load_arrays_around(&mut self, pc: usize) {
        for l in 0..self.f.loops.len() {
            let lp = &self.f.loops[l];
            if lp.header < pc && pc <= lp.end {
                self.load_arrays(l);
            }
        }
    }

    fn load_arrays(&mut self, l: usize) {
        for k in 0..self.f.loops[l].arrays.len() {
            let a = self.f.loops[l].arrays[k];
            let o = self.get_bits(a.slot);
            let len = self.b.ins().load(types::I64, trusted(), o, ARRAY_LEN);
            let buf = self.b.ins().load(types::I64, trusted(), o, ARRAY_BUF);
            self.b.def_var(a.len, len);
            self.b.def_var(a.buf, buf);
        }
    }
}
