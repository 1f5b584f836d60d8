//! The build: load and check content, render every page in parallel into a staging
//! folder, then swap it in. Output depends only on the content, the theme and the build
//! date (which decides expiry), so two builds of the same content give identical files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;
use serde::Serialize;
use tera::Context;

use crate::content::{self, Content};
use crate::error::BuildError;
use crate::listing::{self, Listing};
use crate::output::Staging;
use crate::post::{Kind, Post};
use crate::theme::Theme;
use crate::views::{self, FormView, PostView, SiteView};
use crate::{feeds, sitemap, urls};

/// Posts of each kind on the home page.
const HOME_LATEST: usize = 6;

/// What to build, from where, to where, and at which moment.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub content: PathBuf,
    pub theme: PathBuf,
    pub out: PathBuf,
    /// The build's "now": posts that expired before it are left out.
    pub now: DateTime<FixedOffset>,
    /// Replaces site.yaml's base URL (for `serve`, which knows its own address).
    pub base_url: Option<String>,
}

/// What a build did, for the log and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildReport {
    pub posts: usize,
    pub expired: usize,
    pub files: usize,
    pub bytes: u64,
}

/// Checks the content and the theme without writing anything.
pub fn check(content_dir: &Path, theme_dir: &Path) -> Result<Content, BuildError> {
    let content = content::load(content_dir).map_err(BuildError::Content)?;
    Theme::load(theme_dir)?;
    Ok(content)
}

/// Builds the whole site into `options.out`.
pub fn build(options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let content = content::load_with(&options.content, options.base_url.as_deref())
        .map_err(BuildError::Content)?;
    let theme = Theme::load(&options.theme)?;
    let total = content.posts.len();
    let live: Vec<Post> = content.posts.iter().filter(|p| !p.is_expired(options.now)).cloned().collect();
    tracing::debug!(posts = total, live = live.len(), "content loaded");

    let views: Vec<PostView> =
        live.par_iter().map(|p| views::post_view(&content.site, &theme, p)).collect();
    let site_view = views::site_view(&content, &theme.words);
    let site = Site { content: &content, theme: &theme, live: &live, views, site_view };

    let staging = Staging::new(&options.out)?;
    let writer = Writer { staging: &staging, files: AtomicUsize::new(0), bytes: AtomicU64::new(0) };
    site.write_all(&writer)?;
    copy_static(&theme.static_dir, &writer)?;
    let (files, bytes) = (writer.files.into_inner(), writer.bytes.into_inner());
    staging.swap_into()?;

    let report = BuildReport { posts: live.len(), expired: total - live.len(), files, bytes };
    tracing::info!(posts = report.posts, expired = report.expired, files = report.files, "site built");
    Ok(report)
}

struct Writer<'a> {
    staging: &'a Staging,
    files: AtomicUsize,
    bytes: AtomicU64,
}

impl Writer<'_> {
    fn write(&self, path: &str, text: &str) -> Result<(), BuildError> {
        self.staging.write(&urls::file_of(path), text.as_bytes())?;
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// One page to render.
enum Job<'a> {
    Home,
    NotFound,
    Form(Kind),
    Post(usize),
    Page(usize),
    Listing(&'a Listing, usize),
}

struct Site<'a> {
    content: &'a Content,
    theme: &'a Theme,
    live: &'a [Post],
    views: Vec<PostView>,
    site_view: SiteView,
}

impl Site<'_> {
    fn write_all(&self, writer: &Writer) -> Result<(), BuildError> {
        let config = &self.content.site;
        let listings = listing::listings(config, self.live);
        let base = self.base_context();

        let mut jobs = vec![Job::Home, Job::NotFound, Job::Form(Kind::Request), Job::Form(Kind::Offer)];
        jobs.extend((0..self.live.len()).map(Job::Post));
        jobs.extend((0..self.content.pages.len()).map(Job::Page));
        for l in &listings {
            jobs.extend((1..=l.page_count(config.config.page_size)).map(|n| Job::Listing(l, n)));
        }
        jobs.par_iter().try_for_each(|job| {
            let (path, html) = self.render(job, &base)?;
            writer.write(&path, &html)
        })?;

        self.write_feeds(&listings, writer)?;
        self.write_sitemap(&listings, writer)?;
        writer.write(urls::ROBOTS, &sitemap::robots(config))
    }

    fn base_context(&self) -> Context {
        let mut context = Context::new();
        context.insert("site", &self.site_view);
        context.insert("t", &self.theme.words);
        context
    }

    fn render(&self, job: &Job, base: &Context) -> Result<(String, String), BuildError> {
        let site = &self.content.site;
        let mut context = base.clone();
        let (path, template) = match job {
            Job::Home => {
                let latest = |kind| -> Vec<&PostView> {
                    self.views.iter().filter(|v| v.kind == kind).take(HOME_LATEST).collect()
                };
                context.insert("latest_requests", &latest(Kind::Request));
                context.insert("latest_offers", &latest(Kind::Offer));
                context.insert("total_posts", &self.views.len());
                (urls::HOME.to_string(), "home.html")
            }
            Job::NotFound => (urls::NOT_FOUND.to_string(), "404.html"),
            Job::Form(kind) => {
                context.insert("form", &FormView::empty(site, *kind));
                (urls::form(*kind).to_string(), "form.html")
            }
            Job::Post(i) => {
                context.insert("post", &self.views[*i]);
                (urls::post(&self.live[*i].slug), "post.html")
            }
            Job::Page(i) => {
                let page = &self.content.pages[*i];
                context.insert("page", &views::page_view(site, page));
                (urls::page(&page.slug), "page.html")
            }
            Job::Listing(l, n) => {
                let size = site.config.page_size;
                let posts: Vec<&PostView> = l.page(*n, size).iter().map(|i| &self.views[*i]).collect();
                context.insert("listing", &self.listing_view(l));
                context.insert("posts", &posts);
                context.insert("pagination", &listing::pagination(site, &l.root, *n, l.page_count(size)));
                (urls::listing_page(&l.root, *n), "listing.html")
            }
        };
        context.insert("canonical", &site.absolute(&path));
        context.insert("current_path", &site.link(&path));
        Ok((path, self.theme.render(template, &context)?))
    }

    fn listing_view(&self, l: &Listing) -> ListingView {
        let site = &self.content.site;
        let sv = &self.site_view;
        ListingView {
            url: site.link(&l.root),
            total: l.posts.len(),
            kind: l.kind.map(|k| views::kind(site, &self.theme.words, k)),
            municipality: l.municipality.map(|i| sv.municipalities[i].clone()),
            category: l.category.map(|i| sv.categories[i].clone()),
            feed_url: l.feed.as_ref().map(|f| site.link(f)),
        }
    }

    fn write_feeds(&self, listings: &[Listing], writer: &Writer) -> Result<(), BuildError> {
        let site = &self.content.site;
        let words = &self.theme.words;
        let entries = |indices: &mut dyn Iterator<Item = usize>| -> Vec<(&Post, &PostView)> {
            indices.take(feeds::FEED_ENTRIES).map(|i| (&self.live[i], &self.views[i])).collect()
        };
        let all = entries(&mut (0..self.live.len()));
        let title = format!("{} – {}", site.config.name, words.feed_all);
        writer.write(urls::FEED_ALL, &feeds::render(site, &title, urls::FEED_ALL, urls::HOME, &all))?;
        for l in listings {
            let Some(feed) = &l.feed else { continue };
            let name = match (l.kind, l.municipality) {
                (Some(kind), _) => words.kinds[&kind].many.clone(),
                (None, Some(m)) => words
                    .feed_municipality
                    .replace("{name}", &site.config.municipalities[m].name),
                (None, None) => words.feed_all.clone(),
            };
            let title = format!("{} – {name}", site.config.name);
            let xml = feeds::render(site, &title, feed, &l.root, &entries(&mut l.posts.iter().copied()));
            writer.write(feed, &xml)?;
        }
        Ok(())
    }

    fn write_sitemap(&self, listings: &[Listing], writer: &Writer) -> Result<(), BuildError> {
        let site = &self.content.site;
        let entry = |path: String, lastmod: Option<String>| sitemap::Entry { path, lastmod };
        let mut entries = vec![entry(urls::HOME.into(), None)];
        entries.extend(Kind::ALL.iter().map(|k| entry(urls::form(*k).into(), None)));
        entries.extend(self.content.pages.iter().map(|p| entry(urls::page(&p.slug), None)));
        for l in listings {
            let pages = l.page_count(site.config.page_size);
            entries.extend((1..=pages).map(|n| entry(urls::listing_page(&l.root, n), None)));
        }
        entries.extend(self.live.iter().zip(&self.views).map(|(p, v)| {
            let updated = crate::dates::local(&p.updated, site.tz).to_rfc3339();
            debug_assert_eq!(v.url, site.link(&urls::post(&p.slug)));
            entry(urls::post(&p.slug), Some(updated))
        }));
        for (path, xml) in sitemap::render(site, &entries) {
            writer.write(&path, &xml)?;
        }
        Ok(())
    }
}

/// A listing's heading data for templates.
#[derive(Debug, Serialize)]
struct ListingView {
    url: String,
    total: usize,
    kind: Option<views::KindView>,
    municipality: Option<views::MunicipalityView>,
    category: Option<views::CategoryView>,
    feed_url: Option<String>,
}

fn copy_static(dir: &Path, writer: &Writer) -> Result<(), BuildError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BuildError::io(dir, e)),
    };
    let mut files: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    for path in files.into_iter().filter(|p| p.is_file()) {
        let bytes = std::fs::read(&path).map_err(|e| BuildError::io(&path, e))?;
        let name = path.file_name().expect("a file has a name").to_string_lossy();
        writer.staging.write(&format!("static/{name}"), &bytes)?;
        writer.files.fetch_add(1, Ordering::Relaxed);
        writer.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    }
    Ok(())
}
