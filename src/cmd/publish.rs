//! `buurtbord publish --reconcile`: publishes every approved post that the content folder
//! lacks, after an approval that was interrupted between the status change and the
//! rebuild. `buurtbord serve` does the same at every start.

use std::process::ExitCode;

use clap::Args;

use super::moderation::{LocalArgs, open};

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Compare the queue with the content folder and publish what is missing.
    #[arg(long)]
    reconcile: bool,
    #[command(flatten)]
    local: LocalArgs,
}

pub fn run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    if !args.reconcile {
        eprintln!("error: say what to do: `buurtbord publish --reconcile`");
        return Ok(ExitCode::from(2));
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let moderation = open(&args.local).await?;
        let done = moderation.reconcile(chrono::Utc::now()).await?;
        for id in &done.published {
            println!("published: {id}");
        }
        eprintln!(
            "{} approved post(s) were missing from the site and are now published",
            done.published.len()
        );
        for (id, reason) in &done.failed {
            eprintln!("error: {id} could not be published: {reason}");
        }
        Ok(if done.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}
