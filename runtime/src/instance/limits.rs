//! Per-instance resource limits, with their defaults, in one place.

/// Default heap limit: 1 GiB.
pub const DEFAULT_MAX_HEAP: usize = 1 << 30;
/// Default deepest Kiln call stack, in frames.
pub const DEFAULT_MAX_CALL_DEPTH: usize = 100_000;
/// Default register-file size, in 64-bit slots (32 MiB, committed lazily by the OS).
pub const DEFAULT_STACK_SLOTS: usize = 1 << 22;

/// Largest accepted `max_call_depth`; larger requests are clamped (the frame stack is
/// reserved up front).
pub const MAX_CALL_DEPTH: usize = 1 << 22;
/// Largest accepted `stack_slots` (2 GiB of registers); larger requests are clamped.
pub const MAX_STACK_SLOTS: usize = 1 << 28;

/// Fixed fuel cost of one output call (`print` and the others), on top of one unit per
/// started 8 bytes: it stands for the system call a write may make.
pub const IO_CALL_FUEL: u64 = 16;

/// What one instance may use. Exceeding a limit traps the instance, never the host.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most bytes the instance's heap may hold at once.
    pub max_heap: usize,
    /// Fuel available, or `None` for unmetered (still counted for statistics).
    pub fuel: Option<u64>,
    /// Deepest call stack, in frames.
    pub max_call_depth: usize,
    /// Register-file size in slots; each frame takes as many as its function has registers.
    pub stack_slots: usize,
    /// Wall-clock time one run (`Instance::run`) may take, or `None` for no deadline.
    /// The engine's timer interrupts the run when it passes; it traps `deadline
    /// exceeded` at its next fuel check.
    pub timeout: Option<std::time::Duration>,
    /// Most bytes the instance may write to stdout and stderr together over its life,
    /// or `None` for no limit. The write that would pass it is not made.
    pub max_output: Option<u64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_heap: DEFAULT_MAX_HEAP,
            fuel: None,
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            stack_slots: DEFAULT_STACK_SLOTS,
            timeout: None,
            max_output: None,
        }
    }
}
