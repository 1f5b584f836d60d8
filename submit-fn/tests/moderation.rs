//! The moderation decisions in-process, as /beheer and the command line make them: a
//! `Moderation` over a real queue store (SQLite in a temporary folder, or DynamoDB on moto),
//! a `LocalPublisher` on a copy of the sample content and an outbox of `.eml` files. Each
//! test checks what the decision leaves behind: the item's status, the content file, the
//! built site, the poster's mail and the audit log.

mod common;

use common::{copy_dir, files};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use generator::BuildOptions;
use mail_parser::MessageParser;
use submit_fn::mail::{MailTemplates, OutboxMailer};
use submit_fn::moderate::{Approved, ModerateError, Moderation, Reconciled, SYSTEM_ACTOR};
use submit_fn::publish::LocalPublisher;
use submit_fn::rules::SiteRules;
use submit_fn::spam::{Secrets, new_nonce, token_hash};
use submit_fn::store::{
    AuditAction, AuditEntry, Decision, DynamoQueue, QueueItem, QueueStore, SqliteQueue, Status,
};
use submit_fn::submission::{Kind, Submission};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const MODERATOR: &str = "moderator@example.org";
const POSTER: &str = "truus.de.vries@example.nl";
const PHONE: &str = "06-12345678";

/// The moment every decision is made and the site is built at.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 11, 0, 0).unwrap()
}

/// One moderation desk: the decisions and everything they write to.
struct Desk {
    moderation: Arc<Moderation>,
    content: PathBuf,
    theme: PathBuf,
    out: PathBuf,
    outbox: PathBuf,
    /// The file names in `content/posts/` before any decision.
    sample_posts: BTreeSet<String>,
    tmp: tempfile::TempDir,
}

impl Desk {
    /// A desk whose queue is a fresh SQLite file in the temporary folder.
    fn on_sqlite() -> Desk {
        let tmp = tempfile::tempdir().unwrap();
        let queue = SqliteQueue::open(&tmp.path().join("queue.sqlite3")).unwrap();
        Desk::with_queue(tmp, Arc::new(queue))
    }

    /// A desk whose queue is a fresh table on the moto server.
    async fn on_dynamodb() -> Desk {
        let queue = dynamo().await;
        Desk::with_queue(tempfile::tempdir().unwrap(), Arc::new(queue))
    }

    /// Copies the sample content, builds the site once and wires the decisions as the
    /// command line does (site.yaml's sender, base URL and ready-made reasons).
    fn with_queue(tmp: tempfile::TempDir, queue: Arc<dyn QueueStore>) -> Desk {
        let content = tmp.path().join("content");
        copy_dir(&Path::new(ROOT).join("content"), &content);
        let theme = Path::new(ROOT).join("themes/default");
        let out = tmp.path().join("public");
        let outbox = tmp.path().join("outbox");
        let site = generator::Site::load(&content, None).unwrap();
        let yaml = std::fs::read_to_string(content.join("site.yaml")).unwrap();
        let publisher = LocalPublisher::open(options(&content, &theme, &out)).unwrap();
        let moderation = Moderation {
            queue,
            publisher: Arc::new(publisher),
            mailer: Arc::new(OutboxMailer::new(&outbox, &site.mail_from()).unwrap()),
            mails: MailTemplates::new(&site.config.name).unwrap(),
            secrets: Secrets::generate(),
            rules: SiteRules::from_site_yaml(&yaml).unwrap().0,
            site_root: site.absolute(""),
            reject_reasons: site.config.moderation.reject_reasons.clone(),
        };
        let sample_posts = file_names(&content.join("posts"));
        let moderation = Arc::new(moderation);
        Desk { moderation, content, theme, out, outbox, sample_posts, tmp }
    }

    /// Puts `submission` into the queue as pending, received `n + 1` minutes before now.
    async fn enqueue(&self, submission: Submission, n: i64) -> String {
        let nonce = new_nonce();
        let received_at = now() - Duration::minutes(n + 1);
        let secrets = &self.moderation.secrets;
        let item = QueueItem {
            id: secrets.post_id(&nonce, received_at.timestamp()),
            token_hash: token_hash(&secrets.management_token(&nonce)),
            nonce,
            status: Status::Pending,
            received_at,
            submission,
            ip_hash: "ab".repeat(16),
            fingerprint: format!("fingerprint-{n}"),
            decision: None,
        };
        self.moderation.queue.create(&item).await.unwrap();
        item.id
    }

    async fn item(&self, id: &str) -> QueueItem {
        self.moderation.queue.get(id).await.unwrap().expect("the item is in the queue")
    }

    fn content_file(&self, id: &str) -> PathBuf {
        self.content.join("posts").join(format!("{id}.md"))
    }

    /// The content files written since the desk opened.
    fn added_posts(&self) -> BTreeSet<String> {
        file_names(&self.content.join("posts")).difference(&self.sample_posts).cloned().collect()
    }

    /// The post file `id`, read back as the generator reads it.
    fn post(&self, id: &str) -> generator::post::Post {
        let site = generator::Site::load(&self.content, None).unwrap();
        generator::post::load(&site, &self.content_file(id)).unwrap()
    }

    /// The built page behind a public post address.
    fn page(&self, url: &str) -> String {
        let rel = url.strip_prefix(&self.moderation.site_root).expect("an address on the site");
        std::fs::read_to_string(self.out.join(rel).join("index.html")).unwrap_or_default()
    }

    /// Every message in the outbox, parsed.
    fn mails(&self) -> Vec<Sent> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.outbox)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| Sent::parse(&std::fs::read(p).unwrap())).collect()
    }

    fn mails_to(&self, address: &str) -> Vec<Sent> {
        self.mails().into_iter().filter(|m| m.to == address).collect()
    }

    /// The audit log's entries about post `id`, newest first.
    async fn audit(&self, id: &str) -> Vec<AuditEntry> {
        let mut entries = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.moderation.queue.list_audit(100, cursor.as_deref()).await.unwrap();
            entries.extend(page.entries.into_iter().filter(|e| e.post_id == id));
            match page.next {
                Some(next) => cursor = Some(next),
                None => return entries,
            }
        }
    }

    async fn audit_actions(&self, id: &str) -> Vec<AuditAction> {
        self.audit(id).await.iter().map(|e| e.action).collect()
    }
}

fn options(content: &Path, theme: &Path, out: &Path) -> BuildOptions {
    BuildOptions {
        content: content.to_path_buf(),
        theme: theme.to_path_buf(),
        out: out.to_path_buf(),
        now: now().fixed_offset(),
        base_url: None,
    }
}

/// A mail as the poster's mail program shows it.
#[derive(Debug)]
struct Sent {
    to: String,
    subject: String,
    /// The decoded text part.
    text: String,
    /// The decoded HTML part.
    html: String,
}

impl Sent {
    fn parse(eml: &[u8]) -> Sent {
        let message = MessageParser::default().parse(eml).expect("a MIME message");
        let to = message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap();
        Sent {
            to: to.to_owned(),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).expect("a text part").into_owned(),
            html: message.body_html(0).expect("an HTML part").into_owned(),
        }
    }
}

fn submission(title: &str, email: &str) -> Submission {
    Submission {
        kind: Kind::Request,
        title: title.into(),
        body: "Mijn heg is te hoog geworden.\n\nWie kan een **uurtje** helpen?".into(),
        category: "tuin".into(),
        municipality: "huizen".into(),
        neighbourhood: Some("Oostermeent".into()),
        recurring: false,
        expires: None,
        display_name: "Truus".into(),
        organisation: None,
        email: Some(email.into()),
        phone: Some(PHONE.into()),
    }
}

/// The `.md` files directly in `dir`.
fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .collect()
}

/// A fresh table on the moto server that scripts/moto.sh (or scripts/test.sh) started.
async fn dynamo() -> DynamoQueue {
    let endpoint = std::env::var("BUURTBORD_TEST_DYNAMODB_ENDPOINT").expect(
        "BUURTBORD_TEST_DYNAMODB_ENDPOINT is not set: run `source scripts/moto.sh` (or \
         scripts/test.sh), which starts moto (a DynamoDB-protocol server) and sets it",
    );
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        assert!(std::env::var(name).is_ok(), "{name} is not set: `source scripts/moto.sh`");
    }
    let table = format!("queue-{}", new_nonce().to_lowercase().replace(['-', '_'], ""));
    let store = DynamoQueue::from_env(table, Some(&endpoint)).await;
    store.create_table().await.unwrap();
    store
}

// Guards the rejection path: the item is rejected with the reason, the poster's mail
// carries the reason word for word, nothing reaches the content folder or the site, and
// the audit log says who rejected it and why.
#[tokio::test]
async fn reject_with_ready_made_reason_mails_the_poster_the_reason() {
    let desk = Desk::on_sqlite();
    let id = desk.enqueue(submission("Wie snoeit mijn heg?", POSTER), 0).await;
    let site_before = files(&desk.out);
    let reason = desk.moderation.reject_reasons[1].clone();

    desk.moderation.reject(&id, MODERATOR, &reason, now()).await.unwrap();

    let item = desk.item(&id).await;
    assert_eq!(item.status, Status::Rejected);
    let decision = item.decision.expect("a rejected item has its decision");
    assert_eq!((decision.by.as_str(), decision.reason.as_deref()), (MODERATOR, Some(&*reason)));
    let mails = desk.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, POSTER);
    assert!(mails[0].text.contains(&reason), "the reason is in the mail:\n{}", mails[0].text);
    assert_eq!(mails[0].subject, "Uw bericht is niet geplaatst: Wie snoeit mijn heg?");
    assert!(desk.added_posts().is_empty(), "{:?}", desk.added_posts());
    assert!(files(&desk.out) == site_before, "a rejection changed the site");
    let audit = desk.audit(&id).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!((audit[0].action, audit[0].actor.as_str()), (AuditAction::Rejected, MODERATOR));
    assert_eq!(audit[0].note.as_deref(), Some(&*reason));
}

// Guards the HTML part of the rejection mail: a moderator's own reason over several lines
// arrives as lines, escaped once (no literal `<br>` shown, no markup of the moderator's).
#[tokio::test]
async fn a_reason_over_several_lines_shows_as_lines_in_the_html_mail() {
    let desk = Desk::on_sqlite();
    let id = desk.enqueue(submission("Wie snoeit mijn heg?", POSTER), 0).await;
    let reason = "Uw tekst noemt een prijs.\nZet er <b>geen</b> bedrag in.";

    desk.moderation.reject(&id, MODERATOR, reason, now()).await.unwrap();

    let html = &desk.mails()[0].html;
    assert!(html.contains("Uw tekst noemt een prijs.<br>"), "{html}");
    assert!(
        html.contains("Zet er &lt;b&gt;geen&lt;&#x2F;b&gt; bedrag in.")
            || html.contains("Zet er &lt;b&gt;geen&lt;/b&gt; bedrag in."),
        "{html}"
    );
    assert!(!html.contains("&lt;br&gt;") && !html.contains("<b>geen"), "{html}");
}

// Guards correct-then-approve: the published file and page carry the moderator's title and
// category, not the poster's, and the audit log has a Corrected entry naming the fields.
#[tokio::test]
async fn correction_before_approval_publishes_the_corrected_fields_and_audits_them() {
    let desk = Desk::on_sqlite();
    let original = submission("heg te hoog!!!", POSTER);
    let id = desk.enqueue(original.clone(), 0).await;
    let mut corrected = original;
    corrected.title = "Wie helpt mij de heg te snoeien?".into();
    corrected.category = "klussen".into();

    let approved = desk
        .moderation
        .approve(&id, MODERATOR, Some((&corrected, "title, category")), now())
        .await
        .unwrap();

    let post = desk.post(&id);
    assert_eq!((post.title.as_str(), post.category.as_str()), (&*corrected.title, "klussen"));
    assert_eq!(approved.title, corrected.title);
    assert!(desk.page(&approved.url).contains(&corrected.title), "{}", approved.url);
    let listing = std::fs::read_to_string(desk.out.join("categorie/klussen/index.html")).unwrap();
    assert!(listing.contains(&corrected.title), "the new category lists the post");
    let tuin = std::fs::read_to_string(desk.out.join("categorie/tuin/index.html")).unwrap();
    assert!(!tuin.contains(&corrected.title), "the old category does not");
    let audit = desk.audit(&id).await;
    let correction = audit.iter().find(|e| e.action == AuditAction::Corrected).expect("Corrected");
    assert_eq!(correction.note.as_deref(), Some("title, category"));
    assert_eq!(correction.actor, MODERATOR);
    assert!(audit.iter().any(|e| e.action == AuditAction::Approved), "{audit:?}");
    let mail = &desk.mails_to(POSTER)[0];
    assert_eq!(mail.subject, format!("Uw bericht staat online: {}", corrected.title));
}

/// Runs `rounds` races of eight moderators approving one fresh post at the same moment,
/// and checks each: one approval wins, the others learn who won, one file, one mail.
async fn concurrent_approvals_publish_and_mail_once(desk: &Desk, rounds: usize) {
    const RACERS: usize = 8;
    for round in 0..rounds {
        let poster = format!("bewoner{round}@example.org");
        let title = format!("Ronde {round}: wie helpt met de tuin?");
        let id = desk.enqueue(submission(&title, &poster), round as i64).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
        let racers: Vec<_> = (0..RACERS)
            .map(|k| {
                let (moderation, barrier, id) =
                    (Arc::clone(&desk.moderation), Arc::clone(&barrier), id.clone());
                tokio::spawn(async move {
                    let actor = format!("moderator{k}@example.org");
                    barrier.wait().await;
                    let outcome = moderation.approve(&id, &actor, None, now()).await;
                    (actor, outcome)
                })
            })
            .collect();
        let mut winners: Vec<(String, Approved)> = Vec::new();
        let mut refusals = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                (actor, Ok(approved)) => winners.push((actor, approved)),
                (_, Err(e)) => refusals.push(e),
            }
        }

        assert_eq!(winners.len(), 1, "round {round}: {winners:?} {refusals:?}");
        let (winner, approved) = &winners[0];
        assert_eq!(approved.id, id);
        assert_eq!(refusals.len(), RACERS - 1);
        for refusal in &refusals {
            let ModerateError::AlreadyDecided { id: refused, status, by } = refusal else {
                panic!("round {round}: {refusal:?}");
            };
            assert_eq!((refused, *status, by), (&id, Status::Approved, winner), "round {round}");
        }
        assert_eq!(desk.item(&id).await.decision.unwrap().by, *winner);
        assert_eq!(desk.added_posts().len(), round + 1, "round {round}");
        assert!(desk.content_file(&id).is_file(), "round {round}");
        assert_eq!(desk.mails_to(&poster).len(), 1, "round {round}");
        let approvals = desk.audit_actions(&id).await;
        assert_eq!(approvals, [AuditAction::Approved], "round {round}");
    }
    assert_eq!(desk.mails().len(), rounds);
}

// Guards the double-approval race on SQLite: many moderators approving the same post at
// once give one publication and one mail, and every other moderator learns who was first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_on_sqlite_publish_once_and_name_the_first_moderator() {
    let desk = Desk::on_sqlite();
    concurrent_approvals_publish_and_mail_once(&desk, 50).await;
}

// Guards the double approval on DynamoDB's conditional write (moto in server mode): a
// second and a replayed approval (C14) are refused naming the first moderator, with one
// file and one mail. Sequential, because moto, unlike DynamoDB, does not make a
// conditional write atomic against a concurrent one; the race itself runs on SQLite.
// Fails, never skips, when moto is not running.
#[tokio::test]
async fn repeated_approvals_on_dynamodb_publish_once_and_name_the_first_moderator() {
    let desk = Desk::on_dynamodb().await;
    let id = desk.enqueue(submission("Wie helpt met de tuin?", POSTER), 0).await;
    desk.moderation.approve(&id, MODERATOR, None, now()).await.unwrap();
    for second in ["tweede@example.org", MODERATOR] {
        let again = desk.moderation.approve(&id, second, None, now()).await;
        let Err(ModerateError::AlreadyDecided { status, by, .. }) = again else {
            panic!("{again:?}");
        };
        assert_eq!((status, by.as_str()), (Status::Approved, MODERATOR));
    }
    assert_eq!(desk.added_posts().len(), 1);
    assert_eq!(desk.mails_to(POSTER).len(), 1);
    assert_eq!(desk.audit_actions(&id).await, [AuditAction::Approved]);
}

// Guards recovery from a crash between the status change and the rebuild: reconcile
// publishes the approved post that has no content file, dated at its approval, records
// it as Republished by the system, and a second run finds nothing to do.
#[tokio::test]
async fn reconcile_after_a_crash_publishes_the_approved_post_once() {
    let desk = Desk::on_sqlite();
    let id = desk.enqueue(submission("Wie maait mijn gras?", POSTER), 0).await;
    let pending = desk.enqueue(submission("Nog niet beoordeeld", POSTER), 1).await;
    let approved_at = now() - Duration::minutes(30);
    let decision =
        Decision { status: Status::Approved, by: MODERATOR.into(), at: approved_at, reason: None };
    desk.moderation.queue.decide(&id, &decision).await.unwrap();
    assert!(!desk.content_file(&id).exists());

    let repaired = desk.moderation.reconcile(now()).await.unwrap().published;

    assert_eq!(repaired, std::slice::from_ref(&id));
    let post = desk.post(&id);
    assert_eq!(post.date, approved_at.with_timezone(&desk.moderation.rules.time_zone));
    let page = desk.out.join(format!("bericht/{}/index.html", post.slug));
    assert!(std::fs::read_to_string(&page).unwrap().contains("Wie maait mijn gras?"));
    assert!(!desk.content_file(&pending).exists(), "a pending post stays off the site");
    assert_eq!(desk.moderation.reconcile(now()).await.unwrap(), Reconciled::default());
    let republished: Vec<AuditEntry> = desk
        .audit(&id)
        .await
        .into_iter()
        .filter(|e| e.action == AuditAction::Republished)
        .collect();
    assert_eq!(republished.len(), 1, "{republished:?}");
    assert_eq!(republished[0].actor, SYSTEM_ACTOR);
    assert_eq!(desk.added_posts().len(), 1);
}

// Guards the whole kind "approved but unpublishable" (breaker report: a category removed
// after submission, a character the generator refuses): the approval is refused before the
// status changes, so the post still waits and can be corrected or rejected.
#[tokio::test]
async fn approval_of_a_post_the_generator_refuses_changes_nothing() {
    let desk = Desk::on_sqlite();
    let mut bad = submission("Hulp bij het verhuizen", POSTER);
    bad.category = "bestaat-niet".into();
    let id = desk.enqueue(bad, 0).await;

    let refused = desk.moderation.approve(&id, MODERATOR, None, now()).await;

    assert!(matches!(refused, Err(ModerateError::Unpublishable { .. })), "{refused:?}");
    assert_eq!(desk.item(&id).await.status, Status::Pending);
    assert!(!desk.content_file(&id).exists());
    assert!(desk.mails().is_empty());
    assert!(desk.audit_actions(&id).await.is_empty(), "nothing was decided");
}

// Guards reconcile against one bad post: it is reported, and the approved posts after it
// are still published and their posters mailed, as the interrupted approval would have.
#[tokio::test]
async fn reconcile_skips_an_unpublishable_post_and_publishes_and_mails_the_rest() {
    let desk = Desk::on_sqlite();
    let mut bad = submission("Kapot bericht", POSTER);
    bad.category = "bestaat-niet".into();
    let bad = desk.enqueue(bad, 0).await;
    let good = desk.enqueue(submission("Wie wandelt met mij?", "kees@example.nl"), 1).await;
    for id in [&bad, &good] {
        let decision =
            Decision { status: Status::Approved, by: MODERATOR.into(), at: now(), reason: None };
        desk.moderation.queue.decide(id, &decision).await.unwrap();
    }

    let done = desk.moderation.reconcile(now()).await.unwrap();

    assert_eq!(done.published, vec![good.clone()]);
    assert_eq!(done.failed.len(), 1);
    assert_eq!(done.failed[0].0, bad);
    assert!(desk.content_file(&good).exists() && !desk.content_file(&bad).exists());
    let mails = desk.mails_to("kees@example.nl");
    assert_eq!(mails.len(), 1, "the poster learns the post is online");
    assert!(mails[0].text.contains("/bericht/"), "{}", mails[0].text);
}

// Guards the desk entry: the post is approved and online at once, the audit log marks it
// as entered on behalf, the content file holds no address or number, and the resident's
// mail carries the management link.
#[tokio::test]
async fn enter_on_behalf_publishes_at_once_without_contact_details_and_audits_it() {
    let desk = Desk::on_sqlite();
    let title = "Boodschappen op dinsdag, via de balie";

    let (approved, manage_url) =
        desk.moderation.enter_on_behalf(MODERATOR, submission(title, POSTER), now()).await.unwrap();

    assert_eq!(desk.item(&approved.id).await.status, Status::Approved);
    let file = std::fs::read_to_string(desk.content_file(&approved.id)).unwrap();
    for private in [POSTER, "example.nl", "@", PHONE, "12345678"] {
        assert!(!file.contains(private), "{private:?} in the content file:\n{file}");
    }
    assert!(desk.page(&approved.url).contains(title), "{}", approved.url);
    let actions = desk.audit_actions(&approved.id).await;
    assert!(actions.contains(&AuditAction::EnteredOnBehalf), "{actions:?}");
    assert!(actions.contains(&AuditAction::Approved), "{actions:?}");
    assert!(desk.audit(&approved.id).await.iter().all(|e| e.actor == MODERATOR));
    assert!(manage_url.starts_with(&desk.moderation.site_root), "{manage_url}");
    assert!(manage_url.contains(&approved.id) && manage_url.contains("token="), "{manage_url}");
    let mails = desk.mails_to(POSTER);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].text.contains(&manage_url), "{}", mails[0].text);
}

// Guards byte-identity of the published site: after approvals (one corrected), a rejection
// and a desk entry, the output folder is exactly what a fresh full build of the resulting
// content folder writes.
#[tokio::test]
async fn output_after_several_decisions_equals_a_full_build() {
    let desk = Desk::on_sqlite();
    let places = [("huizen", Kind::Request), ("laren", Kind::Offer), ("eemnes", Kind::Offer)];
    let mut ids = Vec::new();
    for (n, (municipality, kind)) in places.into_iter().enumerate() {
        let mut s = submission(&format!("Bericht {n}: hulp 🚲 café"), POSTER);
        (s.municipality, s.kind, s.neighbourhood) = (municipality.into(), kind, None);
        ids.push(desk.enqueue(s, n as i64).await);
    }
    let rejected = desk.enqueue(submission("Te koop: fiets", POSTER), 9).await;

    desk.moderation.approve(&ids[0], MODERATOR, None, now()).await.unwrap();
    let mut corrected = desk.item(&ids[1]).await.submission;
    (corrected.title, corrected.category) = ("Verbeterd bericht".into(), "vervoer".into());
    let correction = Some((&corrected, "title, category"));
    desk.moderation.approve(&ids[1], MODERATOR, correction, now()).await.unwrap();
    desk.moderation.approve(&ids[2], MODERATOR, None, now() - Duration::hours(2)).await.unwrap();
    desk.moderation.reject(&rejected, MODERATOR, "Verkoop past hier niet.", now()).await.unwrap();
    let desk_entry = submission("Via de telefoon ingevoerd", POSTER);
    desk.moderation.enter_on_behalf(MODERATOR, desk_entry, now()).await.unwrap();

    assert_eq!(desk.added_posts().len(), 4);
    let full = desk.tmp.path().join("full");
    generator::build(&options(&desk.content, &desk.theme, &full)).unwrap();
    let (live, fresh) = (files(&desk.out), files(&full));
    assert_eq!(live.keys().collect::<Vec<_>>(), fresh.keys().collect::<Vec<_>>());
    for (path, bytes) in &live {
        assert!(bytes == &fresh[path], "{path} differs from a full build");
    }
}

/// Only the path and query of a link in a page, HTML-unescaped.
fn link_after(html: &str, text: &str) -> String {
    let end = html.find(&format!("\">{text}</a>")).unwrap_or_else(|| panic!("no {text} link"));
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    html[start..end].replace("&amp;", "&")
}

// Guards the pages past the first of the queue and the log (breaker: the 26th pending post
// and the 51st log line gave 500): every page renders and links on to the next.
#[tokio::test]
async fn queue_and_log_beyond_one_page_render_and_link_on() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use axum::response::IntoResponse;
    use submit_fn::auth::{Auth, Session};
    use submit_fn::beheer::{Beheer, BeheerState};
    use submit_fn::store::ModeratorStore;
    use tower::ServiceExt;

    let tmp = tempfile::tempdir().unwrap();
    let queue = SqliteQueue::open(&tmp.path().join("queue.sqlite3")).unwrap();
    let desk = Desk::with_queue(tmp, Arc::new(queue.clone()));
    for n in 0..30 {
        desk.enqueue(submission(&format!("Bericht {n}"), POSTER), n).await;
    }
    // Recorded as they happen: oldest first.
    for n in (0..60).rev() {
        let entry = AuditEntry {
            at: now() - Duration::minutes(n),
            actor: MODERATOR.into(),
            action: AuditAction::Approved,
            post_id: format!("POST{n:04}"),
            note: None,
        };
        desk.moderation.queue.record_audit(&entry).await.unwrap();
    }
    queue
        .add_moderator(&submit_fn::store::Moderator {
            email: MODERATOR.into(),
            password_hash: submit_fn::auth::hash_password("een lang wachtwoord").unwrap(),
            added_at: now(),
            lock: Default::default(),
            notify: false,
        })
        .await
        .unwrap();
    let site_root = desk.moderation.site_root.clone();
    let auth = Auth::new(Arc::new(queue), &desk.moderation.secrets, "Test", &site_root).unwrap();
    let cookie = auth.start_session(&Session::new(MODERATOR, Utc::now()), "").into_response();
    let cookie = cookie.headers()[header::SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let preview = generator::Preview::load(&desk.content, &desk.theme, None).unwrap();
    let beheer = Beheer::new(Arc::clone(&desk.moderation), Arc::new(auth), preview).unwrap();
    let router = submit_fn::beheer::router(BeheerState::new(beheer));
    let get = |uri: String| {
        let request = Request::get(uri).header(header::COOKIE, &cookie).body(Body::empty());
        let router = router.clone();
        async move {
            let response = router.oneshot(request.unwrap()).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (status, String::from_utf8(bytes.to_vec()).unwrap())
        }
    };

    let (status, first) = get("/beheer".into()).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = get(link_after(&first, "Volgende berichten")).await;
    assert_eq!(status, 200, "{second}");
    assert!(second.contains("Bericht 0") && !first.contains("Bericht 0<"), "oldest first");
    let (status, log) = get("/beheer/logboek".into()).await;
    assert_eq!(status, 200, "{log}");
    let (status, older) = get(link_after(&log, "Oudere regels")).await;
    assert_eq!(status, 200, "{older}");
    assert!(older.contains("POST0059") && !older.contains("POST0000<"), "{older}");
    assert!(!log.contains("POST0059<"), "the oldest line is on the second page only");
}
