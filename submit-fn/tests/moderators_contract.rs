//! One contract suite for the moderator accounts: each behaviour is a generic async function,
//! run against SQLite and against DynamoDB (moto in server mode, started by
//! scripts/test.sh). The DynamoDB runs fail, never skip, when the endpoint is missing.

use chrono::{Duration, TimeZone, Utc};
use submit_fn::spam::new_nonce;
use submit_fn::store::moderators::{LOCK_MINUTES, MAX_FAILED_LOGINS};
use submit_fn::store::{
    DynamoQueue, LockState, Moderator, ModeratorError, ModeratorStore, QueueStore, SqliteQueue,
};

/// A fixed PHC string: the stores keep it as text and never check it, so tests need not
/// spend time on argon2.
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

fn moderator(email: &str) -> Moderator {
    Moderator {
        email: email.into(),
        password_hash: HASH.into(),
        added_at: Utc.timestamp_opt(1_760_000_000, 123_000).unwrap(),
        lock: LockState::default(),
        notify: false,
    }
}

fn t0() -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_765_000_000, 0).unwrap()
}

async fn added_moderator_round_trips_under_its_normalised_address(store: &dyn ModeratorStore) {
    store.add_moderator(&moderator("  Rene\u{301}@Example.NL ")).await.unwrap();
    let stored = store.moderator("ren\u{e9}@example.nl").await.unwrap().unwrap();
    assert_eq!(stored, moderator("ren\u{e9}@example.nl"));
    // Any spelling of the same address finds the same account.
    assert_eq!(store.moderator("RENE\u{301}@example.nl").await.unwrap(), Some(stored));
    assert_eq!(store.moderator("nobody@example.nl").await.unwrap(), None);
}

async fn second_add_of_an_address_fails_and_changes_nothing(store: &dyn ModeratorStore) {
    store.add_moderator(&moderator("anna@example.nl")).await.unwrap();
    let mut other = moderator("Anna@Example.nl");
    other.password_hash = format!("{HASH}x");
    let again = store.add_moderator(&other).await;
    assert!(matches!(again, Err(ModeratorError::AlreadyExists)), "{again:?}");
    let stored = store.moderator("anna@example.nl").await.unwrap().unwrap();
    assert_eq!(stored.password_hash, HASH);
}

async fn moderators_are_listed_by_address_and_removed_once(store: &dyn ModeratorStore) {
    for email in ["cees@example.nl", "anna@example.nl", "bram@example.nl"] {
        store.add_moderator(&moderator(email)).await.unwrap();
    }
    let emails = |list: Vec<Moderator>| list.into_iter().map(|m| m.email).collect::<Vec<_>>();
    let listed = emails(store.moderators().await.unwrap());
    assert_eq!(listed, ["anna@example.nl", "bram@example.nl", "cees@example.nl"]);
    store.remove_moderator("BRAM@example.nl").await.unwrap();
    let again = store.remove_moderator("bram@example.nl").await;
    assert!(matches!(again, Err(ModeratorError::Unknown)), "{again:?}");
    assert_eq!(store.moderator("bram@example.nl").await.unwrap(), None);
    assert_eq!(emails(store.moderators().await.unwrap()), ["anna@example.nl", "cees@example.nl"]);
}

async fn fifth_failure_locks_and_failures_during_the_lock_change_nothing(
    store: &dyn ModeratorStore,
) {
    store.add_moderator(&moderator("dirk@example.nl")).await.unwrap();
    for n in 1..MAX_FAILED_LOGINS {
        let state = store.record_failed_login("dirk@example.nl", t0()).await.unwrap().unwrap();
        assert_eq!(state, LockState { failed_logins: n, locked_until: None });
    }
    let locked = store.record_failed_login("Dirk@example.nl", t0()).await.unwrap().unwrap();
    let until = t0() + Duration::minutes(LOCK_MINUTES);
    assert_eq!(locked, LockState { failed_logins: MAX_FAILED_LOGINS, locked_until: Some(until) });
    // A guess ten minutes into the lock neither counts nor extends it.
    let during = t0() + Duration::minutes(10);
    assert_eq!(store.record_failed_login("dirk@example.nl", during).await.unwrap(), Some(locked));
    assert_eq!(store.moderator("dirk@example.nl").await.unwrap().unwrap().lock, locked);
    // After the lock a wrong password starts a fresh count.
    let after = store.record_failed_login("dirk@example.nl", until).await.unwrap().unwrap();
    assert_eq!(after, LockState { failed_logins: 1, locked_until: None });
    assert_eq!(store.record_failed_login("nobody@example.nl", t0()).await.unwrap(), None);
}

async fn clearing_failures_resets_counter_and_lock(store: &dyn ModeratorStore) {
    store.add_moderator(&moderator("eva@example.nl")).await.unwrap();
    for _ in 0..MAX_FAILED_LOGINS {
        store.record_failed_login("eva@example.nl", t0()).await.unwrap();
    }
    assert!(store.moderator("eva@example.nl").await.unwrap().unwrap().lock.is_locked(t0()));
    store.clear_failed_logins("EVA@example.nl").await.unwrap();
    let lock = store.moderator("eva@example.nl").await.unwrap().unwrap().lock;
    assert_eq!(lock, LockState::default());
    // Clearing an account that is gone is not an error: a removed moderator cannot log in.
    store.clear_failed_logins("nobody@example.nl").await.unwrap();
}

async fn notify_setting_round_trips_and_unknown_address_is_refused(store: &dyn ModeratorStore) {
    store.add_moderator(&moderator("dirk@example.nl")).await.unwrap();
    assert!(!store.moderator("dirk@example.nl").await.unwrap().unwrap().notify);
    store.set_notify("Dirk@Example.nl", true).await.unwrap();
    assert!(store.moderator("dirk@example.nl").await.unwrap().unwrap().notify);
    store.set_notify("dirk@example.nl", false).await.unwrap();
    assert!(!store.moderators().await.unwrap()[0].notify);
    let unknown = store.set_notify("nobody@example.nl", true).await;
    assert!(matches!(unknown, Err(ModeratorError::Unknown)), "{unknown:?}");
}

/// Moderators share the queue's file or table without disturbing it.
async fn moderators_and_queue_items_live_side_by_side<S: ModeratorStore + QueueStore>(store: &S) {
    store.add_moderator(&moderator("fleur@example.nl")).await.unwrap();
    assert!(store.list_pending(10, None).await.unwrap().items.is_empty());
    assert_eq!(store.moderators().await.unwrap().len(), 1);
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
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        assert!(std::env::var(name).is_ok(), "{name} is not set: run scripts/test.sh");
    }
    let table = format!("moderators-{}", new_nonce().to_lowercase().replace(['-', '_'], ""));
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
    added_moderator_round_trips_under_its_normalised_address,
    second_add_of_an_address_fails_and_changes_nothing,
    moderators_are_listed_by_address_and_removed_once,
    fifth_failure_locks_and_failures_during_the_lock_change_nothing,
    clearing_failures_resets_counter_and_lock,
    moderators_and_queue_items_live_side_by_side,
    notify_setting_round_trips_and_unknown_address_is_refused,
);

// Twenty concurrent wrong guesses on one account: exactly the limit is counted and the
// lock is set once, on SQLite. On moto the same race is not meaningful, since moto does not
// serialise conditional writes the way DynamoDB does (see contract.rs, C14); the sequential
// behaviour above runs on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_guesses_never_count_past_the_limit_on_sqlite() {
    let (store, _dir) = sqlite();
    store.add_moderator(&moderator("gijs@example.nl")).await.unwrap();
    let guesses: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.record_failed_login("gijs@example.nl", t0()).await })
        })
        .collect();
    let mut states = Vec::new();
    for guess in guesses {
        states.push(guess.await.unwrap().unwrap().unwrap());
    }
    let counted_unlocked = states.iter().filter(|s| s.locked_until.is_none()).count();
    assert_eq!(counted_unlocked, MAX_FAILED_LOGINS as usize - 1);
    let lock = store.moderator("gijs@example.nl").await.unwrap().unwrap().lock;
    assert_eq!(lock.failed_logins, MAX_FAILED_LOGINS);
    assert_eq!(lock.locked_until, Some(t0() + Duration::minutes(LOCK_MINUTES)));
}
