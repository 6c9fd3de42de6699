//! `treeherder_dyno_restart` through real Terraform against an in-process sandbox (one per
//! test): a restart of two process types waiting until their dynos are up again while the
//! others are untouched, a `triggers` change restarting again, destroy forgetting without a
//! request to Heroku, a restart that keeps the dynos' ids and `created_at` (only `state`
//! and `updated_at` move) seen and waited for, an unknown process type or an empty list
//! failing at plan, and a crashed dyno reported by name.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use acceptance::harness::{treeherder_case, SandboxControl, SandboxWorld, State, Step};
use acceptance::sandbox::{RestartKind, RestartMode};
use regex::Regex;
use serde_json::{json, Value};

const API_KEY: &str = "dyno-restart-acceptance-key-9b1e";
const APP: &str = "treeherder-stage";
const ADDR: &str = "treeherder_dyno_restart.workers";

fn config(types: &[&str], at: &str) -> String {
    config_with_timeout(types, at, "1m")
}

fn config_with_timeout(types: &[&str], at: &str, timeout: &str) -> String {
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
    create = "{timeout}"
  }}
}}
"#,
        types.join(", ")
    )
}

/// Dyno name → (id, type, state).
type Dynos = BTreeMap<String, (String, String, String)>;

/// The dynos in the sandbox.
async fn dynos(control: &SandboxControl) -> Dynos {
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
fn check_restarted(before: &Dynos, after: &Dynos, types: &[&str]) {
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
    // Restarted dynos are new processes (new ids), as the sandbox's default.
    let replace = RestartMode {
        mode: RestartKind::Replace,
        starting_reads: 1,
    };
    assert_eq!(control.set_restart_mode(replace).await, replace);
    const TYPES: [&str; 2] = ["web", "worker_store_pulse_data"];
    // The dynos as the last step left them, for the next step to compare with.
    let seen = Arc::new(Mutex::new(dynos(&control).await));
    let restarted_by = |control: SandboxControl, seen: Arc<Mutex<Dynos>>, first: bool| {
        move |state: State| {
            let (control, seen) = (control.clone(), Arc::clone(&seen));
            async move {
                let now = dynos(&control).await;
                let before = seen.lock().map_err(|e| e.to_string())?.clone();
                check_restarted(&before, &now, &TYPES);
                if first {
                    state.expect_attr_set(ADDR, "restarted_at")?;
                    for (name, (_, kind, _)) in &now {
                        let recorded = state.attr(ADDR, "dynos").and_then(|d| d.get(name).cloned());
                        let expected = TYPES.contains(&kind.as_str()).then(|| json!("up"));
                        if recorded != expected {
                            return Err(format!("{name}: recorded {recorded:?}"));
                        }
                    }
                }
                *seen.lock().map_err(|e| e.to_string())? = now;
                Ok::<(), String>(())
            }
        }
    };
    let mut case = treeherder_case()
        .envs(world.env())
        .step(Step::config(config(&TYPES, "1")).check_async(restarted_by(
            control.clone(),
            Arc::clone(&seen),
            true,
        )))
        // A triggers change restarts again.
        .step(Step::config(config(&TYPES, "2")).check_async(restarted_by(
            control.clone(),
            Arc::clone(&seen),
            false,
        )));
    if plans_destroy_through_the_provider() {
        case = case.step(Step::destroy_plan().expect_plan_output(
            Regex::new(r"(?s)Warning: Destroying only forgets the restart").unwrap(),
        ));
    }
    // Destroy only forgets: no request, the dynos as the last restart left them.
    let (c_clear, c_check) = (control.clone(), control.clone());
    case.pre_destroy_async(move || {
        let control = c_clear.clone();
        async move {
            control.clear_requests().await;
            Ok::<(), String>(())
        }
    })
    .check_destroy_async(move |_| {
        let (control, seen) = (c_check.clone(), Arc::clone(&seen));
        async move {
            let requests = control.requests().await;
            if !requests.is_empty() {
                return Err(format!("destroy sent {requests:?}"));
            }
            let last = seen.lock().map_err(|e| e.to_string())?.clone();
            if dynos(&control).await != last {
                return Err("destroy changed the dynos".to_string());
            }
            Ok::<(), String>(())
        }
    })
    .run()
    .await;
}

/// Dyno name → (id, type, state, created_at, updated_at).
type DynoTimes = BTreeMap<String, (String, String, String, String, String)>;

/// The dynos in the sandbox, with their times.
async fn dyno_times(control: &SandboxControl) -> DynoTimes {
    control.app(APP).await["dynos"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            let fields = (
                s("id"),
                s("process_type"),
                s("state"),
                s("created_at"),
                s("updated_at"),
            );
            (s("name"), fields)
        })
        .collect()
}

/// Issue 19, item 2: Heroku promises no new id or `created_at` after a restart. Where a
/// restart keeps both and only `state` (starting, then up) and `updated_at` move, the apply
/// ends when the dynos are up again instead of waiting for `timeouts.create` (short here,
/// so that a provider that misses the restart fails fast).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_place_keeping_ids_and_created_at_is_waited_for_until_up() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let in_place = RestartMode {
        mode: RestartKind::InPlace,
        starting_reads: 2,
    };
    assert_eq!(control.set_restart_mode(in_place).await, in_place);
    assert_eq!(control.restart_mode().await, in_place);
    const TYPES: [&str; 2] = ["web", "worker_store_pulse_data"];
    let before = dyno_times(&control).await;
    let c_clear = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config_with_timeout(&TYPES, "1", "15s"))
                .pre_step_async(move || {
                    let control = c_clear.clone();
                    async move {
                        control.clear_requests().await;
                        Ok::<(), String>(())
                    }
                })
                .check_async(move |state| {
                    let (control, before) = (control.clone(), before.clone());
                    async move {
                        check_restarted_in_place(&control, &state, &before, &TYPES).await;
                        Ok::<(), String>(())
                    }
                }),
        )
        .run()
        .await;
}

/// Checks a restart in place of `types`: ids and `created_at` kept, only `state` and
/// `updated_at` moved, recorded `up`, and the provider followed the dynos through `starting`.
async fn check_restarted_in_place(
    control: &SandboxControl,
    state: &State,
    before: &DynoTimes,
    types: &[&str],
) {
    let after = dyno_times(control).await;
    let recorded = state.attr(ADDR, "dynos").unwrap_or(Value::Null);
    let mut restarted = 0;
    for (name, (id, kind, _, created_at, updated_at)) in before {
        let (new_id, _, new_state, new_created_at, new_updated_at) = &after[name];
        // The same process in the sandbox's eyes: only state and updated_at moved.
        assert_eq!((new_id, new_created_at), (id, created_at), "{name}");
        if types.contains(&kind.as_str()) {
            assert_ne!(new_updated_at, updated_at, "{name} was not restarted");
            assert_eq!(new_state, "up", "{name}");
            assert_eq!(recorded[name.as_str()], "up", "{name}: {recorded}");
            restarted += 1;
        } else {
            assert_eq!(new_updated_at, updated_at, "{name} was restarted");
            assert_eq!(recorded.get(name.as_str()), None, "{name}: {recorded}");
        }
    }
    assert!(restarted >= 2, "restarted {restarted} dynos");
    // It followed the dynos through `starting`: two listings showed them starting, a
    // third up.
    let requests = control.requests().await;
    let restart_at = requests
        .iter()
        .rposition(|r| r.method == "DELETE")
        .expect("a restart request");
    let listings = requests[restart_at..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/dynos"))
        .count();
    assert!(
        listings >= 3,
        "{listings} listings after the restart: {requests:?}"
    );
}

/// Issue 19, item 5: an empty `process_types` would restart nothing and record a restart;
/// the plan refuses it at the attribute, before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_process_types_list_fails_at_plan_at_the_attribute() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let hcl = config(&[], "1");
    // Terraform names the line of the attribute a diagnostic is at.
    let line = 1 + hcl
        .lines()
        .position(|l| l.trim_start().starts_with("process_types"))
        .expect("a process_types line");
    let error = Regex::new(&format!(
        r#"(?s)Error: No process type to restart.*on main\.tf line {line}, in resource "treeherder_dyno_restart" "workers":.*process_types is empty.*at\s+least\s+one\s+process\s+type"#
    ))
    .unwrap();
    let c_clear = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(hcl)
                .plan_only()
                .pre_step_async(move || {
                    let control = c_clear.clone();
                    async move {
                        control.clear_requests().await;
                        Ok::<(), String>(())
                    }
                })
                .expect_error(error),
        )
        .check_destroy_async(move |_| {
            let control = control.clone();
            async move {
                let requests = control.requests().await;
                if requests.is_empty() {
                    Ok(())
                } else {
                    Err(format!("the plan sent {requests:?}"))
                }
            }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_process_types_fail_at_plan_listing_the_apps_types() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let before = dynos(&control).await;
    let error = Regex::new(
        r#"(?s)Unknown process type.*has no process type "worker_nope".*Its\s+process\s+types\s+are:.*"celery_scheduler".*"web""#,
    )
    .unwrap();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config(&["web", "worker_nope"], "1"))
                .plan_only()
                .expect_error(error),
        )
        .check_destroy_async(move |_| {
            let (control, before) = (control.clone(), before.clone());
            async move {
                if dynos(&control).await == before {
                    Ok(())
                } else {
                    Err("the dynos changed".to_string())
                }
            }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_dyno_is_reported_by_name() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    control.crash_dyno(APP, "web.1").await;
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config(&["web"], "1"))
                .expect_error(Regex::new(r"(?s)Dyno web\.1 crashed.*dyno web\.1 crashed").unwrap()),
        )
        // Saved, tainted, with the states seen.
        .check_destroy(|state| {
            let recorded = state.attr(ADDR, "dynos").unwrap_or(Value::Null);
            if recorded["web.1"] == "crashed" {
                Ok(())
            } else {
                Err(format!("recorded dynos: {recorded}"))
            }
        })
        .run()
        .await;
}
