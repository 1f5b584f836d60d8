//! What a poster does to their own post with the private management link: take it away,
//! say that they were helped, or let it stay longer. The routes are in [`crate::manage`];
//! the decisions live here, beside the moderators' in [`crate::moderate`], because they
//! touch the same queue, publisher and audit log.
//!
//! Invariants: each action is one conditional write in the queue, so a post ends once and
//! an ended post is never extended; the status changes before the site does, and the same
//! action on a post that already ended finishes a site update an earlier attempt left
//! undone; every change is in the audit log with the actor [`POSTER_ACTOR`]; a post that
//! is published again keeps its publication date.

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use generator::text::clean_line;

use crate::moderate::{ModerateError, Moderation};
use crate::publish::PublishError;
use crate::store::{AuditAction, Ending, QueueItem, Status, Transition};

/// Who acts for the poster in the audit log.
pub const POSTER_ACTOR: &str = "plaatser";

/// What an action did, for the line the poster reads after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Withdrawn,
    Helped,
    /// The post now stays until the end of this date.
    Extended(NaiveDate),
    /// The post was already withdrawn, helped or rejected; nothing changed.
    AlreadyEnded(Status),
    /// The post already stays as long as the site allows; nothing changed.
    AlreadyLongest,
}

impl Outcome {
    /// Every key [`Outcome::key`] gives.
    pub const KEYS: [&'static str; 5] =
        ["withdrawn", "helped", "extended", "already_ended", "already_longest"];

    /// The name the management page knows the outcome by (`beheren.html`).
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Withdrawn => "withdrawn",
            Outcome::Helped => "helped",
            Outcome::Extended(_) => "extended",
            Outcome::AlreadyEnded(_) => "already_ended",
            Outcome::AlreadyLongest => "already_longest",
        }
    }
}

impl Moderation {
    /// Takes the post away: out of the queue when it waits, off the site when it is online.
    pub async fn withdraw(&self, id: &str, now: DateTime<Utc>) -> Result<Outcome, ModerateError> {
        self.end(id, Ending::Withdrawn, now).await
    }

    /// Marks the post helped: it leaves the queue or the site, as a withdrawal does.
    pub async fn mark_helped(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Outcome, ModerateError> {
        self.end(id, Ending::Helped, now).await
    }

    /// Lets the post stay until [`Moderation::longest_expiry`]. An online post is published
    /// again with the new date (an expired one comes back); a waiting one keeps the date
    /// for its approval.
    pub async fn extend(&self, id: &str, now: DateTime<Utc>) -> Result<Outcome, ModerateError> {
        let until = self.longest_expiry(now);
        let item = self.item(id).await?;
        if !item.status.is_extendable() {
            return Ok(Outcome::AlreadyEnded(item.status));
        }
        if item.status.is_open() && item.submission.expires.is_some_and(|date| date >= until) {
            // Perhaps pressed again after an extension whose site update failed.
            self.republish_if_approved(id, now).await?;
            return Ok(Outcome::AlreadyLongest);
        }
        // The daily run marked it expired: it comes back as approved, with its approval.
        let written = if item.status == Status::Expired {
            self.queue.revive(id, until).await?
        } else {
            self.queue.extend(id, until).await?
        };
        match written {
            Transition::Done => {}
            Transition::NotPending(status) => return Ok(Outcome::AlreadyEnded(status)),
            Transition::NotFound => return Err(ModerateError::NotFound(id.to_owned())),
        }
        // An edit waiting for a moderator carries the date from before the extension;
        // approving it later must not quietly undo what the poster just asked for.
        if let Some(mut waiting) = self.queue.revision(id).await?
            && waiting.submission.expires.is_none_or(|date| date < until)
        {
            waiting.submission.expires = Some(until);
            self.queue.propose_revision(&waiting).await?;
        }
        let note = Some(until.format("%Y-%m-%d").to_string());
        self.audit(POSTER_ACTOR, AuditAction::Extended, id, note, now).await?;
        tracing::info!(id, "post extended by its poster");
        self.republish_if_approved(id, now).await?;
        Ok(Outcome::Extended(until))
    }

    /// The latest expiry date a poster may choose on the day of `now`: `expiry.max_days`
    /// after today in the site's zone, as the form allows.
    pub fn longest_expiry(&self, now: DateTime<Utc>) -> NaiveDate {
        let today = now.with_timezone(&self.rules.time_zone).date_naive();
        today.checked_add_days(Days::new(self.rules.expiry_max_days.into())).unwrap_or(today)
    }

    /// When the item's post leaves the site by its date, as the generator decides it: the
    /// end of its own `expires` day, else `expiry.default_days` after its approval. `None`
    /// for a waiting post without a date of its own, and for an ended one (an expired one
    /// keeps the date it expired on).
    pub fn expires_at(&self, item: &QueueItem) -> Option<DateTime<FixedOffset>> {
        let tz = self.rules.time_zone;
        let online = matches!(item.status, Status::Approved | Status::Expired);
        if let Some(date) = item.submission.expires.filter(|_| item.status.is_extendable()) {
            let end = NaiveTime::from_hms_opt(23, 59, 59).expect("valid time");
            return Some(generator::dates::in_zone(date.and_time(end), tz));
        }
        let approved = item.decision.as_ref().filter(|_| online)?;
        let local = approved.at.with_timezone(&tz).naive_local();
        let days = chrono::Duration::days(self.rules.expiry_default_days.into());
        Some(generator::dates::in_zone(local + days, tz))
    }

    /// The post's public address, with the slug the publisher freezes into its file.
    pub fn post_url(&self, item: &QueueItem) -> String {
        let title = clean_line(&item.submission.title);
        let slug = generator::slug::unique_post_slug(&title, &item.id);
        format!("{}{}", self.site_root, generator::urls::post(&slug).trim_start_matches('/'))
    }

    async fn end(
        &self,
        id: &str,
        ending: Ending,
        now: DateTime<Utc>,
    ) -> Result<Outcome, ModerateError> {
        match self.queue.close(id, ending, POSTER_ACTOR, now).await? {
            Transition::Done => {}
            Transition::NotFound => return Err(ModerateError::NotFound(id.to_owned())),
            Transition::NotPending(status) => {
                if matches!(status, Status::Withdrawn | Status::Helped) {
                    // Perhaps pressed again after an attempt whose site update failed.
                    self.take_offline(id).await?;
                }
                return Ok(Outcome::AlreadyEnded(status));
            }
        }
        let action = match ending {
            Ending::Withdrawn => AuditAction::Withdrawn,
            Ending::Helped => AuditAction::Helped,
        };
        self.audit(POSTER_ACTOR, action, id, None, now).await?;
        tracing::info!(id, status = ending.status().as_str(), "post ended by its poster");
        self.take_offline(id).await?;
        Ok(match ending {
            Ending::Withdrawn => Outcome::Withdrawn,
            Ending::Helped => Outcome::Helped,
        })
    }

    /// Removes the post from the content store and the site; a post that was never online
    /// (still waiting, or already gone) is fine.
    pub(crate) async fn take_offline(&self, id: &str) -> Result<(), ModerateError> {
        match self.publisher.unpublish(id).await {
            Ok(_) | Err(PublishError::NotPublished(_)) => Ok(()),
            Err(source) => Err(ModerateError::Unpublish { id: id.to_owned(), source }),
        }
    }

    /// Publishes the item again when it is approved. Read after the queue write, so a post
    /// approved meanwhile gets the new date here or from the approval, whichever reads later.
    async fn republish_if_approved(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ModerateError> {
        let item = self.item(id).await?;
        if item.status == Status::Approved {
            self.publish_item(&item, now).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Guards the page's list of outcomes: every outcome's key is one the page accepts back.
    #[test]
    fn every_outcome_key_is_known_to_the_page() {
        let date = NaiveDate::from_ymd_opt(2027, 3, 4).expect("valid date");
        let outcomes = [
            Outcome::Withdrawn,
            Outcome::Helped,
            Outcome::Extended(date),
            Outcome::AlreadyEnded(Status::Rejected),
            Outcome::AlreadyLongest,
        ];
        let keys: Vec<&str> = outcomes.into_iter().map(Outcome::key).collect();
        assert_eq!(keys, Outcome::KEYS);
    }
}
