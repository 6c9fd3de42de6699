//! Integration tests of the MySQL client against a real MariaDB/MySQL server.
//!
//! Connection: `TREEHERDER_MYSQL_TEST_ENDPOINT` (default `127.0.0.1:3306`),
//! `TREEHERDER_MYSQL_TEST_USERNAME` (default `root`), `TREEHERDER_MYSQL_TEST_PASSWORD`
//! (default empty), `TREEHERDER_MYSQL_TEST_TLS_MODE` (`disabled` by default, which the client
//! allows for loopback hosts only; or `verify_identity` / `verify_ca`) and
//! `TREEHERDER_MYSQL_TEST_TLS_CA_FILE`. The admin account needs CREATE USER, SELECT on mysql.*
//! and rights to create databases. Each test creates its own database and accounts with unique
//! names and drops them at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use terraform_provider_treeherder::clients::mysql::{
    runbook_grants, statements, validate_password, Account, AccountSession, ConfigError,
    DesiredUser, Identifier, MysqlClient, MysqlConfig, MysqlError, Password, PasswordError,
    StatementKind, TlsMode, Tunnels,
};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn endpoint() -> String {
    env_or("TREEHERDER_MYSQL_TEST_ENDPOINT", "127.0.0.1:3306")
}

fn tls_mode() -> TlsMode {
    env_or("TREEHERDER_MYSQL_TEST_TLS_MODE", "disabled")
        .parse()
        .unwrap()
}

fn ca_file() -> Option<std::path::PathBuf> {
    std::env::var_os("TREEHERDER_MYSQL_TEST_TLS_CA_FILE").map(Into::into)
}

fn admin_config(database: &str) -> MysqlConfig {
    MysqlConfig {
        database: database.to_owned(),
        tls_mode: tls_mode(),
        tls_ca_file: ca_file(),
        ..MysqlConfig::new(
            endpoint(),
            env_or("TREEHERDER_MYSQL_TEST_USERNAME", "root"),
            env_or("TREEHERDER_MYSQL_TEST_PASSWORD", ""),
        )
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A raw driver connection (not through the client under test), for fixtures and for
/// logging in as the created accounts; TLS (verifying the test CA) when `tls` is set.
async fn raw_conn_tls(
    user: &str,
    password: &str,
    tls: bool,
) -> mysql_async::Result<mysql_async::Conn> {
    let (host, port) = endpoint()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_owned(), p.parse().unwrap()))
        .unwrap();
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(port)
        .user(Some(user))
        .pass(Some(password))
        .prefer_socket(false);
    let opts = if tls {
        let mut ssl = mysql_async::SslOpts::default();
        if let Some(ca) = ca_file() {
            ssl = ssl.with_root_certs(vec![std::fs::read(ca).unwrap().into()]);
        }
        opts.ssl_opts(Some(ssl))
    } else {
        opts
    };
    mysql_async::Conn::new(opts).await
}

fn tls_configured() -> bool {
    tls_mode() != TlsMode::Disabled
}

/// Logs in without TLS.
async fn raw_conn(user: &str, password: &str) -> mysql_async::Result<mysql_async::Conn> {
    raw_conn_tls(user, password, false).await
}

async fn admin_conn() -> mysql_async::Conn {
    raw_conn_tls(
        &env_or("TREEHERDER_MYSQL_TEST_USERNAME", "root"),
        &env_or("TREEHERDER_MYSQL_TEST_PASSWORD", ""),
        tls_configured(),
    )
    .await
    .unwrap()
}

/// Treeherder's application tables in the MySQL era, plus Django's and auth's.
const APP_TABLES: &[&str] = &[
    "product",
    "build_platform",
    "option",
    "repository_group",
    "repository",
    "push",
    "commit",
    "machine_platform",
    "bugscache",
    "bugzilla_component",
    "machine",
    "job_group",
    "option_collection",
    "job_type",
    "failure_classification",
    "reference_data_signatures",
    "job",
    "taskcluster_metadata",
    "job_log",
    "bug_job_map",
    "job_note",
    "failure_line",
    "group",
    "group_status",
    "classified_failure",
    "text_log_error",
    "text_log_error_metadata",
    "text_log_error_match",
    "performance_framework",
    "performance_signature",
    "performance_datum",
    "performance_alert_summary",
    "performance_alert",
    "issue_tracker",
    "backfill_report",
    "backfill_record",
];

const DJANGO_TABLES: &[&str] = &[
    "django_content_type",
    "auth_group",
    "auth_group_permissions",
    "auth_permission",
    "auth_user_groups",
    "auth_user_user_permissions",
];

/// A throwaway database; call [`Fixture::cleanup`] at the end of the test.
struct Fixture {
    database: String,
    users: Vec<Account>,
    conn: mysql_async::Conn,
}

impl Fixture {
    async fn new(tables: &[&str]) -> Fixture {
        let database = unique("thtest");
        let mut conn = admin_conn().await;
        conn.query_drop(format!("CREATE DATABASE `{database}`"))
            .await
            .unwrap();
        let mut fixture = Fixture {
            database,
            users: Vec::new(),
            conn,
        };
        for table in tables {
            fixture.create_table(table).await;
        }
        fixture
    }

    async fn treeherder() -> Fixture {
        let mut fixture = Fixture::new(APP_TABLES).await;
        fixture
            .create_table_sql(
                "CREATE TABLE `{db}`.`auth_user` (id INT AUTO_INCREMENT PRIMARY KEY, \
             password VARCHAR(128) NOT NULL, last_login DATETIME(6) NULL, \
             is_superuser TINYINT(1) NOT NULL, username VARCHAR(150) NOT NULL UNIQUE, \
             first_name VARCHAR(150) NOT NULL, last_name VARCHAR(150) NOT NULL, \
             email VARCHAR(254) NOT NULL, is_staff TINYINT(1) NOT NULL, \
             is_active TINYINT(1) NOT NULL, date_joined DATETIME(6) NOT NULL)",
            )
            .await;
        fixture
            .create_table_sql(
                "CREATE TABLE `{db}`.`django_migrations` (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
             app VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, applied DATETIME(6) NOT NULL)",
            )
            .await;
        for table in DJANGO_TABLES {
            fixture.create_table(table).await;
        }
        // A view must not be listed as a table.
        fixture
            .create_table_sql("CREATE VIEW `{db}`.`job_view` AS SELECT id FROM `{db}`.`job`")
            .await;
        fixture
    }

    /// A small table; MEMORY keeps creating a hundred of them fast (grants ignore engines).
    async fn create_table(&mut self, table: &str) {
        let quoted = table.replace('`', "``");
        self.create_table_sql(&format!(
            "CREATE TABLE `{{db}}`.`{quoted}` (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=MEMORY"
        ))
        .await;
    }

    async fn create_table_sql(&mut self, sql: &str) {
        self.conn
            .query_drop(sql.replace("{db}", &self.database))
            .await
            .unwrap();
    }

    async fn sql(&mut self, sql: &str) {
        self.conn
            .query_drop(sql.replace("{db}", &self.database))
            .await
            .unwrap();
    }

    async fn client(&self) -> MysqlClient {
        MysqlClient::connect(admin_config(&self.database))
            .await
            .unwrap()
    }

    fn account(&mut self, prefix: &str) -> Account {
        let account = Account::new(&unique(prefix), "%").unwrap();
        self.users.push(account.clone());
        account
    }

    async fn cleanup(mut self) {
        for account in &self.users {
            self.conn
                .query_drop(format!("DROP USER IF EXISTS {}", account.quoted()))
                .await
                .unwrap();
        }
        self.conn
            .query_drop(format!("DROP DATABASE `{}`", self.database))
            .await
            .unwrap();
        self.conn.disconnect().await.unwrap();
    }
}

fn password(seed: char) -> Password {
    Password::new(format!(
        "{}-{}",
        seed.to_string().repeat(20),
        "x1y2z3w4v5u6"
    ))
    .unwrap()
}

async fn desired_for(
    client: &MysqlClient,
    account: &Account,
    pw: Password,
    require_ssl: bool,
) -> DesiredUser {
    let tables: Vec<Identifier> = client
        .list_tables(client.database().as_str())
        .await
        .unwrap()
        .iter()
        .map(|t| Identifier::table(t).unwrap())
        .collect();
    let (table_grants, column_grants) = runbook_grants(&tables);
    DesiredUser {
        account: account.clone(),
        database: client.database().clone(),
        password: pw,
        password_changed: false,
        require_ssl,
        table_grants,
        column_grants,
    }
}

fn names(set: &BTreeSet<Identifier>) -> BTreeSet<String> {
    set.iter().map(|i| i.as_str().to_owned()).collect()
}

fn column_names(
    map: &BTreeMap<Identifier, BTreeSet<Identifier>>,
) -> BTreeMap<String, BTreeSet<String>> {
    map.iter()
        .map(|(t, cols)| (t.as_str().to_owned(), names(cols)))
        .collect()
}

mod accounts;
mod connection;
