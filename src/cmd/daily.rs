//! `buurtbord daily`: the daily run on this machine, the one `serve` does shortly after
//! every midnight and the cloud's scheduled function does on AWS: publish what an
//! interrupted approval left off the site, take expired posts off the site, mail each
//! poster once before their post expires, and purge the personal data of posts that ended
//! longer ago than `retention_days`, and send again the mail an SMTP server did not take
//! (kept under `data/mail-retry/`). For a machine that does not run `serve` all the time,
//! run it from cron once a day. `BUURTBORD_NOW` sets the run's "now", as for `build`.

use std::process::ExitCode;

use clap::Args;

use super::moderation::{LocalArgs, open, retrying_mailer};

#[derive(Debug, Args)]
pub struct DailyArgs {
    #[command(flatten)]
    local: LocalArgs,
}

pub fn run(args: DailyArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let now = super::now()?.with_timezone(&chrono::Utc);
        let moderation = open(&args.local).await?;
        let done = submit_fn::daily::run(&moderation, now).await?;
        let site = generator::Site::load(&args.local.dirs.content, None)
            .map_err(|errors| anyhow::anyhow!("{} content error(s) in site.yaml", errors.len()))?;
        if let Some(mailer) = retrying_mailer(&args.local, &site)? {
            let retried = mailer.retry(now).await?;
            eprintln!(
                "kept mail: {} sent, {} still waiting, {} given up",
                retried.sent, retried.kept, retried.given_up
            );
        }
        for (label, ids) in [
            ("published", &done.reconciled.published),
            ("expired", &done.expired),
            ("reminded", &done.reminded),
            ("purged", &done.purged),
        ] {
            for id in ids {
                println!("{label}: {id}");
            }
        }
        eprintln!(
            "{} published, {} expired and taken off the site, {} reminder(s) mailed, \
             {} ended post(s) purged of personal data",
            done.reconciled.published.len(),
            done.expired.len(),
            done.reminded.len(),
            done.purged.len()
        );
        let failed: Vec<_> = done.reconciled.failed.iter().chain(&done.failed).collect();
        for (id, reason) in &failed {
            eprintln!("error: {id}: {reason}");
        }
        Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}
