//! Out-of-line instruction handlers: the ones that allocate, move many elements or
//! charge fuel by size. The dispatch loop saves the pc before calling any of these.

use super::op::SortKind;
use super::text;
use super::trap::{Stop, TrapKind};
use crate::gc::raw::{self, Header};
use crate::instance::{heap_trap, Vm};

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

/// `[value; n]`.
pub fn array_fill(vm: &mut Vm, elem_ref: bool, value: u64, n: i64) -> Result<u64, Stop> {
    if n < 0 {
        return Err(TrapKind::NegativeLength(n).into());
    }
    vm.charge(n as u64)?;
    vm.new_array_filled(elem_ref, value, n as usize)
}

/// Appends `value` to array `o`.
///
/// # Safety
/// `o` is a live array held in a register (so rooted across the collection this may run).
pub unsafe fn array_push(vm: &mut Vm, o: *mut Header, value: u64) -> Result<(), Stop> {
    // SAFETY: caller guarantees `o`; reading its length and capacity is in bounds.
    let (len, cap) = unsafe { (raw::array_len(o), raw::array_cap(o)) };
    if len == cap {
        vm.reserve(cap.max(2) * 16);
    }
    // SAFETY: `o` is still live: it is rooted by its register through any collection.
    unsafe { vm.heap.array_push(o, value) }.map_err(heap_trap)
}

/// The text of the string in register-file slot `slot`. Callers pass only slots the
/// verifier typed `str` (rules F5, F6 and M3 for natives' arguments).
pub fn slot_str(vm: &Vm, slot: usize) -> &str {
    // SAFETY: by the caller's contract the slot holds a live string, which stays alive
    // while `vm` is borrowed (no collection can run).
    unsafe { raw::str_text(raw::obj(vm.stack[slot])) }
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
        array_push(vm, o, value)?;
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
    let total: usize = (0..count).map(|i| slot_str(vm, args + i).len()).sum();
    vm.charge_bytes(total)?;
    vm.reserve(raw::STR_BYTES + total);
    let o = vm.heap.alloc_str(total).map_err(heap_trap)?;
    let mut at = 0;
    for i in 0..count {
        let bytes = slot_str(vm, args + i).as_bytes();
        // SAFETY: `o` has `total` bytes; the parts add up to `total`. The heap does not
        // collect inside `alloc_str`, so the parts are still live.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), raw::str_bytes_mut(o).add(at), bytes.len()) };
        at += bytes.len();
    }
    Ok(o as u64)
}
