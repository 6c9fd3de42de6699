//! Scheduler jobs: a lost or timed-out create is adopted, never posted twice; listings are
//! shared and cached until a write.

use std::time::Duration;

use axum::http::Method;
use serde_json::Value;

use terraform_provider_treeherder::clients::heroku::{HerokuClient, HerokuError};

use crate::fake::*;

#[tokio::test]
async fn lost_create_response_adopts_the_created_job_without_duplicate() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(Method::POST, &path, Fault::LoseResponse, 1);
    let job = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 30))
        .await
        .unwrap();
    let stored = fake.jobs(prod_id());
    assert_eq!(stored.len(), 1, "duplicate job created: {stored:?}");
    assert_eq!(stored[0]["id"], job.id.as_str());
    assert_eq!(job.every, 1440);
    assert_eq!(job.at, Some(30));
    assert_eq!(fake.count(Method::POST, &path), 1);
}

#[tokio::test]
async fn timed_out_create_adopts_the_created_job_without_duplicate() {
    let fake = Fake::start().await;
    let mut config = fake.config();
    config.request_timeout = Duration::from_millis(300);
    let client = HerokuClient::new(config).unwrap();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(Method::POST, &path, Fault::Hang, 1);
    let job = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py update_bugscache", 60, 10))
        .await
        .unwrap();
    let stored = fake.jobs(prod_id());
    assert_eq!(stored.len(), 1, "duplicate job created: {stored:?}");
    assert_eq!(stored[0]["id"], job.id.as_str());
    assert_eq!(fake.count(Method::POST, &path), 1);
}

#[tokio::test]
async fn failed_create_without_effect_is_retried_after_checking() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(
        Method::POST,
        &path,
        Fault::Answer {
            status: 502,
            headers: vec![],
            body: String::new(),
        },
        1,
    );
    let job = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap();
    let stored = fake.jobs(prod_id());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], job.id.as_str());
    assert_eq!(fake.count(Method::POST, &path), 2);
    // One listing for the app's snapshot, one to check after the 502.
    assert_eq!(fake.count(Method::GET, &path), 2);
}

#[tokio::test]
async fn identical_job_that_existed_before_is_not_adopted() {
    let fake = Fake::start().await;
    let client = fake.client();
    let existing = fake.seed_job(prod_id(), "./manage.py cycle_data", "Standard-1X", 1440, 0);
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(Method::POST, &path, Fault::LoseResponse, 1);
    let job = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap();
    assert_ne!(job.id, existing);
    assert_eq!(fake.jobs(prod_id()).len(), 2);
    assert_eq!(fake.count(Method::POST, &path), 1);
}

fn unavailable() -> Fault {
    Fault::Answer {
        status: 503,
        headers: vec![],
        body: String::new(),
    }
}

/// Issue 9, finding 5: the answer of a create is lost and every listing fails; the POST is
/// never sent again and the error says the job may exist and how to import it.
#[tokio::test]
async fn lost_create_that_cannot_be_verified_is_not_posted_again() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    // The app's jobs are listed (once) by the first create.
    client
        .create_scheduler_job(prod_id(), &new_job("./manage.py first", 60, 0))
        .await
        .unwrap();
    fake.inject(Method::POST, &path, Fault::LoseResponse, 1);
    fake.inject(Method::GET, &path, unavailable(), 1000);
    let error = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap_err();
    assert!(
        matches!(error, HerokuError::CreateUnverified { .. }),
        "{error:?}"
    );
    assert!(error.outcome_unknown());
    let text = error.to_string();
    assert!(text.contains("may exist"), "{text}");
    assert!(text.contains("terraform import ADDRESS "), "{text}");
    assert!(text.contains(":<job id>"), "{text}");
    assert_eq!(fake.count(Method::POST, &path), 2, "one POST per create");
    assert_eq!(fake.jobs(prod_id()).len(), 2, "no duplicate");
    // 1 listing for the snapshot, then 1 + max_retries verification rounds of 4 attempts.
    assert_eq!(fake.count(Method::GET, &path), 1 + 4 * 4);
}

/// Issue 9 (performance): creates cost one request each; the app's jobs are listed once.
#[tokio::test]
async fn parallel_creates_cost_one_request_each_and_list_the_app_once() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    let creates = (0..20).map(|i| {
        let client = client.clone();
        async move {
            client
                .create_scheduler_job(prod_id(), &new_job(&format!("./manage.py job_{i}"), 60, 0))
                .await
        }
    });
    let jobs = futures::future::join_all(creates).await;
    assert!(jobs.iter().all(Result::is_ok), "{jobs:?}");
    assert_eq!(fake.count(Method::POST, &path), 20);
    assert_eq!(fake.count(Method::GET, &path), 1);
    assert_eq!(fake.jobs(prod_id()).len(), 20);
}

/// Two identical creates whose answers are both lost, in parallel: each adopts its own job.
#[tokio::test]
async fn parallel_identical_lost_creates_adopt_distinct_jobs() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    let existing = fake.seed_job(prod_id(), "./manage.py cycle_data", "Standard-1X", 1440, 0);
    fake.inject(Method::POST, &path, Fault::LoseResponse, 2);
    let job = new_job("./manage.py cycle_data", 1440, 0);
    let (a, b) = tokio::join!(
        client.create_scheduler_job(prod_id(), &job),
        client.create_scheduler_job(prod_id(), &job)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.id, b.id);
    assert!(a.id != existing && b.id != existing);
    assert_eq!(fake.jobs(prod_id()).len(), 3);
    assert_eq!(fake.count(Method::POST, &path), 2);
}

#[tokio::test]
async fn concurrent_identical_job_listings_share_one_request() {
    let fake = Fake::start().await;
    fake.seed_job(
        prod_id(),
        "./manage.py update_bugscache",
        "Standard-1X",
        60,
        0,
    );
    let client = fake.client();
    let calls = (0..50).map(|_| client.scheduler_jobs(prod_id()));
    let results = futures::future::join_all(calls).await;
    for result in &results {
        let jobs = result.as_ref().unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].command, "./manage.py update_bugscache");
    }
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    assert_eq!(fake.count(Method::GET, &path), 1);
}

#[tokio::test]
async fn concurrent_listings_from_spawned_tasks_share_one_request() {
    let fake = Fake::start().await;
    let client = fake.client();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = client.clone();
        tasks.push(tokio::spawn(
            async move { client.formations(prod_id()).await },
        ));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // Completed calls are cached, in-flight ones joined: either way one request.
    assert_eq!(
        fake.count(Method::GET, &format!("/apps/{PROD_ID}/formation")),
        1
    );
}

#[tokio::test]
async fn job_list_cache_is_invalidated_by_writes_to_the_app() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    let stage_path = format!("/scheduler/apps/{STAGE_ID}/jobs");
    assert!(client.scheduler_jobs(prod_id()).await.unwrap().is_empty());
    client.scheduler_jobs(stage_id()).await.unwrap();
    client.scheduler_jobs(prod_id()).await.unwrap();
    assert_eq!(fake.count(Method::GET, &path), 1);

    let created = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap();
    let gets_after_create = fake.count(Method::GET, &path);
    let jobs = client.scheduler_jobs(prod_id()).await.unwrap();
    assert_eq!(jobs, vec![created.clone()]);
    assert_eq!(fake.count(Method::GET, &path), gets_after_create + 1);
    // Another app's cache is untouched.
    client.scheduler_jobs(stage_id()).await.unwrap();
    assert_eq!(fake.count(Method::GET, &stage_path), 1);

    let updated = client
        .update_scheduler_job(
            prod_id(),
            &created.id,
            &new_job("./manage.py cycle_data --days 30", 1440, 60),
        )
        .await
        .unwrap();
    assert_eq!(updated.command, "./manage.py cycle_data --days 30");
    assert_eq!(updated.at, Some(60));
    let patch = fake
        .requests()
        .into_iter()
        .find(|r| r.method == Method::PATCH)
        .unwrap();
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(body["data"]["id"], created.id.as_str());
    assert_eq!(body["data"]["type"], "jobs");
    assert_eq!(
        client.scheduler_job(prod_id(), &created.id).await.unwrap(),
        Some(updated)
    );

    client
        .delete_scheduler_job(prod_id(), &created.id)
        .await
        .unwrap();
    assert!(client.scheduler_jobs(prod_id()).await.unwrap().is_empty());
    let again = client
        .delete_scheduler_job(prod_id(), &created.id)
        .await
        .unwrap_err();
    assert!(again.is_not_found());
}
