//! Types as the compiler sees them, and substitution of type parameters.

use std::rc::Rc;

/// A Kiln type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// The type of statements and functions without a result.
    Unit,
    /// The type of `return`, `break`, `continue` and `panic`: no value is ever produced.
    Never,
    /// `[T]`
    Array(Box<Ty>),
    /// A struct, by index in [`crate::sema::items::Items::structs`], with its type
    /// arguments (none for a struct without type parameters).
    Struct(usize, Vec<Ty>),
    /// An enum, by index in [`crate::sema::items::Items::enums`], with its type
    /// arguments.
    Enum(usize, Vec<Ty>),
    /// An interface, by index in [`crate::sema::items::Items::interfaces`]: a value of
    /// any struct or enum that implements it.
    Iface(usize),
    /// A function or closure: parameter types and result (`Unit` for none).
    Fn(Vec<Ty>, Box<Ty>),
    /// Type parameter `index` of the generic item being checked, and its name.
    Param(u32, Rc<str>),
    /// An inference variable, while a call or literal's type arguments are worked out.
    Var(u32),
    /// A type error was already reported; suppresses follow-on errors.
    Error,
}

/// Interfaces built into the language, usable as bounds on type parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    /// `==`, `!=`
    Eq,
    /// `<`, `<=`, `>`, `>=` (and `==`, `!=`)
    Ord,
    /// Usable as a map key.
    Hash,
    /// Printable and interpolable.
    Display,
    /// A user interface, by index in `Items::interfaces`.
    Iface(usize),
}

impl Bound {
    /// The bound named `name`.
    pub fn named(name: &str) -> Option<Bound> {
        Some(match name {
            "Eq" => Bound::Eq,
            "Ord" => Bound::Ord,
            "Hash" => Bound::Hash,
            "Display" => Bound::Display,
            _ => return None,
        })
    }

    /// Its name in source (a user interface's is in `Items`).
    pub fn name(self) -> &'static str {
        match self {
            Bound::Eq => "Eq",
            Bound::Ord => "Ord",
            Bound::Hash => "Hash",
            Bound::Display | Bound::Iface(_) => "Display",
        }
    }

    /// Whether a built-in type satisfies the bound (user types: see `Items`).
    pub fn holds_for(self, ty: &Ty) -> bool {
        match self {
            Bound::Eq | Bound::Ord | Bound::Display => matches!(ty, Ty::Int | Ty::Float | Ty::Bool | Ty::Str),
            Bound::Hash => matches!(ty, Ty::Int | Ty::Bool | Ty::Str),
            Bound::Iface(_) => false,
        }
    }
}

/// A type parameter of a generic item.
#[derive(Debug, Clone)]
pub struct Generic {
    /// Its name.
    pub name: Rc<str>,
    /// What its arguments must satisfy.
    pub bounds: Vec<Bound>,
}

impl Ty {
    /// Whether values of this type need a register.
    pub fn has_value(&self) -> bool {
        !matches!(self, Ty::Unit | Ty::Never | Ty::Error)
    }

    /// Whether `self` can be used where `want` is expected.
    pub fn fits(&self, want: &Ty) -> bool {
        self == want || matches!(self, Ty::Never | Ty::Error) || matches!(want, Ty::Error)
    }

    /// The type with type parameter `i` replaced by `args[i]`.
    pub fn subst(&self, args: &[Ty]) -> Ty {
        if args.is_empty() {
            return self.clone();
        }
        match self {
            Ty::Param(i, _) => args.get(*i as usize).cloned().unwrap_or(Ty::Error),
            Ty::Array(t) => Ty::Array(Box::new(t.subst(args))),
            Ty::Struct(s, a) => Ty::Struct(*s, a.iter().map(|t| t.subst(args)).collect()),
            Ty::Enum(e, a) => Ty::Enum(*e, a.iter().map(|t| t.subst(args)).collect()),
            Ty::Fn(p, r) => Ty::Fn(p.iter().map(|t| t.subst(args)).collect(), Box::new(r.subst(args))),
            other => other.clone(),
        }
    }

    /// Whether the type mentions a type parameter or an inference variable.
    pub fn is_open(&self) -> bool {
        match self {
            Ty::Param(..) | Ty::Var(_) => true,
            Ty::Array(t) => t.is_open(),
            Ty::Struct(_, a) | Ty::Enum(_, a) => a.iter().any(Ty::is_open),
            Ty::Fn(p, r) => p.iter().any(Ty::is_open) || r.is_open(),
            _ => false,
        }
    }

    /// Whether the type mentions an inference variable.
    pub fn has_var(&self) -> bool {
        match self {
            Ty::Var(_) => true,
            Ty::Array(t) => t.has_var(),
            Ty::Struct(_, a) | Ty::Enum(_, a) => a.iter().any(Ty::has_var),
            Ty::Fn(p, r) => p.iter().any(Ty::has_var) || r.has_var(),
            _ => false,
        }
    }

    /// The type with its type arguments dropped: what methods are looked up by.
    pub fn head(&self) -> Ty {
        match self {
            Ty::Struct(s, _) => Ty::Struct(*s, Vec::new()),
            Ty::Enum(e, _) => Ty::Enum(*e, Vec::new()),
            other => other.clone(),
        }
    }
}

/// Inference variables' values, for one call or literal.
#[derive(Debug, Default, Clone)]
pub struct Bindings {
    vars: Vec<Option<Ty>>,
}

impl Bindings {
    /// `n` fresh variables, as types `Var(first..first + n)`; returns them.
    pub fn fresh(&mut self, n: usize) -> Vec<Ty> {
        let first = self.vars.len() as u32;
        self.vars.extend((0..n).map(|_| None));
        (0..n as u32).map(|i| Ty::Var(first + i)).collect()
    }

    /// `ty` with every bound variable replaced by its value.
    pub fn apply(&self, ty: &Ty) -> Ty {
        match ty {
            Ty::Var(v) => match &self.vars[*v as usize] {
                Some(t) => self.apply(t),
                None => ty.clone(),
            },
            Ty::Array(t) => Ty::Array(Box::new(self.apply(t))),
            Ty::Struct(s, a) => Ty::Struct(*s, a.iter().map(|t| self.apply(t)).collect()),
            Ty::Enum(e, a) => Ty::Enum(*e, a.iter().map(|t| self.apply(t)).collect()),
            Ty::Fn(p, r) => Ty::Fn(p.iter().map(|t| self.apply(t)).collect(), Box::new(self.apply(r))),
            other => other.clone(),
        }
    }

    /// Makes `want` (which may mention variables) and `got` equal by binding variables;
    /// false if they cannot be. `Never` and `Error` unify with anything.
    pub fn unify(&mut self, want: &Ty, got: &Ty) -> bool {
        let (want, got) = (self.apply(want), self.apply(got));
        match (&want, &got) {
            (_, Ty::Never | Ty::Error) | (Ty::Error, _) => true,
            (Ty::Var(v), t) | (t, Ty::Var(v)) => {
                if *t != Ty::Var(*v) {
                    self.vars[*v as usize] = Some(t.clone());
                }
                true
            }
            (Ty::Array(a), Ty::Array(b)) => self.unify(a, b),
            (Ty::Struct(s, a), Ty::Struct(t, b)) | (Ty::Enum(s, a), Ty::Enum(t, b)) => {
                s == t && a.len() == b.len() && a.iter().zip(b).all(|(x, y)| self.unify(x, y))
            }
            (Ty::Fn(p, r), Ty::Fn(q, s)) => {
                p.len() == q.len() && p.iter().zip(q).all(|(x, y)| self.unify(x, y)) && self.unify(r, s)
            }
            (a, b) => a == b,
        }
    }
}
