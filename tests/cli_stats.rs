//! `buurtbord stats` as an operator runs it for the municipality: on a data folder whose
//! queue the test fills through the SQLite store with a fixture whose figures were counted
//! by hand.

mod support;

use std::path::PathBuf;

use assert_cmd::Command;
use chrono::{DateTime, Utc};
use submit_fn::spam::{Secrets, new_nonce};
use submit_fn::store::{
    Decision, Ending, QueueItem, QueueStore, Reply, ResponseStore, SqliteQueue, Status,
};
use submit_fn::submission::{Kind, Submission};

/// A data folder with a queue, in a temp dir.
struct Data {
    data: PathBuf,
    _dir: tempfile::TempDir,
}

/// One post of the fixture: kind, municipality, category, received, what became of it,
/// and how many responses it got.
struct Post(Kind, &'static str, &'static str, &'static str, Status, u32);

/// By hand: January in Huizen, Boodschappen: requests R1 (approved, 2 responses) and R2
/// (helped), offer O1 (approved, 1 response): 2 requests, 1 offer, 3 responses, 1 helped.
/// February in Blaricum, Vervoer: request R3 (approved); offer O2 was rejected and does not
/// count. March: R4 still waits and does not count.
const FIXTURE: [Post; 6] = [
    Post(Kind::Request, "huizen", "boodschappen", "2027-01-05T10:00:00Z", Status::Approved, 2),
    Post(Kind::Request, "huizen", "boodschappen", "2027-01-18T10:00:00Z", Status::Helped, 0),
    Post(Kind::Offer, "huizen", "boodschappen", "2027-01-20T10:00:00Z", Status::Approved, 1),
    Post(Kind::Request, "blaricum", "vervoer", "2027-02-03T10:00:00Z", Status::Approved, 0),
    Post(Kind::Offer, "blaricum", "vervoer", "2027-02-10T10:00:00Z", Status::Rejected, 0),
    Post(Kind::Request, "laren", "tuin", "2027-03-01T10:00:00Z", Status::Pending, 0),
];

const HEADING: &str = "maand;gemeente;categorie;hulpvragen;hulpaanbod;reacties;geholpen";
const JANUARY: &str = "2027-01;Huizen;Boodschappen;2;1;3;1";
const FEBRUARY: &str = "2027-02;Blaricum;Vervoer;1;0;0;0";

impl Data {
    fn with_fixture() -> Data {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let queue = SqliteQueue::open(&data.join(submit_fn::local::QUEUE_FILE)).unwrap();
        tokio::runtime::Runtime::new().unwrap().block_on(fill(&queue));
        Data { data, _dir: dir }
    }

    /// Runs `buurtbord stats <args>`, expects exit `code`, and returns stdout and stderr.
    fn stats(&self, args: &[&str], code: i32) -> (String, String) {
        let mut command = Command::cargo_bin("buurtbord").unwrap();
        command.env("RUST_LOG", "warn").arg("stats").args(args);
        command.arg("--content").arg(support::repo().join("content"));
        command.arg("--data").arg(&self.data);
        let output = command.output().unwrap();
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(code), "{args:?}\n{stdout}\n{stderr}");
        (stdout, stderr)
    }
}

async fn fill(queue: &SqliteQueue) {
    let secrets = Secrets::generate();
    for (n, Post(kind, municipality, category, received, status, responses)) in
        FIXTURE.iter().enumerate()
    {
        let received_at: DateTime<Utc> = received.parse().unwrap();
        let nonce = new_nonce();
        let item = QueueItem {
            id: secrets.post_id(&nonce, received_at.timestamp()),
            nonce,
            status: Status::Pending,
            received_at,
            submission: Submission {
                kind: *kind,
                title: format!("Bericht {n}"),
                body: "Tekst".into(),
                category: (*category).into(),
                municipality: (*municipality).into(),
                neighbourhood: None,
                recurring: false,
                expires: None,
                display_name: "Truus".into(),
                organisation: None,
                email: Some("truus@example.nl".into()),
                phone: None,
            },
            token_hash: "ab".repeat(32),
            ip_hash: "cd".repeat(16),
            fingerprint: format!("fp{n}"),
            decision: None,
        };
        queue.create(&item).await.unwrap();
        let decide = |status| Decision { status, by: "mod".into(), at: Utc::now(), reason: None };
        match status {
            Status::Pending => {}
            Status::Rejected => {
                queue.decide(&item.id, &decide(Status::Rejected)).await.unwrap();
            }
            Status::Helped => {
                queue.decide(&item.id, &decide(Status::Approved)).await.unwrap();
                queue.close(&item.id, Ending::Helped, "plaatser", Utc::now()).await.unwrap();
            }
            _ => {
                queue.decide(&item.id, &decide(Status::Approved)).await.unwrap();
            }
        }
        for r in 0..*responses {
            let reply = Reply {
                id: format!("01REPLY{n}{r}{}", new_nonce().to_uppercase().replace(['-', '_'], "")),
                post_id: item.id.clone(),
                at: Utc::now(),
                name: "Buur".into(),
                email: Some("buur@example.nl".into()),
                phone: None,
                message: "Ik help graag.".into(),
                ip_hash: "ef".repeat(16),
            };
            assert!(queue.add_response(&reply).await.unwrap());
        }
    }
}

#[test]
fn stats_csv_equals_the_counts_made_by_hand_and_holds_no_personal_data() {
    // Guards the figures for the municipality end to end: the CSV heading and one line per
    // month, municipality and category, with the counts of the fixture made by hand, and
    // none of the posters' or responders' data.
    let data = Data::with_fixture();
    let (csv, _) = data.stats(&["--csv"], 0);
    assert_eq!(csv.lines().collect::<Vec<_>>(), [HEADING, JANUARY, FEBRUARY], "{csv}");
    for personal in ["truus", "buur", "Bericht", "Tekst"] {
        assert!(!csv.to_lowercase().contains(&personal.to_lowercase()), "{personal}: {csv}");
    }
}

#[test]
fn stats_from_and_to_choose_the_months_and_a_bad_month_is_wrong_usage() {
    let data = Data::with_fixture();
    let (csv, _) = data.stats(&["--csv", "--from", "2027-02"], 0);
    assert_eq!(csv.lines().collect::<Vec<_>>(), [HEADING, FEBRUARY]);
    let (csv, _) = data.stats(&["--csv", "--to", "2027-01"], 0);
    assert_eq!(csv.lines().collect::<Vec<_>>(), [HEADING, JANUARY]);
    let (_, stderr) = data.stats(&["--from", "januari"], 2);
    assert!(stderr.contains("januari"), "{stderr}");
    // A reversed period would show empty figures that read as "nothing happened".
    let (_, stderr) = data.stats(&["--from", "2027-02", "--to", "2027-01"], 2);
    assert!(stderr.contains("--from comes after --to"), "{stderr}");
}

#[test]
fn stats_table_shows_the_rows_and_the_totals() {
    let data = Data::with_fixture();
    let (table, _) = data.stats(&[], 0);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[1].starts_with("2027-01  Huizen"), "{table}");
    let totals: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(totals, ["3", "1", "3", "1"], "{table}");
}
