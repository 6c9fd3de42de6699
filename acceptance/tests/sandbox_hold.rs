//! The sandbox's holds (`/__control/holds`): the next matching request is performed, its
//! answer is held until the test releases it, and the control API says when it was caught.

use std::time::Duration;

use acceptance::harness::SandboxWorld;
use reqwest::Method;
use serde_json::json;

const API_KEY: &str = "sandbox-hold-acceptance-key-41d2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_answer_is_sent_only_once_released_and_the_request_was_performed() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let path = "/apps/treeherder-stage/config-vars";
    // A GET to the same path and a PATCH elsewhere are not caught.
    let hold = control.hold("PATCH", path).await;
    control.heroku(Method::GET, path, None).await;
    control
        .heroku(
            Method::PATCH,
            "/apps/treeherder-prod/config-vars",
            Some(json!({ "HOLD_PROBE": "elsewhere" })),
        )
        .await;
    assert_eq!(control.holds().await[0].caught, None);

    let client = control.clone();
    let patch = tokio::spawn(async move {
        client
            .heroku(Method::PATCH, path, Some(json!({ "HOLD_PROBE": "held" })))
            .await
    });
    let caught = control.wait_until_held(hold, Duration::from_secs(10)).await;
    assert_eq!(caught.status, 200, "{caught:?}");
    assert_eq!(caught.path, path, "{caught:?}");
    // Performed (the change is there) but not answered.
    let vars = control.heroku(Method::GET, path, None).await;
    assert_eq!(vars["HOLD_PROBE"], "held");
    assert!(
        !patch.is_finished(),
        "the answer was sent before the release"
    );
    let logged = control.requests().await;
    assert!(logged
        .iter()
        .any(|r| r.seq == caught.seq && r.method == "PATCH" && r.path == path));

    control.release_holds().await;
    let answer = tokio::time::timeout(Duration::from_secs(10), patch)
        .await
        .expect("the answer comes once released")
        .expect("the PATCH task");
    assert_eq!(answer["HOLD_PROBE"], "held");
    assert_eq!(control.holds().await, vec![]);
    // With no hold left, answers go out at once.
    control
        .heroku(Method::PATCH, path, Some(json!({ "HOLD_PROBE": "free" })))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_ends_when_the_client_hangs_up() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let path = "/apps/treeherder-stage/config-vars";
    let hold = control.hold("PATCH", path).await;
    // A client that gives up after a moment and closes its connection.
    let url = format!("{}{path}", world.sandbox().heroku_url);
    let impatient = tokio::spawn(async move {
        reqwest::Client::new()
            .patch(url)
            .bearer_auth(API_KEY)
            .header("Accept", "application/vnd.heroku+json; version=3")
            .json(&json!({ "HOLD_PROBE": "abandoned" }))
            .timeout(Duration::from_millis(500))
            .send()
            .await
    });
    control.wait_until_held(hold, Duration::from_secs(10)).await;
    let gave_up = impatient.await.expect("the client task");
    assert!(
        gave_up.is_err_and(|e| e.is_timeout()),
        "the answer was held"
    );
    // The hold goes with the connection (bounded wait for the server to see it close).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !control.holds().await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hold outlived its connection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Performed all the same.
    let vars = control.heroku(Method::GET, path, None).await;
    assert_eq!(vars["HOLD_PROBE"], "abandoned");
}
