//! The poster's edit of their own post, at `/beheer-bericht/<id>/wijzigen`: the submission
//! form's fields, filled with the post as it stands (or the edit that waits), validated by
//! the same rules, and shown again with every value kept and the errors in Dutch when
//! something is wrong. What an accepted edit does is in [`crate::revise`].
//!
//! Invariants: only the holder of a management link sees or sends the form (the same check
//! and the same 404 as the management page); the token travels in a hidden field, and every
//! answer carries `Cache-Control: no-store` and `Referrer-Policy: no-referrer`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Router, middleware};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::app::{MANAGE_PATH, Origin};
use crate::beheer::views::form_values;
use crate::error::AppError;
use crate::manage::{Manage, ManageState, action_error, authorised, finish, private};
use crate::post_forms::read_form;
use crate::render::FormPage;
use crate::revise::{EditOutcome, changed_fields};
use crate::store::QueueItem;
use crate::submission::{FormValues, REQUEST_MAX_BYTES, field};
use crate::validate::{FieldErrors, validate};

/// The path of the edit form under a post's management page.
pub const EDIT: &str = "wijzigen";
/// The hidden field that carries the management token.
const TOKEN: &str = "token";

/// What `wijzigen.html` sees under `data`, besides `data.form`.
#[derive(Debug, Serialize)]
pub struct EditView {
    /// `waiting` or `online`: whether the edit replaces the queued text or waits itself.
    pub status: &'static str,
    /// True when an earlier edit of the online post still waits; the form shows it.
    pub revision_waiting: bool,
    /// The management page, to go back without changing anything.
    pub manage_url: String,
    /// For the form's hidden field.
    pub token: String,
}

/// The edit form's routes.
pub fn router(state: ManageState) -> Router {
    Router::new()
        .route(&format!("/{MANAGE_PATH}/{{id}}/{EDIT}"), get(show).post(save))
        .layer(DefaultBodyLimit::max(REQUEST_MAX_BYTES))
        .layer(middleware::map_response(private))
        .with_state(state)
}

#[derive(Deserialize)]
pub struct EditQuery {
    token: Option<String>,
}

/// GET the form, filled with the post, or with the edit that waits for a moderator.
async fn show(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
    Query(query): Query<EditQuery>,
) -> Response {
    let result = async {
        let (item, token) = authorised(&state, &id, query.token).await?;
        if !item.status.is_open() {
            return Ok(back(&origin, &item, &token, EditOutcome::Ended(item.status)));
        }
        let waiting = state.moderation.queue.revision(&item.id).await?;
        let current = waiting.as_ref().map(|r| &r.submission).unwrap_or(&item.submission);
        let values = form_values(current);
        let view = edit_view(&origin, &item, token, waiting.is_some());
        form_page(&state, &origin, &item, &values, None, &view, StatusCode::OK)
    };
    finish(&state, &origin, result.await)
}

/// POST the edited post.
async fn save(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let mut values = read_form(&headers, body)?;
        let token = values.get(TOKEN).to_owned();
        let (item, token) = authorised(&state, &id, Some(token)).await?;
        if !item.status.is_open() {
            return Ok(back(&origin, &item, &token, EditOutcome::Ended(item.status)));
        }
        // Consent was given with the post; the edit form does not ask again.
        values.set(field::CONSENT, "yes");
        let moderation = &state.moderation;
        let today = Utc::now().with_timezone(&moderation.rules.time_zone).date_naive();
        let edited = match validate(&values, &moderation.rules, today) {
            Ok(edited) => edited,
            Err(errors) => {
                tracing::info!(fields = errors.0.len(), "poster's edit refused: invalid");
                let waiting = moderation.queue.revision(&item.id).await?.is_some();
                let view = edit_view(&origin, &item, token, waiting);
                let status = StatusCode::BAD_REQUEST;
                return form_page(&state, &origin, &item, &values, Some(&errors), &view, status);
            }
        };
        let labels = state.pages.field_labels();
        let note: Vec<String> = changed_fields(&item.submission, &edited)
            .into_iter()
            .map(|name| labels.get(name).cloned().unwrap_or_else(|| name.to_owned()))
            .collect();
        let outcome = moderation
            .edit_by_poster(&item.id, edited, &note.join(", "), Utc::now())
            .await
            .map_err(action_error)?;
        Ok(back(&origin, &item, &token, outcome))
    };
    finish(&state, &origin, result.await)
}

/// The 303 to the management page, with the outcome for its confirmation line.
fn back(origin: &Origin, item: &QueueItem, token: &str, outcome: EditOutcome) -> Response {
    let location = format!(
        "{}/{MANAGE_PATH}/{}?token={token}&uitkomst={}",
        origin.prefix,
        item.id,
        outcome.key()
    );
    Redirect::to(&location).into_response()
}

fn edit_view(origin: &Origin, item: &QueueItem, token: String, waiting: bool) -> EditView {
    EditView {
        status: if item.status == crate::store::Status::Pending { "waiting" } else { "online" },
        revision_waiting: waiting,
        manage_url: format!("{}/{MANAGE_PATH}/{}?token={token}", origin.prefix, item.id),
        token,
    }
}

fn form_page(
    state: &Manage,
    origin: &Origin,
    item: &QueueItem,
    values: &FormValues,
    errors: Option<&FieldErrors>,
    view: &EditView,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = FormPage {
        values,
        errors,
        note: None,
        action: format!("{}/{MANAGE_PATH}/{}/{EDIT}", origin.prefix, item.id),
        form_token: String::new(),
        submission_id: String::new(),
    };
    let html = state.pages.edit_form(&state.moderation.rules, &page, view)?;
    Ok((status, Html(html)).into_response())
}
