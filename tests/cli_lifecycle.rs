//! `buurtbord daily` and `buurtbord privacy export|erase` as an operator runs them, on a copy
//! of the sample content and a data folder whose queue the test fills through the SQLite
//! store, as the form and the moderators would.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Duration, Utc};
use submit_fn::spam::{Secrets, new_nonce, token_hash};
use submit_fn::store::{
    Decision, Ending, QueueItem, QueueStore, Reply, ResponseStore, SqliteQueue, Status,
};
use submit_fn::submission::{Kind, Submission};

const POSTER: &str = "bewoner.jansen@example.org";

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

    /// Runs `buurtbord <args>` on this site's folders, expects exit `code`, and returns
    /// stdout and stderr.
    fn run(&self, args: &[&str], code: i32) -> (String, String) {
        let mut command = Command::cargo_bin("buurtbord").unwrap();
        command.env("RUST_LOG", "warn").args(args);
        command.arg("--content").arg(&self.content);
        command.arg("--theme").arg(support::repo().join("themes/default"));
        command.arg("--out").arg(&self.out).arg("--data").arg(&self.data);
        let output = command.output().unwrap();
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(code), "{args:?}\n{stdout}\n{stderr}");
        (stdout, stderr)
    }

    fn with_queue<T>(&self, work: impl AsyncFnOnce(&SqliteQueue) -> T) -> T {
        let queue = SqliteQueue::open(&self.data.join(submit_fn::local::QUEUE_FILE)).unwrap();
        tokio::runtime::Runtime::new().unwrap().block_on(work(&queue))
    }

    /// Puts an approved post into the queue, approved ten days ago; returns its id.
    fn approved(&self, title: &str, email: &str, expires_in_days: i64) -> String {
        let item = queued(title, email, Some(expires_in_days));
        let approval = decision(Status::Approved, Utc::now() - Duration::days(10));
        self.with_queue(async |queue| {
            queue.create(&item).await.unwrap();
            queue.decide(&item.id, &approval).await.unwrap();
        });
        item.id
    }

    /// Puts a post its poster withdrew `days` ago into the queue, with one response.
    fn withdrawn(&self, title: &str, days: i64) -> String {
        let item = queued(title, POSTER, None);
        let approval = decision(Status::Approved, Utc::now() - Duration::days(days + 10));
        self.with_queue(async |queue| {
            queue.create(&item).await.unwrap();
            queue.decide(&item.id, &approval).await.unwrap();
            queue.add_response(&response(&item.id, "buur@example.org")).await.unwrap();
            let at = Utc::now() - Duration::days(days);
            queue.close(&item.id, Ending::Withdrawn, "plaatser", at).await.unwrap();
        });
        item.id
    }

    fn content_file(&self, id: &str) -> PathBuf {
        self.content.join("posts").join(format!("{id}.md"))
    }

    /// The text of every message in the outbox, with quoted-printable line breaks and
    /// `=` signs undone, so addresses in it can be searched for.
    fn outbox(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.data.join("outbox")) else { return vec![] };
        let paths = entries.map(|e| e.unwrap().path());
        let eml: Vec<PathBuf> =
            paths.filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
        eml.iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .map(|m| m.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="))
            .collect()
    }

    fn empty_outbox(&self) {
        let _ = std::fs::remove_dir_all(self.data.join("outbox"));
    }
}

fn decision(status: Status, at: DateTime<Utc>) -> Decision {
    Decision { status, by: "anna@example.org".into(), at, reason: None }
}

fn queued(title: &str, email: &str, expires_in_days: Option<i64>) -> QueueItem {
    let secrets = Secrets::generate();
    let nonce = new_nonce();
    let received_at = Utc::now() - Duration::days(60);
    let expires = expires_in_days.map(|days| (Utc::now() + Duration::days(days)).date_naive());
    QueueItem {
        id: secrets.post_id(&nonce, received_at.timestamp()),
        token_hash: token_hash(&secrets.management_token(&nonce)),
        nonce,
        status: Status::Pending,
        received_at,
        submission: Submission {
            kind: Kind::Request,
            title: title.into(),
            body: "Mijn heg is te hoog geworden.\n\nWie kan een uurtje helpen?".into(),
            category: "tuin".into(),
            municipality: "huizen".into(),
            neighbourhood: None,
            recurring: false,
            expires,
            display_name: "Truus".into(),
            organisation: None,
            email: Some(email.into()),
            phone: Some("06-12345678".into()),
        },
        ip_hash: "ab".repeat(16),
        fingerprint: title.to_owned(),
        decision: None,
    }
}

fn response(post_id: &str, email: &str) -> Reply {
    Reply {
        id: new_nonce().to_uppercase().replace(['-', '_'], ""),
        post_id: post_id.to_owned(),
        at: Utc::now() - Duration::days(50),
        name: "Buurvrouw Els".into(),
        email: Some(email.into()),
        phone: None,
        message: "Ik kan zaterdag helpen.".into(),
        ip_hash: "cd".repeat(16),
    }
}

/// True if some file under `dir` contains `text`.
fn any_file_contains(dir: &Path, text: &str) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        if path.is_dir() {
            any_file_contains(&path, text)
        } else {
            std::fs::read_to_string(&path).is_ok_and(|t| t.contains(text))
        }
    })
}

// Guards the daily run: a post expiring in two days gets exactly one reminder, with the
// link to extend it, across two runs; a post whose date passed leaves the content folder
// and the built site and is marked expired; the post withdrawn 40 days ago is purged with
// its response, the one withdrawn 5 days ago stays.
#[test]
fn daily_reminds_once_takes_expired_posts_off_and_purges_old_ended_posts() {
    let site = Site::new();
    let soon = site.approved("Wie snoeit mijn heg?", POSTER, 2);
    let gone = site.approved("Hulp bij verhuizen gezocht", "ander@example.org", -2);
    let old = site.withdrawn("Oude vraag om hulp", 40);
    let recent = site.withdrawn("Recente vraag om hulp", 5);
    site.run(&["publish", "--reconcile"], 0);
    assert!(site.content_file(&gone).is_file() && site.content_file(&soon).is_file());
    site.empty_outbox();

    let (done, _) = site.run(&["daily"], 0);
    assert!(done.lines().any(|l| l == format!("expired: {gone}")), "{done}");
    assert!(done.lines().any(|l| l == format!("reminded: {soon}")), "{done}");
    assert!(done.lines().any(|l| l == format!("purged: {old}")), "{done}");
    assert!(!done.contains(&recent), "{done}");
    let mails = site.outbox();
    assert_eq!(mails.len(), 1, "one reminder");
    assert!(mails[0].contains(&format!("To: {POSTER}")), "{}", mails[0]);
    let link = format!("/beheer-bericht/{soon}?token=");
    assert!(mails[0].contains(&link) && mails[0].contains("#langer"), "{}", mails[0]);

    assert!(!site.content_file(&gone).exists(), "the expired post's file is removed");
    assert!(site.content_file(&soon).is_file());
    assert!(!any_file_contains(&site.out, "Hulp bij verhuizen gezocht"));
    assert!(any_file_contains(&site.out, "Wie snoeit mijn heg?"));
    site.with_queue(async |queue| {
        assert_eq!(queue.get(&gone).await.unwrap().unwrap().status, Status::Expired);
        assert_eq!(queue.get(&old).await.unwrap(), None);
        assert!(queue.responses(&old).await.unwrap().is_empty());
        assert_eq!(queue.get(&recent).await.unwrap().unwrap().status, Status::Withdrawn);
        assert_eq!(queue.responses(&recent).await.unwrap().len(), 1);
    });

    let (again, _) = site.run(&["daily"], 0);
    assert_eq!(again, "", "nothing left to do on the same day");
    assert_eq!(site.outbox().len(), 1, "no second reminder");
}

// Guards the privacy commands: `export` prints the address's post with its private fields
// and the responses it sent and received, and nothing of the other poster; `erase` takes
// the address's post off the site and out of the queue, leaves the other post online, and
// a second export finds nothing.
#[test]
fn privacy_export_shows_only_the_address_and_erase_takes_its_posts_off_the_site() {
    let site = Site::new();
    let mine = site.approved("Wie snoeit mijn heg?", POSTER, 20);
    let other = site.approved("Hulp bij verhuizen gezocht", "ander@example.org", 20);
    site.with_queue(async |queue| {
        queue.add_response(&response(&mine, "buur@example.org")).await.unwrap();
        queue.add_response(&response(&other, POSTER)).await.unwrap();
    });
    site.run(&["publish", "--reconcile"], 0);

    let (json, _) = site.run(&["privacy", "export", "Bewoner.Jansen@example.org"], 0);
    let export: serde_yaml::Value = serde_yaml::from_str(&json).unwrap();
    let posts = export["posts"].as_sequence().unwrap();
    assert_eq!(posts.len(), 1, "{json}");
    assert_eq!(posts[0]["id"].as_str(), Some(mine.as_str()));
    assert_eq!(posts[0]["submission"]["phone"].as_str(), Some("06-12345678"));
    assert_eq!(posts[0]["responses_received"][0]["email"].as_str(), Some("buur@example.org"));
    let sent = export["responses_sent"].as_sequence().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["post_id"].as_str(), Some(other.as_str()));
    assert!(!json.contains("ander@example.org") && !json.contains("anna@example.org"), "{json}");

    let (erased, _) = site.run(&["privacy", "erase", POSTER], 0);
    assert!(erased.contains(&format!("post {mine} (approved)")), "{erased}");
    assert!(erased.contains("deleted: 1"), "{erased}");
    assert!(!site.content_file(&mine).exists());
    assert!(site.content_file(&other).is_file());
    assert!(!any_file_contains(&site.out, "Wie snoeit mijn heg?"));
    let (after, said) = site.run(&["privacy", "export", POSTER], 0);
    let after: serde_yaml::Value = serde_yaml::from_str(&after).unwrap();
    assert_eq!(after["posts"].as_sequence().map(Vec::len), Some(0));
    assert_eq!(after["responses_sent"].as_sequence().map(Vec::len), Some(0));
    assert!(said.contains("nothing is on file"), "{said}");
    site.with_queue(async |queue| {
        assert!(queue.responses(&other).await.unwrap().is_empty(), "the sent response is gone");
        assert_eq!(queue.get(&other).await.unwrap().unwrap().status, Status::Approved);
    });

    let (_, refused) = site.run(&["privacy", "erase", "geen-adres"], 2);
    assert!(refused.contains("not a valid e-mail address"), "{refused}");
}
