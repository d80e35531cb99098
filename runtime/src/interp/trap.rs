//! Why a run stopped early: traps and `exit()`, and the stack traces traps carry.

use std::fmt;

/// A trap: the instance cannot continue.
#[derive(Debug, Clone, PartialEq)]
pub enum TrapKind {
    /// Integer division or remainder by zero.
    DivisionByZero,
    /// Array index outside `0..len` (or `0..=len` for insert).
    IndexOutOfBounds {
        /// The index used.
        index: i64,
        /// The array's length.
        len: usize,
    },
    /// `[x; n]` with a negative `n`.
    NegativeLength(i64),
    /// A string slice or similar argument is invalid.
    InvalidArgument(String),
    /// `panic(msg)`.
    Panic(String),
    /// `assert` failed, with its message if one was given.
    AssertionFailed(Option<String>),
    /// Too many nested calls.
    StackOverflow,
    /// The heap limit would be exceeded.
    HeapExhausted {
        /// The limit in bytes.
        limit: usize,
    },
    /// The fuel limit was reached.
    FuelExhausted,
    /// The host interrupted the instance.
    Interrupted,
    /// The run passed its wall-clock deadline (`Limits::timeout`).
    Timeout {
        /// The limit.
        limit: std::time::Duration,
    },
    /// The program wrote more than `Limits::max_output` bytes to stdout and stderr.
    OutputLimit {
        /// The limit in bytes.
        limit: u64,
    },
    /// Code the compiler marked unreachable was reached.
    Unreachable,
    /// `OptGet` of none (the compiler tests first, so only hand-written bytecode gets
    /// here).
    NoneUnwrapped,
    /// A `for` over a map saw the map change.
    MapModified,
    /// `m[k]` with a key the map does not hold (the key, as text).
    MissingKey(String),
    /// `AsVariant` met another variant than the one named (the compiler checks the
    /// tag first, so only hand-written bytecode gets here).
    WrongVariant,
    /// Writing to the instance's output failed.
    Io(String),
    /// A reference-typed global (str, array, struct) was read before its initialiser
    /// ran (from a function an earlier global's initialiser called).
    GlobalUninitialised(String),
    /// A host function failed (it returned an error, panicked, or returned a value of
    /// the wrong type).
    Host {
        /// The host function's name.
        function: String,
        /// What it said.
        message: String,
    },
    /// A fault inside the runtime itself (a bug): the instance stops, the host does not.
    Internal(String),
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrapKind::DivisionByZero => write!(f, "division by zero"),
            TrapKind::IndexOutOfBounds { index, len } => {
                write!(f, "index out of bounds: index {index}, length {len}")
            }
            TrapKind::NegativeLength(n) => write!(f, "negative array length {n}"),
            TrapKind::InvalidArgument(what) => write!(f, "{what}"),
            TrapKind::Panic(msg) => write!(f, "panic: {msg}"),
            TrapKind::AssertionFailed(None) => write!(f, "assertion failed"),
            TrapKind::AssertionFailed(Some(msg)) => write!(f, "assertion failed: {msg}"),
            TrapKind::StackOverflow => write!(f, "stack overflow"),
            TrapKind::HeapExhausted { limit } => {
                write!(f, "out of memory: heap limit of {limit} bytes exceeded")
            }
            TrapKind::FuelExhausted => write!(f, "fuel exhausted"),
            TrapKind::Interrupted => write!(f, "interrupted"),
            TrapKind::Timeout { limit } => write!(f, "deadline exceeded: the run took longer than {limit:?}"),
            TrapKind::OutputLimit { limit } => {
                write!(f, "output limit exceeded: more than {limit} bytes written")
            }
            TrapKind::Unreachable => write!(f, "reached unreachable code"),
            TrapKind::NoneUnwrapped => write!(f, "option is none where a value was expected"),
            TrapKind::MapModified => write!(f, "map modified during iteration"),
            TrapKind::MissingKey(k) => write!(f, "missing map key: {k}"),
            TrapKind::WrongVariant => write!(f, "enum value is not the variant the code expected"),
            TrapKind::Io(e) => write!(f, "cannot write output: {e}"),
            TrapKind::GlobalUninitialised(name) => write!(f, "global `{name}` read before initialisation"),
            TrapKind::Host { function, message } => write!(f, "host function `{function}` failed: {message}"),
            TrapKind::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

/// How a run stopped before its entry function returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// A trap.
    Trap(TrapKind),
    /// `exit(code)`.
    Exit(i32),
}

impl From<TrapKind> for Stop {
    fn from(kind: TrapKind) -> Stop {
        Stop::Trap(kind)
    }
}

/// One line of a stack trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFrame {
    /// Function name (`main`, `Point.norm`).
    pub function: String,
    /// Source file, relative to the entry file's folder.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// A trap with the stack at the moment it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Trap {
    /// What went wrong.
    pub kind: TrapKind,
    /// Innermost frame first.
    pub trace: Vec<TraceFrame>,
}

/// Frames shown at each end of a long trace.
const TRACE_ENDS: usize = 10;

impl fmt::Display for Trap {
    /// `error: <what>` and one `  at <function> (<file>:<line>:<col>)` line per frame;
    /// a trace deeper than twenty frames shows the first and last ten.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.kind)?;
        let n = self.trace.len();
        for (i, fr) in self.trace.iter().enumerate() {
            if n > 2 * TRACE_ENDS && i == TRACE_ENDS {
                writeln!(f, "  ... {} frames omitted ...", n - 2 * TRACE_ENDS)?;
            }
            if n > 2 * TRACE_ENDS && (TRACE_ENDS..n - TRACE_ENDS).contains(&i) {
                continue;
            }
            writeln!(f, "  at {} ({}:{}:{})", fr.function, fr.file, fr.line, fr.col)?;
        }
        Ok(())
    }
}
