//! The unauthenticated control API under `/__control/`: request log, fault injection,
//! latency, queued promotion failures, rate-limit bucket, how restarts show on dynos, reset
//! and state dump.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::seed::seed_state;
use super::server::{Api, Shared};

/// One logged request to one of the sandbox's APIs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub seq: u64,
    pub api: Api,
    pub method: String,
    /// Full request path (Scheduler paths keep their `/scheduler` prefix).
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    /// Request body: parsed JSON, raw text when not JSON, null when empty.
    pub body: Value,
    pub timestamp: String,
    pub request_id: String,
}

/// Which API a fault applies to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum FaultApi {
    Heroku,
    Scheduler,
    #[serde(rename = "github-integration")]
    GitHubIntegration,
    GitHub,
    #[default]
    Any,
}

/// An injected failure for the next `remaining` matching requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub id: u64,
    pub api: FaultApi,
    pub status: u16,
    pub remaining: u32,
    pub path_prefix: Option<String>,
    pub method: Option<String>,
    pub retry_after: Option<u64>,
    /// Perform the action, then answer with the error (a lost response).
    pub after_effect: bool,
    pub message: Option<String>,
    /// Matching requests still let through before the fault applies.
    pub skip: u32,
}

/// `POST /__control/faults`: the next `count` requests matching `api`, `method` and
/// `path_prefix` (after `skip` of them) answer `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub api: FaultApi,
    pub status: u16,
    #[serde(default = "one")]
    pub count: u32,
    pub path_prefix: Option<String>,
    pub method: Option<String>,
    pub retry_after: Option<u64>,
    /// Perform the action, then answer with the error (a lost response).
    #[serde(default)]
    pub after_effect: bool,
    pub message: Option<String>,
    #[serde(default)]
    pub skip: u32,
}

impl FaultSpec {
    /// One `status` answer to the next `method` request under `path_prefix`, of either API.
    pub fn new(status: u16, method: &str, path_prefix: impl Into<String>) -> Self {
        FaultSpec {
            api: FaultApi::Any,
            status,
            count: 1,
            path_prefix: Some(path_prefix.into()),
            method: Some(method.to_string()),
            retry_after: None,
            after_effect: false,
            message: None,
            skip: 0,
        }
    }

    /// One `status` answer to the next request of either API, whatever its method and path.
    pub fn any(status: u16) -> Self {
        FaultSpec {
            method: None,
            path_prefix: None,
            ..FaultSpec::new(status, "", "")
        }
    }

    /// Only for `method` requests.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_string());
        self
    }

    /// Only for requests under `path_prefix`.
    pub fn path_prefix(mut self, path_prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(path_prefix.into());
        self
    }

    /// Only for requests to `api`.
    pub fn api(mut self, api: FaultApi) -> Self {
        self.api = api;
        self
    }

    /// For the next `count` matching requests.
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Let `skip` matching requests through first.
    pub fn skip(mut self, skip: u32) -> Self {
        self.skip = skip;
        self
    }

    /// With a `Retry-After` header of `seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The action is performed, then the error answered (a lost response).
    pub fn after_effect(mut self) -> Self {
        self.after_effect = true;
        self
    }

    /// With this error message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

fn one() -> u32 {
    1
}

/// A queued failure for the next promotion target on `app` (name or id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromotionFailure {
    pub app: String,
    #[serde(default = "default_failure_message")]
    pub message: String,
}

fn default_failure_message() -> String {
    "Promotion failed (injected by the sandbox).".to_string()
}

#[derive(Deserialize)]
struct LatencyRequest {
    ms: u64,
}

#[derive(Deserialize)]
struct RateLimitRequest {
    remaining: u64,
}

/// `POST /__control/collaborator-linger`: a removed collaborator is still listed for `gets`
/// more GETs (0 to 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollaboratorLinger {
    pub gets: u32,
}

fn bad(message: impl Into<String>) -> (StatusCode, Value) {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({ "id": "invalid_params", "message": message.into() }),
    )
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, (StatusCode, Value)> {
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid control request: {e}")))
}

/// Handles `/__control{path}`.
pub fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> (StatusCode, Value) {
    let path = path.trim_end_matches('/');
    match route(shared, method, path, body) {
        Ok(ok) | Err(ok) => ok,
    }
}

fn route(
    shared: &Shared,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(StatusCode, Value), (StatusCode, Value)> {
    let ok = |v: Value| Ok((StatusCode::OK, v));
    match (method, path) {
        // Liveness probe and a reminder of what is here.
        ("GET", "") => ok(json!({
            "service": "treeherder-sandbox",
            "endpoints": [
                "GET /requests", "DELETE /requests",
                "GET /faults", "POST /faults", "DELETE /faults",
                "POST /latency",
                "GET /promotion-failures", "POST /promotion-failures",
                "GET /release-phase", "POST /release-phase",
                "POST /rate-limit", "POST /reset", "GET /state", "POST /dyno-crash",
                "GET /dyno-restart", "POST /dyno-restart",
                "POST /collaborator-linger",
                "GET /one-off-commands", "POST /one-off-commands",
                "GET /holds", "POST /holds", "DELETE /holds",
                "GET /builds", "POST /builds",
                "POST /github/push", "POST /github/unlink-account", "POST /github/link-account",
                "POST /github/app-link", "DELETE /github/app-link/{app}",
            ],
        })),
        ("GET", "/requests") => ok(json!(shared.lock().log)),
        ("DELETE", "/requests") => {
            shared.lock().log.clear();
            ok(json!({}))
        }
        ("GET", "/faults") => ok(json!(shared.lock().faults)),
        ("DELETE", "/faults") => {
            shared.lock().faults.clear();
            ok(json!({}))
        }
        ("POST", "/faults") => {
            let r: FaultSpec = parse(body)?;
            if !(400..=599).contains(&r.status) {
                return Err(bad("status must be between 400 and 599"));
            }
            if r.count == 0 {
                return Err(bad("count must be at least 1"));
            }
            let mut world = shared.lock();
            let fault = Fault {
                id: world.next_fault_id,
                api: r.api,
                status: r.status,
                remaining: r.count,
                path_prefix: r.path_prefix,
                method: r.method,
                retry_after: r.retry_after,
                after_effect: r.after_effect,
                message: r.message,
                skip: r.skip,
            };
            world.next_fault_id += 1;
            world.faults.push(fault.clone());
            Ok((StatusCode::CREATED, json!(fault)))
        }
        ("POST", "/latency") => {
            let r: LatencyRequest = parse(body)?;
            if r.ms > 60_000 {
                return Err(bad("ms must be at most 60000"));
            }
            shared.lock().latency_ms = r.ms;
            ok(json!({ "ms": r.ms }))
        }
        ("GET", "/release-phase") => ok(super::heroku::releases::release_phase_json(shared)),
        ("POST", "/release-phase") => {
            super::heroku::releases::configure_release_phase(shared, &parse(body)?);
            ok(super::heroku::releases::release_phase_json(shared))
        }
        ("GET", "/builds") => ok(super::heroku::builds::settings_json(shared)),
        ("POST", "/builds") => {
            super::heroku::builds::configure(shared, &parse(body)?);
            ok(super::heroku::builds::settings_json(shared))
        }
        (_, github) if github.starts_with("/github/") => {
            let mut world = shared.lock();
            let rest = &github["/github".len()..];
            match super::github::control(&mut world.state, method, rest, body) {
                Some(Ok(answer)) => {
                    shared.persist(&world.state);
                    ok(answer)
                }
                Some(Err(problem)) => Err(bad(problem)),
                None => Err((
                    StatusCode::NOT_FOUND,
                    json!({ "id": "not_found", "message": format!("no control endpoint {method} {path}") }),
                )),
            }
        }
        ("GET", "/promotion-failures") => ok(json!(shared.lock().promotion_failures)),
        ("POST", "/promotion-failures") => {
            let r: PromotionFailure = parse(body)?;
            shared.lock().promotion_failures.push(r.clone());
            Ok((StatusCode::CREATED, json!(r)))
        }
        ("POST", "/rate-limit") => {
            let r: RateLimitRequest = parse(body)?;
            let mut world = shared.lock();
            world.bucket.set(r.remaining);
            let remaining = world.bucket.remaining();
            ok(json!({ "remaining": remaining }))
        }
        ("POST", "/reset") => {
            let mut world = shared.lock();
            world.state = seed_state();
            world.faults.clear();
            world.latency_ms = 0;
            world.promotion_failures.clear();
            super::heroku::releases::reset_release_phase(shared);
            super::heroku::builds::reset(shared);
            world.log.clear();
            world.bucket.fill();
            super::hold::release_all(shared, &mut world);
            shared.persist(&world.state);
            ok(json!({}))
        }
        ("GET", "/state") => ok(json!(shared.lock().state)),
        ("POST", "/dyno-crash") => Ok(super::heroku::dynos::crash(shared, &parse(body)?)),
        ("GET", "/dyno-restart") => ok(super::heroku::dynos::restart_mode_json(shared)),
        ("POST", "/dyno-restart") => {
            ok(super::heroku::dynos::set_restart_mode(shared, parse(body)?))
        }
        ("POST", "/collaborator-linger") => {
            let request: CollaboratorLinger = parse(body)?;
            let mut world = shared.lock();
            let answer =
                super::heroku::collaborators::set_linger(&mut world.state, request).map_err(bad)?;
            shared.persist(&world.state);
            ok(answer)
        }
        ("GET", "/one-off-commands") => ok(super::heroku::one_off::commands_json(shared)),
        ("POST", "/one-off-commands") => {
            Ok(super::heroku::one_off::set_command(shared, &parse(body)?))
        }
        ("GET", "/holds") => ok(super::hold::list(shared)),
        ("POST", "/holds") => Ok(super::hold::add(shared, body)),
        ("DELETE", "/holds") => {
            super::hold::release_all(shared, &mut shared.lock());
            ok(json!({}))
        }
        _ => Err((
            StatusCode::NOT_FOUND,
            json!({ "id": "not_found", "message": format!("no control endpoint {method} {path}") }),
        )),
    }
}
