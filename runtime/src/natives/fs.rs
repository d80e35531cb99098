//! `fs.read_text`, `fs.write_text`, `fs.list`: files in the directories the host granted
//! (`instance/caps.rs`). Every refusal and failure is an answer for the program
//! (`["err", message]`), never a trap; only the instance's own limits (fuel, heap,
//! interrupt) trap.

use super::Args;
use crate::instance::caps::Access;
use crate::instance::Vm;
use crate::interp::trap::{Stop, TrapKind};
use std::io::Read;

/// `["ok", text]` or `["err", why]`.
pub(super) fn read_text(vm: &mut Vm, a: &Args) -> Result<u64, Stop> {
    let path = a.string(vm, 0);
    vm.charge_io(path.len())?;
    // The file must fit in the heap: read at most one byte more than the whole heap.
    let most = vm.limits.max_heap as u64 + 1;
    let read = vm.caps.resolve(&path, Access::Read).and_then(|(dir, rel)| {
        if rel.as_os_str().is_empty() {
            return Err(format!("not a file: {path}"));
        }
        let meta = dir.metadata(&rel).map_err(|e| message(&e, &path))?;
        if !meta.is_file() {
            return Err(format!("not a file: {path}"));
        }
        let file = dir.open(&rel).map_err(|e| message(&e, &path))?;
        let mut bytes = Vec::new();
        file.take(most).read_to_end(&mut bytes).map_err(|e| message(&e, &path))?;
        Ok(bytes)
    });
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(why) => return vm.new_str_array(&["err", &why]),
    };
    if bytes.len() as u64 >= most {
        return Err(TrapKind::HeapExhausted { limit: vm.limits.max_heap }.into());
    }
    vm.charge_bytes(bytes.len())?;
    vm.io.bytes_read += bytes.len() as u64;
    match String::from_utf8(bytes) {
        Ok(text) => vm.new_str_array(&["ok", &text]),
        Err(_) => vm.new_str_array(&["err", &format!("not UTF-8 text: {path}")]),
    }
}

/// `["ok"]` or `["err", why]`; creates or replaces the file.
pub(super) fn write_text(vm: &mut Vm, a: &Args) -> Result<u64, Stop> {
    let path = a.string(vm, 0);
    let len = a.str_ref(vm, 1).len();
    vm.charge_io(path.len() + len)?;
    let written = vm.caps.resolve(&path, Access::Write).and_then(|(dir, rel)| {
        if rel.as_os_str().is_empty() {
            return Err(format!("not a file: {path}"));
        }
        dir.write(&rel, a.str_ref(vm, 1).as_bytes()).map_err(|e| message(&e, &path))
    });
    match written {
        Ok(()) => {
            vm.io.file_bytes_written += len as u64;
            vm.new_str_array(&["ok"])
        }
        Err(why) => vm.new_str_array(&["err", &why]),
    }
}

/// `["ok", names...]` (sorted) or `["err", why]`.
pub(super) fn list(vm: &mut Vm, a: &Args) -> Result<u64, Stop> {
    let path = a.string(vm, 0);
    vm.charge_io(path.len())?;
    let listed = vm.caps.resolve(&path, Access::Read).and_then(|(dir, rel)| {
        let entries = if rel.as_os_str().is_empty() { dir.entries() } else { dir.read_dir(&rel) };
        let mut names = Vec::new();
        for entry in entries.map_err(|e| message(&e, &path))? {
            let entry = entry.map_err(|e| message(&e, &path))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    });
    match listed {
        Ok(mut names) => {
            names.sort_unstable();
            let bytes: usize = names.iter().map(String::len).sum();
            vm.charge(names.len() as u64)?;
            vm.charge_bytes(bytes)?;
            let mut parts: Vec<&str> = Vec::with_capacity(names.len() + 1);
            parts.push("ok");
            parts.extend(names.iter().map(String::as_str));
            vm.new_str_array(&parts)
        }
        Err(why) => vm.new_str_array(&["err", &why]),
    }
}

/// What the program is told about a failed file operation on `path`.
fn message(e: &std::io::Error, path: &str) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => format!("not found: {path}"),
        std::io::ErrorKind::PermissionDenied => format!("permission denied: {path}"),
        _ => format!("{path}: {e}"),
    }
}
