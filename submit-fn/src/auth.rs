//! Who is logged in at `/beheer`: password hashing, the session cookie, the
//! `ModeratorSession` extractor, the CSRF check, and the headers every `/beheer` response
//! carries. The login and logout routes that use them are in `login.rs`.
//!
//! Invariants: a session is exactly what the encrypted cookie says, and it ends at the expiry
//! written into it at login, whatever a browser does with the cookie; a session of a removed
//! moderator is refused on its next request; passwords exist only as argon2id hashes.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::app::PathPrefix;
use crate::login::BeheerPages;
use crate::spam::Secrets;
use crate::store::{LockState, ModeratorStore};

/// The moderation area; the session cookie is limited to it.
pub const BEHEER_PATH: &str = "/beheer";
/// The login form.
pub const LOGIN_PATH: &str = "/beheer/inloggen";
/// Where the logout button posts.
pub const LOGOUT_PATH: &str = "/beheer/uitloggen";
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "buurtbord_beheer";
/// A session ends this long after login, however active the moderator is.
pub const SESSION_HOURS: i64 = 8;
/// The shortest password `moderator add` accepts.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The Content-Security-Policy of every `/beheer` response: no scripts, no frames, forms
/// and styles from this origin only.
pub const BEHEER_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// "Now" for sessions and lockouts: the system clock, except in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What the `/beheer` routes need to know who is logged in. Part of the moderation state;
/// handlers and the extractor reach it through `FromRef`.
pub struct Auth {
    pub moderators: Arc<dyn ModeratorStore>,
    /// Encrypts and signs the session cookie.
    pub key: Key,
    /// False only when the site is served from localhost or 127.0.0.1 over plain HTTP.
    pub secure_cookies: bool,
    pub clock: Clock,
    /// The login page and the layout the moderation pages extend.
    pub pages: BeheerPages,
    /// Wrong-password counts of addresses that are no moderator's, by account tag, so an
    /// unknown address gets locked exactly as a real account does and the lock page does
    /// not tell which addresses are moderators'. Kept in memory: after a restart (or on
    /// another Lambda instance) a guesser starts again, as they would with a new address.
    pub unknown_logins: std::sync::Mutex<HashMap<String, LockState>>,
}

/// How many unknown addresses `Auth::unknown_logins` keeps; beyond it, the ones whose
/// lock ran out are forgotten first, then all (a flood of addresses must not fill memory).
const MAX_UNKNOWN_LOGINS: usize = 10_000;

/// Why `Auth` could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the cookie key has {0} bytes; at least 64 are needed")]
    ShortKey(usize),
    #[error("templates: {0}")]
    Templates(#[from] tera::Error),
    #[error("password hashing: {0}")]
    Hash(String),
}

impl Auth {
    /// The auth layer for a site at `base_url`, with the cookie key from `secrets` and the
    /// system clock.
    pub fn new(
        moderators: Arc<dyn ModeratorStore>,
        secrets: &Secrets,
        site_name: &str,
        base_url: &str,
    ) -> Result<Auth, AuthError> {
        if secrets.cookie_key.len() < 64 {
            return Err(AuthError::ShortKey(secrets.cookie_key.len()));
        }
        Ok(Auth {
            moderators,
            key: Key::from(&secrets.cookie_key),
            secure_cookies: !is_local_base_url(base_url),
            clock: Arc::new(Utc::now),
            pages: BeheerPages::new(site_name, base_url)?,
            unknown_logins: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The same, with another clock (tests move time forward with it).
    pub fn with_clock(self, clock: Clock) -> Auth {
        Auth { clock, ..self }
    }

    /// The current time by this layer's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The session cookie for `session`, its path under the request's stage prefix. It has
    /// no Max-Age: the browser drops it when closed, which suits a shared computer at the
    /// volunteer centre; the server ends it at `session.expires_at` regardless.
    pub fn session_cookie(&self, session: &Session, prefix: &str) -> Cookie<'static> {
        let value = serde_json::to_string(session).expect("a session serialises");
        Cookie::build((SESSION_COOKIE, value))
            .path(format!("{prefix}{BEHEER_PATH}"))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure_cookies)
            .build()
    }

    /// A jar that sets the encrypted session cookie on a response.
    pub fn start_session(&self, session: &Session, prefix: &str) -> PrivateCookieJar {
        PrivateCookieJar::new(self.key.clone()).add(self.session_cookie(session, prefix))
    }

    /// A jar that removes the session cookie the request sent. The jar starts from the
    /// request's cookies because a removal is only sent for a cookie the browser has.
    pub fn end_session(&self, headers: &HeaderMap, prefix: &str) -> PrivateCookieJar {
        let cookie = Cookie::build(SESSION_COOKIE).path(format!("{prefix}{BEHEER_PATH}"));
        PrivateCookieJar::from_headers(headers, self.key.clone()).remove(cookie)
    }

    /// The session in the request's cookie when it decrypts, parses and has not expired.
    pub fn session_from(&self, headers: &HeaderMap) -> Option<Session> {
        let jar = PrivateCookieJar::from_headers(headers, self.key.clone());
        let session: Session = serde_json::from_str(jar.get(SESSION_COOKIE)?.value()).ok()?;
        (session.expires_at > self.now()).then_some(session)
    }

    /// A short keyed hash of an address, to tell log lines of one account apart without
    /// writing the address down.
    /// Counts one more wrong password for an address that is no moderator's, the way the
    /// store counts it for a real account; returns the count after it, or `None` while
    /// that address is locked.
    pub fn unknown_login_failed(&self, tag: &str, now: DateTime<Utc>) -> Option<LockState> {
        let mut logins = self.unknown_logins.lock().unwrap_or_else(|e| e.into_inner());
        if logins.len() >= MAX_UNKNOWN_LOGINS && !logins.contains_key(tag) {
            logins.retain(|_, lock| lock.is_locked(now));
            if logins.len() >= MAX_UNKNOWN_LOGINS {
                logins.clear();
            }
        }
        let lock = logins.entry(tag.to_owned()).or_default();
        let after = lock.after_failure(now)?;
        *lock = after;
        Some(after)
    }

    /// The lock of an address that is no moderator's, as `unknown_login_failed` keeps it.
    pub fn unknown_login_lock(&self, tag: &str) -> LockState {
        let logins = self.unknown_logins.lock().unwrap_or_else(|e| e.into_inner());
        logins.get(tag).copied().unwrap_or_default()
    }

    pub fn account_tag(&self, email: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.signing()).expect("any key size");
        mac.update(b"account:");
        mac.update(email.as_bytes());
        mac.finalize().into_bytes()[..6].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What the encrypted cookie holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The moderator's normalised address.
    pub email: String,
    /// 128 random bits, URL-safe base64; every form of the session sends it back.
    pub csrf: String,
    /// Absolute; set once at login.
    #[serde(with = "chrono::serde::ts_seconds")]
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// A new session for `email` logged in at `now`, with a fresh CSRF token.
    pub fn new(email: &str, now: DateTime<Utc>) -> Session {
        let mut token = [0u8; 16];
        rand::rng().fill_bytes(&mut token);
        Session {
            email: email.to_owned(),
            csrf: URL_SAFE_NO_PAD.encode(token),
            expires_at: now + Duration::hours(SESSION_HOURS),
        }
    }
}

/// A logged-in moderator, taken from the session cookie. A request without a valid session,
/// or whose moderator no longer exists, is answered with a 303 to the login page.
#[derive(Debug, Clone)]
pub struct ModeratorSession {
    pub email: String,
    pub csrf: String,
}

impl<S> FromRequestParts<S> for ModeratorSession
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = Arc::<Auth>::from_ref(state);
        let prefix = prefix_of(parts);
        let Some(session) = auth.session_from(&parts.headers) else {
            tracing::debug!(reason = "no_valid_session", "beheer request sent to login");
            return Err(to_login(&prefix));
        };
        match auth.moderators.moderator(&session.email).await {
            Ok(Some(_)) => Ok(ModeratorSession { email: session.email, csrf: session.csrf }),
            Ok(None) => {
                let account = auth.account_tag(&session.email);
                tracing::info!(reason = "moderator_removed", %account, "session refused");
                Err(to_login(&prefix))
            }
            Err(error) => {
                tracing::error!(%error, "moderator lookup failed");
                Err(auth.pages.server_error(&prefix))
            }
        }
    }
}

/// The CSRF token of a form did not match the session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("csrf token does not match the session")]
pub struct CsrfMismatch;

/// Compares a submitted CSRF token with the session's in constant time. The caller turns
/// a mismatch into a 403 page (`BeheerPages::forbidden`).
pub fn check_csrf(session: &ModeratorSession, submitted: &str) -> Result<(), CsrfMismatch> {
    let expected = session.csrf.as_bytes();
    let matches = !expected.is_empty() && bool::from(expected.ct_eq(submitted.as_bytes()));
    if matches { Ok(()) } else { Err(CsrfMismatch) }
}

/// Adds `Cache-Control: no-store` and the strict CSP to a response. Use it on every
/// `/beheer` route: `.layer(axum::middleware::map_response(beheer_headers))`.
pub async fn beheer_headers(response: Response) -> Response {
    with_beheer_headers(response)
}

/// The same, for a response built outside a layered router.
pub fn with_beheer_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // A route that needs a narrower exception (the preview, shown in a frame of the
    // post's page) sets its own policy, which is kept.
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(BEHEER_CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// A 303 to the login page under `prefix`.
pub fn to_login(prefix: &str) -> Response {
    with_beheer_headers(Redirect::to(&format!("{prefix}{LOGIN_PATH}")).into_response())
}

/// The stage prefix of a request (see `app::PathPrefix`); empty locally.
pub fn prefix_of(parts: &Parts) -> String {
    parts.extensions.get::<PathPrefix>().map(|p| p.0.clone()).unwrap_or_default()
}

/// True if and only if `base_url` names localhost or a loopback address, where browsers
/// accept cookies without HTTPS. Decided from configuration, never from request headers,
/// which a client controls.
pub fn is_local_base_url(base_url: &str) -> bool {
    let Ok(uri) = base_url.parse::<Uri>() else { return false };
    matches!(uri.host(), Some("localhost" | "127.0.0.1" | "[::1]" | "::1"))
}

/// An argon2id hash of `password` in PHC string format, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// True if and only if `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Checks `password` against `hash` off the async threads, since argon2 is slow on purpose.
/// Without a hash (an unknown address) it checks against a dummy hash of the same cost and
/// returns false, so an unknown address takes as long as a wrong password.
pub async fn verify_password_blocking(
    password: String,
    hash: Option<String>,
) -> Result<bool, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            let _ = verify_password(&password, &DUMMY_HASH);
            false
        }
    })
    .await
}

/// A hash of a random password nobody knows, made once with the same parameters as real
/// ones.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    hash_password(&URL_SAFE_NO_PAD.encode(secret)).expect("hashing a fixed-size password")
});

/// True if and only if `password` is long enough to be accepted.
pub fn is_long_enough(password: &str) -> bool {
    password.chars().count() >= MIN_PASSWORD_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;

    // Guards the Secure decision: only loopback base URLs may go without it.
    #[test]
    fn only_loopback_base_urls_drop_the_secure_flag() {
        assert!(is_local_base_url("http://127.0.0.1:8080/"));
        assert!(is_local_base_url("http://localhost/buurt/"));
        assert!(is_local_base_url("http://[::1]:8080/"));
        assert!(!is_local_base_url("https://buurtbord.example.nl/"));
        assert!(!is_local_base_url("http://localhost.example.nl/"));
        assert!(!is_local_base_url("not a url"));
    }

    // Guards the hashing contract: argon2id PHC strings, salted, verifiable.
    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let (one, two) =
            (hash_password("lang genoeg wachtwoord").unwrap(), hash_password("x").unwrap());
        assert!(one.starts_with("$argon2id$v=19$"));
        assert_ne!(hash_password("lang genoeg wachtwoord").unwrap(), one);
        assert!(verify_password("lang genoeg wachtwoord", &one));
        assert!(!verify_password("x", &one));
        assert!(verify_password("x", &two));
        assert!(!verify_password("x", "not a hash"));
        assert!(is_long_enough("twaalf tekens"));
        assert!(!is_long_enough("elf tekens!"));
    }

    // Guards the CSRF check: equal tokens pass; other, empty or shorter ones fail.
    #[test]
    fn csrf_check_accepts_only_the_sessions_token() {
        let session = ModeratorSession { email: "m@example.nl".into(), csrf: "abcdef".into() };
        assert_eq!(check_csrf(&session, "abcdef"), Ok(()));
        assert_eq!(check_csrf(&session, "abcdeg"), Err(CsrfMismatch));
        assert_eq!(check_csrf(&session, "abc"), Err(CsrfMismatch));
        assert_eq!(check_csrf(&session, ""), Err(CsrfMismatch));
        let empty = ModeratorSession { csrf: String::new(), ..session };
        assert_eq!(check_csrf(&empty, ""), Err(CsrfMismatch));
    }
}
