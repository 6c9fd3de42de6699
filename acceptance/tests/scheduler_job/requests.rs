//! What reaches the Scheduler: faults, lost answers, request counts, the example's jobs.

use super::*;
use acceptance::sandbox::{Api, FaultApi, FaultSpec, LoggedRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_jobs_survive_a_429_storm_503s_and_lost_create_responses() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    // Writes to one app are serialised, so the first requests take the whole storm: enough
    // retries for it, with tiny delays.
    let config = many_jobs_config_with(
        &heroku_provider_config(12, 2),
        "treeherder-prod",
        30,
        "fault_job",
    );
    let c_pre = control.clone();
    let c_check = control.clone();
    let c_destroy = control.clone();
    let report = treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config)
                .pre_step_async(move || {
                    let control = c_pre.clone();
                    async move {
                        control.clear_requests().await;
                        // Each request takes one use of the first fault matching it.
                        let scheduler = |status| FaultSpec::any(status).api(FaultApi::Scheduler);
                        for fault in [
                            scheduler(429).count(6).retry_after(0),
                            scheduler(503).count(3).method("GET"),
                            // Refused creates: nothing was created, the client must retry.
                            scheduler(503).count(2).method("POST"),
                            // Lost responses: the job exists, the client must not duplicate it.
                            scheduler(500).count(4).method("POST").after_effect(),
                            FaultSpec::any(503).api(FaultApi::Heroku).count(2),
                        ] {
                            control.add_fault(fault).await;
                        }
                        Ok::<(), String>(())
                    }
                })
                .check_async(move |state| {
                    let control = c_check.clone();
                    async move {
                        let left = control.faults().await;
                        if !left.is_empty() {
                            return Err(format!("faults not all consumed: {left:?}"));
                        }
                        let log = control.requests().await;
                        for status in [429, 503, 500] {
                            if !log.iter().any(|r| r.status == status) {
                                return Err(format!("no {status} answer in the request log"));
                            }
                        }
                        let jobs = jobs(&control, "treeherder-prod").await;
                        let mut commands: Vec<String> = jobs
                            .iter()
                            .filter_map(|j| j["command"].as_str())
                            .filter(|c| c.starts_with("./manage.py fault_job_"))
                            .map(str::to_string)
                            .collect();
                        commands.sort();
                        let mut expected: Vec<String> = (0..30)
                            .map(|i| format!("./manage.py fault_job_{i}"))
                            .collect();
                        expected.sort();
                        if commands != expected {
                            return Err(format!(
                                "expected exactly one job per command, got {} jobs: {commands:?}",
                                commands.len()
                            ));
                        }
                        // Every resource points at a distinct existing job.
                        let mut ids: Vec<String> = state
                            .resources()
                            .iter()
                            .filter_map(|r| r.values["id"].as_str().map(str::to_string))
                            .collect();
                        ids.sort();
                        ids.dedup();
                        if ids.len() != 30
                            || !ids
                                .iter()
                                .all(|id| jobs.iter().any(|j| j["id"] == id.as_str()))
                        {
                            return Err(format!("state ids {ids:?} do not match the sandbox"));
                        }
                        Ok(())
                    }
                }),
        )
        .check_destroy_async(move |_| {
            let control = c_destroy.clone();
            async move {
                let jobs = jobs(&control, "treeherder-prod").await;
                if jobs.len() == 3 {
                    Ok(())
                } else {
                    Err(format!(
                        "{} jobs on treeherder-prod after destroy",
                        jobs.len()
                    ))
                }
            }
        })
        .try_run()
        .await;
    let report = report.unwrap_or_else(|failure| panic!("{failure}"));
    assert!(report.files_scanned > 0 && report.secrets_checked > 0);
}

fn scheduler_requests(log: &[LoggedRequest]) -> Vec<&LoggedRequest> {
    log.iter().filter(|r| r.api == Api::Scheduler).collect()
}

/// A refresh over N jobs of one app costs the same few requests whatever N is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshing_one_hundred_jobs_costs_a_constant_number_of_requests() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let env = world.env();
    let tf =
        terraform_for(&[treeherder_provider()], env, vec![API_KEY.to_string()]).expect("terraform");
    let work = tf.workspace("work").expect("workspace");
    let mut per_size = Vec::new();
    for n in [10, 100] {
        work.write_config(&many_jobs_config("treeherder-prod", n, "count_job"))
            .unwrap();
        work.init().await.expect("init");
        let applied = work.apply().await.expect("apply runs");
        tf.require_success(applied).expect("apply succeeds");
        control.clear_requests().await;
        let plan = work.plan(true).await.expect("plan");
        assert!(!plan.has_changes, "plan after apply:\n{}", plan.text);
        let log = control.requests().await;
        let scheduler = scheduler_requests(&log);
        eprintln!(
            "refresh of {n} jobs: {} requests ({} Scheduler)",
            log.len(),
            scheduler.len()
        );
        assert!(
            scheduler.len() <= 5,
            "refresh of {n} jobs made {} Scheduler requests: {scheduler:?}",
            scheduler.len()
        );
        assert!(log.len() <= 5, "refresh of {n} jobs: {log:?}");
        assert!(
            scheduler.iter().all(|r| r.method == "GET"),
            "a refresh wrote: {scheduler:?}"
        );
        per_size.push(log.len());
    }
    assert_eq!(
        per_size[0], per_size[1],
        "the request count depends on the number of jobs"
    );
    let destroyed = work.destroy().await;
    assert!(destroyed.is_ok(), "destroy: {destroyed:?}");
    assert_eq!(jobs(&control, "treeherder-prod").await.len(), 3);
    let scan = tf.scan(&[API_KEY.to_string()]).expect("scan");
    assert!(scan.files_scanned > 0);
    assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
}

/// `examples/treeherder/scheduler_jobs.tf` describes the jobs the sandbox seeds on
/// treeherder-prod: imported as its header says, the plan is empty and nothing is duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn treeherder_example_jobs_import_with_an_empty_plan_and_no_duplicates() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let example_path =
        acceptance::harness::repo_root().join("examples/treeherder/scheduler_jobs.tf");
    let example = std::fs::read_to_string(&example_path).expect("example file");
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&format!("{}\n{example}", provider_block()))
        .unwrap();
    work.init().await.expect("init");
    // The import commands are taken from the example's own header.
    let imports: Vec<(String, String)> = example
        .lines()
        .filter_map(|l| {
            l.trim_start_matches('#')
                .trim()
                .strip_prefix("terraform import ")
        })
        .map(|rest| {
            let mut parts = rest.split_whitespace();
            let address = parts.next().expect("address").to_string();
            let id = parts.next().expect("id").to_string();
            (address, id)
        })
        .collect();
    assert_eq!(imports.len(), 3, "the example documents three imports");
    for (address, id) in &imports {
        let out = work.import(address, id).await.expect("import runs");
        tf.require_success(out).expect("import succeeds");
    }
    let plan = work.plan(true).await.expect("plan");
    assert!(
        !plan.has_changes,
        "the example does not match the seeded jobs:\n{}",
        plan.text
    );
    let applied = work.apply().await.expect("apply runs");
    tf.require_success(applied).expect("apply succeeds");
    let jobs = jobs(&control, "treeherder-prod").await;
    assert_eq!(jobs.len(), 3, "jobs on treeherder-prod: {jobs:?}");
    let scan = tf.scan(&[API_KEY.to_string()]).expect("scan");
    assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
}

/// Issue 9, finding 5: a create whose answer is lost (the job was made) while the listing
/// that would verify it keeps failing. The provider must not POST again: one job on the app,
/// one POST in the log, and an error saying the job may exist and how to import it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_that_cannot_be_verified_is_never_posted_again() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let command = "./manage.py lost_create_probe";
    let config = format!(
        r#"{}
resource "treeherder_scheduler_job" "job" {{
  app       = "treeherder-prod"
  command   = "{command}"
  frequency = "every_ten_minutes"
}}
"#,
        heroku_provider_config(2, 2)
    );
    let c_pre = control.clone();
    let c_destroy = control.clone();
    let error =
        Regex::new(r"(?s)may\s+exist.*terraform\s+import\s+ADDRESS\s+treeherder-prod:<job\s+id>")
            .unwrap();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(config)
                .pre_step_async(move || {
                    let control = c_pre.clone();
                    async move {
                        control.clear_requests().await;
                        let scheduler = |status| FaultSpec::any(status).api(FaultApi::Scheduler);
                        for fault in [
                            scheduler(500).method("POST").after_effect(),
                            // The listing before the POST succeeds, every later one fails
                            // (the sandbox log of the issue: GET 200, POST 500, GET 503 ...).
                            scheduler(503).count(1000).method("GET").skip(1),
                        ] {
                            control.add_fault(fault).await;
                        }
                        Ok::<(), String>(())
                    }
                })
                .expect_error(error),
        )
        .check_destroy_async(move |_| {
            let control = c_destroy.clone();
            async move {
                let log = control.requests().await;
                let posts = log
                    .iter()
                    .filter(|r| r.api == Api::Scheduler && r.method == "POST")
                    .count();
                let jobs =
                    jobs_with_command(&control, "treeherder-prod", "./manage.py lost_create_probe")
                        .await;
                if posts != 1 || jobs.len() != 1 {
                    return Err(format!(
                        "{posts} POSTs, {} jobs with the command: {jobs:?}",
                        jobs.len()
                    ));
                }
                Ok::<(), String>(())
            }
        })
        .run()
        .await;
}

/// Issue 9 (performance): creating N jobs on one app costs one Scheduler request per job,
/// plus a constant (the app's job list, taken once per app and process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_jobs_costs_one_scheduler_request_each() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    let n = 40;
    work.write_config(&many_jobs_config("treeherder-prod", n, "cost_job"))
        .unwrap();
    work.init().await.expect("init");
    control.clear_requests().await;
    let applied = work.apply().await.expect("apply runs");
    tf.require_success(applied).expect("apply succeeds");
    let log = control.requests().await;
    let scheduler = scheduler_requests(&log);
    let posts = scheduler.iter().filter(|r| r.method == "POST").count();
    eprintln!(
        "creating {n} jobs: {} requests ({} Scheduler, {posts} POST)",
        log.len(),
        scheduler.len()
    );
    assert_eq!(posts, n, "one POST per job");
    assert!(
        scheduler.len() <= n + 1,
        "{n} creates made {} Scheduler requests",
        scheduler.len()
    );
    assert!(
        log.len() <= n + 4,
        "{n} creates made {} requests",
        log.len()
    );
    let destroyed = work.destroy().await;
    assert!(destroyed.is_ok(), "destroy: {destroyed:?}");
    assert_eq!(jobs(&control, "treeherder-prod").await.len(), 3);
}
