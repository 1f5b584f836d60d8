//! Writing the site beside the output folder and swapping it in only when complete, so
//! a failed or interrupted build never leaves a half-written site online.
//!
//! The site that a build replaces is kept beside the output (`.<out>.previous`) and the
//! next build writes into it: a file whose bytes did not change is left alone, a changed
//! one is overwritten in place, and whatever the new site no longer has is removed at the
//! end. Creating and deleting every file of a large site on each build cost more than
//! rendering it (on ext4 most of a 10,000-post build went to allocating inodes).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::BuildError;

/// A folder the build writes into; removed again unless [`Staging::swap_into`] succeeds.
pub struct Staging {
    pub dir: PathBuf,
    target: PathBuf,
    done: bool,
    /// Every file written by this build, relative to `dir`; the rest is pruned at the end.
    written: Mutex<HashSet<PathBuf>>,
    /// Whether `dir` started with an earlier site in it (then files may be stale).
    reused: bool,
    /// Taken while replacing a file of the earlier site by a folder, so two workers
    /// making the same folder do not undo each other's work.
    making_folders: Mutex<()>,
    /// Held for the whole build, so two builds of one output folder take turns.
    _lock: std::fs::File,
}

impl Staging {
    /// Opens the staging folder next to `target`: the site the last build replaced when
    /// there is one, else a new empty folder.
    pub fn new(target: &Path) -> Result<Staging, BuildError> {
        let target = absolute(target)?;
        let parent = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| BuildError::io(&parent, e))?;
        let lock_path = sibling(&target, "lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| BuildError::io(&lock_path, e))?;
        lock.lock().map_err(|e| BuildError::io(&lock_path, e))?;
        let dir = sibling(&target, "building");
        let previous = sibling(&target, "previous");
        // A building folder left by an interrupted build holds a mix of two sites; it is
        // as good a starting point as the previous site, since every file is compared.
        if !is_dir(&dir) && is_dir(&previous) {
            std::fs::rename(&previous, &dir).map_err(|e| BuildError::io(&previous, e))?;
        }
        let reused = is_dir(&dir);
        if !reused {
            remove_any(&dir).map_err(|e| BuildError::io(&dir, e))?;
            std::fs::create_dir(&dir).map_err(|e| BuildError::io(&dir, e))?;
        }
        tracing::debug!(reused, "staging folder ready");
        Ok(Staging {
            dir,
            target,
            done: false,
            written: Mutex::new(HashSet::new()),
            reused,
            making_folders: Mutex::new(()),
            _lock: lock,
        })
    }

    /// Writes `bytes` at `rel` (a path relative to the site root) inside staging, unless
    /// the file there already holds exactly these bytes.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), BuildError> {
        let path = self.dir.join(rel);
        self.written.lock().unwrap_or_else(|e| e.into_inner()).insert(PathBuf::from(rel));
        if self.reused {
            if std::fs::read(&path).is_ok_and(|old| old == bytes) {
                return Ok(());
            }
            return self.write_replacing(&path, bytes).map_err(|e| BuildError::io(&path, e));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| BuildError::io(&path, e))
    }

    /// Replaces the target folder with the staged site. The old site stays in place
    /// until the new one is complete. Where the system can exchange two paths in one step
    /// (Linux), readers see the old site or the new one and nothing in between, and the
    /// old site is kept for the next build to write into; elsewhere the path is missing
    /// between two renames, which a static server answers with a 404 for a few
    /// microseconds.
    pub fn swap_into(mut self) -> Result<(), BuildError> {
        if self.reused {
            let written =
                std::mem::take(&mut *self.written.lock().unwrap_or_else(|e| e.into_inner()));
            let removed = prune(&self.dir, Path::new(""), &written)
                .map_err(|e| BuildError::io(&self.dir, e))?;
            tracing::debug!(removed, "stale files removed from staging");
        }
        let previous = sibling(&self.target, "previous");
        remove_any(&previous).map_err(|e| BuildError::io(&previous, e))?;
        if is_dir(&self.target) && exchange(&self.dir, &self.target).is_ok() {
            self.done = true;
            // The staging path now holds the old site: kept for the next build.
            return std::fs::rename(&self.dir, &previous).map_err(|e| BuildError::io(&self.dir, e));
        }
        let had_target = self.target.exists();
        if had_target {
            std::fs::rename(&self.target, &previous)
                .map_err(|e| BuildError::io(&self.target, e))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            if had_target {
                let _ = std::fs::rename(&previous, &self.target);
            }
            return Err(BuildError::io(&self.target, e));
        }
        self.done = true;
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

fn is_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Removes whatever is at `path`, if anything.
fn remove_any(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

impl Staging {
    /// Writes `bytes` at `path` inside the reused staging folder, clearing the way where
    /// the earlier site had a folder where this one has a file, or a file (or link) where
    /// this one has a folder.
    fn write_replacing(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(parent) = path.parent()
            && !is_dir(parent)
        {
            let _turn = self.making_folders.lock().unwrap_or_else(|e| e.into_inner());
            let mut dir = self.dir.clone();
            for part in parent.strip_prefix(&self.dir).unwrap_or(parent).components() {
                dir.push(part);
                if !is_dir(&dir) {
                    remove_any(&dir)?;
                    std::fs::create_dir(&dir)?;
                }
            }
        }
        // A site never has a file and a folder at one path, so what is removed here is
        // the earlier site's, never another worker's.
        if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
            remove_any(path)?;
        }
        std::fs::write(path, bytes)
    }
}

/// Removes from `root/rel` every file not in `keep` and every folder left empty; returns
/// how many files went.
fn prune(root: &Path, rel: &Path, keep: &HashSet<PathBuf>) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let child = rel.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            removed += prune(root, &child, keep)?;
            // Fails, harmlessly, while the folder still has files of the new site.
            let _ = std::fs::remove_dir(root.join(&child));
        } else if !keep.contains(&child) {
            std::fs::remove_file(root.join(&child))?;
            removed += 1;
        }
    }
    Ok(removed)
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
