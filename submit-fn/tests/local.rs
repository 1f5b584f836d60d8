//! The function as `buurtbord serve` runs it, on the repository's sample content.

mod common;

use std::path::{Path, PathBuf};

use axum::http::StatusCode;

fn sample_content() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../content")
}

// Guards that the sample content gives rules and pages, and that a local app needs nothing
// but a data folder: secrets are created once and reused on the next start.
#[tokio::test]
async fn local_app_starts_on_sample_content_and_keeps_its_secrets() {
    let (content, theme) = (sample_content(), common::theme_dir());
    let data = tempfile::tempdir().unwrap();
    let first = submit_fn::local::local_app(data.path(), &content, &theme, None).unwrap();
    assert!(first.rules.municipality("Huizen").is_some());
    let token = first.secrets.issue_form_token(chrono::Utc::now() - chrono::Duration::seconds(9));
    let second = std::sync::Arc::new(
        submit_fn::local::local_app(data.path(), &content, &theme, None).unwrap(),
    );
    let later = chrono::Utc::now();
    assert!(second.secrets.check_form_token(&token, later).is_ok());
    let form = common::get(&second, "/plaatsen").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("<option value=\"gooise-meren\">Gooise Meren</option>"));
}

// Guards that a broken theme stops the start with a message naming the theme, before any
// data folder is created.
#[test]
fn local_app_with_a_missing_theme_fails_naming_it() {
    let data = tempfile::tempdir().unwrap();
    let missing = data.path().join("no-theme");
    let error =
        submit_fn::local::local_app(&data.path().join("data"), &sample_content(), &missing, None)
            .err()
            .expect("a missing theme is an error");
    assert!(error.to_string().contains("no-theme"), "{error}");
    assert!(!data.path().join("data").exists());
}
