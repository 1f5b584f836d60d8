//! The `/beheer` login, session and logout, driven through the Router with `oneshot` on a
//! real SQLite file. A stand-in `/beheer` route shows who the extractor let in.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use submit_fn::app::PathPrefix;
use submit_fn::auth::{Auth, BEHEER_CSP, ModeratorSession, Session, beheer_headers, hash_password};
use submit_fn::spam::Secrets;
use submit_fn::store::{LockState, Moderator, ModeratorStore, SqliteQueue};
use tokio::sync::oneshot;
use tower::ServiceExt;

const EMAIL: &str = "moderator@example.nl";
const PASSWORD: &str = "correct paard batterij";

/// An auth layer on a fresh SQLite file with one moderator, and a clock the test moves.
struct Fixture {
    auth: Arc<Auth>,
    store: SqliteQueue,
    now: Arc<Mutex<DateTime<Utc>>>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new(base_url: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteQueue::open(&dir.path().join("queue.sqlite3")).unwrap();
        let moderator = Moderator {
            email: EMAIL.into(),
            password_hash: hash_password(PASSWORD).unwrap(),
            added_at: Utc::now(),
            lock: LockState::default(),
            notify: false,
        };
        store.add_moderator(&moderator).await.unwrap();
        let now = Arc::new(Mutex::new(Utc.timestamp_opt(1_765_000_000, 0).unwrap()));
        let clock = Arc::clone(&now);
        let auth =
            Auth::new(Arc::new(store.clone()), &Secrets::generate(), "Buurtbord Test", base_url)
                .unwrap()
                .with_clock(Arc::new(move || *clock.lock().unwrap()));
        Fixture { auth: Arc::new(auth), store, now, _dir: dir }
    }

    fn advance(&self, by: Duration) {
        *self.now.lock().unwrap() += by;
    }

    fn router(&self) -> Router {
        let who = |session: ModeratorSession| async move {
            format!("{} {}", session.email, session.csrf).into_response()
        };
        Router::new()
            .merge(submit_fn::login::routes())
            .route("/beheer", get(who).layer(axum::middleware::map_response(beheer_headers)))
            .with_state(Arc::clone(&self.auth))
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        answer(self.router().oneshot(request).await.unwrap()).await
    }

    async fn login(&self, email: &str, password: &str) -> Answer {
        let body = format!("email={}&password={}", encode(email), encode(password));
        self.send(form("/beheer/inloggen", body, None)).await
    }

    async fn beheer(&self, cookie: Option<&str>) -> Answer {
        let mut request = Request::get("/beheer");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// The `name=value` of an encrypted session cookie for `session`, as a browser sends it.
    fn cookie_for(&self, session: &Session) -> String {
        let response = self.auth.start_session(session, "").into_response();
        let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        set_cookie.split(';').next().unwrap().to_owned()
    }
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    cache_control: Option<String>,
    csp: Option<String>,
    html: String,
}

impl Answer {
    /// The session cookie as the browser sends it back.
    fn cookie(&self) -> String {
        self.set_cookie.as_deref().unwrap().split(';').next().unwrap().to_owned()
    }

    /// The sentence in the login form's alert.
    fn alert(&self) -> &str {
        let start = self.html.find("<p role=\"alert\">").expect("an alert") + 16;
        &self.html[start..start + self.html[start..].find("</p>").unwrap()]
    }
}

async fn answer(response: axum::response::Response) -> Answer {
    let status = response.status();
    let header = |name| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (location, set_cookie) = (header(header::LOCATION), header(header::SET_COOKIE));
    let (cache_control, csp) =
        (header(header::CACHE_CONTROL), header(header::CONTENT_SECURITY_POLICY));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8(bytes.to_vec()).unwrap();
    Answer { status, location, set_cookie, cache_control, csp, html }
}

fn form(uri: &str, body: String, cookie: Option<&str>) -> Request<Body> {
    let mut request =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body)).unwrap()
}

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Logs in and returns the cookie and the session's CSRF token, read from `/beheer`.
async fn logged_in(fixture: &Fixture) -> (String, String) {
    let login = fixture.login(EMAIL, PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.html);
    let cookie = login.cookie();
    let page = fixture.beheer(Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.html.split_once(' ').unwrap().1.to_owned();
    (cookie, csrf)
}

// Guards the cookie contract: the right password gives a 303 to /beheer and an encrypted
// session cookie with HttpOnly, SameSite=Strict, Path=/beheer and, for https, Secure.
#[tokio::test]
async fn login_with_right_password_sets_strict_secure_cookie_and_opens_beheer() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let login = fixture.login("  Moderator@Example.NL", PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.location.as_deref(), Some("/beheer"));
    let set_cookie = login.set_cookie.clone().unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/beheer", "Secure"] {
        assert!(set_cookie.split("; ").any(|part| part == flag), "{flag} missing: {set_cookie}");
    }
    assert!(set_cookie.starts_with("buurtbord_beheer="));
    assert!(!set_cookie.contains("example.nl"), "the address must not be readable: {set_cookie}");
    let page = fixture.beheer(Some(&login.cookie())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.starts_with(&format!("{EMAIL} ")), "{}", page.html);
}

// Guards the local exception: a base URL on 127.0.0.1 drops Secure, keeps the rest.
#[tokio::test]
async fn login_on_a_loopback_base_url_sets_cookie_without_secure() {
    let fixture = Fixture::new("http://127.0.0.1:8080/").await;
    let login = fixture.login(EMAIL, PASSWORD).await;
    let set_cookie = login.set_cookie.unwrap();
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
}

// Guards the refusal: 401, the address kept, no cookie; an unknown address gets the same
// sentence, so the page does not tell which addresses have an account.
#[tokio::test]
async fn wrong_password_and_unknown_address_get_the_same_401_with_address_kept() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let wrong = fixture.login(EMAIL, "verkeerd wachtwoord").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.set_cookie.is_none());
    assert!(wrong.html.contains("value=\"moderator@example.nl\""), "{}", wrong.html);
    let unknown = fixture.login("onbekend@example.nl", "verkeerd wachtwoord").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.html.contains("value=\"onbekend@example.nl\""));
    assert_eq!(wrong.alert(), unknown.alert());
    assert!(wrong.alert().contains("klopt niet"), "{}", wrong.alert());
}

// Guards the lockout: after five wrong passwords the right one is refused with 423 and a
// sentence naming the minutes left; once the 15 minutes have passed it works again.
#[tokio::test]
async fn five_wrong_passwords_lock_the_account_until_the_lock_runs_out() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    for _ in 0..4 {
        assert_eq!(fixture.login(EMAIL, "fout fout fout").await.status, StatusCode::UNAUTHORIZED);
    }
    let fifth = fixture.login(EMAIL, "fout fout fout").await;
    assert_eq!(fifth.status, StatusCode::LOCKED);
    assert!(fifth.alert().contains("15 minuten"), "{}", fifth.alert());

    fixture.advance(Duration::minutes(14));
    let right_during_lock = fixture.login(EMAIL, PASSWORD).await;
    assert_eq!(right_during_lock.status, StatusCode::LOCKED);
    assert!(right_during_lock.set_cookie.is_none());
    assert!(right_during_lock.alert().contains("1 minuut"), "{}", right_during_lock.alert());

    fixture.advance(Duration::minutes(1));
    let after = fixture.login(EMAIL, PASSWORD).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    let lock = fixture.store.moderator(EMAIL).await.unwrap().unwrap().lock;
    assert_eq!(lock, LockState::default(), "a successful login resets the counter");
}

// Guards against telling accounts apart by their lock: an address that is no
// moderator's answers the same statuses and sentences, try after try, as a real account
// given the same wrong passwords, and its lock runs out after the same 15 minutes.
#[tokio::test]
async fn an_unknown_address_is_locked_exactly_like_a_real_account() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    for attempt in 1..=6 {
        let real = fixture.login(EMAIL, "fout fout fout").await;
        let unknown = fixture.login("onbekend@example.nl", "fout fout fout").await;
        assert_eq!(real.status, unknown.status, "attempt {attempt}");
        assert_eq!(real.alert(), unknown.alert(), "attempt {attempt}");
        let expected = if attempt < 5 { StatusCode::UNAUTHORIZED } else { StatusCode::LOCKED };
        assert_eq!(unknown.status, expected, "attempt {attempt}");
    }
    fixture.advance(Duration::minutes(15));
    let unknown = fixture.login("onbekend@example.nl", "fout fout fout").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED, "the lock ran out");
}

// Guards the burst: after four wrong passwords, a burst of guesses sent at once (the
// right password among them) is all refused with 423 and no session, for a real account
// as for an unknown address; the attempt that sets the lock checks no password.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_after_four_wrong_passwords_is_all_locked_even_with_the_right_one() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    for address in [EMAIL, "onbekend@example.nl"] {
        for _ in 0..4 {
            let answer = fixture.login(address, "fout fout fout").await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        }
        let (a, b, c, d, e, f) = tokio::join!(
            fixture.login(address, PASSWORD),
            fixture.login(address, "fout 1"),
            fixture.login(address, "fout 2"),
            fixture.login(address, "fout 3"),
            fixture.login(address, PASSWORD),
            fixture.login(address, "fout 4"),
        );
        for answer in [a, b, c, d, e, f] {
            assert_eq!(answer.status, StatusCode::LOCKED, "{address}");
            assert!(answer.set_cookie.is_none(), "{address}: no session past the limit");
        }
    }
}

// Guards the absolute expiry: a cookie whose signed expiry has passed is refused, and so is
// a real session eight hours after login, however the browser kept it.
#[tokio::test]
async fn expired_session_redirects_to_the_login_page() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let now = fixture.auth.now();
    let past = Session { expires_at: now - Duration::seconds(1), ..Session::new(EMAIL, now) };
    let refused = fixture.beheer(Some(&fixture.cookie_for(&past))).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(refused.location.as_deref(), Some("/beheer/inloggen"));

    let (cookie, _) = logged_in(&fixture).await;
    fixture.advance(Duration::hours(8) - Duration::seconds(1));
    assert_eq!(fixture.beheer(Some(&cookie)).await.status, StatusCode::OK);
    fixture.advance(Duration::seconds(1));
    assert_eq!(fixture.beheer(Some(&cookie)).await.status, StatusCode::SEE_OTHER);
}

// Guards the encryption: a cookie changed by one character, or made with another key, or
// absent, gets the login page.
#[tokio::test]
async fn tampered_or_foreign_cookie_redirects_to_the_login_page() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let (cookie, _) = logged_in(&fixture).await;
    let mut tampered = cookie.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let other = Fixture::new("https://buurtbord.example.nl/").await;
    let foreign = other.cookie_for(&Session::new(EMAIL, other.auth.now()));
    for cookie in [Some(tampered.as_str()), Some(foreign.as_str()), None] {
        let answer = fixture.beheer(cookie).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{cookie:?}");
        assert_eq!(answer.location.as_deref(), Some("/beheer/inloggen"));
    }
}

// Guards removal: a moderator removed while logged in loses access at the next request.
#[tokio::test]
async fn session_of_a_removed_moderator_is_refused() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let (cookie, _) = logged_in(&fixture).await;
    fixture.store.remove_moderator(EMAIL).await.unwrap();
    let answer = fixture.beheer(Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location.as_deref(), Some("/beheer/inloggen"));
}

// Guards CSRF on logout: no token or a wrong one is 403 and keeps the cookie; the right one
// removes the cookie (same name and path, Max-Age=0) and sends the browser to the login.
#[tokio::test]
async fn logout_needs_the_sessions_csrf_token_and_then_clears_the_cookie() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let (cookie, csrf) = logged_in(&fixture).await;
    for body in [String::new(), "csrf=".into(), format!("csrf={}x", csrf)] {
        let refused = fixture.send(form("/beheer/uitloggen", body.clone(), Some(&cookie))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{body}");
        assert!(refused.set_cookie.is_none());
        assert!(refused.html.contains("niet gelukt"), "{}", refused.html);
    }
    let done = fixture.send(form("/beheer/uitloggen", format!("csrf={csrf}"), Some(&cookie))).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location.as_deref(), Some("/beheer/inloggen"));
    let removal = done.set_cookie.unwrap();
    assert!(removal.starts_with("buurtbord_beheer=;"), "{removal}");
    assert!(removal.contains("Max-Age=0") && removal.contains("Path=/beheer"), "{removal}");
}

// Guards the headers: every /beheer response here carries no-store and the strict CSP,
// refusals and redirects included.
#[tokio::test]
async fn every_beheer_response_carries_no_store_and_the_strict_csp() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let (cookie, _) = logged_in(&fixture).await;
    let answers = [
        fixture.send(Request::get("/beheer/inloggen").body(Body::empty()).unwrap()).await,
        fixture.login(EMAIL, "fout fout fout").await,
        fixture.login(EMAIL, PASSWORD).await,
        fixture.beheer(None).await,
        fixture.beheer(Some(&cookie)).await,
        fixture.send(form("/beheer/uitloggen", String::new(), Some(&cookie))).await,
    ];
    for answer in answers {
        assert_eq!(answer.cache_control.as_deref(), Some("no-store"), "{}", answer.status);
        assert_eq!(answer.csp.as_deref(), Some(BEHEER_CSP), "{}", answer.status);
    }
    assert!(
        BEHEER_CSP.contains("default-src 'none'") && BEHEER_CSP.contains("frame-ancestors 'none'")
    );
}

// Guards the login form itself: labelled Dutch fields posting to the login path.
#[tokio::test]
async fn login_form_has_labelled_dutch_fields() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let page = fixture.send(Request::get("/beheer/inloggen").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    for part in [
        "<label for=\"email\">E-mailadres</label>",
        "<label for=\"password\">Wachtwoord</label>",
        "type=\"password\"",
        "<html lang=\"nl\">",
        "Beheer",
        "https://buurtbord.example.nl/static/style.css",
    ] {
        assert!(page.html.contains(part), "{part} missing: {}", page.html);
    }
    assert!(!page.html.contains("Uitloggen"), "no logout button before login");
}

// Guards the stage prefix behind API Gateway: redirects and the cookie path include it.
#[tokio::test]
async fn stage_prefix_is_kept_in_redirects_and_cookie_path() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let with_prefix = |mut request: Request<Body>| {
        request.extensions_mut().insert(PathPrefix("/prod".into()));
        request
    };
    let body = format!("email={}&password={}", encode(EMAIL), encode(PASSWORD));
    let login = fixture.send(with_prefix(form("/beheer/inloggen", body, None))).await;
    assert_eq!(login.location.as_deref(), Some("/prod/beheer"));
    assert!(login.set_cookie.unwrap().contains("Path=/prod/beheer"));
    let refused =
        fixture.send(with_prefix(Request::get("/beheer").body(Body::empty()).unwrap())).await;
    assert_eq!(refused.location.as_deref(), Some("/prod/beheer/inloggen"));
}

// Guards the dummy hash: an unknown address costs about as much hashing as a wrong password
// (interleaved runs, medians compared), so response time does not tell which addresses
// have an account. Without the dummy hash an unknown address would answer ~1000x faster.
#[tokio::test]
async fn unknown_address_takes_about_as_long_as_a_wrong_password() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    fixture.login("warm@example.nl", "x").await; // makes the dummy hash once
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let start = std::time::Instant::now();
        fixture.login(EMAIL, "fout fout fout").await;
        wrong.push(start.elapsed());
        let start = std::time::Instant::now();
        fixture.login("onbekend@example.nl", "fout fout fout").await;
        unknown.push(start.elapsed());
    }
    wrong.sort();
    unknown.sort();
    let ratio = unknown[1].as_secs_f64() / wrong[1].as_secs_f64();
    eprintln!("median wrong {:?}, unknown {:?}, ratio {ratio:.2}", wrong[1], unknown[1]);
    assert!((0.5..2.0).contains(&ratio), "unknown/wrong time ratio {ratio:.2}");
}

/// A moderator store whose first read of an account returns what it held at that moment,
/// but only once the test lets it go: the read of a login that raced with other logins.
struct StaleFirstRead {
    inner: SqliteQueue,
    /// Tells the test the first read is taken, and waits for its word to answer.
    held: tokio::sync::Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
}

#[async_trait::async_trait]
impl ModeratorStore for StaleFirstRead {
    async fn add_moderator(&self, m: &Moderator) -> Result<(), submit_fn::store::ModeratorError> {
        self.inner.add_moderator(m).await
    }
    async fn remove_moderator(&self, e: &str) -> Result<(), submit_fn::store::ModeratorError> {
        self.inner.remove_moderator(e).await
    }
    async fn moderators(&self) -> Result<Vec<Moderator>, submit_fn::store::StoreError> {
        self.inner.moderators().await
    }
    async fn moderator(&self, e: &str) -> Result<Option<Moderator>, submit_fn::store::StoreError> {
        let snapshot = self.inner.moderator(e).await;
        let held = self.held.lock().await.take();
        if let Some((reached, gate)) = held {
            reached.send(()).unwrap();
            gate.await.unwrap();
        }
        snapshot
    }
    async fn record_failed_login(
        &self,
        e: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LockState>, submit_fn::store::StoreError> {
        self.inner.record_failed_login(e, now).await
    }
    async fn clear_failed_logins(&self, e: &str) -> Result<(), submit_fn::store::StoreError> {
        self.inner.clear_failed_logins(e).await
    }
    async fn set_notify(&self, e: &str, on: bool) -> Result<(), submit_fn::store::ModeratorError> {
        self.inner.set_notify(e, on).await
    }
}

// Guards the lockout against guesses sent all at once (breaker: 29 parallel wrong guesses
// and the right password last got a session): a login whose look-up happened before five
// other wrong guesses locked the account is refused, even with the right password.
#[tokio::test]
async fn right_password_racing_five_wrong_guesses_is_refused_once_they_lock() {
    let fixture = Fixture::new("https://buurtbord.example.nl/").await;
    let (release, gate) = oneshot::channel();
    let (reached_tx, reached) = oneshot::channel();
    let store =
        StaleFirstRead { inner: fixture.store.clone(), held: Some((reached_tx, gate)).into() };
    let secrets = Secrets::generate();
    let auth = Auth::new(Arc::new(store), &secrets, "Test", "https://buurtbord.example.nl/");
    let router =
        Router::new().merge(submit_fn::login::routes()).with_state(Arc::new(auth.unwrap()));
    let login = |password: &str| {
        let body = format!("email={}&password={}", encode(EMAIL), encode(password));
        router.clone().oneshot(form("/beheer/inloggen", body, None))
    };

    let racing = tokio::spawn(login(PASSWORD));
    // The racing login has read the account (unlocked) and waits; five guesses lock it.
    reached.await.unwrap();
    for _ in 0..5 {
        login("fout fout fout").await.unwrap();
    }
    assert!(fixture.store.moderator(EMAIL).await.unwrap().unwrap().lock.locked_until.is_some());
    release.send(()).unwrap();

    let answer = answer(racing.await.unwrap().unwrap()).await;
    assert_eq!(answer.status, StatusCode::LOCKED);
    assert!(answer.set_cookie.is_none(), "no session for a guess past the limit");
}
