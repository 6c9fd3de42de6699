//! The README's "Adopting an existing setup", run as written from `examples/adopt/` against a
//! world set up "as production runs today": Scheduler jobs made in the dashboard at several
//! frequencies and sizes, collaborators invited with different permissions, a formation
//! scaled by hand, add-on config vars; read-only accounts made with the runbook's SQL and one
//! with more than SELECT (not adoptable); a temporary RDS instance restored by hand in moto.
//!
//! The plan shows only imports, the apply writes nothing anywhere (the sandbox's request log,
//! MariaDB's password hashes and grants, moto's instance, compared before and after), the next
//! plan is empty, and a table created afterwards plans one GRANT per adopted account and no
//! password change.
//!
//! Import blocks and `-generate-config-out` need Terraform ≥ 1.5: the procedure runs with the
//! recent Terraform (`TREEHERDER_TERRAFORM_LATEST`), in the run of the suite whose
//! `TREEHERDER_TERRAFORM` is ≥ 1.5; the run with 1.0.3 skips it, saying so.

use std::collections::BTreeMap;
use std::path::Path;

use acceptance::harness::{
    repo_root, terraform_binary, MotoControl, SandboxWorld, Service, Workspace, World,
};
use acceptance::harness::{terraform_latest_for, treeherder_provider};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts};
use reqwest::Method;
use serde_json::{json, Value};

const API_KEY: &str = "adopt-acceptance-key-58e1a7c2";
const ACCOUNT_PASSWORD: &str = "Adopt-runbook-account-password-7d3Kq9";

/// The documented commands, from the comment heading `examples/adopt/main.tf`.
fn documented_procedure() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("examples/adopt/main.tf"))
        .expect("examples/adopt/main.tf");
    let step = regex::Regex::new(r"^#\s+(?:\d\.\s+)?(terraform .*)$").expect("regex");
    text.lines()
        .filter_map(|line| step.captures(line).map(|c| c[1].trim().to_string()))
        .collect()
}

/// Runs one documented line: commands joined by `&&`, each maybe redirected (`> file`).
/// Returns the output of the last command.
async fn run_line(ws: &Workspace<'_>, line: &str) -> Result<String, String> {
    let mut last = String::new();
    for command in line.split(" && ") {
        let (command, target) = match command.split_once(" > ") {
            Some((c, file)) => (c, Some(file.trim())),
            None => (command, None),
        };
        let mut args: Vec<&str> = command.split_whitespace().collect();
        if args.first() != Some(&"terraform") {
            return Err(format!("not a terraform command: {command}"));
        }
        args.remove(0);
        if args.first() != Some(&"output") {
            args.push("-no-color");
        }
        let out = ws.run(&args).await.map_err(|e| e.to_string())?;
        if !out.success() {
            return Err(format!(
                "`{command}` failed:\n{}\n{}",
                out.stdout, out.stderr
            ));
        }
        if let Some(file) = target {
            std::fs::write(ws.dir().join(file), &out.stdout).map_err(|e| e.to_string())?;
        }
        last = out.stdout;
    }
    Ok(last)
}

/// (major, minor) of `TREEHERDER_TERRAFORM`, the Terraform this run of the suite is for.
async fn suite_terraform_version() -> (u64, u64) {
    let binary = terraform_binary().expect("TREEHERDER_TERRAFORM");
    let out = tokio::process::Command::new(&binary)
        .args(["version", "-json"])
        .output()
        .await
        .expect("terraform version");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let version = json["terraform_version"].as_str().unwrap_or("0.0");
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn mysql_opts(world: &World) -> OptsBuilder {
    let endpoint = world.get("TREEHERDER_MYSQL_ENDPOINT").unwrap_or_default();
    let (host, port) = endpoint.rsplit_once(':').unwrap_or((endpoint, "3306"));
    let ca = world
        .get("TREEHERDER_MYSQL_TLS_CA_FILE")
        .unwrap_or_default();
    OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(port.parse().unwrap_or(3306))
        .user(world.get("TREEHERDER_MYSQL_USERNAME"))
        .pass(world.get("TREEHERDER_MYSQL_PASSWORD"))
        .prefer_socket(false)
        .ssl_opts(Some(
            SslOpts::default()
                .with_root_certs(vec![std::path::PathBuf::from(ca).into()])
                .with_disable_built_in_roots(true),
        ))
}

async fn admin_sql(world: &World, statements: &[String]) -> Result<(), String> {
    let mut conn = Conn::new(mysql_opts(world))
        .await
        .map_err(|e| format!("admin login: {e}"))?;
    for sql in statements {
        conn.query_drop(sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }
    conn.disconnect().await.ok();
    Ok(())
}

/// Every password hash and grant of the accounts named `<prefix>…`.
async fn accounts_snapshot(world: &World, prefix: &str) -> Result<Vec<String>, String> {
    let mut conn = Conn::new(mysql_opts(world))
        .await
        .map_err(|e| format!("admin login: {e}"))?;
    let users: Vec<(String, String, String)> = conn
        .exec(
            "SELECT User, Host, authentication_string FROM mysql.user \
             WHERE User LIKE CONCAT(?, '%') ORDER BY User, Host",
            (prefix,),
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (user, host, hash) in users {
        out.push(format!("{user}@{host} {hash}"));
        let grants: Vec<String> = conn
            .query(format!("SHOW GRANTS FOR '{user}'@'{host}'"))
            .await
            .map_err(|e| e.to_string())?;
        out.extend(grants);
    }
    conn.disconnect().await.ok();
    Ok(out)
}

/// The seed's Terraform-free additions, as operators made them: the dashboard's Scheduler
/// jobs, invitations, a hand scaling.
async fn seed_heroku(sandbox: &SandboxWorld) {
    let control = sandbox.handle();
    let prod_id = control.app("treeherder-prod").await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let stage_id = control.app("treeherder-stage").await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (app, command, every, at, size) in [
        (
            &prod_id,
            "./manage.py update_changelog",
            10,
            0,
            "Performance-M",
        ),
        (
            &prod_id,
            "./manage.py cache_failure_history",
            1440,
            90,
            "Standard-2X",
        ),
        (&stage_id, "./manage.py perf_sheriff", 60, 30, "Standard-1X"),
    ] {
        control
            .scheduler(
                Method::POST,
                &format!("/apps/{app}/jobs"),
                Some(json!({ "data": { "type": "jobs", "attributes": {
                    "command": command, "every": every, "at": at, "dyno-size": size,
                } } })),
            )
            .await;
    }
    for (app, email, permissions) in [
        ("treeherder-stage", "alice@mozilla.example", json!(["view"])),
        (
            "treeherder-prod",
            "bob@mozilla.example",
            json!(["view", "deploy", "operate"]),
        ),
    ] {
        control
            .heroku(
                Method::POST,
                &format!("/teams/apps/{app}/collaborators"),
                Some(json!({ "user": email, "permissions": permissions, "silent": true })),
            )
            .await;
    }
    control
        .heroku(
            Method::PATCH,
            "/apps/treeherder-prototype/formation/web",
            Some(json!({ "quantity": 2, "size": "Standard-2X" })),
        )
        .await;
}

/// The accounts of the runbook's "Granting access to the read-only replica", verbatim apart
/// from the names, in a scratch database; and an ETL account that also writes.
fn runbook_sql(db: &str, prefix: &str) -> Vec<String> {
    let mut sql = vec![format!("CREATE DATABASE `{db}`")];
    for table in ["auth_user", "group", "job", "django_migrations"] {
        sql.push(format!(
            "CREATE TABLE `{db}`.`{table}` LIKE `treeherder`.`{table}`"
        ));
    }
    for reader in ["activedata", "redash"] {
        let user = format!("{prefix}{reader}");
        sql.push(format!(
            "CREATE USER '{user}' IDENTIFIED BY '{ACCOUNT_PASSWORD}' REQUIRE SSL"
        ));
        sql.push(format!(
            "GRANT SELECT (id, username, email) ON `{db}`.auth_user to '{user}'"
        ));
        for table in ["group", "job"] {
            sql.push(format!("GRANT SELECT ON `{db}`.`{table}` to '{user}'"));
        }
    }
    let etl = format!("{prefix}etl");
    sql.push(format!(
        "CREATE USER '{etl}' IDENTIFIED BY '{ACCOUNT_PASSWORD}' REQUIRE SSL"
    ));
    sql.push(format!("GRANT SELECT, INSERT ON `{db}`.`job` to '{etl}'"));
    sql
}

/// moto's view of the instance, without what moves on its own.
async fn instance_snapshot(moto: &MotoControl, id: &str) -> Result<String, String> {
    let xml = moto
        .rds_query("DescribeDBInstances", &[("DBInstanceIdentifier", id)])
        .await
        .map_err(|e| e.to_string())?;
    let moving =
        regex::Regex::new(r"<(LatestRestorableTime|RequestId)>[^<]*</[A-Za-z]+>").expect("regex");
    Ok(moving.replace_all(&xml, "").into_owned())
}

fn copy_example(to: &Path) {
    for entry in std::fs::read_dir(repo_root().join("examples/adopt")).expect("examples/adopt") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_adoption_imports_everything_and_writes_nothing() {
    let version = suite_terraform_version().await;
    if version < (1, 5) {
        eprintln!(
            "skipped with Terraform {}.{}: the adoption procedure needs import blocks and \
             -generate-config-out (Terraform ≥ 1.5)",
            version.0, version.1
        );
        return;
    }
    let world = World::require(&[Service::Mysql, Service::Moto]);
    let sandbox = SandboxWorld::start(API_KEY).await;
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let prefix = format!("ad{tag}_");
    let db = format!("adopt_{tag}");
    let instance = format!("treeherder-dev-ad{tag}-bug1700123");

    seed_heroku(&sandbox).await;
    admin_sql(&world, &runbook_sql(&db, &prefix))
        .await
        .expect("the runbook's accounts");
    let seed = moto.seed().expect("moto's seed summary");
    let snapshot = seed["latest_automated"].as_str().unwrap_or_default();
    moto.rds_query(
        "RestoreDBInstanceFromDBSnapshot",
        &[
            ("DBInstanceIdentifier", &instance),
            ("DBSnapshotIdentifier", snapshot),
            ("DBInstanceClass", "db.m5.large"),
            ("DBSubnetGroupName", "treeherder-dbgrp"),
            ("PubliclyAccessible", "true"),
        ],
    )
    .await
    .expect("the instance restored by hand");

    let mut env: BTreeMap<String, String> = world.env().clone();
    env.extend(sandbox.env());
    env.insert("TREEHERDER_MYSQL_DATABASE".into(), db.clone());
    let mut secrets: Vec<String> = world.secrets().to_vec();
    secrets.push(ACCOUNT_PASSWORD.to_string());
    let outcome = adopt(
        &world, &sandbox, &moto, env, &secrets, &prefix, &db, &instance,
    )
    .await;

    let cleaned = admin_sql(
        &world,
        &[
            format!("DROP USER IF EXISTS '{prefix}activedata'@'%'"),
            format!("DROP USER IF EXISTS '{prefix}redash'@'%'"),
            format!("DROP USER IF EXISTS '{prefix}etl'@'%'"),
            format!("DROP DATABASE IF EXISTS `{db}`"),
        ],
    )
    .await;
    let deleted = moto
        .rds_query(
            "DeleteDBInstance",
            &[
                ("DBInstanceIdentifier", &instance),
                ("SkipFinalSnapshot", "true"),
            ],
        )
        .await;
    outcome.unwrap_or_else(|e| panic!("{e}"));
    cleaned.expect("drop the test accounts");
    deleted.expect("delete the test instance");
}

#[allow(clippy::too_many_arguments)]
async fn adopt(
    world: &World,
    sandbox: &SandboxWorld,
    moto: &MotoControl,
    env: BTreeMap<String, String>,
    secrets: &[String],
    prefix: &str,
    db: &str,
    instance: &str,
) -> Result<(), String> {
    let control = sandbox.handle();
    let tf = terraform_latest_for(&[treeherder_provider()], env, secrets.to_vec())
        .map_err(|e| e.to_string())?;
    let ws = tf.workspace("adopt").map_err(|e| e.to_string())?;
    copy_example(ws.dir());
    // The operator's choices, as a variables file (the commands stay as documented).
    std::fs::write(
        ws.dir().join("adopt.auto.tfvars"),
        format!(
            "readonly_accounts = \"^{prefix}\"\nrds_identifier_prefix = \"treeherder-dev-ad{}\"\n",
            &prefix[2..prefix.len() - 1]
        ),
    )
    .map_err(|e| e.to_string())?;

    let steps = documented_procedure();
    if steps.len() != 4 || steps[0] != "terraform init" {
        return Err(format!(
            "examples/adopt/main.tf documents `terraform init` and three steps: {steps:?}"
        ));
    }
    run_line(&ws, &steps[0]).await?;

    // 1. Discovery: only reads.
    control.clear_requests().await;
    run_line(&ws, &steps[1]).await?;
    let imports =
        std::fs::read_to_string(ws.dir().join("imports.tf")).map_err(|e| e.to_string())?;
    let blocks = imports.matches("import {").count();
    for expected in [
        "treeherder-prod:bob@mozilla.example\"",
        "treeherder-stage:alice@mozilla.example\"",
        "treeherder-prototype:web\"",
        "to = treeherder_config_vars.treeherder_prod\n",
        &format!("\"{prefix}activedata@%\""),
        &format!("\"{prefix}redash@%\""),
        &format!("\"{instance}\""),
    ] {
        if !imports.contains(expected) {
            return Err(format!("imports.tf lacks {expected}:\n{imports}"));
        }
    }
    for refused in [format!("{prefix}etl"), "REDIS_URL".to_string()] {
        if imports.contains(&refused) {
            return Err(format!("imports.tf must not adopt {refused}:\n{imports}"));
        }
    }
    // 9 jobs seeded + 3 made in the dashboard; 11 process types × 3 apps; 2 collaborators per
    // app + 2 invited; 3 config var sets; 2 accounts; 1 instance.
    let expected_blocks = 12 + 33 + 8 + 3 + 2 + 1;
    if blocks != expected_blocks {
        return Err(format!(
            "{blocks} import blocks, expected {expected_blocks}:\n{imports}"
        ));
    }

    // 2. Generated configuration, and a plan of imports only.
    let planned = run_line(&ws, &steps[2]).await?;
    let summary = format!("Plan: {blocks} to import, 0 to add, 0 to change, 0 to destroy.");
    if !planned.contains(&summary) {
        return Err(format!("expected `{summary}` in:\n{planned}"));
    }
    let generated =
        std::fs::read_to_string(ws.dir().join("generated.tf")).map_err(|e| e.to_string())?;
    if generated.contains(ACCOUNT_PASSWORD) {
        return Err("generated.tf holds an account's password".into());
    }

    // 3. The imports, which must write nothing anywhere.
    let sql_before = accounts_snapshot(world, prefix).await?;
    let instance_before = instance_snapshot(moto, instance).await?;
    control.clear_requests().await;
    run_line(&ws, &steps[3]).await?;
    let writes: Vec<String> = control
        .writes()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    if !writes.is_empty() {
        return Err(format!("the adopting apply wrote to Heroku: {writes:?}"));
    }
    if accounts_snapshot(world, prefix).await? != sql_before {
        return Err("the adopting apply changed a password hash or a grant".into());
    }
    if instance_snapshot(moto, instance).await? != instance_before {
        return Err("the adopting apply changed the RDS instance".into());
    }

    let again = ws.plan(true).await.map_err(|e| e.to_string())?;
    if again.has_changes {
        return Err(format!(
            "the plan after adoption is not empty:\n{}",
            again.text
        ));
    }

    // A table made afterwards: one GRANT per adopted account, no password change.
    admin_sql(
        world,
        &[format!(
            "CREATE TABLE `{db}`.`new_table` (id int PRIMARY KEY)"
        )],
    )
    .await?;
    let plan = ws.plan_json(true).await.map_err(|e| e.to_string())?;
    let mut changed: Vec<String> = Vec::new();
    for change in plan.effective_changes() {
        let attrs: Vec<String> = change.changed_attributes().into_iter().collect();
        if change.actions != ["update"] || attrs != ["grant_statements", "granted_tables"] {
            return Err(format!(
                "{}: expected an update of the grants only, got {:?} changing {attrs:?}",
                change.address, change.actions
            ));
        }
        let user = change.after["name"].as_str().unwrap_or_default();
        let grant = format!("GRANT SELECT ON `{db}`.`new_table` TO '{user}'@'%'");
        if change.after["grant_statements"] != json!([grant]) {
            return Err(format!(
                "{}: planned SQL {}, expected only {grant}",
                change.address, change.after["grant_statements"]
            ));
        }
        changed.push(change.address);
    }
    let expected = [
        format!("treeherder_readonly_user.{prefix}activedata"),
        format!("treeherder_readonly_user.{prefix}redash"),
    ];
    if changed != expected {
        return Err(format!("changes {changed:?}, expected {expected:?}"));
    }
    // Neither source is fine for the adopted instance, never for one to restore.
    std::fs::write(
        ws.dir().join("fresh.tf"),
        format!(
            "resource \"treeherder_rds_snapshot_instance\" \"fresh\" {{\n  identifier = \"{instance}-new\"\n}}\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let refused = ws
        .run(&["plan", "-no-color"])
        .await
        .map_err(|e| e.to_string())?;
    if refused.success() || !refused.stderr.contains("No snapshot to restore") {
        return Err(format!(
            "an instance to create without a snapshot must be refused at plan:\n{}",
            refused.stderr
        ));
    }
    let scan = tf.scan(secrets).map_err(|e| e.to_string())?;
    if !scan.leaks.is_empty() {
        return Err(format!("secrets leaked: {:?}", scan.leaks));
    }
    Ok(())
}
