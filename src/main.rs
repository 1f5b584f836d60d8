//! `buurtbord`: the command line that wires the generator and the submission function
//! together. One file per subcommand under `cmd/`.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

/// The build allocates and frees many small strings on every worker; with glibc's malloc
/// that was about 15% of a 100,000-post build's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    init_logging();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// CLI logs go to stderr without timestamps; `RUST_LOG` overrides the level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_writer(std::io::stderr)
        .init();
}
