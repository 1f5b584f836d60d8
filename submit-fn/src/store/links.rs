//! Management links sent again: finding a poster's open posts by the e-mail address they
//! gave, and the hash of the fresh link each such post gets. `LinkStore` is implemented
//! for the SQLite file and the DynamoDB table that hold the queue.
//!
//! Why a second link beside the first, not instead of it: the first token is derived from
//! the submission's nonce (`Secrets::management_token`), so the approval mail, the response
//! mails and the confirmation page all carry it, including mails sent after a resend. If a
//! resend replaced it, those links would stop working while the poster still holds them.
//! So a post opens with its first link and with the most recently resent one; each resend
//! replaces the previous resent link, so at most two links open a post. Only hashes are
//! stored, as for the first token.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::dynamo::{STATUS_INDEX, dynamo_error, s};
use super::{DynamoQueue, QueueItem, QueueStore, SqliteQueue, Status, StoreError, format_time};

/// The table of resent links in the queue's SQLite file; `SqliteQueue::open` runs it.
pub(crate) const LINKS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resent_links (
    post_id    TEXT PRIMARY KEY NOT NULL CHECK (length(trim(post_id)) > 0),
    token_hash TEXT NOT NULL CHECK (length(trim(token_hash)) > 0),
    issued_at  TEXT NOT NULL CHECK (length(trim(issued_at)) > 0)
);
";

/// The attribute of a DynamoDB post item that holds the resent link's hash.
const RESENT: &str = "resent_token_hash";
/// The attribute of a DynamoDB post item that holds when that link was sent.
const RESENT_AT: &str = "resent_at";

/// Posts by their poster's address, and their resent links.
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// The open (pending or approved) posts whose poster gave `email`, compared without
    /// surrounding space and without regard to case, oldest first.
    async fn open_posts_by_email(&self, email: &str) -> Result<Vec<QueueItem>, StoreError>;

    /// Stores `token_hash` as the resent link of post `post_id`, replacing an earlier
    /// resent one. False when there is no such post.
    async fn set_resent_token(
        &self,
        post_id: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The hash of the resent link of post `post_id`, if one was sent.
    async fn resent_token(&self, post_id: &str) -> Result<Option<String>, StoreError>;
}

/// The form addresses are compared in: trimmed, lower case.
fn address_key(email: &str) -> String {
    crate::submission::trim(email).to_lowercase()
}

#[async_trait]
impl LinkStore for SqliteQueue {
    async fn open_posts_by_email(&self, email: &str) -> Result<Vec<QueueItem>, StoreError> {
        let wanted = address_key(email);
        let ids = self
            .with_conn(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, email FROM submissions WHERE status IN ('pending', 'approved') \
                     AND email IS NOT NULL ORDER BY received_at, id",
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
            .await?;
        items(self, ids).await
    }

    async fn set_resent_token(
        &self,
        post_id: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (post_id, token_hash) = (post_id.to_owned(), token_hash.to_owned());
        self.with_conn(move |conn| {
            let changed = conn.execute(
                "INSERT INTO resent_links (post_id, token_hash, issued_at) \
                 SELECT id, ?2, ?3 FROM submissions WHERE id = ?1 \
                 ON CONFLICT (post_id) DO UPDATE SET token_hash = excluded.token_hash, \
                 issued_at = excluded.issued_at",
                params![post_id, token_hash, format_time(at)],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn resent_token(&self, post_id: &str) -> Result<Option<String>, StoreError> {
        let post_id = post_id.to_owned();
        self.with_conn(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT token_hash FROM resent_links WHERE post_id = ?1",
                    params![post_id],
                    |r| r.get(0),
                )
                .optional()?)
        })
        .await
    }
}

/// The DynamoDB layout: the open posts are read from the status index's `pending` and
/// `approved` partitions with only `id` and `email` projected; the resent link's hash is
/// the attribute `resent_token_hash` of the post item.
#[async_trait]
impl LinkStore for DynamoQueue {
    async fn open_posts_by_email(&self, email: &str) -> Result<Vec<QueueItem>, StoreError> {
        let wanted = address_key(email);
        let mut ids = Vec::new();
        for status in [Status::Pending, Status::Approved] {
            let mut start = None;
            loop {
                let output = self
                    .client()
                    .query()
                    .table_name(self.table())
                    .index_name(STATUS_INDEX)
                    .key_condition_expression("#status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_names("#id", "id")
                    .expression_attribute_names("#email", "email")
                    .expression_attribute_names("#date", "date")
                    .expression_attribute_values(":status", s(status.as_str()))
                    .projection_expression("#id, #email, #date")
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| dynamo_error("Query", e))?;
                for attrs in output.items() {
                    let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok());
                    if let (Some(id), Some(email), Some(date)) =
                        (text("id"), text("email"), text("date"))
                        && address_key(email) == wanted
                    {
                        ids.push((date.clone(), id.clone()));
                    }
                }
                start = output.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        ids.sort();
        items(self, ids.into_iter().map(|(_, id)| id).collect()).await
    }

    async fn set_resent_token(
        &self,
        post_id: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{post_id}")))
            .condition_expression("attribute_exists(#pk)")
            .update_expression(format!("SET #{RESENT} = :hash, #{RESENT_AT} = :at"))
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names(format!("#{RESENT}"), RESENT)
            .expression_attribute_names(format!("#{RESENT_AT}"), RESENT_AT)
            .expression_attribute_values(":hash", s(token_hash))
            .expression_attribute_values(":at", s(format_time(at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(false)
            }
            Err(e) => Err(dynamo_error("UpdateItem", e)),
        }
    }

    async fn resent_token(&self, post_id: &str) -> Result<Option<String>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{post_id}")))
            .projection_expression(format!("#{RESENT}"))
            .expression_attribute_names(format!("#{RESENT}"), RESENT)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", e))?;
        let attrs: Option<HashMap<_, _>> = output.item;
        Ok(attrs.and_then(|item| item.get(RESENT)?.as_s().ok().cloned()))
    }
}

/// The items of `ids`, in that order; one that went meanwhile is left out.
async fn items(store: &dyn QueueStore, ids: Vec<String>) -> Result<Vec<QueueItem>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(item) = store.get(&id).await?.filter(|item| item.status.is_open()) {
            found.push(item);
        }
    }
    Ok(found)
}
