//! Loading cost per input byte: decode + verify + prepare, as `Module::from_bytes` does
//! it, over the largest modules the compiler emits and every file in tests/regressions/.
//! Time is the median of 5 loads; memory is the peak of bytes allocated during one load
//! (a counting global allocator), above what was allocated before it.
//!
//! `cargo bench --bench load`. Targets (issue "The sandbox holds"): <= 100 ns and
//! <= 16 bytes of peak memory per input byte.

use kiln_runtime::{Engine, Module};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's layout contract is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn compiled(name: &str, src: String) -> (String, Vec<u8>) {
    let bc = kiln_compiler::compile_source(name, &src).unwrap_or_else(|d| panic!("{name}: {d}"));
    (name.to_string(), kiln_bytecode::encode(&bc))
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        compiled(
            "66 000 functions and structs",
            (0..66_000)
                .map(|i| format!("struct S{i} {{ v: int }}\nfn f{i}(x: int) -> int {{ let s = S{i} {{ v: x }}; s.v + {i} }}\n"))
                .chain(["fn main() { println(f65999(1)); }\n".to_string()])
                .collect(),
        ),
        compiled(
            "40 000 globals",
            (0..40_000).map(|i| format!("var g{i}: str = \"v{i}\";\n")).chain(["fn main() { println(g0); }\n".into()]).collect(),
        ),
        compiled(
            "30 000-element array literal",
            format!("fn main() {{ let a = [{}]; println(a.len()); }}\n", (0..30_000).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")),
        ),
        compiled(
            "main with 12 000 statements",
            format!("fn main() {{\n{}}}\n", (0..12_000).map(|i| format!("  let v{i} = \"{i}\"; if v{i}.len() > 3 {{ println(v{i}); }}\n")).collect::<String>()),
        ),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("tests/regressions").flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files {
        let name = format!("regressions/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("?"));
        match path.extension().and_then(|e| e.to_str()) {
            Some("bc") => out.push((name, std::fs::read(&path).expect("read"))),
            Some("kiln") => out.push(compiled(&name, std::fs::read_to_string(&path).expect("read"))),
            _ => {}
        }
    }
    out
}

fn main() {
    let engine = Engine::new();
    println!("| input | bytes | load (median) | ns per byte | peak bytes per byte | result |");
    println!("|---|---|---|---|---|---|");
    for (name, bytes) in inputs() {
        let mut times = Vec::new();
        let mut peak = 0;
        let mut result = String::new();
        for _ in 0..5 {
            let before = CURRENT.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            let t = Instant::now();
            let loaded = Module::from_bytes(&engine, &bytes);
            times.push(t.elapsed().as_secs_f64() * 1e9);
            peak = PEAK.load(Ordering::Relaxed) - before;
            result = match &loaded {
                Ok(_) => "loads".into(),
                Err(e) => format!("rejected: {}", e.to_string().chars().take(40).collect::<String>()),
            };
            drop(loaded);
        }
        times.sort_by(f64::total_cmp);
        let n = bytes.len() as f64;
        println!(
            "| {name} | {} | {:.2} ms | {:.1} | {:.1} | {result} |",
            bytes.len(),
            times[2] / 1e6,
            times[2] / n,
            peak as f64 / n
        );
    }
}
