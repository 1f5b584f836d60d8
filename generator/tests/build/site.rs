//! The site as a whole: determinism, the sub-path base URL, and a link checker that
//! follows every internal link and asset of every page to a file in the output.

use crate::atom::{parse_feed, sitemap_locs};
use crate::fixture::{Fixture, files_in, post};
use crate::html::references;

/// A site with posts of both kinds in both municipalities and both categories, some
/// pages, and page size 2, so every kind of page and link exists.
fn busy_site() -> Fixture {
    let mut site = Fixture::new()
        .page_size(2)
        .page("over-ons", "Over ons", "Wie we zijn. [Contact](mailto:info@example.org)")
        .page("hoe-werkt-het", "Hoe werkt het", "Zo werkt het.");
    let places = ["asby", "huizen"];
    let categories = ["garden", "moving"];
    for i in 0..12 {
        let p = post(&format!("bb{i:02}"))
            .title(&format!("Bericht nummer {i} – Åsby & co"))
            .raw("kind", if i % 3 == 0 { "request" } else { "offer" })
            .set("municipality", places[i % 2])
            .set("category", categories[(i / 2) % 2])
            .raw("date", &format!("2025-06-0{}T1{}:00:00+02:00", 1 + i % 5, i % 10))
            .body(&format!("Tekst {i}.\n\n[Meer info](https://example.org/info?i={i}&x=y)"));
        site = site.post(p);
    }
    site
}

// Two builds of the same content into different folders are byte-identical, every file.
#[test]
fn two_builds_into_different_folders_are_byte_identical() {
    let site = busy_site();
    let (a, b) = (site.root().join("a"), site.root().join("b"));
    generator::build(&site.options(&a)).unwrap();
    generator::build(&site.options(&b)).unwrap();
    let (a, b) = (files_in(&a), files_in(&b));
    assert!(a.len() > 40, "{} files", a.len());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{path} differs between builds");
    }
}

/// The fixture's `submission_endpoint`, relative to the base path.
const FUNCTION_FORM: &str = "plaatsen?";
/// Pages the submission function serves under the base path (the lost-link page), which
/// the static site links to but does not build.
const FUNCTION_PAGES: [&str; 1] = ["link-kwijt"];

/// Every reference in every HTML file that is internal to `base` (a path under its
/// path, or an absolute URL under it), checked to be a file in the output; references
/// that are neither must be external `https:`/`mailto:` links from content or a
/// fragment on the same page.
fn broken_links(site: &Fixture, base: &str) -> Vec<String> {
    let mut checked = 0;
    let origin_end = base.find("://").map(|i| i + 3 + base[i + 3..].find('/').unwrap()).unwrap();
    let (origin, base_path) = base.split_at(origin_end);
    let mut broken = Vec::new();
    for (file, page) in site.html_files() {
        for reference in references(&page) {
            let path = reference.strip_prefix(origin).unwrap_or(&reference);
            // The form links go to the submission function, which serves its own route.
            if path.strip_prefix(base_path).is_some_and(|rel| rel.starts_with(FUNCTION_FORM)) {
                let kind = path.split_once("?kind=").map(|(_, kind)| kind);
                if !matches!(kind, Some("request" | "offer")) {
                    broken.push(format!("{file}: {reference} names no kind"));
                }
                continue;
            }
            if path.strip_prefix(base_path).is_some_and(|rel| FUNCTION_PAGES.contains(&rel)) {
                continue;
            }
            let path = path.split(['#', '?']).next().unwrap();
            if let Some(rel) = path.strip_prefix(base_path) {
                checked += 1;
                if !site.exists(&format!("/{rel}")) {
                    broken.push(format!("{file}: {reference}"));
                }
            } else if !(reference.starts_with('#') || is_external(&reference, origin)) {
                broken.push(format!("{file}: {reference} is outside {base}"));
            }
        }
    }
    assert!(checked > 500, "only {checked} internal references were found");
    broken
}

/// The links [`busy_site`]'s content itself writes, on another origin than the site's.
fn is_external(reference: &str, origin: &str) -> bool {
    !reference.starts_with(origin)
        && ["https://example.org/info", "mailto:"].iter().any(|e| reference.starts_with(e))
}

// At the domain root every internal link and asset resolves to a built file.
#[test]
fn every_internal_link_resolves_at_the_domain_root() {
    let site = busy_site().base_url("https://example.net/").build();
    let broken = broken_links(&site, "https://example.net/");
    assert_eq!(broken, Vec::<String>::new());
}

// Under a sub-path every internal link and asset carries the sub-path and resolves.
#[test]
fn every_internal_link_resolves_and_carries_the_sub_path() {
    let site = busy_site().base_url("https://example.net/buurtbord/").build();
    let broken = broken_links(&site, "https://example.net/buurtbord/");
    assert_eq!(broken, Vec::<String>::new());
}

// Under a sub-path the form posts under it, and feeds, sitemap and robots.txt use
// absolute URLs under it.
#[test]
fn sub_path_base_url_reaches_forms_feeds_sitemap_and_robots() {
    let base = "https://example.net/buurtbord/";
    let site = busy_site().base_url(base).build();

    let form = site.read("/vraag-hulp/");
    assert!(form.contains(r#"action="/buurtbord/plaatsen""#), "form action");
    for (path, xml) in site.feeds() {
        let feed = parse_feed(&path, &xml);
        assert_eq!(feed.self_link, format!("{base}{path}"));
        for entry in feed.entries {
            assert!(entry.link.starts_with(&format!("{base}bericht/")), "{path}: {}", entry.link);
        }
    }
    let locs = sitemap_locs(&site.read("/sitemap.xml"));
    assert!(!locs.is_empty() && locs.iter().all(|l| l.starts_with(base)), "{locs:?}");
    let robots = site.read("/robots.txt");
    assert!(robots.contains(&format!("Sitemap: {base}sitemap.xml")), "{robots}");
    assert!(robots.contains("Disallow: /buurtbord/beheer/"), "{robots}");
}

// The output holds no contact details: no e-mail address outside a mailto link the
// content itself wrote, and no phone number.
#[test]
fn output_has_no_email_or_phone_except_links_written_in_content() {
    let site = busy_site().build();
    for (path, bytes) in site.files() {
        let text = String::from_utf8_lossy(&bytes);
        for (i, _) in text.match_indices('@') {
            let before = &text[..i];
            let word_start = before
                .rfind(|c: char| !(c.is_alphanumeric() || ".-_+:".contains(c)))
                .map_or(0, |s| s + 1);
            let word = &text[word_start..i];
            let is_css_rule = path.ends_with(".css") && word.is_empty();
            assert!(is_css_rule || word == "mailto:info", "{path}: address-like `{word}@…`");
        }
        // A Dutch number has ten digits from a leading 0, often with one hyphen.
        for run in text.split(|c: char| !c.is_ascii_digit() && c != '-') {
            let count = run.chars().filter(char::is_ascii_digit).count();
            assert!(count != 10 || !run.starts_with('0'), "{path}: phone-like `{run}`");
        }
        assert!(!text.contains("+31"), "{path}: phone-like +31");
    }
}

/// Builds `site` into `out/` and into a new folder, and asserts both hold the same files.
fn assert_same_as_fresh_build(site: &Fixture, round: usize) {
    site.try_build().unwrap_or_else(|e| panic!("round {round}: {e}"));
    let fresh = site.root().join(format!("fresh-{round}"));
    generator::build(&site.options(&fresh)).unwrap();
    let (online, fresh) = (files_in(&site.out()), files_in(&fresh));
    assert_eq!(
        online.keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>(),
        "round {round}: the rebuilt site has other files than a fresh build"
    );
    for (path, bytes) in &online {
        assert!(bytes == &fresh[path], "round {round}: {path} differs from a fresh build");
    }
}

// A build into a folder that is already online writes into the site it replaced last
// time (kept beside it); whatever that held, the result is exactly a fresh build: stale
// pages gone, changed ones rewritten, and a folder where a file belongs (or the reverse)
// cleared away.
#[test]
fn rebuilding_an_online_site_gives_exactly_a_fresh_build() {
    let mut site = busy_site();
    assert_same_as_fresh_build(&site, 0);
    site = site.remove("posts/bb03.md").remove("posts/bb07.md");
    site =
        site.post(post("bb01").title("Een nieuwe titel voor nummer één").set("category", "garden"));
    assert_same_as_fresh_build(&site, 1);

    let previous = site.root().join(".out.previous");
    assert!(previous.is_dir(), "the replaced site is not kept for the next build");
    std::fs::write(previous.join("stale.html"), "oud").unwrap();
    std::fs::remove_file(previous.join("index.html")).unwrap();
    std::fs::create_dir_all(previous.join("index.html/deeper")).unwrap();
    std::fs::remove_dir_all(previous.join("bericht")).unwrap();
    std::fs::write(previous.join("bericht"), "a file where a folder belongs").unwrap();
    site = site.post(post("bb03").title("Terug van weggeweest"));
    assert_same_as_fresh_build(&site, 2);

    for i in 20..26 {
        site = site.post(post(&format!("bb{i}")).set("municipality", "asby"));
    }
    assert_same_as_fresh_build(&site, 3);
    assert_same_as_fresh_build(&site, 4);
}

// Whatever was put into the kept previous site or in place of the lock file, a rebuild
// writes nothing outside the output and gives exactly a fresh build: a linked folder, a
// file with a second name elsewhere, a link to a file with the right bytes, a pipe, and
// files or folders nobody may read are all replaced.
#[cfg(target_os = "linux")]
#[test]
fn a_rebuild_writes_only_inside_the_site_whatever_the_previous_site_holds() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let site = busy_site();
    assert_same_as_fresh_build(&site, 0);
    assert_same_as_fresh_build(&site, 1);
    let previous = site.root().join(".out.previous");
    let outside = site.root().join("outside");
    std::fs::create_dir_all(outside.join("huizen")).unwrap();
    std::fs::remove_dir_all(previous.join("gemeente")).unwrap();
    symlink(&outside, previous.join("gemeente")).unwrap();
    let victim = outside.join("victim.txt");
    std::fs::write(&victim, "niet aankomen").unwrap();
    std::fs::remove_file(previous.join("index.html")).unwrap();
    std::fs::hard_link(&victim, previous.join("index.html")).unwrap();
    let same = outside.join("robots.txt");
    std::fs::copy(site.out().join("robots.txt"), &same).unwrap();
    std::fs::remove_file(previous.join("robots.txt")).unwrap();
    symlink(&same, previous.join("robots.txt")).unwrap();
    std::fs::remove_file(previous.join("404.html")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &previous.join("404.html"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    std::fs::set_permissions(previous.join("sitemap.xml"), std::fs::Permissions::from_mode(0))
        .unwrap();
    std::fs::set_permissions(previous.join("bericht"), std::fs::Permissions::from_mode(0o500))
        .unwrap();
    let lock = site.root().join(".out.lock");
    let lock_victim = outside.join("lock-victim.txt");
    std::fs::write(&lock_victim, "ook niet").unwrap();
    std::fs::remove_file(&lock).unwrap();
    symlink(&lock_victim, &lock).unwrap();

    assert_same_as_fresh_build(&site, 2);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "niet aankomen");
    assert_eq!(std::fs::read_to_string(&lock_victim).unwrap(), "ook niet");
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        4,
        "nothing new outside the site: {:?}",
        std::fs::read_dir(&outside).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>()
    );
    for (path, meta) in walk(&site.out()) {
        assert!(!meta.file_type().is_symlink(), "{path:?} is a link");
        let mode = meta.permissions().mode() & 0o777;
        assert!(mode & 0o444 == 0o444, "{path:?} is not readable by all: {mode:o}");
    }
}

// An output folder that holds something else than a site (a project, a home folder) is
// refused before anything is written, and its files stay.
#[test]
fn a_folder_with_other_files_is_refused_as_output() {
    let site = busy_site();
    let folder = site.root().join("mijn-documenten");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("brief.txt"), "belangrijk").unwrap();
    let error = generator::build(&site.options(&folder)).unwrap_err().to_string();
    assert!(error.contains("mijn-documenten") && error.contains("not empty"), "{error}");
    assert_eq!(std::fs::read_to_string(folder.join("brief.txt")).unwrap(), "belangrijk");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
}

/// Every entry under `dir` with its metadata, links not followed.
#[cfg(target_os = "linux")]
fn walk(dir: &std::path::Path) -> Vec<(std::path::PathBuf, std::fs::Metadata)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            found.extend(walk(&path));
        }
        found.push((path, meta));
    }
    found
}
