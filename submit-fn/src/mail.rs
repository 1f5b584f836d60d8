//! Mail to posters and moderators: what a message holds ([`Mail`]), its Dutch texts
//! ([`MailTemplates`], from `templates/mail/`), and the two ways out ([`Mailer`]): `.eml`
//! files in an outbox folder for one machine, or SMTP. Amazon SES is reached through its
//! SMTP interface with [`SmtpMailer`] (host `email-smtp.<region>.amazonaws.com`, STARTTLS on
//! 587 or TLS on 465, the SES SMTP user name and password), or, in Lambda, through its API
//! with [`crate::mail_ses::SesMailer`].
//!
//! Invariants: every message is built by lettre (headers encoded, UTF-8 throughout, a
//! Message-ID and Date on each), with a text and an HTML part of the same content. No
//! address ever reaches a log event or an error message. The moderators' notice carries no
//! data of the poster at all: its template receives none.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use tera::{Context, Tera};

/// One message, as the application composes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient's address (`naam@example.nl` or `Naam <naam@example.nl>`).
    pub to: String,
    pub reply_to: Option<String>,
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part, with the same content as `text`.
    pub html: String,
}

/// Why a mail was not built or not sent. Messages never contain an address.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid {0} address")]
    Address(&'static str),
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("mail template: {0}")]
    Template(#[from] tera::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("smtp: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("BUURTBORD_SMTP_{0} is not valid")]
    Config(&'static str),
    /// SES refused or could not be reached: its error code, which names no address.
    #[error("ses: {0}")]
    Ses(String),
}

/// Sends mail.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Builds `mail` into a MIME message and hands it on; `Ok` once the outbox file is
    /// complete or the SMTP server accepted it.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Builds the MIME message: From from configuration, multipart/alternative text and
/// HTML, a Message-ID in the sender's domain, and the current Date.
pub fn build_message(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    let to: Mailbox = mail.to.parse().map_err(|_| MailError::Address("recipient"))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(message_id(from)))
        .date(SystemTime::now());
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(reply_to.parse().map_err(|_| MailError::Address("reply-to"))?);
    }
    let body = MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone());
    Ok(builder.multipart(body)?)
}

/// `<time.random@domain>`: unique without a host name, in the sender's own domain so
/// receivers can tell our messages apart.
fn message_id(from: &Mailbox) -> String {
    let millis = chrono::Utc::now().timestamp_millis();
    format!("<{millis}.{:016x}@{}>", rand::random::<u64>(), from.email.domain())
}

/// Parses a configured From address.
pub fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address.parse().map_err(|_| MailError::Address("from"))
}

/// Writes each message as an `.eml` file into a folder: the mail of `buurtbord serve`,
/// readable with any mail program. Names are `<UTC time>-<random>.eml`, so `ls` lists
/// them in the order they were sent.
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    /// An outbox in `dir` (created when missing), sending as `from`.
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<OutboxMailer, MailError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|source| MailError::Io { path: dir.clone(), source })?;
        Ok(OutboxMailer { dir, from: mailbox(from)? })
    }

    /// The folder the messages go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let bytes = build_message(&self.from, mail)?.formatted();
        let name = write_timed(&self.dir, "eml", &bytes).await?;
        tracing::info!(file = %name, bytes = bytes.len(), "mail written to outbox");
        Ok(())
    }
}

/// Writes `bytes` into `dir` as `<UTC time>-<random>.<extension>`, a name that sorts by
/// time; returns the name. Written under a hidden name first, then renamed, so a reader
/// of the folder never sees half a file.
async fn write_timed(dir: &Path, extension: &str, bytes: &[u8]) -> Result<String, MailError> {
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    let name = format!("{now}-{:08x}.{extension}", rand::random::<u32>());
    let (tmp, path) = (dir.join(format!(".{name}.tmp")), dir.join(&name));
    tokio::fs::write(&tmp, bytes).await.map_err(io_error(&tmp))?;
    tokio::fs::rename(&tmp, &path).await.map_err(io_error(&path))?;
    Ok(name)
}

/// Turns an I/O error at `path` into a [`MailError`].
fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> MailError {
    let path = path.to_owned();
    move |source| MailError::Io { path, source }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, refused if the server cannot (port 587).
    #[default]
    Starttls,
    /// No encryption: only for a relay on the same machine (port 25).
    Plain,
}

/// SMTP settings. `password` is never shown by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 465 for `tls`, 587 for `starttls`, 25 for `plain`.
    #[serde(default)]
    pub port: Option<u16>,
    /// Default: `starttls`.
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The From address of every message.
    pub from: String,
}

impl SmtpConfig {
    /// The settings from `BUURTBORD_SMTP_HOST`, `_PORT`, `_SECURITY` (`tls`, `starttls` or
    /// `plain`), `_USER` and `_PASSWORD`, sending as `from`; `None` when no host is set,
    /// which means: use the outbox folder.
    pub fn from_env(from: &str) -> Result<Option<SmtpConfig>, MailError> {
        let var = |name: &str| std::env::var(format!("BUURTBORD_SMTP_{name}")).ok();
        let Some(host) = var("HOST").filter(|h| !h.trim().is_empty()) else { return Ok(None) };
        let port = match var("PORT") {
            Some(port) => Some(port.trim().parse().map_err(|_| MailError::Config("PORT"))?),
            None => None,
        };
        let security = match var("SECURITY").as_deref().map(str::trim) {
            None | Some("starttls") => Security::Starttls,
            Some("tls") => Security::Tls,
            Some("plain") => Security::Plain,
            Some(_) => return Err(MailError::Config("SECURITY")),
        };
        let (user, password) = (var("USER"), var("PASSWORD"));
        Ok(Some(SmtpConfig { host, port, security, user, password, from: from.to_owned() }))
    }
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish_non_exhaustive()
    }
}

/// Sends through an SMTP server (a provider, the volunteer centre's, or Amazon SES).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Prepares the connection; nothing is sent or opened until the first message.
    pub fn new(config: &SmtpConfig) -> Result<SmtpMailer, MailError> {
        type Smtp = AsyncSmtpTransport<Tokio1Executor>;
        let mut builder = match config.security {
            Security::Tls => Smtp::relay(&config.host)?,
            Security::Starttls => Smtp::starttls_relay(&config.host)?,
            Security::Plain => Smtp::builder_dangerous(&config.host),
        };
        if let Some(port) = config.port {
            builder = builder.port(port);
        }
        if let (Some(user), Some(password)) = (&config.user, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpMailer { transport: builder.build(), from: mailbox(&config.from)? })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = build_message(&self.from, mail)?;
        let response = self.transport.send(message).await?;
        tracing::info!(code = %response.code(), "mail accepted by smtp server");
        Ok(())
    }
}

/// How long [`RetryingMailer`] keeps trying one message before it gives up on it.
pub const MAIL_RETRY_DAYS: i64 = 3;

/// Sends through another mailer (SMTP); a message that mailer could not hand over is kept
/// as a file in a folder and sent again by [`RetryingMailer::retry`], which `serve` runs
/// every few minutes and `buurtbord daily` once. Without it an SMTP server that is down
/// for a minute would cost a poster the only mail with their private link.
///
/// The kept files hold addresses and texts, so the folder lives under the private data
/// folder and a message is deleted as soon as it is sent or after [`MAIL_RETRY_DAYS`].
pub struct RetryingMailer {
    inner: Arc<dyn Mailer>,
    dir: PathBuf,
}

/// What one [`RetryingMailer::retry`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetryReport {
    pub sent: usize,
    pub kept: usize,
    pub given_up: usize,
}

impl RetryingMailer {
    /// Sends through `inner`, keeping what fails in `dir` (created when missing).
    pub fn new(
        inner: Arc<dyn Mailer>,
        dir: impl Into<PathBuf>,
    ) -> Result<RetryingMailer, MailError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|source| MailError::Io { path: dir.clone(), source })?;
        Ok(RetryingMailer { inner, dir })
    }

    /// Tries every kept message once, oldest first: a sent one is deleted, one older than
    /// [`MAIL_RETRY_DAYS`] is given up (and deleted), the rest wait for the next try.
    pub async fn retry(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<RetryReport, MailError> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map_err(io_error(&self.dir))?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".json") && !name.starts_with('.'))
            .collect();
        names.sort();
        let mut report = RetryReport::default();
        for name in names {
            let path = self.dir.join(&name);
            let kept_at = chrono::NaiveDateTime::parse_from_str(
                &name[..name.len().min(22)],
                "%Y%m%dT%H%M%S%.6f",
            )
            .map(|t| t.and_utc())
            .unwrap_or(now);
            let mail = std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Mail>(&bytes).ok());
            let sent = match &mail {
                Some(mail) => self.inner.send(mail).await.map_err(|e| e.to_string()),
                None => Err("unreadable file".to_owned()),
            };
            if sent.is_ok() {
                std::fs::remove_file(&path).map_err(io_error(&path))?;
                tracing::info!(file = %name, "kept mail sent");
                report.sent += 1;
            } else if now - kept_at > chrono::Duration::days(MAIL_RETRY_DAYS) || mail.is_none() {
                std::fs::remove_file(&path).map_err(io_error(&path))?;
                tracing::error!(file = %name, error = sent.err().unwrap_or_default(), "kept mail given up");
                report.given_up += 1;
            } else {
                report.kept += 1;
            }
        }
        if report != RetryReport::default() {
            tracing::info!(
                sent = report.sent,
                kept = report.kept,
                given_up = report.given_up,
                "mail retry"
            );
        }
        Ok(report)
    }

    /// Writes `mail` into the folder under a name that sorts by time.
    async fn keep(&self, mail: &Mail) -> Result<String, MailError> {
        let bytes = serde_json::to_vec(mail).expect("a mail serialises");
        write_timed(&self.dir, "json", &bytes).await
    }
}

#[async_trait]
impl Mailer for RetryingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        match self.inner.send(mail).await {
            Ok(()) => Ok(()),
            // A message that cannot be built now will not build later either.
            Err(e @ (MailError::Address(_) | MailError::Build(_) | MailError::Template(_))) => {
                Err(e)
            }
            Err(error) => {
                let file = self.keep(mail).await?;
                tracing::warn!(%error, %file, "mail not sent, kept to send again");
                Ok(())
            }
        }
    }
}

/// The public side of a post a response mail names: the poster's display name, the title
/// and their private management link.
pub struct PosterRef<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub manage_url: &'a str,
}

/// The post a response to pass on names: its title and public address, and, for a post in
/// the queue, the moderation page where a moderator finds how to reach its poster. Nothing
/// of the poster: the centre looks that up itself.
pub struct PassOnRef<'a> {
    pub title: &'a str,
    pub post_url: &'a str,
    /// `None` for a post only the content store holds, which has no poster on record.
    pub beheer_url: Option<&'a str>,
}

/// The mail templates, compiled into the binary and once per process.
pub struct MailTemplates {
    tera: Tera,
    site_name: String,
}

/// The templates of each mail: subject, text, HTML.
const TEMPLATES: [(&str, &str); 31] = [
    ("mail/base.html", include_str!("../templates/mail/base.html")),
    ("mail/approved.subject.txt", include_str!("../templates/mail/approved.subject.txt")),
    ("mail/approved.txt", include_str!("../templates/mail/approved.txt")),
    ("mail/approved.html", include_str!("../templates/mail/approved.html")),
    ("mail/received.subject.txt", include_str!("../templates/mail/received.subject.txt")),
    ("mail/received.txt", include_str!("../templates/mail/received.txt")),
    ("mail/received.html", include_str!("../templates/mail/received.html")),
    ("mail/rejected.subject.txt", include_str!("../templates/mail/rejected.subject.txt")),
    ("mail/rejected.txt", include_str!("../templates/mail/rejected.txt")),
    ("mail/rejected.html", include_str!("../templates/mail/rejected.html")),
    (
        "mail/new_submission.subject.txt",
        include_str!("../templates/mail/new_submission.subject.txt"),
    ),
    ("mail/new_submission.txt", include_str!("../templates/mail/new_submission.txt")),
    ("mail/new_submission.html", include_str!("../templates/mail/new_submission.html")),
    ("mail/response.subject.txt", include_str!("../templates/mail/response.subject.txt")),
    ("mail/response.txt", include_str!("../templates/mail/response.txt")),
    ("mail/response.html", include_str!("../templates/mail/response.html")),
    ("mail/passed_on.subject.txt", include_str!("../templates/mail/passed_on.subject.txt")),
    ("mail/passed_on.txt", include_str!("../templates/mail/passed_on.txt")),
    ("mail/passed_on.html", include_str!("../templates/mail/passed_on.html")),
    ("mail/removed.subject.txt", include_str!("../templates/mail/removed.subject.txt")),
    ("mail/removed.txt", include_str!("../templates/mail/removed.txt")),
    ("mail/removed.html", include_str!("../templates/mail/removed.html")),
    (
        "mail/revision_rejected.subject.txt",
        include_str!("../templates/mail/revision_rejected.subject.txt"),
    ),
    ("mail/revision_rejected.txt", include_str!("../templates/mail/revision_rejected.txt")),
    ("mail/revision_rejected.html", include_str!("../templates/mail/revision_rejected.html")),
    ("mail/links.subject.txt", include_str!("../templates/mail/links.subject.txt")),
    ("mail/links.txt", include_str!("../templates/mail/links.txt")),
    ("mail/links.html", include_str!("../templates/mail/links.html")),
    ("mail/reminder.subject.txt", include_str!("../templates/mail/reminder.subject.txt")),
    ("mail/reminder.txt", include_str!("../templates/mail/reminder.txt")),
    ("mail/reminder.html", include_str!("../templates/mail/reminder.html")),
];

impl MailTemplates {
    /// Compiles the templates; `site_name` signs every mail.
    pub fn new(site_name: &str) -> Result<MailTemplates, MailError> {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES)?;
        Ok(MailTemplates { tera, site_name: site_name.to_owned() })
    }

    /// To the poster: the post `title` is online at `post_url`; `manage_url` is their
    /// private link to change, extend or withdraw it.
    /// Tells a poster their post arrived and waits for a volunteer, with their private
    /// link: the page after the form is easily closed, and this is the link's first copy
    /// that lasts.
    pub fn received_mail(
        &self,
        to: &str,
        name: &str,
        title: &str,
        manage_url: &str,
    ) -> Result<Mail, MailError> {
        let mut context = self.context();
        context.insert("name", name);
        context.insert("title", title);
        context.insert("manage_url", manage_url);
        self.render("received", to, &context)
    }

    pub fn approved_mail(
        &self,
        to: &str,
        name: &str,
        title: &str,
        post_url: &str,
        manage_url: &str,
    ) -> Result<Mail, MailError> {
        let mut context = self.context();
        context.insert("name", name);
        context.insert("title", title);
        context.insert("post_url", post_url);
        context.insert("manage_url", manage_url);
        self.render("approved", to, &context)
    }

    /// To the poster: `title` was not placed because of `reason` (the moderator's words);
    /// `new_post_url` is the form for a new post.
    pub fn rejected_mail(
        &self,
        to: &str,
        name: &str,
        title: &str,
        reason: &str,
        new_post_url: &str,
    ) -> Result<Mail, MailError> {
        let mut context = self.context();
        context.insert("name", name);
        context.insert("title", title);
        context.insert("reason", reason);
        context.insert("new_post_url", new_post_url);
        self.render("rejected", to, &context)
    }

    /// To a moderator who opted in: a new post waits (`waiting` in all) at `beheer_url`.
    /// Takes nothing of the post or its poster, so none of it can end up in the mail.
    pub fn new_submission_mail(
        &self,
        to: &str,
        beheer_url: &str,
        waiting: usize,
    ) -> Result<Mail, MailError> {
        let mut context = self.context();
        context.insert("beheer_url", beheer_url);
        context.insert("waiting", &waiting);
        self.render("new_submission", to, &context)
    }

    /// To the poster: `response` reached their post `title`. The responder's e-mail address,
    /// when they gave one, is the Reply-To, so answering the mail answers them; the poster's
    /// own address is only the recipient and is given to no template.
    pub fn response_mail(
        &self,
        to: &str,
        poster: &PosterRef<'_>,
        response: &crate::store::Reply,
    ) -> Result<Mail, MailError> {
        let mut context = self.context();
        context.insert("name", poster.name);
        context.insert("title", poster.title);
        context.insert("manage_url", poster.manage_url);
        context.insert("responder", &response.name);
        context.insert("email", &response.email);
        context.insert("phone", &response.phone);
        context.insert("message", &response.message);
        let mut mail = self.render("response", to, &context)?;
        mail.reply_to = response.email.clone();
        Ok(mail)
    }

    /// To the volunteer centre (or a moderator): `response` reached a post whose poster
    /// cannot be mailed, so the centre passes it on. Reply-To is the responder, as in the
    /// poster's mail.
    pub fn passed_on_mail(
        &self,
        to: &str,
        post: &PassOnRef<'_>,
        response: &crate::store::Reply,
    ) -> Result<Mail, MailError> {
        let mut context = self.context();
        context.insert("title", post.title);
        context.insert("post_url", post.post_url);
        context.insert("beheer_url", &post.beheer_url);
        context.insert("responder", &response.name);
        context.insert("email", &response.email);
        context.insert("phone", &response.phone);
        context.insert("message", &response.message);
        let mut mail = self.render("passed_on", to, &context)?;
        mail.reply_to = response.email.clone();
        Ok(mail)
    }

    /// To the poster: a moderator took `title` off the site because of `reason`;
    /// `new_post_url` is the form for a new post.
    pub fn removed_mail(
        &self,
        to: &str,
        name: &str,
        title: &str,
        reason: &str,
        new_post_url: &str,
    ) -> Result<Mail, MailError> {
        let mut context = self.context();
        context.insert("name", name);
        context.insert("title", title);
        context.insert("reason", reason);
        context.insert("new_post_url", new_post_url);
        self.render("removed", to, &context)
    }

    /// To the poster: their edit of the online post `title` was not taken over because of
    /// `reason`; the post stays as it was. `manage_url` lets them try again.
    pub fn revision_rejected_mail(
        &self,
        to: &str,
        name: &str,
        title: &str,
        reason: &str,
        manage_url: &str,
    ) -> Result<Mail, MailError> {
        let mut context = self.context();
        context.insert("name", name);
        context.insert("title", title);
        context.insert("reason", reason);
        context.insert("manage_url", manage_url);
        self.render("revision_rejected", to, &context)
    }

    /// To whoever asked at the lost-link page for `to`: a fresh management link for each
    /// of the address's open posts, as (title, link) pairs.
    pub fn links_mail(&self, to: &str, posts: &[(String, String)]) -> Result<Mail, MailError> {
        #[derive(Serialize)]
        struct PostLink<'a> {
            title: &'a str,
            manage_url: &'a str,
        }
        let posts: Vec<PostLink<'_>> =
            posts.iter().map(|(title, manage_url)| PostLink { title, manage_url }).collect();
        let mut context = self.context();
        context.insert("posts", &posts);
        self.render("links", to, &context)
    }

    /// To the poster, once: their online post `title` leaves the site after `until`;
    /// `extend_url` is their private link, at its extend button.
    pub fn reminder_mail(
        &self,
        to: &str,
        name: &str,
        title: &str,
        until: chrono::NaiveDate,
        extend_url: &str,
    ) -> Result<Mail, MailError> {
        use chrono::Datelike;
        let mut context = self.context();
        context.insert("name", name);
        context.insert("title", title);
        // The month is named by the template, which holds the Dutch words.
        let until = serde_json::json!({
            "day": until.day(), "month0": until.month0(), "year": until.year(),
        });
        context.insert("until", &until);
        context.insert("extend_url", extend_url);
        self.render("reminder", to, &context)
    }

    fn context(&self) -> Context {
        let mut context = Context::new();
        context.insert("site_name", &self.site_name);
        context
    }

    fn render(&self, name: &str, to: &str, context: &Context) -> Result<Mail, MailError> {
        let render = |part: &str| self.tera.render(&format!("mail/{name}.{part}"), context);
        // A subject is one line, whatever the title held.
        let subject = render("subject.txt")?.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(Mail {
            to: to.to_owned(),
            reply_to: None,
            subject,
            text: render("txt")?,
            html: render("html")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real SMTP client pointed at a loopback port nobody listens on.
    fn unreachable_smtp() -> Arc<dyn Mailer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let config = SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(port),
            security: Security::Plain,
            user: None,
            password: None,
            from: "noreply@example.nl".into(),
        };
        Arc::new(SmtpMailer::new(&config).unwrap())
    }

    fn mail() -> Mail {
        Mail {
            to: "bewoner@example.nl".into(),
            reply_to: None,
            subject: "Uw bericht staat online".into(),
            text: "tekst".into(),
            html: "<p>tekst</p>".into(),
        }
    }

    // Guards the limits of keeping mail: a failed send is kept and tried again, a kept
    // message is given up (and its file deleted) only after MAIL_RETRY_DAYS, a file that
    // is not a kept mail at once, and a mail that cannot be built is refused, not kept.
    #[tokio::test]
    async fn kept_mail_waits_until_sent_or_too_old_and_bad_files_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = RetryingMailer::new(unreachable_smtp(), dir.path()).unwrap();
        mailer.send(&mail()).await.expect("kept rather than failed");
        let now = chrono::Utc::now();
        let kept = RetryReport { sent: 0, kept: 1, given_up: 0 };
        assert_eq!(mailer.retry(now).await.unwrap(), kept);
        assert_eq!(mailer.retry(now + chrono::Duration::days(2)).await.unwrap(), kept);

        std::fs::write(dir.path().join("20261201T000000.000000Z-00000000.json"), "{kapot").unwrap();
        let report = mailer
            .retry(now + chrono::Duration::days(MAIL_RETRY_DAYS) + chrono::Duration::minutes(1));
        assert_eq!(report.await.unwrap(), RetryReport { sent: 0, kept: 0, given_up: 2 });
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");

        let bad = Mail { to: "geen adres".into(), ..mail() };
        assert!(matches!(mailer.send(&bad).await, Err(MailError::Address(_))));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a bad address is not kept");
    }
}
