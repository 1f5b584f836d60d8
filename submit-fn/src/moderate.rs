//! Moderation decisions, the same for `/beheer` and the command line: approve (optionally
//! after a correction), reject with a reason, enter a post on behalf of a resident, and
//! reconcile the queue with the content store after an interrupted approval.
//!
//! Invariants: a post leaves `pending` once, by the store's conditional write, so two
//! moderators approving at once give one publication and the second learns who was first;
//! the status changes before anything is published, so a crash in between leaves an
//! approved item without a content file, which `reconcile` (run at every start and by
//! `buurtbord publish --reconcile`) publishes; a post its poster ended while it was being
//! published goes offline again; every decision is in the audit log.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::mail::{MailTemplates, Mailer};
use crate::publish::{PublishError, Publisher, post_file, revised_post_file};
use crate::rules::SiteRules;
use crate::spam::{Secrets, new_nonce, token_hash};
use crate::store::{
    AuditAction, AuditEntry, Decision, QueueItem, QueueStore, Status, StoreError, Transition,
};
use crate::submission::Submission;

/// Who acts for the reconciler in the audit log.
pub const SYSTEM_ACTOR: &str = "systeem";
/// Marks items entered at the desk where a client address would be, since there is none.
const DESK_IP_HASH: &str = "balie";

/// Everything a decision touches.
pub struct Moderation {
    pub queue: Arc<dyn QueueStore>,
    pub publisher: Arc<dyn Publisher>,
    pub mailer: Arc<dyn Mailer>,
    pub mails: MailTemplates,
    pub secrets: Secrets,
    pub rules: SiteRules,
    /// The public site's base URL, ending in `/`; the management links start here.
    pub site_root: String,
    /// Ready-made reasons for a rejection, from site.yaml.
    pub reject_reasons: Vec<String>,
}

/// What a reconcile did: the posts it published, and those it could not, with the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub published: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// What an approval did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub id: String,
    pub title: String,
    /// The post's public address.
    pub url: String,
}

/// Why a decision was not carried out. Display is English; the pages say it in Dutch.
#[derive(Debug, thiserror::Error)]
pub enum ModerateError {
    #[error("post {0} is not in the queue")]
    NotFound(String),
    #[error("post {id} was already {} by {by}", status.as_str())]
    AlreadyDecided { id: String, status: Status, by: String },
    /// The post as it stands would be refused by the generator; nothing was changed, so the
    /// moderator can correct it or reject it.
    #[error("post {id} cannot be published as it is: {source}")]
    Unpublishable { id: String, source: PublishError },
    /// The decision stands but the site was not updated; reconcile repairs it.
    #[error("post {id} is approved but not published: {source}")]
    Publish { id: String, source: PublishError },
    /// The poster ended the post but it is still on the site; doing it again repairs it.
    #[error("post {id} is ended but still on the site: {source}")]
    Unpublish { id: String, source: PublishError },
    /// The revision a moderator decided on no longer waits: another moderator decided it,
    /// or the poster replaced it by a newer edit.
    #[error("the revision of post {0} no longer waits")]
    RevisionGone(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Moderation {
    /// The private management link of an item, to give to the poster.
    pub fn manage_url(&self, item: &QueueItem) -> String {
        let token = self.secrets.management_token(&item.nonce);
        format!("{}{}/{}?token={token}", self.site_root, crate::app::MANAGE_PATH, item.id)
    }

    /// Approves a pending post, with `correction` replacing its fields first, publishes it
    /// and mails the poster.
    pub async fn approve(
        &self,
        id: &str,
        actor: &str,
        correction: Option<(&Submission, &str)>,
        now: DateTime<Utc>,
    ) -> Result<Approved, ModerateError> {
        let current = self.item(id).await?;
        let submission = correction.map(|(s, _)| s).unwrap_or(&current.submission);
        self.check_publishable(id, submission, now).await?;
        if let Some((submission, changed)) = correction {
            let outcome = self.queue.correct(id, submission).await?;
            self.settled(id, outcome).await?;
            let note = (!changed.is_empty()).then(|| changed.to_owned());
            self.audit(actor, AuditAction::Corrected, id, note, now).await?;
        }
        let decision =
            Decision { status: Status::Approved, by: actor.to_owned(), at: now, reason: None };
        let outcome = self.queue.decide(id, &decision).await?;
        self.settled(id, outcome).await?;
        self.audit(actor, AuditAction::Approved, id, None, now).await?;
        tracing::info!(id, "post approved");
        self.publish_approved(id, now).await
    }

    /// Rejects a pending post with `reason`, which the poster receives.
    pub async fn reject(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ModerateError> {
        let decision = Decision {
            status: Status::Rejected,
            by: actor.to_owned(),
            at: now,
            reason: Some(reason.to_owned()),
        };
        let outcome = self.queue.decide(id, &decision).await?;
        self.settled(id, outcome).await?;
        self.audit(actor, AuditAction::Rejected, id, Some(reason.to_owned()), now).await?;
        tracing::info!(id, "post rejected");
        let item = self.item(id).await?;
        if let Some(to) = &item.submission.email {
            let new_post_url = self.public_url(generator::urls::form(item.submission.kind.into()));
            let name = &item.submission.display_name;
            let mail =
                self.mails.rejected_mail(to, name, &item.submission.title, reason, &new_post_url);
            self.send(id, mail).await;
        }
        Ok(())
    }

    /// Takes a published post off the site for `reason`, which its poster receives by
    /// mail, and closes the reports on it. The status changes first, by a conditional write,
    /// then the site follows through the same unpublish path as a poster's withdrawal; when
    /// the post was already taken offline, pressing again finishes a site update that failed.
    /// A post without a queue record is taken off the site alone (see `take_down_content`).
    pub async fn take_down(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ModerateError> {
        let decision = Decision {
            status: Status::Removed,
            by: actor.to_owned(),
            at: now,
            reason: Some(reason.to_owned()),
        };
        let outcome = self.queue.remove(id, &decision).await?;
        if outcome == Transition::NotFound {
            return self.take_down_content(id, actor, reason, now).await;
        }
        if outcome == Transition::NotPending(Status::Removed) {
            self.take_offline(id).await?;
        }
        self.settled(id, outcome).await?;
        self.audit(actor, AuditAction::Removed, id, Some(reason.to_owned()), now).await?;
        tracing::info!(id, "post taken offline by a moderator");
        self.take_offline(id).await?;
        self.queue.close_reports(id, now).await?;
        let item = self.item(id).await?;
        if let Some(to) = &item.submission.email {
            let new_post_url = self.public_url(generator::urls::form(item.submission.kind.into()));
            let (name, title) = (&item.submission.display_name, &item.submission.title);
            let mail = self.mails.removed_mail(to, name, title, reason, &new_post_url);
            self.send(id, mail).await;
        }
        Ok(())
    }

    /// Takes offline a post that only the content store holds (a sample post, one written by
    /// hand or imported). There is no status to change and no poster to mail: removing the
    /// content file is the decision, and the audit log keeps the reason. Once it is gone, a
    /// second press finds nothing and is told so, and nothing is logged twice.
    async fn take_down_content(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ModerateError> {
        match self.publisher.unpublish(id).await {
            Ok(_) => {}
            Err(PublishError::NotPublished(_)) => return Err(ModerateError::NotFound(id.into())),
            Err(source) => return Err(ModerateError::Unpublish { id: id.to_owned(), source }),
        }
        self.audit(actor, AuditAction::Removed, id, Some(reason.to_owned()), now).await?;
        tracing::info!(id, "post without a queue record taken offline by a moderator");
        self.queue.close_reports(id, now).await?;
        Ok(())
    }

    /// Closes the open reports on post `id` and leaves the post as it is; returns how many
    /// were closed. Only a dismissal that closed something is in the audit log.
    pub async fn dismiss_reports(
        &self,
        id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, ModerateError> {
        let closed = self.queue.close_reports(id, now).await?;
        if closed > 0 {
            let note = Some(closed.to_string());
            self.audit(actor, AuditAction::ReportsDismissed, id, note, now).await?;
            tracing::info!(id, reports = closed, "reports dismissed");
        }
        Ok(closed)
    }

    /// Queues and approves a post that a moderator typed in for a resident (phone, desk).
    /// Returns the approval and the management link to hand to the resident.
    pub async fn enter_on_behalf(
        &self,
        actor: &str,
        submission: Submission,
        now: DateTime<Utc>,
    ) -> Result<(Approved, String), ModerateError> {
        let nonce = new_nonce();
        let fingerprint =
            serde_json::to_string(&submission).map(|json| crate::spam::token_hash(&json));
        let item = QueueItem {
            id: self.secrets.post_id(&nonce, now.timestamp()),
            token_hash: token_hash(&self.secrets.management_token(&nonce)),
            nonce,
            status: Status::Pending,
            received_at: now,
            submission,
            ip_hash: DESK_IP_HASH.to_owned(),
            fingerprint: fingerprint.unwrap_or_else(|_| DESK_IP_HASH.to_owned()),
            decision: None,
        };
        self.queue.create(&item).await?;
        self.audit(actor, AuditAction::EnteredOnBehalf, &item.id, None, now).await?;
        let approved = self.approve(&item.id, actor, None, now).await?;
        Ok((approved, self.manage_url(&item)))
    }

    /// Publishes every approved post that the content store lacks (an approval that was
    /// interrupted between the status change and the rebuild) and mails its poster, as the
    /// approval would have. A post that fails is logged and skipped, so one bad post never
    /// keeps the others off the site or stops a start.
    pub async fn reconcile(&self, now: DateTime<Utc>) -> Result<Reconciled, ModerateError> {
        let mut done = Reconciled::default();
        let mut cursor = None;
        loop {
            let page = self.queue.list(Status::Approved, 100, cursor.as_deref()).await?;
            for item in &page.items {
                let published = self
                    .publisher
                    .is_published(&item.id)
                    .await
                    .map_err(|source| ModerateError::Publish { id: item.id.clone(), source })?;
                if published {
                    continue;
                }
                match self.publish_item(item, now).await {
                    Ok(approved) => {
                        self.audit(SYSTEM_ACTOR, AuditAction::Republished, &item.id, None, now)
                            .await?;
                        tracing::info!(id = %item.id, "approved post published by reconcile");
                        self.mail_approved(item, &approved).await;
                        done.published.push(item.id.clone());
                    }
                    Err(error) => {
                        tracing::error!(id = %item.id, %error, "reconcile could not publish");
                        done.failed.push((item.id.clone(), error.to_string()));
                    }
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(done),
            }
        }
    }

    /// `path` (from `generator::urls`) as an absolute address on the public site.
    fn public_url(&self, path: &str) -> String {
        format!("{}{}", self.site_root, path.trim_start_matches('/'))
    }

    /// The item, or `NotFound`.
    pub async fn item(&self, id: &str) -> Result<QueueItem, ModerateError> {
        self.queue.get(id).await?.ok_or_else(|| ModerateError::NotFound(id.to_owned()))
    }

    async fn publish_approved(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Approved, ModerateError> {
        // Read after the decision, so a correction that won the race is what is published.
        let item = self.item(id).await?;
        let approved = self.publish_item(&item, now).await?;
        self.mail_approved(&item, &approved).await;
        Ok(approved)
    }

    /// Tells the poster the post is online, with their management link.
    async fn mail_approved(&self, item: &QueueItem, approved: &Approved) {
        if let Some(to) = &item.submission.email {
            let manage_url = self.manage_url(item);
            let name = &item.submission.display_name;
            let title = &item.submission.title;
            let mail = self.mails.approved_mail(to, name, title, &approved.url, &manage_url);
            self.send(&item.id, mail).await;
        }
    }

    /// Refuses, before anything changes, a post the generator would not publish.
    pub(crate) async fn check_publishable(
        &self,
        id: &str,
        submission: &Submission,
        now: DateTime<Utc>,
    ) -> Result<(), ModerateError> {
        let published_at = now.with_timezone(&self.rules.time_zone).fixed_offset();
        let text = post_file(id, submission, published_at);
        self.publisher
            .check(id, &text)
            .await
            .map_err(|source| ModerateError::Unpublishable { id: id.to_owned(), source })
    }

    /// Writes the item's content file and updates the site. The post is dated by its
    /// approval, so publishing it again (an extension, a reconcile) keeps its date.
    pub(crate) async fn publish_item(
        &self,
        item: &QueueItem,
        now: DateTime<Utc>,
    ) -> Result<Approved, ModerateError> {
        let published_at = item
            .decision
            .as_ref()
            .map(|d| d.at)
            .unwrap_or(now)
            .with_timezone(&self.rules.time_zone)
            .fixed_offset();
        // A revised post keeps its first slug and says when it changed, at every republication.
        let revised = self.queue.revised(&item.id).await?;
        let text = revised_post_file(&item.id, &item.submission, published_at, revised.as_ref());
        let published = self
            .publisher
            .publish(&item.id, &text)
            .await
            .map_err(|source| ModerateError::Publish { id: item.id.clone(), source })?;
        // The poster may have ended the post meanwhile, and their unpublish may have run
        // before this publish: look again, after it, and follow them.
        if self.item(&item.id).await?.status != Status::Approved {
            tracing::info!(id = %item.id, "post ended while it was published; taken offline");
            self.take_offline(&item.id).await?;
        }
        Ok(Approved {
            id: item.id.clone(),
            title: item.submission.title.clone(),
            url: published.url,
        })
    }

    /// Turns a conditional write that changed nothing into the reason.
    async fn settled(&self, id: &str, outcome: Transition) -> Result<(), ModerateError> {
        match outcome {
            Transition::Done => Ok(()),
            Transition::NotFound => Err(ModerateError::NotFound(id.to_owned())),
            Transition::NotPending(status) => {
                let by = self
                    .queue
                    .get(id)
                    .await?
                    .and_then(|item| item.decision)
                    .map(|d| d.by)
                    .unwrap_or_default();
                Err(ModerateError::AlreadyDecided { id: id.to_owned(), status, by })
            }
        }
    }

    pub(crate) async fn audit(
        &self,
        actor: &str,
        action: AuditAction,
        post_id: &str,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let entry =
            AuditEntry { at, actor: actor.to_owned(), action, post_id: post_id.to_owned(), note };
        self.queue.record_audit(&entry).await
    }

    /// A mail that fails is logged and does not undo the decision: the post is placed,
    /// and the poster's management link still works.
    pub(crate) async fn send(
        &self,
        id: &str,
        mail: Result<crate::mail::Mail, crate::mail::MailError>,
    ) {
        let result = match mail {
            Ok(mail) => self.mailer.send(&mail).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => tracing::info!(id, "poster mailed"),
            Err(e) => tracing::error!(id, error = %e, "mail to poster failed"),
        }
    }
}
