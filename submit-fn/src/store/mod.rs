//! The moderation queue: what a queued submission holds, and the `QueueStore` trait that
//! SQLite (one machine) and DynamoDB (AWS) implement with the same behaviour.
//!
//! Invariants both stores keep: creation is idempotent by nonce (a second create with the
//! same id changes nothing and reports the existing item); a status leaves `pending` once,
//! by a conditional write, and a post ends (withdrawn, helped) once, by another; optional
//! fields are absent, never empty strings.

pub mod dynamo;
pub mod lifecycle;
mod lifecycle_dynamo;
pub mod links;
pub mod moderators;
pub mod reports;
pub mod responses;
pub mod revisions;
pub mod sqlite;
pub mod stats;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::submission::Submission;

pub use dynamo::DynamoQueue;
pub use lifecycle::{AddressRecord, AddressRecords, Erased, LifecycleStore, PostRecord};
pub use links::LinkStore;
pub use moderators::{LockState, Moderator, ModeratorError, ModeratorStore};
pub use reports::{Report, ReportStore};
pub use responses::{Reply, ResponseStore};
pub use revisions::{Revised, Revision, RevisionStore};
pub use sqlite::SqliteQueue;
pub use stats::{PostFacts, StatsStore};

/// Where a queued post is in its life (DESIGN.md, "Lifecycle of a post"). An approved post
/// leaves the site when its date passes, whether or not the daily run has yet written
/// `Expired`: the generator decides by the date, the daily run makes the queue agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    /// Taken away by its poster, from the queue or from the site.
    Withdrawn,
    /// Its poster found help (or helped); it left the site.
    Helped,
    /// Taken off the site by a moderator, usually after a report; the decision holds why.
    Removed,
    /// Its date passed and the daily run took it off the site. The decision is still the
    /// approval, so an extension by the poster brings it back with its publication date.
    Expired,
}

impl Status {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
            Status::Helped => "helped",
            Status::Removed => "removed",
            Status::Expired => "expired",
        }
    }

    /// Parses a stored value.
    pub fn parse(value: &str) -> Option<Status> {
        match value {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "rejected" => Some(Status::Rejected),
            "withdrawn" => Some(Status::Withdrawn),
            "helped" => Some(Status::Helped),
            "removed" => Some(Status::Removed),
            "expired" => Some(Status::Expired),
            _ => None,
        }
    }

    /// True if and only if the post is still in play: waiting in the queue or approved.
    /// Only such a post can be ended or extended.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Pending | Status::Approved)
    }

    /// True if and only if its poster can still give the post a later date: while it is
    /// open, and once expired, until its data is purged.
    pub fn is_extendable(self) -> bool {
        self.is_open() || self == Status::Expired
    }
}

/// How a poster ends their own post: the two statuses `QueueStore::close` may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Withdrawn,
    Helped,
}

impl Ending {
    /// The status the post gets.
    pub fn status(self) -> Status {
        match self {
            Ending::Withdrawn => Status::Withdrawn,
            Ending::Helped => Status::Helped,
        }
    }
}

/// One submission in the queue, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    /// The post id (a ULID derived from the nonce, see `Secrets::post_id`).
    pub id: String,
    /// The form's one-time nonce.
    pub nonce: String,
    pub status: Status,
    pub received_at: DateTime<Utc>,
    pub submission: Submission,
    /// SHA-256 of the management token; the token itself is never stored.
    pub token_hash: String,
    /// Salted hash of the client address.
    pub ip_hash: String,
    /// Hash of the submission's content, to tell a retry from a different post that
    /// reuses a nonce.
    pub fingerprint: String,
    /// Set when the status left `pending`.
    pub decision: Option<Decision>,
}

/// The last change of an item's status: a moderator's decision on a pending item, or the
/// poster's ending of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `Approved` or `Rejected`; `Withdrawn` or `Helped` once the poster ended it;
    /// `Removed` once a moderator took it off the site.
    pub status: Status,
    pub by: String,
    pub at: DateTime<Utc>,
    /// Why it was rejected or removed; shown to the poster.
    pub reason: Option<String>,
}

/// What `create` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The item is new.
    Stored,
    /// An item with this id was already there: a retry or double click. Holds it.
    AlreadyReceived(Box<QueueItem>),
}

/// What a conditional status write (`decide`, `correct`, `close`, `extend`) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The item was in a status the write starts from and now has the change.
    Done,
    /// The item was not in such a status (for `decide`: it had already left `pending`);
    /// nothing changed. Holds the status it has.
    NotPending(Status),
    NotFound,
}

/// One page of items of one status, oldest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPage {
    pub items: Vec<QueueItem>,
    /// Opaque; pass to `list_pending` for the next page. `None` on the last page.
    pub next: Option<String>,
}

/// What a moderator (or the system) did to a post, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Approved,
    Rejected,
    /// Fields changed before approval; the note names which.
    Corrected,
    /// Entered by a moderator for a resident who phoned or came to the desk.
    EnteredOnBehalf,
    /// Published again by `publish --reconcile` after an interrupted approval.
    Republished,
    /// Taken away by the poster with the management link.
    Withdrawn,
    /// Marked helped by the poster.
    Helped,
    /// Given a later expiry date by the poster; the note holds the new date.
    Extended,
    /// Taken off the site by a moderator; the note holds the reason the poster received.
    Removed,
    /// A moderator read the reports on a post and left it online.
    ReportsDismissed,
    /// The poster edited an online post; the edit waits as a revision. The note names the
    /// changed fields.
    RevisionProposed,
    /// The poster edited a post still waiting; the queued text was replaced. The note
    /// names the changed fields.
    EditedWhilePending,
    /// A moderator approved a revision: the post's new text is online.
    RevisionApproved,
    /// A moderator rejected a revision; the note holds the reason. The post stays as it was.
    RevisionRejected,
    /// Fresh management links were mailed to the poster's address.
    LinkResent,
    /// Its date passed; the daily run took it off the site.
    Expired,
    /// Its poster's personal data was erased on request; only anonymous counts remain.
    Erased,
}

impl AuditAction {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Approved => "approved",
            AuditAction::Rejected => "rejected",
            AuditAction::Corrected => "corrected",
            AuditAction::EnteredOnBehalf => "entered_on_behalf",
            AuditAction::Republished => "republished",
            AuditAction::Withdrawn => "withdrawn",
            AuditAction::Helped => "helped",
            AuditAction::Extended => "extended",
            AuditAction::Removed => "removed",
            AuditAction::ReportsDismissed => "reports_dismissed",
            AuditAction::RevisionProposed => "revision_proposed",
            AuditAction::EditedWhilePending => "edited_while_pending",
            AuditAction::RevisionApproved => "revision_approved",
            AuditAction::RevisionRejected => "revision_rejected",
            AuditAction::LinkResent => "link_resent",
            AuditAction::Expired => "expired",
            AuditAction::Erased => "erased",
        }
    }

    /// Parses a stored value.
    pub fn parse(value: &str) -> Option<AuditAction> {
        [
            AuditAction::Approved,
            AuditAction::Rejected,
            AuditAction::Corrected,
            AuditAction::EnteredOnBehalf,
            AuditAction::Republished,
            AuditAction::Withdrawn,
            AuditAction::Helped,
            AuditAction::Extended,
            AuditAction::Removed,
            AuditAction::ReportsDismissed,
            AuditAction::RevisionProposed,
            AuditAction::EditedWhilePending,
            AuditAction::RevisionApproved,
            AuditAction::RevisionRejected,
            AuditAction::LinkResent,
            AuditAction::Expired,
            AuditAction::Erased,
        ]
        .into_iter()
        .find(|a| a.as_str() == value)
    }
}

/// One line of the audit log: who did what to which post, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The moderator's e-mail address, `systeem` for the reconciler, or `plaatser` for the
    /// poster.
    pub actor: String,
    pub action: AuditAction,
    pub post_id: String,
    /// A rejection's reason, or the corrected fields.
    pub note: Option<String>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Opaque; pass to `list_audit` for the next (older) page. `None` on the last page.
    pub next: Option<String>,
}

/// A store failure. The resident sees a calm error page, never a confirmation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("dynamodb {operation}: {message}")]
    Dynamo { operation: &'static str, message: String },
    #[error("stored item {id} is malformed: {reason}")]
    Malformed { id: String, reason: String },
    #[error("invalid page cursor")]
    BadCursor,
    /// An existing queue file of zero bytes: SQLite would quietly start an empty queue in
    /// it, and every management link of every poster would stop working.
    #[error(
        "{0}: the queue file is empty (0 bytes); restore it from a backup, or remove it to start with an empty queue"
    )]
    EmptyFile(std::path::PathBuf),
    #[error("store task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The moderation queue. Every method is one conditional or read-only store operation.
/// The responses and reports on its posts live in the same store, so whoever holds the
/// queue can reach them; so do the moderator accounts, who receive what no poster can.
#[async_trait]
pub trait QueueStore:
    ResponseStore
    + ReportStore
    + RevisionStore
    + LinkStore
    + StatsStore
    + LifecycleStore
    + ModeratorStore
    + Send
    + Sync
{
    /// Stores a new pending item unless one with the same id exists.
    async fn create(&self, item: &QueueItem) -> Result<Created, StoreError>;

    /// The item with this id.
    async fn get(&self, id: &str) -> Result<Option<QueueItem>, StoreError>;

    /// Items with `status`, oldest first, at most `limit` per page.
    async fn list(
        &self,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<PendingPage, StoreError>;

    /// Pending items, oldest first, at most `limit` per page.
    async fn list_pending(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<PendingPage, StoreError> {
        self.list(Status::Pending, limit, cursor).await
    }

    /// How many items have `status`.
    async fn count(&self, status: Status) -> Result<usize, StoreError>;

    /// Replaces a pending item's submission (a moderator's correction); an item that left
    /// `pending` is left alone. The nonce, token and fingerprint stay, so the resident's
    /// retry of the original form is still recognised.
    async fn correct(&self, id: &str, submission: &Submission) -> Result<Transition, StoreError>;

    /// Appends one entry to the audit log.
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// The audit log, newest first, at most `limit` per page.
    async fn list_audit(&self, limit: usize, cursor: Option<&str>)
    -> Result<AuditPage, StoreError>;

    /// Counts one post for `ip_hash` in the window named `window` (e.g. the hour), unless
    /// `max` were already counted there. Returns whether the post may go ahead.
    async fn take_rate_slot(
        &self,
        ip_hash: &str,
        window: &str,
        max: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Moves a pending item to the decision's status; any other state is left alone.
    async fn decide(&self, id: &str, decision: &Decision) -> Result<Transition, StoreError>;

    /// Ends a pending, approved or expired item as `ending` says, with `by` and `at` as its
    /// new decision; any other state is left alone, so a post ends once.
    async fn close(
        &self,
        id: &str,
        ending: Ending,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Transition, StoreError>;

    /// Sets the expiry date of a pending or approved item; any other state is left alone.
    /// The status and decision stay, so a republished post keeps its publication date.
    async fn extend(&self, id: &str, expires: NaiveDate) -> Result<Transition, StoreError>;

    /// Moves an approved item to `Removed` with `decision` (a moderator, a time and the
    /// reason the poster receives); any other state is left alone, so a post is taken
    /// offline once.
    async fn remove(&self, id: &str, decision: &Decision) -> Result<Transition, StoreError>;
}

/// Formats a time so that text order is time order: UTC, microseconds, fixed width.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses what `format_time` wrote.
pub fn parse_time(id: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| {
        StoreError::Malformed { id: id.to_owned(), reason: format!("time {text:?}: {e}") }
    })
}
