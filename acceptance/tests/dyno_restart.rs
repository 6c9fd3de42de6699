//! `treeherder_dyno_restart` through real Terraform against an in-process sandbox (one per
//! test): a restart of two process types waiting until their dynos are up again while the
//! others are untouched, a `triggers` change restarting again, destroy forgetting without a
//! request to Heroku, an unknown process type failing at plan with the app's types, and a
//! crashed dyno reported by name.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use std::collections::BTreeMap;

use acceptance::harness::{ProviderUnderTest, SandboxControl, SandboxWorld, Terraform};
use regex::Regex;
use serde_json::{json, Value};

const API_KEY: &str = "dyno-restart-acceptance-key-9b1e";
const APP: &str = "treeherder-stage";
const ADDR: &str = "treeherder_dyno_restart.workers";

fn terraform(world: &SandboxWorld) -> Terraform {
    Terraform::new(
        &[ProviderUnderTest::treeherder()],
        world.env(),
        vec![API_KEY.to_string()],
    )
    .expect("terraform")
}

fn config(types: &[&str], at: &str) -> String {
    let types: Vec<String> = types.iter().map(|t| format!("\"{t}\"")).collect();
    format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}

provider "treeherder" {{}}

resource "treeherder_dyno_restart" "workers" {{
  app           = "{APP}"
  process_types = [{}]
  triggers      = {{ at = "{at}" }}
  timeouts {{
    create = "1m"
  }}
}}
"#,
        types.join(", ")
    )
}

/// Dyno name → (id, type, state) in the sandbox.
async fn dynos(control: &SandboxControl) -> BTreeMap<String, (String, String, String)> {
    control.app(APP).await["dynos"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (s("name"), (s("id"), s("process_type"), s("state")))
        })
        .collect()
}

fn plans_destroy_through_the_provider() -> bool {
    acceptance::harness::terraform_binary()
        .ok()
        .and_then(|binary| acceptance::harness::terraform_version(&binary).ok())
        .is_some_and(|(major, minor, _)| (major, minor) >= (1, 3))
}

/// Checks that exactly the dynos of `types` have new ids and are up.
fn check_restarted(
    before: &BTreeMap<String, (String, String, String)>,
    after: &BTreeMap<String, (String, String, String)>,
    types: &[&str],
) {
    let mut restarted = 0;
    for (name, (id, kind, _)) in before {
        let (new_id, _, state) = &after[name];
        if types.contains(&kind.as_str()) {
            assert_ne!(new_id, id, "{name} was not restarted");
            assert_eq!(state, "up", "{name}");
            restarted += 1;
        } else {
            assert_eq!(new_id, id, "{name} was restarted");
        }
    }
    assert!(restarted >= 2, "restarted {restarted} dynos");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_of_two_process_types_waits_until_up_and_triggers_restart_again() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let types = ["web", "worker_store_pulse_data"];
    let before = dynos(&control).await;
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config(&types, "1")).unwrap();
    work.init().await.expect("init");
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let after = dynos(&control).await;
    check_restarted(&before, &after, &types);
    let state = work.state().await.expect("state");
    state.expect_attr_set(ADDR, "restarted_at").unwrap();
    for (name, (_, kind, _)) in &after {
        let recorded = state.attr(ADDR, "dynos").and_then(|d| d.get(name).cloned());
        if types.contains(&kind.as_str()) {
            assert_eq!(recorded, Some(json!("up")), "{name}");
        } else {
            assert_eq!(recorded, None, "{name}");
        }
    }

    let plan = work.plan(true).await.expect("plan");
    assert!(!plan.has_changes, "{}", plan.text);

    // A triggers change restarts again.
    work.write_config(&config(&types, "2")).unwrap();
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let again = dynos(&control).await;
    check_restarted(&after, &again, &types);

    // Destroy only forgets.
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
    if plans_destroy_through_the_provider() {
        let forget = Regex::new(r"(?s)Warning: Destroying only forgets the restart").unwrap();
        assert!(forget.is_match(&out.stdout), "{}", out.stdout);
    }
    control.clear_requests().await;
    let out = work
        .run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
        .await
        .expect("destroy");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let requests = control.requests().await;
    assert!(requests.is_empty(), "destroy sent {requests:?}");
    assert_eq!(dynos(&control).await, again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_process_types_fail_at_plan_listing_the_apps_types() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let before = dynos(&control).await;
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config(&["web", "worker_nope"], "1"))
        .unwrap();
    work.init().await.expect("init");
    let out = work
        .run(&["plan", "-input=false", "-no-color"])
        .await
        .expect("plan");
    assert!(!out.success(), "plan succeeded");
    let text = format!("{}\n{}", out.stdout, out.stderr);
    let error = Regex::new(
        r#"(?s)Unknown process type.*has no process type "worker_nope".*Its\s+process\s+types\s+are:.*"celery_scheduler".*"web""#,
    )
    .unwrap();
    assert!(error.is_match(&text), "{text}");
    assert_eq!(dynos(&control).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_dyno_is_reported_by_name() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    control
        .control_post("/dyno-crash", json!({ "app": APP, "dyno": "web.1" }))
        .await;
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config(&["web"], "1")).unwrap();
    work.init().await.expect("init");
    let out = work.apply().await.expect("apply");
    assert!(!out.success(), "apply succeeded:\n{}", out.stdout);
    let text = format!("{}\n{}", out.stdout, out.stderr);
    assert!(
        Regex::new(r"(?s)Dyno web\.1 crashed.*dyno web\.1 crashed")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
    // Saved, tainted, with the states seen.
    let state = work.state().await.expect("state");
    let recorded = state.attr(ADDR, "dynos").unwrap_or(Value::Null);
    assert_eq!(recorded["web.1"], "crashed", "{recorded}");
}
