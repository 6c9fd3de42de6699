//! `treeherder_release_rollback` through real Terraform against an in-process sandbox (one
//! per test): a rollback to an older release becoming current, the plan's warnings, a
//! `triggers` change rolling back again, destroy forgetting without a request to Heroku,
//! ineligible and unknown targets failing at plan, a failing release phase, and a lost
//! answer to the rollback POST not rolling back twice.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::{heroku_provider_config, SandboxControl, SandboxWorld};
use regex::Regex;
use serde_json::{json, Value};

const API_KEY: &str = "release-rollback-acceptance-key-3d7f";
const APP: &str = "treeherder-stage";

/// A sandbox whose release phases stay pending for 300 ms (the provider must wait).
async fn start_world() -> SandboxWorld {
    let world = SandboxWorld::start(API_KEY).await;
    world
        .handle()
        .control_post("/release-phase", json!({ "ms": 300 }))
        .await;
    world
}

fn config(release: &str, reason: &str) -> String {
    let provider = heroku_provider_config(2, 5);
    format!(
        r#"{provider}
resource "treeherder_release_rollback" "stage" {{
  app      = "{APP}"
  release  = "{release}"
  triggers = {{ reason = "{reason}" }}
  timeouts {{
    create = "2m"
  }}
}}
"#
    )
}

async fn releases(control: &SandboxControl) -> Vec<Value> {
    control.app(APP).await["releases"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The app's current release as the Platform API shows it.
async fn current(control: &SandboxControl) -> Value {
    let list = control
        .heroku(reqwest::Method::GET, &format!("/apps/{APP}/releases"), None)
        .await;
    list.as_array()
        .and_then(|l| l.iter().find(|r| r["current"] == true))
        .cloned()
        .unwrap_or(Value::Null)
}

/// POSTs to the app's releases (the provider names the app by its UUID).
fn rollback_posts(requests: &[Value], app_id: &str) -> usize {
    requests
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == format!("/apps/{app_id}/releases"))
        .count()
}

async fn app_id(control: &SandboxControl) -> String {
    control.app(APP).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Terraform 1.3 and later plan destroys through the provider, which shows its warning.
fn plans_destroy_through_the_provider() -> bool {
    acceptance::harness::terraform_binary()
        .ok()
        .and_then(|binary| acceptance::harness::terraform_version(&binary).ok())
        .is_some_and(|(major, minor, _)| (major, minor) >= (1, 3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_becomes_current_triggers_roll_back_again_and_destroy_only_forgets() {
    let world = start_world().await;
    let control = world.handle();
    let v2_vars = releases(&control).await[1]["config_vars"].clone();
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("v2", "bug 1800000")).unwrap();
    work.init().await.expect("init");

    // The plan carries the runbook's caveat.
    let plan = work.plan(true).await.expect("plan");
    let caveat = Regex::new(r"(?s)Warning: A rollback lasts until the next deploy.*next\s+automatic\s+deploy.*Fix\s+\(revert\)\s+the\s+branch\s+first").unwrap();
    assert!(caveat.is_match(&plan.text), "{}", plan.text);

    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let state = work.state().await.expect("state");
    let addr = "treeherder_release_rollback.stage";
    let cur = current(&control).await;
    assert_eq!(cur["version"], 4, "{cur}");
    assert_eq!(cur["description"], "Rollback to v2");
    assert_eq!(cur["status"], "succeeded");
    assert_eq!(state.attr(addr, "id"), Some(cur["id"].clone()));
    assert_eq!(state.attr(addr, "version"), Some(json!(4)));
    assert_eq!(state.attr(addr, "target_version"), Some(json!(2)));
    assert_eq!(state.attr(addr, "status"), Some(json!("succeeded")));
    // Code and config vars are the target's.
    let app = control.app(APP).await;
    assert_eq!(app["config_vars"], v2_vars);
    let all = releases(&control).await;
    assert_eq!(all[3]["slug_id"], all[1]["slug_id"]);
    // The apply waited through the pending release phase, logging each poll.
    let logs = std::fs::read_dir(tf.logs_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect::<String>();
    assert!(
        logs.contains("(rollback): pending after") && logs.contains("(rollback): succeeded after"),
        "no poll logged"
    );

    // Same configuration: nothing to do.
    let plan = work.plan(true).await.expect("plan");
    assert!(!plan.has_changes, "{}", plan.text);

    // A triggers change is a new rollback.
    work.write_config(&config("v2", "bug 1800001")).unwrap();
    let plan = work.plan(true).await.expect("plan");
    assert!(plan.text.contains("must be replaced"), "{}", plan.text);
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let cur = current(&control).await;
    assert_eq!(cur["version"], 5, "{cur}");
    assert_eq!(cur["description"], "Rollback to v2");

    // Destroy says it only forgets, and sends nothing to Heroku.
    let out = work
        .run(&[
            "plan",
            "-destroy",
            "-refresh=false",
            "-input=false",
            "-no-color",
        ])
        .await
        .expect("plan -destroy");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let forget = Regex::new(r"(?s)Warning: Destroying only forgets the rollback.*only\s+removes\s+it\s+from\s+the\s+state").unwrap();
    if plans_destroy_through_the_provider() {
        assert!(forget.is_match(&out.stdout), "{}", out.stdout);
    }
    control.clear_requests().await;
    let out = work
        .run(&[
            "destroy",
            "-auto-approve",
            "-refresh=false",
            "-input=false",
            "-no-color",
        ])
        .await
        .expect("destroy");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let requests = control.requests().await;
    assert!(requests.is_empty(), "destroy sent {requests:?}");
    assert_eq!(current(&control).await["version"], 5);
    let state = work.state().await.expect("state");
    state.expect_no_resource(addr).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ineligible_and_unknown_targets_fail_at_plan() {
    let world = start_world().await;
    let control = world.handle();
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("v3", "x")).unwrap();
    work.init().await.expect("init");
    for (release, pattern) in [
        (
            "v3",
            r#"(?s)Release not eligible for rollback.*Release "v3" \(v3\) of treeherder-stage.*current release"#,
        ),
        (
            "1",
            r#"(?s)Release not eligible for rollback.*Release "1" \(v1\)"#,
        ),
        ("v99", r#"(?s)Unknown release.*no release "v99""#),
        ("latest", r#"(?s)Expected a release version"#),
    ] {
        work.write_config(&config(release, "x")).unwrap();
        let out = work
            .run(&["plan", "-input=false", "-no-color"])
            .await
            .expect("plan");
        assert!(!out.success(), "{release}: plan succeeded");
        let text = format!("{}\n{}", out.stdout, out.stderr);
        assert!(
            Regex::new(pattern).unwrap().is_match(&text),
            "{release}: {text}"
        );
    }
    let posts = rollback_posts(&control.requests().await, &app_id(&control).await);
    assert_eq!(posts, 0, "nothing was posted");
    assert_eq!(current(&control).await["version"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_release_phase_is_an_error_and_the_rollback_stays_in_state() {
    let world = start_world().await;
    let control = world.handle();
    control
        .control_post(
            "/release-phase",
            json!({ "ms": 300, "fail": [{ "app": APP, "count": 1 }] }),
        )
        .await;
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("v2", "x")).unwrap();
    work.init().await.expect("init");
    let out = work.apply().await.expect("apply");
    assert!(!out.success(), "apply succeeded:\n{}", out.stdout);
    let text = format!("{}\n{}", out.stdout, out.stderr);
    let failed = Regex::new(
        r"(?s)Release v4 of treeherder-stage failed.*release phase ended\s+failed.*https://release-output\.sandbox\.invalid/streams/",
    )
    .unwrap();
    assert!(failed.is_match(&text), "{text}");
    let state = work.state().await.expect("state");
    let addr = "treeherder_release_rollback.stage";
    assert_eq!(state.attr(addr, "status"), Some(json!("failed")));
    assert_eq!(state.attr(addr, "version"), Some(json!(4)));
    // The failed release did not become current.
    assert_eq!(current(&control).await["version"], 3);
    // Tainted: the next plan makes a new rollback.
    let plan = work.plan(true).await.expect("plan");
    assert!(plan.text.contains("tainted"), "{}", plan.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_rollback_is_reconciled_without_posting_again() {
    let world = start_world().await;
    let control = world.handle();
    // The rollback happens, its answer is lost (a 502 after the effect); later 429s on
    // the POST are retried by the client only because Heroku acted on none of them.
    control
        .control_post(
            "/faults",
            json!({
                "status": 502,
                "method": "POST",
                "path_prefix": format!("/apps/{}/releases", app_id(&control).await),
                "after_effect": true,
            }),
        )
        .await;
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("v2", "x")).unwrap();
    work.init().await.expect("init");
    control.clear_requests().await;
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        rollback_posts(&control.requests().await, &app_id(&control).await),
        1
    );
    let rollbacks = releases(&control)
        .await
        .iter()
        .filter(|r| r["description"] == "Rollback to v2")
        .count();
    assert_eq!(rollbacks, 1, "one rollback release");
    let state = work.state().await.expect("state");
    let addr = "treeherder_release_rollback.stage";
    assert_eq!(state.attr(addr, "version"), Some(json!(4)));
    assert_eq!(state.attr(addr, "status"), Some(json!("succeeded")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_rollback_is_posted_once_it_is_let_through() {
    let world = start_world().await;
    let control = world.handle();
    control
        .control_post(
            "/faults",
            json!({
                "status": 429,
                "method": "POST",
                "path_prefix": format!("/apps/{}/releases", app_id(&control).await),
                "retry_after": 0,
            }),
        )
        .await;
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("v2", "x")).unwrap();
    work.init().await.expect("init");
    control.clear_requests().await;
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let rollbacks = releases(&control)
        .await
        .iter()
        .filter(|r| r["description"] == "Rollback to v2")
        .count();
    assert_eq!(rollbacks, 1, "one rollback release");
    // The refused POST and the one let through.
    assert_eq!(
        rollback_posts(&control.requests().await, &app_id(&control).await),
        2
    );
}
