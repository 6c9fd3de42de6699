//! `examples/testing/` run the way its users run it: `terraform init` then `terraform test`
//! (Terraform 1.11.4, `TREEHERDER_TERRAFORM_LATEST`: mock providers need ≥ 1.7), against the
//! provider built from this checkout and an in-process sandbox. Every run of both test files
//! must pass: the unit runs on `mock_provider "treeherder"` (which must accept this provider's
//! schema: nested attributes, sensitive maps) and the integration run that applies for real,
//! which the sandbox must have seen (a Scheduler job created, then destroyed).

use std::collections::BTreeSet;
use std::path::Path;

use acceptance::harness::{repo_root, terraform_latest_for, treeherder_provider, SandboxWorld};
use serde_json::Value;

const API_KEY: &str = "terraform-test-acceptance-key-3d9f70";
/// The integration run's app (tests/integration.tftest.hcl).
const APP: &str = "treeherder-prototype";

/// The runs of examples/testing/tests/, as (file, run) pairs.
const RUNS: &[(&str, &str)] = &[
    ("tests/integration.tftest.hcl", "applies_against_the_api"),
    ("tests/unit.tftest.hcl", "mocked_apply_fills_the_outputs"),
    ("tests/unit.tftest.hcl", "plans_one_scheduler_job_per_entry"),
    ("tests/unit.tftest.hcl", "plans_the_web_formation"),
    ("tests/unit.tftest.hcl", "refuses_zero_web_dynos"),
    (
        "tests/unit.tftest.hcl",
        "secrets_are_nested_sensitive_values_only",
    ),
];

/// Copies the module's `.tf` files and its `tests/*.tftest.hcl` into `to`.
fn copy_module(from: &Path, to: &Path) {
    let copy_matching = |from: &Path, to: &Path, suffix: &str| {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("module dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("file name");
            if name.to_string_lossy().ends_with(suffix) {
                std::fs::copy(&path, to.join(name)).expect("copy");
            }
        }
    };
    copy_matching(from, to, ".tf");
    copy_matching(&from.join("tests"), &to.join("tests"), ".tftest.hcl");
}

/// The `test_run` messages of `terraform test -json` that carry a final status, as
/// ((file, run), status).
fn run_statuses(lines: &str) -> Vec<((String, String), String)> {
    lines
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["type"] == "test_run" && m["test_run"]["progress"] == "complete")
        .map(|m| {
            let run = &m["test_run"];
            (
                (
                    run["path"].as_str().unwrap_or_default().to_string(),
                    run["run"].as_str().unwrap_or_default().to_string(),
                ),
                run["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_testing_example_passes_terraform_test_with_mocks_and_the_real_provider() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let tf = terraform_latest_for(
        &[treeherder_provider()],
        world.env(),
        vec![API_KEY.to_string()],
    )
    .expect("terraform (TREEHERDER_TERRAFORM_LATEST, >= 1.7)");
    let ws = tf.workspace("testing").expect("workspace");
    copy_module(&repo_root().join("examples/testing"), ws.dir());
    ws.init().await.expect("terraform init");

    let jobs_before = control.app(APP).await["jobs"].clone();
    let out = ws
        .run(&["test", "-json", "-no-color"])
        .await
        .expect("terraform test");
    let report = format!(
        "terraform test exited {:?}:\n{}\n{}",
        out.code,
        tf.redact(&out.stdout),
        tf.redact(&out.stderr)
    );

    let statuses = run_statuses(&out.stdout);
    let seen: BTreeSet<(String, String)> = statuses.iter().map(|(k, _)| k.clone()).collect();
    let expected: BTreeSet<(String, String)> = RUNS
        .iter()
        .map(|(f, r)| (f.to_string(), r.to_string()))
        .collect();
    assert_eq!(seen, expected, "the runs reported: {report}");
    let failed: Vec<_> = statuses.iter().filter(|(_, s)| s != "pass").collect();
    assert!(failed.is_empty(), "runs not passed: {failed:?}\n{report}");
    let summary = out
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|m| m["type"] == "test_summary")
        .unwrap_or_else(|| panic!("no test_summary: {report}"));
    assert_eq!(summary["test_summary"]["status"], "pass", "{report}");
    assert_eq!(summary["test_summary"]["passed"], RUNS.len(), "{report}");
    assert!(out.success(), "{report}");

    // The integration run went to the API: the job was created on the app, then destroyed
    // when `terraform test` cleaned up. The unit runs made no writes (their mock answers).
    let writes: Vec<String> = control
        .writes()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let job_creates = writes
        .iter()
        .filter(|w| w.starts_with("POST ") && w.ends_with("/jobs"))
        .count();
    assert_eq!(
        job_creates, 1,
        "one Scheduler job created, by the integration run alone: {writes:?}"
    );
    assert!(
        writes
            .iter()
            .any(|w| w.starts_with("DELETE ") && w.contains("/jobs/")),
        "the integration run's job was destroyed: {writes:?}"
    );
    assert_eq!(
        control.app(APP).await["jobs"],
        jobs_before,
        "the app's jobs are as before the test"
    );
}
