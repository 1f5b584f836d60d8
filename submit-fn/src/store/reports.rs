//! Reports on posts: a reader's "Meld dit bericht", waiting for a moderator in `/beheer`.
//! `ReportStore` is implemented for the SQLite file and the DynamoDB table that hold the
//! queue.
//!
//! Invariants both stores keep: a report is stored once by its id (derived from the form's
//! nonce); a report is open until a moderator handles its post (takes it offline or leaves
//! it), and handling closes every open report of that post in one step; an absent message
//! is absent, never "".

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Days, Utc};
use rusqlite::{Row, params};

use super::dynamo::{STATUS_INDEX, dynamo_error, n, s};
use super::{DynamoQueue, SqliteQueue, StoreError, format_time, parse_time};

/// Days a handled report is kept in DynamoDB before its TTL removes it.
pub const HANDLED_REPORT_RETENTION_DAYS: u64 = 30;

/// The reports table in the queue's SQLite file; `SqliteQueue::open` runs it, which adds it
/// to a file from before reports existed.
pub(crate) const REPORTS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reports (
    id         TEXT PRIMARY KEY NOT NULL CHECK (length(trim(id)) > 0),
    post_id    TEXT NOT NULL CHECK (length(trim(post_id)) > 0),
    at         TEXT NOT NULL CHECK (length(trim(at)) > 0),
    reason     TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    message    TEXT CHECK (message IS NULL OR length(trim(message)) > 0),
    ip_hash    TEXT NOT NULL CHECK (length(trim(ip_hash)) > 0),
    handled_at TEXT
);
CREATE INDEX IF NOT EXISTS reports_open ON reports (handled_at, at, id);
";

/// The `status` of an open report item in DynamoDB, which puts it on the status index.
const OPEN: &str = "report";
/// The `status` of a handled one: off the open list.
const HANDLED: &str = "report-handled";

/// One report on a post, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// A ULID derived from the report form's nonce.
    pub id: String,
    pub post_id: String,
    pub at: DateTime<Utc>,
    /// The key of one of the theme's `report_reasons`.
    pub reason: String,
    /// What the reader added, if anything.
    pub message: Option<String>,
    /// Salted hash of the reader's address.
    pub ip_hash: String,
}

/// The reports on posts.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores `report` as open unless one with its id exists. True if and only if it is new.
    async fn add_report(&self, report: &Report) -> Result<bool, StoreError>;

    /// The open reports, oldest first, at most `limit`.
    async fn open_reports(&self, limit: usize) -> Result<Vec<Report>, StoreError>;

    /// Closes every open report on post `post_id` as handled at `at`; returns how many.
    async fn close_reports(&self, post_id: &str, at: DateTime<Utc>) -> Result<usize, StoreError>;
}

#[async_trait]
impl ReportStore for SqliteQueue {
    async fn add_report(&self, report: &Report) -> Result<bool, StoreError> {
        let r = report.clone();
        self.with_conn(move |conn| {
            let inserted = conn.execute(
                "INSERT INTO reports (id, post_id, at, reason, message, ip_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                params![r.id, r.post_id, format_time(r.at), r.reason, r.message, r.ip_hash],
            )?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn open_reports(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, post_id, at, reason, message, ip_hash FROM reports \
                 WHERE handled_at IS NULL ORDER BY at, id LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64], read_report)?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn close_reports(&self, post_id: &str, at: DateTime<Utc>) -> Result<usize, StoreError> {
        let post_id = post_id.to_owned();
        self.with_conn(move |conn| {
            let closed = conn.execute(
                "UPDATE reports SET handled_at = ?2 WHERE post_id = ?1 AND handled_at IS NULL",
                params![post_id, format_time(at)],
            )?;
            Ok(closed)
        })
        .await
    }
}

fn read_report(row: &Row<'_>) -> rusqlite::Result<Result<Report, StoreError>> {
    let id: String = row.get("id")?;
    let at: String = row.get("at")?;
    let at = match parse_time(&id, &at) {
        Ok(at) => at,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Report {
        post_id: row.get("post_id")?,
        at,
        reason: row.get("reason")?,
        message: row.get("message")?,
        ip_hash: row.get("ip_hash")?,
        id,
    }))
}

/// The DynamoDB layout: `pk` = `report#<id>`; `status` is `report` while open, so the
/// status index lists open reports by `date`, and `report-handled` after.
#[async_trait]
impl ReportStore for DynamoQueue {
    async fn add_report(&self, report: &Report) -> Result<bool, StoreError> {
        let mut item = HashMap::from([
            ("pk".to_owned(), s(format!("report#{}", report.id))),
            ("status".to_owned(), s(OPEN)),
            ("date".to_owned(), s(format_time(report.at))),
            ("id".to_owned(), s(&report.id)),
            ("post_id".to_owned(), s(&report.post_id)),
            ("reason".to_owned(), s(&report.reason)),
            ("ip_hash".to_owned(), s(&report.ip_hash)),
        ]);
        if let Some(message) = report.message.as_ref().filter(|m| !m.trim().is_empty()) {
            item.insert("comment".to_owned(), s(message));
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
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(false)
            }
            Err(e) => Err(dynamo_error("PutItem", e)),
        }
    }

    async fn open_reports(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
        let mut reports = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(STATUS_INDEX)
                .key_condition_expression("#status = :open")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":open", s(OPEN))
                .scan_index_forward(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| dynamo_error("Query", e))?;
            for attrs in output.items() {
                reports.push(from_attributes(attrs)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() || reports.len() >= limit {
                reports.truncate(limit);
                return Ok(reports);
            }
        }
    }

    async fn close_reports(&self, post_id: &str, at: DateTime<Utc>) -> Result<usize, StoreError> {
        // The open list is short (moderators empty it), so reading it whole is cheap; each
        // close is conditional, so a report closed meanwhile is not counted twice.
        let open = self.open_reports(usize::MAX).await?;
        let purge = at + Days::new(HANDLED_REPORT_RETENTION_DAYS);
        let mut closed = 0;
        for report in open.iter().filter(|r| r.post_id == post_id) {
            let result = self
                .client()
                .update_item()
                .table_name(self.table())
                .key("pk", s(format!("report#{}", report.id)))
                .update_expression("SET #status = :handled, #handled_at = :at, #ttl = :ttl")
                .condition_expression("#status = :open")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#handled_at", "handled_at")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":handled", s(HANDLED))
                .expression_attribute_values(":open", s(OPEN))
                .expression_attribute_values(":at", s(format_time(at)))
                .expression_attribute_values(":ttl", n(purge.timestamp()))
                .send()
                .await;
            match result {
                Ok(_) => closed += 1,
                Err(SdkError::ServiceError(e))
                    if e.err().is_conditional_check_failed_exception() => {}
                Err(e) => return Err(dynamo_error("UpdateItem", e)),
            }
        }
        Ok(closed)
    }
}

fn from_attributes(attrs: &HashMap<String, AttributeValue>) -> Result<Report, StoreError> {
    let optional = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
    let id = optional("id").unwrap_or_default();
    let text = |name: &str| {
        optional(name).ok_or_else(|| StoreError::Malformed {
            id: id.clone(),
            reason: format!("report without {name}"),
        })
    };
    Ok(Report {
        post_id: text("post_id")?,
        at: parse_time(&id, &text("date")?)?,
        reason: text("reason")?,
        message: optional("comment"),
        ip_hash: text("ip_hash")?,
        id: id.clone(),
    })
}
