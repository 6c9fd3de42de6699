//! Helpers shared by the data source tests that adopt what a data source lists: apply the
//! listing, then import every listed id into a configuration written from the listed values.

use acceptance::harness::{SandboxControl, Terraform, Workspace};
use serde_json::Value;

/// A workspace of `tf` in which `config` was initialised and applied.
pub async fn applied<'a>(tf: &'a Terraform, config: &str) -> Workspace<'a> {
    let work = tf.workspace("work").expect("workspace");
    work.write_config(config).unwrap();
    tf.require_success(work.init().await.expect("init runs"))
        .expect("init");
    tf.require_success(work.apply().await.expect("apply runs"))
        .expect("apply");
    work
}

/// Writes `config`, imports each `(address, id)`, and asserts the refreshed plan is empty,
/// nothing but GETs reached the sandbox, and `api_key` is in no log. `what` names the
/// imported objects in the failure message.
pub async fn assert_adopted_without_changes(
    tf: &Terraform,
    work: &Workspace<'_>,
    control: &SandboxControl,
    config: &str,
    imports: &[(String, String)],
    what: &str,
    api_key: &str,
) {
    work.write_config(config).unwrap();
    control.clear_requests().await;
    for (address, id) in imports {
        tf.require_success(work.import(address, id).await.expect("import runs"))
            .expect("import with the listed id");
    }
    let plan = work.plan(true).await.expect("plan");
    assert!(
        !plan.has_changes,
        "the listed values do not match the imported {what}:\n{}",
        plan.text
    );
    let writes: Vec<Value> = control
        .requests()
        .await
        .into_iter()
        .filter(|r| r["method"] != "GET")
        .collect();
    assert!(writes.is_empty(), "adoption wrote: {writes:?}");
    let scan = tf.scan(&[api_key.to_string()]).expect("scan");
    assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
}
