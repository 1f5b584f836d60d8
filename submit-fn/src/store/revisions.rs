//! Revisions: a poster's edit of a post that is already on the site. The edit waits here
//! until a moderator approves it; until then the published text stays live and unchanged.
//! `RevisionStore` is implemented for the SQLite file and the DynamoDB table that hold the
//! queue.
//!
//! Invariants both stores keep: a post has at most one waiting revision (a later edit by
//! the poster replaces it, so the moderator always sees the newest); a revision is only
//! stored for an approved post; approving one replaces the post's text, records when, and
//! removes the revision in one atomic write, on condition that the post is still approved
//! and the revision is still the one the moderator saw, so a newer edit is never approved
//! unseen. A revision holds the poster's contact fields, so it is personal data: it goes
//! when it is decided or when its post is purged.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, Select, TransactWriteItem, Update,
};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::dynamo::{STATUS_INDEX, dynamo_error, s, submission_attributes};
use super::{DynamoQueue, SqliteQueue, Status, StoreError, Transition, format_time, parse_time};
use crate::submission::{Kind, Submission};

/// The revision tables in the queue's SQLite file; `SqliteQueue::open` runs it, which adds
/// them to a file from before revisions existed. `revised` keeps when a post's text last
/// changed, for the `updated` date of its page, and the slug it was first published
/// with, which a changed title must not change.
pub(crate) const REVISIONS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS revisions (
    post_id       TEXT PRIMARY KEY NOT NULL CHECK (length(trim(post_id)) > 0),
    received_at   TEXT NOT NULL CHECK (length(trim(received_at)) > 0),
    kind          TEXT NOT NULL CHECK (kind IN ('request', 'offer')),
    title         TEXT NOT NULL CHECK (length(trim(title)) > 0),
    body          TEXT NOT NULL CHECK (length(trim(body)) > 0),
    category      TEXT NOT NULL CHECK (length(trim(category)) > 0),
    municipality  TEXT NOT NULL CHECK (length(trim(municipality)) > 0),
    neighbourhood TEXT CHECK (neighbourhood IS NULL OR length(trim(neighbourhood)) > 0),
    recurring     INTEGER NOT NULL CHECK (recurring IN (0, 1)),
    expires       TEXT CHECK (expires IS NULL OR length(trim(expires)) > 0),
    display_name  TEXT NOT NULL CHECK (length(trim(display_name)) > 0),
    organisation  TEXT CHECK (organisation IS NULL OR length(trim(organisation)) > 0),
    email         TEXT CHECK (email IS NULL OR length(trim(email)) > 0),
    phone         TEXT CHECK (phone IS NULL OR length(trim(phone)) > 0)
);
CREATE INDEX IF NOT EXISTS revisions_by_date ON revisions (received_at, post_id);
CREATE TABLE IF NOT EXISTS revised (
    post_id TEXT PRIMARY KEY NOT NULL CHECK (length(trim(post_id)) > 0),
    at      TEXT NOT NULL CHECK (length(trim(at)) > 0),
    slug    TEXT NOT NULL CHECK (length(trim(slug)) > 0)
);
";

const COLUMNS: &str = "post_id, received_at, kind, title, body, category, municipality, \
    neighbourhood, recurring, expires, display_name, organisation, email, phone";

/// The `status` value that puts a waiting revision on the DynamoDB status index.
const REVISION_STATUS: &str = "revision";
/// The attribute of a DynamoDB post item that holds when its text last changed.
const UPDATED: &str = "updated";
/// The attribute of a DynamoDB post item that holds its slug once a revision was applied.
const SLUG: &str = "slug";

/// A poster's edit of a published post, waiting for a moderator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub post_id: String,
    /// When the poster sent it; with the post id it names this version of the edit.
    pub received_at: DateTime<Utc>,
    /// The whole post as it would be after approval, validated like a submission.
    pub submission: Submission,
}

/// What an applied revision left on its post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revised {
    /// When the text last changed: the `updated` date of the post's page.
    pub at: DateTime<Utc>,
    /// The slug the post was published with before its first revision, kept for good so
    /// its address never changes.
    pub slug: String,
}

/// The waiting revisions of posts.
#[async_trait]
pub trait RevisionStore: Send + Sync {
    /// Stores `revision` as the waiting revision of its post, replacing one that waits.
    /// `Done` if and only if the post is approved; otherwise nothing is stored and the
    /// post's status (`NotPending`) or `NotFound` says why.
    async fn propose_revision(&self, revision: &Revision) -> Result<Transition, StoreError>;

    /// The revision waiting for post `post_id`.
    async fn revision(&self, post_id: &str) -> Result<Option<Revision>, StoreError>;

    /// The waiting revisions, oldest first, at most `limit`.
    async fn revisions(&self, limit: usize) -> Result<Vec<Revision>, StoreError>;

    /// How many revisions wait.
    async fn count_revisions(&self) -> Result<usize, StoreError>;

    /// Makes the waiting revision of `post_id` received at `received_at` the post's text,
    /// with `at` as its update time, and removes the revision. `slug` is the post's slug
    /// as published now; it is kept from the first applied revision on. `NotPending` when the post
    /// is no longer approved; `NotFound` when that revision no longer waits (decided by
    /// someone else, or replaced by a newer edit). Nothing changes unless `Done`.
    async fn apply_revision(
        &self,
        post_id: &str,
        received_at: DateTime<Utc>,
        at: DateTime<Utc>,
        slug: &str,
    ) -> Result<Transition, StoreError>;

    /// Removes the waiting revision of `post_id` received at `received_at`; the post is
    /// left as it is. True if and only if it was there.
    async fn discard_revision(
        &self,
        post_id: &str,
        received_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// When the text of post `post_id` last changed by an approved revision, and its
    /// kept slug; `None` for a post no revision changed.
    async fn revised(&self, post_id: &str) -> Result<Option<Revised>, StoreError>;
}

#[async_trait]
impl RevisionStore for SqliteQueue {
    async fn propose_revision(&self, revision: &Revision) -> Result<Transition, StoreError> {
        let r = revision.clone();
        self.with_conn(move |conn| {
            // Immediate, so the post cannot end between the check and the write.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            match post_status(&tx, &r.post_id)? {
                None => return Ok(Transition::NotFound),
                Some(Status::Approved) => {}
                Some(status) => return Ok(Transition::NotPending(status)),
            }
            let s = &r.submission;
            tx.execute(
                &format!(
                    "INSERT OR REPLACE INTO revisions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, \
                     ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    r.post_id,
                    format_time(r.received_at),
                    s.kind.as_str(),
                    s.title,
                    s.body,
                    s.category,
                    s.municipality,
                    s.neighbourhood,
                    s.recurring,
                    s.expires.map(|d| d.to_string()),
                    s.display_name,
                    s.organisation,
                    s.email,
                    s.phone,
                ],
            )?;
            tx.commit()?;
            Ok(Transition::Done)
        })
        .await
    }

    async fn revision(&self, post_id: &str) -> Result<Option<Revision>, StoreError> {
        let post_id = post_id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM revisions WHERE post_id = ?1"),
                params![post_id],
                read_revision,
            )
            .optional()?
            .transpose()
        })
        .await
    }

    async fn revisions(&self, limit: usize) -> Result<Vec<Revision>, StoreError> {
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM revisions ORDER BY received_at, post_id LIMIT ?1"
            ))?;
            let rows = stmt.query_map(params![limit as i64], read_revision)?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn count_revisions(&self) -> Result<usize, StoreError> {
        self.with_conn(|conn| {
            let count: i64 = conn.query_row("SELECT COUNT(*) FROM revisions", [], |r| r.get(0))?;
            Ok(usize::try_from(count).unwrap_or(0))
        })
        .await
    }

    async fn apply_revision(
        &self,
        post_id: &str,
        received_at: DateTime<Utc>,
        at: DateTime<Utc>,
        slug: &str,
    ) -> Result<Transition, StoreError> {
        let (post_id, slug) = (post_id.to_owned(), slug.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            match post_status(&tx, &post_id)? {
                None => return Ok(Transition::NotFound),
                Some(Status::Approved) => {}
                Some(status) => return Ok(Transition::NotPending(status)),
            }
            let waiting = tx
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM revisions WHERE post_id = ?1 AND received_at = ?2"
                    ),
                    params![post_id, format_time(received_at)],
                    read_revision,
                )
                .optional()?
                .transpose()?;
            let Some(revision) = waiting else { return Ok(Transition::NotFound) };
            let s = &revision.submission;
            tx.execute(
                "UPDATE submissions SET kind = ?2, title = ?3, body = ?4, category = ?5, \
                 municipality = ?6, neighbourhood = ?7, recurring = ?8, expires = ?9, \
                 display_name = ?10, organisation = ?11, email = ?12, phone = ?13 \
                 WHERE id = ?1 AND status = 'approved'",
                params![
                    post_id,
                    s.kind.as_str(),
                    s.title,
                    s.body,
                    s.category,
                    s.municipality,
                    s.neighbourhood,
                    s.recurring,
                    s.expires.map(|d| d.to_string()),
                    s.display_name,
                    s.organisation,
                    s.email,
                    s.phone,
                ],
            )?;
            tx.execute("DELETE FROM revisions WHERE post_id = ?1", params![post_id])?;
            tx.execute(
                "INSERT INTO revised (post_id, at, slug) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (post_id) DO UPDATE SET at = excluded.at",
                params![post_id, format_time(at), slug],
            )?;
            tx.commit()?;
            Ok(Transition::Done)
        })
        .await
    }

    async fn discard_revision(
        &self,
        post_id: &str,
        received_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let post_id = post_id.to_owned();
        self.with_conn(move |conn| {
            let deleted = conn.execute(
                "DELETE FROM revisions WHERE post_id = ?1 AND received_at = ?2",
                params![post_id, format_time(received_at)],
            )?;
            Ok(deleted == 1)
        })
        .await
    }

    async fn revised(&self, post_id: &str) -> Result<Option<Revised>, StoreError> {
        let post_id = post_id.to_owned();
        self.with_conn(move |conn| {
            let row: Option<(String, String)> = conn
                .query_row(
                    "SELECT at, slug FROM revised WHERE post_id = ?1",
                    params![post_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(at, slug)| Ok(Revised { at: parse_time(&post_id, &at)?, slug })).transpose()
        })
        .await
    }
}

fn post_status(conn: &rusqlite::Connection, id: &str) -> Result<Option<Status>, StoreError> {
    let status: Option<String> = conn
        .query_row("SELECT status FROM submissions WHERE id = ?1", params![id], |r| r.get(0))
        .optional()?;
    match status {
        None => Ok(None),
        Some(text) => Status::parse(&text).map(Some).ok_or_else(|| StoreError::Malformed {
            id: id.to_owned(),
            reason: format!("status {text:?}"),
        }),
    }
}

fn read_revision(row: &Row<'_>) -> rusqlite::Result<Result<Revision, StoreError>> {
    let post_id: String = row.get("post_id")?;
    let text = |name: &str| row.get::<_, String>(name);
    let optional = |name: &str| row.get::<_, Option<String>>(name);
    let malformed = |reason: String| StoreError::Malformed { id: post_id.clone(), reason };
    let kind = text("kind")?;
    let Some(kind) = Kind::parse(&kind) else {
        return Ok(Err(malformed(format!("revision kind {kind:?}"))));
    };
    let expires =
        match optional("expires")?.map(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d")).transpose() {
            Ok(date) => date,
            Err(e) => return Ok(Err(malformed(format!("revision expires: {e}")))),
        };
    let submission = Submission {
        kind,
        title: text("title")?,
        body: text("body")?,
        category: text("category")?,
        municipality: text("municipality")?,
        neighbourhood: optional("neighbourhood")?,
        recurring: row.get("recurring")?,
        expires,
        display_name: text("display_name")?,
        organisation: optional("organisation")?,
        email: optional("email")?,
        phone: optional("phone")?,
    };
    let received_at = match parse_time(&post_id, &text("received_at")?) {
        Ok(at) => at,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Revision { post_id, received_at, submission }))
}

/// The DynamoDB layout: `pk` = `revision#<post id>`; `status` = `revision` and `date` (the
/// time it was sent) list the waiting revisions oldest first on the status index; the
/// submission's fields under the names the post item uses. The update time is the
/// attribute `updated` of the post item itself.
#[async_trait]
impl RevisionStore for DynamoQueue {
    async fn propose_revision(&self, revision: &Revision) -> Result<Transition, StoreError> {
        let post_is_approved = ConditionCheck::builder()
            .table_name(self.table())
            .key("pk", s(format!("post#{}", revision.post_id)))
            .condition_expression("attribute_exists(#pk) AND #status = :approved")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":approved", s(Status::Approved.as_str()))
            .build()
            .map_err(|e| build_error("ConditionCheck", e))?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(revision_attributes(revision)))
            .build()
            .map_err(|e| build_error("Put", e))?;
        let items = [
            TransactWriteItem::builder().condition_check(post_is_approved).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        if self.transact(items).await? {
            return Ok(Transition::Done);
        }
        self.post_transition(&revision.post_id).await
    }

    async fn revision(&self, post_id: &str) -> Result<Option<Revision>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(revision_key(post_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", e))?;
        output.item.as_ref().map(revision_from_attributes).transpose()
    }

    async fn revisions(&self, limit: usize) -> Result<Vec<Revision>, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(STATUS_INDEX)
            .key_condition_expression("#status = :revision")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":revision", s(REVISION_STATUS))
            .scan_index_forward(true)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| dynamo_error("Query", e))?;
        output.items().iter().map(revision_from_attributes).collect()
    }

    async fn count_revisions(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        let mut start = None;
        loop {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(STATUS_INDEX)
                .key_condition_expression("#status = :revision")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":revision", s(REVISION_STATUS))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| dynamo_error("Query", e))?;
            total += usize::try_from(output.count).unwrap_or(0);
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(total);
            }
        }
    }

    async fn apply_revision(
        &self,
        post_id: &str,
        received_at: DateTime<Utc>,
        at: DateTime<Utc>,
        slug: &str,
    ) -> Result<Transition, StoreError> {
        let Some(revision) = self.revision(post_id).await? else {
            return Ok(self.post_transition(post_id).await?.or_revision_gone());
        };
        if revision.received_at != received_at {
            return Ok(Transition::NotFound);
        }
        let mut update = Update::builder()
            .table_name(self.table())
            .key("pk", s(format!("post#{post_id}")))
            .condition_expression("attribute_exists(#pk) AND #status = :approved")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names(format!("#{UPDATED}"), UPDATED)
            .expression_attribute_names(format!("#{SLUG}"), SLUG)
            .expression_attribute_values(":approved", s(Status::Approved.as_str()))
            .expression_attribute_values(format!(":{UPDATED}"), s(format_time(at)))
            .expression_attribute_values(format!(":{SLUG}"), s(slug));
        let mut sets = vec![
            format!("#{UPDATED} = :{UPDATED}"),
            format!("#{SLUG} = if_not_exists(#{SLUG}, :{SLUG})"),
        ];
        let mut removes = Vec::new();
        for (name, value) in submission_attributes(&revision.submission) {
            update = update.expression_attribute_names(format!("#{name}"), name);
            match value {
                Some(value) => {
                    sets.push(format!("#{name} = :{name}"));
                    update = update.expression_attribute_values(format!(":{name}"), value);
                }
                None => removes.push(format!("#{name}")),
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let update =
            update.update_expression(expression).build().map_err(|e| build_error("Update", e))?;
        let delete = self.revision_delete(post_id, received_at)?;
        let items = [
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().delete(delete).build(),
        ];
        if self.transact(items).await? {
            return Ok(Transition::Done);
        }
        match self.post_transition(post_id).await? {
            Transition::NotPending(Status::Approved) => Ok(Transition::NotFound),
            other => Ok(other),
        }
    }

    async fn discard_revision(
        &self,
        post_id: &str,
        received_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let delete = self.revision_delete(post_id, received_at)?;
        let items = [TransactWriteItem::builder().delete(delete).build()];
        self.transact(items).await
    }

    async fn revised(&self, post_id: &str) -> Result<Option<Revised>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{post_id}")))
            .projection_expression(format!("#{UPDATED}, #{SLUG}"))
            .expression_attribute_names(format!("#{UPDATED}"), UPDATED)
            .expression_attribute_names(format!("#{SLUG}"), SLUG)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", e))?;
        let Some(item) = output.item else { return Ok(None) };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        match (text(UPDATED), text(SLUG)) {
            (Some(at), Some(slug)) => Ok(Some(Revised { at: parse_time(post_id, &at)?, slug })),
            _ => Ok(None),
        }
    }
}

impl DynamoQueue {
    /// A delete of the revision of `post_id` on condition that it is the one sent at
    /// `received_at`.
    fn revision_delete(
        &self,
        post_id: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Delete, StoreError> {
        Delete::builder()
            .table_name(self.table())
            .key("pk", s(revision_key(post_id)))
            .condition_expression("#date = :received")
            .expression_attribute_names("#date", "date")
            .expression_attribute_values(":received", s(format_time(received_at)))
            .build()
            .map_err(|e| build_error("Delete", e))
    }

    /// Runs the writes as one transaction. False when a condition failed, which changed
    /// nothing.
    async fn transact(
        &self,
        items: impl IntoIterator<Item = TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items.into_iter().collect()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_transaction_canceled_exception() => {
                Ok(false)
            }
            Err(e) => Err(dynamo_error("TransactWriteItems", e)),
        }
    }

    /// The post's status as a transition: `NotPending(status)`, or `NotFound`.
    async fn post_transition(&self, post_id: &str) -> Result<Transition, StoreError> {
        use super::QueueStore;
        Ok(match self.get(post_id).await? {
            Some(item) => Transition::NotPending(item.status),
            None => Transition::NotFound,
        })
    }
}

impl Transition {
    /// After a revision was not found: the post's own state, unless it is simply online,
    /// in which case it is the revision that is gone.
    fn or_revision_gone(self) -> Transition {
        match self {
            Transition::NotPending(Status::Approved) => Transition::NotFound,
            other => other,
        }
    }
}

fn revision_key(post_id: &str) -> String {
    format!("revision#{post_id}")
}

fn revision_attributes(revision: &Revision) -> HashMap<String, AttributeValue> {
    let mut attrs = HashMap::from([
        ("pk".to_owned(), s(revision_key(&revision.post_id))),
        ("status".to_owned(), s(REVISION_STATUS)),
        ("date".to_owned(), s(format_time(revision.received_at))),
        ("post_id".to_owned(), s(&revision.post_id)),
    ]);
    for (name, value) in submission_attributes(&revision.submission) {
        if let Some(value) = value {
            attrs.insert(name.to_owned(), value);
        }
    }
    attrs
}

fn revision_from_attributes(
    attrs: &HashMap<String, AttributeValue>,
) -> Result<Revision, StoreError> {
    let optional = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
    let post_id = optional("post_id").unwrap_or_default();
    let malformed = |reason: String| StoreError::Malformed { id: post_id.clone(), reason };
    let text = |name: &str| optional(name).ok_or_else(|| malformed(format!("revision {name}")));
    let kind = text("type")?;
    let expires = optional("expires")
        .map(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d"))
        .transpose()
        .map_err(|e| malformed(format!("revision expires: {e}")))?;
    let submission = Submission {
        kind: Kind::parse(&kind).ok_or_else(|| malformed(format!("revision type {kind:?}")))?,
        title: text("title")?,
        body: text("body")?,
        category: text("category")?,
        municipality: text("municipality")?,
        neighbourhood: optional("neighbourhood"),
        recurring: attrs.get("recurring").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        expires,
        display_name: text("name")?,
        organisation: optional("organisation"),
        email: optional("email"),
        phone: optional("phone"),
    };
    Ok(Revision {
        received_at: parse_time(&post_id, &text("date")?)?,
        post_id: post_id.clone(),
        submission,
    })
}

fn build_error(operation: &'static str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Dynamo { operation, message: error.to_string() }
}
