//! `buurtbord queue list|show|approve|reject` and `buurtbord publish --reconcile` as an
//! operator runs them, on a copy of the sample content and a data folder whose queue the
//! test fills through the SQLite store, as the form would.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{Duration, Utc};
use submit_fn::spam::{Secrets, new_nonce, token_hash};
use submit_fn::store::{Decision, QueueItem, QueueStore, SqliteQueue, Status};
use submit_fn::submission::{Kind, Submission};

const POSTER: &str = "bewoner.jansen@example.org";
const PHONE: &str = "06-12345678";

/// A copy of the sample content, an output folder and a data folder in one temp dir.
struct Site {
    content: PathBuf,
    out: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        support::copy_dir(&support::repo().join("content"), &content);
        let (out, data) = (dir.path().join("public"), dir.path().join("data"));
        std::fs::create_dir_all(&data).unwrap();
        Site { content, out, data, _dir: dir }
    }

    /// `buurtbord <args>` on this site's folders.
    fn buurtbord(&self, args: &[&str]) -> Command {
        let mut command = Command::cargo_bin("buurtbord").unwrap();
        command.env("RUST_LOG", "warn").args(args);
        command.arg("--content").arg(&self.content);
        command.arg("--theme").arg(support::repo().join("themes/default"));
        command.arg("--out").arg(&self.out).arg("--data").arg(&self.data);
        command
    }

    /// Runs `buurtbord <args>`, expects exit `code`, and returns stdout and stderr.
    fn run(&self, args: &[&str], code: i32) -> (String, String) {
        let output = self.buurtbord(args).output().unwrap();
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(code), "{args:?}\n{stdout}\n{stderr}");
        (stdout, stderr)
    }

    /// Runs `work` on the queue the command line opens.
    fn with_queue<T>(&self, work: impl AsyncFnOnce(&SqliteQueue) -> T) -> T {
        let queue = SqliteQueue::open(&self.data.join(submit_fn::local::QUEUE_FILE)).unwrap();
        tokio::runtime::Runtime::new().unwrap().block_on(work(&queue))
    }

    /// Puts a pending post titled `title` into the queue and returns its id.
    fn enqueue(&self, title: &str) -> String {
        let secrets = Secrets::generate();
        let nonce = new_nonce();
        let received_at = Utc::now() - Duration::hours(3);
        let item = QueueItem {
            id: secrets.post_id(&nonce, received_at.timestamp()),
            token_hash: token_hash(&secrets.management_token(&nonce)),
            nonce,
            status: Status::Pending,
            received_at,
            submission: submission(title),
            ip_hash: "ab".repeat(16),
            fingerprint: title.to_owned(),
            decision: None,
        };
        self.with_queue(async |queue| queue.create(&item).await.unwrap());
        item.id
    }

    fn content_file(&self, id: &str) -> PathBuf {
        self.content.join("posts").join(format!("{id}.md"))
    }

    /// The raw text of every message in the outbox.
    fn outbox(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.data.join("outbox")) else { return vec![] };
        let paths = entries.map(|e| e.unwrap().path());
        let eml: Vec<PathBuf> =
            paths.filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
        eml.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

fn submission(title: &str) -> Submission {
    Submission {
        kind: Kind::Request,
        title: title.into(),
        body: "Mijn heg is te hoog geworden.\n\nWie kan een uurtje helpen?".into(),
        category: "tuin".into(),
        municipality: "huizen".into(),
        neighbourhood: Some("Oostermeent".into()),
        recurring: false,
        expires: None,
        display_name: "Truus".into(),
        organisation: None,
        email: Some(POSTER.into()),
        phone: Some(PHONE.into()),
    }
}

/// The page a post's public address points at, under the output folder.
fn page(out: &Path, url: &str) -> PathBuf {
    let path = url.trim().splitn(4, '/').nth(3).expect("an absolute address");
    out.join(path).join("index.html")
}

// Guards what an operator sees before deciding: `queue list` names every pending post with
// its id and title, and `queue show` prints every field, contact details included.
#[test]
fn queue_list_and_show_print_the_pending_posts_and_their_fields() {
    let site = Site::new();
    let first = site.enqueue("Wie snoeit mijn heg?");
    let second = site.enqueue("Hulp bij het gras maaien");

    let (listed, count) = site.run(&["queue", "list"], 0);
    for (id, title) in [(&first, "Wie snoeit mijn heg?"), (&second, "Hulp bij het gras maaien")] {
        let line = listed.lines().find(|l| l.starts_with(id.as_str())).expect("the id is listed");
        assert!(line.contains(title) && line.contains("huizen"), "{line}");
    }
    assert!(count.contains("2 pending"), "{count}");

    let (shown, _) = site.run(&["queue", "show", &first], 0);
    for expected in [
        format!("id:            {first}"),
        "status:        pending".into(),
        "title:         Wie snoeit mijn heg?".into(),
        "category:      tuin".into(),
        "neighbourhood: Oostermeent".into(),
        format!("email:         {POSTER}"),
        format!("phone:         {PHONE}"),
        "Wie kan een uurtje helpen?".into(),
    ] {
        assert!(shown.lines().any(|l| l == expected), "{expected:?} missing in\n{shown}");
    }
}

// Guards approval from the command line: the first approval exits 0, writes the content
// file, builds the post's page and mails the poster; a second one exits 1, says who was
// first, and changes nothing.
#[test]
fn queue_approve_publishes_once_and_a_second_approve_exits_1_naming_the_first() {
    let site = Site::new();
    let id = site.enqueue("Wie snoeit mijn heg?");

    let (approved, _) = site.run(&["queue", "approve", &id, "--by", "anna@example.org"], 0);
    let url = approved.strip_prefix("approved and published: ").expect("the address").trim();
    let file = std::fs::read_to_string(site.content_file(&id)).unwrap();
    assert!(!file.contains(POSTER) && !file.contains("12345678"), "{file}");
    let built = std::fs::read_to_string(page(&site.out, url)).unwrap();
    assert!(built.contains("Wie snoeit mijn heg?"), "{url}");
    let mails = site.outbox();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains(&format!("To: {POSTER}")), "{}", mails[0]);

    let (_, refused) = site.run(&["queue", "approve", &id, "--by", "bram@example.org"], 1);
    assert!(
        refused.contains(&format!("{id} was already approved by anna@example.org")),
        "{refused}"
    );
    assert_eq!(std::fs::read_to_string(site.content_file(&id)).unwrap(), file);
    assert_eq!(site.outbox().len(), 1, "no second mail");
    let (listed, _) = site.run(&["queue", "list"], 0);
    assert!(!listed.contains(&id), "an approved post is no longer pending:\n{listed}");
}

// Guards rejection from the command line: the reason is stored and mailed to the poster,
// no content file is written, and a second decision on the same post exits 1.
#[test]
fn queue_reject_with_reason_stores_and_mails_it_and_a_second_decision_exits_1() {
    let site = Site::new();
    let id = site.enqueue("Te koop: fiets");
    let reason = "Verkoop past niet op dit bord.";

    let (rejected, _) =
        site.run(&["queue", "reject", &id, "--reason", reason, "--by", "anna@example.org"], 0);
    assert_eq!(rejected.trim(), format!("rejected: {id}"));
    let (shown, _) = site.run(&["queue", "show", &id], 0);
    assert!(shown.contains("status:        rejected"), "{shown}");
    assert!(shown.contains(&format!("reason:        {reason}")), "{shown}");
    assert!(!site.content_file(&id).exists());
    let mails = site.outbox();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains(&format!("To: {POSTER}")) && mails[0].contains(reason));

    let (_, again) = site.run(&["queue", "approve", &id], 1);
    assert!(again.contains("already rejected by anna@example.org"), "{again}");
    assert!(!site.content_file(&id).exists());
    let (_, empty) = site.run(&["queue", "reject", &id, "--reason", "  "], 2);
    assert!(empty.contains("--reason must not be empty"), "{empty}");
}

// Guards the refusals for an id that is not in the queue: show, approve and reject each
// exit 1 with a message and write nothing.
#[test]
fn unknown_id_exits_1_with_a_message_for_show_approve_and_reject() {
    let site = Site::new();
    let unknown = "01KBA7QDZP0000000000NOPE00";

    let (_, shown) = site.run(&["queue", "show", unknown], 1);
    assert!(shown.contains(&format!("no post {unknown}")), "{shown}");
    let (_, approved) = site.run(&["queue", "approve", unknown], 1);
    assert!(approved.contains(&format!("post {unknown} is not in the queue")), "{approved}");
    let (_, rejected) = site.run(&["queue", "reject", unknown, "--reason", "Dubbel"], 1);
    assert!(rejected.contains("is not in the queue"), "{rejected}");
    assert!(!site.content_file(unknown).exists());
    assert!(site.outbox().is_empty());
}

// Guards `publish --reconcile` after a crash between the status change and the rebuild:
// the approved post without a content file is published and named, and a second run
// finds nothing to do.
#[test]
fn publish_reconcile_publishes_an_approved_post_the_content_folder_lacks() {
    let site = Site::new();
    let id = site.enqueue("Wie maait mijn gras?");
    let pending = site.enqueue("Nog niet beoordeeld");
    let decision = Decision {
        status: Status::Approved,
        by: "anna@example.org".into(),
        at: Utc::now() - Duration::minutes(5),
        reason: None,
    };
    site.with_queue(async |queue| queue.decide(&id, &decision).await.unwrap());

    let (published, _) = site.run(&["publish", "--reconcile"], 0);
    assert_eq!(published.trim(), format!("published: {id}"));
    assert!(site.content_file(&id).is_file());
    assert!(!site.content_file(&pending).exists());

    let (again, said) = site.run(&["publish", "--reconcile"], 0);
    assert_eq!(again, "", "nothing left to publish");
    assert!(said.contains("0 approved post(s)"), "{said}");
}
