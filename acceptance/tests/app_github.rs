//! `treeherder_app_github` through real Terraform against an in-process sandbox (one per
//! test): linking and settings, drift from the dashboard, import by app name and by UUID,
//! both destroy modes, adopting an existing link, and the plan-time errors (unknown branch,
//! another repository, no GitHub account linked to the Heroku account).
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::{
    heroku_provider_config, treeherder_case, Plan, SandboxControl, SandboxWorld, Step,
    TerraformVersion,
};
use acceptance::sandbox::AppLinkRequest;
use regex::Regex;
use serde_json::Value;

const API_KEY: &str = "app-github-acceptance-key-0b3e91f4";
const ADDR: &str = "treeherder_app_github.stage";
const APP: &str = "treeherder-stage";
const REPO: &str = "mozilla/treeherder";
const REPO_ID: i64 = 19_977_831;

fn config(app: &str, repo: &str, branch: &str, extra: &str) -> String {
    format!(
        r#"{}
resource "treeherder_app_github" "stage" {{
  app    = "{app}"
  repo   = "{repo}"
  branch = "{branch}"
{extra}}}
"#,
        heroku_provider_config(2, 5)
    )
}

/// The sandbox's link of `app`, if any.
async fn link(control: &SandboxControl, app: &str) -> Option<Value> {
    let state = control.state().await;
    let app_id = state["apps"]
        .as_array()?
        .iter()
        .find(|a| a["name"] == app)?["id"]
        .clone();
    state["github"]["app_links"]
        .as_array()?
        .iter()
        .find(|l| l["app_id"] == app_id)
        .cloned()
}

fn expect_link(found: Option<Value>, branch: &str, auto: bool, ci: bool) -> Result<(), String> {
    let found = found.ok_or("the app is not linked in the sandbox")?;
    if found["repo"] == REPO
        && found["branch"] == branch
        && found["auto_deploy"] == auto
        && found["wait_for_ci"] == ci
    {
        Ok(())
    } else {
        Err(format!(
            "expected {REPO} {branch} auto_deploy={auto} wait_for_ci={ci}, got {found}"
        ))
    }
}

fn expect_actions(plan: &Plan, expected: &[&str]) -> Result<(), String> {
    let change = plan.change(ADDR).ok_or("the link is not in the plan")?;
    if change.actions == expected {
        Ok(())
    } else {
        Err(format!("expected {expected:?}, got {:?}", change.actions))
    }
}

/// Link, import (by name and UUID), settings changed in place, drift from the dashboard
/// repaired, destroy (default): automatic deploys off, link kept.
async fn life_cycle(terraform: TerraformVersion) {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let app_id = control.app(APP).await["id"]
        .as_str()
        .map(str::to_string)
        .expect("the app's id");
    let (c1, c2, c_drift, c4, c_destroy) = (
        control.clone(),
        control.clone(),
        control.clone(),
        control.clone(),
        control.clone(),
    );
    let settings = "  auto_deploy = true\n  wait_for_ci = true\n";
    let id = app_id.clone();
    treeherder_case()
        .terraform(terraform)
        .envs(world.env())
        .step(
            Step::config(config(APP, REPO, "master", settings))
                .plan_check(|plan| expect_actions(plan, &["create"]))
                .check_async(move |state| {
                    let control = c1.clone();
                    let id = id.clone();
                    async move {
                        expect_link(link(&control, APP).await, "master", true, true)?;
                        state.expect_attr(ADDR, "id", id.as_str())?;
                        state.expect_attr(ADDR, "repo_id", REPO_ID)?;
                        state.expect_attr(ADDR, "on_destroy", "disable")?;
                        Ok::<(), String>(())
                    }
                }),
        )
        .step(
            Step::import(ADDR)
                .import_id(APP)
                .verify_import(Vec::<String>::new()),
        )
        .step(
            Step::import(ADDR)
                .import_id(app_id.clone())
                .verify_import(["app"]),
        )
        .step(
            Step::config(config(APP, REPO, "production", "  auto_deploy = true\n"))
                .plan_check(|plan| {
                    expect_actions(plan, &["update"])?;
                    let changed = plan.change(ADDR).map(|c| c.changed_attributes());
                    match changed {
                        Some(c) if c.iter().eq(["branch", "wait_for_ci"].iter()) => Ok(()),
                        other => Err(format!("expected branch and wait_for_ci, got {other:?}")),
                    }
                })
                .check_async(move |_| {
                    let control = c2.clone();
                    async move { expect_link(link(&control, APP).await, "production", true, false) }
                }),
        )
        // Changed in the dashboard: the refreshed plan shows it.
        .step(
            Step::config(config(APP, REPO, "production", "  auto_deploy = true\n"))
                .pre_step_async(move || {
                    let control = c_drift.clone();
                    async move {
                        control
                            .set_app_github(AppLinkRequest {
                                app: APP.to_string(),
                                branch: Some("master".to_string()),
                                auto_deploy: Some(false),
                                ..AppLinkRequest::default()
                            })
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    expect_actions(plan, &["update"])?;
                    let change = plan.change(ADDR).ok_or("no change")?;
                    if change.before["branch"] != "master" || change.before["auto_deploy"] != false
                    {
                        return Err(format!("drift not shown: {}", change.before));
                    }
                    Ok::<(), String>(())
                }),
        )
        .step(
            Step::config(config(APP, REPO, "production", "  auto_deploy = true\n")).check_async(
                move |_| {
                    let control = c4.clone();
                    async move { expect_link(link(&control, APP).await, "production", true, false) }
                },
            ),
        )
        .check_destroy_async(move |_| {
            let control = c_destroy.clone();
            async move { expect_link(link(&control, APP).await, "production", false, false) }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_cycle_disables_on_destroy() {
    life_cycle(TerraformVersion::Default).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_cycle_disables_on_destroy_with_recent_terraform() {
    life_cycle(TerraformVersion::Latest).await;
}

/// An app already linked to the repository in the dashboard is adopted (no second link is
/// posted); `on_destroy = "disconnect"` removes the link.
async fn adopt_and_disconnect(terraform: TerraformVersion) {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    control
        .set_app_github(AppLinkRequest {
            app: APP.to_string(),
            repo: Some(REPO.to_string()),
            branch: Some("production".to_string()),
            auto_deploy: Some(true),
            ..AppLinkRequest::default()
        })
        .await;
    let (c1, c_destroy) = (control.clone(), control.clone());
    treeherder_case()
        .terraform(terraform)
        .envs(world.env())
        .step(
            Step::config(config(
                APP,
                "Mozilla/Treeherder",
                "master",
                "  on_destroy = \"disconnect\"\n",
            ))
            .check_async(move |state| {
                let control = c1.clone();
                async move {
                    expect_link(link(&control, APP).await, "master", false, false)?;
                    let posted = control
                        .requests()
                        .await
                        .into_iter()
                        .any(|r| r.method == "POST" && r.path.ends_with("/github"));
                    if posted {
                        return Err("the existing link was not adopted: a link was posted".into());
                    }
                    state.expect_attr(ADDR, "repo", "Mozilla/Treeherder")?;
                    Ok::<(), String>(())
                }
            }),
        )
        .check_destroy_async(move |_| {
            let control = c_destroy.clone();
            async move {
                match link(&control, APP).await {
                    None => Ok(()),
                    Some(l) => Err(format!("still linked after disconnect: {l}")),
                }
            }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_a_link_and_disconnects() {
    adopt_and_disconnect(TerraformVersion::Default).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_a_link_and_disconnects_with_recent_terraform() {
    adopt_and_disconnect(TerraformVersion::Latest).await;
}

/// Plan-time errors: a branch the repository lacks (at `branch`), an app linked to another
/// repository (naming it, at `repo`), and a Heroku account without a GitHub account, whose
/// message says exactly that and never suggests a bad API key.
async fn refusals(terraform: TerraformVersion) {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let (c_other, c_unlink, c_relink) = (control.clone(), control.clone(), control.clone());
    treeherder_case()
        .terraform(terraform)
        .envs(world.env())
        .step(
            Step::config(config(APP, REPO, "no-such-branch", ""))
                .expect_error(Regex::new(r#"(?s)Unknown branch.*no branch\s+"no-such-branch""#).unwrap()),
        )
        .step(
            Step::config(config(APP, REPO, "master", ""))
                .pre_step_async(move || {
                    let control = c_other.clone();
                    async move {
                        control
                            .set_app_github(AppLinkRequest {
    app: APP.to_string(),
    repo: Some("mozilla/treeherder-private".to_string()),
    ..AppLinkRequest::default()
})
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .expect_error(
                    Regex::new(r"(?s)linked to the GitHub repository\s+mozilla/treeherder-private")
                        .unwrap(),
                ),
        )
        .step(
            Step::config(config("treeherder-prod", REPO, "production", ""))
                .pre_step_async(move || {
                    let control = c_unlink.clone();
                    async move {
                        control.set_github_account_linked(false).await;
                        Ok::<(), String>(())
                    }
                })
                .expect_error(
                    Regex::new(r"(?s)No GitHub account linked to Heroku.*API\s+key\s+itself\s+is\s+valid.*Connect\s+to\s+GitHub")
                        .unwrap(),
                ),
        )
        // Once a GitHub account is linked, the same configuration applies.
        .step(
            Step::config(config("treeherder-prod", REPO, "production", "")).pre_step_async(
                move || {
                    let control = c_relink.clone();
                    async move {
                        control.set_github_account_linked(true).await;
                        Ok::<(), String>(())
                    }
                },
            ),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_unknown_branches_other_repos_and_unlinked_accounts() {
    refusals(TerraformVersion::Default).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_unknown_branches_other_repos_and_unlinked_accounts_with_recent_terraform() {
    refusals(TerraformVersion::Latest).await;
}
