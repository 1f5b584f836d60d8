//! The function as `buurtbord serve` runs it: SQLite under the data folder, secrets
//! generated once and kept there, rules from `site.yaml`. Needs no other configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::app::{App, AppState, DEFAULT_POSTS_PER_HOUR};
use crate::render::Pages;
use crate::rules::{RulesError, SiteRules};
use crate::spam::Secrets;
use crate::store::{SqliteQueue, StoreError};

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
    #[error("templates: {0}")]
    Templates(#[from] tera::Error),
}

#[derive(Serialize, Deserialize)]
struct SecretsFile {
    form_key: String,
    ip_salt: String,
}

/// Builds the app for one machine: `data_dir/queue.sqlite3` and `data_dir/secrets.json`
/// (created on first start), with the rules from the text of `site.yaml`.
pub fn local_app(data_dir: &Path, site_yaml: &str) -> Result<AppState, LocalError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| LocalError::Io { path, source }
    };
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let (rules, base_url) = SiteRules::from_site_yaml(site_yaml)?;
    let store = SqliteQueue::open(&data_dir.join("queue.sqlite3"))?;
    let pages = Pages::new(&rules.site_name, &base_url)?;
    let secrets = load_or_create_secrets(&data_dir.join("secrets.json"))?;
    Ok(Arc::new(App {
        store: Arc::new(store),
        rules,
        secrets,
        pages,
        posts_per_hour: DEFAULT_POSTS_PER_HOUR,
    }))
}

/// Reads the secrets file, or writes a new one readable only by its owner.
fn load_or_create_secrets(path: &Path) -> Result<Secrets, LocalError> {
    let bad = |reason: String| LocalError::Secrets { path: path.to_owned(), reason };
    match std::fs::read(path) {
        Ok(bytes) => {
            let file: SecretsFile =
                serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
            let decode = |v: &str| STANDARD.decode(v).map_err(|e| bad(e.to_string()));
            Ok(Secrets { form_key: decode(&file.form_key)?, ip_salt: decode(&file.ip_salt)? })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secrets = Secrets::generate();
            let file = SecretsFile {
                form_key: STANDARD.encode(&secrets.form_key),
                ip_salt: STANDARD.encode(&secrets.ip_salt),
            };
            let json = serde_json::to_vec_pretty(&file).map_err(|e| bad(e.to_string()))?;
            write_private(path, &json)
                .map_err(|source| LocalError::Io { path: path.to_owned(), source })?;
            Ok(secrets)
        }
        Err(source) => Err(LocalError::Io { path: path.to_owned(), source }),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
