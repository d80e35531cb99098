//! Hoisting constants out of loops: a constant used inside a loop is loaded once, at the
//! start of the function, into a register of its own.
//!
//! The registers must sit below every call window (a callee's frame starts at its
//! window), so they are numbered right after the parameters. Which constants a function
//! hoists is only known once its body is lowered, so a function whose loops use constants
//! is lowered twice: a first pass finds them, in first-use order, and the second starts
//! by loading them. The passes make the same decisions, so the second finds every
//! constant already loaded (had it not, the constant would be loaded where it is used,
//! which is also correct).

use super::func::FnLowerer;
use crate::sema::consts::ConstVal;
use kiln_bytecode::Reg;

/// Whether and how a function hoists constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hoisting {
    /// Not at all (code that runs once: `<init>`).
    Off,
    /// First pass: every constant used in a loop gets a register.
    Probe,
    /// Second pass: the constants were loaded at the start.
    Fixed,
}

/// A constant's identity for hoisting (floats by bits, so `0.0` and `-0.0` differ).
pub(crate) type HoistKey = (u8, u64, String);

fn key(v: &ConstVal) -> HoistKey {
    match v {
        ConstVal::Int(i) => (0, *i as u64, String::new()),
        ConstVal::Float(f) => (1, f.to_bits(), String::new()),
        ConstVal::Bool(b) => (2, u64::from(*b), String::new()),
        ConstVal::Str(s) => (3, 0, s.clone()),
    }
}

impl FnLowerer<'_, '_> {
    /// The register holding constant `v` for a use inside a loop, if it is hoisted.
    pub fn hoisted_const(&mut self, v: &ConstVal) -> Option<Reg> {
        let k = key(v);
        if let Some(&r) = self.hoisted.get(&k) {
            return Some(r);
        }
        if self.hoisting != Hoisting::Probe {
            return None;
        }
        let vt = self.cx.b.val_type(&super::super::check::const_type(v))?;
        let r = self.fresh(vt);
        self.hoisted.insert(k, r);
        self.hoist_order.push(v.clone());
        Some(r)
    }

    /// Loads `constants` into fresh registers (right after the parameters) and fixes
    /// them as the hoisted constants of the pass that follows.
    pub fn load_hoisted(&mut self, constants: &[ConstVal]) {
        for v in constants {
            let vt = self.cx.b.val_type(&super::super::check::const_type(v)).expect("constants have values");
            let r = self.fresh(vt);
            self.load_const(v, Some(r));
            self.hoisted.insert(key(v), r);
        }
        self.hoisting = Hoisting::Fixed;
    }
}
