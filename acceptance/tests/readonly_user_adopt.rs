//! Adopting a read-only account whose password lives elsewhere: `treeherder_readonly_user`
//! without `password` nor `password_wo`, against the TLS MariaDB of `make up`, with the
//! Terraform of `TREEHERDER_TERRAFORM` (run with 1.0.3 and 1.11.4).
//!
//! The account is made with the runbook's SQL in a scratch database (the provider's database
//! for these runs, so the import takes it), so a table created here is seen by no other test.
//! That no password is ever sent is checked on the server: the account's
//! `authentication_string` is the same before and after, and its own password still logs in.

mod mysql_common;

use acceptance::harness::{terraform_for, treeherder_provider};
use acceptance::harness::{Service, Terraform, Workspace, World, PROVIDER_CONFIG};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::{admin, admin_sql, change_of, opts, password, password_hash, strings, unique};

const ADDRESS: &str = "treeherder_readonly_user.activedata";

/// Whether `user` logs in (over TLS) with `pass`.
async fn logs_in(world: &World, user: &str, pass: &str) -> bool {
    match Conn::new(opts(world, user, pass, true)).await {
        Ok(conn) => {
            conn.disconnect().await.ok();
            true
        }
        Err(_) => false,
    }
}

/// The refreshed plan is empty.
async fn plans_empty(work: &Workspace<'_>) -> Result<(), String> {
    let again = work.plan(true).await.map_err(|e| e.to_string())?;
    if again.has_changes {
        return Err(format!("plan after apply not empty:\n{}", again.text));
    }
    Ok(())
}

/// Destroys, then fails on a leaked secret, else on `result`, else on the destroy.
async fn destroy_and_scan(
    tf: &Terraform,
    work: &Workspace<'_>,
    secrets: &[String],
    result: Result<(), String>,
) -> Result<(), String> {
    let destroyed = work.destroy().await.map(|_| ()).map_err(|e| e.to_string());
    let scan = tf.scan(secrets).map_err(|e| e.to_string())?;
    if !scan.leaks.is_empty() {
        return Err(format!("secrets leaked: {:?}", scan.leaks));
    }
    result?;
    destroyed
}

/// A scratch database holding some of Treeherder's tables, and an account made in it with
/// the runbook's SQL (CREATE USER … REQUIRE SSL, the column grant, a GRANT per table).
async fn runbook_account(world: &World, db: &str, user: &str, pass: &str) -> Result<(), String> {
    let mut statements = vec![format!("CREATE DATABASE `{db}`")];
    for table in ["auth_user", "group", "job", "django_migrations"] {
        statements.push(format!(
            "CREATE TABLE `{db}`.`{table}` LIKE `treeherder`.`{table}`"
        ));
    }
    statements.push(format!(
        "CREATE USER '{user}' IDENTIFIED BY '{pass}' REQUIRE SSL"
    ));
    statements.push(format!(
        "GRANT SELECT (id, username, email) ON `{db}`.auth_user to '{user}'"
    ));
    for table in ["group", "job"] {
        statements.push(format!("GRANT SELECT ON `{db}`.`{table}` to '{user}'"));
    }
    admin_sql(world, &statements).await
}

/// Imports `activedata@%` with a configuration without a password: the plan is empty and the
/// apply sends nothing; a table created afterwards plans as one GRANT (no password change),
/// which the apply runs, leaving the password hash as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_adopted_without_its_password_keeps_it_and_gets_new_tables() {
    let world = World::require(&[Service::Mysql]);
    let db = unique("thadopt");
    let user = unique("activedata");
    let pass = password("a", 'Z');
    let mut env = world.env().clone();
    env.insert("TREEHERDER_MYSQL_DATABASE".into(), db.clone());
    let mut secrets = world.secrets().to_vec();
    secrets.push(pass.clone());
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "activedata" {{
  name = "{user}"
}}
"#
    );
    let grant = format!("GRANT SELECT ON `{db}`.`new_table` TO '{user}'@'%'");

    let outcome = async {
        runbook_account(&world, &db, &user, &pass).await?;
        let hash = password_hash(&world, &user).await?;
        let tf = terraform_for(&[treeherder_provider()], env, secrets.clone())
            .map_err(|e| e.to_string())?;
        let work = tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&config).map_err(|e| e.to_string())?;
        tf.require_success(work.init().await.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let imported = work
            .import(ADDRESS, &format!("{user}@%"))
            .await
            .map_err(|e| e.to_string())?;
        tf.require_success(imported).map_err(|e| e.to_string())?;

        let result = async {
            let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
            let change = change_of(&plan, ADDRESS)?;
            if !change.is_no_op() {
                return Err(format!(
                    "the plan after the import must be empty; it changes {:?}",
                    change.changed_attributes()
                ));
            }
            let applied = work.apply().await.map_err(|e| e.to_string())?;
            tf.require_success(applied).map_err(|e| e.to_string())?;
            if password_hash(&world, &user).await? != hash {
                return Err("the apply after the import changed the password".into());
            }

            admin_sql(
                &world,
                &[format!(
                    "CREATE TABLE `{db}`.`new_table` (id int PRIMARY KEY)"
                )],
            )
            .await?;
            let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
            let change = change_of(&plan, ADDRESS)?;
            let changed: Vec<String> = change.changed_attributes().into_iter().collect();
            if change.actions != ["update"] || changed != ["grant_statements", "granted_tables"] {
                return Err(format!(
                    "expected an update of the grants only, got {:?} changing {changed:?}",
                    change.actions
                ));
            }
            let sql = strings(&change.after["grant_statements"]);
            if sql != [grant.clone()] {
                return Err(format!("planned SQL {sql:?}, expected only {grant}"));
            }
            let applied = work.apply().await.map_err(|e| e.to_string())?;
            tf.require_success(applied).map_err(|e| e.to_string())?;
            if password_hash(&world, &user).await? != hash {
                return Err("granting the new table changed the password".into());
            }
            if !logs_in(&world, &user, &pass).await {
                return Err("the account's own password no longer works".into());
            }
            let state = work.state().await.map_err(|e| e.to_string())?;
            let granted = strings(&state.attr(ADDRESS, "granted_tables").unwrap_or_default());
            if granted != ["group", "job", "new_table"] {
                return Err(format!("granted_tables after the apply: {granted:?}"));
            }
            plans_empty(&work).await
        }
        .await;
        destroy_and_scan(&tf, &work, &secrets, result).await
    }
    .await;
    let cleaned = admin_sql(
        &world,
        &[
            format!("DROP USER IF EXISTS '{user}'@'%'"),
            format!("DROP DATABASE IF EXISTS `{db}`"),
        ],
    )
    .await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
    cleaned.expect("cleanup");
}

/// Creating an account without a password is refused at plan, at `password`, before anything
/// is sent: a new account needs one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_account_without_a_password_is_refused_at_plan() {
    let world = World::require(&[Service::Mysql]);
    let user = unique("nopw");
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "activedata" {{
  name = "{user}"
}}
"#
    );
    let outcome = async {
        let tf = terraform_for(
            &[treeherder_provider()],
            world.env().clone(),
            world.secrets().to_vec(),
        )
        .map_err(|e| e.to_string())?;
        let work = tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&config).map_err(|e| e.to_string())?;
        tf.require_success(work.init().await.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let planned = work
            .run(&["plan", "-input=false", "-no-color"])
            .await
            .map_err(|e| e.to_string())?;
        if planned.success() {
            return Err("a plan creating an account without a password succeeded".into());
        }
        let text = planned
            .stderr
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !(text.contains("A password is required to create an account")
            && text.contains("Missing required argument"))
        {
            return Err(format!("unexpected error: {}", planned.stderr));
        }
        Ok::<(), String>(())
    }
    .await;
    let mut conn = admin(&world).await;
    let exists: Option<String> = conn
        .exec_first("SELECT User FROM mysql.user WHERE User = ?", (&user,))
        .await
        .expect("mysql.user");
    conn.disconnect().await.ok();
    if let Err(e) = outcome {
        panic!("{e}");
    }
    assert!(exists.is_none(), "no account may have been created");
}

/// Removing `password` from a managed account stops managing it: the update runs no
/// statement, and the last password set keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_password_leaves_the_account_password_alone() {
    let world = World::require(&[Service::Mysql]);
    let user = unique("released");
    let pass = password("r", 'Z');
    let mut secrets = world.secrets().to_vec();
    secrets.push(pass.clone());
    let with_password = format!(
        "{PROVIDER_CONFIG}\nresource \"treeherder_readonly_user\" \"activedata\" {{\n  name     = \"{user}\"\n  password = \"{pass}\"\n}}\n"
    );
    let without = format!(
        "{PROVIDER_CONFIG}\nresource \"treeherder_readonly_user\" \"activedata\" {{\n  name = \"{user}\"\n}}\n"
    );
    let outcome = async {
        let tf = terraform_for(
            &[treeherder_provider()],
            world.env().clone(),
            secrets.clone(),
        )
        .map_err(|e| e.to_string())?;
        let work = tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&with_password)
            .map_err(|e| e.to_string())?;
        tf.require_success(work.init().await.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        tf.require_success(work.apply().await.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let result = async {
            let hash = password_hash(&world, &user).await?;
            work.write_config(&without).map_err(|e| e.to_string())?;
            let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
            let change = change_of(&plan, ADDRESS)?;
            let changed: Vec<String> = change.changed_attributes().into_iter().collect();
            let sql = strings(&change.after["grant_statements"]);
            if change.actions != ["update"] || changed != ["password"] || !sql.is_empty() {
                return Err(format!(
                    "expected an update of `password` alone running nothing, got {:?} \
                     changing {changed:?}, SQL {sql:?}",
                    change.actions
                ));
            }
            tf.require_success(work.apply().await.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            if password_hash(&world, &user).await? != hash {
                return Err("removing `password` changed the account's password".into());
            }
            if !logs_in(&world, &user, &pass).await {
                return Err("the last password set no longer works".into());
            }
            plans_empty(&work).await
        }
        .await;
        destroy_and_scan(&tf, &work, &secrets, result).await
    }
    .await;
    let cleaned = admin_sql(&world, &[format!("DROP USER IF EXISTS '{user}'@'%'")]).await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
    cleaned.expect("cleanup");
}
