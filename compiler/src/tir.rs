//! The typed intermediate representation: what the checker (`check`) produces from the
//! syntax tree and the lowering (`lower`) turns into bytecode.
//!
//! Every name is resolved (locals to [`LocalId`]s, functions, structs and globals to
//! their indices in [`crate::sema::items::Items`]), every expression carries its type,
//! every operator is known to apply to its operands, and constants are folded. A program
//! with errors never reaches lowering, so nothing here is `Ty::Error`.
//!
//! Evaluation order is the tree's order: operands, arguments and struct-literal fields
//! left to right, as written.

use crate::sema::consts::ConstVal;
use crate::sema::types::Ty;
use crate::syntax::ast::{BinOp, UnOp};
use crate::syntax::span::Span;

/// A local variable or parameter of one function, an index into [`Body::locals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

/// What the body knows of one local.
#[derive(Debug, Clone)]
pub struct LocalDecl {
    /// Name as written (for diagnostics and debugging).
    pub name: String,
    /// Its type (`Ty::Never` or `Ty::Unit` locals hold no value).
    pub ty: Ty,
    /// Whether it lives in a heap cell: a closure captures it and it is assigned, so
    /// the closure and the function share it.
    pub boxed: bool,
}

/// A checked function body (or a global's initialiser).
#[derive(Debug, Clone)]
pub struct Body {
    /// Every local: parameters first, then (for a closure) its captures, then the rest.
    pub locals: Vec<LocalDecl>,
    /// How many of `locals` are parameters (`self` first for methods).
    pub n_params: usize,
    /// For a closure's body: how many locals after the parameters are its captures,
    /// loaded from the closure object (its hidden first parameter) on entry.
    pub closure: Option<usize>,
    /// Result type.
    pub ret: Ty,
    /// The body; its value is the result.
    pub expr: Expr,
}

/// A typed expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Ty,
    /// Where it was written (instructions take their line from it).
    pub span: Span,
}

/// A built-in operation on a string or an array that is one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intrinsic {
    /// `s.len()`
    StrLen,
    /// `a.len()`
    ArrayLen,
    /// `a.push(x)`
    ArrayPush,
    /// `a.insert(i, x)`
    ArrayInsert,
    /// `a.remove(i)`
    ArrayRemove,
    /// `a.sort()`
    ArraySort,
}

/// Where an assignment stores.
#[derive(Debug, Clone)]
pub enum Place {
    /// A `var` local.
    Local(LocalId),
    /// A module `var`, by index in `Items::globals`.
    Global(usize),
    /// `obj.field`, by field index.
    Field(Box<Expr>, u32),
    /// `arr[idx]`
    Index(Box<Expr>, Box<Expr>),
}

/// A piece of an interpolated string.
#[derive(Debug, Clone)]
pub enum Piece {
    /// Literal text.
    Lit(String),
    /// A value of type int, float, bool or str, shown as text.
    Value(Expr),
}

/// `{ stmts; tail }`
#[derive(Debug, Clone)]
pub struct Block {
    /// Statements in order.
    pub stmts: Vec<Stmt>,
    /// The block's value, if it has a final expression.
    pub tail: Option<Box<Expr>>,
    /// Where the block ends (its closing brace), for an implicit return.
    pub end: Span,
}

/// A statement.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// `let`/`var`: the new local and its initialiser.
    Let(LocalId, Expr),
    /// An expression evaluated for its effects.
    Expr(Expr),
}

/// Expression kinds.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A literal or a folded constant.
    Const(ConstVal),
    /// Reads a local.
    Local(LocalId),
    /// Reads a module `var`, by index in `Items::globals`.
    Global(usize),
    /// `"a{x}b"`: pieces concatenated.
    Interp(Vec<Piece>),
    /// A binary operator on two operands of one type (`&&`, `||` short-circuit). `+` on
    /// strings concatenates.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `-x`, `!x`
    Unary(UnOp, Box<Expr>),
    /// `place = value`. For `place op= value` the value is `current op value`, where
    /// the current value of a field or element is [`ExprKind::PlaceValue`].
    Assign(Place, Box<Expr>),
    /// Inside a compound assignment's value: the current value of the place assigned,
    /// whose object and index were evaluated once, before the right operand.
    PlaceValue,
    /// A call of a function or method (receiver first), by index in `Items::fns`, with
    /// its type arguments (after monomorphisation, the index is the instance's and there
    /// are none).
    Call(usize, Vec<Ty>, Vec<Expr>),
    /// A call of a built-in native by name (`kiln_bytecode::natives`).
    Native(&'static str, Vec<Expr>),
    /// A call of a host function by name: the body of an `extern fn`.
    Host(String, Vec<Expr>),
    /// `print`-like natives: the argument (int, float, bool or str; none for an empty
    /// line) is turned into text first.
    Print(&'static str, Option<Box<Expr>>),
    /// A one-instruction operation on a string or array (the receiver first).
    Intrinsic(Intrinsic, Vec<Expr>),
    /// `obj.field`, by field index.
    Field(Box<Expr>, u32),
    /// `arr[idx]`
    Index(Box<Expr>, Box<Expr>),
    /// `x as T` between int and float (identity casts are removed by the checker).
    Cast(Box<Expr>),
    /// `if cond { then } else { els }`; the branches are blocks or (for `else if`) ifs.
    If(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    /// `while cond { body }`
    While(Box<Expr>, Box<Expr>),
    /// `for var in from..to { body }`
    ForRange(LocalId, Box<Expr>, Box<Expr>, Box<Expr>),
    /// `for var in array { body }`
    ForArray(LocalId, Box<Expr>, Box<Expr>),
    /// A block.
    Block(Block),
    /// `break`
    Break,
    /// `continue`
    Continue,
    /// `return` with an optional value.
    Return(Option<Box<Expr>>),
    /// A struct literal: the struct's index and its fields as written, each with its
    /// field index.
    StructLit(usize, Vec<(u32, Expr)>),
    /// `[a, b, ...]`
    ArrayLit(Vec<Expr>),
    /// `[value; count]`
    ArrayRepeat(Box<Expr>, Box<Expr>),
    /// A value of enum variant `tag` of enum `enum` (index in `Items::enums`), with its
    /// payload.
    Variant(usize, u32, Vec<Expr>),
    /// `match scrutinee { arms }`: arms are tried in order; the checker proved that one
    /// always matches.
    Match(Box<Expr>, Vec<Arm>),
    /// A closure literal, while its enclosing function is being checked (its body uses
    /// the enclosing function's locals); replaced by [`ExprKind::MakeClosure`].
    Closure(Box<ClosureExpr>),
    /// A closure value: closure `index` (in `Program::closures`; after monomorphisation,
    /// a function instance) capturing these locals of the enclosing function.
    MakeClosure(usize, Vec<LocalId>),
    /// Function `index` (in `Items::fns`) with these type arguments, as a value;
    /// monomorphisation turns it into a closure without captures.
    FnRef(usize, Vec<Ty>),
    /// A call of a function value.
    CallValue(Box<Expr>, Vec<Expr>),
    /// A struct or enum value seen as an interface it implements (the expression's
    /// type).
    ToIface(Box<Expr>),
    /// Method `method` of interface `iface` on an interface value (the first argument):
    /// dynamic dispatch.
    CallIface(usize, u32, Vec<Expr>),
    /// Method `method` of interface `iface` on a value of a type parameter bounded by
    /// it; monomorphisation makes it a direct call (or `CallIface` on an interface
    /// value).
    CallBound(usize, u32, Vec<Expr>),
    /// `same(a, b)`: identity of two references of one type (`==` on int, float, bool
    /// and str).
    Same(Box<Expr>, Box<Expr>),
    /// The hash of an int, str or bool (a `Map` key), the same in every run.
    HashOf(Box<Expr>),
    /// The text of a value: an int, float, bool or str (after monomorphisation), or a
    /// type parameter's value bounded by `Display` (monomorphisation calls the
    /// type's `to_str` for a user type).
    ToText(Box<Expr>),
    /// Ends the instance (after `panic` or `exit`): control never continues.
    Unreachable,
}

/// A closure literal inside the body being checked.
#[derive(Debug, Clone)]
pub struct ClosureExpr {
    /// Its parameters.
    pub params: Vec<LocalId>,
    /// Its body.
    pub body: Expr,
    /// The locals declared inside it (parameters included): `first..end`.
    pub locals: std::ops::Range<u32>,
}

/// One arm of a `match`.
#[derive(Debug, Clone)]
pub struct Arm {
    /// The pattern; its bindings are locals of the arm.
    pub pat: Pat,
    /// The arm's value.
    pub body: Expr,
}

/// A checked pattern.
#[derive(Debug, Clone)]
pub struct Pat {
    /// What it matches.
    pub kind: PatKind,
    /// The type of the value it matches.
    pub ty: Ty,
    /// Where it was written.
    pub span: Span,
}

/// Pattern kinds.
#[derive(Debug, Clone)]
pub enum PatKind {
    /// Matches anything.
    Wild,
    /// Matches anything and binds it to a local.
    Bind(LocalId),
    /// Matches one int, bool or str value.
    Const(ConstVal),
    /// Matches variant `tag` of enum `enum` whose payload matches the sub-patterns.
    Variant(usize, u32, Vec<Pat>),
}

impl Expr {
    /// An expression of type `ty` at `span`.
    pub fn new(kind: ExprKind, ty: Ty, span: Span) -> Expr {
        Expr { kind, ty, span }
    }

    /// Whether evaluating this expression may assign a local (conservatively). A
    /// consumer holding a local's register as an already evaluated operand must copy it
    /// first, since operands are evaluated left to right.
    pub fn may_assign_local(&self) -> bool {
        let mut found = false;
        self.visit(&mut |e| {
            if let ExprKind::Assign(Place::Local(_), _) = e.kind {
                found = true;
            }
        });
        found
    }

    /// Calls `f` on this expression and every expression inside it, outermost first.
    /// Iterative, so a deep tree needs no deep recursion here.
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            e.for_each_child(|c| stack.push(c));
        }
    }

    /// Calls `f` on this expression and every expression inside it, outermost first,
    /// with each one mutable (recursively: the depth is the source's nesting, which the
    /// parser bounds, plus operator chains, which the compiler's big stack absorbs).
    pub fn visit_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        f(self);
        self.for_each_child_mut(|c| c.visit_mut(f));
    }

    /// Calls `f` on each direct sub-expression, mutable, in evaluation order.
    pub fn for_each_child_mut(&mut self, mut f: impl FnMut(&mut Expr)) {
        match &mut self.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Global(_)
            | ExprKind::Break
            | ExprKind::Continue
            | ExprKind::PlaceValue
            | ExprKind::MakeClosure(..)
            | ExprKind::FnRef(..)
            | ExprKind::Unreachable => {}
            ExprKind::Interp(pieces) => {
                for p in pieces {
                    if let Piece::Value(e) = p {
                        f(e);
                    }
                }
            }
            ExprKind::Binary(_, a, b)
            | ExprKind::Same(a, b)
            | ExprKind::Index(a, b)
            | ExprKind::ArrayRepeat(a, b)
            | ExprKind::While(a, b)
            | ExprKind::ForArray(_, a, b) => {
                f(a);
                f(b);
            }
            ExprKind::Unary(_, a)
            | ExprKind::Field(a, _)
            | ExprKind::Cast(a)
            | ExprKind::ToIface(a)
            | ExprKind::HashOf(a)
            | ExprKind::ToText(a) => f(a),
            ExprKind::Assign(place, value) => {
                match place {
                    Place::Local(_) | Place::Global(_) => {}
                    Place::Field(o, _) => f(o),
                    Place::Index(a, i) => {
                        f(a);
                        f(i);
                    }
                }
                f(value);
            }
            ExprKind::Match(s, arms) => {
                f(s);
                arms.iter_mut().for_each(|a| f(&mut a.body));
            }
            ExprKind::Closure(c) => f(&mut c.body),
            ExprKind::CallValue(callee, args) => {
                f(callee);
                args.iter_mut().for_each(f);
            }
            ExprKind::Call(_, _, args)
            | ExprKind::CallIface(_, _, args)
            | ExprKind::CallBound(_, _, args)
            | ExprKind::Variant(_, _, args)
            | ExprKind::Native(_, args)
            | ExprKind::Host(_, args)
            | ExprKind::Intrinsic(_, args)
            | ExprKind::ArrayLit(args) => args.iter_mut().for_each(f),
            ExprKind::Print(_, arg) | ExprKind::Return(arg) => {
                if let Some(a) = arg {
                    f(a);
                }
            }
            ExprKind::If(c, t, e) => {
                f(c);
                f(t);
                if let Some(e) = e {
                    f(e);
                }
            }
            ExprKind::ForRange(_, a, b, body) => {
                f(a);
                f(b);
                f(body);
            }
            ExprKind::Block(b) => {
                for s in &mut b.stmts {
                    match s {
                        Stmt::Let(_, e) | Stmt::Expr(e) => f(e),
                    }
                }
                if let Some(t) = &mut b.tail {
                    f(t);
                }
            }
            ExprKind::StructLit(_, fields) => fields.iter_mut().for_each(|(_, e)| f(e)),
        }
    }

    /// Calls `f` on each direct sub-expression, in evaluation order.
    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Global(_)
            | ExprKind::Break
            | ExprKind::Continue
            | ExprKind::PlaceValue
            | ExprKind::MakeClosure(..)
            | ExprKind::FnRef(..)
            | ExprKind::Unreachable => {}
            ExprKind::Interp(pieces) => {
                for p in pieces {
                    if let Piece::Value(e) = p {
                        f(e);
                    }
                }
            }
            ExprKind::Binary(_, a, b)
            | ExprKind::Same(a, b)
            | ExprKind::Index(a, b)
            | ExprKind::ArrayRepeat(a, b)
            | ExprKind::While(a, b)
            | ExprKind::ForArray(_, a, b) => {
                f(a);
                f(b);
            }
            ExprKind::Unary(_, a)
            | ExprKind::Field(a, _)
            | ExprKind::Cast(a)
            | ExprKind::ToIface(a)
            | ExprKind::HashOf(a)
            | ExprKind::ToText(a) => f(a),
            ExprKind::Assign(place, value) => {
                match place {
                    Place::Local(_) | Place::Global(_) => {}
                    Place::Field(o, _) => f(o),
                    Place::Index(a, i) => {
                        f(a);
                        f(i);
                    }
                }
                f(value);
            }
            ExprKind::Match(s, arms) => {
                f(s);
                arms.iter().for_each(|a| f(&a.body));
            }
            ExprKind::Closure(c) => f(&c.body),
            ExprKind::CallValue(callee, args) => {
                f(callee);
                args.iter().for_each(f);
            }
            ExprKind::Call(_, _, args)
            | ExprKind::CallIface(_, _, args)
            | ExprKind::CallBound(_, _, args)
            | ExprKind::Variant(_, _, args)
            | ExprKind::Native(_, args)
            | ExprKind::Host(_, args)
            | ExprKind::Intrinsic(_, args)
            | ExprKind::ArrayLit(args) => args.iter().for_each(f),
            ExprKind::Print(_, arg) | ExprKind::Return(arg) => {
                if let Some(a) = arg {
                    f(a);
                }
            }
            ExprKind::If(c, t, e) => {
                f(c);
                f(t);
                if let Some(e) = e {
                    f(e);
                }
            }
            ExprKind::ForRange(_, a, b, body) => {
                f(a);
                f(b);
                f(body);
            }
            ExprKind::Block(b) => {
                for s in &b.stmts {
                    match s {
                        Stmt::Let(_, e) | Stmt::Expr(e) => f(e),
                    }
                }
                if let Some(t) = &b.tail {
                    f(t);
                }
            }
            ExprKind::StructLit(_, fields) => fields.iter().for_each(|(_, e)| f(e)),
        }
    }
}
