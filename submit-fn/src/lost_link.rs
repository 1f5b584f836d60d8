//! The lost-link page at `/link-kwijt`: a poster who lost their private management link
//! types the e-mail address they gave, and the function mails a fresh link for each of
//! that address's open posts. Which links open a post, and why the first one keeps
//! working, is in [`crate::store::links`].
//!
//! Invariants: the page answers the same, in words and in time, whether or not the address
//! is known, so it never tells who posted: the lookup and the mail run in a task of their
//! own and the answer waits until [`ANSWER_AFTER`] has passed since the request began,
//! however long they take; the form has the submission form's spam checks and a rate limit
//! per salted client address, and the mail a limit per (keyed hash of the) address, so the
//! page cannot be used to flood someone's inbox; neither address is logged or stored.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Router, middleware};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use email_address::EmailAddress;
use serde::Serialize;

use crate::app::{MANAGE_PATH, Origin};
use crate::error::AppError;
use crate::manage::{Manage, ManageState, private};
use crate::messages::Rule;
use crate::post_forms::{ErrorView, Notice, read_form, spam_check, take_slot};
use crate::poster::POSTER_ACTOR;
use crate::spam::{is_valid_nonce, new_nonce, token_hash};
use crate::store::AuditAction;
use crate::submission::{SHORT_FIELD_MAX_CHARS, field, trim};
use crate::validate::FieldErrors;

/// Where the page answers, relative to the site root (see `generator::urls`).
pub const LOST_LINK_PATH: &str = "/link-kwijt";
/// Requests one client address may send per hour.
pub const REQUESTS_PER_HOUR: u32 = 5;
/// Mails one e-mail address may receive per day from this page.
pub const MAILS_PER_ADDRESS_PER_DAY: u32 = 3;
/// Every accepted request is answered this long after it arrived, whether the address is
/// known or not: longer than a lookup and a mail take, so the time says nothing.
pub const ANSWER_AFTER: StdDuration = StdDuration::from_secs(2);
/// The form is one address and a few hidden fields.
const FORM_MAX_BYTES: usize = 4 * 1024;
const EMAIL: &str = field::EMAIL;

/// What `link-kwijt.html` sees under `data`.
#[derive(Debug, Serialize)]
pub struct LostLinkView {
    /// `form`, or `sent` after an accepted request.
    pub state: &'static str,
    pub action: String,
    pub values: BTreeMap<&'static str, String>,
    pub errors: BTreeMap<&'static str, String>,
    pub error_list: Vec<ErrorView>,
    pub hidden: BTreeMap<&'static str, String>,
    /// The key of a [`Notice`].
    pub notice: Option<&'static str>,
}

/// The page's routes.
pub fn router(state: ManageState) -> Router {
    Router::new()
        .route(LOST_LINK_PATH, get(show).post(request))
        .layer(DefaultBodyLimit::max(FORM_MAX_BYTES))
        .layer(middleware::map_response(private))
        .with_state(state)
}

/// GET the form with a fresh form time.
async fn show(State(state): State<ManageState>, origin: Origin) -> Response {
    let view = form_view(&state, &origin, &Default::default(), None, None);
    page(&state, &origin, StatusCode::OK, &view)
}

/// POST an address.
async fn request(
    State(state): State<ManageState>,
    origin: Origin,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = tokio::time::Instant::now();
    let values = match read_form(&headers, body) {
        Ok(values) => values,
        Err(error) => return error.into_page(&state.pages, &action(&origin)),
    };
    let now = Utc::now();
    let checked = checked_address(&values);
    if let Err(notice) = spam_check(&state.moderation.secrets, &values, now, "lost_link") {
        let status = if notice == Notice::Check { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        let view = form_view(&state, &origin, &values, checked.err().as_ref(), Some(notice));
        return page(&state, &origin, status, &view);
    }
    let address = match checked {
        Ok(address) => address,
        Err(errors) => {
            let view = form_view(&state, &origin, &values, Some(&errors), None);
            return page(&state, &origin, StatusCode::BAD_REQUEST, &view);
        }
    };
    let moderation = &state.moderation;
    let ip_hash = moderation.secrets.ip_hash(&origin.client_ip);
    match take_slot(moderation.queue.as_ref(), &ip_hash, "linkkwijt", REQUESTS_PER_HOUR, now).await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(reason = "rate_limited", "lost-link request refused");
            let view = form_view(&state, &origin, &values, None, Some(Notice::RateLimited));
            return page(&state, &origin, StatusCode::TOO_MANY_REQUESTS, &view);
        }
        Err(error) => return AppError::from(error).into_page(&state.pages, &action(&origin)),
    }

    // Off the request path: the answer must not wait for (and so reveal) the work.
    let work = tokio::spawn(send_links(state.clone(), address, now));
    let _ = tokio::time::timeout_at(started + ANSWER_AFTER, work).await;
    tokio::time::sleep_until(started + ANSWER_AFTER).await;
    let mut view = form_view(&state, &origin, &Default::default(), None, None);
    view.state = "sent";
    page(&state, &origin, StatusCode::OK, &view)
}

/// Mails fresh links for the open posts of `address`, within its daily limit. Failures
/// are logged, never shown: the answer is the same either way.
async fn send_links(state: ManageState, address: String, now: DateTime<Utc>) {
    if let Err(error) = try_send_links(&state, &address, now).await {
        tracing::error!(%error, "lost links not sent");
    }
}

async fn try_send_links(state: &Manage, address: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    let moderation = &state.moderation;
    let key = address.to_lowercase();
    let address_hash = moderation.secrets.ip_hash(&format!("mail:{key}"));
    let window = format!("linkmail-{}", now.format("%Y-%m-%d"));
    let until = now + chrono::Duration::days(2);
    let queue = moderation.queue.as_ref();
    if !queue.take_rate_slot(&address_hash, &window, MAILS_PER_ADDRESS_PER_DAY, until).await? {
        tracing::info!(reason = "address_limit", "lost links not sent");
        return Ok(());
    }
    let posts = queue.open_posts_by_email(address).await?;
    if posts.is_empty() {
        tracing::info!(posts = 0, "lost-link request for an address without open posts");
        return Ok(());
    }
    let mut links = Vec::with_capacity(posts.len());
    for item in &posts {
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        if !queue.set_resent_token(&item.id, &token_hash(&token), now).await? {
            continue;
        }
        moderation.audit(POSTER_ACTOR, AuditAction::LinkResent, &item.id, None, now).await?;
        let url = format!("{}{MANAGE_PATH}/{}?token={token}", moderation.site_root, item.id);
        links.push((item.submission.title.clone(), url));
    }
    // The address as the poster gave it with their first post, which is known to work.
    let to = posts[0].submission.email.clone().unwrap_or_else(|| address.to_owned());
    let mail = moderation.mails.links_mail(&to, &links);
    moderation.send(&posts[0].id, mail).await;
    tracing::info!(posts = links.len(), "lost links mailed");
    Ok(())
}

/// The typed address, trimmed, when it looks like one.
fn checked_address(values: &crate::submission::FormValues) -> Result<String, FieldErrors> {
    let typed = trim(values.get(EMAIL));
    let mut errors = FieldErrors::default();
    if typed.is_empty() {
        errors.push(EMAIL, Rule::Required, None);
    } else if typed.chars().count() > SHORT_FIELD_MAX_CHARS {
        errors.push(EMAIL, Rule::TooLong, Some(SHORT_FIELD_MAX_CHARS));
    } else if !EmailAddress::is_valid(typed) {
        errors.push(EMAIL, Rule::InvalidEmail, None);
    }
    if errors.0.is_empty() { Ok(typed.to_owned()) } else { Err(errors) }
}

fn form_view(
    state: &Manage,
    origin: &Origin,
    values: &crate::submission::FormValues,
    errors: Option<&FieldErrors>,
    notice: Option<Notice>,
) -> LostLinkView {
    let errors = errors.map(|e| e.0.as_slice()).unwrap_or_default();
    let nonce = values.get(field::SUBMISSION_ID);
    let nonce = if is_valid_nonce(nonce) { nonce.to_owned() } else { new_nonce() };
    let secrets = &state.moderation.secrets;
    LostLinkView {
        state: "form",
        action: action(origin),
        values: BTreeMap::from([(EMAIL, values.get(EMAIL).to_owned())]),
        errors: errors.iter().map(|e| (e.field, e.message.clone())).collect(),
        error_list: errors
            .iter()
            .map(|e| ErrorView { field: e.field, message: e.message.clone() })
            .collect(),
        hidden: BTreeMap::from([
            (field::FORM_TOKEN, secrets.issue_form_token(Utc::now())),
            (field::SUBMISSION_ID, nonce),
        ]),
        notice: notice.map(Notice::key),
    }
}

fn action(origin: &Origin) -> String {
    format!("{}{LOST_LINK_PATH}", origin.prefix)
}

fn page(state: &Manage, origin: &Origin, status: StatusCode, view: &LostLinkView) -> Response {
    match state.pages.lost_link(view) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => AppError::from(error).into_page(&state.pages, &action(origin)),
    }
}
