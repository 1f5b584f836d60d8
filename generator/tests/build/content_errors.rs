//! Bad content: every kind of problem is reported as `path:line: reason`, every bad file
//! in one run, and a failed build leaves the previous site exactly as it was.

use crate::fixture::{Fixture, files_in, post};

/// The error lines about one file (by file name).
fn about<'a>(errors: &'a [String], file: &str) -> Vec<&'a str> {
    errors.iter().filter(|e| e.contains(&format!("/{file}:"))).map(String::as_str).collect()
}

/// Asserts `errors` has a `path:<line>: reason` line for `file` whose reason has `words`.
fn assert_reported(site: &Fixture, errors: &[String], file: &str, line: usize, words: &str) {
    let prefix = format!("{}:{line}: ", site.content().join("posts").join(file).display());
    let found = errors.iter().any(|e| e.starts_with(&prefix) && e[prefix.len()..].contains(words));
    assert!(found, "no `{prefix}…{words}…` in {errors:#?}");
}

// Each kind of bad content names its file and line, and one run reports all of them.
#[test]
fn every_kind_of_bad_post_is_reported_with_path_and_line_in_one_run() {
    let site = Fixture::new()
        .post(post("ok"))
        .post(post("missing").without("display_name"))
        .post(post("unknown-field").raw("colour", "red"))
        .post(post("unknown-category").raw("category", "cooking"))
        .post(post("unknown-municipality").raw("municipality", "Atlantis"))
        .post_file(
            "invalid-yaml.md",
            "---\nid: invalid-yaml\ntitle: [unclosed\nkind: offer\n---\nx\n",
        )
        .post(post("invalid-date").raw("date", "gisteren"))
        .post_file("invalid-utf8.md", {
            let mut bytes = post("invalid-utf8").render().into_bytes();
            bytes.extend_from_slice(b"\nregel zes \xff\xfe kapot\n");
            bytes
        });
    let errors = site.build_errors();

    // Line numbers: `---` is line 1, then id, title, kind, category, municipality, date,
    // display_name, then added keys from line 9.
    assert_reported(&site, &errors, "missing.md", 2, "display_name");
    assert_reported(&site, &errors, "unknown-field.md", 9, "colour");
    assert_reported(&site, &errors, "unknown-category.md", 5, "cooking");
    assert_reported(&site, &errors, "unknown-municipality.md", 6, "Atlantis");
    assert_reported(&site, &errors, "invalid-yaml.md", 3, "");
    assert_reported(&site, &errors, "invalid-date.md", 7, "gisteren");
    assert_reported(&site, &errors, "invalid-utf8.md", 12, "UTF-8");
    assert!(about(&errors, "ok.md").is_empty(), "{errors:#?}");
    assert_eq!(errors.len(), 7, "{errors:#?}");
}

// Two files with one id are an error naming both files and the `id:` line.
#[test]
fn duplicate_ids_fail_naming_both_files_and_the_id_line() {
    let site = Fixture::new()
        .post(post("same").title("Eerste"))
        .post_file("other.md", post("same").title("Tweede").render());
    let errors = site.build_errors();
    let duplicate: Vec<&String> = errors.iter().filter(|e| e.contains("`same`")).collect();
    assert_eq!(duplicate.len(), 1, "{errors:#?}");
    let paths = ["posts/other.md", "posts/same.md"].map(|p| site.content().join(p));
    let named = paths.iter().filter(|p| duplicate[0].contains(&p.display().to_string())).count();
    assert_eq!(named, 2, "{errors:#?}");
    let on_id_line =
        paths.iter().any(|p| duplicate[0].starts_with(&format!("{}:2: ", p.display())));
    assert!(on_id_line, "{errors:#?}");
}

// Front matter has only public fields: contact details are unknown keys, reported on
// their line, so they can never reach the site.
#[test]
fn contact_details_in_front_matter_are_rejected_on_their_line() {
    let site = Fixture::new()
        .post(post("email").set("email", "resident@example.org"))
        .post(post("phone").set("phone", "06-12345678"))
        .post(post("address").set("address", "Dorpsstraat 1"));
    let errors = site.build_errors();
    assert_reported(&site, &errors, "email.md", 9, "email");
    assert_reported(&site, &errors, "phone.md", 9, "phone");
    assert_reported(&site, &errors, "address.md", 9, "address");
}

// A bad page and a bad site.yaml are reported the same way.
#[test]
fn bad_page_front_matter_is_reported_with_path_and_line() {
    let site = Fixture::new().post(post("ok")).post(post("bad").raw("kind", "gift"));
    std::fs::write(site.content().join("pages/over.md"), "---\ntitle: Over\nauthor: X\n---\nx\n")
        .unwrap();
    let errors = site.build_errors();
    let page = site.content().join("pages/over.md");
    assert!(
        errors.iter().any(|e| e.starts_with(&format!("{}:3: ", page.display()))),
        "{errors:#?}"
    );
    assert_reported(&site, &errors, "bad.md", 4, "gift");
}

// A failed build leaves the previous output byte-for-byte as it was, and leaves no
// staging folder behind.
#[test]
fn failed_build_leaves_previous_output_untouched_and_no_staging_folder() {
    let site = Fixture::new().post(post("a")).post(post("b")).build();
    let before = site.files();
    assert!(before.contains_key("bericht/bericht-a/index.html"), "{:?}", before.keys());

    let site = site.post(post("c").raw("category", "cooking")).post(post("a2").set("id", "a"));
    assert!(site.build_errors().len() >= 2);
    assert!(site.files() == before, "the previous site changed");

    let mut entries: Vec<String> = std::fs::read_dir(site.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| std::fs::metadata(site.root().join(name)).unwrap().is_dir())
        .collect();
    entries.sort();
    assert_eq!(entries, ["content", "out"], "a staging folder was left behind");
}

// `check` validates like a build does but writes nothing at all.
#[test]
fn check_reports_bad_content_and_writes_nothing() {
    let site = Fixture::new().post(post("bad").raw("municipality", "Atlantis"));
    let errors =
        match generator::check(&site.content(), std::path::Path::new(crate::fixture::THEME)) {
            Err(generator::BuildError::Content(errors)) => errors,
            other => panic!("expected content errors, got {:?}", other.map(|_| ())),
        };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, Some(6));
    assert!(files_in(site.root()).keys().all(|p| p.starts_with("content/")));
}
