//! The function as it runs on AWS: the same routes as `buurtbord serve` (form, `/beheer`,
//! `/beheer-bericht`), on the DynamoDB queue and moderator store, the S3 publisher and SES,
//! configured from the environment. The Lambda entry and the daily job call [`Cloud::open`];
//! the cloud end-to-end test calls it too, with the same variables.
//!
//! Environment (all `BUURTBORD_`): `TABLE`; `CONTENT_BUCKET` with `CONTENT_PREFIX` (default
//! `content/`: `site.yaml`, `pages/`, `posts/`) and `THEME_PREFIX` (default `theme/`);
//! `SITE_BUCKET` with `SITE_PREFIX` (default empty); `CONTENT_DIR` and `THEME_DIR` (optional:
//! read site.yaml, pages and theme from these folders instead of the bucket); `WORK_DIR`
//! (default `/tmp/buurtbord`); `BASE_URL` (optional, replaces site.yaml's); `SECRETS_PATH`
//! (an SSM Parameter Store path holding the SecureStrings `form-key`, `ip-salt` and
//! `cookie-key`, base64), else `FORM_KEY`, `IP_SALT` and `COOKIE_KEY` themselves; `MAIL`
//! (`ses`, the default, or `smtp` with the `SMTP_` variables of [`crate::mail`]);
//! `MAIL_FROM` (optional, replaces site.yaml's sender; SES must have it verified);
//! `CLIENT_IP_HEADER` (optional: the header the CDN puts the visitor's address in, e.g.
//! `cloudfront-viewer-address`); `POSTS_PER_HOUR`; `AWS_ENDPOINT` (optional, one endpoint
//! for every AWS service, for a local server such as moto).
//!
//! Invariants: secrets are read once, at start, and never logged; the site is rebuilt inside
//! the function right after an approval (the S3 publisher keeps its working copy in
//! `WORK_DIR`), and the publisher is opened on first use, so a cold start that only serves
//! the form never downloads or builds the site.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::http::HeaderName;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use tokio::sync::{Mutex, OnceCell};

use crate::app::{App, AppState, ClientIp, DEFAULT_POSTS_PER_HOUR};
use crate::auth::Auth;
use crate::beheer::{Beheer, BeheerState, QUEUE_PATH};
use crate::daily::Daily;
use crate::mail::{MailTemplates, Mailer, SmtpConfig, SmtpMailer};
use crate::mail_ses::SesMailer;
use crate::manage::Manage;
use crate::moderate::Moderation;
use crate::notify::Notifier;
use crate::publish::{LivePost, PublishError, Published, Publisher};
use crate::publish_s3::{S3Location, S3Options, S3Publisher};
use crate::render::Pages;
use crate::rules::SiteRules;
use crate::spam::Secrets;
use crate::store::DynamoQueue;

/// Why the cloud function could not start or finish its daily run. Messages name variables,
/// keys and paths, never a secret or an address.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error("s3 {action} of `{key}` failed: {reason}")]
    S3 { action: &'static str, key: String, reason: String },
    #[error("ssm: {0}")]
    Ssm(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Site(String),
    #[error(transparent)]
    Rules(#[from] crate::rules::RulesError),
    #[error(transparent)]
    Pages(#[from] crate::render::PagesError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error("templates: {0}")]
    Templates(#[from] tera::Error),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Moderate(#[from] crate::moderate::ModerateError),
}

/// The function's settings, read from variables (see the module documentation).
pub struct CloudConfig {
    vars: HashMap<String, String>,
}

impl CloudConfig {
    /// The settings from the process environment: what the Lambda entry uses.
    pub fn from_env() -> CloudConfig {
        CloudConfig::from_vars(std::env::vars())
    }

    /// The settings from `vars`, as name and value; names outside `BUURTBORD_` are ignored,
    /// since the AWS SDK reads its own (region, credentials) from the process.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> CloudConfig {
        let vars = vars.into_iter().filter(|(name, _)| name.starts_with("BUURTBORD_")).collect();
        CloudConfig { vars }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(&format!("BUURTBORD_{name}")).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn require(&self, name: &'static str) -> Result<&str, CloudError> {
        self.get(name.trim_start_matches("BUURTBORD_")).ok_or(CloudError::Missing(name))
    }

    fn or(&self, name: &str, default: &'static str) -> String {
        self.get(name).unwrap_or(default).to_owned()
    }
}

/// Everything the cloud function serves and runs, opened once per Lambda instance.
pub struct Cloud {
    pub app: AppState,
    pub moderation: Arc<Moderation>,
    pub publisher: Arc<OnDemandPublisher>,
    beheer: BeheerState,
    manage: Arc<Manage>,
    client_ip_header: Option<HeaderName>,
}

impl Cloud {
    /// Reads the secrets, fetches site.yaml, the pages and the theme, and wires the stores,
    /// the publisher (opened on first use) and the mailer.
    pub async fn open(config: &CloudConfig) -> Result<Cloud, CloudError> {
        let aws = Aws::load(config.get("AWS_ENDPOINT")).await;
        let work_dir = PathBuf::from(config.or("WORK_DIR", "/tmp/buurtbord"));
        let content_bucket = config.require("BUURTBORD_CONTENT_BUCKET")?;
        let content = S3Location::new(content_bucket, &config.or("CONTENT_PREFIX", "content/"));
        let theme = S3Location::new(content_bucket, &config.or("THEME_PREFIX", "theme/"));
        let site = S3Location::new(
            config.require("BUURTBORD_SITE_BUCKET")?,
            &config.or("SITE_PREFIX", ""),
        );
        let (content_dir, theme_dir) =
            site_files(config, &aws.s3, &content, &theme, &work_dir).await?;

        let base_url = config.get("BASE_URL");
        let site_config = generator::Site::load(&content_dir, base_url).map_err(|errors| {
            CloudError::Site(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        })?;
        let site_root = site_config.absolute("");
        let site_yaml = read(&content_dir.join("site.yaml"))?;
        let (rules, _) = SiteRules::from_site_yaml(&site_yaml)?;
        let secrets = secrets(config, &aws.ssm).await?;
        let store =
            Arc::new(DynamoQueue::new(aws.dynamodb.clone(), config.require("BUURTBORD_TABLE")?));

        let from =
            config.get("MAIL_FROM").map(str::to_owned).unwrap_or_else(|| site_config.mail_from());
        let mailer = mailer(config, &aws, &from)?;
        let name = &site_config.config.name;
        let notifier = Notifier {
            moderators: store.clone(),
            mailer: Arc::clone(&mailer),
            mails: MailTemplates::new(name)?,
            beheer_url: format!("{site_root}{}", QUEUE_PATH.trim_start_matches('/')),
        };
        let app = Arc::new(App {
            store: store.clone(),
            rules: rules.clone(),
            secrets: secrets.clone(),
            pages: Pages::load(&content_dir, &theme_dir, base_url)?,
            posts_per_hour: posts_per_hour(config)?,
            notifier: Some(notifier),
        });

        let options = S3Options {
            content,
            site,
            work_dir: work_dir.join("publisher"),
            theme: theme_dir.clone(),
            now: Utc::now().fixed_offset(),
            base_url: base_url.map(str::to_owned),
        };
        let publisher = Arc::new(OnDemandPublisher::new(aws.s3.clone(), options, rules.time_zone));
        let moderation = Arc::new(Moderation {
            queue: store.clone(),
            publisher: publisher.clone(),
            mailer,
            mails: MailTemplates::new(name)?,
            secrets: secrets.clone(),
            rules,
            site_root: site_root.clone(),
            reject_reasons: site_config.config.moderation.reject_reasons.clone(),
        });
        let auth = Auth::new(store, &secrets, name, &site_root)?;
        let preview = generator::Preview::load(&content_dir, &theme_dir, base_url)
            .map_err(|e| CloudError::Site(e.to_string()))?;
        let beheer =
            BeheerState::new(Beheer::new(Arc::clone(&moderation), Arc::new(auth), preview)?);
        let manage = Arc::new(Manage {
            moderation: Arc::clone(&moderation),
            pages: Pages::load(&content_dir, &theme_dir, base_url)?,
        });
        let client_ip_header = match config.get("CLIENT_IP_HEADER") {
            Some(name) => Some(HeaderName::try_from(name).map_err(|e| CloudError::Invalid {
                name: "BUURTBORD_CLIENT_IP_HEADER".into(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        tracing::info!(site = %site_root, "cloud function ready");
        Ok(Cloud { app, moderation, publisher, beheer, manage, client_ip_header })
    }

    /// The whole router, the one `buurtbord serve` builds, with the visitor's address taken
    /// from the CDN's header when one is configured.
    pub fn router(&self) -> Router {
        let router =
            crate::app::full_router(self.app.clone(), self.beheer.clone(), self.manage.clone());
        match self.client_ip_header.clone() {
            Some(header) => router.layer(axum::middleware::map_request(move |request| {
                let header = header.clone();
                async move { with_viewer_address(request, &header) }
            })),
            None => router,
        }
    }

    /// The daily run of [`crate::daily::run`] (reconcile, expiry, reminders, retention),
    /// then a rebuild of the whole site at `now`, which the site bucket is made equal to.
    pub async fn daily(&self, now: DateTime<Utc>) -> Result<Daily, CloudError> {
        let done = crate::daily::run(&self.moderation, now).await?;
        self.publisher.rebuild(now.fixed_offset()).await?;
        Ok(done)
    }
}

/// The clients, all from one shared configuration.
struct Aws {
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    ssm: aws_sdk_ssm::Client,
    ses: aws_sdk_sesv2::Client,
}

impl Aws {
    async fn load(endpoint: Option<&str>) -> Aws {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let shared = loader.load().await;
        // A local server has no per-bucket host names: bucket names go in the path.
        let s3 = aws_sdk_s3::config::Builder::from(&shared).force_path_style(endpoint.is_some());
        Aws {
            dynamodb: aws_sdk_dynamodb::Client::new(&shared),
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            ssm: aws_sdk_ssm::Client::new(&shared),
            ses: aws_sdk_sesv2::Client::new(&shared),
        }
    }
}

/// The content folder (site.yaml and pages) and the theme folder: the configured local
/// folders, or fresh copies of the bucket's, so the operator changes either with an
/// `aws s3 sync` and no new deployment.
async fn site_files(
    config: &CloudConfig,
    s3: &aws_sdk_s3::Client,
    content: &S3Location,
    theme: &S3Location,
    work_dir: &Path,
) -> Result<(PathBuf, PathBuf), CloudError> {
    if let (Some(content_dir), Some(theme_dir)) =
        (config.get("CONTENT_DIR"), config.get("THEME_DIR"))
    {
        return Ok((PathBuf::from(content_dir), PathBuf::from(theme_dir)));
    }
    let (content_dir, theme_dir) = (work_dir.join("site-content"), work_dir.join("theme"));
    let is_site_file = |rel: &str| rel == "site.yaml" || rel.starts_with("pages/");
    let fetched = download(s3, content, &content_dir, is_site_file).await?;
    let themed = download(s3, theme, &theme_dir, |_| true).await?;
    tracing::info!(content = fetched, theme = themed, "site files downloaded");
    Ok((content_dir, theme_dir))
}

/// Replaces `dir` with the objects under `location` that `wanted` picks; returns how many.
async fn download(
    s3: &aws_sdk_s3::Client,
    location: &S3Location,
    dir: &Path,
    wanted: impl Fn(&str) -> bool,
) -> Result<usize, CloudError> {
    let s3_error =
        |action, key: &str, reason: String| CloudError::S3 { action, key: key.to_owned(), reason };
    match tokio::fs::remove_dir_all(dir).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(CloudError::Io { path: dir.to_owned(), source: e });
        }
        _ => {}
    }
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let list = s3.list_objects_v2().bucket(&location.bucket).prefix(&location.prefix);
        let page = list.set_continuation_token(token).send().await;
        let page = page.map_err(|e| s3_error("list", &location.prefix, sdk_reason(e)))?;
        for key in page.contents().iter().filter_map(|o| o.key()) {
            let rel = key.strip_prefix(&location.prefix).unwrap_or(key);
            let safe = rel.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
            if safe && !rel.contains('\\') && wanted(rel) {
                keys.push((key.to_owned(), dir.join(rel)));
            }
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let mut running = tokio::task::JoinSet::new();
    for (key, path) in keys {
        let get = s3.get_object().bucket(&location.bucket).key(&key);
        running.spawn(async move {
            let got = get.send().await.map_err(|e| s3_error("get", &key, sdk_reason(e)))?;
            let bytes =
                got.body.collect().await.map_err(|e| s3_error("get", &key, e.to_string()))?;
            let io = |source| CloudError::Io { path: path.clone(), source };
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await.map_err(io)?;
            }
            tokio::fs::write(&path, bytes.into_bytes()).await.map_err(io)
        });
    }
    let mut count = 0;
    while let Some(joined) = running.join_next().await {
        joined.map_err(|e| CloudError::Site(e.to_string()))??;
        count += 1;
    }
    Ok(count)
}

/// The form key, IP salt and cookie key: from SSM Parameter Store when `SECRETS_PATH` is
/// set (SecureStrings, decrypted by the function's role), else from the variables.
async fn secrets(config: &CloudConfig, ssm: &aws_sdk_ssm::Client) -> Result<Secrets, CloudError> {
    const NAMES: [(&str, &str, usize); 3] = [
        ("form-key", "FORM_KEY", 32),
        ("ip-salt", "IP_SALT", 32),
        ("cookie-key", "COOKIE_KEY", 64),
    ];
    let mut values = HashMap::new();
    if let Some(path) = config.get("SECRETS_PATH") {
        let path = format!("{}/", path.trim_end_matches('/'));
        let names: Vec<String> = NAMES.iter().map(|(p, _, _)| format!("{path}{p}")).collect();
        let got = ssm.get_parameters().set_names(Some(names)).with_decryption(true).send().await;
        let got = got.map_err(|e| CloudError::Ssm(sdk_reason(e)))?;
        if let Some(missing) = got.invalid_parameters().first() {
            return Err(CloudError::Ssm(format!("parameter {missing} does not exist")));
        }
        for parameter in got.parameters() {
            let name = parameter.name().unwrap_or_default();
            let short = name.strip_prefix(&path).unwrap_or(name).to_owned();
            values.insert(short, parameter.value().unwrap_or_default().to_owned());
        }
    } else {
        for (short, var, _) in NAMES {
            if let Some(value) = config.get(var) {
                values.insert(short.to_owned(), value.to_owned());
            }
        }
    }
    let decode = |(short, var, min): (&str, &str, usize)| -> Result<Vec<u8>, CloudError> {
        let name = format!("BUURTBORD_{var} ({short})");
        let value = values
            .get(short)
            .ok_or_else(|| CloudError::Invalid { name: name.clone(), reason: "not set".into() })?;
        let bytes = STANDARD
            .decode(value.trim())
            .map_err(|e| CloudError::Invalid { name: name.clone(), reason: e.to_string() })?;
        if bytes.len() < min {
            let reason = format!("at least {min} bytes are needed");
            return Err(CloudError::Invalid { name, reason });
        }
        Ok(bytes)
    };
    Ok(Secrets {
        form_key: decode(NAMES[0])?,
        ip_salt: decode(NAMES[1])?,
        cookie_key: decode(NAMES[2])?,
    })
}

/// SES through its API, or an SMTP server (SES's SMTP interface or any other).
fn mailer(config: &CloudConfig, aws: &Aws, from: &str) -> Result<Arc<dyn Mailer>, CloudError> {
    match config.get("MAIL").unwrap_or("ses") {
        "ses" => Ok(Arc::new(SesMailer::new(aws.ses.clone(), from)?)),
        "smtp" => match SmtpConfig::from_env(from)? {
            Some(smtp) => Ok(Arc::new(SmtpMailer::new(&smtp)?)),
            None => Err(CloudError::Missing("BUURTBORD_SMTP_HOST")),
        },
        other => Err(CloudError::Invalid {
            name: "BUURTBORD_MAIL".into(),
            reason: format!("`{other}` is neither `ses` nor `smtp`"),
        }),
    }
}

fn posts_per_hour(config: &CloudConfig) -> Result<u32, CloudError> {
    match config.get("POSTS_PER_HOUR") {
        Some(value) => value.trim().parse().map_err(|_| CloudError::Invalid {
            name: "BUURTBORD_POSTS_PER_HOUR".into(),
            reason: "not a whole number".into(),
        }),
        None => Ok(DEFAULT_POSTS_PER_HOUR),
    }
}

fn read(path: &Path) -> Result<String, CloudError> {
    std::fs::read_to_string(path).map_err(|source| CloudError::Io { path: path.to_owned(), source })
}

/// Behind a CDN the platform's source address is the CDN's; the visitor's is in `header`
/// (`CloudFront-Viewer-Address` is `ip:port`, `X-Forwarded-For` a list, the visitor first).
fn with_viewer_address(mut request: Request, header: &HeaderName) -> Request {
    let value = request.headers().get(header).and_then(|v| v.to_str().ok());
    let first = value.and_then(|v| v.split(',').next()).map(str::trim);
    let address = first.and_then(|v| {
        v.parse::<std::net::IpAddr>()
            .ok()
            .or_else(|| v.rsplit_once(':').and_then(|(ip, _port)| ip.parse().ok()))
    });
    if let Some(address) = address {
        request.extensions_mut().insert(ClientIp(address.to_string()));
    }
    request
}

/// One line of an SDK error: the service's code and message, or the transport's cause.
fn sdk_reason<E, R>(error: aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &error {
        aws_sdk_s3::error::SdkError::ServiceError(service) => format!(
            "{}: {}",
            service.err().code().unwrap_or("unknown"),
            service.err().message().unwrap_or("no message")
        ),
        other => aws_sdk_s3::error::DisplayErrorContext(other).to_string(),
    }
}

/// The S3 publisher, opened on first use rather than at start: a cold start that serves
/// only the form never downloads or builds the site. Once open, the site is rebuilt at the
/// first use of each new day in the site's zone, so a long-lived instance never puts a post
/// that expired since it opened back into a listing.
pub struct OnDemandPublisher {
    client: aws_sdk_s3::Client,
    options: S3Options,
    time_zone: chrono_tz::Tz,
    opened: OnceCell<S3Publisher>,
    built_on: Mutex<Option<NaiveDate>>,
}

impl OnDemandPublisher {
    pub fn new(client: aws_sdk_s3::Client, options: S3Options, time_zone: chrono_tz::Tz) -> Self {
        OnDemandPublisher {
            client,
            options,
            time_zone,
            opened: OnceCell::new(),
            built_on: Mutex::new(None),
        }
    }

    /// The open publisher, built for today.
    async fn get(&self) -> Result<&S3Publisher, PublishError> {
        let now = Utc::now().fixed_offset();
        let publisher = self
            .opened
            .get_or_try_init(|| {
                let options = S3Options { now, ..self.options.clone() };
                S3Publisher::open(self.client.clone(), options)
            })
            .await?;
        let today = now.with_timezone(&self.time_zone).date_naive();
        let mut built_on = self.built_on.lock().await;
        match *built_on {
            None => *built_on = Some(today),
            Some(day) if day != today => {
                publisher.rebuild(now).await?;
                *built_on = Some(today);
            }
            Some(_) => {}
        }
        Ok(publisher)
    }

    /// Rebuilds the whole site at `now` and makes the site location equal to it; opening
    /// the publisher does exactly that, so a closed one is only opened.
    pub async fn rebuild(&self, now: DateTime<FixedOffset>) -> Result<(), PublishError> {
        let today = now.with_timezone(&self.time_zone).date_naive();
        if let Some(publisher) = self.opened.get() {
            publisher.rebuild(now).await?;
        } else {
            let options = S3Options { now, ..self.options.clone() };
            let client = self.client.clone();
            self.opened.get_or_try_init(|| S3Publisher::open(client, options)).await?;
        }
        *self.built_on.lock().await = Some(today);
        Ok(())
    }
}

#[async_trait]
impl Publisher for OnDemandPublisher {
    async fn check(&self, id: &str, text: &str) -> Result<(), PublishError> {
        self.get().await?.check(id, text).await
    }

    async fn publish(&self, id: &str, text: &str) -> Result<Published, PublishError> {
        self.get().await?.publish(id, text).await
    }

    async fn unpublish(&self, id: &str) -> Result<Published, PublishError> {
        self.get().await?.unpublish(id).await
    }

    async fn is_published(&self, id: &str) -> Result<bool, PublishError> {
        self.get().await?.is_published(id).await
    }

    async fn live_post(
        &self,
        id: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<LivePost>, PublishError> {
        self.get().await?.live_post(id, now).await
    }
}
