//! Diagnostics: collecting compile errors and rendering them with the source line.
//!
//! ```text
//! error: mismatched types: expected `int`, found `str`
//!  --> app.kiln:3:18
//!   |
//! 3 |     let x: int = "a";
//!   |                  ^^^
//! ```

use crate::syntax::span::Span;
use std::fmt;

/// One source file of the program being compiled.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Name as recorded in bytecode and shown in messages (relative to the entry folder).
    pub name: String,
    /// Full text.
    pub text: String,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// Whether each line is ASCII, where a column is a byte offset: `line_col` need not
    /// count characters (which made a long line quadratic to compile).
    ascii_lines: Vec<bool>,
    /// The last offset `line_col` counted to on a non-ASCII line, and its column.
    last_col: std::cell::Cell<(usize, u32)>,
}

impl SourceFile {
    /// A file with its name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts: Vec<usize> =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let ascii_lines = line_starts
            .iter()
            .enumerate()
            .map(|(i, &start)| text[start..line_starts.get(i + 1).copied().unwrap_or(text.len())].is_ascii())
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            ascii_lines,
            last_col: std::cell::Cell::new((0, 1)),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let offset = floor_char_boundary(&self.text, (offset as usize).min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        if self.ascii_lines[line - 1] {
            return (line as u32, (offset - start) as u32 + 1);
        }
        let (last, last_col) = self.last_col.get();
        let col = if start <= last && last <= offset {
            last_col + self.text[last..offset].chars().count() as u32
        } else {
            self.text[start..offset].chars().count() as u32 + 1
        };
        self.last_col.set((offset, col));
        (line as u32, col)
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text(&self, line: u32) -> &str {
        self.text.lines().nth(line.saturating_sub(1) as usize).unwrap_or("")
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A compile error at a place in a file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// Optional hint printed after the snippet.
    pub note: Option<String>,
}

/// All errors from one compilation, with the files they point into.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    /// Files, indexed by `Span::file`.
    pub files: Vec<SourceFile>,
    /// Errors in the order found.
    pub errors: Vec<Diagnostic>,
    /// Warnings in the order found (they do not stop compilation).
    pub warnings: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Whether any error was reported.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Widest source excerpt a diagnostic shows, in characters.
const MAX_SHOWN: usize = 120;

/// The part of source line `text` to show for a span starting at character `col` (0-based)
/// and `width` characters wide: the whole line if it is short, otherwise a window around
/// the span marked with `...`. Returns the text, the caret's offset in it and its width.
fn excerpt(text: &str, col: usize, width: usize) -> (String, usize, usize) {
    let chars: Vec<char> = text.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
    if chars.len() <= MAX_SHOWN {
        return (chars.iter().collect(), col, width.min(MAX_SHOWN));
    }
    let start = col.saturating_sub(MAX_SHOWN / 3).min(chars.len());
    let end = (start + MAX_SHOWN).min(chars.len());
    let mut shown = String::new();
    let mut pad = col - start;
    if start > 0 {
        shown.push_str("...");
        pad += 3;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push_str("...");
    }
    (shown, pad, width.clamp(1, end.saturating_sub(col).max(1)))
}

/// Errors found most, to keep a pathological input from producing megabytes of output.
pub const MAX_REPORTED: usize = 50;

impl Diagnostics {
    /// Writes one diagnostic with its source excerpt, headed `kind: message`.
    fn render(&self, f: &mut fmt::Formatter<'_>, kind: &str, d: &Diagnostic) -> fmt::Result {
        writeln!(f, "{kind}: {}", d.message)?;
        match self.files.get(d.span.file as usize) {
            Some(file) => {
                let (line, col) = file.line_col(d.span.start);
                let text = file.line_text(line);
                let gutter = line.to_string().len();
                writeln!(f, "{:gutter$}--> {}:{line}:{col}", "", file.name)?;
                writeln!(f, "{:gutter$} |", "")?;
                let (end_line, end_col) = file.line_col(d.span.end);
                let width = if end_line == line && end_col > col { end_col - col } else { 1 };
                let (shown, pad, width) = excerpt(text, col as usize - 1, width as usize);
                writeln!(f, "{line} | {shown}")?;
                writeln!(f, "{:gutter$} | {}{}", "", " ".repeat(pad), "^".repeat(width))?;
            }
            None => writeln!(f, " --> <unknown file>")?,
        }
        if let Some(note) = &d.note {
            writeln!(f, "  = note: {note}")?;
        }
        writeln!(f)
    }

    /// The warnings alone, as text (for a compilation that succeeded).
    pub fn warnings_text(&self) -> String {
        struct Warnings<'a>(&'a Diagnostics);
        impl fmt::Display for Warnings<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for d in self.0.warnings.iter().take(MAX_REPORTED) {
                    self.0.render(f, "warning", d)?;
                }
                Ok(())
            }
        }
        Warnings(self).to_string()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.warnings.iter().take(MAX_REPORTED) {
            self.render(f, "warning", d)?;
        }
        for d in self.errors.iter().take(MAX_REPORTED) {
            self.render(f, "error", d)?;
        }
        if self.errors.len() > MAX_REPORTED {
            writeln!(f, "... and {} more errors", self.errors.len() - MAX_REPORTED)?;
        }
        let n = self.errors.len();
        write!(f, "error: could not compile due to {n} error{}", if n == 1 { "" } else { "s" })
    }
}
