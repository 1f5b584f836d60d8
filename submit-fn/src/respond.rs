//! The response route group: a reader writes to the poster of a published post, and the
//! function relays it by mail and keeps it for the poster's management page. A post whose
//! poster cannot be mailed (no queue record, or no e-mail address on it) has its responses
//! relayed to the volunteer centre instead ([`crate::notify::centre`]), to pass on.
//!
//! Invariants (DESIGN.md, "responder"): neither side's address is published; the poster's
//! e-mail address and phone number reach no page and no template the responder sees, only
//! the mail's recipient; the responder's e-mail address is the mail's Reply-To, their phone
//! number is in its text; the centre's mail carries nothing of the poster either; a
//! response is stored before it is mailed, once per form nonce, so a failed mail or a
//! double click loses or doubles nothing; a response to a post that is not online stores
//! and mails nothing.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use generator::text::{clean_block, is_invisible};

use crate::app::Origin;
use crate::beheer::QUEUE_PATH;
use crate::error::AppError;
use crate::mail::{PassOnRef, PosterRef};
use crate::manage::{Manage, ManageState};
use crate::messages::Rule;
use crate::post_forms::{
    FormView, Notice, OnlinePost, PostState, SENT, Source, page, post_state, read_form, spam_check,
    take_slot,
};
use crate::store::{QueueItem, Reply};
use crate::submission::{BODY_MAX_LINKS, FormValues, SHORT_FIELD_MAX_CHARS, field, trim};
use crate::validate::{FieldErrors, count_links, is_email, is_phone, single_line};

/// Where the response form posts: `/reageren/<post id>` (see `generator::urls::respond`).
pub const RESPOND_PATH: &str = "/reageren";
/// Responses one address may send per hour.
pub const RESPONSES_PER_HOUR: u32 = 10;
/// The longest name, in characters.
pub const NAME_MAX_CHARS: usize = 60;
/// The longest message, in characters.
pub const MESSAGE_MAX_CHARS: usize = 2000;

const TEMPLATE: &str = "reageren.html";

/// The response form's fields, in form order.
pub mod fields {
    pub const NAME: &str = "name";
    pub const CONTACT: &str = "contact";
    pub const MESSAGE: &str = "message";
}

const SHOWN: [&str; 3] = [fields::NAME, fields::CONTACT, fields::MESSAGE];

/// A validated response: a name, a way back and the message.
struct Written {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    message: String,
}

/// GET the response form with a fresh form time, or the kind page of a closed post.
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

/// POST a response.
pub async fn respond(
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
        tracing::info!(post = id, reason = "post_not_online", "response refused");
        return Ok(ended(state, origin, id, &found));
    };

    let checked = validate(&values);
    let rendered_at = match spam_check(&moderation.secrets, &values, now, "response") {
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
    let written = match checked {
        Ok(written) => written,
        Err(errors) => {
            tracing::info!(reason = "invalid", fields = errors.0.len(), "response refused");
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
    if !take_slot(moderation.queue.as_ref(), &ip_hash, "reactie", RESPONSES_PER_HOUR, now).await? {
        tracing::info!(reason = "rate_limited", "response refused");
        let status = StatusCode::TOO_MANY_REQUESTS;
        return Ok(again(state, origin, &post, &values, None, Notice::RateLimited, status));
    }
    // Stored for a post without a queue record too: the store keys responses by post id
    // alone, and the stored response is what makes a double click one mail.
    let reply = Reply {
        id: moderation.secrets.post_id(values.get(field::SUBMISSION_ID), rendered_at),
        post_id: post.id.clone(),
        at: now,
        name: written.name,
        email: written.email,
        phone: written.phone,
        message: written.message,
        ip_hash,
    };
    if moderation.queue.add_response(&reply).await? {
        tracing::info!(post = %post.id, "response stored");
        relay(state, &post, &reply).await;
    } else {
        tracing::info!(post = %post.id, "response already received");
    }
    Ok(Redirect::to(&format!("{}/{SENT}", action(origin, id))).into_response())
}

/// Mails the response to the poster, or, when there is no poster to mail, to the centre.
/// A mail that fails is logged; the response stays stored.
async fn relay(state: &Manage, post: &OnlinePost, reply: &Reply) {
    match &post.source {
        Source::Queue(item) => match &item.submission.email {
            Some(to) => mail_poster(state, item, to, reply).await,
            // Entered for a resident without e-mail, who will not open a management page;
            // a moderator finds how to reach them on the post's page in /beheer.
            None => {
                let moderation = &state.moderation;
                let url = match moderation.live_url(item).await {
                    Ok(url) => url,
                    Err(error) => {
                        tracing::warn!(post = %item.id, %error, "revised address unknown");
                        moderation.post_url(item)
                    }
                };
                let beheer = QUEUE_PATH.trim_start_matches('/');
                let beheer_url = format!("{}{beheer}/bericht/{}", moderation.site_root, item.id);
                pass_on(state, post, &url, Some(&beheer_url), reply).await;
            }
        },
        Source::Content { url } => pass_on(state, post, url, None, reply).await,
    }
}

async fn mail_poster(state: &Manage, item: &QueueItem, to: &str, reply: &Reply) {
    let moderation = &state.moderation;
    let manage_url = moderation.manage_url(item);
    let poster = PosterRef {
        name: &item.submission.display_name,
        title: &item.submission.title,
        manage_url: &manage_url,
    };
    let mail = moderation.mails.response_mail(to, &poster, reply);
    moderation.send(&item.id, mail).await;
}

/// Mails the response to whoever passes it on (see [`crate::notify::centre`]), one mail
/// each, with the post's title and `post_url`, and `beheer_url` for a post in the queue.
async fn pass_on(
    state: &Manage,
    post: &OnlinePost,
    post_url: &str,
    beheer_url: Option<&str>,
    reply: &Reply,
) {
    let moderation = &state.moderation;
    let contact = moderation.rules.contact.as_deref();
    let to = match crate::notify::centre(contact, moderation.queue.as_ref()).await {
        Ok(to) => to,
        Err(error) => {
            tracing::error!(post = %post.id, %error, "moderators not read; response not passed on");
            return;
        }
    };
    if to.is_empty() {
        tracing::error!(post = %post.id, "no contact and no moderator to pass the response on to");
        return;
    }
    let about = PassOnRef { title: &post.public.title, post_url, beheer_url };
    let mut sent = 0;
    for to in &to {
        let mail = moderation.mails.passed_on_mail(to, &about, reply);
        match mail {
            Ok(mail) => match moderation.mailer.send(&mail).await {
                Ok(()) => sent += 1,
                Err(error) => {
                    tracing::error!(post = %post.id, %error, "response to pass on not sent")
                }
            },
            Err(error) => tracing::error!(post = %post.id, %error, "response to pass on not built"),
        }
    }
    let to_contact = contact.is_some();
    tracing::info!(post = %post.id, sent, to_contact, "response passed on to the centre");
}

/// GET the thanks after a response.
pub async fn sent(
    State(state): State<ManageState>,
    origin: Origin,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let found = post_state(&state.moderation, &id, Utc::now()).await?;
        let post = match found {
            PostState::Online(post) => Some(post.public),
            _ => None,
        };
        let view = FormView::state("sent", post);
        Ok(page(&state.pages, TEMPLATE, StatusCode::OK, &view, &action(&origin, &id)))
    };
    finish(&state, &origin, &id, result.await)
}

/// Checks every field at once, so the reader fixes the form in one go.
fn validate(values: &FormValues) -> Result<Written, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = single_line(values, fields::NAME, NAME_MAX_CHARS, true, &mut errors);
    let contact = single_line(values, fields::CONTACT, SHORT_FIELD_MAX_CHARS, true, &mut errors);
    let (email, phone) = match contact {
        Some(c) if is_email(&c) => (Some(c), None),
        Some(c) if is_phone(&c) => (None, Some(c)),
        Some(_) => {
            errors.push(fields::CONTACT, Rule::InvalidContact, None);
            (None, None)
        }
        None => (None, None),
    };
    let message = message(values, &mut errors);
    match (name, email.is_some() || phone.is_some(), message) {
        (Some(name), true, Some(message)) if errors.0.is_empty() => {
            Ok(Written { name, email, phone, message })
        }
        _ => Err(errors),
    }
}

/// The message keeps its line breaks (CRLF stored as LF) and drops other controls, as a
/// post's body does; links are limited as in a post, since both are spam's way in.
fn message(values: &FormValues, errors: &mut FieldErrors) -> Option<String> {
    let text = values.get(fields::MESSAGE).replace("\r\n", "\n").replace('\r', "\n");
    let text = clean_block(&text);
    let text = trim(&text);
    if text.chars().all(is_invisible) {
        errors.push(fields::MESSAGE, Rule::Required, None);
        return None;
    }
    if text.chars().count() > MESSAGE_MAX_CHARS {
        errors.push(fields::MESSAGE, Rule::TooLong, Some(MESSAGE_MAX_CHARS));
        return None;
    }
    if count_links(text) > BODY_MAX_LINKS {
        errors.push(fields::MESSAGE, Rule::TooManyLinks, Some(BODY_MAX_LINKS));
        return None;
    }
    Some(text.to_owned())
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

/// The kind page for a post that is closed or unknown.
fn ended(state: &Manage, origin: &Origin, id: &str, found: &PostState) -> Response {
    let (name, status) = found.page();
    page(&state.pages, TEMPLATE, status, &FormView::state(name, None), &action(origin, id))
}

fn action(origin: &Origin, id: &str) -> String {
    format!("{}{RESPOND_PATH}/{id}", origin.prefix)
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
