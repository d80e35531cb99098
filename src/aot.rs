//! `vmc aot`: a module compiled ahead of time into a relocatable object for a target,
//! or linked with the runtime library (`libkiln_rt.a`, package `kiln-aot-rt`) into an
//! executable for this host.

use crate::cli::{report, EXIT_BAD_BYTECODE, EXIT_CANT_CREATE, EXIT_LINK, EXIT_TRAP, EXIT_USAGE};
use kiln_runtime::{Module, AOT_TARGETS};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How an executable links the C library and the system's other libraries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Everything in the executable (`-static-pie`; Linux only): nothing for the dynamic
    /// loader to find and relocate at start-up, and the executable runs on any Linux of
    /// the architecture.
    Static,
    /// Against the system's shared C library.
    Dynamic,
}

impl Link {
    /// The default for this host: static where the system can link so.
    pub fn host_default() -> Link {
        if cfg!(target_os = "linux") {
            Link::Static
        } else {
            Link::Dynamic
        }
    }
}

/// What `vmc aot` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// A relocatable object.
    Object,
    /// An executable for this host.
    Executable(Link),
}

/// The target triple of this host, when objects can be written for it.
pub fn host_target() -> Option<&'static str> {
    let arch = std::env::consts::ARCH;
    AOT_TARGETS.iter().copied().find(|t| {
        t.starts_with(arch)
            && match std::env::consts::OS {
                "linux" => t.ends_with("linux-gnu"),
                "macos" => t.contains("apple"),
                "windows" => t.contains("windows"),
                _ => false,
            }
    })
}

/// Writes `module` compiled for `target` to `output` as `emit` says; an error is
/// reported, and its exit status returned.
pub fn build(module: &Module, target: &str, emit: Emit, output: &Path) -> Result<(), u8> {
    if !AOT_TARGETS.contains(&target) {
        report(format!("error: unsupported target `{target}`; supported: {}", AOT_TARGETS.join(", ")));
        return Err(EXIT_USAGE);
    }
    if matches!(emit, Emit::Executable(_)) && Some(target) != host_target() {
        report(format!(
            "error: an executable can only be linked for this host ({}); for `{target}` write an object \
             (`-o app.o` or `--emit obj`) and link it there with that system's runtime library",
            host_target().unwrap_or("none supported")
        ));
        return Err(EXIT_USAGE);
    }
    let hosts: Vec<&str> = module
        .bytecode()
        .imports
        .iter()
        .filter(|i| i.kind == kiln_bytecode::ImportKind::Host)
        .map(|i| i.name.as_str())
        .collect();
    if matches!(emit, Emit::Executable(_)) && !hosts.is_empty() {
        report(format!(
            "error: the program needs host functions no executable provides (extern fn {}); \
             write an object (`-o app.o`) for a host that links them",
            hosts.join(", ")
        ));
        return Err(EXIT_BAD_BYTECODE);
    }
    if output.is_dir() {
        report(format!("error: cannot write {}: it is a directory", output.display()));
        return Err(EXIT_CANT_CREATE);
    }
    let (bytes, left_out) = module.aot_object(target).map_err(|e| {
        report(format!("error: cannot compile for {target}: {e}"));
        EXIT_TRAP
    })?;
    for why in &left_out {
        report(format!("warning: {why}: left to the interpreter"));
    }
    match emit {
        Emit::Object => write(output, &bytes),
        Emit::Executable(how) => link(&bytes, output, how),
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), u8> {
    std::fs::write(path, bytes).map_err(|e| {
        report(format!("error: cannot write {}: {e}", path.display()));
        EXIT_CANT_CREATE
    })
}

/// The runtime library: `KILN_RT` (the archive, or the directory holding it), else
/// `libkiln_rt.a` beside this executable.
fn runtime_library() -> Result<PathBuf, String> {
    const NAME: &str = "libkiln_rt.a";
    let build_it =
        "build it with `cargo build --release -p kiln-aot-rt` and put target/release/libkiln_rt.a \
                    beside vmc, or point KILN_RT at it";
    if let Some(rt) = std::env::var_os("KILN_RT").filter(|v| !v.is_empty()) {
        let rt = PathBuf::from(rt);
        let path = if rt.is_dir() { rt.join(NAME) } else { rt };
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("KILN_RT: no runtime library at {}; {build_it}", path.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find vmc's own path: {e}"))?;
    let path = exe.parent().map(|d| d.join(NAME)).unwrap_or_default();
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("no runtime library {} beside vmc; {build_it}", path.display()))
    }
}

/// Links object `bytes` with the runtime library into executable `output`, with the C
/// compiler `CC` names (default `cc`) as the linker driver.
fn link(bytes: &[u8], output: &Path, how: Link) -> Result<(), u8> {
    if how == Link::Static && !cfg!(target_os = "linux") {
        report("error: --link static is for Linux only; use --link dynamic");
        return Err(EXIT_USAGE);
    }
    let fail = |message: String| {
        report(format!("error: {message}"));
        EXIT_LINK
    };
    let rt = runtime_library().map_err(fail)?;
    // The object goes in a temporary directory beside the output (same filesystem, and
    // an unwritable output directory is found before the linker runs).
    let dir = output.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.kiln-aot-{}.o", file_name(output), std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| {
        report(format!("error: cannot write {}: {e}", output.display()));
        EXIT_CANT_CREATE
    })?;
    // `CC` may carry flags (`gcc -m64`), as make's does.
    let cc = std::env::var("CC").ok().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "cc".into());
    let mut words = cc.split_whitespace();
    let mut cmd = Command::new(words.next().unwrap_or("cc"));
    cmd.args(words).arg(&tmp).arg(&rt).arg("-o").arg(output);
    // What the Rust standard library needs of the system (`rustc --print native-static-libs`).
    // Unused sections are dropped, and the runtime library's debug information (its
    // symbols stay): a hello executable is 2 MiB rather than 7.
    if cfg!(target_os = "macos") {
        cmd.args(["-lSystem", "-lc", "-lm", "-liconv", "-Wl,-dead_strip", "-Wl,-S"]);
    } else {
        match how {
            Link::Static => cmd.arg("-static-pie"),
            Link::Dynamic => cmd.arg("-lgcc_s"),
        };
        cmd.args([
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
            "-Wl,--gc-sections",
            "-Wl,--strip-debug",
        ]);
    }
    let result = cmd.output();
    let _ = std::fs::remove_file(&tmp);
    let out = result.map_err(|e| {
        fail(if e.kind() == std::io::ErrorKind::NotFound {
            format!("no linker: `{cc}` was not found (install a C compiler, e.g. gcc, or set CC)")
        } else {
            format!("cannot run the linker `{cc}`: {e}")
        })
    })?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr);
        let hint = if how == Link::Static {
            "\n(a static link needs the C library's static archives, e.g. Debian's libc6-dev; \
             `--link dynamic` links against the shared one)"
        } else {
            ""
        };
        return Err(fail(format!("linking {} failed:\n{}{hint}", output.display(), text.trim_end())));
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into())
}
