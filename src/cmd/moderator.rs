//! `buurtbord moderator add|remove|list`: the accounts that may log in at `/beheer`, kept in
//! the same SQLite file as the queue (`<data>/queue.sqlite3`), or with `--table` in the
//! DynamoDB table of a cloud deployment.
//!
//! Exit codes: 0 done, 1 a problem the operator can fix (the message says which), 2 a usage
//! error (clap). A password is never echoed, never logged and never stored unhashed.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::{Args, Subcommand};
use submit_fn::auth::{MIN_PASSWORD_CHARS, hash_password, is_long_enough};
use submit_fn::store::moderators::{is_valid_email, normalize_email};
use submit_fn::store::{
    DynamoQueue, LockState, Moderator, ModeratorError, ModeratorStore, SqliteQueue,
};

#[derive(Debug, Args)]
pub struct ModeratorArgs {
    #[command(subcommand)]
    action: Action,
    /// Folder with the queue database (queue.sqlite3).
    #[arg(long, value_name = "DIR", default_value = "data", global = true)]
    data: PathBuf,
    /// The DynamoDB table of a cloud deployment (the stack's TableName output) instead of
    /// the local database; region and credentials come from the usual AWS environment.
    #[arg(long, value_name = "NAME", global = true)]
    table: Option<String>,
}

/// Where the accounts are kept.
struct Accounts {
    data: PathBuf,
    table: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Add a moderator; asks for the password twice without showing it.
    Add {
        /// The moderator's e-mail address, used to log in.
        email: String,
        /// Read the password from the first line of standard input instead (for scripts).
        #[arg(long)]
        password_stdin: bool,
        /// Mail this moderator whenever a new post waits in the queue.
        #[arg(long)]
        notify: bool,
    },
    /// Remove a moderator; their sessions end at their next request.
    Remove {
        /// The moderator's e-mail address.
        email: String,
    },
    /// List the moderators, one per line.
    List,
    /// Turn the mail about new posts in the queue on or off for a moderator.
    Notify {
        /// The moderator's e-mail address.
        email: String,
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        setting: String,
    },
}

/// A problem the operator can fix; printed as `error: …` with exit code 1.
struct Refusal(String);

pub fn run(args: ModeratorArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let at = Accounts { data: args.data, table: args.table };
    let outcome = runtime.block_on(async {
        match args.action {
            Action::Add { email, password_stdin, notify } => {
                add(&at, &email, password_stdin, notify).await
            }
            Action::Notify { email, setting } => set_notify(&at, &email, setting == "on").await,
            Action::Remove { email } => remove(&at, &email).await,
            Action::List => list(&at).await,
        }
    })?;
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(Refusal(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn add(
    at: &Accounts,
    email: &str,
    password_stdin: bool,
    notify: bool,
) -> anyhow::Result<Result<(), Refusal>> {
    let email = normalize_email(email);
    if !is_valid_email(&email) {
        return Ok(Err(Refusal(format!("{email:?} is not a valid e-mail address"))));
    }
    let store = open(at).await?;
    // Checked before asking for the password, so nobody types one for nothing; `add`
    // below is still the conditional write that decides.
    if store.moderator(&email).await?.is_some() {
        return Ok(Err(already_exists(&email)));
    }
    let password = match read_password(&email, password_stdin)? {
        Ok(password) => password,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    let moderator = Moderator {
        email: email.clone(),
        password_hash,
        added_at: Utc::now(),
        lock: LockState::default(),
        notify,
    };
    match store.add_moderator(&moderator).await {
        Ok(()) => {
            println!("added moderator {email}");
            Ok(Ok(()))
        }
        Err(ModeratorError::AlreadyExists) => Ok(Err(already_exists(&email))),
        Err(other) => Err(other.into()),
    }
}

async fn remove(at: &Accounts, email: &str) -> anyhow::Result<Result<(), Refusal>> {
    let email = normalize_email(email);
    let Some(store) = open_existing(at).await? else { return Ok(Err(no_database(&at.data))) };
    match store.remove_moderator(&email).await {
        Ok(()) => {
            println!("removed moderator {email}");
            Ok(Ok(()))
        }
        Err(ModeratorError::Unknown) => Ok(Err(Refusal(format!(
            "there is no moderator {email}; see `buurtbord moderator list`"
        )))),
        Err(other) => Err(other.into()),
    }
}

async fn set_notify(
    at: &Accounts,
    email: &str,
    notify: bool,
) -> anyhow::Result<Result<(), Refusal>> {
    let email = normalize_email(email);
    let Some(store) = open_existing(at).await? else { return Ok(Err(no_database(&at.data))) };
    match store.set_notify(&email, notify).await {
        Ok(()) => {
            let state = if notify { "on" } else { "off" };
            println!("mail about new posts is {state} for {email}");
            Ok(Ok(()))
        }
        Err(ModeratorError::Unknown) => Ok(Err(Refusal(format!(
            "there is no moderator {email}; see `buurtbord moderator list`"
        )))),
        Err(other) => Err(other.into()),
    }
}

async fn list(at: &Accounts) -> anyhow::Result<Result<(), Refusal>> {
    let Some(store) = open_existing(at).await? else { return Ok(Err(no_database(&at.data))) };
    let now = Utc::now();
    let moderators = store.moderators().await?;
    if moderators.is_empty() {
        eprintln!("no moderators yet; add one with `buurtbord moderator add <email>`");
    }
    for m in moderators {
        let added = m.added_at.format("%Y-%m-%d");
        let notify = if m.notify { "\tmail about new posts" } else { "" };
        match m.lock.locked_until.filter(|_| m.lock.is_locked(now)) {
            Some(until) => {
                println!("{}\tadded {added}\tlocked until {} UTC", m.email, until.format("%H:%M"))
            }
            None => println!("{}\tadded {added}{notify}", m.email),
        }
    }
    Ok(Ok(()))
}

/// The password from stdin's first line, or typed twice at the terminal without echo.
fn read_password(email: &str, from_stdin: bool) -> anyhow::Result<Result<String, Refusal>> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        let first = rpassword::prompt_password(format!("Password for {email}: "))
            .context("reading the password")?;
        let second =
            rpassword::prompt_password("Same password again: ").context("reading the password")?;
        if first != second {
            return Ok(Err(Refusal("the two passwords differ; nothing was changed".into())));
        }
        first
    };
    if !is_long_enough(&password) {
        let message =
            format!("the password is too short: use at least {MIN_PASSWORD_CHARS} characters");
        return Ok(Err(Refusal(message)));
    }
    Ok(Ok(password))
}

/// The table when one is named (`BUURTBORD_DYNAMODB_ENDPOINT` points at a local server
/// instead of AWS), else the local database, created when missing.
async fn open(at: &Accounts) -> anyhow::Result<Box<dyn ModeratorStore>> {
    if let Some(table) = &at.table {
        let endpoint = std::env::var("BUURTBORD_DYNAMODB_ENDPOINT").ok();
        return Ok(Box::new(DynamoQueue::from_env(table.clone(), endpoint.as_deref()).await));
    }
    let data = &at.data;
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let path = data.join(submit_fn::local::QUEUE_FILE);
    let store = SqliteQueue::open(&path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(store))
}

/// The store when it exists; `None` rather than creating a file for a mistyped `--data`.
async fn open_existing(at: &Accounts) -> anyhow::Result<Option<Box<dyn ModeratorStore>>> {
    if at.table.is_none() && !at.data.join(submit_fn::local::QUEUE_FILE).is_file() {
        return Ok(None);
    }
    open(at).await.map(Some)
}

fn already_exists(email: &str) -> Refusal {
    Refusal(format!("a moderator {email} already exists; nothing was changed"))
}

fn no_database(data: &Path) -> Refusal {
    let path = data.join(submit_fn::local::QUEUE_FILE);
    Refusal(format!("{} does not exist; is --data right?", path.display()))
}
