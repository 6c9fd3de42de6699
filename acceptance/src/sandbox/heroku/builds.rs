//! `/apps/{app}/builds` (create, list, info) and their output streams under [`OUTPUT_BASE`].
//!
//! A build is `pending` for the configured time, then `succeeded` or `failed`. One built from a
//! source URL the sandbox did not hand out (a GitHub tarball link of the GitHub integration
//! service or of the GitHub API) fails, as a build from an unreachable URL does. A successful
//! build makes a slug (the app's process types, `release` included) and a release, whose
//! release phase then runs as configured through `/__control/release-phase`.
//! Behaviour is set through `POST /__control/builds {"ms": 300, "fail": [{"app": "treeherder-stage",
//! "count": 1, "message": ".."}]}`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{app_index, app_ref, Ctx};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::server::Shared;
use crate::sandbox::state::{now, SandboxState, Slug};

/// Base path of build output streams.
pub const OUTPUT_BASE: &str = "/build-output";
/// Base path of the release-phase output streams of the releases builds create.
pub const RELEASE_OUTPUT_BASE: &str = "/release-output";

/// Sortable fields of build lists.
pub const BUILD_RANGES: &[&str] = &["id", "started_at"];

/// One build.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Build {
    pub id: Uuid,
    pub status: String,
    pub source_blob: Value,
    /// Every line the build prints; the stream shows all but the outcome lines while pending.
    pub lines: Vec<String>,
    /// How many of `lines` are printed once the build settled (the rest while pending).
    pub final_lines: usize,
    pub release_id: Option<Uuid>,
    pub slug_id: Option<Uuid>,
    pub output_stream_url: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Build behaviour set through the control API.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSettings {
    /// How long a build stays `pending` (0: it settles at once).
    #[serde(default)]
    pub ms: u64,
    /// Queued failures.
    #[serde(default)]
    pub fail: Vec<BuildFailure>,
}

/// The next `count` builds of `app` fail with `message` as their last line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildFailure {
    pub app: String,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub message: Option<String>,
}

fn one() -> u32 {
    1
}

fn settings(shared: &Shared) -> std::sync::MutexGuard<'_, BuildSettings> {
    shared.builds.lock().unwrap_or_else(|e| e.into_inner())
}

/// `GET /__control/builds`.
pub fn settings_json(shared: &Shared) -> Value {
    json!(*settings(shared))
}

/// `POST /__control/builds`: sets the duration and appends the failures.
pub fn configure(shared: &Shared, request: &BuildSettings) {
    let mut current = settings(shared);
    current.ms = request.ms;
    current.fail.extend(request.fail.iter().cloned());
}

/// Back to the defaults (on reset).
pub fn reset(shared: &Shared) {
    *settings(shared) = BuildSettings::default();
}

fn build_json(app: &crate::sandbox::state::App, b: &Build, state: &SandboxState) -> Value {
    json!({
        "app": app_ref(app),
        "buildpacks": [{ "url": "heroku/python", "name": "heroku/python" }],
        "created_at": b.created_at,
        "id": b.id,
        "output_stream_url": b.output_stream_url,
        "release": b.release_id.map(|id| json!({ "id": id })),
        "slug": b.slug_id.map(|id| json!({ "id": id })),
        "source_blob": b.source_blob,
        "stack": app.stack,
        "status": b.status,
        "updated_at": b.updated_at,
        "user": { "id": state.account.id, "email": state.account.email },
    })
}

/// `POST /apps/{app}/builds`.
pub fn create(ctx: &Ctx<'_>, state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let blob = match body.get("source_blob") {
        Some(Value::Object(map)) => map.clone(),
        _ => return Err(ApiError::invalid("Missing required param: source_blob.")),
    };
    let url = match blob.get("url") {
        Some(Value::String(u)) if !u.is_empty() => u.clone(),
        _ => {
            return Err(ApiError::invalid(
                "Missing required param: source_blob.url.",
            ))
        }
    };
    let version = blob
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_string);
    let app_name = state.apps[i].name.clone();
    let app_id = state.apps[i].id;
    let (ms, failure) = {
        let mut s = settings(ctx.shared);
        let queued = s
            .fail
            .iter()
            .position(|f| f.app == app_name || f.app.eq_ignore_ascii_case(&app_id.to_string()));
        let failure = queued.map(|f| {
            let message = s.fail[f].message.clone();
            s.fail[f].count = s.fail[f].count.saturating_sub(1);
            if s.fail[f].count == 0 {
                s.fail.remove(f);
            }
            message.unwrap_or_else(|| "pip install exited with status 1".to_string())
        });
        (s.ms, failure)
    };
    let archive = url
        .split_once(crate::sandbox::github::ARCHIVE_BASE)
        .and_then(|(_, rest)| state.github.archive(rest))
        .cloned();
    let described = version.as_deref().unwrap_or("(no version)");
    let mut lines = vec![
        format!("-----> Building on the {} stack", state.apps[i].stack),
        format!("-----> Fetching source code for {described}"),
    ];
    let failure = match (&archive, failure) {
        (None, _) => Some(format!(
            "Unable to fetch source from {}",
            url.split('?').next().unwrap_or_default()
        )),
        (Some(_), f) => f,
    };
    if archive.is_some() {
        lines.push("-----> Python app detected".to_string());
        lines.push("-----> Installing requirements with pip".to_string());
    }
    let final_lines = match &failure {
        Some(reason) => {
            lines.push(format!(" !     {reason}"));
            lines.push(" !     Push rejected, failed to compile Python app.".to_string());
            2
        }
        None => {
            lines.push("-----> Discovering process types".to_string());
            lines.push("-----> Compressing...".to_string());
            lines.push("-----> Launching...".to_string());
            3
        }
    };
    let id = Uuid::new_v4();
    let host = ctx.req.header("host").unwrap_or("127.0.0.1").to_string();
    let now = now();
    let build = Build {
        id,
        status: "pending".to_string(),
        source_blob: json!({
            "checksum": blob.get("checksum").cloned().unwrap_or(Value::Null),
            "url": url,
            "version": version,
            "version_description": blob.get("version_description").cloned().unwrap_or(Value::Null),
        }),
        lines,
        final_lines,
        release_id: None,
        slug_id: None,
        output_stream_url: format!("http://{host}{OUTPUT_BASE}/{id}"),
        created_at: now.clone(),
        updated_at: now,
    };
    state.apps[i].builds.push(build);
    let outcome_ok = failure.is_none();
    if ms == 0 {
        settle(ctx.shared, state, app_id, id, outcome_ok);
    } else {
        let shared = Arc::clone(ctx.shared);
        let mut shutdown = shared.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_millis(ms)) => {
                    let mut world = shared.lock();
                    settle(&shared, &mut world.state, app_id, id, outcome_ok);
                    shared.persist(&world.state);
                }
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
        });
    }
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let b = app
        .builds
        .last()
        .ok_or_else(|| ApiError::for_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR, None))?;
    Ok(Reply::created(build_json(app, b, state)))
}

/// Ends a build: on success a slug and a release (whose release phase runs).
fn settle(shared: &Arc<Shared>, state: &mut SandboxState, app_id: Uuid, id: Uuid, ok: bool) {
    let Some(a) = state.app_index_by_id(app_id) else {
        return;
    };
    let Some(b) = state.apps[a].builds.iter().position(|b| b.id == id) else {
        return;
    };
    if !ok {
        let build = &mut state.apps[a].builds[b];
        build.status = "failed".to_string();
        build.updated_at = now();
        return;
    }
    let app = &mut state.apps[a];
    let version = app.builds[b].source_blob["version"]
        .as_str()
        .map(str::to_string);
    let mut process_types = app
        .current_release()
        .and_then(|r| r.slug_id)
        .and_then(|sid| app.slugs.iter().find(|s| s.id == sid))
        .map(|s| s.process_types.clone())
        .unwrap_or_default();
    process_types
        .entry("release".to_string())
        .or_insert_with(|| "./bin/pre_deploy".to_string());
    let slug = Slug {
        id: Uuid::new_v4(),
        process_types,
        commit: version.clone(),
        commit_description: None,
        size: 1000,
        created_at: now(),
    };
    let slug_id = slug.id;
    app.slugs.push(slug.clone());
    let vars = app.config_vars.clone();
    let description = match &version {
        Some(v) => format!("Deploy {}", v.chars().take(8).collect::<String>()),
        None => "Deploy".to_string(),
    };
    let r = app.push_release(description, Some(slug_id), vars);
    app.ensure_formations(&slug);
    let release_id = app.releases[r].id;
    // Served by this sandbox, on the host the build's own stream names.
    let host_base = app.builds[b]
        .output_stream_url
        .split(OUTPUT_BASE)
        .next()
        .unwrap_or_default()
        .to_string();
    app.releases[r].output_stream_url =
        Some(format!("{host_base}{RELEASE_OUTPUT_BASE}/{release_id}"));
    let released = app.releases[r].version;
    let build = &mut app.builds[b];
    build.status = "succeeded".to_string();
    build.release_id = Some(release_id);
    build.slug_id = Some(slug_id);
    build.lines.push(format!("       Released v{released}"));
    build.final_lines += 1;
    build.updated_at = now();
    super::releases::run_release_phase(shared, state, a, r);
}

/// `GET /apps/{app}/builds`.
pub fn list(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let items = app
        .builds
        .iter()
        .map(|b| {
            let mut v = build_json(app, b, state);
            // Heroku sorts builds by `started_at`.
            v["started_at"] = json!(b.created_at);
            v
        })
        .collect();
    Ok(Reply::list(items, BUILD_RANGES))
}

/// `GET /apps/{app}/builds/{id}`.
pub fn info(state: &SandboxState, ident: &str, id: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let b = app
        .builds
        .iter()
        .find(|b| b.id.to_string().eq_ignore_ascii_case(id))
        .ok_or_else(|| ApiError::not_found("build", "build"))?;
    Ok(Reply::ok(build_json(app, b, state)))
}

/// What the stream of build `id` may show now: its lines so far and whether it ended.
fn visible(shared: &Shared, id: Uuid) -> Option<(Vec<String>, bool)> {
    let world = shared.lock();
    let build = world
        .state
        .apps
        .iter()
        .flat_map(|a| a.builds.iter())
        .find(|b| b.id == id)?;
    let done = build.status != "pending";
    let shown = if done {
        build.lines.len()
    } else {
        build.lines.len().saturating_sub(build.final_lines)
    };
    Some((build.lines[..shown].to_vec(), done))
}

/// `GET /build-output/{id}`: the build's output as text, following it until it ends.
pub fn stream(shared: &Arc<Shared>, rest: &str) -> axum::response::Response {
    let id = rest.trim_matches('/').parse::<Uuid>().ok();
    let Some(id) = id.filter(|id| visible(shared, *id).is_some()) else {
        let mut response =
            axum::response::Response::new(axum::body::Body::from("no such build\n".to_string()));
        *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
        return response;
    };
    text_stream(Arc::clone(shared), move |shared| visible(shared, id))
}

/// What the release-phase stream of release `id` may show now, and whether it ended.
fn release_visible(shared: &Shared, id: Uuid) -> Option<(Vec<String>, bool)> {
    let world = shared.lock();
    let release = world
        .state
        .apps
        .iter()
        .flat_map(|a| a.releases.iter())
        .find(|r| r.id == id)?;
    let mut lines = vec![
        format!("Running release command for v{}...", release.version),
        "Operations to perform: Apply all migrations".to_string(),
    ];
    let done = release.status != "pending";
    match release.status.as_str() {
        "succeeded" => lines.push("No migrations to apply.".to_string()),
        "failed" => {
            lines.push(
                "django.db.utils.OperationalError: (1050, \"Table 'job' already exists\")"
                    .to_string(),
            );
            lines.push("release command exited with status 1".to_string());
        }
        _ => {}
    }
    Some((lines, done))
}

/// `GET /release-output/{id}`: the release phase's output, following it until it ends.
pub fn release_stream(shared: &Arc<Shared>, rest: &str) -> axum::response::Response {
    let id = rest.trim_matches('/').parse::<Uuid>().ok();
    let Some(id) = id.filter(|id| release_visible(shared, *id).is_some()) else {
        let mut response =
            axum::response::Response::new(axum::body::Body::from("no such release\n".to_string()));
        *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
        return response;
    };
    text_stream(Arc::clone(shared), move |shared| {
        release_visible(shared, id)
    })
}

/// A text/plain response following `visible` line by line until it says the output ended.
fn text_stream(
    shared: Arc<Shared>,
    visible: impl Fn(&Shared) -> Option<(Vec<String>, bool)> + Send + Sync + 'static,
) -> axum::response::Response {
    let visible = Arc::new(visible);
    let lines = futures::stream::unfold((shared, 0usize), move |(shared, sent)| {
        let visible = Arc::clone(&visible);
        async move {
            loop {
                let (lines, done) = visible(&shared)?;
                if sent < lines.len() {
                    let line = format!("{}\n", lines[sent]);
                    return Some((Ok::<_, std::convert::Infallible>(line), (shared, sent + 1)));
                }
                if done || *shared.shutdown.borrow() {
                    return None;
                }
                // The sandbox's own pacing of a live stream, not a test's synchronisation.
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        }
    });
    let mut response = axum::response::Response::new(axum::body::Body::from_stream(lines));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
