//! `treeherder_readonly_user` through real Terraform 1.0.3 against the TLS MariaDB of `make up`.
//!
//! Every test uses account (and scratch database) names unique to the run, so the tests may
//! run in parallel, and removes what it created even when it fails. Privileges are checked
//! from the `mysql.*` tables, logins with real connections.

#[path = "../mysql_common/mod.rs"]
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

mod drift;
mod refusals;
mod runbook;
mod tables;
mod write_only;
