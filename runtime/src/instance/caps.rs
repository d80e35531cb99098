//! Capabilities: what an instance may reach outside itself. Nothing is granted by
//! default; the host grants directories (for reading, for writing), environment
//! variables, and stdin (`InstanceConfig::stdin`).
//!
//! A path from the program is resolved against the instance's own base directory (never
//! the process's working directory, which may change), made lexically normal, and must
//! then lie inside a granted directory. The file is opened *beneath* that directory's
//! handle, opened when the grant was made: a `..` or a symlink that leads out of it is
//! refused by the open itself, so swapping a component for a symlink between a check and
//! the open cannot escape either.

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A granted directory: its canonical path and a handle opened on it.
#[derive(Clone)]
struct Grant {
    path: PathBuf,
    dir: Arc<Dir>,
}

/// What an instance may reach outside itself: granted directories and environment
/// variables, and the base directory relative paths start from. Cheap to clone (clones
/// share the directory handles), so one set can serve many instances.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let dir = std::env::temp_dir();
/// let mut caps = kiln_runtime::Capabilities::new();
/// caps.base_dir(&dir)?.allow_read(&dir)?.allow_env("LANG", "C");
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct Capabilities {
    base: Option<PathBuf>,
    read: Vec<Grant>,
    write: Vec<Grant>,
    env: BTreeMap<String, String>,
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let paths = |grants: &[Grant]| grants.iter().map(|g| g.path.clone()).collect::<Vec<_>>();
        f.debug_struct("Capabilities")
            .field("base", &self.base)
            .field("read", &paths(&self.read))
            .field("write", &paths(&self.write))
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Which grant an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `fs.read_text`, `fs.list`.
    Read,
    /// `fs.write_text`.
    Write,
}

impl Capabilities {
    /// No capabilities at all.
    pub fn new() -> Capabilities {
        Capabilities::default()
    }

    /// Sets the directory relative paths start from (made absolute and canonical now).
    /// Without one, the program can use only absolute paths.
    ///
    /// # Errors
    /// The directory does not exist or cannot be resolved.
    pub fn base_dir(&mut self, dir: impl AsRef<Path>) -> std::io::Result<&mut Capabilities> {
        self.base = Some(std::fs::canonicalize(dir)?);
        Ok(self)
    }

    /// Lets the program read files in `dir` and below, and list directories there.
    ///
    /// # Errors
    /// `dir` does not exist, is not a directory, or cannot be opened.
    pub fn allow_read(&mut self, dir: impl AsRef<Path>) -> std::io::Result<&mut Capabilities> {
        let grant = Capabilities::grant(dir.as_ref())?;
        self.read.push(grant);
        Ok(self)
    }

    /// Lets the program create and overwrite files in `dir` and below (not read them:
    /// grant that separately).
    ///
    /// # Errors
    /// As for [`Capabilities::allow_read`].
    pub fn allow_write(&mut self, dir: impl AsRef<Path>) -> std::io::Result<&mut Capabilities> {
        let grant = Capabilities::grant(dir.as_ref())?;
        self.write.push(grant);
        Ok(self)
    }

    /// Lets the program see environment variable `name` with `value` (`env.get`). The
    /// host chooses the value: the process's own environment is never read.
    pub fn allow_env(&mut self, name: &str, value: &str) -> &mut Capabilities {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    fn grant(dir: &Path) -> std::io::Result<Grant> {
        let path = std::fs::canonicalize(dir)?;
        let dir = Dir::open_ambient_dir(&path, ambient_authority())?;
        Ok(Grant { path, dir: Arc::new(dir) })
    }

    /// The value of granted environment variable `name`.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// The granted directory `path` lies in for `access`, and the path relative to it
    /// (empty for the directory itself).
    ///
    /// # Errors
    /// The message for the program: `permission denied: ...`, or why the path is bad.
    pub fn resolve(&self, path: &str, access: Access) -> Result<(&Dir, PathBuf), String> {
        let verb = match access {
            Access::Read => "read",
            Access::Write => "write",
        };
        let denied = || format!("permission denied: no {verb} access to {path}");
        if path.is_empty() || path.contains('\0') {
            return Err(format!("invalid path {path:?}"));
        }
        let requested = Path::new(path);
        let full = if requested.is_absolute() {
            requested.to_path_buf()
        } else {
            match &self.base {
                Some(base) => base.join(requested),
                None => {
                    return Err(format!(
                        "permission denied: {path} is relative and the instance has no base directory"
                    ))
                }
            }
        };
        let full = normalize(&full).ok_or_else(denied)?;
        let grants = match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
        };
        grants
            .iter()
            .find_map(|g| full.strip_prefix(&g.path).ok().map(|rel| (&*g.dir, rel.to_path_buf())))
            .ok_or_else(denied)
    }
}

/// `path` with `.` removed and each `..` taking away the component before it; `None` if
/// a `..` would go above the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out.push(c),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(part) => out.push(part),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn normalizing_removes_dots_and_never_climbs_past_the_root() {
        assert_eq!(normalize(Path::new("/a/./b/../c")).unwrap(), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/a/b/../..")).unwrap(), Path::new("/"));
        assert_eq!(normalize(Path::new("/a/b/../../..")), None);
        assert_eq!(normalize(Path::new("/a/../../etc")), None);
    }
}
