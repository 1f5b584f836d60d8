//! The login and logout routes of `/beheer`, and `BeheerPages`: the moderation layout, the
//! login form and the refusal pages, compiled in from `templates/beheer/`.
//!
//! Invariants: an unknown address and a wrong password get the same page and status after
//! the same amount of hashing, and an unknown address is locked after as many tries as a
//! real account; a locked account is refused even with the right password;
//! no log line names an address, only `Auth::account_tag`.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, middleware};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tera::{Context, Tera};

use crate::app::Origin;
use crate::auth::{
    Auth, BEHEER_PATH, LOGIN_PATH, LOGOUT_PATH, ModeratorSession, Session, beheer_headers,
    check_csrf, verify_password_blocking, with_beheer_headers,
};
use crate::store::moderators::normalize_email;
use crate::store::{LockState, StoreError};

/// The templates, by the names pages extend them with (`{% extends "beheer/base.html" %}`).
pub const TEMPLATES: [(&str, &str); 3] = [
    ("beheer/base.html", include_str!("../templates/beheer/base.html")),
    ("beheer/inloggen.html", include_str!("../templates/beheer/inloggen.html")),
    ("beheer/melding.html", include_str!("../templates/beheer/melding.html")),
];

/// The login and logout routes, for the lead's moderation router to merge. Every response
/// carries `beheer_headers`.
pub fn routes<S>() -> Router<S>
where
    Arc<Auth>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(LOGIN_PATH, get(show_login).post(login))
        .route(LOGOUT_PATH, post(logout))
        .layer(middleware::map_response(beheer_headers))
}

/// The compiled `/beheer` templates and what every page shows.
pub struct BeheerPages {
    tera: Tera,
    site_name: String,
    /// The public site's base URL, ending in `/`.
    site_root: String,
}

impl BeheerPages {
    /// Compiles the built-in templates.
    pub fn new(site_name: &str, site_root: &str) -> Result<BeheerPages, tera::Error> {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES)?;
        let mut site_root = site_root.to_owned();
        if !site_root.ends_with('/') {
            site_root.push('/');
        }
        Ok(BeheerPages { tera, site_name: site_name.to_owned(), site_root })
    }

    /// What `beheer/base.html` reads: site name and root, the stage prefix for links, and
    /// the CSRF token that shows the logout button (absent when nobody is logged in).
    pub fn context(&self, prefix: &str, csrf: Option<&str>) -> Context {
        let mut context = Context::new();
        context.insert("site_name", &self.site_name);
        context.insert("site_root", &self.site_root);
        context.insert("prefix", prefix);
        context.insert("csrf", &csrf);
        context
    }

    /// The 403 page for a form whose CSRF token did not match.
    pub fn forbidden(&self, session: Option<&ModeratorSession>, prefix: &str) -> Response {
        let csrf = session.map(|s| s.csrf.as_str());
        self.message(StatusCode::FORBIDDEN, "forbidden", prefix, csrf)
    }

    /// The calm 500 page; the caller has logged the cause.
    pub fn server_error(&self, prefix: &str) -> Response {
        self.message(StatusCode::INTERNAL_SERVER_ERROR, "server_error", prefix, None)
    }

    fn message(
        &self,
        status: StatusCode,
        kind: &str,
        prefix: &str,
        csrf: Option<&str>,
    ) -> Response {
        let mut context = self.context(prefix, csrf);
        context.insert("kind", kind);
        self.page(status, "beheer/melding.html", &context)
    }

    fn login_form(
        &self,
        status: StatusCode,
        prefix: &str,
        email: &str,
        problem: Problem,
    ) -> Response {
        let mut context = self.context(prefix, None);
        context.insert("email", email);
        match problem {
            Problem::None => context.insert("problem", ""),
            Problem::Incomplete => context.insert("problem", "incomplete"),
            Problem::Wrong => context.insert("problem", "wrong"),
            Problem::Locked { minutes } => {
                context.insert("problem", "locked");
                context.insert("minutes", &minutes);
            }
        }
        self.page(status, "beheer/inloggen.html", &context)
    }

    fn page(&self, status: StatusCode, template: &str, context: &Context) -> Response {
        let response = match self.tera.render(template, context) {
            Ok(body) => (status, Html(body)).into_response(),
            Err(error) => {
                tracing::error!(%error, template, "beheer page failed to render");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        };
        with_beheer_headers(response)
    }
}

/// What the login form says above the fields.
enum Problem {
    None,
    Incomplete,
    Wrong,
    Locked { minutes: i64 },
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// What one login attempt came to.
enum Attempt {
    Success,
    Wrong,
    Locked(DateTime<Utc>),
}

/// GET the login form.
async fn show_login(State(auth): State<Arc<Auth>>, origin: Origin) -> Response {
    auth.pages.login_form(StatusCode::OK, &origin.prefix, "", Problem::None)
}

/// POST the login form: on success a session cookie and a 303 to `/beheer`, otherwise the
/// form again with the address kept.
async fn login(
    State(auth): State<Arc<Auth>>,
    origin: Origin,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let prefix = origin.prefix.as_str();
    let Ok(Form(form)) = form else {
        tracing::info!(outcome = "unreadable", "moderator login");
        return auth.pages.login_form(StatusCode::BAD_REQUEST, prefix, "", Problem::Incomplete);
    };
    let email = normalize_email(&form.email);
    if email.is_empty() || form.password.is_empty() {
        tracing::info!(outcome = "incomplete", "moderator login");
        let status = StatusCode::BAD_REQUEST;
        return auth.pages.login_form(status, prefix, &form.email, Problem::Incomplete);
    }
    let account = auth.account_tag(&email);
    let now = auth.now();
    match attempt(&auth, &email, form.password, now).await {
        Ok(Attempt::Success) => {
            tracing::info!(outcome = "success", %account, "moderator login");
            let jar = auth.start_session(&Session::new(&email, now), prefix);
            (jar, Redirect::to(&format!("{prefix}{BEHEER_PATH}"))).into_response()
        }
        Ok(Attempt::Wrong) => {
            tracing::info!(outcome = "wrong", %account, "moderator login");
            let status = StatusCode::UNAUTHORIZED;
            auth.pages.login_form(status, prefix, &form.email, Problem::Wrong)
        }
        Ok(Attempt::Locked(until)) => {
            tracing::info!(outcome = "locked", %account, "moderator login");
            let minutes = ((until - now).num_seconds() + 59).div_euclid(60).max(1);
            let problem = Problem::Locked { minutes };
            auth.pages.login_form(StatusCode::LOCKED, prefix, &form.email, problem)
        }
        Err(error) => {
            tracing::error!(%error, "moderator login failed");
            auth.pages.server_error(prefix)
        }
    }
}

/// Checks the password. The attempt is counted before the password is hashed, by the
/// store's one atomic write, and only an attempt that this write left unlocked is hashed:
/// the one that sets the lock is refused like every attempt during it. So guesses sent all
/// at once get no more tries than guesses sent one by one (at most `MAX_FAILED_LOGINS - 1`
/// passwords are ever checked between locks), and a burst of guesses is answered the same,
/// and as fast, for a real account as for an unknown address. A right password clears the
/// count.
async fn attempt(
    auth: &Auth,
    email: &str,
    password: String,
    now: DateTime<Utc>,
) -> Result<Attempt, StoreError> {
    let moderator = auth.moderators.moderator(email).await?;
    if let Some(until) = moderator.as_ref().and_then(|m| locked_until(&m.lock, now)) {
        return Ok(Attempt::Locked(until));
    }
    let after = match &moderator {
        Some(_) => auth.moderators.record_failed_login(email, now).await?,
        // Counted and locked like a real account, so the answers do not tell them apart.
        None => {
            let tag = auth.account_tag(email);
            Some(
                auth.unknown_login_failed(&tag, now)
                    .unwrap_or_else(|| auth.unknown_login_lock(&tag)),
            )
        }
    };
    // No account any more: it was removed between the two reads.
    let Some(after) = after else { return Ok(Attempt::Wrong) };
    if let Some(until) = locked_until(&after, now) {
        return Ok(Attempt::Locked(until));
    }
    // An unknown address is checked against a dummy hash, which never matches.
    if verify_password_blocking(password, moderator.map(|m| m.password_hash)).await? {
        auth.moderators.clear_failed_logins(email).await?;
        return Ok(Attempt::Success);
    }
    Ok(Attempt::Wrong)
}

fn locked_until(lock: &LockState, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    lock.locked_until.filter(|_| lock.is_locked(now))
}

/// POST logout: with the session's CSRF token the cookie is removed and the browser sent to
/// the login page; without it, 403.
async fn logout(
    State(auth): State<Arc<Auth>>,
    origin: Origin,
    session: ModeratorSession,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let submitted = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if check_csrf(&session, &submitted).is_err() {
        tracing::info!(reason = "csrf_mismatch", "logout refused");
        return auth.pages.forbidden(Some(&session), &origin.prefix);
    }
    tracing::info!(account = %auth.account_tag(&session.email), "moderator logout");
    let jar = auth.end_session(&headers, &origin.prefix);
    (jar, Redirect::to(&format!("{}{LOGIN_PATH}", origin.prefix))).into_response()
}
