//! The HTTP front: one fallback handler that splits traffic between the control API,
//! the Scheduler API and the Heroku API, and applies the cross-cutting behaviour
//! (latency, Accept, auth, rate limit, faults, Range, ETag, request log, persistence).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::control::{Fault, FaultApi, LoggedRequest, PromotionFailure};
use super::http::{
    accepts_heroku_v3, authorized, etag, if_none_match, paginate, parse_range, ApiError,
    ApiRequest, RateBucket, Reply, ReplyBody,
};
use super::state::{self, SandboxState};
use super::{github, heroku, scheduler, SandboxConfig};

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Request log entries kept (oldest dropped first).
const MAX_LOG: usize = 20_000;

/// Everything mutable, behind one lock (handlers are short and synchronous).
pub struct World {
    pub state: SandboxState,
    pub faults: Vec<Fault>,
    pub next_fault_id: u64,
    pub latency_ms: u64,
    pub promotion_failures: Vec<PromotionFailure>,
    pub log: Vec<LoggedRequest>,
    pub next_seq: u64,
    pub bucket: RateBucket,
    /// Answers to hold back (see `hold`).
    pub holds: Vec<super::hold::Hold>,
    pub next_hold_id: u64,
}

/// State shared by all requests and timers.
pub struct Shared {
    world: Mutex<World>,
    pub api_key: String,
    pub state_file: Option<PathBuf>,
    pub promotion_delay: Duration,
    pub shutdown: watch::Receiver<bool>,
    /// Release-phase settings (own lock: handlers run under the world lock).
    pub release_phase: Mutex<super::heroku::releases::ReleasePhase>,
    /// Build settings (own lock, like the release phase's).
    pub builds: Mutex<super::heroku::builds::BuildSettings>,
    /// Woken when holds are released.
    pub holds_changed: tokio::sync::Notify,
}

impl Shared {
    pub fn new(
        config: &SandboxConfig,
        state: SandboxState,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            world: Mutex::new(World {
                state,
                faults: Vec::new(),
                next_fault_id: 1,
                latency_ms: 0,
                promotion_failures: Vec::new(),
                log: Vec::new(),
                next_seq: 1,
                bucket: RateBucket::new(config.rate_limit, config.rate_limit_refill_per_minute),
                holds: Vec::new(),
                next_hold_id: 1,
            }),
            api_key: config.api_key.clone(),
            state_file: config.state_file.clone(),
            promotion_delay: config.promotion_delay,
            shutdown,
            release_phase: Mutex::default(),
            builds: Mutex::default(),
            holds_changed: tokio::sync::Notify::new(),
        }
    }

    /// Locks the world; a poisoned lock is recovered (the data is plain values).
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the state file, if any. Failures are reported on stderr and do not fail
    /// the request: the in-memory state stays authoritative.
    pub fn persist(&self, state: &SandboxState) {
        if let Some(path) = &self.state_file {
            if let Err(e) = state::save(path, state) {
                eprintln!("treeherder-sandbox: {e}");
            }
        }
    }
}

/// Builds the router.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// Which API a request belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    Heroku,
    Scheduler,
    GitHubIntegration,
    GitHub,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::Heroku => "heroku",
            Api::Scheduler => "scheduler",
            Api::GitHubIntegration => "github-integration",
            Api::GitHub => "github",
        }
    }
}

/// A finished answer.
struct Outgoing {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    content_type: &'static str,
}

fn strip_base<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(base)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let full_path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b.to_vec(),
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"id": "bad_request", "message": "Request body too large or unreadable."}),
            )
        }
    };
    if let Some(rest) = strip_base(&full_path, "/__control") {
        let (status, value) = super::control::handle(&shared, &method, rest, &body);
        return plain(status, value);
    }
    if let Some(rest) = strip_base(&full_path, heroku::one_off::LOGPLEX_BASE) {
        if method == "GET" {
            return heroku::one_off::stream(&shared, rest);
        }
    }
    if let Some(rest) = strip_base(&full_path, heroku::builds::OUTPUT_BASE) {
        if method == "GET" {
            return heroku::builds::stream(&shared, rest);
        }
    }
    if let Some(rest) = strip_base(&full_path, heroku::builds::RELEASE_OUTPUT_BASE) {
        if method == "GET" {
            return heroku::builds::release_stream(&shared, rest);
        }
    }
    if let Some(rest) = strip_base(&full_path, github::ARCHIVE_BASE) {
        let bytes = github::archive_bytes(&shared.lock().state, rest);
        return match bytes {
            Some(b) => into_response(Outgoing {
                status: StatusCode::OK,
                headers: Vec::new(),
                body: Some(b),
                content_type: "application/x-gzip",
            }),
            None => plain(StatusCode::NOT_FOUND, json!({ "message": "Not Found" })),
        };
    }
    let (api, rel_path) = if let Some(rest) = strip_base(&full_path, "/scheduler") {
        (Api::Scheduler, rest.to_string())
    } else if let Some(rest) = strip_base(&full_path, github::INTEGRATION_BASE) {
        (Api::GitHubIntegration, rest.to_string())
    } else if let Some(rest) = strip_base(&full_path, github::API_BASE) {
        (Api::GitHub, rest.to_string())
    } else {
        (Api::Heroku, full_path.clone())
    };
    let latency = shared.lock().latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let request_id = parts
        .headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let req = ApiRequest {
        method,
        path: rel_path,
        headers: parts.headers,
        body,
    };
    let mut out = match api {
        Api::Heroku => heroku_pipeline(&shared, &req, &full_path),
        Api::Scheduler => scheduler_pipeline(&shared, &req, &full_path),
        Api::GitHubIntegration => github_pipeline(&shared, &req, &full_path, api),
        Api::GitHub => github_pipeline(&shared, &req, &full_path, api),
    };
    out.headers
        .push(("Request-Id".to_string(), request_id.clone()));
    let held = {
        let mut world = shared.lock();
        let seq = world.next_seq;
        world.next_seq += 1;
        let held = super::hold::catch(
            &mut world,
            &req.method,
            [&req.path, &full_path],
            seq,
            out.status.as_u16(),
        );
        world.log.push(LoggedRequest {
            seq,
            api,
            method: req.method.clone(),
            path: full_path,
            query,
            status: out.status.as_u16(),
            body: logged_body(&req.body),
            timestamp: state::now(),
            request_id,
        });
        if world.log.len() > MAX_LOG {
            let excess = world.log.len() - MAX_LOG;
            world.log.drain(..excess);
        }
        held
    };
    if let Some(id) = held {
        super::hold::wait_released(&shared, id).await;
    }
    into_response(out)
}

fn logged_body(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn plain(status: StatusCode, value: Value) -> Response {
    into_response(Outgoing {
        status,
        headers: Vec::new(),
        body: Some(value.to_string().into_bytes()),
        content_type: "application/json",
    })
}

fn into_response(out: Outgoing) -> Response {
    let mut response = Response::new(match out.body {
        Some(b) => Body::from(b),
        None => Body::empty(),
    });
    *response.status_mut() = out.status;
    let headers = response.headers_mut();
    if out.status != StatusCode::NOT_MODIFIED && out.status != StatusCode::NO_CONTENT {
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(out.content_type),
        );
    }
    for (name, value) in out.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(n, v);
        }
    }
    response
}

/// Takes one use of the first fault matching this request.
fn take_fault(world: &mut World, api: Api, req: &ApiRequest, full_path: &str) -> Option<Fault> {
    let pos = world.faults.iter().position(|f| {
        let api_ok = match f.api {
            FaultApi::Any => true,
            FaultApi::Heroku => api == Api::Heroku,
            FaultApi::Scheduler => api == Api::Scheduler,
            FaultApi::GitHubIntegration => api == Api::GitHubIntegration,
            FaultApi::GitHub => api == Api::GitHub,
        };
        let method_ok = f
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&req.method));
        let path_ok = f
            .path_prefix
            .as_deref()
            .is_none_or(|p| req.path.starts_with(p) || full_path.starts_with(p));
        api_ok && method_ok && path_ok && f.remaining > 0
    })?;
    if world.faults[pos].skip > 0 {
        world.faults[pos].skip -= 1;
        return None;
    }
    let fault = world.faults[pos].clone();
    world.faults[pos].remaining -= 1;
    if world.faults[pos].remaining == 0 {
        world.faults.remove(pos);
    }
    Some(fault)
}

fn is_mutation(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

fn heroku_pipeline(shared: &Arc<Shared>, req: &ApiRequest, full_path: &str) -> Outgoing {
    let mut world = shared.lock();
    let rate_headers =
        |remaining: u64| vec![("RateLimit-Remaining".to_string(), remaining.to_string())];
    if !accepts_heroku_v3(&req.headers) {
        let remaining = world.bucket.remaining();
        return finish_error(
            ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "not_acceptable",
                "Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; version=3`.",
            ),
            rate_headers(remaining),
        );
    }
    if !authorized(&req.headers, &shared.api_key) {
        let remaining = world.bucket.remaining();
        return finish_error(
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Invalid credentials provided.",
            ),
            rate_headers(remaining),
        );
    }
    let free = req.method == "GET" && req.path.trim_end_matches('/') == "/account/rate-limits";
    if !free && !world.bucket.take() {
        return finish_error(
            ApiError::for_status(StatusCode::TOO_MANY_REQUESTS, None),
            rate_headers(0),
        );
    }
    let fault = take_fault(&mut world, Api::Heroku, req, full_path);
    let mut reply = match &fault {
        Some(f) if !f.after_effect => None,
        _ => {
            let ctx = heroku::Ctx { shared, req };
            let result = heroku::dispatch(&ctx, &mut world.state);
            let reply = result.unwrap_or_else(ApiError::into_reply);
            if is_mutation(&req.method) && reply.status.is_success() {
                shared.persist(&world.state);
            }
            Some(reply)
        }
    };
    let remaining = world.bucket.remaining();
    drop(world);
    if let Some(f) = fault {
        let mut headers = rate_headers(remaining);
        if let Some(r) = f.retry_after {
            headers.push(("Retry-After".to_string(), r.to_string()));
        }
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return finish_error(ApiError::for_status(status, f.message), headers);
    }
    if free {
        reply = Some(Reply::ok(json!({ "remaining": remaining })));
    }
    let Some(reply) = reply else {
        return finish_error(
            ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR, None),
            rate_headers(remaining),
        );
    };
    finish_reply(reply, req, rate_headers(remaining))
}

fn finish_error(error: ApiError, headers: Vec<(String, String)>) -> Outgoing {
    Outgoing {
        status: error.status,
        headers,
        body: Some(error.body().to_string().into_bytes()),
        content_type: "application/json; charset=utf-8",
    }
}

/// Applies Range pagination to lists and ETag/304 to successful GETs.
fn finish_reply(reply: Reply, req: &ApiRequest, mut headers: Vec<(String, String)>) -> Outgoing {
    headers.extend(reply.headers);
    let mut status = reply.status;
    let body = match reply.body {
        ReplyBody::Json(v) => Some(v),
        ReplyBody::List { items, ranges } => {
            headers.push(("Accept-Ranges".to_string(), ranges.join(", ")));
            let spec = match req.header("range") {
                Some(h) => match parse_range(h) {
                    Some(spec) if ranges.contains(&spec.field.as_str()) => spec,
                    _ => {
                        return finish_error(
                            ApiError::new(
                                StatusCode::RANGE_NOT_SATISFIABLE,
                                "requested_range_not_satisfiable",
                                format!(
                                    "Invalid Range header; sortable fields are: {}.",
                                    ranges.join(", ")
                                ),
                            ),
                            headers,
                        )
                    }
                },
                None => match parse_range(ranges.first().copied().unwrap_or("id")) {
                    Some(spec) => spec,
                    None => {
                        return finish_error(
                            ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR, None),
                            headers,
                        )
                    }
                },
            };
            let page = paginate(items, &spec);
            if let Some(next) = page.next_range {
                status = StatusCode::PARTIAL_CONTENT;
                headers.push(("Next-Range".to_string(), next));
            }
            Some(Value::Array(page.items))
        }
    };
    let bytes = body.map(|b| b.to_string().into_bytes());
    if req.method == "GET" && status.is_success() {
        if let Some(b) = &bytes {
            let tag = etag(b);
            let matched = if_none_match(&req.headers, &tag);
            headers.push(("ETag".to_string(), tag));
            if matched {
                return Outgoing {
                    status: StatusCode::NOT_MODIFIED,
                    headers,
                    body: None,
                    content_type: "application/json; charset=utf-8",
                };
            }
        }
    }
    Outgoing {
        status,
        headers,
        body: bytes,
        content_type: "application/json; charset=utf-8",
    }
}

fn scheduler_pipeline(shared: &Arc<Shared>, req: &ApiRequest, full_path: &str) -> Outgoing {
    const JSON_API: &str = "application/vnd.api+json";
    let answer =
        |status: StatusCode, body: Option<Value>, headers: Vec<(String, String)>| Outgoing {
            status,
            headers,
            body: body.map(|b| b.to_string().into_bytes()),
            content_type: JSON_API,
        };
    if !authorized(&req.headers, &shared.api_key) {
        let (s, b) = scheduler::error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Invalid credentials provided.",
            None,
        );
        return answer(s, Some(b), Vec::new());
    }
    let mut world = shared.lock();
    let fault = take_fault(&mut world, Api::Scheduler, req, full_path);
    let result = match &fault {
        Some(f) if !f.after_effect => None,
        _ => {
            let (status, body) = scheduler::dispatch(&mut world.state, req);
            if is_mutation(&req.method) && status.is_success() {
                shared.persist(&world.state);
            }
            Some((status, body))
        }
    };
    drop(world);
    match (fault, result) {
        (Some(f), _) => {
            let status =
                StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let title = status.canonical_reason().unwrap_or("Error");
            let detail = f
                .message
                .clone()
                .unwrap_or_else(|| "Injected fault.".to_string());
            let (s, b) = scheduler::error(status, title, &detail, None);
            let headers = f
                .retry_after
                .map(|r| vec![("Retry-After".to_string(), r.to_string())])
                .unwrap_or_default();
            answer(s, Some(b), headers)
        }
        (None, Some((status, body))) => answer(status, body, Vec::new()),
        (None, None) => {
            let (s, b) = scheduler::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                "No response.",
                None,
            );
            answer(s, Some(b), Vec::new())
        }
    }
}

/// The GitHub integration service (Bearer Heroku API key) and the GitHub API (its own token,
/// checked by `github::api`): faults for `any` API apply, then the handler.
fn github_pipeline(shared: &Arc<Shared>, req: &ApiRequest, full_path: &str, api: Api) -> Outgoing {
    let json_answer = |status: StatusCode, body: Option<Value>, headers| Outgoing {
        status,
        headers,
        body: body.map(|b| b.to_string().into_bytes()),
        content_type: "application/json; charset=utf-8",
    };
    if api == Api::GitHubIntegration && !authorized(&req.headers, &shared.api_key) {
        return json_answer(
            StatusCode::UNAUTHORIZED,
            Some(json!({ "id": "unauthorized", "message": "Invalid credentials provided." })),
            Vec::new(),
        );
    }
    let mut world = shared.lock();
    let fault = take_fault(&mut world, api, req, full_path);
    let result = match &fault {
        Some(f) if !f.after_effect => None,
        _ => {
            let answer = match api {
                Api::GitHub => github::api(&mut world.state, req),
                _ => github::integration(&mut world.state, req),
            };
            if is_mutation(&req.method) && answer.status.is_success() {
                shared.persist(&world.state);
            }
            Some(answer)
        }
    };
    drop(world);
    match (fault, result) {
        (Some(f), _) => {
            let status =
                StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let text = f
                .message
                .clone()
                .unwrap_or_else(|| "Injected fault.".to_string());
            json_answer(status, Some(json!({ "message": text })), Vec::new())
        }
        (None, Some(a)) => json_answer(a.status, a.body, a.headers),
        (None, None) => json_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(json!({ "message": "No response." })),
            Vec::new(),
        ),
    }
}
