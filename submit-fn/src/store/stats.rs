//! The facts the figures for the municipality are counted from: per post only its kind,
//! category, municipality, month, status and number of responses. `StatsStore` is
//! implemented for the SQLite file and the DynamoDB table that hold the queue; the counting
//! itself is in [`crate::stats`].
//!
//! Responses are personal data and are purged after `RESPONSE_RETENTION_DAYS`, but the
//! figures of a month must not shrink when that happens: so each stored response also
//! raises a count kept with its post (`response_counts` in SQLite, the post item's
//! `responses` attribute in DynamoDB), and a post's number of responses is the larger of
//! that count and the responses still stored (which covers responses from before the
//! count existed).
//!
//! Invariant: the stores read no other field (no title, text, name, address, number or
//! IP hash), so the figures cannot carry personal data, and they keep working when the
//! retention job has replaced a post's personal data by an anonymous row, as long as that
//! row keeps these six fields. A store that keeps such rows must return them here too.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::params;

use super::dynamo::{dynamo_error, n, s};
use super::{DynamoQueue, SqliteQueue, Status, StoreError, parse_time};
use crate::submission::Kind;

/// The count of responses per post in the queue's SQLite file; `SqliteQueue::open` runs it.
pub(crate) const STATS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS response_counts (
    post_id TEXT PRIMARY KEY NOT NULL CHECK (length(trim(post_id)) > 0),
    count   INTEGER NOT NULL CHECK (count >= 0)
);
";

/// The attribute of a DynamoDB post item that counts its responses; an anonymous row
/// keeps its count under the same name.
pub(super) const RESPONSES: &str = "responses";
/// The attribute of a DynamoDB anonymous row that holds the post's final status.
pub(super) const ANONYMOUS_STATUS: &str = "final_status";

/// Counts one more response to `post_id`; called in the same connection call that stored
/// the response.
pub(crate) fn count_response(conn: &rusqlite::Connection, post_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO response_counts (post_id, count) VALUES (?1, 1) \
         ON CONFLICT (post_id) DO UPDATE SET count = count + 1",
        params![post_id],
    )?;
    Ok(())
}

impl DynamoQueue {
    /// Counts one more response to `post_id` on its post item. A response to a post that
    /// is not in the table (never, through the routes) is not counted.
    pub(crate) async fn count_response(&self, post_id: &str) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{post_id}")))
            .condition_expression("attribute_exists(#pk)")
            .update_expression(format!("ADD #{RESPONSES} :one"))
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names(format!("#{RESPONSES}"), RESPONSES)
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(dynamo_error("UpdateItem", e)),
        }
    }
}

/// One post as the figures see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFacts {
    /// The month it was received, `YYYY-MM` in the site's time zone.
    pub month: String,
    pub kind: Kind,
    /// Category slug.
    pub category: String,
    /// Municipality slug.
    pub municipality: String,
    /// Its current (or, once ended, final) status.
    pub status: Status,
    /// How many responses it received.
    pub responses: u32,
}

/// The non-personal facts of every post.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Every post's facts, with months in `zone`, in no particular order.
    async fn post_facts(&self, zone: Tz) -> Result<Vec<PostFacts>, StoreError>;
}

fn month(id: &str, received_at: &str, zone: Tz) -> Result<String, StoreError> {
    let at: DateTime<Utc> = parse_time(id, received_at)?;
    Ok(at.with_timezone(&zone).format("%Y-%m").to_string())
}

#[async_trait]
impl StatsStore for SqliteQueue {
    async fn post_facts(&self, zone: Tz) -> Result<Vec<PostFacts>, StoreError> {
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT s.id, s.received_at, s.kind, s.category, s.municipality, s.status, \
                 max((SELECT COUNT(*) FROM responses r WHERE r.post_id = s.id), \
                     coalesce((SELECT c.count FROM response_counts c WHERE c.post_id = s.id), 0)) \
                 FROM submissions s \
                 UNION ALL SELECT 'anon' || a.seq, a.received, a.kind, a.category, \
                 a.municipality, a.status, a.responses FROM anonymous_posts a",
            )?;
            let rows = stmt.query_map(params![], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })?;
            let mut facts = Vec::new();
            for row in rows {
                let (id, received_at, kind, category, municipality, status, responses) = row?;
                facts.push(facts_of(
                    &id,
                    &received_at,
                    &kind,
                    category,
                    municipality,
                    &status,
                    responses,
                    zone,
                )?);
            }
            Ok(facts)
        })
        .await
    }
}

/// Builds one post's facts from stored text.
#[allow(clippy::too_many_arguments)]
fn facts_of(
    id: &str,
    received_at: &str,
    kind: &str,
    category: String,
    municipality: String,
    status: &str,
    responses: i64,
    zone: Tz,
) -> Result<PostFacts, StoreError> {
    let malformed = |reason: String| StoreError::Malformed { id: id.to_owned(), reason };
    Ok(PostFacts {
        month: month(id, received_at, zone)?,
        kind: Kind::parse(kind).ok_or_else(|| malformed(format!("kind {kind:?}")))?,
        category,
        municipality,
        status: Status::parse(status).ok_or_else(|| malformed(format!("status {status:?}")))?,
        responses: u32::try_from(responses).unwrap_or(u32::MAX),
    })
}

/// The DynamoDB layout has no index by month, so this is one paged Scan of the table with
/// only the six fields (and the keys that tell posts and responses apart) projected: the
/// figures are read a few times a year, and a scan costs less than an index kept for them.
#[async_trait]
impl StatsStore for DynamoQueue {
    async fn post_facts(&self, zone: Tz) -> Result<Vec<PostFacts>, StoreError> {
        let names = [
            "pk",
            "status",
            "date",
            "type",
            "category",
            "municipality",
            "post_id",
            RESPONSES,
            ANONYMOUS_STATUS,
        ];
        let mut posts = Vec::new();
        let mut responses: HashMap<String, i64> = HashMap::new();
        let mut start = None;
        loop {
            let mut scan = self
                .client()
                .scan()
                .table_name(self.table())
                .filter_expression(
                    "begins_with(#pk, :post) OR begins_with(#pk, :response) \
                     OR begins_with(#pk, :anon)",
                )
                .expression_attribute_values(":post", s("post#"))
                .expression_attribute_values(":anon", s("anon#"))
                .expression_attribute_values(":response", s("response#"))
                .projection_expression(
                    names.iter().map(|n| format!("#{n}")).collect::<Vec<_>>().join(", "),
                )
                .set_exclusive_start_key(start);
            for name in names {
                scan = scan.expression_attribute_names(format!("#{name}"), name);
            }
            let output = scan.send().await.map_err(|e| dynamo_error("Scan", e))?;
            for attrs in output.items() {
                let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
                let pk = text("pk").unwrap_or_default();
                // A purged post's anonymous row (see `super::lifecycle`) keeps its final
                // status under another name, so it stays off the status index.
                let anonymous = pk.starts_with("anon#");
                let status_name = if anonymous { ANONYMOUS_STATUS } else { "status" };
                if let Some(id) = pk.strip_prefix("post#").or(anonymous.then_some(pk.as_str())) {
                    let field = |name: &str| {
                        text(name).ok_or_else(|| StoreError::Malformed {
                            id: id.to_owned(),
                            reason: format!("missing {name}"),
                        })
                    };
                    let fields = [
                        field("date")?,
                        field("type")?,
                        field("category")?,
                        field("municipality")?,
                        field(status_name)?,
                    ];
                    let counted = attrs.get(RESPONSES).and_then(|v| v.as_n().ok());
                    let counted = counted.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                    posts.push((id.to_owned(), fields, counted));
                } else if let Some(post_id) = text("post_id") {
                    *responses.entry(post_id).or_default() += 1;
                }
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        posts
            .into_iter()
            .map(|(id, [date, kind, category, municipality, status], counted)| {
                let count = responses.get(&id).copied().unwrap_or(0).max(counted);
                facts_of(&id, &date, &kind, category, municipality, &status, count, zone)
            })
            .collect()
    }
}
