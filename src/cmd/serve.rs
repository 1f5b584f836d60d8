//! `buurtbord serve`: builds the site and serves it on 127.0.0.1 with the submission form,
//! the moderation pages at /beheer and the posters' management pages at /beheer-bericht.
//! Approvals and posters' actions publish at once through the incremental rebuild; a full
//! rebuild and the daily run (expiry, reminders, retention) run shortly after every local
//! midnight, so expired posts and old personal data go without an operator. At start, approved posts that an interrupted approval
//! left unpublished are published (reconcile).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::handler::HandlerWithoutStateExt as _;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse as _, Redirect, Response};
use axum::routing::get;
use chrono::{Days, NaiveTime};
use clap::Args;
use submit_fn::auth::Auth;
use submit_fn::beheer::{Beheer, BeheerState, QUEUE_PATH};
use submit_fn::mail::MailTemplates;
use submit_fn::manage::Manage;
use submit_fn::notify::Notifier;
use submit_fn::publish::{LocalPublisher, PublishError};
use submit_fn::render::Pages;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

/// The longest one request may take, from its first byte to the answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

use super::moderation::{
    LocalArgs, build_options, mailer, moderation, open_app_with, retrying_mailer,
};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    local: LocalArgs,
    /// Port on 127.0.0.1 to listen on.
    #[arg(long, value_name = "N", default_value_t = 8080)]
    port: u16,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!(
                "error: port {} is already in use; stop the other program or choose another port with --port",
                args.port
            );
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e).with_context(|| format!("listening on {address}")),
    };
    let port = listener.local_addr()?.port();
    let local = &args.local;
    let site = match generator::Site::load(&local.dirs.content, None) {
        Ok(site) => site,
        Err(errors) => return super::report(generator::BuildError::Content(errors)),
    };
    let base_url = serving_base_url(&site, port);

    let publisher = match open_publisher(local, &base_url).await? {
        Ok(publisher) => Arc::new(publisher),
        Err(PublishError::Build(e)) => return super::report(e),
        Err(e) => return Err(e.into()),
    };

    let moderators = submit_fn::local::moderator_store(&local.data)?;
    let retrying = retrying_mailer(local, &site)?;
    let mailer = match &retrying {
        Some(retrying) => Arc::clone(retrying) as Arc<dyn submit_fn::mail::Mailer>,
        None => mailer(local, &site)?,
    };
    if let Some(retrying) = retrying {
        tokio::spawn(retry_mail(retrying, mail_retry_interval()?));
    }
    let notifier = Notifier {
        moderators: Arc::clone(&moderators),
        mailer: Arc::clone(&mailer),
        mails: MailTemplates::new(&site.config.name)?,
        beheer_url: format!("http://127.0.0.1:{port}{QUEUE_PATH}"),
    };
    let app = open_app_with(local, Some(notifier), Some(&base_url))?;
    let moderation = Arc::new(moderation(local, &app, Arc::clone(&publisher), &base_url, mailer)?);
    tokio::spawn(daily_after_midnight(Arc::clone(&moderation), Arc::clone(&publisher), site.tz));
    let done = moderation.reconcile(chrono::Utc::now()).await?;
    if !done.published.is_empty() {
        tracing::warn!(posts = done.published.len(), "approved posts published by reconcile");
    }
    for (id, reason) in &done.failed {
        eprintln!("warning: approved post {id} could not be published: {reason}");
    }
    let auth = Auth::new(moderators, &app.secrets, &site.config.name, &base_url)?;
    let preview =
        generator::Preview::load(&local.dirs.content, &local.dirs.theme, Some(&base_url))?;
    let pages = Pages::load(&local.dirs.content, &local.dirs.theme, Some(&base_url))?;
    let manage = Arc::new(Manage { moderation: Arc::clone(&moderation), pages });
    let beheer = BeheerState::new(Beheer::new(moderation, Arc::new(auth), preview)?);

    let router = submit_fn::app::full_router(app, beheer, manage)
        .merge(static_site(&local.out, &site.base_path))
        // A client that stops sending halfway through a request would otherwise hold its
        // connection and memory for good; a form or an approval needs far less than this.
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));
    eprintln!(
        "buurtbord is running: open {base_url} in your browser; moderators log in at \
         http://127.0.0.1:{port}/beheer (Ctrl+C stops it)"
    );
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")?;
    Ok(ExitCode::SUCCESS)
}

/// Builds the whole site once and keeps it for incremental updates.
async fn open_publisher(
    local: &LocalArgs,
    base_url: &str,
) -> anyhow::Result<Result<LocalPublisher, PublishError>> {
    let options = build_options(local, Some(base_url.to_owned()))?;
    Ok(tokio::task::spawn_blocking(move || LocalPublisher::open(options)).await?)
}

/// The static files under the base path, with the theme's 404 page for unknown paths.
fn static_site(out: &std::path::Path, base_path: &str) -> Router {
    let page = out.join("404.html");
    let files = ServeDir::new(out).not_found_service((move || not_found(page)).into_service());
    if base_path == "/" {
        return Router::new().fallback_service(files);
    }
    let prefix = base_path.trim_end_matches('/').to_string();
    let target = base_path.to_string();
    Router::new()
        .route("/", get(move || async move { Redirect::temporary(&target) }))
        .nest_service(&prefix, files)
}

/// The theme's 404 page, whole, whatever the request's conditional headers say: a browser
/// that cached a post page asks `If-Modified-Since`, and a `304` from the 404 file would
/// reach it as an empty 404, which browsers show as their own error page.
async fn not_found(page: std::path::PathBuf) -> Response {
    match tokio::fs::read_to_string(&page).await {
        Ok(html) => (StatusCode::NOT_FOUND, Html(html)).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// How often mail the SMTP server did not take is tried again: five minutes, or
/// `BUURTBORD_MAIL_RETRY_SECONDS`.
fn mail_retry_interval() -> anyhow::Result<Duration> {
    match std::env::var("BUURTBORD_MAIL_RETRY_SECONDS") {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
            _ => anyhow::bail!(
                "BUURTBORD_MAIL_RETRY_SECONDS must be a whole number of seconds above 0"
            ),
        },
        Err(_) => Ok(Duration::from_secs(300)),
    }
}

/// Sends again, every `every`, what the SMTP server did not take.
async fn retry_mail(mailer: Arc<submit_fn::mail::RetryingMailer>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(error) = mailer.retry(chrono::Utc::now()).await {
            tracing::error!(%error, "mail retry failed");
        }
    }
}

/// Expiry takes effect at a build, so five minutes after each local midnight the daily run
/// ([`submit_fn::daily::run`]: expiry, reminders, retention) and a full rebuild run.
async fn daily_after_midnight(
    moderation: Arc<submit_fn::moderate::Moderation>,
    publisher: Arc<LocalPublisher>,
    tz: chrono_tz::Tz,
) {
    loop {
        let now = chrono::Utc::now().with_timezone(&tz);
        let next = now
            .date_naive()
            .checked_add_days(Days::new(1))
            .map(|d| d.and_time(NaiveTime::from_hms_opt(0, 5, 0).expect("valid time")))
            .map(|naive| generator::dates::in_zone(naive, tz));
        let Some(next) = next else { return };
        let wait =
            (next.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait.max(Duration::from_secs(60))).await;
        if let Err(e) = submit_fn::daily::run(&moderation, chrono::Utc::now()).await {
            tracing::error!(error = %e, "daily run failed; it runs again next night");
        }
        match publisher.rebuild(chrono::Utc::now().fixed_offset()).await {
            Ok(report) => {
                tracing::info!(posts = report.posts, files = report.files, "nightly rebuild done")
            }
            Err(e) => {
                tracing::error!(error = %e, "nightly rebuild failed; the previous site stays online")
            }
        }
    }
}

/// The address pages, feeds and mails use. A site whose `base_url` is this machine (the
/// sample content, a trial run) gets the port actually listened on, so every link works in
/// the browser whatever `--port` says. A site with its real address (behind a reverse
/// proxy) keeps it: mails to posters must carry links residents can open.
fn serving_base_url(site: &generator::Site, port: u16) -> String {
    let host = url::Url::parse(&site.origin).ok().and_then(|u| u.host_str().map(str::to_owned));
    let local = matches!(host.as_deref(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"));
    if local {
        format!("http://127.0.0.1:{port}{}", site.base_path)
    } else {
        format!("{}{}", site.origin, site.base_path)
    }
}

#[cfg(test)]
mod tests {
    use super::serving_base_url;

    fn site(base_url: &str) -> (tempfile::TempDir, generator::Site) {
        let dir = tempfile::tempdir().unwrap();
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/content/site.yaml");
        let yaml = std::fs::read_to_string(sample).unwrap();
        let yaml = yaml
            .replace("base_url: \"http://127.0.0.1:8080/\"", &format!("base_url: \"{base_url}\""));
        assert!(yaml.contains(base_url), "the sample site.yaml's base_url line changed");
        std::fs::write(dir.path().join("site.yaml"), yaml).unwrap();
        let site = generator::Site::load(dir.path(), None).unwrap();
        (dir, site)
    }

    // Guards the links in posters' mails: a site with its real address keeps it when
    // served, a trial run on this machine follows the port actually listened on.
    #[test]
    fn a_real_address_is_kept_and_a_local_one_follows_the_port() {
        let (_dir, real) = site("https://buurtbord.example.nl/gooi/");
        assert_eq!(serving_base_url(&real, 18182), "https://buurtbord.example.nl/gooi/");
        let (_dir, local) = site("http://127.0.0.1:8080/");
        assert_eq!(serving_base_url(&local, 18182), "http://127.0.0.1:18182/");
        let (_dir, localhost) = site("http://localhost:8080/proef/");
        assert_eq!(serving_base_url(&localhost, 9000), "http://127.0.0.1:9000/proef/");
    }
}
