//! `/apps/{app}/dynos`, restarts (`DELETE` on dynos/formations), stop actions, dyno sizes.
//!
//! Heroku does not document what a restart changes on a dyno, so the sandbox restarts either
//! way, set through `POST /__control/dyno-restart`:
//! `{"mode": "replace"}` (the default) makes each dyno a new process at once (new id,
//! `created_at` and `updated_at` now, `up`); `{"mode": "in_place", "starting_reads": N}`
//! keeps the id and `created_at`, moves `updated_at`, and shows the dyno `starting` for the
//! next N reads (list or info, default 1) before it is `up` again. Time is reads, not the
//! clock, as for one-off runs: tests need no sleeps.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::catalog::{canonical_size, dyno_size_json, find_dyno_size, DYNO_SIZES};
use super::formation::find_formation;
use super::{app_index, app_ref, opt_str};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::state::{now, App, Dyno, SandboxState};

/// Sortable fields of dyno lists.
pub const DYNO_RANGES: &[&str] = &["id", "name"];

/// The dyno resource.
pub fn dyno_json(app: &App, d: &Dyno) -> Value {
    json!({
        "app": app_ref(app),
        "attach_url": d.attach_url,
        "command": d.command,
        "created_at": d.created_at,
        "id": d.id,
        "name": d.name,
        "release": match (d.release_id, d.release_version) {
            (Some(id), Some(version)) => json!({ "id": id, "version": version }),
            _ => Value::Null,
        },
        "size": d.size,
        "state": d.state,
        "type": d.process_type,
        "updated_at": d.updated_at,
    })
}

fn find_dyno(app: &App, ident: &str) -> Result<usize, ApiError> {
    app.dynos
        .iter()
        .position(|d| d.name == ident || d.id.to_string().eq_ignore_ascii_case(ident))
        .ok_or_else(|| ApiError::not_found("dyno", "dyno"))
}

/// What a restart changes on a dyno.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RestartKind {
    /// A new process at once: new id, `created_at` and `updated_at` now, `up`.
    #[default]
    Replace,
    /// The same dyno (id and `created_at` kept) goes `starting`, then `up`; only `state`
    /// and `updated_at` move.
    InPlace,
}

/// How restarts behave (`POST /__control/dyno-restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartMode {
    pub mode: RestartKind,
    /// In place: reads showing a restarted dyno `starting` before it is `up` (at least 1).
    #[serde(default = "one_read")]
    pub starting_reads: u32,
}

fn one_read() -> u32 {
    1
}

impl Default for RestartMode {
    fn default() -> Self {
        RestartMode {
            mode: RestartKind::Replace,
            starting_reads: one_read(),
        }
    }
}

/// Restarts a dyno as `mode` says. A crashed dyno (see [`crash_dyno`]) crashes again on
/// boot, as one with a broken command does on Heroku.
fn restart(d: &mut Dyno, now: &str, mode: RestartMode) {
    match mode.mode {
        RestartKind::Replace => {
            d.updated_at = now.to_string();
            d.id = Uuid::new_v4();
            d.created_at = now.to_string();
            if d.state != "crashed" {
                d.state = "up".to_string();
            }
        }
        RestartKind::InPlace if d.state == "crashed" => {
            d.updated_at = moved_on(&d.updated_at, now);
        }
        RestartKind::InPlace => {
            d.updated_at = moved_on(&d.updated_at, now);
            d.state = "starting".to_string();
            d.starting_reads = mode.starting_reads.max(1);
        }
    }
}

/// `now`, or one second after `previous` when `now` is not later: a restart moves
/// `updated_at` even within the second of the dyno's last change (times are to the second).
fn moved_on(previous: &str, now: &str) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let parse = |t: &str| time::PrimitiveDateTime::parse(t, &format).ok();
    match (parse(previous), parse(now)) {
        (Some(previous), Some(current)) if current <= previous => (previous
            + time::Duration::seconds(1))
        .format(&format)
        .unwrap_or_else(|_| now.to_string()),
        _ => now.to_string(),
    }
}

/// After a read of an app's dynos: each dyno restarted in place has been seen `starting`
/// once more, and is `up` (with a new `updated_at`) when that was its last such read.
pub fn count_read(state: &mut SandboxState, ident: &str) {
    let Some(i) = state.app_index(ident) else {
        return;
    };
    let now = now();
    for d in state.apps[i]
        .dynos
        .iter_mut()
        .filter(|d| d.starting_reads > 0)
    {
        d.starting_reads -= 1;
        if d.starting_reads == 0 && d.state == "starting" {
            d.state = "up".to_string();
            d.updated_at = moved_on(&d.updated_at, &now);
        }
    }
}

/// `GET /__control/dyno-restart`.
pub fn restart_mode_json(shared: &crate::sandbox::server::Shared) -> Value {
    json!(shared.lock().state.dyno_restart)
}

/// `POST /__control/dyno-restart`: how the next restarts behave.
pub fn set_restart_mode(shared: &crate::sandbox::server::Shared, mode: RestartMode) -> Value {
    let mut world = shared.lock();
    world.state.dyno_restart = mode;
    shared.persist(&world.state);
    json!(mode)
}

/// Restart/stop answer: 202 with an empty object.
fn accepted() -> Reply {
    Reply::with_status(StatusCode::ACCEPTED, json!({}))
}

/// `GET /apps/{app}/dynos`.
pub fn list(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let items = app.dynos.iter().map(|d| dyno_json(app, d)).collect();
    Ok(Reply::list(items, DYNO_RANGES))
}

/// `GET /apps/{app}/dynos/{dyno}`.
pub fn info(state: &SandboxState, ident: &str, dyno: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let d = find_dyno(app, dyno)?;
    Ok(Reply::ok(dyno_json(app, &app.dynos[d])))
}

/// `POST /apps/{app}/dynos`: a one-off dyno.
pub fn create(state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let command = match opt_str(&body, "command")? {
        Some(c) if !c.trim().is_empty() => c.to_string(),
        _ => return Err(ApiError::invalid("Missing required param: command.")),
    };
    let size = match opt_str(&body, "size")? {
        Some(s) => canonical_size(s)
            .ok_or_else(|| ApiError::invalid(format!("Invalid dyno size: {s}.")))?,
        None => "Standard-1X",
    };
    let process_type = opt_str(&body, "type")?.unwrap_or("run").to_string();
    let attach = match body.get("attach") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::invalid("attach must be a boolean.")),
    };
    match body.get("env") {
        None | Some(Value::Null) => {}
        Some(Value::Object(env)) if env.values().all(Value::is_string) => {}
        Some(_) => return Err(ApiError::invalid("env must be an object of strings.")),
    }
    match body.get("time_to_live") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_i64().is_some_and(|t| (1..=86_400).contains(&t)) => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "time_to_live must be between 1 and 86400.",
            ))
        }
    }
    let number = state.next_run_number;
    state.next_run_number += 1;
    let app = &mut state.apps[i];
    let now = now();
    let (release_id, release_version) = match app.current_release() {
        Some(r) => (Some(r.id), Some(r.version)),
        None => (None, None),
    };
    let id = Uuid::new_v4();
    let dyno = Dyno {
        id,
        name: format!("{process_type}.{number}"),
        process_type,
        command,
        size: size.to_string(),
        state: "up".to_string(),
        attach_url: attach.then(|| {
            format!(
                "rendezvous://rendezvous.runtime.heroku.com:5000/{}",
                id.simple()
            )
        }),
        release_id,
        release_version,
        created_at: now.clone(),
        updated_at: now,
        starting_reads: 0,
    };
    app.dynos.push(dyno);
    let d = app.dynos.len() - 1;
    super::one_off::start_run(state, i, d);
    let app = &state.apps[i];
    Ok(Reply::created(dyno_json(app, &app.dynos[d])))
}

/// `DELETE /apps/{app}/dynos`: restart every dyno.
pub fn restart_all(state: &mut SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let (now, mode) = (now(), state.dyno_restart);
    for d in &mut state.apps[i].dynos {
        restart(d, &now, mode);
    }
    Ok(accepted())
}

/// `DELETE /apps/{app}/dynos/{dyno}`: one dyno, or every dyno of a process type when
/// `{dyno}` is a type (`web`), as `heroku ps:restart web` sends it.
pub fn restart_one(state: &mut SandboxState, ident: &str, dyno: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let mode = state.dyno_restart;
    let app = &mut state.apps[i];
    if !app
        .dynos
        .iter()
        .any(|d| d.name == dyno || d.id.to_string().eq_ignore_ascii_case(dyno))
        && app.dynos.iter().any(|d| d.process_type == dyno)
    {
        let now = now();
        for d in app.dynos.iter_mut().filter(|d| d.process_type == dyno) {
            restart(d, &now, mode);
        }
        return Ok(accepted());
    }
    let d = find_dyno(app, dyno)?;
    restart(&mut app.dynos[d], &now(), mode);
    Ok(accepted())
}

/// `POST /apps/{app}/dynos/{dyno}/actions/stop`: one-offs go away, formation dynos
/// are replaced (as on Heroku).
pub fn stop_one(state: &mut SandboxState, ident: &str, dyno: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &mut state.apps[i];
    let d = find_dyno(app, dyno)?;
    let is_formation = app
        .formations
        .iter()
        .any(|f| f.process_type == app.dynos[d].process_type);
    if is_formation {
        // A stopped formation dyno is replaced by a new process, whatever restarts do.
        restart(&mut app.dynos[d], &now(), RestartMode::default());
    } else {
        app.dynos.remove(d);
    }
    Ok(accepted())
}

/// `DELETE /apps/{app}/formations/{type}`: restart all dynos of one process type.
pub fn restart_type(state: &mut SandboxState, ident: &str, process_type: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let mode = state.dyno_restart;
    let app = &mut state.apps[i];
    let f = find_formation(app, process_type)?;
    let t = app.formations[f].process_type.clone();
    let now = now();
    for d in app.dynos.iter_mut().filter(|d| d.process_type == t) {
        restart(d, &now, mode);
    }
    Ok(accepted())
}

/// `GET /dyno-sizes`.
pub fn list_sizes() -> Reply {
    Reply::list(
        (0..DYNO_SIZES.len()).map(dyno_size_json).collect(),
        &["id", "name"],
    )
}

/// `GET /dyno-sizes/{id|name}`.
pub fn size_info(ident: &str) -> ApiResult {
    find_dyno_size(ident)
        .map(|i| Reply::ok(dyno_size_json(i)))
        .ok_or_else(|| ApiError::not_found("dyno_size", "dyno size"))
}

/// A dyno to crash, set through `POST /__control/dyno-crash`
/// `{"app": "treeherder-prod", "dyno": "worker_misc.1"}`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynoCrash {
    /// App name or id.
    pub app: String,
    /// Dyno name or id.
    pub dyno: String,
}

/// `POST /__control/dyno-crash`: the dyno is `crashed` now and after every restart;
/// answers with the dyno, or the Platform API's error.
pub fn crash(shared: &crate::sandbox::server::Shared, request: &DynoCrash) -> (StatusCode, Value) {
    let mut world = shared.lock();
    let out = match crash_dyno(&mut world.state, request) {
        Ok(dyno) => (StatusCode::OK, dyno),
        Err(e) => (e.status, json!({ "id": e.id, "message": e.message })),
    };
    shared.persist(&world.state);
    out
}

fn crash_dyno(state: &mut SandboxState, request: &DynoCrash) -> Result<Value, ApiError> {
    let i = app_index(state, &request.app)?;
    let app = &mut state.apps[i];
    let d = find_dyno(app, &request.dyno)?;
    app.dynos[d].state = "crashed".to_string();
    app.dynos[d].updated_at = now();
    Ok(dyno_json(app, &app.dynos[d]))
}
