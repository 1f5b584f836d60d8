//! The daily run, the same for `buurtbord daily`, for `buurtbord serve` shortly after
//! midnight and for the cloud's scheduled function: publish what an interrupted approval
//! left off the site, take expired posts off the site and mark them expired, mail each
//! poster once a few days before their post expires, and purge the personal data of posts
//! that ended longer ago than the retention period.
//!
//! Invariants: every store change is a conditional write or an atomic step of
//! [`crate::store::LifecycleStore`], so two runs at once, or a run repeated after a crash,
//! expire, remind and purge each post once; a post's content file is removed before its
//! queue record is purged, so no post stays online without a record; one post that fails
//! is logged and skipped, never stopping the others. Logs carry post ids and counts only.

use chrono::{DateTime, Days, Utc};

use crate::moderate::{ModerateError, Moderation, Reconciled, SYSTEM_ACTOR};
use crate::store::{AuditAction, QueueItem, Status, Transition};

/// What a daily run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Daily {
    /// What the reconcile published, or could not.
    pub reconciled: Reconciled,
    /// Posts taken off the site because their date passed.
    pub expired: Vec<String>,
    /// Posts whose poster was mailed a reminder.
    pub reminded: Vec<String>,
    /// Posts whose personal data was purged; only their anonymous counts stay.
    pub purged: Vec<String>,
    /// Posts a step failed for, with the reason; the next run tries them again.
    pub failed: Vec<(String, String)>,
}

/// Runs every daily step at `now` with the queue, publisher and mailer of `moderation`.
pub async fn run(moderation: &Moderation, now: DateTime<Utc>) -> Result<Daily, ModerateError> {
    let mut daily = Daily { reconciled: moderation.reconcile(now).await?, ..Daily::default() };
    for item in approved(moderation).await? {
        let ends = moderation.expires_at(&item);
        if ends.is_some_and(|end| end < now) {
            expire(moderation, &item, now, &mut daily).await?;
        } else {
            remind(moderation, &item, now, &mut daily).await?;
        }
    }
    purge(moderation, now, &mut daily).await?;
    tracing::info!(
        published = daily.reconciled.published.len(),
        expired = daily.expired.len(),
        reminded = daily.reminded.len(),
        purged = daily.purged.len(),
        failed = daily.failed.len() + daily.reconciled.failed.len(),
        "daily run done"
    );
    Ok(daily)
}

/// Every approved item, read whole before any changes, so no page is disturbed by them.
async fn approved(moderation: &Moderation) -> Result<Vec<QueueItem>, ModerateError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = moderation.queue.list(Status::Approved, 100, cursor.as_deref()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Marks the item expired, then takes it off the site; a repeat finishes a removal that
/// failed, since the file is checked again at the purge and the next run.
async fn expire(
    moderation: &Moderation,
    item: &QueueItem,
    now: DateTime<Utc>,
    daily: &mut Daily,
) -> Result<(), ModerateError> {
    if moderation.queue.expire(&item.id, now).await? != Transition::Done {
        return Ok(());
    }
    moderation.audit(SYSTEM_ACTOR, AuditAction::Expired, &item.id, None, now).await?;
    match moderation.take_offline(&item.id).await {
        Ok(()) => tracing::info!(id = %item.id, "expired post taken off the site"),
        Err(error) => {
            tracing::error!(id = %item.id, %error, "expired post could not be taken off the site");
            daily.failed.push((item.id.clone(), error.to_string()));
        }
    }
    daily.expired.push(item.id.clone());
    Ok(())
}

/// Mails the poster once when the post leaves the site within `reminder_days` and an
/// extension would give it a later date.
async fn remind(
    moderation: &Moderation,
    item: &QueueItem,
    now: DateTime<Utc>,
    daily: &mut Daily,
) -> Result<(), ModerateError> {
    let days = moderation.rules.reminder_days;
    let (Some(to), Some(ends)) = (&item.submission.email, moderation.expires_at(item)) else {
        return Ok(());
    };
    let last_day = ends.date_naive();
    let today = now.with_timezone(&moderation.rules.time_zone).date_naive();
    let soon = today.checked_add_days(Days::new(days.into())).is_some_and(|d| last_day <= d);
    if days == 0 || !soon || last_day >= moderation.longest_expiry(now) {
        return Ok(());
    }
    if !moderation.queue.claim_reminder(&item.id, last_day).await? {
        return Ok(());
    }
    let extend_url = format!("{}#langer", moderation.manage_url(item));
    let s = &item.submission;
    let sent = match moderation.mails.reminder_mail(
        to,
        &s.display_name,
        &s.title,
        last_day,
        &extend_url,
    ) {
        Ok(mail) => moderation.mailer.send(&mail).await,
        Err(error) => Err(error),
    };
    match sent {
        Ok(()) => {
            tracing::info!(id = %item.id, "expiry reminder mailed");
            daily.reminded.push(item.id.clone());
        }
        Err(error) => {
            // Released, so the next run tries again rather than never.
            tracing::error!(id = %item.id, %error, "expiry reminder could not be mailed");
            moderation.queue.release_reminder(&item.id, last_day).await?;
            daily.failed.push((item.id.clone(), error.to_string()));
        }
    }
    Ok(())
}

/// Purges the posts that ended more than `retention_days` ago, each after making sure its
/// content file is gone.
async fn purge(
    moderation: &Moderation,
    now: DateTime<Utc>,
    daily: &mut Daily,
) -> Result<(), ModerateError> {
    let days = Days::new(moderation.rules.retention_days.into());
    let before = now.checked_sub_days(days).unwrap_or(now);
    for (id, status) in moderation.queue.ended_before(before).await? {
        if let Err(error) = moderation.take_offline(&id).await {
            tracing::error!(id = %id, %error, "ended post still on the site; not purged");
            daily.failed.push((id, error.to_string()));
            continue;
        }
        if moderation.queue.anonymise(&id, Some(status)).await? {
            daily.purged.push(id);
        }
    }
    if !daily.purged.is_empty() {
        tracing::info!(posts = daily.purged.len(), "personal data of ended posts purged");
    }
    Ok(())
}
