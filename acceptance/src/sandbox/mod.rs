//! `treeherder-sandbox`: a local stand-in for Heroku's Platform API v3, the Heroku
//! Scheduler (particleboard) API and a control API for tests.
//!
//! One HTTP listener serves three bases:
//! * `/` — Heroku Platform API v3: apps, config-vars, formation, dynos (restart = `DELETE`),
//!   releases (+ rollback), slugs, pipelines, pipeline-couplings, pipeline-promotions and
//!   promotion-targets, collaborators, add-ons, dyno sizes, `/account`,
//!   `/account/rate-limits`. Requires `Accept: application/vnd.heroku+json; version=3` (406)
//!   and `Authorization: Bearer KEY` or Basic with KEY as password (401). Every answer has
//!   `RateLimit-Remaining` and `Request-Id`; GETs have `ETag` (304 on `If-None-Match`);
//!   lists honour `Range` (`;` or `,` separators; 206 + `Next-Range` when truncated).
//! * `/scheduler` — JSON:API jobs under `/apps/{app_uuid}/jobs` (GET, POST) and
//!   `/apps/{app_uuid}/jobs/{id}` (PATCH, DELETE → 204).
//! * `/__control` — no auth: `GET|DELETE /requests` (request log), `GET|POST|DELETE /faults`
//!   (`{"api":"heroku"|"scheduler"|"any","status":503,"count":1,"path_prefix":"/apps/x",
//!   "method":"PATCH","retry_after":1,"after_effect":true,"message":"...","skip":0}`; `skip`
//!   lets that many matching requests through first),
//!   `POST /latency {"ms":N}`, `GET|POST /promotion-failures {"app":"name or id","message":".."}`,
//!   `POST /rate-limit {"remaining":N}`, `POST /reset` (seed state; clears faults, latency,
//!   queued failures and the request log; refills the bucket), `GET /state`,
//!   `GET|POST|DELETE /holds` (`{"method":"POST","path_prefix":"/apps/x/dynos"}`: the next
//!   matching request is performed, then its answer is held until `DELETE`; see `hold`).
//!
//! Use [`start`] to run one in-process; the `treeherder-sandbox` binary wraps it.

mod control;
pub mod github;
mod heroku;
mod hold;
mod http;
mod scheduler;
mod seed;
mod server;
mod state;

// The control API's requests and answers, shared by the server and the tests' client
// (`SandboxControl`), so neither side spells them as loose JSON.
pub use control::{CollaboratorLinger, Fault, FaultApi, FaultSpec, LoggedRequest};
pub use github::{AppLinkRequest, PushRequest};
pub use heroku::builds::{BuildFailure, BuildSettings};
pub use heroku::dynos::{DynoCrash, RestartKind, RestartMode};
pub use heroku::one_off::{OneOffCommand, OneOffCommandFields, OneOffCommandRequest};
pub use heroku::releases::{ReleasePhase, ReleasePhaseFailure};
pub use hold::{CaughtRequest, Hold, HoldRequest};
pub use server::Api;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// API token the sandbox accepts when none is configured.
pub const DEFAULT_API_KEY: &str = "sandbox-api-key";

/// How to run a sandbox.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where state is persisted (atomically, after each mutation); `None` keeps it in memory.
    pub state_file: Option<PathBuf>,
    /// Ignore any existing state file and start from the seed.
    pub reset: bool,
    /// Once listening, the Heroku base URL is written (atomically) to this file.
    pub addr_file: Option<PathBuf>,
    /// The only API token accepted (Bearer, or the password of Basic auth).
    pub api_key: String,
    /// How long a pipeline promotion stays `pending` before its targets settle.
    pub promotion_delay: Duration,
    /// Token bucket size for the Heroku API rate limit.
    pub rate_limit: u32,
    /// Tokens returned to the bucket per minute (Heroku: 75).
    pub rate_limit_refill_per_minute: f64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            reset: false,
            addr_file: None,
            api_key: DEFAULT_API_KEY.to_string(),
            promotion_delay: Duration::from_millis(1500),
            rate_limit: 4500,
            rate_limit_refill_per_minute: 75.0,
        }
    }
}

impl std::fmt::Debug for SandboxConfig {
    // Hand-written so the API key never reaches logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("listen", &self.listen)
            .field("state_file", &self.state_file)
            .field("reset", &self.reset)
            .field("addr_file", &self.addr_file)
            .field("api_key", &"<redacted>")
            .field("promotion_delay", &self.promotion_delay)
            .field("rate_limit", &self.rate_limit)
            .field(
                "rate_limit_refill_per_minute",
                &self.rate_limit_refill_per_minute,
            )
            .finish()
    }
}

/// Why the sandbox could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Reading, parsing or writing the state file failed.
    #[error("state file {path}: {message}")]
    StateFile {
        /// The state file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Writing the address file failed.
    #[error("address file {path}: {message}")]
    AddrFile {
        /// The address file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The HTTP server stopped with an error.
    #[error("server error: {0}")]
    Server(String),
}

/// A sandbox serving in the background; stop it with [`RunningSandbox::stop`]
/// (dropping it also signals shutdown).
pub struct RunningSandbox {
    /// Heroku Platform API base, e.g. `http://127.0.0.1:PORT`.
    pub heroku_url: String,
    /// Scheduler API base, e.g. `http://127.0.0.1:PORT/scheduler`.
    pub scheduler_url: String,
    /// GitHub integration service base, e.g. `http://127.0.0.1:PORT/github-integration`.
    pub github_integration_url: String,
    /// GitHub API base, e.g. `http://127.0.0.1:PORT/github-api`.
    pub github_api_url: String,
    /// Control API base, e.g. `http://127.0.0.1:PORT/__control`.
    pub control_url: String,
    /// The bound socket address.
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<Result<(), std::io::Error>>>,
}

impl RunningSandbox {
    /// Stops serving and waits for the server task to finish. Pending promotion
    /// timers are cancelled so they cannot write the state file afterwards.
    pub async fn stop(mut self) -> Result<(), SandboxError> {
        let _ = self.shutdown.send(true);
        match self.server.take() {
            Some(handle) => match handle.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SandboxError::Server(e.to_string())),
                Err(e) => Err(SandboxError::Server(e.to_string())),
            },
            None => Ok(()),
        }
    }

    /// Waits until the server stops (after [`RunningSandbox::stop`] from elsewhere or an error).
    pub async fn wait(mut self) -> Result<(), SandboxError> {
        match self.server.take() {
            Some(handle) => match handle.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SandboxError::Server(e.to_string())),
                Err(e) => Err(SandboxError::Server(e.to_string())),
            },
            None => Ok(()),
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Starts a sandbox: loads (or seeds) state, binds, writes the address file, serves.
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
    let initial = match (&config.state_file, config.reset) {
        (Some(path), false) if path.exists() => state::load(path)?,
        _ => seed::seed_state(),
    };
    if let Some(path) = &config.state_file {
        state::save(path, &initial)?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: config.listen,
        source,
    })?;
    let base = format!("http://{addr}");
    let (shutdown, shutdown_rx) = watch::channel(false);
    let shared = Arc::new(server::Shared::new(&config, initial, shutdown_rx.clone()));
    heroku::promotions::resume_pending(&shared);

    if let Some(path) = &config.addr_file {
        state::write_atomically(path, base.as_bytes()).map_err(|message| {
            SandboxError::AddrFile {
                path: path.clone(),
                message,
            }
        })?;
    }

    let router = server::router(shared);
    let mut rx = shutdown_rx;
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                // Either a `true` or a dropped sender means stop.
                while !*rx.borrow_and_update() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await
    });
    Ok(RunningSandbox {
        heroku_url: base.clone(),
        scheduler_url: format!("{base}/scheduler"),
        github_integration_url: format!("{base}{}", github::INTEGRATION_BASE),
        github_api_url: format!("{base}{}", github::API_BASE),
        control_url: format!("{base}/__control"),
        addr,
        shutdown,
        server: Some(server),
    })
}
