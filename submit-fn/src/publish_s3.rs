//! The cloud publisher: content files under an S3 prefix, the site in an S3 bucket. It keeps
//! a copy of the content and a [`LiveSite`] in a local working folder (Lambda's `/tmp`), so
//! an update renders only the pages a post touches and uploads exactly the files whose bytes
//! changed, and deletes the ones that went away.
//!
//! Invariants, the same as [`LocalPublisher`](crate::publish::LocalPublisher)'s: text that
//! fails the generator's checks is refused before anything is stored; the content object is
//! stored before the site changes, so a failed upload leaves the post in the content store
//! and a later update, [`S3Publisher::sync_site`] or [`S3Publisher::rebuild`] puts it online.
//! A site file whose upload or deletion failed is remembered and tried again with the next
//! update, so the bucket never stays behind the local site. Updates run one at a time and
//! run to the end even when the caller stops waiting (a dropped HTTP request), so two
//! updates never interleave their uploads and no update is left half done.
//!
//! The site location belongs to the publisher: objects under it that the site does not
//! have are deleted, so it must not overlap the content location (checked on open).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, FixedOffset};
use generator::{BuildOptions, BuildReport, LiveSite, UpdateReport};
use md5::{Digest, Md5};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::publish::{
    LivePost, PublishError, Published, Publisher, check_id, check_post, live_post_in, write_durably,
};

/// How many S3 requests one publisher has in flight at once: enough to upload a site of
/// thousands of files on a cold start in seconds, few enough for a small Lambda.
const CONCURRENCY: usize = 16;

/// An S3 bucket and a key prefix inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Empty, or ending in `/` (see [`S3Location::new`]).
    pub prefix: String,
}

impl S3Location {
    /// A location; `prefix` loses leading slashes and gains a trailing one unless empty, so
    /// `content`, `/content` and `content/` all name the keys `content/...`.
    pub fn new(bucket: impl Into<String>, prefix: &str) -> S3Location {
        let prefix = prefix.trim_start_matches('/');
        let prefix = match prefix {
            "" => String::new(),
            p if p.ends_with('/') => p.to_owned(),
            p => format!("{p}/"),
        };
        S3Location { bucket: bucket.into(), prefix }
    }

    /// The key of `rel`, a path relative to this location.
    pub fn key(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    /// True if a key can lie under both locations.
    fn overlaps(&self, other: &S3Location) -> bool {
        self.bucket == other.bucket
            && (self.prefix.starts_with(&other.prefix) || other.prefix.starts_with(&self.prefix))
    }
}

/// Where [`S3Publisher::open`] reads, works and writes.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// The content store: `site.yaml`, `pages/` and `posts/` under its prefix.
    pub content: S3Location,
    /// Where the site goes, usually the bucket behind CloudFront; owned by the publisher.
    pub site: S3Location,
    /// A local folder to work in (in Lambda, one under `/tmp`). The publisher replaces its
    /// subfolders `content/` and `public/` and leaves the rest alone.
    pub work_dir: PathBuf,
    /// The theme folder, bundled with the function.
    pub theme: PathBuf,
    /// The build's "now": posts that expired before it are left out.
    pub now: DateTime<FixedOffset>,
    /// Replaces site.yaml's base URL when set.
    pub base_url: Option<String>,
}

/// What a comparison of the site bucket with the local site changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SiteSync {
    /// Local files the bucket lacked or held with other bytes.
    pub uploaded: usize,
    /// Objects under the site prefix that the site no longer has.
    pub deleted: usize,
}

/// The publisher of the cloud mode. Cloning shares the site and the update order.
#[derive(Clone)]
pub struct S3Publisher {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    content: S3Location,
    site: S3Location,
    content_dir: PathBuf,
    out: PathBuf,
    /// Held for a whole update, uploads included, so updates never interleave.
    state: Mutex<State>,
}

struct State {
    /// `None` once an update panicked: the site may be half changed, so it is not used.
    site: Option<LiveSite>,
    /// The ETag of each content object as last downloaded or stored, by relative path.
    content_etags: HashMap<String, String>,
    /// Site paths whose object may differ from the local file after a failed transfer.
    unsynced: BTreeSet<String>,
}

impl S3Publisher {
    /// Downloads the content, builds the whole site in `options.work_dir`, and brings the
    /// site location up to date with [`S3Publisher::sync_site`].
    ///
    /// Only what differs is uploaded, rather than everything: a cold start then costs one
    /// listing per thousand files instead of one PUT per file. An object counts as equal
    /// when its ETag is the MD5 of the local bytes, which holds for single-part uploads
    /// without SSE-KMS; with SSE-KMS every file differs and open uploads everything.
    pub async fn open(client: Client, options: S3Options) -> Result<S3Publisher, PublishError> {
        if options.site.overlaps(&options.content) {
            let reason = "the site location overlaps the content location".to_owned();
            return Err(PublishError::S3 { action: "open", key: options.site.key(""), reason });
        }
        let content_dir = options.work_dir.join("content");
        let out = options.work_dir.join("public");
        for dir in [&content_dir, &out] {
            remove_dir(dir).await?;
        }
        let state = State { site: None, content_etags: HashMap::new(), unsynced: BTreeSet::new() };
        let inner = Inner {
            client,
            content: options.content,
            site: options.site,
            content_dir: content_dir.clone(),
            out: out.clone(),
            state: Mutex::new(state),
        };
        let mut state = inner.state.lock().await;
        let downloaded = inner.refresh_content(&mut state).await?;
        tracing::info!(files = downloaded, "content downloaded");

        let build = BuildOptions {
            content: content_dir,
            theme: options.theme,
            out,
            now: options.now,
            base_url: options.base_url,
        };
        let (site, report) = tokio::task::spawn_blocking(move || LiveSite::open(build)).await??;
        state.site = Some(site);
        tracing::info!(posts = report.posts, files = report.files, "site built");
        let sync = inner.sync_all(&mut state).await?;
        tracing::info!(uploaded = sync.uploaded, deleted = sync.deleted, "publisher ready");
        drop(state);
        Ok(S3Publisher { inner: Arc::new(inner) })
    }

    /// Compares the whole site location with the local site and uploads and deletes what
    /// differs: the repair after a failed update, or after a hand edit of the bucket.
    pub async fn sync_site(&self) -> Result<SiteSync, PublishError> {
        self.detached(|inner| async move {
            let mut state = inner.state.lock().await;
            let sync = inner.sync_all(&mut state).await?;
            tracing::info!(uploaded = sync.uploaded, deleted = sync.deleted, "site synced");
            Ok(sync)
        })
        .await
    }

    /// Reads the content store again and rebuilds everything at `now`: the nightly run
    /// that takes expired posts offline. The bucket follows with a full comparison.
    pub async fn rebuild(&self, now: DateTime<FixedOffset>) -> Result<BuildReport, PublishError> {
        self.detached(move |inner| async move {
            let mut state = inner.state.lock().await;
            inner.refresh_content(&mut state).await?;
            let report = run(&mut state, move |site| Ok(site.rebuild(now)?)).await?;
            let sync = inner.sync_all(&mut state).await?;
            tracing::info!(
                posts = report.posts,
                uploaded = sync.uploaded,
                deleted = sync.deleted,
                "site rebuilt"
            );
            Ok(report)
        })
        .await
    }

    /// Runs `work` as a task of its own, so it finishes even if the caller is dropped.
    async fn detached<T, F, Fut>(&self, work: F) -> Result<T, PublishError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T, PublishError>> + Send + 'static,
    {
        tokio::spawn(work(Arc::clone(&self.inner))).await?
    }
}

#[async_trait]
impl Publisher for S3Publisher {
    async fn check(&self, id: &str, text: &str) -> Result<(), PublishError> {
        check_id(id)?;
        let (id, text) = (id.to_owned(), text.to_owned());
        let path = self.inner.content_dir.join(post_rel(&id));
        let mut state = self.inner.state.lock().await;
        run(&mut state, move |site| check_post(site, &path, &id, &text).map(|_| ())).await
    }

    async fn publish(&self, id: &str, text: &str) -> Result<Published, PublishError> {
        check_id(id)?;
        let (id, text) = (id.to_owned(), text.to_owned());
        self.detached(|inner| async move { inner.publish(id, text).await }).await
    }

    async fn unpublish(&self, id: &str) -> Result<Published, PublishError> {
        check_id(id)?;
        let id = id.to_owned();
        self.detached(|inner| async move { inner.unpublish(id).await }).await
    }

    async fn is_published(&self, id: &str) -> Result<bool, PublishError> {
        check_id(id)?;
        let key = self.inner.content.key(&post_rel(id));
        let head = self.inner.client.head_object().bucket(&self.inner.content.bucket).key(&key);
        match head.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
            Err(e) => Err(s3_error("head", &key, e)),
        }
    }

    async fn live_post(
        &self,
        id: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<Option<LivePost>, PublishError> {
        if check_id(id).is_err() {
            return Ok(None);
        }
        // The settings and the post's file name from the site in memory; the post itself
        // from the content store, which another instance may have changed since.
        let (rel, site) = {
            let state = self.inner.state.lock().await;
            let site = state.site.as_ref().ok_or(PublishError::Poisoned)?;
            let known =
                site.post(id).and_then(|p| p.source.strip_prefix(&self.inner.content_dir).ok());
            let rel = known.and_then(|rel| rel.to_str()).map(str::to_owned);
            (rel.unwrap_or_else(|| post_rel(id)), site.site().clone())
        };
        let key = self.inner.content.key(&rel);
        let get = self.inner.client.get_object().bucket(&self.inner.content.bucket).key(&key);
        let got = match get.send().await {
            Ok(got) => got,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(s3_error("get", &key, e)),
        };
        let body = got.body.collect().await.map_err(|e| PublishError::S3 {
            action: "get",
            key: key.clone(),
            reason: e.to_string(),
        })?;
        let path = self.inner.content_dir.join(&rel);
        Ok(live_post_in(&site, &path, id, &body.into_bytes(), now))
    }
}

impl Inner {
    async fn publish(&self, id: String, text: String) -> Result<Published, PublishError> {
        let mut state = self.state.lock().await;
        self.refresh_content(&mut state).await?;
        let rel = post_rel(&id);
        let path = self.content_dir.join(&rel);

        // Checked against the site as it is now, before the content store changes.
        let (p, t) = (path.clone(), text.clone());
        let post = run(&mut state, move |site| check_post(site, &p, &id, &t)).await?;

        let etag = self.put_content(&rel, text.as_bytes()).await?;
        write_durably(&path, text.as_bytes())?;
        state.content_etags.insert(rel, etag);
        tracing::info!(post = %post.id, "content stored");

        let slug = post.slug.clone();
        let (report, url) = run(&mut state, move |site| {
            let report = site.upsert_post(&path)?;
            Ok((report, site.site().absolute(&generator::urls::post(&slug))))
        })
        .await?;
        self.sync_report(&mut state, &report).await?;
        let (written, removed) = (report.written.len(), report.removed.len());
        tracing::info!(post = %post.id, written, removed, "post published");
        Ok(Published { url, report })
    }

    async fn unpublish(&self, id: String) -> Result<Published, PublishError> {
        let mut state = self.state.lock().await;
        self.refresh_content(&mut state).await?;
        let rel = post_rel(&id);
        let key = self.content.key(&rel);
        // S3 answers a deletion of a missing key with success, so a retry is harmless.
        let delete = self.client.delete_object().bucket(&self.content.bucket).key(&key);
        delete.send().await.map_err(|e| s3_error("delete", &key, e))?;
        state.content_etags.remove(&rel);
        remove_file(&self.content_dir.join(&rel)).await?;
        tracing::info!(post = %id, "content deleted");

        let post_id = id.clone();
        let (report, url) = run(&mut state, move |site| {
            // A post the site never read was never online: nothing to take down.
            let Some(slug) = site.post(&post_id).map(|p| p.slug.clone()) else {
                return Err(PublishError::NotPublished(post_id));
            };
            let report = site.remove_post(&post_id)?;
            Ok((report, site.site().absolute(&generator::urls::post(&slug))))
        })
        .await?;
        self.sync_report(&mut state, &report).await?;
        let (written, removed) = (report.written.len(), report.removed.len());
        tracing::info!(post = %id, written, removed, "post unpublished");
        Ok(Published { url, report })
    }

    /// Makes the local content folder equal the content store: downloads what is new or
    /// changed, deletes what is gone. Another instance of the function may have published
    /// meanwhile; the [`LiveSite`] notices the changed files and reloads, so this instance
    /// never uploads listings without that post. Returns how many files changed.
    async fn refresh_content(&self, state: &mut State) -> Result<usize, PublishError> {
        let listed = self.list(&self.content).await?;
        let mut fetch = Vec::new();
        for (rel, etag) in &listed {
            if state.content_etags.get(rel) != Some(etag) {
                if is_safe_rel(rel) {
                    fetch.push(rel.clone());
                } else {
                    tracing::warn!(key = %self.content.key(rel), "content key skipped");
                }
            }
        }
        let gone: Vec<String> =
            state.content_etags.keys().filter(|rel| !listed.contains_key(*rel)).cloned().collect();

        let fetched = fetch.len();
        let (done, error) = in_parallel(fetch, |rel| self.download(rel)).await;
        for (rel, etag) in done {
            state.content_etags.insert(rel, etag);
        }
        if let Some(e) = error {
            return Err(e);
        }
        for rel in &gone {
            remove_file(&self.content_dir.join(rel)).await?;
            state.content_etags.remove(rel);
        }
        Ok(fetched + gone.len())
    }

    /// Downloads one content object into the content folder; returns the path and ETag.
    fn download(
        &self,
        rel: String,
    ) -> impl Future<Output = Result<(String, String), PublishError>> + Send + 'static {
        let (client, bucket) = (self.client.clone(), self.content.bucket.clone());
        let (key, path) = (self.content.key(&rel), self.content_dir.join(&rel));
        async move {
            let got = client.get_object().bucket(bucket).key(&key).send().await;
            let got = got.map_err(|e| s3_error("get", &key, e))?;
            let etag = got.e_tag().map(unquote).unwrap_or_default();
            let body = got.body.collect().await.map_err(|e| PublishError::S3 {
                action: "get",
                key: key.clone(),
                reason: e.to_string(),
            })?;
            let bytes = body.into_bytes();
            tokio::task::spawn_blocking(move || write_durably(&path, &bytes)).await??;
            Ok((rel, etag))
        }
    }

    /// Stores a content file; returns its new ETag.
    async fn put_content(&self, rel: &str, bytes: &[u8]) -> Result<String, PublishError> {
        let key = self.content.key(rel);
        let put = self.client.put_object().bucket(&self.content.bucket).key(&key);
        let put = put.content_type("text/markdown; charset=utf-8");
        let stored = put.body(ByteStream::from(bytes.to_vec())).send().await;
        let stored = stored.map_err(|e| s3_error("put", &key, e))?;
        Ok(stored.e_tag().map(unquote).unwrap_or_default())
    }

    /// Uploads the files an update wrote and deletes the ones it removed, together with
    /// any left over from an earlier failed transfer.
    async fn sync_report(
        &self,
        state: &mut State,
        report: &UpdateReport,
    ) -> Result<SiteSync, PublishError> {
        let changed = report.written.iter().chain(&report.removed).cloned();
        let paths: Vec<String> = changed.chain(std::mem::take(&mut state.unsynced)).collect();
        let (upload, delete): (Vec<String>, Vec<String>) =
            paths.into_iter().partition(|rel| self.out.join(rel).is_file());
        self.transfer(state, upload, delete).await
    }

    /// Compares the whole site location with the local site; transfers what differs.
    async fn sync_all(&self, state: &mut State) -> Result<SiteSync, PublishError> {
        let listed = self.list(&self.site).await?;
        let out = self.out.clone();
        let local = tokio::task::spawn_blocking(move || local_digests(&out)).await??;
        let differs = |(rel, md5): (&String, &String)| listed.get(rel) != Some(md5);
        let upload = local.iter().filter(|&entry| differs(entry)).map(|(r, _)| r.clone()).collect();
        let delete = listed.into_keys().filter(|rel| !local.contains_key(rel)).collect();
        let sync = self.transfer(state, upload, delete).await?;
        state.unsynced.clear();
        Ok(sync)
    }

    /// Uploads, then deletes: a listing that no longer links a page is online before the
    /// page goes. Paths that fail stay in `state.unsynced` for the next update.
    async fn transfer(
        &self,
        state: &mut State,
        upload: Vec<String>,
        delete: Vec<String>,
    ) -> Result<SiteSync, PublishError> {
        state.unsynced.extend(upload.iter().chain(&delete).cloned());
        let (uploaded, error) = in_parallel(upload, |rel| self.upload(rel)).await;
        for rel in &uploaded {
            state.unsynced.remove(rel);
        }
        if let Some(e) = error {
            return Err(e);
        }
        let (deleted, error) = in_parallel(delete, |rel| self.delete_site(rel)).await;
        for rel in &deleted {
            state.unsynced.remove(rel);
        }
        match error {
            Some(e) => Err(e),
            None => Ok(SiteSync { uploaded: uploaded.len(), deleted: deleted.len() }),
        }
    }

    /// Uploads one site file with the headers a browser and a CDN need.
    fn upload(
        &self,
        rel: String,
    ) -> impl Future<Output = Result<String, PublishError>> + Send + 'static {
        let (client, bucket) = (self.client.clone(), self.site.bucket.clone());
        let (key, path) = (self.site.key(&rel), self.out.join(&rel));
        async move {
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|source| PublishError::Io { path: path.clone(), source })?;
            let put = client.put_object().bucket(bucket).key(&key);
            let put = put.content_type(content_type(&rel)).cache_control(cache_control(&rel));
            put.body(ByteStream::from(bytes)).send().await.map_err(|e| s3_error("put", &key, e))?;
            Ok(rel)
        }
    }

    /// Deletes one site object.
    fn delete_site(
        &self,
        rel: String,
    ) -> impl Future<Output = Result<String, PublishError>> + Send + 'static {
        let (client, bucket, key) =
            (self.client.clone(), self.site.bucket.clone(), self.site.key(&rel));
        async move {
            let delete = client.delete_object().bucket(bucket).key(&key);
            delete.send().await.map_err(|e| s3_error("delete", &key, e))?;
            Ok(rel)
        }
    }

    /// Every object under `location` by path relative to it, with its ETag.
    async fn list(&self, location: &S3Location) -> Result<HashMap<String, String>, PublishError> {
        let mut objects = HashMap::new();
        let mut token = None;
        loop {
            let request = self.client.list_objects_v2().bucket(&location.bucket);
            let request = request.prefix(&location.prefix).set_continuation_token(token);
            let page = request.send().await.map_err(|e| s3_error("list", &location.prefix, e))?;
            for object in page.contents() {
                let Some(rel) = object.key().and_then(|k| k.strip_prefix(&location.prefix)) else {
                    continue;
                };
                // A key ending in `/` is a console's folder marker, not a file.
                if !rel.is_empty() && !rel.ends_with('/') {
                    objects.insert(rel.to_owned(), object.e_tag().map(unquote).unwrap_or_default());
                }
            }
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                return Ok(objects);
            }
        }
    }
}

/// Runs `work` on the site on a blocking thread. A panic there may leave the site half
/// changed, so the site is then dropped and every later update is refused.
async fn run<T, F>(state: &mut State, work: F) -> Result<T, PublishError>
where
    T: Send + 'static,
    F: FnOnce(&mut LiveSite) -> Result<T, PublishError> + Send + 'static,
{
    let mut site = state.site.take().ok_or(PublishError::Poisoned)?;
    let (site, result) = tokio::task::spawn_blocking(move || {
        let result = work(&mut site);
        (site, result)
    })
    .await?;
    state.site = Some(site);
    result
}

/// Runs `task` on every item, at most [`CONCURRENCY`] at a time. Returns the outputs of
/// the tasks that succeeded and the first error; after an error no new task starts.
async fn in_parallel<T, Fut>(
    items: Vec<String>,
    task: impl Fn(String) -> Fut,
) -> (Vec<T>, Option<PublishError>)
where
    T: Send + 'static,
    Fut: Future<Output = Result<T, PublishError>> + Send + 'static,
{
    let mut running = JoinSet::new();
    let (mut done, mut error) = (Vec::new(), None);
    for item in items {
        if running.len() >= CONCURRENCY
            && let Some(joined) = running.join_next().await
        {
            settle(joined, &mut done, &mut error);
        }
        if error.is_some() {
            break;
        }
        running.spawn(task(item));
    }
    while let Some(joined) = running.join_next().await {
        settle(joined, &mut done, &mut error);
    }
    (done, error)
}

/// Files one finished task of [`in_parallel`] under its outputs or its first error.
fn settle<T>(
    joined: Result<Result<T, PublishError>, tokio::task::JoinError>,
    done: &mut Vec<T>,
    error: &mut Option<PublishError>,
) {
    match joined.map_err(PublishError::from).and_then(|r| r) {
        Ok(output) => done.push(output),
        Err(e) => {
            error.get_or_insert(e);
        }
    }
}

/// A content file's path relative to the content location: the local layout's.
fn post_rel(id: &str) -> String {
    format!("posts/{id}.md")
}

/// True if `rel` stays inside the folder it is joined to: no empty, `.` or `..` segment.
fn is_safe_rel(rel: &str) -> bool {
    !rel.contains('\\') && rel.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

/// The `Content-Type` for a site file, by name.
pub fn content_type(rel: &str) -> &'static str {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let extension = name.rsplit_once('.').map(|(_, x)| x.to_ascii_lowercase());
    match extension.as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("xml") if name.ends_with("atom.xml") => "application/atom+xml; charset=utf-8",
        Some("xml") => "application/xml; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        _ => "application/octet-stream",
    }
}

/// The `Cache-Control` for a site file. Pages and feeds change with every approval and a
/// withdrawn post must go offline soon, so they are cached for minutes; the theme's assets
/// change only with a deploy, so for a day (their names carry no hash, so not for longer).
pub fn cache_control(rel: &str) -> &'static str {
    if rel.starts_with("static/") { "public, max-age=86400" } else { "public, max-age=300" }
}

/// The MD5 of every file under `out`, hex, by path relative to it with `/` separators.
fn local_digests(out: &Path) -> Result<HashMap<String, String>, PublishError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| PublishError::Io { path, source }
    };
    let mut digests = HashMap::new();
    let mut dirs = vec![out.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let rel = path.strip_prefix(out).unwrap_or(&path);
            let rel: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
            digests.insert(rel.join("/"), hex(&Md5::digest(&bytes)));
        }
    }
    Ok(digests)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// S3 sends ETags in quotes.
fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_owned()
}

async fn remove_file(path: &Path) -> Result<(), PublishError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(PublishError::Io { path: path.to_owned(), source: e })
        }
        _ => Ok(()),
    }
}

async fn remove_dir(path: &Path) -> Result<(), PublishError> {
    match tokio::fs::remove_dir_all(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(PublishError::Io { path: path.to_owned(), source: e })
        }
        _ => Ok(()),
    }
}

/// Keeps the action, the key and S3's own code and message, which name no personal data.
fn s3_error<E, R>(action: &'static str, key: &str, error: SdkError<E, R>) -> PublishError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let reason = match &error {
        SdkError::ServiceError(service) => format!(
            "{}: {}",
            service.err().code().unwrap_or("unknown"),
            service.err().message().unwrap_or("no message")
        ),
        other => DisplayErrorContext(other).to_string(),
    };
    PublishError::S3 { action, key: key.to_owned(), reason }
}
