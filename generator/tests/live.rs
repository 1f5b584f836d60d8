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
    assert!(report.written > 3 && report.written < report.rendered, "{report:?}");
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
    assert!(report.removed >= 1, "{report:?}");
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
