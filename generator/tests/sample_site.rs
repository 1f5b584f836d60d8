//! The sample site in `content/`, built with the default theme as it ships, read back the
//! way its readers' software reads it: every Atom feed through a maintained feed parser
//! (feed-rs), and every page's links and assets (`href`, `src`) through an HTML parser
//! (scraper), at the domain root and under a sub-path. One extra post, whose title holds
//! `&`, `<` and an emoji, goes in to prove escaping survives the round trip.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use feed_rs::model::Feed;
use generator::BuildOptions;
use scraper::{Html, Selector};
use tempfile::TempDir;
use url::Url;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The extra post: a title and body that a careless escape would break.
const TRICKY_ID: &str = "01M9ZZZZZZ0000000000000000";
const TRICKY_TITLE: &str = "Heg & tuin <snoeien> samen 🌳 \"graag\"";
const TRICKY_BODY: &str = "Vijf & zes < zeven, en een 🌷 erbij.";

/// The sample content plus the extra post, built into `out` for `base_url`.
struct Built {
    dir: TempDir,
    base: Url,
    /// When the extra post was published: an hour before the build's "now".
    tricky_date: DateTime<FixedOffset>,
}

impl Built {
    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }
}

/// Builds the sample content at a fixed "now": a day after its newest post, so the build
/// does not depend on the clock and no sample post has expired.
fn build(base_url: &str) -> Built {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    copy_dir(&Path::new(REPO).join("content"), &content);
    let sample = generator::content::load(&content).expect("the sample content is valid");
    let newest = sample.posts.iter().map(|p| p.date).max().expect("the sample has posts");
    let now = newest + Duration::days(1);
    let tricky_date = now - Duration::hours(1);
    write_tricky_post(&content, tricky_date);

    let options = BuildOptions {
        content,
        theme: Path::new(REPO).join("themes/default"),
        out: dir.path().join("out"),
        now,
        base_url: Some(base_url.to_owned()),
    };
    if let Err(e) = generator::build(&options) {
        panic!("the sample site does not build: {e}");
    }
    Built { dir, base: Url::parse(base_url).unwrap(), tricky_date }
}

/// Writes the extra post; JSON strings are YAML double-quoted scalars.
fn write_tricky_post(content: &Path, date: DateTime<FixedOffset>) {
    let q = |s: &str| serde_json::to_string(s).unwrap();
    let front = [
        ("id", q(TRICKY_ID)),
        ("title", q(TRICKY_TITLE)),
        ("kind", "request".into()),
        ("category", q("tuin")),
        ("municipality", q("huizen")),
        ("date", q(&date.to_rfc3339())),
        ("display_name", q("Truus & Co <test>")),
    ];
    let mut text = String::from("---\n");
    for (key, value) in front {
        text.push_str(&format!("{key}: {value}\n"));
    }
    text.push_str(&format!("---\n{TRICKY_BODY}\n"));
    std::fs::write(content.join(format!("posts/{TRICKY_ID}.md")), text).unwrap();
}

// Every feed parses with feed-rs as Atom, with a unique id of its own, an update date no
// older than its newest entry, a self link to where it lives, and entries that each have
// a unique id, dates, and a link to a post page under the base URL.
#[test]
fn every_atom_feed_of_the_sample_site_parses_with_ids_dates_and_links() {
    let site = build("https://buurtbord.example/");
    let feeds = feeds(&site.out());
    assert!(feeds.len() >= 10, "only {} feeds", feeds.len());
    let mut feed_ids = BTreeSet::new();
    for (path, feed) in &feeds {
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom, "{path}");
        assert!(feed.id.starts_with("tag:") && feed_ids.insert(&feed.id), "{path}: id {}", feed.id);
        assert!(feed.title.as_ref().is_some_and(|t| !t.content.is_empty()), "{path}: title");
        let self_link = feed.links.iter().find(|l| l.rel.as_deref() == Some("self"));
        let expected = site.base.join(path).unwrap();
        assert_eq!(self_link.map(|l| l.href.as_str()), Some(expected.as_str()), "{path}");
        let updated = feed.updated.unwrap_or_else(|| panic!("{path}: no valid <updated>"));

        let mut entry_ids = BTreeSet::new();
        for entry in &feed.entries {
            let at = format!("{path}: entry {}", entry.id);
            assert!(entry.id.starts_with("tag:") && entry_ids.insert(&entry.id), "{at}: id");
            let entry_updated = entry.updated.unwrap_or_else(|| panic!("{at}: no <updated>"));
            let published = entry.published.unwrap_or_else(|| panic!("{at}: no <published>"));
            assert!(published <= entry_updated && entry_updated <= updated, "{at}: dates");
            let link = entry.links.first().map(|l| l.href.as_str()).unwrap_or_default();
            assert!(link.starts_with(site.base.join("bericht/").unwrap().as_str()), "{at}: {link}");
            assert!(entry.title.is_some() && !entry.authors.is_empty(), "{at}: title, author");
        }
    }
}

// The extra post's title, author and body come back from the feed exactly as written:
// `&`, `<`, quotes and emoji escaped once by the generator, unescaped once by the reader.
#[test]
fn a_title_with_ampersand_angle_bracket_and_emoji_survives_the_feed_round_trip() {
    let site = build("https://buurtbord.example/");
    let feeds = feeds(&site.out());
    let in_feeds: Vec<_> = feeds
        .iter()
        .filter_map(|(path, feed)| {
            let entry = feed.entries.iter().find(|e| e.id.ends_with(TRICKY_ID))?;
            Some((path, entry))
        })
        .collect();
    let paths: Vec<_> = in_feeds.iter().map(|(path, _)| path.as_str()).collect();
    for expected in ["atom.xml", "hulpvragen/atom.xml", "gemeente/huizen/atom.xml"] {
        assert!(paths.contains(&expected), "the post is in {expected}: {paths:?}");
    }
    for (path, entry) in in_feeds {
        assert_eq!(entry.title.as_ref().unwrap().content, TRICKY_TITLE, "{path}");
        assert_eq!(entry.authors[0].name, "Truus & Co <test>", "{path}");
        assert_eq!(entry.published, Some(site.tricky_date.with_timezone(&Utc)), "{path}");
        let html = entry.content.as_ref().and_then(|c| c.body.as_deref()).unwrap_or_default();
        assert!(html.contains("Vijf &amp; zes &lt; zeven, en een 🌷 erbij."), "{path}: {html}");
    }
}

// At the domain root every internal `href` and `src` of every page is a built file.
#[test]
fn every_internal_link_and_asset_of_the_sample_site_resolves_at_the_root() {
    let site = build("https://buurtbord.example/");
    assert_eq!(broken_references(&site), Vec::<String>::new());
}

// Under a sub-path every internal `href` and `src` stays under it and is a built file.
#[test]
fn every_internal_link_and_asset_of_the_sample_site_resolves_under_a_sub_path() {
    let site = build("https://gemeente.example/buurtbord/");
    assert_eq!(broken_references(&site), Vec::<String>::new());
}

/// Every `atom.xml` under `out`, by path relative to it, parsed by feed-rs. A feed or
/// entry without an `<id>` would get one made up by feed-rs; the generator below marks it.
fn feeds(out: &Path) -> Vec<(String, Feed)> {
    let mut feeds = Vec::new();
    for path in files(out).into_iter().filter(|p| p.ends_with("atom.xml")) {
        let xml = std::fs::read(out.join(&path)).unwrap();
        let parser = feed_rs::parser::Builder::new()
            .id_generator(|_, _, _| "no id in the feed".to_owned())
            .build();
        let feed = parser.parse(xml.as_slice()).unwrap_or_else(|e| panic!("{path}: {e}"));
        feeds.push((path, feed));
    }
    feeds
}

/// Each `href` and `src` on every page that points into the site (the base URL's origin
/// and path) but at no built file, as `page: reference`. The function's own routes (the
/// submission form, the lost-link page, the response and report forms) are not files and
/// are left out; so are other origins and schemes.
fn broken_references(site: &Built) -> Vec<String> {
    let out = site.out();
    let function_path = |path: &str| {
        let rel = path.strip_prefix(site.base.path()).unwrap_or(path);
        rel == "plaatsen"
            || rel == "link-kwijt"
            || rel.starts_with("reageren/")
            || rel.starts_with("melden/")
    };
    let selector = Selector::parse("[href], [src]").unwrap();
    let (mut checked, mut broken) = (0, Vec::new());
    for page in files(&out).into_iter().filter(|p| p.ends_with(".html")) {
        let page_url = site.base.join(&page).unwrap();
        let html = Html::parse_document(&std::fs::read_to_string(out.join(&page)).unwrap());
        for element in html.select(&selector) {
            for attr in ["href", "src"] {
                let Some(reference) = element.value().attr(attr) else { continue };
                let Ok(target) = page_url.join(reference) else {
                    broken.push(format!("{page}: {reference} is not a URL"));
                    continue;
                };
                if target.origin() != site.base.origin() || function_path(target.path()) {
                    continue;
                }
                checked += 1;
                match target.path().strip_prefix(site.base.path()) {
                    Some(rel) if out.join(file_of(rel)).is_file() => {}
                    Some(_) => broken.push(format!("{page}: {reference}")),
                    None => broken.push(format!("{page}: {reference} is outside the base path")),
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} internal references were found");
    broken
}

/// The file behind a URL path relative to the base: a folder means its `index.html`.
fn file_of(rel: &str) -> String {
    let rel = percent_decode(rel);
    if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel }
}

/// `%xx` escapes back to bytes, as a static file server maps a URL path to a file name.
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).expect("paths are UTF-8")
}

/// Every file under `dir`, relative to it with `/` separators, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
