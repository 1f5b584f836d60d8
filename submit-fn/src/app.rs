//! The function's shared state and the `Router` that serves it, the same one in
//! `buurtbord serve` and in Lambda, plus what each request knows about where it came from.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::get;

use crate::render::Pages;
use crate::rules::SiteRules;
use crate::spam::Secrets;
use crate::store::QueueStore;
use crate::submission::REQUEST_MAX_BYTES;

/// The path the form posts to, as `submission_endpoint` in site.yaml.
pub const SUBMIT_PATH: &str = "/plaatsen";
/// The confirmation page, `/bedankt/<id>?token=…`.
pub const CONFIRMATION_PATH: &str = "/bedankt";
/// Where a poster manages a post, relative to the site root; served by [`crate::manage`].
pub const MANAGE_PATH: &str = "beheer-bericht";
/// Posts one address may place per hour unless configured otherwise.
pub const DEFAULT_POSTS_PER_HOUR: u32 = 5;

/// Everything the handlers share.
pub struct App {
    pub store: Arc<dyn QueueStore>,
    pub rules: SiteRules,
    pub secrets: Secrets,
    pub pages: Pages,
    /// Accepted posts per salted-hash IP per clock hour.
    pub posts_per_hour: u32,
    /// Tells moderators who asked for it about each new post; `None` mails nobody.
    pub notifier: Option<crate::notify::Notifier>,
}

/// The state handed to the router.
pub type AppState = Arc<App>;

/// The path prefix the browser sees in front of the router's paths, e.g. `/prod` behind an
/// API Gateway named stage. Set by the Lambda entry; absent locally.
#[derive(Debug, Clone, Default)]
pub struct PathPrefix(pub String);

/// The client address as the platform reports it; set by the Lambda entry. Locally the
/// socket's peer address is used.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// Where a request came from: the prefix for links and redirects, and the client address.
pub struct Origin {
    pub prefix: String,
    pub client_ip: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Origin, Self::Rejection> {
        let prefix = parts.extensions.get::<PathPrefix>().map(|p| p.0.clone()).unwrap_or_default();
        let client_ip = match parts.extensions.get::<ClientIp>() {
            Some(ip) => ip.0.clone(),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip().to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
        };
        Ok(Origin { prefix, client_ip })
    }
}

/// The function's routes: the form (GET, POST) and the confirmation page. Bodies over
/// `REQUEST_MAX_BYTES` get 413, the same ceiling locally and in Lambda (case C20).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(SUBMIT_PATH, get(crate::submit::show_form).post(crate::submit::submit))
        .route(&format!("{CONFIRMATION_PATH}/{{id}}"), get(crate::submit::confirmation))
        .layer(DefaultBodyLimit::max(REQUEST_MAX_BYTES))
        .with_state(state)
}

/// Every route of the function: the form, the moderation site and the posters' management
/// pages. `buurtbord serve` adds the static site to it; the Lambda entry serves it as is,
/// so both answer the same paths.
pub fn full_router(
    state: AppState,
    beheer: crate::beheer::BeheerState,
    manage: crate::manage::ManageState,
) -> Router {
    router(state).merge(crate::beheer::router(beheer)).merge(crate::manage::router(manage))
}
