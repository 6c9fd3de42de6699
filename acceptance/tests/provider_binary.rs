//! The provider binary as users meet it: run by hand, `--version`, and `schema`, whose output
//! must be what `terraform providers schema -json` (Terraform 1.0.3) prints for it.

use std::collections::BTreeMap;
use std::process::Command;

use acceptance::harness::ProviderUnderTest;
use acceptance::harness::{terraform_for, treeherder_provider};

fn provider() -> ProviderUnderTest {
    let provider = treeherder_provider();
    assert!(
        provider.binary.exists(),
        "{} is missing: run `cargo build -p terraform-provider-treeherder`",
        provider.binary.display()
    );
    provider
}

#[test]
fn run_by_hand_it_explains_itself_and_exits_1() {
    let output = Command::new(provider().binary)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run the provider");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stdout.is_empty(),
        "nothing may go to stdout, where Terraform expects the handshake"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Terraform provider plugin"), "{stderr}");
    assert!(stderr.contains("not meant to be run directly"), "{stderr}");
}

#[test]
fn version_flag_prints_the_version() {
    let output = Command::new(provider().binary)
        .arg("--version")
        .output()
        .expect("run the provider");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!(
            "terraform-provider-treeherder {}",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn protocol_5_only_is_refused_clearly() {
    let output = Command::new(provider().binary)
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .output()
        .expect("run the provider");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains('6') && stderr.contains('5'),
        "the error names what was offered and what is needed: {stderr}"
    );
}

#[tokio::test]
async fn schema_command_matches_terraform_providers_schema_json() {
    fn strip_key(value: &mut serde_json::Value, key: &str) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove(key);
                map.values_mut().for_each(|v| strip_key(v, key));
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| strip_key(v, key)),
            _ => {}
        }
    }

    let provider = provider();
    let ours = Command::new(&provider.binary)
        .arg("schema")
        .output()
        .expect("run schema");
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let ours: serde_json::Value = serde_json::from_slice(&ours.stdout).expect("schema JSON");

    let tf = terraform_for(std::slice::from_ref(&provider), BTreeMap::new(), Vec::new())
        .expect("terraform");
    let work = tf.workspace("schema").expect("workspace");
    work.write_config(
        r#"
terraform {
  required_providers {
    treeherder = { source = "treeherder/treeherder" }
  }
}
"#,
    )
    .expect("config");
    let init = work.init().await.expect("init");
    assert!(init.success(), "{}", init.stderr);
    let theirs = work
        .run(&["providers", "schema", "-json"])
        .await
        .expect("providers schema");
    assert!(theirs.success(), "{}", theirs.stderr);
    let theirs: serde_json::Value = serde_json::from_str(&theirs.stdout).expect("terraform's JSON");

    // What older Terraform does not know it does not print: ephemeral resources (< 1.10)
    // and the write-only flag (< 1.11).
    let version = acceptance::harness::terraform_version(tf.binary()).expect("terraform version");
    let mut ours = ours;
    for schemas in ours["provider_schemas"]
        .as_object_mut()
        .into_iter()
        .flat_map(|providers| providers.values_mut())
    {
        if version < (1, 10, 0) {
            if let Some(provider) = schemas.as_object_mut() {
                provider.remove("ephemeral_resource_schemas");
            }
        }
        if version < (1, 11, 0) {
            strip_key(schemas, "write_only");
        }
    }

    // Terraform ≥ 1.8 also lists the provider's functions, which the `schema` command leaves
    // to the generated docs (docs/functions/); the functions have their own tests.
    let mut theirs = theirs;
    for schemas in theirs["provider_schemas"]
        .as_object_mut()
        .into_iter()
        .flat_map(|providers| providers.values_mut())
    {
        if let Some(provider) = schemas.as_object_mut() {
            provider.remove("functions");
        }
    }

    // format_version differs between Terraform releases; the schemas themselves must match.
    assert_eq!(
        ours["provider_schemas"], theirs["provider_schemas"],
        "`terraform-provider-treeherder schema` differs from `terraform providers schema -json`"
    );
}

/// A `kill -9` of Terraform never asks the provider to stop: the orphaned provider must notice
/// its parent is gone and exit instead of listening on.
#[test]
fn the_provider_exits_when_the_process_that_started_it_is_killed() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};

    // `sh` stands in for Terraform: it starts the provider, prints its pid and waits.
    let mut parent = Command::new("sh")
        .arg("-c")
        .arg("\"$0\" & echo \"pid=$!\"; wait")
        .arg(provider().binary)
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start sh");
    let stdout = parent.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut pid = None;
    let mut handshake = false;
    while pid.is_none() || !handshake {
        let line = lines.next().expect("a line").expect("readable");
        match line.strip_prefix("pid=") {
            Some(p) => pid = Some(p.trim().to_string()),
            None => handshake |= line.starts_with("1|6|tcp|"),
        }
    }
    let pid = pid.expect("pid");
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            // A zombie waits for its new parent to reap it: it has exited.
            .is_some_and(|stat| {
                stat.rsplit(')')
                    .next()
                    .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
            })
    };
    assert!(alive(&pid), "the provider runs while its parent does");

    parent.kill().expect("kill -9 the parent");
    parent.wait().expect("reap the parent");
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(&pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(&pid) {
        let _ = Command::new("kill").arg("-9").arg(&pid).status();
        panic!("the orphaned provider {pid} was still running 10 s after its parent died");
    }
}
