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

/// What the tests of one arm's pattern left: branches taken when it fails, registers
/// to release after them, the names it bound, and (for the arm a `Switch` enters) where
/// the tests continue once the tag is known.
#[derive(Default)]
struct ArmTests {
    fails: Vec<usize>,
    temps: Vec<Reg>,
    bound: Vec<tir::LocalId>,
    after_tag: Option<usize>,
    /// The value is known to match: emit bindings only.
    assume: bool,
}

impl FnLowerer<'_, '_> {
    pub fn match_expr(&mut self, e: &tir::Expr, dst: Option<Reg>) -> Val {
        let ExprKind::Match(scrutinee, arms) = &e.kind else { unreachable!("a match") };
        let s = self.expr(scrutinee, None);
        let result = self.cx.b.val_type(&e.ty).and_then(|_| self.target(&e.ty, dst));
        let tag = match scrutinee.ty {
            Ty::Enum(..) if self.cx.b.enum_objects(&scrutinee.ty) => {
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
        for (k, arm) in arms.iter().enumerate() {
            // The checker proved the arms exhaustive, so a value that reaches the last
            // arm matches it: only its bindings are emitted, not its tests.
            let mut tests = ArmTests { assume: k + 1 == arms.len(), ..ArmTests::default() };
            let start = self.here();
            self.test_pattern(&arm.pat, s.r(), tag, &mut tests);
            let needs = match arm.pat.kind {
                PatKind::Variant(_, v, _) => Some(v),
                _ => None,
            };
            entries.push((needs, start, tests.after_tag));
            for &r in &tests.temps {
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
            self.release_locals(&tests.bound);
            self.patch_here(tests.fails);
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
    /// already be in `tag`) and the moves that bind its names, recording them in `arm`.
    fn test_pattern(&mut self, p: &Pat, reg: Reg, tag: Option<Reg>, arm: &mut ArmTests) {
        let t0 = Target(0);
        match &p.kind {
            PatKind::Wild => {}
            PatKind::Bind(id) => {
                let r = self.local_target(*id);
                if let Some(r) = r {
                    self.emit(Instr::Mov { dst: r, src: reg });
                }
                self.bind(*id, r);
                arm.bound.push(*id);
            }
            PatKind::Const(_) if arm.assume => {}
            PatKind::Const(ConstVal::Int(k)) => match i16::try_from(*k) {
                Ok(imm) => {
                    arm.fails.push(self.emit(Instr::JneImm { a: reg, imm: Imm(i32::from(imm)), target: t0 }))
                }
                Err(_) => {
                    let k = self.temp_const(&ConstVal::Int(*k), &mut arm.temps);
                    arm.fails.push(self.emit(Instr::JneI { a: reg, b: k, target: t0 }));
                }
            },
            PatKind::Const(ConstVal::Bool(b)) => {
                arm.fails.push(if *b {
                    self.emit(Instr::JmpIfNot { cond: reg, target: t0 })
                } else {
                    self.emit(Instr::JmpIf { cond: reg, target: t0 })
                });
            }
            PatKind::Const(v @ ConstVal::Str(_)) => {
                let k = self.temp_const(v, &mut arm.temps);
                let differ = self.alloc(ValType::Bool);
                arm.temps.push(differ);
                self.emit(Instr::NeS { dst: differ, a: reg, b: k });
                arm.fails.push(self.emit(Instr::JmpIf { cond: differ, target: t0 }));
            }
            PatKind::Const(ConstVal::Float(_)) => unreachable!("no float patterns"),
            PatKind::Variant(_, v, subs) if self.cx.b.unboxed_option(&p.ty).is_some() => {
                if *v == 1 {
                    if !arm.assume {
                        arm.fails.push(self.emit(Instr::JmpIfSome { src: reg, target: t0 }));
                    }
                    return;
                }
                if !arm.assume {
                    arm.fails.push(self.emit(Instr::JmpIfNone { src: reg, target: t0 }));
                }
                self.sub_pattern(&subs[0], arm, |inner| Instr::OptGet { dst: inner, src: reg });
            }
            PatKind::Variant(_, v, subs) if self.cx.b.inline_result(&p.ty).is_some() => {
                let (fail, payload) = self.test_result(reg, &p.ty, *v, !arm.assume, &mut arm.temps);
                arm.fails.extend(fail);
                self.sub_pattern(&subs[0], arm, |dst| Instr::Mov { dst, src: payload });
            }
            PatKind::Variant(en, v, subs) => {
                let n_variants = self.cx.items.enums[*en].variants.len();
                if n_variants > 1 && !arm.assume {
                    let t = match tag {
                        Some(t) => t,
                        None => {
                            let t = self.alloc(ValType::Int);
                            arm.temps.push(t);
                            self.emit(Instr::GetTag { dst: t, src: reg });
                            t
                        }
                    };
                    match i16::try_from(*v) {
                        Ok(imm) => arm.fails.push(self.emit(Instr::JneImm {
                            a: t,
                            imm: Imm(i32::from(imm)),
                            target: t0,
                        })),
                        Err(_) => {
                            let k = self.temp_const(&ConstVal::Int(i64::from(*v)), &mut arm.temps);
                            arm.fails.push(self.emit(Instr::JneI { a: t, b: k, target: t0 }));
                        }
                    }
                    if tag.is_some() {
                        arm.after_tag = Some(self.here());
                    }
                }
                if subs.iter().all(|s| matches!(s.kind, PatKind::Wild)) {
                    return;
                }
                let vty = self.cx.b.variant_type(&p.ty, *v);
                let as_v = self.alloc(ValType::Ref(vty));
                arm.temps.push(as_v);
                self.emit(Instr::AsVariant { dst: as_v, src: reg, ty: vty });
                for (i, sub) in subs.iter().enumerate() {
                    let field = FieldIdx(i as u32);
                    self.sub_pattern(sub, arm, |f| Instr::GetField { dst: f, obj: as_v, field });
                }
            }
        }
    }

    /// A payload or field `load` reads, tested against `sub`: a name binds by loading
    /// straight into its variable; `_` loads nothing.
    fn sub_pattern(&mut self, sub: &Pat, arm: &mut ArmTests, load: impl FnOnce(Reg) -> Instr) {
        let Some(vt) = self.cx.b.val_type(&sub.ty) else { return };
        match sub.kind {
            PatKind::Wild => {}
            PatKind::Bind(id) => {
                let r = self.local_target(id);
                if let Some(r) = r {
                    self.emit(load(r));
                }
                self.bind(id, r);
                arm.bound.push(id);
            }
            _ => {
                let r = self.alloc(vt);
                arm.temps.push(r);
                self.emit(load(r));
                self.test_pattern(sub, r, None, arm);
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
