//! Heroku requests and wall time of `terraform apply` (create), `terraform plan` (refresh)
//! and `terraform destroy` over N `treeherder_scheduler_job`s of one app, with real
//! Terraform 1.0.3 against an in-process sandbox. Prints a table.
//!
//! `cargo bench -p acceptance --bench scheduler_job` (sizes from `SCHEDULER_BENCH_SIZES`,
//! default `10,100,500`). Needs `.tools/bin/terraform` and the debug provider binary.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use acceptance::harness::{terraform_for, treeherder_provider};
use acceptance::harness::{Terraform, Workspace};
use acceptance::sandbox::{self, RunningSandbox, SandboxConfig};
use serde_json::Value;

const API_KEY: &str = "sched-bench-key-8c2e4a6f0b";

/// One measured Terraform command.
struct Measure {
    wall: Duration,
    heroku: usize,
    scheduler: usize,
}

fn config(n: usize) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder", version = "{version}" }}
  }}
}}

provider "treeherder" {{
  heroku {{
    max_retries         = 6
    retry_base_delay_ms = 5
  }}
}}

resource "treeherder_scheduler_job" "bench" {{
  count     = {n}
  app       = "treeherder-prod"
  command   = "./manage.py bench_${{count.index}}"
  frequency = "every_hour_at_${{(count.index % 6) * 10}}"
}}
"#,
        version = env!("CARGO_PKG_VERSION"),
    )
}

async fn request_log(
    http: &reqwest::Client,
    sandbox: &RunningSandbox,
) -> Result<Vec<Value>, String> {
    http.get(format!("{}/requests", sandbox.control_url))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

async fn clear_log(http: &reqwest::Client, sandbox: &RunningSandbox) -> Result<(), String> {
    http.delete(format!("{}/requests", sandbox.control_url))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Runs `terraform args` in `work`, which must succeed, and counts the requests it made.
async fn measure(
    tf: &Terraform,
    work: &Workspace<'_>,
    http: &reqwest::Client,
    sandbox: &RunningSandbox,
    args: &[&str],
) -> Result<Measure, String> {
    clear_log(http, sandbox).await?;
    let start = Instant::now();
    let out = work.run(args).await.map_err(|e| e.to_string())?;
    let wall = start.elapsed();
    // `plan -detailed-exitcode` is not used, so any non-zero exit is a failure.
    tf.require_success(out).map_err(|e| e.to_string())?;
    let log = request_log(http, sandbox).await?;
    let scheduler = log.iter().filter(|r| r["api"] == "scheduler").count();
    Ok(Measure {
        wall,
        heroku: log.len() - scheduler,
        scheduler,
    })
}

async fn run_size(n: usize) -> Result<[Measure; 3], String> {
    let sandbox = sandbox::start(SandboxConfig {
        api_key: API_KEY.to_string(),
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let env = BTreeMap::from([
        ("HEROKU_API_URL".to_string(), sandbox.heroku_url.clone()),
        (
            "HEROKU_SCHEDULER_URL".to_string(),
            sandbox.scheduler_url.clone(),
        ),
        ("HEROKU_API_KEY".to_string(), API_KEY.to_string()),
    ]);
    let mut tf = terraform_for(&[treeherder_provider()], env, vec![API_KEY.to_string()])
        .map_err(|e| e.to_string())?;
    tf.set_timeout(Duration::from_secs(1800));
    let work = tf.workspace("bench").map_err(|e| e.to_string())?;
    work.write_config(&config(n)).map_err(|e| e.to_string())?;
    work.init().await.map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();
    let apply = measure(
        &tf,
        &work,
        &http,
        &sandbox,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    )
    .await?;
    let plan = measure(
        &tf,
        &work,
        &http,
        &sandbox,
        &["plan", "-input=false", "-no-color"],
    )
    .await?;
    let destroy = measure(
        &tf,
        &work,
        &http,
        &sandbox,
        &["destroy", "-auto-approve", "-input=false", "-no-color"],
    )
    .await?;
    sandbox.stop().await.map_err(|e| e.to_string())?;
    Ok([apply, plan, destroy])
}

fn sizes() -> Result<Vec<usize>, String> {
    match std::env::var("SCHEDULER_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|e| format!("SCHEDULER_BENCH_SIZES: {e}"))
            })
            .collect(),
        Err(_) => Ok(vec![10, 100, 500]),
    }
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sizes = match sizes() {
        Ok(sizes) => sizes,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("treeherder_scheduler_job, one app, Terraform 1.0.3, in-process sandbox");
    println!(
        "provider binary: {} (requests = requests the sandbox logged during the command)",
        treeherder_provider().binary.display()
    );
    println!(
        "{:>5}  {:<8} {:>9} {:>10} {:>15}",
        "jobs", "command", "wall (s)", "scheduler", "platform API"
    );
    for n in sizes {
        match runtime.block_on(run_size(n)) {
            Ok(measures) => {
                for (name, m) in ["apply", "plan", "destroy"].iter().zip(measures.iter()) {
                    println!(
                        "{n:>5}  {name:<8} {:>9.2} {:>10} {:>15}",
                        m.wall.as_secs_f64(),
                        m.scheduler,
                        m.heroku
                    );
                }
            }
            Err(e) => {
                eprintln!("{n} jobs: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
