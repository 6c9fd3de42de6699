//! A job's life: create, import, update, replace, drift, destroy; what fails at plan time.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_cycle_import_update_replace_and_destroy() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let first_id = next_job_id(&control).await.to_string();
    let command = "./manage.py cycle_data";
    let changed = "./manage.py cycle_data --days 45";

    let c1 = control.clone();
    let id1 = first_id.clone();
    let c3 = control.clone();
    let id3 = first_id.clone();
    let c4 = control.clone();
    let c5 = control.clone();
    let stage_uuid = control.app("treeherder-stage").await["id"]
        .as_str()
        .expect("app id")
        .to_string();
    let uuid_check = stage_uuid.clone();
    let id_uuid = first_id.clone();
    let cd = control.clone();
    treeherder_case()
        .envs(world.env())
        // Create, with the canonical spellings (the import below must reproduce them).
        .step(
            Step::config(job_config(
                "treeherder-stage",
                command,
                "every_day_at_4:30",
                None,
            ))
            .check_async(move |state| {
                let control = c1.clone();
                let id = id1.clone();
                async move {
                    state.expect_attr(ADDR, "id", id.as_str())?;
                    state.expect_attr(ADDR, "dyno_size", "Standard-1X")?;
                    state.expect_attr(ADDR, "frequency", "every_day_at_4:30")?;
                    let app = control.app("treeherder-stage").await;
                    state.expect_attr(ADDR, "app_id", app["id"].clone())?;
                    let jobs =
                        jobs_with_command(&control, "treeherder-stage", "./manage.py cycle_data")
                            .await;
                    let ours: Vec<&Value> = jobs.iter().filter(|j| j["id"] == id).collect();
                    match ours.as_slice() {
                        [job]
                            if job["every"] == 1440
                                && job["at"] == 270
                                && job["dyno_size"] == "Standard-1X" =>
                        {
                            Ok(())
                        }
                        other => Err(format!("job {id} in the sandbox: {other:?}")),
                    }
                }
            }),
        )
        // Import by `<app name>:<job id>` reproduces the state attribute for attribute.
        .step(
            Step::import(ADDR)
                .import_id(format!("treeherder-stage:{first_id}"))
                .verify_import(Vec::<String>::new()),
        )
        // Command, frequency (same time, other spelling) and size change in place.
        .step(
            Step::config(job_config(
                "treeherder-stage",
                changed,
                "every_day_at_04:30",
                Some("standard-2x"),
            ))
            .plan_checks([expect_resource_action(ADDR, ExpectedAction::Update)])
            .check_async(move |state| {
                let control = c3.clone();
                let id = id3.clone();
                async move {
                    state.expect_attr(ADDR, "id", id.as_str())?;
                    // The user's spelling survives: no perpetual diff.
                    state.expect_attr(ADDR, "frequency", "every_day_at_04:30")?;
                    state.expect_attr(ADDR, "dyno_size", "standard-2x")?;
                    let jobs = jobs_with_command(
                        &control,
                        "treeherder-stage",
                        "./manage.py cycle_data --days 45",
                    )
                    .await;
                    match jobs.as_slice() {
                        [job]
                            if job["id"] == id
                                && job["at"] == 270
                                && job["dyno_size"] == "Standard-2X" =>
                        {
                            Ok(())
                        }
                        other => Err(format!("updated job in the sandbox: {other:?}")),
                    }
                }
            }),
        )
        .step(
            Step::config(job_config(
                "treeherder-stage",
                changed,
                "every_hour_at_10",
                Some("standard-2x"),
            ))
            .plan_check(|plan| {
                expect_resource_action_in(plan, ADDR, ExpectedAction::Update)?;
                let changed = plan
                    .change(ADDR)
                    .map(|c| c.changed_attributes())
                    .unwrap_or_default();
                if changed.into_iter().collect::<Vec<_>>() == ["frequency"] {
                    Ok(())
                } else {
                    Err("only frequency should change".to_string())
                }
            })
            .check_async(move |state| {
                let control = c4.clone();
                async move {
                    let id = state.attr_str(ADDR, "id").unwrap_or_default();
                    let jobs = jobs(&control, "treeherder-stage").await;
                    match jobs.iter().find(|j| j["id"] == id.as_str()) {
                        Some(job) if job["every"] == 60 && job["at"] == 10 => Ok(()),
                        other => Err(format!("hourly job in the sandbox: {other:?}")),
                    }
                }
            }),
        )
        // The same app by UUID instead of name: an in-place change of `app` only.
        .step(
            Step::config(job_config(
                &stage_uuid,
                changed,
                "every_hour_at_10",
                Some("standard-2x"),
            ))
            .plan_check(|plan| {
                expect_resource_action_in(plan, ADDR, ExpectedAction::Update)?;
                let changed = plan
                    .change(ADDR)
                    .map(|c| c.changed_attributes())
                    .unwrap_or_default();
                if changed.into_iter().collect::<Vec<_>>() == ["app"] {
                    Ok(())
                } else {
                    Err("only app should change".to_string())
                }
            })
            .check(move |state| {
                state.expect_attr(ADDR, "id", id_uuid.as_str())?;
                state.expect_attr(ADDR, "app", uuid_check.as_str())
            }),
        )
        // Another app: a new job there, the old one deleted.
        .step(
            Step::config(job_config(
                "treeherder-prototype",
                changed,
                "every_hour_at_10",
                Some("standard-2x"),
            ))
            .plan_checks([expect_resource_action(ADDR, ExpectedAction::Replace)])
            .check_async(move |state| {
                let control = c5.clone();
                let old = first_id.clone();
                async move {
                    let id = state.attr_str(ADDR, "id").unwrap_or_default();
                    if id == old {
                        return Err(format!("the job id did not change ({id})"));
                    }
                    let stage = jobs(&control, "treeherder-stage").await;
                    if stage.iter().any(|j| j["id"] == old.as_str()) {
                        return Err(format!("job {old} is still on treeherder-stage"));
                    }
                    let prototype = jobs(&control, "treeherder-prototype").await;
                    if prototype.iter().any(|j| j["id"] == id.as_str()) {
                        Ok(())
                    } else {
                        Err(format!("job {id} is not on treeherder-prototype"))
                    }
                }
            }),
        )
        .check_destroy_async(move |last| {
            let control = cd.clone();
            async move {
                let id = last.attr_str(ADDR, "id").unwrap_or_default();
                for app in ["treeherder-prototype", "treeherder-stage"] {
                    let jobs = jobs(&control, app).await;
                    if jobs.iter().any(|j| j["id"] == id.as_str()) {
                        return Err(format!("job {id} survived destroy on {app}"));
                    }
                    // The seeded jobs were never touched.
                    if jobs.len() != 3 {
                        return Err(format!(
                            "{app} has {} jobs, expected the 3 seeded",
                            jobs.len()
                        ));
                    }
                }
                Ok::<(), String>(())
            }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_deleted_or_changed_behind_terraforms_back() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let command = "./manage.py drift_probe";
    let config = job_config("treeherder-prod", command, "every_ten_minutes", None);
    let prod_id = control.app("treeherder-prod").await["id"]
        .as_str()
        .expect("app id")
        .to_string();

    let c_delete = control.clone();
    let p_delete = prod_id.clone();
    let c_patch = control.clone();
    let p_patch = prod_id.clone();
    let c_check = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(Step::config(config.clone()))
        // Deleted in the dashboard: the refreshed plan creates it again.
        .step(
            Step::config(config.clone())
                .pre_step_async(move || {
                    let control = c_delete.clone();
                    let app = p_delete.clone();
                    async move {
                        let jobs = jobs_with_command(
                            &control,
                            "treeherder-prod",
                            "./manage.py drift_probe",
                        )
                        .await;
                        let id = jobs[0]["id"].as_str().expect("job id").to_string();
                        control
                            .scheduler(
                                reqwest::Method::DELETE,
                                &format!("/apps/{app}/jobs/{id}"),
                                None,
                            )
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .plan_only()
                .expect_non_empty_plan()
                .plan_checks([expect_resource_action(ADDR, ExpectedAction::Create)]),
        )
        .step(Step::config(config.clone()).check_async(move |state| {
            let control = c_check.clone();
            async move {
                let id = state.attr_str(ADDR, "id").unwrap_or_default();
                let jobs =
                    jobs_with_command(&control, "treeherder-prod", "./manage.py drift_probe").await;
                match jobs.as_slice() {
                    [job] if job["id"] == id.as_str() => Ok(()),
                    other => Err(format!("after re-creation: {other:?}")),
                }
            }
        }))
        // Changed in the dashboard: the refreshed plan updates it back, in place.
        .step(
            Step::config(config.clone())
                .pre_step_async(move || {
                    let control = c_patch.clone();
                    let app = p_patch.clone();
                    async move {
                        let jobs = jobs_with_command(
                            &control,
                            "treeherder-prod",
                            "./manage.py drift_probe",
                        )
                        .await;
                        let id = jobs[0]["id"].as_str().expect("job id").to_string();
                        let body = json!({"data": {"type": "jobs", "id": id, "attributes": {
                            "command": "./manage.py edited_in_dashboard"
                        }}});
                        control
                            .scheduler(
                                reqwest::Method::PATCH,
                                &format!("/apps/{app}/jobs/{id}"),
                                Some(body),
                            )
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    expect_resource_action_in(plan, ADDR, ExpectedAction::Update)?;
                    let change = plan.change(ADDR).ok_or("no change")?;
                    if change.before["command"] != "./manage.py edited_in_dashboard"
                        || change.after["command"] != "./manage.py drift_probe"
                    {
                        return Err(format!(
                            "command change: {} -> {}",
                            change.before["command"], change.after["command"]
                        ));
                    }
                    match change
                        .changed_attributes()
                        .into_iter()
                        .collect::<Vec<_>>()
                        .as_slice()
                    {
                        [only] if only == "command" => Ok(()),
                        other => Err(format!("unexpected changes: {other:?}")),
                    }
                }),
        )
        .step(Step::config(config))
        .check_destroy_async(move |_| {
            let control = control.clone();
            async move {
                let left = jobs(&control, "treeherder-prod").await;
                if left.iter().any(|j| {
                    j["command"] == "./manage.py drift_probe"
                        || j["command"] == "./manage.py edited_in_dashboard"
                }) {
                    return Err(format!("jobs left after destroy: {left:?}"));
                }
                Ok::<(), String>(())
            }
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_frequency_fails_at_plan_time_listing_the_valid_forms() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let valid = job_config(
        "treeherder-prod",
        "./manage.py validate_probe",
        "every_day_at_4:30",
        None,
    );
    // Terraform points at the `frequency` line of the config: the diagnostic names the
    // attribute; the detail lists every form (Terraform wraps long lines).
    let line = valid
        .lines()
        .position(|l| l.trim_start().starts_with("frequency"))
        .expect("frequency line")
        + 1;
    let listing = Regex::new(&format!(
        r"(?s)Invalid value for frequency.*on main\.tf line {line}, in resource.*every_ten_minutes,\s+every_hour_at_<0\|10\|20\|30\|40\|50>,\s+or\s+every_day_at_<H>:<00\|30>"
    ))
    .unwrap();
    treeherder_case()
        .envs(world.env())
        .step(Step::config(valid.clone()))
        .step(
            Step::config(valid.replace("every_day_at_4:30", "every_day_at_4:15"))
                .plan_only()
                .expect_error(listing.clone()),
        )
        .step(
            Step::config(valid.replace("every_day_at_4:30", "daily"))
                .plan_only()
                .expect_error(listing),
        )
        // The failed plans changed nothing: the original config is still in sync.
        .step(Step::config(valid).check_async(move |state| {
            let control = control.clone();
            async move {
                state.expect_attr(ADDR, "frequency", "every_day_at_4:30")?;
                let jobs =
                    jobs_with_command(&control, "treeherder-prod", "./manage.py validate_probe")
                        .await;
                if jobs.len() == 1 && jobs[0]["at"] == 270 {
                    Ok(())
                } else {
                    Err(format!("jobs: {jobs:?}"))
                }
            }
        }))
        .run()
        .await;
}

/// Issue 9, finding 9: values that only failed at apply fail the plan, at their attribute,
/// without a request that could reach `GET /apps`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_app_size_and_command_fail_at_plan_time() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let unknown_app = Regex::new(r#"(?s)Unknown app.*no-such-app"#).unwrap();
    let size = Regex::new(r"(?s)Invalid value for dyno_size.*Standard-1X.*Shield-L").unwrap();
    let blank = Regex::new(r"(?s)Invalid value for command.*blank").unwrap();
    let app_name = Regex::new(r"(?s)Invalid value for app.*lowercase letters").unwrap();
    let job = |app: &str, command: &str, size: Option<&str>| {
        job_config(app, command, "every_ten_minutes", size)
    };
    let c_check = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(
            Step::config(job("no-such-app", "./manage.py x", None))
                .plan_only()
                .expect_error(unknown_app),
        )
        .step(
            Step::config(job("treeherder-prod", "./manage.py x", Some("Huge-9X")))
                .plan_only()
                .expect_error(size),
        )
        .step(
            Step::config(job("treeherder-prod", " ", None))
                .plan_only()
                .expect_error(blank),
        )
        .step(
            Step::config(job("", "./manage.py x", None))
                .plan_only()
                .expect_error(app_name.clone()),
        )
        .step(
            Step::config(job("..", "./manage.py x", None))
                .plan_only()
                .expect_error(app_name.clone()),
        )
        .step(
            Step::config(job("Treeherder-Prod", "./manage.py x", None))
                .plan_only()
                .expect_error(app_name),
        )
        // A valid configuration last, for the harness's destroy.
        .step(
            Step::config(job("treeherder-prod", "./manage.py x", None))
                .plan_only()
                .expect_non_empty_plan(),
        )
        .check_destroy_async(move |_| {
            let control = c_check.clone();
            async move {
                let log = control.requests().await;
                if let Some(bad) = log.iter().find(|r| r.method != "GET" || r.path == "/apps") {
                    return Err(format!("a failed plan sent {bad:?}"));
                }
                Ok::<(), String>(())
            }
        })
        .run()
        .await;
}

/// Issue 9, finding 6: the API key never goes over plain HTTP to a remote host. The hosts
/// are under `.invalid` (they never resolve): the error comes from the configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_urls_to_remote_hosts_are_refused_at_configuration() {
    let world = SandboxWorld::start(API_KEY).await;
    let job = job_config(
        "treeherder-prod",
        "./manage.py x",
        "every_ten_minutes",
        None,
    );
    let from_env = Regex::new(r"(?s)heroku\.api_url.*HEROKU_API_URL.*https://").unwrap();
    let in_config = Regex::new(r"(?s)heroku\.scheduler_url.*https://").unwrap();
    let configured = job.replace(
        "max_retries ",
        "scheduler_url       = \"http://scheduler.invalid:8080/x\"\n    max_retries ",
    );
    assert!(configured.contains("scheduler.invalid"));
    let mut env = world.env();
    env.insert(
        "HEROKU_API_URL".to_string(),
        "http://api.heroku.invalid".to_string(),
    );
    for (env, config, expected) in [(env, job, from_env), (world.env(), configured, in_config)] {
        let tf = terraform_for(&[treeherder_provider()], env, vec![API_KEY.to_string()])
            .expect("terraform");
        let work = tf.workspace("work").expect("workspace");
        work.write_config(&config).unwrap();
        tf.require_success(work.init().await.unwrap())
            .expect("init");
        let out = work
            .run(&["plan", "-input=false", "-no-color"])
            .await
            .expect("plan runs");
        assert!(!out.success(), "the plan succeeded:\n{}", out.stdout);
        let text = out.stderr.replace('\n', " ");
        assert!(expected.is_match(&text), "{expected}: {text}");
        let scan = tf.scan(&[API_KEY.to_string()]).expect("scan");
        assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
    }
}
