//! Output, arguments, the clock, and the natives that stop the instance.

use super::Args;
use crate::instance::stdin::ReadError;
use crate::instance::Vm;
use crate::interp::trap::{Stop, TrapKind};
use kiln_bytecode::natives::Native;

pub(super) fn print(vm: &mut Vm, id: Native, a: &Args) -> Result<(), Stop> {
    let newline = matches!(id, Native::Println | Native::Eprintln);
    let to_stderr = matches!(id, Native::Eprint | Native::Eprintln);
    let len = a.str_ref(vm, 0).len() + usize::from(newline);
    // Fuel first: a run that cannot pay for the output writes none of it.
    vm.charge_io(len)?;
    if let Some(limit) = vm.limits.max_output {
        if vm.io.bytes_written.saturating_add(len as u64) > limit {
            return Err(TrapKind::OutputLimit { limit }.into());
        }
    }
    crate::interp::write_str_slot(vm, a.slot(0), to_stderr, newline)
        .map_err(|e| Stop::Trap(TrapKind::Io(e.to_string())))?;
    vm.io.bytes_written += len as u64;
    Ok(())
}

/// `panic`, `assert`, `assert_msg`, `exit`: the natives that may stop the instance.
pub(super) fn check(vm: &mut Vm, id: Native, a: &Args) -> Result<(), Stop> {
    match id {
        // The message is copied into the trap: charged like output.
        Native::Panic => {
            vm.charge_bytes(a.str_ref(vm, 0).len())?;
            Err(TrapKind::Panic(a.string(vm, 0)).into())
        }
        // Exit statuses are 0 to 255; a status outside that range is a failure, 255.
        Native::Exit => Err(Stop::Exit(u8::try_from(a.int(vm, 0)).map_or(255, i32::from))),
        Native::Assert if !a.bool(vm, 0) => Err(TrapKind::AssertionFailed(None).into()),
        Native::AssertMsg if !a.bool(vm, 0) => {
            vm.charge_bytes(a.str_ref(vm, 1).len())?;
            Err(TrapKind::AssertionFailed(Some(a.string(vm, 1))).into())
        }
        _ => Ok(()),
    }
}

/// `args()`: one unit per argument and per started 8 bytes of them.
pub(super) fn args(vm: &mut Vm) -> Result<u64, Stop> {
    let list = std::mem::take(&mut vm.args);
    let bytes: usize = list.iter().map(String::len).sum();
    let charged = vm.charge(list.len() as u64).and_then(|()| vm.charge_bytes(bytes));
    let parts: Vec<&str> = list.iter().map(String::as_str).collect();
    let made = charged.and_then(|()| vm.new_str_array(&parts));
    drop(parts);
    vm.args = list;
    made
}

/// Nanoseconds since the instance was created (monotonic).
pub(super) fn clock_ns(vm: &Vm) -> u64 {
    vm.started.elapsed().as_nanos() as u64
}

/// `env.get(name)`: `[value]` for a granted variable, `[]` otherwise.
pub(super) fn env_get(vm: &mut Vm, a: &Args) -> Result<u64, Stop> {
    let name = a.string(vm, 0);
    vm.charge_io(name.len())?;
    let value = vm.caps.env(&name).map(str::to_owned);
    vm.new_str_array(&value.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `io.read_line()`: `["ok", line]`, `["eof"]`, or `["err", why]`. Waiting for input
/// stops at an interrupt or the deadline, like any other long operation.
pub(super) fn read_line(vm: &mut Vm) -> Result<u64, Stop> {
    vm.charge(crate::instance::limits::IO_CALL_FUEL)?;
    let interrupt = std::sync::Arc::clone(&vm.interrupt);
    let max_len = vm.limits.max_heap;
    let Some(stdin) = vm.stdin.as_mut() else {
        return vm.new_str_array(&["err", "permission denied: stdin was not granted"]);
    };
    match stdin.read_line(&interrupt, max_len) {
        Ok(None) => vm.new_str_array(&["eof"]),
        Ok(Some((line, consumed))) => {
            vm.io.bytes_read += consumed as u64;
            vm.charge_bytes(consumed)?;
            match String::from_utf8(line) {
                Ok(text) => vm.new_str_array(&["ok", &text]),
                Err(_) => vm.new_str_array(&["err", "stdin: a line is not UTF-8 text"]),
            }
        }
        Err(ReadError::Interrupted) => Err(vm.interrupt_trap().into()),
        Err(ReadError::TooLong) => Err(TrapKind::HeapExhausted { limit: max_len }.into()),
        Err(ReadError::Io(e)) => vm.new_str_array(&["err", &format!("stdin: {e}")]),
    }
}
