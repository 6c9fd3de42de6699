//! An in-process sandbox for one test (so injected faults touch no other test), the
//! environment that points the provider at it, and a cloneable handle on its APIs for hooks
//! and checks: what every Heroku-side acceptance test needs, written once.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;

use super::provider::ProviderUnderTest;
use super::terraform::Terraform;
use crate::sandbox::{self, RunningSandbox, SandboxConfig};

/// Heroku's API version header, which the sandbox (like Heroku) requires.
const ACCEPT: &str = "application/vnd.heroku+json; version=3";
/// The Scheduler API's media type.
const JSON_API: &str = "application/vnd.api+json";

/// A running sandbox and the API key it accepts.
pub struct SandboxWorld {
    sandbox: RunningSandbox,
    api_key: String,
    http: reqwest::Client,
}

impl SandboxWorld {
    /// A sandbox from the seed, accepting only `api_key` (make it 8 characters or more, so
    /// the harness treats it as a secret and scans every log for it).
    pub async fn start(api_key: &str) -> SandboxWorld {
        SandboxWorld::start_with(SandboxConfig {
            api_key: api_key.to_string(),
            ..SandboxConfig::default()
        })
        .await
    }

    /// A sandbox with `config`.
    pub async fn start_with(config: SandboxConfig) -> SandboxWorld {
        let api_key = config.api_key.clone();
        let sandbox = sandbox::start(config).await.expect("the sandbox starts");
        SandboxWorld {
            sandbox,
            api_key,
            http: reqwest::Client::new(),
        }
    }

    /// The environment that gives the provider this sandbox.
    pub fn env(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "HEROKU_API_URL".to_string(),
                self.sandbox.heroku_url.clone(),
            ),
            (
                "HEROKU_SCHEDULER_URL".to_string(),
                self.sandbox.scheduler_url.clone(),
            ),
            (
                "HEROKU_GITHUB_INTEGRATION_URL".to_string(),
                self.sandbox.github_integration_url.clone(),
            ),
            (
                "HEROKU_GITHUB_API_URL".to_string(),
                self.sandbox.github_api_url.clone(),
            ),
            ("HEROKU_API_KEY".to_string(), self.api_key.clone()),
        ])
    }

    /// A Terraform for the provider under test against this sandbox, scanning every log for
    /// the API key.
    pub fn terraform(&self) -> Terraform {
        Terraform::new(
            &[ProviderUnderTest::treeherder()],
            self.env(),
            vec![self.api_key.clone()],
        )
        .expect("terraform")
    }

    /// The sandbox itself (its URLs).
    pub fn sandbox(&self) -> &RunningSandbox {
        &self.sandbox
    }

    /// A handle on the sandbox's APIs, for hooks and checks.
    pub fn handle(&self) -> SandboxControl {
        SandboxControl {
            http: self.http.clone(),
            api_key: self.api_key.clone(),
            heroku: self.sandbox.heroku_url.clone(),
            scheduler: self.sandbox.scheduler_url.clone(),
            control: self.sandbox.control_url.clone(),
        }
    }
}

/// A cloneable handle on the sandbox's Platform, Scheduler and control APIs. Every call
/// panics with the request and the answer when the sandbox refuses it: a test's own setup
/// failing is a failed test.
#[derive(Clone)]
pub struct SandboxControl {
    http: reqwest::Client,
    api_key: String,
    heroku: String,
    scheduler: String,
    control: String,
}

impl SandboxControl {
    async fn send(&self, method: Method, url: String, body: Option<Value>, auth: bool) -> Value {
        let mut request = self.http.request(method.clone(), &url);
        if auth {
            request = request.bearer_auth(&self.api_key).header("Accept", ACCEPT);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the sandbox answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {url}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A Platform API call, authenticated as the provider is (a change made behind
    /// Terraform's back, or a look at what Heroku holds).
    pub async fn heroku(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.send(method, format!("{}{path}", self.heroku), body, true)
            .await
    }

    /// A Scheduler API call, authenticated, in its JSON:API dialect (as the dashboard makes
    /// them, behind Terraform's back).
    pub async fn scheduler(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.scheduler);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.api_key)
            .header("Accept", JSON_API)
            .header("Content-Type", JSON_API);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.expect("the sandbox answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {url}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// `GET` of the control API (`/state`, `/requests`, `/faults`, ...).
    pub async fn control_get(&self, path: &str) -> Value {
        self.send(Method::GET, format!("{}{path}", self.control), None, false)
            .await
    }

    /// `POST` to the control API (fault injection, release phases, resets).
    pub async fn control_post(&self, path: &str, body: Value) -> Value {
        self.send(
            Method::POST,
            format!("{}{path}", self.control),
            Some(body),
            false,
        )
        .await
    }

    /// The whole sandbox state.
    pub async fn state(&self) -> Value {
        self.control_get("/state").await
    }

    /// The app called `name` in the sandbox state.
    pub async fn app(&self, name: &str) -> Value {
        let state = self.state().await;
        state["apps"]
            .as_array()
            .and_then(|apps| apps.iter().find(|a| a["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no app {name} in the sandbox"))
    }

    /// The requests the sandbox served, oldest first.
    pub async fn requests(&self) -> Vec<Value> {
        self.control_get("/requests")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The injected faults and how much of each is left.
    pub async fn faults(&self) -> Vec<Value> {
        self.control_get("/faults")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Holds the answer to the next `method` request whose path starts with `path_prefix`
    /// (the request itself is performed); returns the hold's id. See
    /// [`wait_until_held`](Self::wait_until_held) and [`release_holds`](Self::release_holds).
    pub async fn hold(&self, method: &str, path_prefix: &str) -> u64 {
        let hold = self
            .control_post(
                "/holds",
                serde_json::json!({ "method": method, "path_prefix": path_prefix }),
            )
            .await;
        hold["id"].as_u64().expect("the sandbox names the hold")
    }

    /// Polls (every 50 ms, at most `bound`) until hold `id` caught its request; returns the
    /// request as the hold reports it (`seq`, `path`, `status`). Panics when the bound passes.
    pub async fn wait_until_held(&self, id: u64, bound: std::time::Duration) -> Value {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let holds = self.control_get("/holds").await;
            let caught = holds
                .as_array()
                .and_then(|all| all.iter().find(|h| h["id"] == id))
                .map(|h| h["caught"].clone())
                .unwrap_or(Value::Null);
            if !caught.is_null() {
                return caught;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "hold {id} caught no request within {bound:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Sends every held answer and drops every hold.
    pub async fn release_holds(&self) {
        self.send(
            Method::DELETE,
            format!("{}/holds", self.control),
            None,
            false,
        )
        .await;
    }

    /// Forgets the requests served so far (to count those of one step).
    pub async fn clear_requests(&self) {
        self.send(
            Method::DELETE,
            format!("{}/requests", self.control),
            None,
            false,
        )
        .await;
    }
}
