//! Lexer: source text to tokens. String interpolation `"a {expr} b"` is lexed here: the
//! tokens of each `{expr}` are stored inside the string token for the parser.

use super::span::Span;
use crate::diag::Diagnostic;

/// A piece of a string literal.
#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    /// Literal text, escapes resolved.
    Lit(String),
    /// The tokens of an interpolated `{expr}`.
    Interp(Vec<Token>, Span),
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier or keyword-free name.
    Ident(String),
    /// An integer literal (its magnitude; range is checked by the parser).
    Int(u64),
    /// A float literal.
    Float(f64),
    /// A string literal.
    Str(Vec<StrPart>),
    /// A keyword.
    Kw(&'static str),
    /// Punctuation or an operator.
    Punct(&'static str),
    /// End of input.
    Eof,
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where.
    pub span: Span,
}

const KEYWORDS: &[&str] = &[
    "fn",
    "extern",
    "let",
    "var",
    "const",
    "struct",
    "impl",
    "if",
    "else",
    "while",
    "for",
    "in",
    "break",
    "continue",
    "return",
    "true",
    "false",
    "as",
    "import",
    "enum",
    "match",
    "interface",
];

/// Longest first, so `<<=` wins over `<<` and `<`.
const PUNCT: &[&str] = &[
    "<<=", ">>=", "..", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=",
    "|=", "^=", "<<", ">>", "(", ")", "{", "}", "[", "]", ",", ";", ":", ".", "=", "<", ">", "+", "-", "*",
    "/", "%", "&", "|", "^", "!", "?",
];

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    file: u32,
    errors: &'a mut Vec<Diagnostic>,
}

/// Lexes a whole file. Errors are appended to `errors`; lexing continues after them.
pub fn lex(src: &str, file: u32, errors: &mut Vec<Diagnostic>) -> Vec<Token> {
    // A UTF-8 byte-order mark some editors write is not part of the program.
    let start = if src.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let mut lx = Lexer { src, pos: start, file, errors };
    let mut tokens = lx.tokens(false);
    let end = lx.span(src.len(), src.len());
    tokens.push(Token { tok: Tok::Eof, span: end });
    tokens
}

impl Lexer<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span { file: self.file, start: start as u32, end: end as u32 }
    }

    fn error(&mut self, start: usize, end: usize, message: impl Into<String>) {
        let span = self.span(start, end);
        self.errors.push(Diagnostic { message: message.into(), span, note: None });
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    /// Tokens until end of input, or (inside an interpolation) until the matching `}`.
    fn tokens(&mut self, in_interp: bool) -> Vec<Token> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        loop {
            self.skip_trivia();
            let start = self.pos;
            let Some(c) = self.peek() else { break };
            if in_interp {
                if c == '}' && depth == 0 {
                    break;
                }
                if c == '{' {
                    depth += 1;
                } else if c == '}' {
                    depth -= 1;
                }
            }
            let tok = if c.is_ascii_alphabetic() || c == '_' {
                self.ident()
            } else if c.is_ascii_digit() {
                self.number()
            } else if c == '"' {
                self.string()
            } else if let Some(p) = PUNCT.iter().find(|p| self.src[self.pos..].starts_with(**p)) {
                self.pos += p.len();
                Tok::Punct(p)
            } else {
                self.pos += c.len_utf8();
                self.error(start, self.pos, format!("unexpected character `{c}`"));
                continue;
            };
            out.push(Token { tok, span: self.span(start, self.pos) });
        }
        out
    }

    fn skip_trivia(&mut self) {
        loop {
            let rest = &self.src[self.pos..];
            if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.pos += c.len_utf8();
            } else if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                let start = self.pos;
                // Block comments nest, as in Rust.
                let mut depth = 0usize;
                let mut i = 0;
                let bytes = rest.as_bytes();
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                self.pos += i;
                if depth != 0 {
                    self.error(start, start + 2, "unterminated block comment");
                }
            } else {
                return;
            }
        }
    }

    fn ident(&mut self) -> Tok {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        match KEYWORDS.iter().find(|k| **k == word) {
            Some(k) => Tok::Kw(k),
            None => Tok::Ident(word.to_string()),
        }
    }

    fn number(&mut self) -> Tok {
        let start = self.pos;
        if self.src[self.pos..].starts_with("0x") || self.src[self.pos..].starts_with("0X") {
            self.pos += 2;
            let digits_start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit() || c == '_') {
                self.pos += 1;
            }
            let digits: String = self.src[digits_start..self.pos].chars().filter(|&c| c != '_').collect();
            return match u64::from_str_radix(&digits, 16) {
                Ok(v) => Tok::Int(v),
                Err(_) => {
                    self.error(start, self.pos, "invalid or too large hexadecimal literal");
                    Tok::Int(0)
                }
            };
        }
        let digits = |lx: &mut Self| {
            while lx.peek().is_some_and(|c| c.is_ascii_digit() || c == '_') {
                lx.pos += 1;
            }
        };
        digits(self);
        let mut is_float = false;
        // `1..n` is a range, and `1.foo` a method call: a fraction needs a digit.
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            is_float = true;
            self.pos += 1;
            digits(self);
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let sign = matches!(self.peek_at(1), Some('+' | '-'));
            let digit_at = if sign { 2 } else { 1 };
            if self.peek_at(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                self.pos += digit_at;
                digits(self);
            }
        }
        let text: String = self.src[start..self.pos].chars().filter(|&c| c != '_').collect();
        if is_float {
            Tok::Float(text.parse().unwrap_or(0.0))
        } else {
            match text.parse::<u64>() {
                Ok(v) => Tok::Int(v),
                Err(_) => {
                    self.error(start, self.pos, "integer literal is too large");
                    Tok::Int(0)
                }
            }
        }
    }

    fn string(&mut self) -> Tok {
        let start = self.pos;
        self.pos += 1;
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.error(start, start + 1, "unterminated string literal");
                break;
            };
            let at = self.pos;
            self.pos += c.len_utf8();
            match c {
                '"' => break,
                '\\' => match self.escape(at) {
                    Some(ch) => lit.push(ch),
                    None => continue,
                },
                '{' if self.peek() == Some('{') => {
                    self.pos += 1;
                    lit.push('{');
                }
                '}' if self.peek() == Some('}') => {
                    self.pos += 1;
                    lit.push('}');
                }
                '}' => self.error(at, self.pos, "unmatched `}` in string literal (write `}}` for a brace)"),
                '{' => {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut lit)));
                    }
                    let tokens = self.tokens(true);
                    let span = self.span(at, self.pos + 1);
                    if self.peek() == Some('}') {
                        self.pos += 1;
                    } else {
                        self.error(at, at + 1, "unterminated interpolation in string literal");
                        break;
                    }
                    if tokens.is_empty() {
                        self.error(at, self.pos, "empty interpolation `{}` (write `{{}}` for braces)");
                    }
                    parts.push(StrPart::Interp(tokens, span));
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(StrPart::Lit(lit));
        }
        Tok::Str(parts)
    }

    fn escape(&mut self, at: usize) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            '{' => '{',
            '}' => '}',
            'u' => {
                let rest = &self.src[self.pos..];
                let close = rest.find('}');
                let valid = rest.starts_with('{') && close.is_some_and(|i| i <= 8);
                let ch = if valid {
                    let hex = &rest[1..close.unwrap_or(1)];
                    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                } else {
                    None
                };
                match ch {
                    Some(ch) => {
                        self.pos += close.unwrap_or(0) + 1;
                        ch
                    }
                    None => {
                        self.error(
                            at,
                            self.pos,
                            "invalid unicode escape (expected `\\u{...}` with 1-6 hex digits)",
                        );
                        return None;
                    }
                }
            }
            other => {
                self.error(at, self.pos, format!("unknown escape `\\{other}`"));
                return None;
            }
        })
    }
}
