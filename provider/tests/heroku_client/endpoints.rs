//! Pagination and the documented endpoints of releases, couplings, promotions, formations,
//! restarts, one-off dynos and rollbacks.

use axum::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use terraform_provider_treeherder::clients::heroku::{
    FormationUpdate, NewOneOffDyno, PromotionStatus, PromotionTargetStatus, ReleaseStatus,
};

use crate::fake::*;

#[tokio::test]
async fn releases_follow_next_range_pages() {
    let fake = Fake::start().await;
    fake.seed_releases(prod_id(), 7, 5);
    fake.state.lock().unwrap().page_size = 2;
    let client = fake.client();
    // Current release v5 lies beyond the first 25-wide window only if pages are
    // followed; with page size 2, the first page (v7, v6) has no current release.
    let current = client.current_release(prod_id()).await.unwrap();
    assert_eq!(current.version, 5);
    assert!(current.current);
    assert_eq!(current.status, ReleaseStatus::Succeeded);

    let path = format!("/apps/{PROD_ID}/releases");
    let ranges: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| header(r, "range").unwrap_or("").to_string())
        .collect();
    assert_eq!(ranges[0], "version ..; max=25,order=desc");
    // Then the full walk: first page, then exactly what Next-Range said.
    assert_eq!(ranges[1], "version ..; max=1000,order=desc");
    assert_eq!(ranges[2], "version ]2..; max=2,order=desc");
    assert_eq!(ranges[3], "version ]4..; max=2,order=desc");
    assert_eq!(ranges[4], "version ]6..; max=2,order=desc");
    assert_eq!(ranges.len(), 5);
}

#[tokio::test]
async fn releases_limit_returns_newest_first_and_release_reads_one() {
    let fake = Fake::start().await;
    fake.seed_releases(prod_id(), 4, 4);
    let client = fake.client();
    let newest = client.releases(prod_id(), 2).await.unwrap();
    assert_eq!(
        newest.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![4, 3]
    );
    let one = client.release(prod_id(), "3").await.unwrap();
    assert_eq!(one.id, newest[1].id);
    let by_id = client
        .release(prod_id(), &one.id.to_string())
        .await
        .unwrap();
    assert_eq!(by_id.version, 3);
}

#[tokio::test]
async fn couplings_list_is_paginated_and_cached() {
    let fake = Fake::start().await;
    {
        let mut s = fake.state.lock().unwrap();
        s.page_size = 1;
        for (id, name, stage) in [
            (STAGE_ID, "treeherder-stage", "staging"),
            (PROD_ID, "treeherder-prod", "production"),
        ] {
            s.couplings.push(
                json!({"id": Uuid::new_v4(), "app": {"id": id, "name": name},
                                   "pipeline": {"id": PIPELINE_ID, "name": "treeherder"},
                                   "stage": stage}),
            );
        }
    }
    let client = fake.client();
    let pipeline_id = Uuid::parse_str(PIPELINE_ID).unwrap();
    let couplings = client.pipeline_couplings(pipeline_id).await.unwrap();
    assert_eq!(couplings.len(), 2);
    assert_eq!(couplings[1].stage, "production");
    assert_eq!(couplings[1].app.id, prod_id());
    client.pipeline_couplings(pipeline_id).await.unwrap();
    let path = format!("/pipelines/{PIPELINE_ID}/pipeline-couplings");
    assert_eq!(fake.count(Method::GET, &path), 2, "two pages, then cached");
    // The couplings taught the client the app names.
    assert_eq!(client.app_label(prod_id()), "treeherder-prod");
}

#[tokio::test]
async fn promotion_is_created_with_the_schema_body_and_read_back() {
    let fake = Fake::start().await;
    let client = fake.client();
    let pipeline_id = Uuid::parse_str(PIPELINE_ID).unwrap();
    let release_id = Uuid::new_v4();
    let promotion = client
        .create_promotion(pipeline_id, stage_id(), &[prod_id()], Some(release_id))
        .await
        .unwrap();
    assert_eq!(promotion.status, PromotionStatus::Pending);
    assert_eq!(promotion.source.release.map(|r| r.id), Some(release_id));
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.method == Method::POST)
        .unwrap();
    assert_eq!(header(&post, "content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(
        body,
        json!({"pipeline": {"id": PIPELINE_ID},
               "source": {"app": {"id": STAGE_ID}, "release": {"id": release_id}},
               "targets": [{"app": {"id": PROD_ID}}]})
    );

    let read = client.promotion(promotion.id).await.unwrap();
    assert_eq!(read.status, PromotionStatus::Completed);
    let targets = client.promotion_targets(promotion.id).await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].app.id, prod_id());
    assert_eq!(targets[0].status, PromotionTargetStatus::Succeeded);
    assert!(targets[0].release.is_some());

    // Without a release, the field is left out (Heroku then uses the current one).
    client
        .create_promotion(pipeline_id, stage_id(), &[prod_id()], None)
        .await
        .unwrap();
    let posts: Vec<Recorded> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == Method::POST)
        .collect();
    let body: Value = serde_json::from_slice(&posts[1].body).unwrap();
    assert_eq!(body["source"], json!({"app": {"id": STAGE_ID}}));
}

#[tokio::test]
async fn formations_are_listed_and_updated_with_dyno_size_name() {
    let fake = Fake::start().await;
    fake.state.lock().unwrap().formations.insert(
        PROD_ID.to_string(),
        vec![
            json!({"id": Uuid::new_v4(), "type": "web", "quantity": 1, "size": "Standard-1X",
                    "dyno_size": {"id": Uuid::new_v4(), "name": "Standard-1X"},
                    "command": "gunicorn", "app": {"id": PROD_ID, "name": "treeherder-prod"}}),
        ],
    );
    let client = fake.client();
    let formations = client.formations(prod_id()).await.unwrap();
    assert_eq!(formations[0].process_type, "web");
    assert_eq!(formations[0].size_name(), Some("Standard-1X"));
    let updated = client
        .update_formation(
            prod_id(),
            "web",
            &FormationUpdate::new(Some(3), Some("Standard-2X")),
        )
        .await
        .unwrap();
    assert_eq!(updated.quantity, 3);
    let patch = fake
        .requests()
        .into_iter()
        .find(|r| r.method == Method::PATCH)
        .unwrap();
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(
        body,
        json!({"quantity": 3, "dyno_size": {"name": "Standard-2X"}})
    );
    // The write invalidated the cached list.
    assert_eq!(client.formations(prod_id()).await.unwrap()[0].quantity, 3);
    assert_eq!(
        fake.count(Method::GET, &format!("/apps/{PROD_ID}/formation")),
        2
    );
}

#[tokio::test]
async fn restarts_one_off_dynos_and_rollbacks_use_the_documented_endpoints() {
    let fake = Fake::start().await;
    fake.seed_releases(prod_id(), 3, 3);
    let client = fake.client();
    client.restart_dynos(prod_id(), None).await.unwrap();
    client.restart_dynos(prod_id(), Some("web")).await.unwrap();
    assert_eq!(
        fake.count(Method::DELETE, &format!("/apps/{PROD_ID}/dynos")),
        1
    );
    assert_eq!(
        fake.count(Method::DELETE, &format!("/apps/{PROD_ID}/formations/web")),
        1
    );

    let dyno = client
        .run_one_off_dyno(
            prod_id(),
            &NewOneOffDyno {
                command: "./manage.py clear_cache".into(),
                size: Some("standard-2X".into()),
                ..NewOneOffDyno::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(dyno.name, "run.4242");
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.method == Method::POST)
        .unwrap();
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(
        body,
        json!({"command": "./manage.py clear_cache", "size": "standard-2X", "attach": false})
    );

    let before = client.current_release(prod_id()).await.unwrap();
    let target = client.release(prod_id(), "2").await.unwrap();
    let rollback = client.rollback(prod_id(), target.id).await.unwrap();
    assert_eq!(rollback.version, 4);
    assert_eq!(rollback.status, ReleaseStatus::Pending);
    let posts: Vec<Recorded> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == Method::POST && r.path.ends_with("/releases"))
        .collect();
    let body: Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(body, json!({"release": target.id}));
    // The rollback invalidated the cached releases: the new one is seen.
    assert_ne!(
        client.current_release(prod_id()).await.unwrap().id,
        before.id
    );
}
