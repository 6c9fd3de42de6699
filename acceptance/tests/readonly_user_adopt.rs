//! Adopting a read-only account whose password lives elsewhere: `treeherder_readonly_user`
//! without `password` nor `password_wo`, against the TLS MariaDB of `make up`, with the
//! Terraform of `TREEHERDER_TERRAFORM` (run with 1.0.3 and 1.11.4).
//!
//! The account is made with the runbook's SQL in a scratch database (the provider's database
//! for these runs, so the import takes it), so a table created here is seen by no other test.
//! That no password is ever sent is checked on the server: the account's
//! `authentication_string` is the same before and after, and its own password still logs in.

mod mysql_common;

use acceptance::harness::{treeherder_case, Plan, Service, Step, TestCase, World, PROVIDER_CONFIG};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::{admin, admin_sql, change_of, opts, password, password_hash, strings, unique};

const ADDRESS: &str = "treeherder_readonly_user.activedata";

/// Whether `user` logs in with `pass` over verified TLS.
async fn logs_in(world: &World, user: &str, pass: &str) -> bool {
    match Conn::new(opts(world, user, pass, true)).await {
        Ok(conn) => {
            conn.disconnect().await.ok();
            true
        }
        Err(_) => false,
    }
}

/// A case against the world's MariaDB with `env`, scanning every log for its secrets and `pass`.
fn case(world: &World, env: std::collections::BTreeMap<String, String>, pass: &str) -> TestCase {
    let mut case = treeherder_case().envs(env).sensitive(pass);
    for secret in world.secrets() {
        case = case.sensitive(secret.clone());
    }
    case
}

/// The account still has the password hash `hash`, and `pass` logs in.
async fn password_kept(world: &World, user: &str, pass: &str, hash: &str) -> Result<(), String> {
    if password_hash(world, user).await? != hash {
        return Err("the account's password changed".into());
    }
    if !logs_in(world, user, pass).await {
        return Err("the account's own password no longer works".into());
    }
    Ok(())
}

/// The plan updates `ADDRESS` in place changing exactly `attributes`, running `sql`.
fn updates_only(plan: &Plan, attributes: &[&str], sql: &[String]) -> Result<(), String> {
    let change = change_of(plan, ADDRESS)?;
    let changed: Vec<String> = change.changed_attributes().into_iter().collect();
    let planned = strings(&change.after["grant_statements"]);
    if change.actions != ["update"] || changed != attributes || planned != sql {
        return Err(format!(
            "expected an update of {attributes:?} running {sql:?}, got {:?} changing \
             {changed:?}, SQL {planned:?}",
            change.actions
        ));
    }
    Ok(())
}

/// The runbook's account `user` in a scratch copy `db` of the treeherder tables.
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

/// An account made with the runbook's SQL, adopted without `password`: the plan after the
/// import is empty, the password is never touched, and a table created later is granted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_adopted_without_its_password_keeps_it_and_gets_new_tables() {
    let world = World::require(&[Service::Mysql]);
    let db = unique("thadopt");
    let user = unique("activedata");
    let pass = password("a", 'Z');
    let mut env = world.env().clone();
    env.insert("TREEHERDER_MYSQL_DATABASE".into(), db.clone());
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
        let (w1, u1, p1, h1) = (world.clone(), user.clone(), pass.clone(), hash.clone());
        let (w2, d2) = (world.clone(), db.clone());
        let (w3, u3, p3, h3) = (world.clone(), user.clone(), pass.clone(), hash.clone());
        case(&world, env, &pass)
            .step(
                Step::adopt(config.clone(), [(ADDRESS.to_string(), format!("{user}@%"))])
                    .check_async(move |_| {
                        let (world, user, pass, hash) =
                            (w1.clone(), u1.clone(), p1.clone(), h1.clone());
                        async move { password_kept(&world, &user, &pass, &hash).await }
                    }),
            )
            .step(
                Step::config(config.clone())
                    .pre_step_async(move || {
                        let (world, db) = (w2.clone(), d2.clone());
                        async move {
                            admin_sql(
                                &world,
                                &[format!(
                                    "CREATE TABLE `{db}`.`new_table` (id int PRIMARY KEY)"
                                )],
                            )
                            .await
                        }
                    })
                    .plan_check(move |plan| {
                        updates_only(
                            plan,
                            &["grant_statements", "granted_tables"],
                            std::slice::from_ref(&grant),
                        )
                    })
                    .check_async(move |state| {
                        let (world, user, pass, hash) =
                            (w3.clone(), u3.clone(), p3.clone(), h3.clone());
                        async move {
                            password_kept(&world, &user, &pass, &hash).await?;
                            let granted =
                                strings(&state.attr(ADDRESS, "granted_tables").unwrap_or_default());
                            if granted != ["group", "job", "new_table"] {
                                return Err(format!("granted_tables after the apply: {granted:?}"));
                            }
                            Ok(())
                        }
                    }),
            )
            .try_run()
            .await
            .map(|_| ())
            .map_err(|failure| failure.to_string())
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
    let refused = regex::Regex::new(
        r"(?s)Missing required argument.*A\s+password\s+is\s+required\s+to\s+create\s+an\s+account|A\s+password\s+is\s+required\s+to\s+create\s+an\s+account.*Missing required argument",
    )
    .expect("a valid pattern");
    let outcome = case(&world, world.env().clone(), "")
        .step(Step::config(config).plan_only().expect_error(refused))
        .try_run()
        .await
        .map(|_| ())
        .map_err(|failure| failure.to_string());
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
    let with_password = format!(
        "{PROVIDER_CONFIG}\nresource \"treeherder_readonly_user\" \"activedata\" {{\n  name     = \"{user}\"\n  password = \"{pass}\"\n}}\n"
    );
    let without = format!(
        "{PROVIDER_CONFIG}\nresource \"treeherder_readonly_user\" \"activedata\" {{\n  name = \"{user}\"\n}}\n"
    );
    // The hash after the first step, for the second to compare with.
    let hash = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (w1, u1, h1) = (world.clone(), user.clone(), hash.clone());
    let (w2, u2, p2, h2) = (world.clone(), user.clone(), pass.clone(), hash.clone());
    let outcome = case(&world, world.env().clone(), &pass)
        .step(Step::config(with_password).check_async(move |_| {
            let (world, user, hash) = (w1.clone(), u1.clone(), h1.clone());
            async move {
                let now = password_hash(&world, &user).await?;
                *hash.lock().map_err(|e| e.to_string())? = now;
                Ok::<(), String>(())
            }
        }))
        .step(
            Step::config(without)
                .plan_check(|plan| updates_only(plan, &["password"], &[]))
                .check_async(move |_| {
                    let (world, user, pass, hash) =
                        (w2.clone(), u2.clone(), p2.clone(), h2.clone());
                    async move {
                        let hash = hash.lock().map_err(|e| e.to_string())?.clone();
                        password_kept(&world, &user, &pass, &hash).await
                    }
                }),
        )
        .try_run()
        .await
        .map(|_| ())
        .map_err(|failure| failure.to_string());
    let cleaned = admin_sql(&world, &[format!("DROP USER IF EXISTS '{user}'@'%'")]).await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
    cleaned.expect("cleanup");
}
