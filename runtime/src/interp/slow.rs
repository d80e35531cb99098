//! Out-of-line instruction handlers: the ones that allocate, move many elements or
//! charge fuel by size. The dispatch loop saves the pc before calling any of these.

use super::op::{Op, SortKind};
use super::text;
use super::trap::{Stop, TrapKind};
use crate::gc::raw::{self, Header};
use crate::instance::{heap_trap, Vm};
use std::io::Write;

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
    unsafe { slot_text(vm, slot) }
}

/// The text of the string `r` refers to, or `None` for null. Callers pass only values
/// the verifier typed `str` (a result or element of that type, rule F5).
pub fn ref_str(_vm: &Vm, r: u64) -> Option<&str> {
    // SAFETY: by the caller's contract `r` is null or a live string, which stays alive
    // while `vm` is borrowed (no collection can run).
    (r != 0).then(|| unsafe { raw::str_text(raw::obj(r)) })
}

/// The elements of the array `r` refers to, or `None` for null. Callers pass only values
/// the verifier typed as an array.
pub fn ref_array(_vm: &Vm, r: u64) -> Option<&[u64]> {
    // SAFETY: by the caller's contract `r` is null or a live array, which stays alive and
    // keeps its buffer while `vm` is borrowed (no collection or growth can run).
    (r != 0).then(|| unsafe { &*raw::array_slice(raw::obj(r)) })
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

/// Sorts an array in place. Fuel: `n * ceil(log2(n + 1))` for the comparisons, and for
/// strings also `ceil(log2(n + 1))` units per started 8 bytes of all the strings (each
/// merge level compares each string at most once against a neighbour).
///
/// # Safety
/// `o` is a live array whose elements have the kind `kind` (rule F5).
pub unsafe fn array_sort(vm: &mut Vm, kind: SortKind, o: *mut Header) -> Result<(), Stop> {
    // SAFETY: caller guarantees `o` and its element kind; sorting does not allocate, so
    // no collection runs while the slice is borrowed.
    unsafe {
        let items = raw::array_slice(o);
        let n = items.len() as u64;
        let levels = u64::from(64 - n.leading_zeros());
        let mut cost = n.saturating_mul(levels);
        if kind == SortKind::Str {
            let bytes: u64 = items.iter().map(|&s| raw::str_len(raw::obj(s)) as u64).sum();
            cost = cost.saturating_add(levels.saturating_mul(bytes.div_ceil(8)));
        }
        vm.charge(cost)?;
        // Unstable sorts work in place (no host buffer as large as the array). Elements
        // that compare equal are indistinguishable in Kiln (equal floats in total order
        // have equal bits; equal strings equal bytes), so stability is not observable.
        // Every 2^16 comparisons the sort looks whether the run must stop; if so it
        // unwinds out of the comparator (without the panic hook), which leaves the array
        // a permutation of its elements.
        struct Stopped;
        let mut compared = 0u32;
        let interrupt = std::sync::Arc::clone(&vm.interrupt);
        let mut look = || {
            compared = compared.wrapping_add(1);
            if compared & 0xffff == 0 && interrupt.requested() {
                std::panic::resume_unwind(Box::new(Stopped));
            }
        };
        let sorted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match kind {
            SortKind::Int => items.sort_unstable_by(|a, b| {
                look();
                (*a as i64).cmp(&(*b as i64))
            }),
            SortKind::Float => items.sort_unstable_by(|a, b| {
                look();
                f64::from_bits(*a).total_cmp(&f64::from_bits(*b))
            }),
            SortKind::Str => items.sort_unstable_by(|a, b| {
                look();
                kiln_bytecode::ops::str_cmp(raw::str_bytes(raw::obj(*a)), raw::str_bytes(raw::obj(*b)))
            }),
        }));
        match sorted {
            Ok(()) => Ok(()),
            Err(payload) if payload.is::<Stopped>() => Err(vm.interrupt_trap().into()),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

/// A new array of the `count` values in slots `first..`: one unit of fuel per full 8
/// elements on top of the instruction's own.
pub fn new_array(vm: &mut Vm, elem_ref: bool, first: usize, count: usize) -> Result<u64, Stop> {
    vm.charge(count as u64 / 8)?;
    vm.new_array_from_slots(elem_ref, first, count)
}

/// A new struct of type `ty` whose fields are slots `first..`: one unit of fuel per full 8
/// field slots on top of the instruction's own.
pub fn new_struct(vm: &mut Vm, ty: usize, first: usize) -> Result<u64, Stop> {
    vm.charge(u64::from(vm.module.descs[ty].n_fields) / 8)?;
    vm.new_struct_from_slots(ty, first)
}

/// Concatenates the strings in slots `args..args+count`.
pub fn concat(vm: &mut Vm, args: usize, count: usize) -> Result<u64, Stop> {
    let total: usize = (0..count).map(|i| slot_str(vm, args + i).len()).sum();
    vm.charge_bytes(total)?;
    vm.reserve(raw::STR_BYTES + total);
    let o = vm.heap.alloc_str(total).map_err(heap_trap)?;
    let mut at = 0;
    let mut since_look = 0;
    for i in 0..count {
        let bytes = slot_str(vm, args + i).as_bytes();
        // A long copy looks every `POLL_BYTES` whether the run must stop (the string then
        // gets zero bytes where the copy did not reach, and the run traps).
        for chunk in bytes.chunks(crate::gc::POLL_BYTES) {
            if since_look >= crate::gc::POLL_BYTES {
                since_look = 0;
                if vm.interrupt.requested() {
                    // SAFETY: `at..total` lies inside the fresh string `o`.
                    unsafe { std::ptr::write_bytes(raw::str_bytes_mut(o).add(at), 0, total - at) };
                    return Err(vm.interrupt_trap().into());
                }
            }
            // SAFETY: `o` has `total` bytes; the parts add up to `total`. The heap does not
            // collect inside `alloc_str`, so the parts are still live.
            unsafe {
                std::ptr::copy_nonoverlapping(chunk.as_ptr(), raw::str_bytes_mut(o).add(at), chunk.len())
            };
            at += chunk.len();
            since_look += chunk.len();
        }
    }
    Ok(o as u64)
}

/// Writes the string in register-file slot `slot` (and a newline) to the instance's
/// stdout or stderr, without copying it first.
pub fn write_str_slot(vm: &mut Vm, slot: usize, to_stderr: bool, newline: bool) -> std::io::Result<()> {
    // SAFETY: the caller passes a slot typed `str` (rule M3 for a native's arguments), so it
    // holds a live string. The string's bytes are GC heap memory, disjoint from the sinks
    // borrowed below, and nothing here allocates, so no collection can free them.
    let text = unsafe { slot_bytes(vm, slot) };
    let sink = if to_stderr { &mut vm.io.stderr } else { &mut vm.io.stdout };
    sink.write_all(text)?;
    if newline {
        sink.write_all(b"\n")?;
    }
    Ok(())
}

/// The string in register-file slot `slot`, read through its raw pointer.
///
/// # Safety
/// The slot is typed `str` (rules F5, M3), so it holds a live string; the result is valid
/// until the next collection, and the slot keeps the string alive through collections.
unsafe fn slot_bytes<'a>(vm: &Vm, slot: usize) -> &'a [u8] {
    // SAFETY: by the caller's contract.
    unsafe { raw::str_bytes(raw::obj(vm.stack.get(slot))) }
}

/// The text of the string in register-file slot `slot`, read through its raw pointer.
///
/// # Safety
/// As for [`slot_bytes`].
unsafe fn slot_text<'a>(vm: &Vm, slot: usize) -> &'a str {
    // SAFETY: by the caller's contract.
    unsafe { raw::str_text(raw::obj(vm.stack.get(slot))) }
}

/// A new string holding bytes `from..to` of the string in slot `slot` (the caller has
/// checked the range and its character boundaries), copied heap to heap: no host buffer.
pub fn new_substr(vm: &mut Vm, slot: usize, from: usize, to: usize) -> Result<u64, Stop> {
    vm.reserve(raw::STR_BYTES + (to - from));
    // SAFETY: the slot is a string argument of a native (rule M3); it stays alive through
    // the collection `reserve` may run, and nothing collects after it.
    let bytes = unsafe { slot_bytes(vm, slot) };
    Ok(vm.heap.alloc_str_from(&bytes[from..to]).map_err(heap_trap)? as u64)
}

/// `s.split(sep)`: the parts between occurrences of `sep`, or the characters when `sep`
/// is empty. Counts first, charges fuel (one unit per started 8 bytes and one per part)
/// and the heap for everything, then builds the array: no host memory grows with `s`.
pub fn split(vm: &mut Vm, s_slot: usize, sep_slot: usize) -> Result<u64, Stop> {
    // SAFETY: both slots are string arguments of a native (rule M3). They are re-read
    // after `reserve`, the only point where a collection may run.
    let (s, sep) = unsafe { (slot_text(vm, s_slot), slot_text(vm, sep_slot)) };
    vm.charge_bytes(s.len())?;
    // A one-byte separator (the common case) is searched for byte-wise, faster than a
    // substring search.
    let byte_sep = match sep.as_bytes() {
        [b] if b.is_ascii() => Some(*b),
        _ => None,
    };
    // Counted `POLL_BYTES` at a time, looking between whether the run must stop.
    let mut parts = usize::from(!sep.is_empty());
    for (k, chunk) in s.as_bytes().chunks(crate::gc::POLL_BYTES).enumerate() {
        if k > 0 && vm.interrupt.requested() {
            return Err(vm.interrupt_trap().into());
        }
        parts += match byte_sep {
            // Characters: the bytes that do not continue one.
            _ if sep.is_empty() => chunk.iter().filter(|&&c| c & 0xc0 != 0x80).count(),
            Some(b) => chunk.iter().filter(|&&c| c == b).count(),
            None => 0,
        };
    }
    if byte_sep.is_none() && !sep.is_empty() {
        parts += s.matches(sep).count();
    }
    vm.charge(parts as u64)?;
    let text_bytes = if sep.is_empty() { s.len() } else { s.len() - (parts - 1) * sep.len() };
    let size = (raw::ARRAY_SIZE + parts * (8 + raw::STR_BYTES)).saturating_add(text_bytes);
    vm.reserve(size);
    // SAFETY: as above; no collection runs from here on.
    let (s, sep) = unsafe { (slot_text(vm, s_slot), slot_text(vm, sep_slot)) };
    let interrupt = std::sync::Arc::clone(&vm.interrupt);
    let mut stop = || interrupt.requested();
    let heap = &mut vm.heap;
    let arr = heap.alloc_array(true, parts).map_err(heap_trap)?;
    // Parts are copied `POLL_BYTES` at a time with a look between (`Heap::alloc_str_polled`),
    // and the run is asked again after every `POLL_BYTES` of parts.
    let mut since_look = 0usize;
    // `Ok(false)`: the run must stop.
    let mut push = |heap: &mut crate::gc::Heap, part: &str| -> Result<bool, Stop> {
        since_look += part.len() + 16;
        if since_look >= crate::gc::POLL_BYTES {
            since_look = 0;
            if stop() {
                return Ok(false);
            }
        }
        let Some(o) = heap.alloc_str_polled(part.as_bytes(), &mut stop).map_err(heap_trap)? else {
            return Ok(false);
        };
        // SAFETY: `arr` is a live array (allocated above; nothing collects here).
        unsafe { heap.array_push(arr, o as u64) }.map_err(heap_trap)?;
        Ok(true)
    };
    let mut each = |parts: &mut dyn Iterator<Item = &str>| -> Result<bool, Stop> {
        for part in parts {
            if !push(heap, part)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let finished = if sep.is_empty() {
        each(&mut s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]))
    } else if let Some(b) = byte_sep {
        each(&mut s.split(char::from(b)))
    } else {
        each(&mut s.split(sep))
    }?;
    if !finished {
        return Err(vm.interrupt_trap().into());
    }
    Ok(arr as u64)
}

/// Runs one of the instructions compiled code leaves to these handlers (`jit/translate/instr.rs`
/// lists them), on the register file, for the frame whose register 0 is slot `base`:
/// the same handlers, in the same order, as the dispatch loop.
pub fn run_slow_op(vm: &mut Vm, op: Op, base: usize) -> Result<(), Stop> {
    let get = |vm: &Vm, r: u16| vm.stack.get(base + r as usize);
    let obj = |vm: &Vm, r: u16| raw::obj(vm.stack.get(base + r as usize));
    let put = |vm: &mut Vm, r: u16, v: u64| vm.stack.set(base + r as usize, v);
    match op {
        Op::IntToStr { dst, src } => {
            let v = int_to_str(vm, get(vm, src) as i64)?;
            put(vm, dst, v);
        }
        Op::FloatToStr { dst, src } => {
            let v = float_to_str(vm, f64::from_bits(get(vm, src)))?;
            put(vm, dst, v);
        }
        Op::BoolToStr { dst, src } => {
            let v = bool_to_str(vm, get(vm, src) != 0)?;
            put(vm, dst, v);
        }
        Op::EqS { dst, a, b } | Op::NeS { dst, a, b } | Op::LtS { dst, a, b } | Op::LeS { dst, a, b } => {
            let order = compare_strs(vm, base, a, b)?;
            let v = match op {
                Op::EqS { .. } => order.is_eq(),
                Op::NeS { .. } => order.is_ne(),
                Op::LtS { .. } => order.is_lt(),
                _ => order.is_le(),
            };
            put(vm, dst, v as u64);
        }
        Op::CallNative { dst, args, native } => {
            crate::natives::call(vm, native, base + args as usize, base + dst as usize)?
        }
        Op::NewStruct { dst, ty, args } => {
            let v = new_struct(vm, ty.get(), base + args as usize)?;
            put(vm, dst, v);
        }
        Op::NewArray { elem_ref, dst, args, count } => {
            let v = new_array(vm, elem_ref, base + args as usize, count as usize)?;
            put(vm, dst, v);
        }
        Op::ArrayFill { elem_ref, dst, val, len } => {
            let v = array_fill(vm, elem_ref, get(vm, val), get(vm, len) as i64)?;
            put(vm, dst, v);
        }
        Op::ArrayPush { arr, src } => {
            let (o, v) = (obj(vm, arr), get(vm, src));
            // SAFETY: rule F5: `arr` holds a live array, rooted by its register across
            // any collection.
            unsafe { array_push(vm, o, v)? }
        }
        Op::ArrayInsert { arr, idx, src } => {
            let (o, i, v) = (obj(vm, arr), get(vm, idx) as i64, get(vm, src));
            // SAFETY: as for `ArrayPush`.
            unsafe { array_insert(vm, o, i, v)? }
        }
        Op::ArrayRemove { dst, arr, idx } => {
            let (o, i) = (obj(vm, arr), get(vm, idx) as i64);
            // SAFETY: as for `ArrayPush`.
            let v = unsafe { array_remove(vm, o, i)? };
            put(vm, dst, v);
        }
        Op::ArraySort { kind, arr } => {
            let o = obj(vm, arr);
            // SAFETY: as for `ArrayPush`; `prepare` recorded the elements' kind.
            unsafe { array_sort(vm, kind, o)? }
        }
        Op::ConcatN { dst, args, count } => {
            let v = concat(vm, base + args as usize, count as usize)?;
            put(vm, dst, v);
        }
        other => unreachable!("compiled code runs {other:?} itself"),
    }
    Ok(())
}

/// Compares the strings in registers `a` and `b` of the frame at `base`, charging one
/// unit of fuel per full 8 bytes of the shorter (as the dispatch loop does).
fn compare_strs(vm: &mut Vm, base: usize, a: u16, b: u16) -> Result<std::cmp::Ordering, Stop> {
    let (ra, rb) = (vm.stack.get(base + a as usize), vm.stack.get(base + b as usize));
    // SAFETY: rule F5: both registers hold live strings; charging does not collect.
    let (x, y) = unsafe { (raw::str_bytes(raw::obj(ra)), raw::str_bytes(raw::obj(rb))) };
    let cost = (x.len().min(y.len()) / 8) as u64;
    let order = kiln_bytecode::ops::str_cmp(x, y);
    vm.charge(cost)?;
    Ok(order)
}
