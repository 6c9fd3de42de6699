//! Provider-defined functions through real Terraform (≥ 1.8: these tests always use the recent
//! Terraform, `TREEHERDER_TERRAFORM_LATEST`): `database_url` and `readonly_grants` in
//! configurations and in `terraform console`, sensitivity carried from arguments to results,
//! and errors shown under the argument at fault.
//!
//! Expectations are written out from the runbook (the URL shape, the grant list), never taken
//! from the provider.

use std::process::Stdio;

use acceptance::harness::{ProviderUnderTest, Step, Terraform, TestCase, PROVIDER_CONFIG};
use regex::Regex;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "sandbox-function-password-0123456789";
/// A password written in plain text in the configuration: not a secret of the test.
const PLAIN: &str = "plain-function-password-0123456789ab";

fn config(body: &str) -> String {
    format!("{PROVIDER_CONFIG}\n{body}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_compose_urls_and_grants_and_keep_sensitive_inputs_sensitive() {
    let body = format!(
        r#"
variable "admin_password" {{
  type      = string
  sensitive = true
  default   = "{PASSWORD}"
}}

output "built" {{
  sensitive = true
  value = provider::treeherder::database_url(null, {{
    username = "th_admin"
    password = var.admin_password
    host     = "treeherder-tmp.abc.us-east-1.rds.amazonaws.com"
    database = "treeherder"
  }})
}}

output "moved" {{
  value = provider::treeherder::database_url("mysql://th_admin:{PLAIN}@old.example:3307/treeherder?ssl=1", {{
    host = "new.example"
  }})
}}

output "grants" {{
  value = provider::treeherder::readonly_grants("redash", "%", "treeherder", ["job", "django_migrations", "auth_user", "auth_group", "performance_datum"])
}}
"#
    );
    let expected_grants = json!([
        "GRANT SELECT ON `treeherder`.`job` TO 'redash'@'%'",
        "GRANT SELECT ON `treeherder`.`performance_datum` TO 'redash'@'%'",
        "GRANT SELECT (`email`, `id`, `username`) ON `treeherder`.`auth_user` TO 'redash'@'%'",
    ]);
    TestCase::new(ProviderUnderTest::treeherder())
        .terraform_latest()
        .step(Step::config(config(&body)).check(move |state| {
            let built = state.output("built");
            let expected = format!(
                "mysql://th_admin:{PASSWORD}@treeherder-tmp.abc.us-east-1.rds.amazonaws.com/treeherder"
            );
            if built != Some(Value::String(expected)) {
                return Err("output built is not the runbook's URL".to_string());
            }
            let moved = state.output("moved");
            let expected = format!("mysql://th_admin:{PLAIN}@new.example:3307/treeherder?ssl=1");
            if moved != Some(Value::String(expected)) {
                return Err(format!("output moved: {moved:?}"));
            }
            let grants = state.output("grants").unwrap_or(Value::Null);
            let mut got: Vec<String> = serde_json::from_value(grants.clone())
                .map_err(|e| format!("grants {grants}: {e}"))?;
            let mut want: Vec<String> = serde_json::from_value(expected_grants.clone())
                .map_err(|e| e.to_string())?;
            got.sort();
            want.sort();
            if got != want {
                return Err(format!("grants: got {got:?}, want {want:?}"));
            }
            Ok(())
        }))
        // Terraform carries the password's mark to the result: an output without
        // `sensitive = true` is refused.
        .step(
            Step::config(config(&format!(
                "{}\noutput \"leak\" {{\n  value = provider::treeherder::database_url(null, {{ username = \"u\", password = var.admin_password, host = \"h\", database = \"d\" }})\n}}\n",
                body
            )))
            .expect_error(Regex::new(r"(?s)Output refers to sensitive values").expect("regex")),
        )
        // Back to a valid configuration, which the harness destroys.
        .step(Step::config(config(&body)))
        .sensitive(PASSWORD)
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_refused_at_their_argument() {
    for (call, pattern) in [
        (
            r#"provider::treeherder::database_url(null, { username = "u", password = "has%percent-0123456789abcdefghij", host = "h", database = "d" })"#,
            r#"(?s)Invalid\s+value\s+for\s+"parts"\s+parameter.*parts:\s+password:\s+.*percent\s+sign"#,
        ),
        (
            r#"provider::treeherder::database_url("postgres://u:p@h/d", {})"#,
            r#"(?s)Invalid\s+value\s+for\s+"url"\s+parameter.*url:\s+the\s+URL\s+to\s+change\s+is\s+unusable:\s+its\s+scheme\s+is"#,
        ),
        (
            r#"provider::treeherder::database_url(null, { usrname = "u" })"#,
            r#"(?s)Invalid\s+value\s+for\s+"parts"\s+parameter.*unknown\s+key\s+"usrname";\s+accepted:\s+username,\s+password,\s+host,\s+port,\s+database"#,
        ),
        (
            r#"provider::treeherder::readonly_grants("redash", "%", "treeherder", ["${join("", [for i in range(70) : "t"])}"])"#,
            r#"(?s)Invalid\s+value\s+for\s+"tables"\s+parameter.*tables:\s+"#,
        ),
    ] {
        TestCase::new(ProviderUnderTest::treeherder())
            .terraform_latest()
            .step(
                Step::config(config(&format!("output \"x\" {{\n  value = {call}\n}}\n")))
                    .expect_error(Regex::new(pattern).expect("regex")),
            )
            .step(Step::config(PROVIDER_CONFIG))
            .run()
            .await;
    }
}

/// `terraform console` evaluates the functions in an initialised directory, as a user trying
/// them out would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_console_evaluates_the_functions() {
    let tf = Terraform::latest(
        &[ProviderUnderTest::treeherder()],
        Default::default(),
        Vec::new(),
    )
    .expect("terraform environment");
    let ws = tf.workspace("console").expect("workspace");
    ws.write_config(PROVIDER_CONFIG).expect("config");
    ws.init().await.expect("init");
    let mut console = tokio::process::Command::new(tf.binary())
        .args(["console", "-no-color"])
        .current_dir(ws.dir())
        .env("TF_CLI_CONFIG_FILE", tf.cli_config())
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("terraform console starts");
    let mut stdin = console.stdin.take().expect("stdin");
    stdin
        .write_all(
            // Piped input is read as one expression: both calls in one tuple.
            b"[provider::treeherder::readonly_grants(\"redash\", \"%\", \"treeherder\", [\"job\"]), \
              provider::treeherder::database_url(\"mysql://u:abcdefghijklmnopqrstuvwxyz0123@a/d\", { database = \"treeherder\" })]\n",
        )
        .await
        .expect("expressions written");
    drop(stdin);
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        console.wait_with_output(),
    )
    .await
    .expect("console ends at end of input")
    .expect("console output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "console failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("\"GRANT SELECT ON `treeherder`.`job` TO 'redash'@'%'\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"mysql://u:abcdefghijklmnopqrstuvwxyz0123@a/treeherder\""),
        "{stdout}"
    );
}
