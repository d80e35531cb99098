//! The host side of the built-in natives declared in `kiln_bytecode::natives`.
//!
//! Each native reads its arguments from the caller's register window and writes its
//! result to the caller's `dst` slot. Natives that allocate more than once keep their
//! intermediate objects in `Heap::temp_roots`.

mod fs;
mod io;
mod math;
mod strings;

use crate::instance::Vm;
use crate::interp::trap::{Stop, TrapKind};
use kiln_bytecode::natives::{Native, NATIVES};

/// Arguments of one native call: absolute register-file slots.
pub(crate) struct Args {
    base: usize,
}

impl Args {
    /// The register-file slot of argument `i`.
    fn slot(&self, i: usize) -> usize {
        self.base + i
    }
    fn int(&self, vm: &Vm, i: usize) -> i64 {
        vm.stack.get(self.base + i) as i64
    }
    fn float(&self, vm: &Vm, i: usize) -> f64 {
        f64::from_bits(vm.stack.get(self.base + i))
    }
    fn bool(&self, vm: &Vm, i: usize) -> bool {
        vm.stack.get(self.base + i) != 0
    }
    /// A string argument, copied out so the native may allocate afterwards.
    fn string(&self, vm: &Vm, i: usize) -> String {
        self.str_ref(vm, i).to_owned()
    }
    /// A string argument, borrowed from the heap while `vm` is borrowed. Natives read
    /// only the parameters their signature (checked by rule M3) declares `str`.
    fn str_ref<'v>(&self, vm: &'v Vm, i: usize) -> &'v str {
        crate::interp::slot_str(vm, self.base + i)
    }
}

/// Calls native number `native` with arguments in slots `args..`, result to slot `dst`.
pub fn call(vm: &mut Vm, native: u16, args: usize, dst: usize) -> Result<(), Stop> {
    let a = Args { base: args };
    // Numbers past the built-ins are the instance's linked host functions (`loader`).
    let Some(decl) = NATIVES.get(native as usize) else {
        return crate::api::call_host(vm, native as usize - NATIVES.len(), args, dst);
    };
    let id = decl.id;
    let result: Option<u64> = match id {
        Native::Print | Native::Println | Native::Eprint | Native::Eprintln => {
            io::print(vm, id, &a)?;
            None
        }
        Native::HashInt => Some(crate::natives::strings::hash_int(a.int(vm, 0))),
        Native::HashStr => {
            let s = a.str_ref(vm, 0);
            let h = crate::natives::strings::hash_bytes(s.as_bytes());
            vm.charge_bytes(s.len())?;
            Some(h)
        }
        Native::MapModified => return Err(TrapKind::MapModified.into()),
        Native::MissingKey => return Err(TrapKind::MissingKey(a.string(vm, 0)).into()),
        Native::Panic | Native::Assert | Native::AssertMsg | Native::Exit => {
            io::check(vm, id, &a)?;
            None
        }
        Native::Args => Some(io::args(vm)?),
        Native::FsReadText => Some(fs::read_text(vm, &a)?),
        Native::FsWriteText => Some(fs::write_text(vm, &a)?),
        Native::FsList => Some(fs::list(vm, &a)?),
        Native::EnvGet => Some(io::env_get(vm, &a)?),
        Native::IoReadLine => Some(io::read_line(vm)?),
        Native::ClockNs => Some(io::clock_ns(vm)),
        Native::StrSlice
        | Native::StrByteAt
        | Native::StrContains
        | Native::StrStartsWith
        | Native::StrEndsWith
        | Native::StrSplit
        | Native::StrTrim
        | Native::FromCharCode
        | Native::StrFind
        | Native::StrIsInt
        | Native::StrToInt
        | Native::StrIsFloat
        | Native::StrToFloat => Some(strings::call(vm, id, &a)?),
        Native::AbsInt
        | Native::AbsFloat
        | Native::MinInt
        | Native::MaxInt
        | Native::MinFloat
        | Native::MaxFloat
        | Native::Sqrt
        | Native::Floor
        | Native::Ceil
        | Native::Round
        | Native::Sin
        | Native::Cos
        | Native::Exp
        | Native::Ln
        | Native::Pow => Some(math::call(vm, id, &a)),
    };
    if let Some(v) = result {
        vm.stack.set(dst, v);
    }
    Ok(())
}
