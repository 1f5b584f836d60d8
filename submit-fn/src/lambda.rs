//! The Lambda entry's request handling: turns a `lambda_http` request into one the shared
//! `Router` can route, whatever the event shape (API Gateway REST, HTTP API, Function URL).
//!
//! Invariants (case C10): routing sees a stage-less path, because a leading `/{stage}` is
//! stripped when present and the stage is not `$default`; redirects and form actions carry
//! the prefix the browser saw, so they stay inside the stage. The body is the one
//! `lambda_http` already decoded, `Text` or `Binary` alike, never decoded twice (case C09).

use axum::Router;
use axum::body::Body as AxumBody;
use axum::response::Response;
use lambda_http::request::RequestContext;
use lambda_http::{Body as LambdaBody, Request, RequestExt};
use tower::ServiceExt;

use crate::app::{ClientIp, PathPrefix};

/// Routes one Lambda request through the router.
pub async fn handle(router: Router, request: Request) -> Response {
    let stage_info = StageInfo::of(&request);
    let (mut parts, body) = request.into_parts();

    let routed_path = stage_info.routed_path(parts.uri.path());
    let prefix = stage_info.visible_path.strip_suffix(routed_path.as_str()).unwrap_or("");
    parts.extensions.insert(PathPrefix(prefix.trim_end_matches('/').to_owned()));
    if let Some(ip) = stage_info.source_ip {
        parts.extensions.insert(ClientIp(ip));
    }
    let query = parts.uri.query().filter(|q| !q.is_empty());
    let path_and_query = match query {
        Some(query) => format!("{routed_path}?{query}"),
        None => routed_path,
    };
    if let Ok(uri) = path_and_query.parse() {
        parts.uri = uri;
    }

    let body = match body {
        LambdaBody::Empty => AxumBody::empty(),
        LambdaBody::Text(text) => AxumBody::from(text),
        LambdaBody::Binary(bytes) => AxumBody::from(bytes),
        _ => AxumBody::empty(),
    };
    let request = axum::http::Request::from_parts(parts, body);
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// What the event says about the stage, the path the browser used and the client.
struct StageInfo {
    stage: Option<String>,
    visible_path: String,
    source_ip: Option<String>,
}

impl StageInfo {
    fn of(request: &Request) -> StageInfo {
        let raw_path = request.raw_http_path().to_owned();
        match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(context)) => StageInfo {
                stage: context.stage.clone(),
                visible_path: context.path.clone().unwrap_or(raw_path),
                source_ip: context.identity.source_ip.clone(),
            },
            Some(RequestContext::ApiGatewayV2(context)) => StageInfo {
                stage: context.stage.clone(),
                visible_path: raw_path,
                source_ip: context.http.source_ip.clone(),
            },
            _ => StageInfo {
                stage: None,
                visible_path: request.uri().path().to_owned(),
                source_ip: None,
            },
        }
    }

    /// The path without a leading `/{stage}` segment, when there is one to strip.
    fn routed_path(&self, path: &str) -> String {
        let stage = self.stage.as_deref().filter(|s| !s.is_empty() && *s != "$default");
        if let Some(stage) = stage {
            let prefix = format!("/{stage}");
            if let Some(rest) = path.strip_prefix(&prefix) {
                if rest.is_empty() {
                    return "/".to_owned();
                }
                if rest.starts_with('/') {
                    return rest.to_owned();
                }
            }
        }
        path.to_owned()
    }
}
