//! Formations, dynos, rollbacks, promotions, pipelines, collaborators and add-ons.

use super::*;

#[tokio::test]
async fn formation_batch_and_single_updates() {
    let f = fixture().await;
    let list = f.get_json(&format!("/apps/{PROD}/formation")).await;
    let types: BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["type"].as_str())
        .collect();
    assert!(types.contains("web") && types.contains("worker_log_parser_fail_json_unsheriffed"));
    assert_eq!(types.len(), 11);

    let (status, body) = status_json(
        f.heroku(Method::PATCH, &format!("/apps/{PROD}/formation"))
            .json(&json!({ "updates": [
                { "type": "web", "quantity": 5, "dyno_size": { "name": "standard-2x" } },
                { "type": "worker_misc", "quantity": 0 },
            ]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let updated = body.as_array().unwrap();
    assert_eq!(updated.len(), 2);
    assert_eq!(updated[0]["quantity"], 5);
    assert_eq!(updated[0]["size"], "Standard-2X");
    assert_eq!(updated[0]["dyno_size"]["name"], "Standard-2X");

    let dynos = f.get_json(&format!("/apps/{PROD}/dynos")).await;
    let count = |t: &str| {
        dynos
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["type"] == t)
            .count()
    };
    assert_eq!(count("web"), 5);
    assert_eq!(count("worker_misc"), 0);

    // v5-style per-type update with `size`.
    let (status, body) = status_json(
        f.heroku(Method::PATCH, &format!("/apps/{PROD}/formation/web"))
            .json(&json!({ "quantity": 2, "size": "Performance-L" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["dyno_size"]["name"], "Performance-L");

    // Bad size → 422 and nothing changes (batch is all-or-nothing); unknown type → 404.
    let resp = f
        .heroku(Method::PATCH, &format!("/apps/{PROD}/formation"))
        .json(&json!({ "updates": [
            { "type": "web", "quantity": 9 },
            { "type": "worker_misc", "dyno_size": { "name": "1X" } },
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(
        f.get_json(&format!("/apps/{PROD}/formation/web")).await["quantity"],
        2
    );
    let (status, body) = status_json(
        f.heroku(Method::PATCH, &format!("/apps/{PROD}/formation/nope"))
            .json(&json!({ "quantity": 1 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["id"].as_str()), (404, Some("not_found")));
    let resp = f
        .heroku(Method::PATCH, &format!("/apps/{PROD}/formation"))
        .json(&json!({ "nope": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
}

fn ids_of(dynos: &Value, t: Option<&str>) -> BTreeSet<String> {
    dynos
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| t.is_none_or(|t| d["type"] == t))
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn dyno_restarts_and_one_offs() {
    let f = fixture().await;
    let path = format!("/apps/{STAGE}/dynos");
    let before = f.get_json(&path).await;

    let (status, body) = status_json(f.heroku(Method::DELETE, &path).send().await.unwrap()).await;
    assert_eq!((status, body), (202, json!({})));
    let after_all = f.get_json(&path).await;
    assert!(ids_of(&before, None).is_disjoint(&ids_of(&after_all, None)));

    // Restart one type.
    let resp = f
        .heroku(Method::DELETE, &format!("/apps/{STAGE}/formations/web"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let after_web = f.get_json(&path).await;
    assert!(ids_of(&after_all, Some("web")).is_disjoint(&ids_of(&after_web, Some("web"))));
    assert_eq!(
        ids_of(&after_all, Some("worker_misc")),
        ids_of(&after_web, Some("worker_misc"))
    );

    // Restart one dyno by name.
    let resp = f
        .heroku(Method::DELETE, &format!("/apps/{STAGE}/dynos/web.1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let resp = f
        .heroku(Method::DELETE, &format!("/apps/{STAGE}/dynos/web.99"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // One-off dyno.
    let (status, dyno) = status_json(
        f.heroku(Method::POST, &path)
            .json(&json!({ "command": "./manage.py clear_cache", "size": "standard-2x", "attach": false, "type": "run" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert!(dyno["name"].as_str().unwrap().starts_with("run."));
    assert_eq!(dyno["size"], "Standard-2X");
    assert_eq!(dyno["attach_url"], Value::Null);
    let info = f
        .get_json(&format!(
            "/apps/{STAGE}/dynos/{}",
            dyno["name"].as_str().unwrap()
        ))
        .await;
    assert_eq!(info["command"], "./manage.py clear_cache");
}

#[tokio::test]
async fn rollback_creates_release_from_old_slug_and_config() {
    let f = fixture().await;
    let v2 = f.get_json(&format!("/apps/{PROD}/releases/2")).await;
    f.heroku(Method::PATCH, &format!("/apps/{PROD}/config-vars"))
        .json(&json!({ "ADDED_LATER": "x" }))
        .send()
        .await
        .unwrap();
    let (status, rel) = status_json(
        f.heroku(Method::POST, &format!("/apps/{PROD}/releases"))
            .json(&json!({ "release": v2["id"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(rel["version"], 5);
    assert_eq!(rel["description"], "Rollback to v2");
    assert_eq!(rel["slug"], v2["slug"]);
    assert_eq!(rel["current"], true);
    let vars = f.get_json(&format!("/apps/{PROD}/config-vars")).await;
    assert!(
        vars.get("ADDED_LATER").is_none(),
        "rollback restores config vars"
    );
    let resp = f
        .heroku(Method::POST, &format!("/apps/{PROD}/releases"))
        .json(&json!({ "release": "00000000-0000-4000-8000-000000000000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

async fn promote(f: &Fixture, source: &str, target: &str) -> Value {
    let pipeline = f.get_json("/pipelines/treeherder").await;
    let (status, promotion) = status_json(
        f.heroku(Method::POST, "/pipeline-promotions")
            .json(&json!({
                "pipeline": { "id": pipeline["id"] },
                "source": { "app": { "id": f.app_id(source).await } },
                "targets": [ { "app": { "id": f.app_id(target).await } } ],
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{promotion}");
    promotion
}

async fn wait_completed(f: &Fixture, id: &str) -> Value {
    eventually(Duration::from_secs(10), "promotion to complete", || async {
        let p = f.get_json(&format!("/pipeline-promotions/{id}")).await;
        (p["status"] == "completed").then_some(p)
    })
    .await;
    f.get_json(&format!("/pipeline-promotions/{id}/promotion-targets"))
        .await
}

#[tokio::test]
async fn promotion_goes_pending_then_succeeded() {
    let f = fixture().await;
    // Give stage a new slug so the promotion is observable on prod.
    let slug = f
        .heroku(Method::POST, &format!("/apps/{STAGE}/slugs"))
        .json(&json!({ "process_types": { "web": "gunicorn" }, "commit": "abcdef1234" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    f.heroku(Method::POST, &format!("/apps/{STAGE}/releases"))
        .json(&json!({ "slug": slug["id"] }))
        .send()
        .await
        .unwrap();
    let prod_before = release_count(&f, PROD).await;

    let promotion = promote(&f, STAGE, PROD).await;
    assert_eq!(promotion["status"], "pending");
    let id = promotion["id"].as_str().unwrap();
    let targets = f
        .get_json(&format!("/pipeline-promotions/{id}/promotion-targets"))
        .await;
    assert_eq!(targets[0]["status"], "pending");
    assert_eq!(targets[0]["release"], Value::Null);

    let targets = wait_completed(&f, id).await;
    assert_eq!(targets[0]["status"], "succeeded");
    assert_eq!(targets[0]["error_message"], Value::Null);
    let release_id = targets[0]["release"]["id"].as_str().unwrap();
    let release = f
        .get_json(&format!("/apps/{PROD}/releases/{release_id}"))
        .await;
    assert_eq!(release["slug"]["id"], slug["id"]);
    assert_eq!(release["current"], true);
    assert_eq!(release_count(&f, PROD).await, prod_before + 1);

    // Prototype is not in the pipeline → 422.
    let pipeline = f.get_json("/pipelines/treeherder").await;
    let resp = f
        .heroku(Method::POST, "/pipeline-promotions")
        .json(&json!({
            "pipeline": { "id": pipeline["id"] },
            "source": { "app": { "id": f.app_id(STAGE).await } },
            "targets": [ { "app": { "id": f.app_id(PROTOTYPE).await } } ],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let resp = f
        .heroku(Method::POST, "/pipeline-promotions")
        .json(&json!({ "pipeline": { "id": pipeline["id"] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn promotion_target_can_be_made_to_fail() {
    let f = fixture().await;
    let resp = f
        .control(Method::POST, "/promotion-failures")
        .json(&json!({ "app": PROD, "message": "User does not have access to that app" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let prod_before = release_count(&f, PROD).await;
    let promotion = promote(&f, STAGE, PROD).await;
    let targets = wait_completed(&f, promotion["id"].as_str().unwrap()).await;
    assert_eq!(targets[0]["status"], "failed");
    assert_eq!(
        targets[0]["error_message"],
        "User does not have access to that app"
    );
    assert_eq!(targets[0]["release"], Value::Null);
    assert_eq!(release_count(&f, PROD).await, prod_before);
    // The failure was used up: the next promotion succeeds.
    let promotion = promote(&f, STAGE, PROD).await;
    let targets = wait_completed(&f, promotion["id"].as_str().unwrap()).await;
    assert_eq!(targets[0]["status"], "succeeded");
}

#[tokio::test]
async fn pipelines_couplings_collaborators_addons() {
    let f = fixture().await;
    let pipeline = f.get_json("/pipelines/treeherder").await;
    let by_id = f
        .get_json(&format!("/pipelines/{}", pipeline["id"].as_str().unwrap()))
        .await;
    assert_eq!(by_id["name"], "treeherder");
    let couplings = f
        .get_json(&format!(
            "/pipelines/{}/pipeline-couplings",
            pipeline["id"].as_str().unwrap()
        ))
        .await;
    let stages: BTreeSet<(String, String)> = couplings
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["app"]["name"].as_str().unwrap().to_string(),
                c["stage"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        BTreeSet::from([
            (STAGE.to_string(), "staging".to_string()),
            (PROD.to_string(), "production".to_string())
        ])
    );
    let c = f
        .get_json(&format!("/apps/{PROD}/pipeline-couplings"))
        .await;
    assert_eq!(c["stage"], "production");
    let c2 = f
        .get_json(&format!(
            "/pipeline-couplings/{}",
            c["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(c2["id"], c["id"]);
    let resp = f
        .heroku(
            Method::GET,
            &format!("/apps/{PROTOTYPE}/pipeline-couplings"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Collaborators: only accounts Heroku knows; a deleted one is still listed for a few GETs.
    let path = format!("/apps/{STAGE}/collaborators");
    let resp = f
        .heroku(Method::POST, &path)
        .json(&json!({ "user": "stranger@nowhere.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let (status, c) = status_json(
        f.heroku(Method::POST, &path)
            .json(&json!({ "user": "carol@contractor.example", "silent": true }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(c["user"]["email"], "carol@contractor.example");
    assert_eq!(c["role"], "collaborator");
    let resp = f
        .heroku(Method::POST, &path)
        .json(&json!({ "user": "carol@contractor.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let resp = f
        .heroku(
            Method::DELETE,
            &format!("{path}/carol%40contractor.example"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let listed = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|c| c["user"]["email"] == "carol@contractor.example")
    };
    // The seed keeps a deleted collaborator for two more GETs.
    assert!(listed(&f.get_json(&path).await));
    assert!(listed(&f.get_json(&path).await));
    assert!(!listed(&f.get_json(&path).await));

    // Team-app collaborators, with permissions.
    let team = format!("/teams/apps/{STAGE}/collaborators");
    let (status, c) = status_json(
        f.heroku(Method::POST, &team)
            .json(&json!({ "user": "alice@mozilla.example", "permissions": ["view", "deploy"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(c["role"], "member");
    let names = |c: &Value| -> Vec<String> {
        c["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&c), ["deploy", "view"]);
    let resp = f
        .heroku(Method::PATCH, &format!("{team}/alice@mozilla.example"))
        .json(&json!({ "permissions": ["deploy"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422, "view is required");
    let (status, c) = status_json(
        f.heroku(Method::PATCH, &format!("{team}/alice@mozilla.example"))
            .json(&json!({ "permissions": ["view", "operate", "manage"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(names(&c), ["manage", "operate", "view"]);
    let c = f.get_json(&format!("{team}/alice@mozilla.example")).await;
    assert_eq!(names(&c), ["manage", "operate", "view"]);
    let app_id = f.app_id(STAGE).await;
    let resp = f
        .heroku(Method::GET, &format!("/teams/apps/{app_id}/collaborators"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "team-app endpoints take app names only");
    let permissions = f.get_json("/teams/permissions").await;
    assert_eq!(permissions.as_array().unwrap().len(), 4);

    // Add-ons.
    let addons = f.get_json(&format!("/apps/{STAGE}/addons")).await;
    let plans: BTreeSet<&str> = addons
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["plan"]["name"].as_str())
        .collect();
    assert!(plans.contains("scheduler:standard") && plans.contains("heroku-redis:premium-0"));
    let id = addons[0]["id"].as_str().unwrap();
    assert_eq!(
        f.get_json(&format!("/addons/{id}")).await["id"],
        addons[0]["id"]
    );
}
