//! One contract suite for the queue stores: each behaviour is a generic async function,
//! run against SQLite and against DynamoDB (moto in server mode, started by
//! scripts/test.sh). The DynamoDB runs fail, never skip, when the endpoint is missing.

mod common;

use chrono::{Duration, TimeZone, Utc};
use submit_fn::spam::{Secrets, new_nonce};
use submit_fn::stats::{Counts, Period, Row};
use submit_fn::store::{AddressRecords, Erased};
use submit_fn::store::{
    AuditAction, AuditEntry, Created, Decision, DynamoQueue, Ending, PostFacts, QueueItem,
    QueueStore, Reply, Report, ReportStore, ResponseStore, Revised, Revision, SqliteQueue, Status,
    Transition,
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

fn reply(post_id: &str, n: i64) -> Reply {
    Reply {
        id: format!("01REPLY{n:04}{}", new_nonce().to_uppercase().replace(['-', '_'], "")),
        post_id: post_id.to_owned(),
        // Recent, so within the retention period, and in whole seconds, as stores keep it.
        at: Utc.timestamp_opt(Utc::now().timestamp() - (60 - n) * 60, 0).unwrap(),
        name: format!("Buur {n}"),
        email: (n % 2 == 0).then(|| format!("buur{n}@example.org")),
        phone: (n % 2 == 1).then(|| "06 12345678".to_owned()),
        message: "Ik kan dinsdag helpen.\nGroet!".into(),
        ip_hash: "ef".repeat(16),
    }
}

fn report(post_id: &str, n: i64) -> Report {
    Report {
        id: format!("01REPORT{n:04}{}", new_nonce().to_uppercase().replace(['-', '_'], "")),
        post_id: post_id.to_owned(),
        at: Utc.timestamp_opt(1_750_000_000 + n, 0).unwrap(),
        reason: "reclame".into(),
        message: (n % 2 == 0).then(|| "Dit is verkoop.".to_owned()),
        ip_hash: "ef".repeat(16),
    }
}

async fn responses_are_stored_once_and_listed_per_post_oldest_first(store: &dyn QueueStore) {
    let (mine, other) = (item(60), item(61));
    let replies = [reply(&mine.id, 3), reply(&mine.id, 1), reply(&other.id, 2), reply(&mine.id, 2)];
    for r in &replies {
        assert!(store.add_response(r).await.unwrap());
    }
    // A double click sends the same response again: it is stored once.
    assert!(!store.add_response(&replies[0]).await.unwrap());
    let listed = store.responses(&mine.id).await.unwrap();
    let expected = [&replies[1], &replies[3], &replies[0]];
    assert_eq!(listed.iter().collect::<Vec<_>>(), expected);
    assert_eq!(listed[0].phone.as_deref(), Some("06 12345678"));
    assert_eq!(listed[0].email, None, "an absent contact field stays absent");
    assert_eq!(store.responses(&other.id).await.unwrap(), [replies[2].clone()]);
    assert!(store.responses("01NOTTHERE").await.unwrap().is_empty());
}

async fn reports_stay_open_until_their_post_is_handled(store: &dyn QueueStore) {
    let (a, b) = ("01POSTA", "01POSTB");
    let reports = [report(a, 2), report(b, 1), report(a, 3)];
    for r in &reports {
        assert!(store.add_report(r).await.unwrap());
    }
    assert!(!store.add_report(&reports[0]).await.unwrap(), "stored once per id");
    let open = store.open_reports(10).await.unwrap();
    assert_eq!(open.iter().collect::<Vec<_>>(), [&reports[1], &reports[0], &reports[2]]);
    assert_eq!(open[2].message, None);
    assert_eq!(store.open_reports(2).await.unwrap().len(), 2);
    assert_eq!(store.close_reports(a, Utc::now()).await.unwrap(), 2);
    assert_eq!(store.close_reports(a, Utc::now()).await.unwrap(), 0, "closed once");
    assert_eq!(store.open_reports(10).await.unwrap(), [reports[1].clone()]);
}

async fn only_an_approved_item_is_removed_and_keeps_its_reason(store: &dyn QueueStore) {
    let (online, waiting) = (item(70), item(71));
    store.create(&online).await.unwrap();
    store.create(&waiting).await.unwrap();
    store.decide(&online.id, &decision(Status::Approved)).await.unwrap();
    let removal = Decision {
        status: Status::Removed,
        by: "moderator-2".into(),
        at: Utc.timestamp_opt(1_760_000_000, 0).unwrap(),
        reason: Some("Dit is reclame.".into()),
    };
    assert_eq!(store.remove(&online.id, &removal).await.unwrap(), Transition::Done);
    let removed = store.get(&online.id).await.unwrap().unwrap();
    assert_eq!(removed.status, Status::Removed);
    assert_eq!(removed.decision, Some(removal.clone()));
    let again = store.remove(&online.id, &removal).await.unwrap();
    assert_eq!(again, Transition::NotPending(Status::Removed));
    let refused = store.remove(&waiting.id, &removal).await.unwrap();
    assert_eq!(refused, Transition::NotPending(Status::Pending));
    assert_eq!(store.remove("01NOTTHERE", &removal).await.unwrap(), Transition::NotFound);
    assert_eq!(store.count(Status::Approved).await.unwrap(), 0);
}

fn revision(post_id: &str, at: i64, title: &str) -> Revision {
    let mut submission = item(0).submission;
    submission.title = title.to_owned();
    submission.body = "Nieuwe tekst\n\nmet twee alinea's".into();
    submission.neighbourhood = Some("Oostermeent".into());
    submission.email = None;
    submission.phone = Some("06 12345678".into());
    Revision {
        post_id: post_id.to_owned(),
        received_at: Utc.timestamp_opt(at, 0).unwrap(),
        submission,
    }
}

/// Creates `it` and approves it.
async fn online(store: &dyn QueueStore, it: &QueueItem) {
    store.create(it).await.unwrap();
    store.decide(&it.id, &decision(Status::Approved)).await.unwrap();
}

async fn a_revision_waits_for_an_approved_post_and_the_newest_replaces_the_older(
    store: &dyn QueueStore,
) {
    // Guards where revisions may wait: only on an approved post, one per post (a newer
    // edit replaces the older), listed oldest first and counted.
    let (waiting, live, other) = (item(100), item(101), item(102));
    store.create(&waiting).await.unwrap();
    online(store, &live).await;
    online(store, &other).await;
    let refused = store.propose_revision(&revision(&waiting.id, 1_800_000_000, "X")).await;
    assert_eq!(refused.unwrap(), Transition::NotPending(Status::Pending));
    let missing = store.propose_revision(&revision("01NOTTHERE", 1_800_000_000, "X")).await;
    assert_eq!(missing.unwrap(), Transition::NotFound);

    let first = revision(&live.id, 1_800_000_010, "Eerste wijziging");
    let newer = revision(&live.id, 1_800_000_030, "Tweede wijziging");
    let of_other = revision(&other.id, 1_800_000_020, "Andere");
    for r in [&first, &of_other, &newer] {
        assert_eq!(store.propose_revision(r).await.unwrap(), Transition::Done);
    }
    assert_eq!(store.revision(&live.id).await.unwrap(), Some(newer.clone()));
    assert_eq!(store.revisions(10).await.unwrap(), [of_other.clone(), newer.clone()]);
    assert_eq!(store.revisions(1).await.unwrap(), [of_other]);
    assert_eq!(store.count_revisions().await.unwrap(), 2);
    assert_eq!(store.revision(&waiting.id).await.unwrap(), None);
    let unchanged = store.get(&live.id).await.unwrap().unwrap();
    assert_eq!(unchanged.submission, live.submission, "the live text stays");
}

async fn applying_a_revision_replaces_the_text_once_and_keeps_the_first_slug(
    store: &dyn QueueStore,
) {
    // Guards approval: only the revision the moderator saw is applied, in one write that
    // replaces the post's fields, records the time and the first slug, and removes it.
    let live = item(110);
    online(store, &live).await;
    let shown = revision(&live.id, 1_800_000_100, "Nieuwe titel");
    store.propose_revision(&shown).await.unwrap();
    let at = Utc.timestamp_opt(1_800_000_200, 0).unwrap();
    let stale = Utc.timestamp_opt(1_800_000_099, 0).unwrap();
    let outcome = store.apply_revision(&live.id, stale, at, "eerste-slug").await.unwrap();
    assert_eq!(outcome, Transition::NotFound, "another version than the one shown");
    assert_eq!(store.revised(&live.id).await.unwrap(), None);

    let outcome = store.apply_revision(&live.id, shown.received_at, at, "eerste-slug").await;
    assert_eq!(outcome.unwrap(), Transition::Done);
    let applied = store.get(&live.id).await.unwrap().unwrap();
    assert_eq!(applied.submission, shown.submission);
    assert_eq!((applied.status, applied.nonce), (Status::Approved, live.nonce.clone()));
    let revised = Revised { at, slug: "eerste-slug".into() };
    assert_eq!(store.revised(&live.id).await.unwrap(), Some(revised));
    assert_eq!(store.revision(&live.id).await.unwrap(), None);
    let again = store.apply_revision(&live.id, shown.received_at, at, "x").await.unwrap();
    assert_eq!(again, Transition::NotFound, "applied once");

    let later = revision(&live.id, 1_800_000_300, "Nog een titel");
    store.propose_revision(&later).await.unwrap();
    let at2 = Utc.timestamp_opt(1_800_000_400, 0).unwrap();
    let outcome = store.apply_revision(&live.id, later.received_at, at2, "nieuwe-slug").await;
    assert_eq!(outcome.unwrap(), Transition::Done);
    let kept = Revised { at: at2, slug: "eerste-slug".into() };
    assert_eq!(store.revised(&live.id).await.unwrap(), Some(kept), "the first slug stays");
    assert_eq!(store.revised(&item(111).id).await.unwrap(), None);
}

async fn a_revision_is_not_applied_to_an_ended_post_and_is_discarded_once(store: &dyn QueueStore) {
    // Guards the other ways out: a post that ended while its revision waited keeps its
    // text, and a rejection (discard) removes the revision once, leaving the post as is.
    let (ending, kept) = (item(120), item(121));
    online(store, &ending).await;
    online(store, &kept).await;
    let r = revision(&ending.id, 1_800_000_500, "Te laat");
    store.propose_revision(&r).await.unwrap();
    store.close(&ending.id, Ending::Helped, "plaatser", Utc::now()).await.unwrap();
    let at = Utc.timestamp_opt(1_800_000_600, 0).unwrap();
    let outcome = store.apply_revision(&ending.id, r.received_at, at, "slug").await.unwrap();
    assert_eq!(outcome, Transition::NotPending(Status::Helped));
    assert_eq!(store.get(&ending.id).await.unwrap().unwrap().submission, ending.submission);
    let refused = store.propose_revision(&revision(&ending.id, 1_800_000_700, "Nee")).await;
    assert_eq!(refused.unwrap(), Transition::NotPending(Status::Helped));

    let r = revision(&kept.id, 1_800_000_800, "Afgewezen");
    store.propose_revision(&r).await.unwrap();
    let other_version = Utc.timestamp_opt(1_800_000_801, 0).unwrap();
    assert!(!store.discard_revision(&kept.id, other_version).await.unwrap());
    assert!(store.discard_revision(&kept.id, r.received_at).await.unwrap());
    assert!(!store.discard_revision(&kept.id, r.received_at).await.unwrap(), "once");
    assert_eq!(store.revision(&kept.id).await.unwrap(), None);
    assert_eq!(store.get(&kept.id).await.unwrap().unwrap().submission, kept.submission);
}

async fn open_posts_are_found_by_address_and_get_one_resent_link(store: &dyn QueueStore) {
    // Guards the lost-link lookup: open posts only, the address without regard to case
    // or surrounding space, oldest first; and one resent link per post, replaced by the
    // next.
    let mut posts: Vec<QueueItem> = (130..135).map(item).collect();
    posts[0].submission.email = Some("Truus@Example.org".into());
    posts[1].submission.email = Some("truus@example.org".into());
    posts[2].submission.email = Some("truus@example.org".into());
    posts[3].submission.email = Some("iemand@example.org".into());
    posts[4].submission.email = None;
    for it in &posts {
        store.create(it).await.unwrap();
    }
    store.decide(&posts[1].id, &decision(Status::Approved)).await.unwrap();
    store.close(&posts[2].id, Ending::Withdrawn, "plaatser", Utc::now()).await.unwrap();
    let found = store.open_posts_by_email("  TRUUS@example.org ").await.unwrap();
    let ids: Vec<&str> = found.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, [posts[0].id.as_str(), posts[1].id.as_str()]);
    assert!(store.open_posts_by_email("niemand@example.org").await.unwrap().is_empty());

    let at = Utc.timestamp_opt(1_800_001_000, 0).unwrap();
    assert_eq!(store.resent_token(&posts[0].id).await.unwrap(), None);
    assert!(store.set_resent_token(&posts[0].id, &"aa".repeat(32), at).await.unwrap());
    assert!(store.set_resent_token(&posts[0].id, &"bb".repeat(32), at).await.unwrap());
    assert_eq!(store.resent_token(&posts[0].id).await.unwrap(), Some("bb".repeat(32)));
    assert!(!store.set_resent_token("01NOTTHERE", &"cc".repeat(32), at).await.unwrap());
    assert_eq!(store.resent_token("01NOTTHERE").await.unwrap(), None);
    let unchanged = store.get(&posts[0].id).await.unwrap().unwrap();
    assert_eq!(unchanged, posts[0], "the first link's hash stays");
}

/// The stats fixture: five posts, by hand (see the counts in the test below).
fn stats_fixture() -> Vec<(QueueItem, Option<Status>, u32)> {
    let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
    let post = |n: u32, kind: Kind, municipality: &str, category: &str, received: &str| {
        let mut it = item(n);
        it.submission.kind = kind;
        it.submission.municipality = municipality.into();
        it.submission.category = category.into();
        it.received_at = at(received);
        it
    };
    vec![
        // Approved request with two responses.
        (post(140, Kind::Request, "asby", "garden", "2027-01-15T10:00:00Z"), None, 2),
        // Offer marked helped, one response.
        (post(141, Kind::Offer, "asby", "garden", "2027-01-20T10:00:00Z"), Some(Status::Helped), 1),
        // 23:30 UTC on 31 January is 00:30 on 1 February in Amsterdam: February.
        (
            post(142, Kind::Request, "huizen", "moving", "2027-01-31T23:30:00Z"),
            Some(Status::Withdrawn),
            0,
        ),
        // Rejected: a fact, but not counted.
        (
            post(143, Kind::Request, "asby", "garden", "2027-01-10T10:00:00Z"),
            Some(Status::Rejected),
            0,
        ),
        // Still waiting: a fact, but not counted.
        (
            post(144, Kind::Offer, "asby", "garden", "2027-03-05T10:00:00Z"),
            Some(Status::Pending),
            0,
        ),
    ]
}

/// Stores the stats fixture; returns its posts' ids.
async fn store_stats_fixture(store: &dyn QueueStore) -> Vec<String> {
    let mut ids = Vec::new();
    for (n, (it, ending, responses)) in stats_fixture().into_iter().enumerate() {
        store.create(&it).await.unwrap();
        match ending {
            Some(Status::Pending) => {}
            Some(Status::Rejected) => {
                store.decide(&it.id, &decision(Status::Rejected)).await.unwrap();
            }
            Some(Status::Helped) | Some(Status::Withdrawn) => {
                store.decide(&it.id, &decision(Status::Approved)).await.unwrap();
                let ending =
                    if ending == Some(Status::Helped) { Ending::Helped } else { Ending::Withdrawn };
                store.close(&it.id, ending, "plaatser", Utc::now()).await.unwrap();
            }
            _ => {
                store.decide(&it.id, &decision(Status::Approved)).await.unwrap();
            }
        }
        for r in 0..responses {
            store.add_response(&reply(&it.id, i64::from(r) + 10 * n as i64)).await.unwrap();
        }
        ids.push(it.id);
    }
    ids
}

async fn post_facts_hold_only_the_counted_fields_and_months_follow_the_site_zone(
    store: &dyn QueueStore,
) {
    // Guards the figures' source: one fact per post with its kind, category, municipality,
    // month in the site's zone, status and number of responses; and the figures counted
    // from them equal the counts made by hand for the fixture.
    store_stats_fixture(store).await;
    let mut facts = store.post_facts(chrono_tz::Europe::Amsterdam).await.unwrap();
    facts.sort_by_key(|f| (f.month.clone(), f.kind.as_str(), f.status.as_str()));
    let fact =
        |month: &str, kind, municipality: &str, category: &str, status, responses| PostFacts {
            month: month.into(),
            kind,
            category: category.into(),
            municipality: municipality.into(),
            status,
            responses,
        };
    assert_eq!(
        facts,
        [
            fact("2027-01", Kind::Offer, "asby", "garden", Status::Helped, 1),
            fact("2027-01", Kind::Request, "asby", "garden", Status::Approved, 2),
            fact("2027-01", Kind::Request, "asby", "garden", Status::Rejected, 0),
            fact("2027-02", Kind::Request, "huizen", "moving", Status::Withdrawn, 0),
            fact("2027-03", Kind::Offer, "asby", "garden", Status::Pending, 0),
        ]
    );

    let rules = common::rules();
    let figures = submit_fn::stats::count(&facts, &rules, &Period::default());
    let name = rules.municipality("asby").unwrap().name.clone();
    let huizen = rules.municipality("huizen").unwrap().name.clone();
    let garden = rules.category("garden").unwrap().label.clone();
    let moving = rules.category("moving").unwrap().label.clone();
    let row = |month: &str, municipality: &str, category: &str, counts: [u64; 4]| Row {
        month: month.into(),
        municipality: municipality.into(),
        category: category.into(),
        counts: Counts {
            requests: counts[0],
            offers: counts[1],
            responses: counts[2],
            helped: counts[3],
        },
    };
    assert_eq!(
        figures.rows,
        [
            row("2027-01", &name, &garden, [1, 1, 3, 1]),
            row("2027-02", &huizen, &moving, [1, 0, 0, 0])
        ]
    );
    let totals = Counts { requests: 2, offers: 1, responses: 3, helped: 1 };
    assert_eq!(figures.totals, totals);
    let february = Period::parse(Some("2027-02"), Some("2027-02")).unwrap();
    let only = submit_fn::stats::count(&facts, &rules, &february);
    assert_eq!(only.rows, [row("2027-02", &huizen, &moving, [1, 0, 0, 0])]);
}

async fn responses_stay_counted_after_they_are_purged(store: &dyn QueueStore) {
    // Guards the figures against the responses' retention: a response older than its
    // retention period is purged (SQLite at the next insert, DynamoDB by TTL), but its
    // post's number of responses stays.
    let (old, new) = (item(150), item(151));
    online(store, &old).await;
    online(store, &new).await;
    let mut aged = reply(&old.id, 1);
    aged.at = Utc::now() - Duration::days(200);
    assert!(store.add_response(&aged).await.unwrap());
    assert!(store.add_response(&reply(&new.id, 2)).await.unwrap());
    let facts = store.post_facts(chrono_tz::Europe::Amsterdam).await.unwrap();
    let responses = facts.iter().map(|f| f.responses).collect::<Vec<_>>();
    assert_eq!(responses, [1, 1], "{facts:?}");
}

fn days_ago(days: i64) -> chrono::DateTime<Utc> {
    // Whole seconds, as the stores keep them.
    Utc.timestamp_opt(Utc::now().timestamp() - days * 86_400, 0).unwrap()
}

/// A post by `email` with `n` making it unique, received a few days ago.
fn post_by(n: u32, email: &str) -> QueueItem {
    let mut it = item(n);
    it.received_at = days_ago(60) + Duration::hours(i64::from(n));
    it.submission.email = Some(email.to_owned());
    it
}

/// A response by `email` to `post_id`.
fn reply_by(post_id: &str, n: i64, email: &str) -> Reply {
    Reply { email: Some(email.to_owned()), ..reply(post_id, n) }
}

async fn an_approved_item_expires_once_and_an_extension_brings_it_back_approved(
    store: &dyn QueueStore,
) {
    // Guards expiry and its undoing: only an approved post expires, once, keeping its
    // approval (the publication date of a post that comes back); only an expired post is
    // revived; an expired post can still be marked helped.
    let (it, waiting, helped) = (item(200), item(201), item(202));
    online(store, &it).await;
    store.create(&waiting).await.unwrap();
    online(store, &helped).await;
    let approval = store.get(&it.id).await.unwrap().unwrap().decision.unwrap();

    assert_eq!(store.expire(&it.id, Utc::now()).await.unwrap(), Transition::Done);
    let again = store.expire(&it.id, Utc::now()).await.unwrap();
    assert_eq!(again, Transition::NotPending(Status::Expired));
    let expired = store.get(&it.id).await.unwrap().unwrap();
    assert_eq!(expired.status, Status::Expired);
    assert_eq!(expired.decision.as_ref().map(|d| (&d.by, d.at)), Some((&approval.by, approval.at)));
    assert_eq!(store.list(Status::Expired, 10, None).await.unwrap().items.len(), 1);

    let date = chrono::NaiveDate::from_ymd_opt(2031, 5, 6).unwrap();
    assert_eq!(store.revive(&it.id, date).await.unwrap(), Transition::Done);
    let back = store.get(&it.id).await.unwrap().unwrap();
    assert_eq!((back.status, back.submission.expires), (Status::Approved, Some(date)));
    assert_eq!(back.decision.map(|d| d.at), Some(approval.at));
    let revived = store.revive(&it.id, date).await.unwrap();
    assert_eq!(revived, Transition::NotPending(Status::Approved));

    let pending = store.expire(&waiting.id, Utc::now()).await.unwrap();
    assert_eq!(pending, Transition::NotPending(Status::Pending));
    assert_eq!(store.expire("01NOTTHERE", Utc::now()).await.unwrap(), Transition::NotFound);
    store.expire(&helped.id, Utc::now()).await.unwrap();
    let closed = store.close(&helped.id, Ending::Helped, "plaatser", Utc::now()).await.unwrap();
    assert_eq!(closed, Transition::Done);
    assert_eq!(store.get(&helped.id).await.unwrap().unwrap().status, Status::Helped);
}

async fn a_reminder_is_claimed_once_per_expiry_date(store: &dyn QueueStore) {
    // Guards the one reminder: a second claim for the same date is refused, a later date
    // (after an extension) is claimed anew, a released claim can be made again.
    let it = item(210);
    online(store, &it).await;
    let first = chrono::NaiveDate::from_ymd_opt(2031, 1, 10).unwrap();
    let later = chrono::NaiveDate::from_ymd_opt(2031, 3, 10).unwrap();
    assert!(store.claim_reminder(&it.id, first).await.unwrap());
    assert!(!store.claim_reminder(&it.id, first).await.unwrap());
    assert!(store.claim_reminder(&it.id, later).await.unwrap());
    store.release_reminder(&it.id, later).await.unwrap();
    assert!(store.claim_reminder(&it.id, later).await.unwrap());
    assert!(!store.claim_reminder(&it.id, later).await.unwrap());
    assert!(!store.claim_reminder("01NOTTHERE", first).await.unwrap());
}

async fn purge_keeps_only_anonymous_counts_of_posts_ended_before_the_cutoff(
    store: &dyn QueueStore,
) {
    // Guards retention: exactly the posts that ended before the cutoff (rejected,
    // withdrawn, expired) are replaced by anonymous rows, with their responses, reports,
    // waiting revision and resent link; recent ended posts, open posts and their responses
    // stay as they were; the figures count the same before and after; a repeat does nothing.
    let old = days_ago(40);
    let [rejected, withdrawn, expired, helped, open, recent_expiry] =
        [220, 221, 222, 223, 224, 225].map(|n| post_by(n, &format!("p{n}@example.org")));
    store.create(&rejected).await.unwrap();
    let rejection = Decision { at: old, ..decision(Status::Rejected) };
    store.decide(&rejected.id, &rejection).await.unwrap();
    online(store, &withdrawn).await;
    for n in [1, 2] {
        store.add_response(&reply(&withdrawn.id, n)).await.unwrap();
    }
    store.add_report(&report(&withdrawn.id, 1)).await.unwrap();
    store.propose_revision(&revision(&withdrawn.id, 1_750_000_500, "Nieuw")).await.unwrap();
    store.set_resent_token(&withdrawn.id, &"12".repeat(32), old).await.unwrap();
    store.close(&withdrawn.id, Ending::Withdrawn, "plaatser", old).await.unwrap();
    online(store, &expired).await;
    store.expire(&expired.id, old).await.unwrap();
    online(store, &helped).await;
    store.add_response(&reply(&helped.id, 3)).await.unwrap();
    store.close(&helped.id, Ending::Helped, "plaatser", days_ago(5)).await.unwrap();
    online(store, &open).await;
    store.add_response(&reply(&open.id, 4)).await.unwrap();
    online(store, &recent_expiry).await;
    store.expire(&recent_expiry.id, days_ago(2)).await.unwrap();
    let zone = chrono_tz::Europe::Amsterdam;
    let mut before = store.post_facts(zone).await.unwrap();
    let kept = [&helped, &open, &recent_expiry].map(|it| it.id.clone());
    let mut kept_items = Vec::new();
    for id in &kept {
        kept_items.push(store.get(id).await.unwrap());
    }

    let mut purged = store.purge_ended(days_ago(30)).await.unwrap();
    purged.sort();
    let mut expected = vec![rejected.id.clone(), withdrawn.id.clone(), expired.id.clone()];
    expected.sort();
    assert_eq!(purged, expected);
    for id in &expected {
        assert_eq!(store.get(id).await.unwrap(), None, "{id} is purged");
        assert!(store.responses(id).await.unwrap().is_empty());
        assert_eq!(store.revision(id).await.unwrap(), None);
        assert_eq!(store.resent_token(id).await.unwrap(), None);
    }
    assert!(store.open_reports(10).await.unwrap().is_empty(), "the report went with its post");
    for (id, item) in kept.iter().zip(&kept_items) {
        assert_eq!(&store.get(id).await.unwrap(), item, "{id} is untouched");
    }
    assert_eq!(store.responses(&helped.id).await.unwrap().len(), 1);
    assert_eq!(store.responses(&open.id).await.unwrap().len(), 1);
    for address in ["p220@example.org", "p221@example.org", "p222@example.org"] {
        assert_eq!(store.post_ids_by_address(address).await.unwrap(), Vec::<String>::new());
    }

    let mut after = store.post_facts(zone).await.unwrap();
    let key = |f: &PostFacts| (f.month.clone(), f.status.as_str(), f.responses, f.category.clone());
    before.sort_by_key(key);
    after.sort_by_key(key);
    assert_eq!(after, before, "the figures count the same after the purge");
    assert!(after.iter().any(|f| f.status == Status::Withdrawn && f.responses == 2));
    assert!(store.purge_ended(days_ago(30)).await.unwrap().is_empty());
}

/// Three posts and four responses across addresses a, b and c (see the tests below).
async fn store_address_fixture(store: &dyn QueueStore) -> [String; 3] {
    let (p1, p2, p3) = (
        post_by(230, "a@example.org"),
        post_by(231, " A@Example.org"),
        post_by(232, "b@example.org"),
    );
    store.create(&p1).await.unwrap();
    online(store, &p2).await;
    online(store, &p3).await;
    store.propose_revision(&revision(&p2.id, 1_750_000_600, "Bewerkt")).await.unwrap();
    store.add_response(&reply_by(&p2.id, 1, "b@example.org")).await.unwrap();
    store.add_response(&reply_by(&p3.id, 2, "a@example.org")).await.unwrap();
    store.add_response(&reply_by(&p3.id, 3, "c@example.org")).await.unwrap();
    store.add_response(&reply(&p3.id, 5)).await.unwrap();
    [p1.id, p2.id, p3.id]
}

async fn export_holds_everything_of_the_address_and_nothing_of_another(store: &dyn QueueStore) {
    // Guards the export: the address's posts in any status (matched trimmed and without
    // regard to case), with their waiting edit and the responses they received, and the
    // responses it wrote; no post or response of another address beyond that.
    let [p1, p2, p3] = store_address_fixture(store).await;
    let a = store.export_address("a@EXAMPLE.org ").await.unwrap();
    let ids: Vec<&str> = a.posts.iter().map(|p| p.item.id.as_str()).collect();
    assert_eq!(ids, [p1.as_str(), p2.as_str()]);
    assert_eq!(a.posts[0].item.status, Status::Pending);
    assert_eq!(a.posts[1].revision.as_ref().map(|r| r.submission.title.as_str()), Some("Bewerkt"));
    let received: Vec<_> = a.posts[1].received.iter().map(|r| r.email.as_deref()).collect();
    assert_eq!(received, [Some("b@example.org")]);
    let sent: Vec<_> = a.sent.iter().map(|r| (r.post_id.as_str(), r.email.as_deref())).collect();
    assert_eq!(sent, [(p3.as_str(), Some("a@example.org"))]);

    let b = store.export_address("b@example.org").await.unwrap();
    assert_eq!(b.posts.iter().map(|p| p.item.id.as_str()).collect::<Vec<_>>(), [p3.as_str()]);
    assert_eq!(b.posts[0].received.len(), 3, "every response to b's post");
    assert_eq!(b.sent.iter().map(|r| r.post_id.as_str()).collect::<Vec<_>>(), [p2.as_str()]);
    let nobody = store.export_address("nobody@example.org").await.unwrap();
    assert!(nobody.posts.is_empty() && nobody.sent.is_empty());
}

async fn erase_anonymises_the_address_posts_and_leaves_other_addresses_untouched(
    store: &dyn QueueStore,
) {
    // Guards erasure: the address's posts become anonymous rows (an open one counted as
    // withdrawn), with the responses they received, and the responses it wrote are deleted;
    // the other address's post and the responses others wrote to it stay.
    let [p1, p2, p3] = store_address_fixture(store).await;
    let untouched = store.get(&p3).await.unwrap();
    let erased = store.erase_address("A@example.org").await.unwrap();
    assert_eq!(erased.posts, [p1.clone(), p2.clone()]);
    assert_eq!(erased.responses, 1);
    for id in [&p1, &p2] {
        assert_eq!(store.get(id).await.unwrap(), None);
        assert!(store.responses(id).await.unwrap().is_empty());
    }
    assert_eq!(store.revision(&p2).await.unwrap(), None);
    assert_eq!(store.get(&p3).await.unwrap(), untouched);
    let left: Vec<_> = store.responses(&p3).await.unwrap().into_iter().map(|r| r.email).collect();
    assert_eq!(left, [Some("c@example.org".to_owned()), None]);
    let a = store.export_address("a@example.org").await.unwrap();
    assert!(a.posts.is_empty() && a.sent.is_empty(), "{a:?}");

    let facts = store.post_facts(chrono_tz::Europe::Amsterdam).await.unwrap();
    let mut statuses: Vec<_> = facts.iter().map(|f| (f.status, f.responses)).collect();
    statuses.sort_by_key(|(s, r)| (s.as_str(), *r));
    assert_eq!(
        statuses,
        [(Status::Approved, 3), (Status::Withdrawn, 0), (Status::Withdrawn, 1)],
        "anonymous rows keep the counts"
    );
    assert_eq!(store.erase_address("a@example.org").await.unwrap(), Erased::default());
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
    responses_are_stored_once_and_listed_per_post_oldest_first,
    reports_stay_open_until_their_post_is_handled,
    only_an_approved_item_is_removed_and_keeps_its_reason,
    a_revision_waits_for_an_approved_post_and_the_newest_replaces_the_older,
    applying_a_revision_replaces_the_text_once_and_keeps_the_first_slug,
    a_revision_is_not_applied_to_an_ended_post_and_is_discarded_once,
    open_posts_are_found_by_address_and_get_one_resent_link,
    post_facts_hold_only_the_counted_fields_and_months_follow_the_site_zone,
    responses_stay_counted_after_they_are_purged,
    an_approved_item_expires_once_and_an_extension_brings_it_back_approved,
    a_reminder_is_claimed_once_per_expiry_date,
    purge_keeps_only_anonymous_counts_of_posts_ended_before_the_cutoff,
    export_holds_everything_of_the_address_and_nothing_of_another,
    erase_anonymises_the_address_posts_and_leaves_other_addresses_untouched,
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
            .replace(", 'withdrawn', 'helped', 'removed'", "")
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

// A queue file written before responses, reports and `removed` existed: opening it adds
// the two tables and widens the status constraint, and every old row stays.
#[tokio::test]
async fn sqlite_file_from_before_responses_and_reports_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite3");
    let old = item(91);
    {
        let store = SqliteQueue::open(&path).unwrap();
        store.create(&old).await.unwrap();
        store.decide(&old.id, &decision(Status::Approved)).await.unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_master WHERE name = 'submissions'", [], |r| r.get(0))
            .unwrap();
        let legacy = sql
            .replace(", 'removed'", "")
            .replace("CREATE TABLE submissions (", "CREATE TABLE legacy (");
        assert!(!legacy.contains("'removed'"), "{legacy}");
        conn.execute_batch(&format!(
            "{legacy}; INSERT INTO legacy SELECT * FROM submissions; DROP TABLE submissions; \
             ALTER TABLE legacy RENAME TO submissions; DROP TABLE responses; DROP TABLE reports;"
        ))
        .unwrap();
    }
    let store = SqliteQueue::open(&path).unwrap();
    assert_eq!(store.get(&old.id).await.unwrap().unwrap().status, Status::Approved);
    assert!(store.add_response(&reply(&old.id, 1)).await.unwrap());
    assert!(store.add_report(&report(&old.id, 1)).await.unwrap());
    let removal = Decision { status: Status::Removed, ..decision(Status::Removed) };
    assert_eq!(store.remove(&old.id, &removal).await.unwrap(), Transition::Done);
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

// A queue file cut to zero bytes (a failed copy, a full disk) must not be taken for a new,
// empty queue: that would silently drop every post, response and moderator account. A
// missing file is a new queue; an empty one is refused with its path.
#[tokio::test]
async fn sqlite_file_of_zero_bytes_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite3");
    std::fs::write(&path, b"").unwrap();

    let error = SqliteQueue::open(&path).err().expect("an empty file is refused").to_string();

    assert!(error.contains(&path.display().to_string()) && error.contains("0 bytes"), "{error}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "the file is left as it was");
    std::fs::remove_file(&path).unwrap();
    assert!(SqliteQueue::open(&path).is_ok(), "a missing file starts a new queue");
}
