//! Inline allocation of small structs.

use super::*;

impl<M: Module> Tx<'_, '_, M> {
    /// `NewStruct`: allocated inline while no collection is due and the object's size
    /// class has a free block or its bump chunk room (`Heap::inline_alloc_layout`), by
    /// the runtime's handler otherwise. Nothing here can collect, so the new object needs
    /// no root until it is stored in `dst`.
    pub(super) fn new_struct(&mut self, pc: usize, instr: &Instr, dst: u16, ty: usize, args: u16) {
        let desc = &self.pm.descs[ty];
        let n = desc.n_fields as usize;
        // `slow::new_struct` charges fuel for eight fields or more: leave those to it.
        let layout =
            if n < 8 { crate::gc::Heap::inline_alloc_layout(crate::gc::raw::HEADER + n * 8) } else { None };
        let Some(l) = layout else {
            self.slow(pc, instr);
            return;
        };
        let off = |o: usize| o as i32;
        let heap = self.ctx_load_fixed(off::HEAP);
        let slow = self.b.create_block();
        let done = self.b.create_block();
        self.b.set_cold_block(slow);
        // Due for a collection (or under GC stress)?
        let stress = self.b.ins().uload8(types::I32, trusted(), heap, off(l.stress));
        let live = self.b.ins().load(types::I64, trusted(), heap, off(l.bytes_live));
        let new_live = self.b.ins().iadd_imm_s(live, l.size as i64);
        let next_gc = self.b.ins().load(types::I64, trusted(), heap, off(l.next_gc));
        let limit = self.b.ins().load(types::I64, trusted(), heap, off(l.limit));
        let over_gc = self.b.ins().icmp(IntCC::UnsignedGreaterThan, new_live, next_gc);
        let over_limit = self.b.ins().icmp(IntCC::UnsignedGreaterThan, new_live, limit);
        let over = self.b.ins().bor(over_gc, over_limit);
        let over = self.b.ins().uextend(types::I32, over);
        let due = self.b.ins().bor(over, stress);
        let check_free = self.b.create_block();
        self.b.ins().brif(due, slow, &[], check_free, &[]);
        // A free block of the class, else the bump chunk.
        self.b.switch_to_block(check_free);
        let head = self.b.ins().load(types::I64, trusted(), heap, off(l.free));
        let pop = self.b.create_block();
        let bump = self.b.create_block();
        let fill = self.b.create_block();
        self.b.append_block_param(fill, types::I64);
        self.b.ins().brif(head, pop, &[], bump, &[]);
        self.b.switch_to_block(pop);
        let next = self.b.ins().load(types::I64, trusted(), head, 0);
        self.b.ins().store(trusted(), next, heap, off(l.free));
        self.b.ins().jump(fill, &[head.into()]);
        self.b.switch_to_block(bump);
        let at = self.b.ins().load(types::I64, trusted(), heap, off(l.bump));
        let end = self.b.ins().load(types::I64, trusted(), heap, off(l.bump_end));
        let room = self.b.ins().isub(end, at);
        let short = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, room, l.size as i64);
        let take = self.b.create_block();
        self.b.ins().brif(short, slow, &[], take, &[]);
        self.b.switch_to_block(take);
        let after = self.b.ins().iadd_imm_s(at, l.size as i64);
        self.b.ins().store(trusted(), after, heap, off(l.bump));
        self.b.ins().jump(fill, &[at.into()]);
        // Charge, count, write the header, link, store the fields.
        self.b.switch_to_block(fill);
        let o = self.b.block_params(fill)[0];
        self.b.ins().store(trusted(), new_live, heap, off(l.bytes_live));
        for (field, add) in [(l.allocations, 1i64), (l.bytes_allocated, l.size as i64)] {
            let v = self.b.ins().load(types::I64, trusted(), heap, off(field));
            let v = self.b.ins().iadd_imm_s(v, add);
            self.b.ins().store(trusted(), v, heap, off(field));
        }
        let peak = self.b.ins().load(types::I64, trusted(), heap, off(l.peak_bytes));
        let peak = self.b.ins().umax(peak, new_live);
        self.b.ins().store(trusted(), peak, heap, off(l.peak_bytes));
        let desc_at = (ty * std::mem::size_of::<crate::gc::raw::ObjDesc>()) as i64;
        let desc_v = self.module_table(ModuleTable::Descs, desc_at);
        self.b.ins().store(trusted(), desc_v, o, HEADER_DESC);
        let objects = self.b.ins().load(types::I64, trusted(), heap, off(l.objects));
        self.b.ins().store(trusted(), objects, o, HEADER_NEXT);
        // `size` then `marked` (0): one 8-byte store.
        let size_word = self.iconst(l.size as i64);
        self.b.ins().store(trusted(), size_word, o, HEADER_SIZE);
        self.b.ins().store(trusted(), o, heap, off(l.objects));
        for k in 0..n as u16 {
            let v = self.get(args + k);
            self.b.ins().store(trusted(), v, o, field_offset(k));
        }
        self.set(dst, o);
        self.b.ins().jump(done, &[]);
        // Otherwise the runtime's handler.
        self.b.switch_to_block(slow);
        if let RefCopies::Block(cache) = &mut self.f.refs {
            // Copies made on the fast path do not hold here.
            cache.clear();
        }
        self.slow(pc, instr);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        if let RefCopies::Block(cache) = &mut self.f.refs {
            // The two paths loaded different references.
            cache.clear();
        }
    }

    /// Math natives that are one machine instruction with exactly Rust's semantics
    /// (`natives/math.rs`, [`inlined_native`]); false for the others, which go through
    /// the runtime.
    pub(super) fn inline_native(&mut self, dst: u16, args: u16, native: u16) -> bool {
        use kiln_bytecode::natives::{Native, NATIVES};
        if !inlined_native(native) {
            return false;
        }
        let Some(decl) = NATIVES.get(native as usize) else { return false };
        let v = match decl.id {
            Native::Sqrt | Native::Floor | Native::Ceil | Native::AbsFloat => {
                let x = self.get_float(args);
                match decl.id {
                    Native::Sqrt => self.b.ins().sqrt(x),
                    Native::Floor => self.b.ins().floor(x),
                    Native::Ceil => self.b.ins().ceil(x),
                    _ => self.b.ins().fabs(x),
                }
            }
            // `wrapping_abs`: MIN stays MIN.
            Native::AbsInt => {
                let x = self.get_bits(args);
                let neg = self.b.ins().ineg(x);
                let is_neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                self.b.ins().select(is_neg, neg, x)
            }
            Native::MinInt | Native::MaxInt => {
                let (x, y) = (self.get_bits(args), self.get_bits(args + 1));
                if decl.id == Native::MinInt {
                    self.b.ins().smin(x, y)
                } else {
                    self.b.ins().smax(x, y)
                }
            }
            _ => return false,
        };
        self.set(dst, v);
        true
    }
}

/// Whether native `native` is lowered inline ([`Tx::inline_native`]).
pub(super) fn inlined_native(native: u16) -> bool {
    use kiln_bytecode::natives::{Native, NATIVES};
    NATIVES.get(native as usize).is_some_and(|decl| {
        matches!(
            decl.id,
            Native::Sqrt
                | Native::Floor
                | Native::Ceil
                | Native::AbsFloat
                | Native::AbsInt
                | Native::MinInt
                | Native::MaxInt
        )
    })
}
