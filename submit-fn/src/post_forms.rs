//! What the two forms on a published post's page share: the response form
//! ([`crate::respond`]) and the report form ([`crate::report`]). Here: their routes, whether
//! the post is still online, the spam checks of the submission form (honeypot, signed form
//! time, nonce), the rate limit per salted address, and the page the function shows them on.
//!
//! A post is online when its queue record says so, or, without a queue record, when the
//! content store holds it unexpired (the sample posts, a post written by hand or imported):
//! readers cannot tell the two apart, so both take responses and reports.
//!
//! Invariants: a form for a post that is not online stores and mails nothing and says so
//! kindly; the page's view carries the post's public title and display name and nothing
//! else of the post, so the poster's address and phone number cannot reach it; every
//! refusal comes back as the form with every value kept. The static post page cannot carry
//! a signed form time, so its first press comes back as the form, filled in, with a fresh
//! one: the same rule as the submission form's static copy.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::error::AppError;
use crate::form::{body_format, parse_body};
use crate::manage::ManageState;
use crate::moderate::Moderation;
use crate::render::Pages;
use crate::spam::{Secrets, TokenProblem, is_valid_nonce, new_nonce};
use crate::store::{QueueItem, QueueStore, Status, StoreError};
use crate::submission::{FormValues, field};
use crate::validate::FieldErrors;

/// A form on a post page is a few short fields; anything much larger is not ours.
const FORM_MAX_BYTES: usize = 16 * 1024;

/// The response and report routes. They share the management routes' state: the queue,
/// the mailer and the theme's pages.
pub fn router(state: ManageState) -> Router {
    let respond = format!("{}/{{id}}", crate::respond::RESPOND_PATH);
    let report = format!("{}/{{id}}", crate::report::REPORT_PATH);
    Router::new()
        .route(&respond, get(crate::respond::show).post(crate::respond::respond))
        .route(&format!("{respond}/{SENT}"), get(crate::respond::sent))
        .route(&report, get(crate::report::show).post(crate::report::report))
        .route(&format!("{report}/{SENT}"), get(crate::report::sent))
        .layer(DefaultBodyLimit::max(FORM_MAX_BYTES))
        .with_state(state)
}

/// The path under a form's address that thanks the sender.
pub const SENT: &str = "verstuurd";

/// Where a post stands for a reader who wants to respond to it or report it.
pub enum PostState {
    /// On the site.
    Online(OnlinePost),
    /// Withdrawn, helped, expired, rejected or taken offline.
    Closed,
    /// No such post, or one that was never published.
    Unknown,
}

impl PostState {
    /// The state's name in the theme's templates, and the status it is answered with.
    pub fn page(&self) -> (&'static str, StatusCode) {
        match self {
            PostState::Online(_) => ("form", StatusCode::OK),
            PostState::Closed => ("closed", StatusCode::GONE),
            PostState::Unknown => ("unknown", StatusCode::NOT_FOUND),
        }
    }
}

/// A post on the site, as the forms on its page know it.
pub struct OnlinePost {
    pub id: String,
    /// What the form page names.
    pub public: PublicPost,
    pub source: Source,
}

/// What stands behind an online post, which decides who receives a response.
pub enum Source {
    /// An approved queue record: a post from the form or the desk, with its poster.
    Queue(Box<QueueItem>),
    /// Only the content store, at public address `url`: nobody to mail but the centre.
    Content { url: String },
}

/// Looks up post `id` as the site shows it at `now`: an approved post past its date is
/// closed, as the generator has taken it off. The queue decides for a post it holds; the
/// content store for one it does not.
pub async fn post_state(
    moderation: &Moderation,
    id: &str,
    now: DateTime<Utc>,
) -> Result<PostState, AppError> {
    let Some(item) = moderation.queue.get(id).await? else {
        let live = moderation.publisher.live_post(id, now.fixed_offset()).await?;
        return Ok(live.map_or(PostState::Unknown, |post| {
            let public = PublicPost { title: post.title, display_name: post.display_name };
            let source = Source::Content { url: post.url };
            PostState::Online(OnlinePost { id: post.id, public, source })
        }));
    };
    Ok(match item.status {
        Status::Approved if moderation.expires_at(&item).is_none_or(|end| end >= now) => {
            let (id, public) = (item.id.clone(), PublicPost::of(&item));
            let source = Source::Queue(Box::new(item));
            PostState::Online(OnlinePost { id, public, source })
        }
        // A waiting post is not on the site: as far as a reader knows, it is not there.
        Status::Pending => PostState::Unknown,
        _ => PostState::Closed,
    })
}

/// Why a form came back instead of going through; its key names the theme's sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// No signed form time yet (the static page's first press): please check and send.
    Check,
    TooFast,
    Expired,
    /// The honeypot was filled or the token forged.
    Refused,
    RateLimited,
}

impl Notice {
    pub fn key(self) -> &'static str {
        match self {
            Notice::Check => "check",
            Notice::TooFast => "too_fast",
            Notice::Expired => "expired",
            Notice::Refused => "refused",
            Notice::RateLimited => "rate_limited",
        }
    }
}

/// The honeypot, the signed form time and the nonce, as the submission form checks them.
/// Returns when the form was rendered. `form` names the form in the log.
pub fn spam_check(
    secrets: &Secrets,
    values: &FormValues,
    now: DateTime<Utc>,
    form: &'static str,
) -> Result<i64, Notice> {
    let refuse = |reason: &'static str, notice: Notice| {
        tracing::info!(form, reason, "post form refused");
        notice
    };
    if !values.get(field::HONEYPOT).is_empty() {
        return Err(refuse("honeypot", Notice::Refused));
    }
    let token = values.get(field::FORM_TOKEN);
    let rendered_at = secrets.check_form_token(token, now).map_err(|problem| match problem {
        TokenProblem::Invalid if token.is_empty() => refuse("no_form_token", Notice::Check),
        TokenProblem::Invalid => refuse("no_valid_form_token", Notice::Refused),
        TokenProblem::TooFast => refuse("too_fast", Notice::TooFast),
        TokenProblem::Expired => refuse("form_expired", Notice::Expired),
    })?;
    if !is_valid_nonce(values.get(field::SUBMISSION_ID)) {
        return Err(refuse("no_valid_nonce", Notice::Check));
    }
    Ok(rendered_at)
}

/// Counts one use of `form` by `ip_hash` in the current clock hour, unless `max` were
/// already counted; a window of its own per form, so responses never use up posts.
pub async fn take_slot(
    store: &dyn QueueStore,
    ip_hash: &str,
    form: &str,
    max: u32,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let window = format!("{form}-{}", now.format("%Y-%m-%dT%H"));
    store.take_rate_slot(ip_hash, &window, max, now + Duration::hours(2)).await
}

/// Reads the body as the submission form's is read: urlencoded or JSON, strict UTF-8, NFC.
pub fn read_form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<FormValues, AppError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        _ => AppError::Form(crate::form::FormError::NotUtf8),
    })?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    Ok(parse_body(body_format(content_type)?, &body)?)
}

/// The post as the form page names it: public fields only.
#[derive(Debug, Clone, Serialize)]
pub struct PublicPost {
    pub title: String,
    pub display_name: String,
}

impl PublicPost {
    pub fn of(item: &QueueItem) -> PublicPost {
        PublicPost {
            title: item.submission.title.clone(),
            display_name: item.submission.display_name.clone(),
        }
    }
}

/// One wrong field in the page's summary.
#[derive(Debug, Serialize)]
pub struct ErrorView {
    pub field: &'static str,
    pub message: String,
}

/// What `reageren.html` and `melden.html` see under `data`.
#[derive(Debug, Serialize)]
pub struct FormView {
    /// form, sent, closed or unknown.
    pub state: &'static str,
    pub post: Option<PublicPost>,
    pub action: String,
    /// Every shown field as typed, empty when not sent.
    pub values: BTreeMap<&'static str, String>,
    pub errors: BTreeMap<&'static str, String>,
    pub error_list: Vec<ErrorView>,
    pub hidden: BTreeMap<&'static str, String>,
    /// The key of a [`Notice`].
    pub notice: Option<&'static str>,
}

impl FormView {
    /// A page without a form: sent, closed or unknown.
    pub fn state(state: &'static str, post: Option<PublicPost>) -> FormView {
        FormView {
            state,
            post,
            action: String::new(),
            values: BTreeMap::new(),
            errors: BTreeMap::new(),
            error_list: Vec::new(),
            hidden: BTreeMap::new(),
            notice: None,
        }
    }

    /// The form for `post`, posting to `action`, with `fields` as typed in `values`,
    /// `errors` in form order, and fresh hidden fields (the nonce kept when valid, so a
    /// resend of the same message is still recognised).
    pub fn form(
        post: &OnlinePost,
        action: String,
        fields: &[&'static str],
        values: &FormValues,
        errors: Option<&FieldErrors>,
        notice: Option<Notice>,
        secrets: &Secrets,
    ) -> FormView {
        let errors = errors.map(|e| e.0.as_slice()).unwrap_or_default();
        let nonce = values.get(field::SUBMISSION_ID);
        let nonce = if is_valid_nonce(nonce) { nonce.to_owned() } else { new_nonce() };
        FormView {
            state: "form",
            post: Some(post.public.clone()),
            action,
            values: fields.iter().map(|&name| (name, values.get(name).to_owned())).collect(),
            errors: errors.iter().rev().map(|e| (e.field, e.message.clone())).collect(),
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
}

/// Renders `view` with the theme's `template`, or the calm error page.
pub fn page(
    pages: &Pages,
    template: &'static str,
    status: StatusCode,
    view: &FormView,
    back_url: &str,
) -> Response {
    match pages.post_form(template, view) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => AppError::from(error).into_page(pages, back_url),
    }
}
