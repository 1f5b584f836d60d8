//! `buurtbord privacy export|erase <email>`: a resident's request, made at the volunteer
//! centre, to see or erase everything on file for their e-mail address. `export` prints it
//! as JSON on standard output; `erase` takes the address's published posts off the site,
//! replaces its posts by anonymous counts and deletes the responses it wrote, and prints
//! what it did. Both work on the local queue, or with `--table` on the DynamoDB table of a
//! cloud deployment; `erase --table` then reads the same `BUURTBORD_` variables as the
//! function (content and site buckets, `SECRETS_PATH`), since it takes posts off that site.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use submit_fn::cloud::{Cloud, CloudConfig};
use submit_fn::moderate::Moderation;
use submit_fn::privacy::{Export, erase, export};
use submit_fn::store::moderators::is_valid_email;
use submit_fn::store::{AddressRecords, DynamoQueue, QueueStore};

use super::moderation::{LocalArgs, open, open_store};

#[derive(Debug, Args)]
pub struct PrivacyArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print everything on file for an e-mail address, as JSON.
    Export(Target),
    /// Take the address's posts off the site and erase its personal data.
    Erase(Target),
}

/// Whose data, and where it is kept.
#[derive(Debug, Args)]
struct Target {
    /// The resident's e-mail address.
    email: String,
    #[command(flatten)]
    local: LocalArgs,
    /// The DynamoDB table of a cloud deployment (the stack's TableName output) instead of
    /// the local queue; region and credentials come from the usual AWS environment.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
}

pub fn run(args: PrivacyArgs) -> anyhow::Result<ExitCode> {
    let (Action::Export(target) | Action::Erase(target)) = &args.action;
    let email = target.email.trim().to_owned();
    if !is_valid_email(&email.to_lowercase()) {
        eprintln!("error: {email:?} is not a valid e-mail address");
        return Ok(ExitCode::from(2));
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        match &args.action {
            Action::Export(t) => print_export(&t.local, t.table.clone(), &email).await,
            Action::Erase(t) => print_erase(&t.local, t.table.clone(), &email).await,
        }
    })
}

async fn print_export(
    local: &LocalArgs,
    table: Option<String>,
    email: &str,
) -> anyhow::Result<ExitCode> {
    let store: Arc<dyn QueueStore> = match table {
        Some(table) => {
            let endpoint = std::env::var("BUURTBORD_DYNAMODB_ENDPOINT").ok();
            Arc::new(DynamoQueue::from_env(table, endpoint.as_deref()).await)
        }
        None => {
            let path = local.data.join(submit_fn::local::QUEUE_FILE);
            anyhow::ensure!(path.is_file(), "{}: no queue here; pass --data DIR", path.display());
            open_store(local)?
        }
    };
    let record = store.export_address(email).await?;
    writeln!(std::io::stdout().lock(), "{}", Export::new(email, &record).to_json())?;
    if record.posts.is_empty() && record.sent.is_empty() {
        eprintln!("nothing is on file for this address");
    }
    Ok(ExitCode::SUCCESS)
}

async fn print_erase(
    local: &LocalArgs,
    table: Option<String>,
    email: &str,
) -> anyhow::Result<ExitCode> {
    let (moderation, _cloud) = match table {
        Some(table) => {
            let vars = std::env::vars().chain([("BUURTBORD_TABLE".to_owned(), table)]);
            let cloud = Cloud::open(&CloudConfig::from_vars(vars)).await?;
            (Arc::clone(&cloud.moderation), Some(cloud))
        }
        None => (Arc::new(open(local).await?), None),
    };
    let moderation: &Moderation = &moderation;
    let before = export(moderation, email).await?;
    let erased = erase(moderation, email, chrono::Utc::now()).await?;
    let mut out = std::io::stdout().lock();
    for post in &before.posts {
        if erased.posts.contains(&post.id) {
            writeln!(
                out,
                "post {} ({}): taken off the site, personal data erased",
                post.id, post.status
            )?;
        }
    }
    writeln!(out, "responses written with this address deleted: {}", erased.responses)?;
    if erased.posts.is_empty() && erased.responses == 0 {
        eprintln!("nothing is on file for this address; nothing was changed");
    }
    Ok(ExitCode::SUCCESS)
}
