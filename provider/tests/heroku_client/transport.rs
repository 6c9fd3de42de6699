//! Requests as Heroku expects them: headers, retries of rate limits and server errors, typed
//! transport failures, refused URLs, errors that carry Heroku's answer and never the API key.

use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use terraform_provider_treeherder::clients::heroku::{
    ApiKey, HerokuClient, HerokuConfig, HerokuError, TransportFailure,
};

use crate::fake::*;

#[tokio::test]
async fn sends_accept_bearer_user_agent_and_fresh_request_id() {
    let fake = Fake::start().await;
    let client = fake.client();
    client.app("treeherder-prod").await.unwrap();
    client.scheduler_jobs(prod_id()).await.unwrap();
    client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 1440, 0))
        .await
        .unwrap();

    let requests = fake.requests();
    assert!(requests.len() >= 3);
    let mut request_ids = std::collections::HashSet::new();
    for r in &requests {
        assert_eq!(
            header(r, "authorization"),
            Some(&*format!("Bearer {API_KEY}"))
        );
        let ua = header(r, "user-agent").unwrap();
        assert_eq!(
            ua,
            format!(
                "terraform-provider-treeherder/{}",
                env!("CARGO_PKG_VERSION")
            )
        );
        let id = Uuid::parse_str(header(r, "request-id").unwrap()).unwrap();
        assert!(request_ids.insert(id), "Request-Id reused: {id}");
        let accept = header(r, "accept").unwrap();
        if r.path.starts_with("/scheduler/") {
            assert_eq!(accept, "application/vnd.api+json");
        } else {
            assert_eq!(accept, "application/vnd.heroku+json; version=3");
        }
    }
    let post = requests.iter().find(|r| r.method == Method::POST).unwrap();
    assert_eq!(
        header(post, "content-type"),
        Some("application/vnd.api+json")
    );
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(
        body,
        json!({"data": {"type": "jobs", "attributes": {
            "command": "./manage.py cycle_data", "dyno-size": "Standard-1X", "every": 1440, "at": 0}}})
    );
}

#[tokio::test]
async fn rate_limited_request_waits_retry_after_then_succeeds() {
    let fake = Fake::start().await;
    let mut config = fake.config();
    config.max_backoff = Duration::from_secs(5);
    let client = HerokuClient::new(config).unwrap();
    fake.inject(
        Method::GET,
        "/apps/treeherder-prod",
        Fault::Answer {
            status: 429,
            headers: vec![
                ("retry-after", "1".into()),
                ("ratelimit-remaining", "0".into()),
            ],
            body: json!({"id": "rate_limit", "message": "Your account reached the API rate limit"})
                .to_string(),
        },
        1,
    );
    let started = Instant::now();
    let app = client.app("treeherder-prod").await.unwrap();
    assert_eq!(app.id, prod_id());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured"
    );
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 2);
}

#[tokio::test]
async fn rate_limited_post_is_retried_because_heroku_did_not_act() {
    let fake = Fake::start().await;
    let client = fake.client();
    let path = format!("/scheduler/apps/{PROD_ID}/jobs");
    fake.inject(
        Method::POST,
        &path,
        Fault::Answer {
            status: 429,
            headers: vec![("retry-after", "0".into())],
            body: json!({"id": "rate_limit", "message": "slow down"}).to_string(),
        },
        1,
    );
    client
        .create_scheduler_job(prod_id(), &new_job("./manage.py update_bugscache", 60, 0))
        .await
        .unwrap();
    assert_eq!(fake.count(Method::POST, &path), 2);
    assert_eq!(fake.jobs(prod_id()).len(), 1);
}

#[tokio::test]
async fn exhausted_rate_limit_retries_report_the_heroku_error() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.inject(
        Method::GET,
        "/apps/treeherder-prod",
        Fault::Answer {
            status: 429,
            headers: vec![],
            body: json!({"id": "rate_limit", "message": "Your account reached the API rate limit"})
                .to_string(),
        },
        10,
    );
    let error = client.app("treeherder-prod").await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.api_id(), Some("rate_limit"));
    // First attempt plus max_retries (3).
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 4);
}

#[tokio::test]
async fn low_rate_limit_remaining_paces_following_requests() {
    let fake = Fake::start().await;
    fake.state.lock().unwrap().rate_remaining = Some(0);
    let mut config = fake.config();
    config.rate_limit_low_water = 100;
    config.rate_limit_refill_interval = Duration::from_millis(300);
    let client = HerokuClient::new(config).unwrap();
    client.app(PROD_ID).await.unwrap();
    let started = Instant::now();
    client.app(STAGE_ID).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "request after an empty bucket was not slowed down"
    );
}

#[tokio::test]
async fn server_error_is_retried_for_get() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.inject(
        Method::GET,
        "/pipelines/treeherder",
        Fault::Answer {
            status: 503,
            headers: vec![],
            body: String::new(),
        },
        2,
    );
    let pipeline = client.pipeline("treeherder").await.unwrap();
    assert_eq!(pipeline.name, "treeherder");
    assert_eq!(fake.count(Method::GET, "/pipelines/treeherder"), 3);
}

#[tokio::test]
async fn server_error_retries_are_bounded() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.inject(
        Method::GET,
        "/pipelines/treeherder",
        Fault::Answer {
            status: 503,
            headers: vec![],
            body: "<html>maintenance</html>".into(),
        },
        100,
    );
    let error = client.pipeline("treeherder").await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert!(error.outcome_unknown());
    assert_eq!(fake.count(Method::GET, "/pipelines/treeherder"), 4);
}

#[tokio::test]
async fn server_error_is_not_retried_for_promotion_post() {
    let fake = Fake::start().await;
    let client = fake.client();
    fake.inject(Method::POST, "/pipeline-promotions", Fault::LoseResponse, 1);
    let error = client
        .create_promotion(
            Uuid::parse_str(PIPELINE_ID).unwrap(),
            stage_id(),
            &[prod_id()],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert!(error.outcome_unknown());
    assert_eq!(fake.count(Method::POST, "/pipeline-promotions"), 1);
}

#[tokio::test]
async fn connection_refused_is_a_typed_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut config = HerokuConfig::new(ApiKey::new(API_KEY));
    config.api_url = format!("http://{addr}");
    config.base_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(5);
    config.max_retries = 2;
    let client = HerokuClient::new(config).unwrap();
    let error = client.app("treeherder-prod").await.unwrap_err();
    match &error {
        HerokuError::Transport { kind, .. } => assert_eq!(*kind, TransportFailure::Connect),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(!error.outcome_unknown());
    assert!(error
        .to_string()
        .starts_with("reading app on app treeherder-prod: "));
}

#[tokio::test]
async fn dot_segments_never_reach_the_server() {
    let fake = Fake::start().await;
    let client = fake.client();
    for name in ["", ".", ".."] {
        let error = client.app(name).await.unwrap_err();
        assert!(
            matches!(error, HerokuError::Config(_)),
            "{name:?}: {error:?}"
        );
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn plaintext_urls_to_remote_hosts_are_refused() {
    for url in ["http://api.heroku.invalid", "http://192.0.2.1:80/x"] {
        let mut config = HerokuConfig::new(ApiKey::new(API_KEY));
        config.api_url = url.to_string();
        let error = HerokuClient::new(config).unwrap_err();
        assert!(error.to_string().contains("https://"), "{error}");
        let mut config = HerokuConfig::new(ApiKey::new(API_KEY));
        config.scheduler_url = url.to_string();
        assert!(HerokuClient::new(config).is_err(), "{url}");
    }
}

#[tokio::test]
async fn app_names_resolve_to_ids_once() {
    let fake = Fake::start().await;
    let client = fake.client();
    assert_eq!(
        client.resolve_app_id("treeherder-prod").await.unwrap(),
        prod_id()
    );
    assert_eq!(
        client.resolve_app_id("treeherder-prod").await.unwrap(),
        prod_id()
    );
    assert_eq!(client.resolve_app_id(STAGE_ID).await.unwrap(), stage_id());
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 1);
    assert_eq!(fake.requests().len(), 1, "a UUID needs no lookup");
    assert_eq!(client.app_label(prod_id()), "treeherder-prod");
    // The app itself is served from the cache filled by the lookup.
    let app = client.app("treeherder-prod").await.unwrap();
    assert_eq!(app.name, "treeherder-prod");
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 1);
    // A write to the app drops it from the cache.
    client.invalidate_app(prod_id());
    client.app("treeherder-prod").await.unwrap();
    assert_eq!(fake.count(Method::GET, "/apps/treeherder-prod"), 2);
}

#[tokio::test]
async fn errors_carry_heroku_id_message_action_and_app() {
    let fake = Fake::start().await;
    let client = fake.client();
    client.resolve_app_id("treeherder-prod").await.unwrap();
    let error = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 15, 0))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "creating scheduler job on app treeherder-prod: invalid_params: every must be one of 10, 60, 1440"
    );
    assert_eq!(error.status(), Some(422));
    assert!(!error.is_not_found());
    let context = error.context().unwrap();
    assert_eq!(context.action, "creating scheduler job");
    assert_eq!(context.app.as_deref(), Some("treeherder-prod"));

    fake.inject(
        Method::POST,
        &format!("/scheduler/apps/{PROD_ID}/jobs"),
        Fault::Answer {
            status: 400,
            headers: vec![],
            body: json!({"errors": [{"detail": "Check out http://jsonapi.org/format/#crud for more info.",
                                     "source": {"pointer": "/data/type"}, "status": "400",
                                     "title": "Missing type in data parameter"}]})
            .to_string(),
        },
        1,
    );
    let error = client
        .create_scheduler_job(prod_id(), &new_job("./manage.py cycle_data", 10, 0))
        .await
        .unwrap_err();
    assert_eq!(error.api_id(), Some("bad_request"));
    assert_eq!(
        error.api_message(),
        Some("Missing type in data parameter (Check out http://jsonapi.org/format/#crud for more info.)")
    );

    let missing = client.app("treeherder-nope").await.unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(missing.api_id(), Some("not_found"));
    assert_eq!(missing.api_message(), Some("Couldn't find that app."));
    assert_eq!(
        missing.to_string(),
        "reading app on app treeherder-nope: not_found: Couldn't find that app."
    );
}

#[tokio::test]
async fn api_key_never_appears_in_debug_or_errors() {
    let fake = Fake::start().await;
    let config = fake.config();
    assert!(!format!("{config:?}").contains(API_KEY));
    assert!(format!("{config:?}").contains("<redacted>"));
    let client = HerokuClient::new(config).unwrap();
    assert!(!format!("{client:?}").contains(API_KEY));
    fake.inject(
        Method::GET,
        "/apps/treeherder-prod",
        Fault::Answer {
            status: 401,
            headers: vec![],
            body: json!({"id": "unauthorized", "message": "Invalid credentials provided."})
                .to_string(),
        },
        1,
    );
    let error = client.app("treeherder-prod").await.unwrap_err();
    assert_eq!(error.api_id(), Some("unauthorized"));
    assert!(!error.to_string().contains(API_KEY));
    assert!(!format!("{error:?}").contains(API_KEY));
    assert_eq!(
        fake.count(Method::GET, "/apps/treeherder-prod"),
        1,
        "401 is not retried"
    );

    let mut bad = fake.config();
    bad.api_key = ApiKey::new("line\nbreak");
    let error = HerokuClient::new(bad).unwrap_err();
    assert!(!error.to_string().contains("line\nbreak"));
}
