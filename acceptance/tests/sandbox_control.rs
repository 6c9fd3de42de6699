//! Scheduler API, control API (faults, request log, reset) and persistence.

mod sandbox_common;

use std::time::Duration;

use acceptance::sandbox::{start, SandboxConfig};
use reqwest::Method;
use sandbox_common::*;
use serde_json::{json, Value};

fn job_doc(command: &str, every: i64, at: i64) -> Value {
    json!({ "data": { "type": "jobs", "attributes": {
        "command": command, "dyno-size": "Standard-1X", "every": every, "at": at,
    }}})
}

#[tokio::test]
async fn scheduler_crud_and_errors() {
    let f = fixture().await;
    let app = f.app_id(PROD).await;
    let path = format!("/apps/{app}/jobs");

    let (status, body) = status_json(f.scheduler(Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let commands: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["attributes"]["command"].as_str())
        .collect();
    assert_eq!(
        commands,
        [
            "./manage.py update_bugscache",
            "./manage.py cycle_data",
            "./manage.py run_intermittents_commenter"
        ]
    );
    assert_eq!(body["data"][0]["type"], "jobs");
    assert_eq!(body["data"][0]["attributes"]["every"], 60);

    // Create.
    let (status, created) = status_json(
        f.scheduler(Method::POST, &path)
            .json(&job_doc("./manage.py clear_cache", 1440, 330))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["data"]["attributes"]["at"], 330);

    // Update (herokux puts the app id in data.id; that must be accepted).
    let (status, updated) = status_json(
        f.scheduler(Method::PATCH, &format!("{path}/{id}"))
            .json(&json!({ "data": { "id": app, "type": "jobs", "attributes": { "every": 60, "at": 20, "dyno-size": "standard-2x" } } }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(updated["data"]["attributes"]["every"], 60);
    assert_eq!(updated["data"]["attributes"]["dyno-size"], "Standard-2X");
    assert_eq!(
        updated["data"]["attributes"]["command"],
        "./manage.py clear_cache"
    );

    // Missing data.type → 400 JSON:API error.
    let (status, body) = status_json(
        f.scheduler(Method::POST, &path)
            .json(&json!({ "data": { "attributes": { "command": "x", "every": 10, "at": 0 } } }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["status"], "400");
    assert_eq!(body["errors"][0]["title"], "Missing type in data parameter");
    assert_eq!(body["errors"][0]["source"]["pointer"], "/data/type");

    // Invalid every / at → 422.
    for (every, at) in [(15, 0), (60, 15), (1440, 1440), (10, 5)] {
        let (status, body) = status_json(
            f.scheduler(Method::POST, &path)
                .json(&job_doc("x", every, at))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 422, "every={every} at={at}");
        assert_eq!(body["errors"][0]["status"], "422");
    }
    // Malformed JSON → 400; no auth → 401; unknown app / job → 404.
    let resp = f
        .scheduler(Method::POST, &path)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = f
        .http
        .get(format!("{}{path}", f.sandbox.scheduler_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = f
        .scheduler(Method::GET, "/apps/treeherder-prod/jobs")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = f
        .scheduler(Method::DELETE, &format!("{path}/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Delete.
    let resp = f
        .scheduler(Method::DELETE, &format!("{path}/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (_, body) = status_json(f.scheduler(Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn faults_with_and_without_after_effect() {
    let f = fixture().await;
    let vars = format!("/apps/{STAGE}/config-vars");

    // Plain fault: the request fails and nothing happens.
    let resp = f
        .control(Method::POST, "/faults")
        .json(&json!({ "api": "heroku", "status": 503, "count": 1, "path_prefix": vars, "method": "PATCH", "retry_after": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = f
        .heroku(Method::PATCH, &vars)
        .json(&json!({ "FAULTED": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["retry-after"], "1");
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 503);
    assert!(body["id"].is_string() && body["message"].is_string());
    assert!(f.get_json(&vars).await.get("FAULTED").is_none());

    // After-effect fault: the change happens, the answer is lost.
    f.control(Method::POST, "/faults")
        .json(
            &json!({ "status": 500, "path_prefix": vars, "method": "PATCH", "after_effect": true }),
        )
        .send()
        .await
        .unwrap();
    let resp = f
        .heroku(Method::PATCH, &vars)
        .json(&json!({ "LOST": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(f.get_json(&vars).await["LOST"], "1");

    // Count is respected: the next request succeeds.
    let resp = f
        .heroku(Method::PATCH, &vars)
        .json(&json!({ "OK": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // 429 fault on the Scheduler API with after_effect: the job exists afterwards.
    let app = f.app_id(STAGE).await;
    f.control(Method::POST, "/faults")
        .json(&json!({ "api": "scheduler", "status": 429, "method": "POST", "after_effect": true, "path_prefix": "/apps/" }))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(
        f.scheduler(Method::POST, &format!("/apps/{app}/jobs"))
            .json(&job_doc("./manage.py lost", 10, 0))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["errors"][0]["status"], "429");
    let (_, jobs) = status_json(
        f.scheduler(Method::GET, &format!("/apps/{app}/jobs"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(jobs["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["attributes"]["command"] == "./manage.py lost"));

    // Invalid fault specs are rejected.
    let resp = f
        .control(Method::POST, "/faults")
        .json(&json!({ "status": 200 }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn request_log_latency_and_reset() {
    let f = fixture().await;
    // The control root answers (scripts use it as a liveness probe).
    let resp = f.control(Method::GET, "/").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    f.control(Method::DELETE, "/requests").send().await.unwrap();
    f.heroku(Method::PATCH, &format!("/apps/{STAGE}/config-vars?x=1"))
        .json(&json!({ "LOGGED": "yes" }))
        .send()
        .await
        .unwrap();
    let app = f.app_id(STAGE).await;
    f.scheduler(Method::GET, &format!("/apps/{app}/jobs"))
        .send()
        .await
        .unwrap();
    let log: Vec<Value> = f
        .control(Method::GET, "/requests")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["api"], "heroku");
    assert_eq!(log[0]["method"], "PATCH");
    assert_eq!(log[0]["path"], format!("/apps/{STAGE}/config-vars"));
    assert_eq!(log[0]["query"], "x=1");
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["body"]["LOGGED"], "yes");
    assert!(log[0]["timestamp"].is_string());
    assert_eq!(log[2]["api"], "scheduler");

    // Latency delays answers.
    f.control(Method::POST, "/latency")
        .json(&json!({ "ms": 200 }))
        .send()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    f.get_json("/apps").await;
    assert!(started.elapsed() >= Duration::from_millis(200));

    // Reset restores the seed and clears latency.
    let resp = f.control(Method::POST, "/reset").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let vars = f.get_json(&format!("/apps/{STAGE}/config-vars")).await;
    assert!(vars.get("LOGGED").is_none());
    let state: Value = f
        .control(Method::GET, "/state")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["apps"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn state_survives_restart_and_addr_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    let addr_file = dir.path().join("addr");
    let config = SandboxConfig {
        state_file: Some(state_file.clone()),
        addr_file: Some(addr_file.clone()),
        ..test_config()
    };
    // A long delay keeps the promotion below pending across the restart.
    let f = fixture_with(SandboxConfig {
        promotion_delay: Duration::from_secs(30),
        ..config.clone()
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(&addr_file).unwrap(),
        f.sandbox.heroku_url
    );
    f.heroku(Method::PATCH, &format!("/apps/{PROD}/config-vars"))
        .json(&json!({ "PERSISTED": "yes" }))
        .send()
        .await
        .unwrap();
    let app = f.app_id(PROD).await;
    let (status, job) = status_json(
        f.scheduler(Method::POST, &format!("/apps/{app}/jobs"))
            .json(&job_doc("./manage.py persisted", 10, 0))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    // A promotion still pending at shutdown settles after the restart.
    let pipeline = f.get_json("/pipelines/treeherder").await;
    let promotion: Value = f
        .heroku(Method::POST, "/pipeline-promotions")
        .json(&json!({
            "pipeline": { "id": pipeline["id"] },
            "source": { "app": { "id": f.app_id(STAGE).await } },
            "targets": [ { "app": { "id": app } } ],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let Fixture { sandbox, .. } = f;
    sandbox.stop().await.unwrap();
    // Only the state file and the address file: no temporary leftovers.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    let saved: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    let pending = saved["promotions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == promotion["id"] && p["status"] == "pending");
    assert!(pending, "promotion saved as pending");

    let f = fixture_with(config.clone()).await;
    let vars = f.get_json(&format!("/apps/{PROD}/config-vars")).await;
    assert_eq!(vars["PERSISTED"], "yes");
    let (_, jobs) = status_json(
        f.scheduler(Method::GET, &format!("/apps/{app}/jobs"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(jobs["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["id"] == job["data"]["id"]));
    let id = promotion["id"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(10), "resumed promotion", || async {
        let p = f.get_json(&format!("/pipeline-promotions/{id}")).await;
        (p["status"] == "completed").then_some(())
    })
    .await;
    let Fixture { sandbox, .. } = f;
    sandbox.stop().await.unwrap();

    // --reset starts from the seed again.
    let f = fixture_with(SandboxConfig {
        reset: true,
        ..config
    })
    .await;
    let vars = f.get_json(&format!("/apps/{PROD}/config-vars")).await;
    assert!(vars.get("PERSISTED").is_none());
}

#[tokio::test]
async fn corrupt_state_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    std::fs::write(&state_file, "not json").unwrap();
    let err = start(SandboxConfig {
        state_file: Some(state_file),
        ..test_config()
    })
    .await
    .err()
    .expect("start fails");
    assert!(err.to_string().contains("state file"), "{err}");
}
