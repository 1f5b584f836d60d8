//! The management route group: the poster's private page at `/beheer-bericht/<id>?token=…`,
//! with the post and its status, and the three actions on it (withdraw, helped, extend) as
//! plain forms. The actions themselves are in [`crate::poster`].
//!
//! Invariants: only the holder of the management token sees or changes a post, and the
//! token is checked by comparing hashes in constant time; a wrong or missing token gets
//! the same 404 page as an unknown id, so the route never tells which posts exist; every
//! response carries `Cache-Control: no-store` and `Referrer-Policy: no-referrer`, since the
//! token is in the address; the token travels in a hidden form field, so the actions need
//! no JavaScript and no token in the form's address.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router, middleware};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{MANAGE_PATH, Origin, SUBMIT_PATH};
use crate::error::AppError;
use crate::moderate::{ModerateError, Moderation};
use crate::poster::Outcome;
use crate::render::Pages;
use crate::revise::EditOutcome;
use crate::spam::token_matches;
use crate::store::{QueueItem, Reply, Status};

/// The action paths under a post's management page.
const WITHDRAW: &str = "weghalen";
const HELPED: &str = "geholpen";
const EXTEND: &str = "verlengen";
/// An action's form holds only the token; anything much larger is not our form.
const FORM_MAX_BYTES: usize = 4 * 1024;

/// Everything the management routes share.
pub struct Manage {
    /// The queue, publisher, rules and secrets the actions work with.
    pub moderation: Arc<Moderation>,
    /// The site's theme, for the page and the 404.
    pub pages: Pages,
}

/// The state handed to the management router.
pub type ManageState = Arc<Manage>;

/// The management page as `beheren.html` sees it under `data`.
#[derive(Debug, Serialize)]
pub struct ManageView {
    pub post: PostView,
    /// waiting, online, expired, withdrawn, helped, rejected or removed.
    pub status: &'static str,
    /// A rejection's or removal's reason.
    pub reason: Option<String>,
    /// The public address, while the post is online.
    pub public_url: Option<String>,
    /// For the forms' hidden field.
    pub token: String,
    pub withdraw_url: String,
    pub helped_url: String,
    pub extend_url: String,
    /// Where the poster edits the post, while it is waiting or online.
    pub edit_url: String,
    /// True when an edit of the online post waits for a moderator.
    pub revision_waiting: bool,
    /// The date "Langer laten staan" gives, when it would give a later one.
    pub extend_until: Option<DateView>,
    /// What the poster just did (see [`Outcome::key`]).
    pub outcome: Option<&'static str>,
    /// The action that waits for "Weet u het zeker?" (withdraw or helped), after its
    /// first press.
    pub confirm: Option<&'static str>,
    /// What readers wrote to the poster through the post's page, oldest first.
    pub responses: Vec<ResponseView>,
}

impl ManageView {
    /// True while the poster can still withdraw, mark helped, extend or edit the post.
    fn can_act(&self) -> bool {
        matches!(self.status, "waiting" | "online" | "expired")
    }
}

/// One response as the poster reads it on the management page.
#[derive(Debug, Serialize)]
pub struct ResponseView {
    pub date: DateView,
    /// The local time of day, `HH:MM`.
    pub time: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The message, split at line breaks; shown as typed.
    pub lines: Vec<String>,
}

impl ResponseView {
    fn new(reply: &Reply, zone: chrono_tz::Tz) -> ResponseView {
        let local = reply.at.with_timezone(&zone);
        ResponseView {
            date: DateView::new(local.date_naive()),
            time: local.format("%H:%M").to_string(),
            name: reply.name.clone(),
            email: reply.email.clone(),
            phone: reply.phone.clone(),
            lines: reply.message.lines().map(str::to_owned).collect(),
        }
    }
}

/// The post's public fields, as the poster wrote them.
#[derive(Debug, Serialize)]
pub struct PostView {
    pub title: String,
    /// The text, split at blank lines; shown as typed, not as Markdown.
    pub paragraphs: Vec<String>,
    /// `request` or `offer`, the key of the theme's kind words.
    pub kind: &'static str,
    pub category: String,
    pub municipality: String,
    pub neighbourhood: Option<String>,
    pub recurring: bool,
    /// The last day online, when known.
    pub expires: Option<DateView>,
}

/// A date for the template, which names the month with the theme's words.
#[derive(Debug, Serialize)]
pub struct DateView {
    pub day: u32,
    /// 0 is January: the index in `t.months`.
    pub month0: u32,
    pub year: i32,
    pub iso: String,
}

impl DateView {
    fn new(date: NaiveDate) -> DateView {
        DateView {
            day: date.day(),
            month0: date.month0(),
            year: date.year(),
            iso: date.format("%Y-%m-%d").to_string(),
        }
    }
}

/// The management page and its actions. The page answers at `/beheer-bericht/<id>`, where
/// [`Moderation::manage_url`] points.
pub fn router(state: ManageState) -> Router {
    let page = format!("/{MANAGE_PATH}/{{id}}");
    Router::new()
        .route(&page, get(show))
        .route(&format!("{page}/{WITHDRAW}"), post(withdraw))
        .route(&format!("{page}/{HELPED}"), post(helped))
        .route(&format!("{page}/{EXTEND}"), post(extend))
        .layer(DefaultBodyLimit::max(FORM_MAX_BYTES))
        .layer(middleware::map_response(private))
        .with_state(Arc::clone(&state))
        // The edit form and the lost-link page bring their own body limits (an edit is a
        // whole post) and the same private headers.
        .merge(crate::edit::router(Arc::clone(&state)))
        .merge(crate::lost_link::router(Arc::clone(&state)))
        // The forms on a post's page use the same queue, mailer and pages; wiring them here
        // serves them wherever the management page is served.
        .merge(crate::post_forms::router(state))
}

#[derive(Deserialize)]
pub struct PageQuery {
    token: Option<String>,
    /// What was just done, from the redirect after an action.
    uitkomst: Option<String>,
    /// The action to confirm (`weghalen` or `geholpen`), after its first press.
    bevestigen: Option<String>,
}

#[derive(Deserialize)]
pub struct ActionForm {
    token: Option<String>,
    /// `ja` on the confirmation's button; without it, an action that takes the post off
    /// the site for good only asks "Weet u het zeker?".
    zeker: Option<String>,
}

/// GET the management page.
async fn show(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let result = async {
        let (item, token) = authorised(&state, &id, query.token).await?;
        let outcome = query.uitkomst.as_deref().and_then(known_outcome);
        let mut view = view(&state.moderation, &origin, &item, token, outcome, Utc::now());
        if view.can_act() {
            view.confirm = query.bevestigen.as_deref().and_then(|path| match path {
                WITHDRAW => Some("withdraw"),
                HELPED => Some("helped"),
                _ => None,
            });
        }
        view.revision_waiting = state.moderation.queue.revision(&item.id).await?.is_some();
        if view.public_url.is_some() {
            // A revised title keeps the address the post was first published under.
            view.public_url = Some(state.moderation.live_url(&item).await.map_err(action_error)?);
        }
        let zone = state.moderation.rules.time_zone;
        let replies = state.moderation.queue.responses(&item.id).await?;
        view.responses = replies.iter().map(|r| ResponseView::new(r, zone)).collect();
        Ok(Html(state.pages.manage(&view)?).into_response())
    };
    finish(&state, &origin, result.await)
}

async fn withdraw(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    act(&state, &origin, &id, form, Action::Withdraw).await
}

async fn helped(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    act(&state, &origin, &id, form, Action::Helped).await
}

async fn extend(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    act(&state, &origin, &id, form, Action::Extend).await
}

#[derive(Clone, Copy)]
enum Action {
    Withdraw,
    Helped,
    Extend,
}

/// Carries out `action` for the token's holder and sends them back to the page (303), with
/// the outcome for its confirmation line.
async fn act(
    state: &Manage,
    origin: &Origin,
    id: &str,
    form: Result<Form<ActionForm>, FormRejection>,
    action: Action,
) -> Response {
    let result = async {
        // A form we cannot read has no token we can check: the same 404 as a wrong one.
        let (token, sure) = match form {
            Ok(Form(form)) => (form.token, form.zeker.as_deref() == Some("ja")),
            Err(_) => (None, false),
        };
        let (item, token) = authorised(state, id, token).await?;
        let page = format!("{}/{MANAGE_PATH}/{}?token={token}", origin.prefix, item.id);
        // Taking a post off the site cannot be undone, and a trembling finger or a
        // mistaken button should not do it: the first press asks first.
        let to_confirm = match action {
            Action::Withdraw => Some(WITHDRAW),
            Action::Helped => Some(HELPED),
            Action::Extend => None,
        };
        if let Some(path) = to_confirm.filter(|_| !sure) {
            let location = format!("{page}&bevestigen={path}#bevestigen");
            return Ok(Redirect::to(&location).into_response());
        }
        let (moderation, now) = (&state.moderation, Utc::now());
        let outcome = match action {
            Action::Withdraw => moderation.withdraw(&item.id, now).await,
            Action::Helped => moderation.mark_helped(&item.id, now).await,
            Action::Extend => moderation.extend(&item.id, now).await,
        }
        .map_err(action_error)?;
        let location = format!("{page}&uitkomst={}", outcome.key());
        Ok(Redirect::to(&location).into_response())
    };
    finish(state, origin, result.await)
}

/// The item and the token, if and only if the token is the one whose hash the item holds,
/// or the one most recently sent again from the lost-link page ([`crate::lost_link`]).
pub(crate) async fn authorised(
    state: &Manage,
    id: &str,
    token: Option<String>,
) -> Result<(QueueItem, String), AppError> {
    let token = token.filter(|t| !t.is_empty()).ok_or(AppError::NotFound)?;
    let item = state.moderation.queue.get(id).await?.ok_or(AppError::NotFound)?;
    if token_matches(&token, &item.token_hash) {
        return Ok((item, token));
    }
    match state.moderation.queue.resent_token(&item.id).await? {
        Some(resent) if token_matches(&token, &resent) => Ok((item, token)),
        _ => Err(AppError::NotFound),
    }
}

fn view(
    moderation: &Moderation,
    origin: &Origin,
    item: &QueueItem,
    token: String,
    outcome: Option<&'static str>,
    now: DateTime<Utc>,
) -> ManageView {
    let expires = moderation.expires_at(item);
    let status = shown_status(item.status, expires, now);
    let until = moderation.longest_expiry(now);
    let can_extend = item.status.is_extendable() && expires.is_none_or(|e| e.date_naive() < until);
    let page = format!("{}/{MANAGE_PATH}/{}", origin.prefix, item.id);
    ManageView {
        post: post_view(moderation, item, expires),
        status,
        reason: item.decision.as_ref().and_then(|d| d.reason.clone()),
        public_url: (status == "online").then(|| moderation.post_url(item)),
        token,
        withdraw_url: format!("{page}/{WITHDRAW}"),
        helped_url: format!("{page}/{HELPED}"),
        extend_url: format!("{page}/{EXTEND}"),
        edit_url: format!("{page}/{}", crate::edit::EDIT),
        revision_waiting: false,
        extend_until: can_extend.then(|| DateView::new(until)),
        outcome,
        confirm: None,
        responses: Vec::new(),
    }
}

/// The status as the poster reads it: an approved post whose date has passed is expired.
fn shown_status(
    status: Status,
    expires: Option<DateTime<FixedOffset>>,
    now: DateTime<Utc>,
) -> &'static str {
    match status {
        Status::Pending => "waiting",
        Status::Approved if expires.is_some_and(|e| e < now) => "expired",
        Status::Approved => "online",
        Status::Rejected => "rejected",
        Status::Withdrawn => "withdrawn",
        Status::Helped => "helped",
        Status::Removed => "removed",
        Status::Expired => "expired",
    }
}

fn post_view(
    moderation: &Moderation,
    item: &QueueItem,
    expires: Option<DateTime<FixedOffset>>,
) -> PostView {
    let s = &item.submission;
    let rules = &moderation.rules;
    let municipality = rules.municipality(&s.municipality).map(|m| m.name.clone());
    let category = rules.category(&s.category).map(|c| c.label.clone());
    PostView {
        title: s.title.clone(),
        paragraphs: s
            .body
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        kind: s.kind.as_str(),
        category: category.unwrap_or_else(|| s.category.clone()),
        municipality: municipality.unwrap_or_else(|| s.municipality.clone()),
        neighbourhood: s.neighbourhood.clone(),
        recurring: s.recurring,
        expires: expires.map(|e| DateView::new(e.date_naive())),
    }
}

/// Only the outcomes the page knows; anything else in the address is ignored.
fn known_outcome(key: &str) -> Option<&'static str> {
    let others = Outcome::KEYS.into_iter().chain(EditOutcome::KEYS);
    others.chain([KEPT]).find(|known| *known == key)
}

/// The outcome of "Nee, laat mijn bericht staan" on the confirmation: nothing was done.
const KEPT: &str = "kept";

/// A failed action: an unknown post is the 404, a store failure the calm 500, and a site
/// update that failed after the queue changed its own page, since doing it again repairs it.
pub(crate) fn action_error(error: ModerateError) -> AppError {
    match error {
        ModerateError::NotFound(_) => AppError::NotFound,
        ModerateError::Store(error) => AppError::Store(error),
        other => AppError::Action(other),
    }
}

pub(crate) fn finish(
    state: &Manage,
    origin: &Origin,
    result: Result<Response, AppError>,
) -> Response {
    match result {
        Ok(response) => response,
        Err(error) => error.into_page(&state.pages, &format!("{}{SUBMIT_PATH}", origin.prefix)),
    }
}

/// Keeps every answer of these routes, which carry the token in their address, out of
/// caches and out of the Referer header of any link followed from them.
pub(crate) async fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
