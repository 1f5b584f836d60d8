//! `buurtbord queue`: the moderation queue from the command line, the same decisions as
//! /beheer (approve publishes and rebuilds; reject mails the reason to the poster).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use submit_fn::moderate::ModerateError;
use submit_fn::store::Status;

use super::moderation::{LocalArgs, open};

#[derive(Debug, Args)]
pub struct QueueArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List the pending posts, oldest first.
    List(ListArgs),
    /// Show one post with everything on file, contact details included.
    Show(ItemArgs),
    /// Approve a pending post: publish it and rebuild the site.
    Approve(DecideArgs),
    /// Reject a pending post; the poster receives the reason.
    Reject(RejectArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    local: LocalArgs,
}

#[derive(Debug, Args)]
struct ItemArgs {
    /// The post's id, as `queue list` shows it.
    id: String,
    #[command(flatten)]
    local: LocalArgs,
}

#[derive(Debug, Args)]
struct DecideArgs {
    /// The post's id, as `queue list` shows it.
    id: String,
    /// Who decides, for the audit log (default: cli:<login name>).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    #[command(flatten)]
    local: LocalArgs,
}

#[derive(Debug, Args)]
struct RejectArgs {
    #[command(flatten)]
    decide: DecideArgs,
    /// Why, in words the poster understands (Dutch); sent to the poster.
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

pub fn run(args: QueueArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match args.action {
            Action::List(a) => list(a).await,
            Action::Show(a) => show(a).await,
            Action::Approve(a) => approve(a).await,
            Action::Reject(a) => reject(a).await,
        }
    })
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let store = super::moderation::open_store(&args.local)?;
    let now = chrono::Utc::now();
    let mut cursor = None;
    let mut count = 0;
    loop {
        let page = store.list_pending(100, cursor.as_deref()).await?;
        for item in &page.items {
            let hours = (now - item.received_at).num_hours();
            let s = &item.submission;
            println!(
                "{}  {:>4}h  {:<7}  {:<13}  {}",
                item.id,
                hours,
                s.kind.as_str(),
                s.municipality,
                s.title
            );
            count += 1;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    eprintln!("{count} pending");
    Ok(ExitCode::SUCCESS)
}

async fn show(args: ItemArgs) -> anyhow::Result<ExitCode> {
    let store = super::moderation::open_store(&args.local)?;
    let Some(item) = store.get(&args.id).await? else {
        eprintln!("error: no post {} in the queue", args.id);
        return Ok(ExitCode::from(1));
    };
    let s = &item.submission;
    let optional = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("id:            {}", item.id);
    println!("status:        {}", item.status.as_str());
    println!("received:      {}", item.received_at.to_rfc3339());
    if let Some(d) = &item.decision {
        println!("decided:       {} by {} at {}", d.status.as_str(), d.by, d.at.to_rfc3339());
        if let Some(reason) = &d.reason {
            println!("reason:        {reason}");
        }
    }
    println!("kind:          {}", s.kind.as_str());
    println!("title:         {}", s.title);
    println!("category:      {}", s.category);
    println!("municipality:  {}", s.municipality);
    println!("neighbourhood: {}", optional(&s.neighbourhood));
    println!("recurring:     {}", s.recurring);
    println!("expires:       {}", s.expires.map(|d| d.to_string()).unwrap_or_else(|| "-".into()));
    println!("display name:  {}", s.display_name);
    println!("organisation:  {}", optional(&s.organisation));
    println!("email:         {}", optional(&s.email));
    println!("phone:         {}", optional(&s.phone));
    println!("\n{}", s.body);
    Ok(ExitCode::SUCCESS)
}

async fn approve(args: DecideArgs) -> anyhow::Result<ExitCode> {
    let moderation = open(&args.local).await?;
    let by = actor(args.by);
    match moderation.approve(&args.id, &by, None, chrono::Utc::now()).await {
        Ok(approved) => {
            println!("approved and published: {}", approved.url);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refused(e),
    }
}

async fn reject(args: RejectArgs) -> anyhow::Result<ExitCode> {
    let reason = args.reason.trim();
    if reason.is_empty() {
        eprintln!("error: --reason must not be empty: the poster receives it");
        return Ok(ExitCode::from(2));
    }
    let moderation = open(&args.decide.local).await?;
    let by = actor(args.decide.by);
    match moderation.reject(&args.decide.id, &by, reason, chrono::Utc::now()).await {
        Ok(()) => {
            println!("rejected: {}", args.decide.id);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refused(e),
    }
}

/// A decision that could not be made is the operator's to fix: exit 1 with the reason.
fn refused(error: ModerateError) -> anyhow::Result<ExitCode> {
    match error {
        ModerateError::Store(e) => Err(e.into()),
        ModerateError::AlreadyDecided { id, status: Status::Approved, by } => {
            eprintln!("error: {id} was already approved by {by}");
            Ok(ExitCode::from(1))
        }
        other => {
            eprintln!("error: {other}");
            Ok(ExitCode::from(1))
        }
    }
}

fn actor(by: Option<String>) -> String {
    by.unwrap_or_else(|| {
        let user = std::env::var("USER").unwrap_or_else(|_| "onbekend".into());
        format!("cli:{user}")
    })
}
