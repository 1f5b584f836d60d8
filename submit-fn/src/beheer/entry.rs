//! The desk entry: a moderator types in a post for a resident who phoned or came by. It is
//! validated like any submission, published at once, marked in the audit log, and the
//! resident's contact details stay private as with any post.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;

use super::BeheerState;
use super::decide::{CSRF_FIELD, edit_context};
use super::queue::{failed, public_url};
use crate::app::Origin;
use crate::auth::{ModeratorSession, check_csrf};
use crate::form::parse_urlencoded;
use crate::submission::{FormValues, field};
use crate::validate::{FieldErrors, validate};

/// GET /beheer/invoeren: an empty form.
pub async fn show(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
) -> Response {
    let mut values = FormValues::default();
    values.set(field::KIND, "request");
    entry_form(&state, &origin, &session, &values, None, StatusCode::OK)
}

/// POST /beheer/invoeren
pub async fn enter(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    body: Bytes,
) -> Response {
    let Ok(values) = parse_urlencoded(&body) else {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    };
    if check_csrf(&session, values.get(CSRF_FIELD)).is_err() {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    }
    let rules = &state.moderation.rules;
    let today = Utc::now().with_timezone(&rules.time_zone).date_naive();
    let submission = match validate(&values, rules, today) {
        Ok(submission) => submission,
        Err(errors) => {
            let status = StatusCode::BAD_REQUEST;
            return entry_form(&state, &origin, &session, &values, Some(&errors), status);
        }
    };
    let moderation = &state.moderation;
    match moderation.enter_on_behalf(&session.email, submission, Utc::now()).await {
        Ok((approved, manage_url)) => {
            let item = moderation.item(&approved.id).await.ok();
            let mut context = state.context(&origin.prefix, &session);
            context.insert("title", &approved.title);
            context.insert(
                "url",
                &item.as_ref().and_then(|i| public_url(&state, i)).unwrap_or(approved.url),
            );
            context.insert("manage_url", &manage_url);
            state.render(StatusCode::OK, "beheer/ingevoerd.html", &context, &origin.prefix)
        }
        Err(error) => failed(&state, &origin, &session, &error),
    }
}

fn entry_form(
    state: &BeheerState,
    origin: &Origin,
    session: &ModeratorSession,
    values: &FormValues,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Response {
    let mut context = edit_context(state, origin, session, values, errors);
    context.insert("mode", "entry");
    context.insert("action", &format!("{}/beheer/invoeren", origin.prefix));
    state.render(status, "beheer/bewerken.html", &context, &origin.prefix)
}
