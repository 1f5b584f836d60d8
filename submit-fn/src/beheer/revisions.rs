//! Revisions in `/beheer`: a poster's edit of a published post, shown as such ("Wijziging
//! van een gepubliceerd bericht") with each changed field before and after, a preview of
//! the post as it would look, and the approve and reject forms. The decisions are in
//! [`crate::revise`].
//!
//! Invariant: each form carries the time the shown revision was sent, so a decision is
//! about the version the moderator read; a newer edit by the poster waits for its own.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::decide::{RejectForm, reason_text};
use super::queue::failed;
use super::views::{ItemView, form_values};
use super::{BeheerState, QUEUE_PATH};
use crate::app::Origin;
use crate::auth::{ModeratorSession, check_csrf};
use crate::moderate::ModerateError;
use crate::revise::changed_fields;
use crate::store::{QueueItem, Revised, Revision, format_time, parse_time};

/// The preview is shown in a frame of the revision's page and nowhere else.
const PREVIEW_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'none'; frame-ancestors 'self'; base-uri 'none'";
/// The revision's page may frame the preview, which is on the same origin.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// One changed field: its label, and the value before and after, as the form shows them.
#[derive(Debug, Serialize)]
struct Change {
    label: String,
    before: String,
    after: String,
}

/// GET /beheer/wijziging/{id}: the revision, what it changes, and the decision forms.
pub async fn show(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
) -> Response {
    revision_page(&state, &origin, &session, &id, false, "").await
}

async fn revision_page(
    state: &BeheerState,
    origin: &Origin,
    session: &ModeratorSession,
    id: &str,
    reason_missing: bool,
    toelichting: &str,
) -> Response {
    let (item, revision) = match waiting(state, id).await {
        Ok(found) => found,
        Err(error) => return failed(state, origin, session, &error),
    };
    let mut context = state.context(&origin.prefix, session);
    let rules = &state.moderation.rules;
    context.insert("item", &ItemView::new(&item, rules, Utc::now()));
    context.insert("changes", &changes(state, &item, &revision));
    context.insert("received", &received(state, &revision));
    context.insert("received_at", &format_time(revision.received_at));
    context.insert("reasons", &state.moderation.reject_reasons);
    context.insert("reason_missing", &reason_missing);
    context.insert("toelichting", toelichting);
    context.insert("preview_problem", &preview_html(state, &item, &revision).await.err());
    let status = if reason_missing { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut response = state.render(status, "beheer/wijziging.html", &context, &origin.prefix);
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    response
}

/// GET /beheer/wijziging/{id}/voorbeeld: the post as the site would show it after approval.
pub async fn preview(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
) -> Response {
    let (item, revision) = match waiting(&state, &id).await {
        Ok(found) => found,
        Err(error) => return failed(&state, &origin, &session, &error),
    };
    match preview_html(&state, &item, &revision).await {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PREVIEW_CSP));
            response
        }
        Err(_) => revision_page(&state, &origin, &session, &id, false, "").await,
    }
}

#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    csrf: String,
    /// The shown revision's time, as `format_time` wrote it.
    #[serde(default)]
    ontvangen: String,
}

/// POST /beheer/wijziging/{id}/goedkeuren
pub async fn approve(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Response {
    if check_csrf(&session, &form.csrf).is_err() {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    }
    let Ok(received_at) = parse_time(&id, &form.ontvangen) else {
        return failed(&state, &origin, &session, &ModerateError::RevisionGone(id));
    };
    let moderation = &state.moderation;
    match moderation.approve_revision(&id, received_at, &session.email, Utc::now()).await {
        Ok(_) => done(&origin, "goedgekeurd"),
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

#[derive(Deserialize)]
pub struct RejectRevisionForm {
    #[serde(flatten)]
    reject: RejectForm,
    #[serde(default)]
    ontvangen: String,
}

/// POST /beheer/wijziging/{id}/afwijzen
pub async fn reject(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
    Form(form): Form<RejectRevisionForm>,
) -> Response {
    if check_csrf(&session, &form.reject.csrf).is_err() {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    }
    let Some(reason) = reason_text(&state.moderation.reject_reasons, &form.reject) else {
        let toelichting = form.reject.toelichting.clone();
        return revision_page(&state, &origin, &session, &id, true, &toelichting).await;
    };
    let Ok(received_at) = parse_time(&id, &form.ontvangen) else {
        return failed(&state, &origin, &session, &ModerateError::RevisionGone(id));
    };
    let (moderation, now) = (&state.moderation, Utc::now());
    match moderation.reject_revision(&id, received_at, &session.email, &reason, now).await {
        Ok(()) => done(&origin, "afgewezen"),
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

/// Back to the queue, which confirms the decision at the top.
fn done(origin: &Origin, decision: &str) -> Response {
    Redirect::to(&format!("{}{QUEUE_PATH}?wijziging={decision}", origin.prefix)).into_response()
}

/// The post and its waiting revision, or why there is none to show.
async fn waiting(state: &BeheerState, id: &str) -> Result<(QueueItem, Revision), ModerateError> {
    let item = state.moderation.item(id).await?;
    match state.moderation.queue.revision(id).await? {
        Some(revision) => Ok((item, revision)),
        None => Err(ModerateError::RevisionGone(id.to_owned())),
    }
}

fn received(state: &BeheerState, revision: &Revision) -> String {
    let local = revision.received_at.with_timezone(&state.moderation.rules.time_zone);
    local.format("%d-%m-%Y %H:%M").to_string()
}

/// Every field the revision changes, with the values as the edit form shows them.
fn changes(state: &BeheerState, item: &QueueItem, revision: &Revision) -> Vec<Change> {
    let (before, after) = (form_values(&item.submission), form_values(&revision.submission));
    changed_fields(&item.submission, &revision.submission)
        .into_iter()
        .map(|name| Change {
            label: state.labels.get(name).cloned().unwrap_or_else(|| name.to_owned()),
            before: before.get(name).to_owned(),
            after: after.get(name).to_owned(),
        })
        .collect()
}

/// The theme's post page for the revised text, with the post's own date and address, or
/// the content problem that would stop its approval.
async fn preview_html(
    state: &BeheerState,
    item: &QueueItem,
    revision: &Revision,
) -> Result<String, String> {
    let moderation = &state.moderation;
    let zone = moderation.rules.time_zone;
    let published_at = item.decision.as_ref().map(|d| d.at).unwrap_or_else(Utc::now);
    let published_at = published_at.with_timezone(&zone).fixed_offset();
    let slug = moderation.live_slug(item).await.map_err(|e| e.to_string())?;
    let revised = Revised { at: Utc::now(), slug };
    let text = crate::publish::revised_post_file(
        &item.id,
        &revision.submission,
        published_at,
        Some(&revised),
    );
    state.preview.post_page(&item.id, &text).map_err(|e| e.to_string())
}
