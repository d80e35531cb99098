//! Random well-typed programs: every operator at every precedence level, blocks and
//! assignments inside expressions, many locals live across calls, zero- and
//! many-argument calls, recursion, nested loops with break and continue, arrays and
//! structs with compound assignment, strings, casts, and constants folded at compile
//! time next to the same computation at run time.

use super::ast::*;

/// SplitMix64: small, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

#[derive(Clone)]
struct Var {
    name: String,
    ty: Ty,
    mutable: bool,
}

struct FnSig {
    name: String,
    params: Vec<Ty>,
    ret: Ty,
    /// Recursive on its first parameter: callers pass a small literal there.
    recursive: bool,
}

pub struct Gen {
    rng: Rng,
    next: usize,
    env: Vec<Var>,
    fns: Vec<FnSig>,
    consts: Vec<(String, Ty)>,
    /// Globals, visible (and assignable) in every function.
    globals: Vec<Var>,
    /// The return type of the function being generated (`None` in `main`).
    ret: Option<Ty>,
    loop_depth: usize,
}

const INT_OPS: [Bin; 10] =
    [Bin::Add, Bin::Sub, Bin::Mul, Bin::Div, Bin::Rem, Bin::And, Bin::Or, Bin::Xor, Bin::Shl, Bin::Shr];
const CMP_OPS: [Bin; 6] = [Bin::Eq, Bin::Ne, Bin::Lt, Bin::Le, Bin::Gt, Bin::Ge];
const INTS: [i64; 14] = [0, 1, 2, 3, 5, 7, 10, 63, 64, 100, 255, 1 << 40, i64::MAX, i64::MIN];
const FLOATS: [f64; 7] = [0.0, 0.5, 1.5, 2.0, 3.25, 10.0, 1e10];
/// The types of parameters, results and local variables (int twice as likely).
const VAR_TYPES: [Ty; 9] = [Ty::Int, Ty::Int, Ty::Bool, Ty::Str, Ty::Float, Ty::Arr, Ty::Pt, Ty::En, Ty::Opt];
const WORDS: [&str; 7] = ["", "a", "ab", "b", "xyz", "é", "a b"];

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: Rng::new(seed),
            next: 0,
            env: Vec::new(),
            fns: Vec::new(),
            consts: Vec::new(),
            globals: Vec::new(),
            ret: None,
            loop_depth: 0,
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    pub fn program(&mut self) -> Program {
        let mut consts = Vec::new();
        for _ in 0..self.rng.below(4) {
            let ty = self.rng.pick(&[Ty::Int, Ty::Int, Ty::Bool, Ty::Str, Ty::Float]);
            let value = self.const_expr(ty, 3);
            let name = self.fresh("K");
            consts.push(Const { name: name.clone(), ty, value });
            self.consts.push((name, ty));
        }
        // Globals, initialised in order from literals, constants and earlier globals.
        let mut globals = Vec::new();
        for _ in 0..self.rng.below(4) {
            let ty = self.rng.pick(&[Ty::Int, Ty::Int, Ty::Str, Ty::Bool, Ty::Float, Ty::Opt]);
            let value = self.expr(ty, 2);
            let name = self.fresh("G");
            globals.push(Const { name: name.clone(), ty, value });
            self.globals.push(Var { name, ty, mutable: true });
        }
        let mut funcs = Vec::new();
        for _ in 0..1 + self.rng.below(4) {
            let f = if self.rng.chance(30) { self.recursive_fn() } else { self.function() };
            self.fns.push(FnSig {
                name: f.name.clone(),
                params: f.params.iter().map(|(_, t)| *t).collect(),
                ret: f.ret,
                recursive: f.params.len() == 2 && f.name.starts_with("rec"),
            });
            funcs.push(f);
        }
        let mut main = Vec::new();
        // Constants, then the same computation at run time.
        for c in &consts {
            main.push(Stmt::Print(Expr::Var(c.name.clone())));
            main.push(Stmt::Print(c.value.clone()));
        }
        let n = 4 + self.rng.below(8);
        main.extend(self.stmts(n, 3));
        Program { consts, globals, funcs, main }
    }

    fn function(&mut self) -> Func {
        let name = self.fresh("f");
        let n_params = self.rng.pick(&[0, 0, 1, 2, 3, 5]);
        let params: Vec<(String, Ty)> = (0..n_params)
            .map(|_| {
                let ty = self.rng.pick(&VAR_TYPES);
                (self.fresh("p"), ty)
            })
            .collect();
        let ret = self.rng.pick(&VAR_TYPES);
        let saved = std::mem::take(&mut self.env);
        let saved_loops = std::mem::replace(&mut self.loop_depth, 0);
        self.env = params.iter().map(|(n, t)| Var { name: n.clone(), ty: *t, mutable: true }).collect();
        self.ret = Some(ret);
        let n = self.rng.below(4);
        let stmts = self.stmts(n, 2);
        let tail = self.expr(ret, 3);
        self.ret = None;
        self.env = saved;
        self.loop_depth = saved_loops;
        Func { name, params, ret, body: Block { stmts, tail } }
    }

    /// `fn recN(n: int, a: int) -> int { if n <= 0 { base } else { recN(n - 1, step) + extra } }`
    fn recursive_fn(&mut self) -> Func {
        let name = self.fresh("rec");
        let (n, a) = (self.fresh("n"), self.fresh("a"));
        let saved = std::mem::take(&mut self.env);
        let saved_loops = std::mem::replace(&mut self.loop_depth, 0);
        self.env = vec![
            Var { name: n.clone(), ty: Ty::Int, mutable: false },
            Var { name: a.clone(), ty: Ty::Int, mutable: false },
        ];
        let base = self.expr(Ty::Int, 2);
        let step = self.expr(Ty::Int, 2);
        let extra = self.expr(Ty::Int, 1);
        self.env = saved;
        self.loop_depth = saved_loops;
        let var = |s: &String| Box::new(Expr::Var(s.clone()));
        let recurse =
            Expr::Call(name.clone(), vec![Expr::Bin(Bin::Sub, var(&n), Box::new(Expr::Int(1))), step]);
        let body = Expr::If(
            Box::new(Expr::Bin(Bin::Le, var(&n), Box::new(Expr::Int(0)))),
            Box::new(Block { stmts: vec![], tail: base }),
            Box::new(Block { stmts: vec![], tail: Expr::Bin(Bin::Add, Box::new(recurse), Box::new(extra)) }),
        );
        Func {
            name,
            params: vec![(n, Ty::Int), (a, Ty::Int)],
            ret: Ty::Int,
            body: Block { stmts: vec![], tail: body },
        }
    }

    fn stmts(&mut self, n: usize, depth: usize) -> Vec<Stmt> {
        let mark = self.env.len();
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.stmt(depth));
        }
        self.env.truncate(mark);
        out
    }

    fn vars_of(&self, ty: Ty, mutable: bool) -> Vec<Var> {
        self.env
            .iter()
            .chain(&self.globals)
            .filter(|v| v.ty == ty && (v.mutable || !mutable))
            .cloned()
            .collect()
    }

    fn stmt(&mut self, depth: usize) -> Stmt {
        let roll = self.rng.below(100);
        match roll {
            0..=19 => {
                let ty = self.rng.pick(&VAR_TYPES);
                // A declared type gives `[]` its element type.
                let init = if ty == Ty::Arr && self.rng.chance(20) {
                    Expr::ArrLit(vec![])
                } else {
                    self.expr(ty, depth)
                };
                let name = self.fresh("v");
                let mutable = self.rng.chance(70);
                self.env.push(Var { name: name.clone(), ty, mutable });
                Stmt::Let { name, mutable, ty, init }
            }
            20..=37 => self.assign(depth),
            38..=52 => {
                let ty = self.rng.pick(&[Ty::Int, Ty::Int, Ty::Bool, Ty::Str, Ty::Float]);
                Stmt::Print(self.expr(ty, depth))
            }
            53..=60 if depth > 0 => {
                let c = self.expr(Ty::Bool, depth - 1);
                let n = 1 + self.rng.below(3);
                let t = self.stmts(n, depth - 1);
                let n = self.rng.below(3);
                let f = self.stmts(n, depth - 1);
                Stmt::If(c, t, f)
            }
            61..=67 if depth > 0 => {
                let counter = self.fresh("w");
                let limit = 1 + self.rng.below(4) as i64;
                self.loop_depth += 1;
                let n = 1 + self.rng.below(4);
                let body = self.stmts(n, depth - 1);
                self.loop_depth -= 1;
                Stmt::While { counter, limit, body }
            }
            68..=74 if depth > 0 => {
                let var = self.fresh("i");
                let lo =
                    if self.rng.chance(70) { Expr::Int(self.rng.below(3) as i64) } else { self.small_int() };
                let hi =
                    if self.rng.chance(70) { Expr::Int(self.rng.below(5) as i64) } else { self.small_int() };
                self.loop_depth += 1;
                self.env.push(Var { name: var.clone(), ty: Ty::Int, mutable: false });
                let n = 1 + self.rng.below(4);
                let body = self.stmts(n, depth - 1);
                self.env.pop();
                self.loop_depth -= 1;
                Stmt::For { var, lo, hi, body }
            }
            75..=80 if self.loop_depth > 0 => {
                let c = self.expr(Ty::Bool, 1);
                let jump = if self.rng.chance(50) { Stmt::Break } else { Stmt::Continue };
                if self.rng.chance(20) {
                    jump
                } else {
                    Stmt::If(c, vec![jump], vec![])
                }
            }
            81..=86 => match self.vars_of(Ty::Arr, false).first().cloned() {
                Some(v) => {
                    let val = self.expr(Ty::Int, depth.min(2));
                    Stmt::Push(Expr::Var(v.name), val)
                }
                None => Stmt::Print(self.expr(Ty::Int, depth)),
            },
            87..=92 if !self.fns.is_empty() => {
                let i = self.rng.below(self.fns.len());
                Stmt::Expr(self.call(i, depth))
            }
            93..=96 if self.ret.is_some() => {
                let ret = self.ret.expect("in a function");
                let c = self.expr(Ty::Bool, 1);
                let value = self.expr(ret, depth.min(2));
                Stmt::If(c, vec![Stmt::Return(value)], vec![])
            }
            _ => Stmt::Print(self.expr(Ty::Str, depth)),
        }
    }

    fn assign(&mut self, depth: usize) -> Stmt {
        let choice = self.rng.below(3);
        let arrs = self.vars_of(Ty::Arr, false);
        let pts = self.vars_of(Ty::Pt, false);
        if choice == 1 && !arrs.is_empty() {
            let a = arrs[self.rng.below(arrs.len())].name.clone();
            let idx = self.index_for(&a);
            let op = self.rng.chance(50).then(|| self.rng.pick(&INT_OPS));
            let value = self.int_operand(op, depth);
            return Stmt::Assign { place: Place::Index(Expr::Var(a), idx), op, value };
        }
        if choice == 2 && !pts.is_empty() {
            let p = pts[self.rng.below(pts.len())].name.clone();
            let field = self.rng.pick(&["x", "y"]);
            let op = self.rng.chance(50).then(|| self.rng.pick(&INT_OPS));
            let value = self.int_operand(op, depth);
            return Stmt::Assign { place: Place::Field(Expr::Var(p), field), op, value };
        }
        let candidates: Vec<Var> =
            self.env.iter().chain(&self.globals).filter(|v| v.mutable).cloned().collect();
        let Some(v) = candidates.get(self.rng.below(candidates.len().max(1))).cloned() else {
            return Stmt::Print(self.expr(Ty::Int, depth));
        };
        let op = match v.ty {
            Ty::Int => self.rng.chance(50).then(|| self.rng.pick(&INT_OPS)),
            Ty::Float => {
                self.rng.chance(50).then(|| self.rng.pick(&[Bin::Add, Bin::Sub, Bin::Mul, Bin::Div]))
            }
            Ty::Str => self.rng.chance(50).then_some(Bin::Add),
            _ => None,
        };
        let value = if v.ty == Ty::Int { self.int_operand(op, depth) } else { self.expr(v.ty, depth) };
        Stmt::Assign { place: Place::Var(v.name), op, value }
    }

    /// The right operand of an int operator: divisors are usually made odd, so most
    /// programs do not stop at their first division.
    fn int_operand(&mut self, op: Option<Bin>, depth: usize) -> Expr {
        let e = self.expr(Ty::Int, depth);
        match op {
            Some(Bin::Div | Bin::Rem) if self.rng.chance(80) => {
                Expr::Bin(Bin::Or, Box::new(e), Box::new(Expr::Int(1)))
            }
            _ => e,
        }
    }

    /// An index for array variable `a`: usually in range.
    fn index_for(&mut self, a: &str) -> Expr {
        if self.rng.chance(85) {
            // `i % len`, kept non-negative, on a non-empty array: `abs` is not in the
            // subset, so use `(i & 0xff) % len` and guard the length.
            let len = Expr::ArrLen(Box::new(Expr::Var(a.to_string())));
            let guarded = Expr::Bin(Bin::Or, Box::new(len), Box::new(Expr::Int(0)));
            let i = Expr::Bin(Bin::And, Box::new(self.small_int()), Box::new(Expr::Int(255)));
            Expr::Bin(Bin::Rem, Box::new(i), Box::new(guarded))
        } else {
            self.small_int()
        }
    }

    fn small_int(&mut self) -> Expr {
        match self.rng.below(3) {
            0 => Expr::Int(self.rng.below(4) as i64),
            1 => match self.vars_of(Ty::Int, false).first() {
                Some(v) => Expr::Bin(Bin::And, Box::new(Expr::Var(v.name.clone())), Box::new(Expr::Int(3))),
                None => Expr::Int(1),
            },
            _ => self.expr(Ty::Int, 1),
        }
    }

    fn leaf(&mut self, ty: Ty) -> Expr {
        let vars = self.vars_of(ty, false);
        let consts: Vec<String> = self.consts.iter().filter(|c| c.1 == ty).map(|c| c.0.clone()).collect();
        if !vars.is_empty() && self.rng.chance(60) {
            return Expr::Var(vars[self.rng.below(vars.len())].name.clone());
        }
        if !consts.is_empty() && self.rng.chance(20) {
            return Expr::Var(consts[self.rng.below(consts.len())].clone());
        }
        match ty {
            Ty::Int => {
                let v = self.rng.pick(&INTS);
                if v != i64::MIN && self.rng.chance(20) {
                    Expr::Neg(Box::new(Expr::Int(v)))
                } else {
                    Expr::Int(v)
                }
            }
            Ty::Float => Expr::Float(self.rng.pick(&FLOATS)),
            Ty::Bool => Expr::Bool(self.rng.chance(50)),
            Ty::Str => Expr::Str(self.rng.pick(&WORDS).to_string()),
            // Never empty: `[]` needs its type from context, which an operand lacks.
            Ty::Arr => {
                let n = 1 + self.rng.below(3);
                Expr::ArrLit((0..n).map(|_| Expr::Int(self.rng.below(10) as i64)).collect())
            }
            Ty::Pt => Expr::PtLit {
                x: Box::new(Expr::Int(self.rng.below(10) as i64)),
                y: Box::new(Expr::Int(self.rng.below(10) as i64)),
                y_first: false,
            },
            Ty::En => match self.rng.below(3) {
                0 => Expr::Variant(0, vec![Expr::Int(self.rng.below(4) as i64)]),
                1 => Expr::Variant(
                    1,
                    vec![Expr::Str(self.rng.pick(&WORDS).to_string()), Expr::Int(self.rng.below(4) as i64)],
                ),
                _ => Expr::Variant(2, vec![]),
            },
            Ty::Opt => {
                if self.rng.chance(70) {
                    Expr::Variant(3, vec![Expr::Int(self.rng.below(4) as i64)])
                } else {
                    Expr::Variant(4, vec![])
                }
            }
        }
    }

    /// `match` on an `E`, an `Option<int>` or an int, exhaustive, its arms of type `ty`: specific patterns
    /// (a literal inside a variant, an int literal) before general ones, bindings used
    /// in the arms, and sometimes a final `_` in place of the last cases.
    fn match_expr(&mut self, ty: Ty, d: usize) -> Expr {
        let mark = self.env.len();
        let mut arms = Vec::new();
        let mut arm = |g: &mut Gen, pat: Pat, binds: Vec<(String, Ty)>| {
            for (name, t) in binds {
                g.env.push(Var { name, ty: t, mutable: false });
            }
            let body = g.expr(ty, d);
            g.env.truncate(mark);
            arms.push((pat, body));
        };
        let kind = self.rng.below(100);
        let scrutinee = if kind < 20 {
            // `Some(k)` before `Some(x)` sometimes, `None` anywhere, or `_` last. The
            // scrutinee is declared first: a `None` in it gets its type from nothing else.
            let t = self.fresh("t");
            let init = self.expr(Ty::Opt, d);
            let decl = Stmt::Let { name: t.clone(), mutable: false, ty: Ty::Opt, init };
            let s = Expr::Block(Box::new(Block { stmts: vec![decl], tail: Expr::Var(t) }));
            let none_first = self.rng.chance(50);
            if none_first {
                arm(self, Pat::Variant(4, vec![]), vec![]);
            }
            if self.rng.chance(40) {
                let k = self.rng.below(4) as i64;
                arm(self, Pat::Variant(3, vec![Pat::Int(k)]), vec![]);
            }
            if !none_first && self.rng.chance(30) {
                arm(self, Pat::Wild, vec![]);
            } else {
                let x = self.fresh("m");
                arm(self, Pat::Variant(3, vec![Pat::Bind(x.clone())]), vec![(x, Ty::Int)]);
                if !none_first {
                    arm(self, Pat::Variant(4, vec![]), vec![]);
                }
            }
            s
        } else if kind < 70 {
            let s = self.expr(Ty::En, d);
            let mut tags = [0u32, 1, 2];
            // A random order of variants.
            for i in (1..tags.len()).rev() {
                tags.swap(i, self.rng.below(i + 1));
            }
            let wild_tail = self.rng.chance(30);
            for (k, &tag) in tags.iter().enumerate() {
                if wild_tail && k == 2 {
                    break;
                }
                if self.rng.chance(40) && tag != 2 {
                    let lit = Pat::Int(self.rng.below(4) as i64);
                    let pat = if tag == 0 {
                        Pat::Variant(0, vec![lit])
                    } else {
                        Pat::Variant(1, vec![Pat::Wild, lit])
                    };
                    arm(self, pat, vec![]);
                }
                let (pat, binds) = match tag {
                    0 => {
                        let x = self.fresh("m");
                        (Pat::Variant(0, vec![Pat::Bind(x.clone())]), vec![(x, Ty::Int)])
                    }
                    1 => {
                        let (a, b) = (self.fresh("m"), self.fresh("m"));
                        let first = if self.rng.chance(50) { Pat::Bind(a.clone()) } else { Pat::Wild };
                        let mut binds = vec![(b.clone(), Ty::Int)];
                        if matches!(first, Pat::Bind(_)) {
                            binds.push((a, Ty::Str));
                        }
                        (Pat::Variant(1, vec![first, Pat::Bind(b)]), binds)
                    }
                    _ => (Pat::Variant(2, vec![]), vec![]),
                };
                arm(self, pat, binds);
            }
            if wild_tail {
                arm(self, Pat::Wild, vec![]);
            }
            s
        } else {
            let s = self.expr(Ty::Int, d);
            let mut used = Vec::new();
            for _ in 0..1 + self.rng.below(3) {
                let v = self.rng.pick(&[-1i64, 0, 1, 2, 3, 7, i64::MIN]);
                if !used.contains(&v) {
                    used.push(v);
                    arm(self, Pat::Int(v), vec![]);
                }
            }
            if self.rng.chance(50) {
                arm(self, Pat::Wild, vec![]);
            } else {
                let n = self.fresh("m");
                arm(self, Pat::Bind(n.clone()), vec![(n, Ty::Int)]);
            }
            s
        };
        Expr::Match(Box::new(scrutinee), arms)
    }

    fn call(&mut self, i: usize, depth: usize) -> Expr {
        let (name, params, recursive) =
            (self.fns[i].name.clone(), self.fns[i].params.clone(), self.fns[i].recursive);
        let args = params
            .iter()
            .enumerate()
            .map(|(k, t)| {
                if recursive && k == 0 {
                    Expr::Int(self.rng.below(7) as i64)
                } else {
                    self.expr(*t, depth.saturating_sub(1))
                }
            })
            .collect();
        Expr::Call(name, args)
    }

    pub fn expr(&mut self, ty: Ty, depth: usize) -> Expr {
        if depth == 0 {
            return self.leaf(ty);
        }
        let d = depth - 1;
        let callable: Vec<usize> = (0..self.fns.len()).filter(|&i| self.fns[i].ret == ty).collect();
        let roll = self.rng.below(100);
        // Shared shapes first.
        match roll {
            0..=14 => return self.leaf(ty),
            15..=21 => {
                let c = self.expr(Ty::Bool, d);
                let t = self.block(ty, d);
                let f = self.block(ty, d);
                return Expr::If(Box::new(c), Box::new(t), Box::new(f));
            }
            22..=29 => return Expr::Block(Box::new(self.block(ty, d))),
            30..=37 if !callable.is_empty() => {
                let i = callable[self.rng.below(callable.len())];
                return self.call(i, depth);
            }
            38..=42 => return self.match_expr(ty, d),
            47..=49 => {
                // A closure called where it is made, its body free of `return` and of
                // `break`/`continue` (which would leave the closure, not the code around).
                let ty_arg = self.rng.pick(&VAR_TYPES);
                let arg = self.expr(ty_arg, d);
                let param = self.fresh("c");
                let saved = (self.ret.take(), std::mem::replace(&mut self.loop_depth, 0));
                self.env.push(Var { name: param.clone(), ty: ty_arg, mutable: false });
                let body = self.expr(ty, d);
                self.env.pop();
                (self.ret, self.loop_depth) = saved;
                return Expr::Apply { param, ty: ty_arg, ret: ty, arg: Box::new(arg), body: Box::new(body) };
            }
            // The generic `pick`, at every type (a `None` argument takes its type from
            // the other or from where the call stands).
            43..=46 if ty != Ty::Opt || self.rng.chance(50) => {
                let c = self.expr(Ty::Bool, d);
                let a = self.expr(ty, d);
                let b = self.expr(ty, d);
                return Expr::Pick(Box::new(c), Box::new(a), Box::new(b));
            }
            _ => {}
        }
        let b = |e: Expr| Box::new(e);
        match ty {
            Ty::Int => match self.rng.below(10) {
                0..=3 => {
                    let op = self.rng.pick(&INT_OPS);
                    let l = self.expr(Ty::Int, d);
                    let r = self.int_operand(Some(op), d);
                    Expr::Bin(op, b(l), b(r))
                }
                4 => Expr::Neg(b(self.expr(Ty::Int, d))),
                5 => Expr::Cast(b(self.expr(Ty::Float, d)), Ty::Int),
                6 => Expr::StrLen(b(self.expr(Ty::Str, d))),
                7 if self.rng.chance(30) => {
                    let t = self.rng.pick(&[Ty::Pt, Ty::En]);
                    Expr::Via(b(self.expr(t, d)))
                }
                7 => Expr::Field(b(self.expr(Ty::Pt, d)), self.rng.pick(&["x", "y"])),
                8 => match self.vars_of(Ty::Arr, false).first().cloned() {
                    Some(v) => {
                        let idx = self.index_for(&v.name);
                        Expr::Index(b(Expr::Var(v.name)), b(idx))
                    }
                    None => Expr::ArrLen(b(self.expr(Ty::Arr, d))),
                },
                _ => Expr::ArrLen(b(self.expr(Ty::Arr, d))),
            },
            Ty::Float => match self.rng.below(4) {
                0 | 1 => {
                    let op = self.rng.pick(&[Bin::Add, Bin::Sub, Bin::Mul, Bin::Div, Bin::Rem]);
                    Expr::Bin(op, b(self.expr(Ty::Float, d)), b(self.expr(Ty::Float, d)))
                }
                2 => Expr::Neg(b(self.expr(Ty::Float, d))),
                _ => Expr::Cast(b(self.expr(Ty::Int, d)), Ty::Float),
            },
            Ty::Bool => match self.rng.below(5) {
                0 => Expr::Not(b(self.expr(Ty::Bool, d))),
                1 => {
                    let op = self.rng.pick(&[Bin::LogicAnd, Bin::LogicOr]);
                    Expr::Bin(op, b(self.expr(Ty::Bool, d)), b(self.expr(Ty::Bool, d)))
                }
                _ => {
                    let t = self.rng.pick(&[Ty::Int, Ty::Int, Ty::Float, Ty::Bool, Ty::Str]);
                    let op = self.rng.pick(&CMP_OPS);
                    Expr::Bin(op, b(self.expr(t, d)), b(self.expr(t, d)))
                }
            },
            Ty::Str => match self.rng.below(3) {
                0 => Expr::Bin(Bin::Add, b(self.expr(Ty::Str, d)), b(self.expr(Ty::Str, d))),
                _ => {
                    let n = 1 + self.rng.below(3);
                    Expr::Interp(
                        (0..n)
                            .map(|_| {
                                let t = self.rng.pick(&[Ty::Int, Ty::Bool, Ty::Str, Ty::Float]);
                                self.expr(t, d)
                            })
                            .collect(),
                    )
                }
            },
            Ty::Arr => {
                let n = 1 + self.rng.below(3);
                Expr::ArrLit((0..n).map(|_| self.expr(Ty::Int, d)).collect())
            }
            Ty::Pt => {
                let x = self.expr(Ty::Int, d);
                let y = self.expr(Ty::Int, d);
                Expr::PtLit { x: b(x), y: b(y), y_first: self.rng.chance(50) }
            }
            Ty::En => match self.rng.below(3) {
                0 => Expr::Variant(0, vec![self.expr(Ty::Int, d)]),
                1 => Expr::Variant(1, vec![self.expr(Ty::Str, d), self.expr(Ty::Int, d)]),
                _ => Expr::Variant(2, vec![]),
            },
            Ty::Opt => match self.rng.below(4) {
                0 => Expr::Variant(4, vec![]),
                _ => Expr::Variant(3, vec![self.expr(Ty::Int, d)]),
            },
        }
    }

    /// A block expression: a few statements (assignments to outer variables among them),
    /// then a tail of type `ty`.
    fn block(&mut self, ty: Ty, depth: usize) -> Block {
        let n = self.rng.below(3);
        let mark = self.env.len();
        let stmts = (0..n).map(|_| self.stmt(depth.min(1))).collect();
        let tail = self.expr(ty, depth);
        self.env.truncate(mark);
        Block { stmts, tail }
    }

    /// A constant expression: literals, earlier constants, operators and casts only.
    fn const_expr(&mut self, ty: Ty, depth: usize) -> Expr {
        let earlier: Vec<String> = self.consts.iter().filter(|c| c.1 == ty).map(|c| c.0.clone()).collect();
        if depth == 0 || self.rng.chance(25) {
            if !earlier.is_empty() && self.rng.chance(40) {
                return Expr::Var(earlier[self.rng.below(earlier.len())].clone());
            }
            let saved = std::mem::take(&mut self.env);
            let leaf = self.leaf(ty);
            self.env = saved;
            return leaf;
        }
        let d = depth - 1;
        let b = |e: Expr| Box::new(e);
        match ty {
            Ty::Int => {
                let op = self.rng.pick(&INT_OPS);
                let l = self.const_expr(Ty::Int, d);
                let r = self.const_expr(Ty::Int, d);
                // Folding a zero divisor is a compile error: keep divisors odd.
                let r = if matches!(op, Bin::Div | Bin::Rem) {
                    Expr::Bin(Bin::Or, b(r), b(Expr::Int(1)))
                } else {
                    r
                };
                if self.rng.chance(15) {
                    Expr::Neg(b(Expr::Bin(op, b(l), b(r))))
                } else {
                    Expr::Bin(op, b(l), b(r))
                }
            }
            Ty::Float => match self.rng.below(3) {
                0 => Expr::Cast(b(self.const_expr(Ty::Int, d)), Ty::Float),
                _ => {
                    let op = self.rng.pick(&[Bin::Add, Bin::Sub, Bin::Mul, Bin::Div, Bin::Rem]);
                    Expr::Bin(op, b(self.const_expr(Ty::Float, d)), b(self.const_expr(Ty::Float, d)))
                }
            },
            Ty::Bool => match self.rng.below(4) {
                0 => Expr::Not(b(self.const_expr(Ty::Bool, d))),
                1 => {
                    let op = self.rng.pick(&[Bin::LogicAnd, Bin::LogicOr]);
                    Expr::Bin(op, b(self.const_expr(Ty::Bool, d)), b(self.const_expr(Ty::Bool, d)))
                }
                _ => {
                    let t = self.rng.pick(&[Ty::Int, Ty::Float, Ty::Bool, Ty::Str]);
                    let op = self.rng.pick(&CMP_OPS);
                    Expr::Bin(op, b(self.const_expr(t, d)), b(self.const_expr(t, d)))
                }
            },
            _ => Expr::Bin(Bin::Add, b(self.const_expr(Ty::Str, d)), b(self.const_expr(Ty::Str, d))),
        }
    }
}
