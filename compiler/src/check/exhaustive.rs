//! Exhaustiveness and reachability of `match` arms, by the usefulness algorithm over a
//! matrix of patterns (Maranget, "Warnings for pattern matching", 2007): a pattern row is
//! useful after some rows if some value matches it and none of them. An arm that is not
//! useful after the arms above it is unreachable; a match is exhaustive when a wildcard
//! is not useful after all its arms, and the value that makes it useful is the example of
//! a missing case.

use crate::sema::consts::ConstVal;
use crate::sema::items::Items;
use crate::sema::types::Ty;
use crate::tir::{Arm, Pat, PatKind};

/// What the arms of one match leave out.
#[derive(Debug, Default)]
pub struct Report {
    /// A value no arm matches, written as a pattern.
    pub missing: Option<String>,
    /// Indices of arms no value can reach.
    pub unreachable: Vec<usize>,
}

/// A constructor: what a pattern requires of a value's outermost shape.
#[derive(Debug, Clone, PartialEq)]
enum Ctor {
    Variant(u32),
    Bool(bool),
    /// An int or str literal: one of infinitely many values.
    Literal(ConstVal),
}

/// A pattern reduced to what matching needs (bindings are wildcards).
#[derive(Debug, Clone)]
enum P {
    Wild,
    Ctor(Ctor, Vec<P>),
}

fn simplify(p: &Pat) -> P {
    match &p.kind {
        PatKind::Wild | PatKind::Bind(_) => P::Wild,
        PatKind::Const(ConstVal::Bool(b)) => P::Ctor(Ctor::Bool(*b), Vec::new()),
        PatKind::Const(v) => P::Ctor(Ctor::Literal(v.clone()), Vec::new()),
        PatKind::Variant(_, tag, subs) => P::Ctor(Ctor::Variant(*tag), subs.iter().map(simplify).collect()),
    }
}

/// Checks the arms of a match on a value of type `ty`.
pub fn check(items: &Items, ty: &Ty, arms: &[Arm]) -> Report {
    let cx = Cx { items };
    let tys = [ty.clone()];
    let mut rows: Vec<Vec<P>> = Vec::new();
    let mut report = Report::default();
    for (i, arm) in arms.iter().enumerate() {
        let row = vec![simplify(&arm.pat)];
        if cx.useful(&rows, &row, &tys).is_none() {
            report.unreachable.push(i);
        }
        rows.push(row);
    }
    if let Some(mut witness) = cx.useful(&rows, &[P::Wild], &tys) {
        report.missing = Some(witness.pop().unwrap_or_else(|| "_".into()));
    }
    report
}

struct Cx<'a> {
    items: &'a Items,
}

impl Cx<'_> {
    /// Every constructor of `ty` with its field types, when there are finitely many.
    fn all_ctors(&self, ty: &Ty) -> Option<Vec<(Ctor, Vec<Ty>)>> {
        match ty {
            Ty::Bool => Some(vec![(Ctor::Bool(false), vec![]), (Ctor::Bool(true), vec![])]),
            Ty::Enum(e, _) => Some(
                (0..self.items.enums[*e].variants.len() as u32)
                    .map(|tag| (Ctor::Variant(tag), self.items.variant_fields(ty, tag)))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The field types of constructor `c` of `ty`.
    fn fields(&self, ty: &Ty, c: &Ctor) -> Vec<Ty> {
        match (ty, c) {
            (Ty::Enum(..), Ctor::Variant(tag)) => self.items.variant_fields(ty, *tag),
            _ => Vec::new(),
        }
    }

    /// `c` applied to `args` (witness texts), as source.
    fn show(&self, ty: &Ty, c: &Ctor, args: Vec<String>) -> String {
        match (ty, c) {
            (Ty::Enum(e, _), Ctor::Variant(tag)) => {
                let en = &self.items.enums[*e];
                let variant = &en.variants[*tag as usize].0;
                let name = if self.items.is_prelude_enum(*e) {
                    variant.clone()
                } else {
                    format!("{}.{variant}", en.name)
                };
                if args.is_empty() {
                    name
                } else {
                    format!("{name}({})", args.join(", "))
                }
            }
            (_, Ctor::Bool(b)) => b.to_string(),
            _ => "_".into(),
        }
    }

    /// If `v` is useful after `rows` (all of types `tys`), an example of the values only
    /// it matches, one text per column.
    fn useful(&self, rows: &[Vec<P>], v: &[P], tys: &[Ty]) -> Option<Vec<String>> {
        let Some((head, rest)) = v.split_first() else {
            return if rows.is_empty() { Some(Vec::new()) } else { None };
        };
        let ty = &tys[0];
        match head {
            P::Ctor(c, args) => {
                let fields = self.fields(ty, c);
                if fields.len() != args.len() {
                    // An ill-typed pattern (over an unknown type): already reported.
                    return None;
                }
                let sub_rows = specialize(rows, c, fields.len());
                let mut sub_v = args.clone();
                sub_v.extend(rest.iter().cloned());
                let mut sub_tys = fields.clone();
                sub_tys.extend(tys[1..].iter().cloned());
                let w = self.useful(&sub_rows, &sub_v, &sub_tys)?;
                Some(self.rebuild(ty, c, fields.len(), w))
            }
            P::Wild => {
                let used: Vec<&Ctor> = rows
                    .iter()
                    .filter_map(|r| match &r[0] {
                        P::Ctor(c, _) => Some(c),
                        P::Wild => None,
                    })
                    .collect();
                let all = self.all_ctors(ty);
                let complete = all.as_ref().is_some_and(|all| all.iter().all(|(c, _)| used.contains(&c)));
                if let (true, Some(all)) = (complete, &all) {
                    for (c, fields) in all {
                        let sub_rows = specialize(rows, c, fields.len());
                        let mut sub_v = vec![P::Wild; fields.len()];
                        sub_v.extend(rest.iter().cloned());
                        let mut sub_tys = fields.clone();
                        sub_tys.extend(tys[1..].iter().cloned());
                        if let Some(w) = self.useful(&sub_rows, &sub_v, &sub_tys) {
                            return Some(self.rebuild(ty, c, fields.len(), w));
                        }
                    }
                    return None;
                }
                // Some constructor is not mentioned: only wildcard rows can match it.
                let default: Vec<Vec<P>> =
                    rows.iter().filter(|r| matches!(r[0], P::Wild)).map(|r| r[1..].to_vec()).collect();
                let mut w = self.useful(&default, rest, &tys[1..])?;
                let example = match all.and_then(|all| all.into_iter().find(|(c, _)| !used.contains(&c))) {
                    Some((c, fields)) => self.show(ty, &c, vec!["_".into(); fields.len()]),
                    None => "_".into(),
                };
                w.insert(0, example);
                Some(w)
            }
        }
    }

    /// Folds the first `arity` witness columns back under constructor `c`.
    fn rebuild(&self, ty: &Ty, c: &Ctor, arity: usize, mut w: Vec<String>) -> Vec<String> {
        let rest = w.split_off(arity.min(w.len()));
        let mut out = vec![self.show(ty, c, w)];
        out.extend(rest);
        out
    }
}

/// The rows that match constructor `c` (of `arity` fields), with its fields in place of
/// the first column.
fn specialize(rows: &[Vec<P>], c: &Ctor, arity: usize) -> Vec<Vec<P>> {
    rows.iter()
        .filter_map(|r| {
            let mut out = match &r[0] {
                P::Ctor(rc, args) if rc == c => args.clone(),
                P::Ctor(..) => return None,
                P::Wild => vec![P::Wild; arity],
            };
            out.extend(r[1..].iter().cloned());
            Some(out)
        })
        .collect()
}
