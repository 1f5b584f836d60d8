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
    /// there is one, else a new empty folder. `lock` is the output's lock
    /// ([`lock_output`]), taken before the content was read, so that no update of the
    /// site made in between is lost when this build is swapped in.
    pub fn new(target: &Path, lock: std::fs::File) -> Result<Staging, BuildError> {
        let target = absolute(target)?;
        let parent = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        refuse_foreign_folder(&target)?;
        let dir = sibling(&target, "building");
        let previous = sibling(&target, "previous");
        // A building folder left by an interrupted build holds a mix of two sites; it is
        // as good a starting point as the previous site, since every file is compared.
        if !is_dir(&dir) && is_dir(&previous) {
            std::fs::rename(&previous, &dir).map_err(|e| BuildError::io(&previous, e))?;
        }
        let reused = is_dir(&dir);
        if reused {
            // Only real folders and plain files of our own may stay: anything else (a link,
            // a second name of a file elsewhere, a pipe, odd permissions) could make this
            // build write outside the site, hang, or publish what readers cannot open.
            let modes = fresh_modes(&parent).map_err(|e| BuildError::io(&parent, e))?;
            let cleared = clean(&dir, modes).map_err(|(path, e)| BuildError::io(path, e))?;
            tracing::debug!(cleared, "previous site checked before reuse");
        } else {
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

/// Takes the output folder's lock file (`.<out>.lock`), waiting while another build or a
/// running `serve` writes the site; held until the returned file is dropped.
pub fn lock_output(target: &Path) -> Result<std::fs::File, BuildError> {
    let target = absolute(target)?;
    let parent = target.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
    let path = sibling(&target, "lock");
    // A link put in the lock's place must not make us create or truncate its target.
    if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        remove_any(&path).map_err(|e| BuildError::io(&path, e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| BuildError::io(&path, e))?;
    file.lock().map_err(|e| BuildError::io(&path, e))?;
    Ok(file)
}

/// Refuses an output folder that holds other things than a site: the build replaces the
/// whole folder, and a later build removes whatever the site does not have, so
/// `--out .` in a project, or a home folder, would lose its files.
fn refuse_foreign_folder(target: &Path) -> Result<(), BuildError> {
    let Ok(mut entries) = std::fs::read_dir(target) else { return Ok(()) };
    let empty = entries.next().is_none();
    let site = ["index.html", "sitemap.xml"].iter().any(|f| target.join(f).is_file());
    if empty || site {
        return Ok(());
    }
    let reason = "this folder is not empty and holds no site built by buurtbord (no \
        index.html); choose a new or empty folder for the site";
    Err(BuildError::io(target, std::io::Error::other(reason)))
}

/// The permission bits a new file and a new folder get here (after the umask), learnt by
/// making one of each beside the output.
#[cfg(unix)]
fn fresh_modes(parent: &Path) -> std::io::Result<(u32, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let probe = parent.join(format!(".buurtbord-probe-{}", std::process::id()));
    std::fs::create_dir(&probe)?;
    let dir_mode = std::fs::metadata(&probe)?.permissions().mode() & 0o7777;
    let file = probe.join("f");
    std::fs::write(&file, b"")?;
    let file_mode = std::fs::metadata(&file)?.permissions().mode() & 0o7777;
    std::fs::remove_dir_all(&probe)?;
    Ok((file_mode, dir_mode))
}

#[cfg(not(unix))]
fn fresh_modes(_: &Path) -> std::io::Result<(u32, u32)> {
    Ok((0, 0))
}

/// Makes `dir` hold only folders and plain files with the permissions of new ones, each
/// file its only name: links, pipes, devices and files with a second name (a hard link)
/// are removed, other permissions reset. Returns how many entries were removed or reset;
/// on failure, the path that failed.
fn clean(
    dir: &Path,
    (file_mode, dir_mode): (u32, u32),
) -> Result<usize, (PathBuf, std::io::Error)> {
    let mut changed = 0;
    let entries = std::fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), e))?;
    for entry in entries {
        let path = entry.map_err(|e| (dir.to_path_buf(), e))?.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| (path.clone(), e))?;
        let (keep, mode) = if meta.is_dir() {
            (true, dir_mode)
        } else {
            (meta.is_file() && single_name(&meta), file_mode)
        };
        if !keep {
            remove_any(&path).map_err(|e| (path.clone(), e))?;
            changed += 1;
            continue;
        }
        if permissions_differ(&meta, mode) {
            set_mode(&path, mode).map_err(|e| (path.clone(), e))?;
            changed += 1;
        }
        if meta.is_dir() {
            changed += clean(&path, (file_mode, dir_mode))?;
        }
    }
    Ok(changed)
}

#[cfg(unix)]
fn single_name(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.nlink() == 1
}

#[cfg(not(unix))]
fn single_name(_: &std::fs::Metadata) -> bool {
    true
}

#[cfg(unix)]
fn permissions_differ(meta: &std::fs::Metadata, mode: u32) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777 != mode
}

#[cfg(not(unix))]
fn permissions_differ(_: &std::fs::Metadata, _: u32) -> bool {
    false
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
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
