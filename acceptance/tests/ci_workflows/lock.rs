//! Two merges close together: two saved plans made from the same state, applied at once. The
//! first apply is held mid-apply by the sandbox (its config-vars PATCH unanswered), so it holds
//! the `pg` backend's lock. An apply without a lock timeout fails with the lock error; with
//! one, the second apply is seen waiting (PostgreSQL shows its lock attempt refused, it has not
//! finished). Released, the first completes; the second then gets the lock and Terraform
//! refuses its saved plan as stale (the state changed since it was reviewed) without writing
//! anything, which is the point: no unreviewed change, nothing applied twice. Its pull request
//! planned again (on main with the first merge, as GitHub's merge ref is) applies cleanly.

use std::time::Duration;

use acceptance::harness::SandboxWorld;
use regex::Regex;

use super::pg::TestDatabase;
use super::runner::Workflow;
use super::*;

fn log_level_debug(main_tf: String) -> String {
    let edited = main_tf.replace("LOG_LEVEL = \"INFO\"", "LOG_LEVEL = \"DEBUG\"");
    assert_ne!(edited, main_tf, "the edit applies");
    edited
}

fn at_five(main_tf: String) -> String {
    let edited = main_tf.replace("every_day_at_4:30", "every_day_at_5:00");
    assert_ne!(edited, main_tf, "the edit applies");
    edited
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_waits_for_the_lock_and_refuses_its_stale_plan() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let db = TestDatabase::create("ci_lock");
    let runner = runner(world.env());
    let apply = Workflow::load("terraform-apply.yml");

    // main as applied by an earlier merge.
    let base_gh = github(&db, "ci-base", 1, "base");
    let planned = plan_pull_request(&runner, "pr-1", |t| t, &base_gh).await;
    let dir = apply_checkout(&runner, "merge-1", &planned, &base_gh).await;
    runner.run_ok(&dir, &apply, &["apply"], &base_gh).await;
    let base = db.default_state();
    let job = jobs(&control).await;
    assert_eq!(job.len(), 1, "{job:?}");

    // Pull requests A and B, both planned from that state, merged one after the other.
    let gh_a = github(&db, "ci-apply-a", 2, "aaaa");
    let gh_b = github(&db, "ci-apply-b", 3, "bbbb");
    let planned_a = plan_pull_request(&runner, "pr-a", log_level_debug, &gh_a).await;
    let planned_b = plan_pull_request(&runner, "pr-b", at_five, &gh_b).await;
    let dir_a = apply_checkout(&runner, "merge-a", &planned_a, &gh_a).await;
    let dir_b = apply_checkout(&runner, "merge-b", &planned_b, &gh_b).await;

    let hold = control.hold("PATCH", "/apps/").await;
    let first = runner.spawn(&dir_a, &apply, "apply", &gh_a);
    control
        .wait_until_held(hold, Duration::from_secs(120))
        .await;
    assert_eq!(db.lock_holders("ci-apply-a"), 1, "A holds the state lock");

    // Without waiting (the workflow's LOCK_TIMEOUT at 0s, Terraform's default): the lock error.
    let gh_b0 = github(&db, "ci-apply-b0", 3, "bbbb").overriding("LOCK_TIMEOUT", "0s");
    let refused = runner.run(&dir_b, &apply, "apply", &gh_b0).await;
    assert!(!refused.success(), "{}", refused.text());
    let lock_error = Regex::new(r"Error\s+acquiring\s+the\s+state\s+lock").expect("regex");
    assert!(lock_error.is_match(&refused.stderr), "{}", refused.text());
    assert!(
        refused.stderr.contains("already locked"),
        "{}",
        refused.text()
    );

    // With the workflow's timeout: it waits. PostgreSQL shows its attempt refused; Terraform
    // says it is acquiring the lock once that takes longer than 400 ms.
    let mut second = runner.spawn(&dir_b, &apply, "apply", &gh_b);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while db.refused_lockers("ci-apply-b") == 0
        || !second.output_so_far().contains("Acquiring state lock")
    {
        assert!(second.is_running(), "B ended: {}", second.output_so_far());
        assert!(
            tokio::time::Instant::now() < deadline,
            "B was never refused the lock: {}\nsessions: {}",
            second.output_so_far(),
            db.query("SELECT pid, application_name, state, query FROM pg_stat_activity")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(second.is_running(), "B waits: {}", second.output_so_far());
    let so_far = second.output_so_far();
    assert!(!so_far.contains("Apply complete"), "{so_far}");
    assert_eq!(db.lock_holders("ci-apply-a"), 1, "A still holds it");
    assert_eq!(
        db.default_state().serial,
        base.serial,
        "nothing written meanwhile"
    );

    control.release_holds().await;
    let first = first.wait().await;
    assert!(first.success(), "A: {}", runner.tf.redact(&first.text()));
    assert!(
        first
            .stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        first.stdout
    );
    let second = second.wait().await;
    assert!(!second.success(), "B's plan is stale: {}", second.text());
    let stale = Regex::new(r"Saved\s+plan\s+is\s+stale").expect("regex");
    assert!(stale.is_match(&second.stderr), "{}", second.text());

    // One write (A's), nothing duplicated, B changed nothing.
    let after = db.default_state();
    assert_eq!(after.lineage, base.lineage);
    assert_eq!(after.serial, base.serial + 1, "A's apply only");
    assert_eq!(after.resources.len(), 2, "{:?}", after.resources);
    let vars = control.app(APP).await["config_vars"].clone();
    assert_eq!(vars["LOG_LEVEL"], "DEBUG");
    assert_eq!(
        jobs(&control).await,
        job,
        "B's job change not applied, no job added"
    );

    // B planned again on main with A, reviewed, applied.
    let gh_b2 = github(&db, "ci-apply-b2", 3, "bbbb");
    let both = |t: String| at_five(log_level_debug(t));
    let replanned = plan_pull_request(&runner, "pr-b-again", both, &gh_b2).await;
    let text = std::fs::read_to_string(replanned.join("plan.txt")).expect("plan.txt");
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{text}"
    );
    assert!(
        text.contains("treeherder_scheduler_job.cache_failure_history will be updated"),
        "{text}"
    );
    let dir = apply_checkout(&runner, "merge-b-again", &replanned, &gh_b2).await;
    runner.run_ok(&dir, &apply, &["apply"], &gh_b2).await;
    let last = db.default_state();
    assert_eq!(last.serial, base.serial + 2);
    assert_eq!(last.resources.len(), 2, "{:?}", last.resources);
    let now = jobs(&control).await;
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0]["id"], job[0]["id"], "the same job, updated");
    assert_ne!(now[0]["at"], job[0]["at"], "its time changed: {now:?}");
    assert_eq!(control.app(APP).await["config_vars"]["LOG_LEVEL"], "DEBUG");

    let scan = runner.tf.scan(&secrets()).expect("scan the logs");
    assert!(scan.leaks.is_empty(), "secrets in logs: {:?}", scan.leaks);
}
