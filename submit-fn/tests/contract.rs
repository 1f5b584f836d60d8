//! One contract suite for the queue stores: each behaviour is a generic async function,
//! run against SQLite and against DynamoDB (moto in server mode, started by
//! scripts/test.sh). The DynamoDB runs fail, never skip, when the endpoint is missing.

mod common;

use chrono::{Duration, TimeZone, Utc};
use submit_fn::spam::{Secrets, new_nonce};
use submit_fn::store::{
    AuditAction, AuditEntry, Created, Decision, DynamoQueue, Ending, QueueItem, QueueStore,
    SqliteQueue, Status, Transition,
};
use submit_fn::submission::{Kind, Submission};

fn item(n: u32) -> QueueItem {
    let secrets = Secrets::generate();
    let nonce = new_nonce();
    QueueItem {
        id: secrets.post_id(&nonce, 1_750_000_000 + i64::from(n)),
        nonce,
        status: Status::Pending,
        received_at: Utc.timestamp_opt(1_750_000_000 + i64::from(n), 0).unwrap(),
        submission: Submission {
            kind: Kind::Offer,
            title: format!("Bericht {n} 🚲"),
            body: "Regel één\nregel twee".into(),
            category: "moving".into(),
            municipality: "asby".into(),
            neighbourhood: None,
            recurring: n.is_multiple_of(2),
            expires: None,
            display_name: "Åse".into(),
            organisation: None,
            email: Some("a@example.org".into()),
            phone: None,
        },
        token_hash: "ab".repeat(32),
        ip_hash: "cd".repeat(16),
        fingerprint: format!("fp{n}"),
        decision: None,
    }
}

fn decision(status: Status) -> Decision {
    let reason = (status == Status::Rejected).then(|| "Dubbel geplaatst".to_owned());
    Decision { status, by: "moderator-1".into(), at: Utc::now(), reason }
}

async fn create_then_get_round_trips_and_empty_optionals_stay_none(store: &dyn QueueStore) {
    let mut full = item(1);
    full.submission.neighbourhood = Some("Oostermeent".into());
    full.submission.expires = Some(chrono::NaiveDate::from_ymd_opt(2030, 1, 2).unwrap());
    full.submission.organisation = Some("Steunpunt".into());
    full.submission.phone = Some("+31 6 12345678".into());
    let sparse = item(2);
    for it in [&full, &sparse] {
        assert_eq!(store.create(it).await.unwrap(), Created::Stored);
        assert_eq!(store.get(&it.id).await.unwrap().as_ref(), Some(it));
    }
    assert_eq!(store.get("01NOTTHERE").await.unwrap(), None);
}

async fn second_create_with_same_id_is_already_received(store: &dyn QueueStore) {
    let first = item(3);
    assert_eq!(store.create(&first).await.unwrap(), Created::Stored);
    let mut retry = first.clone();
    retry.received_at += Duration::seconds(5);
    assert_eq!(store.create(&retry).await.unwrap(), Created::AlreadyReceived(Box::new(first)));
}

async fn pending_is_listed_oldest_first_across_pages(store: &dyn QueueStore) {
    let items: Vec<QueueItem> = [14, 11, 13, 10, 12].into_iter().map(item).collect();
    for it in &items {
        store.create(it).await.unwrap();
    }
    let first = store.list_pending(2, None).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(first.next.is_some());
    let all = common::all_pending(store).await;
    let mut expected: Vec<&QueueItem> = items.iter().collect();
    expected.sort_by_key(|i| i.received_at);
    assert_eq!(all.iter().collect::<Vec<_>>(), expected);
}

async fn approve_and_reject_happen_once(store: &dyn QueueStore) {
    let (a, r) = (item(20), item(21));
    store.create(&a).await.unwrap();
    store.create(&r).await.unwrap();
    assert_eq!(store.decide(&a.id, &decision(Status::Approved)).await.unwrap(), Transition::Done);
    let again = store.decide(&a.id, &decision(Status::Approved)).await.unwrap();
    assert_eq!(again, Transition::NotPending(Status::Approved));
    assert_eq!(store.decide(&r.id, &decision(Status::Rejected)).await.unwrap(), Transition::Done);
    let rejected = store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(rejected.status, Status::Rejected);
    assert_eq!(rejected.decision.unwrap().reason.as_deref(), Some("Dubbel geplaatst"));
    assert!(common::all_pending(store).await.is_empty());
    let missing = store.decide("01NOTTHERE", &decision(Status::Approved)).await.unwrap();
    assert_eq!(missing, Transition::NotFound);
}

async fn concurrent_approvals_change_status_once(store: &dyn QueueStore) {
    let it = item(30);
    store.create(&it).await.unwrap();
    let approve = decision(Status::Approved);
    let (one, two) = tokio::join!(store.decide(&it.id, &approve), store.decide(&it.id, &approve));
    let mut outcomes = vec![one.unwrap(), two.unwrap()];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [Transition::Done, Transition::NotPending(Status::Approved)]);
}

async fn rate_slots_stop_at_the_maximum_per_window(store: &dyn QueueStore) {
    let until = Utc::now() + Duration::hours(2);
    for _ in 0..3 {
        assert!(store.take_rate_slot("iphash", "2030-01-01T10", 3, until).await.unwrap());
    }
    assert!(!store.take_rate_slot("iphash", "2030-01-01T10", 3, until).await.unwrap());
    assert!(store.take_rate_slot("iphash", "2030-01-01T11", 3, until).await.unwrap());
    assert!(store.take_rate_slot("other", "2030-01-01T10", 3, until).await.unwrap());
}

async fn approved_items_are_listed_and_counted_by_status(store: &dyn QueueStore) {
    let items: Vec<QueueItem> = (50..55).map(item).collect();
    for it in &items {
        store.create(it).await.unwrap();
    }
    for it in &items[..3] {
        store.decide(&it.id, &decision(Status::Approved)).await.unwrap();
    }
    store.decide(&items[3].id, &decision(Status::Rejected)).await.unwrap();
    assert_eq!(store.count(Status::Approved).await.unwrap(), 3);
    assert_eq!(store.count(Status::Rejected).await.unwrap(), 1);
    assert_eq!(store.count(Status::Pending).await.unwrap(), 1);
    let first = store.list(Status::Approved, 2, None).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = store.list(Status::Approved, 2, first.next.as_deref()).await.unwrap();
    let ids: Vec<&str> = first.items.iter().chain(&rest.items).map(|i| i.id.as_str()).collect();
    let expected: Vec<&str> = items[..3].iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert!(rest.items.iter().all(|i| i.status == Status::Approved));
}

async fn correction_changes_a_pending_item_only(store: &dyn QueueStore) {
    let mut it = item(60);
    it.submission.phone = Some("+31 6 12345678".into());
    store.create(&it).await.unwrap();
    let mut fixed = it.submission.clone();
    fixed.title = "Verbeterde titel".into();
    fixed.category = "garden".into();
    fixed.phone = None;
    fixed.neighbourhood = Some("Oostermeent".into());
    assert_eq!(store.correct(&it.id, &fixed).await.unwrap(), Transition::Done);
    let stored = store.get(&it.id).await.unwrap().unwrap();
    assert_eq!(stored.submission, fixed);
    assert_eq!((stored.nonce, stored.fingerprint), (it.nonce.clone(), it.fingerprint.clone()));

    store.decide(&it.id, &decision(Status::Approved)).await.unwrap();
    let mut late = fixed.clone();
    late.title = "Te laat".into();
    let outcome = store.correct(&it.id, &late).await.unwrap();
    assert_eq!(outcome, Transition::NotPending(Status::Approved));
    assert_eq!(store.get(&it.id).await.unwrap().unwrap().submission.title, "Verbeterde titel");
    assert_eq!(store.correct("01NOTTHERE", &late).await.unwrap(), Transition::NotFound);
}

async fn audit_log_lists_newest_first_across_pages(store: &dyn QueueStore) {
    let start = Utc.timestamp_opt(1_760_000_000, 0).unwrap();
    let actions = [AuditAction::EnteredOnBehalf, AuditAction::Corrected, AuditAction::Approved];
    for (n, action) in actions.into_iter().enumerate() {
        let entry = AuditEntry {
            at: start + Duration::seconds(n as i64),
            actor: "mod@example.org".into(),
            action,
            post_id: format!("post-{n}"),
            note: (action == AuditAction::Corrected).then(|| "titel".to_owned()),
        };
        store.record_audit(&entry).await.unwrap();
    }
    let first = store.list_audit(2, None).await.unwrap();
    assert_eq!(first.entries.len(), 2);
    let rest = store.list_audit(2, first.next.as_deref()).await.unwrap();
    let all: Vec<&AuditEntry> = first.entries.iter().chain(&rest.entries).collect();
    let posts: Vec<&str> = all.iter().map(|e| e.post_id.as_str()).collect();
    assert_eq!(posts, ["post-2", "post-1", "post-0"]);
    assert_eq!(all[1].note.as_deref(), Some("titel"));
    assert_eq!(all[0].action, AuditAction::Approved);
    assert_eq!(all[2].at, start);
    assert!(all[0].note.is_none());
}

async fn posters_end_a_pending_or_approved_item_once(store: &dyn QueueStore) {
    // Guards the poster's conditional ending: from pending or approved only, once, with the
    // poster as the decision's author, and listed and counted under the new status.
    let (waiting, online, rejected) = (item(70), item(71), item(72));
    for it in [&waiting, &online, &rejected] {
        store.create(it).await.unwrap();
    }
    store.decide(&online.id, &decision(Status::Approved)).await.unwrap();
    store.decide(&rejected.id, &decision(Status::Rejected)).await.unwrap();
    let at = Utc.timestamp_opt(1_765_000_000, 0).unwrap();

    let withdrawn = store.close(&waiting.id, Ending::Withdrawn, "plaatser", at).await.unwrap();
    assert_eq!(withdrawn, Transition::Done);
    assert_eq!(
        store.close(&online.id, Ending::Helped, "plaatser", at).await.unwrap(),
        Transition::Done
    );
    let ended = store.get(&online.id).await.unwrap().unwrap();
    assert_eq!(ended.status, Status::Helped);
    let by_poster = Decision { status: Status::Helped, by: "plaatser".into(), at, reason: None };
    assert_eq!(ended.decision, Some(by_poster));
    assert_eq!(store.get(&waiting.id).await.unwrap().unwrap().status, Status::Withdrawn);

    let again = store.close(&online.id, Ending::Withdrawn, "plaatser", at).await.unwrap();
    assert_eq!(again, Transition::NotPending(Status::Helped));
    let after_rejection = store.close(&rejected.id, Ending::Helped, "plaatser", at).await.unwrap();
    assert_eq!(after_rejection, Transition::NotPending(Status::Rejected));
    let rejected_now = store.get(&rejected.id).await.unwrap().unwrap();
    assert_eq!(rejected_now.decision.unwrap().reason.as_deref(), Some("Dubbel geplaatst"));
    let missing = store.close("01NOTTHERE", Ending::Withdrawn, "plaatser", at).await.unwrap();
    assert_eq!(missing, Transition::NotFound);

    assert_eq!(store.count(Status::Withdrawn).await.unwrap(), 1);
    assert_eq!(store.count(Status::Helped).await.unwrap(), 1);
    let helped = store.list(Status::Helped, 10, None).await.unwrap().items;
    assert_eq!(helped.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [online.id.as_str()]);
    assert!(common::all_pending(store).await.is_empty());
}

async fn extension_sets_the_expiry_of_open_items_and_keeps_the_decision(store: &dyn QueueStore) {
    // Guards the poster's extension: it changes only `expires`, of a pending or approved
    // item, so an approved post's decision (its publication date) stays.
    let (waiting, online, ended) = (item(80), item(81), item(82));
    for it in [&waiting, &online, &ended] {
        store.create(it).await.unwrap();
    }
    let approval = decision(Status::Approved);
    store.decide(&online.id, &approval).await.unwrap();
    store.close(&ended.id, Ending::Withdrawn, "plaatser", Utc::now()).await.unwrap();
    let date = chrono::NaiveDate::from_ymd_opt(2031, 3, 4).unwrap();

    for (it, status) in [(&waiting, Status::Pending), (&online, Status::Approved)] {
        assert_eq!(store.extend(&it.id, date).await.unwrap(), Transition::Done);
        let stored = store.get(&it.id).await.unwrap().unwrap();
        assert_eq!((stored.submission.expires, stored.status), (Some(date), status));
    }
    let online_now = store.get(&online.id).await.unwrap().unwrap();
    let kept = online_now.decision.unwrap();
    assert_eq!((kept.by, kept.at.timestamp()), (approval.by, approval.at.timestamp()));

    let refused = store.extend(&ended.id, date).await.unwrap();
    assert_eq!(refused, Transition::NotPending(Status::Withdrawn));
    assert_eq!(store.get(&ended.id).await.unwrap().unwrap().submission.expires, None);
    assert_eq!(store.extend("01NOTTHERE", date).await.unwrap(), Transition::NotFound);
}

fn sqlite() -> (SqliteQueue, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (SqliteQueue::open(&dir.path().join("queue.sqlite3")).unwrap(), dir)
}

/// A fresh table on the moto server that scripts/test.sh started.
async fn dynamo() -> DynamoQueue {
    let endpoint = std::env::var("BUURTBORD_TEST_DYNAMODB_ENDPOINT").expect(
        "BUURTBORD_TEST_DYNAMODB_ENDPOINT is not set: run the tests with scripts/test.sh, \
         which starts moto (a DynamoDB-protocol server) and sets it",
    );
    // moto accepts any credentials, but the SDK wants some; scripts/moto.sh exports them.
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "eu-west-1"),
    ] {
        assert!(std::env::var(name).is_ok(), "{name} is not set: run scripts/test.sh ({value})");
    }
    let table = format!("queue-{}", new_nonce().to_lowercase().replace(['-', '_'], ""));
    let store = DynamoQueue::from_env(table, Some(&endpoint)).await;
    store.create_table().await.unwrap();
    store
}

macro_rules! contract {
    ($($behaviour:ident),* $(,)?) => {
        mod on_sqlite {
            use super::*;
            $(#[tokio::test]
            async fn $behaviour() {
                let (store, _dir) = sqlite();
                super::$behaviour(&store).await;
            })*
        }
        mod on_dynamodb {
            use super::*;
            $(#[tokio::test]
            async fn $behaviour() {
                super::$behaviour(&dynamo().await).await;
            })*
        }
    };
}

contract!(
    create_then_get_round_trips_and_empty_optionals_stay_none,
    second_create_with_same_id_is_already_received,
    pending_is_listed_oldest_first_across_pages,
    approve_and_reject_happen_once,
    rate_slots_stop_at_the_maximum_per_window,
    approved_items_are_listed_and_counted_by_status,
    correction_changes_a_pending_item_only,
    audit_log_lists_newest_first_across_pages,
    posters_end_a_pending_or_approved_item_once,
    extension_sets_the_expiry_of_open_items_and_keeps_the_decision,
);

// A queue file written before `withdrawn` and `helped` existed has a CHECK constraint that
// refuses them; opening it must migrate the table and keep every row.
#[tokio::test]
async fn sqlite_file_from_before_the_poster_statuses_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite3");
    let old = item(90);
    {
        let store = SqliteQueue::open(&path).unwrap();
        store.create(&old).await.unwrap();
    }
    {
        // Put back the old constraint, as a file from before the migration has it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_master WHERE name = 'submissions'", [], |r| r.get(0))
            .unwrap();
        let legacy = sql
            .replace(", 'withdrawn', 'helped'", "")
            .replace("CREATE TABLE submissions (", "CREATE TABLE legacy (");
        assert!(!legacy.contains("'helped'"), "{legacy}");
        conn.execute_batch(&format!(
            "{legacy}; INSERT INTO legacy SELECT * FROM submissions; DROP TABLE submissions; \
             ALTER TABLE legacy RENAME TO submissions;"
        ))
        .unwrap();
    }
    let store = SqliteQueue::open(&path).unwrap();
    assert_eq!(store.get(&old.id).await.unwrap().as_ref(), Some(&old));
    let at = Utc::now();
    let closed = store.close(&old.id, Ending::Withdrawn, "plaatser", at).await.unwrap();
    assert_eq!(closed, Transition::Done);
    assert_eq!(store.list_pending(10, None).await.unwrap().items, []);
}

// C14 must 5 (concurrent approvals), on SQLite only: moto serves requests on threads
// without serialising conditional writes, so two concurrent UpdateItems can both pass
// there, unlike real DynamoDB. The sequential replay runs on both stores above.
#[tokio::test]
async fn c14_concurrent_approvals_change_status_once_on_sqlite() {
    let (store, _dir) = sqlite();
    concurrent_approvals_change_status_once(&store).await;
}

// C23: the four operations on reserved-word attributes (create with a condition, list
// pending by the status index with a projection of name and date, approve, reject with
// comment and ttl) succeed on DynamoDB and on SQLite.
#[tokio::test]
async fn c23_reserved_word_operations_succeed_on_both_stores() {
    let (sqlite, _dir) = sqlite();
    let dynamo = dynamo().await;
    for store in [&sqlite as &dyn QueueStore, &dynamo] {
        let (a, r) = (item(40), item(41));
        assert_eq!(store.create(&a).await.unwrap(), Created::Stored);
        assert_eq!(store.create(&r).await.unwrap(), Created::Stored);
        let pending = store.list_pending(10, None).await.unwrap().items;
        assert!(
            pending
                .iter()
                .all(|i| i.submission.display_name == "Åse" && i.received_at.timestamp() > 0)
        );
        assert_eq!(pending.len(), 2);
        assert_eq!(
            store.decide(&a.id, &decision(Status::Approved)).await.unwrap(),
            Transition::Done
        );
        assert_eq!(
            store.decide(&r.id, &decision(Status::Rejected)).await.unwrap(),
            Transition::Done
        );
    }
}
