//! The Platform API's protocol: error shapes, status codes, ETags, rate limits, ranges, config vars.

use super::*;

#[tokio::test]
async fn protocol_errors_have_heroku_shapes() {
    let f = fixture().await;

    // No Accept header → 406 not_acceptable.
    let resp = f
        .raw(Method::GET, "/apps")
        .bearer_auth(DEFAULT_API_KEY)
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("ratelimit-remaining"));
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 406);
    assert_eq!(body["id"], "not_acceptable");
    assert!(body["message"].is_string() && body["url"].is_string());

    // No auth / wrong token → 401 unauthorized.
    let (status, body) = status_json(
        f.raw(Method::GET, "/apps")
            .header("Accept", ACCEPT_V3)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["id"], "unauthorized");
    let resp = f
        .raw(Method::GET, "/apps")
        .header("Accept", ACCEPT_V3)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Basic auth with the token as password works (as the Go provider sends it).
    let resp = f
        .raw(Method::GET, "/apps")
        .header("Accept", ACCEPT_V3)
        .basic_auth("someone@example.com", Some(DEFAULT_API_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // 404 with resource.
    let (status, body) = status_json(
        f.heroku(Method::GET, "/apps/no-such-app")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["id"], "not_found");
    assert_eq!(body["resource"], "app");
    assert_eq!(body["message"], "Couldn't find that app.");
    assert!(body["url"].is_string());

    // Unknown endpoint is also not_found.
    let (status, body) = status_json(f.heroku(Method::GET, "/nope").send().await.unwrap()).await;
    assert_eq!((status, body["id"].as_str()), (404, Some("not_found")));

    // Malformed JSON → 400 bad_request; missing required field → 422 invalid_params.
    let (status, body) = status_json(
        f.heroku(Method::PATCH, &format!("/apps/{STAGE}/config-vars"))
            .header("Content-Type", "application/json")
            .body("{\"FOO\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["id"], "bad_request");
    let (status, body) = status_json(
        f.heroku(Method::POST, &format!("/apps/{STAGE}/dynos"))
            .json(&json!({ "size": "standard-1X" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["id"], "invalid_params");

    // Request-Id is echoed, or generated.
    let resp = f
        .heroku(Method::GET, "/account")
        .header("Request-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["request-id"], "abc-123");
    let resp = f.heroku(Method::GET, "/account").send().await.unwrap();
    assert!(!resp.headers()["request-id"].is_empty());
}

#[tokio::test]
async fn apps_crud_status_codes() {
    let f = fixture().await;
    let apps = f.get_json("/apps").await;
    let names: BTreeSet<&str> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from([PROTOTYPE, STAGE, PROD]));

    let (status, app) = status_json(
        f.heroku(Method::POST, "/apps")
            .json(&json!({ "name": "th-sandbox-test", "region": "eu" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(app["region"]["name"], "eu");
    let id = app["id"].as_str().unwrap().to_string();
    // Identity by id or name.
    assert_eq!(
        f.get_json(&format!("/apps/{id}")).await["name"],
        "th-sandbox-test"
    );

    let (status, body) = status_json(
        f.heroku(Method::POST, "/apps")
            .json(&json!({ "name": "th-sandbox-test" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["id"].as_str()), (422, Some("invalid_params")));
    let (status, _) = status_json(
        f.heroku(Method::POST, "/apps")
            .json(&json!({ "name": "Bad_Name" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);

    let (status, app) = status_json(
        f.heroku(Method::PATCH, "/apps/th-sandbox-test")
            .json(&json!({ "maintenance": true, "name": "th-sandbox-renamed" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app["maintenance"], true);
    assert_eq!(app["name"], "th-sandbox-renamed");

    // A new app has no formation until a slug is released; then web=1, others 0.
    let formation = f.get_json(&format!("/apps/{id}/formation")).await;
    assert_eq!(formation, json!([]));
    let slug: Value = f
        .heroku(Method::POST, &format!("/apps/{id}/slugs"))
        .json(&json!({ "process_types": { "web": "gunicorn app", "worker": "celery", "release": "./migrate" } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = f
        .heroku(Method::POST, &format!("/apps/{id}/releases"))
        .json(&json!({ "slug": slug["id"], "description": "first deploy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let formation = f.get_json(&format!("/apps/{id}/formation")).await;
    let scale: BTreeSet<(String, i64)> = formation
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["type"].as_str().unwrap().to_string(),
                x["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        scale,
        BTreeSet::from([("web".to_string(), 1), ("worker".to_string(), 0)])
    );

    let resp = f
        .heroku(Method::DELETE, &format!("/apps/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = f
        .heroku(Method::GET, &format!("/apps/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn etag_gives_304_on_if_none_match() {
    let f = fixture().await;
    let resp = f
        .heroku(Method::GET, &format!("/apps/{STAGE}"))
        .send()
        .await
        .unwrap();
    let tag = resp.headers()["etag"].to_str().unwrap().to_string();
    let resp = f
        .heroku(Method::GET, &format!("/apps/{STAGE}"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    assert!(resp.text().await.unwrap().is_empty());
    // After a change the tag no longer matches.
    f.heroku(Method::PATCH, &format!("/apps/{STAGE}"))
        .json(&json!({ "maintenance": true }))
        .send()
        .await
        .unwrap();
    let resp = f
        .heroku(Method::GET, &format!("/apps/{STAGE}"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn rate_limit_bucket_empties_into_429() {
    let f = fixture_with(SandboxConfig {
        rate_limit: 3,
        rate_limit_refill_per_minute: 0.0,
        ..test_config()
    })
    .await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let resp = f.heroku(Method::GET, "/apps").send().await.unwrap();
        assert_eq!(resp.status(), 200);
        seen.push(
            resp.headers()["ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(seen, ["2", "1", "0"]);
    let resp = f.heroku(Method::GET, "/apps").send().await.unwrap();
    assert_eq!(resp.headers()["ratelimit-remaining"], "0");
    let (status, body) = status_json(resp).await;
    assert_eq!((status, body["id"].as_str()), (429, Some("rate_limit")));
    // /account/rate-limits is free and reports the bucket.
    let body = f.get_json("/account/rate-limits").await;
    assert_eq!(body["remaining"], 0);
    // The control API can refill it.
    f.control(Method::POST, "/rate-limit")
        .json(&json!({ "remaining": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        f.heroku(Method::GET, "/apps")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn range_pagination_walks_all_releases() {
    let f = fixture().await;
    let releases = f.get_json(&format!("/apps/{STAGE}/releases")).await;
    let slug = releases[2]["slug"]["id"].as_str().unwrap().to_string();
    for _ in 0..250 {
        let resp = f
            .heroku(Method::POST, &format!("/apps/{STAGE}/releases"))
            .json(&json!({ "slug": slug, "description": "bulk" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    // Default page is 200 → 206 + Next-Range.
    let resp = f
        .heroku(Method::GET, &format!("/apps/{STAGE}/releases"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert!(resp.headers()["accept-ranges"]
        .to_str()
        .unwrap()
        .contains("version"));
    assert!(resp.headers().contains_key("next-range"));
    assert_eq!(resp.json::<Vec<Value>>().await.unwrap().len(), 200);

    // Walk pages of 100, following Next-Range.
    let mut range = "version ..; max=100".to_string();
    let mut versions = Vec::new();
    let mut pages = 0;
    loop {
        let resp = f
            .heroku(Method::GET, &format!("/apps/{STAGE}/releases"))
            .header("Range", &range)
            .send()
            .await
            .unwrap();
        pages += 1;
        let status = resp.status().as_u16();
        let next = resp
            .headers()
            .get("next-range")
            .map(|v| v.to_str().unwrap().to_string());
        let items: Vec<Value> = resp.json().await.unwrap();
        versions.extend(items.iter().map(|r| r["version"].as_i64().unwrap()));
        match next {
            Some(n) => {
                assert_eq!(status, 206);
                range = n;
            }
            None => {
                assert_eq!(status, 200);
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(versions, (1..=253).collect::<Vec<i64>>());

    // heroku-go's form: newest release, comma-separated params.
    let resp = f
        .heroku(Method::GET, &format!("/apps/{STAGE}/releases"))
        .header("Range", "version ..; max=1,order=desc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    let items: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["version"], 253);
    assert_eq!(items[0]["current"], true);

    // Unknown sort field → 416.
    let resp = f
        .heroku(Method::GET, &format!("/apps/{STAGE}/releases"))
        .header("Range", "colour ..")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 416);
}

#[tokio::test]
async fn config_var_patch_merges_deletes_and_releases() {
    let f = fixture().await;
    let before = f.get_json(&format!("/apps/{STAGE}/config-vars")).await;
    assert!(before["DATABASE_URL"].is_string());
    let n = release_count(&f, STAGE).await;

    let (status, vars) = status_json(
        f.heroku(Method::PATCH, &format!("/apps/{STAGE}/config-vars"))
            .json(&json!({ "NEW_VAR": "1", "WEB_CONCURRENCY": null }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(vars["NEW_VAR"], "1");
    assert!(vars.get("WEB_CONCURRENCY").is_none());
    assert_eq!(
        vars["DATABASE_URL"], before["DATABASE_URL"],
        "merge keeps others"
    );
    assert_eq!(release_count(&f, STAGE).await, n + 1);

    let newest = f
        .get_json(&format!("/apps/{STAGE}/releases/{}", n + 1))
        .await;
    assert_eq!(newest["current"], true);
    assert_eq!(newest["status"], "succeeded");
    assert_eq!(
        newest["description"],
        "Set NEW_VAR; Remove WEB_CONCURRENCY config vars"
    );
    let at_release = f
        .get_json(&format!("/apps/{STAGE}/releases/{}/config-vars", n + 1))
        .await;
    assert_eq!(at_release["NEW_VAR"], "1");

    // A no-op PATCH creates no release; an invalid key is rejected.
    f.heroku(Method::PATCH, &format!("/apps/{STAGE}/config-vars"))
        .json(&json!({ "NEW_VAR": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(release_count(&f, STAGE).await, n + 1);
    let resp = f
        .heroku(Method::PATCH, &format!("/apps/{STAGE}/config-vars"))
        .json(&json!({ "BAD-KEY": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn garbage_input_never_breaks_the_server() {
    let f = fixture().await;
    let app_id = f.app_id(STAGE).await;
    let paths = [
        "/apps".to_string(),
        format!("/apps/{STAGE}/config-vars"),
        format!("/apps/{STAGE}/formation"),
        format!("/apps/{STAGE}/formation/web"),
        format!("/apps/{STAGE}/dynos"),
        format!("/apps/{STAGE}/releases"),
        format!("/apps/{STAGE}/releases/v99999999999999999999"),
        format!("/apps/{STAGE}/collaborators"),
        format!("/apps/{STAGE}/slugs"),
        "/apps/%ff%fe%".to_string(),
        "/pipeline-promotions".to_string(),
        "/pipeline-promotions/not-a-uuid/promotion-targets".to_string(),
        format!("/scheduler/apps/{app_id}/jobs"),
        format!("/scheduler/apps/{app_id}/jobs/1001"),
        "/scheduler".to_string(),
    ];
    let bodies = [
        "",
        "null",
        "[]",
        "123",
        "\"text\"",
        "{\"updates\": 5}",
        "{\"updates\": [null, 1, {\"type\": 5}, {\"type\": \"web\", \"quantity\": 1e400}]}",
        "{\"quantity\": -1, \"dyno_size\": []}",
        "{\"release\": {\"id\": 5}, \"slug\": []}",
        "{\"command\": 5, \"env\": [], \"time_to_live\": \"x\"}",
        "{\"data\": []}",
        "{\"data\": {\"type\": \"jobs\", \"attributes\": {\"every\": 1e30, \"at\": -1, \"command\": {}}}}",
        "{\"pipeline\": {\"id\": []}, \"source\": {\"app\": {\"id\": {}}}, \"targets\": [{}]}",
        "{\"FOO\": {\"nested\": true}, \"\": \"x\"}",
        "\u{0}\u{1}binary",
    ];
    for method in [Method::GET, Method::POST, Method::PATCH, Method::PUT] {
        for path in &paths {
            for body in bodies {
                let resp = f
                    .raw(method.clone(), path)
                    .header("Accept", ACCEPT_V3)
                    .bearer_auth(acceptance::sandbox::DEFAULT_API_KEY)
                    .header("Range", "version ]x..; max=-3")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(
                    resp.status().as_u16() < 500,
                    "{method} {path} {body:?} → {}",
                    resp.status()
                );
            }
        }
    }
    assert_eq!(
        f.heroku(Method::GET, "/apps")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
