//! Loading the whole content folder: site settings, posts and pages, read in parallel
//! and checked together. Every bad file is reported, and problems that involve two
//! files (a duplicate id, two posts on one URL) name both.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Site;
use crate::error::ContentError;
use crate::front_matter;
use crate::page::{self, Page};
use crate::post::{self, Post};

/// Everything the generator reads, validated.
#[derive(Debug)]
pub struct Content {
    pub site: Site,
    /// All posts, expired ones included, newest first (ties broken by id).
    pub posts: Vec<Post>,
    /// Pages sorted by slug.
    pub pages: Vec<Page>,
}

/// Loads and checks `content_dir`; returns every problem found, sorted by file and line.
pub fn load(content_dir: &Path) -> Result<Content, Vec<ContentError>> {
    load_with(content_dir, None)
}

/// As [`load`], with the base URL of site.yaml replaced by `base_url` (used by
/// `buurtbord serve`, which knows the address it listens on).
pub fn load_with(content_dir: &Path, base_url: Option<&str>) -> Result<Content, Vec<ContentError>> {
    let site = Site::load(content_dir, base_url)?;
    let mut errors = Vec::new();

    let post_files = markdown_files(&content_dir.join("posts"), &mut errors);
    let results: Vec<_> = post_files.par_iter().map(|p| post::load(&site, p)).collect();
    let mut posts = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(post) => posts.push(post),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    let mut pages = Vec::new();
    for path in markdown_files(&content_dir.join("pages"), &mut errors) {
        match page::load(&path) {
            Ok(page) => pages.push(page),
            Err(mut errs) => errors.append(&mut errs),
        }
    }

    check_unique(&posts, |p| &p.id, "id", &["id"], &mut errors);
    let url = "slug (URL /bericht/<slug>/)";
    check_unique(&posts, |p| &p.slug, url, &["slug", "title"], &mut errors);
    if !errors.is_empty() {
        errors.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        errors.dedup();
        return Err(errors);
    }
    posts.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    pages.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(Content { site, posts, pages })
}

/// Only site.yaml and the pages: what rendering a single page needs (the function's form
/// and confirmation pages), without reading thousands of posts at every cold start.
pub fn load_site_and_pages(content_dir: &Path) -> Result<Content, Vec<ContentError>> {
    let site = Site::load(content_dir, None)?;
    let mut errors = Vec::new();
    let mut pages = Vec::new();
    for path in markdown_files(&content_dir.join("pages"), &mut errors) {
        match page::load(&path) {
            Ok(page) => pages.push(page),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Content { site, posts: Vec::new(), pages })
}

/// The `.md` files directly in `dir`, sorted; other files (`.keep`, editor backups) are
/// ignored. A missing folder counts as empty.
fn markdown_files(dir: &Path, errors: &mut Vec<ContentError>) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            errors.push(ContentError::new(dir, None, format!("cannot read folder: {e}")));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md") && p.is_file())
        .collect();
    files.sort();
    files
}

/// Reports posts that share a value; the error stands on the line of the first of
/// `keys` that the later file's front matter has, so it reads as `path:line: reason`.
fn check_unique<'a>(
    posts: &'a [Post],
    key: impl Fn(&'a Post) -> &'a String,
    what: &str,
    keys: &[&str],
    errors: &mut Vec<ContentError>,
) {
    let mut seen: HashMap<&String, &Path> = HashMap::with_capacity(posts.len());
    for post in posts {
        if let Some(first) = seen.insert(key(post), &post.source) {
            errors.push(ContentError::new(
                &post.source,
                line_of(&post.source, keys),
                format!("{what} `{}` is also used by {}", key(post), first.display()),
            ));
        }
    }
}

/// The file line of the first of `keys` in the front matter of `path` (read again: this
/// runs only when a problem across files was found).
fn line_of(path: &Path, keys: &[&str]) -> Option<usize> {
    let bytes = std::fs::read(path).ok()?;
    let text = front_matter::decode(path, &bytes).ok()?;
    let split = front_matter::split(path, text).ok()?;
    keys.iter().find_map(|key| front_matter::key_line(split.yaml, key, 1))
}
