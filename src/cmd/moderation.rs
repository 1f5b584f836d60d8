//! Wiring shared by `serve`, `queue` and `publish`: the local queue, publisher, mailer and
//! secrets under one content folder, theme, output folder and data folder.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use submit_fn::AppState;
use submit_fn::mail::{
    MailTemplates, Mailer, OutboxMailer, RetryingMailer, SmtpConfig, SmtpMailer,
};
use submit_fn::moderate::Moderation;
use submit_fn::publish::LocalPublisher;

use super::SiteDirs;

/// Where one machine keeps everything.
#[derive(Debug, Clone, Args)]
pub struct LocalArgs {
    #[command(flatten)]
    pub dirs: SiteDirs,
    /// Folder to write the site to (and, for serve, to serve it from).
    #[arg(long, value_name = "DIR", default_value = "public")]
    pub out: PathBuf,
    /// Folder for the queue database, the mail outbox and locally generated secrets.
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data: PathBuf,
}

impl LocalArgs {
    /// The outbox folder: one `.eml` file per message, for the operator to send or read.
    pub fn outbox(&self) -> PathBuf {
        self.data.join("outbox")
    }

    /// Messages the SMTP server did not take, waiting to be sent again.
    pub fn mail_retry(&self) -> PathBuf {
        self.data.join("mail-retry")
    }
}

/// The submission function's state on this machine.
pub fn open_app(args: &LocalArgs) -> anyhow::Result<AppState> {
    open_app_with(args, None, None)
}

/// The same, telling the moderators who asked for it about each new post, with
/// `base_url` in place of site.yaml's.
pub fn open_app_with(
    args: &LocalArgs,
    notifier: Option<submit_fn::notify::Notifier>,
    base_url: Option<&str>,
) -> anyhow::Result<AppState> {
    let (data, dirs) = (&args.data, &args.dirs);
    let app = submit_fn::local::local_app(data, &dirs.content, &dirs.theme, base_url)
        .with_context(|| format!("opening the queue in {}", args.data.display()))?;
    Ok(Arc::new(submit_fn::App { notifier, ..app }))
}

/// How this machine sends mail, as site.yaml's sender: through the SMTP server that
/// `BUURTBORD_SMTP_HOST` names, else into the outbox folder.
/// A message the server does not take is kept under `data/mail-retry/` and sent again.
pub fn mailer(args: &LocalArgs, site: &generator::Site) -> anyhow::Result<Arc<dyn Mailer>> {
    if let Some(retrying) = retrying_mailer(args, site)? {
        return Ok(retrying);
    }
    let outbox = args.outbox();
    let mailer = OutboxMailer::new(&outbox, &site.mail_from())
        .with_context(|| format!("opening the outbox {}", outbox.display()))?;
    Ok(Arc::new(mailer))
}

/// The SMTP mailer that keeps what fails for a later try, when `BUURTBORD_SMTP_HOST` is
/// set; `None` for the outbox, which has nothing to retry.
pub fn retrying_mailer(
    args: &LocalArgs,
    site: &generator::Site,
) -> anyhow::Result<Option<Arc<RetryingMailer>>> {
    let Some(config) = SmtpConfig::from_env(&site.mail_from())? else { return Ok(None) };
    tracing::info!(host = %config.host, "mail goes out through smtp");
    let dir = args.mail_retry();
    let mailer = RetryingMailer::new(Arc::new(SmtpMailer::new(&config)?), &dir)
        .with_context(|| format!("opening {}", dir.display()))?;
    Ok(Some(Arc::new(mailer)))
}

/// The queue store alone, for read-only commands.
pub fn open_store(args: &LocalArgs) -> anyhow::Result<Arc<dyn submit_fn::store::QueueStore>> {
    Ok(Arc::clone(&open_app(args)?.store))
}

/// Everything a decision needs. Opening the publisher builds the whole site once.
pub async fn open(args: &LocalArgs) -> anyhow::Result<Moderation> {
    let app = open_app(args)?;
    let options = build_options(args, None)?;
    let publisher = tokio::task::spawn_blocking(move || LocalPublisher::open(options))
        .await?
        .context("building the site")?;
    let site_root = site_root(args, None)?;
    let mailer = mailer(args, &load_site(args)?)?;
    moderation(args, &app, Arc::new(publisher), &site_root, mailer)
}

/// site.yaml, validated.
fn load_site(args: &LocalArgs) -> anyhow::Result<generator::Site> {
    generator::Site::load(&args.dirs.content, None)
        .map_err(|errors| anyhow::anyhow!("{}", errors[0]))
}

/// The site's public root: `base_url`, or site.yaml's.
fn site_root(args: &LocalArgs, base_url: Option<&str>) -> anyhow::Result<String> {
    let site = generator::Site::load(&args.dirs.content, base_url)
        .map_err(|errors| anyhow::anyhow!("{}", errors[0]))?;
    Ok(site.absolute(""))
}

/// The moderation state from an open app and publisher.
pub fn moderation(
    args: &LocalArgs,
    app: &AppState,
    publisher: Arc<LocalPublisher>,
    site_root: &str,
    mailer: Arc<dyn Mailer>,
) -> anyhow::Result<Moderation> {
    let site = load_site(args)?;
    let mails = MailTemplates::new(&site.config.name)?;
    Ok(Moderation {
        queue: Arc::clone(&app.store),
        publisher,
        mailer,
        mails,
        secrets: app.secrets.clone(),
        rules: app.rules.clone(),
        site_root: site_root.to_owned(),
        reject_reasons: site.config.moderation.reject_reasons.clone(),
    })
}

/// The build settings for this machine; `base_url` replaces site.yaml's (serve knows its
/// own address).
pub fn build_options(
    args: &LocalArgs,
    base_url: Option<String>,
) -> anyhow::Result<generator::BuildOptions> {
    Ok(generator::BuildOptions {
        content: args.dirs.content.clone(),
        theme: args.dirs.theme.clone(),
        out: args.out.clone(),
        now: super::now()?,
        base_url,
    })
}
