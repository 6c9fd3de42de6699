//! `treeherder_scheduler_job` through real Terraform 1.0.3 against an in-process sandbox
//! (one per test, on a free loopback port): life cycle, import, drift, spelling, plan-time
//! validation, faults during a 30-job apply, and the request cost of a 100-job refresh.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::plancheck::{
    expect_resource_action, expect_resource_action_in, ExpectedAction,
};
use acceptance::harness::{heroku_provider_config, SandboxControl, SandboxWorld, Step};
use acceptance::harness::{terraform_for, treeherder_case, treeherder_provider};
use regex::Regex;
use serde_json::{json, Value};

/// Long enough for the harness to treat it as a secret and scan every log for it.
const API_KEY: &str = "sched-acceptance-key-5d1f0c9a7e";

const ADDR: &str = "treeherder_scheduler_job.job";

/// The app's jobs as the sandbox stores them.
async fn jobs(control: &SandboxControl, app: &str) -> Vec<Value> {
    control.app(app).await["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn jobs_with_command(control: &SandboxControl, app: &str, command: &str) -> Vec<Value> {
    jobs(control, app)
        .await
        .into_iter()
        .filter(|j| j["command"] == command)
        .collect()
}

async fn next_job_id(control: &SandboxControl) -> u64 {
    control.state().await["next_job_id"]
        .as_u64()
        .expect("next_job_id in the sandbox state")
}

fn provider_block() -> String {
    heroku_provider_config(6, 5)
}

fn job_config(app: &str, command: &str, frequency: &str, dyno_size: Option<&str>) -> String {
    let size = dyno_size
        .map(|s| format!("  dyno_size = \"{s}\"\n"))
        .unwrap_or_default();
    format!(
        r#"{}
resource "treeherder_scheduler_job" "job" {{
  app       = "{app}"
  command   = "{command}"
  frequency = "{frequency}"
{size}}}
"#,
        provider_block()
    )
}

fn many_jobs_config(app: &str, count: usize, prefix: &str) -> String {
    many_jobs_config_with(&provider_block(), app, count, prefix)
}

fn many_jobs_config_with(provider: &str, app: &str, count: usize, prefix: &str) -> String {
    format!(
        r#"{provider}
resource "treeherder_scheduler_job" "many" {{
  count     = {count}
  app       = "{app}"
  command   = "./manage.py {prefix}_${{count.index}}"
  frequency = "every_hour_at_${{(count.index % 6) * 10}}"
}}
"#
    )
}

mod life_cycle;
mod requests;
