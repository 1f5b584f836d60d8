//! `buurtbord stats`: the figures for the municipality (requests, offers, responses and
//! posts marked helped, by month, municipality and category) from the local queue or,
//! with `--table`, from the DynamoDB table of a cloud deployment. The same figures as
//! `/beheer/cijfers`; nothing personal is read.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use submit_fn::rules::SiteRules;
use submit_fn::stats::{Figures, Period, PeriodError, figures, write_csv};
use submit_fn::store::{DynamoQueue, SqliteQueue, StatsStore};

use super::SiteDirs;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print CSV (with a heading line) instead of a table.
    #[arg(long)]
    csv: bool,
    /// The first month to count, YYYY-MM (default: the first there is).
    #[arg(long, value_name = "YYYY-MM")]
    from: Option<String>,
    /// The last month to count, YYYY-MM (default: the last there is).
    #[arg(long, value_name = "YYYY-MM")]
    to: Option<String>,
    /// The DynamoDB table of a cloud deployment (the stack's TableName output) instead of
    /// the local queue; `BUURTBORD_DYNAMODB_ENDPOINT` points at a local server.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
    /// Folder with the local queue (`queue.sqlite3`).
    #[arg(long, value_name = "DIR", default_value = "data")]
    data: std::path::PathBuf,
    #[command(flatten)]
    dirs: SiteDirs,
}

pub fn run(args: StatsArgs) -> anyhow::Result<ExitCode> {
    let period = match Period::parse(args.from.as_deref(), args.to.as_deref()) {
        Ok(period) => period,
        Err(PeriodError::NotAMonth(text)) => {
            eprintln!("error: `{text}` is not a month; write it as YYYY-MM, e.g. 2027-01");
            return Ok(ExitCode::from(2));
        }
        Err(PeriodError::Reversed) => {
            eprintln!("error: --from comes after --to; the first month goes in --from");
            return Ok(ExitCode::from(2));
        }
    };
    let yaml_path = args.dirs.content.join("site.yaml");
    let yaml = std::fs::read_to_string(&yaml_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", yaml_path.display()))?;
    let rules = SiteRules::from_site_yaml(&yaml)
        .map_err(|e| anyhow::anyhow!("{}: {e}", yaml_path.display()))?
        .0;
    let runtime = tokio::runtime::Runtime::new()?;
    let figures = runtime.block_on(async {
        let store = open(&args).await?;
        anyhow::Ok(figures(store.as_ref(), &rules, &period).await?)
    })?;
    let stdout = std::io::stdout().lock();
    if args.csv {
        write_csv(&figures, stdout)?;
    } else {
        print_table(&figures, stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn open(args: &StatsArgs) -> anyhow::Result<Arc<dyn StatsStore>> {
    if let Some(table) = &args.table {
        let endpoint = std::env::var("BUURTBORD_DYNAMODB_ENDPOINT").ok();
        return Ok(Arc::new(DynamoQueue::from_env(table.clone(), endpoint.as_deref()).await));
    }
    let path = args.data.join(submit_fn::local::QUEUE_FILE);
    if !path.is_file() {
        anyhow::bail!("{}: no queue here; pass --data DIR or --table NAME", path.display());
    }
    Ok(Arc::new(SqliteQueue::open(&path)?))
}

/// The figures as aligned columns with a totals line, for reading in a terminal.
fn print_table(figures: &Figures, mut out: impl Write) -> std::io::Result<()> {
    let columns = submit_fn::messages::figure_columns();
    let heading: [String; 7] = std::array::from_fn(|i| columns.get(i).cloned().unwrap_or_default());
    let mut lines = vec![heading];
    for row in &figures.rows {
        let c = &row.counts;
        lines.push([
            row.month.clone(),
            row.municipality.clone(),
            row.category.clone(),
            c.requests.to_string(),
            c.offers.to_string(),
            c.responses.to_string(),
            c.helped.to_string(),
        ]);
    }
    let t = &figures.totals;
    lines.push([
        String::new(),
        String::new(),
        String::new(),
        t.requests.to_string(),
        t.offers.to_string(),
        t.responses.to_string(),
        t.helped.to_string(),
    ]);
    let widths: Vec<usize> =
        (0..7).map(|i| lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0)).collect();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(
                |(i, (cell, &w))| if i < 3 { format!("{cell:<w$}") } else { format!("{cell:>w$}") },
            )
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}
