//! Writing the site beside the output folder and swapping it in only when complete, so
//! a failed or interrupted build never leaves a half-written site online.

use std::path::{Path, PathBuf};

use crate::error::BuildError;

/// A folder the build writes into; removed again unless [`Staging::swap_into`] succeeds.
pub struct Staging {
    pub dir: PathBuf,
    target: PathBuf,
    done: bool,
    /// Held for the whole build, so two builds of one output folder take turns.
    _lock: std::fs::File,
}

impl Staging {
    /// Creates an empty staging folder next to `target`.
    pub fn new(target: &Path) -> Result<Staging, BuildError> {
        let target = absolute(target)?;
        let parent = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| BuildError::io(&parent, e))?;
        let lock_path = sibling(&target, "lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| BuildError::io(&lock_path, e))?;
        lock.lock().map_err(|e| BuildError::io(&lock_path, e))?;
        let dir = sibling(&target, "building");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| BuildError::io(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| BuildError::io(&dir, e))?;
        Ok(Staging { dir, target, done: false, _lock: lock })
    }

    /// Writes `bytes` at `rel` (a path relative to the site root) inside staging.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), BuildError> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| BuildError::io(&path, e))
    }

    /// Replaces the target folder with the staged site. The old site stays in place
    /// until the new one is complete. Where the system can exchange two paths in one step
    /// (Linux), readers see the old site or the new one and nothing in between; elsewhere
    /// the path is missing between two renames, which a static server answers with a 404
    /// for a few microseconds.
    pub fn swap_into(mut self) -> Result<(), BuildError> {
        let old = sibling(&self.target, "old");
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| BuildError::io(&old, e))?;
        }
        if self.target.exists() && exchange(&self.dir, &self.target).is_ok() {
            self.done = true;
            // The staging path now holds the old site.
            return std::fs::remove_dir_all(&self.dir).map_err(|e| BuildError::io(&self.dir, e));
        }
        let had_target = self.target.exists();
        if had_target {
            std::fs::rename(&self.target, &old).map_err(|e| BuildError::io(&self.target, e))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            if had_target {
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(BuildError::io(&self.target, e));
        }
        self.done = true;
        if had_target {
            std::fs::remove_dir_all(&old).map_err(|e| BuildError::io(&old, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn absolute(path: &Path) -> Result<PathBuf, BuildError> {
    std::path::absolute(path).map_err(|e| BuildError::io(path, e))
}

/// `.<name>.<what>` beside `target`: hidden, on the same file system, so rename works.
pub(crate) fn sibling(target: &Path, what: &str) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.{what}"))
}

/// Swaps the files or folders at `a` and `b` in one step, so a reader of either path sees
/// one of the two and never a missing or half-written path. Fails where the system or
/// file system cannot (then the caller falls back to a rename).
#[cfg(target_os = "linux")]
pub(crate) fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}
