//! `kill -9` of Terraform during a create, then apply again: each create recognises the
//! object its killed apply made and takes it instead of making a second one, with real
//! Terraform against an in-process sandbox (one per test).
//!
//! Each test holds the sandbox's answer to the creating POST (the POST itself is performed),
//! waits until it is held, kills Terraform's whole process group with SIGKILL (the provider
//! dies too, nothing is saved), releases the answer, applies again, and counts the remote
//! objects: one rollback release, one one-off run (still running, or finished before the
//! next apply), one collaborator; the next plan is empty. A rollback with a deploy after it is
//! not taken, and a collaborator with other permissions stays an error.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use std::time::Duration;

use acceptance::harness::{
    heroku_provider_config, SandboxControl, SandboxWorld, State, Terraform, Workspace,
};
use acceptance::sandbox::{LoggedRequest, OneOffCommandFields};
use reqwest::Method;
use serde_json::{json, Value};

const API_KEY: &str = "kill-converge-acceptance-key-7c3e91";
/// Longest wait for Terraform to reach the held request (init, plan and apply included).
const HOLD_BOUND: Duration = Duration::from_secs(120);

/// A sandbox of the test's own, its control handle, and a Terraform for it.
async fn start() -> (SandboxWorld, SandboxControl, Terraform) {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let tf = world.terraform();
    (world, control, tf)
}

fn with_provider(resource: &str) -> String {
    format!("{}{resource}", heroku_provider_config(2, 5))
}

/// A `timeouts` block long enough for a create to wait out a release phase or a run.
const CREATE_TIMEOUT: &str = "  timeouts {\n    create = \"2m\"\n  }\n";

/// A rollback of `app` to v2, with `timeouts` (a block or nothing).
fn rollback_hcl(app: &str, timeouts: &str) -> String {
    with_provider(&format!(
        r#"
resource "treeherder_release_rollback" "stage" {{
  app     = "{app}"
  release = "v2"
{timeouts}}}
"#
    ))
}

/// A one-off run of `command` on `app`, with `timeouts` (a block or nothing).
fn one_off_hcl(app: &str, command: &str, timeouts: &str) -> String {
    with_provider(&format!(
        r#"
resource "treeherder_one_off_dyno" "run" {{
  app     = "{app}"
  command = "{command}"
{timeouts}}}
"#
    ))
}

/// `email` as a collaborator of `app` who may view and deploy.
fn collaborator_hcl(app: &str, email: &str) -> String {
    with_provider(&format!(
        r#"
resource "treeherder_app_collaborator" "dev" {{
  app         = "{app}"
  email       = "{email}"
  permissions = ["view", "deploy"]
}}
"#
    ))
}

async fn app_id(control: &SandboxControl, app: &str) -> String {
    control.app(app).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The entries of the JSON array `list` whose `key` is `value`.
fn entries_where(list: &Value, key: &str, value: &str) -> Vec<Value> {
    list.as_array()
        .map(|all| all.iter().filter(|e| e[key] == value).cloned().collect())
        .unwrap_or_default()
}

fn posts_to(requests: &[LoggedRequest], path: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count()
}

/// In a new workspace, writes `hcl`, starts `terraform apply`, holds the answer to the first
/// POST to `path`, kills Terraform (SIGKILL to its process group) once that POST was
/// performed, then releases the answer.
async fn kill_at_post<'a>(
    control: &SandboxControl,
    tf: &'a Terraform,
    hcl: &str,
    path: &str,
) -> Workspace<'a> {
    let work = tf.workspace("work").unwrap();
    work.write_config(hcl).unwrap();
    work.init().await.expect("init");
    let hold = control.hold("POST", path).await;
    let apply = work.spawn_apply().expect("terraform apply starts");
    let caught = control.wait_until_held(hold, HOLD_BOUND).await;
    assert!(
        (200..300).contains(&caught.status),
        "the held POST was performed: {caught:?}"
    );
    apply.kill().await.expect("terraform is killed");
    control.release_holds().await;
    let state = std::fs::read_to_string(work.dir().join("terraform.tfstate")).unwrap_or_default();
    assert!(
        !state.contains("\"mode\": \"managed\""),
        "the killed apply saved nothing: {state}"
    );
    work
}

/// Applies again, which must succeed, and plans, which must be empty.
async fn apply_again(tf: &Terraform, work: &Workspace<'_>) {
    let out = work.apply().await.expect("apply");
    assert!(
        out.success(),
        "applying again after the kill converges: {}\n{}",
        tf.redact(&out.stdout),
        tf.redact(&out.stderr)
    );
    let plan = work.plan(true).await.expect("plan");
    assert!(!plan.has_changes, "{}", tf.redact(&plan.text));
    let scan = tf.scan(&[API_KEY.to_string()]).expect("scan");
    assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
}

/// The state's `address` has the id of `entry`, the remote object it was taken from.
async fn assert_state_id(work: &Workspace<'_>, address: &str, entry: &Value) {
    let state = work.state().await.expect("state");
    state
        .expect_attr(address, "id", entry["id"].as_str().unwrap_or_default())
        .unwrap();
}

/// `command` ran once (one POST to `dynos_path`) and finished with `output_tail`, and the
/// state holds that run; returns the state.
async fn assert_one_run(
    control: &SandboxControl,
    work: &Workspace<'_>,
    command: &str,
    dynos_path: &str,
    output_tail: &str,
) -> State {
    let runs = entries_where(&control.state().await["one_off_runs"], "command", command);
    assert_eq!(runs.len(), 1, "the command ran once: {runs:?}");
    assert_eq!(posts_to(&control.requests().await, dynos_path), 1);
    let state = work.state().await.expect("state");
    let run = "treeherder_one_off_dyno.run";
    state
        .expect_attr(run, "name", runs[0]["dyno"].as_str().unwrap_or_default())
        .unwrap();
    state.expect_attr(run, "exit_status", 0).unwrap();
    state.expect_attr(run, "output_tail", output_tail).unwrap();
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_killed_after_its_post_is_taken_not_made_again() {
    const APP: &str = "treeherder-stage";
    let (_world, control, tf) = start().await;
    control.set_release_phase_ms(300).await;
    let releases_path = format!("/apps/{}/releases", app_id(&control, APP).await);
    let work = kill_at_post(
        &control,
        &tf,
        &rollback_hcl(APP, CREATE_TIMEOUT),
        &releases_path,
    )
    .await;
    apply_again(&tf, &work).await;

    let rollbacks = entries_where(
        &control.app(APP).await["releases"],
        "description",
        "Rollback to v2",
    );
    assert_eq!(rollbacks.len(), 1, "one rollback release: {rollbacks:?}");
    assert_eq!(posts_to(&control.requests().await, &releases_path), 1);
    assert_state_id(&work, "treeherder_release_rollback.stage", &rollbacks[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_run_killed_after_its_post_is_followed_not_run_again() {
    const APP: &str = "treeherder-stage";
    const COMMAND: &str = "./manage.py backfill_perf --days 2";
    let (_world, control, tf) = start().await;
    control
        .set_one_off_command(
            COMMAND,
            OneOffCommandFields {
                output: vec!["backfilled 2 days".to_string()],
                steps: Some(4),
                ..OneOffCommandFields::default()
            },
        )
        .await;
    let dynos_path = format!("/apps/{}/dynos", app_id(&control, APP).await);
    let work = kill_at_post(
        &control,
        &tf,
        &one_off_hcl(APP, COMMAND, CREATE_TIMEOUT),
        &dynos_path,
    )
    .await;
    apply_again(&tf, &work).await;

    assert_one_run(&control, &work, COMMAND, &dynos_path, "backfilled 2 days").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collaborator_killed_after_its_post_is_taken_without_an_import() {
    const APP: &str = "treeherder-prod";
    const EMAIL: &str = "alice@mozilla.example";
    let (_world, control, tf) = start().await;
    let path = format!("/teams/apps/{APP}/collaborators");
    let work = kill_at_post(&control, &tf, &collaborator_hcl(APP, EMAIL), &path).await;
    apply_again(&tf, &work).await;

    let entries = entries_where(&control.app(APP).await["collaborators"], "email", EMAIL);
    assert_eq!(entries.len(), 1, "one collaborator: {entries:?}");
    assert_state_id(&work, "treeherder_app_collaborator.dev", &entries[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collaborator_with_other_permissions_is_still_an_error_saying_to_import_it() {
    const APP: &str = "treeherder-prod";
    const EMAIL: &str = "bob@mozilla.example";
    let (_world, control, tf) = start().await;
    control
        .heroku(
            Method::POST,
            &format!("/teams/apps/{APP}/collaborators"),
            Some(json!({ "user": EMAIL, "permissions": ["view"], "silent": true })),
        )
        .await;
    let work = tf.workspace("work").unwrap();
    work.write_config(&collaborator_hcl(APP, EMAIL)).unwrap();
    work.init().await.expect("init");
    let out = work.apply().await.expect("apply");
    assert!(!out.success(), "{}", tf.redact(&out.stdout));
    let text = out.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("Already a collaborator")
            && text.contains("other permissions than configured")
            && text.contains(&format!("terraform import ADDRESS {APP}:{EMAIL}")),
        "{text}"
    );
    let held = control.app(APP).await["collaborators"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["email"] == EMAIL).cloned())
        .unwrap_or(Value::Null);
    assert_eq!(held["permissions"], json!(["view"]), "left as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_followed_by_a_deploy_is_not_taken() {
    const APP: &str = "treeherder-stage";
    let (_world, control, tf) = start().await;
    let releases_path = format!("/apps/{}/releases", app_id(&control, APP).await);
    let work = kill_at_post(&control, &tf, &rollback_hcl(APP, ""), &releases_path).await;
    // Something was released since the killed rollback: it is no longer this apply's to take.
    let releases = control.app(APP).await["releases"].clone();
    let slug = releases
        .as_array()
        .and_then(|all| all.iter().rev().find(|r| !r["slug_id"].is_null()))
        .map(|r| r["slug_id"].clone())
        .expect("a release with a slug");
    control
        .heroku(
            Method::POST,
            &format!("/apps/{APP}/releases"),
            Some(json!({ "slug": slug, "description": "Deploy 1a2b3c4" })),
        )
        .await;
    apply_again(&tf, &work).await;
    let rollbacks = entries_where(
        &control.app(APP).await["releases"],
        "description",
        "Rollback to v2",
    );
    assert_eq!(
        rollbacks.len(),
        2,
        "the deploy in between is rolled back again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_run_that_finished_after_the_kill_is_taken_from_the_log() {
    const APP: &str = "treeherder-stage";
    const COMMAND: &str = "./manage.py clear_cache";
    let (_world, control, tf) = start().await;
    let dynos_path = format!("/apps/{}/dynos", app_id(&control, APP).await);
    let work = kill_at_post(&control, &tf, &one_off_hcl(APP, COMMAND, ""), &dynos_path).await;
    // The dyno runs on and finishes (each listing moves it one step) before the next apply.
    let mut listings = 0;
    while control
        .heroku(Method::GET, &format!("/apps/{APP}/dynos"), None)
        .await
        .as_array()
        .is_some_and(|dynos| dynos.iter().any(|d| d["command"] == COMMAND))
    {
        listings += 1;
        assert!(listings < 50, "the run never finished");
    }
    apply_again(&tf, &work).await;

    let state = assert_one_run(
        &control,
        &work,
        COMMAND,
        &dynos_path,
        "Clearing the Redis cache\nCache cleared.",
    )
    .await;
    // The log names a finished dyno, not its UUID.
    state
        .expect_attr("treeherder_one_off_dyno.run", "id", Value::Null)
        .unwrap();
}
