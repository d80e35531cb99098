//! Reading `.bc` bytes into a [`Module`].
//!
//! **Invariant:** decoding any byte string returns a module or a [`DecodeError`]; it never
//! panics and never allocates more than a small multiple of the input's size (every count
//! is checked against the bytes that remain before anything is reserved). Decoding checks
//! only the format; whether the module makes sense is the verifier's job.

use crate::encode::section;
use crate::isa::{Instr, Opcode};
use crate::limits::{FORMAT_VERSION, MAGIC, MAX_MODULE_BYTES};
use crate::module::*;

/// Why bytes are not a well-formed module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is larger than the format allows.
    #[error("module of {size} bytes or more is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Bytes seen (at least).
        size: u64,
        /// The limit, `limits::MAX_MODULE_BYTES`.
        limit: usize,
    },
    /// The file does not start with the Kiln magic number.
    #[error("not a Kiln bytecode file (bad magic number)")]
    BadMagic,
    /// The file was written by a newer format version.
    #[error("bytecode format version {found} is newer than this runtime supports (version {supported}); upgrade the runtime or rebuild the program")]
    NewerVersion {
        /// The file's version.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The file was written in an older format version, which this runtime no longer
    /// reads.
    #[error("bytecode format version {found} is older than this runtime reads (version {supported}); rebuild the program with this version's vmc")]
    OlderVersion {
        /// The file's version.
        found: u32,
        /// The only version this build reads.
        supported: u32,
    },
    /// Format version 0 does not exist.
    #[error("bytecode format version 0 is invalid")]
    InvalidVersion,
    /// A section is missing, repeated or out of order.
    #[error("expected section {expected} at byte {offset}, found {found}")]
    BadSection {
        /// Expected section id.
        expected: u8,
        /// Found section id.
        found: u8,
        /// Byte offset.
        offset: usize,
    },
    /// Bytes ended inside an item.
    #[error("unexpected end of data at byte {0}")]
    UnexpectedEnd(usize),
    /// A section's content is shorter or longer than its declared length.
    #[error("section {0} length does not match its content")]
    SectionLength(u8),
    /// Extra bytes after the last section.
    #[error("{0} trailing bytes after the last section")]
    TrailingBytes(usize),
    /// A tag byte or number is out of its range.
    #[error("invalid {what} at byte {offset}")]
    Invalid {
        /// What was being read.
        what: &'static str,
        /// Byte offset.
        offset: usize,
    },
    /// A count is larger than the remaining input can hold.
    #[error("{what} count {count} at byte {offset} exceeds the remaining input")]
    CountTooLarge {
        /// What was being counted.
        what: &'static str,
        /// The count.
        count: u64,
        /// Byte offset.
        offset: usize,
    },
    /// An unknown opcode byte.
    #[error("unknown opcode 0x{opcode:02x} at byte {offset}")]
    UnknownOpcode {
        /// The byte.
        opcode: u8,
        /// Byte offset.
        offset: usize,
    },
}

/// Decodes `.bc` bytes into a module. The result still has to be [verified](crate::verify).
pub fn decode(bytes: &[u8]) -> Result<Module, DecodeError> {
    if bytes.len() > MAX_MODULE_BYTES {
        return Err(DecodeError::TooLarge { size: bytes.len() as u64, limit: MAX_MODULE_BYTES });
    }
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4).ok() != Some(&MAGIC[..]) {
        return Err(DecodeError::BadMagic);
    }
    let version = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes"));
    if version == 0 {
        return Err(DecodeError::InvalidVersion);
    }
    if version > FORMAT_VERSION {
        return Err(DecodeError::NewerVersion { found: version, supported: FORMAT_VERSION });
    }
    if version < FORMAT_VERSION {
        return Err(DecodeError::OlderVersion { found: version, supported: FORMAT_VERSION });
    }
    let mut module = Module::default();
    for id in section::ALL {
        let offset = r.pos;
        let found = r.byte()?;
        if found != id {
            return Err(DecodeError::BadSection { expected: id, found, offset });
        }
        let len = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes")) as usize;
        let start = r.pos;
        let body = r.take(len)?;
        let mut s = Reader { bytes: body, pos: 0 };
        s.decode_section(id, &mut module).map_err(|e| e.shifted(start))?;
        if s.pos != body.len() {
            return Err(DecodeError::SectionLength(id));
        }
    }
    if r.pos != bytes.len() {
        return Err(DecodeError::TrailingBytes(bytes.len() - r.pos));
    }
    Ok(module)
}

impl DecodeError {
    /// Makes a section-relative offset file-relative.
    fn shifted(self, base: usize) -> DecodeError {
        match self {
            DecodeError::UnexpectedEnd(o) => DecodeError::UnexpectedEnd(o + base),
            DecodeError::Invalid { what, offset } => DecodeError::Invalid { what, offset: offset + base },
            DecodeError::CountTooLarge { what, count, offset } => {
                DecodeError::CountTooLarge { what, count, offset: offset + base }
            }
            DecodeError::UnknownOpcode { opcode, offset } => {
                DecodeError::UnknownOpcode { opcode, offset: offset + base }
            }
            other => other,
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn decode_section(&mut self, id: u8, module: &mut Module) -> Result<(), DecodeError> {
        match id {
            section::TYPES => module.types = self.list("type", 2, Self::composite)?,
            section::CONSTS => module.consts = self.list("constant", 2, Self::constant)?,
            section::IMPORTS => {
                module.imports = self.list("import", 4, |r| {
                    let offset = r.pos;
                    let kind = match r.byte()? {
                        0 => ImportKind::Builtin,
                        1 => ImportKind::Host,
                        _ => return Err(DecodeError::Invalid { what: "import kind", offset }),
                    };
                    Ok(Import { kind, name: r.string()?, sig: r.signature()? })
                })?
            }
            section::GLOBALS => {
                module.globals =
                    self.list("global", 2, |r| Ok(Global { name: r.string()?, ty: r.val_type()? }))?
            }
            section::FUNCS => module.funcs = self.list("function", 4, Self::function)?,
            section::DEBUG => {
                module.files = self.list("file", 1, Self::string)?;
                let offset = self.pos;
                let n_funcs = self.uleb()?;
                if n_funcs != module.funcs.len() as u64 {
                    return Err(DecodeError::Invalid { what: "debug function count", offset });
                }
                for func in &mut module.funcs {
                    func.file = self.u32("file index")?;
                    func.lines = self.list("line", 3, |r| {
                        Ok(LineEntry {
                            pc: r.u32("line pc")?,
                            line: r.u32("line number")?,
                            col: r.u32("column")?,
                        })
                    })?;
                }
            }
            _ => {
                module.entry = FuncIdx(self.u32("entry function")?);
                let init = self.u32("initialiser function")?;
                module.init = init.checked_sub(1).map(FuncIdx);
                module.exports = self.list("export", 2, |r| {
                    Ok(Export { name: r.string()?, func: FuncIdx(r.u32("export function")?) })
                })?;
            }
        }
        Ok(())
    }

    fn function(&mut self) -> Result<Function, DecodeError> {
        Ok(Function {
            name: self.string()?,
            sig: self.signature()?,
            regs: self.list("register", 1, Self::val_type)?,
            code: self.list("instruction", 1, Self::instr)?,
            file: 0,
            lines: Vec::new(),
        })
    }

    fn instr(&mut self) -> Result<Instr, DecodeError> {
        let offset = self.pos;
        let byte = self.byte()?;
        let opcode = Opcode::from_byte(byte).ok_or(DecodeError::UnknownOpcode { opcode: byte, offset })?;
        Instr::from_operands(opcode, |kind| {
            let offset = self.pos;
            let value = self.sleb()?;
            let (lo, hi) = kind.raw_range();
            if value < lo || value > hi {
                return Err(DecodeError::Invalid { what: "operand", offset });
            }
            Ok(value)
        })
    }

    fn composite(&mut self) -> Result<CompositeType, DecodeError> {
        let offset = self.pos;
        match self.byte()? {
            0 => Ok(CompositeType::Struct(StructType {
                name: self.string()?,
                fields: self.list("field", 2, |r| Ok((r.string()?, r.val_type()?)))?,
            })),
            1 => Ok(CompositeType::Array(self.val_type()?)),
            2 => Ok(CompositeType::Enum(EnumType {
                name: self.string()?,
                variants: self.list("variant", 1, |r| Ok(TypeIdx(r.u32("variant type")?)))?,
            })),
            3 => Ok(CompositeType::Variant(StructType {
                name: self.string()?,
                fields: self.list("field", 2, |r| Ok((r.string()?, r.val_type()?)))?,
            })),
            4 => Ok(CompositeType::Func(self.signature()?)),
            7 => Ok(CompositeType::Option(self.val_type()?)),
            8 => Ok(CompositeType::Pair(self.val_type()?, self.val_type()?)),
            6 => Ok(CompositeType::Interface(InterfaceType {
                name: self.string()?,
                methods: self.list("method", 2, Self::signature)?,
                impls: self.list("implementation", 2, |r| {
                    let ty = TypeIdx(r.u32("implementing type")?);
                    let funcs = r.list("method function", 1, |r| Ok(FuncIdx(r.u32("method function")?)))?;
                    Ok((ty, funcs))
                })?,
            })),
            5 => Ok(CompositeType::Closure(ClosureType {
                fn_type: TypeIdx(self.u32("function type")?),
                func: FuncIdx(self.u32("closure function")?),
                captures: self.list("capture", 1, Self::val_type)?,
            })),
            _ => Err(DecodeError::Invalid { what: "type kind", offset }),
        }
    }

    fn constant(&mut self) -> Result<Const, DecodeError> {
        let offset = self.pos;
        match self.byte()? {
            0 => Ok(Const::Int(self.sleb()?)),
            1 => Ok(Const::Float(f64::from_bits(u64::from_le_bytes(
                self.take(8)?.try_into().expect("8 bytes"),
            )))),
            2 => Ok(Const::Str(self.string()?)),
            _ => Err(DecodeError::Invalid { what: "constant kind", offset }),
        }
    }

    fn signature(&mut self) -> Result<Signature, DecodeError> {
        let params = self.list("parameter", 1, Self::val_type)?;
        let offset = self.pos;
        let result = match self.byte()? {
            0 => None,
            1 => Some(self.val_type()?),
            _ => return Err(DecodeError::Invalid { what: "result flag", offset }),
        };
        Ok(Signature { params, result })
    }

    fn val_type(&mut self) -> Result<ValType, DecodeError> {
        let offset = self.pos;
        match self.byte()? {
            0 => Ok(ValType::Int),
            1 => Ok(ValType::Float),
            2 => Ok(ValType::Bool),
            3 => Ok(ValType::Str),
            4 => Ok(ValType::Ref(TypeIdx(self.u32("type index")?))),
            5 => Ok(ValType::OptInt),
            6 => Ok(ValType::OptFloat),
            7 => Ok(ValType::OptBool),
            8 => Ok(ValType::Pair(TypeIdx(self.u32("type index")?))),
            _ => Err(DecodeError::Invalid { what: "value type", offset }),
        }
    }

    /// A count followed by that many items, each at least `min_item_bytes` long.
    fn list<T>(
        &mut self,
        what: &'static str,
        min_item_bytes: usize,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let offset = self.pos;
        let count = self.uleb()?;
        let remaining = (self.bytes.len() - self.pos) as u64;
        if count.saturating_mul(min_item_bytes as u64) > remaining {
            return Err(DecodeError::CountTooLarge { what, count, offset });
        }
        // Exactly `count` items follow, so reserve them at once: growing by doubling
        // would hold up to twice the module's decoded size.
        let mut items = Vec::with_capacity(count as usize);
        for _ in 0..count {
            items.push(item(self)?);
        }
        Ok(items)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let offset = self.pos;
        let len = self.uleb()?;
        let len = usize::try_from(len).map_err(|_| DecodeError::UnexpectedEnd(offset))?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::Invalid { what: "UTF-8 string", offset })
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let offset = self.pos;
        u32::try_from(self.uleb()?).map_err(|_| DecodeError::Invalid { what, offset })
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::UnexpectedEnd(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(DecodeError::UnexpectedEnd(self.bytes.len()))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn uleb(&mut self) -> Result<u64, DecodeError> {
        let offset = self.pos;
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                break;
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Invalid { what: "LEB128 number", offset })
    }

    fn sleb(&mut self) -> Result<i64, DecodeError> {
        let offset = self.pos;
        let mut value = 0i64;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            if shift == 63 && !(b == 0 || b == 0x7f) {
                return Err(DecodeError::Invalid { what: "LEB128 number", offset });
            }
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            if shift > 63 {
                return Err(DecodeError::Invalid { what: "LEB128 number", offset });
            }
        }
    }
}
