//! The mail to moderators who asked for one when a new post waits in the queue, the
//! receipt to its poster with their private link, and who receives a response that no
//! poster can ([`centre`]).
//!
//! Invariant: the message names nothing of the post or its poster (the template receives
//! only the number waiting and the link to /beheer), and a failure to mail never undoes or
//! delays the resident's confirmation beyond the send itself: it is logged and dropped.

use std::sync::Arc;

use crate::mail::{MailTemplates, Mailer};
use crate::store::{ModeratorStore, QueueStore, Status, StoreError};

/// Who to tell and how.
pub struct Notifier {
    pub moderators: Arc<dyn ModeratorStore>,
    pub mailer: Arc<dyn Mailer>,
    pub mails: MailTemplates,
    /// The absolute address of the moderation queue.
    pub beheer_url: String,
}

impl Notifier {
    /// Mails the poster of a newly queued post, if they gave an address, that it arrived,
    /// with their private link. A failure is logged and dropped: the post is queued.
    pub async fn received(&self, item: &crate::store::QueueItem, manage_url: &str) {
        let Some(to) = &item.submission.email else { return };
        let s = &item.submission;
        let sent = match self.mails.received_mail(to, &s.display_name, &s.title, manage_url) {
            Ok(mail) => self.mailer.send(&mail).await,
            Err(error) => Err(error),
        };
        match sent {
            Ok(()) => tracing::info!(id = %item.id, "poster told the post arrived"),
            Err(error) => tracing::error!(id = %item.id, %error, "receipt to poster failed"),
        }
    }

    /// Mails every moderator who turned the notice on that a post waits. Returns how many
    /// mails were handed to the mailer.
    pub async fn new_post(&self, queue: &dyn QueueStore) -> usize {
        match self.try_new_post(queue).await {
            Ok(sent) => sent,
            Err(error) => {
                tracing::error!(%error, "moderators could not be told about a new post");
                0
            }
        }
    }

    async fn try_new_post(&self, queue: &dyn QueueStore) -> Result<usize, StoreError> {
        let wanting: Vec<String> = self
            .moderators
            .moderators()
            .await?
            .into_iter()
            .filter(|m| m.notify)
            .map(|m| m.email)
            .collect();
        if wanting.is_empty() {
            return Ok(0);
        }
        let waiting = queue.count(Status::Pending).await?;
        let mut sent = 0;
        for to in &wanting {
            let mail = self.mails.new_submission_mail(to, &self.beheer_url, waiting);
            match mail {
                Ok(mail) => match self.mailer.send(&mail).await {
                    Ok(()) => sent += 1,
                    Err(error) => tracing::error!(%error, "notice to a moderator failed"),
                },
                Err(error) => tracing::error!(%error, "notice to a moderator not built"),
            }
        }
        tracing::info!(sent, waiting, "moderators told about a new post");
        Ok(sent)
    }
}

/// Who passes on a response that no poster can receive: `contact` (site.yaml's
/// `moderation.contact`) when set, else the moderators who asked for the notice of new
/// posts, else every moderator; a neighbour's response must reach someone who can act.
pub async fn centre(
    contact: Option<&str>,
    moderators: &dyn ModeratorStore,
) -> Result<Vec<String>, StoreError> {
    if let Some(contact) = contact {
        return Ok(vec![contact.to_owned()]);
    }
    let all = moderators.moderators().await?;
    let wanting: Vec<String> = all.iter().filter(|m| m.notify).map(|m| m.email.clone()).collect();
    Ok(if wanting.is_empty() { all.into_iter().map(|m| m.email).collect() } else { wanting })
}
