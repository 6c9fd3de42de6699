//! Client for Heroku's Platform API (api.heroku.com) and the Scheduler add-on API
//! (particleboard.heroku.com), shared by every Heroku resource of the provider.
//!
//! One [`HerokuClient`] lives for the whole provider process; cloning it is cheap and
//! clones share the same connection pool, rate-limit state, request coalescing and
//! caches (see `coalesce.rs`).

mod addons;
mod app_info;
mod apps;
mod builds;
mod coalesce;
mod collaborators;
mod config_vars;
mod dynos;
mod error;
mod formation;
mod github;
mod one_off_dynos;
mod own_objects;
mod pipelines;
mod releases_rollback;
mod restarts;
mod scheduler;
mod transport;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

pub use app_info::Slug;
pub use apps::{
    App, AppIdentity, AppIdentityError, Formation, FormationUpdate, NamedRef, APP_FORMS,
};
pub use builds::{Build, BuildOrigin, BuildSource, BuildStatus, NewBuild, NewBuildSource};
pub use collaborators::{
    Collaborator, CollaboratorApp, CollaboratorError, CollaboratorUser, NewCollaborator,
    PermissionRef,
};
pub use config_vars::{holds, AppliedChange, ConfigChange, ConfigVars, ReleaseWaitError};
pub use dynos::{Dyno, DynoRelease, NewOneOffDyno};
pub use error::{HerokuError, RequestContext, TransportFailure};
pub use formation::AvailableDynoSize;
pub use github::{split_repo, AppGitHubLink, GitHubError, GitHubLinkSettings, GITHUB_NOT_LINKED};
pub use one_off_dynos::{run_key, DynoEvent, FoundRun, LogLine, LogSession, LogStream};
pub use own_objects::{is_recent, Account, UserRef, ADOPTION_WINDOW};
pub use pipelines::{
    AppRef, IdRef, Pipeline, PipelineCoupling, PipelineOwner, PipelineRef, Promotion,
    PromotionProgress, PromotionSource, PromotionStatus, PromotionTarget, PromotionTargetStatus,
    Release, ReleaseStatus,
};
pub use releases_rollback::{rollback_description, RollbackCandidate};
pub use restarts::RestartWatch;
pub use scheduler::{NewSchedulerJob, SchedulerJob};

use coalesce::{ResponseStore, Reuse, Scope};
use transport::{Api, RawResponse, RequestSpec, Transport};

/// Default Platform API base URL.
pub const DEFAULT_API_URL: &str = "https://api.heroku.com";
/// Default Scheduler API base URL.
pub const DEFAULT_SCHEDULER_URL: &str = "https://particleboard.heroku.com";
/// Default base URL of Heroku's GitHub integration service (the Deploy tab).
pub const DEFAULT_GITHUB_INTEGRATION_URL: &str = "https://kolkrabbi.heroku.com";
/// Default GitHub API base URL.
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";

/// Severity of a client log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Request traces.
    Debug,
    /// Retries, rate limiting, reconciled creates.
    Warn,
}

/// The single place the client writes log lines: through the plugin's logger, which honours
/// `TF_LOG` and masks registered secrets. Callers never pass secrets: no API key, no bodies.
pub fn log(level: LogLevel, message: &str) {
    match level {
        LogLevel::Debug => tfplugin::debug!("heroku: {message}"),
        LogLevel::Warn => tfplugin::warn!("heroku: {message}"),
    }
}

/// A Heroku API key. Its `Debug` output is `<redacted>` and it has no `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for building the Authorization header.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// True when no key was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        Self(key)
    }
}

/// `User-Agent` sent by default: `terraform-provider-treeherder/<version>`.
pub fn default_user_agent() -> String {
    format!(
        "terraform-provider-treeherder/{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Settings of a [`HerokuClient`]. Start from [`HerokuConfig::new`] and override fields.
#[derive(Debug, Clone)]
pub struct HerokuConfig {
    /// Token sent as `Authorization: Bearer <key>`.
    pub api_key: ApiKey,
    /// Platform API base URL (may include a path prefix).
    pub api_url: String,
    /// Scheduler API base URL (may include a path prefix).
    pub scheduler_url: String,
    /// GitHub integration service base URL (may include a path prefix).
    pub github_integration_url: String,
    /// GitHub API base URL (may include a path prefix).
    pub github_api_url: String,
    /// Retries after the first attempt, for every retryable failure.
    pub max_retries: u32,
    /// First retry delay; doubles on each retry (with jitter).
    pub base_backoff: Duration,
    /// Upper bound for one retry delay, including a server's `Retry-After`.
    pub max_backoff: Duration,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Whole-request timeout (connect, send, read the body).
    pub request_timeout: Duration,
    /// Timeout for establishing a connection.
    pub connect_timeout: Duration,
    /// Below this many remaining calls (`RateLimit-Remaining`), requests are paced.
    pub rate_limit_low_water: u32,
    /// Pause before a request when no call is left; scaled down as more remain. Heroku
    /// refills about 75 calls per minute, i.e. one per 800 ms.
    pub rate_limit_refill_interval: Duration,
}

impl HerokuConfig {
    /// Defaults for the real Heroku services.
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            api_key,
            api_url: DEFAULT_API_URL.to_string(),
            scheduler_url: DEFAULT_SCHEDULER_URL.to_string(),
            github_integration_url: DEFAULT_GITHUB_INTEGRATION_URL.to_string(),
            github_api_url: DEFAULT_GITHUB_API_URL.to_string(),
            max_retries: 5,
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(15 * 60),
            user_agent: default_user_agent(),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
            rate_limit_low_water: 200,
            rate_limit_refill_interval: Duration::from_millis(800),
        }
    }
}

impl Default for HerokuConfig {
    fn default() -> Self {
        Self::new(ApiKey::default())
    }
}

/// Client for the Heroku Platform and Scheduler APIs.
#[derive(Clone)]
pub struct HerokuClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    transport: Transport,
    api_base: Url,
    scheduler_base: Url,
    github_integration_base: Url,
    github_api_base: Url,
    store: Arc<ResponseStore>,
    /// App name → id, filled by every app lookup (ids never change; renames go
    /// through [`HerokuClient::invalidate_app`]).
    app_ids: Mutex<HashMap<String, Uuid>>,
    /// App id → name, to name apps in error messages.
    app_names: Mutex<HashMap<Uuid, String>>,
    /// Per-app locks serialising our own scheduler updates and deletes.
    write_locks: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
    /// Per-app job snapshots for verifying creates whose answer was lost.
    job_snapshots: Mutex<HashMap<Uuid, Arc<scheduler::JobSnapshot>>>,
    /// Objects this process destroyed the resource of (see `own_objects`).
    forgotten: own_objects::Forgotten,
}

impl fmt::Debug for HerokuClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HerokuClient")
            .field("api_url", &self.inner.api_base.as_str())
            .field("scheduler_url", &self.inner.scheduler_base.as_str())
            .field(
                "github_integration_url",
                &self.inner.github_integration_base.as_str(),
            )
            .field("github_api_url", &self.inner.github_api_base.as_str())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a base URL cannot be used. Messages cut the URL (it comes from the user).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// Not a URL at all.
    #[error("{} is not a URL: {reason}", tfplugin::types::quote(.url))]
    Invalid {
        /// The URL as given.
        url: String,
        /// The parser's reason.
        reason: String,
    },
    /// A URL, but not one of http(s) that can have paths appended.
    #[error("{} is not an https:// URL", tfplugin::types::quote(.url))]
    NotHttp {
        /// The URL as given.
        url: String,
    },
    /// Plain HTTP to a host that is not this machine: the API key would cross the network
    /// unencrypted.
    #[error("{} would send the API key unencrypted to {}; use an https:// URL (plain http:// is accepted only for loopback hosts: 127.0.0.0/8, ::1, localhost)", tfplugin::types::quote(.url), tfplugin::types::quote(.host))]
    Plaintext {
        /// The URL as given.
        url: String,
        /// Its host.
        host: String,
    },
}

/// True for hosts that are this machine: 127.0.0.0/8, ::1 and `localhost`.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare
            .strip_suffix('.')
            .unwrap_or(bare)
            .eq_ignore_ascii_case("localhost"),
    }
}

/// Parses a base URL: https://, or http:// to a loopback host only. Checked before any
/// name lookup or connection, so the API key never leaves in the clear.
pub fn parse_base_url(url: &str) -> Result<Url, BaseUrlError> {
    let parsed = Url::parse(url).map_err(|e| BaseUrlError::Invalid {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if parsed.cannot_be_a_base() || !matches!(parsed.scheme(), "http" | "https") {
        return Err(BaseUrlError::NotHttp {
            url: url.to_string(),
        });
    }
    if parsed.scheme() == "http" {
        let host = parsed.host_str().unwrap_or_default();
        if !is_loopback(host) {
            return Err(BaseUrlError::Plaintext {
                url: url.to_string(),
                host: host.to_string(),
            });
        }
    }
    Ok(parsed)
}

fn parse_base(url: &str, what: &str) -> Result<Url, HerokuError> {
    parse_base_url(url).map_err(|e| HerokuError::Config(format!("{what}: {e}")))
}

/// Appends percent-encoded path segments to a base URL that may carry a path prefix.
/// Empty, `.` and `..` segments are refused: the URL library would drop them and the
/// request would go to another resource (`GET /apps/..` is `GET /apps`).
fn join(base: &Url, segments: &[&str]) -> Result<Url, HerokuError> {
    if let Some(bad) = segments
        .iter()
        .find(|s| s.is_empty() || **s == "." || **s == "..")
    {
        return Err(HerokuError::Config(format!(
            "{} cannot be part of a request path",
            tfplugin::types::quote(bad)
        )));
    }
    let mut url = base.clone();
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|()| HerokuError::Config(format!("{base} cannot be a base URL")))?;
        path.pop_if_empty();
        path.extend(segments);
    }
    Ok(url)
}

/// Decodes a JSON value into a typed response.
fn decode<T: DeserializeOwned>(
    value: &Value,
    context: &RequestContext,
    status: u16,
) -> Result<T, HerokuError> {
    T::deserialize(value).map_err(|e| HerokuError::Decode {
        context: context.clone(),
        status,
        detail: e.to_string(),
    })
}

fn parse_body(body: &[u8], context: &RequestContext, status: u16) -> Result<Value, HerokuError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| HerokuError::Decode {
        context: context.clone(),
        status,
        detail: format!("invalid JSON: {e}"),
    })
}

/// Cache key of a single-object GET.
fn object_key(url: &Url) -> String {
    format!("GET {url}")
}

/// Upper bound on list pages, against a server that keeps answering 206.
const MAX_PAGES: usize = 10_000;

impl HerokuClient {
    /// Builds a client. Fails only on an unusable configuration (bad URL, API key with
    /// characters not allowed in a header).
    pub fn new(config: HerokuConfig) -> Result<Self, HerokuError> {
        let transport = Transport::new(&config)?;
        Ok(Self {
            inner: Arc::new(ClientInner {
                transport,
                api_base: parse_base(&config.api_url, "api_url")?,
                scheduler_base: parse_base(&config.scheduler_url, "scheduler_url")?,
                github_integration_base: parse_base(
                    &config.github_integration_url,
                    "github_integration_url",
                )?,
                github_api_base: parse_base(&config.github_api_url, "github_api_url")?,
                store: Arc::new(ResponseStore::default()),
                app_ids: Mutex::new(HashMap::new()),
                app_names: Mutex::new(HashMap::new()),
                write_locks: Mutex::new(HashMap::new()),
                job_snapshots: Mutex::new(HashMap::new()),
                forgotten: own_objects::Forgotten::default(),
            }),
        })
    }

    /// Forgets everything cached about an app (after a write made outside this client,
    /// or a rename).
    pub fn invalidate_app(&self, app_id: Uuid) {
        self.inner.store.invalidate(Scope::App(app_id));
        let name = lock(&self.inner.app_names).remove(&app_id);
        if let Some(name) = name {
            lock(&self.inner.app_ids).remove(&name);
        }
    }

    /// Forgets everything cached about a pipeline.
    pub fn invalidate_pipeline(&self, pipeline_id: Uuid) {
        self.inner.store.invalidate(Scope::Pipeline(pipeline_id));
    }

    /// Name of an app if this client has seen it, otherwise its id (for messages).
    pub fn app_label(&self, app_id: Uuid) -> String {
        lock(&self.inner.app_names)
            .get(&app_id)
            .cloned()
            .unwrap_or_else(|| app_id.to_string())
    }

    fn remember_app(&self, id: Uuid, name: &str) {
        lock(&self.inner.app_ids).insert(name.to_string(), id);
        lock(&self.inner.app_names).insert(id, name.to_string());
    }

    fn known_app_id(&self, name: &str) -> Option<Uuid> {
        lock(&self.inner.app_ids).get(name).copied()
    }

    fn write_lock(&self, app_id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(lock(&self.inner.write_locks).entry(app_id).or_default())
    }

    fn job_snapshot(&self, app_id: Uuid) -> Arc<scheduler::JobSnapshot> {
        Arc::clone(lock(&self.inner.job_snapshots).entry(app_id).or_default())
    }

    fn platform_url(&self, segments: &[&str]) -> Result<Url, HerokuError> {
        join(&self.inner.api_base, segments)
    }

    fn scheduler_url(&self, segments: &[&str]) -> Result<Url, HerokuError> {
        join(&self.inner.scheduler_base, segments)
    }

    fn github_integration_url(&self, segments: &[&str]) -> Result<Url, HerokuError> {
        join(&self.inner.github_integration_base, segments)
    }

    fn github_api_url(&self, segments: &[&str]) -> Result<Url, HerokuError> {
        join(&self.inner.github_api_base, segments)
    }

    /// GET of one object, shared with identical concurrent GETs and, with
    /// [`Reuse::Cache`], with later ones.
    async fn get_object<T: DeserializeOwned>(
        &self,
        api: Api,
        url: Url,
        scope: Scope,
        reuse: Reuse,
        context: RequestContext,
    ) -> Result<T, HerokuError> {
        let value = self.get_value(api, url, scope, reuse, &context).await?;
        decode(&value, &context, 200)
    }

    /// Like [`get_object`](Self::get_object), returning the undecoded JSON.
    async fn get_value(
        &self,
        api: Api,
        url: Url,
        scope: Scope,
        reuse: Reuse,
        context: &RequestContext,
    ) -> Result<Arc<Value>, HerokuError> {
        let key = object_key(&url);
        let inner = Arc::clone(&self.inner);
        let fetch_context = context.clone();
        self.inner
            .store
            .get_or_fetch(key, scope, reuse, async move {
                let spec = RequestSpec::get(api, url, fetch_context.clone());
                let response = inner.transport.send(&spec).await?;
                parse_body(&response.body, &fetch_context, response.status)
            })
            .await
            // A joined request carries the first caller's context; name ours.
            .map_err(|e| e.with_context(context.clone()))
    }

    /// Paginated GET of a Platform API list, shared and cached like
    /// [`get_object`](Self::get_object). `range` is the first page's `Range` header.
    async fn get_list<T: DeserializeOwned>(
        &self,
        url: Url,
        range: Option<String>,
        follow_pages: bool,
        scope: Scope,
        reuse: Reuse,
        context: RequestContext,
    ) -> Result<Vec<T>, HerokuError> {
        let key = format!(
            "LIST {url} range={} all={follow_pages}",
            range.as_deref().unwrap_or("")
        );
        let inner = Arc::clone(&self.inner);
        let fetch_context = context.clone();
        let value = self
            .inner
            .store
            .get_or_fetch(key, scope, reuse, async move {
                fetch_all_pages(&inner.transport, url, range, follow_pages, &fetch_context).await
            })
            .await
            .map_err(|e| e.with_context(context.clone()))?;
        decode(&value, &context, 200)
    }

    /// Sends a write and returns the raw answer. The caller invalidates scopes.
    async fn send_write<B: Serialize>(
        &self,
        api: Api,
        method: Method,
        url: Url,
        body: Option<&B>,
        idempotent: bool,
        context: &RequestContext,
    ) -> Result<RawResponse, HerokuError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| HerokuError::Decode {
                context: context.clone(),
                status: 0,
                detail: format!("cannot encode request body: {e}"),
            })?;
        let spec = RequestSpec {
            api,
            method,
            url,
            body,
            range: None,
            idempotent,
            context: context.clone(),
            authorization: None,
        };
        self.inner.transport.send(&spec).await
    }
}

/// Fetches a list, following `206 Partial Content` + `Next-Range` when `follow_pages`,
/// and returns all items as one JSON array.
async fn fetch_all_pages(
    transport: &Transport,
    url: Url,
    range: Option<String>,
    follow_pages: bool,
    context: &RequestContext,
) -> Result<Value, HerokuError> {
    let mut items: Vec<Value> = Vec::new();
    let mut spec = RequestSpec::get(Api::Platform, url, context.clone());
    spec.range = range;
    for _ in 0..MAX_PAGES {
        let response = transport.send(&spec).await?;
        match parse_body(&response.body, context, response.status)? {
            Value::Array(page) => items.extend(page),
            Value::Null => {}
            other => {
                return Err(HerokuError::Decode {
                    context: context.clone(),
                    status: response.status,
                    detail: format!("expected a JSON array, got {}", json_kind(&other)),
                })
            }
        }
        match response.next_range {
            Some(next) if follow_pages && response.status == 206 => {
                if spec.range.as_deref() == Some(next.as_str()) {
                    return Err(HerokuError::Decode {
                        context: context.clone(),
                        status: response.status,
                        detail: format!("Next-Range {next:?} repeats the current range"),
                    });
                }
                spec.range = Some(next);
            }
            _ => return Ok(Value::Array(items)),
        }
    }
    Err(HerokuError::Decode {
        context: context.clone(),
        status: 206,
        detail: format!("list did not end after {MAX_PAGES} pages"),
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
