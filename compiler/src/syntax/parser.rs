//! Parser: tokens to syntax tree, by recursive descent with precedence climbing for
//! binary operators. Errors are collected; after one, the parser skips to the next
//! statement or item and goes on, so one run reports several.
//!
//! Precedence, loosest first: assignment (right) · `..` · `||` · `&&` · comparisons
//! (non-associative) · `|` · `^` · `&` · `<< >>` · `+ -` · `* / %` · `as` · unary · postfix.

use super::ast::*;
use super::lexer::{StrPart, Tok, Token};
use super::span::Span;
use crate::diag::Diagnostic;

/// Deepest nesting of expressions and blocks; deeper input gets a diagnostic instead of
/// exhausting the compiler's stack.
pub const MAX_NESTING: usize = 200;
/// Most operands in one chain of binary operators (`a + b + c ...`).
pub const MAX_CHAIN: usize = 5_000;

/// Marker for "an error was reported; recover".
#[derive(Debug)]
pub struct Reported;

type PResult<T> = Result<T, Reported>;

/// Parses a file's tokens into items.
pub fn parse(tokens: Vec<Token>, errors: &mut Vec<Diagnostic>) -> Vec<Item> {
    let mut p = Parser { tokens, pos: 0, errors, depth: 0 };
    let mut items = Vec::new();
    while !p.at_eof() {
        match p.item() {
            Ok(item) => items.push(item),
            Err(Reported) => p.recover_item(),
        }
    }
    items
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    errors: &'a mut Vec<Diagnostic>,
    depth: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(n) => format!("identifier `{n}`"),
        Tok::Int(v) => format!("integer `{v}`"),
        Tok::Float(v) => format!("float `{v:?}`"),
        Tok::Str(_) => "string literal".into(),
        Tok::Kw(k) => format!("keyword `{k}`"),
        Tok::Punct(p) => format!("`{p}`"),
        Tok::Eof => "end of file".into(),
    }
}

impl Parser<'_> {
    // ----- Token helpers -----

    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    fn prev_span(&self) -> Span {
        self.tokens[self.pos.saturating_sub(1)].span
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if !matches!(t.tok, Tok::Eof) {
            self.pos += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Kw(q) if *q == k)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let yes = self.is_punct(p);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn eat_kw(&mut self, k: &str) -> bool {
        let yes = self.is_kw(k);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn error_at<T>(&mut self, span: Span, message: impl Into<String>) -> PResult<T> {
        self.errors.push(Diagnostic { message: message.into(), span, note: None });
        Err(Reported)
    }

    fn expected<T>(&mut self, what: &str) -> PResult<T> {
        let found = describe(self.peek());
        let span = self.span();
        self.error_at(span, format!("expected {what}, found {found}"))
    }

    /// Expects `>` closing a type argument list; splits `>>`, `>=` and `>>=`, which the
    /// lexer reads as one token (`Map<str, Option<int>>`).
    fn expect_close_angle(&mut self) -> PResult<Span> {
        if let Tok::Punct(p) = self.peek() {
            if let Some(rest) = p.strip_prefix('>') {
                if rest.is_empty() {
                    return Ok(self.bump().span);
                }
                let rest: &'static str = match rest {
                    ">" => ">",
                    "=" => "=",
                    ">=" => ">=",
                    _ => return self.expected("`>`"),
                };
                let tok = &mut self.tokens[self.pos];
                let span = Span { end: tok.span.start + 1, ..tok.span };
                tok.tok = Tok::Punct(rest);
                tok.span.start += 1;
                return Ok(span);
            }
        }
        self.expected("`>`")
    }

    /// `<T: Bound + Bound, U>` after an item's name, if present.
    fn generic_params(&mut self) -> PResult<Vec<GenericParam>> {
        let mut params = Vec::new();
        if !self.eat_punct("<") {
            return Ok(params);
        }
        while !self.is_punct(">") {
            let name = self.ident()?;
            let mut bounds = Vec::new();
            if self.eat_punct(":") {
                bounds.push(self.path_ident()?);
                while self.eat_punct("+") {
                    bounds.push(self.path_ident()?);
                }
            }
            params.push(GenericParam { name, bounds });
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_close_angle()?;
        Ok(params)
    }

    /// A name that may be qualified by an imported module (`geometry.Point`), as one
    /// identifier.
    fn path_ident(&mut self) -> PResult<Ident> {
        let mut id = self.ident()?;
        while self.is_punct(".") && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.bump();
            let part = self.ident()?;
            id = Ident { name: format!("{}.{}", id.name, part.name), span: id.span.to(part.span) };
        }
        Ok(id)
    }

    fn expect_punct(&mut self, p: &str) -> PResult<Span> {
        if self.is_punct(p) {
            Ok(self.bump().span)
        } else {
            self.expected(&format!("`{p}`"))
        }
    }

    fn ident(&mut self) -> PResult<Ident> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => self.expected("a name"),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let span = self.span();
            self.depth -= 1;
            return self.error_at(span, format!("nesting too deep (more than {MAX_NESTING} levels)"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Skips to the start of the next item.
    fn recover_item(&mut self) {
        self.bump();
        while !self.at_eof() {
            if matches!(
                self.peek(),
                Tok::Kw(
                    "fn" | "extern" | "struct" | "impl" | "const" | "var" | "import" | "enum" | "interface"
                )
            ) {
                return;
            }
            self.bump();
        }
    }

    /// Skips past the current statement: to after the next `;` at this level, or to the
    /// `}` that closes the block.
    fn recover_stmt(&mut self) {
        let mut depth = 0usize;
        while !self.at_eof() {
            match self.peek() {
                Tok::Punct("{") => depth += 1,
                Tok::Punct("}") if depth == 0 => return,
                Tok::Punct("}") => depth -= 1,
                Tok::Punct(";") if depth == 0 => {
                    self.bump();
                    return;
                }
                _ => {}
            }
            self.bump();
        }
    }

    // ----- Items -----

    // item -> fn_decl | struct_decl | impl_decl | global_decl
    fn item(&mut self) -> PResult<Item> {
        match self.peek() {
            Tok::Kw("fn") => Ok(Item::Fn(self.fn_decl(false)?)),
            Tok::Kw("extern") => Ok(Item::Fn(self.extern_decl()?)),
            Tok::Kw("struct") => self.struct_decl(),
            Tok::Kw("impl") => self.impl_decl(),
            Tok::Kw("enum") => self.enum_decl(),
            Tok::Kw("const") | Tok::Kw("var") => self.global_decl(),
            Tok::Kw("interface") => self.interface_decl(),
            Tok::Kw("import") => {
                self.bump();
                let name = self.ident()?;
                self.expect_punct(";")?;
                Ok(Item::Import(name))
            }
            Tok::Kw(k @ "match") => {
                let k = *k;
                let span = self.span();
                self.error_at(span, format!("`{k}` is not supported by this compiler yet"))
            }
            _ => self.expected("an item (`fn`, `extern fn`, `struct`, `enum`, `impl`, `const` or `var`)"),
        }
    }

    // fn_decl -> fn_sig block
    fn fn_decl(&mut self, in_impl: bool) -> PResult<FnDecl> {
        let mut decl = self.fn_sig(in_impl)?;
        decl.body = self.block()?;
        Ok(decl)
    }

    // extern_decl -> 'extern' fn_sig ';'
    fn extern_decl(&mut self) -> PResult<FnDecl> {
        self.bump();
        if !self.is_kw("fn") {
            return self.expected("`fn` after `extern`");
        }
        let mut decl = self.fn_sig(false)?;
        decl.external = true;
        if self.is_punct("{") {
            let span = self.span();
            return self.error_at(
                span,
                "an `extern fn` has no body: the host provides it (end the declaration with `;`)",
            );
        }
        self.expect_punct(";")?;
        Ok(decl)
    }

    // fn_sig -> 'fn' name '(' [ 'self' ] { ',' param } ')' [ '->' type ]
    fn fn_sig(&mut self, in_impl: bool) -> PResult<FnDecl> {
        self.bump();
        let name = self.ident()?;
        let generics = self.generic_params()?;
        self.expect_punct("(")?;
        let mut has_self = false;
        let mut params = Vec::new();
        if matches!(self.peek(), Tok::Ident(n) if n == "self") {
            let span = self.bump().span;
            if !in_impl {
                self.error_at::<()>(span, "`self` parameter outside an `impl` block").ok();
            }
            has_self = true;
            if !self.is_punct(")") {
                self.expect_punct(",")?;
            }
        }
        while !self.is_punct(")") {
            let pname = self.ident()?;
            self.expect_punct(":")?;
            let ty = self.type_expr()?;
            params.push((pname, ty));
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(")")?;
        let ret = if self.eat_punct("->") { Some(self.type_expr()?) } else { None };
        let body = Block { stmts: Vec::new(), tail: None, span: self.span() };
        Ok(FnDecl { name, generics, has_self, params, ret, body, external: false })
    }

    // struct_decl -> 'struct' name '{' { field ':' type ',' } '}'
    fn struct_decl(&mut self) -> PResult<Item> {
        self.bump();
        let name = self.ident()?;
        let generics = self.generic_params()?;
        self.expect_punct("{")?;
        let mut fields = Vec::new();
        while !self.is_punct("}") {
            let fname = self.ident()?;
            self.expect_punct(":")?;
            let ty = self.type_expr()?;
            fields.push((fname, ty));
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct("}")?;
        Ok(Item::Struct(StructDecl { name, generics, fields }))
    }

    // enum_decl -> 'enum' name '{' { variant [ '(' type { ',' type } ')' ] ',' } '}'
    fn enum_decl(&mut self) -> PResult<Item> {
        self.bump();
        let name = self.ident()?;
        let generics = self.generic_params()?;
        self.expect_punct("{")?;
        let mut variants = Vec::new();
        while !self.is_punct("}") {
            let vname = self.ident()?;
            let mut fields = Vec::new();
            if self.eat_punct("(") {
                while !self.is_punct(")") {
                    fields.push(self.type_expr()?);
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                self.expect_punct(")")?;
            }
            variants.push((vname, fields));
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct("}")?;
        Ok(Item::Enum(EnumDecl { name, generics, variants }))
    }

    // impl_decl -> 'impl' name '{' { fn_decl } '}'
    fn impl_decl(&mut self) -> PResult<Item> {
        self.bump();
        let generics = self.generic_params()?;
        let mut ty = self.path_ident()?;
        let mut args = self.type_args()?;
        let mut iface = None;
        if self.eat_kw("for") {
            if !args.is_empty() {
                let span = ty.span;
                return self.error_at(span, "generic interfaces are not supported");
            }
            iface = Some(ty);
            ty = self.path_ident()?;
            args = self.type_args()?;
        }
        self.expect_punct("{")?;
        let mut methods = Vec::new();
        while !self.is_punct("}") && !self.at_eof() {
            if !self.is_kw("fn") {
                return self.expected("`fn` or `}`");
            }
            methods.push(self.fn_decl(true)?);
        }
        self.expect_punct("}")?;
        Ok(Item::Impl(ImplDecl { generics, iface, ty, args, methods }))
    }

    // interface_decl -> 'interface' name '{' { 'fn' name '(' 'self' { ',' param } ')' [ '->' type ] ';' } '}'
    fn interface_decl(&mut self) -> PResult<Item> {
        self.bump();
        let name = self.ident()?;
        if self.is_punct("<") {
            // Reported, then parsed past, so the rest of the declaration reads normally.
            let span = self.span();
            self.errors.push(Diagnostic {
                message: "generic interfaces are not supported: give the interface concrete types, or make the generic code take a function value".into(),
                span,
                note: None,
            });
            self.generic_params()?;
        }
        self.expect_punct("{")?;
        let mut methods = Vec::new();
        while !self.is_punct("}") && !self.at_eof() {
            if !self.eat_kw("fn") {
                return self.expected("`fn` or `}`");
            }
            let mname = self.ident()?;
            self.expect_punct("(")?;
            let self_span = self.span();
            if !matches!(self.peek(), Tok::Ident(n) if n == "self") {
                return self.error_at(self_span, "an interface method takes `self` first");
            }
            self.bump();
            let mut params = Vec::new();
            while self.eat_punct(",") {
                if self.is_punct(")") {
                    break;
                }
                let pname = self.ident()?;
                self.expect_punct(":")?;
                params.push((pname, self.type_expr()?));
            }
            self.expect_punct(")")?;
            let ret = if self.eat_punct("->") { Some(self.type_expr()?) } else { None };
            self.expect_punct(";")?;
            methods.push(MethodSig { name: mname, params, ret });
        }
        self.expect_punct("}")?;
        Ok(Item::Interface(InterfaceDecl { name, methods }))
    }

    // global_decl -> ('const' | 'var') name [ ':' type ] '=' expr ';'
    fn global_decl(&mut self) -> PResult<Item> {
        let is_const = self.bump().tok == Tok::Kw("const");
        let name = self.ident()?;
        let ty = if self.eat_punct(":") { Some(self.type_expr()?) } else { None };
        self.expect_punct("=")?;
        let init = self.expr(true)?;
        self.expect_punct(";")?;
        Ok(Item::Global(GlobalDecl { is_const, name, ty, init }))
    }

    // type -> name | '[' type ']'
    fn type_expr(&mut self) -> PResult<TypeExpr> {
        if self.is_kw("fn") {
            let start = self.bump().span;
            self.expect_punct("(")?;
            self.enter()?;
            let res = (|| {
                let mut params = Vec::new();
                while !self.is_punct(")") {
                    params.push(self.type_expr()?);
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                self.expect_punct(")")?;
                let ret = if self.eat_punct("->") { Some(Box::new(self.type_expr()?)) } else { None };
                Ok((params, ret))
            })();
            self.leave();
            let (params, ret) = res?;
            return Ok(TypeExpr::Fn(params, ret, start.to(self.prev_span())));
        }
        if self.is_punct("[") {
            let start = self.bump().span;
            self.enter()?;
            let inner = self.type_expr();
            self.leave();
            let inner = inner?;
            let end = self.expect_punct("]")?;
            return Ok(TypeExpr::Array(Box::new(inner), start.to(end)));
        }
        let id = self.path_ident()?;
        if self.is_punct("<") {
            let args = self.type_args()?;
            let span = id.span.to(self.prev_span());
            return Ok(TypeExpr::Generic(id, args, span));
        }
        Ok(TypeExpr::Named(id))
    }

    /// `<A, B>` after a type's name, if present.
    fn type_args(&mut self) -> PResult<Vec<TypeExpr>> {
        let mut args = Vec::new();
        if !self.eat_punct("<") {
            return Ok(args);
        }
        self.enter()?;
        let res = (|| {
            while !self.is_punct(">") {
                args.push(self.type_expr()?);
                if !self.eat_punct(",") {
                    break;
                }
            }
            Ok(())
        })();
        self.leave();
        res?;
        self.expect_close_angle()?;
        Ok(args)
    }

    // ----- Statements -----

    // block -> '{' { stmt } [ expr ] '}'
    fn block(&mut self) -> PResult<Block> {
        let start = self.expect_punct("{")?;
        self.enter()?;
        let mut stmts = Vec::new();
        let mut tail: Option<Box<Expr>> = None;
        while !self.is_punct("}") && !self.at_eof() {
            if let Some(old_tail) = tail.take() {
                stmts.push(Stmt::Expr(*old_tail));
            }
            match self.stmt() {
                Ok(Some(StmtOrTail::Stmt(s))) => stmts.push(s),
                Ok(Some(StmtOrTail::Tail(e))) => tail = Some(Box::new(e)),
                Ok(None) => {}
                Err(Reported) => self.recover_stmt(),
            }
        }
        self.leave();
        let end = self.expect_punct("}")?;
        Ok(Block { stmts, tail, span: start.to(end) })
    }

    // stmt -> ('let' | 'var') name [':' type] '=' expr ';' | expr ';' | block_like_expr | ';'
    fn stmt(&mut self) -> PResult<Option<StmtOrTail>> {
        if self.eat_punct(";") {
            return Ok(None);
        }
        if self.is_kw("let") || self.is_kw("var") {
            let mutable = self.bump().tok == Tok::Kw("var");
            let name = self.ident()?;
            let ty = if self.eat_punct(":") { Some(self.type_expr()?) } else { None };
            self.expect_punct("=")?;
            let init = self.expr(true)?;
            self.expect_punct(";")?;
            return Ok(Some(StmtOrTail::Stmt(Stmt::Let { mutable, name, ty, init })));
        }
        if matches!(self.peek(), Tok::Kw("fn" | "extern" | "struct" | "enum" | "impl" | "const")) {
            let span = self.span();
            return self.error_at(span, "items cannot be declared inside a function");
        }
        // A block-shaped expression at the start of a statement ends at its `}`.
        let block_like = matches!(self.peek(), Tok::Kw("if" | "while" | "for" | "match") | Tok::Punct("{"));
        let e = if block_like { self.primary(true)? } else { self.expr(true)? };
        if self.eat_punct(";") {
            return Ok(Some(StmtOrTail::Stmt(Stmt::Expr(e))));
        }
        if self.is_punct("}") {
            return Ok(Some(StmtOrTail::Tail(e)));
        }
        if e.kind.is_block_like() {
            return Ok(Some(StmtOrTail::Stmt(Stmt::Expr(e))));
        }
        self.expected("`;` or `}`")
    }

    // ----- Expressions -----

    /// Parses an expression; `allow_struct` is false in the head of `if`, `while`, `for`.
    fn expr(&mut self, allow_struct: bool) -> PResult<Expr> {
        self.enter()?;
        let e = self.expr_bp(0, allow_struct);
        self.leave();
        e
    }

    fn expr_bp(&mut self, min_bp: u8, allow_struct: bool) -> PResult<Expr> {
        let mut lhs = self.unary(allow_struct)?;
        let mut chain = 0usize;
        loop {
            if self.is_kw("as") && AS_BP >= min_bp {
                self.bump();
                let ty = self.type_expr()?;
                let span = lhs.span.to(ty.span());
                lhs = Expr { kind: ExprKind::Cast(Box::new(lhs), ty), span };
                continue;
            }
            let Some((bp, op)) = infix(self.peek()) else {
                break;
            };
            if bp < min_bp {
                break;
            }
            chain += 1;
            if chain > MAX_CHAIN {
                let span = self.span();
                return self.error_at(
                    span,
                    format!("expression too long (more than {MAX_CHAIN} operators in a row)"),
                );
            }
            let op_span = self.bump().span;
            let rhs_bp = if matches!(op, Infix::Assign(_)) { bp } else { bp + 1 };
            self.enter()?;
            let rhs = self.expr_bp(rhs_bp, allow_struct);
            self.leave();
            let rhs = rhs?;
            let span = lhs.span.to(rhs.span);
            let kind = match op {
                Infix::Assign(op) => ExprKind::Assign(op, Box::new(lhs), Box::new(rhs)),
                Infix::Range => ExprKind::Range(Box::new(lhs), Box::new(rhs)),
                Infix::Bin(op) => ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            };
            lhs = Expr { kind, span };
            let non_assoc = matches!(op, Infix::Range) || matches!(op, Infix::Bin(b) if b.is_comparison());
            if non_assoc {
                if let Some((next_bp, _)) = infix(self.peek()) {
                    if next_bp == bp {
                        let span = self.span();
                        return self.error_at(
                            span.to(op_span),
                            "comparison and range operators cannot be chained; use parentheses",
                        );
                    }
                }
            }
        }
        Ok(lhs)
    }

    // unary -> ('-' | '!') unary | postfix
    fn unary(&mut self, allow_struct: bool) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Punct("-") => UnOp::Neg,
            Tok::Punct("!") => UnOp::Not,
            _ => return self.postfix(allow_struct),
        };
        let start = self.bump().span;
        // `-9223372036854775808` is the one literal that only fits negated.
        if op == UnOp::Neg {
            if let Tok::Int(v) = *self.peek() {
                if v == 1u64 << 63 {
                    let span = start.to(self.bump().span);
                    let lit = Expr { kind: ExprKind::Int(i64::MIN), span };
                    return self.postfix_ops(lit, allow_struct);
                }
            }
        }
        self.enter()?;
        let operand = self.unary(allow_struct);
        self.leave();
        let operand = operand?;
        let span = start.to(operand.span);
        Ok(Expr { kind: ExprKind::Unary(op, Box::new(operand)), span })
    }

    // postfix -> primary { '.' name [ '(' args ')' ] | '[' expr ']' | '(' args ')' }
    fn postfix(&mut self, allow_struct: bool) -> PResult<Expr> {
        let e = self.primary(allow_struct)?;
        self.postfix_ops(e, allow_struct)
    }

    fn postfix_ops(&mut self, mut e: Expr, _allow_struct: bool) -> PResult<Expr> {
        let mut n = 0usize;
        loop {
            n += 1;
            if n > MAX_CHAIN {
                let span = self.span();
                return self.error_at(span, "expression too long");
            }
            if self.eat_punct(".") {
                let name = self.ident()?;
                if self.is_punct("(") {
                    let args = self.args()?;
                    let span = e.span.to(self.prev_span());
                    e = Expr { kind: ExprKind::MethodCall(Box::new(e), name, args), span };
                } else {
                    let span = e.span.to(name.span);
                    e = Expr { kind: ExprKind::Field(Box::new(e), name), span };
                }
            } else if self.is_punct("[") {
                self.bump();
                let idx = self.expr(true)?;
                let end = self.expect_punct("]")?;
                let span = e.span.to(end);
                e = Expr { kind: ExprKind::Index(Box::new(e), Box::new(idx)), span };
            } else if self.is_punct("(") {
                let args = self.args()?;
                let span = e.span.to(self.prev_span());
                e = Expr { kind: ExprKind::Call(Box::new(e), args), span };
            } else if self.is_punct("?") {
                let end = self.bump().span;
                let span = e.span.to(end);
                e = Expr { kind: ExprKind::Try(Box::new(e)), span };
            } else {
                return Ok(e);
            }
        }
    }

    // args -> '(' [ expr { ',' expr } [','] ] ')'
    fn args(&mut self) -> PResult<Vec<Expr>> {
        self.expect_punct("(")?;
        let mut args = Vec::new();
        while !self.is_punct(")") {
            args.push(self.expr(true)?);
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(")")?;
        Ok(args)
    }

    fn primary(&mut self, allow_struct: bool) -> PResult<Expr> {
        let span = self.span();
        let kind = match self.peek().clone() {
            Tok::Int(v) => {
                self.bump();
                match i64::try_from(v) {
                    Ok(v) => ExprKind::Int(v),
                    Err(_) => return self.error_at(span, "integer literal is too large for `int`"),
                }
            }
            Tok::Float(v) => {
                self.bump();
                ExprKind::Float(v)
            }
            Tok::Kw("true") | Tok::Kw("false") => ExprKind::Bool(self.bump().tok == Tok::Kw("true")),
            Tok::Str(parts) => {
                self.bump();
                ExprKind::Str(self.string_pieces(parts)?)
            }
            Tok::Ident(name) => {
                self.bump();
                // `Name { field: ... }`, `Name {}`, or the shorthand `Name { field, ... }`
                // (only for capitalised names, so a block after a variable stays a block).
                let field_next = matches!(self.peek_at(1), Tok::Ident(_));
                let shorthand = name.starts_with(|c: char| c.is_ascii_uppercase())
                    && field_next
                    && matches!(self.peek_at(2), Tok::Punct("," | "}"));
                let struct_lit = allow_struct
                    && self.is_punct("{")
                    && (matches!(self.peek_at(1), Tok::Punct("}"))
                        || (field_next && matches!(self.peek_at(2), Tok::Punct(":")))
                        || shorthand);
                if struct_lit {
                    return self.struct_lit(Ident { name, span });
                }
                // `module.Type { ... }`: a struct literal of an imported module's type.
                if allow_struct && self.is_punct(".") && self.module_struct_lit_ahead() {
                    self.bump();
                    let ty = self.ident()?;
                    let name = Ident { name: format!("{name}.{}", ty.name), span: span.to(ty.span) };
                    return self.struct_lit(name);
                }
                ExprKind::Name(name)
            }
            Tok::Punct("(") => {
                self.bump();
                let inner = self.expr(true)?;
                let end = self.expect_punct(")")?;
                return Ok(Expr { kind: inner.kind, span: span.to(end) });
            }
            Tok::Punct("[") => return self.array_lit(),
            Tok::Punct("{") => {
                let b = self.block()?;
                let span = b.span;
                return Ok(Expr { kind: ExprKind::Block(b), span });
            }
            Tok::Kw("if") => return self.if_expr(),
            Tok::Kw("while") => {
                self.bump();
                let cond = self.expr(false)?;
                let body = self.block()?;
                let span = span.to(body.span);
                return Ok(Expr { kind: ExprKind::While(Box::new(cond), body), span });
            }
            Tok::Kw("for") if matches!(self.peek_at(1), Tok::Punct("(")) => {
                self.bump();
                self.bump();
                let key = self.ident()?;
                self.expect_punct(",")?;
                let value = self.ident()?;
                self.expect_punct(")")?;
                if !self.eat_kw("in") {
                    return self.expected("`in`");
                }
                let iter = self.expr(false)?;
                let body = self.block()?;
                let span = span.to(body.span);
                return Ok(Expr { kind: ExprKind::ForPair(key, value, Box::new(iter), body), span });
            }
            Tok::Kw("for") => {
                self.bump();
                let var = self.ident()?;
                if !self.eat_kw("in") {
                    return self.expected("`in`");
                }
                let iter = self.expr(false)?;
                let body = self.block()?;
                let span = span.to(body.span);
                return Ok(Expr { kind: ExprKind::For(var, Box::new(iter), body), span });
            }
            Tok::Kw("break") => {
                self.bump();
                ExprKind::Break
            }
            Tok::Kw("continue") => {
                self.bump();
                ExprKind::Continue
            }
            Tok::Kw("return") => {
                self.bump();
                let ends = matches!(self.peek(), Tok::Punct(";" | "}" | ")" | ",") | Tok::Eof);
                if ends {
                    ExprKind::Return(None)
                } else {
                    let value = self.expr(allow_struct)?;
                    let span = span.to(value.span);
                    return Ok(Expr { kind: ExprKind::Return(Some(Box::new(value))), span });
                }
            }
            Tok::Kw("match") => return self.match_expr(),
            Tok::Kw("fn") => {
                return self.error_at(span, "`fn` expressions are not supported by this compiler yet")
            }
            Tok::Punct("|") | Tok::Punct("||") => return self.closure(allow_struct),
            _ => return self.expected("an expression"),
        };
        Ok(Expr { kind, span })
    }

    // closure -> ( '||' | '|' [ param { ',' param } ] '|' ) ( '->' type block | expr )
    // param -> name [ ':' type ]
    fn closure(&mut self, allow_struct: bool) -> PResult<Expr> {
        let start = self.span();
        let mut params = Vec::new();
        if self.bump().tok == Tok::Punct("|") {
            while !self.is_punct("|") {
                let name = self.ident()?;
                let ty = if self.eat_punct(":") { Some(self.type_expr()?) } else { None };
                params.push((name, ty));
                if !self.eat_punct(",") {
                    break;
                }
            }
            self.expect_punct("|")?;
        }
        self.enter()?;
        let res = (|| {
            if self.eat_punct("->") {
                let ret = self.type_expr()?;
                let b = self.block()?;
                let span = b.span;
                return Ok((Some(ret), Expr { kind: ExprKind::Block(b), span }));
            }
            Ok((None, self.expr(allow_struct)?))
        })();
        self.leave();
        let (ret, body) = res?;
        let span = start.to(body.span);
        Ok(Expr { kind: ExprKind::Closure(params, ret, Box::new(body)), span })
    }

    // match_expr -> 'match' expr '{' { pattern '=>' expr [','] } '}'
    // An arm whose body is a block needs no comma.
    fn match_expr(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        self.enter()?;
        let res = (|| {
            let scrutinee = self.expr(false)?;
            self.expect_punct("{")?;
            let mut arms = Vec::new();
            while !self.is_punct("}") && !self.at_eof() {
                let pat = self.pattern()?;
                self.expect_punct("=>")?;
                let body = if self.is_punct("{") {
                    let b = self.block()?;
                    let span = b.span;
                    let body = Expr { kind: ExprKind::Block(b), span };
                    self.eat_punct(",");
                    body
                } else {
                    let body = self.expr(true)?;
                    if !self.eat_punct(",") && !self.is_punct("}") {
                        return self.expected("`,` or `}` after a match arm");
                    }
                    body
                };
                arms.push(Arm { pat, body });
            }
            let end = self.expect_punct("}")?;
            Ok(Expr { kind: ExprKind::Match(Box::new(scrutinee), arms), span: start.to(end) })
        })();
        self.leave();
        res
    }

    // pattern -> '_' | name | ['-'] int | 'true' | 'false' | string
    //          | path [ '(' pattern { ',' pattern } ')' ]      (path: Name { '.' Name })
    fn pattern(&mut self) -> PResult<Pattern> {
        let span = self.span();
        let kind = match self.peek().clone() {
            Tok::Int(v) => {
                self.bump();
                match i64::try_from(v) {
                    Ok(v) => PatternKind::Int(v),
                    Err(_) => return self.error_at(span, "integer literal is too large for `int`"),
                }
            }
            Tok::Punct("-") => {
                self.bump();
                let Tok::Int(v) = *self.peek() else {
                    return self.expected("an integer after `-` in a pattern");
                };
                let end = self.bump().span;
                let v = if v == 1u64 << 63 {
                    i64::MIN
                } else {
                    match i64::try_from(v) {
                        Ok(v) => -v,
                        Err(_) => {
                            return self.error_at(span.to(end), "integer literal is too large for `int`")
                        }
                    }
                };
                return Ok(Pattern { kind: PatternKind::Int(v), span: span.to(end) });
            }
            Tok::Kw("true") | Tok::Kw("false") => PatternKind::Bool(self.bump().tok == Tok::Kw("true")),
            Tok::Str(parts) => {
                self.bump();
                match &parts[..] {
                    [] => PatternKind::Str(String::new()),
                    [StrPart::Lit(s)] => PatternKind::Str(s.clone()),
                    _ => return self.error_at(span, "a string pattern cannot interpolate"),
                }
            }
            Tok::Ident(name) if name == "_" => {
                self.bump();
                PatternKind::Wild
            }
            Tok::Ident(name) => {
                self.bump();
                let mut path = vec![Ident { name: name.clone(), span }];
                while self.eat_punct(".") {
                    path.push(self.ident()?);
                }
                let lowercase = !name.starts_with(|c: char| c.is_ascii_uppercase());
                if path.len() == 1 && lowercase && !self.is_punct("(") {
                    PatternKind::Bind(name)
                } else {
                    let mut args = Vec::new();
                    if self.eat_punct("(") {
                        self.enter()?;
                        let res = (|| {
                            while !self.is_punct(")") {
                                args.push(self.pattern()?);
                                if !self.eat_punct(",") {
                                    break;
                                }
                            }
                            Ok(())
                        })();
                        self.leave();
                        res?;
                        self.expect_punct(")")?;
                    }
                    let span = span.to(self.prev_span());
                    return Ok(Pattern { kind: PatternKind::Variant(path, args), span });
                }
            }
            _ => return self.expected("a pattern"),
        };
        Ok(Pattern { kind, span })
    }

    // if_expr -> 'if' expr block [ 'else' ( if_expr | block ) ]
    fn if_expr(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        self.enter()?;
        let res = (|| {
            let cond = self.expr(false)?;
            let then = self.block()?;
            let mut end = then.span;
            let els = if self.eat_kw("else") {
                let e = if self.is_kw("if") {
                    self.if_expr()?
                } else {
                    let b = self.block()?;
                    let span = b.span;
                    Expr { kind: ExprKind::Block(b), span }
                };
                end = e.span;
                Some(Box::new(e))
            } else {
                None
            };
            Ok(Expr { kind: ExprKind::If(Box::new(cond), then, els), span: start.to(end) })
        })();
        self.leave();
        res
    }

    /// Whether `. Type {` follows, with `Type` capitalised and the brace opening a struct
    /// literal (`{}`, `{ field: ...`, or the shorthand `{ field,` / `{ field }`).
    fn module_struct_lit_ahead(&self) -> bool {
        let Tok::Ident(ty) = self.peek_at(1) else { return false };
        if !ty.starts_with(|c: char| c.is_ascii_uppercase()) || !matches!(self.peek_at(2), Tok::Punct("{")) {
            return false;
        }
        match self.peek_at(3) {
            Tok::Punct("}") => true,
            Tok::Ident(_) => matches!(self.peek_at(4), Tok::Punct(":" | "," | "}")),
            _ => false,
        }
    }

    // struct_lit -> name '{' { field [ ':' expr ] ',' } '}'   (`field` alone means `field: field`)
    fn struct_lit(&mut self, name: Ident) -> PResult<Expr> {
        self.expect_punct("{")?;
        let mut fields = Vec::new();
        while !self.is_punct("}") {
            let fname = self.ident()?;
            let value = if self.eat_punct(":") {
                self.expr(true)?
            } else {
                Expr { kind: ExprKind::Name(fname.name.clone()), span: fname.span }
            };
            fields.push((fname, value));
            if !self.eat_punct(",") {
                break;
            }
        }
        let end = self.expect_punct("}")?;
        let span = name.span.to(end);
        Ok(Expr { kind: ExprKind::StructLit(name, fields), span })
    }

    // array_lit -> '[' [ expr { ',' expr } [','] ] ']' | '[' expr ';' expr ']'
    fn array_lit(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let mut items = Vec::new();
        if !self.is_punct("]") {
            let first = self.expr(true)?;
            if self.eat_punct(";") {
                let count = self.expr(true)?;
                let end = self.expect_punct("]")?;
                return Ok(Expr {
                    kind: ExprKind::ArrayRepeat(Box::new(first), Box::new(count)),
                    span: start.to(end),
                });
            }
            items.push(first);
            while self.eat_punct(",") {
                if self.is_punct("]") {
                    break;
                }
                items.push(self.expr(true)?);
            }
        }
        let end = self.expect_punct("]")?;
        Ok(Expr { kind: ExprKind::ArrayLit(items), span: start.to(end) })
    }

    fn string_pieces(&mut self, parts: Vec<StrPart>) -> PResult<Vec<StrPiece>> {
        let mut pieces = Vec::new();
        for part in parts {
            match part {
                StrPart::Lit(s) => pieces.push(StrPiece::Lit(s)),
                StrPart::Interp(mut tokens, span) => {
                    tokens.push(Token {
                        tok: Tok::Eof,
                        span: Span { start: span.end.saturating_sub(1), ..span },
                    });
                    let mut sub = Parser { tokens, pos: 0, errors: &mut *self.errors, depth: self.depth };
                    let e = sub.expr(true)?;
                    if !sub.at_eof() {
                        return sub.expected("`}` to end the interpolation");
                    }
                    pieces.push(StrPiece::Expr(e));
                }
            }
        }
        Ok(pieces)
    }
}

enum StmtOrTail {
    Stmt(Stmt),
    Tail(Expr),
}

#[derive(Clone, Copy)]
enum Infix {
    Assign(Option<BinOp>),
    Range,
    Bin(BinOp),
}

const AS_BP: u8 = 12;

fn infix(tok: &Tok) -> Option<(u8, Infix)> {
    let Tok::Punct(p) = tok else { return None };
    use BinOp::*;
    Some(match *p {
        "=" => (1, Infix::Assign(None)),
        "+=" => (1, Infix::Assign(Some(Add))),
        "-=" => (1, Infix::Assign(Some(Sub))),
        "*=" => (1, Infix::Assign(Some(Mul))),
        "/=" => (1, Infix::Assign(Some(Div))),
        "%=" => (1, Infix::Assign(Some(Rem))),
        "&=" => (1, Infix::Assign(Some(BitAnd))),
        "|=" => (1, Infix::Assign(Some(BitOr))),
        "^=" => (1, Infix::Assign(Some(BitXor))),
        "<<=" => (1, Infix::Assign(Some(Shl))),
        ">>=" => (1, Infix::Assign(Some(Shr))),
        ".." => (2, Infix::Range),
        "||" => (3, Infix::Bin(Or)),
        "&&" => (4, Infix::Bin(And)),
        "==" => (5, Infix::Bin(Eq)),
        "!=" => (5, Infix::Bin(Ne)),
        "<" => (5, Infix::Bin(Lt)),
        "<=" => (5, Infix::Bin(Le)),
        ">" => (5, Infix::Bin(Gt)),
        ">=" => (5, Infix::Bin(Ge)),
        "|" => (6, Infix::Bin(BitOr)),
        "^" => (7, Infix::Bin(BitXor)),
        "&" => (8, Infix::Bin(BitAnd)),
        "<<" => (9, Infix::Bin(Shl)),
        ">>" => (9, Infix::Bin(Shr)),
        "+" => (10, Infix::Bin(Add)),
        "-" => (10, Infix::Bin(Sub)),
        "*" => (11, Infix::Bin(Mul)),
        "/" => (11, Infix::Bin(Div)),
        "%" => (11, Infix::Bin(Rem)),
        _ => return None,
    })
}
