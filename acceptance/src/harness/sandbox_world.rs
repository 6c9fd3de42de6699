//! An in-process sandbox for one test (so injected faults touch no other test), the
//! environment that points the provider at it, and a cloneable handle on its APIs for hooks
//! and checks: what every Heroku-side acceptance test needs, written once.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use tfplugin_testing::Terraform;

use super::provider::{terraform_for, treeherder_provider};
use crate::sandbox::{
    self, AppLinkRequest, BuildSettings, CaughtRequest, CollaboratorLinger, DynoCrash, Fault,
    FaultSpec, Hold, HoldRequest, LoggedRequest, OneOffCommandFields, OneOffCommandRequest,
    PushRequest, ReleasePhase, RestartMode, RunningSandbox, SandboxConfig,
};

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
        terraform_for(
            &[treeherder_provider()],
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

    /// `GET` of the control API, read as `T`.
    async fn control_get<T: DeserializeOwned>(&self, path: &str) -> T {
        let answer = self
            .send(Method::GET, format!("{}{path}", self.control), None, false)
            .await;
        serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("GET {path}: unexpected answer {answer} ({e})"))
    }

    /// `POST` of `body` to the control API, the answer read as `T`.
    async fn control_post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> T {
        let body = serde_json::to_value(body).expect("control requests serialize");
        let answer = self
            .send(
                Method::POST,
                format!("{}{path}", self.control),
                Some(body),
                false,
            )
            .await;
        serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("POST {path}: unexpected answer {answer} ({e})"))
    }

    /// Injects a fault; the sandbox's record of it.
    pub async fn add_fault(&self, fault: FaultSpec) -> Fault {
        self.control_post("/faults", &fault).await
    }

    /// How long releases stay `pending`, and release phases to fail; the new setting.
    pub async fn set_release_phase(&self, phase: ReleasePhase) -> ReleasePhase {
        self.control_post("/release-phase", &phase).await
    }

    /// How long builds stay `pending`, and builds to fail; the new setting.
    pub async fn set_builds(&self, settings: BuildSettings) -> BuildSettings {
        self.control_post("/builds", &settings).await
    }

    /// Changes an app's Deploy-tab settings out of band, as in the dashboard.
    pub async fn set_app_github(&self, link: AppLinkRequest) -> Value {
        self.control_post("/github/app-link", &link).await
    }

    /// Pushes a new commit to `branch` of `repo`; the sandbox's answer names it.
    pub async fn push_commit(&self, repo: &str, branch: &str) -> Value {
        let push = PushRequest {
            repo: repo.to_string(),
            branch: branch.to_string(),
        };
        self.control_post("/github/push", &push).await
    }

    /// Unlinks (`false`) or links again (`true`) the Heroku account's GitHub account.
    pub async fn set_github_account_linked(&self, linked: bool) {
        let path = if linked {
            "/github/link-account"
        } else {
            "/github/unlink-account"
        };
        let _: Value = self.control_post(path, &serde_json::json!({})).await;
    }

    /// Releases stay `pending` for `ms` before their release phase succeeds.
    pub async fn set_release_phase_ms(&self, ms: u64) -> ReleasePhase {
        self.set_release_phase(ReleasePhase {
            ms,
            ..ReleasePhase::default()
        })
        .await
    }

    /// How the next dyno restarts behave; the new mode.
    pub async fn set_restart_mode(&self, mode: RestartMode) -> RestartMode {
        self.control_post("/dyno-restart", &mode).await
    }

    /// How dyno restarts behave now.
    pub async fn restart_mode(&self) -> RestartMode {
        self.control_get("/dyno-restart").await
    }

    /// Crashes dyno `dyno` of `app` (now and after every restart); the dyno as Heroku shows it.
    pub async fn crash_dyno(&self, app: &str, dyno: &str) -> Value {
        let crash = DynoCrash {
            app: app.to_string(),
            dyno: dyno.to_string(),
        };
        self.control_post("/dyno-crash", &crash).await
    }

    /// A removed collaborator stays listed for `gets` more GETs.
    pub async fn set_collaborator_linger(&self, gets: u32) -> CollaboratorLinger {
        self.control_post("/collaborator-linger", &CollaboratorLinger { gets })
            .await
    }

    /// What a one-off dyno running `command` prints and how it ends.
    pub async fn set_one_off_command(&self, command: &str, behaviour: OneOffCommandFields) {
        let request = OneOffCommandRequest {
            command: command.to_string(),
            behaviour,
        };
        let _: Value = self.control_post("/one-off-commands", &request).await;
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
    pub async fn requests(&self) -> Vec<LoggedRequest> {
        self.control_get("/requests").await
    }

    /// The requests that may have changed something (all but GETs), oldest first.
    pub async fn writes(&self) -> Vec<LoggedRequest> {
        let mut requests = self.requests().await;
        requests.retain(|r| r.method != "GET");
        requests
    }

    /// The commit at the head of `branch` of the sandbox's GitHub repository `repo`.
    pub async fn branch_head(&self, repo: &str, branch: &str) -> String {
        self.state().await["github"]["repos"]
            .as_array()
            .and_then(|repos| repos.iter().find(|r| r["full_name"] == repo))
            .and_then(|r| r["branches"][branch].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no branch {branch} in the sandbox's {repo}"))
    }

    /// The injected faults and how much of each is left.
    pub async fn faults(&self) -> Vec<Fault> {
        self.control_get("/faults").await
    }

    /// The holds and what each caught.
    pub async fn holds(&self) -> Vec<Hold> {
        self.control_get("/holds").await
    }

    /// Holds the answer to the next `method` request whose path starts with `path_prefix`
    /// (the request itself is performed); returns the hold's id. See
    /// [`wait_until_held`](Self::wait_until_held) and [`release_holds`](Self::release_holds).
    pub async fn hold(&self, method: &str, path_prefix: &str) -> u64 {
        let request = HoldRequest {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
        };
        let hold: Hold = self.control_post("/holds", &request).await;
        hold.id
    }

    /// Polls (every 50 ms, at most `bound`) until hold `id` caught its request; returns the
    /// request as the hold reports it (`seq`, `path`, `status`). Panics when the bound passes.
    pub async fn wait_until_held(&self, id: u64, bound: std::time::Duration) -> CaughtRequest {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let caught = self
                .holds()
                .await
                .into_iter()
                .find(|h| h.id == id)
                .and_then(|h| h.caught);
            if let Some(caught) = caught {
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
