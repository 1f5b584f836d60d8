//! The decision forms: approve, reject with a reason, and correct-then-approve. Each
//! answers with a 303 to the next pending post (or the queue), so the moderator sees the
//! outcome of the last decision at the top of the next post.

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::queue::failed;
use super::views::{EDITABLE_FIELDS, changed_fields, form_values, shown_values};
use super::{BeheerState, QUEUE_PATH};
use crate::app::Origin;
use crate::auth::{ModeratorSession, check_csrf};
use crate::form::parse_urlencoded;
use crate::submission::{FormValues, field};
use crate::validate::{FieldErrors, validate};

/// The hidden field every moderation form carries.
pub const CSRF_FIELD: &str = "csrf";
/// The reject form's choice for "my own words".
const OWN_REASON: &str = "anders";

#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    csrf: String,
}

/// POST /beheer/bericht/{id}/goedkeuren
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
    match state.moderation.approve(&id, &session.email, None, Utc::now()).await {
        Ok(_) => to_next(&state, &origin, &id).await,
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

/// A form with a reason for the poster: the reject form, and the take-offline form of a
/// reported post.
#[derive(Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    pub(super) csrf: String,
    /// The index of a ready-made reason, or `anders`.
    #[serde(default)]
    pub(super) reden: String,
    /// Free text: the reason itself with `anders`, otherwise an addition.
    #[serde(default)]
    pub(super) toelichting: String,
}

/// POST /beheer/bericht/{id}/afwijzen
pub async fn reject(
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
        return reject_again(&state, &origin, &session, &id, &form).await;
    };
    match state.moderation.reject(&id, &session.email, &reason, Utc::now()).await {
        Ok(()) => to_next(&state, &origin, &id).await,
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

/// The reason the poster receives: the chosen ready-made text, with the moderator's
/// addition after it, or the moderator's own words. `None` when there is no reason.
pub(super) fn reason_text(reasons: &[String], form: &RejectForm) -> Option<String> {
    let own = crate::submission::trim(&form.toelichting);
    let chosen = form.reden.parse::<usize>().ok().and_then(|i| reasons.get(i));
    match (chosen, own.is_empty()) {
        (Some(text), true) => Some(text.clone()),
        (Some(text), false) => Some(format!("{text}\n\n{own}")),
        (None, false) if form.reden == OWN_REASON || form.reden.is_empty() => Some(own.to_owned()),
        _ => None,
    }
}

/// The post's page again, with a note that a reason is needed.
async fn reject_again(
    state: &BeheerState,
    origin: &Origin,
    session: &ModeratorSession,
    id: &str,
    form: &RejectForm,
) -> Response {
    let item = match state.moderation.item(id).await {
        Ok(item) => item,
        Err(error) => return failed(state, origin, session, &error),
    };
    let mut context = state.context(&origin.prefix, session);
    context
        .insert("item", &super::views::ItemView::new(&item, &state.moderation.rules, Utc::now()));
    context.insert("reasons", &state.moderation.reject_reasons);
    context.insert("reason_missing", &true);
    context.insert("toelichting", &form.toelichting);
    context.insert("preview_problem", &Option::<String>::None);
    state.render(StatusCode::BAD_REQUEST, "beheer/bericht.html", &context, &origin.prefix)
}

/// GET /beheer/bericht/{id}/verbeteren: the post's fields in a form.
pub async fn show_correction(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
) -> Response {
    match state.moderation.item(&id).await {
        Ok(item) => {
            let values = form_values(&item.submission);
            correction_form(&state, &origin, &session, &id, &values, None, StatusCode::OK)
        }
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

/// POST /beheer/bericht/{id}/verbeteren: validate the corrected fields like a submission,
/// store them and approve.
pub async fn correct(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(sent) = parse_urlencoded(&body) else {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    };
    if check_csrf(&session, sent.get(CSRF_FIELD)).is_err() {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    }
    let item = match state.moderation.item(&id).await {
        Ok(item) => item,
        Err(error) => return failed(&state, &origin, &session, &error),
    };
    // Contact details and consent are the resident's and are not edited here.
    let mut values = sent.clone();
    values.set(field::EMAIL, item.submission.email.clone().unwrap_or_default());
    values.set(field::PHONE, item.submission.phone.clone().unwrap_or_default());
    values.set(field::CONSENT, "yes");
    let rules = &state.moderation.rules;
    let today = Utc::now().with_timezone(&rules.time_zone).date_naive();
    let corrected = match validate(&values, rules, today) {
        Ok(corrected) => corrected,
        Err(errors) => {
            let status = StatusCode::BAD_REQUEST;
            return correction_form(&state, &origin, &session, &id, &values, Some(&errors), status);
        }
    };
    let changed = changed_fields(&item.submission, &corrected, &state.labels);
    let correction = Some((&corrected, changed.as_str()));
    match state.moderation.approve(&id, &session.email, correction, Utc::now()).await {
        Ok(_) => to_next(&state, &origin, &id).await,
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

/// The edit form, for a correction or (from `entry`) a desk entry.
pub fn correction_form(
    state: &BeheerState,
    origin: &Origin,
    session: &ModeratorSession,
    id: &str,
    values: &FormValues,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Response {
    let mut context = edit_context(state, origin, session, values, errors);
    context.insert("id", id);
    context.insert("mode", "correct");
    context.insert("action", &format!("{}/beheer/bericht/{id}/verbeteren", origin.prefix));
    state.render(status, "beheer/bewerken.html", &context, &origin.prefix)
}

/// What the edit form needs: the values, the errors by field and in order, the choices.
pub fn edit_context(
    state: &BeheerState,
    origin: &Origin,
    session: &ModeratorSession,
    values: &FormValues,
    errors: Option<&FieldErrors>,
) -> tera::Context {
    let mut context = state.context(&origin.prefix, session);
    let mut fields = EDITABLE_FIELDS.to_vec();
    fields.extend([field::EMAIL, field::PHONE, field::CONSENT]);
    context.insert("values", &shown_values(values, &fields));
    let list: Vec<(&str, &str)> = errors
        .map(|e| e.0.iter().map(|e| (e.field, e.message.as_str())).collect())
        .unwrap_or_default();
    let by_field: std::collections::BTreeMap<&str, &str> = list.iter().copied().collect();
    context.insert("error_list", &list);
    context.insert("errors", &by_field);
    context.insert("labels", &state.labels);
    context.insert("categories", &state.moderation.rules.categories);
    context.insert("municipalities", &state.moderation.rules.municipalities);
    context
}

/// After a decision: the oldest post still waiting, or the queue when none is left.
async fn to_next(state: &BeheerState, origin: &Origin, done: &str) -> Response {
    let next = state
        .moderation
        .queue
        .list_pending(1, None)
        .await
        .ok()
        .and_then(|p| p.items.into_iter().next().map(|item| item.id));
    let target = match next {
        Some(next) => format!("{}/beheer/bericht/{next}?klaar={done}", origin.prefix),
        None => format!("{}{QUEUE_PATH}?klaar={done}", origin.prefix),
    };
    Redirect::to(&target).into_response()
}
