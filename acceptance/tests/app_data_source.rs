//! Data source `treeherder_app` through real Terraform against an in-process sandbox: by
//! name and by UUID, its release with the slug's commit, process types, and config var
//! names (and which of them belong to add-ons) without any value reaching state, output or
//! logs.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

use std::collections::BTreeMap;

use acceptance::harness::treeherder_case;
use acceptance::harness::Step;
use acceptance::sandbox::{self, SandboxConfig};
use serde_json::Value;

/// Long enough for the harness to treat it as a secret and scan every log for it.
const API_KEY: &str = "app-data-source-acceptance-key-81c4f0";
const ADDR: &str = "data.treeherder_app.prod";

fn config(name: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}

provider "treeherder" {{}}

data "treeherder_app" "prod" {{
  name = "{name}"
}}

output "deployed" {{
  value = "${{data.treeherder_app.prod.release.version}} ${{data.treeherder_app.prod.release.commit}}"
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_release_commit_process_types_and_config_var_names_only() {
    let sandbox = sandbox::start(SandboxConfig {
        api_key: API_KEY.to_string(),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let http = reqwest::Client::new();
    let state: Value = http
        .get(format!("{}/state", sandbox.control_url))
        .send()
        .await
        .expect("control state")
        .json()
        .await
        .expect("state json");
    let app = state["apps"]
        .as_array()
        .and_then(|apps| apps.iter().find(|a| a["name"] == "treeherder-prod"))
        .cloned()
        .expect("treeherder-prod is seeded");
    let app_id = app["id"].as_str().expect("app id").to_string();
    let current = app["releases"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .filter(|r| r["status"] == "succeeded")
                .max_by_key(|r| r["version"].as_i64())
        })
        .cloned()
        .expect("a current release");
    let commit = app["slugs"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == current["slug_id"]))
        .map(|s| s["commit"].clone())
        .expect("the release's slug");
    let vars = app["config_vars"].as_object().cloned().unwrap_or_default();
    let mut keys: Vec<String> = vars.keys().cloned().collect();
    keys.sort();
    assert!(!keys.is_empty());
    let mut addon_keys: Vec<String> = app["addons"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|a| a["config_vars"].as_array().cloned().unwrap_or_default())
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    addon_keys.sort();
    addon_keys.dedup();
    assert!(
        addon_keys.contains(&"REDIS_URL".to_string()),
        "{addon_keys:?}"
    );
    // Every value long enough to be recognisable is a secret the harness scans for.
    let values: Vec<String> = vars
        .values()
        .filter_map(|v| v.as_str())
        .filter(|v| v.len() >= 12 && !v.contains("treeherder-prod"))
        .map(str::to_string)
        .collect();
    assert!(!values.is_empty());

    let env = BTreeMap::from([
        ("HEROKU_API_URL".to_string(), sandbox.heroku_url.clone()),
        (
            "HEROKU_SCHEDULER_URL".to_string(),
            sandbox.scheduler_url.clone(),
        ),
        ("HEROKU_API_KEY".to_string(), API_KEY.to_string()),
    ]);
    let check_values = values.clone();
    let expected_id = app_id.clone();
    let check = move |state: &acceptance::harness::State| -> Result<(), String> {
        state.expect_attr(ADDR, "id", expected_id.as_str())?;
        state.expect_attr(ADDR, "region", "us")?;
        state.expect_attr(ADDR, "stack", "heroku-18")?;
        state.expect_attr(ADDR, "web_url", "https://treeherder-prod.herokuapp.com/")?;
        state.expect_attr(ADDR, "team", "mozilla")?;
        state.expect_attr(ADDR, "release.version", current["version"].clone())?;
        state.expect_attr(ADDR, "release.id", current["id"].clone())?;
        state.expect_attr(ADDR, "release.description", current["description"].clone())?;
        state.expect_attr(ADDR, "release.commit", commit.clone())?;
        state.expect_attr_set(ADDR, "release.created_at")?;
        state.expect_attr(ADDR, "process_types.web.quantity", 3)?;
        state.expect_attr(ADDR, "process_types.web.size", "Performance-M")?;
        let command = state
            .attr_str(ADDR, "process_types.web.command")
            .unwrap_or_default();
        if !command.contains("gunicorn") {
            return Err(format!("web command: {command}"));
        }
        state.expect_attr(
            ADDR,
            "process_types.worker_log_parser.size",
            "Performance-M",
        )?;
        state.expect_attr(ADDR, "config_var_keys", keys.clone())?;
        state.expect_attr(ADDR, "addon_config_var_keys", addon_keys.clone())?;
        let raw = state.raw().to_string();
        if let Some(leaked) = check_values.iter().find(|v| raw.contains(v.as_str())) {
            return Err(format!(
                "a config var value is in the state ({} bytes)",
                leaked.len()
            ));
        }
        Ok(())
    };
    let check_by_uuid = check.clone();
    let mut case = treeherder_case().envs(env);
    for value in values {
        case = case.sensitive(value);
    }
    let report = case
        .step(Step::config(config("treeherder-prod")).check(check))
        .step(Step::config(config(&app_id)).check(check_by_uuid))
        .try_run()
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert!(report.files_scanned > 0 && report.secrets_checked > 1);
}
