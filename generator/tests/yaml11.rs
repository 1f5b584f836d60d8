//! C05: front matter that buurtbord writes must read back as the same strings in a YAML
//! 1.1 reader too (PyYAML `safe_load`), since operators' tools and other generators use
//! one. The Python with PyYAML comes from the virtual environment that
//! `scripts/test.sh` sets up (`BUURTBORD_TEST_PYTHON`).

use std::io::Write;
use std::process::{Command, Stdio};

use generator::post::{FrontMatter, Kind};

fn python() -> String {
    std::env::var("BUURTBORD_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "BUURTBORD_TEST_PYTHON is not set: run the tests with scripts/test.sh, which \
             installs PyYAML into .venv and sets it"
        )
    })
}

// Guards C05 must 1: every adversarial title and name survives a YAML 1.1 reader.
#[test]
fn c05_written_front_matter_reads_back_identically_in_pyyaml() {
    let titles = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/cases/C05/titles.txt"
    ))
    .expect("handed case C05 is readable");
    let mut documents = Vec::new();
    for title in titles.lines() {
        let front = FrontMatter {
            id: "01JX00000000000000000000E5".into(),
            slug: Some("x".into()),
            title: title.into(),
            kind: Kind::Request,
            category: "garden".into(),
            municipality: "asby".into(),
            neighbourhood: Some(title.into()),
            recurring: false,
            date: "2025-06-01T00:30:00+02:00".into(),
            updated: None,
            expires: None,
            display_name: title.into(),
            organisation: Some(title.into()),
        };
        let file = front.to_file("body");
        let yaml = file.split("---\n").nth(1).expect("front matter").to_string();
        documents.push(serde_json::json!({ "yaml": yaml, "want": title }));
    }
    let script = r#"
import json, sys, yaml
bad = []
for doc in json.load(sys.stdin):
    data = yaml.safe_load(doc["yaml"])
    for key in ("title", "display_name", "neighbourhood", "organisation"):
        if data[key] != doc["want"] or not isinstance(data[key], str):
            bad.append((key, doc["want"], repr(data[key])))
print(json.dumps(bad))
"#;
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&documents).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("python runs");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    let bad: Vec<(String, String, String)> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(bad.is_empty(), "PyYAML read these differently: {bad:?}");
    assert_eq!(documents.len(), titles.lines().count());
}
