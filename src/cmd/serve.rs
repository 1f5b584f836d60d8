//! `buurtbord serve`: builds the site and serves it on 127.0.0.1, rebuilding shortly
//! after every local midnight so expired posts leave the site without an operator.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use chrono::{Days, NaiveTime};
use clap::Args;
use tower_http::services::{ServeDir, ServeFile};

use super::SiteDirs;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    dirs: SiteDirs,
    /// Folder to write the site to and serve it from.
    #[arg(long, value_name = "DIR", default_value = "public")]
    out: PathBuf,
    /// Port on 127.0.0.1 to listen on.
    #[arg(long, value_name = "N", default_value_t = 8080)]
    port: u16,
    /// Folder for the queue database and locally generated secrets.
    #[arg(long, value_name = "DIR", default_value = "data")]
    data: PathBuf,
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
    let site = generator::Site::load(&args.dirs.content, None);
    let base_path = match &site {
        Ok(site) => site.base_path.clone(),
        Err(_) => "/".to_string(),
    };
    let options = Arc::new(generator::BuildOptions {
        content: args.dirs.content.clone(),
        theme: args.dirs.theme.clone(),
        out: args.out.clone(),
        now: super::now()?,
        base_url: Some(format!("http://127.0.0.1:{port}{base_path}")),
    });
    if let Err(e) = rebuild(&options).await {
        return super::report(e);
    }
    let tz = site.map(|s| s.tz).unwrap_or(chrono_tz::Europe::Amsterdam);
    tokio::spawn(rebuild_after_midnight(Arc::clone(&options), tz));

    let site_yaml = std::fs::read_to_string(args.dirs.content.join("site.yaml"))
        .with_context(|| format!("reading {}", args.dirs.content.join("site.yaml").display()))?;
    let submissions = submit_fn::local::local_app(&args.data, &site_yaml)
        .with_context(|| format!("starting the submission function in {}", args.data.display()))?;
    let app = submit_fn::router(submissions).merge(static_site(&args.out, &base_path));
    eprintln!(
        "buurtbord is running: open http://127.0.0.1:{port}{base_path} in your browser (Ctrl+C stops it)"
    );
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")?;
    Ok(ExitCode::SUCCESS)
}

/// The static files under the base path, with the theme's 404 page for unknown paths.
fn static_site(out: &std::path::Path, base_path: &str) -> Router {
    let files = ServeDir::new(out).not_found_service(ServeFile::new(out.join("404.html")));
    if base_path == "/" {
        return Router::new().fallback_service(files);
    }
    let prefix = base_path.trim_end_matches('/').to_string();
    let target = base_path.to_string();
    Router::new()
        .route("/", get(move || async move { Redirect::temporary(&target) }))
        .nest_service(&prefix, files)
}

async fn rebuild(options: &Arc<generator::BuildOptions>) -> Result<(), generator::BuildError> {
    let options = Arc::clone(options);
    let mut options = (*options).clone();
    if std::env::var("BUURTBORD_NOW").is_err() {
        options.now = chrono::Utc::now().fixed_offset();
    }
    let report = tokio::task::spawn_blocking(move || generator::build(&options))
        .await
        .expect("the build task does not panic")?;
    tracing::info!(posts = report.posts, files = report.files, "site ready");
    Ok(())
}

/// Expiry takes effect at a build, so one runs five minutes after each local midnight.
async fn rebuild_after_midnight(options: Arc<generator::BuildOptions>, tz: chrono_tz::Tz) {
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
        if let Err(e) = rebuild(&options).await {
            tracing::error!(error = %e, "nightly rebuild failed; the previous site stays online");
        }
    }
}
