//! The daily job, run by an EventBridge schedule shortly after midnight in the site's zone:
//! the same run as `buurtbord daily` ([`submit_fn::daily::run`]: publishes approved posts
//! that an interrupted approval left off the site, takes expired posts off the site, mails
//! reminders before expiry, purges the personal data of posts that ended longer ago than
//! `retention_days`), then rebuilds the whole site and makes the site bucket equal to the
//! build. Same environment as the Lambda entry ([`submit_fn::cloud`]). A post that a step
//! failed for fails the run, so the failure shows in the function's error metric and the
//! schedule's retry, which repeats only what is left.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use submit_fn::cloud::{Cloud, CloudConfig};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_logging();
    let cloud = Cloud::open(&CloudConfig::from_env()).await?;
    let cloud = &cloud;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move {
            let done = cloud.daily(chrono::Utc::now()).await?;
            let published = done.reconciled.published.len();
            let failed = done.reconciled.failed.len() + done.failed.len();
            if failed > 0 {
                return Err(lambda_runtime::Error::from(format!(
                    "{failed} post(s) could not be published, taken offline or reminded"
                )));
            }
            Ok::<_, lambda_runtime::Error>(serde_json::json!({
                "published": published,
                "expired": done.expired.len(),
                "reminded": done.reminded.len(),
                "purged": done.purged.len(),
            }))
        }
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
