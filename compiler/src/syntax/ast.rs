//! The syntax tree, exactly as written: no names resolved, no types inferred.

use super::span::Span;

/// A name and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A type as written.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `int`, `Point`, ...
    Named(Ident),
    /// `[T]`
    Array(Box<TypeExpr>, Span),
    /// `Name<A, B>`
    Generic(Ident, Vec<TypeExpr>, Span),
    /// `fn(A, B) -> R` (no `-> R`: returns nothing)
    Fn(Vec<TypeExpr>, Option<Box<TypeExpr>>, Span),
}

impl TypeExpr {
    /// Where the type was written.
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(id) => id.span,
            TypeExpr::Array(_, span) | TypeExpr::Generic(_, _, span) | TypeExpr::Fn(_, _, span) => *span,
        }
    }
}

/// A top-level item.
#[derive(Debug, Clone)]
pub enum Item {
    /// `fn name(...) -> T { ... }`
    Fn(FnDecl),
    /// `struct Name { field: T, ... }`
    Struct(StructDecl),
    /// `enum Name { A(T, ...), B, ... }`
    Enum(EnumDecl),
    /// `interface Name { fn m(self, ...) -> R; ... }`
    Interface(InterfaceDecl),
    /// `import name;`
    Import(Ident),
    /// `impl Name { fn ... }`
    Impl(ImplDecl),
    /// `const NAME: T = expr;` or `var name: T = expr;`
    Global(GlobalDecl),
}

/// A type parameter: `T` or `T: Ord + Eq`.
#[derive(Debug, Clone)]
pub struct GenericParam {
    /// The parameter's name.
    pub name: Ident,
    /// Interfaces its arguments must implement.
    pub bounds: Vec<Ident>,
}

/// A function or method.
#[derive(Debug, Clone)]
pub struct FnDecl {
    /// Name.
    pub name: Ident,
    /// Type parameters (`fn f<T>(...)`).
    pub generics: Vec<GenericParam>,
    /// Whether the first parameter is `self`.
    pub has_self: bool,
    /// Parameters other than `self`.
    pub params: Vec<(Ident, TypeExpr)>,
    /// Result type; `None` for unit.
    pub ret: Option<TypeExpr>,
    /// Body (empty for an `extern fn`).
    pub body: Block,
    /// Declared `extern fn`: the embedding host provides it (no body).
    pub external: bool,
}

/// A struct declaration.
#[derive(Debug, Clone)]
pub struct StructDecl {
    /// Name.
    pub name: Ident,
    /// Type parameters.
    pub generics: Vec<GenericParam>,
    /// Fields in order.
    pub fields: Vec<(Ident, TypeExpr)>,
}

/// An enum declaration.
#[derive(Debug, Clone)]
pub struct EnumDecl {
    /// Name.
    pub name: Ident,
    /// Type parameters.
    pub generics: Vec<GenericParam>,
    /// Variants in order: name and payload types.
    pub variants: Vec<(Ident, Vec<TypeExpr>)>,
}

/// An interface declaration.
#[derive(Debug, Clone)]
pub struct InterfaceDecl {
    /// Name.
    pub name: Ident,
    /// Its methods, each taking `self` first.
    pub methods: Vec<MethodSig>,
}

/// A method an interface requires.
#[derive(Debug, Clone)]
pub struct MethodSig {
    /// Name.
    pub name: Ident,
    /// Parameters after `self`.
    pub params: Vec<(Ident, TypeExpr)>,
    /// Result type; `None` for unit.
    pub ret: Option<TypeExpr>,
}

/// An `impl` block.
#[derive(Debug, Clone)]
pub struct ImplDecl {
    /// Type parameters (`impl<T> Stack<T>`), shared by every method.
    pub generics: Vec<GenericParam>,
    /// The interface implemented (`impl HasArea for Shape`), if any.
    pub iface: Option<Ident>,
    /// The type the methods belong to.
    pub ty: Ident,
    /// Its type arguments as written (`Stack<T>`: `[T]`).
    pub args: Vec<TypeExpr>,
    /// Methods and static functions.
    pub methods: Vec<FnDecl>,
}

/// A module-level `const` or `var`.
#[derive(Debug, Clone)]
pub struct GlobalDecl {
    /// `const` (compile-time) or `var`.
    pub is_const: bool,
    /// Name.
    pub name: Ident,
    /// Declared type, if written.
    pub ty: Option<TypeExpr>,
    /// Initialiser.
    pub init: Expr,
}

/// `{ stmt; stmt; tail }`
#[derive(Debug, Clone)]
pub struct Block {
    /// Statements.
    pub stmts: Vec<Stmt>,
    /// The final expression without `;`, the block's value.
    pub tail: Option<Box<Expr>>,
    /// Where.
    pub span: Span,
}

/// A statement.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// `let x: T = e;` / `var x = e;`
    Let {
        /// `var` (reassignable) or `let`.
        mutable: bool,
        /// The new name.
        name: Ident,
        /// Declared type.
        ty: Option<TypeExpr>,
        /// Initial value.
        init: Expr,
    },
    /// An expression evaluated for its effect.
    Expr(Expr),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    And,
    Or,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinOp {
    /// The operator as written.
    pub fn text(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
        }
    }

    /// Whether the operator compares (and yields `bool`).
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `!x`
    Not,
}

/// A piece of an interpolated string.
#[derive(Debug, Clone)]
pub enum StrPiece {
    /// Literal text.
    Lit(String),
    /// `{expr}`
    Expr(Expr),
}

/// An expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// Expression kinds.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum ExprKind {
    /// An integer literal; a negated `9223372036854775808` is folded by the parser.
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Vec<StrPiece>),
    Name(String),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    /// `lhs = rhs` or `lhs op= rhs`.
    Assign(Option<BinOp>, Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    MethodCall(Box<Expr>, Ident, Vec<Expr>),
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    Cast(Box<Expr>, TypeExpr),
    If(Box<Expr>, Block, Option<Box<Expr>>),
    While(Box<Expr>, Block),
    For(Ident, Box<Expr>, Block),
    /// `for (k, v) in map { body }`
    ForPair(Ident, Ident, Box<Expr>, Block),
    Range(Box<Expr>, Box<Expr>),
    Block(Block),
    Break,
    Continue,
    Return(Option<Box<Expr>>),
    StructLit(Ident, Vec<(Ident, Expr)>),
    ArrayLit(Vec<Expr>),
    ArrayRepeat(Box<Expr>, Box<Expr>),
    /// `match scrutinee { pat => body, ... }`
    Match(Box<Expr>, Vec<Arm>),
    /// `e?`: the `Some`/`Ok` value, or return the `None`/`Err`.
    Try(Box<Expr>),
    /// `|a: A, b| body` (parameter types may come from the expected function type),
    /// with an optional `-> R` before a block body.
    Closure(Vec<(Ident, Option<TypeExpr>)>, Option<TypeExpr>, Box<Expr>),
}

/// One arm of a `match`.
#[derive(Debug, Clone)]
pub struct Arm {
    /// The pattern.
    pub pat: Pattern,
    /// What the arm evaluates to.
    pub body: Expr,
}

/// A pattern, as written.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// What it matches.
    pub kind: PatternKind,
    /// Where.
    pub span: Span,
}

/// Pattern kinds.
#[derive(Debug, Clone)]
pub enum PatternKind {
    /// `_`
    Wild,
    /// A lowercase name: matches anything and binds it.
    Bind(String),
    /// An int literal (possibly negative).
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// A string literal without interpolation.
    Str(String),
    /// A variant, by its path (`Shape.Circle`, `Some`), with payload patterns (none for a
    /// variant written without parentheses).
    Variant(Vec<Ident>, Vec<Pattern>),
}

impl ExprKind {
    /// Whether this is a block-shaped expression that needs no `;` as a statement.
    pub fn is_block_like(&self) -> bool {
        matches!(
            self,
            ExprKind::If(..)
                | ExprKind::While(..)
                | ExprKind::For(..)
                | ExprKind::ForPair(..)
                | ExprKind::Block(_)
                | ExprKind::Match(..)
        )
    }
}
