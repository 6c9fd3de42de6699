//! `treeherder_database_password` through real Terraform (1.11.4 for `password_wo`, 1.0.3 for
//! `password` and sync) against an in-process sandbox (one per test) and the world's TLS
//! MariaDB. Each test makes its own `th_admin`-like account, points `treeherder-stage`'s
//! `DATABASE_URL` at it, and checks the server with real TLS logins: the old password fails,
//! the new one works, `DATABASE_URL` differs only in its password part, one release per
//! change, and no password reaches the state (with `password_wo`), saved plans or logs.

#[path = "../mysql_common/mod.rs"]
mod mysql_common;

use std::sync::Arc;

use acceptance::harness::{
    heroku_provider_config, SandboxControl, SandboxWorld, Service, State, Step, World,
    PROVIDER_CONFIG,
};
use acceptance::harness::{treeherder_case, treeherder_provider};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::{admin, admin_sql, opts, password, unique};
use regex::Regex;
use reqwest::Method;
use serde_json::{json, Value};

const API_KEY: &str = "database-password-acceptance-key-8e1f03";

const APP: &str = "treeherder-stage";

const ADDR: &str = "treeherder_database_password.stage";

/// Logs in as `user` over TLS: `Ok` only for an encrypted session, else the server's code.
async fn login(world: &World, user: &str, pass: &str) -> Result<(), String> {
    let mut conn = match Conn::new(opts(world, user, pass, true)).await {
        Ok(conn) => conn,
        Err(mysql_async::Error::Server(e)) => return Err(format!("server error {}", e.code)),
        Err(other) => return Err(format!("login as {user}: {other}")),
    };
    let cipher: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .map_err(|e| e.to_string())?;
    conn.disconnect().await.ok();
    match cipher {
        Some((_, c)) if !c.is_empty() => Ok(()),
        _ => Err(format!("{user}'s session is not encrypted")),
    }
}

async fn must_log_in(world: &World, user: &str, pass: &str, what: &str) -> Result<(), String> {
    login(world, user, pass)
        .await
        .map_err(|e| format!("{what} does not log in over TLS: {e}"))
}

async fn must_not_log_in(world: &World, user: &str, pass: &str, what: &str) -> Result<(), String> {
    match login(world, user, pass).await {
        Err(e) if e == "server error 1045" => Ok(()),
        Err(e) => Err(format!("{what}: expected access denied, got {e}")),
        Ok(()) => Err(format!("{what} still logs in")),
    }
}

/// `password_last_changed` of the account (MariaDB's `mysql.global_priv`), in seconds.
async fn password_last_changed(world: &World, user: &str) -> Option<i64> {
    let mut conn = admin(world).await;
    let value: Option<Option<i64>> = conn
        .exec_first(
            "SELECT CAST(JSON_VALUE(Priv, '$.password_last_changed') AS SIGNED) \
             FROM mysql.global_priv WHERE User = ? AND Host = '%'",
            (user,),
        )
        .await
        .expect("mysql.global_priv");
    conn.disconnect().await.ok();
    value.flatten()
}

/// The test's account and the app's `DATABASE_URL` pointing at it with `old`.
struct Fixture {
    mysql: Arc<World>,
    sandbox: SandboxWorld,
    user: String,
    /// `DATABASE_URL` as first set.
    url: String,
}

impl Fixture {
    async fn new(old: &str) -> Fixture {
        let mysql = Arc::new(World::require(&[Service::Mysql]));
        let sandbox = SandboxWorld::start(API_KEY).await;
        let user = unique("dbpw");
        admin_sql(
            &mysql,
            [format!(
                "CREATE USER '{user}'@'%' IDENTIFIED BY '{old}' REQUIRE SSL"
            )],
        )
        .await
        .expect("admin statement");
        let endpoint = mysql.get("TREEHERDER_MYSQL_ENDPOINT").expect("endpoint");
        // A query string and a port, to see them kept byte for byte.
        let url = format!("mysql://{user}:{old}@{endpoint}/treeherder?ssl=true&charset=utf8mb4");
        set_url(&sandbox.handle(), &url).await;
        Fixture {
            mysql,
            sandbox,
            user,
            url,
        }
    }

    fn env(&self) -> std::collections::BTreeMap<String, String> {
        let mut env = self.mysql.env().clone();
        env.extend(self.sandbox.env());
        env
    }

    async fn drop_account(&self) {
        admin_sql(
            &self.mysql,
            [format!("DROP USER IF EXISTS '{}'@'%'", self.user)],
        )
        .await
        .expect("admin statement");
    }
}

async fn set_url(control: &SandboxControl, url: &str) {
    control
        .heroku(
            Method::PATCH,
            &format!("/apps/{APP}/config-vars"),
            Some(json!({ "DATABASE_URL": url })),
        )
        .await;
}

async fn current_url(control: &SandboxControl) -> String {
    let vars = control
        .heroku(Method::GET, &format!("/apps/{APP}/config-vars"), None)
        .await;
    vars["DATABASE_URL"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn newest_release(control: &SandboxControl) -> u64 {
    let releases = control
        .heroku(Method::GET, &format!("/apps/{APP}/releases"), None)
        .await;
    releases
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["version"].as_u64())
        .max()
        .unwrap_or(0)
}

fn absent(what: &str, value: &Value, secrets: &[&str]) -> Result<(), String> {
    let text = value.to_string();
    match secrets.iter().position(|s| text.contains(s)) {
        Some(i) => Err(format!("password #{i} is in the {what}")),
        None => Ok(()),
    }
}

fn config(user: &str, arguments: &str) -> String {
    format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_database_password" "stage" {{
  app      = "{APP}"
  username = "{user}"
{arguments}
}}
"#
    )
}

/// What a finished rotation to `new` from `old` must look like.
async fn rotated(
    world: &World,
    control: &SandboxControl,
    user: &str,
    old: &str,
    new: &str,
    expected_url: &str,
    releases_before: u64,
) -> Result<(), String> {
    must_log_in(world, user, new, "the new password").await?;
    must_not_log_in(world, user, old, "the old password").await?;
    let url = current_url(control).await;
    if url != expected_url {
        return Err("DATABASE_URL is not the old one with only its password replaced".to_string());
    }
    let newest = newest_release(control).await;
    if newest != releases_before + 1 {
        return Err(format!(
            "{} releases were made, expected one",
            newest - releases_before
        ));
    }
    Ok(())
}

fn in_sync(state: &State) -> Result<(), String> {
    state.expect_attr(ADDR, "in_sync", true)?;
    state.expect_attr_set(ADDR, "rotated_at")
}

mod half_done;
mod rotation;
