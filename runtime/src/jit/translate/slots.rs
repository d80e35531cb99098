//! The frame's slots in compiled code: the kind of each (int, float, reference), the
//! Cranelift variables that hold them, copies of reference slots between safepoints,
//! and moving values between variables and the register file.

use super::*;

/// How a slot's value is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// An int, a bool or an optional value's some/none word: a machine integer.
    Int,
    /// A float: a machine float.
    Float,
    /// A reference: always in the register file (a GC root).
    Ref,
}

fn kind_of(t: ValType) -> Kind {
    match t {
        ValType::Float => Kind::Float,
        t if t.is_ref() => Kind::Ref,
        _ => Kind::Int,
    }
}

/// The kinds of the slots a register of type `t` takes.
fn slot_kinds(types_: &[CompositeType], t: ValType) -> Vec<Kind> {
    match t {
        ValType::OptInt | ValType::OptBool => vec![Kind::Int, Kind::Int],
        ValType::OptFloat => vec![Kind::Float, Kind::Int],
        ValType::Pair(p) => match &types_[p.index()] {
            CompositeType::Pair(a, b) => vec![kind_of(*a), kind_of(*b)],
            _ => vec![Kind::Int, Kind::Int],
        },
        t => vec![kind_of(t)],
    }
}

/// What lowering knows of one function: the one being compiled, or a callee inlined into
/// it (`inline.rs` swaps them).
pub(super) struct FnState<'a> {
    pub(super) func: u32,
    pub(super) pf: &'a PreparedFunc,
    pub(super) bf: &'a kiln_bytecode::Function,
    /// Kind of each slot of the frame.
    pub(super) kinds: Vec<Kind>,
    /// The variable of each int or float slot.
    pub(super) vars: Vec<Option<Variable>>,
    /// The first slot of each register.
    pub(super) reg_slots: Vec<u32>,
    /// The block starting at each leader pc.
    pub(super) blocks: Vec<Option<Block>>,
    /// The register-file slot of register 0.
    pub(super) base: Value,
    /// Where a two-slot result goes.
    pub(super) ret: Value,
    /// Address of the frame's register 0 (reloaded after every call: the register file
    /// may grow, and move, inside a callee or a helper).
    pub(super) regs: Variable,
    /// What compiled code knows of reference slots between safepoints: the register file
    /// stays the truth (`abi.rs`), these only save reloads.
    pub(super) refs: RefCopies,
    /// No instruction of the function reaches a safepoint (`instr::reaches_safepoint`):
    /// nothing reads its registers while it runs (an instruction that stops the run
    /// writes them first, `Tx::terminal`), so with reference variables it neither writes
    /// references through to the register file nor nulls its own.
    pub(super) safepoint_free: bool,
    /// Set while lowering a callee inlined into the function being compiled.
    pub(super) inline: Option<inline::Inlined>,
    /// Loops that keep array headers in variables (`loops.rs`).
    pub(super) loops: Vec<loops::CachedLoop>,
}

impl<'a> FnState<'a> {
    /// Declares function `func`'s variables and blocks in `b`; its register 0 is slot
    /// `base` of the register file.
    pub(super) fn new(
        b: &mut FunctionBuilder<'_>,
        pm: &'a PreparedModule,
        func: u32,
        base: Value,
        ret: Value,
    ) -> Self {
        let pf = &pm.funcs[func as usize];
        let bf = &pm.bytecode.funcs[func as usize];
        // An empty argument window may start just past the last register.
        let (mut reg_slots, n_slots) = crate::loader::slot_layout(bf.regs.iter().copied());
        reg_slots.push(n_slots as u32);
        let mut kinds = Vec::with_capacity(n_slots);
        for &t in &bf.regs {
            kinds.extend(slot_kinds(&pm.bytecode.types, t));
        }
        debug_assert_eq!(kinds.len(), n_slots);
        let vars = kinds
            .iter()
            .map(|k| match k {
                Kind::Int => Some(b.declare_var(types::I64)),
                Kind::Float => Some(b.declare_var(types::F64)),
                Kind::Ref => None,
            })
            .collect();
        let leaders = kiln_bytecode::isa::block_leaders(&bf.code);
        let blocks = leaders.iter().map(|&l| if l { Some(b.create_block()) } else { None }).collect();
        let loops = loops::find(b, pf, bf, &reg_slots);
        let regs = b.declare_var(types::I64);
        let n_refs = kinds.iter().filter(|&&k| k == Kind::Ref).count();
        let refs = if n_refs * bf.code.len() <= REF_VAR_BUDGET {
            RefCopies::Vars(
                kinds.iter().map(|&k| (k == Kind::Ref).then(|| b.declare_var(types::I64))).collect(),
            )
        } else {
            RefCopies::Block(std::collections::HashMap::new())
        };
        let safepoint_free =
            matches!(refs, RefCopies::Vars(_)) && !pf.code.iter().any(instr::reaches_safepoint);
        FnState {
            func,
            pf,
            bf,
            kinds,
            vars,
            reg_slots,
            blocks,
            base,
            ret,
            regs,
            refs,
            safepoint_free,
            inline: None,
            loops,
        }
    }
}

/// Copies of reference slots in machine registers. A safepoint (a call, a helper) may
/// collect or write registers, so the copies are renewed after each.
pub(super) enum RefCopies {
    /// A variable per reference slot, renewed after each safepoint by loads that are pure
    /// to the optimiser (see [`Tx::renew_refs`]), so copies live across blocks and loops.
    Vars(Vec<Option<Variable>>),
    /// For functions where a load per reference slot per safepoint would be too many
    /// ([`REF_VAR_BUDGET`]): the slots loaded or stored in the current block since its
    /// start or the last safepoint.
    Block(std::collections::HashMap<u16, Value>),
}

/// Reference slots times instructions above which a function keeps reference copies per
/// block only (the variables' renewal loads grow with both).
pub(super) const REF_VAR_BUDGET: usize = 200_000;

impl<M: Module> Tx<'_, '_, M> {
    /// `regs` from the context: `ctx.regs + base * 8`.
    pub(super) fn load_regs(&mut self) {
        let file = self.ctx_load(off::REGS);
        let bytes = self.b.ins().ishl_imm_u(self.f.base, 3);
        let regs = self.b.ins().iadd(file, bytes);
        self.b.def_var(self.f.regs, regs);
    }

    pub(super) fn slot_offset(slot: u32) -> i32 {
        slot as i32 * 8
    }

    /// The value of slot `s`, as its kind's machine type.
    pub(super) fn get(&mut self, s: u16) -> Value {
        let slot = s;
        let s = s as usize;
        match self.f.kinds.get(s).copied().unwrap_or(Kind::Int) {
            Kind::Ref => match &mut self.f.refs {
                RefCopies::Vars(vars) => {
                    let var = vars[s].expect("reference slots have variables");
                    self.b.use_var(var)
                }
                RefCopies::Block(cache) => {
                    if let Some(&v) = cache.get(&slot) {
                        return v;
                    }
                    let regs = self.b.use_var(self.f.regs);
                    let v = self.b.ins().load(types::I64, self.mem.regs, regs, Self::slot_offset(s as u32));
                    cache.insert(slot, v);
                    v
                }
            },
            _ => match self.f.vars.get(s).copied().flatten() {
                Some(v) => self.b.use_var(v),
                None => self.iconst(0),
            },
        }
    }

    /// The bits of slot `s` as an `I64`.
    pub(super) fn get_bits(&mut self, s: u16) -> Value {
        let v = self.get(s);
        self.as_type(v, types::I64)
    }

    pub(super) fn as_type(&mut self, v: Value, ty: ir::Type) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            self.b.ins().bitcast(ty, MemFlagsData::new(), v)
        }
    }

    /// The machine type of slot `s`.
    pub(super) fn ty(&self, s: u16) -> ir::Type {
        match self.f.kinds.get(s as usize) {
            Some(Kind::Float) => types::F64,
            _ => types::I64,
        }
    }

    /// Sets slot `s` to `v` (bit-cast to the slot's type if needed).
    pub(super) fn set(&mut self, s: u16, v: Value) {
        let ty = self.ty(s);
        let v = self.as_type(v, ty);
        let si = s as usize;
        match self.f.kinds.get(si).copied() {
            Some(Kind::Ref) => {
                if !self.f.safepoint_free {
                    let regs = self.b.use_var(self.f.regs);
                    self.b.ins().store(self.mem.regs, v, regs, Self::slot_offset(s as u32));
                }
                self.copy_ref(s, v);
            }
            Some(_) => {
                let var = self.f.vars[si].expect("int and float slots have variables");
                self.b.def_var(var, v);
            }
            None => {}
        }
    }

    /// Notes that reference slot `s` now holds `v` (which the caller wrote to the register
    /// file, unless the function has no safepoints).
    pub(super) fn copy_ref(&mut self, s: u16, v: Value) {
        match &mut self.f.refs {
            RefCopies::Vars(vars) => {
                let var = vars[s as usize].expect("reference slots have variables");
                self.b.def_var(var, v);
            }
            RefCopies::Block(cache) => {
                cache.insert(s, v);
            }
        }
    }

    /// After a safepoint: the copies of reference slots are read again from the register
    /// file (the `regs` just reloaded). The loads are marked read-only and movable so that
    /// the optimiser drops those never used and may hoist the rest out of loops. That is
    /// sound because each load's address comes from the `regs` value loaded after this
    /// safepoint, so none can move above it, and any store to the slot after it also
    /// redefines the slot's variable, so no use of the load can follow such a store.
    pub(super) fn renew_refs(&mut self) {
        let regs = self.b.use_var(self.f.regs);
        let pure = self.mem.regs.with_readonly().with_can_move();
        match &mut self.f.refs {
            RefCopies::Vars(vars) => {
                for (s, var) in vars.iter().enumerate() {
                    if let Some(var) = *var {
                        let v = self.b.ins().load(types::I64, pure, regs, Self::slot_offset(s as u32));
                        self.b.def_var(var, v);
                    }
                }
            }
            RefCopies::Block(cache) => cache.clear(),
        }
    }

    /// Writes int and float slots `from..to` to the register file (where a callee, a
    /// native or a helper reads them).
    pub(super) fn flush(&mut self, from: usize, to: usize) {
        for s in from..to.min(self.f.kinds.len()) {
            if let Some(var) = self.f.vars[s] {
                let v = self.b.use_var(var);
                let regs = self.b.use_var(self.f.regs);
                self.b.ins().store(self.mem.regs, v, regs, Self::slot_offset(s as u32));
            }
        }
    }

    /// Reads int and float slots `from..to` back from the register file.
    pub(super) fn refill(&mut self, from: usize, to: usize) {
        for s in from..to.min(self.f.kinds.len()) {
            if let Some(var) = self.f.vars[s] {
                let ty = self.ty(s as u16);
                let regs = self.b.use_var(self.f.regs);
                let v = self.b.ins().load(ty, self.mem.regs, regs, Self::slot_offset(s as u32));
                self.b.def_var(var, v);
            }
        }
    }
}
