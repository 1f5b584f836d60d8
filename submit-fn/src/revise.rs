//! A poster's edit of their own post, and the moderators' decision on it. A waiting post
//! is simply changed in the queue, since nobody has approved it yet; an online post gets a
//! revision ([`crate::store::RevisionStore`]) that waits for a moderator while the
//! published text stays live. Approval publishes the new text through the same publisher,
//! under the same id and address, with an `updated` date; rejection leaves the live text.
//!
//! Invariants: a revision is applied once, by a conditional write, and only the version
//! the moderator saw (a newer edit waits for its own decision); the text is checked by the
//! generator before anything changes; every step is in the audit log.

use chrono::{DateTime, Utc};
use generator::text::clean_line;

use crate::moderate::{Approved, ModerateError, Moderation};
use crate::poster::POSTER_ACTOR;
use crate::store::{AuditAction, QueueItem, Revision, Status, Transition};
use crate::submission::{Submission, field};

/// What a poster's edit did, for the line they read on their management page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOutcome {
    /// The post was still waiting; the queued text is now the new one.
    Replaced,
    /// The post is online; the edit waits for a moderator.
    Queued,
    /// The edit changed nothing.
    Unchanged,
    /// The post had ended; nothing changed.
    Ended(Status),
}

impl EditOutcome {
    /// Every key [`EditOutcome::key`] gives.
    pub const KEYS: [&'static str; 4] =
        ["edited", "edit_queued", "edit_unchanged", "already_ended"];

    /// The name the management page knows the outcome by (`beheren.html`).
    pub fn key(self) -> &'static str {
        match self {
            EditOutcome::Replaced => "edited",
            EditOutcome::Queued => "edit_queued",
            EditOutcome::Unchanged => "edit_unchanged",
            EditOutcome::Ended(_) => "already_ended",
        }
    }
}

/// The fields, by form name, in which `after` differs from `before`, in form order.
pub fn changed_fields(before: &Submission, after: &Submission) -> Vec<&'static str> {
    let checks = [
        (field::KIND, before.kind != after.kind),
        (field::TITLE, before.title != after.title),
        (field::BODY, before.body != after.body),
        (field::CATEGORY, before.category != after.category),
        (field::MUNICIPALITY, before.municipality != after.municipality),
        (field::NEIGHBOURHOOD, before.neighbourhood != after.neighbourhood),
        (field::RECURRING, before.recurring != after.recurring),
        (field::EXPIRES, before.expires != after.expires),
        (field::DISPLAY_NAME, before.display_name != after.display_name),
        (field::ORGANISATION, before.organisation != after.organisation),
        (field::EMAIL, before.email != after.email),
        (field::PHONE, before.phone != after.phone),
    ];
    checks.into_iter().filter(|(_, differs)| *differs).map(|(name, _)| name).collect()
}

impl Moderation {
    /// Takes the poster's edited `submission` of post `id`. `note` names the changed
    /// fields for the audit log, in the words moderators read.
    pub async fn edit_by_poster(
        &self,
        id: &str,
        submission: Submission,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<EditOutcome, ModerateError> {
        let item = self.item(id).await?;
        let waiting = self.queue.revision(id).await?;
        let current = waiting.as_ref().map(|r| &r.submission).unwrap_or(&item.submission);
        if *current == submission {
            return Ok(EditOutcome::Unchanged);
        }
        let note = (!note.is_empty()).then(|| note.to_owned());
        if item.status == Status::Pending {
            match self.queue.correct(id, &submission).await? {
                Transition::Done => {
                    self.audit(POSTER_ACTOR, AuditAction::EditedWhilePending, id, note, now)
                        .await?;
                    tracing::info!(id, "waiting post edited by its poster");
                    return Ok(EditOutcome::Replaced);
                }
                Transition::NotFound => return Err(ModerateError::NotFound(id.to_owned())),
                // Approved meanwhile: the edit becomes a revision of the online post.
                Transition::NotPending(_) => {}
            }
        }
        let revision = Revision { post_id: id.to_owned(), received_at: now, submission };
        match self.queue.propose_revision(&revision).await? {
            Transition::Done => {}
            Transition::NotFound => return Err(ModerateError::NotFound(id.to_owned())),
            Transition::NotPending(status) => return Ok(EditOutcome::Ended(status)),
        }
        self.audit(POSTER_ACTOR, AuditAction::RevisionProposed, id, note, now).await?;
        tracing::info!(id, "revision of an online post queued");
        Ok(EditOutcome::Queued)
    }

    /// Approves the revision of post `id` sent at `received_at` (the one the moderator
    /// saw): the post's text becomes the revision's and is published under its address.
    pub async fn approve_revision(
        &self,
        id: &str,
        received_at: DateTime<Utc>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Approved, ModerateError> {
        let item = self.item(id).await?;
        let revision = self.waiting_revision(id, received_at).await?;
        self.check_publishable(id, &revision.submission, now).await?;
        let slug = self.live_slug(&item).await?;
        let outcome = self.queue.apply_revision(id, received_at, now, &slug).await?;
        self.revision_settled(id, outcome).await?;
        self.audit(actor, AuditAction::RevisionApproved, id, None, now).await?;
        tracing::info!(id, "revision approved");
        let item = self.item(id).await?;
        self.publish_item(&item, now).await
    }

    /// Rejects the revision of post `id` sent at `received_at`; the online text stays, and
    /// the poster receives `reason` by mail when they gave an address.
    pub async fn reject_revision(
        &self,
        id: &str,
        received_at: DateTime<Utc>,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ModerateError> {
        let item = self.item(id).await?;
        let revision = self.waiting_revision(id, received_at).await?;
        if !self.queue.discard_revision(id, received_at).await? {
            return Err(revision_gone(id));
        }
        let note = Some(reason.to_owned());
        self.audit(actor, AuditAction::RevisionRejected, id, note, now).await?;
        tracing::info!(id, "revision rejected");
        // The address the poster gave with the edit is the one they read now.
        let to = revision.submission.email.as_ref().or(item.submission.email.as_ref());
        if let Some(to) = to {
            let (name, title) = (&item.submission.display_name, &item.submission.title);
            let manage_url = self.manage_url(&item);
            let mail = self.mails.revision_rejected_mail(to, name, title, reason, &manage_url);
            self.send(id, mail).await;
        }
        Ok(())
    }

    /// The public address of the post as it is online: with the slug it was first
    /// published with, which a revised title does not change.
    pub async fn live_url(&self, item: &QueueItem) -> Result<String, ModerateError> {
        let slug = self.live_slug(item).await?;
        let path = generator::urls::post(&slug);
        Ok(format!("{}{}", self.site_root, path.trim_start_matches('/')))
    }

    /// The slug the post is online under: kept by an earlier revision, else the one the
    /// publisher derives from the title it was approved with.
    pub(crate) async fn live_slug(&self, item: &QueueItem) -> Result<String, ModerateError> {
        if let Some(revised) = self.queue.revised(&item.id).await? {
            return Ok(revised.slug);
        }
        let title = clean_line(&item.submission.title);
        Ok(generator::slug::unique_post_slug(&title, &item.id))
    }

    /// The waiting revision of `id`, if it is the one sent at `received_at`.
    async fn waiting_revision(
        &self,
        id: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Revision, ModerateError> {
        match self.queue.revision(id).await? {
            Some(revision) if revision.received_at == received_at => Ok(revision),
            _ => Err(revision_gone(id)),
        }
    }

    /// Turns an `apply_revision` that changed nothing into the reason.
    async fn revision_settled(&self, id: &str, outcome: Transition) -> Result<(), ModerateError> {
        match outcome {
            Transition::Done => Ok(()),
            Transition::NotFound => Err(revision_gone(id)),
            Transition::NotPending(status) => {
                let by = self.item(id).await?.decision.map(|d| d.by).unwrap_or_default();
                Err(ModerateError::AlreadyDecided { id: id.to_owned(), status, by })
            }
        }
    }
}

/// The revision was decided by someone else or replaced by a newer edit meanwhile.
fn revision_gone(id: &str) -> ModerateError {
    ModerateError::RevisionGone(id.to_owned())
}
