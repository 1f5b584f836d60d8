//! The submission route group: show the form, take a submission through the spam checks,
//! validation, rate limit and queue, and show the confirmation.
//!
//! Invariant: a 303 to the confirmation is sent only after the queue holds the item, and a
//! refused submission always comes back as the form with every value kept (DESIGN.md).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::app::{AppState, CONFIRMATION_PATH, MANAGE_PATH, Origin, SUBMIT_PATH};
use crate::error::AppError;
use crate::form::{body_format, parse_body};
use crate::messages::{Note, note_message};
use crate::render::FormPage;
use crate::spam::{TokenProblem, is_valid_nonce, new_nonce, token_hash, token_matches};
use crate::store::{Created, QueueItem, Status};
use crate::submission::{FormValues, Kind, Submission, field};
use crate::validate::{FieldErrors, validate};

#[derive(Deserialize)]
pub struct FormQuery {
    kind: Option<String>,
}

/// GET the theme's form with a fresh token and nonce, so `buurtbord serve` can stand in
/// for the static page. `?kind=offer` chooses the kind; anything else means a request.
pub async fn show_form(
    State(app): State<AppState>,
    origin: Origin,
    Query(query): Query<FormQuery>,
) -> Response {
    let kind = query.kind.as_deref().and_then(Kind::parse).unwrap_or(Kind::Request);
    let mut values = FormValues::default();
    values.set(field::KIND, kind.as_str());
    form_response(&app, &origin, StatusCode::OK, &values, None, None)
}

/// POST a submission.
pub async fn submit(
    State(app): State<AppState>,
    origin: Origin,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match accept(&app, &origin, &headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_page(&app.pages, &form_url(&origin)),
    }
}

async fn accept(
    app: &AppState,
    origin: &Origin,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        _ => AppError::Form(crate::form::FormError::NotUtf8),
    })?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let values = parse_body(body_format(content_type)?, &body)?;
    let now = Utc::now();

    let checked = validate(&values, &app.rules, today(app, now));
    let rendered_at = match spam_check(app, &values, now) {
        Ok(rendered_at) => rendered_at,
        Err(note) => {
            // What else is wrong is shown now too, so the resident fixes it all in one go.
            let errors = checked.err();
            let status = StatusCode::BAD_REQUEST;
            let note = Some(note_message(note));
            return Ok(form_response(app, origin, status, &values, errors.as_ref(), note));
        }
    };
    let submission = match checked {
        Ok(submission) => submission,
        Err(errors) => {
            tracing::info!(reason = "invalid", fields = errors.0.len(), "submission refused");
            let status = StatusCode::BAD_REQUEST;
            return Ok(form_response(app, origin, status, &values, Some(&errors), None));
        }
    };

    let nonce = values.get(field::SUBMISSION_ID).to_owned();
    let item = queue_item(app, origin, &nonce, rendered_at, submission, now);
    if let Some(existing) = app.store.get(&item.id).await? {
        return Ok(repeat(app, origin, &values, &item, &existing));
    }
    if !take_rate_slot(app, &item.ip_hash, now).await? {
        tracing::info!(reason = "rate_limited", "submission refused");
        let status = StatusCode::TOO_MANY_REQUESTS;
        return Ok(refuse(app, origin, &values, Note::RateLimited, status));
    }
    match app.store.create(&item).await? {
        Created::Stored => {
            tracing::info!(id = %item.id, "submission queued");
            if let Some(notifier) = &app.notifier {
                let token = app.secrets.management_token(&item.nonce);
                notifier.received(&item, &manage_url(app, &item.id, &token)).await;
                notifier.new_post(app.store.as_ref()).await;
            }
            Ok(confirm(app, origin, &item))
        }
        Created::AlreadyReceived(existing) => Ok(repeat(app, origin, &values, &item, &existing)),
    }
}

/// The honeypot, the signed timestamp and the nonce. Returns when the form was rendered.
fn spam_check(app: &AppState, values: &FormValues, now: DateTime<Utc>) -> Result<i64, Note> {
    if !values.get(field::HONEYPOT).is_empty() {
        tracing::info!(reason = "honeypot", "submission refused");
        return Err(Note::Honeypot);
    }
    let rendered_at =
        app.secrets.check_form_token(values.get(field::FORM_TOKEN), now).map_err(|problem| {
            let (reason, note) = match problem {
                TokenProblem::Invalid => ("no_valid_form_token", Note::CheckAndResend),
                TokenProblem::TooFast => ("too_fast", Note::TooFast),
                TokenProblem::Expired => ("form_expired", Note::ExpiredForm),
            };
            tracing::info!(reason, "submission refused");
            note
        })?;
    if !is_valid_nonce(values.get(field::SUBMISSION_ID)) {
        tracing::info!(reason = "no_valid_nonce", "submission refused");
        return Err(Note::CheckAndResend);
    }
    Ok(rendered_at)
}

fn queue_item(
    app: &AppState,
    origin: &Origin,
    nonce: &str,
    rendered_at: i64,
    submission: Submission,
    now: DateTime<Utc>,
) -> QueueItem {
    let fingerprint = serde_json::to_vec(&submission).map(|json| hex(&Sha256::digest(json)));
    QueueItem {
        id: app.secrets.post_id(nonce, rendered_at),
        nonce: nonce.to_owned(),
        status: Status::Pending,
        received_at: now,
        token_hash: token_hash(&app.secrets.management_token(nonce)),
        ip_hash: app.secrets.ip_hash(&origin.client_ip),
        fingerprint: fingerprint.unwrap_or_default(),
        submission,
        decision: None,
    }
}

/// The same nonce again: the same content is a retry and gets the same confirmation;
/// other content reusing the nonce is refused, so a nonce never reveals another's link.
fn repeat(
    app: &AppState,
    origin: &Origin,
    values: &FormValues,
    item: &QueueItem,
    existing: &QueueItem,
) -> Response {
    if existing.fingerprint == item.fingerprint && existing.nonce == item.nonce {
        tracing::info!(id = %existing.id, "submission already received");
        return confirm(app, origin, existing);
    }
    tracing::info!(reason = "nonce_reused", "submission refused");
    let mut values = values.clone();
    values.set(field::SUBMISSION_ID, new_nonce());
    refuse(app, origin, &values, Note::NonceReused, StatusCode::BAD_REQUEST)
}

async fn take_rate_slot(
    app: &AppState,
    ip_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let window = now.format("%Y-%m-%dT%H").to_string();
    let expires_at = now + Duration::hours(2);
    Ok(app.store.take_rate_slot(ip_hash, &window, app.posts_per_hour, expires_at).await?)
}

fn confirm(app: &AppState, origin: &Origin, item: &QueueItem) -> Response {
    let token = app.secrets.management_token(&item.nonce);
    let location = format!("{}{CONFIRMATION_PATH}/{}?token={token}", origin.prefix, item.id);
    Redirect::to(&location).into_response()
}

fn refuse(
    app: &AppState,
    origin: &Origin,
    values: &FormValues,
    note: Note,
    status: StatusCode,
) -> Response {
    form_response(app, origin, status, values, None, Some(note_message(note)))
}

/// The form page with fresh hidden fields: a new timestamp, and the nonce kept when valid
/// so a resubmission of the same post is still recognised.
fn form_response(
    app: &AppState,
    origin: &Origin,
    status: StatusCode,
    values: &FormValues,
    errors: Option<&FieldErrors>,
    note: Option<String>,
) -> Response {
    let nonce = values.get(field::SUBMISSION_ID);
    let page = FormPage {
        values,
        errors,
        note,
        action: form_url(origin),
        form_token: app.secrets.issue_form_token(Utc::now()),
        submission_id: if is_valid_nonce(nonce) { nonce.to_owned() } else { new_nonce() },
    };
    match app.pages.form(&app.rules, &page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => AppError::from(error).into_page(&app.pages, &form_url(origin)),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// GET the confirmation: shown only to whoever holds the management token.
pub async fn confirmation(
    State(app): State<AppState>,
    origin: Origin,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let result = async {
        let token = query.token.ok_or(AppError::NotFound)?;
        let item = app.store.get(&id).await?.ok_or(AppError::NotFound)?;
        if !token_matches(&token, &item.token_hash) {
            return Err(AppError::NotFound);
        }
        // The link goes out by mail only where serve or the cloud function can mail.
        let mailed = item.submission.email.is_some() && app.notifier.is_some();
        let html = app.pages.confirmation(&manage_url(&app, &id, &token), mailed)?;
        // The page holds a secret link: keep it out of caches and Referer headers.
        let headers =
            [(header::CACHE_CONTROL, "no-store"), (header::REFERRER_POLICY, "no-referrer")];
        Ok::<_, AppError>((headers, Html(html)).into_response())
    };
    match result.await {
        Ok(response) => response,
        Err(error) => error.into_page(&app.pages, &form_url(&origin)),
    }
}

/// The poster's private management link, absolute, as the page and the mail give it.
fn manage_url(app: &AppState, id: &str, token: &str) -> String {
    format!("{}{MANAGE_PATH}/{id}?token={token}", app.pages.site_root())
}

fn form_url(origin: &Origin) -> String {
    format!("{}{SUBMIT_PATH}", origin.prefix)
}

fn today(app: &AppState, now: DateTime<Utc>) -> chrono::NaiveDate {
    now.with_timezone(&app.rules.time_zone).date_naive()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
