//! `treeherder_pipeline_promotion` through real Terraform 1.0.3 against an in-process sandbox
//! (one per test, on a port chosen at run time). Build the provider first:
//! `cargo build -p terraform-provider-treeherder`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use acceptance::harness::{heroku_provider_config, State, Step, TestCase};
use acceptance::harness::{terraform_for, terraform_latest_for, treeherder_case};
use acceptance::sandbox::{start, RunningSandbox, SandboxConfig, DEFAULT_API_KEY};
use regex::Regex;
use serde_json::{json, Value};

const ACCEPT_V3: &str = "application/vnd.heroku+json; version=3";

const ADDRESS: &str = "treeherder_pipeline_promotion.prod";

/// The sandbox plus a Heroku-speaking HTTP client for checks and drift.
struct World {
    sandbox: RunningSandbox,
    http: reqwest::Client,
}

impl World {
    async fn start() -> Arc<World> {
        World::start_with(None, Duration::from_millis(300)).await
    }

    /// A sandbox loading its state from `state_file` (the seed when `None`).
    async fn start_from(state_file: Option<std::path::PathBuf>) -> Arc<World> {
        World::start_with(state_file, Duration::from_millis(300)).await
    }

    /// A sandbox whose promotions stay pending for `promotion_delay`.
    async fn start_with(
        state_file: Option<std::path::PathBuf>,
        promotion_delay: Duration,
    ) -> Arc<World> {
        let sandbox = start(SandboxConfig {
            promotion_delay,
            state_file,
            ..SandboxConfig::default()
        })
        .await
        .expect("the sandbox starts");
        Arc::new(World {
            sandbox,
            http: reqwest::Client::new(),
        })
    }

    fn case(&self) -> TestCase {
        let mut case = treeherder_case()
            .env("HEROKU_API_URL", &self.sandbox.heroku_url)
            .env("HEROKU_SCHEDULER_URL", &self.sandbox.scheduler_url)
            .env("HEROKU_API_KEY", DEFAULT_API_KEY);
        case.command_timeout = Duration::from_secs(120);
        case
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        let response = self
            .http
            .get(format!("{}{path}", self.sandbox.heroku_url))
            .header("Accept", ACCEPT_V3)
            .bearer_auth(DEFAULT_API_KEY)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {path}: HTTP {}", response.status()));
        }
        response
            .json()
            .await
            .map_err(|e| format!("GET {path}: {e}"))
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        let response = self
            .http
            .post(format!("{}{path}", self.sandbox.heroku_url))
            .header("Accept", ACCEPT_V3)
            .bearer_auth(DEFAULT_API_KEY)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("POST {path}: HTTP {}", response.status()));
        }
        response
            .json()
            .await
            .map_err(|e| format!("POST {path}: {e}"))
    }

    async fn control(&self, path: &str, body: Value) -> Result<(), String> {
        let response = self
            .http
            .post(format!("{}{path}", self.sandbox.control_url))
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("control {path}: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("control {path}: HTTP {}", response.status()))
        }
    }

    async fn app_id(&self, app: &str) -> Result<String, String> {
        Ok(str_at(&self.get(&format!("/apps/{app}")).await?, &["id"]))
    }

    async fn pipeline_id(&self, pipeline: &str) -> Result<String, String> {
        Ok(str_at(
            &self.get(&format!("/pipelines/{pipeline}")).await?,
            &["id"],
        ))
    }

    async fn releases(&self, app: &str) -> Result<Vec<Value>, String> {
        match self.get(&format!("/apps/{app}/releases")).await? {
            Value::Array(items) => Ok(items),
            other => Err(format!("releases of {app}: not a list: {other}")),
        }
    }

    async fn current_release(&self, app: &str) -> Result<Value, String> {
        self.releases(app)
            .await?
            .into_iter()
            .filter(|r| r["current"] == Value::Bool(true))
            .max_by_key(|r| r["version"].as_u64())
            .ok_or_else(|| format!("{app} has no current release"))
    }

    async fn release_by_version(&self, app: &str, version: u64) -> Result<Value, String> {
        self.get(&format!("/apps/{app}/releases/{version}")).await
    }

    /// Deploys a new slug to `app`, as a new commit would.
    async fn deploy(&self, app: &str, commit: &str) -> Result<Value, String> {
        let slug = self
            .post(
                &format!("/apps/{app}/slugs"),
                json!({"process_types": {"web": "gunicorn treeherder.config.wsgi:application"}, "commit": commit}),
            )
            .await?;
        self.post(
            &format!("/apps/{app}/releases"),
            json!({"slug": str_at(&slug, &["id"]), "description": format!("Deploy {commit}")}),
        )
        .await
    }
}

/// An error pattern: `summary`, then `detail` with any run of whitespace (Terraform wraps
/// long lines) matching each space.
fn error_like(summary: &str, detail: &str) -> Regex {
    let words = |text: &str| regex::escape(text).replace(' ', r"\s+");
    Regex::new(&format!("(?s){}.*{}", words(summary), words(detail))).unwrap()
}

fn str_at(value: &Value, path: &[&str]) -> String {
    let mut v = value;
    for key in path {
        v = &v[*key];
    }
    v.as_str().unwrap_or_default().to_string()
}

fn attr(state: &State, path: &str) -> Result<String, String> {
    state.attr_str(ADDRESS, path).ok_or_else(|| {
        format!(
            "{ADDRESS}.{path} is not set in the state: {:?}",
            state.resource(ADDRESS)
        )
    })
}

fn config(body: &str) -> String {
    format!("{}\n{body}", heroku_provider_config(2, 50))
}

fn promotion(commit: &str, extra: &str) -> String {
    config(&format!(
        r#"
resource "treeherder_pipeline_promotion" "prod" {{
  pipeline   = "treeherder"
  source_app = "treeherder-stage"
  targets    = ["treeherder-prod"]
  triggers   = {{ commit = "{commit}" }}
  {extra}
  timeouts {{
    create = "2m"
  }}
}}
"#
    ))
}

/// Asserts that prod's current release runs the slug of stage's release `source_release_id`
/// and that the state's promoted release is that current release.
async fn prod_runs(
    world: &World,
    state: &State,
    expected_source: Option<String>,
) -> Result<(), String> {
    let source_release_id = attr(state, "source_release_id")?;
    if let Some(expected) = expected_source {
        if source_release_id != expected {
            return Err(format!(
                "source_release_id {source_release_id}, expected {expected}"
            ));
        }
    }
    let source = world
        .get(&format!(
            "/apps/treeherder-stage/releases/{source_release_id}"
        ))
        .await?;
    let prod = world.current_release("treeherder-prod").await?;
    let (source_slug, prod_slug) = (
        str_at(&source, &["slug", "id"]),
        str_at(&prod, &["slug", "id"]),
    );
    if source_slug.is_empty() || source_slug != prod_slug {
        return Err(format!(
            "prod runs slug {prod_slug:?}, stage release has {source_slug:?}"
        ));
    }
    let key = "promoted_releases.treeherder-prod";
    let status = attr(state, &format!("{key}.status"))?;
    let release_id = attr(state, &format!("{key}.release_id"))?;
    let version = state
        .attr(ADDRESS, &format!("{key}.version"))
        .and_then(|v| v.as_u64());
    if status != "succeeded"
        || release_id != str_at(&prod, &["id"])
        || version != prod["version"].as_u64()
    {
        return Err(format!(
            "promoted release {release_id} v{version:?} ({status}), prod's current release is {} v{}",
            prod["id"], prod["version"]
        ));
    }
    if attr(state, "status")? != "completed" {
        return Err(format!("promotion status {:?}", attr(state, "status")));
    }
    Ok(())
}

mod adoption;
mod life_cycle;
