//! Saved plans (`terraform plan -out`, then `terraform apply FILE`), as CI applies a plan
//! reviewed on a pull request. Every applying step of every case already applies a saved plan
//! (tfplugin-testing's default); these tests show what that default cannot:
//! - a plan made stale by another apply is refused by Terraform and changes nothing;
//! - `treeherder_deployment` deploys the commit it planned, not one pushed after the plan;
//! - a write-only password from `ephemeral.treeherder_password` is drawn again at apply
//!   (Terraform 1.11.4) and is the one the account gets: a login with it works;
//! - a one-off dyno applied from a saved plan runs exactly once, and not at plan.
//!
//! Needs the world of `make up` (MariaDB, for the password test), `.tools/bin/terraform`
//! (`make tools`) and the provider binary; without them the tests fail saying so.

#[path = "mysql_common/mod.rs"]
mod mysql_common;

use std::sync::{Arc, Mutex};

use acceptance::harness::{
    heroku_provider_config, treeherder_case, SandboxControl, SandboxWorld, Service, State, Step,
    World, PROVIDER_CONFIG,
};
use acceptance::sandbox::{AppLinkRequest, BuildSettings};
use mysql_async::Conn;
use mysql_common::unique;
use regex::Regex;

const API_KEY: &str = "saved-plans-acceptance-key-3b9e07";
const APP: &str = "treeherder-stage";
const REPO: &str = "mozilla/treeherder";

fn with_provider(resource: &str) -> String {
    format!("{}{resource}", heroku_provider_config(2, 5))
}

/// With the default Terraform (both runs of `make test` cover 1.0.3 and 1.11.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_plan_is_refused_by_terraform_and_changes_nothing() {
    const EMAIL: &str = "alice@mozilla.example";
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    let collaborator = |permissions: &str| {
        with_provider(&format!(
            r#"
resource "treeherder_app_collaborator" "dev" {{
  app         = "{APP}"
  email       = "{EMAIL}"
  permissions = [{permissions}]
}}
"#
        ))
    };
    work.write_config(&collaborator(r#""view""#))
        .expect("config");
    work.init().await.expect("init");
    tf.require_success(work.apply().await.expect("apply runs"))
        .expect("the first apply");
    // A reviewed plan adds a permission; another apply (a second pipeline, a hand) changes
    // the state before it is applied. (Terraform checks staleness against the state the plan
    // was made from; a plan made without any state is not checked, so there is one here.)
    work.write_config(&collaborator(r#""view", "deploy""#))
        .expect("config");
    let (file, planned) = work.plan_file(true).await.expect("plan runs");
    tf.require_success(planned).expect("plan");
    work.write_config(&collaborator(r#""view", "operate""#))
        .expect("config");
    tf.require_success(work.apply().await.expect("apply runs"))
        .expect("the other apply");
    let state_before = std::fs::read_to_string(work.dir().join("terraform.tfstate")).unwrap();
    control.clear_requests().await;

    let stale = work.apply_plan_file(&file).await.expect("apply runs");
    assert!(!stale.success(), "the stale plan was applied");
    let said = format!("{}\n{}", stale.stdout, stale.stderr);
    assert!(
        Regex::new(r"Saved\s+plan\s+is\s+stale")
            .unwrap()
            .is_match(&said),
        "Terraform's refusal: {}",
        tf.redact(&said)
    );
    let writes = control.writes().await;
    assert!(writes.is_empty(), "the stale plan wrote: {writes:?}");
    let collaborators = control.app(APP).await["collaborators"]
        .as_array()
        .map(|all| all.iter().filter(|c| c["email"] == EMAIL).count())
        .unwrap_or_default();
    assert_eq!(collaborators, 1, "one collaborator");
    let permissions = control.app(APP).await["collaborators"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["email"] == EMAIL).cloned())
        .map(|c| c["permissions"].to_string())
        .unwrap_or_default();
    assert!(
        permissions.contains("operate") && !permissions.contains("deploy"),
        "the other apply's permissions stay: {permissions}"
    );
    let state_after = std::fs::read_to_string(work.dir().join("terraform.tfstate")).unwrap();
    assert_eq!(state_before, state_after, "the state was not touched");
    work.destroy().await.expect("destroy");
}

/// The head of `branch` in the sandbox's repository.
async fn head(control: &SandboxControl, branch: &str) -> String {
    control.branch_head(REPO, branch).await
}

fn deployment_config(reference: &str) -> String {
    with_provider(&format!(
        "resource \"treeherder_deployment\" \"stage\" {{\n  app = \"{APP}\"\n  ref = \"{reference}\"\n}}\n"
    ))
}

/// A hook pushing a commit to master (the branch moves while the plan waits for review).
fn push(control: &SandboxControl) -> impl Fn() -> Pushed + Send + Sync + 'static {
    let control = control.clone();
    move || {
        let control = control.clone();
        Box::pin(async move {
            control.push_commit(REPO, "master").await;
            Ok(())
        })
    }
}

type Pushed = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// The commits the app's builds were made of, in order.
async fn built(control: &SandboxControl) -> Vec<String> {
    control.app(APP).await["builds"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|b| {
                    b["source_blob"]["version"]
                        .as_str()
                        .unwrap_or("?")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A saved plan never deploys a commit it did not name. With `ref = "master"` and a push
/// after the plan, Terraform refuses the apply and nothing is built: Terraform plans a create
/// again at apply (without the first plan's values), the provider resolves the newer head,
/// and Terraform rejects the changed `commit`. With the reviewed commit's SHA as `ref`, the
/// saved plan deploys that commit although master moved again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_deployment_plan_deploys_the_planned_commit_or_nothing() {
    const ADDR: &str = "treeherder_deployment.stage";
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
            ms: 200,
            ..BuildSettings::default()
        })
        .await;
    let reviewed = head(&control, "master").await;
    let (c_none, c_check, r_plan, r_check) = (
        control.clone(),
        control.clone(),
        reviewed.clone(),
        reviewed.clone(),
    );
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(deployment_config("master"))
                .after_plan_async(push(&control))
                .expect_error(Regex::new(r"invalid\s+new\s+value\s+for\s+\.commit").unwrap()),
        )
        .step(
            Step::config(deployment_config(&reviewed))
                .pre_step_async(move || {
                    let control = c_none.clone();
                    async move {
                        match built(&control).await {
                            b if b.is_empty() => Ok(()),
                            b => Err(format!("the refused apply built {b:?}")),
                        }
                    }
                })
                .plan_check(move |plan| {
                    let change = plan.change(ADDR).ok_or("the deployment is not planned")?;
                    if change.after["commit"] != r_plan {
                        return Err(format!("the plan names {}", change.after["commit"]));
                    }
                    Ok(())
                })
                .after_plan_async(push(&control))
                .check_async(move |state: State| {
                    let (control, reviewed) = (c_check.clone(), r_check.clone());
                    async move {
                        if head(&control, "master").await == reviewed {
                            return Err("master did not move".to_string());
                        }
                        state.expect_attr(ADDR, "commit", reviewed.as_str())?;
                        match built(&control).await {
                            b if b == [reviewed.clone()] => Ok(()),
                            b => Err(format!("built {b:?}, reviewed {reviewed}")),
                        }
                    }
                }),
        )
        .run()
        .await;
}

/// Logs in as `user` over TLS; the server's error code on failure.
async fn login(world: &World, user: &str, pass: &str) -> Result<(), u16> {
    match Conn::new(mysql_common::opts(world, user, pass, true)).await {
        Ok(conn) => {
            conn.disconnect().await.ok();
            Ok(())
        }
        Err(mysql_async::Error::Server(e)) => Err(e.code),
        Err(other) => panic!("login as {user}: unexpected error {other}"),
    }
}

/// An account whose write-only password comes from `ephemeral.treeherder_password`; a
/// `terraform_data` replaced with each version writes the password of that apply to
/// `pw_file` (a provisioner may read ephemeral values), so the test can log in with it.
fn ephemeral_config(user: &str, version: u64, pw_file: &str) -> String {
    format!(
        r#"{PROVIDER_CONFIG}
ephemeral "treeherder_password" "pw" {{}}

resource "treeherder_readonly_user" "account" {{
  name                = "{user}"
  password_wo         = ephemeral.treeherder_password.pw.result
  password_wo_version = {version}
}}

resource "terraform_data" "pw_probe" {{
  triggers_replace = [{version}]
  provisioner "local-exec" {{
    command     = "printf '%s' \"$PW\" > '{pw_file}'"
    environment = {{ PW = ephemeral.treeherder_password.pw.result }}
  }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_only_password_from_an_ephemeral_resource_is_the_one_drawn_at_apply() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let user = unique("saved_wo");
    let pw_file = std::env::temp_dir().join(format!("{user}.pw"));
    let pw_path = pw_file.to_string_lossy().into_owned();
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));

    // After each apply: the password of that apply logs in, every earlier one is refused.
    let logs_in =
        |world: &Arc<World>, user: &str, file: &std::path::Path, seen: &Arc<Mutex<Vec<String>>>| {
            let (world, user, file, seen) = (
                world.clone(),
                user.to_string(),
                file.to_path_buf(),
                seen.clone(),
            );
            move |_state: State| {
                let (world, user, file, seen) =
                    (world.clone(), user.clone(), file.clone(), seen.clone());
                async move {
                    let pw = std::fs::read_to_string(&file)
                        .map_err(|e| format!("{}: {e}", file.display()))?;
                    if pw.len() != 40 {
                        return Err(format!("the probe wrote {} characters", pw.len()));
                    }
                    login(&world, &user, &pw)
                        .await
                        .map_err(|c| format!("the password of the apply is refused: {c}"))?;
                    let earlier = seen.lock().map_err(|e| e.to_string())?.clone();
                    for old in &earlier {
                        if old == &pw {
                            return Err("the apply drew a password seen before".to_string());
                        }
                        if login(&world, &user, old).await != Err(1045) {
                            return Err("an earlier password still logs in".to_string());
                        }
                    }
                    seen.lock().map_err(|e| e.to_string())?.push(pw);
                    Ok::<(), String>(())
                }
            }
        };
    let no_leak = seen.clone();
    let result = treeherder_case()
        .terraform_latest()
        .envs(world.env().clone())
        .step(
            Step::config(ephemeral_config(&user, 1, &pw_path))
                .check_async(logs_in(&world, &user, &pw_file, &seen)),
        )
        // A new version: the saved plan's apply draws a new password and sets it.
        .step(
            Step::config(ephemeral_config(&user, 2, &pw_path))
                .check_async(logs_in(&world, &user, &pw_file, &seen)),
        )
        .check_logs(move |text| {
            let seen = no_leak.lock().map_err(|e| e.to_string())?;
            if seen.len() != 2 {
                return Err(format!("{} passwords were checked, not 2", seen.len()));
            }
            if seen.iter().any(|pw| text.contains(pw.as_str())) {
                return Err("a drawn password is in the logs".to_string());
            }
            Ok::<(), String>(())
        })
        .try_run()
        .await;
    std::fs::remove_file(&pw_file).ok();
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_dyno_applied_from_a_saved_plan_runs_exactly_once() {
    const COMMAND: &str = "./manage.py clear_cache";
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let config = with_provider(&format!(
        r#"
resource "treeherder_one_off_dyno" "run" {{
  app     = "{APP}"
  command = "{COMMAND}"
  timeouts {{
    create = "2m"
  }}
}}
"#
    ));
    let runs = |control: SandboxControl| async move {
        control.state().await["one_off_runs"]
            .as_array()
            .map(|all| all.iter().filter(|r| r["command"] == COMMAND).count())
            .unwrap_or_default()
    };
    let (c_plan, c_once, c_again) = (control.clone(), control.clone(), control.clone());
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config.clone())
                // Planning (to a file) runs nothing.
                .after_plan_async(move || {
                    let control = c_plan.clone();
                    async move {
                        match runs(control).await {
                            0 => Ok(()),
                            n => Err(format!("{n} runs after planning")),
                        }
                    }
                })
                .check_async(move |state: State| {
                    let control = c_once.clone();
                    async move {
                        state.expect_attr("treeherder_one_off_dyno.run", "exit_status", 0)?;
                        match runs(control).await {
                            1 => Ok(()),
                            n => Err(format!("{n} runs after the apply")),
                        }
                    }
                }),
        )
        // The same configuration again: its saved plan is empty and runs nothing.
        .step(Step::config(config).check_async(move |_state: State| {
            let control = c_again.clone();
            async move {
                match runs(control).await {
                    1 => Ok(()),
                    n => Err(format!("{n} runs after applying an empty plan")),
                }
            }
        }))
        .run()
        .await;
}
