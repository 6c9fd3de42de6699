//! The tfplugin SDK end to end: the example file provider (tfplugin/examples/file_provider)
//! driven by real Terraform 1.0.3 — apply, empty plans with and without refresh, import with
//! state comparison, in-place update, replacement, drift, validation errors, destroy, and no
//! sensitive value in TRACE logs.

use std::path::{Path, PathBuf};

use acceptance::harness::case_for;
use acceptance::harness::{target_dir, ProviderUnderTest, Step};
use regex::Regex;

const SECRET: &str = "example-secret-value-7f3a9c";

fn example_provider() -> ProviderUnderTest {
    let binary = target_dir().join("debug/examples/file_provider");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p tfplugin --example file_provider`",
        binary.display()
    );
    ProviderUnderTest::new("registry.terraform.io/tfplugin/example", binary, "0.1.0")
}

fn config(root: &Path, path: &str, content: &str, permissions: Option<&str>) -> String {
    let permissions = permissions
        .map(|p| format!("permissions = \"{p}\""))
        .unwrap_or_default();
    format!(
        r#"
terraform {{
  required_providers {{
    example = {{ source = "tfplugin/example" }}
  }}
}}

provider "example" {{
  root = "{root}"
}}

variable "secret" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}

resource "example_file" "a" {{
  path    = "{path}"
  content = "{content}"
  secret  = var.secret
  {permissions}
  tags = {{ team = "treeherder" }}
  timeouts {{
    create = "30s"
  }}
}}

data "example_file" "a" {{
  path = example_file.a.path
}}
"#,
        root = root.display()
    )
}

fn read(root: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(root.join(name)).ok()
}

#[tokio::test]
async fn example_provider_full_life_cycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root: PathBuf = dir.path().to_path_buf();
    let (r1, r2, r3, r4, r5) = (
        root.clone(),
        root.clone(),
        root.clone(),
        root.clone(),
        root.clone(),
    );

    let report = case_for(example_provider())
        .sensitive(SECRET)
        .step(
            Step::config(config(&root, "a.txt", "hello", None)).check(move |state| {
                state.expect_attr("example_file.a", "id", "a.txt")?;
                state.expect_attr("example_file.a", "permissions", "0644")?;
                state.expect_attr("example_file.a", "size", 5)?;
                state.expect_attr("data.example_file.a", "content", "hello")?;
                match read(&r1, "a.txt").as_deref() {
                    Some("hello") => Ok(()),
                    other => Err(format!("file content is {other:?}")),
                }
            }),
        )
        .step(
            Step::import("example_file.a")
                .import_id("a.txt")
                .verify_import(["timeouts", "tags"]),
        )
        .step(
            Step::config(config(&root, "a.txt", "hello again", Some("0600")))
                .plan_check(|plan| {
                    let change = plan
                        .change("example_file.a")
                        .ok_or("no change for example_file.a")?;
                    if change.actions != ["update"] {
                        return Err(format!(
                            "expected an in-place update, got {:?}",
                            change.actions
                        ));
                    }
                    let changed = change.changed_attributes();
                    let expected = ["content", "permissions", "size"]
                        .map(String::from)
                        .into_iter()
                        .collect();
                    if changed != expected {
                        return Err(format!("changed attributes {changed:?}"));
                    }
                    Ok(())
                })
                .check(move |_| match read(&r2, "a.txt").as_deref() {
                    Some("hello again") => Ok(()),
                    other => Err(format!("file content is {other:?}")),
                }),
        )
        .step(
            Step::config(config(&root, "b.txt", "hello again", Some("0600")))
                .plan_check(|plan| {
                    let change = plan.change("example_file.a").ok_or("no change")?;
                    if change.actions != ["delete", "create"] {
                        return Err(format!("expected a replacement, got {:?}", change.actions));
                    }
                    Ok(())
                })
                .check(move |_| {
                    if read(&r3, "a.txt").is_some() || read(&r3, "b.txt").is_none() {
                        return Err("replacement did not move the file".to_string());
                    }
                    Ok(())
                }),
        )
        .step(
            Step::config(config(&root, "b.txt", "hello again", Some("999")))
                .expect_error(Regex::new(r"(?s)permissions.*0\[0-7\]\{3\}").expect("regex")),
        )
        .step(
            // Drift: the file changes behind Terraform's back; the refreshed plan must show it.
            Step::config(config(&root, "b.txt", "hello again", Some("0600")))
                .pre_step(move || std::fs::write(r4.join("b.txt"), "edited by hand"))
                .plan_only()
                .expect_non_empty_plan(),
        )
        .check_destroy(move |_| match read(&r5, "b.txt") {
            None => Ok(()),
            Some(_) => Err("b.txt still exists after destroy".to_string()),
        })
        .run()
        .await;
    assert!(report.secrets_checked >= 1);
    assert!(
        report.files_scanned > 0,
        "the TRACE logs must have been scanned"
    );
}

const WRITE_ONLY_SECRET: &str = "write-only-secret-value-41d2e8";

/// Nested attributes with defaults and computed values, a write-only attribute fed by an
/// ephemeral variable and one fed by an ephemeral resource: Terraform ≥ 1.11 only.
fn write_only_config(root: &Path, version: u64) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    example = {{ source = "tfplugin/example" }}
  }}
}}

provider "example" {{
  root = "{root}"
}}

variable "token" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

ephemeral "example_token" "t" {{
  length = 24
}}

resource "example_file" "wo" {{
  path             = "wo.txt"
  content          = "head\n"
  token_wo         = var.token
  token_wo_version = {version}
  lines = [
    {{ text = "one" }},
    {{ text = "two", mode = "shout" }},
  ]
}}

resource "example_file" "eph" {{
  path             = "eph.txt"
  content          = "x"
  token_wo         = ephemeral.example_token.t.result
  token_wo_version = 1
}}
"#,
        root = root.display()
    )
}

/// Fails when `needle` occurs anywhere in `haystack`'s JSON text.
fn absent(what: &str, haystack: &serde_json::Value, needle: &str) -> Result<(), String> {
    if haystack.to_string().contains(needle) {
        return Err(format!("the secret appears in the {what}"));
    }
    Ok(())
}

#[tokio::test]
async fn write_only_attributes_and_ephemeral_resources_with_terraform_1_11() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root: PathBuf = dir.path().to_path_buf();
    let (r1, r2) = (root.clone(), root.clone());
    let report = case_for(example_provider())
        .terraform_latest()
        .env("TF_VAR_token", WRITE_ONLY_SECRET)
        .sensitive(WRITE_ONLY_SECRET)
        .step(
            Step::config(write_only_config(&root, 1))
                .plan_check(|plan| {
                    absent("saved plan", plan.raw(), WRITE_ONLY_SECRET)?;
                    let change = plan.change("example_file.wo").ok_or("no change")?;
                    let after = change.after.get("token_wo");
                    if after.is_some_and(|v| !v.is_null()) {
                        return Err(format!("token_wo planned as {after:?}"));
                    }
                    Ok(())
                })
                .check(move |state| {
                    absent("state", state.raw(), WRITE_ONLY_SECRET)?;
                    state.expect_attr("example_file.wo", "lines.0.mode", "append")?;
                    state.expect_attr("example_file.wo", "lines.0.length", 4)?;
                    state.expect_attr("example_file.wo", "lines.1.length", 4)?;
                    if state
                        .attr("example_file.wo", "token_wo")
                        .is_some_and(|v| !v.is_null())
                    {
                        return Err("token_wo is stored in state".into());
                    }
                    match read(&r1, "wo.txt.token").as_deref() {
                        Some(WRITE_ONLY_SECRET) => {}
                        other => {
                            return Err(format!(
                                "the write-only value reached the file as {other:?}"
                            ))
                        }
                    }
                    if read(&r1, "wo.txt").as_deref() != Some("head\none\nTWO\n") {
                        return Err(format!("wo.txt is {:?}", read(&r1, "wo.txt")));
                    }
                    let token = read(&r1, "eph.txt.token").ok_or("no ephemeral token written")?;
                    if token.len() != 24 {
                        return Err(format!("ephemeral token of {} characters", token.len()));
                    }
                    absent("state", state.raw(), &token)
                }),
        )
        .step(
            // Bumping the version companion is the way to send the write-only value again.
            Step::config(write_only_config(&root, 2)).plan_check(|plan| {
                let change = plan.change("example_file.wo").ok_or("no change")?;
                if change.actions != ["update"] {
                    return Err(format!("expected an update, got {:?}", change.actions));
                }
                let changed = change.changed_attributes();
                if !changed.contains("token_wo_version") || changed.contains("token_wo") {
                    return Err(format!("changed attributes {changed:?}"));
                }
                Ok(())
            }),
        )
        .check_destroy(move |_| match read(&r2, "wo.txt.token") {
            None => Ok(()),
            Some(_) => Err("the token file outlived destroy".to_string()),
        })
        .run()
        .await;
    assert!(report.files_scanned > 0);
}

/// Terraform 1.0.3 knows no write-only attributes: setting one must fail at validate with a
/// message naming it and the version needed, before anything is stored.
#[tokio::test]
async fn write_only_attributes_are_refused_clearly_by_terraform_1_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().display().to_string();
    let old = acceptance::harness::repo_root().join(".tools/bin/terraform");
    let config = format!(
        r#"
terraform {{
  required_providers {{
    example = {{ source = "tfplugin/example" }}
  }}
}}

provider "example" {{
  root = "{root}"
}}

resource "example_file" "wo" {{
  path     = "wo.txt"
  content  = "x"
  token_wo = "not-for-terraform-1.0"
}}
"#
    );
    let plain = config.replace("token_wo = \"not-for-terraform-1.0\"", "");
    case_for(example_provider())
        .terraform(acceptance::harness::TerraformVersion::Binary(old))
        .step(
            Step::config(config).plan_only().expect_error(
                Regex::new(
                    r"(?s)Write-only attribute needs Terraform 1\.11.*token_wo is write-only",
                )
                .expect("regex"),
            ),
        )
        // Without it the same resource applies: only the write-only value was refused.
        .step(Step::config(plain))
        .run()
        .await;
}
