//! Math natives. All are pure and follow IEEE-754 / two's complement as Rust does.

use super::Args;
use crate::instance::Vm;
use kiln_bytecode::natives::Native;

pub(super) fn call(vm: &Vm, id: Native, a: &Args) -> u64 {
    let f = |i| a.float(vm, i);
    let i = |n| a.int(vm, n);
    let float = |v: f64| v.to_bits();
    match id {
        // `abs(MIN)` wraps to MIN, like the other integer operations.
        Native::AbsInt => i(0).wrapping_abs() as u64,
        Native::AbsFloat => float(f(0).abs()),
        Native::MinInt => i(0).min(i(1)) as u64,
        Native::MaxInt => i(0).max(i(1)) as u64,
        Native::MinFloat => float(f(0).min(f(1))),
        Native::MaxFloat => float(f(0).max(f(1))),
        Native::Sqrt => float(f(0).sqrt()),
        Native::Floor => float(f(0).floor()),
        Native::Ceil => float(f(0).ceil()),
        Native::Round => float(f(0).round()),
        Native::Sin => float(f(0).sin()),
        Native::Cos => float(f(0).cos()),
        Native::Exp => float(f(0).exp()),
        Native::Ln => float(f(0).ln()),
        Native::Pow => float(f(0).powf(f(1))),
        other => unreachable!("{other:?} is not a math native"),
    }
}
