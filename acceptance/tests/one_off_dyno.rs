//! `treeherder_one_off_dyno` through real Terraform against an in-process sandbox (one per
//! test): `./manage.py clear_cache` followed to exit 0 with its output streamed into the log,
//! a `triggers` change running it again, destroy forgetting without a request to Heroku, env
//! values kept out of every log, a command exiting 1 failing the apply with its last lines,
//! a detached run returning once started, plan-time checks of `time_to_live` and `size`, and
//! a lost answer or a 429 on the create never running the command twice.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::plancheck::{expect_resource_action, ExpectedAction};
use acceptance::harness::{
    heroku_provider_config, treeherder_case, SandboxControl, SandboxWorld, State, Step, TestCase,
};
use acceptance::sandbox::{FaultSpec, LoggedRequest, OneOffCommandFields};
use regex::Regex;
use serde_json::{json, Value};

const API_KEY: &str = "one-off-dyno-acceptance-key-5e2a";
const APP: &str = "treeherder-stage";
const ADDR: &str = "treeherder_one_off_dyno.run";
/// An env value: long enough for the harness to scan every log for it.
const ENV_SECRET: &str = "one-off-env-secret-value-8d41c7";

/// A case against `world`'s sandbox that also scans every log for the env value.
fn case(world: &SandboxWorld) -> TestCase {
    treeherder_case().envs(world.env()).sensitive(ENV_SECRET)
}

/// A hook forgetting the requests seen so far.
fn clear(control: &SandboxControl) -> impl Fn() -> ClearRequests + Send + Sync + 'static {
    let control = control.clone();
    move || {
        let control = control.clone();
        Box::pin(async move {
            control.clear_requests().await;
            Ok(())
        })
    }
}

type ClearRequests =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// Checks that `command` ran `count` times and `posts` dyno POSTs were seen.
async fn ran(
    control: &SandboxControl,
    command: &str,
    count: usize,
    posts: usize,
) -> Result<(), String> {
    let id = app_id(control).await;
    let seen = dyno_posts(&control.requests().await, &id).len();
    let runs = runs(control, command).await.len();
    if (runs, seen) == (count, posts) {
        Ok(())
    } else {
        Err(format!(
            "{runs} runs (expected {count}), {seen} dyno POSTs (expected {posts})"
        ))
    }
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
fn dyno_posts(requests: &[LoggedRequest], app_id: &str) -> Vec<LoggedRequest> {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == format!("/apps/{app_id}/dynos"))
        .cloned()
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
    let extra = |snapshot: &str| {
        format!(
            r#"size     = "standard-2x"
  env      = {{ DJANGO_LOG_LEVEL = "INFO", CACHE_TOKEN = "{ENV_SECRET}" }}
  triggers = {{ snapshot = "{snapshot}" }}"#
        )
    };
    let (c1, c2, c_destroy) = (control.clone(), control.clone(), control.clone());
    let mut case = case(&world)
        .step(
            Step::config(config("./manage.py clear_cache", &extra("1"))).check_async(
                move |state: State| {
                    let control = c1.clone();
                    async move {
                        state.expect_attr(ADDR, "exit_status", 0)?;
                        state.expect_attr(ADDR, "name", "run.1000")?;
                        state.expect_attr(
                            ADDR,
                            "output_tail",
                            "Clearing the Redis cache\nCache cleared.",
                        )?;
                        state.expect_attr_set(ADDR, "id")?;
                        // The dyno ran to its end and is gone; what was sent is what was
                        // configured.
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
                        assert_eq!(posts[0].body["size"], "Standard-2X");
                        assert_eq!(posts[0].body["env"]["CACHE_TOKEN"], ENV_SECRET);
                        assert_eq!(posts[0].body["attach"], false);
                        Ok::<(), String>(())
                    }
                },
            ),
        )
        // A triggers change runs the command again.
        .step(
            Step::config(config("./manage.py clear_cache", &extra("2")))
                .plan_checks([expect_resource_action(ADDR, ExpectedAction::Replace)])
                .check_async(move |state: State| {
                    let control = c2.clone();
                    async move {
                        ran(&control, "./manage.py clear_cache", 2, 2).await?;
                        state.expect_attr(ADDR, "name", "run.1001")
                    }
                }),
        );
    // Destroy says it only forgets, and sends nothing to Heroku.
    if plans_destroy_through_the_provider() {
        let forget = Regex::new(r"(?s)Warning: Destroying only forgets the one-off run.*only\s+removes\s+it\s+from\s+the\s+state").unwrap();
        case = case.step(Step::destroy_plan().expect_plan_output(forget));
    }
    case.pre_destroy_async(clear(&control))
        .check_destroy_async(move |_| {
            let control = c_destroy.clone();
            async move {
                let requests = control.requests().await;
                if !requests.is_empty() {
                    return Err(format!("destroy sent {requests:?}"));
                }
                let runs = runs(&control, "./manage.py clear_cache").await.len();
                if runs != 2 {
                    return Err(format!("{runs} runs after destroy"));
                }
                Ok(())
            }
        })
        // The output was streamed into Terraform's log at INFO, line by line.
        .check_logs(|logs| {
            let streamed = Regex::new(
                r"(?m)\[INFO\].*run\.1000: Clearing the Redis cache(.|\n)*run\.1000: Cache cleared\.",
            )
            .unwrap();
            if streamed.is_match(logs) {
                Ok(())
            } else {
                Err("output not streamed at INFO")
            }
        })
        .run()
        .await;
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
    let failed = Regex::new(
        r#"(?s)"\./manage\.py migrate_badly" exited with status 1.*run\.1000.*Last\s+lines:.*Apply all migrations: model.*OperationalError: \(1050, "Table 'job' already exists"\)"#,
    )
    .unwrap();
    case(&world)
        .step(Step::config(config(command, "")).expect_error(failed))
        // Tainted: the next apply runs it again.
        .step(
            Step::config(config(command, ""))
                .plan_only()
                .expect_non_empty_plan()
                .expect_plan_output(Regex::new("tainted").unwrap()),
        )
        // Saved with the exit status and the tail.
        .check_destroy(|state| {
            state.expect_attr(ADDR, "exit_status", 1)?;
            let tail = state.attr_str(ADDR, "output_tail").unwrap_or_default();
            if tail.ends_with("already exists\")") {
                Ok(())
            } else {
                Err(format!("output_tail: {tail}"))
            }
        })
        .run()
        .await;
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
    case(&world)
        .step(
            Step::config(config(
                command,
                "detached     = true\n  time_to_live = 3600",
            ))
            .check_async(move |state: State| {
                let control = control.clone();
                async move {
                    state.expect_attr(ADDR, "name", "run.1000")?;
                    state.expect_attr(ADDR, "exit_status", Value::Null)?;
                    state.expect_attr(ADDR, "output_tail", Value::Null)?;
                    // Nothing followed the dyno: it is still starting, no log session
                    // was opened on it (the app's log is read once before the POST,
                    // looking for a killed apply's run).
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
                            r.path.ends_with("/log-sessions") && !r.body["dyno_name"].is_null()
                        }),
                        "a log session was opened on the dyno"
                    );
                    let id = app_id(&control).await;
                    let posts = dyno_posts(&requests, &id);
                    assert_eq!(posts.len(), 1);
                    assert_eq!(posts[0].body["time_to_live"], 3600);
                    Ok::<(), String>(())
                }
            }),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_to_live_size_and_blank_commands_fail_at_plan() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let mut case = case(&world);
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
        case = case.step(
            Step::config(config(command, extra))
                .plan_only()
                .expect_error(Regex::new(pattern).unwrap()),
        );
    }
    case.check_destroy_async(move |_| {
        let control = control.clone();
        async move {
            let id = app_id(&control).await;
            let posts = dyno_posts(&control.requests().await, &id);
            if posts.is_empty() {
                Ok(())
            } else {
                Err(format!("dynos started: {posts:?}"))
            }
        }
    })
    .run()
    .await;
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
    let c_check = control.clone();
    case(&world)
        .step(
            Step::config(config("./manage.py clear_cache", ""))
                .pre_step_async(clear(&control))
                .check_async(move |state: State| {
                    let control = c_check.clone();
                    async move {
                        ran(&control, "./manage.py clear_cache", 1, 1).await?;
                        state.expect_attr(ADDR, "name", "run.1000")?;
                        state.expect_attr(ADDR, "exit_status", 0)
                    }
                }),
        )
        .check_logs(|logs| {
            if logs.contains("was lost; looking for the dyno it started") {
                Ok(())
            } else {
                Err("the lost answer was not logged")
            }
        })
        .run()
        .await;
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
    let error = Regex::new(r"(?s)Cannot start the one-off dyno.*may\s+have\s+started\s+anyway.*not\s+started\s+a\s+second\s+time").unwrap();
    let c_check = control.clone();
    case(&world)
        .step(
            Step::config(config("./manage.py clear_cache", ""))
                .pre_step_async(clear(&control))
                .expect_error(error),
        )
        .check_destroy_async(move |_| {
            let control = c_check.clone();
            async move { ran(&control, "./manage.py clear_cache", 0, 1).await }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_create_runs_the_command_once_when_let_through() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let id = app_id(&control).await;
    control
        .add_fault(FaultSpec::new(429, "POST", format!("/apps/{id}/dynos")).retry_after(0))
        .await;
    let c_check = control.clone();
    case(&world)
        .step(
            Step::config(config("./manage.py clear_cache", ""))
                .pre_step_async(clear(&control))
                .check_async(move |state: State| {
                    let control = c_check.clone();
                    async move {
                        // The refused POST (Heroku acted on none of it) and the one let
                        // through.
                        ran(&control, "./manage.py clear_cache", 1, 2).await?;
                        state.expect_attr(ADDR, "exit_status", 0)
                    }
                }),
        )
        .run()
        .await;
}
