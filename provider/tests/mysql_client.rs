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

#[tokio::test]
async fn create_reads_back_the_runbook_grant_shape() {
    let mut fx = Fixture::treeherder().await;
    let client = fx.client().await;
    let account = fx.account("ro");

    let tables = client.list_tables(&fx.database).await.unwrap();
    assert_eq!(tables.len(), APP_TABLES.len() + 2 + DJANGO_TABLES.len());
    assert!(
        !tables.contains(&"job_view".to_owned()),
        "views are not tables"
    );

    client.check_writable().await.unwrap();
    let desired = desired_for(&client, &account, password('a'), true).await;
    let plan = client.plan(&desired).await.unwrap();
    assert_eq!(plan[0].kind(), StatementKind::CreateUser);
    assert_eq!(plan.len(), 1 + APP_TABLES.len() + 1);
    for statement in &plan {
        assert!(!statement.display_text().contains("aaaa"), "{statement}");
    }
    client.apply(&plan).await.unwrap();

    let state = client.read_user(&account).await.unwrap().unwrap();
    let expected: BTreeSet<String> = APP_TABLES.iter().map(|t| t.to_string()).collect();
    assert_eq!(state.table_grants, expected);
    assert!(state.table_grants.contains("group") && state.table_grants.contains("option"));
    assert!(!state
        .table_grants
        .iter()
        .any(|t| t.starts_with("django_") || t.starts_with("auth_")));
    let auth_cols: BTreeSet<String> = ["email", "id", "username"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        state.column_grants,
        BTreeMap::from([("auth_user".to_owned(), auth_cols)])
    );
    assert!(state.require_ssl);
    assert_eq!(state.ssl_type, "ANY");
    assert!(!state.has_unmanaged_privileges(), "{state:?}");
    assert!(client.plan(&desired).await.unwrap().is_empty());

    // REQUIRE SSL is enforced: a plaintext login with the right password is refused.
    let err = raw_conn(account.user(), password('a').expose())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, mysql_async::Error::Server(e) if e.code == 1045),
        "{err}"
    );

    if tls_configured() {
        // ... while a TLS login works and sees the granted tables.
        let mut conn = raw_conn_tls(account.user(), password('a').expose(), true)
            .await
            .unwrap();
        conn.query_drop(format!("SELECT id FROM `{}`.`group`", fx.database))
            .await
            .unwrap();
        conn.disconnect().await.unwrap();
    }

    client.drop_user(&account).await.unwrap();
    assert!(client.read_user(&account).await.unwrap().is_none());
    // Dropping an absent account converges.
    client.drop_user(&account).await.unwrap();
    client.disconnect().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test]
async fn drift_is_detected_and_repaired() {
    let mut fx = Fixture::treeherder().await;
    let client = fx.client().await;
    let account = fx.account("ro");
    let desired = desired_for(&client, &account, password('b'), true).await;
    client
        .apply(&client.plan(&desired).await.unwrap())
        .await
        .unwrap();
    let who = account.quoted();

    // Revoke by hand, downgrade REQUIRE, widen auth_user to the full table (password
    // included), add a table, drop a granted table.
    fx.sql(&format!("REVOKE SELECT ON `{{db}}`.`job` FROM {who}"))
        .await;
    fx.sql(&format!("ALTER USER {who} REQUIRE NONE")).await;
    fx.sql(&format!("GRANT SELECT ON `{{db}}`.`auth_user` TO {who}"))
        .await;
    fx.create_table("new_table").await;
    fx.sql("DROP TABLE `{db}`.`bugscache`").await;

    let state = client.read_user(&account).await.unwrap().unwrap();
    assert!(!state.table_grants.contains("job"));
    assert!(state.table_grants.contains("auth_user"));
    assert!(
        state.table_grants.contains("bugscache"),
        "grants survive DROP TABLE"
    );
    assert!(!state.require_ssl);

    let desired = desired_for(&client, &account, password('b'), true).await;
    assert!(names(&desired.table_grants).contains("new_table"));
    let plan = client.plan(&desired).await.unwrap();
    let texts: BTreeSet<String> = plan.iter().map(|s| s.display_text().to_owned()).collect();
    let db = &fx.database;
    let q = account.quoted();
    let expected: BTreeSet<String> = [
        format!("ALTER USER {q} REQUIRE SSL"),
        format!("REVOKE SELECT ON `{db}`.`auth_user` FROM {q}"),
        format!("REVOKE SELECT ON `{db}`.`bugscache` FROM {q}"),
        format!("GRANT SELECT ON `{db}`.`job` TO {q}"),
        format!("GRANT SELECT ON `{db}`.`new_table` TO {q}"),
        format!("GRANT SELECT (`email`, `id`, `username`) ON `{db}`.`auth_user` TO {q}"),
    ]
    .into_iter()
    .collect();
    assert_eq!(texts, expected);
    client.apply(&plan).await.unwrap();

    let state = client.read_user(&account).await.unwrap().unwrap();
    assert_eq!(state.table_grants, names(&desired.table_grants));
    assert_eq!(state.column_grants, column_names(&desired.column_grants));
    assert!(state.require_ssl);
    assert!(client.plan(&desired).await.unwrap().is_empty());
    client.disconnect().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test]
async fn password_rotation_takes_effect() {
    let mut fx = Fixture::treeherder().await;
    let client = fx.client().await;
    let account = fx.account("rot");
    // The local test server has no TLS, so this account may log in without it.
    let desired = desired_for(&client, &account, password('c'), false).await;
    client
        .apply(&client.plan(&desired).await.unwrap())
        .await
        .unwrap();

    let mut conn = raw_conn(account.user(), password('c').expose())
        .await
        .unwrap();
    let ids: Vec<i64> = conn
        .query(format!("SELECT id FROM `{}`.`job`", fx.database))
        .await
        .unwrap();
    assert!(ids.is_empty());
    // Column grants hold: the password column of auth_user stays hidden.
    let err = conn
        .query_drop(format!(
            "SELECT password FROM `{}`.`auth_user`",
            fx.database
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, mysql_async::Error::Server(e) if e.code == 1143),
        "{err}"
    );
    conn.query_drop(format!(
        "SELECT id, username, email FROM `{}`.`auth_user`",
        fx.database
    ))
    .await
    .unwrap();
    conn.disconnect().await.unwrap();

    let rotated = DesiredUser {
        password: password('d'),
        password_changed: true,
        ..desired
    };
    let plan = client.plan(&rotated).await.unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(
        plan[0].display_text(),
        format!("ALTER USER {} IDENTIFIED BY '<password>'", account.quoted())
    );
    client.apply(&plan).await.unwrap();

    raw_conn_tls(account.user(), password('d').expose(), tls_configured())
        .await
        .unwrap()
        .disconnect()
        .await
        .unwrap();
    let err = raw_conn_tls(account.user(), password('c').expose(), tls_configured())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, mysql_async::Error::Server(e) if e.code == 1045),
        "{err}"
    );
    client.disconnect().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test]
async fn reads_take_a_constant_number_of_queries() {
    let mut counts = Vec::new();
    for n in [10usize, 100] {
        let tables: Vec<String> = (0..n).map(|i| format!("t{i:03}")).collect();
        let refs: Vec<&str> = tables.iter().map(String::as_str).collect();
        let mut fx = Fixture::new(&refs).await;
        let client = fx.client().await;
        let account = fx.account("cnt");
        let desired = desired_for(&client, &account, password('e'), true).await;
        assert_eq!(desired.table_grants.len(), n);
        client
            .apply(&client.plan(&desired).await.unwrap())
            .await
            .unwrap();

        let before = client.query_count();
        let state = client.read_user(&account).await.unwrap().unwrap();
        let read_queries = client.query_count() - before;
        assert_eq!(state.table_grants.len(), n);

        let before = client.query_count();
        assert_eq!(client.list_tables(&fx.database).await.unwrap().len(), n);
        let list_queries = client.query_count() - before;
        counts.push((read_queries, list_queries));
        client.disconnect().await.unwrap();
        fx.cleanup().await;
    }
    assert_eq!(counts[0], counts[1], "10 vs 100 tables: {counts:?}");
    assert_eq!(counts[0], (4, 1));
}

#[tokio::test]
async fn plaintext_to_a_remote_host_is_refused_before_connecting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    let plaintext = |endpoint: &str| MysqlConfig {
        endpoint: endpoint.to_owned(),
        tls_mode: TlsMode::Disabled,
        tls_ca_file: None,
        ..admin_config("treeherder")
    };
    // The documented case: a remote name.
    let config = plaintext("db.example.com:3306");
    let err = MysqlClient::connect(config).await.unwrap_err();
    assert!(
        matches!(&err, MysqlError::Config(e @ ConfigError::TlsRequired { .. }) if e.attribute() == "tls_mode"),
        "{err}"
    );

    // An address the policy treats as remote but that reaches our listener: the IPv4-mapped
    // form of 127.0.0.1. Refused without any connection reaching the listener (connect has
    // returned, so any TCP handshake would already be in the accept queue).
    let mapped = format!("[::ffff:127.0.0.1]:{port}");
    let err = MysqlClient::connect(plaintext(&mapped)).await.unwrap_err();
    assert!(
        matches!(err, MysqlError::Config(ConfigError::TlsRequired { .. })),
        "{err}"
    );
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        ErrorKind::WouldBlock,
        "a plaintext connection attempt reached the listener"
    );

    // Control: with TLS required the same endpoint is contacted, so the check above is
    // meaningful. (The handshake then fails because the listener never answers.)
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let config = MysqlConfig {
        tls_mode: TlsMode::VerifyIdentity,
        ..plaintext(&mapped)
    };
    let attempt = tokio::spawn(MysqlClient::connect(config));
    let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await;
    attempt.abort();
    assert!(
        matches!(accepted, Ok(Ok(_))),
        "control connection never arrived"
    );
}

#[tokio::test]
async fn identifiers_are_validated_and_quoted() {
    for (user, host) in [("", "%"), ("a\0b", "%"), ("ok", "bad\nhost")] {
        assert!(Account::new(user, host).is_err(), "{user:?}@{host:?}");
    }
    assert!(Account::new(&"u".repeat(81), "%").is_err());
    assert!(Identifier::table(&"t".repeat(65)).is_err());
    assert!(Identifier::column("c\u{1}").is_err());

    // Names needing quoting work end to end.
    let mut fx = Fixture::new(&["group", "select", "odd`name", "with space"]).await;
    let client = fx.client().await;
    let account = Account::new(&unique("o'q\\r"), "%").unwrap();
    fx.users.push(account.clone());
    let desired = desired_for(&client, &account, password('f'), true).await;
    client
        .apply(&client.plan(&desired).await.unwrap())
        .await
        .unwrap();
    let state = client.read_user(&account).await.unwrap().unwrap();
    let expected: BTreeSet<String> = ["group", "odd`name", "select", "with space"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(state.table_grants, expected);

    // Individual operations.
    let select = Identifier::table("select").unwrap();
    client
        .revoke_select_tables(&account, std::slice::from_ref(&select))
        .await
        .unwrap();
    let odd = Identifier::table("odd`name").unwrap();
    let id = Identifier::column("id").unwrap();
    client
        .grant_select_columns(&account, &select, std::slice::from_ref(&id))
        .await
        .unwrap();
    let state = client.read_user(&account).await.unwrap().unwrap();
    assert!(!state.table_grants.contains("select"));
    assert_eq!(state.column_grants.get("select").map(|c| c.len()), Some(1));
    client
        .revoke_select_columns(&account, &select, std::slice::from_ref(&id))
        .await
        .unwrap();
    // Revoking what is not granted converges instead of failing (1147).
    client
        .revoke_select_columns(&account, &select, std::slice::from_ref(&id))
        .await
        .unwrap();
    client
        .grant_select_tables(&account, std::slice::from_ref(&odd))
        .await
        .unwrap();
    client.set_require_ssl(&account, false).await.unwrap();
    let state = client.read_user(&account).await.unwrap().unwrap();
    assert!(state.column_grants.is_empty());
    assert!(!state.require_ssl);

    // Creating an existing account is an error (no silent IF NOT EXISTS).
    let err = client
        .create_user(&account, &password('g'), true)
        .await
        .unwrap_err();
    assert_eq!(err.server_code(), Some(1396), "{err}");
    assert!(!err.to_string().contains("gggg"), "{err}");
    client.disconnect().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test]
async fn unreadable_privilege_tables_are_an_error_not_empty_grants() {
    let mut fx = Fixture::new(&["job"]).await;
    let client = fx.client().await;
    let reader = fx.account("ro");
    client
        .create_user(&reader, &password('h'), true)
        .await
        .unwrap();

    // An admin that can manage accounts but cannot read mysql.*.
    let limited = fx.account("adm");
    let limited_pw = "limited-admin-password-0123456789";
    fx.sql(&format!(
        "CREATE USER {} IDENTIFIED BY '{limited_pw}'",
        limited.quoted()
    ))
    .await;
    fx.sql(&format!("GRANT CREATE USER ON *.* TO {}", limited.quoted()))
        .await;
    fx.sql(&format!(
        "GRANT SELECT ON `{{db}}`.* TO {} WITH GRANT OPTION",
        limited.quoted()
    ))
    .await;
    let config = MysqlConfig {
        username: limited.user().to_owned(),
        password: limited_pw.into(),
        ..admin_config(&fx.database)
    };
    let limited_client = MysqlClient::connect(config).await.unwrap();
    let err = limited_client.read_user(&reader).await.unwrap_err();
    assert!(
        matches!(
            err,
            MysqlError::PrivilegeTablesUnreadable {
                table: "mysql.user",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("SELECT on mysql.*"), "{err}");
    limited_client.disconnect().await.unwrap();
    client.disconnect().await.unwrap();
    fx.cleanup().await;
}

#[test]
fn password_policy_messages() {
    assert!(validate_password("0123456789abcdef0123456789abcdef").is_ok());
    let err = validate_password("too-short").unwrap_err();
    assert!(matches!(
        err,
        PasswordError::TooShort { length: 9, min: 30 }
    ));
    let long = "k".repeat(35);
    let err = validate_password(&format!("{long}%")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("percent") && text.contains("DATABASE_URL"),
        "{text}"
    );
    assert!(text.contains("Accepted characters"), "{text}");
    assert!(!text.contains(&long), "{text}");
    for bad in ['@', ':', '/', '?', '#', '\'', '"', '\\', ' '] {
        assert!(
            validate_password(&format!("{long}{bad}")).is_err(),
            "{bad:?}"
        );
    }
    // The statement builders only take validated passwords.
    let account = Account::new("ro", "%").unwrap();
    let statement = statements::create_user(&account, &password('z'), true);
    assert_eq!(
        statement.display_text(),
        "CREATE USER 'ro'@'%' IDENTIFIED BY '<password>' REQUIRE SSL"
    );
}

#[tokio::test]
async fn session_encryption_follows_the_tls_mode() {
    let client = MysqlClient::connect(admin_config("mysql")).await.unwrap();
    let cipher = client.session_tls_cipher().await.unwrap();
    assert_eq!(cipher.is_some(), tls_configured(), "{cipher:?}");
    client.disconnect().await.unwrap();
    if !tls_configured() {
        return;
    }
    // The IPv4-mapped address reaches the same server but is not in its certificate:
    // host name verification must refuse it.
    let port = endpoint().rsplit_once(':').unwrap().1.to_owned();
    let config = MysqlConfig {
        endpoint: format!("[::ffff:127.0.0.1]:{port}"),
        tls_mode: TlsMode::VerifyIdentity,
        ..admin_config("mysql")
    };
    let err = MysqlClient::connect(config.clone()).await.unwrap_err();
    assert!(
        matches!(&err, MysqlError::Connect { message, .. } if message.contains("not valid for name")),
        "{err}"
    );
    // verify_ca asks mysql_async to skip the name check, but mysql_async 0.37 recognises
    // the name error by matching "NotValidForName" in rustls 0.23's message, which now reads
    // "certificate not valid for name": the mismatch is still refused (fails closed). If this
    // starts passing, mysql_async fixed it and verify_ca works as documented.
    let err = MysqlClient::connect(MysqlConfig {
        tls_mode: TlsMode::VerifyCa,
        ..config.clone()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, MysqlError::Connect { .. }), "{err}");

    // A CA that did not sign the server certificate is refused, in both modes.
    let mut other_ca = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut other_ca, UNRELATED_CA.as_bytes()).unwrap();
    for mode in [TlsMode::VerifyIdentity, TlsMode::VerifyCa] {
        let err = MysqlClient::connect(MysqlConfig {
            tls_mode: mode,
            tls_ca_file: Some(other_ca.path().to_owned()),
            ..admin_config("mysql")
        })
        .await
        .unwrap_err();
        assert!(
            matches!(&err, MysqlError::Connect { message, .. } if message.contains("UnknownIssuer")),
            "{mode:?}: {err}"
        );
    }
}

/// An RDS-style endpoint name, in the world's certificate (`*.aaaaaaaaaa.us-east-1.rds.
/// amazonaws.com`); it is only ever reached through `tunnels`, never resolved.
const RDS_ENDPOINT: &str = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306";

/// The admin configuration for `remote`, tunnelled to the test server.
fn tunnelled_config(remote: &str) -> MysqlConfig {
    MysqlConfig {
        endpoint: remote.to_owned(),
        tunnels: Tunnels::parse([(remote, endpoint().as_str())]).unwrap(),
        ..admin_config("mysql")
    }
}

#[tokio::test]
async fn tunnels_dial_the_local_address_and_verify_the_real_host() {
    if tls_mode() != TlsMode::VerifyIdentity {
        // Needs the world's server certificate, which names the RDS-style hosts.
        return;
    }
    // The admin client and a one-account session both go through the tunnel, over TLS.
    let client = MysqlClient::connect(tunnelled_config(RDS_ENDPOINT))
        .await
        .unwrap();
    assert!(client.session_tls_cipher().await.unwrap().is_some());
    assert_eq!(client.endpoint(), RDS_ENDPOINT);
    client.disconnect().await.unwrap();
    let mut session = AccountSession::open(&tunnelled_config(RDS_ENDPOINT))
        .await
        .unwrap()
        .expect("the admin login was refused");
    assert!(session.uses_tls().await.unwrap());
    session.close().await;

    // The same local address under a name the certificate lacks: the certificate is checked
    // against the tunnelled name, so both sites refuse it, naming the endpoint and the tunnel.
    let other = "db.example.invalid:3306";
    let err = MysqlClient::connect(tunnelled_config(other))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MysqlError::Connect { endpoint, message }
            if endpoint == other && message.contains("not valid for name")
                && message.contains("through the tunnel at")),
        "{err}"
    );
    let err = AccountSession::open(&tunnelled_config(other))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MysqlError::Connect { endpoint, message }
            if endpoint == other && message.contains("not valid for name")),
        "{err}"
    );

    // Plaintext to the tunnelled RDS name is refused before connecting.
    let err = MysqlClient::connect(MysqlConfig {
        tls_mode: TlsMode::Disabled,
        tls_ca_file: None,
        ..tunnelled_config(RDS_ENDPOINT)
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, MysqlError::Config(ConfigError::TlsRequired { .. })),
        "{err}"
    );
}

/// A throwaway self-signed CA (generated for these tests) that signed nothing.
const UNRELATED_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUCk2bk6S0HNQ2pAewd1hk73y8IBowCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRdW5yZWxhdGVkIHRlc3QgQ0EwHhcNMjYxMTI0MjM1NTMyWhcN
MzYxMTIxMjM1NTMyWjAcMRowGAYDVQQDDBF1bnJlbGF0ZWQgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABJluX9srz7v2RZaA71XnxP66djKlFavNKrdE
MKnSvcKIb5CX5ACpQ55gnPIRODyl4C8i8RNgl8XMqgaUeOVLr+WjUzBRMB0GA1Ud
DgQWBBTgFW5yzY3ZogbcHM/hHX4GUcqkgTAfBgNVHSMEGDAWgBTgFW5yzY3Zogbc
HM/hHX4GUcqkgTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEnM
fipVeyvGVIPIn/Z+dAnyxK8Bd6CoLlvq+CDZ7S3/AiEA8nkeTplRGRgRdN8NXGu9
tC+MFwRqQbwoIbJ+lPVQ3XI=
-----END CERTIFICATE-----
";

#[tokio::test]
async fn unusable_ca_file_is_a_config_error_before_connecting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let not_pem = tempfile::NamedTempFile::new().unwrap();
    for path in [
        not_pem.path().to_owned(),
        std::path::PathBuf::from("/nonexistent/ca.pem"),
    ] {
        let config = MysqlConfig {
            endpoint: endpoint.clone(),
            tls_mode: TlsMode::VerifyIdentity,
            tls_ca_file: Some(path.clone()),
            ..admin_config("treeherder")
        };
        let err = MysqlClient::connect(config).await.unwrap_err();
        assert!(
            matches!(&err, MysqlError::Config(e @ ConfigError::CaFileUnusable { .. }) if e.attribute() == "tls_ca_file"),
            "{path:?}: {err}"
        );
    }
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

/// Issue 9 findings 4, 7, 3 and 10 at the SQL level: the server lower-cases hosts and the
/// client still finds the account; privileges beyond SELECT are listed; columns are listed in
/// table order; a user name outside the BMP is what the server rejects with ERROR 1267.
#[tokio::test]
async fn hosts_privileges_columns_and_the_name_rules_match_the_server() {
    let mut fx = Fixture::treeherder().await;
    let client = fx.client().await;
    let user = unique("case");
    let mixed = Account::new(&user, "Example.COM").unwrap();
    fx.users.push(Account::new(&user, "example.com").unwrap());
    client
        .create_user(&mixed, &password('c'), true)
        .await
        .unwrap();
    let database = Identifier::database(&fx.database).unwrap();
    let job = Identifier::table("job").unwrap();
    client
        .grant_select_tables(&mixed, std::slice::from_ref(&job))
        .await
        .unwrap();
    let state = client.read_user_in(&mixed, &database).await.unwrap();
    assert!(
        state.is_some_and(|s| s.table_grants.contains("job")),
        "an account created as 'Example.COM' must be found again"
    );
    assert!(client
        .privileges_beyond_select(&mixed)
        .await
        .unwrap()
        .is_empty());

    fx.sql(&format!(
        "GRANT INSERT ON `{{db}}`.`job` TO '{user}'@'example.com'"
    ))
    .await;
    let extra = client.privileges_beyond_select(&mixed).await.unwrap();
    assert_eq!(extra, [format!("INSERT on `{}`.`job`", fx.database)]);
    let login = Account::new(client.login_user(), "%").unwrap();
    let admin = client.privileges_beyond_select(&login).await.unwrap();
    assert!(admin.iter().any(|p| p == "global CREATE USER"), "{admin:?}");

    let auth_user = Identifier::table("auth_user").unwrap();
    let columns = client.list_columns(&database, &[&auth_user]).await.unwrap();
    assert_eq!(columns.len(), 1);
    assert_eq!(columns["auth_user"][..2], ["id", "password"]);

    // The rule the client enforces is the one the server's privilege tables impose.
    let err = fx
        .conn
        .exec_drop(
            "SELECT User FROM mysql.user WHERE User = ?",
            ("reader_\u{1F600}",),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1267"), "{err}");
    assert!(Account::new("reader_\u{1F600}", "%").is_err());
    assert!(Account::new("réader", "%").is_ok());
    fx.conn
        .exec_drop("SELECT User FROM mysql.user WHERE User = ?", ("réader",))
        .await
        .unwrap();
    client.disconnect().await.unwrap();
    fx.cleanup().await;
}
