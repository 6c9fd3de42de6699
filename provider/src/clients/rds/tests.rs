//! The client against a local stand-in for RDS's Query API: moto never shows an intermediate
//! state or `pending-reboot`, and never loses an answer, so these scripted answers (the XML
//! shapes RDS sends) are what prove the waits and the restore's recovery. The real SDK client
//! parses every answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;

use super::{RdsClient, RdsError, RestoreRequest, Settled, WaitLimits};

/// One answer to DescribeDBInstances.
#[derive(Clone)]
enum Answer {
    /// The instance with this status, parameter group apply status and pending password.
    Is(&'static str, &'static str, bool),
    /// DBInstanceNotFound.
    Missing,
}

#[derive(Default)]
struct Script {
    answers: VecDeque<Answer>,
    /// HTTP statuses of successive restores: 200 restores, 503 "loses the answer" (after
    /// restoring), 400 says the instance exists.
    restores: VecDeque<u16>,
    /// The restore token the instance is tagged with, once restored.
    tagged: Option<String>,
    /// Every action received, in order.
    actions: Vec<String>,
}

type Shared = Arc<Mutex<Script>>;

fn instance_xml(status: &str, apply: &str, pending: bool, token: Option<&str>) -> String {
    let tags = token.map_or(String::new(), |t| {
        format!(
            "<TagList><Tag><Key>treeherder:restore-token</Key><Value>{t}</Value></Tag></TagList>"
        )
    });
    let pending = if pending {
        "<PendingModifiedValues><MasterUserPassword>****</MasterUserPassword></PendingModifiedValues>"
    } else {
        "<PendingModifiedValues/>"
    };
    format!(
        "<DBInstance><DBInstanceIdentifier>treeherder-dev-bug1</DBInstanceIdentifier>\
         <DBInstanceStatus>{status}</DBInstanceStatus><DBInstanceClass>db.m4.xlarge</DBInstanceClass>\
         <DBParameterGroups><DBParameterGroup><DBParameterGroupName>treeherder-mysql57</DBParameterGroupName>\
         <ParameterApplyStatus>{apply}</ParameterApplyStatus></DBParameterGroup></DBParameterGroups>\
         {pending}{tags}</DBInstance>"
    )
}

async fn query(State(script): State<Shared>, body: String) -> impl IntoResponse {
    let action = body
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .unwrap_or_default()
        .to_owned();
    let mut script = script.lock().expect("script lock");
    script.actions.push(action.clone());
    let token = script.tagged.clone();
    let ok = |result: String| {
        (
            StatusCode::OK,
            format!(
                "<{action}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\
                 <{action}Result>{result}</{action}Result>\
                 <ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></{action}Response>"
            ),
        )
    };
    match action.as_str() {
        "DescribeDBInstances" => {
            // The last answer repeats.
            let answer = if script.answers.len() > 1 {
                script.answers.pop_front()
            } else {
                script.answers.front().cloned()
            };
            match answer {
                Some(Answer::Is(status, apply, pending)) => ok(format!(
                    "<DBInstances>{}</DBInstances>",
                    instance_xml(status, apply, pending, token.as_deref())
                )),
                Some(Answer::Missing) | None => (
                    StatusCode::NOT_FOUND,
                    "<ErrorResponse><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code>\
                     <Message>DBInstance treeherder-dev-bug1 not found.</Message></Error>\
                     <RequestId>stand-in</RequestId></ErrorResponse>"
                        .to_owned(),
                ),
            }
        }
        "RebootDBInstance" => ok(instance_xml("rebooting", "applying", false, None)),
        "RestoreDBInstanceFromDBSnapshot" => {
            let status = script.restores.pop_front().unwrap_or(200);
            if status != 400 {
                // The token is the value after the tag key in the form.
                script.tagged = body
                    .split('&')
                    .filter_map(|p| p.split_once('='))
                    .filter(|(k, _)| k.ends_with(".Value"))
                    .map(|(_, v)| v.to_owned())
                    .next();
            }
            match status {
                200 => ok(instance_xml("creating", "in-sync", false, None)),
                400 => (
                    StatusCode::BAD_REQUEST,
                    "<ErrorResponse><Error><Type>Sender</Type><Code>DBInstanceAlreadyExists</Code>\
                     <Message>DB instance already exists</Message></Error>\
                     <RequestId>stand-in</RequestId></ErrorResponse>"
                        .to_owned(),
                ),
                _ => (StatusCode::SERVICE_UNAVAILABLE, "lost".to_owned()),
            }
        }
        _ => (StatusCode::BAD_REQUEST, format!("unexpected {action}")),
    }
}

/// A stand-in answering with `answers` in turn, and a client polling it every millisecond.
async fn stand_in(answers: Vec<Answer>) -> (RdsClient, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers: answers.into(),
        ..Script::default()
    }));
    let app = Router::new()
        .route("/", post(query))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let config = aws_sdk_rds::Config::builder()
        .behavior_version(aws_sdk_rds::config::BehaviorVersion::latest())
        .region(aws_sdk_rds::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{address}"))
        .credentials_provider(aws_sdk_rds::config::Credentials::new(
            "testing", "testing", None, None, "stand-in",
        ))
        .retry_config(
            aws_sdk_rds::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build();
    let client = RdsClient {
        client: aws_sdk_rds::Client::from_conf(config),
        poll_interval: Duration::from_millis(1),
    };
    (client, script)
}

fn never() -> std::future::Pending<()> {
    std::future::pending()
}

fn minutes(n: u64) -> WaitLimits {
    WaitLimits::from_now(Duration::from_secs(60 * n))
}

fn polls(script: &Shared) -> usize {
    let script = script.lock().expect("script lock");
    script
        .actions
        .iter()
        .filter(|a| *a == "DescribeDBInstances")
        .count()
}

const ID: &str = "treeherder-dev-bug1";

#[tokio::test]
async fn a_restore_is_followed_through_its_states_until_available_twice() {
    use Answer::Is;
    let (client, script) = stand_in(vec![
        Answer::Missing,
        Is("creating", "in-sync", false),
        Is("backing-up", "in-sync", false),
        Is("available", "in-sync", false),
        Is("available", "in-sync", false),
    ])
    .await;
    let instance = client
        .wait_available(ID, minutes(1), &never)
        .await
        .expect("available");
    assert_eq!(instance.status, "available");
    assert_eq!(polls(&script), 5);
}

#[tokio::test]
async fn one_available_right_after_a_modify_is_not_taken_for_done() {
    use Answer::Is;
    // RDS can still say `available` just after ModifyDBInstance, then `modifying`.
    let (client, script) = stand_in(vec![
        Is("available", "in-sync", false),
        Is("modifying", "in-sync", false),
        Is("resetting-master-credentials", "in-sync", false),
        Is("available", "in-sync", true),
        Is("available", "in-sync", false),
        Is("available", "in-sync", false),
    ])
    .await;
    client
        .wait_available(ID, minutes(1), &never)
        .await
        .expect("available");
    // Neither the stale first `available` nor the one with a pending password counted.
    assert_eq!(polls(&script), 6);
}

#[tokio::test]
async fn a_parameter_group_pending_reboot_is_rebooted_and_waited_for() {
    use Answer::Is;
    let (client, script) = stand_in(vec![
        Is("available", "pending-reboot", false),
        Is("available", "pending-reboot", false),
        // Stale right after the reboot call, then the reboot itself.
        Is("available", "pending-reboot", false),
        Is("rebooting", "applying", false),
        Is("available", "in-sync", false),
        Is("available", "in-sync", false),
    ])
    .await;
    let instance = client
        .wait_available(ID, minutes(1), &never)
        .await
        .expect("rebooted");
    assert!(!instance.needs_reboot());
    let actions = script.lock().expect("lock").actions.clone();
    let reboots: Vec<usize> = actions
        .iter()
        .enumerate()
        .filter(|(_, a)| *a == "RebootDBInstance")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(reboots, vec![2], "{actions:?}");
    assert_eq!(polls(&script), 6);
}

#[tokio::test]
async fn a_failed_restore_ends_the_wait_with_its_status() {
    use Answer::Is;
    let (client, _) = stand_in(vec![
        Is("creating", "in-sync", false),
        Is("incompatible-restore", "in-sync", false),
    ])
    .await;
    let error = client
        .wait_available(ID, minutes(1), &never)
        .await
        .expect_err("failed");
    assert!(
        matches!(&error, RdsError::Failed { status, .. } if status == "incompatible-restore"),
        "{error}"
    );
    assert!(error.to_string().contains(ID), "{error}");
}

#[tokio::test]
async fn an_instance_that_disappears_during_the_wait_is_an_error() {
    use Answer::Is;
    let (client, _) = stand_in(vec![Is("creating", "in-sync", false), Answer::Missing]).await;
    let error = client
        .wait_available(ID, minutes(1), &never)
        .await
        .expect_err("vanished");
    assert!(matches!(error, RdsError::Vanished { .. }), "{error}");
}

#[tokio::test]
async fn the_wait_gives_up_at_its_deadline_saying_the_last_status() {
    let (client, script) = stand_in(vec![Answer::Is("creating", "in-sync", false)]).await;
    let error = client
        .wait_available(ID, WaitLimits::from_now(Duration::from_millis(50)), &never)
        .await
        .expect_err("timeout");
    let RdsError::Timeout { last_status, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(last_status, "creating");
    assert!(error.to_string().contains("still there"), "{error}");
    assert!(polls(&script) >= 2);
}

#[tokio::test]
async fn a_stop_request_ends_the_wait_promptly() {
    let (client, _) = stand_in(vec![Answer::Is("creating", "in-sync", false)]).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop = || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let wait = client.wait_available(ID, minutes(60), &stop);
    let stopper = async {
        tokio::task::yield_now().await;
        let _ = stop_tx.send(true);
    };
    let (result, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(wait, stopper)
    })
    .await
    .expect("the wait ended without waiting for its deadline");
    let error = result.expect_err("stopped");
    assert!(matches!(error, RdsError::Stopped { .. }), "{error}");
}

#[tokio::test]
async fn a_delete_is_done_once_the_instance_is_gone() {
    use Answer::Is;
    let (client, script) = stand_in(vec![
        Is("deleting", "in-sync", false),
        Is("deleting", "in-sync", false),
        Answer::Missing,
    ])
    .await;
    let gone = client
        .wait(ID, Settled::Gone, minutes(1), &never)
        .await
        .expect("gone");
    assert!(gone.is_none());
    assert_eq!(polls(&script), 3);
}

fn restore_request() -> RestoreRequest {
    RestoreRequest {
        identifier: ID.into(),
        snapshot: "rds:treeherder-prod-2026-12-02-03-00".into(),
        ..RestoreRequest::default()
    }
}

#[tokio::test]
async fn a_restore_whose_answer_was_lost_is_recognised_by_its_token_and_not_repeated() {
    let (client, script) = stand_in(vec![Answer::Is("creating", "in-sync", false)]).await;
    // The first attempt restores but its answer is lost (503); the SDK's retry is told the
    // instance exists.
    script.lock().expect("lock").restores = VecDeque::from([503, 400]);
    client
        .restore(&restore_request(), "token-of-this-apply")
        .await
        .expect("adopted");
    let script = script.lock().expect("lock");
    let restores = script
        .actions
        .iter()
        .filter(|a| *a == "RestoreDBInstanceFromDBSnapshot")
        .count();
    assert_eq!(restores, 2, "{:?}", script.actions);
    assert_eq!(script.tagged.as_deref(), Some("token-of-this-apply"));
}

#[tokio::test]
async fn an_instance_of_someone_else_is_never_adopted() {
    let (client, script) = stand_in(vec![Answer::Is("available", "in-sync", false)]).await;
    {
        let mut script = script.lock().expect("lock");
        script.tagged = Some("another-apply".into());
        script.restores = VecDeque::from([400]);
    }
    let error = client
        .restore(&restore_request(), "token-of-this-apply")
        .await
        .expect_err("not ours");
    assert!(matches!(error, RdsError::AlreadyExists { .. }), "{error}");
}

#[test]
fn the_restore_token_is_the_same_for_the_same_identifier_and_snapshot_only() {
    let token = super::restore_token("treeherder-dev-x", "rds:treeherder-prod-2026-12-01");
    assert_eq!(
        token,
        super::restore_token("treeherder-dev-x", "rds:treeherder-prod-2026-12-01")
    );
    assert_eq!(token.len(), 64);
    for (identifier, snapshot) in [
        ("treeherder-dev-y", "rds:treeherder-prod-2026-12-01"),
        ("treeherder-dev-x", "rds:treeherder-prod-2026-12-02"),
        // The separator keeps the two parts apart.
        ("treeherder-dev-xr", "ds:treeherder-prod-2026-12-01"),
    ] {
        assert_ne!(token, super::restore_token(identifier, snapshot));
    }
}
