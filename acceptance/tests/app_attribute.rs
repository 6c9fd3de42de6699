//! One rule for every attribute naming a Heroku app (issue 19, item 4), through real
//! Terraform against an in-process sandbox: each resource, data source and ephemeral resource
//! refuses a malformed app at plan, at the attribute, saying what is accepted, quoting at
//! most a bounded prefix of the value, before any request; and state holding a name an
//! earlier version accepted gives a clear diagnostic, not a crash.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use acceptance::harness::{SandboxWorld, Severity};
use serde_json::Value;

const API_KEY: &str = "app-attribute-acceptance-key-5d2e7a";
/// How much of a rejected value a message may quote (tfplugin's `QUOTE_LIMIT`).
const QUOTE_LIMIT: usize = 80;

/// The HCL spelling of `value` inside a quoted string.
fn hcl_string(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Where a diagnostic about the app is expected: the block, the attribute, its line.
struct Expected {
    block: String,
    attribute: &'static str,
    line: u64,
}

/// A configuration with every block naming an app set to `app` (the ephemeral resource only
/// where Terraform has ephemeral resources), and where each diagnostic is expected.
fn config(app: &str, ephemeral: bool) -> (String, Vec<Expected>) {
    let app = hcl_string(app);
    let mut blocks: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "resource \"treeherder_config_vars\" \"x\"",
            "app",
            vec!["vars = { LOG_LEVEL = \"INFO\" }".into()],
        ),
        (
            "resource \"treeherder_formation\" \"x\"",
            "app",
            vec![
                "type = \"web\"".into(),
                "quantity = 1".into(),
                "size = \"Standard-1X\"".into(),
            ],
        ),
        (
            "resource \"treeherder_app_collaborator\" \"x\"",
            "app",
            vec![
                "email = \"alice@example.com\"".into(),
                "permissions = [\"view\"]".into(),
            ],
        ),
        (
            "resource \"treeherder_database_password\" \"x\"",
            "app",
            vec![],
        ),
        (
            "resource \"treeherder_scheduler_job\" \"x\"",
            "app",
            vec![
                "command = \"./manage.py cycle_data\"".into(),
                "frequency = \"every_hour_at_0\"".into(),
            ],
        ),
        (
            "resource \"treeherder_one_off_dyno\" \"x\"",
            "app",
            vec!["command = \"./manage.py clear_cache\"".into()],
        ),
        (
            "resource \"treeherder_release_rollback\" \"x\"",
            "app",
            vec!["release = \"v1\"".into()],
        ),
        ("resource \"treeherder_dyno_restart\" \"x\"", "app", vec![]),
        (
            "resource \"treeherder_pipeline_promotion\" \"x\"",
            "source_app",
            vec![
                "pipeline = \"treeherder\"".into(),
                "targets = [\"treeherder-prod\"]".into(),
            ],
        ),
        (
            "resource \"treeherder_pipeline_promotion\" \"y\"",
            "targets",
            vec![
                "pipeline = \"treeherder\"".into(),
                "source_app = \"treeherder-stage\"".into(),
            ],
        ),
        ("data \"treeherder_app\" \"x\"", "name", vec![]),
    ];
    if ephemeral {
        blocks.push(("ephemeral \"treeherder_database_url\" \"x\"", "app", vec![]));
    }
    let mut lines: Vec<String> = vec![
        "terraform {".into(),
        "  required_providers {".into(),
        "    treeherder = { source = \"treeherder/treeherder\" }".into(),
        "  }".into(),
        "}".into(),
        "provider \"treeherder\" {}".into(),
    ];
    let mut expected = Vec::new();
    for (block, attribute, others) in blocks {
        lines.push(format!("{block} {{"));
        let value = if attribute == "targets" {
            format!("[\"{app}\"]")
        } else {
            format!("\"{app}\"")
        };
        lines.push(format!("  {attribute} = {value}"));
        expected.push(Expected {
            block: block.to_string(),
            attribute,
            line: lines.len() as u64,
        });
        lines.extend(others.into_iter().map(|l| format!("  {l}")));
        lines.push("}".into());
    }
    (lines.join("\n") + "\n", expected)
}

/// Whether this Terraform has ephemeral resources (1.10 and later).
fn has_ephemeral_resources() -> bool {
    acceptance::harness::terraform_binary()
        .ok()
        .and_then(|binary| acceptance::harness::terraform_version(&binary).ok())
        .is_some_and(|(major, minor, _)| (major, minor) >= (1, 10))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_app_attribute_refuses_a_malformed_app_at_plan_without_a_request() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    let ephemeral = has_ephemeral_resources();
    let long = format!("treeherder-{}", "x".repeat(200_000));
    let bad = [
        "",
        "../apps/treeherder-prod",
        "treeherder-stage?x=1",
        " treeherder-stage",
        long.as_str(),
        "treeherder-stage\n",
    ];
    work.write_config(&config("treeherder-stage", ephemeral).0)
        .unwrap();
    work.init().await.expect("init");
    for value in bad {
        let shown: String = value.chars().take(40).collect();
        let (hcl, expected) = config(value, ephemeral);
        work.write_config(&hcl).unwrap();
        control.clear_requests().await;
        let (succeeded, found) = work.plan_diagnostics().await.expect("plan");
        assert!(!succeeded, "{shown:?}: the plan succeeded");
        let errors: Vec<_> = found
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        for want in &expected {
            let Some(d) = errors.iter().find(|d| d.is_at("main.tf", want.line)) else {
                panic!(
                    "{shown:?}: no error at {} of {} (line {}); errors: {found:#?}",
                    want.attribute, want.block, want.line
                );
            };
            let (summary, detail) = (&d.summary, &d.detail);
            assert!(
                summary.contains(want.attribute),
                "{shown:?}, {}: {summary}",
                want.block
            );
            assert!(
                detail.contains("lowercase letters") && detail.contains("app UUID"),
                "{shown:?}, {}: does not say what is accepted: {detail}",
                want.block
            );
            // At most a bounded prefix of the value is echoed.
            let prefix: String = value.chars().take(QUOTE_LIMIT + 1).collect();
            assert!(
                value.chars().count() <= QUOTE_LIMIT || !detail.contains(prefix.as_str()),
                "{shown:?}, {}: the value is echoed beyond {QUOTE_LIMIT} characters",
                want.block
            );
            assert!(
                detail.len() < 1_000,
                "{shown:?}, {}: {} bytes of detail",
                want.block,
                detail.len()
            );
        }
        let requests = control.requests().await;
        assert!(requests.is_empty(), "{shown:?}: the plan sent {requests:?}");
    }
}

/// State holding a name that an earlier version accepted (`"treeherder-stage\n"`: the URL
/// parser dropped the newline) still loads as Terraform state, and the provider says what is
/// wrong with it and what to do, without sending anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_with_a_formerly_accepted_app_gives_a_clear_diagnostic() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    let tf = world.terraform();
    let work = tf.workspace("work").expect("workspace");
    let hcl = r#"
terraform {
  required_providers {
    treeherder = { source = "treeherder/treeherder" }
  }
}

provider "treeherder" {}

resource "treeherder_config_vars" "x" {
  app  = "treeherder-stage"
  vars = { LOG_LEVEL = "INFO" }
}
"#;
    work.write_config(hcl).unwrap();
    work.init().await.expect("init");
    let out = work.apply().await.expect("apply");
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    // State written with a valid app loads and plans empty.
    let plan = work.plan(true).await.expect("plan");
    assert!(!plan.has_changes, "{}", plan.text);

    // The state an earlier version could have written.
    work.edit_state(|state| {
        state["resources"][0]["instances"][0]["attributes"]["app"] =
            Value::from("treeherder-stage\n");
    })
    .expect("state edited");

    control.clear_requests().await;
    for refresh in ["-refresh=true", "-refresh=false"] {
        let out = work
            .run(&["plan", "-input=false", "-no-color", refresh])
            .await
            .expect("plan");
        assert!(!out.success(), "{refresh}: the plan succeeded");
        // Terraform wraps long lines: compare with whitespace runs as one space.
        let text = format!("{}\n{}", out.stdout, out.stderr)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for part in [
            "Stored app no longer accepted",
            "earlier version accepted it",
            "terraform state rm",
            "lowercase letters",
            r#""treeherder-stage\n""#,
        ] {
            assert!(
                text.contains(part),
                "{refresh}: {part:?} missing from:\n{text}"
            );
        }
        assert!(!text.contains("panic"), "{text}");
    }
    let requests = control.requests().await;
    assert!(requests.is_empty(), "the plans sent {requests:?}");
}
