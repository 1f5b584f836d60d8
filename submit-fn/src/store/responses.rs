//! Responses to posts: what a reader wrote to a poster through the post's page, kept so the
//! poster finds them on the management page even when a mail went astray. `ResponseStore`
//! is implemented for the SQLite file and the DynamoDB table that hold the queue.
//!
//! Invariants both stores keep: a response is stored once by its id (derived from the
//! form's nonce, so a double click stores and mails one); an absent contact field is
//! absent, never ""; a response is personal data and is purged after
//! [`RESPONSE_RETENTION_DAYS`] (SQLite at the next insert, DynamoDB by its TTL).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Days, Utc};
use rusqlite::{Row, params};

use super::dynamo::{STATUS_INDEX, dynamo_error, n, s};
use super::{DynamoQueue, SqliteQueue, StoreError, format_time, parse_time};

/// Days a response is kept: long enough for a poster to read it on the management page
/// after a post's longest life.
pub const RESPONSE_RETENTION_DAYS: u64 = 180;

/// The responses table in the queue's SQLite file; `SqliteQueue::open` runs it, which adds
/// it to a file from before responses existed.
pub(crate) const RESPONSES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS responses (
    id      TEXT PRIMARY KEY NOT NULL CHECK (length(trim(id)) > 0),
    post_id TEXT NOT NULL CHECK (length(trim(post_id)) > 0),
    at      TEXT NOT NULL CHECK (length(trim(at)) > 0),
    name    TEXT NOT NULL CHECK (length(trim(name)) > 0),
    email   TEXT CHECK (email IS NULL OR length(trim(email)) > 0),
    phone   TEXT CHECK (phone IS NULL OR length(trim(phone)) > 0),
    message TEXT NOT NULL CHECK (length(trim(message)) > 0),
    ip_hash TEXT NOT NULL CHECK (length(trim(ip_hash)) > 0)
);
CREATE INDEX IF NOT EXISTS responses_by_post ON responses (post_id, at, id);
";

/// One response to a post, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// A ULID derived from the response form's nonce.
    pub id: String,
    pub post_id: String,
    pub at: DateTime<Utc>,
    /// The responder's name, as they typed it.
    pub name: String,
    /// How the poster can answer: an e-mail address, a phone number, or both.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: String,
    /// Salted hash of the responder's address.
    pub ip_hash: String,
}

/// The responses to posts.
#[async_trait]
pub trait ResponseStore: Send + Sync {
    /// Stores `reply` unless one with its id exists. True if and only if it is new.
    async fn add_response(&self, reply: &Reply) -> Result<bool, StoreError>;

    /// The responses to post `post_id`, oldest first.
    async fn responses(&self, post_id: &str) -> Result<Vec<Reply>, StoreError>;
}

#[async_trait]
impl ResponseStore for SqliteQueue {
    async fn add_response(&self, reply: &Reply) -> Result<bool, StoreError> {
        let r = reply.clone();
        self.with_conn(move |conn| {
            let purge_before = Utc::now() - Days::new(RESPONSE_RETENTION_DAYS);
            conn.execute(
                "DELETE FROM responses WHERE at < ?1",
                params![format_time(purge_before)],
            )?;
            let inserted = conn.execute(
                "INSERT INTO responses (id, post_id, at, name, email, phone, message, ip_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                params![
                    r.id,
                    r.post_id,
                    format_time(r.at),
                    r.name,
                    r.email,
                    r.phone,
                    r.message,
                    r.ip_hash
                ],
            )?;
            if inserted == 1 {
                // The figures count responses long after the responses themselves are purged.
                super::stats::count_response(conn, &r.post_id)?;
            }
            Ok(inserted == 1)
        })
        .await
    }

    async fn responses(&self, post_id: &str) -> Result<Vec<Reply>, StoreError> {
        let post_id = post_id.to_owned();
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, post_id, at, name, email, phone, message, ip_hash FROM responses \
                 WHERE post_id = ?1 ORDER BY at, id",
            )?;
            let rows = stmt.query_map(params![post_id], read_reply)?;
            rows.map(|row| row?).collect()
        })
        .await
    }
}

pub(super) fn read_reply(row: &Row<'_>) -> rusqlite::Result<Result<Reply, StoreError>> {
    let id: String = row.get("id")?;
    let at: String = row.get("at")?;
    let reply = Reply {
        post_id: row.get("post_id")?,
        at: match parse_time(&id, &at) {
            Ok(at) => at,
            Err(e) => return Ok(Err(e)),
        },
        name: row.get("name")?,
        email: row.get("email")?,
        phone: row.get("phone")?,
        message: row.get("message")?,
        ip_hash: row.get("ip_hash")?,
        id,
    };
    Ok(Ok(reply))
}

/// The DynamoDB layout: `pk` = `response#<id>`; `status` = `response#<post id>` and `date`
/// put each post's responses in their own partition of the status index, in time order.
#[async_trait]
impl ResponseStore for DynamoQueue {
    async fn add_response(&self, reply: &Reply) -> Result<bool, StoreError> {
        let purge = reply.at + Days::new(RESPONSE_RETENTION_DAYS);
        let mut item = HashMap::from([
            ("pk".to_owned(), s(format!("response#{}", reply.id))),
            ("status".to_owned(), s(index_key(&reply.post_id))),
            ("date".to_owned(), s(format_time(reply.at))),
            ("id".to_owned(), s(&reply.id)),
            ("post_id".to_owned(), s(&reply.post_id)),
            ("name".to_owned(), s(&reply.name)),
            ("message".to_owned(), s(&reply.message)),
            ("ip_hash".to_owned(), s(&reply.ip_hash)),
            ("ttl".to_owned(), n(purge.timestamp())),
        ]);
        for (name, value) in [("email", &reply.email), ("phone", &reply.phone)] {
            if let Some(value) = value.as_ref().filter(|v| !v.trim().is_empty()) {
                item.insert(name.to_owned(), s(value));
            }
        }
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", "pk")
            .send()
            .await;
        match result {
            Ok(_) => {
                // The figures count responses long after TTL has removed them.
                self.count_response(&reply.post_id).await?;
                Ok(true)
            }
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(false)
            }
            Err(e) => Err(dynamo_error("PutItem", e)),
        }
    }

    async fn responses(&self, post_id: &str) -> Result<Vec<Reply>, StoreError> {
        let mut replies = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(STATUS_INDEX)
                .key_condition_expression("#status = :post")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":post", s(index_key(post_id)))
                .scan_index_forward(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| dynamo_error("Query", e))?;
            for attrs in output.items() {
                replies.push(from_attributes(attrs)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(replies);
            }
        }
    }
}

fn index_key(post_id: &str) -> String {
    format!("response#{post_id}")
}

pub(super) fn from_attributes(
    attrs: &HashMap<String, AttributeValue>,
) -> Result<Reply, StoreError> {
    let optional = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
    let id = optional("id").unwrap_or_default();
    let text = |name: &str| {
        optional(name).ok_or_else(|| StoreError::Malformed {
            id: id.clone(),
            reason: format!("response without {name}"),
        })
    };
    Ok(Reply {
        post_id: text("post_id")?,
        at: parse_time(&id, &text("date")?)?,
        name: text("name")?,
        email: optional("email"),
        phone: optional("phone"),
        message: text("message")?,
        ip_hash: text("ip_hash")?,
        id: id.clone(),
    })
}
