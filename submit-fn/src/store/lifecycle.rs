//! The end of a post's life and what stays of it: the expiry the daily run writes, the one
//! reminder before it, the purge of personal data once the retention period is over, and a
//! resident's requests to see (export) or erase everything on file for their address.
//! `LifecycleStore` is implemented here for the SQLite file and in
//! [`super::lifecycle_dynamo`] for the DynamoDB table.
//!
//! Invariants both stores keep: expiry and its undoing are conditional writes, so an
//! approved post expires once and only an expired post comes back; a reminder is claimed
//! once per expiry date, so a second daily run on the same day mails nobody, while a post
//! extended to a later date gets a reminder again; anonymising a post replaces it by one
//! anonymous row (kind, category, municipality, the hour it was received, final status,
//! number of responses: what the figures in [`super::stats`] count) and removes everything
//! else of it (its private fields, IP hash, token hashes, responses, reports, waiting
//! revision), so no personal data of it stays while the counts do.

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{QueueItem, QueueStore, Reply, Revision, SqliteQueue, Status, StoreError, Transition};
use super::{format_time, parse_time};

/// The statuses in which a post has ended; its personal data is purged after
/// `retention_days` in one of them.
pub const ENDED: [Status; 5] =
    [Status::Rejected, Status::Withdrawn, Status::Helped, Status::Removed, Status::Expired];

/// The lifecycle tables in the queue's SQLite file; `SqliteQueue::open` runs it, which adds
/// them to a file from before them. `post_lifecycle` holds, per post, the expiry date its
/// reminder was sent for and when it expired; `anonymous_posts` what stays of a purged post.
pub(crate) const LIFECYCLE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS post_lifecycle (
    post_id      TEXT PRIMARY KEY NOT NULL CHECK (length(trim(post_id)) > 0),
    reminded_for TEXT CHECK (reminded_for IS NULL OR length(trim(reminded_for)) > 0),
    expired_at   TEXT CHECK (expired_at IS NULL OR length(trim(expired_at)) > 0)
);
CREATE TABLE IF NOT EXISTS anonymous_posts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    received     TEXT NOT NULL CHECK (length(trim(received)) > 0),
    kind         TEXT NOT NULL CHECK (kind IN ('request', 'offer')),
    category     TEXT NOT NULL CHECK (length(trim(category)) > 0),
    municipality TEXT NOT NULL CHECK (length(trim(municipality)) > 0),
    status       TEXT NOT NULL CHECK (length(trim(status)) > 0),
    responses    INTEGER NOT NULL CHECK (responses >= 0)
);
";

/// Everything on file for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRecord {
    /// The posts placed with the address, in any status, oldest first.
    pub posts: Vec<PostRecord>,
    /// The responses written with the address to other posts, oldest first.
    pub sent: Vec<Reply>,
}

/// One post of an address, with what belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRecord {
    pub item: QueueItem,
    /// The poster's edit waiting for a moderator, if any.
    pub revision: Option<Revision>,
    /// The responses readers sent to the post, oldest first.
    pub received: Vec<Reply>,
}

/// What an erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// The posts replaced by anonymous rows.
    pub posts: Vec<String>,
    /// How many responses written with the address were deleted.
    pub responses: usize,
}

/// The end of posts' lives. Each method is one conditional write or one atomic step
/// (DynamoDB: a resumable sequence that ends in one transaction, see `anonymise`).
#[async_trait]
pub trait LifecycleStore: Send + Sync {
    /// Moves an approved item to `Expired`, noting `at` as when it expired; its approval
    /// stays its decision. Any other state is left alone.
    async fn expire(&self, id: &str, at: DateTime<Utc>) -> Result<Transition, StoreError>;

    /// Moves an expired item back to `Approved` with `expires` as its new date (the
    /// poster extended it); any other state is left alone.
    async fn revive(&self, id: &str, expires: NaiveDate) -> Result<Transition, StoreError>;

    /// Notes that the reminder for post `id` expiring on `expires` is sent. True if and only
    /// if it was not noted before for that date (and the post exists): only then mail it.
    async fn claim_reminder(&self, id: &str, expires: NaiveDate) -> Result<bool, StoreError>;

    /// Undoes `claim_reminder` after the mail failed, so the next run tries again.
    async fn release_reminder(&self, id: &str, expires: NaiveDate) -> Result<(), StoreError>;

    /// The posts that ended (see [`ENDED`]) before `before`, with their status: for an
    /// expired post when it expired, for the others their last decision.
    async fn ended_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, Status)>, StoreError>;

    /// Replaces post `id` by its anonymous row and deletes the rest of it (see the module
    /// header). With `expected`, only while the post still has that status. An open post
    /// (erased on request) is counted as withdrawn. True if and only if it was anonymised.
    async fn anonymise(&self, id: &str, expected: Option<Status>) -> Result<bool, StoreError>;

    /// The ids of the posts, in any status, whose poster gave `email` (compared trimmed and
    /// without regard to case), oldest first.
    async fn post_ids_by_address(&self, email: &str) -> Result<Vec<String>, StoreError>;

    /// The responses written with `email` as the responder's address, oldest first.
    async fn responses_by_address(&self, email: &str) -> Result<Vec<Reply>, StoreError>;

    /// Deletes response `id`. True if and only if it was there.
    async fn delete_response(&self, id: &str) -> Result<bool, StoreError>;

    /// The retention run: anonymises every post that ended before `before`; returns their
    /// ids. A post that changed meanwhile (an expired one extended) is left alone.
    async fn purge_ended(&self, before: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let mut purged = Vec::new();
        for (id, status) in self.ended_before(before).await? {
            if self.anonymise(&id, Some(status)).await? {
                purged.push(id);
            }
        }
        Ok(purged)
    }
}

/// A resident's requests about their address, for any queue store.
#[async_trait]
pub trait AddressRecords {
    /// Everything on file for `email`, and nothing of another address except what others
    /// sent to this one (the responses to its posts).
    async fn export_address(&self, email: &str) -> Result<AddressRecord, StoreError>;

    /// Anonymises every post placed with `email` and deletes the responses written with it.
    /// The caller takes published posts offline first.
    async fn erase_address(&self, email: &str) -> Result<Erased, StoreError>;
}

#[async_trait]
impl<T: QueueStore + ?Sized> AddressRecords for T {
    async fn export_address(&self, email: &str) -> Result<AddressRecord, StoreError> {
        let mut posts = Vec::new();
        for id in self.post_ids_by_address(email).await? {
            // A post purged between the two reads is simply no longer on file.
            let Some(item) = self.get(&id).await? else { continue };
            let revision = self.revision(&id).await?;
            let received = self.responses(&id).await?;
            posts.push(PostRecord { item, revision, received });
        }
        Ok(AddressRecord { posts, sent: self.responses_by_address(email).await? })
    }

    async fn erase_address(&self, email: &str) -> Result<Erased, StoreError> {
        let mut erased = Erased::default();
        for id in self.post_ids_by_address(email).await? {
            if self.anonymise(&id, None).await? {
                erased.posts.push(id);
            }
        }
        for reply in self.responses_by_address(email).await? {
            erased.responses += usize::from(self.delete_response(&reply.id).await?);
        }
        Ok(erased)
    }
}

/// The form addresses are compared in: trimmed, lower case (as [`super::links`] does).
pub(super) fn address_key(email: &str) -> String {
    crate::submission::trim(email).to_lowercase()
}

/// The status an anonymous row keeps: an open post erased on request was taken away.
pub(super) fn final_status(status: Status) -> Status {
    if status.is_open() { Status::Withdrawn } else { status }
}

/// The received time an anonymous row keeps: the hour, which places the post in a month in
/// any zone with whole-hour offsets and tells less about the poster than the second did.
pub(super) fn received_hour(id: &str, received_at: &str) -> Result<String, StoreError> {
    let at = parse_time(id, received_at)?;
    let hour = at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at);
    Ok(format_time(hour))
}

/// Why a conditional write on `id` changed nothing.
pub(super) async fn transition_of(
    store: &(impl QueueStore + ?Sized),
    id: &str,
) -> Result<Transition, StoreError> {
    Ok(match store.get(id).await? {
        Some(item) => Transition::NotPending(item.status),
        None => Transition::NotFound,
    })
}

/// The tables whose rows belong to one post and go with it, each keyed by `post_id`.
const POST_TABLES: [&str; 7] = [
    "responses",
    "response_counts",
    "reports",
    "revisions",
    "revised",
    "resent_links",
    "post_lifecycle",
];

#[async_trait]
impl LifecycleStore for SqliteQueue {
    async fn expire(&self, id: &str, at: DateTime<Utc>) -> Result<Transition, StoreError> {
        let owned = id.to_owned();
        let changed = self
            .with_conn(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let changed = tx.execute(
                    "UPDATE submissions SET status = 'expired' WHERE id = ?1 AND status = 'approved'",
                    params![owned],
                )?;
                if changed == 1 {
                    tx.execute(
                        "INSERT INTO post_lifecycle (post_id, expired_at) VALUES (?1, ?2) \
                         ON CONFLICT (post_id) DO UPDATE SET expired_at = excluded.expired_at",
                        params![owned, format_time(at)],
                    )?;
                }
                tx.commit()?;
                Ok(changed == 1)
            })
            .await?;
        if changed { Ok(Transition::Done) } else { transition_of(self, id).await }
    }

    async fn revive(&self, id: &str, expires: NaiveDate) -> Result<Transition, StoreError> {
        let owned = id.to_owned();
        let changed = self
            .with_conn(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let changed = tx.execute(
                    "UPDATE submissions SET status = 'approved', expires = ?2 \
                     WHERE id = ?1 AND status = 'expired'",
                    params![owned, expires.format("%Y-%m-%d").to_string()],
                )?;
                if changed == 1 {
                    tx.execute(
                        "UPDATE post_lifecycle SET expired_at = NULL WHERE post_id = ?1",
                        params![owned],
                    )?;
                }
                tx.commit()?;
                Ok(changed == 1)
            })
            .await?;
        if changed { Ok(Transition::Done) } else { transition_of(self, id).await }
    }

    async fn claim_reminder(&self, id: &str, expires: NaiveDate) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            let changed = conn.execute(
                "INSERT INTO post_lifecycle (post_id, reminded_for) \
                 SELECT id, ?2 FROM submissions WHERE id = ?1 \
                 ON CONFLICT (post_id) DO UPDATE SET reminded_for = excluded.reminded_for \
                 WHERE reminded_for IS NULL OR reminded_for <> excluded.reminded_for",
                params![id, expires.format("%Y-%m-%d").to_string()],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn release_reminder(&self, id: &str, expires: NaiveDate) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            conn.execute(
                "UPDATE post_lifecycle SET reminded_for = NULL \
                 WHERE post_id = ?1 AND reminded_for = ?2",
                params![id, expires.format("%Y-%m-%d").to_string()],
            )?;
            Ok(())
        })
        .await
    }

    async fn ended_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, Status)>, StoreError> {
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT s.id, s.status FROM submissions s \
                 LEFT JOIN post_lifecycle l ON l.post_id = s.id \
                 WHERE (s.status IN ('rejected', 'withdrawn', 'helped', 'removed') \
                        AND s.decided_at < ?1) \
                    OR (s.status = 'expired' AND COALESCE(l.expired_at, s.decided_at) < ?1) \
                 ORDER BY s.received_at, s.id",
            )?;
            let rows = stmt.query_map(params![format_time(before)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut ended = Vec::new();
            for row in rows {
                let (id, status) = row?;
                let parsed = Status::parse(&status).ok_or_else(|| StoreError::Malformed {
                    id: id.clone(),
                    reason: format!("status {status:?}"),
                })?;
                ended.push((id, parsed));
            }
            Ok(ended)
        })
        .await
    }

    async fn anonymise(&self, id: &str, expected: Option<Status>) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            // Immediate, so no response or status change slips in between count and delete.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = tx
                .query_row(
                    "SELECT received_at, kind, category, municipality, status, \
                     max((SELECT COUNT(*) FROM responses WHERE post_id = ?1), \
                         coalesce((SELECT count FROM response_counts WHERE post_id = ?1), 0)) \
                     FROM submissions WHERE id = ?1",
                    params![id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, i64>(5)?,
                        ))
                    },
                )
                .optional()?;
            let Some((received_at, kind, category, municipality, status, responses)) = row else {
                return Ok(false);
            };
            let status = Status::parse(&status).ok_or_else(|| StoreError::Malformed {
                id: id.clone(),
                reason: format!("status {status:?}"),
            })?;
            if expected.is_some_and(|wanted| wanted != status) {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO anonymous_posts (received, kind, category, municipality, status, \
                 responses) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    received_hour(&id, &received_at)?,
                    kind,
                    category,
                    municipality,
                    final_status(status).as_str(),
                    responses
                ],
            )?;
            for table in POST_TABLES {
                tx.execute(&format!("DELETE FROM {table} WHERE post_id = ?1"), params![id])?;
            }
            tx.execute("DELETE FROM submissions WHERE id = ?1", params![id])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn post_ids_by_address(&self, email: &str) -> Result<Vec<String>, StoreError> {
        let wanted = address_key(email);
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, email FROM submissions WHERE email IS NOT NULL \
                 ORDER BY received_at, id",
            )?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut ids = Vec::new();
            for row in rows {
                let (id, email) = row?;
                if address_key(&email) == wanted {
                    ids.push(id);
                }
            }
            Ok(ids)
        })
        .await
    }

    async fn responses_by_address(&self, email: &str) -> Result<Vec<Reply>, StoreError> {
        let wanted = address_key(email);
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, post_id, at, name, email, phone, message, ip_hash FROM responses \
                 WHERE email IS NOT NULL ORDER BY at, id",
            )?;
            let rows = stmt.query_map([], super::responses::read_reply)?;
            let mut replies = Vec::new();
            for row in rows {
                let reply = row??;
                if reply.email.as_deref().map(address_key).as_deref() == Some(wanted.as_str()) {
                    replies.push(reply);
                }
            }
            Ok(replies)
        })
        .await
    }

    async fn delete_response(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            Ok(conn.execute("DELETE FROM responses WHERE id = ?1", params![id])? == 1)
        })
        .await
    }
}
