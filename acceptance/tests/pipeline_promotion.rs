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

/// Create and wait, empty plans, import by id, a trigger change makes a new promotion of a new
/// stage release, an explicit older release_id, and destroy leaves prod's release in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_lifecycle_import_triggers_release_id_and_destroy() {
    let world = World::start().await;
    let prod_before = world.current_release("treeherder-prod").await.unwrap();
    let stage_v2 = str_at(
        &world
            .release_by_version("treeherder-stage", 2)
            .await
            .unwrap(),
        &["id"],
    );
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();

    let w1 = Arc::clone(&world);
    let ids1 = Arc::clone(&ids);
    let w3 = Arc::clone(&world);
    let ids3 = Arc::clone(&ids);
    let w4 = Arc::clone(&world);
    let ids4 = Arc::clone(&ids);
    let ids5 = Arc::clone(&ids);
    let w_deploy = Arc::clone(&world);
    let w_destroy = Arc::clone(&world);
    let prod_version_before = prod_before["version"].as_u64().unwrap();
    let stage_v2_check = stage_v2.clone();

    world
        .case()
        // 1. Promote stage's current release and wait: prod now runs stage's slug.
        .step(
            Step::config(promotion("aaa111", "")).check_async(move |state| {
                let world = Arc::clone(&w1);
                let ids = Arc::clone(&ids1);
                async move {
                    let stage = world.current_release("treeherder-stage").await?;
                    prod_runs(&world, &state, Some(str_at(&stage, &["id"]))).await?;
                    let prod = world.current_release("treeherder-prod").await?;
                    if prod["version"].as_u64() != Some(prod_version_before + 1) {
                        return Err(format!(
                            "expected exactly one new prod release, got v{}",
                            prod["version"]
                        ));
                    }
                    ids.lock().unwrap().push(attr(&state, "id")?);
                    Ok::<(), String>(())
                }
            }),
        )
        // 2. Import by promotion id: arguments come back as names (documented), keys too; only
        //    what Heroku does not record (triggers) differs.
        .step(
            Step::import(ADDRESS)
                .verify_import(["triggers"])
                .check(move |state| {
                    let expect = |path: &str, want: &str| -> Result<(), String> {
                        let got = attr(state, path)?;
                        if got == want {
                            Ok(())
                        } else {
                            Err(format!("imported {path} = {got:?}, want {want:?}"))
                        }
                    };
                    expect("pipeline", "treeherder")?;
                    expect("source_app", "treeherder-stage")?;
                    expect("targets.0", "treeherder-prod")?;
                    expect("promoted_releases.treeherder-prod.status", "succeeded")?;
                    if state
                        .attr(ADDRESS, "release_id")
                        .is_some_and(|v| !v.is_null())
                    {
                        return Err("import must leave release_id null".to_string());
                    }
                    Ok::<(), String>(())
                }),
        )
        // 3. A new commit on stage and a new trigger value: a replacement, i.e. a new promotion.
        .step(
            Step::config(promotion("bbb222", ""))
                .pre_step_async(move || {
                    let world = Arc::clone(&w_deploy);
                    async move { world.deploy("treeherder-stage", "bbb222").await.map(|_| ()) }
                })
                .plan_check(|plan| {
                    let change = plan.change(ADDRESS).ok_or("no change planned")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!("expected a replacement, got {:?}", change.actions));
                    }
                    Ok::<(), String>(())
                })
                .check_async(move |state| {
                    let world = Arc::clone(&w3);
                    let ids = Arc::clone(&ids3);
                    async move {
                        let stage = world.current_release("treeherder-stage").await?;
                        if !str_at(&stage, &["description"]).contains("bbb222") {
                            return Err(format!(
                                "stage's current release is not the new deploy: {stage}"
                            ));
                        }
                        prod_runs(&world, &state, Some(str_at(&stage, &["id"]))).await?;
                        let id = attr(&state, "id")?;
                        if ids.lock().unwrap().contains(&id) {
                            return Err(format!("promotion id {id} was reused"));
                        }
                        ids.lock().unwrap().push(id);
                        Ok::<(), String>(())
                    }
                }),
        )
        // 4. An explicit, older release of stage.
        .step(
            Step::config(promotion("bbb222", &format!("release_id = \"{stage_v2}\"")))
                .plan_check(|plan| {
                    let change = plan.change(ADDRESS).ok_or("no change planned")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!("expected a replacement, got {:?}", change.actions));
                    }
                    Ok::<(), String>(())
                })
                .check_async(move |state| {
                    let world = Arc::clone(&w4);
                    let ids = Arc::clone(&ids4);
                    let stage_v2 = stage_v2_check.clone();
                    async move {
                        prod_runs(&world, &state, Some(stage_v2.clone())).await?;
                        if attr(&state, "release_id")? != stage_v2 {
                            return Err("release_id not kept as written".to_string());
                        }
                        ids.lock().unwrap().push(attr(&state, "id")?);
                        Ok::<(), String>(())
                    }
                }),
        )
        // 5. Only the create timeout changes: an in-place update, the same promotion.
        .step(
            Step::config(
                promotion("bbb222", &format!("release_id = \"{stage_v2}\""))
                    .replace(r#"create = "2m""#, r#"create = "3m""#),
            )
            .plan_check(|plan| {
                let change = plan.change(ADDRESS).ok_or("no change planned")?;
                if change.actions != ["update"] || change.changed_attributes().len() != 1 {
                    return Err(format!(
                        "expected an update of timeouts only, got {:?} of {:?}",
                        change.actions,
                        change.changed_attributes()
                    ));
                }
                Ok::<(), String>(())
            })
            .check(move |state| {
                let id = attr(state, "id")?;
                if ids5.lock().unwrap().last() != Some(&id) {
                    return Err(format!("a timeouts change replaced the promotion ({id})"));
                }
                Ok::<(), String>(())
            }),
        )
        // Destroy only forgets: prod keeps running stage v2's slug and nothing was deleted.
        .check_destroy_async(move |last| {
            let world = Arc::clone(&w_destroy);
            async move {
                if last.resource(ADDRESS).is_none() {
                    return Err("the promotion was not in the state before destroy".to_string());
                }
                let prod = world.current_release("treeherder-prod").await?;
                let v2 = world.release_by_version("treeherder-stage", 2).await?;
                if str_at(&prod, &["slug", "id"]) != str_at(&v2, &["slug", "id"]) {
                    return Err(format!(
                        "after destroy prod runs {prod}, expected stage v2's slug"
                    ));
                }
                let promotion_id = attr(&last, "id")?;
                let promotion = world
                    .get(&format!("/pipeline-promotions/{promotion_id}"))
                    .await?;
                if promotion["status"] != "completed" {
                    return Err(format!("promotion after destroy: {promotion}"));
                }
                Ok::<(), String>(())
            }
        })
        .run()
        .await;
    assert_eq!(ids.lock().unwrap().len(), 3, "three promotions were made");
}

/// A target that fails: the apply fails with Heroku's error_message, the promotion stays in the
/// state (tainted), and the next plan replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_target_reports_heroku_message_and_keeps_tainted_state() {
    let world = World::start().await;
    let prod_before = world.current_release("treeherder-prod").await.unwrap();
    let w_fail = Arc::clone(&world);
    let w_after = Arc::clone(&world);
    let message = "Release phase of treeherder-prod failed: migrations did not apply";
    world
        .case()
        .step(
            Step::config(promotion("ccc333", ""))
                .pre_step_async(move || {
                    let world = Arc::clone(&w_fail);
                    async move {
                        world
                            .control(
                                "/promotion-failures",
                                json!({"app": "treeherder-prod", "message": message}),
                            )
                            .await
                    }
                })
                .expect_error(error_like("Promotion to treeherder-prod failed", message)),
        )
        .step(
            Step::config(promotion("ccc333", ""))
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    let change = plan
                        .change(ADDRESS)
                        .ok_or("the failed promotion is not in the plan")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!(
                            "expected a replacement of the tainted promotion, got {:?}",
                            change.actions
                        ));
                    }
                    let prior = plan
                        .raw()
                        .pointer("/prior_state/values/root_module/resources/0")
                        .cloned()
                        .unwrap_or(Value::Null);
                    if prior["tainted"] != Value::Bool(true) {
                        return Err(format!("the saved promotion is not tainted: {prior}"));
                    }
                    let values = &prior["values"];
                    if values["promoted_releases"]["treeherder-prod"]["status"] != "failed"
                        || values["status"] != "completed"
                        || values["id"].as_str().unwrap_or_default().is_empty()
                    {
                        return Err(format!("unexpected saved state: {values}"));
                    }
                    Ok::<(), String>(())
                }),
        )
        .check_destroy_async(move |_| {
            let world = Arc::clone(&w_after);
            let before = prod_before.clone();
            async move {
                let prod = world.current_release("treeherder-prod").await?;
                if prod["id"] != before["id"] {
                    return Err(format!("a failed promotion changed prod: {prod}"));
                }
                Ok::<(), String>(())
            }
        })
        .run()
        .await;
}

/// Unknown apps, apps outside the pipeline and source == target fail at plan, naming the attribute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_apps_are_plan_time_errors() {
    // A second pipeline, `treeherder-review`, with an app of its own: the sandbox's API
    // cannot create pipelines, so the seed state is extended and loaded from a file.
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("sandbox-state.json");
    {
        let seed = World::start().await;
        seed.post("/apps", json!({"name": "treeherder-review-1"}))
            .await
            .unwrap();
        let mut state: Value = seed
            .http
            .get(format!("{}/state", seed.sandbox.control_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let review_app = state["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "treeherder-review-1")
            .map(|a| a["id"].clone())
            .unwrap();
        let pipeline_id = "7e4e0000-0007-4000-8000-0000000000aa";
        state["pipelines"].as_array_mut().unwrap().push(json!({
            "id": pipeline_id, "name": "treeherder-review",
            "created_at": "2021-03-01T12:00:00Z", "updated_at": "2021-03-01T12:00:00Z"
        }));
        state["couplings"].as_array_mut().unwrap().push(json!({
            "id": "7e4e0000-0008-4000-8000-0000000000aa", "app_id": review_app,
            "pipeline_id": pipeline_id, "stage": "development",
            "created_at": "2021-03-01T12:00:00Z", "updated_at": "2021-03-01T12:00:00Z"
        }));
        std::fs::write(&state_file, serde_json::to_vec(&state).unwrap()).unwrap();
    }
    let world = World::start_from(Some(state_file)).await;
    let bad = |source: &str, targets: &str, extra: &str| {
        config(&format!(
            r#"
resource "treeherder_pipeline_promotion" "prod" {{
  pipeline   = "treeherder"
  source_app = "{source}"
  targets    = {targets}
  {extra}
}}
"#
        ))
    };
    world
        .case()
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-prod"]"#, r#"timeouts { create = "soon" }"#))
                .plan_only()
                .expect_error(error_like("Invalid value for timeouts.create", r#"Invalid duration "soon""#)),
        )
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-nope"]"#, ""))
                .plan_only()
                .expect_error(error_like("Unknown app", r#"targets: Heroku has no app "treeherder-nope""#)),
        )
        .step(
            Step::config(bad("treeherder-prototype", r#"["treeherder-prod"]"#, ""))
                .plan_only()
                .expect_error(
                    error_like("App not in the pipeline", r#"source_app: app "treeherder-prototype" is not in pipeline "treeherder""#),
                ),
        )
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-review-1"]"#, ""))
                .plan_only()
                .expect_error(
                    error_like("App not in the pipeline", r#"targets: app "treeherder-review-1" belongs to pipeline "treeherder-review", not to pipeline "treeherder""#),
                ),
        )
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-prod"]"#, "").replace(
                r#"pipeline   = "treeherder""#,
                r#"pipeline   = "treeherder-nope""#,
            ))
            .plan_only()
            .expect_error(error_like("Unknown pipeline", r#"Heroku has no pipeline "treeherder-nope""#)),
        )
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-stage"]"#, ""))
                .plan_only()
                .expect_error(error_like("Target is the source app", r#"targets[0]: "treeherder-stage" is the source app"#)),
        )
        // Terraform's destroy plans the last config normally first, so end with a valid one:
        // it plans a create (and proves the same checks accept a good promotion).
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-prod"]"#, ""))
                .plan_only()
                .expect_non_empty_plan(),
        )
        .run()
        .await;
    // Nothing was promoted.
    let requests = world
        .http
        .get(format!("{}/requests", world.sandbox.control_url))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let posts = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/pipeline-promotions")
        .count();
    assert_eq!(posts, 0, "a plan-time error must not promote");
}

/// `examples/treeherder/promotion.tf` (with the provider block of `main.tf`) applies: prod runs
/// stage's slug, the plans after apply are empty, and a new commit value plans a new promotion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn treeherder_example_promotes_stage_to_prod() {
    let world = World::start().await;
    let root = acceptance::harness::repo_root().join("examples/treeherder");
    let read = |name: &str| std::fs::read_to_string(root.join(name)).expect("example file");
    let example = format!("{}\n{}", read("main.tf"), read("promotion.tf"));
    let w = Arc::clone(&world);
    let next_commit = example.replace(r#"default     = "9f04d1ab""#, r#"default     = "0123abcd""#);
    assert_ne!(
        example, next_commit,
        "the example's stage_commit default moved"
    );
    world
        .case()
        .step(Step::config(example).check_async(move |state| {
            let world = Arc::clone(&w);
            async move {
                let stage = world.current_release("treeherder-stage").await?;
                prod_runs(&world, &state, Some(str_at(&stage, &["id"]))).await
            }
        }))
        .step(
            Step::config(next_commit)
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    let change = plan.change(ADDRESS).ok_or("no change planned")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!(
                            "expected a new promotion, got {:?}",
                            change.actions
                        ));
                    }
                    Ok::<(), String>(())
                }),
        )
        .run()
        .await;
}

/// A promotion made outside Terraform (as `heroku pipelines:promote` would), imported into a
/// configuration written with UUIDs, plans no new promotion (the import writes names, the
/// same apps by UUID are at most an in-place update of spellings), as the docs say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_promotion_with_uuid_config_plans_empty() {
    let world = World::start().await;
    let pipeline = world.pipeline_id("treeherder").await.unwrap();
    let stage = world.app_id("treeherder-stage").await.unwrap();
    let prod = world.app_id("treeherder-prod").await.unwrap();
    let created = world
        .post(
            "/pipeline-promotions",
            json!({"pipeline": {"id": pipeline}, "source": {"app": {"id": stage}},
                   "targets": [{"app": {"id": prod}}]}),
        )
        .await
        .unwrap();
    let promotion_id = str_at(&created, &["id"]);

    let case = world.case();
    let tf = terraform_for(
        &case.providers,
        case.env.clone(),
        vec![DEFAULT_API_KEY.into()],
    )
    .expect("terraform");
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config(&format!(
        r#"
resource "treeherder_pipeline_promotion" "prod" {{
  pipeline   = "{pipeline}"
  source_app = "{stage}"
  targets    = ["{prod}"]
}}
"#
    )))
    .unwrap();
    tf.require_success(work.init().await.unwrap())
        .expect("init");
    // The import may come before the sandbox settles the promotion; Read follows it later.
    tf.require_success(work.import(ADDRESS, &promotion_id).await.unwrap())
        .expect("import succeeds");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let promotion = world
            .get(&format!("/pipeline-promotions/{promotion_id}"))
            .await
            .unwrap();
        if promotion["status"] == "completed" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "promotion never completed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let plan = work.plan(true).await.expect("plan");
    assert!(
        !plan.text.contains("must be replaced") && !plan.text.contains("will be created"),
        "plan after import:\n{}",
        plan.text
    );
    tf.require_success(work.apply().await.unwrap())
        .expect("apply");
    let plan = work.plan(true).await.expect("plan");
    assert!(!plan.has_changes, "plan after apply:\n{}", plan.text);
    let state = work.state().await.expect("state");
    assert_eq!(attr(&state, "status").unwrap(), "completed");
    assert_eq!(attr(&state, "id").unwrap(), promotion_id);
    assert_eq!(
        attr(&state, "promoted_releases.treeherder-prod.status").unwrap(),
        "succeeded"
    );
    let scan = tf.scan(&[DEFAULT_API_KEY.to_string()]).expect("scan");
    assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
}

/// A promotion still pending when `timeouts.create` runs out: a clear error naming the timeout,
/// and the promotion saved (tainted, status pending) rather than lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_timeout_saves_the_pending_promotion_as_tainted() {
    let world = World::start_with(None, Duration::from_secs(60)).await;
    let started = std::time::Instant::now();
    world
        .case()
        .step(
            Step::config(promotion("ddd444", "").replace(r#"create = "2m""#, r#"create = "2s""#))
                .expect_error(error_like(
                    "Timed out waiting for the promotion",
                    "was still pending after 2s (timeouts.create)",
                )),
        )
        .step(
            Step::config(promotion("ddd444", "").replace(r#"create = "2m""#, r#"create = "2s""#))
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    let change = plan
                        .change(ADDRESS)
                        .ok_or("the pending promotion is not in the plan")?;
                    let prior = plan
                        .raw()
                        .pointer("/prior_state/values/root_module/resources/0")
                        .cloned()
                        .unwrap_or(Value::Null);
                    if change.actions != ["delete", "create"]
                        || prior["tainted"] != Value::Bool(true)
                    {
                        return Err(format!(
                            "expected a tainted promotion to replace, got {:?} of {prior}",
                            change.actions
                        ));
                    }
                    if prior["values"]["status"] != "pending"
                        || prior["values"]["promoted_releases"]["treeherder-prod"]["status"]
                            != "pending"
                    {
                        return Err(format!("unexpected saved state: {}", prior["values"]));
                    }
                    Ok::<(), String>(())
                }),
        )
        .run()
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the apply did not stop at its timeout"
    );
}

/// Issue 9, finding 8: `promoted_releases` is keyed by app name however the state was made,
/// so a configuration indexing `promoted_releases["treeherder-prod"]` survives `terraform
/// import` (Terraform 1.11 evaluates it there), and a `state rm` + import of the promotion
/// plans no new promotion. Run with both Terraform versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reimported_promotion_keeps_name_keys_and_plans_no_new_promotion() {
    let world = World::start().await;
    let body = promotion("aaa111", "")
        + r#"
output "prod_version" {
  value = treeherder_pipeline_promotion.prod.promoted_releases["treeherder-prod"].version
}
"#;
    for latest in [true, false] {
        let case = world.case();
        let tf = if latest {
            terraform_latest_for(
                &case.providers,
                case.env.clone(),
                vec![DEFAULT_API_KEY.into()],
            )
        } else {
            terraform_for(
                &case.providers,
                case.env.clone(),
                vec![DEFAULT_API_KEY.into()],
            )
        }
        .expect("terraform");
        let work = tf.workspace("work").expect("workspace");
        work.write_config(&body).unwrap();
        tf.require_success(work.init().await.unwrap())
            .expect("init");
        tf.require_success(work.apply().await.unwrap())
            .expect("apply");
        let created = work.state().await.expect("state");
        let id = attr(&created, "id").unwrap();
        let version = created.output("prod_version");
        tf.require_success(work.run(&["state", "rm", ADDRESS]).await.unwrap())
            .expect("state rm");
        tf.require_success(work.import(ADDRESS, &id).await.unwrap())
            .unwrap_or_else(|e| panic!("import (latest: {latest}): {e}"));
        let imported = work.state().await.expect("state");
        for path in ["pipeline", "source_app", "targets.0"] {
            assert_eq!(
                attr(&imported, path).ok(),
                attr(&created, path).ok(),
                "{path} (latest: {latest})"
            );
        }
        assert_eq!(
            attr(&imported, "promoted_releases.treeherder-prod.status").unwrap(),
            "succeeded"
        );
        let plan = work.plan(true).await.expect("plan");
        assert!(
            !plan.text.contains("must be replaced") && !plan.text.contains("will be created"),
            "plan after import (latest: {latest}):\n{}",
            plan.text
        );
        tf.require_success(work.apply().await.unwrap())
            .expect("apply after import");
        let after = work.state().await.expect("state");
        assert_eq!(attr(&after, "id").unwrap(), id, "latest: {latest}");
        assert_eq!(after.output("prod_version"), version, "latest: {latest}");
        let scan = tf.scan(&[DEFAULT_API_KEY.to_string()]).expect("scan");
        assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
    }
}
