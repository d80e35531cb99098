//! The generated programs' syntax tree: a small, well-typed subset of Kiln that the
//! generator builds, the renderer prints and the reference evaluator runs.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    /// `[int]`
    Arr,
    /// `P { x: int, y: int }`
    Pt,
    /// `enum E { A(int), B(str, int), C }`
    En,
    /// `Option<int>`: an optional value (its variants are tags 3 and 4 of `Variant`).
    Opt,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Float => "float",
            Ty::Bool => "bool",
            Ty::Str => "str",
            Ty::Arr => "[int]",
            Ty::Pt => "P",
            Ty::En => "E",
            Ty::Opt => "Option<int>",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogicAnd,
    LogicOr,
}

impl Bin {
    pub fn text(self) -> &'static str {
        match self {
            Bin::Add => "+",
            Bin::Sub => "-",
            Bin::Mul => "*",
            Bin::Div => "/",
            Bin::Rem => "%",
            Bin::And => "&",
            Bin::Or => "|",
            Bin::Xor => "^",
            Bin::Shl => "<<",
            Bin::Shr => ">>",
            Bin::Eq => "==",
            Bin::Ne => "!=",
            Bin::Lt => "<",
            Bin::Le => "<=",
            Bin::Gt => ">",
            Bin::Ge => ">=",
            Bin::LogicAnd => "&&",
            Bin::LogicOr => "||",
        }
    }

    /// Binding strength, higher binds tighter (language.md's table).
    pub fn prec(self) -> u8 {
        match self {
            Bin::Mul | Bin::Div | Bin::Rem => 9,
            Bin::Add | Bin::Sub => 8,
            Bin::Shl | Bin::Shr => 7,
            Bin::And => 6,
            Bin::Xor => 5,
            Bin::Or => 4,
            Bin::Eq | Bin::Ne | Bin::Lt | Bin::Le | Bin::Gt | Bin::Ge => 3,
            Bin::LogicAnd => 2,
            Bin::LogicOr => 1,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.prec() == 3
    }
}

#[derive(Clone, Debug)]
pub enum Expr {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Var(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(Bin, Box<Expr>, Box<Expr>),
    Cast(Box<Expr>, Ty),
    If(Box<Expr>, Box<Block>, Box<Block>),
    Block(Box<Block>),
    Call(String, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    ArrLen(Box<Expr>),
    StrLen(Box<Expr>),
    Field(Box<Expr>, &'static str),
    ArrLit(Vec<Expr>),
    /// `P { x: .., y: .. }`; `y_first` writes (and so evaluates) `y` first.
    PtLit {
        x: Box<Expr>,
        y: Box<Expr>,
        y_first: bool,
    },
    Interp(Vec<Expr>),
    /// `E.A(x)`, `E.B(s, n)`, `E.C`, `Some(x)`, `None`: the variant's tag (0 to 4) and
    /// payload.
    Variant(u32, Vec<Expr>),
    /// `pick(c, a, b)`: the program's generic `fn pick<T>(c: bool, a: T, b: T) -> T`,
    /// instantiated at the arguments' type (all three are evaluated, left to right).
    Pick(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `via(x)`: the program's `fn via(s: Sh) -> int { s.k() }`, so a `P` or an `E` seen
    /// as interface `Sh` and its method called by dynamic dispatch.
    Via(Box<Expr>),
    /// `(|param: T| body)(arg)`: a closure called where it is made; its body reads and
    /// assigns the variables around it (captured, shared).
    Apply {
        param: String,
        ty: Ty,
        ret: Ty,
        arg: Box<Expr>,
        body: Box<Expr>,
    },
    /// `match scrutinee { arms }`; the generator makes the arms exhaustive.
    Match(Box<Expr>, Vec<(Pat, Expr)>),
}

/// A pattern of the generated subset.
#[derive(Clone, Debug)]
pub enum Pat {
    Wild,
    Bind(String),
    Int(i64),
    /// A variant of `E` by tag, with payload patterns.
    Variant(u32, Vec<Pat>),
}

#[derive(Clone, Debug)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub tail: Expr,
}

#[derive(Clone, Debug)]
pub enum Place {
    Var(String),
    Index(Expr, Expr),
    Field(Expr, &'static str),
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Let {
        name: String,
        mutable: bool,
        ty: Ty,
        init: Expr,
    },
    Assign {
        place: Place,
        op: Option<Bin>,
        value: Expr,
    },
    Print(Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `var c = 0; while c < limit { c += 1; body }`
    While {
        counter: String,
        limit: i64,
        body: Vec<Stmt>,
    },
    For {
        var: String,
        lo: Expr,
        hi: Expr,
        body: Vec<Stmt>,
    },
    Break,
    Continue,
    Push(Expr, Expr),
    Expr(Expr),
    /// `return value;` (only in function bodies).
    Return(Expr),
}

#[derive(Clone, Debug)]
pub struct Func {
    pub name: String,
    pub params: Vec<(String, Ty)>,
    pub ret: Ty,
    pub body: Block,
}

#[derive(Clone, Debug)]
pub struct Const {
    pub name: String,
    pub ty: Ty,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct Program {
    pub consts: Vec<Const>,
    /// `var NAME: T = value;` globals, initialised in order.
    pub globals: Vec<Const>,
    pub funcs: Vec<Func>,
    pub main: Vec<Stmt>,
}
