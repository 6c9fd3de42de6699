//! A promotion's life: create, import, triggers, destroy; failing targets; plan-time errors.

use super::*;

/// Create and wait, empty plans, import by id, a trigger change makes a new promotion of a new
/// stage release, an explicit older release_id, and destroy leaves prod's release in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_lifecycle_import_triggers_release_id_and_destroy() {
    let world = World::start().await;
    let prod_before = world.current_release("treeherder-prod").await.unwrap();
    let stage_v2 = str_at(
        &world
            .release_by_version("treeherder-stage", 2)
            .await
            .unwrap(),
        &["id"],
    );
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();

    let w1 = Arc::clone(&world);
    let ids1 = Arc::clone(&ids);
    let w3 = Arc::clone(&world);
    let ids3 = Arc::clone(&ids);
    let w4 = Arc::clone(&world);
    let ids4 = Arc::clone(&ids);
    let ids5 = Arc::clone(&ids);
    let w_deploy = Arc::clone(&world);
    let w_destroy = Arc::clone(&world);
    let prod_version_before = prod_before["version"].as_u64().unwrap();
    let stage_v2_check = stage_v2.clone();

    world
        .case()
        // 1. Promote stage's current release and wait: prod now runs stage's slug.
        .step(
            Step::config(promotion("aaa111", "")).check_async(move |state| {
                let world = Arc::clone(&w1);
                let ids = Arc::clone(&ids1);
                async move {
                    let stage = world.current_release("treeherder-stage").await?;
                    prod_runs(&world, &state, Some(str_at(&stage, &["id"]))).await?;
                    let prod = world.current_release("treeherder-prod").await?;
                    if prod["version"].as_u64() != Some(prod_version_before + 1) {
                        return Err(format!(
                            "expected exactly one new prod release, got v{}",
                            prod["version"]
                        ));
                    }
                    ids.lock().unwrap().push(attr(&state, "id")?);
                    Ok::<(), String>(())
                }
            }),
        )
        // 2. Import by promotion id: arguments come back as names (documented), keys too; only
        //    what Heroku does not record (triggers) differs.
        .step(
            Step::import(ADDRESS)
                .verify_import(["triggers"])
                .check(move |state| {
                    let expect = |path: &str, want: &str| -> Result<(), String> {
                        let got = attr(state, path)?;
                        if got == want {
                            Ok(())
                        } else {
                            Err(format!("imported {path} = {got:?}, want {want:?}"))
                        }
                    };
                    expect("pipeline", "treeherder")?;
                    expect("source_app", "treeherder-stage")?;
                    expect("targets.0", "treeherder-prod")?;
                    expect("promoted_releases.treeherder-prod.status", "succeeded")?;
                    if state
                        .attr(ADDRESS, "release_id")
                        .is_some_and(|v| !v.is_null())
                    {
                        return Err("import must leave release_id null".to_string());
                    }
                    Ok::<(), String>(())
                }),
        )
        // 3. A new commit on stage and a new trigger value: a replacement, i.e. a new promotion.
        .step(
            Step::config(promotion("bbb222", ""))
                .pre_step_async(move || {
                    let world = Arc::clone(&w_deploy);
                    async move { world.deploy("treeherder-stage", "bbb222").await.map(|_| ()) }
                })
                .plan_check(|plan| {
                    let change = plan.change(ADDRESS).ok_or("no change planned")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!("expected a replacement, got {:?}", change.actions));
                    }
                    Ok::<(), String>(())
                })
                .check_async(move |state| {
                    let world = Arc::clone(&w3);
                    let ids = Arc::clone(&ids3);
                    async move {
                        let stage = world.current_release("treeherder-stage").await?;
                        if !str_at(&stage, &["description"]).contains("bbb222") {
                            return Err(format!(
                                "stage's current release is not the new deploy: {stage}"
                            ));
                        }
                        prod_runs(&world, &state, Some(str_at(&stage, &["id"]))).await?;
                        let id = attr(&state, "id")?;
                        if ids.lock().unwrap().contains(&id) {
                            return Err(format!("promotion id {id} was reused"));
                        }
                        ids.lock().unwrap().push(id);
                        Ok::<(), String>(())
                    }
                }),
        )
        // 4. An explicit, older release of stage.
        .step(
            Step::config(promotion("bbb222", &format!("release_id = \"{stage_v2}\"")))
                .plan_check(|plan| {
                    let change = plan.change(ADDRESS).ok_or("no change planned")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!("expected a replacement, got {:?}", change.actions));
                    }
                    Ok::<(), String>(())
                })
                .check_async(move |state| {
                    let world = Arc::clone(&w4);
                    let ids = Arc::clone(&ids4);
                    let stage_v2 = stage_v2_check.clone();
                    async move {
                        prod_runs(&world, &state, Some(stage_v2.clone())).await?;
                        if attr(&state, "release_id")? != stage_v2 {
                            return Err("release_id not kept as written".to_string());
                        }
                        ids.lock().unwrap().push(attr(&state, "id")?);
                        Ok::<(), String>(())
                    }
                }),
        )
        // 5. Only the create timeout changes: an in-place update, the same promotion.
        .step(
            Step::config(
                promotion("bbb222", &format!("release_id = \"{stage_v2}\""))
                    .replace(r#"create = "2m""#, r#"create = "3m""#),
            )
            .plan_check(|plan| {
                let change = plan.change(ADDRESS).ok_or("no change planned")?;
                if change.actions != ["update"] || change.changed_attributes().len() != 1 {
                    return Err(format!(
                        "expected an update of timeouts only, got {:?} of {:?}",
                        change.actions,
                        change.changed_attributes()
                    ));
                }
                Ok::<(), String>(())
            })
            .check(move |state| {
                let id = attr(state, "id")?;
                if ids5.lock().unwrap().last() != Some(&id) {
                    return Err(format!("a timeouts change replaced the promotion ({id})"));
                }
                Ok::<(), String>(())
            }),
        )
        // Destroy only forgets: prod keeps running stage v2's slug and nothing was deleted.
        .check_destroy_async(move |last| {
            let world = Arc::clone(&w_destroy);
            async move {
                if last.resource(ADDRESS).is_none() {
                    return Err("the promotion was not in the state before destroy".to_string());
                }
                let prod = world.current_release("treeherder-prod").await?;
                let v2 = world.release_by_version("treeherder-stage", 2).await?;
                if str_at(&prod, &["slug", "id"]) != str_at(&v2, &["slug", "id"]) {
                    return Err(format!(
                        "after destroy prod runs {prod}, expected stage v2's slug"
                    ));
                }
                let promotion_id = attr(&last, "id")?;
                let promotion = world
                    .get(&format!("/pipeline-promotions/{promotion_id}"))
                    .await?;
                if promotion["status"] != "completed" {
                    return Err(format!("promotion after destroy: {promotion}"));
                }
                Ok::<(), String>(())
            }
        })
        .run()
        .await;
    assert_eq!(ids.lock().unwrap().len(), 3, "three promotions were made");
}

/// A target that fails: the apply fails with Heroku's error_message, the promotion stays in the
/// state (tainted), and the next plan replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_target_reports_heroku_message_and_keeps_tainted_state() {
    let world = World::start().await;
    let prod_before = world.current_release("treeherder-prod").await.unwrap();
    let w_fail = Arc::clone(&world);
    let w_after = Arc::clone(&world);
    let message = "Release phase of treeherder-prod failed: migrations did not apply";
    world
        .case()
        .step(
            Step::config(promotion("ccc333", ""))
                .pre_step_async(move || {
                    let world = Arc::clone(&w_fail);
                    async move {
                        world
                            .control(
                                "/promotion-failures",
                                json!({"app": "treeherder-prod", "message": message}),
                            )
                            .await
                    }
                })
                .expect_error(error_like("Promotion to treeherder-prod failed", message)),
        )
        .step(
            Step::config(promotion("ccc333", ""))
                .plan_only()
                .expect_non_empty_plan()
                .plan_check(|plan| {
                    let change = plan
                        .change(ADDRESS)
                        .ok_or("the failed promotion is not in the plan")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!(
                            "expected a replacement of the tainted promotion, got {:?}",
                            change.actions
                        ));
                    }
                    let prior = plan
                        .raw()
                        .pointer("/prior_state/values/root_module/resources/0")
                        .cloned()
                        .unwrap_or(Value::Null);
                    if prior["tainted"] != Value::Bool(true) {
                        return Err(format!("the saved promotion is not tainted: {prior}"));
                    }
                    let values = &prior["values"];
                    if values["promoted_releases"]["treeherder-prod"]["status"] != "failed"
                        || values["status"] != "completed"
                        || values["id"].as_str().unwrap_or_default().is_empty()
                    {
                        return Err(format!("unexpected saved state: {values}"));
                    }
                    Ok::<(), String>(())
                }),
        )
        .check_destroy_async(move |_| {
            let world = Arc::clone(&w_after);
            let before = prod_before.clone();
            async move {
                let prod = world.current_release("treeherder-prod").await?;
                if prod["id"] != before["id"] {
                    return Err(format!("a failed promotion changed prod: {prod}"));
                }
                Ok::<(), String>(())
            }
        })
        .run()
        .await;
}

/// Unknown apps, apps outside the pipeline and source == target fail at plan, naming the attribute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_apps_are_plan_time_errors() {
    // A second pipeline, `treeherder-review`, with an app of its own: the sandbox's API
    // cannot create pipelines, so the seed state is extended and loaded from a file.
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("sandbox-state.json");
    {
        let seed = World::start().await;
        seed.post("/apps", json!({"name": "treeherder-review-1"}))
            .await
            .unwrap();
        let mut state: Value = seed
            .http
            .get(format!("{}/state", seed.sandbox.control_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let review_app = state["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "treeherder-review-1")
            .map(|a| a["id"].clone())
            .unwrap();
        let pipeline_id = "7e4e0000-0007-4000-8000-0000000000aa";
        state["pipelines"].as_array_mut().unwrap().push(json!({
            "id": pipeline_id, "name": "treeherder-review",
            "created_at": "2021-03-01T12:00:00Z", "updated_at": "2021-03-01T12:00:00Z"
        }));
        state["couplings"].as_array_mut().unwrap().push(json!({
            "id": "7e4e0000-0008-4000-8000-0000000000aa", "app_id": review_app,
            "pipeline_id": pipeline_id, "stage": "development",
            "created_at": "2021-03-01T12:00:00Z", "updated_at": "2021-03-01T12:00:00Z"
        }));
        std::fs::write(&state_file, serde_json::to_vec(&state).unwrap()).unwrap();
    }
    let world = World::start_from(Some(state_file)).await;
    let bad = |source: &str, targets: &str, extra: &str| {
        config(&format!(
            r#"
resource "treeherder_pipeline_promotion" "prod" {{
  pipeline   = "treeherder"
  source_app = "{source}"
  targets    = {targets}
  {extra}
}}
"#
        ))
    };
    world
        .case()
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-prod"]"#, r#"timeouts { create = "soon" }"#))
                .plan_only()
                .expect_error(error_like("Invalid value for timeouts.create", r#"Invalid duration "soon""#)),
        )
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-nope"]"#, ""))
                .plan_only()
                .expect_error(error_like("Unknown app", r#"targets: Heroku has no app "treeherder-nope""#)),
        )
        .step(
            Step::config(bad("treeherder-prototype", r#"["treeherder-prod"]"#, ""))
                .plan_only()
                .expect_error(
                    error_like("App not in the pipeline", r#"source_app: app "treeherder-prototype" is not in pipeline "treeherder""#),
                ),
        )
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-review-1"]"#, ""))
                .plan_only()
                .expect_error(
                    error_like("App not in the pipeline", r#"targets: app "treeherder-review-1" belongs to pipeline "treeherder-review", not to pipeline "treeherder""#),
                ),
        )
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-prod"]"#, "").replace(
                r#"pipeline   = "treeherder""#,
                r#"pipeline   = "treeherder-nope""#,
            ))
            .plan_only()
            .expect_error(error_like("Unknown pipeline", r#"Heroku has no pipeline "treeherder-nope""#)),
        )
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-stage"]"#, ""))
                .plan_only()
                .expect_error(error_like("Target is the source app", r#"targets[0]: "treeherder-stage" is the source app"#)),
        )
        // Terraform's destroy plans the last config normally first, so end with a valid one:
        // it plans a create (and proves the same checks accept a good promotion).
        .step(
            Step::config(bad("treeherder-stage", r#"["treeherder-prod"]"#, ""))
                .plan_only()
                .expect_non_empty_plan(),
        )
        .run()
        .await;
    // Nothing was promoted.
    let requests = world
        .http
        .get(format!("{}/requests", world.sandbox.control_url))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let posts = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/pipeline-promotions")
        .count();
    assert_eq!(posts, 0, "a plan-time error must not promote");
}
