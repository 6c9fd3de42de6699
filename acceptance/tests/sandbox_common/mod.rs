//! Helpers shared by the `sandbox_*` integration tests: an in-process sandbox and a
//! client that speaks Heroku's protocol to it.
#![allow(dead_code)]

use std::time::Duration;

use acceptance::sandbox::{start, RunningSandbox, SandboxConfig, DEFAULT_API_KEY};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

pub const ACCEPT_V3: &str = "application/vnd.heroku+json; version=3";
pub const STAGE: &str = "treeherder-stage";
pub const PROD: &str = "treeherder-prod";
pub const PROTOTYPE: &str = "treeherder-prototype";

/// A running sandbox plus an HTTP client.
pub struct Fixture {
    pub sandbox: RunningSandbox,
    pub http: reqwest::Client,
}

/// Config used by most tests: fast promotions.
pub fn test_config() -> SandboxConfig {
    SandboxConfig {
        promotion_delay: Duration::from_millis(150),
        ..SandboxConfig::default()
    }
}

pub async fn fixture() -> Fixture {
    fixture_with(test_config()).await
}

pub async fn fixture_with(config: SandboxConfig) -> Fixture {
    let sandbox = start(config).await.expect("sandbox starts");
    Fixture {
        sandbox,
        http: reqwest::Client::new(),
    }
}

impl Fixture {
    /// A Heroku API request with the v3 Accept header and Bearer auth.
    pub fn heroku(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.sandbox.heroku_url, path))
            .header("Accept", ACCEPT_V3)
            .bearer_auth(DEFAULT_API_KEY)
    }

    /// A Heroku API request without any protocol headers.
    pub fn raw(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.sandbox.heroku_url, path))
    }

    /// A Scheduler API request (JSON:API media type, Bearer auth).
    pub fn scheduler(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.sandbox.scheduler_url, path))
            .header("Accept", "application/vnd.api+json")
            .header("Content-Type", "application/vnd.api+json")
            .bearer_auth(DEFAULT_API_KEY)
    }

    /// A control API request.
    pub fn control(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.sandbox.control_url, path))
    }

    /// GET a Heroku path, asserting 200, returning the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.heroku(Method::GET, path).send().await.unwrap();
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// The app's id.
    pub async fn app_id(&self, app: &str) -> String {
        self.get_json(&format!("/apps/{app}"))
            .await
            .get("id")
            .and_then(Value::as_str)
            .unwrap()
            .to_string()
    }
}

/// Status and JSON body of a response.
pub async fn status_json(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Polls `check` until it yields `Some`, failing after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
