//! Mail through the Amazon SES API (`SendEmail` with raw content), the mailer of the Lambda
//! deployment: no SMTP password to keep, and the function's IAM role is the permission.
//!
//! Invariants, those of [`crate::mail`]: the message is the one lettre builds for every other
//! mailer, byte for byte; SES only carries it. No address reaches a log event or an error.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use lettre::message::Mailbox;

use crate::mail::{Mail, MailError, Mailer, build_message, mailbox};

/// Sends through SES in the client's region, as `from`.
pub struct SesMailer {
    client: Client,
    from: Mailbox,
}

impl SesMailer {
    /// A mailer sending as `from`, which must be a verified SES identity (the address or
    /// its domain).
    pub fn new(client: Client, from: &str) -> Result<SesMailer, MailError> {
        Ok(SesMailer { client, from: mailbox(from)? })
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = build_message(&self.from, mail)?;
        // The envelope is given explicitly, so SES never has to guess it from the headers.
        let recipients: Vec<String> =
            message.envelope().to().iter().map(|a| a.to_string()).collect();
        let raw = RawMessage::builder()
            .data(Blob::new(message.formatted()))
            .build()
            .map_err(|e| MailError::Ses(e.to_string()))?;
        let sent = self
            .client
            .send_email()
            .from_email_address(self.from.email.to_string())
            .destination(Destination::builder().set_to_addresses(Some(recipients)).build())
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(ses_error)?;
        tracing::info!(message_id = sent.message_id().unwrap_or_default(), "mail accepted by ses");
        Ok(())
    }
}

/// Keeps SES's error code only: its messages can name the recipient (in the sandbox,
/// "the following identities failed the check: …").
fn ses_error<E, R>(error: SdkError<E, R>) -> MailError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    MailError::Ses(match &error {
        SdkError::ServiceError(service) => service.err().code().unwrap_or("unknown").to_owned(),
        other => DisplayErrorContext(other).to_string(),
    })
}
