//! Telling whether someone else changed `posts/` since a live site last looked: another
//! process (the CLI approving while `buurtbord serve` runs, an operator's editor) may add,
//! change or remove post files, and the site must then reload rather than drop or miss
//! them.
//!
//! On Linux the kernel reports every change in the folder (inotify), so an update costs
//! nothing per post; elsewhere, or when the kernel refuses another watch, each file's size
//! and mtime are listed again at every update (about 25 ms for 10,000 posts).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::time::SystemTime;

use crate::error::BuildError;

/// Each `.md` file in `posts/` by name, with its size and modification time.
type Listing = HashMap<OsString, (u64, Option<SystemTime>)>;

/// What a live site knows of `posts/` as it last saw it.
pub(crate) enum PostsWatch {
    #[cfg(target_os = "linux")]
    Kernel(inotify::Inotify),
    Listed(Listing),
}

impl PostsWatch {
    /// Starts watching `dir`. Call it before reading the posts: a change made while they
    /// are read then counts as a change at the next update, which reloads.
    pub fn start(dir: &Path) -> Result<PostsWatch, BuildError> {
        #[cfg(target_os = "linux")]
        if let Some(watch) = kernel_watch(dir) {
            return Ok(PostsWatch::Kernel(watch));
        }
        Ok(PostsWatch::Listed(list(dir)?))
    }

    /// Looks at `dir` again. Returns the watch to keep if, apart from `own` (the file the
    /// caller just wrote or removed), nothing changed; `None` if someone else changed it.
    pub fn unchanged_except(
        self,
        dir: &Path,
        own: Option<&OsStr>,
    ) -> Result<Option<PostsWatch>, BuildError> {
        match self {
            #[cfg(target_os = "linux")]
            PostsWatch::Kernel(mut watch) => {
                let unchanged =
                    only_own_events(&mut watch, own).map_err(|e| BuildError::io(dir, e))?;
                Ok(unchanged.then_some(PostsWatch::Kernel(watch)))
            }
            // Each file's size and mtime, not the folder's mtime: the folder's mtime also
            // moves for the caller's own file, so it cannot tell the two apart, and it
            // misses a file rewritten in place.
            PostsWatch::Listed(seen) => {
                let now = list(dir)?;
                let others =
                    |m: &Listing| m.len() - usize::from(own.is_some_and(|f| m.contains_key(f)));
                let same = others(&seen) == others(&now)
                    && now.iter().all(|(name, state)| {
                        Some(name.as_os_str()) == own || seen.get(name) == Some(state)
                    });
                Ok(same.then_some(PostsWatch::Listed(now)))
            }
        }
    }
}

/// A kernel watch on `dir`, or `None` where there is none to be had (no folder yet, the
/// per-user limit of watches reached): the listing then does the same job, slower.
#[cfg(target_os = "linux")]
fn kernel_watch(dir: &Path) -> Option<inotify::Inotify> {
    use inotify::{Inotify, WatchMask};
    let watch = Inotify::init().ok()?;
    let mask = WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MODIFY
        | WatchMask::ATTRIB
        | WatchMask::CLOSE_WRITE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF;
    watch.watches().add(dir, mask).ok()?;
    Some(watch)
}

/// Reads every change reported since the last call; true if each one concerns `own` or a
/// file that is not a post (a writer's hidden temporary file). The kernel queues a change
/// before the call that made it returns, so a change another process finished is seen.
#[cfg(target_os = "linux")]
fn only_own_events(watch: &mut inotify::Inotify, own: Option<&OsStr>) -> std::io::Result<bool> {
    use inotify::EventMask;
    let mut buffer = [0u8; 4096];
    let mut unchanged = true;
    loop {
        let events = match watch.read_events(&mut buffer) {
            Ok(events) => events,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(unchanged),
            Err(e) => return Err(e),
        };
        let mut any = false;
        for event in events {
            any = true;
            // A lost event, or the folder itself gone or moved: anything may have changed.
            let whole = EventMask::Q_OVERFLOW
                | EventMask::IGNORED
                | EventMask::DELETE_SELF
                | EventMask::MOVE_SELF;
            let other_post = event.name.is_some_and(|name| is_post_file(name) && Some(name) != own);
            if event.mask.intersects(whole) || other_post {
                unchanged = false;
            }
        }
        if !any {
            return Ok(unchanged);
        }
    }
}

/// True for the names a build reads as posts.
fn is_post_file(name: &OsStr) -> bool {
    Path::new(name).extension().is_some_and(|x| x == "md")
}

/// The `.md` files in `dir` with their size and mtime; a missing folder is empty.
fn list(dir: &Path) -> Result<Listing, BuildError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Listing::new()),
        Err(e) => return Err(BuildError::io(dir, e)),
    };
    let mut seen = Listing::new();
    for entry in entries {
        let entry = entry.map_err(|e| BuildError::io(dir, e))?;
        let name = entry.file_name();
        if !is_post_file(&name) {
            continue;
        }
        // A file removed between listing and looking at it is simply not there.
        let Ok(meta) = entry.metadata() else { continue };
        seen.insert(name, (meta.len(), meta.modified().ok()));
    }
    Ok(seen)
}
