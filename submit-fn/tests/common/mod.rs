//! Shared test fixtures: the site the handed cases assume (`fixtures/content/`:
//! municipality Åsby, categories moving and garden) rendered with the repository's theme,
//! an app on a real SQLite file, and helpers that drive the router.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use submit_fn::app::App;
use submit_fn::render::Pages;
use submit_fn::rules::SiteRules;
use submit_fn::spam::{Secrets, new_nonce};
use submit_fn::store::SqliteQueue;
use tower::ServiceExt;

/// The content folder of the handed cases' site: site.yaml and one page.
pub fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/content")
}

/// The repository's default theme, the one the static site is built with.
pub fn theme_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default")
}

/// The rules the handed cases are written against, from the fixture's site.yaml.
pub fn rules() -> SiteRules {
    let yaml = std::fs::read_to_string(content_dir().join("site.yaml")).unwrap();
    SiteRules::from_site_yaml(&yaml).unwrap().0
}

/// The function's pages for the fixture site.
pub fn pages() -> Pages {
    Pages::load(&content_dir(), &theme_dir(), None).unwrap_or_else(|e| panic!("{e}"))
}

/// An app on a fresh SQLite file; the temp dir lives as long as the returned guard.
pub struct TestApp {
    pub app: Arc<App>,
    pub store: SqliteQueue,
    pub dir: tempfile::TempDir,
}

pub fn sqlite_app(posts_per_hour: u32) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteQueue::open(&dir.path().join("queue.sqlite3")).unwrap();
    let app = Arc::new(App {
        store: Arc::new(store.clone()),
        rules: rules(),
        secrets: Secrets::generate(),
        pages: pages(),
        posts_per_hour,
        notifier: None,
    });
    TestApp { app, store, dir }
}

/// The hidden and required fields a real form adds to a case's body: consent, a form
/// token signed ten seconds ago, and a fresh nonce.
pub fn form_extras(secrets: &Secrets) -> String {
    format!(
        "&consent=ja&form_token={}&submission_id={}",
        secrets.issue_form_token(Utc::now() - Duration::seconds(10)),
        new_nonce()
    )
}

/// Reads a handed case file as bytes.
pub fn case_bytes(case: &str, file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/cases").join(case);
    std::fs::read(path.join(file)).unwrap_or_else(|e| panic!("{case}/{file}: {e}"))
}

/// A case's urlencoded form with the extras appended.
pub fn case_form(case: &str, file: &str, secrets: &Secrets) -> Vec<u8> {
    let mut body = case_bytes(case, file);
    while body.last().is_some_and(|b| b.is_ascii_whitespace()) {
        body.pop();
    }
    body.extend_from_slice(form_extras(secrets).as_bytes());
    body
}

/// What a test looks at in a response.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub html: String,
}

pub async fn post(app: &Arc<App>, content_type: Option<&str>, body: Vec<u8>) -> Answer {
    let mut request = Request::post("/plaatsen");
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    send(app, request.body(Body::from(body)).unwrap()).await
}

pub async fn post_form(app: &Arc<App>, body: Vec<u8>) -> Answer {
    post(app, Some("application/x-www-form-urlencoded"), body).await
}

pub async fn get(app: &Arc<App>, uri: &str) -> Answer {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

pub async fn send(app: &Arc<App>, request: Request<Body>) -> Answer {
    let response = submit_fn::router(app.clone()).oneshot(request).await.unwrap();
    answer(response).await
}

pub async fn answer(response: axum::response::Response) -> Answer {
    let status = response.status();
    let header = |name| {
        response.headers().get(name).map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let location = header(header::LOCATION);
    let content_type = header(header::CONTENT_TYPE);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, location, content_type, html: String::from_utf8(bytes.to_vec()).unwrap() }
}

/// Every pending item, through all pages.
pub async fn all_pending(
    store: &dyn submit_fn::store::QueueStore,
) -> Vec<submit_fn::store::QueueItem> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_pending(100, cursor.as_deref()).await.unwrap();
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

/// Escapes text the way the theme's autoescape does (`&<>"'` only), to find a kept value
/// in a page.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Copies the folder `from` to `to`, sub-folders included.
pub fn copy_dir(from: &Path, to: &Path) {
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

/// Every file under `dir`, by relative path.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
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
