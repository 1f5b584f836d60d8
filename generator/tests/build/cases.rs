//! The handed cases in `tests/cases` (a copy of the team's `shared/cases`) that concern
//! content files or rendering, each as tests named after it. The case files are read as bytes and copied unchanged into
//! the fixture's `posts/` folder; their `category: garden` and `municipality: "Åsby"`
//! exist in the fixture's site.yaml.

use std::collections::BTreeSet;

use crate::atom::{parse_feed, sitemap_locs};
use crate::fixture::{Fixture, case, post};
use crate::html::{self, parse, select, text_of, unsafe_markup};

/// The path of every post page in a built site, as `bericht/<slug>`.
fn post_dirs(site: &Fixture) -> BTreeSet<String> {
    site.files()
        .into_keys()
        .filter_map(|p| p.strip_suffix("/index.html").map(String::from))
        .filter(|p| p.starts_with("bericht/"))
        .collect()
}

/// The titles of the cards on a listing page.
fn card_titles(page: &str) -> Vec<String> {
    let doc = parse(page);
    select(&doc, "article.card .card-title")
        .iter()
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

/// Feed `path`'s entry with this alternate link ending.
fn feed_entry(site: &Fixture, path: &str, url_end: &str) -> crate::atom::Entry {
    let feed = parse_feed(path, &site.read(path));
    feed.entries.into_iter().find(|e| e.link.ends_with(url_end)).expect("the post is in the feed")
}

// C01: emoji in a title reach the page title, the listing and the feed; no URL or file
// name carries one.
#[test]
fn c01_emoji_title_shows_everywhere_but_no_url_or_file_name_has_emoji() {
    let site = Fixture::new().case_post("C01/post-emoji.md").build();
    let title = "Cool trick \u{1F600} for stuck jars";

    // The emoji separates words and adds none (deunicode would spell it out).
    assert_eq!(post_dirs(&site), BTreeSet::from(["bericht/cool-trick-for-stuck-jars".into()]));
    let page = site.read("/bericht/cool-trick-for-stuck-jars/");
    assert_eq!(text_of(&parse(&page), "title"), format!("{title} – Buurtbord Test & Co"));
    assert_eq!(text_of(&parse(&page), "h1"), title);
    assert!(page.contains("Works every time \u{1F44D}\u{1F3FD}."), "skin tone kept");
    assert_eq!(card_titles(&site.read("/hulpaanbod/")), [title]);
    assert_eq!(feed_entry(&site, "/atom.xml", "/").title, title);

    for path in site.files().keys() {
        assert!(path.is_ascii(), "file name with non-ASCII: {path}");
    }
    for (path, page) in site.html_files() {
        for href in html::references(&page) {
            assert!(href.is_ascii(), "{path}: link {href}");
        }
    }
}

// C02: a file saved on a Mac (NFD title and municipality) lands on the same single
// municipality listing as an NFC post, and shows NFC text.
#[test]
fn c02_nfd_front_matter_lands_on_the_one_nfc_municipality_listing() {
    let site = Fixture::new()
        .case_post("C02/post-nfd-front-matter.md")
        .post(post("nfc").title("Tuinhulp in Åsby").set("municipality", "Åsby"))
        .build();

    let listing = site.read("/gemeente/asby/");
    let mut titles = card_titles(&listing);
    titles.sort();
    assert_eq!(titles, ["Café volunteers needed in Åsby", "Tuinhulp in Åsby"]);
    assert!(!listing.contains("e\u{301}") && !listing.contains("A\u{30a}"), "NFD in output");
    assert!(site.exists("/bericht/cafe-volunteers-needed-in-asby/"));

    let municipalities: BTreeSet<String> = site
        .files()
        .into_keys()
        .filter_map(|p| {
            p.strip_prefix("gemeente/").map(|r| r.split('/').next().unwrap().to_string())
        })
        .collect();
    assert_eq!(municipalities, BTreeSet::from(["asby".into(), "huizen".into()]));
}

// C04: only the first closing `---` ends the front matter: later rules and a fake
// metadata block stay in the body, render as <hr> and a setext heading, and the title
// with ` --- ` inside is intact.
#[test]
fn c04_later_dashes_stay_in_the_body_as_rules_and_a_setext_heading() {
    let site = Fixture::new().case_post("C04/post-body-rules.md").build();
    let page = site.read("/bericht/garage-clear-out-everything-must-go/");
    let doc = parse(&page);

    assert_eq!(text_of(&doc, "h1"), "Garage clear-out --- everything must go");
    assert_eq!(select(&doc, ".post-body hr").len(), 2, "two thematic breaks");
    let headings: Vec<String> = select(&doc, ".post-body h2, .post-body h3")
        .iter()
        .map(|h| h.text().collect::<String>())
        .collect();
    assert_eq!(headings, ["title: not metadata"]);
    let body = text_of(&doc, ".post-body");
    assert!(body.starts_with("Intro.") && body.contains("Middle part.") && body.ends_with("End."));
}

// C05: a hand-edited title with an unquoted `: ` is invalid YAML; the build fails naming
// the file and the title's line, and writes nothing.
#[test]
fn c05_hand_edited_invalid_yaml_fails_naming_file_and_line() {
    let site = Fixture::new().case_post("C05/post-hand-edited-invalid.md");
    let errors = site.build_errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let expected =
        format!("{}:3: ", site.content().join("posts/post-hand-edited-invalid.md").display());
    assert!(errors[0].starts_with(&expected), "{errors:#?}");
    assert!(!site.out().exists(), "a failed first build wrote output");
}

// C05: titles and names that YAML 1.1 would read as booleans, numbers, dates or null,
// written quoted, show literally on the page, in listings and in the feed.
#[test]
fn c05_quoted_special_scalars_render_literally_in_page_listing_and_feed() {
    let titles = String::from_utf8(case("C05/titles.txt")).unwrap();
    let titles: Vec<&str> = titles.lines().collect();
    let mut site = Fixture::new().page_size(100);
    for (i, title) in titles.iter().enumerate() {
        // Half of them requests, so each kind's feed holds all of its posts.
        let kind = if i % 2 == 0 { "offer" } else { "request" };
        let p = post(&format!("t{i:02}")).title(title).set("display_name", title).raw("kind", kind);
        site = site.post(p.set("slug", &format!("t{i:02}")));
    }
    let site = site.build();

    let listing = card_titles(&site.read("/categorie/garden/"));
    let mut entries = parse_feed("offers", &site.read("/hulpaanbod/atom.xml")).entries;
    entries.extend(parse_feed("requests", &site.read("/hulpvragen/atom.xml")).entries);
    assert_eq!((listing.len(), entries.len()), (titles.len(), titles.len()));
    for (i, raw) in titles.iter().enumerate() {
        // In one-line fields a tab becomes a space (docs/content-format.md): `tab\there`
        // shows as `tab here`; every other line is shown exactly as written.
        let title = &raw.replace('\t', " ");
        let page = site.read(&format!("/bericht/t{i:02}/"));
        let doc = parse(&page);
        assert_eq!(&text_of(&doc, "h1"), title);
        let name = select(&doc, ".facts dd").iter().map(|d| d.text().collect::<String>()).nth(3);
        assert_eq!(name.as_ref(), Some(title), "display name of {title:?}");
        assert!(listing.iter().any(|t| t == title), "{title:?} not in the listing");
        let entry = entries.iter().find(|e| e.link.ends_with(&format!("/t{i:02}/"))).unwrap();
        assert_eq!((&entry.title, &entry.authors[0]), (title, title));
    }
}

/// Checks a post page, its listing card and its feed entry for unsafe markup.
fn assert_safe_everywhere(site: &Fixture, post_path: &str) {
    let page = site.read(post_path);
    assert_eq!(unsafe_markup(&page, "main"), Vec::<String>::new(), "{post_path}");
    assert_eq!(unsafe_markup(&site.read("/hulpaanbod/"), "main"), Vec::<String>::new());
    for (path, xml) in site.feeds() {
        for entry in parse_feed(&path, &xml).entries {
            let html = entry.content_html.unwrap_or_default();
            assert_eq!(unsafe_markup(&html, "body"), Vec::<String>::new(), "{path}");
        }
    }
    // The theme needs no script, so no page may have any.
    for (path, page) in site.html_files() {
        assert!(select(&parse(&page), "script, iframe, object, embed").is_empty(), "{path}");
    }
}

/// True if `html`, sanitised again by a stock ammonia (with our `rel`), is unchanged:
/// the output is already a fixed point of a sanitiser, so no mutation is left to make.
fn is_fixed_point_of_ammonia(html: &str) -> bool {
    let again = ammonia::Builder::default().link_rel(Some("nofollow ugc noopener")).clean(html);
    again.to_string() == html
}

// C06: javascript: links (inline, autolink, raw anchor) and raw script, iframe, form and
// object in a hand-edited post never reach the page, the listing or the feed; their text
// stays visible and the safe links keep working.
#[test]
fn c06_script_links_and_raw_html_are_neutralised_and_safe_links_kept() {
    let site = Fixture::new().case_post("C06/post.md").build();
    let path = "/bericht/schedule-for-the-garden-day/";
    assert_safe_everywhere(&site, path);

    let page = site.read(path);
    let doc = parse(&page);
    let body = text_of(&doc, ".post-body");
    for visible in
        ["Click for the schedule", "raw anchor", "Log in", "<script>alert('raw')</script>"]
    {
        assert!(body.contains(visible), "{visible:?} not shown in {body}");
    }
    let links: Vec<(String, String)> = select(&doc, ".post-body a[href]")
        .iter()
        .map(|a| {
            (a.value().attr("href").unwrap().into(), a.value().attr("rel").unwrap_or("").into())
        })
        .collect();
    let hrefs: Vec<&str> = links.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        hrefs,
        [
            "https://example.org/schedule",
            "https://example.org/a?b=1&c=2",
            "mailto:resident-a@example.org"
        ]
    );
    for (href, rel) in &links {
        let rel: BTreeSet<&str> = rel.split_whitespace().collect();
        assert!(
            rel.is_superset(&BTreeSet::from(["nofollow", "ugc", "noopener"])),
            "{href}: {rel:?}"
        );
    }
    assert!(page.contains(r#"href="https://example.org/a?b=1&amp;c=2""#), "& not escaped once");
    let body_html = select(&doc, ".post-body")[0].inner_html();
    assert!(is_fixed_point_of_ammonia(body_html.trim()), "{body_html}");
}

// C08: event handlers, style attributes, attribute break-out from image titles and
// SVG/MathML payloads in a body never become markup; the sanitised body is stable.
#[test]
fn c08_event_handlers_styles_and_svg_math_payloads_are_neutralised() {
    let body = String::from_utf8(case("C08/body.md")).unwrap();
    let site = Fixture::new().post(post("c08").title("Attribute tricks").body(&body)).build();
    let path = "/bericht/attribute-tricks/";
    assert_safe_everywhere(&site, path);

    let page = site.read(path);
    let doc = parse(&page);
    let scripted: Vec<String> = select(&doc, "*")
        .iter()
        .flat_map(|e| e.value().attrs().map(|(_, v)| v.to_lowercase()))
        .filter(|v| v.contains("javascript:"))
        .collect();
    assert_eq!(scripted, Vec::<String>::new(), "a payload survived in an attribute");
    let text = text_of(&doc, ".post-body");
    assert!(text.contains("<svg/onload=alert(3)//"), "link text shown as text: {text}");
    assert!(text.contains("tap here") && text.contains("styled"), "{text}");
    let body_html = select(&doc, ".post-body")[0].inner_html();
    assert!(is_fixed_point_of_ammonia(body_html.trim()), "{body_html}");
}

fn c15_site(now: &str) -> Fixture {
    Fixture::new()
        .case_post("C15/post-date-only.md")
        .case_post("C15/post-no-offset.md")
        .case_post("C15/post-with-offset.md")
        .now(now)
}

const C15_SLUGS: [&str; 3] = ["lawnmower-to-lend", "ladder-to-lend", "wheelbarrow-to-lend"];

// C15: date-only and offset-less dates are read in Europe/Amsterdam: at 00:45 local on
// 1 June (22:45 UTC on 31 May) all three posts are published and dated "1 juni 2025",
// and `expires: 2025-06-30` lasts to the end of that local day.
#[test]
fn c15_local_dates_publish_at_first_build_and_show_1_juni() {
    let site = c15_site("2025-05-31T22:45:00Z").build();
    for slug in C15_SLUGS {
        let doc = parse(&site.read(&format!("/bericht/{slug}/")));
        let times: Vec<(String, String)> = select(&doc, ".facts time")
            .iter()
            .map(|t| (t.value().attr("datetime").unwrap().into(), t.text().collect()))
            .collect();
        assert_eq!(times[0].1, "1 juni 2025", "{slug}");
        assert!(
            times[0].0.starts_with("2025-06-01T00:") && times[0].0.ends_with("+02:00"),
            "{slug}: {times:?}"
        );
        assert_eq!(times[1], ("2025-06-30T23:59:59+02:00".into(), "30 juni 2025".into()), "{slug}");
    }
    assert_eq!(parse_feed("atom.xml", &site.read("/atom.xml")).entries.len(), 3);
}

// C15: the posts stay up through 23:59 local on 30 June and are gone from every page,
// listing, feed and the sitemap at the second build, 00:10 local on 1 July.
#[test]
fn c15_expiry_ends_at_local_midnight_not_utc() {
    let late = c15_site("2025-06-30T21:59:00Z").build();
    assert_eq!(parse_feed("atom.xml", &late.read("/atom.xml")).entries.len(), 3, "23:59 local");

    let site = c15_site("2025-06-30T22:10:00Z").build();
    assert!(post_dirs(&site).is_empty(), "{:?}", post_dirs(&site));
    assert!(card_titles(&site.read("/hulpaanbod/")).is_empty());
    for (path, xml) in site.feeds() {
        assert!(parse_feed(&path, &xml).entries.is_empty(), "{path}");
    }
    let locs = sitemap_locs(&site.read("/sitemap.xml"));
    assert!(locs.iter().all(|l| !l.contains("/bericht/")), "{locs:?}");
}

/// Set by [`c15_output_does_not_depend_on_the_machine_time_zone`] for its child runs.
const PROBE_OUT: &str = "BUURTBORD_TEST_PROBE_OUT";

// Helper for the test below: builds the C15 site into $BUURTBORD_TEST_PROBE_OUT; does
// nothing when run on its own.
#[test]
#[ignore = "run as a child process by c15_output_does_not_depend_on_the_machine_time_zone"]
fn c15_probe_build_in_child_process() {
    let Ok(out) = std::env::var(PROBE_OUT) else { return };
    let site = c15_site("2025-05-31T22:45:00Z");
    generator::build(&site.options(std::path::Path::new(&out))).expect("the probe builds");
}

// C15: the machine's TZ never leaks into the output: builds in child processes with
// TZ=UTC, Pacific/Auckland and America/Los_Angeles give byte-identical sites.
#[test]
fn c15_output_does_not_depend_on_the_machine_time_zone() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sites = Vec::new();
    for tz in ["UTC", "Pacific/Auckland", "America/Los_Angeles"] {
        let out = tmp.path().join(tz.replace('/', "-"));
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "cases::c15_probe_build_in_child_process", "--ignored", "--quiet"])
            .env("TZ", tz)
            .env(PROBE_OUT, &out)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "probe with TZ={tz} failed");
        sites.push((tz, crate::fixture::files_in(&out)));
    }
    assert!(sites[0].1.len() > 10, "the probe built a site");
    for (tz, files) in &sites[1..] {
        assert!(files == &sites[0].1, "TZ={tz} changed the output");
    }
}

/// The C17 fixture: the case's `n<count>` folder copied into `posts/`, page size 2.
fn c17_site(count: usize) -> Fixture {
    let dir = std::path::Path::new(crate::fixture::CASES).join(format!("C17/n{count}"));
    let mut site = Fixture::new().page_size(2);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        site = site
            .post_file(&path.file_name().unwrap().to_string_lossy(), std::fs::read(&path).unwrap());
    }
    site
}

/// The listings every C17 post is on.
const C17_LISTINGS: [&str; 4] =
    ["/hulpaanbod/", "/categorie/garden/", "/gemeente/asby/", "/gemeente/asby/hulpaanbod/"];

// C17: with page size 2, listings of 0, 1, 2, 4 and 5 posts get 1, 1, 1, 2 and 3 pages;
// never an empty extra page, never /pagina/1/; prev/next only where they lead somewhere;
// every post on exactly one page, newest first.
#[test]
fn c17_pagination_has_exact_page_counts_and_links_at_the_edges() {
    for (count, pages) in [(0, 1), (1, 1), (2, 1), (4, 2), (5, 3)] {
        let site = c17_site(count).build();
        for root in C17_LISTINGS {
            assert!(!site.exists(&format!("{root}pagina/1/")), "{root} has /pagina/1/");
            assert!(
                !site.exists(&format!("{root}pagina/{}/", pages + 1)),
                "{count}: {root} extra page"
            );
            let mut seen = Vec::new();
            for n in 1..=pages {
                let path = if n == 1 { root.to_string() } else { format!("{root}pagina/{n}/") };
                let page = site.read(&path);
                let doc = parse(&page);
                let rel = |r: &str| {
                    select(&doc, &format!("a[rel={r}]"))
                        .first()
                        .map(|a| a.value().attr("href").unwrap().to_string())
                };
                let link = |k: usize| {
                    if k == 1 { root.to_string() } else { format!("{root}pagina/{k}/") }
                };
                assert_eq!(rel("prev"), (n > 1).then(|| link(n - 1)), "{count}: {path} prev");
                assert_eq!(rel("next"), (n < pages).then(|| link(n + 1)), "{count}: {path} next");
                if pages > 1 {
                    assert!(page.contains(&format!("pagina {n} van {pages}")), "{count}: {path}");
                }
                let titles = card_titles(&page);
                assert_eq!(titles.len(), if n < pages { 2 } else { count - 2 * (pages - 1) });
                seen.extend(titles);
            }
            assert_eq!(seen, c17_titles_newest_first(count), "{count}: {root} order");
        }
    }
}

/// The C17 posts' titles, by their number in the file name (`post-<i>.md`).
const C17_TITLES: [&str; 5] = [
    "Borrow a lawnmower",
    "Hedge trimming help",
    "Seedlings to give away",
    "Compost bin wanted",
    "Watering while on holiday",
];

fn c17_titles_newest_first(count: usize) -> Vec<String> {
    C17_TITLES[..count].iter().rev().map(|t| t.to_string()).collect()
}

// C17: an empty listing still has its page, with a friendly text, and its feed is a
// well-formed Atom feed without entries; so every menu link leads somewhere.
#[test]
fn c17_empty_listing_has_a_friendly_page_and_a_well_formed_empty_feed() {
    let site = c17_site(0).build();
    for root in C17_LISTINGS.iter().chain(&["/categorie/moving/", "/gemeente/huizen/"]) {
        let doc = parse(&site.read(root));
        assert!(card_titles(&site.read(root)).is_empty());
        assert!(!text_of(&doc, ".empty").is_empty(), "{root}: no friendly text");
    }
    for feed in ["/atom.xml", "/hulpaanbod/atom.xml", "/gemeente/asby/atom.xml"] {
        let parsed = parse_feed(feed, &site.read(feed));
        assert!(parsed.entries.is_empty(), "{feed}");
    }
}

// C17: going from 5 to 4 posts and rebuilding into the same folder removes the stale
// third page from the output and from the sitemap.
#[test]
fn c17_rebuild_after_removing_a_post_drops_the_stale_last_page() {
    let site = c17_site(5).build();
    assert!(site.exists("/hulpaanbod/pagina/3/"));
    let site = site.remove("posts/post-5.md").build();
    for root in C17_LISTINGS {
        assert!(!site.exists(&format!("{root}pagina/3/")), "{root}pagina/3/ is stale");
        assert!(site.exists(&format!("{root}pagina/2/")));
    }
    let locs = sitemap_locs(&site.read("/sitemap.xml"));
    assert!(locs.iter().all(|l| !l.contains("pagina/3")), "{locs:?}");
    assert!(!site.exists("/bericht/watering-while-on-holiday/"));
}

const C18_EXISTING: &str = "C18/content-existing/requests/need-help-moving-a-sofa.md";

// C18: two files that map to the same post URL stop the build, and the error names both
// files; neither silently overwrites the other.
#[test]
fn c18_two_posts_with_one_slug_fail_naming_both_files() {
    let site = Fixture::new().case_post(C18_EXISTING).post(
        post("01JX00000000000000000000J2")
            .title("Need help moving a sofa")
            .set("category", "moving"),
    );
    let errors = site.build_errors();
    let both = errors.iter().find(|e| {
        e.contains("need-help-moving-a-sofa.md") && e.contains("01JX00000000000000000000J2.md")
    });
    assert!(both.is_some(), "no error names both files: {errors:#?}");
    assert!(!site.out().exists());
}

// C18: titles whose natural slug is a path the generator, the function or Windows owns
// get a slug that is valid and not reserved, and every post gets its own page.
#[test]
fn c18_reserved_titles_get_their_own_non_reserved_slugs() {
    let titles = String::from_utf8(case("C18/reserved-titles.txt")).unwrap();
    let titles: Vec<&str> = titles.lines().collect();
    let mut site = Fixture::new();
    for (i, title) in titles.iter().enumerate() {
        site = site.post(post(&format!("reserved{i:02}")).title(title));
    }
    let site = site.build();

    let dirs = post_dirs(&site);
    assert_eq!(dirs.len(), titles.len(), "{dirs:?}");
    let reserved = [
        "page",
        "pagina",
        "feed",
        "atom",
        "atom-xml",
        "index",
        "index-html",
        "new",
        "sitemap",
        "sitemap-xml",
        "category",
        "categorie",
        "municipality",
        "gemeente",
        "requests",
        "offers",
        "hulpvragen",
        "hulpaanbod",
        "static",
        "assets",
        "thanks",
        "submit",
        "moderation",
        "con",
        "nul",
        "aux",
        "prn",
        "com1",
        "lpt9",
    ];
    for dir in &dirs {
        let slug = dir.strip_prefix("bericht/").unwrap();
        assert!(generator::slug::is_valid(slug), "{slug:?}");
        assert!(!reserved.contains(&slug), "{slug:?} is reserved");
    }
    for path in ["atom.xml", "sitemap.xml", "index.html", "hulpaanbod/index.html"] {
        assert!(site.files().contains_key(path), "{path} missing");
    }
}

// C18: a moderator retitles a published post whose slug is frozen in front matter; the
// post keeps its URL, shows the new title, and no second copy appears.
#[test]
fn c18_retitled_post_with_frozen_slug_keeps_its_url() {
    let original = String::from_utf8(case(C18_EXISTING)).unwrap();
    let site = Fixture::new().case_post(C18_EXISTING).build();
    assert_eq!(post_dirs(&site), BTreeSet::from(["bericht/need-help-moving-a-sofa".into()]));

    let retitled = original.replace(
        "title: \"Need help moving a sofa\"",
        "title: \"Need help moving a sofa and two chairs\"",
    );
    assert_ne!(retitled, original, "the case file changed shape");
    let site = site.post_file("need-help-moving-a-sofa.md", retitled).build();
    assert_eq!(post_dirs(&site), BTreeSet::from(["bericht/need-help-moving-a-sofa".into()]));
    let doc = parse(&site.read("/bericht/need-help-moving-a-sofa/"));
    assert_eq!(text_of(&doc, "h1"), "Need help moving a sofa and two chairs");
}

// C20: the longest allowed titles in 1-, 2-, 3- and 4-byte scripts give slugs of at
// most 80 bytes and output file names far below 255 bytes.
#[test]
fn c20_long_titles_give_short_slugs_and_file_names() {
    let titles = ["a".repeat(120), "ø".repeat(120), "한".repeat(120), "🚲".repeat(120)];
    let mut site = Fixture::new();
    for (i, title) in titles.iter().enumerate() {
        site = site.post(post(&format!("long{i}")).title(title));
    }
    let site = site.build();

    let dirs = post_dirs(&site);
    assert_eq!(dirs.len(), titles.len(), "{dirs:?}");
    for dir in &dirs {
        let slug = dir.strip_prefix("bericht/").unwrap();
        assert!(!slug.is_empty() && slug.len() <= 80, "{} bytes: {slug}", slug.len());
    }
    for path in site.files().keys() {
        assert!(path.split('/').all(|part| part.len() <= 255), "{path}");
    }
}

// C20: a 150-character Hangul title from the form case is over the 120-character limit:
// the build fails naming the file and the title's line instead of writing a long name.
#[test]
fn c20_title_over_the_limit_fails_naming_the_line() {
    let form = case("C20/form-long-hangul-title.txt");
    let title = url::form_urlencoded::parse(&form)
        .find(|(k, _)| k == "title")
        .map(|(_, v)| v.into_owned())
        .expect("the case has a title");
    assert_eq!(title.chars().count(), 150);
    let site = Fixture::new().post(post("hangul").title(&title));
    let errors = site.build_errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("hangul.md:3: ") && errors[0].contains("120"), "{errors:#?}");
}

// C22: every feed parses strictly and carries the Atom 1.0 essentials; `&`, `<` and
// quotes in titles and names are escaped exactly once; U+000B is gone; entry content is
// escaped HTML, so `]]>` cannot end anything.
#[test]
fn c22_every_feed_is_strict_atom_with_single_escaping() {
    let site = Fixture::new()
        .case_post("C22/post-escaping.md")
        .case_post("C22/post-naive-date.md")
        .build();
    let feeds = site.feeds();
    assert_eq!(feeds.len(), 5, "{:?}", feeds.iter().map(|f| &f.0).collect::<Vec<_>>());
    for (path, xml) in &feeds {
        let feed = parse_feed(path, xml);
        assert!(
            feed.self_link == format!("https://example.org/{path}"),
            "{path}: {}",
            feed.self_link
        );
        assert!(feed.id.starts_with("tag:") && !feed.title.is_empty(), "{path}");
        let newest = feed
            .entries
            .iter()
            .map(|e| chrono::DateTime::parse_from_rfc3339(&e.updated).unwrap())
            .max();
        if let Some(newest) = newest {
            assert_eq!(
                chrono::DateTime::parse_from_rfc3339(&feed.updated).unwrap(),
                newest,
                "{path}"
            );
        }
        assert!(!xml.contains('\u{b}'), "{path} has U+000B");
    }
    for (path, bytes) in site.files() {
        assert!(!bytes.contains(&0x0b), "{path} has U+000B");
    }

    let entry = feed_entry(&site, "/atom.xml", "/bericht/tools-ladders-free-today-only/");
    assert_eq!(entry.title, r#"Tools & ladders <free> "today" only"#);
    assert_eq!(entry.authors, [r#"Resident "A" & Co"#]);
    let content = entry.content_html.unwrap();
    let doc = parse(&content);
    let text = doc.root_element().text().collect::<String>();
    assert!(text.contains("Bring gloves & boots. a < b && c > d"), "{text}");
    assert!(text.contains("]]> and <b>bold</b>"), "{text}");
    assert_eq!(select(&doc, "a")[0].value().attr("href"), Some("https://example.org/?a=1&b=2"));
    let atom = site.read("/atom.xml");
    assert!(atom.contains("Tools &amp; ladders &lt;free&gt;"), "title not escaped once");
}

// C22: a date without an offset is read in the site zone and written with its offset;
// retitling that post (same id, frozen slug) keeps the entry id and changes only the
// title and `updated`.
#[test]
fn c22_naive_date_gets_the_site_offset_and_retitling_keeps_the_entry_id() {
    let site = Fixture::new().case_post("C22/post-naive-date.md").build();
    let first = feed_entry(&site, "/atom.xml", "/bericht/paint-roller-set/");
    assert_eq!(first.published.as_deref(), Some("2025-06-01T10:15:00+02:00"));
    assert_eq!(first.updated, "2025-06-01T10:15:00+02:00");

    let site = site.remove("posts/post-naive-date.md").case_post("C22/post-retitled.md").build();
    let second = feed_entry(&site, "/atom.xml", "/bericht/paint-roller-set/");
    assert_eq!(second.id, first.id);
    assert_eq!(second.title, "Paint roller set (retitled)");
    assert_eq!(second.updated, "2025-06-03T09:00:00+02:00");
    assert_eq!(second.link, first.link);
    let feed = parse_feed("atom.xml", &site.read("/atom.xml"));
    assert_eq!(feed.updated, "2025-06-03T09:00:00+02:00");
}

// C22: sitemap.xml is well-formed, its URLs are absolute, and it lists exactly the
// pages on disk (every index.html; not the 404 page).
#[test]
fn c22_sitemap_lists_exactly_the_pages_on_disk() {
    let site = Fixture::new()
        .case_post("C22/post-escaping.md")
        .case_post("C22/post-naive-date.md")
        .page_size(1)
        .build();
    let locs: BTreeSet<String> = sitemap_locs(&site.read("/sitemap.xml")).into_iter().collect();
    let pages: BTreeSet<String> = site
        .files()
        .into_keys()
        .filter_map(|p| p.strip_suffix("index.html").map(|d| format!("https://example.org/{d}")))
        .collect();
    assert_eq!(locs, pages);
    assert!(locs.contains("https://example.org/hulpaanbod/pagina/2/"));
    assert!(!site.read("/sitemap.xml").contains("404"));
}
