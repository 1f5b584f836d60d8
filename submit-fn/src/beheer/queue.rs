//! The queue (oldest first, with counts and ages), one post with its preview, and the
//! preview itself: the theme's post page for the queued text.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::views::ItemView;
use super::{BeheerState, QUEUE_PATH};
use crate::app::Origin;
use crate::auth::ModeratorSession;
use crate::moderate::ModerateError;
use crate::store::{QueueItem, Status};

/// Pending posts on one queue page.
const QUEUE_PAGE: usize = 25;
/// Waiting revisions listed above the queue, oldest first.
const REVISIONS_SHOWN: usize = 50;
/// The open reports read to count the reported posts beside the queue's link to them.
const REPORTS_COUNTED: usize = 200;

/// The preview is shown in a frame of the post's page and nowhere else.
const PREVIEW_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'none'; frame-ancestors 'self'; base-uri 'none'";
/// The post's page may frame the preview, which is on the same origin.
const ITEM_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Deserialize)]
pub struct QueueQuery {
    /// Cursor of the next queue page.
    na: Option<String>,
    /// The post just decided, to confirm it at the top.
    klaar: Option<String>,
    /// The decision just taken on a revision (`goedgekeurd`, `afgewezen`).
    wijziging: Option<String>,
}

/// GET /beheer: the pending posts, oldest first.
pub async fn list(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Query(query): Query<QueueQuery>,
) -> Response {
    let queue = &state.moderation.queue;
    let result = async {
        let page = queue.list_pending(QUEUE_PAGE, query.na.as_deref()).await?;
        let counts = [
            ("pending", queue.count(Status::Pending).await?),
            ("approved", queue.count(Status::Approved).await?),
            ("rejected", queue.count(Status::Rejected).await?),
        ];
        let done = match &query.klaar {
            Some(id) => queue.get(id).await?,
            None => None,
        };
        let reports = queue.open_reports(REPORTS_COUNTED).await?;
        let reported: std::collections::BTreeSet<&str> =
            reports.iter().map(|r| r.post_id.as_str()).collect();
        let revisions = revision_rows(&state, REVISIONS_SHOWN).await?;
        Ok::<_, crate::store::StoreError>((page, counts, done, reported.len(), revisions))
    };
    let (page, counts, done, reported, revisions) = match result.await {
        Ok(found) => found,
        Err(error) => return store_failed(&state, &origin, &error),
    };
    let now = Utc::now();
    let rules = &state.moderation.rules;
    let mut context = state.context(&origin.prefix, &session);
    let rows: Vec<ItemView> = page.items.iter().map(|i| ItemView::new(i, rules, now)).collect();
    context.insert("items", &rows);
    context.insert("counts", &counts.iter().copied().collect::<std::collections::BTreeMap<_, _>>());
    context.insert("next", &page.next);
    context.insert("reported", &reported);
    context.insert("revisions", &revisions);
    let decided = query.wijziging.as_deref().filter(|d| ["goedgekeurd", "afgewezen"].contains(d));
    context.insert("revision_decided", &decided);
    insert_done(&state, &mut context, done.as_ref());
    state.render(StatusCode::OK, "beheer/wachtrij.html", &context, &origin.prefix)
}

/// One waiting revision as the queue lists it: the post's id and current title, and how
/// long the edit waits.
#[derive(Debug, serde::Serialize)]
struct RevisionRow {
    id: String,
    title: String,
    age: super::views::Age,
}

async fn revision_rows(
    state: &BeheerState,
    limit: usize,
) -> Result<Vec<RevisionRow>, crate::store::StoreError> {
    let queue = &state.moderation.queue;
    let now = Utc::now();
    let mut rows = Vec::new();
    for revision in queue.revisions(limit).await? {
        let title = match queue.get(&revision.post_id).await? {
            Some(item) => item.submission.title,
            None => revision.submission.title,
        };
        let age = super::views::Age::between(revision.received_at, now);
        rows.push(RevisionRow { id: revision.post_id, title, age });
    }
    Ok(rows)
}

/// GET /beheer/bericht/{id}: the post, its preview, and the decision forms.
pub async fn show(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
    Query(query): Query<QueueQuery>,
) -> Response {
    let item = match state.moderation.item(&id).await {
        Ok(item) => item,
        Err(error) => return failed(&state, &origin, &session, &error),
    };
    let done = match &query.klaar {
        Some(done) => state.moderation.queue.get(done).await.ok().flatten(),
        None => None,
    };
    let mut context = state.context(&origin.prefix, &session);
    context.insert("item", &ItemView::new(&item, &state.moderation.rules, Utc::now()));
    context.insert("reasons", &state.moderation.reject_reasons);
    context.insert("preview_problem", &preview_html(&state, &item).err());
    insert_done(&state, &mut context, done.as_ref());
    let mut response =
        state.render(StatusCode::OK, "beheer/bericht.html", &context, &origin.prefix);
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(ITEM_CSP));
    response
}

/// GET /beheer/bericht/{id}/voorbeeld: the page as the site would show it.
pub async fn preview(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
) -> Response {
    let item = match state.moderation.item(&id).await {
        Ok(item) => item,
        Err(error) => return failed(&state, &origin, &session, &error),
    };
    match preview_html(&state, &item) {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PREVIEW_CSP));
            response
        }
        Err(problem) => {
            let mut context = state.context(&origin.prefix, &session);
            context.insert("item", &ItemView::new(&item, &state.moderation.rules, Utc::now()));
            context.insert("preview_problem", &problem);
            context.insert("reasons", &state.moderation.reject_reasons);
            state.render(StatusCode::OK, "beheer/bericht.html", &context, &origin.prefix)
        }
    }
}

/// The theme's post page for the item, or the content problem that would stop it being
/// published (shown to the moderator as is: it names the field).
fn preview_html(state: &BeheerState, item: &QueueItem) -> Result<String, String> {
    let published_at = item
        .decision
        .as_ref()
        .map(|d| d.at)
        .unwrap_or_else(Utc::now)
        .with_timezone(&state.moderation.rules.time_zone)
        .fixed_offset();
    let text = crate::publish::post_file(&item.id, &item.submission, published_at);
    state.preview.post_page(&item.id, &text).map_err(|e| e.to_string())
}

/// Puts the post just decided, and its public address when it was approved, in `context`.
fn insert_done(state: &BeheerState, context: &mut tera::Context, done: Option<&QueueItem>) {
    let Some(item) = done else { return };
    let view = ItemView::new(item, &state.moderation.rules, Utc::now());
    let url = (item.status == Status::Approved).then(|| public_url(state, item)).flatten();
    context.insert("done", &view);
    context.insert("done_url", &url);
}

/// Where an approved post is on the public site: the same slug the publisher writes.
pub fn public_url(state: &BeheerState, item: &QueueItem) -> Option<String> {
    let now = Utc::now().with_timezone(&state.moderation.rules.time_zone).fixed_offset();
    let text = crate::publish::post_file(&item.id, &item.submission, now);
    let site = state.preview.site();
    let post = generator::post::parse(site, std::path::Path::new("preview.md"), &text).ok()?;
    Some(site.absolute(&generator::urls::post(&post.slug)))
}

/// A decision or lookup that failed, as a page the moderator understands.
pub fn failed(
    state: &BeheerState,
    origin: &Origin,
    session: &ModeratorSession,
    error: &ModerateError,
) -> Response {
    let mut context = state.context(&origin.prefix, session);
    let status = match error {
        ModerateError::NotFound(_) => {
            context.insert("problem", "not_found");
            StatusCode::NOT_FOUND
        }
        ModerateError::AlreadyDecided { id, status, by } => {
            context.insert("problem", "already_decided");
            context.insert("status", status.as_str());
            context.insert("by", by);
            context.insert("id", id);
            StatusCode::CONFLICT
        }
        ModerateError::Publish { id, source } | ModerateError::Unpublish { id, source } => {
            tracing::error!(id, error = %source, "publishing failed; the previous site stays online");
            context.insert("problem", "publish_failed");
            context.insert("id", id);
            context.insert("cause", &source.to_string());
            StatusCode::INTERNAL_SERVER_ERROR
        }
        ModerateError::Unpublishable { id, source } => {
            tracing::info!(id, error = %source, "approval refused: the post cannot be published");
            context.insert("problem", "unpublishable");
            context.insert("id", id);
            context.insert("cause", &source.to_string());
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ModerateError::RevisionGone(id) => {
            context.insert("problem", "revision_gone");
            context.insert("id", id);
            StatusCode::CONFLICT
        }
        ModerateError::Store(error) => return store_failed(state, origin, error),
    };
    context.insert("queue_url", &format!("{}{QUEUE_PATH}", origin.prefix));
    state.render(status, "beheer/probleem.html", &context, &origin.prefix)
}

fn store_failed(
    state: &BeheerState,
    origin: &Origin,
    error: &crate::store::StoreError,
) -> Response {
    tracing::error!(error = %error, "queue store failed");
    state.auth.pages.server_error(&origin.prefix)
}
