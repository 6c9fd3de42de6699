//! `treeherder_formation` through real Terraform against an in-process sandbox (one per
//! test): life cycle with import, spelling and drift; plan-time checks of process type and
//! size; the gunicorn concurrency warning; both `on_destroy` behaviours; and the request
//! cost of refreshing 20 formations of one app.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::plancheck::{
    expect_changed_attributes, expect_changed_attributes_in, expect_resource_action,
    expect_resource_action_in, ExpectedAction,
};
use acceptance::harness::treeherder_case;
use acceptance::harness::{heroku_provider_config, SandboxControl, SandboxWorld, Step};
use regex::Regex;
use serde_json::{json, Value};

/// Long enough for the harness to treat it as a secret and scan every log for it.
const API_KEY: &str = "formation-acceptance-key-3b7d9e1f42";
const ADDR: &str = "treeherder_formation.web";

async fn formation(control: &SandboxControl, app: &str, process_type: &str) -> Value {
    control.app(app).await["formations"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["process_type"] == process_type))
        .cloned()
        .unwrap_or_else(|| panic!("no formation {process_type} on {app}"))
}

fn provider_block() -> String {
    heroku_provider_config(3, 5)
}

fn web_config(app: &str, quantity: u32, size: &str, extra: &str) -> String {
    format!(
        r#"{}
resource "treeherder_formation" "web" {{
  app      = "{app}"
  type     = "web"
  quantity = {quantity}
  size     = "{size}"
{extra}}}
"#,
        provider_block()
    )
}

/// Create, import, update in place (spelling only, then quantity), drift from the
/// dashboard, and destroy with the default `on_destroy = "keep"`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_cycle_import_spelling_drift_and_keep_on_destroy() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    // Seeded: web on treeherder-stage runs 2 × Standard-2X.
    let c1 = control.clone();
    let c3 = control.clone();
    let c_drift = control.clone();
    let c_destroy = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(web_config("treeherder-stage", 3, "Standard-2X", ""))
                .plan_checks([expect_resource_action(ADDR, ExpectedAction::Create)])
                .check_async(move |state| {
                    let control = c1.clone();
                    async move {
                        let remote = formation(&control, "treeherder-stage", "web").await;
                        state.expect_attr(ADDR, "id", remote["id"].clone())?;
                        state.expect_attr(ADDR, "quantity", 3)?;
                        state.expect_attr(ADDR, "on_destroy", "keep")?;
                        state.expect_attr_set(ADDR, "app_id")?;
                        if remote["quantity"] != 3 || remote["size"] != "Standard-2X" {
                            return Err(format!("web in the sandbox: {remote}"));
                        }
                        Ok::<(), String>(())
                    }
                }),
        )
        // Import by `<app>:<process type>` reproduces the state attribute for attribute, and
        // reads the app's WEB_CONCURRENCY (5), which this configuration does not manage.
        .step(
            Step::import(ADDR)
                .import_id("treeherder-stage:web")
                .verify_import(["web_concurrency"])
                .check(|state| state.expect_attr(ADDR, "web_concurrency", 5)),
        )
        // Another spelling of the same size: an update of state only, kept as written.
        .step(
            Step::config(web_config("treeherder-stage", 3, "standard-2x", ""))
                .plan_check(|plan| {
                    expect_resource_action_in(plan, ADDR, ExpectedAction::Update)?;
                    expect_changed_attributes_in(plan, ADDR, &["size"])
                })
                .check(|state| state.expect_attr(ADDR, "size", "standard-2x")),
        )
        .step(
            Step::config(web_config("treeherder-stage", 4, "standard-2x", ""))
                .plan_checks([expect_changed_attributes(ADDR, ["quantity"])])
                .check_async(move |_| {
                    let control = c3.clone();
                    async move {
                        let remote = formation(&control, "treeherder-stage", "web").await;
                        if remote["quantity"] == 4 && remote["size"] == "Standard-2X" {
                            Ok(())
                        } else {
                            Err(format!("web in the sandbox: {remote}"))
                        }
                    }
                }),
        )
        // Scaled in the dashboard (or by autoscaling): the refreshed plan scales it back.
        .step(
            Step::config(web_config("treeherder-stage", 4, "standard-2x", ""))
                .pre_step_async(move || {
                    let control = c_drift.clone();
                    async move {
                        control
                            .heroku(
                                reqwest::Method::PATCH,
                                "/apps/treeherder-stage/formation/web",
                                Some(
                                    json!({"quantity": 1, "dyno_size": {"name": "Performance-M"}}),
                                ),
                            )
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    expect_resource_action_in(plan, ADDR, ExpectedAction::Update)?;
                    expect_changed_attributes_in(plan, ADDR, &["quantity", "size"])?;
                    let change = plan.change(ADDR).ok_or("no change")?;
                    if change.before["quantity"] != 1 || change.before["size"] != "Performance-M" {
                        return Err(format!("drift not shown: {}", change.before));
                    }
                    Ok::<(), String>(())
                }),
        )
        .step(Step::config(web_config(
            "treeherder-stage",
            4,
            "standard-2x",
            "",
        )))
        .check_destroy_async(move |_| {
            let control = c_destroy.clone();
            async move {
                // on_destroy = "keep": the dynos run on as they were.
                let remote = formation(&control, "treeherder-stage", "web").await;
                if remote["quantity"] == 4 && remote["size"] == "Standard-2X" {
                    Ok(())
                } else {
                    Err(format!("web after destroy: {remote}"))
                }
            }
        })
        .run()
        .await;
}

/// `on_destroy = "scale_to_zero"` scales the process type to zero on destroy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_to_zero_on_destroy() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let config = format!(
        r#"{}
resource "treeherder_formation" "misc" {{
  app        = "treeherder-prod"
  type       = "worker_misc"
  quantity   = 3
  size       = "Standard-2X"
  on_destroy = "scale_to_zero"
}}
"#,
        provider_block()
    );
    let c_check = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(Step::config(config).check_async(move |_| {
            let control = c_check.clone();
            async move {
                let remote = formation(&control, "treeherder-prod", "worker_misc").await;
                if remote["quantity"] == 3 {
                    Ok(())
                } else {
                    Err(format!("worker_misc: {remote}"))
                }
            }
        }))
        .check_destroy_async(move |_| {
            let control = control.clone();
            async move {
                let remote = formation(&control, "treeherder-prod", "worker_misc").await;
                if remote["quantity"] == 0 {
                    Ok(())
                } else {
                    Err(format!("worker_misc after destroy: {remote}"))
                }
            }
        })
        .run()
        .await;
}

/// An unknown process type and an unavailable size fail the plan, listing what the app
/// has; nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_type_and_unavailable_size_fail_at_plan_time() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let bad_type = web_config("treeherder-prod", 3, "Performance-M", "")
        .replace("type     = \"web\"", "type     = \"wbe\"");
    let types = Regex::new(
        r#"(?s)Unknown process type.*no process type "wbe".*celery_scheduler,\s+pulse_listener_pushes,.*web,\s+worker_log_parser"#,
    )
    .unwrap();
    let sizes =
        Regex::new(r#"(?s)Dyno size not available.*"Standard-9X".*Standard-1X,\s+Standard-2X"#)
            .unwrap();
    let c_check = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(Step::config(bad_type).plan_only().expect_error(types))
        .step(
            Step::config(web_config("treeherder-prod", 3, "Standard-9X", ""))
                .plan_only()
                .expect_error(sizes),
        )
        .step(
            Step::config(web_config("treeherder-prod", 3, "performance-m", "")).check_async(
                move |state| {
                    let control = c_check.clone();
                    async move {
                        state.expect_attr(ADDR, "size", "performance-m")?;
                        let remote = formation(&control, "treeherder-prod", "web").await;
                        if remote["quantity"] == 3 && remote["size"] == "Performance-M" {
                            Ok(())
                        } else {
                            Err(format!("web: {remote}"))
                        }
                    }
                },
            ),
        )
        .run()
        .await;
}

/// A size change of a gunicorn process warns with the runbook's advice; a Celery worker's
/// does not mention WEB_CONCURRENCY as something that changes with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_size_change_of_gunicorn_warns_about_concurrency() {
    let world = SandboxWorld::start(API_KEY).await;
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&web_config("treeherder-prod", 3, "Performance-M", ""))
        .unwrap();
    work.init().await.expect("init");
    let plan = work.plan(true).await.expect("plan");
    assert!(
        !plan.text.contains("WEB_CONCURRENCY"),
        "no size change, no warning:\n{}",
        plan.text
    );
    work.write_config(&web_config("treeherder-prod", 3, "Performance-L", ""))
        .unwrap();
    let plan = work.plan(true).await.expect("plan");
    let warning = Regex::new(
        r"(?s)Warning: Dyno size changes without a concurrency change.*Performance-M\s+to\s+Performance-L.*WEB_CONCURRENCY.*--concurrency\s+in\s+the\s+Procfile",
    )
    .unwrap();
    assert!(warning.is_match(&plan.text), "{}", plan.text);
}

/// A refresh of 20 formations of one app costs the same few requests as one of 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshing_twenty_formations_costs_a_constant_number_of_requests() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    // An app whose release has 20 process types.
    let app = control
        .heroku(
            reqwest::Method::POST,
            "/apps",
            Some(json!({"name": "formation-count"})),
        )
        .await;
    let app_id = app["id"].as_str().expect("app id").to_string();
    let process_types: serde_json::Map<String, Value> = (0..20)
        .map(|i| (format!("proc_{i}"), json!(format!("./manage.py proc_{i}"))))
        .collect();
    let slug = control
        .heroku(
            reqwest::Method::POST,
            &format!("/apps/{app_id}/slugs"),
            Some(json!({"process_types": process_types, "commit": "0123456789abcdef"})),
        )
        .await;
    control
        .heroku(
            reqwest::Method::POST,
            &format!("/apps/{app_id}/releases"),
            Some(json!({"slug": slug["id"]})),
        )
        .await;

    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    let mut per_size = Vec::new();
    for n in [5, 20] {
        work.write_config(&format!(
            r#"{}
resource "treeherder_formation" "many" {{
  count      = {n}
  app        = "formation-count"
  type       = "proc_${{count.index}}"
  quantity   = 1
  size       = "Standard-1X"
  on_destroy = "scale_to_zero"
}}
"#,
            provider_block()
        ))
        .unwrap();
        work.init().await.expect("init");
        let applied = work.apply().await.expect("apply runs");
        tf.require_success(applied).expect("apply succeeds");
        control.clear_requests().await;
        let plan = work.plan(true).await.expect("plan");
        assert!(!plan.has_changes, "plan after apply:\n{}", plan.text);
        let log = control.requests().await;
        let summary: Vec<String> = log
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        eprintln!(
            "refresh of {n} formations: {} requests: {summary:?}",
            log.len()
        );
        let listings = log
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with("/formation"))
            .count();
        assert_eq!(listings, 1, "formation listings: {summary:?}");
        assert!(log.len() <= 3, "refresh of {n} formations: {summary:?}");
        assert!(
            log.iter().all(|r| r.method == "GET"),
            "a refresh wrote: {summary:?}"
        );
        per_size.push(log.len());
    }
    assert_eq!(
        per_size[0], per_size[1],
        "the request count depends on the number of formations"
    );
    let destroyed = work.destroy().await;
    assert!(destroyed.is_ok(), "destroy: {destroyed:?}");
    let remote = formation(&control, "formation-count", "proc_19").await;
    assert_eq!(remote["quantity"], 0, "scaled to zero on destroy: {remote}");
    let scan = tf.scan(&[API_KEY.to_string()]).expect("scan");
    assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
}

/// `web_concurrency` writes WEB_CONCURRENCY in the same apply (one release, waited for),
/// silences the size-change warning, and a value changed by hand shows in the plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_concurrency_is_written_with_the_size_and_drift_shows() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    // Release phases stay pending for a while: the apply must wait for them.
    control.set_release_phase_ms(300).await;
    let config = web_config(
        "treeherder-prod",
        3,
        "Performance-L",
        "  web_concurrency = 8\n",
    );

    // The plan of a size change with web_concurrency carries no concurrency warning.
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config).unwrap();
    work.init().await.expect("init");
    let plan = work.plan(true).await.expect("plan");
    assert!(plan.has_changes, "{}", plan.text);
    assert!(
        !plan
            .text
            .contains("Dyno size changes without a concurrency change"),
        "{}",
        plan.text
    );

    let releases = |app: Value| app["releases"].as_array().cloned().unwrap_or_default();
    let before = releases(control.app("treeherder-prod").await).len();
    let (c1, c_drift, c3) = (control.clone(), control.clone(), control.clone());
    treeherder_case()
        .envs(world.env())
        .step(Step::config(config.clone()).check_async(move |state| {
            let control = c1.clone();
            async move {
                let app = control.app("treeherder-prod").await;
                if app["config_vars"]["WEB_CONCURRENCY"] != "8" {
                    return Err(format!(
                        "WEB_CONCURRENCY: {}",
                        app["config_vars"]["WEB_CONCURRENCY"]
                    ));
                }
                let all = releases(app.clone());
                if all.len() != before + 1
                    || all.last().map(|r| r["status"].clone()) != Some(json!("succeeded"))
                {
                    return Err(format!(
                        "expected one new succeeded release, got {:?}",
                        &all[before..]
                    ));
                }
                let web = formation(&control, "treeherder-prod", "web").await;
                if web["size"] != "Performance-L" || web["quantity"] != 3 {
                    return Err(format!("web: {web}"));
                }
                state.expect_attr(ADDR, "web_concurrency", 8)?;
                Ok::<(), String>(())
            }
        }))
        // Changed by hand (`heroku config:set`): the refreshed plan sets it back.
        .step(
            Step::config(config.clone())
                .pre_step_async(move || {
                    let control = c_drift.clone();
                    async move {
                        control
                            .heroku(
                                reqwest::Method::PATCH,
                                "/apps/treeherder-prod/config-vars",
                                Some(json!({ "WEB_CONCURRENCY": "3" })),
                            )
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    expect_changed_attributes_in(plan, ADDR, &["web_concurrency"])?;
                    let change = plan.change(ADDR).ok_or("no change")?;
                    if change.before["web_concurrency"] != 3 {
                        return Err(format!("drift not shown: {}", change.before));
                    }
                    Ok::<(), String>(())
                }),
        )
        .step(Step::config(config).check_async(move |_| {
            let control = c3.clone();
            async move {
                let app = control.app("treeherder-prod").await;
                if app["config_vars"]["WEB_CONCURRENCY"] == "8" {
                    Ok(())
                } else {
                    Err(format!(
                        "WEB_CONCURRENCY not restored: {}",
                        app["config_vars"]["WEB_CONCURRENCY"]
                    ))
                }
            }
        }))
        .run()
        .await;
}
