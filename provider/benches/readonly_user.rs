//! SQL round trips and wall time of `treeherder_readonly_user`'s Read (refresh), Plan and
//! Create at 10, 100 and 1,000 tables, against the TLS MariaDB of `make up`. Printed, not
//! asserted. Read must take the same number of queries whatever the number of tables.
//!
//! Run: `make up && cargo bench -p terraform-provider-treeherder --bench readonly_user`.
//! The MySQL settings come from the TREEHERDER_MYSQL_* environment or `.run/mysql/env`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use terraform_provider_treeherder::clients::mysql::{
    plan_statements, Account, DesiredUser, Identifier, MysqlClient, MysqlConfig, MysqlError,
    Password, TlsMode,
};

const SIZES: [usize; 3] = [10, 100, 1000];

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("the MySQL world is not running ({0}); run `make up` first")]
    World(String),
    #[error(transparent)]
    Mysql(#[from] MysqlError),
    #[error("setup SQL failed: {0}")]
    Setup(#[from] mysql_async::Error),
}

fn settings() -> Result<BTreeMap<String, String>, BenchError> {
    if std::env::var_os("TREEHERDER_MYSQL_ENDPOINT").is_some() {
        return Ok(std::env::vars()
            .filter(|(k, _)| k.starts_with("TREEHERDER_MYSQL_"))
            .collect());
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.run/mysql/env");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| BenchError::World(format!("{}: {e}", path.display())))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}

fn config(vars: &BTreeMap<String, String>) -> Result<MysqlConfig, BenchError> {
    let get = |k: &str| {
        vars.get(k)
            .cloned()
            .ok_or_else(|| BenchError::World(format!("{k} missing")))
    };
    let mut config = MysqlConfig::new(
        get("TREEHERDER_MYSQL_ENDPOINT")?,
        get("TREEHERDER_MYSQL_USERNAME")?,
        get("TREEHERDER_MYSQL_PASSWORD")?,
    );
    config.tls_ca_file = vars.get("TREEHERDER_MYSQL_TLS_CA_FILE").map(PathBuf::from);
    config.tls_mode = match vars.get("TREEHERDER_MYSQL_TLS_MODE") {
        Some(mode) => mode.parse().map_err(MysqlError::from)?,
        None => TlsMode::VerifyIdentity,
    };
    Ok(config)
}

/// A plain admin connection for the scratch schema (DDL the client does not offer).
async fn admin(config: &MysqlConfig) -> Result<mysql_async::Conn, BenchError> {
    let endpoint = config.validate().map_err(MysqlError::from)?;
    let mut ssl = mysql_async::SslOpts::default();
    if let Some(ca) = &config.tls_ca_file {
        ssl = ssl
            .with_root_certs(vec![ca.clone().into()])
            .with_disable_built_in_roots(true);
    }
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(endpoint.host)
        .tcp_port(endpoint.port)
        .user(Some(config.username.clone()))
        .pass(Some(config.password.expose().to_owned()))
        .prefer_socket(false)
        .ssl_opts(Some(ssl));
    Ok(mysql_async::Conn::new(opts).await?)
}

struct Measure {
    queries: u64,
    time: Duration,
}

async fn measured<T, F>(client: &MysqlClient, f: F) -> Result<(T, Measure), BenchError>
where
    F: std::future::Future<Output = Result<T, BenchError>>,
{
    let before = client.query_count();
    let start = Instant::now();
    let value = f.await?;
    Ok((
        value,
        Measure {
            queries: client.query_count() - before,
            time: start.elapsed(),
        },
    ))
}

async fn bench_size(
    base: &MysqlConfig,
    conn: &mut mysql_async::Conn,
    tables: usize,
) -> Result<[Measure; 3], BenchError> {
    let db = format!("bench_ro_{}_{tables}", std::process::id());
    conn.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
        .await?;
    conn.query_drop(format!("CREATE DATABASE `{db}`")).await?;
    let mut ddl = format!(
        "CREATE TABLE `{db}`.`auth_user` (id int PRIMARY KEY, username varchar(150), email varchar(254), password varchar(128));"
    );
    for i in 0..tables.saturating_sub(1) {
        ddl.push_str(&format!(
            "CREATE TABLE `{db}`.`t_{i:04}` (id int PRIMARY KEY);"
        ));
    }
    conn.query_drop(ddl).await?;

    let mut config = base.clone();
    config.database = db.clone();
    let client = MysqlClient::connect(config).await?;
    let account = Account::new(&format!("bench_{}_{tables}", std::process::id()), "%")
        .map_err(MysqlError::from)?;
    let database = Identifier::database(&db).map_err(MysqlError::from)?;
    let password =
        Password::new("BenchPassword0123456789abcdefXYZ".to_owned()).map_err(MysqlError::from)?;

    let result = async {
        // Create: what the resource's create runs (list tables, then the statements).
        let (_, create) = measured(&client, async {
            let names = client.list_tables(&db).await?;
            let ids: Vec<Identifier> = names
                .iter()
                .filter_map(|t| Identifier::table(t).ok())
                .collect();
            let (table_grants, column_grants) =
                terraform_provider_treeherder::clients::mysql::runbook_grants(&ids);
            let desired = DesiredUser {
                account: account.clone(),
                database: database.clone(),
                password: password.clone(),
                password_changed: true,
                require_ssl: true,
                table_grants,
                column_grants,
            };
            client.apply(&plan_statements(None, &desired)).await?;
            Ok(())
        })
        .await?;
        // Read: the resource's refresh.
        let (state, read) = measured(&client, async {
            Ok(client.read_user_in(&account, &database).await?)
        })
        .await?;
        let granted = state.map(|s| s.table_grants.len()).unwrap_or(0);
        if granted != tables - 1 {
            return Err(BenchError::World(format!(
                "expected {} table grants, read {granted}",
                tables - 1
            )));
        }
        // Plan: list tables + read + writability check, as modify_plan does with changes.
        let (_, plan) = measured(&client, async {
            client.list_tables(&db).await?;
            client.read_user_in(&account, &database).await?;
            client.check_writable().await?;
            Ok(())
        })
        .await?;
        Ok([read, plan, create])
    }
    .await;
    client.drop_user(&account).await.ok();
    client.disconnect().await.ok();
    conn.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))
        .await?;
    result
}

async fn run() -> Result<(), BenchError> {
    let config = config(&settings()?)?;
    let mut conn = admin(&config).await?;
    println!("treeherder_readonly_user against {}", config.endpoint);
    println!(
        "{:>7} | {:>12} {:>10} | {:>12} {:>10} | {:>14} {:>10}",
        "tables",
        "read queries",
        "read ms",
        "plan queries",
        "plan ms",
        "create queries",
        "create ms"
    );
    for tables in SIZES {
        let [read, plan, create] = bench_size(&config, &mut conn, tables).await?;
        println!(
            "{tables:>7} | {:>12} {:>10.1} | {:>12} {:>10.1} | {:>14} {:>10.1}",
            read.queries,
            read.time.as_secs_f64() * 1e3,
            plan.queries,
            plan.time.as_secs_f64() * 1e3,
            create.queries,
            create.time.as_secs_f64() * 1e3,
        );
    }
    conn.disconnect().await.ok();
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("readonly_user bench: {e}");
            ExitCode::FAILURE
        }
    }
}
