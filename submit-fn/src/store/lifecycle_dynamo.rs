//! [`LifecycleStore`] for the DynamoDB table. The layout: a post item holds `expired_at`
//! once expired and `reminded_for` (the expiry date its reminder was sent for); an
//! anonymous row is an item `anon#<ulid>` with `date` (the hour received), `type`,
//! `category`, `municipality`, `final_status` and `responses`. It has no `status`
//! attribute, so it never appears on the status index beside the live posts.
//!
//! Anonymising is not one transaction, since a post's responses and reports are separate
//! items of unbounded number. It is a sequence that is safe to interrupt and repeat: the
//! response count is first kept on the post item, then the responses, reports and waiting
//! revision are deleted, and last one transaction writes the anonymous item and deletes the
//! post item (with its token hashes, IP hash and private fields), on condition that the
//! post is still what was read. A repeat after an interruption finds the kept count.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, NaiveDate, Utc};

use super::dynamo::{STATUS_INDEX, dynamo_error, n, s};
use super::lifecycle::{ENDED, address_key, final_status, received_hour, transition_of};
use super::stats::{ANONYMOUS_STATUS, RESPONSES};
use super::{
    DynamoQueue, LifecycleStore, Reply, RevisionStore, Status, StoreError, Transition, format_time,
};

/// The post item's attribute that keeps its final response count while it is anonymised.
const KEPT_COUNT: &str = "final_responses";
/// The `status` values of open and handled reports (see [`super::reports`]).
const REPORT_STATUSES: [&str; 2] = ["report", "report-handled"];

#[async_trait]
impl LifecycleStore for DynamoQueue {
    async fn expire(&self, id: &str, at: DateTime<Utc>) -> Result<Transition, StoreError> {
        let request = self
            .post_update(id, Status::Approved)
            .update_expression("SET #status = :to, #expired_at = :at")
            .expression_attribute_names("#expired_at", "expired_at")
            .expression_attribute_values(":to", s(Status::Expired.as_str()))
            .expression_attribute_values(":at", s(format_time(at)));
        self.conditional_transition(id, request).await
    }

    async fn revive(&self, id: &str, expires: NaiveDate) -> Result<Transition, StoreError> {
        let request = self
            .post_update(id, Status::Expired)
            .update_expression("SET #status = :to, #expires = :expires REMOVE #expired_at")
            .expression_attribute_names("#expires", "expires")
            .expression_attribute_names("#expired_at", "expired_at")
            .expression_attribute_values(":to", s(Status::Approved.as_str()))
            .expression_attribute_values(":expires", s(expires.format("%Y-%m-%d").to_string()));
        self.conditional_transition(id, request).await
    }

    async fn claim_reminder(&self, id: &str, expires: NaiveDate) -> Result<bool, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{id}")))
            .condition_expression(
                "attribute_exists(#pk) AND (attribute_not_exists(#reminded) OR #reminded <> :d)",
            )
            .update_expression("SET #reminded = :d")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#reminded", "reminded_for")
            .expression_attribute_values(":d", s(expires.format("%Y-%m-%d").to_string()))
            .send()
            .await;
        is_done(result)
    }

    async fn release_reminder(&self, id: &str, expires: NaiveDate) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{id}")))
            .condition_expression("#reminded = :d")
            .update_expression("REMOVE #reminded")
            .expression_attribute_names("#reminded", "reminded_for")
            .expression_attribute_values(":d", s(expires.format("%Y-%m-%d").to_string()))
            .send()
            .await;
        is_done(result).map(|_| ())
    }

    async fn ended_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, Status)>, StoreError> {
        let cutoff = format_time(before);
        let mut ended = Vec::new();
        for status in ENDED {
            let names = ["id", "date", "decided_at", "expired_at"];
            for attrs in self.index_partition(status.as_str(), &names).await? {
                let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok());
                let ended_at = match status {
                    Status::Expired => text("expired_at").or(text("decided_at")),
                    _ => text("decided_at"),
                };
                if let (Some(id), Some(at), Some(date)) = (text("id"), ended_at, text("date"))
                    && *at < cutoff
                {
                    ended.push((date.clone(), id.clone(), status));
                }
            }
        }
        ended.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        Ok(ended.into_iter().map(|(_, id, status)| (id, status)).collect())
    }

    async fn anonymise(&self, id: &str, expected: Option<Status>) -> Result<bool, StoreError> {
        let Some(post) = self.post_attributes(id).await? else { return Ok(false) };
        let text = |name: &str| {
            post.get(name).and_then(|v| v.as_s().ok()).cloned().ok_or_else(|| {
                StoreError::Malformed { id: id.to_owned(), reason: format!("missing {name}") }
            })
        };
        let stored = text("status")?;
        let status = Status::parse(&stored).ok_or_else(|| StoreError::Malformed {
            id: id.to_owned(),
            reason: format!("status {stored:?}"),
        })?;
        if expected.is_some_and(|wanted| wanted != status) {
            return Ok(false);
        }
        let Some(responses) = self.kept_response_count(id, &post).await? else {
            return Ok(false);
        };
        self.delete_belongings(id).await?;

        let anonymous = HashMap::from([
            ("pk".to_owned(), s(format!("anon#{}", ulid::Ulid::generate()))),
            ("date".to_owned(), s(received_hour(id, &text("date")?)?)),
            ("type".to_owned(), s(text("type")?)),
            ("category".to_owned(), s(text("category")?)),
            ("municipality".to_owned(), s(text("municipality")?)),
            (ANONYMOUS_STATUS.to_owned(), s(final_status(status).as_str())),
            (RESPONSES.to_owned(), n(responses)),
        ]);
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(anonymous))
            .build()
            .map_err(|e| build_error("Put", e))?;
        let delete = Delete::builder()
            .table_name(self.table())
            .key("pk", s(format!("post#{id}")))
            .condition_expression("#status = :status")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(stored))
            .build()
            .map_err(|e| build_error("Delete", e))?;
        let result = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            // The post changed or went meanwhile; nothing was written, the next run decides.
            Err(SdkError::ServiceError(e)) if e.err().is_transaction_canceled_exception() => {
                Ok(false)
            }
            Err(e) => Err(dynamo_error("TransactWriteItems", e)),
        }
    }

    async fn post_ids_by_address(&self, email: &str) -> Result<Vec<String>, StoreError> {
        let wanted = address_key(email);
        let mut ids = Vec::new();
        for attrs in self.scan_with_email("post#", Some(&["id", "email", "date"])).await? {
            let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok());
            if let (Some(id), Some(email), Some(date)) = (text("id"), text("email"), text("date"))
                && address_key(email) == wanted
            {
                ids.push((date.clone(), id.clone()));
            }
        }
        ids.sort();
        Ok(ids.into_iter().map(|(_, id)| id).collect())
    }

    async fn responses_by_address(&self, email: &str) -> Result<Vec<Reply>, StoreError> {
        let wanted = address_key(email);
        let mut replies = Vec::new();
        for attrs in self.scan_with_email("response#", None).await? {
            let reply = super::responses::from_attributes(&attrs)?;
            if reply.email.as_deref().map(address_key).as_deref() == Some(wanted.as_str()) {
                replies.push(reply);
            }
        }
        replies.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(replies)
    }

    async fn delete_response(&self, id: &str) -> Result<bool, StoreError> {
        self.delete_key(format!("response#{id}")).await
    }
}

impl DynamoQueue {
    /// An update of post `id` on condition that it has status `from`.
    fn post_update(&self, id: &str, from: Status) -> UpdateItemFluentBuilder {
        self.client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{id}")))
            .condition_expression("attribute_exists(#pk) AND #status = :from")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":from", s(from.as_str()))
    }

    async fn conditional_transition(
        &self,
        id: &str,
        request: UpdateItemFluentBuilder,
    ) -> Result<Transition, StoreError> {
        if is_done(request.send().await)? {
            Ok(Transition::Done)
        } else {
            transition_of(self, id).await
        }
    }

    async fn post_attributes(
        &self,
        id: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{id}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", e))?;
        Ok(output.item)
    }

    /// The post's response count, kept on the post item before its responses are deleted,
    /// so a repeat after an interruption counts what there was. `None` when the post went.
    async fn kept_response_count(
        &self,
        id: &str,
        post: &HashMap<String, AttributeValue>,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(kept) = number(post.get(KEPT_COUNT)) {
            return Ok(Some(kept));
        }
        // The count the figures keep on the post, or the responses stored, whichever is
        // more: older responses were stored before the count existed, and some responses
        // may already have been purged by their own retention.
        let counted = self.index_partition(&format!("response#{id}"), &["pk"]).await?;
        let stored = i64::try_from(counted.len()).unwrap_or(i64::MAX);
        let count = stored.max(number(post.get(super::stats::RESPONSES)).unwrap_or(0));
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(format!("post#{id}")))
            .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#count)")
            .update_expression("SET #count = :count")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#count", KEPT_COUNT)
            .expression_attribute_values(":count", n(count))
            .send()
            .await;
        if is_done(result)? {
            return Ok(Some(count));
        }
        // Another run kept a count first, or the post went: use what is stored.
        Ok(self.post_attributes(id).await?.and_then(|post| number(post.get(KEPT_COUNT))))
    }

    /// Deletes the post's responses, reports and waiting revision.
    async fn delete_belongings(&self, id: &str) -> Result<(), StoreError> {
        for attrs in self.index_partition(&format!("response#{id}"), &["pk"]).await? {
            if let Some(pk) = attrs.get("pk").and_then(|v| v.as_s().ok()) {
                self.delete_key(pk.clone()).await?;
            }
        }
        for status in REPORT_STATUSES {
            for attrs in self.index_partition(status, &["pk", "post_id"]).await? {
                let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok());
                if let (Some(pk), Some(post_id)) = (text("pk"), text("post_id"))
                    && post_id == id
                {
                    self.delete_key(pk.clone()).await?;
                }
            }
        }
        if let Some(revision) = self.revision(id).await? {
            self.discard_revision(id, revision.received_at).await?;
        }
        Ok(())
    }

    /// Every item of one partition of the status index, with `names` projected (all
    /// attributes when empty).
    async fn index_partition(
        &self,
        partition: &str,
        names: &[&str],
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(STATUS_INDEX)
                .key_condition_expression("#status = :partition")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":partition", s(partition))
                .set_exclusive_start_key(start);
            if !names.is_empty() {
                let projection: Vec<String> = names.iter().map(|n| format!("#p_{n}")).collect();
                query = query.projection_expression(projection.join(", "));
                for name in names {
                    query = query.expression_attribute_names(format!("#p_{name}"), *name);
                }
            }
            let output = query.send().await.map_err(|e| dynamo_error("Query", e))?;
            items.extend(output.items().iter().cloned());
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// The items whose `pk` starts with `prefix` and that have an `email`, by one paged
    /// Scan: privacy requests are rare, and an index by address would keep the address
    /// in one more place.
    async fn scan_with_email(
        &self,
        prefix: &str,
        names: Option<&[&str]>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut scan = self
                .client()
                .scan()
                .table_name(self.table())
                .filter_expression("begins_with(#pk, :prefix) AND attribute_exists(#email)")
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_names("#email", "email")
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start);
            if let Some(names) = names {
                let projection: Vec<String> = names.iter().map(|n| format!("#p_{n}")).collect();
                scan = scan.projection_expression(projection.join(", "));
                for name in names {
                    scan = scan.expression_attribute_names(format!("#p_{name}"), *name);
                }
            }
            let output = scan.send().await.map_err(|e| dynamo_error("Scan", e))?;
            items.extend(output.items().iter().cloned());
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Deletes the item with key `pk`. True if and only if it was there.
    async fn delete_key(&self, pk: String) -> Result<bool, StoreError> {
        let output = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("pk", s(pk))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| dynamo_error("DeleteItem", e))?;
        Ok(output.attributes.is_some_and(|a| !a.is_empty()))
    }
}

/// True when a conditional update was applied, false when its condition failed.
fn is_done<O, R>(
    result: Result<O, SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R>>,
) -> Result<bool, StoreError>
where
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
            Ok(false)
        }
        Err(e) => Err(dynamo_error("UpdateItem", e)),
    }
}

fn number(value: Option<&AttributeValue>) -> Option<i64> {
    value.and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn build_error(operation: &'static str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Dynamo { operation, message: error.to_string() }
}
