//! The build: load and check content, render every page in parallel into a staging
//! folder, then swap it in. Output depends only on the content, the theme and the build
//! date (which decides expiry), so two builds of the same content give identical files.
//! [`Model`] holds everything rendering needs, so the incremental path in [`crate::live`]
//! renders pages with exactly the same code.

use std::path::{Path, PathBuf};

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
    let lock = crate::output::lock_output(&options.out)?;
    let model = Model::load(options)?;
    let (report, _) = model.write_full(&options.out, lock)?;
    Ok(report)
}

/// One page to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    Home,
    NotFound,
    Form(Kind),
    Post(usize),
    Page(usize),
    /// A listing (index into [`Model::listings`]) and a page number.
    Listing(usize, usize),
}

/// Everything rendering needs, computed once per build (or per change, in `live`).
pub(crate) struct Model {
    pub content: Content,
    pub theme: Theme,
    pub now: DateTime<FixedOffset>,
    /// Live posts (not expired), newest first, ties by id.
    pub live: Vec<Post>,
    /// One view per live post, in the same order.
    pub views: Vec<PostView>,
    /// Each live post's listing card, rendered once and reused on every listing page.
    pub cards: Vec<String>,
    /// Each live post's sitemap entry, in the same order.
    pub sitemap_entries: Vec<String>,
    pub listings: Vec<Listing>,
    site_view: SiteView,
    base: Context,
}

impl Model {
    pub fn load(options: &BuildOptions) -> Result<Model, BuildError> {
        let started = std::time::Instant::now();
        let content = content::load_with(&options.content, options.base_url.as_deref())
            .map_err(BuildError::Content)?;
        let theme = Theme::load(&options.theme)?;
        tracing::debug!(elapsed_ms = started.elapsed().as_millis(), "content and theme loaded");
        Ok(Model::new(content, theme, options.now))
    }

    pub fn new(content: Content, theme: Theme, now: DateTime<FixedOffset>) -> Model {
        let live: Vec<Post> =
            content.posts.iter().filter(|p| !p.is_expired(now)).cloned().collect();
        let started = std::time::Instant::now();
        let views: Vec<PostView> =
            live.par_iter().map(|p| views::post_view(&content.site, &theme, p)).collect();
        let cards = views.par_iter().map(|v| render_card(&theme, v)).collect();
        let sitemap_entries =
            live.par_iter().map(|p| post_sitemap_entry(&content.site, p)).collect();
        tracing::debug!(elapsed_ms = started.elapsed().as_millis(), "posts and cards rendered");
        let site_view = views::site_view(&content, &theme.words);
        let mut base = Context::new();
        base.insert("site", &site_view);
        base.insert("t", &theme.words);
        let listings = listing::listings(&content.site, &live);
        tracing::debug!(posts = content.posts.len(), live = live.len(), "views prepared");
        Model {
            content,
            theme,
            now,
            live,
            views,
            cards,
            sitemap_entries,
            listings,
            site_view,
            base,
        }
    }

    /// Renders everything into a staging folder and swaps it in at `out`. Returns the
    /// report and every written file with its bytes' hash, for later incremental updates.
    pub fn write_full(
        &self,
        out: &Path,
        lock: std::fs::File,
    ) -> Result<(BuildReport, Vec<(String, u64)>), BuildError> {
        let started = std::time::Instant::now();
        let staging = Staging::new(out, lock)?;
        // Each page is written as soon as it is rendered, so memory holds one page per
        // worker rather than the whole site (which is most of a 100,000-post build's RSS).
        let mut written: Vec<(String, u64, u64)> = self
            .all_jobs()
            .par_iter()
            .map_init(
                || Scratch::new(&self.base),
                |scratch, job| {
                    let path = self.render_into(*job, scratch)?;
                    write_file(&staging, &path, &scratch.html)
                },
            )
            .collect::<Result<_, BuildError>>()?;
        tracing::debug!(
            pages = written.len(),
            elapsed_ms = started.elapsed().as_millis(),
            "pages rendered and written"
        );
        let xml: Vec<(String, u64, u64)> = (self.xml_files().into_par_iter())
            .map(|(path, text)| write_file(&staging, &path, text.as_bytes()))
            .collect::<Result<_, BuildError>>()?;
        written.extend(xml);
        let (static_files, static_bytes) = copy_static(&self.theme.static_dir, &staging)?;
        tracing::debug!(elapsed_ms = started.elapsed().as_millis(), "files written");
        staging.swap_into()?;

        let report = BuildReport {
            posts: self.live.len(),
            expired: self.content.posts.len() - self.live.len(),
            files: written.len() + static_files,
            bytes: static_bytes + written.iter().map(|(_, _, len)| len).sum::<u64>(),
        };
        tracing::info!(
            posts = report.posts,
            expired = report.expired,
            files = report.files,
            "site built"
        );
        let mut hashes: Vec<(String, u64)> =
            written.into_iter().map(|(rel, h, _)| (rel, h)).collect();
        hashes.sort();
        Ok((report, hashes))
    }

    /// Every page of the site.
    pub fn all_jobs(&self) -> Vec<Job> {
        let mut jobs =
            vec![Job::Home, Job::NotFound, Job::Form(Kind::Request), Job::Form(Kind::Offer)];
        jobs.extend((0..self.live.len()).map(Job::Post));
        jobs.extend((0..self.content.pages.len()).map(Job::Page));
        for (i, _) in self.listings.iter().enumerate() {
            jobs.extend(self.listing_jobs(i));
        }
        jobs
    }

    /// All pages of listing `i`.
    pub fn listing_jobs(&self, i: usize) -> impl Iterator<Item = Job> + use<> {
        let pages = self.listings[i].page_count(self.content.site.config.page_size);
        (1..=pages).map(move |n| Job::Listing(i, n))
    }

    /// Renders pages in parallel, each worker with one reused [`Scratch`]; returns each
    /// page's site path and HTML, in the order of `jobs`.
    pub fn render_many(&self, jobs: &[Job]) -> Result<Vec<(String, String)>, BuildError> {
        jobs.par_iter()
            .map_init(
                || Scratch::new(&self.base),
                |scratch, job| {
                    let path = self.render_into(*job, scratch)?;
                    let html = String::from_utf8(scratch.html.clone()).map_err(|e| {
                        BuildError::Theme(format!("{path}: output is not UTF-8: {e}"))
                    })?;
                    Ok((path, html))
                },
            )
            .collect()
    }

    /// Renders one page into `scratch.html` (replacing what was there) and returns its
    /// site path. The page's own values are taken out of the context again afterwards,
    /// so the next page a worker renders sees only the site-wide ones plus its own.
    fn render_into(&self, job: Job, scratch: &mut Scratch) -> Result<String, BuildError> {
        let context = &mut scratch.context;
        let (path, template) = self.page_values(job, context);
        let site = &self.content.site;
        context.insert("canonical", &site.absolute(&path));
        context.insert("current_path", &site.link(&path));

        scratch.html.clear();
        let rendered = self.theme.render_to(template, context, &mut scratch.html);
        for key in PAGE_KEYS {
            context.remove(key);
        }
        rendered.map(|()| path)
    }

    /// Inserts what page `job` shows beyond the site-wide values (only keys listed in
    /// [`PAGE_KEYS`]); returns its site path and template.
    fn page_values(&self, job: Job, context: &mut Context) -> (String, &'static str) {
        let site = &self.content.site;
        match job {
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
                context.insert("form", &FormView::empty(site, kind));
                (urls::form(kind).to_string(), "form.html")
            }
            Job::Post(i) => {
                context.insert("post", &self.views[i]);
                (urls::post(&self.live[i].slug), "post.html")
            }
            Job::Page(i) => {
                let page = &self.content.pages[i];
                context.insert("page", &views::page_view(site, page));
                (urls::page(&page.slug), "page.html")
            }
            Job::Listing(i, n) => self.listing_values(i, n, context),
        }
    }

    /// The values of page `n` of listing `i`: its heading, its cards and its pagination.
    fn listing_values(&self, i: usize, n: usize, context: &mut Context) -> (String, &'static str) {
        let site = &self.content.site;
        let l = &self.listings[i];
        let size = site.config.page_size;
        let cards: Vec<&str> = l.page(n, size).iter().map(|i| self.cards[*i].as_str()).collect();
        context.insert("listing", &self.listing_view(l));
        context.insert("cards", &cards);
        context.insert("pagination", &listing::pagination(site, &l.root, n, l.page_count(size)));
        (urls::listing_page(&l.root, n), "listing.html")
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

    /// Feeds, sitemap and robots.txt, as (site path, text).
    pub fn xml_files(&self) -> Vec<(String, String)> {
        let mut files = self.feeds();
        files.extend(self.sitemap());
        files.push((urls::ROBOTS.to_string(), sitemap::robots(&self.content.site)));
        files
    }

    pub fn feeds(&self) -> Vec<(String, String)> {
        let site = &self.content.site;
        let words = &self.theme.words;
        let entries = |indices: &mut dyn Iterator<Item = usize>| -> Vec<(&Post, &PostView)> {
            indices.take(feeds::FEED_ENTRIES).map(|i| (&self.live[i], &self.views[i])).collect()
        };
        let all = entries(&mut (0..self.live.len()));
        let title = format!("{} – {}", site.config.name, words.feed_all);
        let mut files = vec![(
            urls::FEED_ALL.to_string(),
            feeds::render(site, &title, urls::FEED_ALL, urls::HOME, &all),
        )];
        for l in &self.listings {
            let Some(feed) = &l.feed else { continue };
            let name = match (l.kind, l.municipality) {
                (Some(kind), _) => words.kinds[&kind].many.clone(),
                (None, Some(m)) => {
                    words.feed_municipality.replace("{name}", &site.config.municipalities[m].name)
                }
                (None, None) => words.feed_all.clone(),
            };
            let title = format!("{} – {name}", site.config.name);
            let xml =
                feeds::render(site, &title, feed, &l.root, &entries(&mut l.posts.iter().copied()));
            files.push((feed.clone(), xml));
        }
        files
    }

    pub fn sitemap(&self) -> Vec<(String, String)> {
        let site = &self.content.site;
        let entry = |path: &str| sitemap::entry(site, path, None);
        let mut pages = vec![entry(urls::HOME)];
        pages.extend(Kind::ALL.iter().map(|k| entry(urls::form(*k))));
        pages.extend(self.content.pages.iter().map(|p| entry(&urls::page(&p.slug))));
        for l in &self.listings {
            let count = l.page_count(site.config.page_size);
            pages.extend((1..=count).map(|n| entry(&urls::listing_page(&l.root, n))));
        }
        let mut entries: Vec<&str> = pages.iter().map(String::as_str).collect();
        entries.extend(self.sitemap_entries.iter().map(String::as_str));
        sitemap::render(site, &entries)
    }
}

/// A live post's sitemap entry.
pub(crate) fn post_sitemap_entry(site: &crate::config::Site, post: &Post) -> String {
    let updated = crate::dates::local(&post.updated, site.tz).to_rfc3339();
    sitemap::entry(site, &urls::post(&post.slug), Some(&updated))
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

/// The context keys a page adds to the site-wide ones; removed after each page.
const PAGE_KEYS: [&str; 9] = [
    "latest_requests",
    "latest_offers",
    "total_posts",
    "form",
    "post",
    "page",
    "listing",
    "cards",
    "pagination",
];

/// A rendering worker's reusable state. Cloning the site-wide context (menus, every
/// municipality and category) for each page, and dropping it again, cost about as much
/// as rendering the page; a worker instead keeps one context and one output buffer.
struct Scratch {
    context: Context,
    html: Vec<u8>,
}

impl Scratch {
    fn new(base: &Context) -> Scratch {
        Scratch { context: base.clone(), html: Vec::with_capacity(64 * 1024) }
    }
}

/// Writes one rendered file at site path `path` into staging; returns its relative
/// path, hash and length.
fn write_file(
    staging: &Staging,
    path: &str,
    bytes: &[u8],
) -> Result<(String, u64, u64), BuildError> {
    let rel = urls::file_of(path);
    staging.write(&rel, bytes)?;
    Ok((rel, hash(bytes), bytes.len() as u64))
}

/// A post's card for listings. Rendering fails only on a broken theme, which the first
/// page render reports with Tera's full message; the card then stays empty.
pub(crate) fn render_card(theme: &Theme, view: &PostView) -> String {
    let mut context = Context::new();
    context.insert("post", view);
    context.insert("card_level", &2);
    theme.render("card.html", &context).unwrap_or_default()
}

/// A fast, stable hash of a file's bytes, to skip rewriting files that did not change.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Copies the theme's static files; returns (files, bytes).
fn copy_static(dir: &Path, staging: &Staging) -> Result<(usize, u64), BuildError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(BuildError::io(dir, e)),
    };
    let mut files: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let (mut count, mut bytes) = (0, 0);
    for path in files.into_iter().filter(|p| p.is_file()) {
        let data = std::fs::read(&path).map_err(|e| BuildError::io(&path, e))?;
        let name = path.file_name().expect("a file has a name").to_string_lossy();
        staging.write(&format!("static/{name}"), &data)?;
        count += 1;
        bytes += data.len() as u64;
    }
    Ok((count, bytes))
}
