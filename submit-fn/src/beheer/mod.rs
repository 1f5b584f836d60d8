//! The moderation site at `/beheer`: the queue, each post with its preview, the decisions,
//! the readers' reports with the action that takes a post offline, the audit log and the
//! desk entry form. Login and sessions come from [`crate::login`] and
//! [`crate::auth`]; the decisions themselves from [`crate::moderate`], shared with the CLI.
//!
//! Invariants: every route but login needs a moderator's session; every form that changes
//! something carries the session's CSRF token and is refused with 403 without it; every
//! response carries `Cache-Control: no-store` and the strict CSP. Nothing here needs
//! JavaScript.

mod audit;
mod decide;
mod entry;
mod figures;
mod queue;
mod reports;
mod revisions;
mod settings;
pub(crate) mod views;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tera::{Context, Tera};

use crate::auth::{Auth, ModeratorSession, beheer_headers};
use crate::moderate::Moderation;

/// Everything the moderation routes share.
pub struct Beheer {
    pub moderation: Arc<Moderation>,
    pub auth: Arc<Auth>,
    /// Renders a queued post with the site's theme, exactly as approval would publish it.
    pub preview: generator::Preview,
    /// Each form field's label by field name, from the theme's `field_<name>` words.
    labels: BTreeMap<String, String>,
    templates: Tera,
}

/// The state of the moderation router: a cheap handle on [`Beheer`]. A type of our own, so
/// the session extractor can find [`Auth`] in it through `FromRef`.
#[derive(Clone)]
pub struct BeheerState(Arc<Beheer>);

impl BeheerState {
    pub fn new(beheer: Beheer) -> BeheerState {
        BeheerState(Arc::new(beheer))
    }
}

impl std::ops::Deref for BeheerState {
    type Target = Beheer;

    fn deref(&self) -> &Beheer {
        &self.0
    }
}

impl FromRef<BeheerState> for Arc<Auth> {
    fn from_ref(state: &BeheerState) -> Arc<Auth> {
        Arc::clone(&state.auth)
    }
}

/// The moderation templates, which extend the login module's `beheer/base.html`.
const TEMPLATES: [(&str, &str); 11] = [
    ("beheer/macros.html", include_str!("../../templates/beheer/macros.html")),
    ("beheer/wachtrij.html", include_str!("../../templates/beheer/wachtrij.html")),
    ("beheer/bericht.html", include_str!("../../templates/beheer/bericht.html")),
    ("beheer/bewerken.html", include_str!("../../templates/beheer/bewerken.html")),
    ("beheer/logboek.html", include_str!("../../templates/beheer/logboek.html")),
    ("beheer/ingevoerd.html", include_str!("../../templates/beheer/ingevoerd.html")),
    ("beheer/probleem.html", include_str!("../../templates/beheer/probleem.html")),
    ("beheer/instellingen.html", include_str!("../../templates/beheer/instellingen.html")),
    ("beheer/meldingen.html", include_str!("../../templates/beheer/meldingen.html")),
    ("beheer/wijziging.html", include_str!("../../templates/beheer/wijziging.html")),
    ("beheer/cijfers.html", include_str!("../../templates/beheer/cijfers.html")),
];

impl Beheer {
    /// Compiles the templates.
    pub fn new(
        moderation: Arc<Moderation>,
        auth: Arc<Auth>,
        preview: generator::Preview,
    ) -> Result<Beheer, tera::Error> {
        let mut templates = Tera::default();
        templates.add_raw_templates(crate::login::TEMPLATES)?;
        templates.add_raw_templates(TEMPLATES)?;
        let labels = preview
            .words()
            .extra
            .iter()
            .filter_map(|(key, label)| {
                Some((key.strip_prefix("field_")?.to_owned(), label.clone()))
            })
            .collect();
        Ok(Beheer { moderation, auth, preview, labels, templates })
    }

    /// The layout's context for a logged-in moderator.
    fn context(&self, prefix: &str, session: &ModeratorSession) -> Context {
        let mut context = self.auth.pages.context(prefix, Some(&session.csrf));
        context.insert("moderator", &session.email);
        context
    }

    /// Renders `template`, or the calm error page when the template fails.
    fn render(
        &self,
        status: StatusCode,
        template: &str,
        context: &Context,
        prefix: &str,
    ) -> Response {
        match self.templates.render(template, context) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(template, error = %error, "beheer page failed to render");
                self.auth.pages.server_error(prefix)
            }
        }
    }
}

/// The path of the moderation home, the queue.
pub const QUEUE_PATH: &str = "/beheer";

/// Every `/beheer` route, login included, with the moderation headers on every response.
pub fn router(state: BeheerState) -> Router {
    Router::new()
        .route(QUEUE_PATH, get(queue::list))
        .route("/beheer/bericht/{id}", get(queue::show))
        .route("/beheer/bericht/{id}/voorbeeld", get(queue::preview))
        .route("/beheer/bericht/{id}/goedkeuren", post(decide::approve))
        .route("/beheer/bericht/{id}/afwijzen", post(decide::reject))
        .route(
            "/beheer/bericht/{id}/verbeteren",
            get(decide::show_correction).post(decide::correct),
        )
        .route(reports::REPORTS_PATH, get(reports::list))
        .route("/beheer/bericht/{id}/offline", post(reports::take_down))
        .route("/beheer/bericht/{id}/meldingen-sluiten", post(reports::dismiss))
        .route("/beheer/wijziging/{id}", get(revisions::show))
        .route("/beheer/wijziging/{id}/voorbeeld", get(revisions::preview))
        .route("/beheer/wijziging/{id}/goedkeuren", post(revisions::approve))
        .route("/beheer/wijziging/{id}/afwijzen", post(revisions::reject))
        .route(figures::FIGURES_PATH, get(figures::show))
        .route(figures::FIGURES_CSV_PATH, get(figures::csv))
        .route("/beheer/logboek", get(audit::list))
        .route("/beheer/invoeren", get(entry::show).post(entry::enter))
        .route("/beheer/instellingen", get(settings::show).post(settings::save))
        .merge(crate::login::routes())
        .layer(middleware::map_response(beheer_headers))
        .with_state(state)
}
