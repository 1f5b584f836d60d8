//! A moderator's own settings: whether to get a mail when a new post waits.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::BeheerState;
use crate::app::Origin;
use crate::auth::{ModeratorSession, check_csrf};

/// GET /beheer/instellingen
pub async fn show(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Query(query): Query<SavedQuery>,
) -> Response {
    let moderator = match state.auth.moderators.moderator(&session.email).await {
        Ok(moderator) => moderator,
        Err(error) => {
            tracing::error!(%error, "moderator settings could not be read");
            return state.auth.pages.server_error(&origin.prefix);
        }
    };
    let mut context = state.context(&origin.prefix, &session);
    context.insert("notify", &moderator.is_some_and(|m| m.notify));
    context.insert("saved", &query.opgeslagen.is_some());
    state.render(StatusCode::OK, "beheer/instellingen.html", &context, &origin.prefix)
}

#[derive(Deserialize)]
pub struct SavedQuery {
    opgeslagen: Option<String>,
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    /// Present (`ja`) when the box is ticked; browsers send nothing for an unticked box.
    #[serde(default)]
    mail: Option<String>,
}

/// POST /beheer/instellingen
pub async fn save(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Form(form): Form<SettingsForm>,
) -> Response {
    if check_csrf(&session, &form.csrf).is_err() {
        return state.auth.pages.forbidden(Some(&session), &origin.prefix);
    }
    let notify = form.mail.is_some();
    if let Err(error) = state.auth.moderators.set_notify(&session.email, notify).await {
        tracing::error!(%error, "moderator settings could not be saved");
        return state.auth.pages.server_error(&origin.prefix);
    }
    tracing::info!(account = %state.auth.account_tag(&session.email), notify, "settings saved");
    Redirect::to(&format!("{}/beheer/instellingen?opgeslagen=1", origin.prefix)).into_response()
}
