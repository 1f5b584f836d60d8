//! The audit log page: who decided what, and when, newest first.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::BeheerState;
use super::views::AuditView;
use crate::app::Origin;
use crate::auth::ModeratorSession;

/// Entries on one page of the log.
const AUDIT_PAGE: usize = 50;

#[derive(Deserialize)]
pub struct AuditQuery {
    na: Option<String>,
}

/// GET /beheer/logboek
pub async fn list(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Query(query): Query<AuditQuery>,
) -> Response {
    let page = match state.moderation.queue.list_audit(AUDIT_PAGE, query.na.as_deref()).await {
        Ok(page) => page,
        Err(error) => {
            tracing::error!(error = %error, "audit log could not be read");
            return state.auth.pages.server_error(&origin.prefix);
        }
    };
    let rules = &state.moderation.rules;
    let entries: Vec<AuditView> = page.entries.iter().map(|e| AuditView::new(e, rules)).collect();
    let mut context = state.context(&origin.prefix, &session);
    context.insert("entries", &entries);
    context.insert("next", &page.next);
    state.render(StatusCode::OK, "beheer/logboek.html", &context, &origin.prefix)
}
