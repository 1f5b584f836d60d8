//! The subcommands and the flags they share.

mod build;
mod check;
mod daily;
mod moderation;
mod moderator;
mod privacy;
mod publish;
mod queue;
mod serve;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, FixedOffset};
use clap::{Args, Parser, Subcommand};

/// Buurtbord: buren helpen buren. Builds the listings site, checks content, serves it.
#[derive(Debug, Parser)]
#[command(name = "buurtbord", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the static site from the content folder.
    Build(build::BuildArgs),
    /// Check the content and theme without writing anything.
    Check(check::CheckArgs),
    /// Build the site and serve it, with the submission form, on 127.0.0.1.
    Serve(serve::ServeArgs),
    /// Add, remove or list the moderators who may log in at /beheer.
    Moderator(moderator::ModeratorArgs),
    /// List, show, approve or reject the posts waiting for moderation.
    Queue(queue::QueueArgs),
    /// Publish approved posts that an interrupted approval left off the site.
    Publish(publish::PublishArgs),
    /// The daily run: expired posts off the site, reminders before expiry, and the purge
    /// of personal data after the retention period (serve does it after every midnight).
    Daily(daily::DailyArgs),
    /// Export or erase everything on file for one e-mail address.
    Privacy(privacy::PrivacyArgs),
    /// Figures for the municipality: requests, offers, responses and posts marked helped,
    /// by month, municipality and category (no personal data).
    Stats(stats::StatsArgs),
}

/// Where content, theme and output live.
#[derive(Debug, Clone, Args)]
pub struct SiteDirs {
    /// Folder with site.yaml, posts/ and pages/.
    #[arg(long, value_name = "DIR", default_value = "content")]
    pub content: PathBuf,
    /// Theme folder with templates/, static/ and theme.yaml.
    #[arg(long, value_name = "DIR", default_value = "themes/default")]
    pub theme: PathBuf,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Build(args) => build::run(args),
        Command::Check(args) => check::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Moderator(args) => moderator::run(args),
        Command::Queue(args) => queue::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Daily(args) => daily::run(args),
        Command::Privacy(args) => privacy::run(args),
        Command::Stats(args) => stats::run(args),
    }
}

/// The build's "now": `BUURTBORD_NOW` (RFC 3339) when set, for reproducing a build of a
/// given day; otherwise the clock.
pub fn now() -> anyhow::Result<DateTime<FixedOffset>> {
    match std::env::var("BUURTBORD_NOW") {
        Ok(value) => DateTime::parse_from_rfc3339(&value)
            .map_err(|e| anyhow::anyhow!("BUURTBORD_NOW `{value}` is not RFC 3339: {e}")),
        Err(_) => Ok(chrono::Utc::now().fixed_offset()),
    }
}

/// Prints every content problem as `path:line: reason` and returns exit code 1;
/// other errors are passed on.
pub fn report(error: generator::BuildError) -> anyhow::Result<ExitCode> {
    match error {
        generator::BuildError::Content(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("error: {} problem(s) in the content; nothing was written", errors.len());
            Ok(ExitCode::from(1))
        }
        other => Err(other.into()),
    }
}
