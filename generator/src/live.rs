//! Incremental publishing: a site kept in memory after a full build, so that approving,
//! withdrawing or changing one post rewrites only the pages that show it (its own page,
//! the listings it is on and the pages it shifts, the home page, feeds and sitemap).
//! Each file is replaced atomically, and only when its bytes changed; the result is
//! byte-identical to a full build of the same content.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;

use crate::build::{BuildOptions, BuildReport, Job, Model, hash, render_card};
use crate::config::Site;
use crate::error::{BuildError, ContentError};
use crate::post::{self, Post};
use crate::{urls, views};

/// What one incremental update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateReport {
    /// Pages and XML files rendered.
    pub rendered: usize,
    /// Files whose bytes changed and were rewritten.
    pub written: usize,
    /// Files removed (a withdrawn post's page, a listing page that no longer exists).
    pub removed: usize,
}

/// A built site that can be updated one post at a time.
pub struct LiveSite {
    model: Model,
    options: BuildOptions,
    /// Hash of every file the generator wrote, by path relative to the output folder.
    hashes: HashMap<String, u64>,
}

impl LiveSite {
    /// Builds the whole site into `options.out` and keeps it in memory.
    pub fn open(options: BuildOptions) -> Result<(LiveSite, BuildReport), BuildError> {
        let model = Model::load(&options)?;
        let (report, hashes) = model.write_full(&options.out)?;
        Ok((LiveSite { model, options, hashes: hashes.into_iter().collect() }, report))
    }

    /// Reads everything again and rebuilds the whole site at `now` (the daily run that
    /// removes expired posts, or after a hand edit of the content folder).
    pub fn rebuild(&mut self, now: DateTime<FixedOffset>) -> Result<BuildReport, BuildError> {
        let options = BuildOptions { now, ..self.options.clone() };
        let (live, report) = LiveSite::open(options)?;
        *self = live;
        Ok(report)
    }

    /// The validated site settings.
    pub fn site(&self) -> &Site {
        &self.model.content.site
    }

    /// The output folder.
    pub fn out(&self) -> &Path {
        &self.options.out
    }

    /// Reads the post at `path` (new or changed) and publishes it.
    pub fn upsert_post(&mut self, path: &Path) -> Result<UpdateReport, BuildError> {
        let post = post::load(self.site(), path).map_err(BuildError::Content)?;
        if let Some(other) =
            self.model.content.posts.iter().find(|p| p.slug == post.slug && p.id != post.id)
        {
            let reason = format!("slug `{}` is also used by {}", post.slug, other.source.display());
            return Err(BuildError::Content(vec![ContentError::new(path, None, reason)]));
        }
        let old = self.take(&post.id);
        let posts = &mut self.model.content.posts;
        let at = posts.partition_point(|p| newer_first(p, &post));
        posts.insert(at, post.clone());
        self.apply(old, Some(post))
    }

    /// Removes the post with `id` from the site (withdrawn, helped, taken offline).
    pub fn remove_post(&mut self, id: &str) -> Result<UpdateReport, BuildError> {
        let old = self.take(id);
        if old.is_none() {
            return Ok(UpdateReport::default());
        }
        self.apply(old, None)
    }

    /// Takes the post with `id` out of the model, returning it.
    fn take(&mut self, id: &str) -> Option<Post> {
        let posts = &mut self.model.content.posts;
        let i = posts.iter().position(|p| p.id == id)?;
        let old = posts.remove(i);
        if let Some(j) = self.model.live.iter().position(|p| p.id == id) {
            self.model.live.remove(j);
            self.model.views.remove(j);
            self.model.cards.remove(j);
        }
        Some(old)
    }

    /// Re-renders what `old` and `new` touch and writes the files that changed.
    fn apply(&mut self, old: Option<Post>, new: Option<Post>) -> Result<UpdateReport, BuildError> {
        let model = &mut self.model;
        let new = new.filter(|p| !p.is_expired(model.now));
        if let Some(post) = &new {
            let at = model.live.partition_point(|p| newer_first(p, post));
            model.live.insert(at, post.clone());
            let view = views::post_view(&model.content.site, &model.theme, post);
            model.cards.insert(at, render_card(&model.theme, &view));
            model.views.insert(at, view);
        }
        let size = model.content.site.config.page_size;
        let touched = |l: &crate::listing::Listing, site: &Site| {
            old.iter().chain(new.iter()).any(|p| l.accepts(site, p))
        };
        let old_pages: Vec<usize> = model.listings.iter().map(|l| l.page_count(size)).collect();
        model.listings = crate::listing::listings(&model.content.site, &model.live);

        let mut jobs = vec![Job::Home];
        let mut stale = Vec::new();
        for (i, l) in model.listings.iter().enumerate() {
            if touched(l, &model.content.site) {
                jobs.extend(model.listing_jobs(i));
                let now_pages = l.page_count(size);
                stale
                    .extend((now_pages + 1..=old_pages[i]).map(|n| urls::listing_page(&l.root, n)));
            }
        }
        if let Some(post) = &new {
            let i = model.live.iter().position(|p| p.id == post.id).expect("just inserted");
            jobs.push(Job::Post(i));
        }
        if let Some(old) = &old
            && new.as_ref().is_none_or(|n| n.slug != old.slug)
        {
            stale.push(urls::post(&old.slug));
        }

        let model = &self.model;
        let mut files: Vec<(String, String)> =
            jobs.par_iter().map(|job| model.render(*job)).collect::<Result<_, _>>()?;
        files.extend(model.feeds());
        files.extend(model.sitemap());
        let mut report = UpdateReport { rendered: files.len(), ..UpdateReport::default() };
        report.written = self.write_changed(files)?;
        report.removed = self.remove_files(&stale)?;
        tracing::info!(
            rendered = report.rendered,
            written = report.written,
            removed = report.removed,
            "site updated"
        );
        Ok(report)
    }

    fn write_changed(&mut self, files: Vec<(String, String)>) -> Result<usize, BuildError> {
        let out = self.options.out.clone();
        let changed: Vec<(String, u64, String)> = files
            .into_iter()
            .map(|(path, text)| (urls::file_of(&path), hash(text.as_bytes()), text))
            .filter(|(rel, h, _)| self.hashes.get(rel) != Some(h))
            .collect();
        changed
            .par_iter()
            .try_for_each(|(rel, _, text)| write_atomic(&out.join(rel), text.as_bytes()))?;
        let count = changed.len();
        self.hashes.extend(changed.into_iter().map(|(rel, h, _)| (rel, h)));
        Ok(count)
    }

    fn remove_files(&mut self, paths: &[String]) -> Result<usize, BuildError> {
        let mut removed = 0;
        for path in paths {
            let rel = urls::file_of(path);
            let file = self.options.out.join(&rel);
            match std::fs::remove_file(&file) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(BuildError::io(&file, e)),
            }
            if let Some(dir) = file.parent() {
                let _ = std::fs::remove_dir(dir); // only succeeds when empty
            }
            self.hashes.remove(&rel);
        }
        Ok(removed)
    }
}

/// The site's order: newest first, ties broken by id. True if `a` comes before `b`.
fn newer_first(a: &Post, b: &Post) -> bool {
    (std::cmp::Reverse(a.date), &a.id) < (std::cmp::Reverse(b.date), &b.id)
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so a
/// reader never sees half a page.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).map_err(|e| BuildError::io(&dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| BuildError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| BuildError::io(path, e))
}
