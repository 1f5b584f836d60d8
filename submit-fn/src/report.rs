//! The report route group: a reader tells the moderators that a published post does not
//! belong on the site ("Meld dit bericht"). The report waits in `/beheer/meldingen`, where a
//! moderator takes the post offline or leaves it ([`crate::beheer`]).
//!
//! Invariants: a reason is one of the theme's `report_reasons`; a report is stored once per
//! form nonce, under the same spam checks and a rate limit of its own; a report on a post
//! that is not online stores nothing. A post without a queue record (see
//! [`crate::post_forms`]) is reported like any other: reports are keyed by post id alone.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use generator::text::{clean_block, is_invisible};

use crate::app::Origin;
use crate::error::AppError;
use crate::manage::{Manage, ManageState};
use crate::messages::Rule;
use crate::post_forms::{
    FormView, Notice, OnlinePost, PostState, SENT, page, post_state, read_form, spam_check,
    take_slot,
};
use crate::store::Report;
use crate::submission::{FormValues, field, trim};
use crate::validate::FieldErrors;

/// Where the report form posts: `/melden/<post id>` (see `generator::urls::report`).
pub const REPORT_PATH: &str = "/melden";
/// Reports one address may send per hour.
pub const REPORTS_PER_HOUR: u32 = 10;
/// The longest explanation, in characters.
pub const MESSAGE_MAX_CHARS: usize = 1000;

const TEMPLATE: &str = "melden.html";

/// The report form's fields, in form order.
pub mod fields {
    pub const REASON: &str = "reason";
    pub const MESSAGE: &str = "message";
}

const SHOWN: [&str; 2] = [fields::REASON, fields::MESSAGE];

/// GET the report form with a fresh form time, or the page of a post that is gone.
pub async fn show(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let found = post_state(&state.moderation, &id, Utc::now()).await?;
        let PostState::Online(post) = found else { return Ok(ended(&state, &origin, &id, &found)) };
        let view = form_view(&state, &origin, &post, &FormValues::default(), None, None);
        Ok(page(&state.pages, TEMPLATE, StatusCode::OK, &view, &action(&origin, &id)))
    };
    finish(&state, &origin, &id, result.await)
}

/// POST a report.
pub async fn report(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = accept(&state, &origin, &id, &headers, body).await;
    finish(&state, &origin, &id, result)
}

async fn accept(
    state: &Manage,
    origin: &Origin,
    id: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let values = read_form(headers, body)?;
    let (moderation, now) = (&state.moderation, Utc::now());
    let found = post_state(moderation, id, now).await?;
    let PostState::Online(post) = found else {
        tracing::info!(post = id, reason = "post_not_online", "report refused");
        return Ok(ended(state, origin, id, &found));
    };

    let checked = validate(state, &values);
    let rendered_at = match spam_check(&moderation.secrets, &values, now, "report") {
        Ok(rendered_at) => rendered_at,
        Err(notice) => {
            let status =
                if notice == Notice::Check { StatusCode::OK } else { StatusCode::BAD_REQUEST };
            return Ok(again(
                state,
                origin,
                &post,
                &values,
                checked.err().as_ref(),
                notice,
                status,
            ));
        }
    };
    let (reason, message) = match checked {
        Ok(checked) => checked,
        Err(errors) => {
            tracing::info!(reason = "invalid", fields = errors.0.len(), "report refused");
            let view = form_view(state, origin, &post, &values, Some(&errors), None);
            return Ok(page(
                &state.pages,
                TEMPLATE,
                StatusCode::BAD_REQUEST,
                &view,
                &action(origin, id),
            ));
        }
    };

    let ip_hash = moderation.secrets.ip_hash(&origin.client_ip);
    if !take_slot(moderation.queue.as_ref(), &ip_hash, "melding", REPORTS_PER_HOUR, now).await? {
        tracing::info!(reason = "rate_limited", "report refused");
        let status = StatusCode::TOO_MANY_REQUESTS;
        return Ok(again(state, origin, &post, &values, None, Notice::RateLimited, status));
    }
    let report = Report {
        id: moderation.secrets.post_id(values.get(field::SUBMISSION_ID), rendered_at),
        post_id: post.id.clone(),
        at: now,
        reason,
        message,
        ip_hash,
    };
    if moderation.queue.add_report(&report).await? {
        tracing::info!(post = %post.id, reason = %report.reason, "report stored");
    }
    Ok(Redirect::to(&format!("{}/{SENT}", action(origin, id))).into_response())
}

/// GET the thanks after a report.
pub async fn sent(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
) -> Response {
    let view = FormView::state("sent", None);
    page(&state.pages, TEMPLATE, StatusCode::OK, &view, &action(&origin, &id))
}

/// A reason from the theme's list and an optional explanation of at most
/// [`MESSAGE_MAX_CHARS`], its line breaks kept.
fn validate(state: &Manage, values: &FormValues) -> Result<(String, Option<String>), FieldErrors> {
    let mut errors = FieldErrors::default();
    let sent = trim(values.get(fields::REASON));
    let reason = state.pages.report_reasons().iter().find(|r| r.key == sent).map(|r| r.key.clone());
    if reason.is_none() {
        let rule = if sent.is_empty() { Rule::Required } else { Rule::InvalidChoice };
        errors.push(fields::REASON, rule, None);
    }
    let text = values.get(fields::MESSAGE).replace("\r\n", "\n").replace('\r', "\n");
    let text = clean_block(&text);
    let text = trim(&text);
    let message = (!text.chars().all(is_invisible)).then(|| text.to_owned());
    if text.chars().count() > MESSAGE_MAX_CHARS {
        errors.push(fields::MESSAGE, Rule::TooLong, Some(MESSAGE_MAX_CHARS));
    }
    match reason {
        Some(reason) if errors.0.is_empty() => Ok((reason, message)),
        _ => Err(errors),
    }
}

fn form_view(
    state: &Manage,
    origin: &Origin,
    post: &OnlinePost,
    values: &FormValues,
    errors: Option<&FieldErrors>,
    notice: Option<Notice>,
) -> FormView {
    let secrets = &state.moderation.secrets;
    FormView::form(post, action(origin, &post.id), &SHOWN, values, errors, notice, secrets)
}

fn again(
    state: &Manage,
    origin: &Origin,
    post: &OnlinePost,
    values: &FormValues,
    errors: Option<&FieldErrors>,
    notice: Notice,
    status: StatusCode,
) -> Response {
    let view = form_view(state, origin, post, values, errors, Some(notice));
    page(&state.pages, TEMPLATE, status, &view, &action(origin, &post.id))
}

/// The page for a post that is closed or unknown: nothing to report any more.
fn ended(state: &Manage, origin: &Origin, id: &str, found: &PostState) -> Response {
    let (name, status) = found.page();
    page(&state.pages, TEMPLATE, status, &FormView::state(name, None), &action(origin, id))
}

fn action(origin: &Origin, id: &str) -> String {
    format!("{}{REPORT_PATH}/{id}", origin.prefix)
}

fn finish(
    state: &Manage,
    origin: &Origin,
    id: &str,
    result: Result<Response, AppError>,
) -> Response {
    match result {
        Ok(response) => response,
        Err(error) => error.into_page(&state.pages, &action(origin, id)),
    }
}
