//! `treeherder_release_rollback` through real Terraform against an in-process sandbox (one
//! per test): a rollback to an older release becoming current, the plan's warnings, a
//! `triggers` change rolling back again, destroy forgetting without a write to Heroku,
//! ineligible and unknown targets failing at plan, a failing release phase, and a lost
//! answer to the rollback POST not rolling back twice.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::plancheck::{expect_resource_action, ExpectedAction};
use acceptance::harness::{
    heroku_provider_config, treeherder_case, SandboxControl, SandboxWorld, State, Step,
};
use acceptance::sandbox::{FaultSpec, LoggedRequest, ReleasePhase, ReleasePhaseFailure};
use regex::Regex;
use serde_json::Value;

const API_KEY: &str = "release-rollback-acceptance-key-3d7f";
const APP: &str = "treeherder-stage";
const ADDR: &str = "treeherder_release_rollback.stage";

/// A sandbox whose release phases stay pending for 300 ms (the provider must wait).
async fn start_world() -> SandboxWorld {
    let world = SandboxWorld::start(API_KEY).await;
    world.handle().set_release_phase_ms(300).await;
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
fn rollback_posts(requests: &[LoggedRequest], app_id: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == format!("/apps/{app_id}/releases"))
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
    let caveat = Regex::new(r"(?s)Warning: A rollback lasts until the next deploy.*next\s+automatic\s+deploy.*Fix\s+\(revert\)\s+the\s+branch\s+first").unwrap();
    let forget = Regex::new(r"(?s)Warning: Destroying only forgets the rollback.*only\s+removes\s+it\s+from\s+the\s+state").unwrap();
    let (c1, c2, c_clear, c_destroy) = (
        control.clone(),
        control.clone(),
        control.clone(),
        control.clone(),
    );
    let mut case = treeherder_case()
        .envs(world.env())
        // The plan carries the runbook's caveat.
        .step(
            Step::config(config("v2", "bug 1800000"))
                .plan_only()
                .expect_non_empty_plan()
                .expect_plan_output(caveat),
        )
        .step(
            Step::config(config("v2", "bug 1800000")).check_async(move |state: State| {
                let (control, v2_vars) = (c1.clone(), v2_vars.clone());
                async move {
                    let cur = current(&control).await;
                    if cur["version"] != 4
                        || cur["description"] != "Rollback to v2"
                        || cur["status"] != "succeeded"
                    {
                        return Err(format!("current release: {cur}"));
                    }
                    state.expect_attr(ADDR, "id", cur["id"].clone())?;
                    state.expect_attr(ADDR, "version", 4)?;
                    state.expect_attr(ADDR, "target_version", 2)?;
                    state.expect_attr(ADDR, "status", "succeeded")?;
                    // Code and config vars are the target's.
                    if control.app(APP).await["config_vars"] != v2_vars {
                        return Err("the config vars are not v2's".to_string());
                    }
                    let all = releases(&control).await;
                    if all[3]["slug_id"] != all[1]["slug_id"] {
                        return Err("the code is not v2's".to_string());
                    }
                    Ok(())
                }
            }),
        )
        // A triggers change is a new rollback.
        .step(
            Step::config(config("v2", "bug 1800001"))
                .plan_checks([expect_resource_action(ADDR, ExpectedAction::Replace)])
                .check_async(move |_| {
                    let control = c2.clone();
                    async move {
                        let cur = current(&control).await;
                        if cur["version"] == 5 && cur["description"] == "Rollback to v2" {
                            Ok(())
                        } else {
                            Err(format!("current release: {cur}"))
                        }
                    }
                }),
        );
    // Destroy says it only forgets, and sends nothing to Heroku.
    if plans_destroy_through_the_provider() {
        case = case.step(Step::destroy_plan().expect_plan_output(forget));
    }
    case.pre_destroy_async(move || {
        let control = c_clear.clone();
        async move {
            control.clear_requests().await;
            Ok::<(), String>(())
        }
    })
    .check_destroy_async(move |_| {
        let control = c_destroy.clone();
        async move {
            // The destroy's refresh reads; forgetting writes nothing.
            let writes = control.writes().await;
            if !writes.is_empty() {
                return Err(format!("destroy sent {writes:?}"));
            }
            let version = current(&control).await["version"].clone();
            if version != 5 {
                return Err(format!("destroy changed the current release to {version}"));
            }
            Ok(())
        }
    })
    // The apply waited through the pending release phase, logging each poll.
    .check_logs(|logs| {
        if logs.contains("(rollback): pending after")
            && logs.contains("(rollback): succeeded after")
        {
            Ok(())
        } else {
            Err("no poll logged")
        }
    })
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ineligible_and_unknown_targets_fail_at_plan() {
    let world = start_world().await;
    let control = world.handle();
    let mut case = treeherder_case().envs(world.env());
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
        case = case.step(
            Step::config(config(release, "x"))
                .plan_only()
                .expect_error(Regex::new(pattern).unwrap()),
        );
    }
    case.check_destroy_async(move |_| {
        let control = control.clone();
        async move {
            let posts = rollback_posts(&control.requests().await, &app_id(&control).await);
            let version = current(&control).await["version"].clone();
            if posts == 0 && version == 3 {
                Ok(())
            } else {
                Err(format!(
                    "{posts} rollbacks posted, current release {version}"
                ))
            }
        }
    })
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_release_phase_is_an_error_and_the_rollback_stays_in_state() {
    let world = start_world().await;
    let control = world.handle();
    control
        .set_release_phase(ReleasePhase {
            ms: 300,
            fail: vec![ReleasePhaseFailure {
                app: APP.to_string(),
                count: 1,
            }],
        })
        .await;
    let failed = Regex::new(
        r"(?s)Release v4 of treeherder-stage failed.*release phase ended\s+failed.*https://release-output\.sandbox\.invalid/streams/",
    )
    .unwrap();
    treeherder_case()
        .envs(world.env())
        .step(Step::config(config("v2", "x")).expect_error(failed))
        // Tainted: the next plan makes a new rollback.
        .step(
            Step::config(config("v2", "x"))
                .plan_only()
                .expect_non_empty_plan()
                .expect_plan_output(Regex::new("tainted").unwrap()),
        )
        .check_destroy_async(move |state| {
            let control = control.clone();
            async move {
                state.expect_attr(ADDR, "status", "failed")?;
                state.expect_attr(ADDR, "version", 4)?;
                // The failed release did not become current.
                let version = current(&control).await["version"].clone();
                if version == 3 {
                    Ok(())
                } else {
                    Err(format!("current release {version}"))
                }
            }
        })
        .run()
        .await;
}

/// One rollback release and `posts` POSTs to the releases since the log was cleared.
async fn rolled_back_once(control: &SandboxControl, posts: usize) -> Result<(), String> {
    let seen = rollback_posts(&control.requests().await, &app_id(control).await);
    let rollbacks = releases(control)
        .await
        .iter()
        .filter(|r| r["description"] == "Rollback to v2")
        .count();
    if seen == posts && rollbacks == 1 {
        Ok(())
    } else {
        Err(format!(
            "{seen} POSTs (expected {posts}), {rollbacks} rollback releases"
        ))
    }
}

/// A case applying a rollback to v2 with the request log cleared first, checking it rolled
/// back once with `posts` POSTs.
async fn rollback_once(world: &SandboxWorld, posts: usize) {
    let control = world.handle();
    let c_clear = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config("v2", "x"))
                .pre_step_async(move || {
                    let control = c_clear.clone();
                    async move {
                        control.clear_requests().await;
                        Ok::<(), String>(())
                    }
                })
                .check_async(move |state: State| {
                    let control = control.clone();
                    async move {
                        rolled_back_once(&control, posts).await?;
                        state.expect_attr(ADDR, "version", 4)?;
                        state.expect_attr(ADDR, "status", "succeeded")
                    }
                }),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_rollback_is_reconciled_without_posting_again() {
    let world = start_world().await;
    let control = world.handle();
    // The rollback happens, its answer is lost (a 502 after the effect); later 429s on
    // the POST are retried by the client only because Heroku acted on none of them.
    control
        .add_fault(
            FaultSpec::new(
                502,
                "POST",
                format!("/apps/{}/releases", app_id(&control).await),
            )
            .after_effect(),
        )
        .await;
    rollback_once(&world, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_rollback_is_posted_once_it_is_let_through() {
    let world = start_world().await;
    let control = world.handle();
    control
        .add_fault(
            FaultSpec::new(
                429,
                "POST",
                format!("/apps/{}/releases", app_id(&control).await),
            )
            .retry_after(0),
        )
        .await;
    // The refused POST and the one let through.
    rollback_once(&world, 2).await;
}
