//! Moderator accounts: who may log in at `/beheer`, their password hash, and the failed-login
//! counter behind the lockout. `ModeratorStore` is implemented for the SQLite file and the
//! DynamoDB table that already hold the queue.
//!
//! Invariants both stores keep: addresses are stored trimmed, lowercased and NFC-normalised,
//! so one person has one account however the address is typed; a failed login is counted by
//! one compare-and-set write, so concurrent wrong guesses never count past the limit and
//! never extend a running lock.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use unicode_normalization::UnicodeNormalization;

use super::dynamo::{dynamo_error, n, s};
use super::{DynamoQueue, SqliteQueue, StoreError, format_time, parse_time};

/// Wrong passwords in a row that lock an account.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a locked account stays locked.
pub const LOCK_MINUTES: i64 = 15;

/// The moderators table in the queue's SQLite file; `SqliteQueue::open` runs it.
pub(crate) const MODERATORS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS moderators (
    email         TEXT PRIMARY KEY NOT NULL CHECK (length(trim(email)) > 0),
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    added_at      TEXT NOT NULL CHECK (length(trim(added_at)) > 0),
    failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until  INTEGER,
    notify        INTEGER NOT NULL DEFAULT 0 CHECK (notify IN (0, 1))
);
";

/// The DynamoDB `type` of a moderator item, which `moderators()` scans for.
const DYNAMO_TYPE: &str = "moderator";
/// Compare-and-set attempts before a failed login gives up under contention.
const CAS_ATTEMPTS: usize = 20;

/// One moderator account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderator {
    /// Normalised, see `normalize_email`.
    pub email: String,
    /// Argon2id in PHC string format.
    pub password_hash: String,
    pub added_at: DateTime<Utc>,
    pub lock: LockState,
    /// Wants a mail when a new post waits in the queue.
    pub notify: bool,
}

/// The failed-login counter of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockState {
    /// Wrong passwords since the last successful login or the last lock.
    pub failed_logins: u32,
    /// Set when the account was locked; whole seconds, so both stores round-trip it.
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockState {
    /// True if and only if a lock is set and has not run out at `now`.
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// The state after one more wrong password at `now`, or `None` while locked: a guess
    /// during a lock changes nothing, so it cannot make the lock longer.
    pub fn after_failure(&self, now: DateTime<Utc>) -> Option<LockState> {
        if self.is_locked(now) {
            return None;
        }
        // A lock that ran out starts a fresh count.
        let failed_logins = if self.locked_until.is_some() { 1 } else { self.failed_logins + 1 };
        let locked_until = (failed_logins >= MAX_FAILED_LOGINS).then(|| {
            let until = now + Duration::minutes(LOCK_MINUTES);
            DateTime::from_timestamp(until.timestamp(), 0).unwrap_or(until)
        });
        Some(LockState { failed_logins, locked_until })
    }
}

/// Why an account change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModeratorError {
    #[error("a moderator with this address already exists")]
    AlreadyExists,
    #[error("there is no moderator with this address")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The canonical form of an address: trimmed, lowercased, NFC.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase().nfc().collect()
}

/// True if and only if `email` is a syntactically valid address.
pub fn is_valid_email(email: &str) -> bool {
    email_address::EmailAddress::is_valid(email)
}

/// Moderator accounts. Every method normalises the address it is given.
#[async_trait]
pub trait ModeratorStore: Send + Sync {
    /// Stores a new account; `AlreadyExists` when the address has one.
    async fn add_moderator(&self, moderator: &Moderator) -> Result<(), ModeratorError>;

    /// Deletes an account; `Unknown` when there is none.
    async fn remove_moderator(&self, email: &str) -> Result<(), ModeratorError>;

    /// Every account, ordered by address.
    async fn moderators(&self) -> Result<Vec<Moderator>, StoreError>;

    /// The account for this address.
    async fn moderator(&self, email: &str) -> Result<Option<Moderator>, StoreError>;

    /// Counts a wrong password at `now` (see `LockState::after_failure`) and returns the
    /// state afterwards; `None` when there is no such account.
    async fn record_failed_login(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LockState>, StoreError>;

    /// Resets the counter and any lock, after a successful login.
    async fn clear_failed_logins(&self, email: &str) -> Result<(), StoreError>;

    /// Turns the mail about new posts on or off; `Unknown` when there is no such account.
    async fn set_notify(&self, email: &str, notify: bool) -> Result<(), ModeratorError>;
}

const SQL_COLUMNS: &str = "email, password_hash, added_at, failed_logins, locked_until, notify";

#[async_trait]
impl ModeratorStore for SqliteQueue {
    async fn add_moderator(&self, moderator: &Moderator) -> Result<(), ModeratorError> {
        let m = Moderator { email: normalize_email(&moderator.email), ..moderator.clone() };
        let inserted = self
            .with_conn(move |conn| {
                Ok(conn.execute(
                    &format!(
                        "INSERT INTO moderators ({SQL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                         ON CONFLICT DO NOTHING"
                    ),
                    params![
                        m.email,
                        m.password_hash,
                        format_time(m.added_at),
                        m.lock.failed_logins,
                        m.lock.locked_until.map(|t| t.timestamp()),
                        m.notify,
                    ],
                )?)
            })
            .await?;
        if inserted == 0 { Err(ModeratorError::AlreadyExists) } else { Ok(()) }
    }

    async fn remove_moderator(&self, email: &str) -> Result<(), ModeratorError> {
        let email = normalize_email(email);
        let deleted = self
            .with_conn(move |conn| {
                Ok(conn.execute("DELETE FROM moderators WHERE email = ?1", params![email])?)
            })
            .await?;
        if deleted == 0 { Err(ModeratorError::Unknown) } else { Ok(()) }
    }

    async fn moderators(&self) -> Result<Vec<Moderator>, StoreError> {
        self.with_conn(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {SQL_COLUMNS} FROM moderators ORDER BY email"))?;
            let rows = stmt.query_map([], read_moderator)?;
            rows.collect::<Result<Result<Vec<_>, _>, _>>()?
        })
        .await
    }

    async fn moderator(&self, email: &str) -> Result<Option<Moderator>, StoreError> {
        let email = normalize_email(email);
        self.with_conn(move |conn| {
            conn.query_row(
                &format!("SELECT {SQL_COLUMNS} FROM moderators WHERE email = ?1"),
                params![email],
                read_moderator,
            )
            .optional()?
            .transpose()
        })
        .await
    }

    async fn record_failed_login(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LockState>, StoreError> {
        let email = normalize_email(email);
        self.with_conn(move |conn| {
            // IMMEDIATE takes the write lock before reading, so another process on the same
            // file cannot count between our read and our write.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = tx
                .query_row(
                    "SELECT failed_logins, locked_until FROM moderators WHERE email = ?1",
                    params![email],
                    |row| Ok((row.get::<_, u32>(0)?, row.get::<_, Option<i64>>(1)?)),
                )
                .optional()?;
            let Some((failed_logins, locked_until)) = current else { return Ok(None) };
            let current = LockState { failed_logins, locked_until: locked_until.map(seconds) };
            let Some(next) = current.after_failure(now) else { return Ok(Some(current)) };
            tx.execute(
                "UPDATE moderators SET failed_logins = ?2, locked_until = ?3 WHERE email = ?1",
                params![email, next.failed_logins, next.locked_until.map(|t| t.timestamp())],
            )?;
            tx.commit()?;
            Ok(Some(next))
        })
        .await
    }

    async fn clear_failed_logins(&self, email: &str) -> Result<(), StoreError> {
        let email = normalize_email(email);
        self.with_conn(move |conn| {
            conn.execute(
                "UPDATE moderators SET failed_logins = 0, locked_until = NULL WHERE email = ?1",
                params![email],
            )?;
            Ok(())
        })
        .await
    }

    async fn set_notify(&self, email: &str, notify: bool) -> Result<(), ModeratorError> {
        let email = normalize_email(email);
        let updated = self
            .with_conn(move |conn| {
                Ok(conn.execute(
                    "UPDATE moderators SET notify = ?2 WHERE email = ?1",
                    params![email, notify],
                )?)
            })
            .await?;
        if updated == 0 { Err(ModeratorError::Unknown) } else { Ok(()) }
    }
}

/// Reads one row in `SQL_COLUMNS` order; the inner error is a stored value that is invalid.
fn read_moderator(row: &Row<'_>) -> rusqlite::Result<Result<Moderator, StoreError>> {
    let email: String = row.get(0)?;
    let added_at: String = row.get(2)?;
    let lock = LockState {
        failed_logins: row.get(3)?,
        locked_until: row.get::<_, Option<i64>>(4)?.map(seconds),
    };
    let password_hash = row.get(1)?;
    let notify = row.get(5)?;
    Ok(parse_time(&email, &added_at).map(|added_at| Moderator {
        email,
        password_hash,
        added_at,
        lock,
        notify,
    }))
}

fn seconds(timestamp: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(timestamp, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[async_trait]
impl ModeratorStore for DynamoQueue {
    async fn add_moderator(&self, moderator: &Moderator) -> Result<(), ModeratorError> {
        let email = normalize_email(&moderator.email);
        let mut item = HashMap::from([
            ("pk".to_owned(), s(pk(&email))),
            ("type".to_owned(), s(DYNAMO_TYPE)),
            ("email".to_owned(), s(&email)),
            ("password_hash".to_owned(), s(&moderator.password_hash)),
            ("added_at".to_owned(), s(format_time(moderator.added_at))),
            ("failed_logins".to_owned(), n(i64::from(moderator.lock.failed_logins))),
            ("notify".to_owned(), AttributeValue::Bool(moderator.notify)),
        ]);
        if let Some(until) = moderator.lock.locked_until {
            item.insert("locked_until".to_owned(), n(until.timestamp()));
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
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(ModeratorError::AlreadyExists)
            }
            Err(e) => Err(dynamo_error("PutItem", e).into()),
        }
    }

    async fn remove_moderator(&self, email: &str) -> Result<(), ModeratorError> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("pk", s(pk(&normalize_email(email))))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", "pk")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(ModeratorError::Unknown)
            }
            Err(e) => Err(dynamo_error("DeleteItem", e).into()),
        }
    }

    async fn moderators(&self) -> Result<Vec<Moderator>, StoreError> {
        // A scan reads the whole table, queue included; a region has a handful of
        // moderators and this runs only for `moderator list`, so no index is kept for it.
        let mut moderators = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client()
                .scan()
                .table_name(self.table())
                .filter_expression("#type = :moderator")
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":moderator", s(DYNAMO_TYPE))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| dynamo_error("Scan", e))?;
            for attrs in output.items() {
                moderators.push(from_attributes(attrs)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                moderators.sort_by(|a, b| a.email.cmp(&b.email));
                return Ok(moderators);
            }
        }
    }

    async fn moderator(&self, email: &str) -> Result<Option<Moderator>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(pk(&normalize_email(email))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", e))?;
        output.item.map(|attrs| from_attributes(&attrs)).transpose()
    }

    async fn record_failed_login(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LockState>, StoreError> {
        let email = normalize_email(email);
        for _ in 0..CAS_ATTEMPTS {
            let Some(current) = self.moderator(&email).await?.map(|m| m.lock) else {
                return Ok(None);
            };
            let Some(next) = current.after_failure(now) else { return Ok(Some(current)) };
            if self.swap_lock(&email, current, next).await? {
                return Ok(Some(next));
            }
        }
        Err(StoreError::Dynamo {
            operation: "UpdateItem",
            message: "failed-login counter stayed contended".into(),
        })
    }

    async fn clear_failed_logins(&self, email: &str) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(pk(&normalize_email(email))))
            .update_expression("SET #failed = :zero REMOVE #until")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#failed", "failed_logins")
            .expression_attribute_names("#until", "locked_until")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            // A removed account has nothing left to clear.
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(dynamo_error("UpdateItem", e)),
        }
    }

    async fn set_notify(&self, email: &str, notify: bool) -> Result<(), ModeratorError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(pk(&normalize_email(email))))
            .update_expression("SET #notify = :notify")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#notify", "notify")
            .expression_attribute_values(":notify", AttributeValue::Bool(notify))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(ModeratorError::Unknown)
            }
            Err(e) => Err(dynamo_error("UpdateItem", e).into()),
        }
    }
}

impl DynamoQueue {
    /// Writes `next` if the stored counter is still `current`; false when another write
    /// came first (or the account is gone), so the caller reads again.
    async fn swap_lock(
        &self,
        email: &str,
        current: LockState,
        next: LockState,
    ) -> Result<bool, StoreError> {
        let mut condition = "attribute_exists(#pk) AND #failed = :seen".to_owned();
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(pk(email)))
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#failed", "failed_logins")
            .expression_attribute_names("#until", "locked_until")
            .expression_attribute_values(":seen", n(i64::from(current.failed_logins)))
            .expression_attribute_values(":failed", n(i64::from(next.failed_logins)));
        match current.locked_until {
            Some(until) => {
                condition.push_str(" AND #until = :seen_until");
                request = request.expression_attribute_values(":seen_until", n(until.timestamp()));
            }
            None => condition.push_str(" AND attribute_not_exists(#until)"),
        }
        let update = match next.locked_until {
            Some(until) => {
                request = request.expression_attribute_values(":until", n(until.timestamp()));
                "SET #failed = :failed, #until = :until"
            }
            None => "SET #failed = :failed REMOVE #until",
        };
        let result = request.condition_expression(condition).update_expression(update).send().await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(false)
            }
            Err(e) => Err(dynamo_error("UpdateItem", e)),
        }
    }
}

fn pk(email: &str) -> String {
    format!("moderator#{email}")
}

fn from_attributes(attrs: &HashMap<String, AttributeValue>) -> Result<Moderator, StoreError> {
    let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| attrs.get(name).and_then(|v| v.as_n().ok()).map(|v| v.parse::<i64>());
    let email = text("email").unwrap_or_default();
    let malformed = |reason: &str| StoreError::Malformed { id: pk(&email), reason: reason.into() };
    let failed_logins = number("failed_logins")
        .unwrap_or(Ok(0))
        .ok()
        .and_then(|count| u32::try_from(count).ok())
        .ok_or_else(|| malformed("failed_logins is not a count"))?;
    let locked_until = number("locked_until")
        .transpose()
        .map_err(|_| malformed("locked_until is not a number"))?
        .map(seconds);
    let added_at = text("added_at").ok_or_else(|| malformed("missing added_at"))?;
    Ok(Moderator {
        password_hash: text("password_hash").ok_or_else(|| malformed("missing password_hash"))?,
        added_at: parse_time(&pk(&email), &added_at)?,
        lock: LockState { failed_logins, locked_until },
        notify: attrs.get("notify").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    // Guards the lockout rule: the fifth wrong password locks, guesses during the lock
    // change nothing, and after the lock a wrong password starts counting from one.
    #[test]
    fn fifth_failure_locks_and_a_finished_lock_starts_a_fresh_count() {
        let now = Utc.timestamp_opt(1_760_000_000, 0).unwrap();
        let mut state = LockState::default();
        for n in 1..MAX_FAILED_LOGINS {
            state = state.after_failure(now).unwrap();
            assert_eq!((state.failed_logins, state.is_locked(now)), (n, false));
        }
        state = state.after_failure(now).unwrap();
        assert_eq!(state.locked_until, Some(now + Duration::minutes(LOCK_MINUTES)));
        assert_eq!(state.after_failure(now + Duration::minutes(14)), None);
        let later = now + Duration::minutes(LOCK_MINUTES);
        assert!(!state.is_locked(later));
        let fresh = LockState { failed_logins: 1, locked_until: None };
        assert_eq!(state.after_failure(later), Some(fresh));
    }

    // Guards the one-account-per-person rule: case, NFD input and spaces all normalise.
    #[test]
    fn addresses_normalise_to_one_form() {
        assert_eq!(normalize_email("  Rene\u{301}@Example.NL "), "ren\u{e9}@example.nl");
        assert!(is_valid_email("ren\u{e9}@example.nl"));
        assert!(!is_valid_email("not an address"));
    }
}
