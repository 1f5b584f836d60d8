//! Readers' reports: the reported posts with every open report on them, oldest report first,
//! and the two ways a moderator handles a post: take it offline with a reason the poster
//! receives, or leave it online. Either closes the post's reports; the decisions themselves
//! are in [`crate::moderate`]. A reported post without a queue record (a sample post, one
//! written by hand or imported) is shown as the content store has it, and can be taken
//! offline too; it has no poster to mail.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::BeheerState;
use super::decide::{RejectForm, reason_text};
use super::queue::failed;
use crate::app::Origin;
use crate::auth::{ModeratorSession, check_csrf};
use crate::store::{QueueItem, Report, Status, StoreError};

/// The list of reported posts.
pub const REPORTS_PATH: &str = "/beheer/meldingen";
/// The most open reports one page reads; moderators close them, so the list stays short.
const REPORTS_SHOWN: usize = 200;

/// A reported post as the list shows it.
#[derive(Debug, Serialize)]
struct ReportedPost {
    id: String,
    /// Empty when neither the queue nor the content store has the post.
    title: String,
    /// The queue status; `approved` too for a post online without a queue record; else
    /// `unknown`.
    status: &'static str,
    /// The post's public address while it is approved.
    public_url: Option<String>,
    /// True for a post online without a queue record: no details in /beheer, no poster.
    content_only: bool,
    reports: Vec<ReportView>,
}

/// One report: when, the reason in the theme's words, and what the reader added.
#[derive(Debug, Serialize)]
struct ReportView {
    at: String,
    reason: String,
    message: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    /// The post just handled.
    klaar: Option<String>,
    /// How: `offline` or `gelaten`.
    actie: Option<String>,
}

/// GET /beheer/meldingen
pub async fn list(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Query(query): Query<ListQuery>,
) -> Response {
    let done = match (&query.klaar, query.actie.as_deref()) {
        (Some(id), Some(action @ ("offline" | "gelaten"))) => Some((id.as_str(), action)),
        _ => None,
    };
    render(&state, &origin, &session, StatusCode::OK, done, None).await
}

/// POST /beheer/bericht/{id}/offline: takes a published post offline and mails its poster.
pub async fn take_down(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
    Form(form): Form<RejectForm>,
) -> Response {
    if check_csrf(&session, &form.csrf).is_err() {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    }
    let Some(reason) = reason_text(&state.moderation.reject_reasons, &form) else {
        let status = StatusCode::BAD_REQUEST;
        return render(&state, &origin, &session, status, None, Some(&id)).await;
    };
    match state.moderation.take_down(&id, &session.email, &reason, Utc::now()).await {
        Ok(()) => done(&origin, &id, "offline"),
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

#[derive(Deserialize)]
pub struct DismissForm {
    #[serde(default)]
    csrf: String,
}

/// POST /beheer/bericht/{id}/meldingen-sluiten: leaves the post online, closes its reports.
pub async fn dismiss(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
    Form(form): Form<DismissForm>,
) -> Response {
    if check_csrf(&session, &form.csrf).is_err() {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    }
    match state.moderation.dismiss_reports(&id, &session.email, Utc::now()).await {
        Ok(_) => done(&origin, &id, "gelaten"),
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

fn done(origin: &Origin, id: &str, action: &str) -> Response {
    let target = format!("{}{REPORTS_PATH}?klaar={id}&actie={action}", origin.prefix);
    Redirect::to(&target).into_response()
}

/// The list page; `done` confirms what was just done to which post, `reason_missing`
/// names the post whose take-offline form lacked a reason.
async fn render(
    state: &BeheerState,
    origin: &Origin,
    session: &ModeratorSession,
    status: StatusCode,
    done: Option<(&str, &str)>,
    reason_missing: Option<&str>,
) -> Response {
    let posts = match reported_posts(state).await {
        Ok(posts) => posts,
        Err(error) => {
            tracing::error!(error = %error, "reports could not be read");
            return state.auth.pages.server_error(&origin.prefix);
        }
    };
    let mut context = state.context(&origin.prefix, session);
    context.insert("posts", &posts);
    context.insert("reasons", &state.moderation.reject_reasons);
    context.insert("reason_missing", &reason_missing);
    if let Some((id, action)) = done {
        let title = state.moderation.queue.get(id).await.ok().flatten().map(|i| i.submission.title);
        context.insert("done_title", &title.unwrap_or_default());
        context.insert("done_action", action);
    }
    state.render(status, "beheer/meldingen.html", &context, &origin.prefix)
}

/// The open reports grouped by post, the post with the oldest report first.
async fn reported_posts(state: &BeheerState) -> Result<Vec<ReportedPost>, StoreError> {
    let reports = state.moderation.queue.open_reports(REPORTS_SHOWN).await?;
    let mut posts: Vec<(String, Vec<&Report>)> = Vec::new();
    for report in &reports {
        match posts.iter_mut().find(|(id, _)| *id == report.post_id) {
            Some((_, list)) => list.push(report),
            None => posts.push((report.post_id.clone(), vec![report])),
        }
    }
    let mut shown = Vec::with_capacity(posts.len());
    for (id, list) in posts {
        let reports = list.into_iter().map(|r| report_view(state, r)).collect();
        let post = match state.moderation.queue.get(&id).await? {
            Some(item) => ReportedPost {
                title: item.submission.title.clone(),
                status: item.status.as_str(),
                public_url: match item.status {
                    Status::Approved => Some(live_url(state, &item).await),
                    _ => None,
                },
                content_only: false,
                reports,
                id,
            },
            None => content_only(state, id, reports).await,
        };
        shown.push(post);
    }
    Ok(shown)
}

/// The address the post is online at: the one it was first published under, which a
/// revised title does not change. Should the store not say, the address its title gives.
async fn live_url(state: &BeheerState, item: &QueueItem) -> String {
    match state.moderation.live_url(item).await {
        Ok(url) => url,
        Err(error) => {
            tracing::warn!(post = %item.id, %error, "revised address unknown");
            state.moderation.post_url(item)
        }
    }
}

/// A reported post without a queue record, as the content store has it now. A content
/// store that cannot answer leaves it `unknown`, so the reports can still be closed.
async fn content_only(state: &BeheerState, id: String, reports: Vec<ReportView>) -> ReportedPost {
    let now = Utc::now().fixed_offset();
    let live = match state.moderation.publisher.live_post(&id, now).await {
        Ok(live) => live,
        Err(error) => {
            tracing::error!(post = %id, %error, "content store could not say if a post is online");
            None
        }
    };
    ReportedPost {
        title: live.as_ref().map(|p| p.title.clone()).unwrap_or_default(),
        status: if live.is_some() { Status::Approved.as_str() } else { "unknown" },
        content_only: live.is_some(),
        public_url: live.map(|p| p.url),
        reports,
        id,
    }
}

fn report_view(state: &BeheerState, report: &Report) -> ReportView {
    let reasons = &state.preview.words().report_reasons;
    let label = reasons.iter().find(|r| r.key == report.reason).map(|r| r.label.clone());
    let zone = state.moderation.rules.time_zone;
    ReportView {
        at: report.at.with_timezone(&zone).format("%d-%m-%Y %H:%M").to_string(),
        reason: label.unwrap_or_else(|| report.reason.clone()),
        message: report.message.clone(),
    }
}
