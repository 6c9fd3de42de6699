//! Ephemeral `treeherder_database_url` through real Terraform 1.11.4, against an in-process
//! sandbox (one per test: its apps' DATABASE_URL are set here, touching no other test) and
//! the world's TLS MariaDB: every part of the URL is read and percent-decoded (checked by the
//! configuration's preconditions against hashes, so no secret is written in it), and the
//! app's password, handed to a write-only attribute, is the one a new account logs in with.
//! No password reaches the state, the saved plan or the logs.

mod mysql_common;

use acceptance::harness::treeherder_case;
use acceptance::harness::{SandboxWorld, Service, Step, World, PROVIDER_CONFIG};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::opts;
use regex::Regex;
use reqwest::Method;
use serde_json::{json, Value};

const API_KEY: &str = "database-url-acceptance-key-5d21c7";
/// Decodes to `DECODED`: `%`, `/` and `:` escaped as a URL must.
const ENCODED: &str = "db-p%25ss%2Fw%3Ard-Qx7v3f9a2c";
const DECODED: &str = "db-p%ss/w:rd-Qx7v3f9a2c";
/// A password the account rules accept, for the account fed from the stage app's URL.
const STAGE_PASSWORD: &str = "StageDbUrlPassword-7c41e9ab0d2f5a8e31b6";

/// SHA-256 in hex, by `sha256sum` (the preconditions compare with Terraform's `sha256`).
fn sha256(text: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("sha256sum output");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn set_database_url(world: &SandboxWorld, app: &str, url: &str) {
    world
        .handle()
        .heroku(
            Method::PATCH,
            &format!("/apps/{app}/config-vars"),
            Some(json!({ "DATABASE_URL": url })),
        )
        .await;
}

async fn login(mysql: &World, user: &str, pass: &str) -> Result<(), String> {
    let mut conn = Conn::new(opts(mysql, user, pass, true))
        .await
        .map_err(|e| format!("{user} cannot log in: {e}"))?;
    let _: Vec<i64> = conn
        .query("SELECT id FROM treeherder.auth_user")
        .await
        .map_err(|e| e.to_string())?;
    conn.disconnect().await.ok();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_url_parts_are_read_decoded_and_handed_to_a_write_only_password() {
    let mysql = World::require(&[Service::Mysql]);
    let sandbox = SandboxWorld::start(API_KEY).await;
    let endpoint = mysql
        .get("TREEHERDER_MYSQL_ENDPOINT")
        .expect("endpoint")
        .to_string();
    let (host, port) = endpoint.rsplit_once(':').expect("host:port");
    let user = format!("dburl_{}", std::process::id());
    set_database_url(
        &sandbox,
        "treeherder-prototype",
        &format!("mysql://th%40admin:{ENCODED}@db.prototype.example:3307/tree%2Dherder?ssl=1"),
    )
    .await;
    // Stage's URL points at the world's MariaDB, as Heroku's points at RDS.
    set_database_url(
        &sandbox,
        "treeherder-stage",
        &format!("mysql://{user}:{STAGE_PASSWORD}@{host}:{port}/treeherder"),
    )
    .await;

    let config = format!(
        r#"{PROVIDER_CONFIG}
ephemeral "treeherder_database_url" "prototype" {{
  app = "treeherder-prototype"
}}
ephemeral "treeherder_database_url" "stage" {{
  app = "treeherder-stage"
}}
locals {{
  p = ephemeral.treeherder_database_url.prototype
  s = ephemeral.treeherder_database_url.stage
}}
resource "terraform_data" "checks" {{
  lifecycle {{
    precondition {{
      condition     = local.p.host == "db.prototype.example" && local.p.port == 3307
      error_message = "host and port"
    }}
    precondition {{
      condition     = local.p.username == "th@admin" && local.p.database == "tree-herder"
      error_message = "user name and database, decoded"
    }}
    precondition {{
      condition     = sha256(local.p.password) == "{decoded}"
      error_message = "the password, decoded"
    }}
    precondition {{
      condition     = sha256(local.p.url) == "{url}"
      error_message = "the whole URL, as the app holds it"
    }}
    precondition {{
      condition     = local.s.port == {port} && local.s.username == "{user}"
      error_message = "stage's parts"
    }}
  }}
}}
resource "treeherder_readonly_user" "from_url" {{
  name                = "{user}"
  password_wo         = local.s.password
  password_wo_version = 1
}}
"#,
        decoded = sha256(DECODED),
        url = sha256(&format!(
            "mysql://th%40admin:{ENCODED}@db.prototype.example:3307/tree%2Dherder?ssl=1"
        )),
    );

    let mut env = mysql.env().clone();
    env.extend(sandbox.env());
    let (check_world, check_user) = (World::require(&[Service::Mysql]), user.clone());
    let check_world = std::sync::Arc::new(check_world);
    let report = treeherder_case()
        .terraform_latest()
        .envs(env)
        .sensitive(DECODED)
        .sensitive(ENCODED)
        .sensitive(STAGE_PASSWORD)
        .step(
            Step::config(config)
                .plan_check(|plan| {
                    for secret in [DECODED, ENCODED, STAGE_PASSWORD] {
                        if plan.raw().to_string().contains(secret) {
                            return Err("a password is in the saved plan".to_string());
                        }
                    }
                    Ok(())
                })
                .check_async(move |state| {
                    let (world, user) = (check_world.clone(), check_user.clone());
                    async move {
                        let text = state.raw().to_string();
                        if [DECODED, ENCODED, STAGE_PASSWORD]
                            .iter()
                            .any(|s| text.contains(s))
                        {
                            return Err("a password is in the state".to_string());
                        }
                        let checks: &Value = &state.raw()["checks"];
                        if checks[0]["status"] != "pass" {
                            return Err(format!("preconditions: {checks}"));
                        }
                        login(&world, &user, STAGE_PASSWORD).await
                    }
                }),
        )
        .run()
        .await;
    assert!(report.files_scanned > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unusable_database_url_is_an_error_at_app() {
    let sandbox = SandboxWorld::start(API_KEY).await;
    set_database_url(&sandbox, "treeherder-prod", "postgres://u:SECRETVALUE1@h/d").await;
    sandbox
        .handle()
        .heroku(
            Method::PATCH,
            "/apps/treeherder-prototype/config-vars",
            Some(json!({ "DATABASE_URL": null })),
        )
        .await;
    let config = |app: &str| {
        format!(
            "{PROVIDER_CONFIG}\nephemeral \"treeherder_database_url\" \"x\" {{\n  app = \"{app}\"\n}}\nresource \"terraform_data\" \"x\" {{\n  lifecycle {{\n    precondition {{\n      condition     = ephemeral.treeherder_database_url.x.port > 0\n      error_message = \"port\"\n    }}\n  }}\n}}\n"
        )
    };
    treeherder_case()
        .terraform_latest()
        .envs(sandbox.env())
        .sensitive("SECRETVALUE1")
        .step(
            Step::config(config("treeherder-prod"))
                .plan_only()
                .expect_error(
                    Regex::new(r"(?s)Unusable DATABASE_URL.*scheme is\s+\x22postgres\x22")
                        .expect("regex"),
                ),
        )
        .step(
            Step::config(config("treeherder-prototype"))
                .plan_only()
                .expect_error(
                    Regex::new(r"(?s)No DATABASE_URL.*\x22treeherder-prototype\x22\s+has\s+no")
                        .expect("regex"),
                ),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}
