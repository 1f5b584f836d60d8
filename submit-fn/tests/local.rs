//! The function as `buurtbord serve` runs it, on the repository's sample content.

mod common;

use axum::http::StatusCode;

// Guards that the sample site.yaml gives rules, and that a local app needs nothing but a
// data folder: secrets are created once and reused on the next start.
#[tokio::test]
async fn local_app_starts_on_sample_content_and_keeps_its_secrets() {
    let yaml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../content/site.yaml"))
            .unwrap();
    let data = tempfile::tempdir().unwrap();
    let first = submit_fn::local::local_app(data.path(), &yaml).unwrap();
    assert!(first.rules.municipality("Huizen").is_some());
    let token = first.secrets.issue_form_token(chrono::Utc::now() - chrono::Duration::seconds(9));
    let second = submit_fn::local::local_app(data.path(), &yaml).unwrap();
    let later = chrono::Utc::now();
    assert!(second.secrets.check_form_token(&token, later).is_ok());
    assert_eq!(common::get(&second, "/plaatsen").await.status, StatusCode::OK);
}
