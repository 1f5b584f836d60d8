//! The Lambda entry: the shared `Router` served by `lambda_http`, configured from the
//! environment, logging JSON lines that each carry the invocation's request id.
//!
//! Environment: `BUURTBORD_TABLE` (DynamoDB table), `BUURTBORD_DYNAMODB_ENDPOINT`
//! (optional override), `BUURTBORD_CONTENT_DIR` (the content folder with `site.yaml` and
//! `pages/`; posts are not read; default `content`), `BUURTBORD_THEME_DIR` (the site's
//! theme, `templates/` and `theme.yaml`; default `theme`), both relative to the working
//! directory, so the deployment package carries them beside the binary;
//! `BUURTBORD_BASE_URL` (optional, replaces site.yaml's `base_url`, as in the generator),
//! `BUURTBORD_FORM_KEY` and `BUURTBORD_IP_SALT` (base64, at least 32 bytes each),
//! `BUURTBORD_POSTS_PER_HOUR` (optional), and the usual `AWS_REGION`. Log level from
//! `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`.
//!
//! `BUURTBORD_COOKIE_KEY` (base64, at least 64 bytes) encrypts and signs moderator sessions.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::{Request, RequestExt, service_fn};
use submit_fn::app::{App, DEFAULT_POSTS_PER_HOUR};
use submit_fn::render::Pages;
use submit_fn::rules::SiteRules;
use submit_fn::spam::Secrets;
use submit_fn::store::DynamoQueue;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let router = submit_fn::router(app_from_env().await?);
    lambda_http::run(service_fn(move |request: Request| {
        let router = router.clone();
        let request_id = request.lambda_context_ref().map(|c| c.request_id.clone());
        let span = tracing::info_span!("invocation", request_id = request_id.unwrap_or_default());
        async move { Ok::<_, lambda_http::Error>(submit_fn::lambda::handle(router, request).await) }
            .instrument(span)
    }))
    .await
}

fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned())
        .to_lowercase();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_current_span(true)
        .without_time()
        .init();
}

async fn app_from_env() -> Result<Arc<App>, lambda_http::Error> {
    let table = env("BUURTBORD_TABLE")?;
    let endpoint = std::env::var("BUURTBORD_DYNAMODB_ENDPOINT").ok();
    let content_dir = PathBuf::from(env_or("BUURTBORD_CONTENT_DIR", "content"));
    let theme_dir = PathBuf::from(env_or("BUURTBORD_THEME_DIR", "theme"));
    let site_path = content_dir.join("site.yaml");
    let site_yaml =
        std::fs::read_to_string(&site_path).map_err(|e| format!("{}: {e}", site_path.display()))?;
    let (rules, _) = SiteRules::from_site_yaml(&site_yaml)?;
    // `BUURTBORD_BASE_URL`, when set, is read by the site settings themselves.
    let pages = Pages::load(&content_dir, &theme_dir, None)?;
    let secrets = Secrets {
        form_key: secret("BUURTBORD_FORM_KEY")?,
        ip_salt: secret("BUURTBORD_IP_SALT")?,
        cookie_key: cookie_key()?,
    };
    let posts_per_hour = match std::env::var("BUURTBORD_POSTS_PER_HOUR") {
        Ok(value) => value.parse().map_err(|_| "BUURTBORD_POSTS_PER_HOUR: not a number")?,
        Err(_) => DEFAULT_POSTS_PER_HOUR,
    };
    Ok(Arc::new(App {
        store: Arc::new(DynamoQueue::from_env(table, endpoint.as_deref()).await),
        pages,
        rules,
        secrets,
        posts_per_hour,
        // Notices to moderators go out once SES is wired in the cloud deployment.
        notifier: None,
    }))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn env(name: &str) -> Result<String, lambda_http::Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

/// `BUURTBORD_COOKIE_KEY`: `cookie::Key` needs 64 bytes.
fn cookie_key() -> Result<Vec<u8>, lambda_http::Error> {
    let bytes = secret("BUURTBORD_COOKIE_KEY")?;
    if bytes.len() < 64 {
        return Err("BUURTBORD_COOKIE_KEY: at least 64 bytes are needed".into());
    }
    Ok(bytes)
}

fn secret(name: &str) -> Result<Vec<u8>, lambda_http::Error> {
    let bytes = STANDARD.decode(env(name)?).map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() < 32 {
        return Err(format!("{name}: at least 32 bytes are needed").into());
    }
    Ok(bytes)
}
