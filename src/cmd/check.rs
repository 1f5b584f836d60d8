//! `buurtbord check`: every content problem at once, nothing written.

use std::process::ExitCode;

use clap::Args;

use super::SiteDirs;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    dirs: SiteDirs,
    /// Output folder; accepted so scripts can pass the same flags as to build, never written.
    #[arg(long, value_name = "DIR", default_value = "public")]
    out: std::path::PathBuf,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    match generator::check(&args.dirs.content, &args.dirs.theme) {
        Ok(content) => {
            eprintln!(
                "content is fine: {} posts, {} pages",
                content.posts.len(),
                content.pages.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => super::report(e),
    }
}
