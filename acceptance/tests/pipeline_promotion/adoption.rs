//! The example's promotion, imports and reimports, and a create that times out.

use super::*;

/// `examples/treeherder/promotion.tf` (with the provider block of `main.tf`) applies: prod runs
/// stage's slug, the plans after apply are empty, and a new commit value plans a new promotion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn treeherder_example_promotes_stage_to_prod() {
    let world = World::start().await;
    let root = acceptance::harness::repo_root().join("examples/treeherder");
    let read = |name: &str| std::fs::read_to_string(root.join(name)).expect("example file");
    let example = format!("{}\n{}", read("main.tf"), read("promotion.tf"));
    let w = Arc::clone(&world);
    let next_commit = example.replace(r#"default     = "9f04d1ab""#, r#"default     = "0123abcd""#);
    assert_ne!(
        example, next_commit,
        "the example's stage_commit default moved"
    );
    world
        .case()
        .step(Step::config(example).check_async(move |state| {
            let world = Arc::clone(&w);
            async move {
                let stage = world.current_release("treeherder-stage").await?;
                prod_runs(&world, &state, Some(str_at(&stage, &["id"]))).await
            }
        }))
        .step(
            Step::config(next_commit)
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    let change = plan.change(ADDRESS).ok_or("no change planned")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!(
                            "expected a new promotion, got {:?}",
                            change.actions
                        ));
                    }
                    Ok::<(), String>(())
                }),
        )
        .run()
        .await;
}

/// A promotion made outside Terraform (as `heroku pipelines:promote` would), imported into a
/// configuration written with UUIDs, plans no new promotion (the import writes names, the
/// same apps by UUID are at most an in-place update of spellings), as the docs say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_promotion_with_uuid_config_plans_empty() {
    let world = World::start().await;
    let pipeline = world.pipeline_id("treeherder").await.unwrap();
    let stage = world.app_id("treeherder-stage").await.unwrap();
    let prod = world.app_id("treeherder-prod").await.unwrap();
    let created = world
        .post(
            "/pipeline-promotions",
            json!({"pipeline": {"id": pipeline}, "source": {"app": {"id": stage}},
                   "targets": [{"app": {"id": prod}}]}),
        )
        .await
        .unwrap();
    let promotion_id = str_at(&created, &["id"]);

    let case = world.case();
    let tf = terraform_for(
        &case.providers,
        case.env.clone(),
        vec![DEFAULT_API_KEY.into()],
    )
    .expect("terraform");
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config(&format!(
        r#"
resource "treeherder_pipeline_promotion" "prod" {{
  pipeline   = "{pipeline}"
  source_app = "{stage}"
  targets    = ["{prod}"]
}}
"#
    )))
    .unwrap();
    tf.require_success(work.init().await.unwrap())
        .expect("init");
    // The import may come before the sandbox settles the promotion; Read follows it later.
    tf.require_success(work.import(ADDRESS, &promotion_id).await.unwrap())
        .expect("import succeeds");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let promotion = world
            .get(&format!("/pipeline-promotions/{promotion_id}"))
            .await
            .unwrap();
        if promotion["status"] == "completed" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "promotion never completed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let plan = work.plan(true).await.expect("plan");
    assert!(
        !plan.text.contains("must be replaced") && !plan.text.contains("will be created"),
        "plan after import:\n{}",
        plan.text
    );
    tf.require_success(work.apply().await.unwrap())
        .expect("apply");
    let plan = work.plan(true).await.expect("plan");
    assert!(!plan.has_changes, "plan after apply:\n{}", plan.text);
    let state = work.state().await.expect("state");
    assert_eq!(attr(&state, "status").unwrap(), "completed");
    assert_eq!(attr(&state, "id").unwrap(), promotion_id);
    assert_eq!(
        attr(&state, "promoted_releases.treeherder-prod.status").unwrap(),
        "succeeded"
    );
    let scan = tf.scan(&[DEFAULT_API_KEY.to_string()]).expect("scan");
    assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
}

/// A promotion still pending when `timeouts.create` runs out: a clear error naming the timeout,
/// and the promotion saved (tainted, status pending) rather than lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_timeout_saves_the_pending_promotion_as_tainted() {
    let world = World::start_with(None, Duration::from_secs(60)).await;
    let started = std::time::Instant::now();
    world
        .case()
        .step(
            Step::config(promotion("ddd444", "").replace(r#"create = "2m""#, r#"create = "2s""#))
                .expect_error(error_like(
                    "Timed out waiting for the promotion",
                    "was still pending after 2s (timeouts.create)",
                )),
        )
        .step(
            Step::config(promotion("ddd444", "").replace(r#"create = "2m""#, r#"create = "2s""#))
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    let change = plan
                        .change(ADDRESS)
                        .ok_or("the pending promotion is not in the plan")?;
                    let prior = plan
                        .raw()
                        .pointer("/prior_state/values/root_module/resources/0")
                        .cloned()
                        .unwrap_or(Value::Null);
                    if change.actions != ["delete", "create"]
                        || prior["tainted"] != Value::Bool(true)
                    {
                        return Err(format!(
                            "expected a tainted promotion to replace, got {:?} of {prior}",
                            change.actions
                        ));
                    }
                    if prior["values"]["status"] != "pending"
                        || prior["values"]["promoted_releases"]["treeherder-prod"]["status"]
                            != "pending"
                    {
                        return Err(format!("unexpected saved state: {}", prior["values"]));
                    }
                    Ok::<(), String>(())
                }),
        )
        .run()
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the apply did not stop at its timeout"
    );
}

/// Issue 9, finding 8: `promoted_releases` is keyed by app name however the state was made,
/// so a configuration indexing `promoted_releases["treeherder-prod"]` survives `terraform
/// import` (Terraform 1.11 evaluates it there), and a `state rm` + import of the promotion
/// plans no new promotion. Run with both Terraform versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reimported_promotion_keeps_name_keys_and_plans_no_new_promotion() {
    let world = World::start().await;
    let body = promotion("aaa111", "")
        + r#"
output "prod_version" {
  value = treeherder_pipeline_promotion.prod.promoted_releases["treeherder-prod"].version
}
"#;
    for latest in [true, false] {
        let case = world.case();
        let tf = if latest {
            terraform_latest_for(
                &case.providers,
                case.env.clone(),
                vec![DEFAULT_API_KEY.into()],
            )
        } else {
            terraform_for(
                &case.providers,
                case.env.clone(),
                vec![DEFAULT_API_KEY.into()],
            )
        }
        .expect("terraform");
        let work = tf.workspace("work").expect("workspace");
        work.write_config(&body).unwrap();
        tf.require_success(work.init().await.unwrap())
            .expect("init");
        tf.require_success(work.apply().await.unwrap())
            .expect("apply");
        let created = work.state().await.expect("state");
        let id = attr(&created, "id").unwrap();
        let version = created.output("prod_version");
        tf.require_success(work.run(&["state", "rm", ADDRESS]).await.unwrap())
            .expect("state rm");
        tf.require_success(work.import(ADDRESS, &id).await.unwrap())
            .unwrap_or_else(|e| panic!("import (latest: {latest}): {e}"));
        let imported = work.state().await.expect("state");
        for path in ["pipeline", "source_app", "targets.0"] {
            assert_eq!(
                attr(&imported, path).ok(),
                attr(&created, path).ok(),
                "{path} (latest: {latest})"
            );
        }
        assert_eq!(
            attr(&imported, "promoted_releases.treeherder-prod.status").unwrap(),
            "succeeded"
        );
        let plan = work.plan(true).await.expect("plan");
        assert!(
            !plan.text.contains("must be replaced") && !plan.text.contains("will be created"),
            "plan after import (latest: {latest}):\n{}",
            plan.text
        );
        tf.require_success(work.apply().await.unwrap())
            .expect("apply after import");
        let after = work.state().await.expect("state");
        assert_eq!(attr(&after, "id").unwrap(), id, "latest: {latest}");
        assert_eq!(after.output("prod_version"), version, "latest: {latest}");
        let scan = tf.scan(&[DEFAULT_API_KEY.to_string()]).expect("scan");
        assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
    }
}
