//! `treeherder_deployment` through real Terraform against an in-process sandbox (one per
//! test): a branch deployed with its commit in the plan, the build's output and the release
//! phase followed, a later push planning nothing, `triggers` deploying again; a failing build
//! and a failing release phase failing the apply with their last lines and leaving the
//! deployment tainted; a lost answer to the build request building once.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::{
    heroku_provider_config, treeherder_case, Plan, SandboxControl, SandboxWorld, Step,
    TerraformVersion,
};
use acceptance::sandbox::{
    AppLinkRequest, BuildFailure, BuildSettings, FaultSpec, ReleasePhase, ReleasePhaseFailure,
};
use regex::Regex;
use serde_json::Value;

const API_KEY: &str = "deployment-acceptance-key-6a1f0c93";
const ADDR: &str = "treeherder_deployment.stage";
const APP: &str = "treeherder-stage";
const REPO: &str = "mozilla/treeherder";

fn config(reference: &str, extra: &str) -> String {
    format!(
        r#"{}
resource "treeherder_deployment" "stage" {{
  app = "{APP}"
  ref = "{reference}"
{extra}}}
"#,
        heroku_provider_config(2, 5)
    )
}

/// A sandbox with the app linked to the repository, builds and release phases that take a
/// moment (so their output is streamed while they run).
async fn start_world() -> SandboxWorld {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    control
        .set_app_github(AppLinkRequest {
            app: APP.to_string(),
            repo: Some(REPO.to_string()),
            branch: Some("master".to_string()),
            ..AppLinkRequest::default()
        })
        .await;
    control
        .set_builds(BuildSettings {
            ms: 400,
            ..BuildSettings::default()
        })
        .await;
    control.set_release_phase_ms(300).await;
    world
}

/// The head of `branch` in the sandbox's repository.
async fn head(control: &SandboxControl, branch: &str) -> String {
    control.branch_head(REPO, branch).await
}

async fn builds(control: &SandboxControl) -> Vec<Value> {
    control.app(APP).await["builds"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn expect_actions(plan: &Plan, expected: &[&str]) -> Result<(), String> {
    let change = plan
        .change(ADDR)
        .ok_or("the deployment is not in the plan")?;
    if change.actions == expected {
        Ok(())
    } else {
        Err(format!("expected {expected:?}, got {:?}", change.actions))
    }
}

/// The plan of a new deployment names the commit.
fn expect_planned_commit(plan: &Plan, sha: &str) -> Result<(), String> {
    let change = plan
        .change(ADDR)
        .ok_or("the deployment is not in the plan")?;
    if change.after["commit"] == sha {
        Ok(())
    } else {
        Err(format!(
            "the plan does not name commit {sha}: after = {}, unknown = {}",
            change.after, change.after_unknown
        ))
    }
}

/// The state matches the newest build and the release it made.
async fn expect_deployed(
    control: &SandboxControl,
    state: &acceptance::harness::State,
    sha: &str,
    builds_expected: usize,
) -> Result<(), String> {
    let all = builds(control).await;
    if all.len() != builds_expected {
        return Err(format!("expected {builds_expected} builds, got {all:?}"));
    }
    let build = all.last().ok_or("no build")?;
    if build["source_blob"]["version"] != sha || build["status"] != "succeeded" {
        return Err(format!(
            "the build is not a succeeded build of {sha}: {build}"
        ));
    }
    let app = control.app(APP).await;
    let release = app["releases"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == build["release_id"]))
        .ok_or("the build's release is not in the sandbox")?;
    if release["status"] != "succeeded" {
        return Err(format!("the release phase did not succeed: {release}"));
    }
    state.expect_attr(ADDR, "commit", sha)?;
    state.expect_attr(ADDR, "build_id", build["id"].clone())?;
    state.expect_attr(ADDR, "release_version", release["version"].clone())?;
    state.expect_attr(ADDR, "status", "succeeded")?;
    state.expect_attr(ADDR, "repo", REPO)?;
    let tail = state.attr_str(ADDR, "output_tail").unwrap_or_default();
    if !tail.contains("-----> Launching...") || !tail.contains("No migrations to apply.") {
        return Err(format!(
            "output_tail lacks the build's and release phase's lines: {tail}"
        ));
    }
    Ok(())
}

async fn deploys_a_branch(terraform: TerraformVersion) {
    let world = start_world().await;
    let control = world.handle();
    let master = head(&control, "master").await;
    let (c1, c_push, c3, c_destroy) = (
        control.clone(),
        control.clone(),
        control.clone(),
        control.clone(),
    );
    let (m1, m2) = (master.clone(), master.clone());
    let pushed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (p_set, p_plan, p_check) = (pushed.clone(), pushed.clone(), pushed.clone());
    treeherder_case()
        .terraform(terraform)
        .envs(world.env())
        .step(
            Step::config(config("master", ""))
                .plan_check(move |plan| {
                    expect_actions(plan, &["create"])?;
                    expect_planned_commit(plan, &m1)
                })
                .check_async(move |state| {
                    let control = c1.clone();
                    let master = m2.clone();
                    async move { expect_deployed(&control, &state, &master, 1).await }
                }),
        )
        // A push to the branch plans nothing: the deployment is of the commit it named.
        .step(
            Step::config(config("master", ""))
                .pre_step_async(move || {
                    let control = c_push.clone();
                    let pushed = p_set.clone();
                    async move {
                        let answer = control.push_commit(REPO, "master").await;
                        *pushed.lock().map_err(|e| e.to_string())? =
                            answer["sha"].as_str().unwrap_or_default().to_string();
                        Ok::<(), String>(())
                    }
                })
                .plan_only(),
        )
        // New triggers deploy again, now the pushed commit.
        .step(
            Step::config(config(
                "master",
                "  triggers = { reset = \"2026-12-01\" }\n",
            ))
            .plan_check(move |plan| {
                expect_actions(plan, &["delete", "create"])?;
                let sha = p_plan.lock().map_err(|e| e.to_string())?.clone();
                expect_planned_commit(plan, &sha)
            })
            .check_async(move |state| {
                let control = c3.clone();
                let sha = p_check.lock().map(|s| s.clone()).unwrap_or_default();
                async move { expect_deployed(&control, &state, &sha, 2).await }
            }),
        )
        .check_destroy_async(move |_| {
            let control = c_destroy.clone();
            async move {
                // Destroy forgets: no build, no release.
                match builds(&control).await.len() {
                    2 => Ok(()),
                    n => Err(format!("destroy changed the builds: {n}")),
                }
            }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_a_branch_with_the_commit_in_the_plan() {
    deploys_a_branch(TerraformVersion::Default).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_a_branch_with_the_commit_in_the_plan_with_recent_terraform() {
    deploys_a_branch(TerraformVersion::Latest).await;
}

/// A failing build, then a failing release phase: each fails the apply with its last lines
/// and leaves the deployment tainted (the next plan replaces it), then a deploy succeeds.
async fn failures_are_errors_and_taint(terraform: TerraformVersion) {
    let world = start_world().await;
    let control = world.handle();
    let (c_build, c_phase, c_ok) = (control.clone(), control.clone(), control.clone());
    let tag = "v2021.03.01";
    treeherder_case()
        .terraform(terraform)
        .envs(world.env())
        .step(
            Step::config(config(tag, ""))
                .pre_step_async(move || {
                    let control = c_build.clone();
                    async move {
                        control
                            .set_builds(BuildSettings { ms: 400, fail: vec![BuildFailure { app: APP.to_string(), count: 1, message: Some("pip install exited with status 1".to_string()) }] })
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .expect_error(
                    Regex::new(r"(?s)Build of treeherder-stage failed.*pip install exited with\s+status 1.*tainted")
                        .unwrap(),
                ),
        )
        .step(
            Step::config(config(tag, ""))
                .pre_step_async(move || {
                    let control = c_phase.clone();
                    async move {
                        control
                            .set_release_phase(ReleasePhase { ms: 300, fail: vec![ReleasePhaseFailure { app: APP.to_string(), count: 1 }] })
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .plan_check(|plan| expect_actions(plan, &["delete", "create"]))
                .expect_error(
                    Regex::new(r"(?s)Release v\d+ of treeherder-stage failed.*release command\s+exited\s+with\s+status\s+1")
                        .unwrap(),
                ),
        )
        .step(
            Step::config(config(tag, ""))
                .plan_check(|plan| expect_actions(plan, &["delete", "create"]))
                .check_async(move |state| {
                    let control = c_ok.clone();
                    async move {
                        state.expect_attr(ADDR, "status", "succeeded")?;
                        // The failed build, the build whose release phase failed, this one.
                        match builds(&control).await.len() {
                            3 => Ok(()),
                            n => Err(format!("expected 3 builds, got {n}")),
                        }
                    }
                }),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_builds_and_release_phases_fail_the_apply_tainted() {
    failures_are_errors_and_taint(TerraformVersion::Default).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_builds_and_release_phases_fail_the_apply_tainted_with_recent_terraform() {
    failures_are_errors_and_taint(TerraformVersion::Latest).await;
}

/// The answer to the build request is lost (the build was made): the provider finds it in the
/// build list by its version instead of building again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_build_answer_builds_once() {
    let world = start_world().await;
    let control = world.handle();
    let app_id = control.app(APP).await["id"]
        .as_str()
        .map(str::to_string)
        .expect("the app's id");
    control
        .add_fault(FaultSpec {
            after_effect: true,
            ..FaultSpec::new(503, "POST", format!("/apps/{app_id}/builds"))
        })
        .await;
    let c1 = control.clone();
    treeherder_case()
        .terraform(TerraformVersion::Latest)
        .envs(world.env())
        .step(
            Step::config(config("master", "")).check_async(move |state| {
                let control = c1.clone();
                async move {
                    let posts = control
                        .requests()
                        .await
                        .into_iter()
                        .filter(|r| r.method == "POST" && r.path.ends_with("/builds"))
                        .count();
                    if posts != 1 {
                        return Err(format!("expected one build request, got {posts}"));
                    }
                    let master = head(&control, "master").await;
                    expect_deployed(&control, &state, &master, 1).await
                }
            }),
        )
        .run()
        .await;
}

/// "The former code revision": an abbreviated SHA of a private repository the app is not
/// linked to. The plan names the full commit; the tarball link comes from the GitHub
/// integration service (no token in the URL), and the build uses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_a_sha_of_a_private_repository() {
    let world = start_world().await;
    let control = world.handle();
    let state = control.state().await;
    let sha = state["github"]["repos"]
        .as_array()
        .and_then(|repos| {
            repos
                .iter()
                .find(|r| r["full_name"] == "mozilla/treeherder-private")
        })
        .and_then(|r| r["branches"]["main"].as_str())
        .map(str::to_string)
        .expect("the private repository's head");
    let short = sha[..12].to_string();
    let (planned, c1) = (sha.clone(), control.clone());
    let hcl = format!(
        r#"{}
resource "treeherder_deployment" "stage" {{
  app  = "treeherder-prototype"
  repo = "mozilla/treeherder-private"
  ref  = "{short}"
}}
"#,
        heroku_provider_config(2, 5)
    );
    treeherder_case()
        .terraform(TerraformVersion::Latest)
        .envs(world.env())
        .step(
            Step::config(hcl)
                .plan_check(move |plan| expect_planned_commit(plan, &planned))
                .check_async(move |state| {
                    let control = c1.clone();
                    let sha = sha.clone();
                    async move {
                        state.expect_attr(ADDR, "commit", sha.as_str())?;
                        state.expect_attr(ADDR, "status", "succeeded")?;
                        let app = control.app("treeherder-prototype").await;
                        let build = app["builds"]
                            .as_array()
                            .and_then(|b| b.last().cloned())
                            .ok_or("no build")?;
                        let url = build["source_blob"]["url"].as_str().unwrap_or_default();
                        if !url.contains("/github-archive/") || url.contains("token") {
                            return Err(format!(
                                "the build's source is not an integration link: {url}"
                            ));
                        }
                        Ok::<(), String>(())
                    }
                }),
        )
        .run()
        .await;
}
