//! The runbook's "Resetting dev/stage to a recent production snapshot" as one reviewed apply,
//! with real Terraform (≥ 1.11) against moto, the world's MariaDB and a sandbox of its own:
//! restore the stage instance from treeherder-prod's latest snapshot, make MySQL accept the
//! password of the app's `DATABASE_URL`, deploy `master` (build and release phase), and clear
//! the cache; the next plan is empty, and a second reset is one changed trigger.
//!
//! The chain: moto gives the restored instance a real-looking RDS endpoint, which the
//! provider's `mysql.tunnels` maps to the world's MariaDB (whose certificate names moto's
//! endpoints), so nothing connects to a name that could resolve off this machine. moto does
//! not run MySQL: the restored "inherited production password" is played by a MariaDB account
//! of the test's own whose password is set back to the old one before each reset.

mod mysql_common;

use acceptance::harness::treeherder_case;
use acceptance::harness::{MotoControl, Plan, Service, Step, World};
use acceptance::sandbox::{start, RunningSandbox, SandboxConfig, DEFAULT_API_KEY};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::{admin, opts};
use serde_json::{json, Value};

/// What the snapshot brought along: production's password, which DATABASE_URL does not hold.
const INHERITED_PASSWORD: &str = "production-password-from-the-snapshot-0";
/// The password in treeherder-stage's DATABASE_URL.
const URL_PASSWORD: &str = "stage-password-in-database-url-012345678";

struct Names {
    identifier: String,
    endpoint: String,
    user: String,
}

fn names() -> Names {
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let identifier = format!("treeherder-stage-{suffix}");
    // moto's endpoint names, which the world's MariaDB certificate covers.
    let endpoint = format!("{identifier}.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306");
    Names {
        identifier,
        endpoint,
        user: format!("th_reset_{suffix}"),
    }
}

/// Gives the test's account the password a restore would bring along.
async fn inherit_production_password(world: &World, user: &str) -> Result<(), String> {
    let mut conn = admin(world).await;
    conn.query_drop(format!(
        "CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{INHERITED_PASSWORD}'"
    ))
    .await
    .map_err(|e| e.to_string())?;
    conn.query_drop(format!(
        "ALTER USER '{user}'@'%' IDENTIFIED BY '{INHERITED_PASSWORD}'"
    ))
    .await
    .map_err(|e| e.to_string())?;
    conn.disconnect().await.map_err(|e| e.to_string())
}

/// Whether DATABASE_URL's password logs in to the account over TLS.
async fn url_password_logs_in(world: &World, user: &str) -> Result<(), String> {
    let mut conn = Conn::new(opts(world, user, URL_PASSWORD, true))
        .await
        .map_err(|e| format!("DATABASE_URL's password does not log in: {e}"))?;
    let cipher: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .map_err(|e| e.to_string())?;
    let _ = conn.disconnect().await;
    match cipher {
        Some((_, c)) if !c.is_empty() => Ok(()),
        _ => Err("the login was not encrypted".into()),
    }
}

/// A sandbox whose treeherder-stage `DATABASE_URL` points at the restored instance, and whose
/// Deploy tab links it to mozilla/treeherder (`master`).
async fn sandbox(names: &Names, dir: &std::path::Path) -> RunningSandbox {
    let seed = start(SandboxConfig::default())
        .await
        .expect("the sandbox starts");
    let mut state: Value = reqwest::get(format!("{}/state", seed.control_url))
        .await
        .expect("control state")
        .json()
        .await
        .expect("state JSON");
    drop(seed);
    let apps = state["apps"].as_array_mut().expect("apps");
    let id_of = |apps: &[Value], name: &str| {
        apps.iter()
            .find(|a| a["name"] == name)
            .map(|a| a["id"].clone())
            .expect("a seeded app")
    };
    let stage = id_of(apps, "treeherder-stage");
    for app in apps.iter_mut().filter(|a| a["name"] == "treeherder-stage") {
        app["config_vars"]["DATABASE_URL"] = json!(format!(
            "mysql://{}:{URL_PASSWORD}@{}/treeherder",
            names.user, names.endpoint
        ));
    }
    state["github"]["app_links"]
        .as_array_mut()
        .expect("app links")
        .push(json!({
            "id": "7e4e0000-000c-4000-8000-0000000000bb", "app_id": stage,
            "repo": "mozilla/treeherder", "repo_id": 19977831, "branch": "master",
            "auto_deploy": true, "wait_for_ci": false,
            "created_at": "2021-03-01T12:00:00Z", "updated_at": "2021-03-01T12:00:00Z"
        }));
    let state_file = dir.join("sandbox-state.json");
    std::fs::write(&state_file, serde_json::to_vec(&state).expect("JSON")).expect("state file");
    start(SandboxConfig {
        state_file: Some(state_file),
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts from the file")
}

fn config(names: &Names, world: &World, security_group: &str, requested: &str) -> String {
    let local = world.get("TREEHERDER_MYSQL_ENDPOINT").expect("endpoint");
    format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}

provider "treeherder" {{
  aws {{
    poll_interval = "100ms"
  }}
  mysql {{
    endpoint = "{endpoint}"
    tunnels  = {{ "{endpoint}" = "{local}" }}
  }}
}}

resource "treeherder_rds_snapshot_instance" "stage" {{
  identifier             = "{identifier}"
  source_instance        = "treeherder-prod"
  instance_class         = "db.m4.xlarge"
  db_subnet_group_name   = "treeherder-dbgrp"
  publicly_accessible    = true
  parameter_group_name   = "treeherder-mysql57"
  vpc_security_group_ids = ["{security_group}"]
  reset_triggers         = {{ requested = "{requested}" }}
  skip_final_snapshot    = true
}}

# The account in DATABASE_URL gets DATABASE_URL's password back (sync: no password given).
resource "treeherder_database_password" "stage" {{
  app      = "treeherder-stage"
  endpoint = treeherder_rds_snapshot_instance.stage.endpoint

  lifecycle {{
    replace_triggered_by = [treeherder_rds_snapshot_instance.stage.reset_triggers]
  }}
}}

resource "treeherder_deployment" "deploy" {{
  app        = "treeherder-stage"
  ref        = "master"
  triggers   = treeherder_rds_snapshot_instance.stage.reset_triggers
  depends_on = [treeherder_database_password.stage]
}}

resource "treeherder_one_off_dyno" "clear_cache" {{
  app        = "treeherder-stage"
  command    = "./manage.py clear_cache"
  triggers   = treeherder_rds_snapshot_instance.stage.reset_triggers
  depends_on = [treeherder_deployment.deploy]
}}
"#,
        endpoint = names.endpoint,
        identifier = names.identifier,
    )
}

/// How many deployments to stage (builds whose release phase succeeded) and clear_cache runs
/// on stage the sandbox has seen.
async fn sandbox_counts(control_url: &str) -> Result<(usize, usize), String> {
    let state: Value = reqwest::get(format!("{control_url}/state"))
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let stage_app = state["apps"]
        .as_array()
        .and_then(|apps| apps.iter().find(|a| a["name"] == "treeherder-stage"))
        .ok_or("no treeherder-stage")?;
    let stage = stage_app["id"].clone();
    let released = |id: &Value| {
        stage_app["releases"].as_array().is_some_and(|r| {
            r.iter()
                .any(|r| &r["id"] == id && r["status"] == "succeeded")
        })
    };
    let deployments = stage_app["builds"].as_array().map_or(0, |b| {
        b.iter()
            .filter(|b| b["status"] == "succeeded" && released(&b["release_id"]))
            .count()
    });
    let runs = state["one_off_runs"].as_array().map_or(0, |runs| {
        runs.iter()
            .filter(|r| r["app_id"] == stage && r["command"] == "./manage.py clear_cache")
            .count()
    });
    Ok((deployments, runs))
}

fn every_step_replaced(plan: &Plan) -> Result<(), String> {
    for address in [
        "treeherder_rds_snapshot_instance.stage",
        "treeherder_database_password.stage",
        "treeherder_deployment.deploy",
        "treeherder_one_off_dyno.clear_cache",
    ] {
        let change = plan
            .change(address)
            .ok_or(format!("{address}: no change"))?;
        if !(change.actions.contains(&"delete".to_string())
            && change.actions.contains(&"create".to_string()))
        {
            return Err(format!(
                "{address}: {:?}, not a replacement",
                change.actions
            ));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_apply_restores_syncs_the_password_deploys_and_clears_the_cache() {
    let world = World::require(&[Service::Moto, Service::Mysql]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let security_group = seed["security_group_id"]
        .as_str()
        .expect("an SG id")
        .to_string();
    let latest = seed["latest_automated"]
        .as_str()
        .expect("latest")
        .to_string();
    let names = names();
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = sandbox(&names, dir.path()).await;
    inherit_production_password(&world, &names.user)
        .await
        .expect("the account starts with the inherited password");
    assert!(url_password_logs_in(&world, &names.user).await.is_err());

    let world = std::sync::Arc::new(world);
    let control = sandbox.control_url.clone();
    let after = |resets: usize| {
        let world = world.clone();
        let control = control.clone();
        let user = names.user.clone();
        let latest = latest.clone();
        move |state: acceptance::harness::State| {
            let world = world.clone();
            let control = control.clone();
            let user = user.clone();
            let latest = latest.clone();
            async move {
                state.expect_attr(
                    "treeherder_rds_snapshot_instance.stage",
                    "restored_snapshot_id",
                    latest.as_str(),
                )?;
                state.expect_attr("treeherder_database_password.stage", "in_sync", true)?;
                url_password_logs_in(&world, &user).await?;
                let (deployments, runs) = sandbox_counts(&control).await?;
                if (deployments, runs) != (resets, resets) {
                    return Err(format!(
                        "{deployments} deployments and {runs} clear_cache runs after {resets} resets"
                    ));
                }
                Ok::<(), String>(())
            }
        }
    };
    let second_reset = {
        let world = world.clone();
        let user = names.user.clone();
        Step::config(config(&names, &world, &security_group, "2026-12-03"))
            .pre_step_async(move || {
                let world = world.clone();
                let user = user.clone();
                async move { inherit_production_password(&world, &user).await }
            })
            .plan_check(every_step_replaced)
            .check_async(after(2))
    };
    treeherder_case()
        .terraform_latest()
        .envs(world.env().clone())
        .env("HEROKU_API_URL", &sandbox.heroku_url)
        .env("HEROKU_SCHEDULER_URL", &sandbox.scheduler_url)
        .env(
            "HEROKU_GITHUB_INTEGRATION_URL",
            &sandbox.github_integration_url,
        )
        .env("HEROKU_GITHUB_API_URL", &sandbox.github_api_url)
        .env("HEROKU_API_KEY", DEFAULT_API_KEY)
        .sensitive(URL_PASSWORD)
        .sensitive(INHERITED_PASSWORD)
        .step(
            Step::config(config(&names, &world, &security_group, "2026-12-01"))
                .check_async(after(1)),
        )
        .step(second_reset)
        .run()
        .await;
    let mut conn = admin(&world).await;
    let _ = conn
        .query_drop(format!("DROP USER IF EXISTS '{}'@'%'", names.user))
        .await;
}
