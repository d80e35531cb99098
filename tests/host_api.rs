//! The typed embedding API: exports called with typed values, global initialisers run at
//! instantiation, host functions linked to `extern fn` declarations, and every error on
//! the way, in every tier.

use kiln_runtime::{
    CallError, Engine, HostError, Instance, InstanceConfig, InstantiateError, Limits, LinkError, Linker,
    Module, RunError, SharedBuffer, Tier, TierConfig, TrapKind, Type, Val,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const TIERS: [(Tier, u32); 4] = [(Tier::Interp, 0), (Tier::Jit, 0), (Tier::Auto, 1), (Tier::Auto, 3)];

fn module(src: &str) -> Module {
    let bc = kiln_compiler::compile_source("app.kiln", src).unwrap_or_else(|d| panic!("{d}"));
    Module::from_bytes(&Engine::new(), &kiln_bytecode::encode(&bc)).expect("module loads")
}

fn config(tier: (Tier, u32), linker: &Linker) -> InstanceConfig {
    InstanceConfig {
        tier: TierConfig { tier: tier.0, threshold: tier.1 },
        linker: linker.clone(),
        ..InstanceConfig::default()
    }
}

fn ints(xs: &[i64]) -> Val {
    Val::Array(xs.iter().map(|&x| Val::Int(x)).collect())
}

fn strs(xs: &[&str]) -> Val {
    Val::Array(xs.iter().map(|x| Val::Str(x.to_string())).collect())
}

const EXPORTS: &str = r#"
var base: int = 1000;
var label: str = "n=" + "{base}";
var calls: int = 0;
fn main() { println(label); }
fn add(a: int, b: int) -> int { calls += 1; a + b + base }
fn scale(x: float, k: float) -> float { x * k }
fn both(a: bool, b: bool) -> bool { a && b }
fn shout(s: str) -> str { s + "!" }
fn sum(xs: [int]) -> int { var t = 0; for x in xs { t += x; } t }
fn squares(n: int) -> [int] { var out: [int] = []; for i in 0..n { out.push(i * i); } out }
fn tag(words: [str]) -> [str] { var out: [str] = []; for w in words { out.push("<" + w + ">"); } out }
fn flat(rows: [[float]]) -> [float] { var out: [float] = []; for r in rows { for x in r { out.push(x); } } out }
fn count() -> int { calls }
fn bump() { calls += 10; }
fn divide(a: int, b: int) -> int { a / b }
fn first(xs: [int]) -> int { xs[0] }
struct P { x: int }
fn make(x: int) -> P { P { x: x } }
fn takes(p: P) -> int { p.x }
fn maybe(x: int) -> Option<int> { Some(x) }
fn generic<T>(x: T) -> T { x }
"#;

#[test]
fn exports_take_and_return_typed_values_in_every_tier() {
    let m = module(EXPORTS);
    let names: Vec<&str> = m.exports().collect();
    assert_eq!(
        names,
        [
            "add", "both", "bump", "count", "divide", "first", "flat", "main", "make", "maybe", "scale",
            "shout", "squares", "sum", "tag", "takes"
        ],
        "free non-generic functions of the entry file, sorted"
    );
    assert_eq!(m.export_signature("add"), Some((vec![Type::Int, Type::Int], Some(Type::Int))));
    assert_eq!(m.export_signature("main"), Some((vec![], None)));
    assert_eq!(
        m.export_signature("flat"),
        Some((
            vec![Type::Array(Box::new(Type::Array(Box::new(Type::Float))))],
            Some(Type::Array(Box::new(Type::Float)))
        ))
    );
    assert_eq!(m.export_signature("make"), None, "a struct result has no Val");
    for tier in TIERS {
        let mut inst = Instance::new(&m, config(tier, &Linker::new())).expect("instance");
        for _ in 0..5 {
            assert_eq!(inst.call("add", &[Val::Int(2), Val::Int(3)]).unwrap(), Some(Val::Int(1005)));
        }
        assert_eq!(inst.call("scale", &[Val::Float(1.5), Val::Float(-2.0)]).unwrap(), Some(Val::Float(-3.0)));
        assert_eq!(inst.call("both", &[Val::Bool(true), Val::Bool(false)]).unwrap(), Some(Val::Bool(false)));
        assert_eq!(inst.call("shout", &[Val::Str("héllo".into())]).unwrap(), Some(Val::Str("héllo!".into())));
        assert_eq!(inst.call("sum", &[ints(&[1, 2, 3, -4])]).unwrap(), Some(Val::Int(2)));
        assert_eq!(inst.call("sum", &[ints(&[])]).unwrap(), Some(Val::Int(0)));
        assert_eq!(inst.call("squares", &[Val::Int(4)]).unwrap(), Some(ints(&[0, 1, 4, 9])));
        assert_eq!(inst.call("tag", &[strs(&["a", "", "bc"])]).unwrap(), Some(strs(&["<a>", "<>", "<bc>"])));
        let rows = Val::Array(vec![
            Val::Array(vec![Val::Float(1.0)]),
            Val::Array(vec![]),
            Val::Array(vec![Val::Float(2.5), Val::Float(3.0)]),
        ]);
        let flat = Val::Array(vec![Val::Float(1.0), Val::Float(2.5), Val::Float(3.0)]);
        assert_eq!(inst.call("flat", &[rows]).unwrap(), Some(flat));
        // Globals keep their values between calls: the initialisers ran once.
        assert_eq!(inst.call("bump", &[]).unwrap(), None);
        assert_eq!(inst.call("count", &[]).unwrap(), Some(Val::Int(15)), "{tier:?}");
        inst.check_heap().expect("heap intact after marshalling");
    }
}

#[test]
fn arguments_are_rooted_while_later_ones_are_allocated() {
    let m = module(EXPORTS);
    let words: Vec<String> = (0..300).map(|i| format!("word{i}")).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    for tier in TIERS {
        let mut inst = Instance::new(&m, InstanceConfig { gc_stress: true, ..config(tier, &Linker::new()) })
            .expect("instance");
        let expected: Vec<String> = words.iter().map(|w| format!("<{w}>")).collect();
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        assert_eq!(inst.call("tag", &[strs(&refs)]).unwrap(), Some(strs(&expected)));
        assert!(inst.stats().heap.gc_cycles > 300, "stress mode collected at every allocation");
    }
}

#[test]
fn bad_calls_are_refused_before_anything_runs() {
    let m = module(EXPORTS);
    let mut inst = Instance::new(&m, InstanceConfig::default()).expect("instance");
    let fuel = inst.stats().fuel_used;
    let err = |r: Result<Option<Val>, RunError>| match r {
        Err(RunError::Call(e)) => e,
        other => panic!("expected a call error, got {other:?}"),
    };
    assert_eq!(err(inst.call("missing", &[])), CallError::NoSuchFunction("missing".into()));
    assert_eq!(err(inst.call("generic", &[Val::Int(1)])), CallError::NoSuchFunction("generic".into()));
    assert_eq!(err(inst.call("P.x", &[])), CallError::NoSuchFunction("P.x".into()));
    assert_eq!(
        err(inst.call("add", &[Val::Int(1)])),
        CallError::Arity { name: "add".into(), expected: 2, given: 1 }
    );
    assert_eq!(
        err(inst.call("add", &[Val::Int(1), Val::Float(2.0)])),
        CallError::Type { name: "add".into(), index: 1, expected: Type::Int, given: "float" }
    );
    let mixed = Val::Array(vec![Val::Int(1), Val::Str("2".into())]);
    assert!(matches!(err(inst.call("sum", &[mixed])), CallError::Type { index: 0, .. }));
    assert_eq!(err(inst.call("takes", &[Val::Int(1)])), CallError::Unsupported("takes".into()));
    assert_eq!(err(inst.call("maybe", &[Val::Int(1)])), CallError::Unsupported("maybe".into()));
    let msg = err(inst.call("make", &[Val::Int(1)])).to_string();
    assert!(msg.contains("only int, float, bool, str and arrays"), "{msg}");
    assert_eq!(inst.stats().fuel_used, fuel, "a refused call runs nothing");
    // The instance is unharmed.
    assert_eq!(inst.call("add", &[Val::Int(0), Val::Int(0)]).unwrap(), Some(Val::Int(1000)));
}

#[test]
fn a_trap_in_a_call_ends_the_instance_with_its_trace() {
    let m = module(EXPORTS);
    for tier in TIERS {
        let mut inst = Instance::new(&m, config(tier, &Linker::new())).expect("instance");
        match inst.call("divide", &[Val::Int(1), Val::Int(0)]) {
            Err(RunError::Trap(t)) => {
                assert_eq!(t.kind, TrapKind::DivisionByZero);
                assert_eq!(t.trace[0].function, "divide");
            }
            other => panic!("expected a trap, got {other:?}"),
        }
        assert!(matches!(inst.call("add", &[Val::Int(1), Val::Int(2)]), Err(RunError::Trapped)));
        let mut inst = Instance::new(&m, config(tier, &Linker::new())).expect("instance");
        let r = inst.call("first", &[ints(&[])]);
        assert!(
            matches!(r, Err(RunError::Trap(ref t)) if matches!(t.kind, TrapKind::IndexOutOfBounds { index: 0, len: 0 }))
        );
    }
}

#[test]
fn arguments_count_against_the_heap_limit() {
    let m = module(EXPORTS);
    let limits = Limits { max_heap: 64 * 1024, ..Limits::default() };
    let mut inst =
        Instance::new(&m, InstanceConfig { limits, ..InstanceConfig::default() }).expect("instance");
    let big = Val::Str("x".repeat(1 << 20));
    match inst.call("shout", &[big]) {
        Err(RunError::Trap(t)) => assert!(matches!(t.kind, TrapKind::HeapExhausted { .. }), "{:?}", t.kind),
        other => panic!("expected out of memory, got {other:?}"),
    }
}

#[test]
fn instantiation_runs_the_global_initialisers_once() {
    let src = r#"
var log: [str] = [];
var first: int = note("first", 1);
var second: int = note("second", first + 1);
fn note(what: str, v: int) -> int { log.push(what); v }
fn main() { println("{log.len()} {first} {second}"); }
fn seen() -> [str] { log }
"#;
    let m = module(src);
    for tier in TIERS {
        let out = SharedBuffer::default();
        let mut inst = Instance::new(
            &m,
            InstanceConfig { stdout: Box::new(out.clone()), ..config(tier, &Linker::new()) },
        )
        .expect("instance");
        let after_init = inst.stats().fuel_used;
        assert!(after_init > 0, "the initialisers ran and were charged");
        assert_eq!(inst.call("seen", &[]).unwrap(), Some(strs(&["first", "second"])));
        inst.run().expect("runs");
        inst.run().expect("runs again without initialising again");
        assert_eq!(out.contents(), b"2 1 2\n2 1 2\n");
    }
}

#[test]
fn a_trap_in_an_initialiser_fails_instantiation_with_its_ledger() {
    let m = module("var z: int = 0;\nvar bad: int = 10 / z;\nfn main() {}");
    match Instance::new(&m, InstanceConfig::default()) {
        Err(InstantiateError::Init { error: RunError::Trap(t), stats }) => {
            assert_eq!(t.kind, TrapKind::DivisionByZero);
            assert_eq!(t.trace[0].function, "<init>");
            assert!(stats.fuel_used > 0);
        }
        other => panic!("expected an initialiser trap, got {:?}", other.err()),
    }
    let m = module(
        "var n: int = spin();\nfn spin() -> int { var i = 0; while true { i += 1; } i }\nfn main() {}",
    );
    let limits = Limits { fuel: Some(10_000), ..Limits::default() };
    match Instance::new(&m, InstanceConfig { limits, ..InstanceConfig::default() }) {
        Err(InstantiateError::Init { error: RunError::Trap(t), stats }) => {
            assert_eq!(t.kind, TrapKind::FuelExhausted);
            assert_eq!(stats.fuel_used, 10_000);
        }
        other => panic!("expected fuel exhaustion, got {:?}", other.err()),
    }
    let limits = Limits { timeout: Some(std::time::Duration::from_millis(30)), ..Limits::default() };
    match Instance::new(&m, InstanceConfig { limits, ..InstanceConfig::default() }) {
        Err(InstantiateError::Init { error: RunError::Trap(t), .. }) => {
            assert!(matches!(t.kind, TrapKind::Timeout { .. }), "{:?}", t.kind)
        }
        other => panic!("expected a deadline, got {:?}", other.err()),
    }
}

const HOST: &str = r#"
extern fn host_add(a: int, b: int) -> int;
extern fn host_greet(name: str) -> str;
extern fn host_half(x: float) -> float;
extern fn host_not(b: bool) -> bool;
extern fn host_log(msg: str);
fn main() {
    var t = 0;
    for i in 0..50 { t = host_add(t, i); }
    host_log(host_greet("kiln"));
    println("{t} {host_half(5.0)} {host_not(false)}");
}
fn fails() { host_log("boom"); }
"#;

fn host_linker(logged: Arc<std::sync::Mutex<Vec<String>>>, calls: Arc<AtomicU64>) -> Linker {
    let mut linker = Linker::new();
    linker
        .func("host_add", &[Type::Int, Type::Int], Some(Type::Int), move |caller, args| {
            calls.fetch_add(1, Ordering::Relaxed);
            caller.charge_fuel(2)?;
            match args {
                [Val::Int(a), Val::Int(b)] => Ok(Some(Val::Int(a + b))),
                _ => Err(HostError::trap("bad arguments")),
            }
        })
        .func("host_greet", &[Type::Str], Some(Type::Str), |_, args| match args {
            [Val::Str(s)] => Ok(Some(Val::Str(format!("hello, {s}")))),
            _ => Err(HostError::trap("bad arguments")),
        })
        .func("host_half", &[Type::Float], Some(Type::Float), |_, args| match args {
            [Val::Float(x)] => Ok(Some(Val::Float(x / 2.0))),
            _ => Err(HostError::trap("bad arguments")),
        })
        .func("host_not", &[Type::Bool], Some(Type::Bool), |_, args| {
            Ok(Some(Val::Bool(args[0] != Val::Bool(true))))
        })
        .func("host_log", &[Type::Str], None, move |_, args| {
            let Val::Str(s) = &args[0] else { return Err(HostError::trap("bad arguments")) };
            if s == "boom" {
                return Err(HostError::trap("the host refused"));
            }
            logged.lock().unwrap().push(s.clone());
            Ok(None)
        });
    linker
}

#[test]
fn host_functions_are_called_from_every_tier_with_fuel_charged() {
    let m = module(HOST);
    let mut fuel = Vec::new();
    for tier in TIERS {
        let logged = Arc::new(std::sync::Mutex::new(Vec::new()));
        let calls = Arc::new(AtomicU64::new(0));
        let out = SharedBuffer::default();
        let mut inst = Instance::new(
            &m,
            InstanceConfig {
                stdout: Box::new(out.clone()),
                ..config(tier, &host_linker(logged.clone(), calls.clone()))
            },
        )
        .expect("links");
        inst.run().expect("runs");
        assert_eq!(out.contents(), b"1225 2.5 true\n", "{tier:?}");
        assert_eq!(*logged.lock().unwrap(), ["hello, kiln"]);
        assert_eq!(calls.load(Ordering::Relaxed), 50);
        fuel.push(inst.stats().fuel_used);
        match inst.call("fails", &[]) {
            Err(RunError::Trap(t)) => {
                assert_eq!(
                    t.kind,
                    TrapKind::Host { function: "host_log".into(), message: "the host refused".into() }
                );
                assert_eq!(
                    t.to_string().lines().next(),
                    Some("error: host function `host_log` failed: the host refused")
                );
                assert_eq!(t.trace[0].function, "host_log");
                assert_eq!(t.trace[1].function, "fails");
            }
            other => panic!("expected a host trap, got {other:?}"),
        }
    }
    assert!(fuel.windows(2).all(|w| w[0] == w[1]), "fuel is the same in every tier: {fuel:?}");
    // The 100 units the host charged are part of it: without them the run would fit in
    // this limit, with them it does not.
    let limits = Limits { fuel: Some(fuel[0] - 50), ..Limits::default() };
    let calls = Arc::new(AtomicU64::new(0));
    let linker = host_linker(Arc::default(), calls);
    let mut inst = Instance::new(&m, InstanceConfig { limits, ..config(TIERS[0], &linker) }).expect("links");
    let r = inst.run();
    assert!(matches!(r, Err(RunError::Trap(ref t)) if t.kind == TrapKind::FuelExhausted), "{r:?} {fuel:?}");
}

#[test]
fn host_function_failures_trap_only_the_calling_instance() {
    let src = "extern fn f() -> int;\nfn main() { println(\"{f()}\"); }";
    let m = module(src);
    let cases: Vec<(&str, Linker, &str)> = vec![
        (
            "panics",
            {
                let mut l = Linker::new();
                l.func("f", &[], Some(Type::Int), |_, _| panic!("host bug"));
                l
            },
            "host function `f` failed: it panicked",
        ),
        (
            "wrong result",
            {
                let mut l = Linker::new();
                l.func("f", &[], Some(Type::Int), |_, _| Ok(Some(Val::Str("x".into()))));
                l
            },
            "it returned str, but its signature says int",
        ),
        (
            "no result",
            {
                let mut l = Linker::new();
                l.func("f", &[], Some(Type::Int), |_, _| Ok(None));
                l
            },
            "it returned nothing, but its signature says int",
        ),
        (
            "fuel",
            {
                let mut l = Linker::new();
                l.func("f", &[], Some(Type::Int), |c, _| {
                    c.charge_fuel(u64::MAX)?;
                    Ok(Some(Val::Int(1)))
                });
                l
            },
            "fuel exhausted",
        ),
    ];
    for (what, linker, message) in cases {
        for tier in TIERS {
            let limits = Limits { fuel: Some(1_000_000), ..Limits::default() };
            let mut inst =
                Instance::new(&m, InstanceConfig { limits, ..config(tier, &linker) }).expect("links");
            match inst.run() {
                Err(RunError::Trap(t)) => assert!(t.kind.to_string().contains(message), "{what}: {}", t.kind),
                other => panic!("{what}: expected a trap, got {other:?}"),
            }
            assert!(matches!(inst.run(), Err(RunError::Trapped)));
        }
    }
}

#[test]
fn linking_checks_names_and_signatures_when_an_instance_is_created() {
    let m = module(HOST);
    match Instance::new(&m, InstanceConfig::default()) {
        Err(InstantiateError::Link(LinkError::Missing { signature })) => {
            assert_eq!(signature, "fn host_add(int, int) -> int")
        }
        other => panic!("expected a missing import, got {:?}", other.err()),
    }
    let mut linker = host_linker(Arc::default(), Arc::default());
    linker.func("host_greet", &[Type::Str, Type::Int], Some(Type::Str), |_, _| Ok(None));
    match Instance::new(&m, config(TIERS[0], &linker)) {
        Err(InstantiateError::Link(e @ LinkError::Signature { .. })) => assert_eq!(
            e.to_string(),
            "the module imports `fn host_greet(str) -> str`, but the host provides `fn host_greet(str, int) -> str`"
        ),
        other => panic!("expected a signature mismatch, got {:?}", other.err()),
    }
    // The module is unaffected: a correct linker works afterwards, and extra host
    // functions are fine.
    let mut linker = host_linker(Arc::default(), Arc::default());
    linker.func("unused", &[], None, |_, _| Ok(None));
    Instance::new(&m, config(TIERS[0], &linker)).expect("links").run().expect("runs");
}

#[test]
fn extern_fn_declarations_are_checked_by_the_compiler() {
    for (src, message) in [
        ("extern fn f(xs: [int]);\nfn main() {}", "may only take and return int, float, bool or str"),
        ("extern fn f<T>(x: T);\nfn main() {}", "cannot have type parameters"),
        ("extern fn f() -> Option<int>;\nfn main() {}", "may only take and return"),
        ("extern fn f() { }\nfn main() {}", "an `extern fn` has no body"),
        ("extern f();\nfn main() {}", "`fn` after `extern`"),
    ] {
        let err = kiln_compiler::compile_source("app.kiln", src).expect_err(src).to_string();
        assert!(err.contains(message), "{src}: {err}");
    }
}

#[test]
fn shared_things_are_send_and_sync_and_instances_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Engine>();
    send_sync::<Module>();
    send_sync::<Linker>();
    send_sync::<kiln_runtime::Capabilities>();
    send_sync::<kiln_runtime::InterruptHandle>();
    send_sync::<kiln_runtime::Func>();
    send::<Instance>();
    // An instance made on one thread runs on another.
    let m = module(EXPORTS);
    let mut inst = Instance::new(&m, InstanceConfig::default()).expect("instance");
    let add = m.func("add").expect("exported");
    let result =
        std::thread::spawn(move || inst.call_func(add, &[Val::Int(1), Val::Int(2)]).unwrap()).join().unwrap();
    assert_eq!(result, Some(Val::Int(1003)));
    // A handle of one module does not call into another's instance.
    let other = module("fn main() {}\nfn add(a: int, b: int) -> int { a - b }");
    let mut inst = Instance::new(&other, InstanceConfig::default()).expect("instance");
    assert!(matches!(
        inst.call_func(add, &[Val::Int(1), Val::Int(2)]),
        Err(RunError::Call(CallError::OtherModule))
    ));
}

#[test]
fn one_host_name_has_one_signature_across_modules() {
    let dir = std::env::temp_dir().join(format!("kiln-extern-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("util.kiln"), "extern fn log(msg: str);\nfn hello() { log(\"hi\"); }\n").unwrap();
    std::fs::write(
        dir.join("main.kiln"),
        "import util;\nextern fn log(level: int);\nfn main() { util.hello(); log(3); }\n",
    )
    .unwrap();
    let err =
        kiln_compiler::compile_path(&dir.join("main.kiln")).expect_err("clashing signatures").to_string();
    assert!(err.contains("host function `log` is declared elsewhere with another signature"), "{err}");
    // The same signature in two modules is one import, linked once.
    std::fs::write(
        dir.join("main.kiln"),
        "import util;\nextern fn log(text: str);\nfn main() { util.hello(); log(\"there\"); }\n",
    )
    .unwrap();
    let bc = kiln_compiler::compile_path(&dir.join("main.kiln")).expect("compiles");
    assert_eq!(bc.imports.iter().filter(|i| i.kind == kiln_bytecode::ImportKind::Host).count(), 1);
    let m = Module::from_bytecode(&Engine::new(), bc).unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut linker = Linker::new();
    let log = seen.clone();
    linker.func("log", &[Type::Str], None, move |_, args| {
        log.lock().unwrap().push(args[0].clone());
        Ok(None)
    });
    Instance::new(&m, config(TIERS[0], &linker)).unwrap().run().unwrap();
    assert_eq!(*seen.lock().unwrap(), [Val::Str("hi".into()), Val::Str("there".into())]);
    let _ = std::fs::remove_dir_all(&dir);
}
