//! A pull request planned (saved plan, readable plan on the pull request), merged, and its
//! saved plan applied: the resources exist, the state is in PostgreSQL, the next plan is empty
//! and no secret reached a log, the comment or the readable plan.

use acceptance::harness::SandboxWorld;

use super::pg::TestDatabase;
use super::runner::Workflow;
use super::*;

const HEAD: &str = "1f0c9a3e5b7d2c4a6e8f0b1d3c5e7a9b2d4f6a8c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_pull_request_applies_its_reviewed_plan() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let db = TestDatabase::create("ci_flow");
    let runner = runner(world.env());
    let gh = github(&db, "ci-flow", 7, HEAD);
    let jobs_before = jobs(&control).await.len();

    // Pull request 7: fmt, init, validate, plan, the comment.
    let planned = plan_pull_request(&runner, "pr-7", |t| t, &gh).await;
    assert!(planned.join("tfplan").is_file(), "the saved plan");
    let text = std::fs::read_to_string(planned.join("plan.txt")).expect("plan.txt");
    for line in [
        "treeherder_scheduler_job.cache_failure_history will be created",
        "treeherder_config_vars.app will be created",
        "Plan: 2 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(text.contains(line), "plan.txt lacks {line:?}:\n{text}");
    }
    assert!(!text.contains(PULSE_AUTH), "a secret in plan.txt");
    let comments = runner.comments();
    assert_eq!(comments.len(), 1, "one comment");
    let (args, body) = &comments[0];
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "pr",
            "comment",
            "7",
            "--repo",
            "mozilla/treeherder-infra",
            "--body-file",
            "comment.md"
        ]
    );
    assert!(body.contains(HEAD), "{body}");
    assert!(
        body.contains(text.trim_end()),
        "the whole plan in the comment: {body}"
    );
    // Planning wrote nothing to the app.
    assert_eq!(jobs(&control).await.len(), jobs_before);

    // Merged: find-plan names the plan run of the head commit, then init and apply.
    let apply = Workflow::load("terraform-apply.yml");
    let dir = runner.checkout("merge-7", |t| t);
    let missing = runner.run(&dir, &apply, "find-plan", &gh).await;
    assert!(
        !missing.success(),
        "no plan run, no apply: {}",
        missing.text()
    );
    assert!(
        missing.stdout.contains("nothing reviewed to apply"),
        "{}",
        missing.text()
    );
    std::fs::write(runner.gh_dir.join("run-id"), "4242\n").expect("run id");
    let found = runner.run(&dir, &apply, "find-plan", &gh).await;
    assert!(found.success(), "{}", found.text());
    assert_eq!(found.outputs, "run-id=4242\n");
    let dir = apply_checkout(&runner, "merge-7-apply", &planned, &gh).await;
    let applied = runner.run(&dir, &apply, "apply", &gh).await;
    assert!(
        applied.success(),
        "apply: {}",
        runner.tf.redact(&applied.text())
    );
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );

    // In the sandbox, and the state in PostgreSQL.
    let created = jobs(&control).await;
    assert_eq!(
        created.len(),
        jobs_before + 1,
        "one job created: {created:?}"
    );
    let vars = control.app(APP).await["config_vars"].clone();
    assert_eq!(vars["LOG_LEVEL"], "INFO");
    assert_eq!(vars["PULSE_AUTH"], PULSE_AUTH, "the secret reached the app");
    let state = db.default_state();
    let mut resources = state.resources.clone();
    resources.sort();
    assert_eq!(
        resources,
        [
            "treeherder_config_vars.app",
            "treeherder_scheduler_job.cache_failure_history"
        ]
    );
    // The backend's settings kept in .terraform/ hold the connection string, never the password.
    let backend = std::fs::read_to_string(dir.join(".terraform/terraform.tfstate"))
        .expect(".terraform/terraform.tfstate");
    assert!(backend.contains(&db.name), "{backend}");
    assert!(!backend.contains(PG_PASSWORD));

    // The next pull request changes nothing: its plan says so and writes no state.
    let next = plan_pull_request(&runner, "pr-8", |t| t, &github(&db, "ci-flow", 8, "8e")).await;
    let text = std::fs::read_to_string(next.join("plan.txt")).expect("plan.txt");
    assert!(text.contains("No changes."), "{text}");
    assert_eq!(db.default_state().serial, state.serial);
    assert_eq!(jobs(&control).await.len(), jobs_before + 1);

    let scan = runner.tf.scan(&secrets()).expect("scan the logs");
    assert!(scan.leaks.is_empty(), "secrets in logs: {:?}", scan.leaks);
    assert!(scan.files_scanned > 10, "the steps' logs were scanned");
    for (_, body) in runner.comments() {
        assert!(
            secrets().iter().all(|s| !body.contains(s.as_str())),
            "a secret in a comment"
        );
    }
}
