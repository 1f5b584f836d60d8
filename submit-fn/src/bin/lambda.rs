//! The Lambda entry: every route of the function (the form, `/beheer`, `/beheer-bericht`)
//! served by `lambda_http`, wired by [`submit_fn::cloud::Cloud::open`] from the environment
//! that module documents, logging JSON lines that each carry the invocation's request id.
//! Log level from `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`.

use lambda_http::{Request, RequestExt, service_fn};
use submit_fn::cloud::{Cloud, CloudConfig};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let router = Cloud::open(&CloudConfig::from_env()).await?.router();
    lambda_http::run(service_fn(move |request: Request| {
        let router = router.clone();
        let request_id = request.lambda_context_ref().map(|c| c.request_id.clone());
        let span = tracing::info_span!("invocation", request_id = request_id.unwrap_or_default());
        async move { Ok::<_, lambda_http::Error>(submit_fn::lambda::handle(router, request).await) }
            .instrument(span)
    }))
    .await
}

/// JSON lines without timestamps (CloudWatch adds them), the level from Lambda's setting.
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
