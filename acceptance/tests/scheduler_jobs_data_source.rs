//! Data source `treeherder_scheduler_jobs` through real Terraform against an in-process
//! sandbox: it lists every job of an app in `treeherder_scheduler_job`'s spelling, and a
//! configuration written from the list, imported by the listed ids, plans empty with no
//! write to the Scheduler.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

mod listed_imports;

use acceptance::harness::SandboxWorld;
use listed_imports::list_then_adopt;
use reqwest::Method;
use serde_json::{json, Value};

/// Long enough for the harness to treat it as a secret and scan every log for it.
const API_KEY: &str = "sched-list-acceptance-key-3b9e51";
const APP: &str = "treeherder-prod";

const HEADER: &str = r#"
terraform {
  required_providers {
    treeherder = { source = "treeherder/treeherder" }
  }
}

provider "treeherder" {}

data "treeherder_scheduler_jobs" "prod" {
  app = "treeherder-prod"
}

output "jobs" {
  value = data.treeherder_scheduler_jobs.prod.jobs
}
"#;

/// The frequency the resource writes for the Scheduler's `every`/`at`, spelled out here
/// independently of the provider.
fn spelling(every: u64, at: u64) -> String {
    match every {
        10 => "every_ten_minutes".to_string(),
        60 => format!("every_hour_at_{at}"),
        _ => format!("every_day_at_{}:{:02}", at / 60, at % 60),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_every_job_and_the_listed_ids_import_with_an_empty_plan() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let app = control.app(APP).await;
    let app_id = app["id"].as_str().expect("app id").to_string();
    // Made "in the dashboard": another size and period than the seeded jobs.
    for (command, size, every, at) in [
        ("./manage.py run_sheriffing_alerts", "Performance-M", 10, 0),
        ("./manage.py perf_alert_emails", "Standard-2X", 1440, 1410),
    ] {
        control
            .scheduler(
                Method::POST,
                &format!("/apps/{app_id}/jobs"),
                Some(json!({"data": {"type": "jobs", "attributes": {
                    "command": command, "dyno-size": size, "every": every, "at": at
                }}})),
            )
            .await;
    }
    let mut remote: Vec<Value> = control.app(APP).await["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    remote.sort_by_key(|j| j["id"].as_str().and_then(|id| id.parse::<u64>().ok()));
    assert_eq!(remote.len(), 5, "three seeded jobs and two made here");
    let expected: Vec<Value> = remote
        .iter()
        .map(|j| {
            let id = j["id"].as_str().expect("job id");
            json!({
                "id": id,
                "import_id": format!("{APP}:{id}"),
                "command": j["command"],
                "frequency": spelling(
                    j["every"].as_u64().expect("every"),
                    j["at"].as_u64().unwrap_or(0),
                ),
                "dyno_size": j["dyno_size"],
            })
        })
        .collect();

    // A configuration written from the listed values, imported by the listed ids.
    let mut config = HEADER.to_string();
    for job in &expected {
        config.push_str(&format!(
            "\nresource \"treeherder_scheduler_job\" \"job_{}\" {{\n  app       = \"{APP}\"\n  command   = {}\n  frequency = {}\n  dyno_size = {}\n}}\n",
            job["id"].as_str().unwrap_or_default(),
            job["command"],
            job["frequency"],
            job["dyno_size"],
        ));
    }
    let imports: Vec<(String, String)> = expected
        .iter()
        .map(|job| {
            let id = job["id"].as_str().unwrap_or_default();
            let import_id = job["import_id"].as_str().unwrap_or_default();
            (
                format!("treeherder_scheduler_job.job_{id}"),
                import_id.to_string(),
            )
        })
        .collect();
    list_then_adopt(
        &world,
        HEADER,
        vec![("jobs", Value::Array(expected.clone()))],
        config,
        imports,
        "jobs",
    )
    .await;
    // The case destroyed what it adopted: the two jobs made here and the three seeded ones.
    assert_eq!(
        control.app(APP).await["jobs"].as_array().map(Vec::len),
        Some(0),
        "the adopted jobs were destroyed with the case"
    );
}
