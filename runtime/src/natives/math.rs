//! Math natives. All are pure and follow IEEE-754 / two's complement as Rust does.

use super::Args;
use crate::instance::Vm;

pub(super) fn call(vm: &Vm, name: &str, a: &Args) -> u64 {
    let f = |i| a.float(vm, i);
    let i = |n| a.int(vm, n);
    let float = |v: f64| v.to_bits();
    match name {
        // `abs(MIN)` wraps to MIN, like the other integer operations.
        "abs_int" => i(0).wrapping_abs() as u64,
        "abs_float" => float(f(0).abs()),
        "min_int" => i(0).min(i(1)) as u64,
        "max_int" => i(0).max(i(1)) as u64,
        "min_float" => float(f(0).min(f(1))),
        "max_float" => float(f(0).max(f(1))),
        "sqrt" => float(f(0).sqrt()),
        "floor" => float(f(0).floor()),
        "ceil" => float(f(0).ceil()),
        "round" => float(f(0).round()),
        "sin" => float(f(0).sin()),
        "cos" => float(f(0).cos()),
        "exp" => float(f(0).exp()),
        "ln" => float(f(0).ln()),
        "pow" => float(f(0).powf(f(1))),
        other => unreachable!("native `{other}` is declared but not implemented"),
    }
}
