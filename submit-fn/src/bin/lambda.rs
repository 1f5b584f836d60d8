//! The Lambda entry: the shared `Router` served by `lambda_http`, configured from the
//! environment, logging JSON lines that each carry the invocation's request id.
//!
//! Environment: `BUURTBORD_TABLE` (DynamoDB table), `BUURTBORD_DYNAMODB_ENDPOINT`
//! (optional override), `BUURTBORD_SITE_YAML` (path of site.yaml, default `site.yaml`
//! beside the binary's working directory), `BUURTBORD_FORM_KEY` and `BUURTBORD_IP_SALT`
//! (base64, at least 32 bytes each), `BUURTBORD_POSTS_PER_HOUR` (optional), and the usual
//! `AWS_REGION`. Log level from `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`.

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
    let site_path = std::env::var("BUURTBORD_SITE_YAML").unwrap_or_else(|_| "site.yaml".into());
    let site_yaml = std::fs::read_to_string(&site_path).map_err(|e| format!("{site_path}: {e}"))?;
    let (rules, base_url) = SiteRules::from_site_yaml(&site_yaml)?;
    let base_url = std::env::var("BUURTBORD_BASE_URL").unwrap_or(base_url);
    let secrets =
        Secrets { form_key: secret("BUURTBORD_FORM_KEY")?, ip_salt: secret("BUURTBORD_IP_SALT")? };
    let posts_per_hour = match std::env::var("BUURTBORD_POSTS_PER_HOUR") {
        Ok(value) => value.parse().map_err(|_| "BUURTBORD_POSTS_PER_HOUR: not a number")?,
        Err(_) => DEFAULT_POSTS_PER_HOUR,
    };
    Ok(Arc::new(App {
        store: Arc::new(DynamoQueue::from_env(table, endpoint.as_deref()).await),
        pages: Pages::new(&rules.site_name, &base_url)?,
        rules,
        secrets,
        posts_per_hour,
    }))
}

fn env(name: &str) -> Result<String, lambda_http::Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

fn secret(name: &str) -> Result<Vec<u8>, lambda_http::Error> {
    let bytes = STANDARD.decode(env(name)?).map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() < 32 {
        return Err(format!("{name}: at least 32 bytes are needed").into());
    }
    Ok(bytes)
}
