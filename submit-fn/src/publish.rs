//! The publisher: turns an approved submission into its content file and brings the site
//! up to date. [`post_file`] writes the file's text from public fields only; a
//! [`Publisher`] stores it and rebuilds (locally [`LocalPublisher`], on AWS an S3 one).
//!
//! Invariants: nothing personal reaches the content file, because [`post_file`] copies
//! only the public fields and has no place for an address or number. Text that fails the
//! generator's checks is refused before anything is written. A content file, once written,
//! stays even when the rebuild after it fails: the old site stays online, the error goes
//! to the moderator, and the next update, `rebuild` or `buurtbord publish --reconcile`
//! builds from the content folder and so puts the post online.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use generator::post::FrontMatter;
use generator::text::clean_line;
use generator::{BuildError, BuildOptions, BuildReport, ContentError, LiveSite, UpdateReport};

use crate::submission::Submission;

/// What a publish or unpublish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The post's public address, absolute (from the site's base URL).
    pub url: String,
    /// The files written and removed in the output folder.
    pub report: UpdateReport,
}

/// Why publishing did not complete. Each message is one lowercase line that the moderation
/// page can show beside its own Dutch sentence.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("invalid post id `{0}`")]
    BadId(String),
    #[error("the post is not valid: {}", first_reason(.0))]
    Invalid(Vec<ContentError>),
    #[error("post {0} is not published")]
    NotPublished(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the site was not updated: {0}")]
    Build(BuildError),
    #[error("the publisher stopped after an earlier failure; restart it")]
    Poisoned,
    #[error("publish task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// An S3 request of the cloud publisher failed: the action, the object key (a post id
    /// or a site path, never personal data) and S3's own code and message.
    #[error("s3 {action} of `{key}` failed: {reason}")]
    S3 { action: &'static str, key: String, reason: String },
}

impl From<BuildError> for PublishError {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Content(errors) => PublishError::Invalid(errors),
            other => PublishError::Build(other),
        }
    }
}

fn first_reason(errors: &[ContentError]) -> String {
    let first = errors.first().map(|e| e.reason.clone()).unwrap_or_default();
    match errors.len() {
        0 | 1 => first,
        n => format!("{first} (and {} more)", n - 1),
    }
}

/// Where approved posts go and how the site follows.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Runs the checks `publish` runs on `text` as post `id`, and stores nothing: an
    /// approval calls it before the status changes, so a post that cannot be published is
    /// never marked approved.
    async fn check(&self, id: &str, text: &str) -> Result<(), PublishError>;

    /// Stores `text` (a whole content file, see [`post_file`]) as post `id` and updates
    /// the site. Invalid text is refused before anything is stored.
    async fn publish(&self, id: &str, text: &str) -> Result<Published, PublishError>;

    /// Takes post `id` offline and removes its content file. `NotPublished` when neither
    /// exists, which a retrying caller may treat as done.
    async fn unpublish(&self, id: &str) -> Result<Published, PublishError>;

    /// True if and only if the content store holds post `id`, which the next build
    /// publishes (unless it expired).
    async fn is_published(&self, id: &str) -> Result<bool, PublishError>;

    /// Post `id` as readers see it, if and only if the content store holds it as a valid
    /// post that has not expired at `now`; `None` for anything else, an id that cannot be
    /// a post's included. Read from the content store, not from the site in memory, so a
    /// post another process added or removed is answered as it now stands. It is how the
    /// forms on a post's page find a post that has no queue record.
    async fn live_post(
        &self,
        id: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<LivePost>, PublishError>;
}

/// A post on the site, as the forms on its page name it and link to it: public fields only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivePost {
    pub id: String,
    pub title: String,
    pub display_name: String,
    /// The post's public address, absolute.
    pub url: String,
}

/// `bytes`, the content file at `path`, as [`LivePost`] if it is post `id`, valid for
/// `site` and not expired at `now`. A file the generator refuses is on no site it builds,
/// so it is a content problem to log, and no post.
pub(crate) fn live_post_in(
    site: &generator::Site,
    path: &Path,
    id: &str,
    bytes: &[u8],
    now: DateTime<FixedOffset>,
) -> Option<LivePost> {
    let parsed = generator::front_matter::decode(path, bytes)
        .map_err(|e| vec![e])
        .and_then(|text| generator::post::parse(site, path, text));
    let post = match parsed {
        Ok(post) => post,
        Err(errors) => {
            tracing::warn!(post = id, problems = errors.len(), "content file is not a valid post");
            return None;
        }
    };
    if post.id != id || post.is_expired(now) {
        return None;
    }
    let url = site.absolute(&generator::urls::post(&post.slug));
    Some(LivePost { id: post.id, title: post.title, display_name: post.display_name, url })
}

/// The text of `content/posts/<id>.md` for an approved submission, published at
/// `published_at`. Only public fields are copied: never the e-mail address or phone number.
/// The slug is written out (frozen, so a later correction of the title keeps the URL) and
/// ends in the id's last characters, so two posts with the same title never share a URL.
pub fn post_file(id: &str, submission: &Submission, published_at: DateTime<FixedOffset>) -> String {
    revised_post_file(id, submission, published_at, None)
}

/// [`post_file`] for a post that an approved revision may have changed (`revised`): then
/// the file keeps the slug the post was first published with, so a new title never
/// changes its address, and says when it was updated.
pub fn revised_post_file(
    id: &str,
    submission: &Submission,
    published_at: DateTime<FixedOffset>,
    revised: Option<&crate::store::Revised>,
) -> String {
    let slug = match revised {
        Some(revised) => revised.slug.clone(),
        None => generator::slug::unique_post_slug(&clean_line(&submission.title), id),
    };
    let updated = revised.map(|r| r.at.with_timezone(&published_at.timezone()));
    let front = FrontMatter {
        id: id.to_owned(),
        slug: Some(slug),
        title: submission.title.clone(),
        kind: submission.kind.into(),
        category: submission.category.clone(),
        municipality: submission.municipality.clone(),
        neighbourhood: submission.neighbourhood.clone(),
        recurring: submission.recurring,
        date: published_at.to_rfc3339_opts(SecondsFormat::Secs, false),
        updated: updated.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, false)),
        // A date-only expiry lasts until the end of that day in the site's zone.
        expires: submission.expires.map(|d| d.format("%Y-%m-%d").to_string()),
        display_name: submission.display_name.clone(),
        organisation: submission.organisation.clone(),
    };
    front.to_file(&submission.body)
}

/// The publisher of `buurtbord serve`: content files in `content/posts/`, the site built
/// into the output folder by a [`LiveSite`] kept in memory. Cloning shares the site.
#[derive(Clone)]
pub struct LocalPublisher {
    site: Arc<Mutex<LiveSite>>,
    posts_dir: PathBuf,
}

impl LocalPublisher {
    /// Builds the whole site once (blocking; call it at start-up, before serving).
    pub fn open(options: BuildOptions) -> Result<LocalPublisher, PublishError> {
        let posts_dir = options.content.join("posts");
        let (site, report) = LiveSite::open(options)?;
        tracing::info!(posts = report.posts, files = report.files, "publisher ready");
        Ok(LocalPublisher { site: Arc::new(Mutex::new(site)), posts_dir })
    }

    /// Rebuilds everything at `now`: the nightly run that takes expired posts offline and
    /// repairs what an earlier failed update left behind.
    pub async fn rebuild(&self, now: DateTime<FixedOffset>) -> Result<BuildReport, PublishError> {
        self.with_site(move |site| Ok(site.rebuild(now)?)).await
    }

    /// Runs `work` on the site on a blocking thread, one update at a time.
    async fn with_site<T, F>(&self, work: F) -> Result<T, PublishError>
    where
        T: Send + 'static,
        F: FnOnce(&mut LiveSite) -> Result<T, PublishError> + Send + 'static,
    {
        let site = Arc::clone(&self.site);
        tokio::task::spawn_blocking(move || work(&mut *lock(&site)?)).await?
    }

    fn content_file(&self, id: &str) -> Result<PathBuf, PublishError> {
        check_id(id)?;
        Ok(self.posts_dir.join(format!("{id}.md")))
    }
}

#[async_trait]
impl Publisher for LocalPublisher {
    async fn check(&self, id: &str, text: &str) -> Result<(), PublishError> {
        let path = self.content_file(id)?;
        let (id, text) = (id.to_owned(), text.to_owned());
        self.with_site(move |site| check_post(site, &path, &id, &text).map(|_| ())).await
    }

    async fn publish(&self, id: &str, text: &str) -> Result<Published, PublishError> {
        let path = self.content_file(id)?;
        let (id, text) = (id.to_owned(), text.to_owned());
        self.with_site(move |site| {
            let post = check_post(site, &path, &id, &text)?;
            write_durably(&path, text.as_bytes())?;
            let report = site.upsert_post(&path)?;
            let url = site.site().absolute(&generator::urls::post(&post.slug));
            tracing::info!(post = %id, written = report.written.len(), "post published");
            Ok(Published { url, report })
        })
        .await
    }

    async fn unpublish(&self, id: &str) -> Result<Published, PublishError> {
        let path = self.content_file(id)?;
        let id = id.to_owned();
        self.with_site(move |site| {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(PublishError::Io { path, source }),
            }
            // A file the site never read was never online: nothing to take down.
            let Some(slug) = site.post(&id).map(|p| p.slug.clone()) else {
                return Err(PublishError::NotPublished(id));
            };
            let report = site.remove_post(&id)?;
            let url = site.site().absolute(&generator::urls::post(&slug));
            tracing::info!(post = %id, removed = report.removed.len(), "post unpublished");
            Ok(Published { url, report })
        })
        .await
    }

    async fn is_published(&self, id: &str) -> Result<bool, PublishError> {
        let path = self.content_file(id)?;
        tokio::fs::try_exists(&path).await.map_err(|source| PublishError::Io { path, source })
    }

    async fn live_post(
        &self,
        id: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<LivePost>, PublishError> {
        let Ok(conventional) = self.content_file(id) else { return Ok(None) };
        let id = id.to_owned();
        self.with_site(move |site| {
            // A post written by hand may have a file name of its own, which the site knows.
            let path = site.post(&id).map_or(conventional, |p| p.source.clone());
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(source) => return Err(PublishError::Io { path, source }),
            };
            Ok(live_post_in(site.site(), &path, &id, &bytes, now))
        })
        .await
    }
}

/// The generator's checks of `text` as post `id`, and the front matter's id must be `id`.
pub(crate) fn check_post(
    site: &LiveSite,
    path: &Path,
    id: &str,
    text: &str,
) -> Result<generator::post::Post, PublishError> {
    let post = site.check_post(path, text)?;
    if post.id != id {
        let reason = format!("front matter id `{}` is not `{id}`", post.id);
        return Err(PublishError::Invalid(vec![ContentError::new(path, None, reason)]));
    }
    Ok(post)
}

/// Post ids become file names, so only the generator's id alphabet is accepted: no `/`,
/// no `..`, nothing a file system treats specially.
pub(crate) fn check_id(id: &str) -> Result<(), PublishError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(PublishError::BadId(id.chars().take(64).collect())) }
}

fn lock(site: &Mutex<LiveSite>) -> Result<MutexGuard<'_, LiveSite>, PublishError> {
    // A panic during an update may have left the model half changed; refuse rather than
    // publish from it.
    site.lock().map_err(|_| PublishError::Poisoned)
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, and renames it
/// over `path`: a reader (the generator, another process) sees the old file or the whole
/// new one, and an approved post survives a power cut once this returns.
pub(crate) fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| PublishError::Io { path, source }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // Not `.md`, so a build running meanwhile ignores it; random, so two writers of one
    // id never share a temporary file.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename is durable only once the folder's entry is on disk too.
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}
