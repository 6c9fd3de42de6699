//! Helpers shared by the tests that use the world's TLS MariaDB: names unique to the run,
//! passwords the account rules accept, and logins over verified TLS.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use acceptance::harness::{Plan, ResourceChange, World};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, SslOpts};
use serde_json::Value;

/// A name part unique to this process and call (tests of one binary run in parallel).
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}_{:x}{:x}{n}",
        std::process::id() % 0x1000,
        nanos % 0x10000
    )
}

/// A valid password (40 characters) unique to the call; the `_` of [`unique`] becomes
/// `separator` (`'Z'` for letters and digits only, `'-'` to include a dash).
pub fn password(tag: &str, separator: char) -> String {
    let base = unique(tag).replace('_', &separator.to_string());
    format!("{base}{}", "Qx7".repeat(14))[..40].to_string()
}

/// A login as `user` to the world's MariaDB, over TLS when `tls`: the default `SslOpts`
/// verify the chain (the world's CA only) and the host name (the certificate's IP SAN).
pub fn opts(world: &World, user: &str, pass: &str, tls: bool) -> OptsBuilder {
    let endpoint = world.get("TREEHERDER_MYSQL_ENDPOINT").expect("endpoint");
    let (host, port) = endpoint.rsplit_once(':').expect("host:port");
    let mut opts = OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(port.parse().expect("port"))
        .user(Some(user))
        .pass(Some(pass))
        .prefer_socket(false);
    if tls {
        let ca = PathBuf::from(world.get("TREEHERDER_MYSQL_TLS_CA_FILE").expect("CA"));
        opts = opts.ssl_opts(Some(
            SslOpts::default()
                .with_root_certs(vec![ca.into()])
                .with_disable_built_in_roots(true),
        ));
    }
    opts
}

/// The world's admin login, over verified TLS when `tls`.
pub fn admin_opts(world: &World, tls: bool) -> OptsBuilder {
    let user = world.get("TREEHERDER_MYSQL_USERNAME").expect("admin user");
    let pass = world
        .get("TREEHERDER_MYSQL_PASSWORD")
        .expect("admin password");
    opts(world, user, pass, tls)
}

/// The world's admin, connected over verified TLS.
pub async fn try_admin(world: &World) -> Result<Conn, String> {
    Conn::new(admin_opts(world, true))
        .await
        .map_err(|e| format!("admin login: {e}"))
}

/// [`try_admin`], panicking when the admin cannot log in.
pub async fn admin(world: &World) -> Conn {
    try_admin(world).await.expect("admin TLS connection")
}

/// Runs `statements` in order as the admin, stopping at the first that fails.
pub async fn admin_sql<S: AsRef<str>>(
    world: &World,
    statements: impl IntoIterator<Item = S>,
) -> Result<(), String> {
    let mut conn = try_admin(world).await?;
    let mut done = Ok(());
    for (i, sql) in statements.into_iter().enumerate() {
        if let Err(e) = conn.query_drop(sql.as_ref()).await {
            done = Err(format!("admin statement {i}: {e}"));
            break;
        }
    }
    conn.disconnect().await.ok();
    done
}

/// The password hash the server stores for `user`@`%`.
pub async fn password_hash(world: &World, user: &str) -> Result<String, String> {
    let mut conn = try_admin(world).await?;
    let hash: Option<String> = conn
        .exec_first(
            "SELECT authentication_string FROM mysql.user WHERE User = ? AND Host = '%'",
            (user,),
        )
        .await
        .map_err(|e| e.to_string())?;
    conn.disconnect().await.ok();
    hash.filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{user}@% has no password hash"))
}

/// The planned change of `address`, or an error saying the plan has none.
pub fn change_of(plan: &Plan, address: &str) -> Result<ResourceChange, String> {
    plan.change(address)
        .ok_or_else(|| format!("the plan does not mention {address}"))
}

/// The strings of a JSON array (nothing for anything else).
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
