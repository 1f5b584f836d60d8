//! Incremental publishing must give exactly the site a full build gives: same files,
//! same bytes, no stale pages left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::DateTime;
use generator::{BuildOptions, LiveSite};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The sample content with a small page size, so one post shifts many listing pages.
fn sample(tmp: &Path) -> PathBuf {
    let content = tmp.join("content");
    copy_dir(&Path::new(ROOT).join("content"), &content);
    let site = std::fs::read_to_string(content.join("site.yaml")).unwrap();
    let site = site.lines().map(|l| if l.starts_with("page_size:") { "page_size: 3" } else { l });
    std::fs::write(content.join("site.yaml"), site.collect::<Vec<_>>().join("\n")).unwrap();
    content
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

fn options(content: &Path, out: &Path) -> BuildOptions {
    BuildOptions {
        content: content.to_path_buf(),
        theme: Path::new(ROOT).join("themes/default"),
        out: out.to_path_buf(),
        now: DateTime::parse_from_rfc3339("2026-12-03T12:00:00+01:00").unwrap(),
        base_url: None,
    }
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut all = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                all.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    all
}

fn assert_same_as_full_build(content: &Path, live_out: &Path, tmp: &Path) {
    let full = tmp.join("full");
    generator::build(&options(content, &full)).unwrap();
    let (a, b) = (files(live_out), files(&full));
    let only_live: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let only_full: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    assert!(
        only_live.is_empty() && only_full.is_empty(),
        "live {only_live:?} / full {only_full:?}"
    );
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{path} differs from a full build");
    }
}

const NEW_POST: &str = r#"---
id: "01NEW0000000000000000000X1"
slug: "nieuwe-hulpvraag-in-huizen"
title: "Nieuwe hulpvraag: wie helpt met de verhuizing?"
kind: request
category: "klussen"
municipality: "huizen"
date: 2026-12-03T09:00:00+01:00
expires: 2027-01-31
display_name: "Joke"
---
Ik verhuis in januari en zoek twee sterke buren.
"#;

// Guards issue 4's incremental rebuild: publishing one post equals a full rebuild.
#[test]
fn publishing_a_post_incrementally_equals_a_full_build() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let out = tmp.path().join("public");
    let (mut live, _) = LiveSite::open(options(&content, &out)).unwrap();

    let path = content.join("posts/01NEW0000000000000000000X1.md");
    std::fs::write(&path, NEW_POST).unwrap();
    let report = live.upsert_post(&path).unwrap();
    assert!(out.join("bericht/nieuwe-hulpvraag-in-huizen/index.html").exists());
    let written = &report.written;
    assert!(written.len() > 3 && written.len() < report.rendered, "{report:?}");
    assert!(written.contains(&"bericht/nieuwe-hulpvraag-in-huizen/index.html".to_string()));
    assert!(written.contains(&"atom.xml".to_string()) && !report.reloaded, "{report:?}");
    assert_same_as_full_build(&content, &out, tmp.path());
}

// Guards withdrawal: the page goes, listings shrink, the last listing page disappears.
#[test]
fn removing_a_post_incrementally_equals_a_full_build() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let out = tmp.path().join("public");
    let (mut live, _) = LiveSite::open(options(&content, &out)).unwrap();

    let path = content.join("posts/01NEW0000000000000000000X1.md");
    std::fs::write(&path, NEW_POST).unwrap();
    live.upsert_post(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let report = live.remove_post("01NEW0000000000000000000X1").unwrap();
    let page = "bericht/nieuwe-hulpvraag-in-huizen/index.html".to_string();
    assert!(report.removed.contains(&page) && !report.written.contains(&page), "{report:?}");
    assert!(!out.join("bericht/nieuwe-hulpvraag-in-huizen").exists());
    assert_same_as_full_build(&content, &out, tmp.path());
}

// Guards a moderator's correction: a new category moves the post between listings.
#[test]
fn changing_a_posts_category_incrementally_equals_a_full_build() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let out = tmp.path().join("public");
    let path = content.join("posts/01NEW0000000000000000000X1.md");
    std::fs::write(&path, NEW_POST).unwrap();
    let (mut live, _) = LiveSite::open(options(&content, &out)).unwrap();

    std::fs::write(&path, NEW_POST.replace("\"klussen\"", "\"tuin\"")).unwrap();
    live.upsert_post(&path).unwrap();
    assert_same_as_full_build(&content, &out, tmp.path());
}

// Guards C18 during publishing: a second post on a used slug is refused, nothing changes.
#[test]
fn upserting_a_post_with_a_taken_slug_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let out = tmp.path().join("public");
    let (mut live, _) = LiveSite::open(options(&content, &out)).unwrap();
    let taken = std::fs::read_dir(content.join("posts")).unwrap().next().unwrap().unwrap().path();
    let slug_line = std::fs::read_to_string(&taken).unwrap();
    let slug = slug_line.lines().find(|l| l.starts_with("slug:")).unwrap().to_string();
    let path = content.join("posts/01NEW0000000000000000000X1.md");
    std::fs::write(&path, NEW_POST.replace("slug: \"nieuwe-hulpvraag-in-huizen\"", &slug)).unwrap();

    let err = live.upsert_post(&path).unwrap_err().to_string();
    assert!(err.contains("content"), "{err}");
    std::fs::remove_file(&path).unwrap();
    assert_same_as_full_build(&content, &out, tmp.path());
}

const OTHER_POST: &str = r#"---
id: "01OTHER000000000000000000X2"
slug: "aanbod-van-elders"
title: "Aanbod dat de CLI plaatste"
kind: offer
category: "tuin"
municipality: "huizen"
date: 2026-12-02T09:00:00+01:00
display_name: "Piet"
---
Geplaatst door een ander proces.
"#;

// Guards the invariant that the model never drops a post someone else published: the CLI
// approves a post while `serve` runs, then `serve` publishes its own; both are online.
#[test]
fn a_post_written_by_another_process_survives_the_next_incremental_update() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let out = tmp.path().join("public");
    let (mut live, _) = LiveSite::open(options(&content, &out)).unwrap();

    std::fs::write(content.join("posts/01OTHER000000000000000000X2.md"), OTHER_POST).unwrap();
    let path = content.join("posts/01NEW0000000000000000000X1.md");
    std::fs::write(&path, NEW_POST).unwrap();
    let report = live.upsert_post(&path).unwrap();

    assert!(report.reloaded, "{report:?}");
    assert!(report.written.contains(&"bericht/aanbod-van-elders/index.html".to_string()));
    assert!(
        live.is_live("01OTHER000000000000000000X2") && live.is_live("01NEW0000000000000000000X1")
    );
    assert_same_as_full_build(&content, &out, tmp.path());

    // Once caught up, the next update of its own file is incremental again.
    std::fs::write(&path, NEW_POST.replace("twee sterke", "drie sterke")).unwrap();
    let report = live.upsert_post(&path).unwrap();
    assert!(!report.reloaded, "{report:?}");
    assert!(report.written.contains(&"bericht/nieuwe-hulpvraag-in-huizen/index.html".into()));
    assert!(!report.written.contains(&"bericht/aanbod-van-elders/index.html".into()));
    assert_same_as_full_build(&content, &out, tmp.path());
}

// Guards the same for an edit in place (same file name, new text) before a withdrawal.
#[test]
fn a_post_rewritten_in_place_by_another_process_is_reloaded_before_a_removal() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let out = tmp.path().join("public");
    let path = content.join("posts/01NEW0000000000000000000X1.md");
    std::fs::write(&path, NEW_POST).unwrap();
    let other = content.join("posts/01OTHER000000000000000000X2.md");
    std::fs::write(&other, OTHER_POST).unwrap();
    let (mut live, _) = LiveSite::open(options(&content, &out)).unwrap();

    std::fs::write(&other, OTHER_POST.replace("de CLI plaatste", "de CLI verbeterde")).unwrap();
    std::fs::remove_file(&path).unwrap();
    let report = live.remove_post("01NEW0000000000000000000X1").unwrap();

    assert!(report.reloaded, "{report:?}");
    let page = std::fs::read_to_string(out.join("bericht/aanbod-van-elders/index.html")).unwrap();
    assert!(page.contains("de CLI verbeterde"));
    assert!(!out.join("bericht/nieuwe-hulpvraag-in-huizen").exists());
    assert_same_as_full_build(&content, &out, tmp.path());
}

// Guards the moderator's preview: a post checked from memory is the post a load gives.
#[test]
fn parsing_a_post_from_memory_gives_what_loading_its_file_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let site = generator::Site::load(&content, None).unwrap();
    let path = content.join("posts/01NEW0000000000000000000X1.md");
    std::fs::write(&path, NEW_POST).unwrap();

    let parsed = generator::post::parse(&site, &path, NEW_POST).unwrap();
    let loaded = generator::post::load(&site, &path).unwrap();
    assert_eq!(format!("{parsed:?}"), format!("{loaded:?}"));
    let bad = generator::post::parse(&site, &path, &NEW_POST.replace("klussen", "nergens"));
    let errors = bad.unwrap_err();
    assert!(errors.iter().any(|e| e.reason.contains("unknown category")), "{errors:?}");
}

// Guards the reuse of each page's previous version (the `.public.spare` folder beside the
// output): a page shrinking, growing and shrinking again over several updates must be
// byte for byte what a full build writes, with no spare bytes left over at the end of a
// page, nothing extra inside the output, and no spare kept for a page that is gone.
#[test]
fn repeated_updates_through_spare_files_equal_a_full_build_each_time() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let out = tmp.path().join("public");
    let (mut live, _) = LiveSite::open(options(&content, &out)).unwrap();
    let path = content.join("posts/01NEW0000000000000000000X1.md");
    let long = NEW_POST.replace("Nieuwe hulpvraag:", &"Heel lange titel ".repeat(4));

    for (step, text) in [NEW_POST.to_string(), long, NEW_POST.to_string()].iter().enumerate() {
        std::fs::write(&path, text).unwrap();
        let report = live.upsert_post(&path).unwrap();
        assert!(!report.reloaded, "step {step}: {report:?}");
        assert_same_as_full_build(&content, &out, tmp.path());
    }
    let spares = tmp.path().join(".public.spare");
    assert!(spares.join("index.html").is_file(), "the home page's old version is kept");

    std::fs::remove_file(&path).unwrap();
    live.remove_post("01NEW0000000000000000000X1").unwrap();
    assert_same_as_full_build(&content, &out, tmp.path());
    assert!(!spares.join("bericht/nieuwe-hulpvraag-in-huizen/index.html").exists());
}

// Guards the turn-taking of a running site and a `buurtbord build` of the same folder: an
// update waits while a build holds the output's lock (a build swapped in after the update
// would otherwise drop the new post), and goes on once the build is done.
#[test]
fn an_update_waits_for_a_build_of_the_same_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let content = sample(tmp.path());
    let out = tmp.path().join("public");
    let (mut live, _) = LiveSite::open(options(&content, &out)).unwrap();
    let path = content.join("posts/01NEW0000000000000000000X1.md");
    std::fs::write(&path, NEW_POST).unwrap();

    let build_lock = generator::output::lock_output(&out).unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    let update = std::thread::spawn(move || {
        let report = live.upsert_post(&path);
        done.send(()).unwrap();
        report
    });
    let waited = finished.recv_timeout(std::time::Duration::from_millis(500));
    assert!(waited.is_err(), "the update did not wait for the build's lock");
    assert!(!out.join("bericht/nieuwe-hulpvraag-in-huizen/index.html").exists());
    drop(build_lock);
    update.join().unwrap().unwrap();
    assert!(out.join("bericht/nieuwe-hulpvraag-in-huizen/index.html").exists());
}
