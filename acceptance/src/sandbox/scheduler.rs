//! The Heroku Scheduler (particleboard) jobs API: JSON:API documents under
//! `/apps/{app_uuid}/jobs`, errors as `{"errors":[{status,title,detail,source}]}`.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::heroku::catalog::canonical_size;
use super::http::ApiRequest;
use super::state::{now, SandboxState, SchedulerJob};

/// A JSON:API error document.
pub fn error(
    status: StatusCode,
    title: &str,
    detail: &str,
    pointer: Option<&str>,
) -> (StatusCode, Value) {
    let mut err = json!({
        "status": status.as_u16().to_string(),
        "title": title,
        "detail": detail,
    });
    if let (Some(p), Some(map)) = (pointer, err.as_object_mut()) {
        map.insert("source".to_string(), json!({ "pointer": p }));
    }
    (status, json!({ "errors": [err] }))
}

type SchedulerResult = Result<(StatusCode, Option<Value>), (StatusCode, Value)>;

fn not_found(what: &str) -> (StatusCode, Value) {
    error(
        StatusCode::NOT_FOUND,
        "Not Found",
        &format!("Couldn't find that {what}."),
        None,
    )
}

fn invalid(detail: &str, pointer: &str) -> (StatusCode, Value) {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Unprocessable Entity",
        detail,
        Some(pointer),
    )
}

/// The job resource object.
pub fn job_json(job: &SchedulerJob) -> Value {
    json!({
        "type": "jobs",
        "id": job.id,
        "attributes": {
            "command": job.command,
            "dyno-size": job.dyno_size,
            "every": job.every,
            "at": job.at,
            "ran-at": null,
            "created-at": job.created_at,
            "updated-at": job.updated_at,
            "expire-after": null,
        },
    })
}

/// Routes a Scheduler request; always yields a status and an optional body.
pub fn dispatch(state: &mut SandboxState, req: &ApiRequest) -> (StatusCode, Option<Value>) {
    let segs = req.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let result = match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["apps", app, "jobs"]) => list(state, app),
        ("POST", ["apps", app, "jobs"]) => create(state, app, &req.body),
        ("PATCH", ["apps", app, "jobs", job]) => update(state, app, job, &req.body),
        ("DELETE", ["apps", app, "jobs", job]) => delete(state, app, job),
        _ => Err(not_found("endpoint")),
    };
    match result {
        Ok(ok) => ok,
        Err((status, body)) => (status, Some(body)),
    }
}

/// Scheduler apps are addressed by UUID only (as the real API is).
fn app_index(state: &SandboxState, ident: &str) -> Result<usize, (StatusCode, Value)> {
    let id: uuid::Uuid = ident.parse().map_err(|_| not_found("app"))?;
    state.app_index_by_id(id).ok_or_else(|| not_found("app"))
}

fn list(state: &SandboxState, app: &str) -> SchedulerResult {
    let i = app_index(state, app)?;
    let data: Vec<Value> = state.apps[i].jobs.iter().map(job_json).collect();
    Ok((StatusCode::OK, Some(json!({ "data": data }))))
}

/// Reads `data` and its `attributes` from a JSON:API document.
fn parse_document(body: &[u8]) -> Result<Map<String, Value>, (StatusCode, Value)> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "Invalid JSON",
            &format!("Request body is not valid JSON: {e}"),
            None,
        )
    })?;
    let data = doc.get("data").and_then(Value::as_object);
    let Some(data) = data else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Missing data parameter",
            "Check out http://jsonapi.org/format/#crud for more info.",
            Some("/data"),
        ));
    };
    match data.get("type") {
        Some(Value::String(t)) if t == "jobs" => {}
        Some(Value::String(_)) => {
            return Err(error(
                StatusCode::CONFLICT,
                "Invalid type in data parameter",
                "The type must be \"jobs\".",
                Some("/data/type"),
            ))
        }
        _ => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Missing type in data parameter",
                "Check out http://jsonapi.org/format/#crud for more info.",
                Some("/data/type"),
            ))
        }
    }
    match data.get("attributes") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(a)) => Ok(a.clone()),
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "Invalid attributes",
            "data.attributes must be an object.",
            Some("/data/attributes"),
        )),
    }
}

/// Applies attributes onto `job` and validates the result.
fn apply(job: &mut SchedulerJob, attrs: &Map<String, Value>) -> Result<(), (StatusCode, Value)> {
    if let Some(v) = attrs.get("command") {
        match v.as_str() {
            Some(c) if !c.trim().is_empty() => job.command = c.to_string(),
            _ => {
                return Err(invalid(
                    "command must be a non-empty string.",
                    "/data/attributes/command",
                ))
            }
        }
    }
    if let Some(v) = attrs.get("dyno-size").filter(|v| !v.is_null()) {
        let size = v.as_str().and_then(canonical_size).ok_or_else(|| {
            invalid(
                "dyno-size is not a valid dyno size.",
                "/data/attributes/dyno-size",
            )
        })?;
        job.dyno_size = size.to_string();
    }
    if let Some(v) = attrs.get("every").filter(|v| !v.is_null()) {
        job.every = v
            .as_i64()
            .ok_or_else(|| invalid("every must be 10, 60 or 1440.", "/data/attributes/every"))?;
    }
    if let Some(v) = attrs.get("at").filter(|v| !v.is_null()) {
        job.at = v.as_i64().ok_or_else(|| {
            invalid(
                "at must be an integer number of minutes.",
                "/data/attributes/at",
            )
        })?;
    }
    let at_ok = match job.every {
        10 => job.at == 0,
        60 => (0..60).contains(&job.at) && job.at % 10 == 0,
        1440 => (0..1440).contains(&job.at) && job.at % 30 == 0,
        _ => {
            return Err(invalid(
                "every must be 10, 60 or 1440.",
                "/data/attributes/every",
            ))
        }
    };
    if !at_ok {
        return Err(invalid(
            "at must be 0 for every=10, a multiple of 10 below 60 for every=60, or a multiple of 30 below 1440 for every=1440.",
            "/data/attributes/at",
        ));
    }
    if job.command.trim().is_empty() {
        return Err(invalid(
            "command can't be blank.",
            "/data/attributes/command",
        ));
    }
    Ok(())
}

fn create(state: &mut SandboxState, app: &str, body: &[u8]) -> SchedulerResult {
    let i = app_index(state, app)?;
    let attrs = parse_document(body)?;
    for required in ["command", "every"] {
        if attrs.get(required).is_none_or(Value::is_null) {
            return Err(invalid(
                &format!("{required} is required."),
                &format!("/data/attributes/{required}"),
            ));
        }
    }
    let now = now();
    let mut job = SchedulerJob {
        id: state.next_job_id.to_string(),
        command: String::new(),
        dyno_size: "Standard-1X".to_string(),
        every: 10,
        at: 0,
        created_at: now.clone(),
        updated_at: now,
    };
    apply(&mut job, &attrs)?;
    state.next_job_id += 1;
    let out = job_json(&job);
    state.apps[i].jobs.push(job);
    Ok((StatusCode::CREATED, Some(json!({ "data": out }))))
}

fn update(state: &mut SandboxState, app: &str, job_id: &str, body: &[u8]) -> SchedulerResult {
    let i = app_index(state, app)?;
    let attrs = parse_document(body)?;
    // data.id is not checked: herokux sends the app id there and the real API accepts it.
    let jobs = &mut state.apps[i].jobs;
    let j = jobs
        .iter()
        .position(|j| j.id == job_id)
        .ok_or_else(|| not_found("job"))?;
    let mut job = jobs[j].clone();
    apply(&mut job, &attrs)?;
    job.updated_at = now();
    let out = job_json(&job);
    jobs[j] = job;
    Ok((StatusCode::OK, Some(json!({ "data": out }))))
}

fn delete(state: &mut SandboxState, app: &str, job_id: &str) -> SchedulerResult {
    let i = app_index(state, app)?;
    let jobs = &mut state.apps[i].jobs;
    let j = jobs
        .iter()
        .position(|j| j.id == job_id)
        .ok_or_else(|| not_found("job"))?;
    jobs.remove(j);
    Ok((StatusCode::NO_CONTENT, None))
}
