//! Out-of-line instruction handlers: the ones that allocate, move many elements or
//! charge fuel by size. The dispatch loop saves the pc before calling any of these.

use super::op::SortKind;
use super::text;
use super::trap::{Stop, TrapKind};
use crate::gc::raw::{self, Header};
use crate::instance::Vm;
use std::sync::Arc;

pub fn int_to_str(vm: &mut Vm, v: i64) -> Result<u64, Stop> {
    let mut buf = [0u8; 20];
    vm.new_str(text::int_text(v, &mut buf))
}

pub fn float_to_str(vm: &mut Vm, v: f64) -> Result<u64, Stop> {
    vm.new_str(text::float_text(v).as_bytes())
}

pub fn bool_to_str(vm: &mut Vm, v: bool) -> Result<u64, Stop> {
    vm.new_str(if v { b"true" } else { b"false" })
}

/// A struct of type `ty` with fields from registers `args..` (absolute slots).
pub fn new_struct(vm: &mut Vm, ty: u16, args: usize) -> Result<u64, Stop> {
    let module = Arc::clone(&vm.module);
    let n = module.descs[ty as usize].n_fields as usize;
    let o = vm.new_struct(ty as usize, &[])?;
    for i in 0..n {
        // SAFETY: `o` is a fresh struct of `n` fields; the window is in bounds (rule F2).
        unsafe { *raw::field(o, i) = vm.stack[args + i] };
    }
    Ok(o as u64)
}

/// An array of the `count` values in slots `args..`.
pub fn new_array(vm: &mut Vm, elem_ref: bool, args: usize, count: usize) -> Result<u64, Stop> {
    let o = vm.new_array(elem_ref, count)?;
    // SAFETY: `o` is a fresh array with capacity `count`.
    unsafe {
        let buf = raw::array_buf(o);
        for i in 0..count {
            *buf.add(i) = vm.stack[args + i];
        }
        raw::set_array_len(o, count);
    }
    Ok(o as u64)
}

/// `[value; n]`.
pub fn array_fill(vm: &mut Vm, elem_ref: bool, value: u64, n: i64) -> Result<u64, Stop> {
    if n < 0 {
        return Err(TrapKind::NegativeLength(n).into());
    }
    vm.charge(n as u64)?;
    let n = n as usize;
    let o = vm.new_array(elem_ref, n)?;
    // SAFETY: `o` is a fresh array with capacity `n`.
    unsafe {
        let buf = raw::array_buf(o);
        for i in 0..n {
            *buf.add(i) = value;
        }
        raw::set_array_len(o, n);
    }
    Ok(o as u64)
}

/// Inserts `value` at `idx` (0 ..= len), shifting later elements up.
///
/// # Safety
/// `o` is a live array held in a register.
pub unsafe fn array_insert(vm: &mut Vm, o: *mut Header, idx: i64, value: u64) -> Result<(), Stop> {
    // SAFETY: caller guarantees `o`; indices are checked against `len` first.
    unsafe {
        let len = raw::array_len(o);
        if idx < 0 || idx as usize > len {
            return Err(TrapKind::IndexOutOfBounds { index: idx, len }.into());
        }
        vm.charge((len - idx as usize) as u64)?;
        vm.array_push(o, value)?;
        let buf = raw::array_buf(o);
        std::ptr::copy(buf.add(idx as usize), buf.add(idx as usize + 1), len - idx as usize);
        *buf.add(idx as usize) = value;
    }
    Ok(())
}

/// Removes and returns element `idx`, shifting later elements down.
///
/// # Safety
/// `o` is a live array.
pub unsafe fn array_remove(vm: &mut Vm, o: *mut Header, idx: i64) -> Result<u64, Stop> {
    // SAFETY: caller guarantees `o`; `idx < len` is checked first.
    unsafe {
        let len = raw::array_len(o);
        if idx < 0 || idx as usize >= len {
            return Err(TrapKind::IndexOutOfBounds { index: idx, len }.into());
        }
        let i = idx as usize;
        vm.charge((len - i - 1) as u64)?;
        let buf = raw::array_buf(o);
        let value = *buf.add(i);
        std::ptr::copy(buf.add(i + 1), buf.add(i), len - i - 1);
        raw::set_array_len(o, len - 1);
        Ok(value)
    }
}

/// Sorts an array in place; fuel `n * ceil(log2 n)`.
///
/// # Safety
/// `o` is a live array whose elements have the kind `kind` (rule F5).
pub unsafe fn array_sort(vm: &mut Vm, kind: SortKind, o: *mut Header) -> Result<(), Stop> {
    // SAFETY: caller guarantees `o` and its element kind; sorting does not allocate, so
    // no collection runs while the slice is borrowed.
    unsafe {
        let items = raw::array_slice(o);
        let n = items.len() as u64;
        let log = 64 - n.leading_zeros() as u64;
        vm.charge(n * log)?;
        match kind {
            SortKind::Int => items.sort_unstable_by_key(|&v| v as i64),
            SortKind::Float => items.sort_by(|a, b| f64::from_bits(*a).total_cmp(&f64::from_bits(*b))),
            SortKind::Str => {
                items.sort_by(|a, b| raw::str_bytes(raw::obj(*a)).cmp(raw::str_bytes(raw::obj(*b))))
            }
        }
    }
    Ok(())
}

/// Concatenates the strings in slots `args..args+count`.
pub fn concat(vm: &mut Vm, args: usize, count: usize) -> Result<u64, Stop> {
    let part = |vm: &Vm, i: usize| {
        // SAFETY: the window holds strings (rule F5), live while in registers.
        unsafe { raw::str_bytes(raw::obj(vm.stack[args + i])) }
    };
    let total: usize = (0..count).map(|i| part(vm, i).len()).sum();
    vm.charge_bytes(total)?;
    let o = vm.alloc_str(total)?;
    let mut at = 0;
    for i in 0..count {
        let bytes = part(vm, i);
        // SAFETY: `o` has `total` bytes; the parts add up to `total`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), raw::str_bytes_mut(o).add(at), bytes.len()) };
        at += bytes.len();
    }
    Ok(o as u64)
}
