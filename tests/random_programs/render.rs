//! Prints a generated program as Kiln source, with only the parentheses precedence
//! needs (so the parser's precedence and associativity are under test too).

use super::ast::*;

const ATOM: u8 = 12;
const UNARY: u8 = 11;
const CAST: u8 = 10;

pub fn program(p: &Program) -> String {
    let mut out = String::from(
        "struct P { x: int, y: int }\nenum E { A(int), B(str, int), C }\n\
         fn pick<T>(c: bool, a: T, b: T) -> T { if c { a } else { b } }\n\
         interface Sh { fn k(self) -> int; }\n\
         impl Sh for P { fn k(self) -> int { self.x * 2 + self.y } }\n\
         impl Sh for E { fn k(self) -> int { match self { E.A(n) => n, E.B(s, n) => s.len() + n, E.C => 7 } } }\n\
         fn via(s: Sh) -> int { s.k() }\n",
    );
    for c in &p.consts {
        out += &format!("const {}: {} = {};\n", c.name, c.ty.name(), expr(&c.value, 0));
    }
    for g in &p.globals {
        out += &format!("var {}: {} = {};\n", g.name, g.ty.name(), expr(&g.value, 0));
    }
    for f in &p.funcs {
        let params: Vec<String> = f.params.iter().map(|(n, t)| format!("{n}: {}", t.name())).collect();
        out += &format!("fn {}({}) -> {} {}\n", f.name, params.join(", "), f.ret.name(), block(&f.body));
    }
    out += &format!("fn main() {{\n{}}}\n", stmts(&p.main, 1));
    out
}

fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Int(v) if *v < 0 => UNARY,
        Expr::Float(v) if v.is_sign_negative() => UNARY,
        Expr::Neg(_) | Expr::Not(_) => UNARY,
        Expr::Cast(..) => CAST,
        Expr::Bin(op, ..) => op.prec(),
        // Block-shaped expressions are parenthesised wherever an operand is expected.
        Expr::If(..) | Expr::Block(_) | Expr::Match(..) => 0,
        // A struct literal is parenthesised so it never starts an `if` condition's block.
        Expr::PtLit { .. } => 0,
        _ => ATOM,
    }
}

fn at(e: &Expr, min: u8) -> String {
    let text = expr(e, min);
    if prec(e) < min {
        format!("({text})")
    } else {
        text
    }
}

pub fn expr(e: &Expr, _min: u8) -> String {
    match e {
        Expr::Int(v) if *v == i64::MIN => "(-9223372036854775807 - 1)".into(),
        Expr::Int(v) => v.to_string(),
        Expr::Float(v) => format!("{v:?}"),
        Expr::Bool(b) => b.to_string(),
        Expr::Str(s) => format!("\"{s}\""),
        Expr::Var(n) => n.clone(),
        Expr::Neg(inner) => {
            let t = at(inner, UNARY);
            if t.starts_with('-') {
                format!("-({t})")
            } else {
                format!("-{t}")
            }
        }
        Expr::Not(inner) => format!("!{}", at(inner, UNARY)),
        Expr::Bin(op, l, r) => {
            let p = op.prec();
            // Left-associative; comparisons do not associate at all.
            let lmin = if op.is_comparison() { p + 1 } else { p };
            let mut left = at(l, lmin);
            // `x as int < y` would read `int<` as the start of generic arguments.
            let ends_in_cast = left.ends_with(" as int") || left.ends_with(" as float");
            if ends_in_cast && matches!(op, Bin::Lt | Bin::Le | Bin::Shl) {
                left = format!("({left})");
            }
            format!("{left} {} {}", op.text(), at(r, p + 1))
        }
        Expr::Cast(inner, ty) => format!("{} as {}", at(inner, CAST), ty.name()),
        Expr::If(c, t, f) => format!("if ({}) {} else {}", expr(c, 0), block(t), block(f)),
        Expr::Block(b) => block(b),
        Expr::Call(f, args) => {
            let args: Vec<String> = args.iter().map(|a| expr(a, 0)).collect();
            format!("{f}({})", args.join(", "))
        }
        Expr::Index(a, i) => format!("{}[{}]", at(a, ATOM), expr(i, 0)),
        Expr::ArrLen(a) | Expr::StrLen(a) => format!("{}.len()", at(a, ATOM)),
        Expr::Field(o, f) => format!("{}.{f}", at(o, ATOM)),
        Expr::ArrLit(items) => {
            let items: Vec<String> = items.iter().map(|a| expr(a, 0)).collect();
            format!("[{}]", items.join(", "))
        }
        Expr::PtLit { x, y, y_first } => {
            let (x, y) = (expr(x, 0), expr(y, 0));
            if *y_first {
                format!("P {{ y: {y}, x: {x} }}")
            } else {
                format!("P {{ x: {x}, y: {y} }}")
            }
        }
        Expr::Variant(tag, args) => {
            let name = VARIANTS[*tag as usize];
            if args.is_empty() {
                name.to_string()
            } else {
                let args: Vec<String> = args.iter().map(|a| expr(a, 0)).collect();
                format!("{name}({})", args.join(", "))
            }
        }
        Expr::Via(x) => format!("via({})", expr(x, 0)),
        Expr::Apply { param, ty, ret, arg, body } => {
            format!("(|{param}: {}| -> {} {{ {} }})({})", ty.name(), ret.name(), expr(body, 0), expr(arg, 0))
        }
        Expr::Pick(c, a, b) => format!("pick({}, {}, {})", expr(c, 0), expr(a, 0), expr(b, 0)),
        Expr::Match(s, arms) => {
            let arms: Vec<String> =
                arms.iter().map(|(p, e)| format!("{} => {}", pat(p), expr(e, 0))).collect();
            format!("match ({}) {{ {} }}", expr(s, 0), arms.join(", "))
        }
        Expr::Interp(pieces) => {
            let mut s = String::from("\"");
            for (i, p) in pieces.iter().enumerate() {
                if i > 0 {
                    s.push('~');
                }
                s += &format!("{{({})}}", expr(p, 0));
            }
            s.push('"');
            s
        }
    }
}

fn block(b: &Block) -> String {
    let mut s = String::from("{ ");
    for st in &b.stmts {
        s += &stmt(st, 0).trim().replace('\n', " ");
        s.push(' ');
    }
    s += &expr(&b.tail, 0);
    s += " }";
    s
}

fn stmts(list: &[Stmt], indent: usize) -> String {
    list.iter().map(|s| stmt(s, indent)).collect()
}

fn stmt(s: &Stmt, indent: usize) -> String {
    let pad = "    ".repeat(indent);
    match s {
        Stmt::Let { name, mutable, ty, init } => {
            let kw = if *mutable { "var" } else { "let" };
            format!("{pad}{kw} {name}: {} = {};\n", ty.name(), expr(init, 0))
        }
        Stmt::Assign { place, op, value } => {
            let target = match place {
                Place::Var(n) => n.clone(),
                Place::Index(a, i) => format!("{}[{}]", at(a, ATOM), expr(i, 0)),
                Place::Field(o, f) => format!("{}.{f}", at(o, ATOM)),
            };
            let op = op.map_or(String::new(), |o| o.text().to_string());
            format!("{pad}{target} {op}= {};\n", expr(value, 0))
        }
        Stmt::Print(e) => format!("{pad}println({});\n", expr(e, 0)),
        Stmt::If(c, t, f) => {
            let mut out = format!("{pad}if ({}) {{\n{}{pad}}}", expr(c, 0), stmts(t, indent + 1));
            if !f.is_empty() {
                out += &format!(" else {{\n{}{pad}}}", stmts(f, indent + 1));
            }
            out + "\n"
        }
        Stmt::While { counter, limit, body } => format!(
            "{pad}var {counter} = 0;\n{pad}while {counter} < {limit} {{\n{pad}    {counter} += 1;\n{}{pad}}}\n",
            stmts(body, indent + 1)
        ),
        Stmt::For { var, lo, hi, body } => {
            format!("{pad}for {var} in {}..{} {{\n{}{pad}}}\n", at(lo, 1), at(hi, 1), stmts(body, indent + 1))
        }
        Stmt::Break => format!("{pad}break;\n"),
        Stmt::Continue => format!("{pad}continue;\n"),
        Stmt::Push(a, v) => format!("{pad}{}.push({});\n", at(a, ATOM), expr(v, 0)),
        Stmt::Expr(e) => format!("{pad}{};\n", expr(e, 0)),
        Stmt::Return(e) => format!("{pad}return {};\n", expr(e, 0)),
    }
}

fn pat(p: &Pat) -> String {
    match p {
        Pat::Wild => "_".into(),
        Pat::Bind(n) => n.clone(),
        Pat::Int(v) => v.to_string(),
        Pat::Variant(tag, subs) => {
            let name = VARIANTS[*tag as usize];
            if subs.is_empty() {
                name.to_string()
            } else {
                let subs: Vec<String> = subs.iter().map(pat).collect();
                format!("{name}({})", subs.join(", "))
            }
        }
    }
}

/// The variants' names by tag: `E`'s, then `Option<int>`'s.
const VARIANTS: [&str; 5] = ["E.A", "E.B", "E.C", "Some", "None"];
