//! Behaviour of the Heroku client against a small in-test fake of the Platform and
//! Scheduler APIs that records every request and can inject failures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use uuid::Uuid;

use terraform_provider_treeherder::clients::heroku::{
    ApiKey, FormationUpdate, HerokuClient, HerokuConfig, HerokuError, NewOneOffDyno,
    NewSchedulerJob, PromotionStatus, PromotionTargetStatus, ReleaseStatus, TransportFailure,
};

const API_KEY: &str = "hrku-test-secret-0123456789";
const PROD_ID: &str = "6f1c1e5e-0000-4000-8000-000000000001";
const STAGE_ID: &str = "6f1c1e5e-0000-4000-8000-000000000002";
const PIPELINE_ID: &str = "7a7a7a7a-0000-4000-8000-000000000009";

fn prod_id() -> Uuid {
    Uuid::parse_str(PROD_ID).unwrap()
}

fn stage_id() -> Uuid {
    Uuid::parse_str(STAGE_ID).unwrap()
}

#[derive(Clone, Debug)]
struct Recorded {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Clone)]
enum Fault {
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

struct Injection {
    method: Method,
    path: String,
    fault: Fault,
    remaining: usize,
}

#[derive(Default)]
struct FakeState {
    requests: Vec<Recorded>,
    injections: Vec<Injection>,
    apps: Vec<(Uuid, String)>,
    jobs: HashMap<String, Vec<Value>>,
    next_job: u64,
    /// Releases per app id, ascending by version.
    releases: HashMap<String, Vec<Value>>,
    couplings: Vec<Value>,
    formations: HashMap<String, Vec<Value>>,
    promotions: Vec<Value>,
    config_vars: HashMap<String, serde_json::Map<String, Value>>,
    page_size: usize,
    rate_remaining: Option<u32>,
}

#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<FakeState>>,
    base: String,
}

impl Fake {
    async fn start() -> Fake {
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

    fn config(&self) -> HerokuConfig {
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

    fn client(&self) -> HerokuClient {
        HerokuClient::new(self.config()).unwrap()
    }

    fn inject(&self, method: Method, path: &str, fault: Fault, times: usize) {
        self.state.lock().unwrap().injections.push(Injection {
            method,
            path: path.to_string(),
            fault,
            remaining: times,
        });
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    fn count(&self, method: Method, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    fn jobs(&self, app: Uuid) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .jobs
            .get(&app.to_string())
            .cloned()
            .unwrap_or_default()
    }

    fn seed_job(&self, app: Uuid, command: &str, size: &str, every: u32, at: u32) -> String {
        let mut state = self.state.lock().unwrap();
        state.next_job += 1;
        let id = format!("{}", 880000 + state.next_job);
        let job = job_resource(&id, command, size, every, at);
        state.jobs.entry(app.to_string()).or_default().push(job);
        id
    }

    fn seed_releases(&self, app: Uuid, count: u64, current: u64) {
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

fn job_resource(id: &str, command: &str, size: &str, every: u32, at: u32) -> Value {
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

fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn heroku_error(status: u16, id: &str, message: &str) -> Response {
    json_response(status, json!({"id": id, "message": message}))
}

/// Parses the fake's own pagination: `<field> [\]<cursor>]..; max=N[,order=desc]`.
fn parse_range(range: Option<&str>) -> (usize, usize, bool) {
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
fn paginate(items: Vec<Value>, field: &str, range: Option<&str>, page_size: usize) -> Response {
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

async fn handle(
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

fn route(
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

fn header<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

fn new_job(command: &str, every: u32, at: u32) -> NewSchedulerJob {
    NewSchedulerJob {
        command: command.to_string(),
        dyno_size: "Standard-1X".to_string(),
        every,
        at,
    }
}

#[tokio::test]
async fn sends_accept_bearer_user_agent_and_fresh_request_id() {
    let fake = Fake::start().await;
    let client = fake.client();
    client.app("treeherder-prod").await.unwrap();
    client.scheduler_jobs(prod_id()).await.unwrap();
    client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap();

    let requests = fake.requests();
    assert!(requests.len() >= 3);
    let mut request_ids = std::collections::HashSet::new();
    for r in &requests {
        assert_eq!(
            header(r, "authorization"),
            Some(&*format!("Bearer {API_KEY}"))
        );
        let ua = header(r, "user-agent").unwrap();
        assert_eq!(
            ua,
            format!(
                "terraform-provider-treeherder/{}",
                env!("CARGO_PKG_VERSION")
            )
        );
        let id = Uuid::parse_str(header(r, "request-id").unwrap()).unwrap();
        assert!(request_ids.insert(id), "Request-Id reused: {id}");
        let accept = header(r, "accept").unwrap();
        if r.path.starts_with("/scheduler/") {
            assert_eq!(accept, "application/vnd.api+json");
        } else {
            assert_eq!(accept, "application/vnd.heroku+json; version=3");
        }
    }
    let post = requests.iter().find(|r| r.method == Method::POST).unwrap();
    assert_eq!(
        header(post, "content-type"),
        Some("application/vnd.api+json")
    );
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(
        body,
        json!({"data": {"type": "jobs", "attributes": {
            "command": "./manage.py cycle_data", "dyno-size": "Standard-1X", "every": 1440, "at": 0}}})
    );
}

#[tokio::test]
async fn rate_limited_request_waits_retry_after_then_succeeds() {
    let fake = Fake::start().await;
    let mut config = fake.config();
    config.max_backoff = Duration::from_secs(5);
    let client = HerokuClient::new(config).unwrap();
    fake.inject(
        Method::GET,
        "/apps/treeherder-prod",
        Fault::Answer {
            status: 429,
            headers: vec![
                ("retry-after", "1".into()),
                ("ratelimit-remaining", "0".into()),
            ],
            body: json!({"id": "rate_limit", "message": "Your account reached the API rate limit"})
                .to_string(),
        },
        1,
    );
    let started = Instant::now();
    let app = client.app("treeherder-prod").await.unwrap();
    assert_eq!(app.id, prod_id());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured"
    );
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 2);
}

#[tokio::test]
async fn rate_limited_post_is_retried_because_heroku_did_not_act() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(
        Method::POST,
        &path,
        Fault::Answer {
            status: 429,
            headers: vec![("retry-after", "0".into())],
            body: json!({"id": "rate_limit", "message": "slow down"}).to_string(),
        },
        1,
    );
    client
        .create_scheduler_job(prod_id(), &new_job("./manage.py update_bugscache", 60, 0))
        .await
        .unwrap();
    assert_eq!(fake.count(Method::POST, &path), 2);
    assert_eq!(fake.jobs(prod_id()).len(), 1);
}

#[tokio::test]
async fn exhausted_rate_limit_retries_report_the_heroku_error() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.inject(
        Method::GET,
        "/apps/treeherder-prod",
        Fault::Answer {
            status: 429,
            headers: vec![],
            body: json!({"id": "rate_limit", "message": "Your account reached the API rate limit"})
                .to_string(),
        },
        10,
    );
    let error = client.app("treeherder-prod").await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.api_id(), Some("rate_limit"));
    // First attempt plus max_retries (3).
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 4);
}

#[tokio::test]
async fn low_rate_limit_remaining_paces_following_requests() {
    let fake = Fake::start().await;
    fake.state.lock().unwrap().rate_remaining = Some(0);
    let mut config = fake.config();
    config.rate_limit_low_water = 100;
    config.rate_limit_refill_interval = Duration::from_millis(300);
    let client = HerokuClient::new(config).unwrap();
    client.app(PROD_ID).await.unwrap();
    let started = Instant::now();
    client.app(STAGE_ID).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "request after an empty bucket was not slowed down"
    );
}

#[tokio::test]
async fn server_error_is_retried_for_get() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.inject(
        Method::GET,
        "/pipelines/treeherder",
        Fault::Answer {
            status: 503,
            headers: vec![],
            body: String::new(),
        },
        2,
    );
    let pipeline = client.pipeline("treeherder").await.unwrap();
    assert_eq!(pipeline.name, "treeherder");
    assert_eq!(fake.count(Method::GET, "/pipelines/treeherder"), 3);
}

#[tokio::test]
async fn server_error_retries_are_bounded() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.inject(
        Method::GET,
        "/pipelines/treeherder",
        Fault::Answer {
            status: 503,
            headers: vec![],
            body: "<html>maintenance</html>".into(),
        },
        100,
    );
    let error = client.pipeline("treeherder").await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert!(error.outcome_unknown());
    assert_eq!(fake.count(Method::GET, "/pipelines/treeherder"), 4);
}

#[tokio::test]
async fn server_error_is_not_retried_for_promotion_post() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.inject(Method::POST, "/pipeline-promotions", Fault::LoseResponse, 1);
    let error = client
        .create_promotion(
            Uuid::parse_str(PIPELINE_ID).unwrap(),
            stage_id(),
            &[prod_id()],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert!(error.outcome_unknown());
    assert_eq!(fake.count(Method::POST, "/pipeline-promotions"), 1);
}

#[tokio::test]
async fn connection_refused_is_a_typed_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut config = HerokuConfig::new(ApiKey::new(API_KEY));
    config.api_url = format!("http://{addr}");
    config.base_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(5);
    config.max_retries = 2;
    let client = HerokuClient::new(config).unwrap();
    let error = client.app("treeherder-prod").await.unwrap_err();
    match &error {
        HerokuError::Transport { kind, .. } => assert_eq!(*kind, TransportFailure::Connect),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(!error.outcome_unknown());
    assert!(error
        .to_string()
        .starts_with("reading app on app treeherder-prod: "));
}

#[tokio::test]
async fn lost_create_response_adopts_the_created_job_without_duplicate() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(Method::POST, &path, Fault::LoseResponse, 1);
    let job = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 30))
        .await
        .unwrap();
    let stored = fake.jobs(prod_id());
    assert_eq!(stored.len(), 1, "duplicate job created: {stored:?}");
    assert_eq!(stored[0]["id"], job.id.as_str());
    assert_eq!(job.every, 1440);
    assert_eq!(job.at, Some(30));
    assert_eq!(fake.count(Method::POST, &path), 1);
}

#[tokio::test]
async fn timed_out_create_adopts_the_created_job_without_duplicate() {
    let fake = Fake::start().await;
    let mut config = fake.config();
    config.request_timeout = Duration::from_millis(300);
    let client = HerokuClient::new(config).unwrap();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(Method::POST, &path, Fault::Hang, 1);
    let job = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py update_bugscache", 60, 10))
        .await
        .unwrap();
    let stored = fake.jobs(prod_id());
    assert_eq!(stored.len(), 1, "duplicate job created: {stored:?}");
    assert_eq!(stored[0]["id"], job.id.as_str());
    assert_eq!(fake.count(Method::POST, &path), 1);
}

#[tokio::test]
async fn failed_create_without_effect_is_retried_after_checking() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(
        Method::POST,
        &path,
        Fault::Answer {
            status: 502,
            headers: vec![],
            body: String::new(),
        },
        1,
    );
    let job = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap();
    let stored = fake.jobs(prod_id());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], job.id.as_str());
    assert_eq!(fake.count(Method::POST, &path), 2);
    // One listing for the app's snapshot, one to check after the 502.
    assert_eq!(fake.count(Method::GET, &path), 2);
}

#[tokio::test]
async fn identical_job_that_existed_before_is_not_adopted() {
    let fake = Fake::start().await;
    let client = fake.client();
    let existing = fake.seed_job(prod_id(), "./manage.py cycle_data", "Standard-1X", 1440, 0);
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(Method::POST, &path, Fault::LoseResponse, 1);
    let job = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap();
    assert_ne!(job.id, existing);
    assert_eq!(fake.jobs(prod_id()).len(), 2);
    assert_eq!(fake.count(Method::POST, &path), 1);
}

fn unavailable() -> Fault {
    Fault::Answer {
        status: 503,
        headers: vec![],
        body: String::new(),
    }
}

/// Issue 9, finding 5: the answer of a create is lost and every listing fails; the POST is
/// never sent again and the error says the job may exist and how to import it.
#[tokio::test]
async fn lost_create_that_cannot_be_verified_is_not_posted_again() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    // The app's jobs are listed (once) by the first create.
    client
        .create_scheduler_job(prod_id(), &new_job("./manage.py first", 60, 0))
        .await
        .unwrap();
    fake.inject(Method::POST, &path, Fault::LoseResponse, 1);
    fake.inject(Method::GET, &path, unavailable(), 1000);
    let error = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap_err();
    assert!(
        matches!(error, HerokuError::CreateUnverified { .. }),
        "{error:?}"
    );
    assert!(error.outcome_unknown());
    let text = error.to_string();
    assert!(text.contains("may exist"), "{text}");
    assert!(text.contains("terraform import ADDRESS "), "{text}");
    assert!(text.contains(":<job id>"), "{text}");
    assert_eq!(fake.count(Method::POST, &path), 2, "one POST per create");
    assert_eq!(fake.jobs(prod_id()).len(), 2, "no duplicate");
    // 1 listing for the snapshot, then 1 + max_retries verification rounds of 4 attempts.
    assert_eq!(fake.count(Method::GET, &path), 1 + 4 * 4);
}

/// Issue 9 (performance): creates cost one request each; the app's jobs are listed once.
#[tokio::test]
async fn parallel_creates_cost_one_request_each_and_list_the_app_once() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    let creates = (0..20).map(|i| {
        let client = client.clone();
        async move {
            client
                .create_scheduler_job(prod_id(), &new_job(&format!("./manage.py job_{i}"), 60, 0))
                .await
        }
    });
    let jobs = futures::future::join_all(creates).await;
    assert!(jobs.iter().all(Result::is_ok), "{jobs:?}");
    assert_eq!(fake.count(Method::POST, &path), 20);
    assert_eq!(fake.count(Method::GET, &path), 1);
    assert_eq!(fake.jobs(prod_id()).len(), 20);
}

/// Two identical creates whose answers are both lost, in parallel: each adopts its own job.
#[tokio::test]
async fn parallel_identical_lost_creates_adopt_distinct_jobs() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    let existing = fake.seed_job(prod_id(), "./manage.py cycle_data", "Standard-1X", 1440, 0);
    fake.inject(Method::POST, &path, Fault::LoseResponse, 2);
    let job = new_job("./manage.py cycle_data", 1440, 0);
    let (a, b) = tokio::join!(
        client.create_scheduler_job(prod_id(), &job),
        client.create_scheduler_job(prod_id(), &job)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.id, b.id);
    assert!(a.id != existing && b.id != existing);
    assert_eq!(fake.jobs(prod_id()).len(), 3);
    assert_eq!(fake.count(Method::POST, &path), 2);
}

#[tokio::test]
async fn dot_segments_never_reach_the_server() {
    let fake = Fake::start().await;
    let client = fake.client();
    for name in ["", ".", ".."] {
        let error = client.app(name).await.unwrap_err();
        assert!(
            matches!(error, HerokuError::Config(_)),
            "{name:?}: {error:?}"
        );
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn plaintext_urls_to_remote_hosts_are_refused() {
    for url in ["http://api.heroku.invalid", "http://192.0.2.1:80/x"] {
        let mut config = HerokuConfig::new(ApiKey::new(API_KEY));
        config.api_url = url.to_string();
        let error = HerokuClient::new(config).unwrap_err();
        assert!(error.to_string().contains("https://"), "{error}");
        let mut config = HerokuConfig::new(ApiKey::new(API_KEY));
        config.scheduler_url = url.to_string();
        assert!(HerokuClient::new(config).is_err(), "{url}");
    }
}

#[tokio::test]
async fn releases_follow_next_range_pages() {
    let fake = Fake::start().await;
    fake.seed_releases(prod_id(), 7, 5);
    fake.state.lock().unwrap().page_size = 2;
    let client = fake.client();
    // Current release v5 lies beyond the first 25-wide window only if pages are
    // followed; with page size 2, the first page (v7, v6) has no current release.
    let current = client.current_release(prod_id()).await.unwrap();
    assert_eq!(current.version, 5);
    assert!(current.current);
    assert_eq!(current.status, ReleaseStatus::Succeeded);

    let path = format!("/apps/{PROD_ID}/releases");
    let ranges: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| header(r, "range").unwrap_or("").to_string())
        .collect();
    assert_eq!(ranges[0], "version ..; max=25,order=desc");
    // Then the full walk: first page, then exactly what Next-Range said.
    assert_eq!(ranges[1], "version ..; max=1000,order=desc");
    assert_eq!(ranges[2], "version ]2..; max=2,order=desc");
    assert_eq!(ranges[3], "version ]4..; max=2,order=desc");
    assert_eq!(ranges[4], "version ]6..; max=2,order=desc");
    assert_eq!(ranges.len(), 5);
}

#[tokio::test]
async fn releases_limit_returns_newest_first_and_release_reads_one() {
    let fake = Fake::start().await;
    fake.seed_releases(prod_id(), 4, 4);
    let client = fake.client();
    let newest = client.releases(prod_id(), 2).await.unwrap();
    assert_eq!(
        newest.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![4, 3]
    );
    let one = client.release(prod_id(), "3").await.unwrap();
    assert_eq!(one.id, newest[1].id);
    let by_id = client
        .release(prod_id(), &one.id.to_string())
        .await
        .unwrap();
    assert_eq!(by_id.version, 3);
}

#[tokio::test]
async fn couplings_list_is_paginated_and_cached() {
    let fake = Fake::start().await;
    {
        let mut s = fake.state.lock().unwrap();
        s.page_size = 1;
        for (id, name, stage) in [
            (STAGE_ID, "treeherder-stage", "staging"),
            (PROD_ID, "treeherder-prod", "production"),
        ] {
            s.couplings.push(
                json!({"id": Uuid::new_v4(), "app": {"id": id, "name": name},
                                   "pipeline": {"id": PIPELINE_ID, "name": "treeherder"},
                                   "stage": stage}),
            );
        }
    }
    let client = fake.client();
    let pipeline_id = Uuid::parse_str(PIPELINE_ID).unwrap();
    let couplings = client.pipeline_couplings(pipeline_id).await.unwrap();
    assert_eq!(couplings.len(), 2);
    assert_eq!(couplings[1].stage, "production");
    assert_eq!(couplings[1].app.id, prod_id());
    client.pipeline_couplings(pipeline_id).await.unwrap();
    let path = format!("/pipelines/{PIPELINE_ID}/pipeline-couplings");
    assert_eq!(fake.count(Method::GET, &path), 2, "two pages, then cached");
    // The couplings taught the client the app names.
    assert_eq!(client.app_label(prod_id()), "treeherder-prod");
}

#[tokio::test]
async fn concurrent_identical_job_listings_share_one_request() {
    let fake = Fake::start().await;
    fake.seed_job(
        prod_id(),
        "./manage.py update_bugscache",
        "Standard-1X",
        60,
        0,
    );
    let client = fake.client();
    let calls = (0..50).map(|_| client.scheduler_jobs(prod_id()));
    let results = futures::future::join_all(calls).await;
    for result in &results {
        let jobs = result.as_ref().unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].command, "./manage.py update_bugscache");
    }
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    assert_eq!(fake.count(Method::GET, &path), 1);
}

#[tokio::test]
async fn concurrent_listings_from_spawned_tasks_share_one_request() {
    let fake = Fake::start().await;
    let client = fake.client();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = client.clone();
        tasks.push(tokio::spawn(
            async move { client.formations(prod_id()).await },
        ));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // Completed calls are cached, in-flight ones joined: either way one request.
    assert_eq!(
        fake.count(Method::GET, &format!("/apps/{PROD_ID}/formation")),
        1
    );
}

#[tokio::test]
async fn job_list_cache_is_invalidated_by_writes_to_the_app() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    let stage_path = format!("/scheduler/apps/{STAGE_ID}/jobs");
    assert!(client.scheduler_jobs(prod_id()).await.unwrap().is_empty());
    client.scheduler_jobs(stage_id()).await.unwrap();
    client.scheduler_jobs(prod_id()).await.unwrap();
    assert_eq!(fake.count(Method::GET, &path), 1);

    let created = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap();
    let gets_after_create = fake.count(Method::GET, &path);
    let jobs = client.scheduler_jobs(prod_id()).await.unwrap();
    assert_eq!(jobs, vec![created.clone()]);
    assert_eq!(fake.count(Method::GET, &path), gets_after_create + 1);
    // Another app's cache is untouched.
    client.scheduler_jobs(stage_id()).await.unwrap();
    assert_eq!(fake.count(Method::GET, &stage_path), 1);

    let updated = client
        .update_scheduler_job(
            prod_id(),
            &created.id,
            &new_job("./manage.py cycle_data --days 30", 1440, 60),
        )
        .await
        .unwrap();
    assert_eq!(updated.command, "./manage.py cycle_data --days 30");
    assert_eq!(updated.at, Some(60));
    let patch = fake
        .requests()
        .into_iter()
        .find(|r| r.method == Method::PATCH)
        .unwrap();
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(body["data"]["id"], created.id.as_str());
    assert_eq!(body["data"]["type"], "jobs");
    assert_eq!(
        client.scheduler_job(prod_id(), &created.id).await.unwrap(),
        Some(updated)
    );

    client
        .delete_scheduler_job(prod_id(), &created.id)
        .await
        .unwrap();
    assert!(client.scheduler_jobs(prod_id()).await.unwrap().is_empty());
    let again = client
        .delete_scheduler_job(prod_id(), &created.id)
        .await
        .unwrap_err();
    assert!(again.is_not_found());
}

#[tokio::test]
async fn app_names_resolve_to_ids_once() {
    let fake = Fake::start().await;
    let client = fake.client();
    assert_eq!(
        client.resolve_app_id("treeherder-prod").await.unwrap(),
        prod_id()
    );
    assert_eq!(
        client.resolve_app_id("treeherder-prod").await.unwrap(),
        prod_id()
    );
    assert_eq!(client.resolve_app_id(STAGE_ID).await.unwrap(), stage_id());
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 1);
    assert_eq!(fake.requests().len(), 1, "a UUID needs no lookup");
    assert_eq!(client.app_label(prod_id()), "treeherder-prod");
    // The app itself is served from the cache filled by the lookup.
    let app = client.app("treeherder-prod").await.unwrap();
    assert_eq!(app.name, "treeherder-prod");
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 1);
    // A write to the app drops it from the cache.
    client.invalidate_app(prod_id());
    client.app("treeherder-prod").await.unwrap();
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 2);
}

#[tokio::test]
async fn errors_carry_heroku_id_message_action_and_app() {
    let fake = Fake::start().await;
    let client = fake.client();
    client.resolve_app_id("treeherder-prod").await.unwrap();
    let error = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 15, 0))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "creating scheduler job on app treeherder-prod: invalid_params: every must be one of 10, 60, 1440"
    );
    assert_eq!(error.status(), Some(422));
    assert!(!error.is_not_found());
    let context = error.context().unwrap();
    assert_eq!(context.action, "creating scheduler job");
    assert_eq!(context.app.as_deref(), Some("treeherder-prod"));

    fake.inject(
        Method::POST,
        &format!("/scheduler/apps/{PROD_ID}/jobs"),
        Fault::Answer {
            status: 400,
            headers: vec![],
            body: json!({"errors": [{"detail": "Check out http://jsonapi.org/format/#crud for more info.",
                                     "source": {"pointer": "/data/type"}, "status": "400",
                                     "title": "Missing type in data parameter"}]})
            .to_string(),
        },
        1,
    );
    let error = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 10, 0))
        .await
        .unwrap_err();
    assert_eq!(error.api_id(), Some("bad_request"));
    assert_eq!(
        error.api_message(),
        Some("Missing type in data parameter (Check out http://jsonapi.org/format/#crud for more info.)")
    );

    let missing = client.app("treeherder-nope").await.unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(missing.api_id(), Some("not_found"));
    assert_eq!(missing.api_message(), Some("Couldn't find that app."));
    assert_eq!(
        missing.to_string(),
        "reading app on app treeherder-nope: not_found: Couldn't find that app."
    );
}

#[tokio::test]
async fn api_key_never_appears_in_debug_or_errors() {
    let fake = Fake::start().await;
    let config = fake.config();
    assert!(!format!("{config:?}").contains(API_KEY));
    assert!(format!("{config:?}").contains("<redacted>"));
    let client = HerokuClient::new(config).unwrap();
    assert!(!format!("{client:?}").contains(API_KEY));
    fake.inject(
        Method::GET,
        "/apps/treeherder-prod",
        Fault::Answer {
            status: 401,
            headers: vec![],
            body: json!({"id": "unauthorized", "message": "Invalid credentials provided."})
                .to_string(),
        },
        1,
    );
    let error = client.app("treeherder-prod").await.unwrap_err();
    assert_eq!(error.api_id(), Some("unauthorized"));
    assert!(!error.to_string().contains(API_KEY));
    assert!(!format!("{error:?}").contains(API_KEY));
    assert_eq!(
        fake.count(Method::GET, "/apps/treeherder-prod"),
        1,
        "401 is not retried"
    );

    let mut bad = fake.config();
    bad.api_key = ApiKey::new("line\nbreak");
    let error = HerokuClient::new(bad).unwrap_err();
    assert!(!error.to_string().contains("line\nbreak"));
}

#[tokio::test]
async fn promotion_is_created_with_the_schema_body_and_read_back() {
    let fake = Fake::start().await;
    let client = fake.client();
    let pipeline_id = Uuid::parse_str(PIPELINE_ID).unwrap();
    let release_id = Uuid::new_v4();
    let promotion = client
        .create_promotion(pipeline_id, stage_id(), &[prod_id()], Some(release_id))
        .await
        .unwrap();
    assert_eq!(promotion.status, PromotionStatus::Pending);
    assert_eq!(promotion.source.release.map(|r| r.id), Some(release_id));
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.method == Method::POST)
        .unwrap();
    assert_eq!(header(&post, "content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(
        body,
        json!({"pipeline": {"id": PIPELINE_ID},
               "source": {"app": {"id": STAGE_ID}, "release": {"id": release_id}},
               "targets": [{"app": {"id": PROD_ID}}]})
    );

    let read = client.promotion(promotion.id).await.unwrap();
    assert_eq!(read.status, PromotionStatus::Completed);
    let targets = client.promotion_targets(promotion.id).await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].app.id, prod_id());
    assert_eq!(targets[0].status, PromotionTargetStatus::Succeeded);
    assert!(targets[0].release.is_some());

    // Without a release, the field is left out (Heroku then uses the current one).
    client
        .create_promotion(pipeline_id, stage_id(), &[prod_id()], None)
        .await
        .unwrap();
    let posts: Vec<Recorded> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == Method::POST)
        .collect();
    let body: Value = serde_json::from_slice(&posts[1].body).unwrap();
    assert_eq!(body["source"], json!({"app": {"id": STAGE_ID}}));
}

#[tokio::test]
async fn formations_are_listed_and_updated_with_dyno_size_name() {
    let fake = Fake::start().await;
    fake.state.lock().unwrap().formations.insert(
        PROD_ID.to_string(),
        vec![
            json!({"id": Uuid::new_v4(), "type": "web", "quantity": 1, "size": "Standard-1X",
                    "dyno_size": {"id": Uuid::new_v4(), "name": "Standard-1X"},
                    "command": "gunicorn", "app": {"id": PROD_ID, "name": "treeherder-prod"}}),
        ],
    );
    let client = fake.client();
    let formations = client.formations(prod_id()).await.unwrap();
    assert_eq!(formations[0].process_type, "web");
    assert_eq!(formations[0].size_name(), Some("Standard-1X"));
    let updated = client
        .update_formation(
            prod_id(),
            "web",
            &FormationUpdate::new(Some(3), Some("Standard-2X")),
        )
        .await
        .unwrap();
    assert_eq!(updated.quantity, 3);
    let patch = fake
        .requests()
        .into_iter()
        .find(|r| r.method == Method::PATCH)
        .unwrap();
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(
        body,
        json!({"quantity": 3, "dyno_size": {"name": "Standard-2X"}})
    );
    // The write invalidated the cached list.
    assert_eq!(client.formations(prod_id()).await.unwrap()[0].quantity, 3);
    assert_eq!(
        fake.count(Method::GET, &format!("/apps/{PROD_ID}/formation")),
        2
    );
}

#[tokio::test]
async fn restarts_one_off_dynos_and_rollbacks_use_the_documented_endpoints() {
    let fake = Fake::start().await;
    fake.seed_releases(prod_id(), 3, 3);
    let client = fake.client();
    client.restart_dynos(prod_id(), None).await.unwrap();
    client.restart_dynos(prod_id(), Some("web")).await.unwrap();
    assert_eq!(
        fake.count(Method::DELETE, &format!("/apps/{PROD_ID}/dynos")),
        1
    );
    assert_eq!(
        fake.count(Method::DELETE, &format!("/apps/{PROD_ID}/formations/web")),
        1
    );

    let dyno = client
        .run_one_off_dyno(
            prod_id(),
            &NewOneOffDyno {
                command: "./manage.py clear_cache".into(),
                size: Some("standard-2X".into()),
                ..NewOneOffDyno::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(dyno.name, "run.4242");
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.method == Method::POST)
        .unwrap();
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(
        body,
        json!({"command": "./manage.py clear_cache", "size": "standard-2X", "attach": false})
    );

    let before = client.current_release(prod_id()).await.unwrap();
    let target = client.release(prod_id(), "2").await.unwrap();
    let rollback = client.rollback(prod_id(), target.id).await.unwrap();
    assert_eq!(rollback.version, 4);
    assert_eq!(rollback.status, ReleaseStatus::Pending);
    let posts: Vec<Recorded> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == Method::POST && r.path.ends_with("/releases"))
        .collect();
    let body: Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(body, json!({"release": target.id}));
    // The rollback invalidated the cached releases: the new one is seen.
    assert_ne!(
        client.current_release(prod_id()).await.unwrap().id,
        before.id
    );
}
