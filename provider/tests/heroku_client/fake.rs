//! A small in-test fake of the Platform and Scheduler APIs that records every request and can
//! inject failures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use uuid::Uuid;

use terraform_provider_treeherder::clients::heroku::{
    ApiKey, HerokuClient, HerokuConfig, NewSchedulerJob,
};

pub(crate) const API_KEY: &str = "hrku-test-secret-0123456789";
pub(crate) const PROD_ID: &str = "6f1c1e5e-0000-4000-8000-000000000001";
pub(crate) const STAGE_ID: &str = "6f1c1e5e-0000-4000-8000-000000000002";
pub(crate) const PIPELINE_ID: &str = "7a7a7a7a-0000-4000-8000-000000000009";

pub(crate) fn prod_id() -> Uuid {
    Uuid::parse_str(PROD_ID).unwrap()
}

pub(crate) fn stage_id() -> Uuid {
    Uuid::parse_str(STAGE_ID).unwrap()
}

#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

#[derive(Clone)]
pub(crate) enum Fault {
    /// Answer with this status, headers and body instead of handling the request.
    Answer {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Handle the request (its effect happens) but answer 503, as if the response
    /// was lost on the way back.
    LoseResponse,
    /// Handle the request, then never answer (the client's timeout fires).
    Hang,
}

pub(crate) struct Injection {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) fault: Fault,
    pub(crate) remaining: usize,
}

#[derive(Default)]
pub(crate) struct FakeState {
    pub(crate) requests: Vec<Recorded>,
    pub(crate) injections: Vec<Injection>,
    pub(crate) apps: Vec<(Uuid, String)>,
    pub(crate) jobs: HashMap<String, Vec<Value>>,
    pub(crate) next_job: u64,
    /// Releases per app id, ascending by version.
    pub(crate) releases: HashMap<String, Vec<Value>>,
    pub(crate) couplings: Vec<Value>,
    pub(crate) formations: HashMap<String, Vec<Value>>,
    pub(crate) promotions: Vec<Value>,
    pub(crate) config_vars: HashMap<String, serde_json::Map<String, Value>>,
    pub(crate) page_size: usize,
    pub(crate) rate_remaining: Option<u32>,
}

#[derive(Clone)]
pub(crate) struct Fake {
    pub(crate) state: Arc<Mutex<FakeState>>,
    pub(crate) base: String,
}

impl Fake {
    pub(crate) async fn start() -> Fake {
        let mut state = FakeState {
            page_size: 200,
            ..FakeState::default()
        };
        state.apps.push((prod_id(), "treeherder-prod".into()));
        state.apps.push((stage_id(), "treeherder-stage".into()));
        let state = Arc::new(Mutex::new(state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fake {
            state,
            base: format!("http://{addr}"),
        }
    }

    pub(crate) fn config(&self) -> HerokuConfig {
        let mut config = HerokuConfig::new(ApiKey::new(API_KEY));
        config.api_url = self.base.clone();
        // A path prefix, as a sandbox serving both APIs on one port would use.
        config.scheduler_url = format!("{}/scheduler", self.base);
        config.max_retries = 3;
        config.base_backoff = Duration::from_millis(1);
        config.max_backoff = Duration::from_millis(20);
        config.request_timeout = Duration::from_secs(10);
        config
    }

    pub(crate) fn client(&self) -> HerokuClient {
        HerokuClient::new(self.config()).unwrap()
    }

    pub(crate) fn inject(&self, method: Method, path: &str, fault: Fault, times: usize) {
        self.state.lock().unwrap().injections.push(Injection {
            method,
            path: path.to_string(),
            fault,
            remaining: times,
        });
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub(crate) fn count(&self, method: Method, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    pub(crate) fn jobs(&self, app: Uuid) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .jobs
            .get(&app.to_string())
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn seed_job(
        &self,
        app: Uuid,
        command: &str,
        size: &str,
        every: u32,
        at: u32,
    ) -> String {
        let mut state = self.state.lock().unwrap();
        state.next_job += 1;
        let id = format!("{}", 880000 + state.next_job);
        let job = job_resource(&id, command, size, every, at);
        state.jobs.entry(app.to_string()).or_default().push(job);
        id
    }

    pub(crate) fn seed_releases(&self, app: Uuid, count: u64, current: u64) {
        let releases = (1..=count)
            .map(|v| {
                json!({
                    "id": Uuid::new_v4(),
                    "version": v,
                    "status": if v > current { "failed" } else { "succeeded" },
                    "current": v == current,
                    "slug": {"id": Uuid::new_v4()},
                    "app": {"id": app, "name": "treeherder-prod"},
                    "description": format!("Deploy v{v}"),
                    "created_at": "2026-01-01T00:00:00Z",
                })
            })
            .collect();
        self.state
            .lock()
            .unwrap()
            .releases
            .insert(app.to_string(), releases);
    }
}

pub(crate) fn job_resource(id: &str, command: &str, size: &str, every: u32, at: u32) -> Value {
    json!({
        "type": "jobs",
        "id": id,
        "attributes": {
            "command": command,
            "dyno-size": size,
            "every": every,
            "at": at,
            "ran-at": null,
            "created-at": "2026-01-01T00:00:00Z",
        }
    })
}

pub(crate) fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn heroku_error(status: u16, id: &str, message: &str) -> Response {
    json_response(status, json!({"id": id, "message": message}))
}

/// Parses the fake's own pagination: `<field> [\]<cursor>]..; max=N[,order=desc]`.
pub(crate) fn parse_range(range: Option<&str>) -> (usize, usize, bool) {
    let Some(range) = range else {
        return (0, usize::MAX, false);
    };
    let cursor = range
        .split(']')
        .nth(1)
        .and_then(|rest| rest.split("..").next())
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    let max = range
        .split("max=")
        .nth(1)
        .and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(usize::MAX);
    (cursor, max, range.contains("order=desc"))
}

/// Serves one page of `items`, answering 206 + Next-Range while more remain.
pub(crate) fn paginate(
    items: Vec<Value>,
    field: &str,
    range: Option<&str>,
    page_size: usize,
) -> Response {
    let (cursor, max, desc) = parse_range(range);
    let mut items = items;
    if desc {
        items.reverse();
    }
    let size = max.min(page_size);
    let page: Vec<Value> = items.iter().skip(cursor).take(size).cloned().collect();
    let next = cursor + page.len();
    let mut response = json_response(
        if next < items.len() { 206 } else { 200 },
        Value::Array(page),
    );
    if next < items.len() {
        let order = if desc { ",order=desc" } else { "" };
        let value = format!("{field} ]{next}..; max={size}{order}");
        response
            .headers_mut()
            .insert("next-range", HeaderValue::from_str(&value).unwrap());
    }
    response
}

pub(crate) async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let fault = {
        let mut s = state.lock().unwrap();
        s.requests.push(Recorded {
            method: method.clone(),
            path: path.clone(),
            headers: headers.clone(),
            body: body.to_vec(),
        });
        let found = s
            .injections
            .iter_mut()
            .find(|i| i.method == method && i.path == path && i.remaining > 0);
        found.map(|i| {
            i.remaining -= 1;
            i.fault.clone()
        })
    };
    let mut response = match fault {
        Some(Fault::Answer {
            status,
            headers,
            body,
        }) => {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            for (name, value) in headers {
                response
                    .headers_mut()
                    .insert(name, HeaderValue::from_str(&value).unwrap());
            }
            response
        }
        Some(Fault::LoseResponse) => {
            let _ = route(&state, &method, &path, &headers, &body);
            heroku_error(503, "service_unavailable", "upstream went away")
        }
        Some(Fault::Hang) => {
            let _ = route(&state, &method, &path, &headers, &body);
            std::future::pending::<()>().await;
            unreachable!("pending() never completes")
        }
        None => route(&state, &method, &path, &headers, &body),
    };
    if let Some(remaining) = state.lock().unwrap().rate_remaining {
        response.headers_mut().insert(
            "ratelimit-remaining",
            HeaderValue::from_str(&remaining.to_string()).unwrap(),
        );
    }
    response
}

pub(crate) fn route(
    state: &Arc<Mutex<FakeState>>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut s = state.lock().unwrap();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let range = headers.get("range").and_then(|v| v.to_str().ok());
    let find_app = |s: &FakeState, key: &str| {
        s.apps
            .iter()
            .find(|(id, name)| id.to_string() == key || name == key)
            .cloned()
    };
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["apps", app]) => match find_app(&s, app) {
            Some((id, name)) => json_response(
                200,
                json!({"id": id, "name": name, "maintenance": false,
                       "region": {"id": Uuid::new_v4(), "name": "us"},
                       "stack": {"id": Uuid::new_v4(), "name": "heroku-24"}}),
            ),
            None => json_response(
                404,
                json!({"resource": "app", "id": "not_found", "message": "Couldn't find that app."}),
            ),
        },
        ("GET", ["apps", app, "config-vars"]) => json_response(
            200,
            Value::Object(s.config_vars.get(*app).cloned().unwrap_or_default()),
        ),
        ("PATCH", ["apps", app, "config-vars"]) => {
            let changes: serde_json::Map<String, Value> = serde_json::from_slice(body).unwrap();
            let vars = s.config_vars.entry(app.to_string()).or_default();
            for (key, value) in changes {
                if value.is_null() {
                    vars.remove(&key);
                } else {
                    vars.insert(key, value);
                }
            }
            json_response(200, Value::Object(vars.clone()))
        }
        ("DELETE", ["apps", _, "dynos"]) | ("DELETE", ["apps", _, "formations", _]) => {
            json_response(202, json!({}))
        }
        ("POST", ["apps", app, "dynos"]) => {
            let request: Value = serde_json::from_slice(body).unwrap();
            json_response(
                201,
                json!({"id": Uuid::new_v4(), "name": "run.4242", "command": request["command"],
                       "state": "starting", "size": request["size"], "type": "run",
                       "attach_url": null, "app": {"id": app, "name": "treeherder-prod"},
                       "release": {"id": Uuid::new_v4(), "version": 12}}),
            )
        }
        ("POST", ["apps", app, "releases"]) => {
            let request: Value = serde_json::from_slice(body).unwrap();
            let releases = s.releases.entry(app.to_string()).or_default();
            let version = releases.len() as u64 + 1;
            let release = json!({"id": Uuid::new_v4(), "version": version, "status": "pending",
                                 "current": true,
                                 "description": format!("Rollback to {}", request["release"])});
            releases.push(release.clone());
            json_response(201, release)
        }
        ("GET", ["apps", app, "formation"]) => {
            let items = s.formations.get(*app).cloned().unwrap_or_default();
            paginate(items, "id", range, s.page_size)
        }
        ("PATCH", ["apps", app, "formation", kind]) => {
            let update: Value = serde_json::from_slice(body).unwrap();
            let formations = s.formations.entry(app.to_string()).or_default();
            match formations.iter_mut().find(|f| f["type"] == *kind) {
                Some(f) => {
                    if let Some(q) = update.get("quantity") {
                        f["quantity"] = q.clone();
                    }
                    if let Some(size) = update.get("dyno_size") {
                        f["dyno_size"] = size.clone();
                    }
                    json_response(200, f.clone())
                }
                None => heroku_error(404, "not_found", "Couldn't find that formation."),
            }
        }
        ("GET", ["apps", app, "releases"]) => {
            let items = s.releases.get(*app).cloned().unwrap_or_default();
            paginate(items, "version", range, s.page_size)
        }
        ("GET", ["apps", app, "releases", release]) => {
            let items = s.releases.get(*app).cloned().unwrap_or_default();
            match items.into_iter().find(|r| {
                r["id"] == *release || release.parse::<u64>().ok() == r["version"].as_u64()
            }) {
                Some(r) => json_response(200, r),
                None => heroku_error(404, "not_found", "Couldn't find that release."),
            }
        }
        ("GET", ["scheduler", "apps", app, "jobs"]) => {
            let data = s.jobs.get(*app).cloned().unwrap_or_default();
            json_response(200, json!({"data": data}))
        }
        ("POST", ["scheduler", "apps", app, "jobs"]) => {
            let doc: Value = serde_json::from_slice(body).unwrap();
            if doc["data"]["type"] != "jobs" {
                return json_response(
                    400,
                    json!({"errors": [{"status": "400", "title": "Missing type in data parameter",
                                        "source": {"pointer": "/data/type"}}]}),
                );
            }
            let attributes = &doc["data"]["attributes"];
            let every = attributes["every"].as_u64().unwrap_or(0);
            if ![10, 60, 1440].contains(&every) {
                return json_response(
                    422,
                    json!({"errors": [{"status": "422", "title": "Unprocessable Entity",
                                        "detail": "every must be one of 10, 60, 1440",
                                        "source": {"pointer": "/data/attributes/every"}}]}),
                );
            }
            s.next_job += 1;
            let id = format!("{}", 880000 + s.next_job);
            let job = job_resource(
                &id,
                attributes["command"].as_str().unwrap(),
                attributes["dyno-size"].as_str().unwrap(),
                every as u32,
                attributes["at"].as_u64().unwrap() as u32,
            );
            s.jobs.entry(app.to_string()).or_default().push(job.clone());
            json_response(201, json!({"data": job}))
        }
        ("PATCH", ["scheduler", "apps", app, "jobs", job_id]) => {
            let doc: Value = serde_json::from_slice(body).unwrap();
            let jobs = s.jobs.entry(app.to_string()).or_default();
            match jobs.iter_mut().find(|j| j["id"] == *job_id) {
                Some(job) => {
                    job["attributes"]["command"] = doc["data"]["attributes"]["command"].clone();
                    job["attributes"]["dyno-size"] = doc["data"]["attributes"]["dyno-size"].clone();
                    job["attributes"]["every"] = doc["data"]["attributes"]["every"].clone();
                    job["attributes"]["at"] = doc["data"]["attributes"]["at"].clone();
                    json_response(200, json!({"data": job.clone()}))
                }
                None => json_response(
                    404,
                    json!({"errors": [{"status": "404", "title": "Not found"}]}),
                ),
            }
        }
        ("DELETE", ["scheduler", "apps", app, "jobs", job_id]) => {
            let jobs = s.jobs.entry(app.to_string()).or_default();
            let before = jobs.len();
            jobs.retain(|j| j["id"] != *job_id);
            if jobs.len() == before {
                json_response(
                    404,
                    json!({"errors": [{"status": "404", "title": "Not found"}]}),
                )
            } else {
                (StatusCode::NO_CONTENT, "").into_response()
            }
        }
        ("GET", ["pipelines", pipeline]) => {
            if *pipeline == PIPELINE_ID || *pipeline == "treeherder" {
                json_response(
                    200,
                    json!({"id": PIPELINE_ID, "name": "treeherder",
                           "owner": {"id": Uuid::new_v4(), "type": "team"},
                           "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}),
                )
            } else {
                heroku_error(404, "not_found", "Couldn't find that pipeline.")
            }
        }
        ("GET", ["pipelines", _, "pipeline-couplings"]) => {
            paginate(s.couplings.clone(), "id", range, s.page_size)
        }
        ("POST", ["pipeline-promotions"]) => {
            let request: Value = serde_json::from_slice(body).unwrap();
            let promotion = json!({
                "id": Uuid::new_v4(),
                "pipeline": request["pipeline"],
                "source": {"app": request["source"]["app"],
                           "release": request["source"].get("release").cloned().unwrap_or(json!({"id": Uuid::new_v4()}))},
                "status": "pending",
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": null,
                "targets": request["targets"],
            });
            s.promotions.push(promotion.clone());
            json_response(201, promotion)
        }
        ("GET", ["pipeline-promotions", id]) => {
            match s.promotions.iter().find(|p| p["id"] == *id) {
                Some(p) => {
                    let mut p = p.clone();
                    p["status"] = json!("completed");
                    if let Some(o) = p.as_object_mut() {
                        o.remove("targets");
                    }
                    json_response(200, p)
                }
                None => heroku_error(404, "not_found", "Couldn't find that promotion."),
            }
        }
        ("GET", ["pipeline-promotions", id, "promotion-targets"]) => {
            match s.promotions.iter().find(|p| p["id"] == *id) {
                Some(p) => {
                    let targets: Vec<Value> = p["targets"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| {
                            json!({"id": Uuid::new_v4(), "app": t["app"], "status": "succeeded",
                                   "release": {"id": Uuid::new_v4()}, "error_message": null,
                                   "pipeline_promotion": {"id": p["id"]}})
                        })
                        .collect();
                    json_response(200, Value::Array(targets))
                }
                None => heroku_error(404, "not_found", "Couldn't find that promotion."),
            }
        }
        _ => heroku_error(404, "not_found", "No such route in the fake."),
    }
}

pub(crate) fn header<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn new_job(command: &str, every: u32, at: u32) -> NewSchedulerJob {
    NewSchedulerJob {
        command: command.to_string(),
        dyno_size: "Standard-1X".to_string(),
        every,
        at,
    }
}
