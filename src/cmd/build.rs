//! `buurtbord build`: the whole site, written aside and swapped in when complete.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use super::SiteDirs;

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    dirs: SiteDirs,
    /// Folder to write the site to; replaced only when the new site is complete.
    #[arg(long, value_name = "DIR", default_value = "public")]
    out: PathBuf,
}

pub fn run(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let options = generator::BuildOptions {
        content: args.dirs.content,
        theme: args.dirs.theme,
        out: args.out.clone(),
        now: super::now()?,
        base_url: None,
    };
    match generator::build(&options) {
        Ok(report) => {
            eprintln!(
                "built {} posts ({} expired left out): {} files, {} KiB in {} in {:.0?}",
                report.posts,
                report.expired,
                report.files,
                report.bytes / 1024,
                args.out.display(),
                started.elapsed()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => super::report(e),
    }
}
