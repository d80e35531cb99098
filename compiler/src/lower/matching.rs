//! `match`: the arms are tried in order. Each arm's pattern becomes tests that jump to
//! the next arm when they fail, and moves that bind its names; then comes its body. An
//! enum scrutinee's tag is read once, before the first arm; with three or more arms it
//! also drives a `Switch` straight to the first arm that can match each variant, past
//! that arm's own tag test.

use super::func::{FnLowerer, Val};
use crate::sema::consts::ConstVal;
use crate::sema::types::Ty;
use crate::tir::{self, ExprKind, Pat, PatKind};
use kiln_bytecode::*;

impl FnLowerer<'_, '_> {
    pub fn match_expr(&mut self, e: &tir::Expr, dst: Option<Reg>) -> Val {
        let ExprKind::Match(scrutinee, arms) = &e.kind else { unreachable!("a match") };
        let s = self.expr(scrutinee, None);
        let result = self.cx.b.val_type(&e.ty).and_then(|_| self.target(&e.ty, dst));
        let tag = match scrutinee.ty {
            Ty::Enum(..) if self.cx.b.unboxed_option(&scrutinee.ty).is_none() => {
                let t = self.alloc(ValType::Int);
                self.emit(Instr::GetTag { dst: t, src: s.r() });
                Some(t)
            }
            _ => None,
        };
        let switch = match (tag, &scrutinee.ty) {
            (Some(t), Ty::Enum(en, _)) if arms.len() >= 3 => {
                let n = self.cx.items.enums[*en].variants.len();
                self.emit(Instr::Switch { src: t, count: Count(n as u32) });
                let table: Vec<usize> = (0..n).map(|_| self.emit(Instr::Jmp { target: Target(0) })).collect();
                // Tags are always in range; the verifier wants somewhere to go if not.
                let fallback = self.emit(Instr::Unreachable {});
                // The arms are reached through the table (patched below).
                self.mark_reachable();
                Some((table, fallback))
            }
            _ => None,
        };
        // Per arm: the variant its pattern needs (None: any), where it starts, and where
        // its tests continue once the tag is known.
        let mut entries: Vec<(Option<u32>, usize, Option<usize>)> = Vec::new();
        let mut ends = Vec::new();
        for arm in arms {
            let mut fails = Vec::new();
            let mut temps = Vec::new();
            let mut bound = Vec::new();
            let start = self.here();
            let mut after_tag = None;
            self.test_pattern(&arm.pat, s.r(), tag, &mut fails, &mut temps, &mut bound, &mut after_tag);
            let needs = match arm.pat.kind {
                PatKind::Variant(_, v, _) => Some(v),
                _ => None,
            };
            entries.push((needs, start, after_tag));
            for r in temps {
                self.release_reg(r);
            }
            let v = self.expr(&arm.body, result);
            match (result, v.ty == Ty::Never) {
                (Some(r), false) => {
                    self.finish_val(v, Some(r));
                }
                _ => self.release(&v),
            }
            if arm.body.ty != Ty::Never {
                ends.push(self.emit(Instr::Jmp { target: Target(0) }));
            }
            self.release_locals(&bound);
            self.patch_here(fails);
        }
        // The checker proved the arms exhaustive: no value gets past the last one.
        self.emit(Instr::Unreachable {});
        self.patch_here(ends);
        if let Some((table, fallback)) = switch {
            for (tag, jump) in table.into_iter().enumerate() {
                let target = entries
                    .iter()
                    .find(|(needs, ..)| needs.is_none_or(|v| v as usize == tag))
                    .map_or(fallback, |&(_, start, after_tag)| after_tag.unwrap_or(start));
                self.patch(jump, target);
            }
        }
        if let Some(t) = tag {
            self.release_reg(t);
        }
        self.release(&s);
        Val { ty: e.ty.clone(), reg: result, temp: result.is_some() && dst.is_none() }
    }

    /// Emits the tests of pattern `p` on the value in `reg` (whose tag, for an enum, may
    /// already be in `tag`): each failing test jumps to a branch pushed on `fails`.
    /// Registers used only by the tests go on `temps`; bound locals on `bound`. When the
    /// test of the scrutinee's own tag is emitted, `after_tag` gets where the rest begins.
    #[allow(clippy::too_many_arguments)]
    fn test_pattern(
        &mut self,
        p: &Pat,
        reg: Reg,
        tag: Option<Reg>,
        fails: &mut Vec<usize>,
        temps: &mut Vec<Reg>,
        bound: &mut Vec<tir::LocalId>,
        after_tag: &mut Option<usize>,
    ) {
        let t0 = Target(0);
        match &p.kind {
            PatKind::Wild => {}
            PatKind::Bind(id) => {
                let r = self.local_target(*id);
                if let Some(r) = r {
                    self.emit(Instr::Mov { dst: r, src: reg });
                }
                self.bind(*id, r);
                bound.push(*id);
            }
            PatKind::Const(ConstVal::Int(k)) => match i16::try_from(*k) {
                Ok(imm) => {
                    fails.push(self.emit(Instr::JneImm { a: reg, imm: Imm(i32::from(imm)), target: t0 }))
                }
                Err(_) => {
                    let k = self.temp_const(&ConstVal::Int(*k), temps);
                    fails.push(self.emit(Instr::JneI { a: reg, b: k, target: t0 }));
                }
            },
            PatKind::Const(ConstVal::Bool(b)) => {
                fails.push(if *b {
                    self.emit(Instr::JmpIfNot { cond: reg, target: t0 })
                } else {
                    self.emit(Instr::JmpIf { cond: reg, target: t0 })
                });
            }
            PatKind::Const(v @ ConstVal::Str(_)) => {
                let k = self.temp_const(v, temps);
                let differ = self.alloc(ValType::Bool);
                temps.push(differ);
                self.emit(Instr::NeS { dst: differ, a: reg, b: k });
                fails.push(self.emit(Instr::JmpIf { cond: differ, target: t0 }));
            }
            PatKind::Const(ConstVal::Float(_)) => unreachable!("no float patterns"),
            PatKind::Variant(_, v, subs) if self.cx.b.unboxed_option(&p.ty).is_some() => {
                if *v == 1 {
                    fails.push(self.emit(Instr::JmpIfSome { src: reg, target: t0 }));
                    return;
                }
                fails.push(self.emit(Instr::JmpIfNone { src: reg, target: t0 }));
                let sub = &subs[0];
                if matches!(sub.kind, PatKind::Wild) {
                    return;
                }
                let Some(vt) = self.cx.b.val_type(&sub.ty) else { return };
                let inner = self.alloc(vt);
                temps.push(inner);
                self.emit(Instr::OptGet { dst: inner, src: reg });
                self.test_pattern(sub, inner, None, fails, temps, bound, &mut None);
            }
            PatKind::Variant(en, v, subs) => {
                let n_variants = self.cx.items.enums[*en].variants.len();
                if n_variants > 1 {
                    let t = match tag {
                        Some(t) => t,
                        None => {
                            let t = self.alloc(ValType::Int);
                            temps.push(t);
                            self.emit(Instr::GetTag { dst: t, src: reg });
                            t
                        }
                    };
                    match i16::try_from(*v) {
                        Ok(imm) => fails.push(self.emit(Instr::JneImm {
                            a: t,
                            imm: Imm(i32::from(imm)),
                            target: t0,
                        })),
                        Err(_) => {
                            let k = self.temp_const(&ConstVal::Int(i64::from(*v)), temps);
                            fails.push(self.emit(Instr::JneI { a: t, b: k, target: t0 }));
                        }
                    }
                    if tag.is_some() {
                        *after_tag = Some(self.here());
                    }
                }
                if subs.iter().all(|s| matches!(s.kind, PatKind::Wild)) {
                    return;
                }
                let vty = self.cx.b.variant_type(&p.ty, *v);
                let as_v = self.alloc(ValType::Ref(vty));
                temps.push(as_v);
                self.emit(Instr::AsVariant { dst: as_v, src: reg, ty: vty });
                for (i, sub) in subs.iter().enumerate() {
                    if matches!(sub.kind, PatKind::Wild) {
                        continue;
                    }
                    let Some(vt) = self.cx.b.val_type(&sub.ty) else { continue };
                    let f = self.alloc(vt);
                    temps.push(f);
                    self.emit(Instr::GetField { dst: f, obj: as_v, field: FieldIdx(i as u32) });
                    self.test_pattern(sub, f, None, fails, temps, bound, &mut None);
                }
            }
        }
    }

    /// A constant in a register of its own (released with the other temporaries).
    fn temp_const(&mut self, v: &ConstVal, temps: &mut Vec<Reg>) -> Reg {
        let val = self.load_const(v, None);
        let r = val.r();
        if val.temp {
            temps.push(r);
        }
        r
    }
}
