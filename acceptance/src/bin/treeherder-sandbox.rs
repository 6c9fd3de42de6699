//! `treeherder-sandbox`: runs the local Heroku/Scheduler fake until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use acceptance::sandbox::{start, SandboxConfig, DEFAULT_API_KEY};
use clap::Parser;

/// A local fake of Heroku's Platform API and Scheduler API, with a control API.
#[derive(Parser)]
#[command(name = "treeherder-sandbox")]
struct Args {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Write the Heroku base URL here (atomically) once listening.
    #[arg(long)]
    addr_file: Option<PathBuf>,
    /// Persist state here after each mutation; loaded on start.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Start from the seed even if the state file exists.
    #[arg(long)]
    reset: bool,
    /// Delay before a pipeline promotion settles.
    #[arg(long, default_value_t = 1500)]
    promotion_delay_ms: u64,
    /// Rate-limit token bucket size.
    #[arg(long, default_value_t = 4500)]
    rate_limit: u32,
    /// Tokens returned to the bucket per minute.
    #[arg(long, default_value_t = 75.0)]
    rate_limit_refill_per_minute: f64,
    /// API token to accept; defaults to $TREEHERDER_SANDBOX_API_KEY, then `sandbox-api-key`.
    #[arg(long)]
    api_key: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = SandboxConfig {
        listen: args.listen,
        state_file: args.state_file,
        reset: args.reset,
        addr_file: args.addr_file,
        api_key: args
            .api_key
            .or_else(|| std::env::var("TREEHERDER_SANDBOX_API_KEY").ok())
            .unwrap_or_else(|| DEFAULT_API_KEY.to_string()),
        promotion_delay: Duration::from_millis(args.promotion_delay_ms),
        rate_limit: args.rate_limit,
        rate_limit_refill_per_minute: args.rate_limit_refill_per_minute,
    };
    let sandbox = match start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("treeherder-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "treeherder-sandbox: heroku={} scheduler={} control={}",
        sandbox.heroku_url, sandbox.scheduler_url, sandbox.control_url
    );
    wait_for_signal().await;
    match sandbox.stop().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("treeherder-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
