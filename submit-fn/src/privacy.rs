//! A resident's requests about their personal data, which the volunteer centre carries out
//! with `buurtbord privacy export|erase <email>`: everything on file for one address, as
//! JSON, and its erasure.
//!
//! Invariants: the export holds the address's own posts (with their private fields, in any
//! status), the responses others sent to them, and the responses written with the address;
//! nothing of another address beyond what was sent to this one, and no moderator's
//! address. An erasure takes the address's published posts off the site before their
//! queue records are anonymised, so no post stays online without a record.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::moderate::{ModerateError, Moderation, SYSTEM_ACTOR};
use crate::store::{AddressRecord, AddressRecords, AuditAction, Erased, PostRecord, Reply};

/// The export as it is printed.
#[derive(Debug, Serialize)]
pub struct Export {
    pub email: String,
    pub posts: Vec<PostExport>,
    /// Responses written with the address to other residents' posts.
    pub responses_sent: Vec<ResponseExport>,
}

/// One post of the address.
#[derive(Debug, Serialize)]
pub struct PostExport {
    pub id: String,
    pub status: &'static str,
    pub received_at: DateTime<Utc>,
    /// Public and private fields as the poster gave them (after a moderator's correction).
    pub submission: crate::submission::Submission,
    /// The salted hash of the address the post was sent from.
    pub ip_hash: String,
    /// When its status last changed, and the reason the poster was given; the moderator
    /// who decided is left out, being another person's data.
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// The poster's edit waiting for a moderator.
    pub waiting_edit: Option<crate::submission::Submission>,
    /// What readers sent to the post through the site.
    pub responses_received: Vec<ResponseExport>,
}

/// One response, without the writer's IP hash when it was received by this address.
#[derive(Debug, Serialize)]
pub struct ResponseExport {
    pub id: String,
    pub post_id: String,
    pub at: DateTime<Utc>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_hash: Option<String>,
}

impl ResponseExport {
    fn new(reply: &Reply, own: bool) -> ResponseExport {
        ResponseExport {
            id: reply.id.clone(),
            post_id: reply.post_id.clone(),
            at: reply.at,
            name: reply.name.clone(),
            email: reply.email.clone(),
            phone: reply.phone.clone(),
            message: reply.message.clone(),
            ip_hash: own.then(|| reply.ip_hash.clone()),
        }
    }
}

impl Export {
    /// The export as indented JSON, the form a resident receives.
    pub fn to_json(&self) -> String {
        // Only strings, numbers and dates: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Shapes the stored record of `email` for printing.
    pub fn new(email: &str, record: &AddressRecord) -> Export {
        Export {
            email: crate::submission::trim(email).to_owned(),
            posts: record.posts.iter().map(PostExport::new).collect(),
            responses_sent: record.sent.iter().map(|r| ResponseExport::new(r, true)).collect(),
        }
    }
}

impl PostExport {
    fn new(record: &PostRecord) -> PostExport {
        let item = &record.item;
        PostExport {
            id: item.id.clone(),
            status: item.status.as_str(),
            received_at: item.received_at,
            submission: item.submission.clone(),
            ip_hash: item.ip_hash.clone(),
            decided_at: item.decision.as_ref().map(|d| d.at),
            reason: item.decision.as_ref().and_then(|d| d.reason.clone()),
            waiting_edit: record.revision.as_ref().map(|r| r.submission.clone()),
            responses_received: record
                .received
                .iter()
                .map(|r| ResponseExport::new(r, false))
                .collect(),
        }
    }
}

/// Everything on file for `email`.
pub async fn export(moderation: &Moderation, email: &str) -> Result<Export, ModerateError> {
    let record = moderation.queue.export_address(email).await?;
    Ok(Export::new(email, &record))
}

/// Takes the address's posts off the site, then erases its personal data from the queue;
/// an audit entry per post says it was erased, without naming the address.
pub async fn erase(
    moderation: &Moderation,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Erased, ModerateError> {
    for id in moderation.queue.post_ids_by_address(email).await? {
        moderation.take_offline(&id).await?;
    }
    let erased = moderation.queue.erase_address(email).await?;
    for id in &erased.posts {
        moderation.audit(SYSTEM_ACTOR, AuditAction::Erased, id, None, now).await?;
    }
    tracing::info!(
        posts = erased.posts.len(),
        responses = erased.responses,
        "personal data erased on request"
    );
    Ok(erased)
}
