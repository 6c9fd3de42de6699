//! `treeherder_one_off_dyno` through real Terraform against an in-process sandbox (one per
//! test): `./manage.py clear_cache` followed to exit 0 with its output streamed into the log,
//! a `triggers` change running it again, destroy forgetting without a request to Heroku, env
//! values kept out of every log, a command exiting 1 failing the apply with its last lines,
//! a detached run returning once started, plan-time checks of `time_to_live` and `size`, and
//! a lost answer or a 429 on the create never running the command twice.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::{heroku_provider_config, SandboxControl, SandboxWorld, Terraform};
use acceptance::harness::{terraform_for, treeherder_provider};
use acceptance::sandbox::{FaultSpec, OneOffCommandFields};
use regex::Regex;
use serde_json::{json, Value};

const API_KEY: &str = "one-off-dyno-acceptance-key-5e2a";
const APP: &str = "treeherder-stage";
const ADDR: &str = "treeherder_one_off_dyno.run";
/// An env value: long enough for the harness to scan every log for it.
const ENV_SECRET: &str = "one-off-env-secret-value-8d41c7";

fn terraform(world: &SandboxWorld) -> Terraform {
    terraform_for(
        &[treeherder_provider()],
        world.env(),
        vec![API_KEY.to_string(), ENV_SECRET.to_string()],
    )
    .expect("terraform")
}

/// A configuration with one run; `extra` holds more arguments of the resource.
fn config(command: &str, extra: &str) -> String {
    let provider = heroku_provider_config(2, 5);
    format!(
        r#"{provider}
resource "treeherder_one_off_dyno" "run" {{
  app     = "{APP}"
  command = "{command}"
  {extra}
  timeouts {{
    create = "2m"
  }}
}}
"#
    )
}

async fn app_id(control: &SandboxControl) -> String {
    control.app(APP).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The sandbox's runs of `command` (every one-off dyno started with it).
async fn runs(control: &SandboxControl, command: &str) -> Vec<Value> {
    control.state().await["one_off_runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r["command"] == command)
        .collect()
}

/// POSTs that start dynos (the provider names the app by its UUID).
fn dyno_posts(requests: &[Value], app_id: &str) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == format!("/apps/{app_id}/dynos"))
        .cloned()
        .collect()
}

fn logs(tf: &Terraform) -> String {
    std::fs::read_dir(tf.logs_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect()
}

/// Terraform 1.3 and later plan destroys through the provider, which shows its warning.
fn plans_destroy_through_the_provider() -> bool {
    acceptance::harness::terraform_binary()
        .ok()
        .and_then(|binary| acceptance::harness::terraform_version(&binary).ok())
        .is_some_and(|(major, minor, _)| (major, minor) >= (1, 3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_cache_runs_to_exit_0_triggers_run_again_and_destroy_only_forgets() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    let extra = |snapshot: &str| {
        format!(
            r#"size     = "standard-2x"
  env      = {{ DJANGO_LOG_LEVEL = "INFO", CACHE_TOKEN = "{ENV_SECRET}" }}
  triggers = {{ snapshot = "{snapshot}" }}"#
        )
    };
    work.write_config(&config("./manage.py clear_cache", &extra("1")))
        .unwrap();
    work.init().await.expect("init");
    let plan = work.plan(true).await.expect("plan");
    assert!(
        !plan.text.contains(ENV_SECRET),
        "the plan shows an env value"
    );
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);

    let state = work.state().await.expect("state");
    assert_eq!(state.attr(ADDR, "exit_status"), Some(json!(0)));
    assert_eq!(state.attr(ADDR, "name"), Some(json!("run.1000")));
    let tail = state.attr_str(ADDR, "output_tail").unwrap_or_default();
    assert_eq!(tail, "Clearing the Redis cache\nCache cleared.");
    state.expect_attr_set(ADDR, "id").unwrap();
    // The dyno ran to its end and is gone; what was sent is what was configured.
    let done = runs(&control, "./manage.py clear_cache").await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(
        done[0]["position"],
        json!(done[0]["steps"].as_array().map(Vec::len))
    );
    let app = control.app(APP).await;
    assert!(
        !app["dynos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "run.1000"),
        "run.1000 is still listed"
    );
    let id = app_id(&control).await;
    let posts = dyno_posts(&control.requests().await, &id);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["body"]["size"], "Standard-2X");
    assert_eq!(posts[0]["body"]["env"]["CACHE_TOKEN"], ENV_SECRET);
    assert_eq!(posts[0]["body"]["attach"], false);
    // The output was streamed into Terraform's log at INFO, line by line.
    let text = logs(&tf);
    let streamed = Regex::new(
        r"(?m)\[INFO\].*run\.1000: Clearing the Redis cache(.|\n)*run\.1000: Cache cleared\.",
    )
    .unwrap();
    assert!(streamed.is_match(&text), "output not streamed at INFO");

    // Same configuration: nothing to do.
    let plan = work.plan(true).await.expect("plan");
    assert!(!plan.has_changes, "{}", plan.text);

    // A triggers change runs the command again.
    work.write_config(&config("./manage.py clear_cache", &extra("2")))
        .unwrap();
    let plan = work.plan(true).await.expect("plan");
    assert!(plan.text.contains("must be replaced"), "{}", plan.text);
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(runs(&control, "./manage.py clear_cache").await.len(), 2);
    let state = work.state().await.expect("state");
    assert_eq!(state.attr(ADDR, "name"), Some(json!("run.1001")));

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
    if plans_destroy_through_the_provider() {
        let forget = Regex::new(r"(?s)Warning: Destroying only forgets the one-off run.*only\s+removes\s+it\s+from\s+the\s+state").unwrap();
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
    assert_eq!(runs(&control, "./manage.py clear_cache").await.len(), 2);
    work.state()
        .await
        .expect("state")
        .expect_no_resource(ADDR)
        .unwrap();

    // The env value is in no log of any command (TRACE included).
    let scan = tf.scan(&[ENV_SECRET.to_string()]).expect("scan");
    assert!(scan.files_scanned > 0);
    assert!(scan.leaks.is_empty(), "env value leaked: {:?}", scan.leaks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_exiting_1_fails_the_apply_with_its_last_lines_and_stays_in_state() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let command = "./manage.py migrate_badly";
    control
        .set_one_off_command(
            command,
            OneOffCommandFields {
                output: [
                    "Operations to perform:",
                    "  Apply all migrations: model",
                    "django.db.utils.OperationalError: (1050, \"Table 'job' already exists\")",
                ]
                .map(String::from)
                .to_vec(),
                exit_status: 1,
                steps: Some(6),
                ..OneOffCommandFields::default()
            },
        )
        .await;
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config(command, "")).unwrap();
    work.init().await.expect("init");
    let out = work.apply().await.expect("apply");
    assert!(!out.success(), "apply succeeded:\n{}", out.stdout);
    let text = format!("{}\n{}", out.stdout, out.stderr);
    let failed = Regex::new(
        r#"(?s)"\./manage\.py migrate_badly" exited with status 1.*run\.1000.*Last\s+lines:.*Apply all migrations: model.*OperationalError: \(1050, "Table 'job' already exists"\)"#,
    )
    .unwrap();
    assert!(failed.is_match(&text), "{text}");
    // Saved with the exit status and the tail, tainted so the next apply runs it again.
    let state = work.state().await.expect("state");
    assert_eq!(state.attr(ADDR, "exit_status"), Some(json!(1)));
    let tail = state.attr_str(ADDR, "output_tail").unwrap_or_default();
    assert!(tail.ends_with("already exists\")"), "{tail}");
    let plan = work.plan(true).await.expect("plan");
    assert!(plan.text.contains("tainted"), "{}", plan.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_run_returns_once_the_dyno_is_started() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let command = "./manage.py cycle_data --days 45";
    // A long job: it would take 10000 steps to end.
    control
        .set_one_off_command(
            command,
            OneOffCommandFields {
                output: vec!["Cycling data...".to_string()],
                steps: Some(10000),
                ..OneOffCommandFields::default()
            },
        )
        .await;
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config(
        command,
        "detached     = true\n  time_to_live = 3600",
    ))
    .unwrap();
    work.init().await.expect("init");
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let state = work.state().await.expect("state");
    assert_eq!(state.attr(ADDR, "name"), Some(json!("run.1000")));
    assert_eq!(state.attr(ADDR, "exit_status"), Some(Value::Null));
    assert_eq!(state.attr(ADDR, "output_tail"), Some(Value::Null));
    // Nothing followed the dyno: it is still starting, no log session was opened on it (the
    // app's log is read once before the POST, looking for a killed apply's run).
    let started = runs(&control, command).await;
    assert_eq!(started.len(), 1);
    assert_eq!(started[0]["position"], 1, "{}", started[0]);
    let dyno = control.app(APP).await["dynos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "run.1000")
        .cloned()
        .expect("run.1000 is listed");
    assert_eq!(dyno["state"], "starting");
    let requests = control.requests().await;
    assert!(
        !requests.iter().any(|r| {
            r["path"].as_str().unwrap_or("").ends_with("/log-sessions")
                && !r["body"]["dyno_name"].is_null()
        }),
        "a log session was opened on the dyno"
    );
    let id = app_id(&control).await;
    let posts = dyno_posts(&requests, &id);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["body"]["time_to_live"], 3600);
    let plan = work.plan(true).await.expect("plan");
    assert!(!plan.has_changes, "{}", plan.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_to_live_size_and_blank_commands_fail_at_plan() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("./manage.py clear_cache", ""))
        .unwrap();
    work.init().await.expect("init");
    for (command, extra, pattern) in [
        (
            "./manage.py clear_cache",
            "time_to_live = 90000",
            r"(?s)Invalid time_to_live.*time_to_live = 90000.*from 1 to 86400.*got\s+90000",
        ),
        (
            "./manage.py clear_cache",
            r#"size = "huge-9x""#,
            r#"(?s)Dyno size not available.*"huge-9x" is not available to app treeherder-stage;\s+available\s+sizes:.*Standard-2X"#,
        ),
        (
            "  ",
            "",
            r"(?s)Empty command.*command must name the command",
        ),
    ] {
        work.write_config(&config(command, extra)).unwrap();
        let out = work
            .run(&["plan", "-input=false", "-no-color"])
            .await
            .expect("plan");
        assert!(!out.success(), "{extra}: plan succeeded");
        let text = format!("{}\n{}", out.stdout, out.stderr);
        assert!(
            Regex::new(pattern).unwrap().is_match(&text),
            "{extra}: {text}"
        );
    }
    let id = app_id(&control).await;
    assert!(dyno_posts(&control.requests().await, &id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_create_is_reconciled_without_running_twice() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let id = app_id(&control).await;
    // The dyno starts, its answer is lost (a 502 after the effect).
    control
        .add_fault(FaultSpec::new(502, "POST", format!("/apps/{id}/dynos")).after_effect())
        .await;
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("./manage.py clear_cache", ""))
        .unwrap();
    work.init().await.expect("init");
    control.clear_requests().await;
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(dyno_posts(&control.requests().await, &id).len(), 1);
    assert_eq!(runs(&control, "./manage.py clear_cache").await.len(), 1);
    let state = work.state().await.expect("state");
    assert_eq!(state.attr(ADDR, "name"), Some(json!("run.1000")));
    assert_eq!(state.attr(ADDR, "exit_status"), Some(json!(0)));
    assert!(logs(&tf).contains("was lost; looking for the dyno it started"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_whose_dyno_cannot_be_found_is_an_error_not_a_second_run() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let id = app_id(&control).await;
    // A 504 before Heroku acted: nothing started, and nothing proves it.
    control
        .add_fault(FaultSpec::new(504, "POST", format!("/apps/{id}/dynos")))
        .await;
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("./manage.py clear_cache", ""))
        .unwrap();
    work.init().await.expect("init");
    control.clear_requests().await;
    let out = work.apply().await.expect("apply");
    assert!(!out.success(), "apply succeeded:\n{}", out.stdout);
    let text = format!("{}\n{}", out.stdout, out.stderr);
    assert!(
        Regex::new(r"(?s)Cannot start the one-off dyno.*may\s+have\s+started\s+anyway.*not\s+started\s+a\s+second\s+time")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
    assert_eq!(dyno_posts(&control.requests().await, &id).len(), 1);
    assert!(runs(&control, "./manage.py clear_cache").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_create_runs_the_command_once_when_let_through() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let id = app_id(&control).await;
    control
        .add_fault(FaultSpec::new(429, "POST", format!("/apps/{id}/dynos")).retry_after(0))
        .await;
    let tf = terraform(&world);
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config("./manage.py clear_cache", ""))
        .unwrap();
    work.init().await.expect("init");
    control.clear_requests().await;
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    // The refused POST (Heroku acted on none of it) and the one let through.
    assert_eq!(dyno_posts(&control.requests().await, &id).len(), 2);
    assert_eq!(runs(&control, "./manage.py clear_cache").await.len(), 1);
    let state = work.state().await.expect("state");
    assert_eq!(state.attr(ADDR, "exit_status"), Some(json!(0)));
}
