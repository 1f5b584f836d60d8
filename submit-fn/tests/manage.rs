//! The poster's management routes, driven through the router with `oneshot`: a
//! `Moderation` over a SQLite queue in a temporary folder and a `LocalPublisher` on a copy
//! of the sample content, as `buurtbord serve` wires them. Each test checks what the poster
//! sees (status, page, headers) and what an action leaves behind: the item's status, the
//! content file, the built site and the audit log.

mod common;

use common::copy_dir;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use generator::BuildOptions;
use http_body_util::BodyExt;
use submit_fn::mail::{MailTemplates, OutboxMailer};
use submit_fn::manage::Manage;
use submit_fn::moderate::Moderation;
use submit_fn::poster::POSTER_ACTOR;
use submit_fn::render::Pages;
use submit_fn::rules::SiteRules;
use submit_fn::spam::{Secrets, new_nonce, token_hash};
use submit_fn::store::{AuditAction, QueueItem, SqliteQueue, Status};
use submit_fn::submission::{Kind, Submission};
use tower::ServiceExt;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const MODERATOR: &str = "moderator@example.org";

/// Every status a poster can find their post in, as the page names it.
const STATUSES: [&str; 6] = ["waiting", "online", "expired", "withdrawn", "helped", "rejected"];

/// A management desk: the routes, the decisions behind them and the folders they write.
struct Desk {
    moderation: Arc<Moderation>,
    router: Router,
    content: PathBuf,
    out: PathBuf,
    _tmp: tempfile::TempDir,
}

/// A response's status, headers and body.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

impl Desk {
    /// Copies the sample content, builds the site once and wires the management routes.
    fn open() -> Desk {
        let tmp = tempfile::tempdir().unwrap();
        let content = tmp.path().join("content");
        copy_dir(&Path::new(ROOT).join("content"), &content);
        let theme = Path::new(ROOT).join("themes/default");
        let out = tmp.path().join("public");
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
        let outbox = tmp.path().join("outbox");
        let moderation = Arc::new(Moderation {
            queue: Arc::new(queue),
            publisher: Arc::new(submit_fn::publish::LocalPublisher::open(options).unwrap()),
            mailer: Arc::new(OutboxMailer::new(&outbox, &site.mail_from()).unwrap()),
            mails: MailTemplates::new(&site.config.name).unwrap(),
            secrets: Secrets::generate(),
            rules: SiteRules::from_site_yaml(&yaml).unwrap().0,
            site_root: site.absolute(""),
            reject_reasons: site.config.moderation.reject_reasons.clone(),
        });
        let pages = Pages::load(&content, &theme, None).unwrap();
        let manage = Manage { moderation: Arc::clone(&moderation), pages };
        let router = submit_fn::manage::router(Arc::new(manage));
        Desk { moderation, router, content, out, _tmp: tmp }
    }

    /// Queues `submission` as pending; returns its id and management token.
    async fn enqueue(&self, submission: Submission) -> (String, String) {
        let nonce = new_nonce();
        let secrets = &self.moderation.secrets;
        let token = secrets.management_token(&nonce);
        let received_at = Utc::now() - Duration::minutes(5);
        let item = QueueItem {
            id: secrets.post_id(&nonce, received_at.timestamp()),
            token_hash: token_hash(&token),
            nonce,
            status: Status::Pending,
            received_at,
            submission,
            ip_hash: "ab".repeat(16),
            fingerprint: "fingerprint".into(),
            decision: None,
        };
        self.moderation.queue.create(&item).await.unwrap();
        (item.id, token)
    }

    /// A post of `kind` in the status the page calls `status`; returns its id and token.
    async fn post_in(&self, status: &str, kind: Kind) -> (String, String) {
        let (id, token) = self.enqueue(submission(kind)).await;
        let m = &self.moderation;
        let now = Utc::now();
        match status {
            "waiting" => {}
            "online" => drop(m.approve(&id, MODERATOR, None, now).await.unwrap()),
            // Approved before the site's 30 default days: past its date.
            "expired" => {
                m.approve(&id, MODERATOR, None, now - Duration::days(40)).await.unwrap();
            }
            "withdrawn" => drop(m.withdraw(&id, now).await.unwrap()),
            "helped" => drop(m.mark_helped(&id, now).await.unwrap()),
            "rejected" => m.reject(&id, MODERATOR, "Dit is reclame.", now).await.unwrap(),
            other => panic!("no status {other}"),
        }
        (id, token)
    }

    async fn item(&self, id: &str) -> QueueItem {
        self.moderation.queue.get(id).await.unwrap().expect("the item is in the queue")
    }

    async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    /// POSTs an action's form with `token` in its hidden field.
    async fn act(&self, id: &str, action: &str, token: &str) -> Reply {
        let request = Request::post(format!("/beheer-bericht/{id}/{action}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&zeker=ja")))
            .unwrap();
        self.send(request).await
    }

    /// The first press of an action's button, before "Weet u het zeker?".
    async fn press(&self, id: &str, action: &str, token: &str) -> Reply {
        let request = Request::post(format!("/beheer-bericht/{id}/{action}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}")))
            .unwrap();
        self.send(request).await
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
    }

    fn page(&self, id: &str, token: &str) -> String {
        format!("/beheer-bericht/{id}?token={token}")
    }

    fn content_file(&self, id: &str) -> PathBuf {
        self.content.join("posts").join(format!("{id}.md"))
    }

    /// The post's slug, as its public address names it.
    async fn slug(&self, id: &str) -> String {
        let url = self.moderation.post_url(&self.item(id).await);
        url.trim_end_matches('/').rsplit('/').next().unwrap().to_owned()
    }

    /// The output files that mention `needle`, by relative path.
    fn files_mentioning(&self, needle: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![self.out.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if std::fs::read(&path)
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes())
                {
                    found.push(path.strip_prefix(&self.out).unwrap().display().to_string());
                }
            }
        }
        found.sort();
        found
    }

    async fn audit_by_poster(&self, id: &str) -> Vec<AuditAction> {
        let page = self.moderation.queue.list_audit(100, None).await.unwrap();
        let entries = page.entries.into_iter().rev();
        entries.filter(|e| e.post_id == id && e.actor == POSTER_ACTOR).map(|e| e.action).collect()
    }
}

fn submission(kind: Kind) -> Submission {
    Submission {
        kind,
        title: match kind {
            Kind::Request => "Wie helpt mij met de heg?".into(),
            Kind::Offer => "Ik maai graag uw gras".into(),
        },
        body: "Mijn heg is te hoog geworden.\n\nWie kan een uurtje helpen?".into(),
        category: "tuin".into(),
        municipality: "huizen".into(),
        neighbourhood: Some("Oostermeent".into()),
        recurring: false,
        expires: None,
        display_name: "Truus".into(),
        organisation: None,
        email: Some("truus@example.nl".into()),
        phone: None,
    }
}

/// The value of a content file's front matter line `key`, unquoted.
fn front_line(file: &str, key: &str) -> Option<String> {
    let prefix = format!("{key}: ");
    file.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim_matches('"').to_owned())
}

#[tokio::test]
async fn page_with_valid_token_shows_the_post_and_is_kept_out_of_caches_and_referers() {
    // Guards the page itself: the post's public fields, its status in plain Dutch, the
    // four forms with the token hidden in them, and the two privacy headers.
    let desk = Desk::open();
    let (id, token) = desk.post_in("waiting", Kind::Request).await;
    let page = desk.get(&desk.page(&id, &token)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for shown in ["Wie helpt mij met de heg?", "Huizen, Oostermeent", "Tuin", "Hulpvraag"] {
        assert!(page.body.contains(shown), "the page shows {shown}");
    }
    assert!(page.body.contains("<p>Wie kan een uurtje helpen?</p>"), "paragraphs as typed");
    assert!(page.body.contains("wacht nog op een vrijwilliger"));
    for action in ["Bericht aanpassen", "Ik ben geholpen", "Langer laten staan", "Bericht weghalen"]
    {
        assert!(page.body.contains(action), "the page offers {action}");
    }
    let hidden = format!("name=\"token\" value=\"{token}\"");
    assert_eq!(page.body.matches(&hidden).count(), 4, "each form carries the token");
    assert!(!page.body.contains("truus@example.nl"), "the page shows no address");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(page.headers[header::REFERRER_POLICY], "no-referrer");
}

#[tokio::test]
async fn wrong_missing_or_hashed_token_gets_the_same_404_as_an_unknown_post() {
    // Guards that the page never tells which posts exist, and that the token is checked by
    // its hash: presenting the stored hash itself is as wrong as any other guess.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Request).await;
    let unknown =
        desk.get(&format!("/beheer-bericht/01JX0000000000000000000000?token={token}")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let stored_hash = desk.item(&id).await.token_hash;
    let other_token = desk.moderation.secrets.management_token(&new_nonce());
    for bad in [
        format!("/beheer-bericht/{id}"),
        format!("/beheer-bericht/{id}?token="),
        format!("/beheer-bericht/{id}?token={other_token}"),
        format!("/beheer-bericht/{id}?token={stored_hash}"),
        format!("/beheer-bericht/{id}?token={}", &token[..token.len() - 1]),
    ] {
        let reply = desk.get(&bad).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(reply.body, unknown.body, "{bad} looks like an unknown post");
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    }
    assert_eq!(desk.get(&desk.page(&id, &token)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_action_with_a_wrong_token_is_a_404_and_changes_nothing() {
    // Guards the actions' own token check, for the hidden field and for the address: a
    // valid token only in the address, not in the form, is refused too.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Request).await;
    let file = std::fs::read_to_string(desk.content_file(&id)).unwrap();
    let stored_hash = desk.item(&id).await.token_hash;
    for action in ["weghalen", "geholpen", "verlengen"] {
        for bad in ["", "niet-het-goede-token", stored_hash.as_str()] {
            let reply = desk.act(&id, action, bad).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{action} with {bad:?}");
        }
        let only_in_address = Request::post(format!("/beheer-bericht/{id}/{action}?token={token}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap();
        assert_eq!(desk.send(only_in_address).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(desk.item(&id).await.status, Status::Approved);
    assert_eq!(std::fs::read_to_string(desk.content_file(&id)).unwrap(), file);
    assert!(desk.audit_by_poster(&id).await.is_empty());
}

#[tokio::test]
async fn every_status_is_told_in_plain_dutch() {
    // Guards the status line for each status, the public link only while online, and the
    // actions only while the post is still in play.
    let desk = Desk::open();
    let expected = [
        ("waiting", "wacht nog op een vrijwilliger"),
        ("online", "Uw bericht staat op de site."),
        ("expired", "de einddatum is voorbij"),
        ("withdrawn", "U hebt dit bericht weggehaald."),
        ("helped", "U hebt laten weten dat u geholpen bent."),
        ("rejected", "Dit is reclame."),
    ];
    for (status, sentence) in expected {
        let (id, token) = desk.post_in(status, Kind::Request).await;
        let page = desk.get(&desk.page(&id, &token)).await;
        assert_eq!(page.status, StatusCode::OK, "{status}: {}", page.body);
        assert!(page.body.contains(sentence), "{status}: {}", page.body);
        let link = desk.moderation.post_url(&desk.item(&id).await);
        assert_eq!(page.body.contains(&link), status == "online", "{status}: public link");
        let open = ["waiting", "online", "expired"].contains(&status);
        assert_eq!(page.body.contains("Bericht weghalen"), open, "{status}: actions");
    }
}

#[tokio::test]
async fn every_action_on_a_post_in_every_status_gives_the_expected_outcome() {
    // Guards the whole matrix of the issue: each action on a post in each status, with a
    // valid token, ends in a 303 back to the page with the right confirmation and leaves
    // the right status; an ended post gets a kind message, never an error.
    let desk = Desk::open();
    for action in ["weghalen", "geholpen", "verlengen"] {
        for status in STATUSES {
            let (id, token) = desk.post_in(status, Kind::Request).await;
            let before = desk.item(&id).await.status;
            let reply = desk.act(&id, action, &token).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{action} on {status}: {}", reply.body);
            let ended = ["withdrawn", "helped", "rejected"].contains(&status);
            let (outcome, after) = match action {
                _ if ended => ("already_ended", before),
                "weghalen" => ("withdrawn", Status::Withdrawn),
                "geholpen" => ("helped", Status::Helped),
                _ => ("extended", before),
            };
            let location = format!("/beheer-bericht/{id}?token={token}&uitkomst={outcome}");
            assert_eq!(reply.location(), location, "{action} on {status}");
            assert_eq!(desk.item(&id).await.status, after, "{action} on {status}");
            let page = desk.get(&location).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("role=\"status\""), "{action} on {status}: a line");
            if ended {
                assert!(page.body.contains("Dit bericht was al afgesloten"), "{}", page.body);
            }
        }
    }
}

#[tokio::test]
async fn withdraw_and_helped_ask_first_and_change_nothing_until_confirmed() {
    // Guards the confirmation: the first press of "Bericht weghalen" or "Ik ben geholpen"
    // only leads to "Weet u het zeker?" with a button that does it and a way back; the
    // post stays online until that button is pressed. Extending needs no confirmation.
    let desk = Desk::open();
    for (action, yes) in
        [("weghalen", "Ja, haal mijn bericht weg"), ("geholpen", "Ja, ik ben geholpen")]
    {
        let (id, token) = desk.post_in("online", Kind::Request).await;
        let reply = desk.press(&id, action, &token).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{action}");
        let ask = format!("/beheer-bericht/{id}?token={token}&bevestigen={action}#bevestigen");
        assert_eq!(reply.location(), ask);
        assert_eq!(desk.item(&id).await.status, Status::Approved, "{action}: nothing done yet");
        assert!(desk.content_file(&id).exists());
        let page = desk.get(ask.split('#').next().unwrap()).await;
        assert!(page.body.contains("Weet u het zeker?"), "{}", page.body);
        assert!(page.body.contains(yes), "{action}: {}", page.body);
        assert!(page.body.contains("name=\"zeker\" value=\"ja\""));
        assert!(page.body.contains("Nee, laat mijn bericht staan"));
        let no_link = format!("href=\"?token={token}&amp;uitkomst=kept\"");
        assert!(page.body.contains(&no_link), "{}", page.body);
        let no = format!("/beheer-bericht/{id}?token={token}&uitkomst=kept");
        let kept = desk.get(&no).await;
        assert!(kept.body.contains("Uw bericht blijft staan."), "{}", kept.body);
        assert_eq!(desk.item(&id).await.status, Status::Approved);

        let done = desk.act(&id, action, &token).await;
        assert!(
            done.location().ends_with("&uitkomst=withdrawn")
                || done.location().ends_with("&uitkomst=helped")
        );
        assert_ne!(desk.item(&id).await.status, Status::Approved, "{action}: done once confirmed");
        let after = desk.get(ask.split('#').next().unwrap()).await;
        assert!(!after.body.contains("Weet u het zeker?"), "no question on an ended post");
    }
    let (id, token) = desk.post_in("online", Kind::Request).await;
    let extended = desk.press(&id, "verlengen", &token).await;
    assert!(extended.location().ends_with("&uitkomst=extended"), "{}", extended.location());
}

#[tokio::test]
async fn withdraw_takes_an_online_post_off_every_page_listing_feed_and_sitemap() {
    // Guards "withdraw publishes at once": the content file, the post's page and every
    // mention in the output folder are gone, and the audit log names the poster.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Request).await;
    let slug = desk.slug(&id).await;
    let before = desk.files_mentioning(&slug);
    for listed in ["gemeente/huizen/index.html", "atom.xml", "sitemap.xml"] {
        assert!(before.iter().any(|f| f == listed), "{listed} lists the post: {before:?}");
    }
    let reply = desk.act(&id, "weghalen", &token).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(!desk.content_file(&id).exists());
    assert_eq!(desk.files_mentioning(&slug), Vec::<String>::new());
    assert_eq!(desk.audit_by_poster(&id).await, [AuditAction::Withdrawn]);
    let page = desk.get(reply.location()).await;
    assert!(page.body.contains("Uw bericht is weggehaald."), "{}", page.body);
}

#[tokio::test]
async fn helped_takes_an_offer_off_the_site_and_thanks_the_poster_in_offer_words() {
    // Guards "mark helped": the same removal as a withdrawal, the offer's own button
    // ("Het is gelukt") and thanks, and the audit entry.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Offer).await;
    let slug = desk.slug(&id).await;
    let page = desk.get(&desk.page(&id, &token)).await;
    assert!(page.body.contains("Het is gelukt") && !page.body.contains("Ik ben geholpen"));
    assert!(!desk.files_mentioning(&slug).is_empty());

    let reply = desk.act(&id, "geholpen", &token).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(desk.item(&id).await.status, Status::Helped);
    assert!(!desk.content_file(&id).exists());
    assert_eq!(desk.files_mentioning(&slug), Vec::<String>::new());
    assert_eq!(desk.audit_by_poster(&id).await, [AuditAction::Helped]);
    let thanked = desk.get(reply.location()).await;
    assert!(thanked.body.contains("Fijn dat het gelukt is! Bedankt voor uw hulp."));
}

#[tokio::test]
async fn withdrawing_a_waiting_post_takes_it_out_of_the_queue_for_good() {
    // Guards the pending case: nothing is published, the queue no longer offers the post,
    // and a moderator who opened it before learns it is gone instead of publishing it.
    let desk = Desk::open();
    let (id, token) = desk.post_in("waiting", Kind::Request).await;
    assert_eq!(desk.act(&id, "weghalen", &token).await.status, StatusCode::SEE_OTHER);
    let pending = desk.moderation.queue.list_pending(100, None).await.unwrap().items;
    assert!(pending.iter().all(|i| i.id != id));
    let approval = desk.moderation.approve(&id, MODERATOR, None, Utc::now()).await;
    assert!(approval.is_err(), "an ended post is never approved");
    assert!(!desk.content_file(&id).exists());
}

#[tokio::test]
async fn extend_rewrites_the_expiry_in_the_content_file_and_keeps_the_published_date() {
    // Guards "extend": the new `expires` is max_days from today, the `date` stays the
    // approval's, the queue holds the new date, and a second press says it is already
    // as long as it can be without changing the file.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Request).await;
    let before = std::fs::read_to_string(desk.content_file(&id)).unwrap();
    let date = front_line(&before, "date").expect("a published date");

    let reply = desk.act(&id, "verlengen", &token).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let after = std::fs::read_to_string(desk.content_file(&id)).unwrap();
    let until = desk.moderation.longest_expiry(Utc::now());
    let until_text = until.format("%Y-%m-%d").to_string();
    assert_eq!(front_line(&after, "expires").as_deref(), Some(until_text.as_str()));
    assert_eq!(front_line(&after, "date"), Some(date));
    assert_eq!(desk.item(&id).await.submission.expires, Some(until));
    assert_eq!(desk.audit_by_poster(&id).await, [AuditAction::Extended]);
    let page = desk.get(reply.location()).await;
    assert!(page.body.contains("Uw bericht blijft nu staan tot en met"), "{}", page.body);
    assert!(!page.body.contains("Langer laten staan"), "nothing left to extend");

    let again = desk.act(&id, "verlengen", &token).await;
    assert!(again.location().ends_with("uitkomst=already_longest"), "{}", again.location());
    assert_eq!(std::fs::read_to_string(desk.content_file(&id)).unwrap(), after);
}

#[tokio::test]
async fn extending_an_expired_post_puts_it_back_in_its_listing() {
    // Guards the expired case: "Langer laten staan" brings the post back online, still
    // dated by its approval.
    let desk = Desk::open();
    let (id, token) = desk.post_in("expired", Kind::Request).await;
    let slug = desk.slug(&id).await;
    let listing = || std::fs::read_to_string(desk.out.join("gemeente/huizen/index.html")).unwrap();
    assert!(!listing().contains(&slug), "an expired post is not listed");
    let approved_at: DateTime<Utc> = desk.item(&id).await.decision.unwrap().at;

    assert_eq!(desk.act(&id, "verlengen", &token).await.status, StatusCode::SEE_OTHER);
    assert!(listing().contains(&slug), "the extended post is listed again");
    let post = generator::post::load(
        &generator::Site::load(&desk.content, None).unwrap(),
        &desk.content_file(&id),
    )
    .unwrap();
    assert_eq!(post.date.timestamp(), approved_at.timestamp());
    let page = desk.get(&desk.page(&id, &token)).await;
    assert!(page.body.contains("Uw bericht staat op de site."), "{}", page.body);
}

/// The edit form's fields for `s`, as a browser sends them, with the token.
fn edit_body(token: &str, s: &Submission) -> String {
    let pairs = [
        ("token", token.to_owned()),
        ("kind", s.kind.as_str().to_owned()),
        ("title", s.title.clone()),
        ("body", s.body.clone()),
        ("category", s.category.clone()),
        ("municipality", s.municipality.clone()),
        ("neighbourhood", s.neighbourhood.clone().unwrap_or_default()),
        ("recurring", if s.recurring { "recurring" } else { "once" }.to_owned()),
        ("expires", s.expires.map(|d| d.to_string()).unwrap_or_default()),
        ("display_name", s.display_name.clone()),
        ("organisation", s.organisation.clone().unwrap_or_default()),
        ("email", s.email.clone().unwrap_or_default()),
        ("phone", s.phone.clone().unwrap_or_default()),
    ];
    serde_urlencoded::to_string(pairs).unwrap()
}

impl Desk {
    async fn post_body(&self, uri: &str, body: String) -> Reply {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    async fn edit(&self, id: &str, token: &str, s: &Submission) -> Reply {
        self.post_body(&format!("/beheer-bericht/{id}/wijzigen"), edit_body(token, s)).await
    }

    /// The text parts of the mails in the outbox, oldest first.
    fn mails(&self) -> Vec<String> {
        let outbox = self.content.parent().unwrap().join("outbox");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&outbox)
            .map(|dir| dir.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names
            .iter()
            .map(|path| {
                let eml = std::fs::read(path).unwrap();
                let message = mail_parser::MessageParser::default().parse(&eml).unwrap();
                message.body_text(0).unwrap().into_owned()
            })
            .collect()
    }
}

#[tokio::test]
async fn edit_form_shows_the_post_and_a_waiting_post_is_changed_in_the_queue() {
    // Guards the edit of a post nobody approved yet: the form is the submission form's,
    // filled with the post; the edit replaces the queued text at once, as the poster is
    // told, and the log says so.
    let desk = Desk::open();
    let (id, token) = desk.post_in("waiting", Kind::Request).await;
    let form = desk.get(&format!("/beheer-bericht/{id}/wijzigen?token={token}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("value=\"Wie helpt mij met de heg?\""), "{}", form.body);
    assert!(form.body.contains("for=\"veld-title\""), "labelled fields of the submission form");
    assert!(!form.body.contains("name=\"consent\""), "consent was given with the post");
    assert_eq!(form.headers[header::CACHE_CONTROL], "no-store");

    let mut edited = submission(Kind::Request);
    edited.title = "Wie snoeit mijn heg?".into();
    let sent = desk.edit(&id, &token, &edited).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert!(sent.location().ends_with("uitkomst=edited"), "{}", sent.location());
    assert_eq!(desk.item(&id).await.submission.title, "Wie snoeit mijn heg?");
    assert_eq!(desk.audit_by_poster(&id).await, [AuditAction::EditedWhilePending]);
    let page = desk.get(sent.location()).await;
    assert!(page.body.contains("Uw bericht is aangepast"), "{}", page.body);
}

#[tokio::test]
async fn invalid_edit_rerenders_the_form_with_dutch_errors_and_every_value_kept() {
    // Guards the validation: the submission form's rules, every error in Dutch in the
    // summary and at its field, every typed value still there, nothing stored.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Offer).await;
    let mut edited = submission(Kind::Offer);
    edited.title = " ".into();
    edited.body = "Nieuwe tekst met ‘aanhalingstekens’ & meer".into();
    edited.email = Some("geen-adres".into());
    let sent = desk.edit(&id, &token, &edited).await;
    assert_eq!(sent.status, StatusCode::BAD_REQUEST);
    assert!(sent.body.contains("Er is nog iets niet goed"), "{}", sent.body);
    assert!(sent.body.contains("Vul dit veld in."), "{}", sent.body);
    assert!(sent.body.contains("Vul een geldig e-mailadres in"), "{}", sent.body);
    assert!(sent.body.contains("Nieuwe tekst met ‘aanhalingstekens’ &amp; meer"), "body kept");
    assert!(sent.body.contains("value=\"geen-adres\""), "address kept");
    assert!(sent.body.contains(&format!("name=\"token\" value=\"{token}\"")));
    assert!(desk.moderation.queue.revision(&id).await.unwrap().is_none(), "nothing stored");
}

#[tokio::test]
async fn edit_of_an_online_post_waits_and_approval_publishes_it_under_the_same_address() {
    // Guards the revision: the live version stays until a moderator approves; then the new
    // text is published by the same publisher under the same id and URL (the slug stays
    // although the title changed), with its first date and an `updated` date.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Request).await;
    let slug = desk.slug(&id).await;
    let before = std::fs::read_to_string(desk.content_file(&id)).unwrap();

    let mut edited = submission(Kind::Request);
    edited.title = "Heg gesnoeid, nu de border".into();
    edited.body = "Wie helpt met de border?".into();
    let sent = desk.edit(&id, &token, &edited).await;
    assert!(sent.location().ends_with("uitkomst=edit_queued"), "{}", sent.location());
    assert_eq!(std::fs::read_to_string(desk.content_file(&id)).unwrap(), before, "live stays");
    assert_eq!(desk.item(&id).await.submission.title, "Wie helpt mij met de heg?");
    let page = desk.get(&desk.page(&id, &token)).await;
    assert!(page.body.contains("Een vrijwilliger bekijkt die wijziging nog"), "{}", page.body);
    assert_eq!(desk.audit_by_poster(&id).await, [AuditAction::RevisionProposed]);

    let revision = desk.moderation.queue.revision(&id).await.unwrap().expect("a revision");
    let now = Utc::now();
    let approved =
        desk.moderation.approve_revision(&id, revision.received_at, MODERATOR, now).await.unwrap();
    let after = std::fs::read_to_string(desk.content_file(&id)).unwrap();
    assert_eq!(front_line(&after, "title").as_deref(), Some("Heg gesnoeid, nu de border"));
    assert_eq!(front_line(&after, "slug"), front_line(&before, "slug"), "the URL stays");
    assert_eq!(front_line(&after, "date"), front_line(&before, "date"));
    assert!(front_line(&after, "updated").is_some(), "{after}");
    assert!(approved.url.contains(&slug), "{}", approved.url);
    let live = desk.files_mentioning("Heg gesnoeid, nu de border");
    assert!(live.iter().any(|f| f.contains(&slug)), "{live:?}");
    assert!(desk.moderation.queue.revision(&id).await.unwrap().is_none());
    let page = desk.get(&desk.page(&id, &token)).await;
    assert!(page.body.contains(&slug), "the poster's link to the post keeps its address");
}

#[tokio::test]
async fn an_extension_made_while_an_edit_waits_survives_the_edits_approval() {
    // Guards the poster's extension: the waiting edit still has the old (empty) date, and
    // approving it must publish the extended date, not undo it.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Request).await;
    let mut edited = submission(Kind::Request);
    edited.body = "Wie helpt met de border?".into();
    edited.expires = None;
    desk.edit(&id, &token, &edited).await;

    assert_eq!(desk.act(&id, "verlengen", &token).await.status, StatusCode::SEE_OTHER);
    let until = desk.moderation.longest_expiry(Utc::now());
    let revision = desk.moderation.queue.revision(&id).await.unwrap().expect("a revision");
    assert_eq!(revision.submission.expires, Some(until));
    desk.moderation
        .approve_revision(&id, revision.received_at, MODERATOR, Utc::now())
        .await
        .unwrap();

    let after = std::fs::read_to_string(desk.content_file(&id)).unwrap();
    let until_text = until.format("%Y-%m-%d").to_string();
    assert_eq!(front_line(&after, "expires").as_deref(), Some(until_text.as_str()), "{after}");
    assert_eq!(desk.item(&id).await.submission.expires, Some(until));
}

#[tokio::test]
async fn rejected_revision_leaves_the_live_version_and_tells_the_poster() {
    // Guards the rejection: the revision goes, the content file is as it was, and the
    // poster gets the reason by mail.
    let desk = Desk::open();
    let (id, token) = desk.post_in("online", Kind::Offer).await;
    let before = std::fs::read_to_string(desk.content_file(&id)).unwrap();
    let mut edited = submission(Kind::Offer);
    edited.body = "Nu ook ramen zemen.".into();
    desk.edit(&id, &token, &edited).await;
    let revision = desk.moderation.queue.revision(&id).await.unwrap().expect("a revision");
    let reason = "Dit past niet bij het eerste bericht.";
    let now = Utc::now();
    desk.moderation
        .reject_revision(&id, revision.received_at, MODERATOR, reason, now)
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(desk.content_file(&id)).unwrap(), before);
    assert!(desk.moderation.queue.revision(&id).await.unwrap().is_none());
    let mails = desk.mails();
    assert!(mails.last().is_some_and(|m| m.contains(reason)), "{mails:?}");
    let again = desk.moderation.reject_revision(&id, revision.received_at, MODERATOR, reason, now);
    assert!(again.await.is_err(), "a revision is decided once");
}

#[tokio::test]
async fn edit_with_a_wrong_token_is_the_same_404_as_an_unknown_post() {
    let desk = Desk::open();
    let (id, _) = desk.post_in("online", Kind::Request).await;
    let wrong = desk.edit(&id, "verkeerd", &submission(Kind::Request)).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    let form = desk.get(&format!("/beheer-bericht/{id}/wijzigen?token=verkeerd")).await;
    assert_eq!(form.status, StatusCode::NOT_FOUND);
    assert!(desk.moderation.queue.revision(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn lost_link_mails_fresh_links_and_answers_the_same_for_an_unknown_address() {
    // Guards the lost-link page: the known address gets a mail with a fresh link per open
    // post, which opens the post beside the first link; an unknown address gets no mail;
    // both answers are the same page, and neither comes sooner than the fixed time.
    let desk = Desk::open();
    let (online, first_token) = desk.post_in("online", Kind::Request).await;
    let (waiting, _) = desk.post_in("waiting", Kind::Offer).await;
    let (ended, _) = desk.post_in("withdrawn", Kind::Request).await;
    let mails_before = desk.mails().len();
    let form = desk.get("/link-kwijt").await;
    assert!(form.body.contains("for=\"veld-email\""), "{}", form.body);

    let ask = |email: &str| {
        let secrets = &desk.moderation.secrets;
        let pairs = [
            ("email", email.to_owned()),
            ("form_token", secrets.issue_form_token(Utc::now() - Duration::seconds(10))),
            ("submission_id", new_nonce()),
        ];
        serde_urlencoded::to_string(pairs).unwrap()
    };
    let started = std::time::Instant::now();
    let known = desk.post_body("/link-kwijt", ask(" TRUUS@example.nl ")).await;
    let known_took = started.elapsed();
    let started = std::time::Instant::now();
    let unknown = desk.post_body("/link-kwijt", ask("niemand@example.nl")).await;
    let unknown_took = started.elapsed();
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.body, unknown.body, "the same answer for a known and an unknown address");
    assert!(known.body.contains("Kijk in uw e-mail"), "{}", known.body);
    for took in [known_took, unknown_took] {
        assert!(took >= submit_fn::lost_link::ANSWER_AFTER, "{took:?}");
    }

    let mails = desk.mails();
    assert_eq!(mails.len(), mails_before + 1, "one mail, for the known address only");
    let mail = mails.last().unwrap();
    assert!(mail.contains(&format!("beheer-bericht/{waiting}?token=")), "{mail}");
    assert!(!mail.contains(&ended), "only open posts");
    let marker = format!("beheer-bericht/{online}?token=");
    let start = mail.find(&marker).expect("a link to the online post") + marker.len();
    let fresh: String = mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_ne!(fresh, first_token);
    assert_eq!(desk.get(&desk.page(&online, &fresh)).await.status, StatusCode::OK);
    assert_eq!(desk.get(&desk.page(&online, &first_token)).await.status, StatusCode::OK);
}
