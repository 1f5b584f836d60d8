//! The queue in one DynamoDB table, for AWS.
//!
//! Layout: partition key `pk` (`post#<id>` for submissions, `rate#<ip hash>#<window>` for
//! rate-limit counters); the sparse index `status-date` (`status`, `date`) lists pending
//! posts oldest first; audit entries (`audit#<time>#<ulid>`) carry `status = audit` so the
//! same index lists them by time. Every expression names attributes through `#placeholders`, since
//! `status`, `date`, `name`, `type`, `ttl` and `comment` are reserved words (case C23), and
//! an absent optional field is an absent attribute, never `""`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, Select,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};

use super::{
    AuditAction, AuditEntry, AuditPage, Created, Decision, Ending, PendingPage, QueueItem,
    QueueStore, Status, StoreError, Transition, format_time, parse_time,
};
use crate::submission::{Kind, Submission};

/// The index that lists items by status, oldest first.
pub const STATUS_INDEX: &str = "status-date";
/// The `status` value that puts an audit entry on the status index.
const AUDIT_STATUS: &str = "audit";

/// Every attribute a submission item can have, each used in expressions as `#<name>`.
const ATTRIBUTES: [&str; 23] = [
    "pk",
    "id",
    "nonce",
    "status",
    "date",
    "type",
    "title",
    "body",
    "category",
    "municipality",
    "neighbourhood",
    "recurring",
    "expires",
    "name",
    "organisation",
    "email",
    "phone",
    "token_hash",
    "ip_hash",
    "fingerprint",
    "decided_by",
    "decided_at",
    "comment",
];

/// The DynamoDB queue: a client and a table name.
#[derive(Clone, Debug)]
pub struct DynamoQueue {
    client: Client,
    table: String,
}

impl DynamoQueue {
    /// Wraps a configured client; see `from_env` for the usual way to make one.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoQueue {
        DynamoQueue { client, table: table.into() }
    }

    /// A client from the standard AWS environment (region, credentials), talking to
    /// `endpoint` instead of AWS when one is given (a local DynamoDB-protocol server).
    pub async fn from_env(table: impl Into<String>, endpoint: Option<&str>) -> DynamoQueue {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        DynamoQueue::new(Client::new(&loader.load().await), table)
    }

    /// The client, for the other item types kept in the same table.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table and its index, on demand billing. For tests and first set-up; the
    /// deployment template creates the same table in AWS.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type are set")
        };
        let key = |name: &str, key_type| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .expect("name and type are set")
        };
        let index = GlobalSecondaryIndex::builder()
            .index_name(STATUS_INDEX)
            .key_schema(key("status", KeyType::Hash))
            .key_schema(key("date", KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .expect("index fields are set");
        self.client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("status"))
            .attribute_definitions(attr("date"))
            .key_schema(key("pk", KeyType::Hash))
            .global_secondary_indexes(index)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| dynamo_error("CreateTable", e))?;
        Ok(())
    }

    /// Why a conditional update on `id` changed nothing.
    async fn transition_of(&self, id: &str) -> Result<Transition, StoreError> {
        Ok(match self.get(id).await?.map(|item| item.status) {
            Some(status) => Transition::NotPending(status),
            None => Transition::NotFound,
        })
    }
}

#[async_trait]
impl QueueStore for DynamoQueue {
    async fn create(&self, item: &QueueItem) -> Result<Created, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(item)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", "pk")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Created::Stored),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                let existing = self.get(&item.id).await?.ok_or_else(|| StoreError::Malformed {
                    id: item.id.clone(),
                    reason: "put conflicted but the item is gone".into(),
                })?;
                Ok(Created::AlreadyReceived(Box::new(existing)))
            }
            Err(e) => Err(dynamo_error("PutItem", e)),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<QueueItem>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("post#{id}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", e))?;
        output.item.map(|attrs| from_attributes(&attrs)).transpose()
    }

    async fn list(
        &self,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<PendingPage, StoreError> {
        let start = cursor.map(decode_cursor).transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(STATUS_INDEX)
            .key_condition_expression("#status = :status")
            .expression_attribute_values(":status", s(status.as_str()))
            .projection_expression(projection())
            .scan_index_forward(true)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
        for name in ATTRIBUTES {
            query = query.expression_attribute_names(format!("#{name}"), name);
        }
        let output = query.send().await.map_err(|e| dynamo_error("Query", e))?;
        let items = output.items().iter().map(from_attributes).collect::<Result<Vec<_>, _>>()?;
        let next = output.last_evaluated_key.as_ref().map(encode_cursor);
        Ok(PendingPage { items, next })
    }

    async fn take_rate_slot(
        &self,
        ip_hash: &str,
        window: &str,
        max: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("rate#{ip_hash}#{window}")))
            .update_expression("ADD #count :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(i64::from(max)))
            .expression_attribute_values(":ttl", n(expires_at.timestamp()))
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

    async fn count(&self, status: Status) -> Result<usize, StoreError> {
        let mut total = 0;
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(STATUS_INDEX)
                .key_condition_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()))
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

    async fn correct(&self, id: &str, submission: &Submission) -> Result<Transition, StoreError> {
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("post#{id}")))
            .condition_expression("attribute_exists(#pk) AND #status = :pending")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(Status::Pending.as_str()));
        for (name, value) in submission_attributes(submission) {
            request = request.expression_attribute_names(format!("#{name}"), name);
            match value {
                Some(value) => {
                    sets.push(format!("#{name} = :{name}"));
                    request = request.expression_attribute_values(format!(":{name}"), value);
                }
                None => removes.push(format!("#{name}")),
            }
        }
        let mut update = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        match request.update_expression(update).send().await {
            Ok(_) => Ok(Transition::Done),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                self.transition_of(id).await
            }
            Err(e) => Err(dynamo_error("UpdateItem", e)),
        }
    }

    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let at = format_time(entry.at);
        let mut item = HashMap::from([
            ("pk".to_owned(), s(format!("audit#{at}#{}", ulid::Ulid::generate()))),
            ("status".to_owned(), s(AUDIT_STATUS)),
            ("date".to_owned(), s(at)),
            ("actor".to_owned(), s(&entry.actor)),
            ("action".to_owned(), s(entry.action.as_str())),
            ("id".to_owned(), s(&entry.post_id)),
        ]);
        if let Some(note) = entry.note.as_ref().filter(|n| !n.trim().is_empty()) {
            item.insert("comment".to_owned(), s(note));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| dynamo_error("PutItem", e))?;
        Ok(())
    }

    async fn list_audit(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<AuditPage, StoreError> {
        let start = cursor.map(decode_cursor).transpose()?;
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(STATUS_INDEX)
            .key_condition_expression("#status = :audit")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":audit", s(AUDIT_STATUS))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| dynamo_error("Query", e))?;
        let entries = output.items().iter().map(audit_from_attributes).collect::<Result<_, _>>()?;
        let next = output.last_evaluated_key.as_ref().map(encode_cursor);
        Ok(AuditPage { entries, next })
    }

    async fn decide(&self, id: &str, decision: &Decision) -> Result<Transition, StoreError> {
        let mut update = "SET #status = :to, #decided_by = :by, #decided_at = :at".to_owned();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("post#{id}")))
            .condition_expression("attribute_exists(#pk) AND #status = :pending")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#decided_by", "decided_by")
            .expression_attribute_names("#decided_at", "decided_at")
            .expression_attribute_values(":to", s(decision.status.as_str()))
            .expression_attribute_values(":pending", s(Status::Pending.as_str()))
            .expression_attribute_values(":by", s(&decision.by))
            .expression_attribute_values(":at", s(format_time(decision.at)));
        if let Some(reason) = &decision.reason {
            update.push_str(", #comment = :reason");
            request = request
                .expression_attribute_names("#comment", "comment")
                .expression_attribute_values(":reason", s(reason));
        }
        match request.update_expression(update).send().await {
            Ok(_) => Ok(Transition::Done),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                self.transition_of(id).await
            }
            Err(e) => Err(dynamo_error("UpdateItem", e)),
        }
    }

    async fn close(
        &self,
        id: &str,
        ending: Ending,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Transition, StoreError> {
        // An expired post can still be marked helped or withdrawn, which the figures count.
        let request = self
            .open_item_update(id)
            .condition_expression(
                "attribute_exists(#pk) AND #status IN (:pending, :approved, :expired)",
            )
            .expression_attribute_values(":expired", s(Status::Expired.as_str()))
            .update_expression(
                "SET #status = :to, #decided_by = :by, #decided_at = :at REMOVE #comment",
            )
            .expression_attribute_names("#decided_by", "decided_by")
            .expression_attribute_names("#decided_at", "decided_at")
            .expression_attribute_names("#comment", "comment")
            .expression_attribute_values(":to", s(ending.status().as_str()))
            .expression_attribute_values(":by", s(by))
            .expression_attribute_values(":at", s(format_time(at)));
        self.conditional(id, request).await
    }

    async fn remove(&self, id: &str, decision: &Decision) -> Result<Transition, StoreError> {
        let mut update = "SET #status = :to, #decided_by = :by, #decided_at = :at".to_owned();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("post#{id}")))
            .condition_expression("attribute_exists(#pk) AND #status = :approved")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#decided_by", "decided_by")
            .expression_attribute_names("#decided_at", "decided_at")
            .expression_attribute_values(":to", s(Status::Removed.as_str()))
            .expression_attribute_values(":approved", s(Status::Approved.as_str()))
            .expression_attribute_values(":by", s(&decision.by))
            .expression_attribute_values(":at", s(format_time(decision.at)));
        // An absent reason is an absent attribute, never "".
        match decision.reason.as_ref().filter(|r| !r.trim().is_empty()) {
            Some(reason) => {
                update.push_str(", #comment = :reason");
                request = request.expression_attribute_values(":reason", s(reason));
            }
            None => update.push_str(" REMOVE #comment"),
        }
        let request =
            request.expression_attribute_names("#comment", "comment").update_expression(update);
        self.conditional(id, request).await
    }

    async fn extend(&self, id: &str, expires: NaiveDate) -> Result<Transition, StoreError> {
        let request = self
            .open_item_update(id)
            .update_expression("SET #expires = :expires")
            .expression_attribute_names("#expires", "expires")
            .expression_attribute_values(":expires", s(expires.format("%Y-%m-%d").to_string()));
        self.conditional(id, request).await
    }
}

impl DynamoQueue {
    /// An update of item `id` on condition that it exists and is pending or approved.
    fn open_item_update(&self, id: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("post#{id}")))
            .condition_expression("attribute_exists(#pk) AND #status IN (:pending, :approved)")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(Status::Pending.as_str()))
            .expression_attribute_values(":approved", s(Status::Approved.as_str()))
    }

    /// Sends a conditional update; a failed condition becomes the item's transition.
    async fn conditional(
        &self,
        id: &str,
        request: UpdateItemFluentBuilder,
    ) -> Result<Transition, StoreError> {
        match request.send().await {
            Ok(_) => Ok(Transition::Done),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                self.transition_of(id).await
            }
            Err(e) => Err(dynamo_error("UpdateItem", e)),
        }
    }
}

fn projection() -> String {
    ATTRIBUTES.iter().map(|name| format!("#{name}")).collect::<Vec<_>>().join(", ")
}

fn to_attributes(item: &QueueItem) -> HashMap<String, AttributeValue> {
    let mut attrs = HashMap::from([
        ("pk".to_owned(), s(format!("post#{}", item.id))),
        ("id".to_owned(), s(&item.id)),
        ("nonce".to_owned(), s(&item.nonce)),
        ("status".to_owned(), s(item.status.as_str())),
        ("date".to_owned(), s(format_time(item.received_at))),
        ("token_hash".to_owned(), s(&item.token_hash)),
        ("ip_hash".to_owned(), s(&item.ip_hash)),
        ("fingerprint".to_owned(), s(&item.fingerprint)),
    ]);
    for (name, value) in submission_attributes(&item.submission) {
        if let Some(value) = value {
            attrs.insert(name.to_owned(), value);
        }
    }
    attrs
}

/// The submission's attributes; an optional field that is absent (or blank) is `None`,
/// since DynamoDB rejects "" in keys and the SQLite schema rejects it everywhere.
pub(super) fn submission_attributes(
    sub: &Submission,
) -> Vec<(&'static str, Option<AttributeValue>)> {
    let optional = |value: Option<String>| value.filter(|v| !v.trim().is_empty()).map(s);
    vec![
        ("type", Some(s(sub.kind.as_str()))),
        ("title", Some(s(&sub.title))),
        ("body", Some(s(&sub.body))),
        ("category", Some(s(&sub.category))),
        ("municipality", Some(s(&sub.municipality))),
        ("recurring", Some(AttributeValue::Bool(sub.recurring))),
        ("name", Some(s(&sub.display_name))),
        ("neighbourhood", optional(sub.neighbourhood.clone())),
        ("expires", optional(sub.expires.map(|d| d.to_string()))),
        ("organisation", optional(sub.organisation.clone())),
        ("email", optional(sub.email.clone())),
        ("phone", optional(sub.phone.clone())),
    ]
}

fn audit_from_attributes(
    attrs: &HashMap<String, AttributeValue>,
) -> Result<AuditEntry, StoreError> {
    let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
    let post_id = text("id").unwrap_or_default();
    let malformed = |reason: String| StoreError::Malformed { id: post_id.clone(), reason };
    let action = text("action").unwrap_or_default();
    Ok(AuditEntry {
        at: parse_time(&post_id, &text("date").ok_or_else(|| malformed("missing date".into()))?)?,
        actor: text("actor").ok_or_else(|| malformed("missing actor".into()))?,
        action: AuditAction::parse(&action)
            .ok_or_else(|| malformed(format!("audit action {action:?}")))?,
        post_id: post_id.clone(),
        note: text("comment"),
    })
}

fn from_attributes(attrs: &HashMap<String, AttributeValue>) -> Result<QueueItem, StoreError> {
    let id = attrs.get("id").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let malformed = |reason: String| StoreError::Malformed { id: id.clone(), reason };
    let text = |name: &str| {
        attrs
            .get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| malformed(format!("missing {name}")))
    };
    let optional = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();

    let kind = text("type")?;
    let status = text("status")?;
    let expires = optional("expires")
        .map(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d"))
        .transpose()
        .map_err(|e| malformed(format!("expires: {e}")))?;
    let submission = Submission {
        kind: Kind::parse(&kind).ok_or_else(|| malformed(format!("type {kind:?}")))?,
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
    let status = Status::parse(&status).ok_or_else(|| malformed(format!("status {status:?}")))?;
    let decision = match (optional("decided_by"), optional("decided_at")) {
        (Some(by), Some(at)) => {
            Some(Decision { status, by, at: parse_time(&id, &at)?, reason: optional("comment") })
        }
        _ => None,
    };
    Ok(QueueItem {
        id: id.clone(),
        nonce: text("nonce")?,
        status,
        received_at: parse_time(&id, &text("date")?)?,
        submission,
        token_hash: text("token_hash")?,
        ip_hash: text("ip_hash")?,
        fingerprint: text("fingerprint")?,
        decision,
    })
}

/// The cursor is the LastEvaluatedKey (all string attributes) as base64url JSON.
fn encode_cursor(key: &HashMap<String, AttributeValue>) -> String {
    let plain: HashMap<&str, &str> = key
        .iter()
        .filter_map(|(name, value)| value.as_s().ok().map(|v| (name.as_str(), v.as_str())))
        .collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&plain).unwrap_or_default())
}

fn decode_cursor(cursor: &str) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::BadCursor)?;
    let plain: HashMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)?;
    Ok(plain.into_iter().map(|(name, value)| (name, AttributeValue::S(value))).collect())
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Keeps the operation name and DynamoDB's own code and message, which name no personal
/// data, so the log says which call failed and why.
pub(super) fn dynamo_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let message = match &error {
        SdkError::ServiceError(service) => format!(
            "{}: {}",
            service.err().code().unwrap_or("unknown"),
            service.err().message().unwrap_or("no message")
        ),
        other => aws_sdk_dynamodb::error::DisplayErrorContext(other).to_string(),
    };
    StoreError::Dynamo { operation, message }
}
