//! `treeherder_readonly_user` through real Terraform 1.0.3 against the TLS MariaDB of `make up`.
//!
//! Every test uses account (and scratch database) names unique to the run, so the tests may
//! run in parallel, and removes what it created even when it fails. Privileges are checked
//! from the `mysql.*` tables, logins with real connections.

mod mysql_common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use acceptance::harness::{terraform_for, treeherder_case, treeherder_provider};
use acceptance::harness::{CheckResult, Plan, Service, Step, World, PROVIDER_CONFIG};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::{admin, admin_sql, change_of, opts, password, strings, unique};
use regex::Regex;
use serde_json::Value;

/// Logs in as `user` and reads the columns a read-only account may see; the server error
/// code on failure.
async fn login(world: &World, user: &str, pass: &str, tls: bool) -> Result<(), u16> {
    let mut conn = match Conn::new(opts(world, user, pass, tls)).await {
        Ok(conn) => conn,
        Err(mysql_async::Error::Server(e)) => return Err(e.code),
        Err(other) => panic!("login as {user}: unexpected error {other}"),
    };
    let cipher: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .expect("Ssl_cipher");
    assert_eq!(
        cipher.map(|(_, c)| !c.is_empty()),
        Some(tls),
        "TLS state of the session"
    );
    let _: Vec<(i64, String, String)> = conn
        .query("SELECT id, username, email FROM treeherder.auth_user")
        .await
        .expect("read-only account reads auth_user (id, username, email)");
    let hidden = conn
        .query_drop("SELECT password FROM treeherder.auth_user")
        .await;
    assert!(hidden.is_err(), "auth_user.password must not be readable");
    conn.disconnect().await.ok();
    Ok(())
}

/// Privileges of `'user'@'%'` as the mysql.* tables hold them.
#[derive(Debug, PartialEq, Eq)]
struct Privileges {
    ssl_type: String,
    /// `*_priv` columns of mysql.user that are 'Y'.
    global: BTreeSet<String>,
    /// mysql.db rows.
    db_rows: u64,
    /// (db, table) → (Table_priv, Column_priv).
    tables: BTreeMap<(String, String), (String, String)>,
    /// (db, table, column) → Column_priv.
    columns: BTreeMap<(String, String, String), String>,
}

async fn privileges(conn: &mut Conn, user: &str) -> Option<Privileges> {
    let rows: Vec<mysql_async::Row> = conn
        .exec(
            "SELECT * FROM mysql.user WHERE User = ? AND Host = '%'",
            (user,),
        )
        .await
        .expect("mysql.user");
    let row = rows.first()?;
    let mut ssl_type = String::new();
    let mut global = BTreeSet::new();
    for (i, column) in row.columns_ref().iter().enumerate() {
        let name = column.name_str().to_string();
        let value: Option<String> = row
            .get_opt::<Option<String>, _>(i)
            .and_then(Result::ok)
            .flatten();
        if name == "ssl_type" {
            ssl_type = value.clone().unwrap_or_default();
        }
        if name.ends_with("_priv") && value.as_deref() == Some("Y") {
            global.insert(name);
        }
    }
    let db_rows: Option<u64> = conn
        .exec_first(
            "SELECT COUNT(*) FROM mysql.db WHERE User = ? AND Host = '%'",
            (user,),
        )
        .await
        .expect("mysql.db");
    let tables: Vec<(String, String, String, String)> = conn
        .exec(
            "SELECT Db, Table_name, Table_priv, Column_priv FROM mysql.tables_priv \
             WHERE User = ? AND Host = '%'",
            (user,),
        )
        .await
        .expect("mysql.tables_priv");
    let columns: Vec<(String, String, String, String)> = conn
        .exec(
            "SELECT Db, Table_name, Column_name, Column_priv FROM mysql.columns_priv \
             WHERE User = ? AND Host = '%'",
            (user,),
        )
        .await
        .expect("mysql.columns_priv");
    Some(Privileges {
        ssl_type,
        global,
        db_rows: db_rows.unwrap_or(0),
        tables: tables
            .into_iter()
            .map(|(db, t, tp, cp)| ((db, t), (tp, cp)))
            .collect(),
        columns: columns
            .into_iter()
            .map(|(db, t, c, p)| ((db, t, c), p))
            .collect(),
    })
}

/// What the runbook's SQL gives an account: its own generator query for the table grants,
/// plus SELECT (id, username, email) on auth_user, REQUIRE SSL and nothing else.
async fn runbook_privileges(conn: &mut Conn, db: &str) -> Privileges {
    let tables: Vec<String> = conn
        .exec(
            "SELECT table_name FROM information_schema.TABLES \
             WHERE table_schema = ? AND table_name NOT REGEXP 'django_|auth_'",
            (db,),
        )
        .await
        .expect("runbook query");
    assert!(tables.len() >= 50, "the fixture has 50 application tables");
    let mut expected_tables: BTreeMap<(String, String), (String, String)> = tables
        .into_iter()
        .map(|t| ((db.to_string(), t), ("Select".to_string(), String::new())))
        .collect();
    expected_tables.insert(
        (db.to_string(), "auth_user".to_string()),
        (String::new(), "Select".to_string()),
    );
    Privileges {
        ssl_type: "ANY".into(),
        global: BTreeSet::new(),
        db_rows: 0,
        tables: expected_tables,
        columns: ["id", "username", "email"]
            .iter()
            .map(|c| {
                (
                    (db.to_string(), "auth_user".to_string(), c.to_string()),
                    "Select".to_string(),
                )
            })
            .collect(),
    }
}

async fn drop_accounts(world: &World, users: &[String]) {
    let mut conn = admin(world).await;
    for user in users {
        conn.query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
            .await
            .expect("cleanup DROP USER");
    }
    conn.disconnect().await.ok();
}

fn only_changes(
    change: &acceptance::harness::ResourceChange,
    expected: &[&str],
) -> Result<(), String> {
    let changed: Vec<String> = change.changed_attributes().into_iter().collect();
    if change.actions != ["update"] || changed != expected {
        return Err(format!(
            "expected an update of exactly {expected:?}, got actions {:?} changing {changed:?}",
            change.actions
        ));
    }
    Ok(())
}

fn runbook_config(activedata: &str, pw_a: &str, redash: &str, pw_r: &str) -> String {
    format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "activedata" {{
  name     = "{activedata}"
  password = "{pw_a}"
}}
resource "treeherder_readonly_user" "redash" {{
  name           = "{redash}"
  host           = "%"
  password       = "{pw_r}"
  require_ssl    = true
  database       = "treeherder"
  exclude_tables = "^(django_|auth_)"
  column_grants  = {{ auth_user = ["id", "username", "email"] }}
}}
"#
    )
}

/// The runbook's two accounts: privileges equal the runbook's exactly, TLS-only logins, then a
/// password rotation (new password works, old one fails), destroy drops both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbook_accounts_match_the_runbook_and_rotate() {
    let world = World::require(&[Service::Mysql]);
    let activedata = unique("activedata");
    let redash = unique("redash");
    let (pw_a, pw_r, pw_r2) = (password("a", 'Z'), password("r", 'Z'), password("n", 'Z'));
    let world = Arc::new(world);

    let check_runbook = {
        let (world, activedata, redash, pw_a, pw_r) = (
            world.clone(),
            activedata.clone(),
            redash.clone(),
            pw_a.clone(),
            pw_r.clone(),
        );
        move |state: acceptance::harness::State| {
            let (world, activedata, redash, pw_a, pw_r) = (
                world.clone(),
                activedata.clone(),
                redash.clone(),
                pw_a.clone(),
                pw_r.clone(),
            );
            async move {
                let mut conn = admin(&world).await;
                let expected = runbook_privileges(&mut conn, "treeherder").await;
                for user in [&activedata, &redash] {
                    let actual = privileges(&mut conn, user)
                        .await
                        .ok_or(format!("{user} does not exist"))?;
                    if actual != expected {
                        return Err(format!(
                            "{user}: privileges differ from the runbook's\n actual: {actual:?}\n expected: {expected:?}"
                        ));
                    }
                }
                conn.disconnect().await.ok();
                for (user, pw) in [(&activedata, &pw_a), (&redash, &pw_r)] {
                    login(&world, user, pw, true)
                        .await
                        .map_err(|code| format!("{user} cannot log in over TLS: {code}"))?;
                    assert_eq!(
                        login(&world, user, pw, false).await,
                        Err(1045),
                        "{user} must not log in without TLS"
                    );
                }
                let granted = strings(
                    &state
                        .attr("treeherder_readonly_user.redash", "granted_tables")
                        .unwrap_or(Value::Null),
                );
                let mut sorted = granted.clone();
                sorted.sort();
                assert_eq!(granted, sorted, "granted_tables is sorted");
                assert_eq!(granted.len(), expected.tables.len() - 1);
                assert_eq!(
                    state.attr_str("treeherder_readonly_user.redash", "id"),
                    Some(format!("{redash}@%"))
                );
                let statements = strings(
                    &state
                        .attr("treeherder_readonly_user.activedata", "grant_statements")
                        .unwrap_or(Value::Null),
                );
                assert_eq!(
                    statements.first().map(String::as_str),
                    Some(
                        format!(
                            "CREATE USER '{activedata}'@'%' IDENTIFIED BY '<password>' REQUIRE SSL"
                        )
                        .as_str()
                    )
                );
                assert!(statements.contains(&format!(
                    "GRANT SELECT ON `treeherder`.`group` TO '{activedata}'@'%'"
                )));
                Ok::<(), String>(())
            }
        }
    };

    let rotated_check = {
        let (world, redash, pw_r, pw_r2) =
            (world.clone(), redash.clone(), pw_r.clone(), pw_r2.clone());
        move |_state: acceptance::harness::State| {
            let (world, redash, pw_r, pw_r2) =
                (world.clone(), redash.clone(), pw_r.clone(), pw_r2.clone());
            async move {
                login(&world, &redash, &pw_r2, true)
                    .await
                    .map_err(|c| format!("new password refused: {c}"))?;
                if login(&world, &redash, &pw_r, true).await != Err(1045) {
                    return Err("the old password still works".to_string());
                }
                Ok::<(), String>(())
            }
        }
    };

    let destroyed = {
        let (world, activedata, redash) = (world.clone(), activedata.clone(), redash.clone());
        move |_state: acceptance::harness::State| {
            let (world, activedata, redash) = (world.clone(), activedata.clone(), redash.clone());
            async move {
                let mut conn = admin(&world).await;
                for user in [&activedata, &redash] {
                    if privileges(&mut conn, user).await.is_some() {
                        return Err(format!("{user} still exists after destroy"));
                    }
                }
                Ok::<(), String>(())
            }
        }
    };

    let redash_addr = "treeherder_readonly_user.redash";
    let expected_alter = format!("ALTER USER '{redash}'@'%' IDENTIFIED BY '<password>'");
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw_a.clone())
        .sensitive(pw_r.clone())
        .sensitive(pw_r2.clone())
        .step(
            Step::config(runbook_config(&activedata, &pw_a, &redash, &pw_r))
                .check_async(check_runbook),
        )
        .step(
            Step::config(runbook_config(&activedata, &pw_a, &redash, &pw_r2))
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, redash_addr)?;
                    only_changes(&change, &["grant_statements", "password"])?;
                    let statements = strings(&change.after["grant_statements"]);
                    if statements != [expected_alter.clone()] {
                        return Err(format!("planned SQL: {statements:?}").into());
                    }
                    if !change_of(plan, "treeherder_readonly_user.activedata")?.is_no_op() {
                        return Err("activedata must not change".into());
                    }
                    Ok(())
                })
                .check_async(rotated_check),
        )
        .check_destroy_async(destroyed)
        .try_run()
        .await;
    drop_accounts(&world, &[activedata, redash]).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

async fn create_scratch_database(world: &World, db: &str) {
    let mut conn = admin(world).await;
    conn.query_drop(format!("CREATE DATABASE `{db}`"))
        .await
        .expect("scratch database");
    for table in ["auth_user", "group", "job", "django_migrations"] {
        conn.query_drop(format!(
            "CREATE TABLE `{db}`.`{table}` LIKE `treeherder`.`{table}`"
        ))
        .await
        .expect("scratch table");
    }
    conn.disconnect().await.ok();
}

/// A table created after the apply shows up in the plan as one added grant, is granted by the
/// apply; dropping it shows the grant going away. Runs in its own scratch database so other
/// tests' plans never see the new table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_and_dropped_tables_show_up_in_the_plan() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let db = unique("thscratch");
    let user = unique("ro");
    let pw = password("t", 'Z');
    create_scratch_database(&world, &db).await;
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{user}"
  password = "{pw}"
  database = "{db}"
}}
"#
    );
    let address = "treeherder_readonly_user.ro";
    let grant = format!("GRANT SELECT ON `{db}`.`new_table` TO '{user}'@'%'");
    let revoke = format!("REVOKE SELECT ON `{db}`.`new_table` FROM '{user}'@'%'");

    let has_new_grant = |expected: bool| {
        let (world, user, db) = (world.clone(), user.clone(), db.clone());
        move |state: acceptance::harness::State| {
            let (world, user, db) = (world.clone(), user.clone(), db.clone());
            async move {
                let mut conn = admin(&world).await;
                let p = privileges(&mut conn, &user).await.ok_or("no account")?;
                let granted = p.tables.get(&(db.clone(), "new_table".to_string()))
                    == Some(&("Select".into(), String::new()));
                if granted != expected {
                    return Err(format!("new_table granted: {granted}, expected {expected}"));
                }
                let in_state = strings(
                    &state
                        .attr("treeherder_readonly_user.ro", "granted_tables")
                        .unwrap_or(Value::Null),
                );
                let expected_state: Vec<String> = if expected {
                    vec!["group".into(), "job".into(), "new_table".into()]
                } else {
                    vec!["group".into(), "job".into()]
                };
                if in_state != expected_state {
                    return Err(format!("granted_tables in state: {in_state:?}"));
                }
                Ok::<(), String>(())
            }
        }
    };
    let create_table = {
        let (world, db) = (world.clone(), db.clone());
        move || {
            let (world, db) = (world.clone(), db.clone());
            async move {
                admin_sql(
                    &world,
                    [format!(
                        "CREATE TABLE `{db}`.`new_table` (id int PRIMARY KEY)"
                    )],
                )
                .await
            }
        }
    };
    let drop_table = {
        let (world, db) = (world.clone(), db.clone());
        move || {
            let (world, db) = (world.clone(), db.clone());
            async move { admin_sql(&world, [format!("DROP TABLE `{db}`.`new_table`")]).await }
        }
    };

    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(Step::config(config.clone()).check_async(has_new_grant(false)))
        .step(
            Step::config(config.clone())
                .pre_step_async(create_table)
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, address)?;
                    only_changes(&change, &["grant_statements", "granted_tables"])?;
                    let before: BTreeSet<String> = strings(&change.before["granted_tables"])
                        .into_iter()
                        .collect();
                    let after: BTreeSet<String> = strings(&change.after["granted_tables"])
                        .into_iter()
                        .collect();
                    let added: Vec<&String> = after.difference(&before).collect();
                    if added != [&"new_table".to_string()] || !before.is_subset(&after) {
                        return Err(format!("granted_tables {before:?} -> {after:?}").into());
                    }
                    let sql = strings(&change.after["grant_statements"]);
                    if sql != [grant.clone()] {
                        return Err(format!("planned SQL {sql:?}").into());
                    }
                    Ok(())
                })
                .check_async(has_new_grant(true)),
        )
        .step(
            Step::config(config.clone())
                .pre_step_async(drop_table)
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, address)?;
                    only_changes(&change, &["grant_statements", "granted_tables"])?;
                    let after = strings(&change.after["granted_tables"]);
                    if after != ["group", "job"] {
                        return Err(format!("granted_tables after: {after:?}").into());
                    }
                    let sql = strings(&change.after["grant_statements"]);
                    if sql != [revoke.clone()] {
                        return Err(format!("planned SQL {sql:?}").into());
                    }
                    Ok(())
                })
                .check_async(has_new_grant(false)),
        )
        .try_run()
        .await;
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    admin_sql(&world, [format!("DROP DATABASE IF EXISTS `{db}`")])
        .await
        .expect("drop scratch database");
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// An account made by hand with the runbook's SQL, imported by `name@host`: the next plan
/// changes only the password (and shows the one ALTER USER it will run); after the apply the
/// configured password works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_of_a_runbook_account_plans_only_the_password() {
    let world = World::require(&[Service::Mysql]);
    let user = unique("imported");
    let (pw_hand, pw_tf) = (password("h", 'Z'), password("i", 'Z'));

    // The runbook's statements, verbatim apart from the names.
    let mut conn = admin(&world).await;
    conn.query_drop(format!(
        "CREATE USER '{user}' IDENTIFIED BY '{pw_hand}' REQUIRE SSL"
    ))
    .await
    .expect("CREATE USER");
    conn.query_drop(format!(
        "GRANT SELECT (id, username, email) ON treeherder.auth_user to '{user}'"
    ))
    .await
    .expect("column grant");
    let grants: Vec<String> = conn
        .query(format!(
            "SELECT CONCAT('GRANT SELECT ON ', table_schema, '.`', table_name, '` to ''{user}'';') \
             FROM information_schema.TABLES WHERE table_schema = 'treeherder' \
             AND table_name NOT REGEXP 'django_|auth_'"
        ))
        .await
        .expect("runbook generator query");
    for grant in &grants {
        conn.query_drop(grant).await.expect("runbook GRANT");
    }
    conn.disconnect().await.ok();

    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "imported" {{
  name     = "{user}"
  password = "{pw_tf}"
}}
"#
    );
    let mut secrets: Vec<String> = world.secrets().to_vec();
    secrets.extend([pw_hand.clone(), pw_tf.clone()]);
    let outcome = async {
        let tf = terraform_for(
            &[treeherder_provider()],
            world.env().clone(),
            secrets.clone(),
        )
        .map_err(|e| e.to_string())?;
        let work = tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&config).map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        let out = work
            .import("treeherder_readonly_user.imported", &format!("{user}@%"))
            .await
            .map_err(|e| e.to_string())?;
        tf.require_success(out).map_err(|e| e.to_string())?;
        let result = async {
            let state = work.state().await.map_err(|e| e.to_string())?;
            let address = "treeherder_readonly_user.imported";
            if state.attr(address, "password") != Some(Value::Null) {
                return Err("the imported password must be null in state".to_string());
            }
            let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
            let change = change_of(&plan, address)?;
            only_changes(&change, &["grant_statements", "password"])?;
            let sql = strings(&change.after["grant_statements"]);
            if sql
                != [format!(
                    "ALTER USER '{user}'@'%' IDENTIFIED BY '<password>'"
                )]
            {
                return Err(format!("planned SQL {sql:?}"));
            }
            let out = work.apply().await.map_err(|e| e.to_string())?;
            tf.require_success(out).map_err(|e| e.to_string())?;
            login(&world, &user, &pw_tf, true)
                .await
                .map_err(|c| format!("configured password refused: {c}"))?;
            if login(&world, &user, &pw_hand, true).await != Err(1045) {
                return Err("the hand-made password still works".into());
            }
            let again = work.plan(true).await.map_err(|e| e.to_string())?;
            if again.has_changes {
                return Err(format!(
                    "plan after apply not empty:\n{}",
                    tf.redact(&again.text)
                ));
            }
            Ok(())
        }
        .await;
        let destroyed = work.destroy().await.map(|_| ()).map_err(|e| e.to_string());
        let scan = tf.scan(&secrets).map_err(|e| e.to_string())?;
        if scan.files_scanned == 0 {
            return Err("the secret scan read no files".to_string());
        }
        if !scan.leaks.is_empty() {
            return Err(format!("secrets leaked: {:?}", scan.leaks));
        }
        result?;
        destroyed
    }
    .await;
    let mut conn = admin(&world).await;
    let exists = privileges(&mut conn, &user).await.is_some();
    conn.disconnect().await.ok();
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
    assert!(!exists, "destroy must drop the imported account");
}

/// `tls_mode = "disabled"` for a non-loopback host fails before any byte is sent: a listener
/// reachable as `[::ffff:127.0.0.1]` (an IPv4-mapped address the provider treats as remote)
/// records nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_to_a_remote_host_fails_before_connecting() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(AtomicU64::new(0));
    let connections = Arc::new(AtomicU64::new(0));
    let (r, c) = (received.clone(), connections.clone());
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    r.fetch_add(n as u64, Ordering::SeqCst);
                }
            });
        }
    });

    // The mapped address does reach the listener, so silence below means "never tried".
    {
        use tokio::io::AsyncWriteExt;
        let mut probe = tokio::net::TcpStream::connect(format!("[::ffff:127.0.0.1]:{port}"))
            .await
            .expect("the IPv4-mapped address reaches the listener");
        probe.write_all(b"probe").await.expect("probe write");
        drop(probe);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while received.load(Ordering::SeqCst) < 5 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "probe bytes never arrived"
            );
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    received.store(0, Ordering::SeqCst);
    connections.store(0, Ordering::SeqCst);

    let admin_pw = password("plain", 'Z');
    let user_pw = password("u", 'Z');
    let config = format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}
provider "treeherder" {{
  mysql {{
    endpoint = "[::ffff:127.0.0.1]:{port}"
    username = "th_admin"
    password = "{admin_pw}"
    tls_mode = "disabled"
  }}
}}
resource "treeherder_readonly_user" "ro" {{
  name     = "never_created"
  password = "{user_pw}"
}}
"#
    );
    // The low-level API: the case's final destroy would fail on the same invalid provider
    // configuration, which is the point of the test.
    let secrets = vec![admin_pw.clone(), user_pw.clone()];
    let tf = acceptance::harness::terraform_for(
        &[treeherder_provider()],
        BTreeMap::new(),
        secrets.clone(),
    )
    .expect("terraform root");
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config).expect("config");
    work.init().await.expect("init");
    let refusal = Regex::new(r#"tls_mode "disabled" is only allowed for loopback hosts"#).unwrap();
    for args in [
        &["plan", "-input=false", "-no-color"][..],
        &["apply", "-auto-approve", "-input=false", "-no-color"][..],
    ] {
        let out = work.run(args).await.expect("terraform runs");
        assert!(!out.success(), "{} must fail", out.command);
        let text = format!("{}\n{}", out.stdout, out.stderr);
        assert!(
            refusal.is_match(&text),
            "unexpected failure: {}",
            tf.redact(&text)
        );
    }
    let scan = tf.scan(&secrets).expect("secret scan");
    assert!(
        scan.files_scanned > 0 && scan.leaks.is_empty(),
        "{:?}",
        scan.leaks
    );
    server.abort();
    assert_eq!(connections.load(Ordering::SeqCst), 0, "connections made");
    assert_eq!(received.load(Ordering::SeqCst), 0, "bytes received");
}

/// Twenty accounts applied and destroyed with `-parallelism=20`: no errors, all created with
/// their grants, all dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_accounts_in_parallel() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let prefix = unique("par");
    let pw_prefix = password("p", 'Z');
    let names: Vec<String> = (0..20).map(|i| format!("{prefix}_{i}")).collect();
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "many" {{
  count    = 20
  name     = "{prefix}_${{count.index}}"
  password = "{pw_prefix}${{count.index}}"
}}
"#
    );
    let check = {
        let (world, names) = (world.clone(), names.clone());
        move |_state: acceptance::harness::State| {
            let (world, names) = (world.clone(), names.clone());
            async move {
                let mut conn = admin(&world).await;
                let expected = runbook_privileges(&mut conn, "treeherder").await;
                for name in &names {
                    let p = privileges(&mut conn, name)
                        .await
                        .ok_or(format!("{name} missing"))?;
                    if p != expected {
                        return Err(format!("{name} has other privileges: {p:?}"));
                    }
                }
                Ok::<(), String>(())
            }
        }
    };
    let gone = {
        let (world, names) = (world.clone(), names.clone());
        move |_state: acceptance::harness::State| {
            let (world, names) = (world.clone(), names.clone());
            async move {
                let mut conn = admin(&world).await;
                for name in &names {
                    if privileges(&mut conn, name).await.is_some() {
                        return Err(format!("{name} survived destroy"));
                    }
                }
                Ok::<(), String>(())
            }
        }
    };
    let mut case = treeherder_case()
        .envs(world.env().clone())
        .env("TF_CLI_ARGS_apply", "-parallelism=20")
        .env("TF_CLI_ARGS_plan", "-parallelism=20")
        .env("TF_CLI_ARGS_destroy", "-parallelism=20")
        .step(Step::config(config).check_async(check))
        .check_destroy_async(gone);
    for i in 0..20 {
        case = case.sensitive(format!("{pw_prefix}{i}"));
    }
    let result = case.try_run().await;
    drop_accounts(&world, &names).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Changes made by hand show up in the plan: a revoked grant and a lost REQUIRE SSL are
/// repaired by an update (running exactly the two statements shown), and an account dropped by
/// hand is planned for creation again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_made_drift_shows_up_in_the_plan() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let user = unique("drift");
    let pw = password("d", 'Z');
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{user}"
  password = "{pw}"
}}
"#
    );
    let address = "treeherder_readonly_user.ro";
    let revoke_and_unrequire = {
        let (world, user) = (world.clone(), user.clone());
        move || {
            let (world, user) = (world.clone(), user.clone());
            async move {
                admin_sql(
                    &world,
                    [format!("REVOKE SELECT ON treeherder.job FROM '{user}'@'%'")],
                )
                .await?;
                admin_sql(&world, [format!("ALTER USER '{user}'@'%' REQUIRE NONE")]).await
            }
        }
    };
    let drop_user = {
        let (world, user) = (world.clone(), user.clone());
        move || {
            let (world, user) = (world.clone(), user.clone());
            async move { admin_sql(&world, [format!("DROP USER '{user}'@'%'")]).await }
        }
    };
    let repaired = {
        let (world, user) = (world.clone(), user.clone());
        move |_state: acceptance::harness::State| {
            let (world, user) = (world.clone(), user.clone());
            async move {
                let mut conn = admin(&world).await;
                let expected = runbook_privileges(&mut conn, "treeherder").await;
                let actual = privileges(&mut conn, &user)
                    .await
                    .ok_or("account missing")?;
                if actual != expected {
                    return Err(format!("not repaired: {actual:?}"));
                }
                Ok::<(), String>(())
            }
        }
    };
    let expected_sql = [
        format!("ALTER USER '{user}'@'%' REQUIRE SSL"),
        format!("GRANT SELECT ON `treeherder`.`job` TO '{user}'@'%'"),
    ];
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(Step::config(config.clone()))
        .step(
            Step::config(config.clone())
                .pre_step_async(revoke_and_unrequire)
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, address)?;
                    only_changes(
                        &change,
                        &["grant_statements", "granted_tables", "require_ssl"],
                    )?;
                    if change.before["require_ssl"] != Value::Bool(false) {
                        return Err("the lost REQUIRE SSL was not read".into());
                    }
                    let sql = strings(&change.after["grant_statements"]);
                    if sql != expected_sql {
                        return Err(format!("planned SQL {sql:?}").into());
                    }
                    Ok(())
                })
                .check_async(repaired),
        )
        .step(
            Step::config(config.clone())
                .pre_step_async(drop_user)
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, address)?;
                    if change.actions != ["create"] {
                        return Err(format!("expected a create, got {:?}", change.actions).into());
                    }
                    Ok(())
                }),
        )
        .try_run()
        .await;
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// An admin that cannot read mysql.* gets an error naming the missing privilege instead of an
/// account reported as having no grants; an account that already exists is refused at plan
/// time with the import command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_privilege_tables_and_existing_accounts_fail_the_plan() {
    let world = World::require(&[Service::Mysql]);
    let limited = unique("lim");
    let limited_pw = password("l", 'Z');
    let existing = unique("exists");
    let existing_pw = password("e", 'Z');
    let pw = password("x", 'Z');
    // Enough to create accounts and grant SELECT, but no SELECT on mysql.*.
    for sql in [
        format!("CREATE USER '{limited}'@'%' IDENTIFIED BY '{limited_pw}' REQUIRE SSL"),
        format!("GRANT CREATE USER ON *.* TO '{limited}'@'%'"),
        format!("GRANT SELECT ON treeherder.* TO '{limited}'@'%' WITH GRANT OPTION"),
        format!("CREATE USER '{existing}'@'%' IDENTIFIED BY '{existing_pw}' REQUIRE SSL"),
    ] {
        admin_sql(&world, [sql]).await.expect("setup");
    }
    let config = |name: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{name}"
  password = "{pw}"
}}
"#
        )
    };
    let limited_case = treeherder_case()
        .envs(world.env().clone())
        .env("TREEHERDER_MYSQL_USERNAME", limited.clone())
        .env("TREEHERDER_MYSQL_PASSWORD", limited_pw.clone())
        .sensitive(pw.clone())
        .step(Step::config(config(&unique("never"))).expect_error(
            Regex::new(r"cannot read mysql\.user[\s\S]*SELECT\s+on\s+mysql\.\*").unwrap(),
        ))
        // No resources left, so the case's final destroy has nothing to plan.
        .step(Step::config(PROVIDER_CONFIG))
        .try_run()
        .await;
    let existing_case = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .sensitive(existing_pw.clone())
        .step(
            Step::config(config(&existing))
                .expect_error(Regex::new(r"already exists[\s\S]*terraform import").unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let untouched = privileges(&mut conn, &existing).await;
    conn.disconnect().await.ok();
    drop_accounts(&world, &[limited, existing]).await;
    if let Err(failure) = limited_case {
        panic!("limited admin: {failure}");
    }
    if let Err(failure) = existing_case {
        panic!("existing account: {failure}");
    }
    assert!(
        untouched.is_some_and(|p| p.tables.is_empty()),
        "the existing account must be left alone"
    );
}

/// Password rules are checked at plan time and reported at the `password` attribute, without
/// echoing the value in the provider's message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_passwords_fail_at_plan_time_at_the_attribute() {
    let world = World::require(&[Service::Mysql]);
    let config = |pw: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name = "never_created_pw"
  password = "{pw}"
}}
"#
        )
    };
    treeherder_case()
        .envs(world.env().clone())
        .step(
            Step::config(config("short-password-1"))
                .plan_only()
                .expect_error(
                    Regex::new(r#"(?s)password = .*16 characters long; at least 30"#).unwrap(),
                ),
        )
        .step(
            Step::config(config("abcdefghij0123456789abcdefghij%41"))
                .plan_only()
                .expect_error(Regex::new(r#"(?s)password = .*percent sign"#).unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}

/// A low-level Terraform root (for commands the step runner does not issue: `-replace`,
/// `taint`, applies that are expected to fail halfway).
struct Root {
    tf: acceptance::harness::Terraform,
    secrets: Vec<String>,
}

impl Root {
    fn new(env: BTreeMap<String, String>, secrets: Vec<String>) -> Result<Root, String> {
        let tf = acceptance::harness::terraform_for(&[treeherder_provider()], env, secrets.clone())
            .map_err(|e| e.to_string())?;
        Ok(Root { tf, secrets })
    }

    /// Runs `args`, failing with the redacted output unless it succeeds.
    async fn ok(
        &self,
        work: &acceptance::harness::Workspace<'_>,
        args: &[&str],
    ) -> Result<(), String> {
        let out = work.run(args).await.map_err(|e| e.to_string())?;
        self.tf.require_success(out).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// `plan -detailed-exitcode` (refreshed) must be empty.
    async fn empty_plan(&self, work: &acceptance::harness::Workspace<'_>) -> Result<(), String> {
        let plan = work.plan(true).await.map_err(|e| e.to_string())?;
        if plan.has_changes {
            return Err(format!(
                "the plan is not empty:\n{}",
                self.tf.redact(&plan.text)
            ));
        }
        Ok(())
    }

    fn no_leaks(&self) -> Result<(), String> {
        let scan = self.tf.scan(&self.secrets).map_err(|e| e.to_string())?;
        if scan.leaks.is_empty() {
            Ok(())
        } else {
            Err(format!("secrets leaked: {:?}", scan.leaks))
        }
    }
}

const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false", "-no-color"];

/// Issue 9 finding 2: `-replace`, `taint` and a changed `name` replace the account (the old
/// one is dropped first, so the create-time existence check must not refuse it), and each
/// new account has the runbook's privileges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacement_by_replace_taint_and_a_new_name_works() {
    let world = World::require(&[Service::Mysql]);
    let (first, second) = (unique("repl"), unique("repl2"));
    let pw = password("rp", 'Z');
    let address = "treeherder_readonly_user.ro";
    let config = |name: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{name}"
  password = "{pw}"
}}
"#
        )
    };
    let mut secrets = world.secrets().to_vec();
    secrets.push(pw.clone());
    let outcome = async {
        let root = Root::new(world.env().clone(), secrets)?;
        let work = root.tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&config(&first))
            .map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        let runbook = |user: String| {
            let world = &world;
            async move {
                let mut conn = admin(world).await;
                let expected = runbook_privileges(&mut conn, "treeherder").await;
                let actual = privileges(&mut conn, &user).await;
                conn.disconnect().await.ok();
                if actual.as_ref() != Some(&expected) {
                    return Err(format!("{user} after the replacement: {actual:?}"));
                }
                Ok(())
            }
        };
        let result = async {
            root.ok(&work, APPLY).await?;
            let replace = format!("-replace={address}");
            let mut args = APPLY.to_vec();
            args.push(&replace);
            root.ok(&work, &args)
                .await
                .map_err(|e| format!("-replace: {e}"))?;
            runbook(first.clone()).await?;
            login(&world, &first, &pw, true)
                .await
                .map_err(|c| format!("login after -replace: {c}"))?;
            root.empty_plan(&work).await?;

            root.ok(&work, &["taint", "-no-color", address]).await?;
            root.ok(&work, APPLY)
                .await
                .map_err(|e| format!("after taint: {e}"))?;
            runbook(first.clone()).await?;
            root.empty_plan(&work).await?;

            work.write_config(&config(&second))
                .map_err(|e| e.to_string())?;
            root.ok(&work, APPLY)
                .await
                .map_err(|e| format!("new name: {e}"))?;
            runbook(second.clone()).await?;
            let mut conn = admin(&world).await;
            let old = privileges(&mut conn, &first).await;
            conn.disconnect().await.ok();
            if old.is_some() {
                return Err(format!("{first} survived the rename"));
            }
            root.empty_plan(&work).await
        }
        .await;
        let destroyed = work.destroy().await.map(|_| ()).map_err(|e| e.to_string());
        root.no_leaks()?;
        result?;
        destroyed
    }
    .await;
    drop_accounts(&world, &[first, second]).await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

/// The `tainted` flag of `address` in `terraform show -json`.
fn tainted(state: &acceptance::harness::State, address: &str) -> Option<bool> {
    state.raw()["values"]["root_module"]["resources"]
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| r["tainted"].as_bool().unwrap_or(false))
}

/// Issue 9 finding 3: a create that fails after CREATE USER (here a GRANT the admin may not
/// give) keeps the account in state, tainted; the next apply replaces it and destroy drops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_failing_halfway_is_saved_tainted_and_replaced() {
    let world = World::require(&[Service::Mysql]);
    let db = unique("thhalf");
    let limited = unique("half_admin");
    let limited_pw = password("ha", 'Z');
    let user = unique("half");
    let pw = password("hu", 'Z');
    let setup = [
        format!("CREATE DATABASE `{db}`"),
        format!("CREATE TABLE `{db}`.`group` (id int PRIMARY KEY)"),
        format!("CREATE TABLE `{db}`.`job` (id int PRIMARY KEY)"),
        format!("CREATE USER '{limited}'@'%' IDENTIFIED BY '{limited_pw}' REQUIRE SSL"),
        format!("GRANT CREATE USER ON *.* TO '{limited}'@'%'"),
        format!("GRANT SELECT ON mysql.* TO '{limited}'@'%'"),
        format!("GRANT SELECT ON `{db}`.`group` TO '{limited}'@'%' WITH GRANT OPTION"),
        // SELECT without GRANT OPTION: visible, so planned, but the GRANT fails (1142).
        format!("GRANT SELECT ON `{db}`.`job` TO '{limited}'@'%'"),
    ];
    for sql in setup {
        admin_sql(&world, [sql]).await.expect("setup");
    }
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name          = "{user}"
  password      = "{pw}"
  database      = "{db}"
  column_grants = {{}}
}}
"#
    );
    let address = "treeherder_readonly_user.ro";
    let mut env = world.env().clone();
    env.insert("TREEHERDER_MYSQL_USERNAME".into(), limited.clone());
    env.insert("TREEHERDER_MYSQL_PASSWORD".into(), limited_pw.clone());
    let mut secrets = world.secrets().to_vec();
    secrets.extend([pw.clone(), limited_pw.clone()]);
    let outcome = async {
        let root = Root::new(env, secrets)?;
        let work = root.tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&config).map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        let result = async {
            let out = work.run(APPLY).await.map_err(|e| e.to_string())?;
            if out.success() {
                return Err("the apply was expected to fail at GRANT ON job".to_string());
            }
            let text = root.tf.redact(&format!("{}\n{}", out.stdout, out.stderr));
            if !Regex::new(r"GRANT SELECT ON `[^`]+`\.`job`[\s\S]*1142")
                .unwrap()
                .is_match(&text)
            {
                return Err(format!("unexpected failure:\n{text}"));
            }
            let state = work.state().await.map_err(|e| e.to_string())?;
            if tainted(&state, address) != Some(true) {
                return Err(format!(
                    "the half-created account must be in state, tainted; got {:?}\n{text}",
                    tainted(&state, address)
                ));
            }
            let mut conn = admin(&world).await;
            let half = privileges(&mut conn, &user).await;
            conn.disconnect().await.ok();
            if half.is_none() {
                return Err("the account should exist after the failed create".into());
            }

            admin_sql(
                &world,
                [format!(
                    "GRANT SELECT ON `{db}`.`job` TO '{limited}'@'%' WITH GRANT OPTION"
                )],
            )
            .await?;
            let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
            let change = change_of(&plan, address)?;
            if change.actions != ["delete", "create"] {
                return Err(format!("expected a replacement, got {:?}", change.actions));
            }
            root.ok(&work, APPLY)
                .await
                .map_err(|e| format!("replacing: {e}"))?;
            let mut conn = admin(&world).await;
            let p = privileges(&mut conn, &user)
                .await
                .ok_or("account missing")?;
            conn.disconnect().await.ok();
            let granted: Vec<&str> = p.tables.keys().map(|(_, t)| t.as_str()).collect();
            if granted != ["group", "job"] {
                return Err(format!("grants after the replacement: {granted:?}"));
            }
            root.empty_plan(&work).await
        }
        .await;
        let destroyed = work.destroy().await.map(|_| ()).map_err(|e| e.to_string());
        root.no_leaks()?;
        result?;
        destroyed?;
        let mut conn = admin(&world).await;
        let left = privileges(&mut conn, &user).await;
        conn.disconnect().await.ok();
        match left {
            Some(_) => Err("destroy must drop the account".to_string()),
            None => Ok(()),
        }
    }
    .await;
    drop_accounts(&world, &[user, limited]).await;
    admin_sql(&world, [format!("DROP DATABASE IF EXISTS `{db}`")])
        .await
        .expect("drop scratch database");
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

/// Issue 9 finding 3: column names are checked at plan like table names, and a column listed
/// twice is refused; nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_repeated_columns_fail_the_plan() {
    let world = World::require(&[Service::Mysql]);
    let user = unique("cols");
    let pw = password("c", 'Z');
    let config = |columns: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name          = "{user}"
  password      = "{pw}"
  column_grants = {{ auth_user = [{columns}] }}
}}
"#
        )
    };
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(
            Step::config(config(r#""id", "no_such_column""#))
                .expect_error(
                    Regex::new(
                        r#"column_grants\s*=[\s\S]*no\s+column\s+"no_such_column";\s+its\s+columns\s+are[\s\S]*"username""#,
                    )
                    .unwrap(),
                ),
        )
        .step(
            Step::config(config(r#""id", "email", "id""#))
                .plan_only()
                .expect_error(Regex::new(r#"column_grants\s*=[\s\S]*"id"\s+more\s+than\s+once"#).unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let created = privileges(&mut conn, &user).await;
    conn.disconnect().await.ok();
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(created.is_none(), "a refused plan must create nothing");
}

/// Issue 9 finding 4: the server lower-cases hosts; an account with `host = "Example.COM"`
/// or `"LOCALHOST"` stays in state with the configured spelling and plans nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_compare_case_insensitively() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let (a, b) = (unique("hosta"), unique("hostb"));
    let pw = password("hc", 'Z');
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "a" {{
  name     = "{a}"
  host     = "Example.COM"
  password = "{pw}"
}}
resource "treeherder_readonly_user" "b" {{
  name     = "{b}"
  host     = "LOCALHOST"
  password = "{pw}"
}}
"#
    );
    let check = {
        let (a, b) = (a.clone(), b.clone());
        move |state: &acceptance::harness::State| -> Result<(), String> {
            for (address, user, host) in [
                ("treeherder_readonly_user.a", &a, "Example.COM"),
                ("treeherder_readonly_user.b", &b, "LOCALHOST"),
            ] {
                if state.attr_str(address, "host").as_deref() != Some(host) {
                    return Err(format!("{address}: host spelling not kept"));
                }
                if state.attr_str(address, "id") != Some(format!("{user}@{host}")) {
                    return Err(format!("{address}: id {:?}", state.attr_str(address, "id")));
                }
                let granted =
                    strings(&state.attr(address, "granted_tables").unwrap_or(Value::Null));
                if !granted.contains(&"job".to_string()) {
                    return Err(format!("{address}: granted_tables {granted:?}"));
                }
            }
            Ok(())
        }
    };
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(Step::config(config).check(check))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let mut left = Vec::new();
    for (user, host) in [(&a, "example.com"), (&b, "localhost")] {
        let rows: Vec<String> = conn
            .exec("SELECT User FROM mysql.user WHERE User = ?", (user,))
            .await
            .expect("mysql.user");
        left.extend(rows);
        conn.query_drop(format!("DROP USER IF EXISTS '{user}'@'{host}'"))
            .await
            .expect("cleanup");
    }
    conn.disconnect().await.ok();
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(left.is_empty(), "destroy left {left:?}");
}

/// Issue 9 finding 7: the provider's own login and accounts with more than SELECT can be
/// neither imported nor managed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_and_privileged_accounts_are_refused() {
    let world = World::require(&[Service::Mysql]);
    let login = world
        .get("TREEHERDER_MYSQL_USERNAME")
        .expect("admin user")
        .to_string();
    let writer = unique("writer");
    let writer_pw = password("w", 'Z');
    let pw = password("ad", 'Z');
    for sql in [
        format!("CREATE USER '{writer}'@'%' IDENTIFIED BY '{writer_pw}' REQUIRE SSL"),
        format!("GRANT SELECT, INSERT ON treeherder.job TO '{writer}'@'%'"),
    ] {
        admin_sql(&world, [sql]).await.expect("setup");
    }
    let config = |name: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "x" {{
  name     = "{name}"
  password = "{pw}"
}}
"#
        )
    };
    let address = "treeherder_readonly_user.x";
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .sensitive(writer_pw.clone())
        .step(
            Step::import(address)
                .import_id(format!("{login}@%"))
                .with_config(config(&login))
                .expect_error(Regex::new(r"account\s+the\s+provider\s+logs\s+in\s+with").unwrap()),
        )
        .step(
            Step::import(address)
                .import_id(format!("{writer}@%"))
                .with_config(config(&writer))
                .expect_error(
                    Regex::new(
                        r"privileges\s+beyond\s+SELECT[\s\S]*INSERT\s+on\s+`treeherder`\.`job`",
                    )
                    .unwrap(),
                ),
        )
        .step(
            Step::config(config(&login))
                .plan_only()
                .expect_error(Regex::new(r"account\s+the\s+provider\s+logs\s+in\s+with").unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let writer_left = privileges(&mut conn, &writer).await;
    conn.disconnect().await.ok();
    drop_accounts(&world, std::slice::from_ref(&writer)).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(
        writer_left.is_some_and(|p| p.ssl_type == "ANY"),
        "the privileged account must be left alone"
    );
}

/// Issue 9 finding 11: after a refresh `grant_statements` holds no statement, so a plan shows
/// exactly the statements its apply runs (nothing "removed" from the previous apply), and an
/// unchanged account shows no diff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_statements_show_only_the_coming_statements() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let user = unique("stmts");
    let (pw, pw2) = (password("s", 'Z'), password("s2", 'Z'));
    let config = |pw: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{user}"
  password = "{pw}"
}}
"#
        )
    };
    let address = "treeherder_readonly_user.ro";
    let revoke = |table: &'static str| {
        let (world, user) = (world.clone(), user.clone());
        move || {
            let (world, user) = (world.clone(), user.clone());
            async move {
                admin_sql(
                    &world,
                    [format!(
                        "REVOKE SELECT ON treeherder.`{table}` FROM '{user}'@'%'"
                    )],
                )
                .await
            }
        }
    };
    let expect = |expected: Vec<String>| {
        move |plan: &Plan| -> CheckResult {
            let change = change_of(plan, address)?;
            let before = strings(&change.before["grant_statements"]);
            let after = strings(&change.after["grant_statements"]);
            if !before.is_empty() || after != expected {
                return Err(format!("grant_statements {before:?} -> {after:?}").into());
            }
            Ok(())
        }
    };
    let grant_job = format!("GRANT SELECT ON `treeherder`.`job` TO '{user}'@'%'");
    let grant_group = format!("GRANT SELECT ON `treeherder`.`group` TO '{user}'@'%'");
    let alter = format!("ALTER USER '{user}'@'%' IDENTIFIED BY '<password>'");
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .sensitive(pw2.clone())
        .step(Step::config(config(&pw)))
        .step(
            Step::config(config(&pw))
                .pre_step_async(revoke("job"))
                .plan_check(expect(vec![grant_job])),
        )
        .step(
            Step::config(config(&pw2))
                .pre_step_async(revoke("group"))
                .plan_check(expect(vec![alter, grant_group])),
        )
        .try_run()
        .await;
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Issue 9 finding 10: a name the server's utf8mb3 privilege tables cannot compare (ERROR 1267)
/// is refused at `name` before any SQL runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_outside_the_basic_multilingual_plane_fail_at_the_attribute() {
    let world = World::require(&[Service::Mysql]);
    let pw = password("e", 'Z');
    treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(
            Step::config(format!(
                r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "reader_😀"
  password = "{pw}"
}}
"#
            ))
            .plan_only()
            .expect_error(Regex::new(r"name\s*=[\s\S]*Basic\s+Multilingual\s+Plane").unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}

/// A database that does not exist is an error at `database`, not a "MySQL error" at the block.
#[tokio::test]
async fn an_unknown_database_fails_the_plan_at_the_attribute() {
    let world = World::require(&[Service::Mysql]);
    let pw = password("f", 'Z');
    treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(
            Step::config(format!(
                r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{name}"
  password = "{pw}"
  database = "no_such_database_here"
}}
"#,
                name = unique("nodb")
            ))
            .plan_only()
            .expect_error(
                Regex::new(r#"Unknown database[\s\S]*database\s*=\s*"no_such_database_here"[\s\S]*does not exist"#)
                    .unwrap(),
            ),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}

/// Two write-only accounts (Terraform 1.11.4): one fed by an ephemeral variable (a known
/// password, for the login checks), one by `ephemeral.treeherder_password`.
fn write_only_config(known: &str, generated: &str, var: &str, version: u64) -> String {
    format!(
        r#"{PROVIDER_CONFIG}
variable "pw1" {{
  type      = string
  sensitive = true
  ephemeral = true
}}
variable "pw2" {{
  type      = string
  sensitive = true
  ephemeral = true
}}
ephemeral "treeherder_password" "generated" {{}}

resource "treeherder_readonly_user" "known" {{
  name                = "{known}"
  password_wo         = var.{var}
  password_wo_version = {version}
}}
resource "treeherder_readonly_user" "generated" {{
  name                = "{generated}"
  password_wo         = ephemeral.treeherder_password.generated.result
  password_wo_version = 1
}}
"#
    )
}

/// Fails when one of `secrets` occurs anywhere in `what`'s JSON.
fn absent(what: &str, json: &Value, secrets: &[&str]) -> Result<(), String> {
    let text = json.to_string();
    if secrets.iter().any(|s| text.contains(s)) {
        return Err(format!("a password appears in the {what}"));
    }
    Ok(())
}

/// No password attribute holds a value in a state's or plan's object.
fn no_password_values(values: &Value) -> Result<(), String> {
    for attribute in ["password", "password_wo"] {
        if values.get(attribute).is_some_and(|v| !v.is_null()) {
            return Err(format!("{attribute} holds a value: {}", values[attribute]));
        }
    }
    Ok(())
}

/// `password_wo`: the state and saved plans never hold the password, logins work over TLS
/// (only), a bump of `password_wo_version` rotates it (old refused, new accepted), a changed
/// write-only value without a bump changes nothing, and an account fed by
/// `ephemeral.treeherder_password` is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_passwords_stay_out_of_state_and_rotate_by_version() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let known = unique("wo_known");
    let generated = unique("wo_gen");
    let (pw1, pw2) = (password("w", 'Z'), password("v", 'Z'));
    let known_addr = "treeherder_readonly_user.known";
    let generated_addr = "treeherder_readonly_user.generated";

    let created = {
        let (world, known, generated, pw1, pw2) = (
            world.clone(),
            known.clone(),
            generated.clone(),
            pw1.clone(),
            pw2.clone(),
        );
        move |state: acceptance::harness::State| {
            let (world, known, generated, pw1, pw2) = (
                world.clone(),
                known.clone(),
                generated.clone(),
                pw1.clone(),
                pw2.clone(),
            );
            async move {
                absent("state", state.raw(), &[&pw1, &pw2])?;
                for address in [known_addr, generated_addr] {
                    let values = state
                        .resource(address)
                        .ok_or(format!("{address} is not in state"))?
                        .values;
                    no_password_values(&values)?;
                    state.expect_attr(address, "password_wo_version", 1)?;
                }
                login(&world, &known, &pw1, true)
                    .await
                    .map_err(|c| format!("{known} cannot log in over TLS: {c}"))?;
                if login(&world, &known, &pw1, false).await != Err(1045) {
                    return Err(format!("{known} logs in without TLS"));
                }
                let mut conn = admin(&world).await;
                let made = privileges(&mut conn, &generated)
                    .await
                    .ok_or(format!("{generated} was not created"))?;
                conn.disconnect().await.ok();
                if made.ssl_type != "ANY" || made.tables.is_empty() {
                    return Err(format!("{generated}: {made:?}"));
                }
                Ok::<(), String>(())
            }
        }
    };
    let rotated = {
        let (world, known, pw1, pw2) = (world.clone(), known.clone(), pw1.clone(), pw2.clone());
        move |state: acceptance::harness::State| {
            let (world, known, pw1, pw2) = (world.clone(), known.clone(), pw1.clone(), pw2.clone());
            async move {
                absent("state", state.raw(), &[&pw1, &pw2])?;
                state.expect_attr(known_addr, "password_wo_version", 2)?;
                login(&world, &known, &pw2, true)
                    .await
                    .map_err(|c| format!("the new password is refused: {c}"))?;
                if login(&world, &known, &pw1, true).await != Err(1045) {
                    return Err("the old password still works".to_string());
                }
                Ok::<(), String>(())
            }
        }
    };
    let (p1, p2) = (pw1.clone(), pw2.clone());
    let (q1, q2) = (pw1.clone(), pw2.clone());
    let expected_alter = format!("ALTER USER '{known}'@'%' IDENTIFIED BY '<password>'");
    let result = treeherder_case()
        .terraform_latest()
        .envs(world.env().clone())
        .env("TF_VAR_pw1", pw1.clone())
        .env("TF_VAR_pw2", pw2.clone())
        .sensitive(pw1.clone())
        .sensitive(pw2.clone())
        .step(
            Step::config(write_only_config(&known, &generated, "pw1", 1))
                .plan_check(move |plan| -> CheckResult {
                    absent("saved plan", plan.raw(), &[&p1, &p2])?;
                    for address in [known_addr, generated_addr] {
                        let change = change_of(plan, address)?;
                        if change.actions != ["create"] {
                            return Err(format!("{address}: {:?}", change.actions).into());
                        }
                        no_password_values(&change.after)?;
                    }
                    Ok(())
                })
                .check_async(created),
        )
        .step(
            Step::config(write_only_config(&known, &generated, "pw2", 2))
                .plan_check(move |plan| -> CheckResult {
                    absent("saved plan", plan.raw(), &[&q1, &q2])?;
                    let change = change_of(plan, known_addr)?;
                    only_changes(&change, &["grant_statements", "password_wo_version"])?;
                    no_password_values(&change.after)?;
                    let statements = strings(&change.after["grant_statements"]);
                    if statements != [expected_alter.clone()] {
                        return Err(format!("planned SQL: {statements:?}").into());
                    }
                    if !change_of(plan, generated_addr)?.is_no_op() {
                        return Err("the generated account must not change".into());
                    }
                    Ok(())
                })
                .check_async(rotated),
        )
        .step(
            // Another write-only value without a version bump: the plan (refreshed or not)
            // must be empty, so nothing is sent.
            Step::config(write_only_config(&known, &generated, "pw1", 2)).plan_only(),
        )
        .try_run()
        .await;
    drop_accounts(&world, &[known, generated]).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Both passwords: an error at validate; neither, for a new account: an error at plan (an
/// imported one may omit both, see readonly_user_adopt.rs), each saying what to set;
/// Terraform 1.0.3 is told `password_wo` needs 1.11.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_arguments_are_checked_at_validate() {
    let world = World::require(&[Service::Mysql]);
    let name = unique("wo_bad");
    let resource = |body: &str| {
        format!("{PROVIDER_CONFIG}\nresource \"treeherder_readonly_user\" \"x\" {{\n  name = \"{name}\"\n{body}}}\n")
    };
    let pw = password("b", 'Z');
    // A variable, not a literal: Terraform quotes the configuration line of an error.
    let variable = "variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n";
    let both = format!(
        "{}{variable}",
        resource("  password = var.pw\n  password_wo = var.pw\n  password_wo_version = 1\n")
    );
    treeherder_case()
        .terraform_latest()
        .envs(world.env().clone())
        .env("TF_VAR_pw", pw.clone())
        .sensitive(pw.clone())
        .step(
            Step::config(resource("")).plan_only().expect_error(
                Regex::new(r"(?s)Missing required argument.*password is required.*password_wo")
                    .expect("regex"),
            ),
        )
        .step(Step::config(both).plan_only().expect_error(
            Regex::new(r"(?s)Conflicting password arguments.*only one of").expect("regex"),
        ))
        .step(
            Step::config(resource(
                "  password_wo = \"short\"\n  password_wo_version = 1\n",
            ))
            .plan_only()
            .expect_error(Regex::new(r"(?s)Invalid password.*at least 30").expect("regex")),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;

    let old = acceptance::harness::repo_root().join(".tools/bin/terraform");
    treeherder_case()
        .terraform(acceptance::harness::TerraformVersion::Binary(old))
        .envs(world.env().clone())
        .env("TF_VAR_pw", pw.clone())
        .sensitive(pw.clone())
        .step(
            Step::config(format!(
                "{}{variable}",
                resource("  password_wo = var.pw\n  password_wo_version = 1\n")
            ))
            .plan_only()
            .expect_error(
                Regex::new(r"(?s)Write-only attribute needs Terraform 1\.11.*password_wo")
                    .expect("regex"),
            ),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}

/// `mysql.tunnels`: the provider is configured with an RDS endpoint name (which is never
/// resolved) mapped to the world's MariaDB, and the certificate is verified against that name
/// (the world's certificate carries `*.aaaaaaaaaa.us-east-1.rds.amazonaws.com`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rds_endpoint_through_a_tunnel() {
    let world = World::require(&[Service::Mysql]);
    let local = world
        .get("TREEHERDER_MYSQL_ENDPOINT")
        .expect("endpoint")
        .to_owned();
    let rds = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306";
    let name = unique("tunnel");
    let pw = password("tn", 'Z');
    let config = |endpoint: &str| {
        format!(
            r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}
provider "treeherder" {{
  mysql {{
    endpoint = "{endpoint}"
    tls_mode = "verify_identity"
    tunnels  = {{ "{endpoint}" = "{local}" }}
  }}
}}
resource "treeherder_readonly_user" "ro" {{
  name     = "{name}"
  password = "{pw}"
}}
"#
        )
    };
    let check = move |state: &acceptance::harness::State| -> Result<(), String> {
        let granted = strings(
            &state
                .attr("treeherder_readonly_user.ro", "granted_tables")
                .unwrap_or(Value::Null),
        );
        if granted.contains(&"job".to_string()) {
            Ok(())
        } else {
            Err(format!("granted_tables {granted:?}"))
        }
    };
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        // The same tunnel under a name the certificate lacks is refused: the name verified
        // is the endpoint's, not the local address's.
        .step(
            Step::config(config("db.example.invalid:3306"))
                .plan_only()
                .expect_error(Regex::new(r"not valid for name").unwrap()),
        )
        .step(Step::config(config(rds)).check(check))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let left: Vec<String> = conn
        .exec("SELECT User FROM mysql.user WHERE User = ?", (&name,))
        .await
        .expect("mysql.user");
    conn.query_drop(format!("DROP USER IF EXISTS '{name}'@'%'"))
        .await
        .expect("cleanup");
    conn.disconnect().await.ok();
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(left.is_empty(), "destroy left {left:?}");
}
