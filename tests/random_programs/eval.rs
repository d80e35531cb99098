//! A reference evaluator for generated programs, written from language.md alone (it
//! shares no code with the compiler or the runtime): left-to-right evaluation,
//! wrapping integers, IEEE floats, arrays and structs as shared references.

use super::ast::*;
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Clone, Debug)]
pub enum V {
    I(i64),
    F(f64),
    B(bool),
    S(Rc<str>),
    A(usize),
    P(usize),
    /// A value of `E`: tag and payload.
    E(Rc<(u32, Vec<V>)>),
}

impl V {
    fn int(&self) -> i64 {
        match self {
            V::I(v) => *v,
            other => panic!("generator bug: {other:?} is not an int"),
        }
    }
    fn bool(&self) -> bool {
        match self {
            V::B(v) => *v,
            other => panic!("generator bug: {other:?} is not a bool"),
        }
    }
    fn text(&self) -> String {
        match self {
            V::I(v) => v.to_string(),
            V::F(v) => format!("{v:?}"),
            V::B(v) => v.to_string(),
            V::S(s) => s.to_string(),
            other => panic!("generator bug: {other:?} has no text"),
        }
    }
}

/// How evaluation left the straight path.
pub enum Flow {
    Break,
    Continue,
    /// `return value;` leaving the current function.
    Return(V),
    /// A trap, with the message `vmrun` prints after `error: `.
    Trap(String),
    /// The program runs too long for a test: discard it.
    TooLong,
}

type R<T> = Result<T, Flow>;

/// What running a program gives: its stdout and the trap that ended it, if one did.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub stdout: String,
    pub trap: Option<String>,
}

const MAX_STEPS: u64 = 200_000;
const MAX_STR: usize = 1 << 16;

pub fn run(p: &Program) -> Option<Outcome> {
    let mut ev = Eval {
        p,
        arrs: Vec::new(),
        pts: Vec::new(),
        out: String::new(),
        steps: 0,
        consts: HashMap::new(),
        globals: HashMap::new(),
    };
    for c in &p.consts {
        let mut scopes = vec![HashMap::new()];
        match ev.expr(&c.value, &mut scopes) {
            Ok(v) => {
                ev.consts.insert(c.name.clone(), v);
            }
            Err(_) => panic!("generator bug: constant {} does not evaluate", c.name),
        }
    }
    let mut scopes = vec![HashMap::new()];
    let mut trap = None;
    for g in &p.globals {
        match ev.expr(&g.value, &mut scopes) {
            Ok(v) => {
                ev.globals.insert(g.name.clone(), v);
            }
            Err(Flow::Trap(t)) => {
                trap = Some(t);
                break;
            }
            Err(Flow::TooLong) => return None,
            Err(_) => panic!("generator bug: control flow out of a global's initialiser"),
        }
    }
    if trap.is_none() {
        trap = match ev.stmts(&p.main, &mut scopes) {
            Ok(()) => None,
            Err(Flow::Trap(t)) => Some(t),
            Err(Flow::TooLong) => return None,
            Err(Flow::Break | Flow::Continue | Flow::Return(_)) => {
                panic!("generator bug: break or return in main")
            }
        };
    }
    Some(Outcome { stdout: ev.out, trap })
}

struct Eval<'p> {
    p: &'p Program,
    arrs: Vec<Vec<i64>>,
    pts: Vec<[i64; 2]>,
    out: String,
    steps: u64,
    consts: HashMap<String, V>,
    globals: HashMap<String, V>,
}

type Scopes = Vec<HashMap<String, V>>;

fn lookup<'a>(scopes: &'a mut Scopes, name: &str) -> &'a mut V {
    scopes
        .iter_mut()
        .rev()
        .find_map(|s| s.get_mut(name))
        .unwrap_or_else(|| panic!("generator bug: `{name}` unbound"))
}

fn trap<T>(msg: impl Into<String>) -> R<T> {
    Err(Flow::Trap(msg.into()))
}

fn int_op(op: Bin, a: i64, b: i64) -> R<i64> {
    Ok(match op {
        Bin::Add => a.wrapping_add(b),
        Bin::Sub => a.wrapping_sub(b),
        Bin::Mul => a.wrapping_mul(b),
        Bin::Div | Bin::Rem if b == 0 => return trap("division by zero"),
        Bin::Div if a == i64::MIN && b == -1 => i64::MIN,
        Bin::Rem if a == i64::MIN && b == -1 => 0,
        Bin::Div => a / b,
        Bin::Rem => a % b,
        Bin::And => a & b,
        Bin::Or => a | b,
        Bin::Xor => a ^ b,
        Bin::Shl => ((a as u64) << (b & 63)) as i64,
        Bin::Shr => a >> (b & 63),
        other => panic!("generator bug: {other:?} on ints"),
    })
}

fn compare<T: PartialOrd>(op: Bin, a: T, b: T) -> bool {
    match op {
        Bin::Eq => a == b,
        Bin::Ne => a != b,
        Bin::Lt => a < b,
        Bin::Le => a <= b,
        Bin::Gt => a > b,
        Bin::Ge => a >= b,
        other => panic!("generator bug: {other:?} is not a comparison"),
    }
}

impl Eval<'_> {
    fn tick(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(Flow::TooLong);
        }
        Ok(())
    }

    fn stmts(&mut self, list: &[Stmt], scopes: &mut Scopes) -> R<()> {
        scopes.push(HashMap::new());
        let r = list.iter().try_for_each(|s| self.stmt(s, scopes));
        scopes.pop();
        r
    }

    /// Runs a loop body: `Ok(true)` to go on, `Ok(false)` after `break`.
    fn body(&mut self, list: &[Stmt], scopes: &mut Scopes) -> R<bool> {
        match self.stmts(list, scopes) {
            Ok(()) | Err(Flow::Continue) => Ok(true),
            Err(Flow::Break) => Ok(false),
            Err(other) => Err(other),
        }
    }

    fn binop(&mut self, op: Bin, a: V, b: V) -> R<V> {
        Ok(match (a, b) {
            (V::I(a), V::I(b)) if op.is_comparison() => V::B(compare(op, a, b)),
            (V::I(a), V::I(b)) => V::I(int_op(op, a, b)?),
            (V::F(a), V::F(b)) if op.is_comparison() => V::B(compare(op, a, b)),
            (V::F(a), V::F(b)) => V::F(match op {
                Bin::Add => a + b,
                Bin::Sub => a - b,
                Bin::Mul => a * b,
                Bin::Div => a / b,
                Bin::Rem => a % b,
                other => panic!("generator bug: {other:?} on floats"),
            }),
            (V::B(a), V::B(b)) => V::B(compare(op, a, b)),
            (V::S(a), V::S(b)) if op == Bin::Add => {
                // Doubling a string in a loop grows it exponentially: such a program
                // tests the heap limit, not the compiler; discard it.
                if a.len() + b.len() > MAX_STR {
                    return Err(Flow::TooLong);
                }
                V::S(format!("{a}{b}").into())
            }
            (V::S(a), V::S(b)) => V::B(compare(op, a.as_bytes(), b.as_bytes())),
            (a, b) => panic!("generator bug: {op:?} on {a:?} and {b:?}"),
        })
    }

    fn stmt(&mut self, s: &Stmt, scopes: &mut Scopes) -> R<()> {
        self.tick()?;
        match s {
            Stmt::Let { name, init, .. } => {
                let v = self.expr(init, scopes)?;
                scopes.last_mut().expect("a scope").insert(name.clone(), v);
            }
            Stmt::Assign { place, op, value } => match place {
                Place::Var(name) => {
                    let global = self.globals.contains_key(name);
                    let v = match op {
                        None => self.expr(value, scopes)?,
                        Some(op) => {
                            let old = if global {
                                self.globals[name].clone()
                            } else {
                                lookup(scopes, name).clone()
                            };
                            let rhs = self.expr(value, scopes)?;
                            self.binop(*op, old, rhs)?
                        }
                    };
                    if global {
                        self.globals.insert(name.clone(), v);
                    } else {
                        *lookup(scopes, name) = v;
                    }
                }
                Place::Index(arr, idx) => {
                    let V::A(a) = self.expr(arr, scopes)? else {
                        panic!("generator bug: index of non-array")
                    };
                    let i = self.expr(idx, scopes)?.int();
                    let v = match op {
                        None => self.expr(value, scopes)?.int(),
                        Some(op) => {
                            let old = self.element(a, i)?;
                            let rhs = self.expr(value, scopes)?.int();
                            int_op(*op, old, rhs)?
                        }
                    };
                    self.element(a, i)?;
                    self.arrs[a][i as usize] = v;
                }
                Place::Field(obj, field) => {
                    let V::P(p) = self.expr(obj, scopes)? else {
                        panic!("generator bug: field of non-struct")
                    };
                    let f = usize::from(*field == "y");
                    let v = match op {
                        None => self.expr(value, scopes)?.int(),
                        Some(op) => {
                            let old = self.pts[p][f];
                            let rhs = self.expr(value, scopes)?.int();
                            int_op(*op, old, rhs)?
                        }
                    };
                    self.pts[p][f] = v;
                }
            },
            Stmt::Print(e) => {
                let v = self.expr(e, scopes)?;
                self.out += &v.text();
                self.out.push('\n');
            }
            Stmt::If(c, t, f) => {
                if self.expr(c, scopes)?.bool() {
                    self.stmts(t, scopes)?;
                } else {
                    self.stmts(f, scopes)?;
                }
            }
            Stmt::While { counter, limit, body } => {
                scopes.last_mut().expect("a scope").insert(counter.clone(), V::I(0));
                while lookup(scopes, counter).int() < *limit {
                    self.tick()?;
                    let c = lookup(scopes, counter).int();
                    *lookup(scopes, counter) = V::I(c + 1);
                    if !self.body(body, scopes)? {
                        break;
                    }
                }
            }
            Stmt::For { var, lo, hi, body } => {
                let lo = self.expr(lo, scopes)?.int();
                let hi = self.expr(hi, scopes)?.int();
                let mut i = lo;
                while i < hi {
                    self.tick()?;
                    scopes.push(HashMap::from([(var.clone(), V::I(i))]));
                    let go = self.body(body, scopes);
                    scopes.pop();
                    if !go? {
                        break;
                    }
                    i += 1;
                }
            }
            Stmt::Break => return Err(Flow::Break),
            Stmt::Continue => return Err(Flow::Continue),
            Stmt::Push(arr, v) => {
                let V::A(a) = self.expr(arr, scopes)? else { panic!("generator bug: push to non-array") };
                let v = self.expr(v, scopes)?.int();
                self.arrs[a].push(v);
            }
            Stmt::Expr(e) => {
                self.expr(e, scopes)?;
            }
            Stmt::Return(e) => return Err(Flow::Return(self.expr(e, scopes)?)),
        }
        Ok(())
    }

    fn element(&self, a: usize, i: i64) -> R<i64> {
        let len = self.arrs[a].len();
        if i < 0 || i as usize >= len {
            return trap(format!("index out of bounds: index {i}, length {len}"));
        }
        Ok(self.arrs[a][i as usize])
    }

    fn block(&mut self, b: &Block, scopes: &mut Scopes) -> R<V> {
        scopes.push(HashMap::new());
        let r = (|| {
            for s in &b.stmts {
                self.stmt(s, scopes)?;
            }
            self.expr(&b.tail, scopes)
        })();
        scopes.pop();
        r
    }

    pub fn expr(&mut self, e: &Expr, scopes: &mut Scopes) -> R<V> {
        self.tick()?;
        Ok(match e {
            Expr::Int(v) => V::I(*v),
            Expr::Float(v) => V::F(*v),
            Expr::Bool(v) => V::B(*v),
            Expr::Str(s) => V::S(s.as_str().into()),
            Expr::Var(n) => match (self.consts.get(n), self.globals.get(n)) {
                (Some(v), _) | (None, Some(v)) => v.clone(),
                _ => lookup(scopes, n).clone(),
            },
            Expr::Neg(inner) => match self.expr(inner, scopes)? {
                V::I(v) => V::I(v.wrapping_neg()),
                V::F(v) => V::F(-v),
                other => panic!("generator bug: negating {other:?}"),
            },
            Expr::Not(inner) => V::B(!self.expr(inner, scopes)?.bool()),
            Expr::Bin(Bin::LogicAnd, l, r) => {
                V::B(self.expr(l, scopes)?.bool() && self.expr(r, scopes)?.bool())
            }
            Expr::Bin(Bin::LogicOr, l, r) => {
                V::B(self.expr(l, scopes)?.bool() || self.expr(r, scopes)?.bool())
            }
            Expr::Bin(op, l, r) => {
                let a = self.expr(l, scopes)?;
                let b = self.expr(r, scopes)?;
                self.binop(*op, a, b)?
            }
            Expr::Cast(inner, ty) => match (self.expr(inner, scopes)?, ty) {
                (V::I(v), Ty::Float) => V::F(v as f64),
                // Truncates toward zero, saturating; NaN gives 0.
                (V::F(v), Ty::Int) => V::I(if v.is_nan() {
                    0
                } else if v >= 9.223372036854776e18 {
                    i64::MAX
                } else if v <= -9.223372036854776e18 {
                    i64::MIN
                } else {
                    v.trunc() as i64
                }),
                (v, _) => v,
            },
            Expr::If(c, t, f) => {
                if self.expr(c, scopes)?.bool() {
                    self.block(t, scopes)?
                } else {
                    self.block(f, scopes)?
                }
            }
            Expr::Block(b) => self.block(b, scopes)?,
            Expr::Call(name, args) => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.expr(a, scopes)?);
                }
                let f =
                    self.p.funcs.iter().find(|f| f.name == *name).expect("generator bug: unknown function");
                let frame: HashMap<String, V> = f.params.iter().map(|(n, _)| n.clone()).zip(vals).collect();
                let mut callee = vec![frame];
                match self.block(&f.body, &mut callee) {
                    Ok(v) | Err(Flow::Return(v)) => v,
                    Err(Flow::Break | Flow::Continue) => panic!("generator bug: break escaped a function"),
                    Err(e) => return Err(e),
                }
            }
            Expr::Index(arr, idx) => {
                let V::A(a) = self.expr(arr, scopes)? else { panic!("generator bug: index of non-array") };
                let i = self.expr(idx, scopes)?.int();
                V::I(self.element(a, i)?)
            }
            Expr::ArrLen(arr) => match self.expr(arr, scopes)? {
                V::A(a) => V::I(self.arrs[a].len() as i64),
                other => panic!("generator bug: len of {other:?}"),
            },
            Expr::StrLen(s) => match self.expr(s, scopes)? {
                V::S(s) => V::I(s.len() as i64),
                other => panic!("generator bug: str len of {other:?}"),
            },
            Expr::Field(obj, field) => match self.expr(obj, scopes)? {
                V::P(p) => V::I(self.pts[p][usize::from(*field == "y")]),
                other => panic!("generator bug: field of {other:?}"),
            },
            Expr::ArrLit(items) => {
                let mut vals = Vec::new();
                for i in items {
                    vals.push(self.expr(i, scopes)?.int());
                }
                self.arrs.push(vals);
                V::A(self.arrs.len() - 1)
            }
            Expr::PtLit { x, y, y_first } => {
                let (x, y) = if *y_first {
                    let y = self.expr(y, scopes)?.int();
                    (self.expr(x, scopes)?.int(), y)
                } else {
                    let x = self.expr(x, scopes)?.int();
                    (x, self.expr(y, scopes)?.int())
                };
                self.pts.push([x, y]);
                V::P(self.pts.len() - 1)
            }
            Expr::Variant(tag, args) => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.expr(a, scopes)?);
                }
                V::E(Rc::new((*tag, vals)))
            }
            Expr::Via(x) => match self.expr(x, scopes)? {
                V::P(p) => V::I(self.pts[p][0].wrapping_mul(2).wrapping_add(self.pts[p][1])),
                V::E(e) => V::I(match (e.0, &e.1[..]) {
                    (0, [V::I(n)]) => *n,
                    (1, [V::S(s), V::I(n)]) => (s.len() as i64).wrapping_add(*n),
                    _ => 7,
                }),
                other => panic!("generator bug: via of {other:?}"),
            },
            Expr::Apply { param, arg, body, .. } => {
                let v = self.expr(arg, scopes)?;
                scopes.push(HashMap::from([(param.clone(), v)]));
                let r = self.expr(body, scopes);
                scopes.pop();
                r?
            }
            Expr::Pick(c, a, b) => {
                let c = self.expr(c, scopes)?.bool();
                let a = self.expr(a, scopes)?;
                let b = self.expr(b, scopes)?;
                if c {
                    a
                } else {
                    b
                }
            }
            Expr::Match(s, arms) => {
                let v = self.expr(s, scopes)?;
                for (pat, body) in arms {
                    let mut binds = HashMap::new();
                    if matches(pat, &v, &mut binds) {
                        scopes.push(binds);
                        let r = self.expr(body, scopes);
                        scopes.pop();
                        return r;
                    }
                }
                panic!("generator bug: a match that is not exhaustive")
            }
            Expr::Interp(pieces) => {
                let mut s = String::new();
                for (i, p) in pieces.iter().enumerate() {
                    if i > 0 {
                        s.push('~');
                    }
                    s += &self.expr(p, scopes)?.text();
                    if s.len() > MAX_STR {
                        return Err(Flow::TooLong);
                    }
                }
                V::S(s.into())
            }
        })
    }
}

/// Whether `v` matches `p`, collecting the bindings.
fn matches(p: &Pat, v: &V, binds: &mut HashMap<String, V>) -> bool {
    match (p, v) {
        (Pat::Wild, _) => true,
        (Pat::Bind(n), v) => {
            binds.insert(n.clone(), v.clone());
            true
        }
        (Pat::Int(k), V::I(x)) => k == x,
        (Pat::Variant(tag, subs), V::E(e)) => {
            e.0 == *tag && subs.iter().zip(&e.1).all(|(p, v)| matches(p, v, binds))
        }
        (p, v) => panic!("generator bug: pattern {p:?} against {v:?}"),
    }
}
