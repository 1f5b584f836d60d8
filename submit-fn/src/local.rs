//! The function as `buurtbord serve` runs it: SQLite under the data folder, secrets
//! generated once and kept there, rules and pages from the same content folder and theme
//! as the static site. Needs no other configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::app::{App, DEFAULT_POSTS_PER_HOUR};
use crate::render::{Pages, PagesError};
use crate::rules::{RulesError, SiteRules};
use crate::spam::{Secrets, random_cookie_key};
use crate::store::{ModeratorStore, SqliteQueue, StoreError};

/// Why the local function could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a valid secrets file: {reason}")]
    Secrets { path: PathBuf, reason: String },
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pages(#[from] PagesError),
    #[error("BUURTBORD_POSTS_PER_HOUR: not a whole number: {0:?}")]
    PostsPerHour(String),
}

/// The SQLite file of the queue, the audit log and the moderator accounts.
pub const QUEUE_FILE: &str = "queue.sqlite3";

#[derive(Serialize, Deserialize)]
struct SecretsFile {
    form_key: String,
    ip_salt: String,
    /// Absent in files written before moderator logins existed; added on the next start.
    #[serde(default)]
    cookie_key: Option<String>,
}

/// Builds the app for one machine: `data_dir/queue.sqlite3` and `data_dir/secrets.json`
/// (created on first start), with the rules from `content_dir/site.yaml` and the pages
/// from the theme in `theme_dir`.
pub fn local_app(
    data_dir: &Path,
    content_dir: &Path,
    theme_dir: &Path,
    base_url: Option<&str>,
) -> Result<App, LocalError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| LocalError::Io { path, source }
    };
    let site_path = content_dir.join("site.yaml");
    let site_yaml = std::fs::read_to_string(&site_path).map_err(io(&site_path))?;
    let (rules, _) = SiteRules::from_site_yaml(&site_yaml)?;
    let pages = Pages::load(content_dir, theme_dir, base_url)?;
    create_private_dir(data_dir).map_err(io(data_dir))?;
    let store = SqliteQueue::open(&data_dir.join(QUEUE_FILE))?;
    let secrets = load_or_create_secrets(&data_dir.join("secrets.json"))?;
    Ok(App {
        store: Arc::new(store),
        rules,
        secrets,
        pages,
        posts_per_hour: posts_per_hour()?,
        notifier: None,
    })
}

/// The moderator accounts, kept in the queue's database file under `data_dir`.
pub fn moderator_store(data_dir: &Path) -> Result<Arc<dyn ModeratorStore>, LocalError> {
    create_private_dir(data_dir)
        .map_err(|source| LocalError::Io { path: data_dir.to_owned(), source })?;
    Ok(Arc::new(SqliteQueue::open(&data_dir.join(QUEUE_FILE))?))
}

/// Creates the data folder, readable only by its owner where the system has modes: it
/// holds posters' addresses, responses and the outbox's mails with private links. A folder
/// that already exists keeps the modes its operator gave it.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// `BUURTBORD_POSTS_PER_HOUR` when set (the Lambda entry reads the same name), else the
/// default; benchmarks raise it because all their posts come from one address.
fn posts_per_hour() -> Result<u32, LocalError> {
    match std::env::var("BUURTBORD_POSTS_PER_HOUR") {
        Ok(value) => value.trim().parse().map_err(|_| LocalError::PostsPerHour(value)),
        Err(_) => Ok(DEFAULT_POSTS_PER_HOUR),
    }
}

/// Reads the secrets file, or writes a new one readable only by its owner.
fn load_or_create_secrets(path: &Path) -> Result<Secrets, LocalError> {
    let bad = |reason: String| LocalError::Secrets { path: path.to_owned(), reason };
    match std::fs::read(path) {
        Ok(bytes) => {
            let file: SecretsFile =
                serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
            let decode = |v: &str| STANDARD.decode(v).map_err(|e| bad(e.to_string()));
            let (form_key, ip_salt) = (decode(&file.form_key)?, decode(&file.ip_salt)?);
            let cookie_key = match &file.cookie_key {
                Some(key) => decode(key)?,
                None => {
                    let key = random_cookie_key();
                    let file = SecretsFile { cookie_key: Some(STANDARD.encode(&key)), ..file };
                    let json = serde_json::to_vec_pretty(&file).map_err(|e| bad(e.to_string()))?;
                    rewrite_private(path, &json)
                        .map_err(|source| LocalError::Io { path: path.to_owned(), source })?;
                    key
                }
            };
            if cookie_key.len() < 64 {
                return Err(bad("cookie_key must be at least 64 bytes".into()));
            }
            Ok(Secrets { form_key, ip_salt, cookie_key })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secrets = Secrets::generate();
            let file = SecretsFile {
                form_key: STANDARD.encode(&secrets.form_key),
                ip_salt: STANDARD.encode(&secrets.ip_salt),
                cookie_key: Some(STANDARD.encode(&secrets.cookie_key)),
            };
            let json = serde_json::to_vec_pretty(&file).map_err(|e| bad(e.to_string()))?;
            write_private(path, &json)
                .map_err(|source| LocalError::Io { path: path.to_owned(), source })?;
            Ok(secrets)
        }
        Err(source) => Err(LocalError::Io { path: path.to_owned(), source }),
    }
}

/// Replaces the file through a private file beside it, so a crash leaves the old or the new
/// secrets, never half of them.
fn rewrite_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("json.new");
    match std::fs::remove_file(&temporary) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    write_private(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
