//! The queue in one SQLite file under `data/`, for `buurtbord serve`.
//!
//! The schema refuses what DynamoDB refuses (empty keys, empty optional strings), so local
//! tests fail where production would (case C23). WAL mode lets readers run beside the
//! writer; one connection behind a mutex serialises writes, which SQLite does anyway. A file
//! written before the poster's statuses (or `removed`, or `expired`) existed is migrated
//! when opened; the tables of responses and reports are added to an older file then too.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    AuditAction, AuditEntry, AuditPage, Created, Decision, Ending, PendingPage, QueueItem,
    QueueStore, Status, StoreError, Transition, format_time, parse_time,
};
use crate::submission::{Kind, Submission};

const PRAGMAS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
";

/// The statuses the `status` column allows; a file whose table lacks any of them is from
/// before it and is migrated by `migrate_statuses`.
const STATUS_CHECK: &str =
    "'pending', 'approved', 'rejected', 'withdrawn', 'helped', 'removed', 'expired'";

/// The submissions table, with `{status_check}` standing for `STATUS_CHECK`.
const SUBMISSIONS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS submissions (
    id            TEXT PRIMARY KEY NOT NULL CHECK (length(trim(id)) > 0),
    nonce         TEXT NOT NULL UNIQUE CHECK (length(trim(nonce)) > 0),
    status        TEXT NOT NULL CHECK (status IN ({status_check})),
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
    phone         TEXT CHECK (phone IS NULL OR length(trim(phone)) > 0),
    token_hash    TEXT NOT NULL CHECK (length(trim(token_hash)) > 0),
    ip_hash       TEXT NOT NULL CHECK (length(trim(ip_hash)) > 0),
    fingerprint   TEXT NOT NULL CHECK (length(trim(fingerprint)) > 0),
    decided_by    TEXT CHECK (decided_by IS NULL OR length(trim(decided_by)) > 0),
    decided_at    TEXT,
    reason        TEXT CHECK (reason IS NULL OR length(trim(reason)) > 0)
);
";

const SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS submissions_by_status ON submissions (status, received_at, id);
CREATE TABLE IF NOT EXISTS rate_limits (
    ip_hash    TEXT NOT NULL CHECK (length(trim(ip_hash)) > 0),
    window     TEXT NOT NULL CHECK (length(trim(window)) > 0),
    count      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (ip_hash, window)
);
CREATE TABLE IF NOT EXISTS audit (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL CHECK (length(trim(at)) > 0),
    actor   TEXT NOT NULL CHECK (length(trim(actor)) > 0),
    action  TEXT NOT NULL CHECK (length(trim(action)) > 0),
    post_id TEXT NOT NULL CHECK (length(trim(post_id)) > 0),
    note    TEXT CHECK (note IS NULL OR length(trim(note)) > 0)
);
";

const COLUMNS: &str = "id, nonce, status, received_at, kind, title, body, category, \
    municipality, neighbourhood, recurring, expires, display_name, organisation, email, phone, \
    token_hash, ip_hash, fingerprint, decided_by, decided_at, reason";

/// The SQLite queue. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteQueue {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteQueue {
    /// Opens (and creates when needed) the queue file, e.g. `data/queue.sqlite3`.
    pub fn open(path: &Path) -> Result<SqliteQueue, StoreError> {
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(StoreError::EmptyFile(path.to_owned()));
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(PRAGMAS)?;
        conn.execute_batch(&submissions_table())?;
        migrate_statuses(&mut conn)?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(super::moderators::MODERATORS_SCHEMA)?;
        conn.execute_batch(super::responses::RESPONSES_SCHEMA)?;
        conn.execute_batch(super::reports::REPORTS_SCHEMA)?;
        conn.execute_batch(super::revisions::REVISIONS_SCHEMA)?;
        conn.execute_batch(super::links::LINKS_SCHEMA)?;
        conn.execute_batch(super::lifecycle::LIFECYCLE_SCHEMA)?;
        conn.execute_batch(super::stats::STATS_SCHEMA)?;
        Ok(SqliteQueue { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `work` on the connection off the async threads. Other tables of the same file
    /// (moderators, audit log) use it too.
    pub(crate) async fn with_conn<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-written row: each call is
            // one statement or one transaction, so the poisoned guard is still usable.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await?
    }
}

#[async_trait]
impl QueueStore for SqliteQueue {
    async fn create(&self, item: &QueueItem) -> Result<Created, StoreError> {
        let item = item.clone();
        self.with_conn(move |conn| {
            let s = &item.submission;
            let inserted = conn.execute(
                &format!(
                    "INSERT INTO submissions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                     ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, NULL, NULL, \
                     NULL) ON CONFLICT DO NOTHING"
                ),
                params![
                    item.id,
                    item.nonce,
                    item.status.as_str(),
                    format_time(item.received_at),
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
                    item.token_hash,
                    item.ip_hash,
                    item.fingerprint,
                ],
            )?;
            if inserted == 1 {
                return Ok(Created::Stored);
            }
            // The conflict was on the id or on the nonce; either way report what is there.
            let existing = conn
                .query_row(
                    &format!("SELECT {COLUMNS} FROM submissions WHERE id = ?1 OR nonce = ?2"),
                    params![item.id, item.nonce],
                    read_item,
                )
                .optional()?
                .ok_or_else(|| StoreError::Malformed {
                    id: item.id.clone(),
                    reason: "insert conflicted but no row matches".into(),
                })??;
            Ok(Created::AlreadyReceived(Box::new(existing)))
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<QueueItem>, StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM submissions WHERE id = ?1"),
                params![id],
                read_item,
            )
            .optional()?
            .transpose()
        })
        .await
    }

    async fn list(
        &self,
        status: Status,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<PendingPage, StoreError> {
        let after = match cursor {
            Some(c) => c.split_once('|').map(|(t, i)| (t.to_owned(), i.to_owned())),
            None => Some((String::new(), String::new())),
        }
        .ok_or(StoreError::BadCursor)?;
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM submissions WHERE status = ?4 \
                 AND (received_at, id) > (?1, ?2) ORDER BY received_at, id LIMIT ?3"
            ))?;
            // One row more than asked tells whether there is a next page.
            let rows = stmt.query_map(
                params![after.0, after.1, limit as i64 + 1, status.as_str()],
                read_item,
            )?;
            let mut items = rows.collect::<Result<Result<Vec<_>, _>, _>>()??;
            let next = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|i| format!("{}|{}", format_time(i.received_at), i.id))
            } else {
                None
            };
            Ok(PendingPage { items, next })
        })
        .await
    }

    async fn take_rate_slot(
        &self,
        ip_hash: &str,
        window: &str,
        max: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (ip_hash, window) = (ip_hash.to_owned(), window.to_owned());
        self.with_conn(move |conn| {
            // Old windows are worthless; dropping them here keeps the table small.
            conn.execute(
                "DELETE FROM rate_limits WHERE expires_at < ?1",
                params![Utc::now().timestamp()],
            )?;
            let changed = conn.execute(
                "INSERT INTO rate_limits (ip_hash, window, count, expires_at) \
                 VALUES (?1, ?2, 1, ?3) ON CONFLICT (ip_hash, window) \
                 DO UPDATE SET count = count + 1 WHERE count < ?4",
                params![ip_hash, window, expires_at.timestamp(), max],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn count(&self, status: Status) -> Result<usize, StoreError> {
        self.with_conn(move |conn| {
            let count: i64 = conn.query_row(
                "SELECT COUNT(*) FROM submissions WHERE status = ?1",
                params![status.as_str()],
                |r| r.get(0),
            )?;
            Ok(usize::try_from(count).unwrap_or(0))
        })
        .await
    }

    async fn correct(&self, id: &str, submission: &Submission) -> Result<Transition, StoreError> {
        let (id, s) = (id.to_owned(), submission.clone());
        self.with_conn(move |conn| {
            let changed = conn.execute(
                "UPDATE submissions SET kind = ?2, title = ?3, body = ?4, category = ?5, \
                 municipality = ?6, neighbourhood = ?7, recurring = ?8, expires = ?9, \
                 display_name = ?10, organisation = ?11, email = ?12, phone = ?13 \
                 WHERE id = ?1 AND status = 'pending'",
                params![
                    id,
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
            if changed == 1 {
                return Ok(Transition::Done);
            }
            status_transition(conn, &id)
        })
        .await
    }

    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let entry = entry.clone();
        self.with_conn(move |conn| {
            conn.execute(
                "INSERT INTO audit (at, actor, action, post_id, note) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    format_time(entry.at),
                    entry.actor,
                    entry.action.as_str(),
                    entry.post_id,
                    entry.note
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn list_audit(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<AuditPage, StoreError> {
        let before = match cursor {
            Some(c) => c.parse::<i64>().map_err(|_| StoreError::BadCursor)?,
            None => i64::MAX,
        };
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, at, actor, action, post_id, note FROM audit WHERE seq < ?1 \
                 ORDER BY seq DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![before, limit as i64 + 1], |row| {
                let seq: i64 = row.get(0)?;
                let at: String = row.get(1)?;
                let action: String = row.get(3)?;
                Ok((seq, at, row.get::<_, String>(2)?, action, row.get(4)?, row.get(5)?))
            })?;
            let mut entries = Vec::new();
            let mut last_seq = None;
            for row in rows {
                let (seq, at, actor, action, post_id, note): (_, _, _, _, String, _) = row?;
                if entries.len() == limit {
                    return Ok(AuditPage { entries, next: last_seq.map(|s: i64| s.to_string()) });
                }
                let action = AuditAction::parse(&action).ok_or_else(|| StoreError::Malformed {
                    id: post_id.clone(),
                    reason: format!("audit action {action:?}"),
                })?;
                entries.push(AuditEntry {
                    at: parse_time(&post_id, &at)?,
                    actor,
                    action,
                    post_id,
                    note,
                });
                last_seq = Some(seq);
            }
            Ok(AuditPage { entries, next: None })
        })
        .await
    }

    async fn decide(&self, id: &str, decision: &Decision) -> Result<Transition, StoreError> {
        let (id, decision) = (id.to_owned(), decision.clone());
        self.with_conn(move |conn| {
            let changed = conn.execute(
                "UPDATE submissions SET status = ?2, decided_by = ?3, decided_at = ?4, \
                 reason = ?5 WHERE id = ?1 AND status = 'pending'",
                params![
                    id,
                    decision.status.as_str(),
                    decision.by,
                    format_time(decision.at),
                    decision.reason
                ],
            )?;
            if changed == 1 {
                return Ok(Transition::Done);
            }
            status_transition(conn, &id)
        })
        .await
    }

    async fn close(
        &self,
        id: &str,
        ending: Ending,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Transition, StoreError> {
        let (id, by) = (id.to_owned(), by.to_owned());
        self.with_conn(move |conn| {
            let changed = conn.execute(
                "UPDATE submissions SET status = ?2, decided_by = ?3, decided_at = ?4, \
                 reason = NULL WHERE id = ?1 AND status IN ('pending', 'approved', 'expired')",
                params![id, ending.status().as_str(), by, format_time(at)],
            )?;
            if changed == 1 {
                return Ok(Transition::Done);
            }
            status_transition(conn, &id)
        })
        .await
    }

    async fn remove(&self, id: &str, decision: &Decision) -> Result<Transition, StoreError> {
        let (id, decision) = (id.to_owned(), decision.clone());
        self.with_conn(move |conn| {
            let changed = conn.execute(
                "UPDATE submissions SET status = ?2, decided_by = ?3, decided_at = ?4, \
                 reason = ?5 WHERE id = ?1 AND status = 'approved'",
                params![
                    id,
                    Status::Removed.as_str(),
                    decision.by,
                    format_time(decision.at),
                    decision.reason
                ],
            )?;
            if changed == 1 {
                return Ok(Transition::Done);
            }
            status_transition(conn, &id)
        })
        .await
    }

    async fn extend(&self, id: &str, expires: NaiveDate) -> Result<Transition, StoreError> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            let changed = conn.execute(
                "UPDATE submissions SET expires = ?2 \
                 WHERE id = ?1 AND status IN ('pending', 'approved')",
                params![id, expires.format("%Y-%m-%d").to_string()],
            )?;
            if changed == 1 {
                return Ok(Transition::Done);
            }
            status_transition(conn, &id)
        })
        .await
    }
}

fn submissions_table() -> String {
    SUBMISSIONS_TABLE.replace("{status_check}", STATUS_CHECK)
}

/// SQLite cannot change a CHECK constraint in place, so a table from before a status (such
/// as `withdrawn`, `helped` or `removed`) is rebuilt in one transaction, the documented way
/// (<https://www.sqlite.org/lang_altertable.html#otheralter>): new table, copy, drop, rename.
/// The check runs inside the write transaction, so two processes opening the file at once
/// migrate it once.
fn migrate_statuses(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sql: String = tx.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'submissions'",
        [],
        |r| r.get(0),
    )?;
    if STATUS_CHECK.split(", ").all(|status| sql.contains(status)) {
        return Ok(());
    }
    let new_table = submissions_table()
        .replace("CREATE TABLE IF NOT EXISTS submissions (", "CREATE TABLE submissions_new (");
    tx.execute_batch(&new_table)?;
    tx.execute_batch(&format!(
        "INSERT INTO submissions_new ({COLUMNS}) SELECT {COLUMNS} FROM submissions;
         DROP TABLE submissions;
         ALTER TABLE submissions_new RENAME TO submissions;"
    ))?;
    tx.commit()?;
    tracing::info!("queue file migrated to the current statuses");
    Ok(())
}

/// Why a conditional update on `id` changed nothing: the status it has, or that it is not
/// there.
fn status_transition(conn: &Connection, id: &str) -> Result<Transition, StoreError> {
    let status: Option<String> = conn
        .query_row("SELECT status FROM submissions WHERE id = ?1", params![id], |r| r.get(0))
        .optional()?;
    Ok(match status.as_deref().and_then(Status::parse) {
        Some(status) => Transition::NotPending(status),
        None => Transition::NotFound,
    })
}

/// Reads one row in `COLUMNS` order. The outer error is SQLite's, the inner one a value
/// that SQLite stored but that is not a valid item.
fn read_item(row: &Row<'_>) -> rusqlite::Result<Result<QueueItem, StoreError>> {
    let id: String = row.get("id")?;
    let text = |name: &str| row.get::<_, String>(name);
    let optional = |name: &str| row.get::<_, Option<String>>(name);
    let malformed = |reason: String| StoreError::Malformed { id: id.clone(), reason };

    let status = text("status")?;
    let kind = text("kind")?;
    let expires = optional("expires")?;
    let received_at = text("received_at")?;
    let decided_at = optional("decided_at")?;
    let decided_by = optional("decided_by")?;
    let reason = optional("reason")?;
    let submission = Submission {
        kind: match Kind::parse(&kind) {
            Some(kind) => kind,
            None => return Ok(Err(malformed(format!("kind {kind:?}")))),
        },
        title: text("title")?,
        body: text("body")?,
        category: text("category")?,
        municipality: text("municipality")?,
        neighbourhood: optional("neighbourhood")?,
        recurring: row.get("recurring")?,
        expires: match expires.map(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d")).transpose() {
            Ok(date) => date,
            Err(e) => return Ok(Err(malformed(format!("expires: {e}")))),
        },
        display_name: text("display_name")?,
        organisation: optional("organisation")?,
        email: optional("email")?,
        phone: optional("phone")?,
    };
    let Some(status) = Status::parse(&status) else {
        return Ok(Err(malformed(format!("status {status:?}"))));
    };
    Ok((|| {
        let decision = match (decided_by, decided_at) {
            (Some(by), Some(at)) => {
                Some(Decision { status, by, at: parse_time(&id, &at)?, reason: reason.clone() })
            }
            _ => None,
        };
        Ok(QueueItem {
            id: id.clone(),
            nonce: text("nonce").map_err(StoreError::from)?,
            status,
            received_at: parse_time(&id, &received_at)?,
            submission,
            token_hash: text("token_hash").map_err(StoreError::from)?,
            ip_hash: text("ip_hash").map_err(StoreError::from)?,
            fingerprint: text("fingerprint").map_err(StoreError::from)?,
            decision,
        })
    })())
}
