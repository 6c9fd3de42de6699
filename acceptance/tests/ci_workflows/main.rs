//! examples/ci/: the workflow pair of an infrastructure repository (plan on pull request,
//! apply of that saved plan on merge) checked by actionlint and, step by step, run here the
//! way GitHub runs them (runner.rs: each Terraform step's `run:` block from the YAML, under
//! bash, with the workflow's environment and its secrets) against an in-process sandbox, with
//! the state in Terraform's `pg` backend on a real PostgreSQL (pg.rs; a database per test).
//!
//! Needs `make up` (PostgreSQL: scripts/postgres-up.sh, `TREEHERDER_PG_URL` from
//! scripts/test-env.sh), `make tools` (Terraform, actionlint) and the provider binary.

mod flow;
mod lock;
mod pg;
mod runner;

use std::path::Path;
use std::process::Command;

use acceptance::harness::{repo_root, SandboxControl};
use pg::TestDatabase;
use runner::{Github, Runner, Workflow};
use serde_json::Value;

pub const API_KEY: &str = "ci-workflows-acceptance-key-5b1e07";
/// The repository's other secrets, each scanned for in every log.
pub const PULSE_AUTH: &str = "pulse-ci-secret-value-93d1c4";
pub const MYSQL_PASSWORD: &str = "mysql-admin-ci-secret-2f7a60";
pub const PG_PASSWORD: &str = "pg-password-ci-secret-8e3b15";
pub const APP: &str = "treeherder-prototype";
pub const JOB_COMMAND: &str = "./manage.py cache_failure_history";

pub fn secrets() -> Vec<String> {
    [API_KEY, PULSE_AUTH, MYSQL_PASSWORD, PG_PASSWORD]
        .map(String::from)
        .to_vec()
}

/// The contexts of a workflow run for pull request `pr` at `head_sha`, whose state backend
/// connects as client `client` (how pg.rs tells the runs apart in pg_stat_activity).
pub fn github(db: &TestDatabase, client: &str, pr: u32, head_sha: &str) -> Github {
    Github::default()
        .with("vars.PG_CONN_STR", &db.conn_str(client))
        .with("secrets.PG_PASSWORD", PG_PASSWORD)
        .with("secrets.HEROKU_API_KEY", API_KEY)
        .with("vars.TREEHERDER_MYSQL_ENDPOINT", "mysql.ci.invalid:3306")
        .with("vars.TREEHERDER_MYSQL_USERNAME", "th_admin")
        .with("secrets.TREEHERDER_MYSQL_PASSWORD", MYSQL_PASSWORD)
        .with("secrets.PULSE_AUTH", PULSE_AUTH)
        .with("github.token", "ghs-ci-workflows-test-token")
        .with("github.event.pull_request.number", &pr.to_string())
        .with("github.event.pull_request.head.sha", head_sha)
}

/// A runner whose machine reaches the sandbox (not its key: that comes from the workflow).
pub fn runner(world_env: std::collections::BTreeMap<String, String>) -> Runner {
    let machine = world_env
        .into_iter()
        .filter(|(k, _)| k != "HEROKU_API_KEY")
        .collect();
    Runner::new(machine, secrets())
}

/// Runs terraform-plan.yml's Terraform steps for a pull request in a new checkout `name`
/// (main.tf changed by `edit`); returns the checkout, which holds `tfplan` and `plan.txt`.
pub async fn plan_pull_request(
    runner: &Runner,
    name: &str,
    edit: impl Fn(String) -> String,
    github: &Github,
) -> std::path::PathBuf {
    let plan = Workflow::load("terraform-plan.yml");
    let dir = runner.checkout(name, edit);
    runner
        .run_ok(
            &dir,
            &plan,
            &["fmt", "init", "validate", "plan", "comment"],
            github,
        )
        .await;
    dir
}

/// A new checkout `name` for terraform-apply.yml holding the saved plan of `planned` (what
/// upload-artifact and download-artifact carry: `tfplan` and `plan.txt`), initialised by the
/// workflow's `init` step.
pub async fn apply_checkout(
    runner: &Runner,
    name: &str,
    planned: &Path,
    github: &Github,
) -> std::path::PathBuf {
    let apply = Workflow::load("terraform-apply.yml");
    let dir = runner.checkout(name, |t| t);
    for file in ["tfplan", "plan.txt"] {
        std::fs::copy(planned.join(file), dir.join(file)).expect("the plan artifact");
    }
    runner.run_ok(&dir, &apply, &["init"], github).await;
    dir
}

/// The sandbox's Scheduler jobs of [`APP`] running [`JOB_COMMAND`].
pub async fn jobs(control: &SandboxControl) -> Vec<Value> {
    control.app(APP).await["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|j| j["command"] == JOB_COMMAND)
        .cloned()
        .collect()
}

#[test]
fn workflows_pass_actionlint() {
    let actionlint = repo_root().join(".tools/bin/actionlint");
    assert!(
        actionlint.exists(),
        "{} is missing: run `make tools`",
        actionlint.display()
    );
    let files: Vec<_> = ["terraform-plan.yml", "terraform-apply.yml"]
        .iter()
        .map(|f| Workflow::dir().join(f))
        .collect();
    let out = Command::new(&actionlint)
        .arg("-no-color")
        .args(&files)
        .output()
        .expect("run actionlint");
    assert!(
        out.status.success(),
        "actionlint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the Terraform steps cannot show: triggers, permissions, concurrency, the actions and
/// the artifact handed from one workflow to the other.
#[test]
fn workflows_declare_the_review_and_apply_contract() {
    let plan = Workflow::load("terraform-plan.yml");
    let apply = Workflow::load("terraform-apply.yml");
    let doc = apply.doc();
    assert_eq!(
        doc["on"]["pull_request"]["types"][0].as_str(),
        Some("closed")
    );
    assert_eq!(
        apply.job()["if"].as_str(),
        Some("github.event.pull_request.merged == true")
    );
    assert_eq!(
        doc["concurrency"]["group"].as_str(),
        Some("terraform-apply")
    );
    assert_eq!(
        doc["concurrency"]["cancel-in-progress"].as_bool(),
        Some(false)
    );
    let pinned = regex::Regex::new(r"^[\w-]+/[\w-]+@v\d+$").expect("regex");
    for workflow in [&plan, &apply] {
        let doc = workflow.doc();
        assert_eq!(doc["permissions"]["id-token"].as_str(), Some("write"));
        let uses: Vec<&str> = workflow
            .steps()
            .iter()
            .filter_map(|s| s["uses"].as_str())
            .collect();
        for action in &uses {
            assert!(
                pinned.is_match(action),
                "{}: {action} not pinned by major tag",
                workflow.file
            );
        }
        let aws = workflow
            .steps()
            .iter()
            .find(|s| s["uses"].as_str() == Some("aws-actions/configure-aws-credentials@v4"))
            .unwrap_or_else(|| panic!("{}: AWS credentials through OIDC", workflow.file));
        let role = aws["with"]["role-to-assume"].as_str().unwrap_or_default();
        assert!(role.starts_with("${{ vars.AWS_"), "{role}");
        // Every secret comes from the repository's secret store, none is written in.
        for (key, value) in workflow.step("init").env {
            if [
                "HEROKU_API_KEY",
                "PGPASSWORD",
                "TREEHERDER_MYSQL_PASSWORD",
                "TF_VAR_pulse_auth",
            ]
            .contains(&key.as_str())
            {
                assert!(value.starts_with("${{ secrets."), "{key}: {value}");
            }
        }
    }
    assert_eq!(
        plan.doc()["permissions"]["pull-requests"].as_str(),
        Some("write")
    );
    assert_eq!(apply.doc()["permissions"]["actions"].as_str(), Some("read"));
    // The artifact the plan uploads is the one the apply downloads, from the run find-plan
    // found, and it carries the saved plan the apply step applies.
    let step_with = |w: &Workflow, action: &str| {
        w.steps()
            .iter()
            .find(|s| s["uses"].as_str() == Some(action))
            .map(|s| s["with"].clone())
            .unwrap_or_else(|| panic!("{}: no {action}", w.file))
    };
    let upload = step_with(&plan, "actions/upload-artifact@v4");
    let download = step_with(&apply, "actions/download-artifact@v4");
    assert_eq!(upload["name"], download["name"]);
    assert_eq!(
        upload["name"].as_str(),
        Some("tfplan-${{ github.event.pull_request.head.sha }}")
    );
    assert_eq!(
        download["run-id"].as_str(),
        Some("${{ steps.find-plan.outputs.run-id }}")
    );
    let paths: Vec<&str> = upload["path"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .collect();
    assert_eq!(paths, ["tfplan", "plan.txt"]);
    assert!(plan.step("plan").run.contains("-out=tfplan"));
    assert!(apply.step("apply").run.trim_end().ends_with(" tfplan"));
}
