//! Numeric limits of the bytecode format. Each one is named in the error that enforces it.

/// Magic number at the start of every `.bc` file.
pub const MAGIC: [u8; 4] = *b"\x7fKBC";
/// The format version this crate writes and the only one it reads (2 added enums; 4 host imports, the initialiser and exports).
pub const FORMAT_VERSION: u32 = 4;
/// Interface methods in a module, all interfaces together: the run form numbers its
/// interface call sites in 16 bits.
pub const MAX_IFACE_METHODS: usize = u16::MAX as usize;
/// Variants per enum: the run form holds a tag in 16 bits.
pub const MAX_VARIANTS: usize = u16::MAX as usize;
/// Registers per function: the run form addresses registers with 16 bits.
pub const MAX_REGS: usize = u16::MAX as usize;
/// Instructions per function: branch targets are 16-bit in the run form.
pub const MAX_CODE_LEN: usize = u16::MAX as usize;
/// Functions, types and globals per module (24-bit in the run form).
pub const MAX_ITEMS: usize = 1 << 24;
/// Fields per struct and imports per module (16-bit in the run form).
pub const MAX_FIELDS: usize = u16::MAX as usize;
/// Imports per module: the run form numbers built-in natives and then host imports in
/// 16 bits, so room is left for the built-ins.
pub const MAX_IMPORTS: usize = u16::MAX as usize - 256;
/// Constants per module.
pub const MAX_CONSTS: usize = 1 << 24;
/// How deeply structs may nest inside structs (inline fields of struct type).
pub const MAX_STRUCT_DEPTH: usize = 256;
/// Largest definite-assignment state of one function the verifier builds (rule F8), in
/// intervals of registers summed over the function's basic blocks (8 bytes each): at
/// most `MAX_DATAFLOW_INTERVALS_BASE` + 2 per instruction and register of the function,
/// and never more than this (8 MiB). Compiled code needs a few per block; the compiler
/// reports a function over it as too large.
pub const MAX_DATAFLOW_INTERVALS: usize = 1 << 20;
/// See [`MAX_DATAFLOW_INTERVALS`].
pub const MAX_DATAFLOW_INTERVALS_BASE: usize = 1 << 12;
/// Largest `.bc` file the decoder accepts, in bytes (64 MiB); `vmrun` refuses a larger
/// input before reading all of it.
pub const MAX_MODULE_BYTES: usize = 64 << 20;
