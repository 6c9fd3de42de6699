//! `/apps/{app}/releases` (list, info, create from a slug, rollback) and `/apps/{app}/slugs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use uuid::Uuid;

use super::catalog::stack_ref;
use super::{app_index, app_ref, identity_of, opt_str};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::server::Shared;
use crate::sandbox::state::{now, App, SandboxState, Slug};

/// Sortable fields of release lists: `version` first (heroku-go and the Terraform
/// provider page releases by version, newest first).
pub const RELEASE_RANGES: &[&str] = &["version", "id", "created_at", "updated_at"];

/// The release resource.
pub fn release_json(state: &SandboxState, app: &App, index: usize) -> Value {
    let r = &app.releases[index];
    let current = app.current_release().is_some_and(|c| c.id == r.id);
    let artifacts: Vec<Value> = r
        .slug_id
        .iter()
        .map(|id| json!({ "type": "slug", "id": id }))
        .collect();
    json!({
        "addon_plan_names": r.addon_plan_names,
        "app": app_ref(app),
        "artifacts": artifacts,
        "created_at": r.created_at,
        "current": current,
        "description": r.description,
        "eligible_for_rollback": r.slug_id.is_some() && !current,
        "id": r.id,
        "output_stream_url": release_phase_stream(state, r),
        "slug": r.slug_id.map(|id| json!({ "id": id })),
        "status": r.status,
        "updated_at": r.updated_at,
        "user": { "id": state.account.id, "email": state.account.email },
        "version": r.version,
    })
}

/// The release phase's output stream of a release whose code declares one (else null).
fn release_phase_stream(state: &SandboxState, r: &crate::sandbox::state::Release) -> Value {
    if let Some(url) = &r.output_stream_url {
        return json!(url);
    }
    let runs_phase = r
        .slug_id
        .and_then(|id| state.find_slug(id))
        .is_some_and(|slug| slug.process_types.contains_key("release"));
    if runs_phase {
        json!(format!(
            "https://release-output.sandbox.invalid/streams/{}",
            r.id
        ))
    } else {
        Value::Null
    }
}

/// `POST /apps/{app}/releases` with the release phase: a rollback to code that declares a
/// `release` process runs it (as Heroku does for every new release of such code).
pub fn create_or_rollback_with_phase(
    ctx: &super::Ctx<'_>,
    state: &mut SandboxState,
    ident: &str,
    body: &[u8],
) -> ApiResult {
    let is_rollback = json_object(body)
        .ok()
        .and_then(|b| b.get("release").map(|v| !v.is_null()))
        .unwrap_or(false);
    let reply = create_or_rollback(state, ident, body)?;
    if is_rollback {
        let i = app_index(state, ident)?;
        if has_release_phase(state, &state.apps[i]) {
            let r = state.apps[i].releases.len().saturating_sub(1);
            run_release_phase(ctx.shared, state, i, r);
            return Ok(Reply::created(release_json(state, &state.apps[i], r)));
        }
    }
    Ok(reply)
}

/// Finds a release by id or version (`12` or `v12`).
pub fn find_release(app: &App, ident: &str) -> Result<usize, ApiError> {
    let version = ident.strip_prefix('v').unwrap_or(ident).parse::<i64>().ok();
    app.releases
        .iter()
        .position(|r| r.id.to_string().eq_ignore_ascii_case(ident) || Some(r.version) == version)
        .ok_or_else(|| ApiError::not_found("release", "release"))
}

/// `GET /apps/{app}/releases`.
pub fn list(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let items = (0..app.releases.len())
        .map(|r| release_json(state, app, r))
        .collect();
    Ok(Reply::list(items, RELEASE_RANGES))
}

/// `GET /apps/{app}/releases/{id_or_version}`.
pub fn info(state: &SandboxState, ident: &str, release: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let r = find_release(&state.apps[i], release)?;
    Ok(Reply::ok(release_json(state, &state.apps[i], r)))
}

/// `POST /apps/{app}/releases`: `{"release": id}` rolls back, `{"slug": id}` releases a slug.
pub fn create_or_rollback(state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    if let Some(target) = body.get("release").filter(|v| !v.is_null()) {
        let target = match target {
            Value::Number(n) => n.to_string(),
            other => identity_of(other)
                .ok_or_else(|| ApiError::invalid("release must be a release id."))?
                .to_string(),
        };
        let r = find_release(&state.apps[i], &target)?;
        let app = &mut state.apps[i];
        let old = app.releases[r].clone();
        if old.slug_id.is_none() {
            return Err(ApiError::invalid(format!(
                "Cannot roll back to v{}: it has no slug.",
                old.version
            )));
        }
        // Rollback restores both code and config vars.
        app.config_vars = old.config_vars.clone();
        let idx = app.push_release(
            format!("Rollback to v{}", old.version),
            old.slug_id,
            old.config_vars,
        );
        return Ok(Reply::created(release_json(state, &state.apps[i], idx)));
    }
    let slug = match body.get("slug") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "Missing required param: slug (or release).",
            ))
        }
        Some(v) => identity_of(v).ok_or_else(|| ApiError::invalid("slug must be a slug id."))?,
    };
    let slug_id: Uuid = slug
        .parse()
        .map_err(|_| ApiError::invalid("slug must be a UUID."))?;
    let found = state
        .find_slug(slug_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("slug", "slug"))?;
    let description = match opt_str(&body, "description")? {
        Some(d) => d.to_string(),
        None => match &found.commit {
            Some(c) => format!("Deploy {}", c.chars().take(8).collect::<String>()),
            None => "Deploy".to_string(),
        },
    };
    let app = &mut state.apps[i];
    let vars = app.config_vars.clone();
    let idx = app.push_release(description, Some(slug_id), vars);
    app.ensure_formations(&found);
    if !app.slugs.iter().any(|s| s.id == slug_id) {
        app.slugs.push(found);
    }
    Ok(Reply::created(release_json(state, &state.apps[i], idx)))
}

fn slug_json(app: &App, slug: &Slug) -> Value {
    json!({
        "blob": { "method": "get", "url": format!("https://sandbox.invalid/slugs/{}.tgz", slug.id) },
        "buildpack_provided_description": "heroku/python",
        "checksum": null,
        "commit": slug.commit,
        "commit_description": slug.commit_description,
        "created_at": slug.created_at,
        "id": slug.id,
        "process_types": slug.process_types,
        "size": slug.size,
        "stack": stack_ref(&app.stack),
        "updated_at": slug.created_at,
    })
}

/// `POST /apps/{app}/slugs`.
pub fn create_slug(state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let process_types: BTreeMap<String, String> = match body.get("process_types") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(ApiError::invalid("process_types values must be strings.")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(ApiError::invalid("Missing required param: process_types.")),
    };
    let slug = Slug {
        id: Uuid::new_v4(),
        process_types,
        commit: opt_str(&body, "commit")?.map(str::to_string),
        commit_description: opt_str(&body, "commit_description")?.map(str::to_string),
        size: 0,
        created_at: now(),
    };
    let app = &mut state.apps[i];
    app.slugs.push(slug.clone());
    Ok(Reply::created(slug_json(app, &slug)))
}

/// `GET /apps/{app}/slugs/{id}`.
pub fn slug_info(state: &SandboxState, ident: &str, slug: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let found = slug
        .parse::<Uuid>()
        .ok()
        .and_then(|id| state.find_slug(id))
        .ok_or_else(|| ApiError::not_found("slug", "slug"))?;
    Ok(Reply::ok(slug_json(app, found)))
}

/// Release-phase behaviour of one sandbox, set through `POST /__control/release-phase`
/// `{"ms": 300, "fail": [{"app": "treeherder-stage", "count": 1}]}`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleasePhase {
    /// How long a release stays `pending` (0: it settles at once).
    #[serde(default)]
    pub ms: u64,
    /// Queued failures: the next `count` release phases of `app` (name or id) fail.
    #[serde(default)]
    pub fail: Vec<ReleasePhaseFailure>,
}

/// A queued failure of the next `count` release phases on `app`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleasePhaseFailure {
    pub app: String,
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

fn phase(shared: &Shared) -> std::sync::MutexGuard<'_, ReleasePhase> {
    shared
        .release_phase
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// `GET /__control/release-phase`.
pub fn release_phase_json(shared: &Shared) -> Value {
    json!(*phase(shared))
}

/// `POST /__control/release-phase`: sets the duration and appends the failures.
pub fn configure_release_phase(shared: &Shared, request: &ReleasePhase) {
    let mut current = phase(shared);
    current.ms = request.ms;
    current.fail.extend(request.fail.iter().cloned());
}

/// Back to the defaults (on `/__control/reset`).
pub fn reset_release_phase(shared: &Shared) {
    *phase(shared) = ReleasePhase::default();
}

/// True when the app's current code declares a `release` process type (Heroku then runs
/// the release phase for every new release, config changes included).
pub fn has_release_phase(state: &SandboxState, app: &App) -> bool {
    app.current_release()
        .and_then(|r| r.slug_id)
        .and_then(|id| state.find_slug(id))
        .is_some_and(|slug| slug.process_types.contains_key("release"))
}

/// Runs the release phase of release `index` of app `app_index`: it fails when a failure is
/// queued for the app, else succeeds; with a duration set, the release is `pending` until
/// then.
pub fn run_release_phase(
    shared: &Arc<Shared>,
    state: &mut SandboxState,
    app_index: usize,
    index: usize,
) {
    let app = &mut state.apps[app_index];
    let (ms, outcome) = {
        let mut settings = phase(shared);
        let queued = settings
            .fail
            .iter()
            .position(|f| f.app == app.name || f.app.eq_ignore_ascii_case(&app.id.to_string()));
        let outcome = match queued {
            Some(f) => {
                settings.fail[f].count = settings.fail[f].count.saturating_sub(1);
                if settings.fail[f].count == 0 {
                    settings.fail.remove(f);
                }
                "failed"
            }
            None => "succeeded",
        };
        (settings.ms, outcome)
    };
    if ms == 0 {
        app.releases[index].status = outcome.to_string();
        return;
    }
    app.releases[index].status = "pending".to_string();
    let (app_id, release_id) = (app.id, app.releases[index].id);
    let shared = Arc::clone(shared);
    let mut shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(ms)) => {
                settle_release(&shared, app_id, release_id, outcome);
            }
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    });
}

fn settle_release(shared: &Shared, app_id: Uuid, release_id: Uuid, outcome: &str) {
    let mut world = shared.lock();
    let Some(a) = world.state.app_index_by_id(app_id) else {
        return;
    };
    let app = &mut world.state.apps[a];
    if let Some(release) = app.releases.iter_mut().find(|r| r.id == release_id) {
        release.status = outcome.to_string();
        release.updated_at = now();
    }
    shared.persist(&world.state);
}
