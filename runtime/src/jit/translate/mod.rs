//! Bytecode to Cranelift IR, one function at a time, for any `cranelift_module::Module`
//! (the JIT's `JITModule` now, an object module for ahead-of-time compilation later).
//!
//! The input is a verified function: its typed instructions and register types give each
//! register-file slot a kind (int, float or reference), and its run form, at the same
//! indices, gives the operands the loader resolved (slots, constants, dispatch sites,
//! natives). Every basic block charges its length in fuel on entry, as the spec counts;
//! where fuel is observed inside a block (a helper, a trap) the counter handed over is the
//! interpreter's at that instruction. `abi.rs` has the contract with the runtime.

use super::abi::{offsets as off, STOPPED};
use super::helpers::TrapCode;
use super::Entry;
use crate::interp::op::Op;
use crate::loader::{PreparedFunc, PreparedModule};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self, types, AbiParam, AliasRegionData, Block, InstBuilder, JumpTableData, MemFlagsData, Value,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_module::{FuncId, Module};
use kiln_bytecode::{CompositeType, Instr, ValType};

mod alloc;
mod calls;
mod inline;
mod instr;
mod loops;
mod slots;

use loops::reg_operand;
use slots::{FnState, Kind, RefCopies};

/// Functions with more instructions than this stay interpreted (compile time and memory
/// grow faster than linearly with a function's size).
pub const MAX_JIT_INSTRS: usize = 20_000;

/// The runtime helpers, declared in the module being compiled into.
#[derive(Clone, Copy)]
pub struct Helpers {
    /// Calls `kiln_limit`, keeping every register ([`define_preserving_trampoline`]).
    pub check: FuncId,
    pub exec_slow: FuncId,
    pub trap: FuncId,
    /// Calls `kiln_enter_slow`, keeping every register.
    pub enter_slow: FuncId,
    pub iface_target: FuncId,
    pub float_rem: FuncId,
}

/// The helpers' symbol names and signatures (params, returns), `I64` unless `F64`.
pub const HELPER_SIGS: [(&str, &[ir::Type], &[ir::Type]); 6] = [
    ("kiln_rt_exec_slow", &[types::I64, types::I64], &[types::I64]),
    ("kiln_rt_trap", &[types::I64, types::I64, types::I64, types::I64, types::I64], &[types::I64]),
    ("kiln_rt_limit", &[types::I64, types::I64, types::I64], &[types::I64]),
    ("kiln_rt_enter_slow", &[types::I64, types::I64], &[types::I64]),
    ("kiln_rt_iface_target", &[types::I64, types::I64, types::I64], &[types::I64]),
    ("kiln_rt_float_rem", &[types::F64, types::F64], &[types::F64]),
];

/// Declares the helpers in `m` as imports.
pub fn declare_helpers<M: Module>(m: &mut M) -> Result<Helpers, String> {
    let mut ids = Vec::new();
    for (name, params, rets) in HELPER_SIGS {
        let mut sig = m.make_signature();
        sig.params = params.iter().map(|&t| AbiParam::new(t)).collect();
        sig.returns = rets.iter().map(|&t| AbiParam::new(t)).collect();
        ids.push(
            m.declare_function(name, cranelift_module::Linkage::Import, &sig).map_err(|e| e.to_string())?,
        );
    }
    Ok(Helpers {
        check: define_preserving_trampoline(m, ids[2], 3)?,
        exec_slow: ids[0],
        trap: ids[1],
        enter_slow: define_preserving_trampoline(m, ids[3], 2)?,
        iface_target: ids[4],
        float_rem: ids[5],
    })
}

/// Defines a trampoline to helper `target` (`n_params` integer parameters, `ctx` first)
/// in a convention that preserves every register, for the cold calls compiled code
/// continues after (fuel and interrupt checks, growing the stacks at entry): a call that
/// clobbers registers would make a hot loop or a leaf function keep its values in memory
/// or in callee-saved registers. The helper's status is left in `ctx.check_status`.
fn define_preserving_trampoline<M: Module>(
    m: &mut M,
    target: FuncId,
    n_params: usize,
) -> Result<FuncId, String> {
    let mut sig = m.make_signature();
    sig.call_conv = cranelift_codegen::isa::CallConv::PreserveAll;
    sig.params = vec![AbiParam::new(types::I64); n_params];
    let id = m.declare_anonymous_function(&sig).map_err(|e| e.to_string())?;
    let mut ctx = m.make_context();
    ctx.func.signature = sig;
    let mut fcx = cranelift_frontend::FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fcx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let p = b.block_params(entry).to_vec();
    let callee = m.declare_func_in_func(target, b.func);
    let call = b.ins().call(callee, &p);
    let status = b.inst_results(call)[0];
    b.ins().store(trusted(), status, p[0], off::CHECK_STATUS);
    b.ins().return_(&[]);
    b.finalize(m.target_config());
    m.define_function(id, &mut ctx).map_err(|e| format!("trampoline: {e:?}"))?;
    Ok(id)
}

/// The signature of every compiled function (`abi::NativeFn`).
pub fn native_signature<M: Module>(m: &M) -> ir::Signature {
    let mut sig = m.make_signature();
    sig.params = vec![AbiParam::new(types::I64); 5];
    sig.returns = vec![AbiParam::new(types::I64); 2];
    sig
}

fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Translates function `func` of `pm` into `b`'s function (whose signature must be
/// [`native_signature`]). `direct[f]` is the id of function `f`'s compiled code in `m`,
/// where calls can go straight to it. `relocatable` code embeds no address of this
/// process ([`ModuleTable`]). Returns how many call sites it inlined.
#[allow(clippy::too_many_arguments)]
pub fn translate<M: Module>(
    m: &mut M,
    b: FunctionBuilder<'_>,
    pm: &PreparedModule,
    func: u32,
    entry: Entry,
    helpers: &Helpers,
    direct: &[Option<FuncId>],
    relocatable: bool,
) -> Result<usize, String> {
    let bf = &pm.bytecode.funcs[func as usize];
    if bf.code.len() > MAX_JIT_INSTRS {
        return Err(format!("{} instructions (the JIT takes at most {MAX_JIT_INSTRS})", bf.code.len()));
    }
    let mut t = Tx::new(m, b, pm, func, helpers, direct);
    t.relocatable = relocatable;
    t.prologue(entry);
    t.body();
    if let Some(why) = t.failure.take() {
        return Err(why);
    }
    t.b.seal_all_blocks();
    let config = t.m.target_config();
    t.b.finalize(config);
    Ok(t.calls_inlined)
}

struct Tx<'a, 'f, M: Module> {
    m: &'a mut M,
    b: FunctionBuilder<'f>,
    pm: &'a PreparedModule,
    /// The function being lowered: the one compiled, or a callee inlined into it.
    f: FnState<'a>,
    /// Returns `STATUS_STOP` (a trap or exit was recorded).
    stop: Block,
    ctx: Value,
    /// The fuel counter the caller passed.
    fuel_in: Value,
    /// The fuel counter, charged per block on entry.
    fuel: Variable,
    native_sig: ir::SigRef,
    helper: HelperRefs,
    direct: &'a [Option<FuncId>],
    /// Why translation failed, found while lowering.
    failure: Option<String>,
    /// Instructions that may still be inlined into this function.
    inline_budget: usize,
    /// Call sites inlined so far.
    calls_inlined: usize,
    /// Flags for the memory only runtime code shares with compiled code ([`Memory`]).
    mem: Memory,
    /// Whether the code may be run by another process (ahead-of-time objects).
    relocatable: bool,
}

/// The tables of the prepared module that compiled code reads. The JIT embeds their
/// addresses; relocatable code loads them from the context, where the runtime put this
/// process's (`NativeCtx::refresh`).
#[derive(Clone, Copy)]
enum ModuleTable {
    /// `PreparedModule::descs`.
    Descs,
    /// `ImmortalStrings::refs`.
    Strings,
    /// `Dispatch::dense_cells`.
    Dense,
    /// `Dispatch::method_funcs`.
    MethodFuncs,
}

/// Flags of loads and stores of the memory compiled code shares with the runtime: the
/// context, the frame stack, the register file. Each is its own alias region, so the
/// optimiser knows that a store to one leaves what was read from another valid (a call
/// into the runtime may change any of them). Every access to these goes through these
/// flags; a heap object's is `trusted()`, in no region.
#[derive(Clone, Copy)]
struct Memory {
    ctx: MemFlagsData,
    frames: MemFlagsData,
    regs: MemFlagsData,
}

impl Memory {
    fn declare(func: &mut ir::Function) -> Memory {
        let mut region = |user_id: u32, description: &'static str| {
            let r =
                func.dfg.alias_regions.insert(AliasRegionData { user_id, description: description.into() });
            trusted().with_alias_region(Some(r))
        };
        Memory { ctx: region(1, "context"), frames: region(2, "frames"), regs: region(3, "register file") }
    }
}

#[derive(Clone, Copy)]
struct HelperRefs {
    check: ir::FuncRef,
    exec_slow: ir::FuncRef,
    trap: ir::FuncRef,
    enter_slow: ir::FuncRef,
    iface_target: ir::FuncRef,
    float_rem: ir::FuncRef,
}

impl<'a, 'f, M: Module> Tx<'a, 'f, M> {
    fn new(
        m: &'a mut M,
        mut b: FunctionBuilder<'f>,
        pm: &'a PreparedModule,
        func: u32,
        helpers: &Helpers,
        direct: &'a [Option<FuncId>],
    ) -> Self {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let p = b.block_params(entry).to_vec();
        let st = FnState::new(&mut b, pm, func, p[1], p[2]);
        let stop = b.create_block();
        b.set_cold_block(stop);
        let mut decl = |id: FuncId, b: &mut FunctionBuilder<'f>| m.declare_func_in_func(id, b.func);
        let helper = HelperRefs {
            check: decl(helpers.check, &mut b),
            exec_slow: decl(helpers.exec_slow, &mut b),
            trap: decl(helpers.trap, &mut b),
            enter_slow: decl(helpers.enter_slow, &mut b),
            iface_target: decl(helpers.iface_target, &mut b),
            float_rem: decl(helpers.float_rem, &mut b),
        };
        let native_sig = b.import_signature(native_signature(m));
        let fuel = b.declare_var(types::I64);
        let mem = Memory::declare(b.func);
        Tx {
            m,
            b,
            pm,
            f: st,
            stop,
            ctx: p[0],
            fuel_in: p[4],
            fuel,
            native_sig,
            helper,
            direct,
            inline_budget: inline::BUDGET,
            calls_inlined: 0,
            failure: None,
            mem,
            relocatable: false,
        }
    }

    /// The address `offset` bytes into `table`.
    fn module_table(&mut self, table: ModuleTable, offset: i64) -> Value {
        let (address, field) = match table {
            ModuleTable::Descs => (self.pm.descs.as_ptr() as i64, off::DESCS),
            ModuleTable::Strings => (self.pm.strings.refs().as_ptr() as i64, off::STRINGS),
            ModuleTable::Dense => (self.pm.dispatch.dense_cells().as_ptr() as i64, off::DENSE),
            ModuleTable::MethodFuncs => (self.pm.dispatch.method_funcs().as_ptr() as i64, off::METHOD_FUNCS),
        };
        if self.relocatable {
            let base = self.ctx_load_fixed(field);
            self.b.ins().iadd_imm_s(base, offset)
        } else {
            self.iconst(address.wrapping_add(offset))
        }
    }

    // ----- small pieces -----

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    fn ctx_load(&mut self, offset: i32) -> Value {
        self.b.ins().load(types::I64, self.mem.ctx, self.ctx, offset)
    }

    /// A context field that stays put while the instance runs (`NativeCtx::refresh`: the
    /// heap, globals, interrupt request, code table): read-only to the optimiser, which
    /// may then share and hoist the load.
    fn ctx_load_fixed(&mut self, offset: i32) -> Value {
        let flags = self.mem.ctx.with_readonly().with_can_move();
        self.b.ins().load(types::I64, flags, self.ctx, offset)
    }

    fn ctx_store(&mut self, v: Value, offset: i32) {
        self.b.ins().store(self.mem.ctx, v, self.ctx, offset);
    }

    /// The instance's globals.
    fn globals(&mut self) -> Value {
        self.ctx_load_fixed(off::GLOBALS)
    }

    /// Records `pc` as this function's current instruction in its frame, the top one.
    fn store_frame_pc(&mut self, pc: usize) {
        let top = self.ctx_load(off::FRAME_TOP);
        let pc_v = self.iconst(pc as i64);
        self.b.ins().istore32(self.mem.frames, pc_v, top, off::FRAME_PC - off::FRAME_SIZE as i32);
    }

    /// Instructions after `pc` in its block: what the interpreter has not yet charged
    /// there (this translation charges whole blocks on entry).
    fn rest(&self, pc: usize) -> i64 {
        i64::from(self.f.pf.block_rest[pc])
    }

    /// Stores the interpreter's fuel counter at `pc` for a helper or a callee.
    fn save_fuel(&mut self, pc: usize) {
        let fuel = self.b.use_var(self.fuel);
        let rest = self.rest(pc);
        let at_pc = self.b.ins().iadd_imm_s(fuel, rest);
        self.ctx_store(at_pc, off::FUEL);
    }

    /// Reads the fuel counter back after a helper or a callee returned to `pc`.
    fn load_fuel(&mut self, pc: usize) {
        let fuel = self.ctx_load(off::FUEL);
        let rest = self.rest(pc);
        let block_charged = self.b.ins().iadd_imm_s(fuel, -rest);
        self.b.def_var(self.fuel, block_charged);
    }

    /// Continues in a new block when `status` is `STATUS_OK`; returns `STATUS_STOP`
    /// otherwise.
    fn check_status(&mut self, status: Value) {
        let cont = self.b.create_block();
        self.b.ins().brif(status, self.stop, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Notes a safepoint being lowered: a function judged free of them must not have one.
    fn safepoint(&mut self, pc: usize) {
        if self.f.safepoint_free && self.failure.is_none() {
            self.failure = Some(format!("internal: instruction {pc} reaches a safepoint unforeseen"));
        }
    }

    /// Calls a helper that may collect, trap or charge fuel, at instruction `pc`.
    fn call_helper(&mut self, pc: usize, callee: ir::FuncRef, args: &[Value]) -> Value {
        self.save_fuel(pc);
        let call = self.b.ins().call(callee, args);
        let status = self.b.inst_results(call)[0];
        // The helper may have collected, written registers or grown the register file.
        self.load_regs();
        self.renew_refs();
        self.load_fuel(pc);
        status
    }

    /// Traps with `code` (operands `a`, `b`) at `pc` when `cond` is true.
    fn trap_if(&mut self, cond: Value, pc: usize, code: TrapCode, a: Value, b: Value) {
        let trap = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(trap);
        self.b.ins().brif(cond, trap, &[], cont, &[]);
        self.b.switch_to_block(trap);
        self.trap_here(pc, code, a, b);
        self.b.switch_to_block(cont);
    }

    /// Traps unconditionally (ends the current block).
    fn trap_here(&mut self, pc: usize, code: TrapCode, a: Value, b: Value) {
        if let Some(inlined) = self.f.inline {
            self.write_inlined_frames(inlined);
        }
        self.save_fuel(pc);
        let (pc_v, code_v) = (self.iconst(pc as i64), self.iconst(code as i64));
        let args = [self.ctx, pc_v, code_v, a, b];
        self.b.ins().call(self.helper.trap, &args);
        self.b.ins().jump(self.stop, &[]);
    }

    fn block_at(&self, pc: usize) -> Block {
        self.f.blocks[pc].expect("branch targets and fall-throughs are block leaders")
    }

    // ----- entry and exit -----

    fn prologue(&mut self, entry: Entry) {
        // Backstop: the run's stack is sized for the deepest call stack, but a frame
        // larger than budgeted must still trap rather than crash.
        let sp = self.b.ins().get_stack_pointer(types::I64);
        let limit = self.ctx_load(off::STACK_LIMIT);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        let keep = self.iconst(-1);
        let zero = self.iconst(0);
        self.trap_if_keep_pc(low, TrapCode::StackOverflow, keep, zero);
        if let Entry::Call = entry {
            let n_regs = self.f.pf.n_regs as i64;
            let need = self.b.ins().iadd_imm_s(self.f.base, n_regs);
            let top = self.ctx_load(off::FRAME_TOP);
            let end = self.ctx_load(off::FRAMES_END);
            let len = self.ctx_load(off::REGS_LEN);
            let slow = self.b.create_block();
            let room = self.b.create_block();
            let push = self.b.create_block();
            let pushed_top = self.b.append_block_param(push, types::I64);
            self.b.set_cold_block(slow);
            let full = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, top, end);
            self.b.ins().brif(full, slow, &[], room, &[]);
            self.b.switch_to_block(room);
            let short = self.b.ins().icmp(IntCC::UnsignedGreaterThan, need, len);
            self.b.ins().brif(short, slow, &[], push, &[top.into()]);
            self.b.switch_to_block(slow);
            self.ctx_store(self.fuel_in, off::FUEL);
            self.b.ins().call(self.helper.enter_slow, &[self.ctx, need]);
            let status = self.ctx_load(off::CHECK_STATUS);
            let ok = self.b.create_block();
            self.b.set_cold_block(ok);
            self.b.ins().brif(status, self.stop, &[], ok, &[]);
            self.b.switch_to_block(ok);
            // The frame stack may have moved.
            let moved_top = self.ctx_load(off::FRAME_TOP);
            self.b.ins().jump(push, &[moved_top.into()]);
            self.b.switch_to_block(push);
            // Push the frame. `func` and `base` are adjacent (`Frame`): one store writes both.
            let base_hi = self.b.ins().ishl_imm_u(self.f.base, 32);
            let func_base = self.b.ins().bor_imm_u(base_hi, i64::from(self.f.func));
            self.b.ins().store(self.mem.frames, func_base, pushed_top, off::FRAME_FUNC);
            let new_top = self.b.ins().iadd_imm_s(pushed_top, off::FRAME_SIZE);
            self.ctx_store(new_top, off::FRAME_TOP);
        }
        match entry {
            Entry::Call => {
                let zero = self.iconst(0);
                self.load_regs();
                // A new frame's reference slots that are not parameters may hold another
                // frame's leftovers: null them before anything can collect.
                // (Without safepoints nothing reads them.)
                let span = if self.f.safepoint_free { 0..0 } else { self.f.pf.local_ref_span.clone() };
                let regs = self.b.use_var(self.f.regs);
                for s in span {
                    self.b.ins().store(self.mem.regs, zero, regs, Self::slot_offset(s as u32));
                }
                let params_end = self
                    .f
                    .reg_slots
                    .get(self.f.bf.sig.params.len())
                    .map_or(self.f.kinds.len(), |&s| s as usize);
                self.refill(0, params_end);
                self.renew_refs();
                for s in params_end..self.f.kinds.len() {
                    if let Some(var) = self.f.vars[s] {
                        let z = if self.f.kinds[s] == Kind::Float {
                            self.b.ins().f64const(0.0)
                        } else {
                            self.iconst(0)
                        };
                        self.b.def_var(var, z);
                    } else if self.f.kinds[s] == Kind::Ref {
                        // Nulled above, or never read before written (rule F8).
                        self.copy_ref(s as u16, zero);
                    }
                }
            }
            Entry::Osr(_) => {
                self.load_regs();
                self.renew_refs();
                self.refill(0, self.f.kinds.len());
            }
        }
        self.b.def_var(self.fuel, self.fuel_in);
        match entry {
            Entry::Call => {
                // The entry check, before the first block is charged.
                self.limit_check(0, true);
                let first = self.block_at(0);
                self.b.ins().jump(first, &[]);
            }
            Entry::Osr(pc) => {
                self.load_arrays_around(pc as usize);
                let header = self.block_at(pc as usize);
                self.b.ins().jump(header, &[]);
            }
        }
        // The shared exit for stops.
        self.b.switch_to_block(self.stop);
        // The fuel counter of a stopped run is in the context (the helper that stopped
        // it stored it there).
        let stop = self.iconst(STOPPED);
        let zero = self.iconst(0);
        self.b.ins().return_(&[stop, zero]);
    }

    /// Traps without changing the top frame's pc (the caller's call site stays the trap
    /// site: the frame being entered was not pushed).
    fn trap_if_keep_pc(&mut self, cond: Value, code: TrapCode, keep: Value, b: Value) {
        let trap = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(trap);
        self.b.ins().brif(cond, trap, &[], cont, &[]);
        self.b.switch_to_block(trap);
        // The caller passed the fuel counter in a register.
        self.ctx_store(self.fuel_in, off::FUEL);
        let code_v = self.iconst(code as i64);
        let args = [self.ctx, keep, code_v, keep, b];
        self.b.ins().call(self.helper.trap, &args);
        self.b.ins().jump(self.stop, &[]);
        self.b.switch_to_block(cont);
    }

    /// The fuel and interrupt check of function entries and loop back-edges: one compare
    /// of the counter with the interrupt's floor (`instance::Interrupt`).
    fn limit_check(&mut self, pc: usize, at_entry: bool) {
        if at_entry && self.f.inline.is_some() && self.failure.is_none() {
            // An inlined callee's entry check is the call site's.
            self.failure = Some(format!("internal: entry check at {pc} in an inlined callee"));
        }
        let fuel = self.b.use_var(self.fuel);
        let interrupt = self.ctx_load_fixed(off::INTERRUPT);
        let floor = self.b.ins().load(types::I64, trusted(), interrupt, 0);
        let out = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, fuel, floor);
        let slow = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(out, slow, &[], cont, &[]);
        self.b.switch_to_block(slow);
        let (pc_v, entry_v) = (self.iconst(pc as i64), self.iconst(at_entry as i64));
        // At a check the block is fully charged and ends here: the counter is exact.
        let fuel = self.b.use_var(self.fuel);
        self.ctx_store(fuel, off::FUEL);
        let inlined = self.f.inline;
        if let Some(inlined) = inlined {
            // The check may trap: the frames a call would have.
            self.write_inlined_frames(inlined);
        }
        self.b.ins().call(self.helper.check, &[self.ctx, pc_v, entry_v]);
        let status = self.ctx_load(off::CHECK_STATUS);
        let fuel = self.ctx_load(off::FUEL);
        self.b.def_var(self.fuel, fuel);
        if inlined.is_some() {
            // It did not: the callee's frame goes again.
            let go_on = self.b.create_block();
            self.b.set_cold_block(go_on);
            self.b.ins().brif(status, self.stop, &[], go_on, &[]);
            self.b.switch_to_block(go_on);
            self.pop_inlined_frame();
            self.b.ins().jump(cont, &[]);
        } else {
            self.b.ins().brif(status, self.stop, &[], cont, &[]);
        }
        self.b.switch_to_block(cont);
    }

    /// Returns `values` (the result's slots) to the caller: the first in a register, and a
    /// two-slot result also in the register file at `ret` (`abi.rs`).
    fn ret(&mut self, values: &[Value]) {
        if let Some(inlined) = self.f.inline {
            self.inline_return(inlined, values);
            return;
        }
        if values.len() > 1 {
            let file = self.ctx_load(off::REGS);
            let at = self.b.ins().ishl_imm_u(self.f.ret, 3);
            let addr = self.b.ins().iadd(file, at);
            for (i, &v) in values.iter().enumerate() {
                self.b.ins().store(self.mem.regs, v, addr, i as i32 * 8);
            }
        }
        // Pop the frame (the top one whenever this function runs: callees pop theirs).
        let top = self.ctx_load(off::FRAME_TOP);
        let popped = self.b.ins().iadd_imm_s(top, -off::FRAME_SIZE);
        self.ctx_store(popped, off::FRAME_TOP);
        let fuel = self.b.use_var(self.fuel);
        let first = match values.first() {
            Some(&v) => self.as_type(v, types::I64),
            None => self.iconst(0),
        };
        self.b.ins().return_(&[fuel, first]);
    }

    // ----- the body -----

    fn body(&mut self) {
        let code = &self.f.bf.code;
        let mut open = false;
        for pc in 0..code.len() {
            if let Some(block) = self.f.blocks[pc] {
                if open {
                    self.b.ins().jump(block, &[]);
                }
                self.b.switch_to_block(block);
                if let Some(header) = self.enter_cached_loop(pc) {
                    self.b.switch_to_block(header);
                }
                // A block may be entered from elsewhere: nothing loaded before holds.
                if let RefCopies::Block(cache) = &mut self.f.refs {
                    cache.clear();
                }
                let len = self.rest(pc) + 1;
                let fuel = self.b.use_var(self.fuel);
                let charged = self.b.ins().iadd_imm_s(fuel, -len);
                self.b.def_var(self.fuel, charged);
                open = true;
            }
            if !open {
                continue; // unreachable instructions after a terminator
            }
            open = self.instr(pc);
        }
        if open {
            // The verifier ends every function with a terminator (rule F4).
            let z = self.iconst(0);
            self.trap_here(code.len() - 1, TrapCode::Unreachable, z, z);
        }
    }

    /// The slots register `dst` of `instr` takes, if it has one: `(first, count)`.
    fn dst_slots(&self, instr: &Instr) -> Option<(usize, usize)> {
        let r = reg_operand(instr, "dst")?;
        let t = self.f.bf.regs.get(r)?;
        Some((self.f.reg_slots[r] as usize, t.width()))
    }
}

/// Who a call runs.
#[derive(Clone, Copy)]
enum Callee {
    Known(u32),
    Iface(u16),
    Closure,
}

/// Byte offset of a struct field slot (`raw::field`).
fn field_offset(field: u16) -> i32 {
    (crate::gc::raw::HEADER + field as usize * 8) as i32
}

const HEADER_DESC: i32 = std::mem::offset_of!(crate::gc::raw::Header, desc) as i32;
const HEADER_NEXT: i32 = std::mem::offset_of!(crate::gc::raw::Header, next) as i32;
const HEADER_SIZE: i32 = std::mem::offset_of!(crate::gc::raw::Header, size) as i32;
// `size` and `marked` are adjacent u32s, written as one word.
const _: () = assert!(
    std::mem::offset_of!(crate::gc::raw::Header, marked)
        == std::mem::offset_of!(crate::gc::raw::Header, size) + 4
);
const ARRAY_LEN: i32 = crate::gc::raw::HEADER as i32;
const ARRAY_BUF: i32 = crate::gc::raw::HEADER as i32 + 16;
const STR_LEN: i32 = crate::gc::raw::HEADER as i32;
const DESC_TAG: i32 = std::mem::offset_of!(crate::gc::raw::ObjDesc, tag) as i32;
const DESC_FUNC: i32 = std::mem::offset_of!(crate::gc::raw::ObjDesc, func) as i32;
const DESC_TY: i32 = std::mem::offset_of!(crate::gc::raw::ObjDesc, ty) as i32;
