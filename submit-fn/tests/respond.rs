//! The forms on a post's page, driven through the router with `oneshot` as `buurtbord
//! serve` wires it: responses relayed to the poster and reports handled in `/beheer`. A
//! `Moderation` over a SQLite queue and a `LocalPublisher` on a copy of the sample content
//! write real files: the built site, the outbox of `.eml` files and the audit log, and each
//! test checks those, not stand-ins.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{Duration, Utc};
use common::{copy_dir, escaped};
use generator::BuildOptions;
use http_body_util::BodyExt;
use mail_parser::MessageParser;
use submit_fn::auth::{Auth, Session};
use submit_fn::beheer::{Beheer, BeheerState};
use submit_fn::mail::{MailTemplates, OutboxMailer};
use submit_fn::manage::Manage;
use submit_fn::moderate::Moderation;
use submit_fn::render::Pages;
use submit_fn::rules::SiteRules;
use submit_fn::spam::{Secrets, new_nonce, token_hash};
use submit_fn::store::{AuditAction, ModeratorStore, QueueItem, SqliteQueue, Status};
use submit_fn::submission::{Kind, Submission};
use tower::ServiceExt;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const MODERATOR: &str = "moderator@example.org";
const POSTER: &str = "truus.de.vries@example.nl";
const POSTER_PHONE: &str = "06-87654321";
const RESPONDER: &str = "piet@example.org";
const TITLE: &str = "Wie helpt mij met de heg?";

/// The routes, the decisions behind them and the folders they write.
struct Site {
    moderation: Arc<Moderation>,
    router: Router,
    content: PathBuf,
    out: PathBuf,
    outbox: PathBuf,
    /// The moderator's session cookie and CSRF token.
    cookie: String,
    csrf: String,
    _tmp: tempfile::TempDir,
}

/// A response's status, redirect target and body.
struct Answer {
    status: StatusCode,
    location: String,
    body: String,
}

/// A mail as the poster's mail program shows it.
struct Sent {
    to: String,
    reply_to: Option<String>,
    subject: String,
    text: String,
    html: String,
    /// Every header but To, as sent.
    other_headers: String,
}

impl Site {
    /// Copies the sample content, builds the site, and wires the function's routes and
    /// `/beheer` with one logged-in moderator.
    async fn open() -> Site {
        Site::open_with(|_| {}).await
    }

    /// As [`Site::open`], with `prepare` changing the copied content folder first.
    async fn open_with(prepare: impl FnOnce(&Path)) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let content = tmp.path().join("content");
        copy_dir(&Path::new(ROOT).join("content"), &content);
        prepare(&content);
        let theme = Path::new(ROOT).join("themes/default");
        let (out, outbox) = (tmp.path().join("public"), tmp.path().join("outbox"));
        let site = generator::Site::load(&content, None).unwrap();
        let yaml = std::fs::read_to_string(content.join("site.yaml")).unwrap();
        let options = BuildOptions {
            content: content.clone(),
            theme: theme.clone(),
            out: out.clone(),
            now: Utc::now().fixed_offset(),
            base_url: None,
        };
        let queue = SqliteQueue::open(&tmp.path().join("queue.sqlite3")).unwrap();
        let moderation = Arc::new(Moderation {
            queue: Arc::new(queue.clone()),
            publisher: Arc::new(submit_fn::publish::LocalPublisher::open(options).unwrap()),
            mailer: Arc::new(OutboxMailer::new(&outbox, &site.mail_from()).unwrap()),
            mails: MailTemplates::new(&site.config.name).unwrap(),
            secrets: Secrets::generate(),
            rules: SiteRules::from_site_yaml(&yaml).unwrap().0,
            site_root: site.absolute(""),
            reject_reasons: site.config.moderation.reject_reasons.clone(),
        });
        queue
            .add_moderator(&submit_fn::store::Moderator {
                email: MODERATOR.into(),
                password_hash: submit_fn::auth::hash_password("een lang wachtwoord").unwrap(),
                added_at: Utc::now(),
                lock: Default::default(),
                notify: false,
            })
            .await
            .unwrap();
        let root = moderation.site_root.clone();
        let auth = Auth::new(Arc::new(queue), &moderation.secrets, "Test", &root).unwrap();
        let session = Session::new(MODERATOR, Utc::now());
        let cookie = auth.start_session(&session, "").into_response();
        let cookie = cookie.headers()[header::SET_COOKIE].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let preview = generator::Preview::load(&content, &theme, None).unwrap();
        let beheer = Beheer::new(Arc::clone(&moderation), Arc::new(auth), preview).unwrap();
        let pages = Pages::load(&content, &theme, None).unwrap();
        let manage = Arc::new(Manage { moderation: Arc::clone(&moderation), pages });
        let router = submit_fn::manage::router(manage)
            .merge(submit_fn::beheer::router(BeheerState::new(beheer)));
        Site { moderation, router, content, out, outbox, cookie, csrf: session.csrf, _tmp: tmp }
    }

    /// Queues a post with the poster's e-mail address and phone number and brings it to
    /// `status` (online, expired, withdrawn, helped, rejected, removed or waiting).
    async fn post_in(&self, status: &str) -> String {
        let nonce = new_nonce();
        let secrets = &self.moderation.secrets;
        let received_at = Utc::now() - Duration::minutes(5);
        let item = QueueItem {
            id: secrets.post_id(&nonce, received_at.timestamp()),
            token_hash: token_hash(&secrets.management_token(&nonce)),
            nonce,
            status: Status::Pending,
            received_at,
            submission: submission(),
            ip_hash: "ab".repeat(16),
            fingerprint: "fingerprint".into(),
            decision: None,
        };
        self.moderation.queue.create(&item).await.unwrap();
        let (m, id, now) = (&self.moderation, item.id.as_str(), Utc::now());
        match status {
            "waiting" => {}
            "online" => drop(m.approve(id, MODERATOR, None, now).await.unwrap()),
            "expired" => {
                drop(m.approve(id, MODERATOR, None, now - Duration::days(40)).await.unwrap())
            }
            "withdrawn" => drop(m.withdraw(id, now).await.unwrap()),
            "helped" => drop(m.mark_helped(id, now).await.unwrap()),
            "rejected" => m.reject(id, MODERATOR, "Dit is reclame.", now).await.unwrap(),
            "removed" => {
                m.approve(id, MODERATOR, None, now).await.unwrap();
                m.take_down(id, MODERATOR, "Dit is reclame.", now).await.unwrap();
            }
            other => panic!("no status {other}"),
        }
        item.id
    }

    async fn item(&self, id: &str) -> QueueItem {
        self.moderation.queue.get(id).await.unwrap().expect("the item is in the queue")
    }

    async fn get(&self, uri: &str) -> Answer {
        let request = Request::get(uri).header(header::COOKIE, &self.cookie);
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, uri: &str, form: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(form).unwrap();
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &self.cookie)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer { status, location, body: String::from_utf8(bytes.to_vec()).unwrap() }
    }

    /// A form time signed ten seconds ago and a fresh nonce, as a function-rendered form
    /// carries them once a person has filled it in.
    fn hidden(&self) -> [(&'static str, String); 2] {
        let token = self.moderation.secrets.issue_form_token(Utc::now() - Duration::seconds(10));
        [("form_token", token), ("submission_id", new_nonce())]
    }

    /// POSTs the response form with filled-in hidden fields.
    async fn respond(&self, id: &str, name: &str, contact: &str, message: &str) -> Answer {
        let hidden = self.hidden();
        let mut form = vec![("name", name), ("contact", contact), ("message", message)];
        form.extend(hidden.iter().map(|(k, v)| (*k, v.as_str())));
        form.push(("website", ""));
        self.post(&format!("/reageren/{id}"), &form).await
    }

    async fn report(&self, id: &str, reason: &str, message: &str) -> Answer {
        let hidden = self.hidden();
        let mut form = vec![("reason", reason), ("message", message), ("website", "")];
        form.extend(hidden.iter().map(|(k, v)| (*k, v.as_str())));
        self.post(&format!("/melden/{id}"), &form).await
    }

    /// Every message in the outbox, oldest first.
    fn mails(&self) -> Vec<Sent> {
        let Ok(dir) = std::fs::read_dir(&self.outbox) else { return Vec::new() };
        let mut paths: Vec<PathBuf> = dir
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| parse_mail(&std::fs::read(p).unwrap())).collect()
    }

    /// The built page of post `id`, if the site has it (at the address it was first
    /// published under, which a revised title keeps).
    async fn built_page(&self, id: &str) -> Option<String> {
        let url = self.moderation.live_url(&self.item(id).await).await.unwrap();
        let rel = url.strip_prefix(&self.moderation.site_root).unwrap();
        std::fs::read_to_string(self.out.join(rel).join("index.html")).ok()
    }

    fn manage_page(&self, item: &QueueItem) -> String {
        let url = self.moderation.manage_url(item);
        url.strip_prefix(&self.moderation.site_root).map(|p| format!("/{p}")).unwrap()
    }
}

fn parse_mail(eml: &[u8]) -> Sent {
    let message = MessageParser::default().parse(eml).expect("a MIME message");
    let first = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned)
    };
    let raw = String::from_utf8_lossy(eml);
    let headers = raw.split("\r\n\r\n").next().unwrap_or_default();
    Sent {
        to: first(message.to()).unwrap(),
        reply_to: first(message.reply_to()),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).expect("a text part").into_owned(),
        html: message.body_html(0).expect("an HTML part").into_owned(),
        other_headers: headers
            .split("\r\n")
            .filter(|line| !line.to_ascii_lowercase().starts_with("to:"))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn submission() -> Submission {
    Submission {
        kind: Kind::Request,
        title: TITLE.into(),
        body: "Mijn heg is te hoog geworden.\n\nWie kan een uurtje helpen?".into(),
        category: "tuin".into(),
        municipality: "huizen".into(),
        neighbourhood: Some("Oostermeent".into()),
        recurring: false,
        expires: None,
        display_name: "Truus".into(),
        organisation: None,
        email: Some(POSTER.into()),
        phone: Some(POSTER_PHONE.into()),
    }
}

/// The value of the hidden field `name` in a page.
fn hidden_value(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name} in {page}")) + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

// Guards the responder's journey and both sides' privacy: the post page's form reaches the
// function, the static page's first press comes back filled in, the relayed mail goes to
// the poster with the responder as Reply-To and carries nothing of the poster's contact
// details, no page shows them, and the management page lists the response.
#[tokio::test]
async fn response_is_relayed_with_reply_to_and_no_page_or_mail_text_shows_the_posters_details() {
    let site = Site::open().await;
    let id = site.post_in("online").await;
    let page = site.built_page(&id).await.expect("the post is on the site");
    assert!(page.contains(&format!("action=\"/reageren/{id}\"")), "response form: {page}");
    assert!(page.contains(&format!("action=\"/melden/{id}\"")), "report form");
    assert!(!page.contains(POSTER) && !page.contains(POSTER_PHONE));
    let before = site.mails().len();

    // The static page carries no signed form time: its first press comes back, filled in.
    let message = "Ik kom zaterdag met mijn heggenschaar.\nGroet, Piet";
    let form = [("name", "Piet"), ("contact", RESPONDER), ("message", message), ("website", "")];
    let first = site.post(&format!("/reageren/{id}"), &form).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains(&escaped(RESPONDER)) && first.body.contains("heggenschaar"));
    assert!(first.body.contains("nog niet verstuurd"), "{}", first.body);
    assert_eq!(site.mails().len(), before, "nothing is sent before the second press");
    let nonce = hidden_value(&first.body, "submission_id");
    assert!(!hidden_value(&first.body, "form_token").is_empty());

    let token = site.moderation.secrets.issue_form_token(Utc::now() - Duration::seconds(10));
    let mut form = form.to_vec();
    form.extend([("form_token", token.as_str()), ("submission_id", nonce.as_str())]);
    let sent = site.post(&format!("/reageren/{id}"), &form).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(sent.location, format!("/reageren/{id}/verstuurd"));
    // A double click: the same form again stores and mails nothing more.
    assert_eq!(site.post(&format!("/reageren/{id}"), &form).await.status, StatusCode::SEE_OTHER);

    let thanks = site.get(&sent.location).await;
    assert_eq!(thanks.status, StatusCode::OK);
    assert!(thanks.body.contains("Bedankt") && thanks.body.contains("Truus"));
    for shown in [&first.body, &thanks.body] {
        assert!(!shown.contains(POSTER) && !shown.contains(POSTER_PHONE), "{shown}");
    }

    let mails = site.mails();
    assert_eq!(mails.len(), before + 1, "one mail for one response");
    let mail = &mails[before];
    assert_eq!(mail.to, POSTER);
    assert_eq!(mail.reply_to.as_deref(), Some(RESPONDER));
    assert!(mail.subject.contains(TITLE), "{}", mail.subject);
    assert!(mail.text.contains("heggenschaar") && mail.text.contains("Piet"), "{}", mail.text);
    assert!(mail.html.contains("heggenschaar"));
    for part in [&mail.text, &mail.html, &mail.other_headers] {
        assert!(!part.contains(POSTER), "the poster's address is only the recipient: {part}");
        assert!(!part.contains(POSTER_PHONE), "{part}");
    }

    let stored = site.moderation.queue.responses(&id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].email.as_deref(), Some(RESPONDER));
    let manage = site.get(&site.manage_page(&site.item(&id).await)).await;
    assert_eq!(manage.status, StatusCode::OK);
    assert!(manage.body.contains("Reacties op uw bericht"), "{}", manage.body);
    assert!(manage.body.contains("heggenschaar") && manage.body.contains(RESPONDER));
}

// Guards the phone-only responder: the number is in the mail's text for the poster, and
// there is no Reply-To to answer.
#[tokio::test]
async fn response_with_a_phone_number_puts_it_in_the_mail_text() {
    let site = Site::open().await;
    let id = site.post_in("online").await;
    let before = site.mails().len();
    let answer = site.respond(&id, "Piet", "06 11223344", "Bel me gerust.").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let mails = site.mails();
    assert_eq!(mails.len(), before + 1);
    assert!(mails[before].text.contains("06 11223344"), "{}", mails[before].text);
    assert_eq!(mails[before].reply_to, None);
}

// Guards the kind refusal: a post that is withdrawn, helped, expired, rejected, taken
// offline, still waiting or unknown gets a Dutch page, not a 500, and nothing is stored or
// mailed.
#[tokio::test]
async fn response_to_a_closed_or_unknown_post_gets_the_kind_page_and_no_mail() {
    let site = Site::open().await;
    let cases = [
        ("withdrawn", StatusCode::GONE),
        ("helped", StatusCode::GONE),
        ("expired", StatusCode::GONE),
        ("rejected", StatusCode::GONE),
        ("removed", StatusCode::GONE),
        ("waiting", StatusCode::NOT_FOUND),
    ];
    for (status, expected) in cases {
        let id = site.post_in(status).await;
        let before = site.mails().len();
        let answer = site.respond(&id, "Piet", RESPONDER, "Ik help graag.").await;
        assert_eq!(answer.status, expected, "{status}: {}", answer.body);
        let kind = if expected == StatusCode::GONE { "niet meer online" } else { "niet vinden" };
        assert!(answer.body.contains(kind), "{status}: {}", answer.body);
        assert!(answer.body.contains("Uw reactie is niet verstuurd"));
        assert_eq!(site.mails().len(), before, "{status}: no mail");
        assert!(site.moderation.queue.responses(&id).await.unwrap().is_empty(), "{status}");
    }
    let unknown = site.respond("01NOTAPOST", "Piet", RESPONDER, "Hallo").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("niet vinden"), "{}", unknown.body);
}

// Guards the re-rendered form: every wrong field is named in Dutch and everything typed is
// still there (escaped), and nothing is sent.
#[tokio::test]
async fn invalid_response_rerenders_the_form_with_errors_and_every_value_kept() {
    let site = Site::open().await;
    let id = site.post_in("online").await;
    let before = site.mails().len();
    let message = "Ik help graag <b>morgen</b> & overmorgen";
    let answer = site.respond(&id, "  ", "geen adres", message).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("Er is nog iets niet goed"));
    assert!(answer.body.contains("Vul dit veld in."), "the empty name");
    assert!(answer.body.contains("Vul een geldig e-mailadres of telefoonnummer in"));
    assert!(answer.body.contains("value=\"geen adres\""));
    assert!(answer.body.contains(&escaped(message)), "{}", answer.body);
    assert!(!answer.body.contains("<b>morgen</b>"), "typed HTML is text, not markup");
    assert_eq!(site.mails().len(), before);
}

// Guards the rate limit: one address may send ten responses an hour; the eleventh comes
// back as the form with its values and a 429, and is not mailed.
#[tokio::test]
async fn responses_over_the_hourly_limit_are_refused_and_not_mailed() {
    let site = Site::open().await;
    let id = site.post_in("online").await;
    let before = site.mails().len();
    for n in 0..submit_fn::respond::RESPONSES_PER_HOUR {
        let answer = site.respond(&id, "Piet", RESPONDER, &format!("Reactie {n}")).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{n}: {}", answer.body);
    }
    let refused = site.respond(&id, "Piet", RESPONDER, "Nog eentje").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.body.contains("Nog eentje") && refused.body.contains("over een uur"));
    let sent = usize::try_from(submit_fn::respond::RESPONSES_PER_HOUR).unwrap();
    assert_eq!(site.mails().len(), before + sent);
    // Reports have a limit of their own, untouched by the responses.
    assert_eq!(site.report(&id, "reclame", "").await.status, StatusCode::SEE_OTHER);
}

// Guards the moderators' side of a report: it is listed in /beheer, taking the post offline
// needs the session's CSRF token, changes the status once, removes the page through the
// publisher, mails the poster the reason, closes the report and is in the audit log.
#[tokio::test]
async fn reported_post_is_listed_and_taken_offline_with_mail_audit_and_page_gone() {
    let site = Site::open().await;
    let id = site.post_in("online").await;
    let reported = site.report(&id, "reclame", "Hij verkoopt heggenscharen.").await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER, "{}", reported.body);
    assert_eq!(reported.location, format!("/melden/{id}/verstuurd"));

    let queue = site.get("/beheer").await;
    assert!(queue.body.contains("Meldingen van lezers (1)"), "{}", queue.body);
    let list = site.get("/beheer/meldingen").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(TITLE) && list.body.contains("Het is reclame of verkoop"));
    assert!(list.body.contains("Hij verkoopt heggenscharen."));

    let offline = format!("/beheer/bericht/{id}/offline");
    let forged = site.post(&offline, &[("csrf", "fout"), ("reden", "0")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(site.item(&id).await.status, Status::Approved);
    let no_reason = site.post(&offline, &[("csrf", &site.csrf), ("reden", "anders")]).await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert!(no_reason.body.contains("Kies een reden"));
    assert!(site.built_page(&id).await.is_some(), "still online without a reason");

    let before = site.mails().len();
    let done = site.post(&offline, &[("csrf", &site.csrf), ("reden", "0")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let item = site.item(&id).await;
    assert_eq!(item.status, Status::Removed);
    let reason = &site.moderation.reject_reasons[0];
    assert_eq!(item.decision.as_ref().and_then(|d| d.reason.as_ref()), Some(reason));
    assert!(site.built_page(&id).await.is_none(), "the page left the site");
    assert!(!site.content.join("posts").join(format!("{id}.md")).exists());
    let mails = site.mails();
    assert_eq!(mails.len(), before + 1);
    assert_eq!(mails[before].to, POSTER);
    assert!(mails[before].subject.contains("niet meer op de site"), "{}", mails[before].subject);
    assert!(mails[before].text.contains(reason.as_str()), "{}", mails[before].text);

    let audit = site.moderation.queue.list_audit(10, None).await.unwrap().entries;
    let entry = audit.iter().find(|e| e.post_id == id && e.action == AuditAction::Removed);
    let entry = entry.expect("the removal is in the audit log");
    assert_eq!(entry.actor, MODERATOR);
    assert!(site.moderation.queue.open_reports(10).await.unwrap().is_empty());
    let after = site.get(&done.location).await;
    assert!(after.body.contains("Offline gehaald") && after.body.contains("geen meldingen"));

    // The second press (another moderator) changes nothing and mails nobody.
    let again = site.post(&offline, &[("csrf", &site.csrf), ("reden", "0")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(site.mails().len(), before + 1);
    let respond = site.respond(&id, "Piet", RESPONDER, "Nog te koop?").await;
    assert_eq!(respond.status, StatusCode::GONE);
    let manage = site.get(&site.manage_page(&item)).await;
    assert!(manage.body.contains("van de site gehaald") && manage.body.contains(reason.as_str()));
}

// Guards the report form's checks: a reason outside the theme's list re-renders the form
// with the typed text kept; the list links a post whose title a revision changed to the
// address it is online at; a dismissal leaves the post online and closes its reports.
#[tokio::test]
async fn report_with_unknown_reason_is_refused_and_a_dismissal_leaves_the_post_online() {
    let site = Site::open().await;
    let id = site.post_in("online").await;
    let refused = site.report(&id, "verzonnen", "Mijn uitleg").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("Kies een van de mogelijkheden"));
    assert!(refused.body.contains("Mijn uitleg"));
    assert!(site.moderation.queue.open_reports(10).await.unwrap().is_empty());

    assert_eq!(site.report(&id, "onveilig", "").await.status, StatusCode::SEE_OTHER);
    let online_at = site.moderation.post_url(&site.item(&id).await);
    let mut edited = submission();
    edited.title = "Wie snoeit mijn heg en de border?".into();
    let now = Utc::now();
    site.moderation.edit_by_poster(&id, edited, "Titel", now).await.unwrap();
    let revision = site.moderation.queue.revision(&id).await.unwrap().expect("a revision");
    site.moderation.approve_revision(&id, revision.received_at, MODERATOR, now).await.unwrap();
    let list = site.get("/beheer/meldingen").await;
    assert!(list.body.contains("Wie snoeit mijn heg en de border?"), "{}", list.body);
    // /beheer's templates escape `/` too.
    let link = format!("href=\"{}\"", escaped(&online_at).replace('/', "&#x2F;"));
    assert!(list.body.contains(&link), "{link} in {}", list.body);
    let dismiss = format!("/beheer/bericht/{id}/meldingen-sluiten");
    assert_eq!(site.post(&dismiss, &[("csrf", "fout")]).await.status, StatusCode::FORBIDDEN);
    let done = site.post(&dismiss, &[("csrf", &site.csrf)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(site.moderation.queue.open_reports(10).await.unwrap().is_empty());
    assert_eq!(site.item(&id).await.status, Status::Approved);
    assert!(site.built_page(&id).await.is_some());
    let audit = site.moderation.queue.list_audit(10, None).await.unwrap().entries;
    assert!(audit.iter().any(|e| e.post_id == id && e.action == AuditAction::ReportsDismissed));
}

/// A post an operator wrote by hand into `content/posts/`: on the site, not in the queue.
const HAND_ID: &str = "handgeschreven-ladder";
const HAND_SLUG: &str = "wie-leent-mij-een-ladder";
const HAND_TITLE: &str = "Wie leent mij een ladder?";
/// `moderation.contact` in the sample site.yaml.
const CONTACT: &str = "balie@vrijwilligerscentrale-gooi.example";

/// Writes the hand-written post, dated yesterday so it is online whatever day the test runs.
fn write_hand_post(content: &Path) {
    let date = (Utc::now() - Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let front = [
        format!("id: \"{HAND_ID}\""),
        format!("slug: \"{HAND_SLUG}\""),
        format!("title: \"{HAND_TITLE}\""),
        "kind: \"request\"".into(),
        "category: \"tuin\"".into(),
        "municipality: \"huizen\"".into(),
        format!("date: \"{date}\""),
        "display_name: \"Gerda\"".into(),
    ];
    let body = "Ik wil mijn dakgoot schoonmaken. Wie heeft een ladder?";
    let text = format!("---\n{}\n---\n\n{body}\n", front.join("\n"));
    std::fs::write(content.join("posts").join(format!("{HAND_ID}.md")), text).unwrap();
}

/// The site.yaml of `content` without its `moderation.contact` line.
fn remove_contact(content: &Path) {
    let path = content.join("site.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> =
        text.lines().filter(|l| !l.trim_start().starts_with("contact:")).collect();
    assert_ne!(kept.len(), text.lines().count(), "the sample site.yaml names a contact");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
}

impl Site {
    /// The built page of the hand-written post, if the site has it.
    fn hand_page(&self) -> Option<String> {
        let rel = generator::urls::post(HAND_SLUG);
        let path = self.out.join(rel.trim_start_matches('/')).join("index.html");
        std::fs::read_to_string(path).ok()
    }
}

// Guards the sample and hand-written posts: a post on the site without a queue record takes
// responses; the response is stored (so a double click is one mail), the responder sees the
// usual thanks, and the centre's contact address receives it with the responder as
// Reply-To, the post's title and public link, and a request to pass it on.
#[tokio::test]
async fn response_to_a_post_without_queue_record_is_passed_on_to_the_contact_with_reply_to() {
    let site = Site::open_with(write_hand_post).await;
    let page = site.hand_page().expect("the hand-written post is on the site");
    assert!(page.contains(&format!("action=\"/reageren/{HAND_ID}\"")), "{page}");
    assert!(site.moderation.queue.get(HAND_ID).await.unwrap().is_none(), "no queue record");

    let form = site.get(&format!("/reageren/{HAND_ID}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains(&escaped(HAND_TITLE)) && form.body.contains("Gerda"));

    let before = site.mails().len();
    let hidden = site.hidden();
    let mut sent_form = vec![
        ("name", "Piet"),
        ("contact", RESPONDER),
        ("message", "Ik heb een ladder. Zaterdag breng ik hem langs."),
        ("website", ""),
    ];
    sent_form.extend(hidden.iter().map(|(k, v)| (*k, v.as_str())));
    let sent = site.post(&format!("/reageren/{HAND_ID}"), &sent_form).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(sent.location, format!("/reageren/{HAND_ID}/verstuurd"));
    let again = site.post(&format!("/reageren/{HAND_ID}"), &sent_form).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "a double click is thanked too");
    let thanks = site.get(&sent.location).await;
    assert_eq!(thanks.status, StatusCode::OK);
    assert!(thanks.body.contains("Bedankt") && thanks.body.contains("Gerda"), "{}", thanks.body);

    let mails = site.mails();
    assert_eq!(mails.len(), before + 1, "one mail for one response, double click included");
    let mail = &mails[before];
    assert_eq!(mail.to, CONTACT);
    assert_eq!(mail.reply_to.as_deref(), Some(RESPONDER));
    assert!(mail.subject.contains(HAND_TITLE), "{}", mail.subject);
    let link = format!("{}bericht/{HAND_SLUG}/", site.moderation.site_root);
    // Tera escapes `/` in the HTML part's attributes; a mail program reads it back.
    let html = mail.html.replace("&#x2F;", "/");
    for part in [&mail.text, &html] {
        assert!(part.contains(&link), "the public link: {part}");
        assert!(part.contains("Zaterdag breng ik hem langs"), "{part}");
        assert!(part.contains("doorgeven"), "asks to pass it on: {part}");
    }
    assert!(mail.text.contains("niet via het formulier"), "{}", mail.text);
    assert!(!mail.text.contains("/beheer/bericht/"), "no queue record to look up");

    let stored = site.moderation.queue.responses(HAND_ID).await.unwrap();
    assert_eq!(stored.len(), 1, "stored by post id, once");
    assert_eq!(stored[0].email.as_deref(), Some(RESPONDER));
}

// Guards the resident who phoned the desk: their post has no e-mail address, so a response
// goes to the centre, with the post's link and the /beheer page where the centre finds the
// phone number, and not the number itself; the response is also stored.
#[tokio::test]
async fn response_to_a_desk_post_without_email_goes_to_the_centre_without_the_posters_number() {
    let site = Site::open().await;
    let desk = Submission { email: None, ..submission() };
    let (approved, _) = site.moderation.enter_on_behalf(MODERATOR, desk, Utc::now()).await.unwrap();
    let id = approved.id;
    let before = site.mails().len();

    let answer =
        site.respond(&id, "Piet", RESPONDER, "Ik kom zaterdag met mijn heggenschaar.").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let thanks = site.get(&answer.location).await;
    assert!(thanks.body.contains("Bedankt") && thanks.body.contains("Truus"), "{}", thanks.body);

    let mails = site.mails();
    assert_eq!(mails.len(), before + 1, "the response reached someone");
    let mail = &mails[before];
    assert_eq!(mail.to, CONTACT);
    assert_eq!(mail.reply_to.as_deref(), Some(RESPONDER));
    assert!(mail.subject.contains(TITLE), "{}", mail.subject);
    assert!(mail.text.contains(&approved.url), "the public link: {}", mail.text);
    let beheer = format!("{}beheer/bericht/{id}", site.moderation.site_root);
    let html = mail.html.replace("&#x2F;", "/");
    assert!(mail.text.contains(&beheer) && html.contains(&beheer), "{}", mail.text);
    assert!(mail.text.contains("heggenschaar") && mail.text.contains("bellen"), "{}", mail.text);
    for part in [&mail.text, &mail.html, &mail.other_headers] {
        assert!(!part.contains(POSTER_PHONE), "the centre looks the number up: {part}");
    }
    assert_eq!(site.moderation.queue.responses(&id).await.unwrap().len(), 1);
}

// Guards the fallback when site.yaml names no contact: the moderators who asked for the
// notice of new posts receive the response, and when none did, every moderator does.
#[tokio::test]
async fn without_a_contact_responses_go_to_notified_moderators_else_to_every_moderator() {
    let site = Site::open_with(|content| {
        write_hand_post(content);
        remove_contact(content);
    })
    .await;
    assert_eq!(site.moderation.rules.contact, None);

    let before = site.mails().len();
    let answer = site.respond(HAND_ID, "Piet", RESPONDER, "Ik heb een ladder.").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let mails = site.mails();
    let to: Vec<&str> = mails[before..].iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to, [MODERATOR], "no one asked for notices: every moderator");

    let notified = "coordinator@example.org";
    let queue = &site.moderation.queue;
    queue
        .add_moderator(&submit_fn::store::Moderator {
            email: notified.into(),
            password_hash: submit_fn::auth::hash_password("nog een lang wachtwoord").unwrap(),
            added_at: Utc::now(),
            lock: Default::default(),
            notify: true,
        })
        .await
        .unwrap();
    let before = site.mails().len();
    let answer = site.respond(HAND_ID, "Els", "06 11223344", "Ik heb er ook een.").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let mails = site.mails();
    let to: Vec<&str> = mails[before..].iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to, [notified], "only the moderator who asked for notices");
    assert_eq!(mails[before].reply_to, None, "a phone number is no Reply-To");
    assert!(mails[before].text.contains("06 11223344"), "{}", mails[before].text);
}

// Guards reports on a post without a queue record: the report is accepted, listed in
// /beheer with the post's title, and taking the post offline removes its page and content
// file through the publisher, writes the audit entry with the reason, closes the report
// and mails nobody; afterwards the post is unknown to both forms.
#[tokio::test]
async fn report_on_a_post_without_queue_record_is_listed_and_taken_offline_with_page_gone() {
    let site = Site::open_with(write_hand_post).await;
    let reported = site.report(HAND_ID, "reclame", "Hij verhuurt ladders.").await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER, "{}", reported.body);
    assert_eq!(reported.location, format!("/melden/{HAND_ID}/verstuurd"));

    let list = site.get("/beheer/meldingen").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&escaped(HAND_TITLE)), "{}", list.body);
    assert!(list.body.contains("Hij verhuurt ladders."));
    assert!(list.body.contains("niet via het formulier geplaatst"), "{}", list.body);
    let offline = format!("/beheer/bericht/{HAND_ID}/offline");
    assert!(list.body.contains(&format!("action=\"{offline}\"")), "a take-offline form");

    let before = site.mails().len();
    let done = site.post(&offline, &[("csrf", &site.csrf), ("reden", "0")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(site.hand_page().is_none(), "the page left the site");
    assert!(!site.content.join("posts").join(format!("{HAND_ID}.md")).exists());
    assert_eq!(site.mails().len(), before, "no poster to mail");
    let audit = site.moderation.queue.list_audit(10, None).await.unwrap().entries;
    let entry = audit.iter().find(|e| e.post_id == HAND_ID && e.action == AuditAction::Removed);
    let entry = entry.expect("the removal is in the audit log");
    assert_eq!(entry.actor, MODERATOR);
    assert_eq!(entry.note.as_ref(), Some(&site.moderation.reject_reasons[0]));
    assert!(site.moderation.queue.open_reports(10).await.unwrap().is_empty());
    let after = site.get(&done.location).await;
    assert!(after.body.contains("Offline gehaald") && after.body.contains("geen meldingen"));

    let again = site.post(&offline, &[("csrf", &site.csrf), ("reden", "0")]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
    let removals = site.moderation.queue.list_audit(10, None).await.unwrap().entries;
    assert_eq!(removals.iter().filter(|e| e.action == AuditAction::Removed).count(), 1);
    let respond = site.respond(HAND_ID, "Piet", RESPONDER, "Nog nodig?").await;
    assert_eq!(respond.status, StatusCode::NOT_FOUND, "{}", respond.body);
}
