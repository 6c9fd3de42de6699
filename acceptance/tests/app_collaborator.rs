//! `treeherder_app_collaborator` through real Terraform against an in-process sandbox (one per
//! test): the life cycle on a team app with both Terraform versions (create, import, update of
//! permissions in place, drift, replacement by another e-mail, destroy that waits until
//! Heroku stops listing the collaborator), a personal app (no permissions), plan- and
//! apply-time errors, and a rate limit plus lost answers while adding.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::plancheck::{
    expect_resource_action, expect_resource_action_in, ExpectedAction,
};
use acceptance::harness::treeherder_case;
use acceptance::harness::{
    heroku_provider_config, SandboxControl, SandboxWorld, Step, TerraformVersion,
};
use acceptance::sandbox::{FaultApi, FaultSpec};
use regex::Regex;
use reqwest::Method;
use serde_json::{json, Value};

const API_KEY: &str = "collaborator-acceptance-key-5d81c7a2";
const ADDR: &str = "treeherder_app_collaborator.dev";
const APP: &str = "treeherder-prod";
/// Seeded team members and an outside account.
const ALICE: &str = "alice@mozilla.example";
const BOB: &str = "bob@mozilla.example";
const CAROL: &str = "carol@contractor.example";
/// GETs that still show a deleted collaborator in these tests.
const LINGER: u32 = 3;

fn provider_block() -> String {
    heroku_provider_config(3, 5)
}

fn config(app: &str, email: &str, permissions: Option<&[&str]>, extra: &str) -> String {
    let permissions = match permissions {
        Some(p) => format!(
            "  permissions = [{}]\n",
            p.iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    };
    format!(
        r#"{}
resource "treeherder_app_collaborator" "dev" {{
  app   = "{app}"
  email = "{email}"
{permissions}{extra}}}
"#,
        provider_block()
    )
}

/// The collaborator entries of an app in the sandbox, deleted-but-still-listed ones included.
async fn entries(control: &SandboxControl, app: &str, email: &str) -> Vec<Value> {
    control.app(app).await["collaborators"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|c| c["email"] == email)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The one live collaborator `email` of `app`, or why not.
async fn live(control: &SandboxControl, app: &str, email: &str) -> Result<Value, String> {
    let found = entries(control, app, email).await;
    match found.as_slice() {
        [one] if one["lingering_gets"].is_null() => Ok(one.clone()),
        other => Err(format!("expected one live {email} on {app}, got {other:?}")),
    }
}

fn permissions_of(c: &Value) -> Vec<String> {
    let mut p: Vec<String> = c["permissions"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    p.sort();
    p
}

/// Checks that the DELETE of `email` was followed by GETs that still found it (Heroku's
/// lingering listing) and a last one that did not: the provider waited until it was gone.
async fn expect_waited_until_gone(control: &SandboxControl, email: &str) -> Result<(), String> {
    let requests = control.requests().await;
    let deleted = requests
        .iter()
        .rposition(|r| r.method == "DELETE" && r.path.ends_with(&format!("/collaborators/{email}")))
        .ok_or_else(|| format!("no DELETE of {email} in the request log"))?;
    let after: Vec<u64> = requests[deleted + 1..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/collaborators/{email}")))
        .map(|r| u64::from(r.status))
        .collect();
    let expected: Vec<u64> = std::iter::repeat_n(200, LINGER as usize)
        .chain([404])
        .collect();
    if after != expected {
        return Err(format!(
            "GETs of {email} after its DELETE answered {after:?}, expected {expected:?}"
        ));
    }
    if !entries(control, APP, email).await.is_empty() {
        return Err(format!("{email} is still in the sandbox"));
    }
    Ok(())
}

async fn start_world() -> SandboxWorld {
    let world = SandboxWorld::start(API_KEY).await;
    world.handle().set_collaborator_linger(LINGER).await;
    world
}

/// Create, import, permissions changed in place, drift from the dashboard, another e-mail
/// (replacement), destroy; each removal waits until Heroku no longer lists the collaborator.
async fn life_cycle(terraform: TerraformVersion) {
    let world = start_world().await;
    let control = world.handle();
    let (c1, c3, c_drift, c5, c6, c_destroy) = (
        control.clone(),
        control.clone(),
        control.clone(),
        control.clone(),
        control.clone(),
        control.clone(),
    );
    treeherder_case()
        .terraform(terraform)
        .envs(world.env())
        .step(
            Step::config(config(
                APP,
                ALICE,
                Some(&["view", "deploy"]),
                "  silent = true\n",
            ))
            .plan_checks([expect_resource_action(ADDR, ExpectedAction::Create)])
            .check_async(move |state| {
                let control = c1.clone();
                async move {
                    let remote = live(&control, APP, ALICE).await?;
                    if permissions_of(&remote) != ["deploy", "view"] {
                        return Err(format!("alice in the sandbox: {remote}"));
                    }
                    state.expect_attr(ADDR, "id", remote["id"].clone())?;
                    state.expect_attr(ADDR, "role", "member")?;
                    state.expect_attr(ADDR, "silent", true)?;
                    state.expect_attr_set(ADDR, "app_id")?;
                    Ok::<(), String>(())
                }
            }),
        )
        // Import by `<app>:<email>` reproduces the state (silent only matters when adding,
        // so an import cannot know it).
        .step(
            Step::import(ADDR)
                .import_id(format!("{APP}:{ALICE}"))
                .verify_import(["silent"]),
        )
        .step(
            Step::config(config(
                APP,
                ALICE,
                Some(&["view", "deploy", "operate"]),
                "  silent = true\n",
            ))
            .plan_check(|plan| {
                expect_resource_action_in(plan, ADDR, ExpectedAction::Update)?;
                let changed = plan.change(ADDR).map(|c| c.changed_attributes());
                match changed {
                    Some(c) if c.iter().eq(["permissions"].iter()) => Ok(()),
                    other => Err(format!(
                        "expected only permissions to change, got {other:?}"
                    )),
                }
            })
            .check_async(move |_| {
                let control = c3.clone();
                async move {
                    let remote = live(&control, APP, ALICE).await?;
                    if permissions_of(&remote) == ["deploy", "operate", "view"] {
                        Ok(())
                    } else {
                        Err(format!("alice in the sandbox: {remote}"))
                    }
                }
            }),
        )
        // Permissions cut back in the dashboard: the refreshed plan shows it and restores them.
        .step(
            Step::config(config(
                APP,
                ALICE,
                Some(&["view", "deploy", "operate"]),
                "  silent = true\n",
            ))
            .pre_step_async(move || {
                let control = c_drift.clone();
                async move {
                    control
                        .heroku(
                            Method::PATCH,
                            &format!("/teams/apps/{APP}/collaborators/{ALICE}"),
                            Some(json!({ "permissions": ["view"] })),
                        )
                        .await;
                    Ok::<(), String>(())
                }
            })
            .plan_only()
            .expect_non_empty_plan()
            .plan_check(|plan| {
                expect_resource_action_in(plan, ADDR, ExpectedAction::Update)?;
                let change = plan.change(ADDR).ok_or("no change")?;
                if change.before["permissions"] != json!(["view"]) {
                    return Err(format!("drift not shown: {}", change.before));
                }
                Ok::<(), String>(())
            }),
        )
        .step(
            Step::config(config(
                APP,
                ALICE,
                Some(&["view", "deploy", "operate"]),
                "  silent = true\n",
            ))
            .check_async(move |_| {
                let control = c5.clone();
                async move {
                    let remote = live(&control, APP, ALICE).await?;
                    if permissions_of(&remote) == ["deploy", "operate", "view"] {
                        Ok(())
                    } else {
                        Err(format!("drift not repaired: {remote}"))
                    }
                }
            }),
        )
        // Another e-mail replaces the collaborator: alice is removed (and waited for), bob added.
        .step(
            Step::config(config(APP, BOB, Some(&["view", "operate"]), ""))
                .plan_check(|plan| {
                    expect_resource_action_in(plan, ADDR, ExpectedAction::DestroyBeforeCreate)?;
                    let change = plan.change(ADDR).ok_or("no change")?;
                    if change.after_unknown["id"] != true {
                        return Err(format!(
                            "the new id is not unknown: {}",
                            change.after_unknown
                        ));
                    }
                    Ok::<(), String>(())
                })
                .check_async(move |state| {
                    let control = c6.clone();
                    async move {
                        expect_waited_until_gone(&control, ALICE).await?;
                        let remote = live(&control, APP, BOB).await?;
                        state.expect_attr(ADDR, "id", remote["id"].clone())?;
                        state.expect_attr(ADDR, "email", BOB)?;
                        Ok::<(), String>(())
                    }
                }),
        )
        .check_destroy_async(move |_| {
            let control = c_destroy.clone();
            async move { expect_waited_until_gone(&control, BOB).await }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_cycle_on_a_team_app() {
    life_cycle(TerraformVersion::Default).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_cycle_on_a_team_app_with_recent_terraform() {
    life_cycle(TerraformVersion::Latest).await;
}

/// A personal app: collaborators without permissions; giving some fails the plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_app_takes_no_permissions() {
    let world = start_world().await;
    let control = world.handle();
    let personal = "treeherder-personal";
    let c_create = control.clone();
    let c_check = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config(personal, CAROL, None, ""))
                .pre_step_async(move || {
                    let control = c_create.clone();
                    async move {
                        control
                            .heroku(Method::POST, "/apps", Some(json!({ "name": personal })))
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .check_async(move |state| {
                    let control = c_check.clone();
                    async move {
                        let remote = live(&control, personal, CAROL).await?;
                        state.expect_attr(ADDR, "id", remote["id"].clone())?;
                        state.expect_attr(ADDR, "role", "collaborator")?;
                        state.expect_attr(ADDR, "permissions", Value::Null)?;
                        Ok::<(), String>(())
                    }
                }),
        )
        .step(Step::import(ADDR).import_id(format!("{personal}:{CAROL}")).verify_import(Vec::<String>::new()))
        .step(
            Step::config(config(personal, CAROL, Some(&["view", "deploy"]), ""))
                .plan_only()
                .expect_error(
                    Regex::new(r"(?s)Permissions on a personal app.*treeherder-personal is a\s+personal app")
                        .unwrap(),
                ),
        )
        // Valid again, for the final destroy.
        .step(Step::config(config(personal, CAROL, None, "")))
        .run()
        .await;
}

/// Plan-time errors name the attribute and what it accepts; an e-mail Heroku does not know
/// fails the apply naming it, and nothing is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_permissions_and_unknown_emails_are_clear_errors() {
    let world = start_world().await;
    let control = world.handle();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config(APP, ALICE, None, ""))
                .plan_only()
                .expect_error(
                    Regex::new(r"(?s)Missing permissions.*belongs to the team mozilla").unwrap(),
                ),
        )
        .step(
            Step::config(config(APP, ALICE, Some(&["view", "admin"]), ""))
                .plan_only()
                .expect_error(
                    Regex::new(r#"(?s)no permission "admin".*view,\s+deploy,\s+operate,\s+manage"#)
                        .unwrap(),
                ),
        )
        .step(
            Step::config(config(APP, ALICE, Some(&["deploy"]), ""))
                .plan_only()
                .expect_error(Regex::new(r#"(?s)include "view""#).unwrap()),
        )
        .step(
            Step::config(config(APP, "nobody@nowhere.example", Some(&["view"]), ""))
                .expect_error(
                    Regex::new(r"(?s)Unknown Heroku account.*no account with the e-mail\s+nobody@nowhere.example")
                        .unwrap(),
                ),
        )
        .step(Step::config(provider_block()))
        .run()
        .await;
    let state = control.app(APP).await;
    let strangers = state["collaborators"].as_array().map(|c| {
        c.iter()
            .filter(|c| c["email"] == "nobody@nowhere.example")
            .count()
    });
    assert_eq!(strangers, Some(0));
}

/// A 429, a 503 that did nothing and a 503 whose collaborator was added (a lost answer)
/// while adding: one collaborator with the right permissions, no failure, no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_and_lost_answers_while_adding_make_one_collaborator() {
    let world = start_world().await;
    let control = world.handle();
    let c_faults = control.clone();
    let c_check = control.clone();
    let path = format!("/teams/apps/{APP}/collaborators");
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config(APP, ALICE, Some(&["view", "operate"]), ""))
                .pre_step_async(move || {
                    let control = c_faults.clone();
                    let path = path.clone();
                    async move {
                        let post = |status| {
                            FaultSpec::new(status, "POST", path.clone()).api(FaultApi::Heroku)
                        };
                        for fault in [
                            post(429).retry_after(0),
                            post(503),
                            post(503).after_effect(),
                        ] {
                            control.add_fault(fault).await;
                        }
                        control.clear_requests().await;
                        Ok::<(), String>(())
                    }
                })
                .check_async(move |state| {
                    let control = c_check.clone();
                    async move {
                        if !control.faults().await.is_empty() {
                            return Err("not every fault was met".to_string());
                        }
                        let posts: Vec<u64> = control
                            .requests()
                            .await
                            .iter()
                            .filter(|r| r.method == "POST")
                            .map(|r| u64::from(r.status))
                            .collect();
                        if posts != [429, 503, 503] {
                            return Err(format!("POSTs answered {posts:?}"));
                        }
                        let remote = live(&control, APP, ALICE).await?;
                        if permissions_of(&remote) != ["operate", "view"] {
                            return Err(format!("alice in the sandbox: {remote}"));
                        }
                        state.expect_attr(ADDR, "id", remote["id"].clone())?;
                        Ok::<(), String>(())
                    }
                }),
        )
        .run()
        .await;
}
