//! MySQL/MariaDB client behind `treeherder_readonly_user` and `treeherder_mysql_tables`.
//!
//! It automates the runbook's "Granting access to the read-only replica": accounts are created
//! on the primary (never the replica, which copies them), with `REQUIRE SSL`, SELECT on every
//! table but Django's and auth's, and SELECT on `auth_user (id, username, email)`.
//!
//! Guarantees:
//! - No byte leaves the process unless the TLS policy allows it ([`MysqlConfig::validate`]);
//!   TLS is mandatory for non-loopback hosts and the driver never switches to a Unix socket.
//! - Reads take a constant number of queries, whatever the number of tables.
//! - Mutations refuse to run on a read-only server, and every statement converges when retried
//!   after a lost connection (see [`StatementKind`]).
//! - Passwords never appear in display texts, `Debug` output or errors.

pub mod accounts;
pub mod config;
pub mod error;
pub mod identifiers;
pub mod login;
pub mod password;
pub mod privileges;
pub mod statements;

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row, SslOpts, Value};
use tokio::sync::Mutex;

pub use accounts::{AccountSummary, SYSTEM_USERS};
pub use config::{is_loopback_host, DialTarget, MysqlConfig, TlsMode, Tunnels};
pub use error::{ConfigError, IdentifierError, MysqlError, NameKind, PasswordError};
pub use identifiers::{Account, Identifier};
pub use login::AccountSession;
pub use password::{validate_password, Password, SecretString};
pub use privileges::{runbook_grants, DesiredUser, GrantDiff, UserState};
pub use statements::{plan_statements, Statement, StatementKind};

/// Forces a session sql_mode in which our quoting is valid (no `ANSI_QUOTES`, no
/// `NO_BACKSLASH_ESCAPES`) and in which GRANT never creates a password-less account
/// (`NO_AUTO_CREATE_USER`, which MySQL 8 removed because its GRANT never creates accounts).
/// Run on every new or reset pooled connection.
const SESSION_SETUP: &str = "SET SESSION sql_mode = IF(VERSION() LIKE '%MariaDB%' \
     OR CAST(SUBSTRING_INDEX(VERSION(), '.', 1) AS UNSIGNED) < 8, \
     'NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', 'NO_ENGINE_SUBSTITUTION')";

/// Longest wait for one connection (TCP + TLS + authentication).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts per query or statement when errors are transient.
const MAX_ATTEMPTS: u32 = 4;
/// First retry delay; doubled per attempt.
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);

/// Server error codes worth retrying: deadlock, lock wait timeout, too many connections,
/// server gone away, lost connection.
const TRANSIENT_SERVER_CODES: [u16; 5] = [1213, 1205, 1040, 2006, 2013];
/// Access denied on the privilege tables: table (1142), column (1143), database (1044).
const ACCESS_DENIED_CODES: [u16; 3] = [1142, 1143, 1044];

/// Which server the client talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// `SELECT VERSION()`, e.g. `10.11.19-MariaDB-0+deb12u1`.
    pub version: String,
    /// Whether it is MariaDB (otherwise MySQL or a compatible server).
    pub is_mariadb: bool,
}

/// A pooled admin connection to the primary instance.
pub struct MysqlClient {
    pool: Pool,
    endpoint: String,
    /// Where connections are opened (differs from `endpoint` when tunnelled).
    target: DialTarget,
    /// The admin user name the client logs in with.
    login_user: String,
    database: Identifier,
    server: ServerInfo,
    queries: AtomicU64,
    /// Serialises mutations: the privilege tables are shared state (petoju's provider hit
    /// failures with parallel grants, its issues #143/#145).
    apply_lock: Mutex<()>,
}

impl std::fmt::Debug for MysqlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlClient")
            .field("endpoint", &self.endpoint)
            .field("target", &self.target)
            .field("database", &self.database)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Whether retrying may succeed: connection-level I/O failures, a closed connection and the
/// [`TRANSIENT_SERVER_CODES`]. TLS failures (bad certificate) are final.
pub fn is_transient(error: &mysql_async::Error) -> bool {
    match error {
        // Only connection-level I/O kinds: rustls reports certificate failures as I/O errors
        // of kind InvalidData, and those must fail at once.
        mysql_async::Error::Io(mysql_async::IoError::Io(e)) => matches!(
            e.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::BrokenPipe
                | ErrorKind::TimedOut
                | ErrorKind::UnexpectedEof
                | ErrorKind::Interrupted
        ),
        mysql_async::Error::Driver(mysql_async::DriverError::ConnectionClosed) => true,
        mysql_async::Error::Server(e) => TRANSIENT_SERVER_CODES.contains(&e.code),
        _ => false,
    }
}

fn server_code(error: &mysql_async::Error) -> Option<u16> {
    match error {
        mysql_async::Error::Server(e) => Some(e.code),
        _ => None,
    }
}

fn backoff(attempt: u32) -> Duration {
    INITIAL_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(4))
}

/// The variable that makes the server read-only, if any, from `SHOW GLOBAL VARIABLES` rows.
///
/// MariaDB has no `super_read_only`; absent variables simply yield no row.
pub fn read_only_variable(rows: &[(String, String)]) -> Option<String> {
    rows.iter()
        .find(|(_, value)| value.eq_ignore_ascii_case("ON") || value == "1")
        .map(|(name, _)| name.to_ascii_lowercase())
}

fn value_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::NULL => None,
        Value::Bytes(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_owned()),
    }
}

/// Privileges from the `*_priv = 'Y'` columns of a `mysql.user` or `mysql.db` row, named by
/// the column stem (`Create_user_priv` → `CREATE USER`).
fn y_privileges(row: &Row) -> BTreeSet<String> {
    row.columns_ref()
        .iter()
        .enumerate()
        .filter_map(|(i, column)| {
            let name = column.name_str();
            let stem = name.strip_suffix("_priv")?;
            let granted = value_text(row.as_ref(i)).is_some_and(|v| v.eq_ignore_ascii_case("Y"));
            granted.then(|| stem.replace('_', " ").to_ascii_uppercase())
        })
        .collect()
}

fn column_text(row: &Row, name: &str) -> Option<String> {
    let index = row
        .columns_ref()
        .iter()
        .position(|c| c.name_str().eq_ignore_ascii_case(name))?;
    value_text(row.as_ref(index))
}

fn set_members(set: &str) -> impl Iterator<Item = &str> {
    set.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A `*_priv` column stem as a privilege name (`GRANT` is `GRANT OPTION`).
fn global_name(stem: &str) -> String {
    if stem == "GRANT" {
        "GRANT OPTION".to_owned()
    } else {
        stem.to_owned()
    }
}

fn privilege_name(member: &str) -> String {
    if member.eq_ignore_ascii_case("Grant") {
        "GRANT OPTION".to_owned()
    } else {
        member.to_ascii_uppercase()
    }
}

impl MysqlClient {
    /// Validates the configuration (before any network access), connects, and reads the
    /// server version.
    pub async fn connect(config: MysqlConfig) -> Result<Self, MysqlError> {
        let (opts, target) = connection_opts(&config)?;
        let database =
            Identifier::database(&config.database).map_err(ConfigError::InvalidDatabase)?;
        let constraints = PoolConstraints::new(0, 4).unwrap_or_default();
        let opts = opts
            .setup(vec![SESSION_SETUP])
            .pool_opts(PoolOpts::default().with_constraints(constraints));
        let mut client = MysqlClient {
            pool: Pool::new(opts),
            endpoint: config.endpoint.clone(),
            target,
            login_user: config.username.clone(),
            database,
            server: ServerInfo {
                version: String::new(),
                is_mariadb: false,
            },
            queries: AtomicU64::new(0),
            apply_lock: Mutex::new(()),
        };
        let rows = client
            .read_rows("SELECT VERSION()", "server version", Vec::new(), None)
            .await?;
        let version = rows
            .first()
            .and_then(|r| value_text(r.as_ref(0)))
            .ok_or_else(|| MysqlError::UnexpectedValue {
                what: "SELECT VERSION()",
                detail: "no row".to_owned(),
            })?;
        client.server = ServerInfo {
            is_mariadb: version.contains("MariaDB"),
            version,
        };
        Ok(client)
    }

    /// The server's version and flavour.
    pub fn server_info(&self) -> &ServerInfo {
        &self.server
    }

    /// The configured endpoint (`host:port`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The user name the client logs in with (the provider's own account).
    pub fn login_user(&self) -> &str {
        &self.login_user
    }

    /// The configured database.
    pub fn database(&self) -> &Identifier {
        &self.database
    }

    /// How many queries and statements this client has sent (each attempt counts), for
    /// proving that reads take a constant number of queries.
    pub fn query_count(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Closes all pooled connections.
    pub async fn disconnect(self) -> Result<(), MysqlError> {
        let endpoint = self.endpoint;
        self.pool
            .disconnect()
            .await
            .map_err(|e| MysqlError::Connect {
                endpoint,
                message: e.to_string(),
            })
    }

    fn connect_error(&self, error: &mysql_async::Error) -> MysqlError {
        MysqlError::Connect {
            endpoint: self.endpoint.clone(),
            message: self.target.describe(error),
        }
    }

    async fn get_conn(&self) -> Result<Conn, mysql_async::Error> {
        match tokio::time::timeout(CONNECT_TIMEOUT, self.pool.get_conn()).await {
            Ok(result) => result,
            Err(_) => Err(mysql_async::Error::Io(mysql_async::IoError::Io(
                std::io::Error::new(std::io::ErrorKind::TimedOut, "connection timed out"),
            ))),
        }
    }

    /// Gets a connection, retrying transient failures.
    async fn conn_with_retry(&self) -> Result<Conn, MysqlError> {
        let mut attempt = 1;
        loop {
            match self.get_conn().await {
                Ok(conn) => return Ok(conn),
                Err(e) if is_transient(&e) && attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(self.connect_error(&e)),
            }
        }
    }

    /// Runs a read query with retries. `privilege_table` names the mysql.* table being read,
    /// so that access-denied errors become [`MysqlError::PrivilegeTablesUnreadable`].
    async fn read_rows(
        &self,
        sql: &'static str,
        what: &'static str,
        params: Vec<Value>,
        privilege_table: Option<&'static str>,
    ) -> Result<Vec<Row>, MysqlError> {
        let mut attempt = 1;
        loop {
            let mut conn = self.conn_with_retry().await?;
            self.queries.fetch_add(1, Ordering::Relaxed);
            let result = if params.is_empty() {
                conn.query::<Row, _>(sql).await
            } else {
                conn.exec::<Row, _, _>(sql, params.clone()).await
            };
            match result {
                Ok(rows) => return Ok(rows),
                Err(e) if is_transient(&e) && attempt < MAX_ATTEMPTS => {
                    drop(conn);
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    let code = server_code(&e);
                    if let (Some(table), Some(c)) = (privilege_table, code) {
                        if ACCESS_DENIED_CODES.contains(&c) {
                            return Err(MysqlError::PrivilegeTablesUnreadable { table, code: c });
                        }
                    }
                    return Err(MysqlError::Query {
                        what,
                        code,
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    /// Base tables of `database`, sorted. One query. Fails if the database does not exist
    /// (or is invisible to the admin account). Tables the admin has no privilege on are not
    /// listed by information_schema.
    pub async fn list_tables(&self, database: &str) -> Result<Vec<String>, MysqlError> {
        let database = Identifier::database(database)?;
        // The LEFT JOIN tells an empty database (one NULL row) from a missing one (no row).
        let rows = self
            .read_rows(
                "SELECT t.TABLE_NAME FROM information_schema.SCHEMATA s \
                 LEFT JOIN information_schema.TABLES t \
                 ON t.TABLE_SCHEMA = s.SCHEMA_NAME AND t.TABLE_TYPE = 'BASE TABLE' \
                 WHERE s.SCHEMA_NAME = ?",
                "information_schema.TABLES",
                vec![Value::from(database.as_str())],
                None,
            )
            .await?;
        if rows.is_empty() {
            return Err(MysqlError::DatabaseNotFound {
                database: database.as_str().to_owned(),
            });
        }
        let mut tables: Vec<String> = rows
            .iter()
            .filter_map(|r| value_text(r.as_ref(0)))
            .collect();
        tables.sort();
        Ok(tables)
    }

    /// Columns of the given tables of `database`, table → columns in table order. One query.
    /// Tables that do not exist are absent from the result.
    pub async fn list_columns(
        &self,
        database: &Identifier,
        tables: &[&Identifier],
    ) -> Result<BTreeMap<String, Vec<String>>, MysqlError> {
        let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if tables.is_empty() {
            return Ok(columns);
        }
        let rows = self
            .read_rows(
                "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
                "information_schema.COLUMNS",
                vec![Value::from(database.as_str())],
                None,
            )
            .await?;
        for row in &rows {
            let (Some(table), Some(column)) =
                (value_text(row.as_ref(0)), value_text(row.as_ref(1)))
            else {
                continue;
            };
            if tables.iter().any(|t| t.as_str() == table) {
                columns.entry(table).or_default().push(column);
            }
        }
        Ok(columns)
    }

    /// Privileges of an account other than SELECT, on any database: global ones (`CREATE
    /// USER`, `GRANT OPTION` …), database-, table- and column-level ones, described like
    /// `INSERT on `db`.*`. Empty for a read-only account. Four queries.
    pub async fn privileges_beyond_select(
        &self,
        account: &Account,
    ) -> Result<Vec<String>, MysqlError> {
        let who = || vec![Value::from(account.user()), Value::from(account.host())];
        let mut found = Vec::new();
        let users = self
            .read_rows(
                "SELECT * FROM mysql.user WHERE User = ? AND LOWER(Host) = LOWER(?)",
                "mysql.user",
                who(),
                Some("mysql.user"),
            )
            .await?;
        for row in &users {
            for privilege in y_privileges(row) {
                if privilege != "SELECT" {
                    found.push(format!("global {}", global_name(&privilege)));
                }
            }
        }
        let dbs = self
            .read_rows(
                "SELECT * FROM mysql.db WHERE User = ? AND LOWER(Host) = LOWER(?)",
                "mysql.db",
                who(),
                Some("mysql.db"),
            )
            .await?;
        for row in &dbs {
            let db = column_text(row, "Db").unwrap_or_default();
            for privilege in y_privileges(row) {
                if privilege != "SELECT" {
                    found.push(format!(
                        "{} on {}.*",
                        global_name(&privilege),
                        identifiers::quote_identifier(&db)
                    ));
                }
            }
        }
        let tables = self
            .read_rows(
                "SELECT Db, Table_name, Table_priv FROM mysql.tables_priv \
                 WHERE User = ? AND LOWER(Host) = LOWER(?)",
                "mysql.tables_priv",
                who(),
                Some("mysql.tables_priv"),
            )
            .await?;
        let columns = self
            .read_rows(
                "SELECT Db, Table_name, Column_priv FROM mysql.columns_priv \
                 WHERE User = ? AND LOWER(Host) = LOWER(?)",
                "mysql.columns_priv",
                who(),
                Some("mysql.columns_priv"),
            )
            .await?;
        for (rows, level) in [(&tables, ""), (&columns, " (columns)")] {
            for row in rows {
                let db = value_text(row.as_ref(0)).unwrap_or_default();
                let table = value_text(row.as_ref(1)).unwrap_or_default();
                let privileges = value_text(row.as_ref(2)).unwrap_or_default();
                for member in set_members(&privileges) {
                    if !member.eq_ignore_ascii_case("Select") {
                        found.push(format!(
                            "{}{level} on {}.{}",
                            privilege_name(member),
                            identifiers::quote_identifier(&db),
                            identifiers::quote_identifier(&table)
                        ));
                    }
                }
            }
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    /// The TLS cipher of a pooled session (`Ssl_cipher`), or `None` for a plaintext session.
    /// One query; lets callers and tests confirm the connection is encrypted.
    pub async fn session_tls_cipher(&self) -> Result<Option<String>, MysqlError> {
        let rows = self
            .read_rows(
                "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
                "Ssl_cipher",
                Vec::new(),
                None,
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| value_text(r.as_ref(1)))
            .filter(|c| !c.is_empty()))
    }

    /// Reads an account's state for the configured database, or `None` if it does not
    /// exist. Four queries whatever the number of grants. Hosts compare case-insensitively,
    /// as the server does (it stores them lower-cased). Fails with
    /// [`MysqlError::PrivilegeTablesUnreadable`] if the admin cannot read mysql.* (the
    /// information_schema views would silently show nothing instead).
    pub async fn read_user(&self, account: &Account) -> Result<Option<UserState>, MysqlError> {
        self.read_user_in(account, &self.database).await
    }

    /// Like [`MysqlClient::read_user`], for the grants on `database` (a resource may name a
    /// database other than the provider's).
    pub async fn read_user_in(
        &self,
        account: &Account,
        database: &Identifier,
    ) -> Result<Option<UserState>, MysqlError> {
        let who = || vec![Value::from(account.user()), Value::from(account.host())];
        let with_db = || {
            let mut p = who();
            p.push(Value::from(database.as_str()));
            p
        };
        // On MariaDB ≥ 10.4 mysql.user is a view over mysql.global_priv that still exposes
        // ssl_type and the *_priv columns.
        let users = self
            .read_rows(
                "SELECT * FROM mysql.user WHERE User = ? AND LOWER(Host) = LOWER(?)",
                "mysql.user",
                who(),
                Some("mysql.user"),
            )
            .await?;
        let Some(user_row) = users.first() else {
            return Ok(None);
        };
        let ssl_type = column_text(user_row, "ssl_type").unwrap_or_default();
        let mut state = UserState {
            require_ssl: !ssl_type.is_empty(),
            ssl_type,
            global_privileges: y_privileges(user_row),
            ..UserState::default()
        };

        let dbs = self
            .read_rows(
                "SELECT * FROM mysql.db WHERE User = ? AND LOWER(Host) = LOWER(?) AND Db = ?",
                "mysql.db",
                with_db(),
                Some("mysql.db"),
            )
            .await?;
        for row in &dbs {
            state.database_privileges.extend(y_privileges(row));
        }

        let tables = self
            .read_rows(
                "SELECT Table_name, Table_priv FROM mysql.tables_priv \
                 WHERE User = ? AND LOWER(Host) = LOWER(?) AND Db = ?",
                "mysql.tables_priv",
                with_db(),
                Some("mysql.tables_priv"),
            )
            .await?;
        for row in &tables {
            let table = value_text(row.as_ref(0)).ok_or_else(|| MysqlError::UnexpectedValue {
                what: "mysql.tables_priv",
                detail: "NULL Table_name".to_owned(),
            })?;
            // A column-only grant leaves a row with an empty Table_priv: not a table grant.
            let privileges = value_text(row.as_ref(1)).unwrap_or_default();
            for member in set_members(&privileges) {
                if member.eq_ignore_ascii_case("Select") {
                    state.table_grants.insert(table.clone());
                } else {
                    state
                        .other_table_privileges
                        .entry(table.clone())
                        .or_default()
                        .insert(privilege_name(member));
                }
            }
        }

        let columns = self
            .read_rows(
                "SELECT Table_name, Column_name, Column_priv FROM mysql.columns_priv \
                 WHERE User = ? AND LOWER(Host) = LOWER(?) AND Db = ?",
                "mysql.columns_priv",
                with_db(),
                Some("mysql.columns_priv"),
            )
            .await?;
        let mut column_grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in &columns {
            let (Some(table), Some(column)) =
                (value_text(row.as_ref(0)), value_text(row.as_ref(1)))
            else {
                return Err(MysqlError::UnexpectedValue {
                    what: "mysql.columns_priv",
                    detail: "NULL Table_name or Column_name".to_owned(),
                });
            };
            let privileges = value_text(row.as_ref(2)).unwrap_or_default();
            for member in set_members(&privileges) {
                if member.eq_ignore_ascii_case("Select") {
                    column_grants
                        .entry(table.clone())
                        .or_default()
                        .insert(column.clone());
                } else {
                    state
                        .other_table_privileges
                        .entry(table.clone())
                        .or_default()
                        .insert(format!("{} ({column})", privilege_name(member)));
                }
            }
        }
        state.column_grants = column_grants;
        Ok(Some(state))
    }

    /// Reads the account and returns the statements that bring it to `desired`.
    pub async fn plan(&self, desired: &DesiredUser) -> Result<Vec<Statement>, MysqlError> {
        let current = self
            .read_user_in(&desired.account, &desired.database)
            .await?;
        Ok(plan_statements(current.as_ref(), desired))
    }

    /// Fails with [`MysqlError::ReadOnlyServer`] if the endpoint is read-only (a replica), so
    /// callers can refuse at plan time rather than at apply. One query.
    pub async fn check_writable(&self) -> Result<(), MysqlError> {
        let mut conn = self.conn_with_retry().await?;
        self.ensure_writable(&mut conn).await
    }

    /// Fails with [`MysqlError::ReadOnlyServer`] unless the server accepts writes. One query.
    async fn ensure_writable(&self, conn: &mut Conn) -> Result<(), MysqlError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let rows: Vec<(String, String)> = conn
            .query(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN \
                 ('read_only', 'super_read_only', 'innodb_read_only')",
            )
            .await
            .map_err(|e| MysqlError::Query {
                what: "read_only variables",
                code: server_code(&e),
                message: e.to_string(),
            })?;
        match read_only_variable(&rows) {
            Some(variable) => Err(MysqlError::ReadOnlyServer {
                endpoint: self.endpoint.clone(),
                variable,
            }),
            None => Ok(()),
        }
    }

    /// Executes statements in order on one connection, after checking that the server is
    /// writable. Transient failures are retried (on a fresh connection, re-checking
    /// writability, since a failover may have moved the endpoint); see [`StatementKind`] for
    /// how each kind converges when a retry finds its work already done.
    pub async fn apply(&self, statements: &[Statement]) -> Result<(), MysqlError> {
        let mut done = 0;
        self.apply_counted(statements, &mut done).await
    }

    /// Like [`MysqlClient::apply`], counting in `done` the statements that completed, so a
    /// caller whose apply failed halfway knows what exists now.
    pub async fn apply_counted(
        &self,
        statements: &[Statement],
        done: &mut usize,
    ) -> Result<(), MysqlError> {
        if statements.is_empty() {
            return Ok(());
        }
        if !self.server.is_mariadb {
            for statement in statements {
                statement.account().check_mysql_limit()?;
            }
        }
        let _guard = self.apply_lock.lock().await;
        let mut conn = self.conn_with_retry().await?;
        self.ensure_writable(&mut conn).await?;
        for statement in statements {
            self.execute(&mut conn, statement).await?;
            *done += 1;
        }
        Ok(())
    }

    async fn execute(&self, conn: &mut Conn, statement: &Statement) -> Result<(), MysqlError> {
        let mut uncertain = false;
        let mut attempt = 1;
        loop {
            self.queries.fetch_add(1, Ordering::Relaxed);
            let error = match conn.query_drop(statement.sql()).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if is_transient(&error) && attempt < MAX_ATTEMPTS {
                // The statement may or may not have run before the failure.
                uncertain = true;
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                *conn = self.conn_with_retry().await?;
                self.ensure_writable(conn).await?;
                continue;
            }
            let code = server_code(&error);
            match (statement.kind(), code) {
                (StatementKind::Revoke, Some(1147)) | (StatementKind::DropUser, Some(1396)) => {
                    return Ok(())
                }
                (StatementKind::CreateUser, Some(1396)) if uncertain => {
                    // Our lost attempt most likely created it; make sure password and
                    // REQUIRE are the requested ones rather than trusting that.
                    if let Some(sql) = statement.converge_sql() {
                        self.queries.fetch_add(1, Ordering::Relaxed);
                        if let Err(e) = conn.query_drop(sql).await {
                            return Err(statement_error(statement, &e));
                        }
                    }
                    return Ok(());
                }
                _ => return Err(statement_error(statement, &error)),
            }
        }
    }

    /// Creates an account with a password and REQUIRE setting.
    pub async fn create_user(
        &self,
        account: &Account,
        password: &Password,
        require_ssl: bool,
    ) -> Result<(), MysqlError> {
        self.apply(&[statements::create_user(account, password, require_ssl)])
            .await
    }

    /// Sets an account's password.
    pub async fn alter_password(
        &self,
        account: &Account,
        password: &Password,
    ) -> Result<(), MysqlError> {
        self.apply(&[statements::alter_password(account, password)])
            .await
    }

    /// Sets `REQUIRE SSL` or `REQUIRE NONE` with `ALTER USER`.
    pub async fn set_require_ssl(
        &self,
        account: &Account,
        require_ssl: bool,
    ) -> Result<(), MysqlError> {
        self.apply(&[statements::set_require_ssl(account, require_ssl)])
            .await
    }

    /// Grants SELECT on whole tables of the configured database.
    pub async fn grant_select_tables(
        &self,
        account: &Account,
        tables: &[Identifier],
    ) -> Result<(), MysqlError> {
        let list: Vec<Statement> = tables
            .iter()
            .map(|t| statements::grant_select_table(&self.database, account, t.as_str()))
            .collect();
        self.apply(&list).await
    }

    /// Revokes table-level SELECT (which also drops those tables' column grants).
    pub async fn revoke_select_tables(
        &self,
        account: &Account,
        tables: &[Identifier],
    ) -> Result<(), MysqlError> {
        let list: Vec<Statement> = tables
            .iter()
            .map(|t| statements::revoke_select_table(&self.database, account, t.as_str()))
            .collect();
        self.apply(&list).await
    }

    /// Grants SELECT on some columns of a table of the configured database.
    pub async fn grant_select_columns(
        &self,
        account: &Account,
        table: &Identifier,
        columns: &[Identifier],
    ) -> Result<(), MysqlError> {
        let statement = statements::grant_select_columns(
            &self.database,
            account,
            table.as_str(),
            columns.iter().map(Identifier::as_str),
        );
        self.apply(&[statement]).await
    }

    /// Revokes SELECT on some columns of a table of the configured database.
    pub async fn revoke_select_columns(
        &self,
        account: &Account,
        table: &Identifier,
        columns: &[Identifier],
    ) -> Result<(), MysqlError> {
        let statement = statements::revoke_select_columns(
            &self.database,
            account,
            table.as_str(),
            columns.iter().map(Identifier::as_str),
        );
        self.apply(&[statement]).await
    }

    /// Drops an account and its grants; an already-missing account is not an error.
    pub async fn drop_user(&self, account: &Account) -> Result<(), MysqlError> {
        self.apply(&[statements::drop_user(account)]).await
    }
}

/// A statement failure; for password-bearing statements only the code is kept, since the
/// server's message may quote the statement.
fn statement_error(statement: &Statement, error: &mysql_async::Error) -> MysqlError {
    let code = server_code(error);
    let message = if statement.has_secret() {
        match error {
            mysql_async::Error::Server(e) => format!(
                "server error {} (SQLSTATE {}); message withheld because the statement contains a password",
                e.code, e.state
            ),
            _ => "connection failed while running a password-bearing statement".to_owned(),
        }
    } else {
        error.to_string()
    };
    MysqlError::Statement {
        statement: statement.display_text().to_owned(),
        code,
        message,
    }
}

/// The driver options both connection sites share, and where they dial: validated first (no
/// socket before the TLS policy allows it), then resolved through `tunnels`.
pub(crate) fn connection_opts(
    config: &MysqlConfig,
) -> Result<(OptsBuilder, DialTarget), ConfigError> {
    let target = config.dial_target()?;
    let opts = OptsBuilder::default()
        .ip_or_hostname(target.host.clone())
        .tcp_port(target.port)
        .user(Some(config.username.clone()))
        .pass(Some(config.password.expose().to_owned()))
        // The driver otherwise reconnects through the server's Unix socket, where it
        // skips TLS.
        .prefer_socket(false)
        .ssl_opts(ssl_opts(config, target.tls_name.as_deref())?);
    Ok((opts, target))
}

/// TLS options for the mode; `None` only for [`TlsMode::Disabled`] (validated as loopback).
/// `tls_name`: the real host of a tunnelled endpoint, which the certificate must carry.
fn ssl_opts(config: &MysqlConfig, tls_name: Option<&str>) -> Result<Option<SslOpts>, ConfigError> {
    if config.tls_mode == TlsMode::Disabled {
        return Ok(None);
    }
    let mut opts =
        SslOpts::default().with_danger_tls_hostname_override(tls_name.map(|name| name.to_owned()));
    if let Some(path) = &config.tls_ca_file {
        config.check_ca_file()?;
        let pem = std::fs::read(path).map_err(|e| ConfigError::CaFileUnusable {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        // Trust only the given CAs (e.g. RDS's bundle), not the Mozilla list.
        opts = opts
            .with_root_certs(vec![pem.into()])
            .with_disable_built_in_roots(true);
    }
    if config.tls_mode == TlsMode::VerifyCa {
        // Known limitation: with mysql_async 0.37 and rustls this flag does not take effect,
        // so verify_ca still checks the host name (documented in docs/resources/readonly_user.md).
        opts = opts.with_danger_skip_domain_validation(true);
    }
    Ok(Some(opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_detection() {
        let rows = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        // MariaDB: no super_read_only row at all.
        assert_eq!(
            read_only_variable(&rows(&[("innodb_read_only", "OFF"), ("read_only", "OFF")])),
            None
        );
        assert_eq!(
            read_only_variable(&rows(&[("read_only", "ON")])).as_deref(),
            Some("read_only")
        );
        assert_eq!(
            read_only_variable(&rows(&[("read_only", "OFF"), ("super_read_only", "ON")]))
                .as_deref(),
            Some("super_read_only")
        );
        let err = MysqlError::ReadOnlyServer {
            endpoint: "ro:3306".into(),
            variable: "read_only".into(),
        };
        let text = err.to_string();
        assert!(
            text.contains("replica") && text.contains("master"),
            "{text}"
        );
    }

    #[test]
    fn transient_classification() {
        let server = |code| {
            mysql_async::Error::Server(mysql_async::ServerError {
                code,
                message: String::new(),
                state: "HY000".into(),
            })
        };
        assert!(is_transient(&server(1213)));
        assert!(is_transient(&server(1205)));
        assert!(is_transient(&server(2013)));
        assert!(!is_transient(&server(1045)));
        assert!(!is_transient(&server(1396)));
        assert!(is_transient(&mysql_async::Error::Io(
            mysql_async::IoError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
        )));
        assert!(!is_transient(&mysql_async::Error::Io(
            mysql_async::IoError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "invalid peer certificate: UnknownIssuer"
            ))
        )));
        assert!(is_transient(&mysql_async::Error::Driver(
            mysql_async::DriverError::ConnectionClosed
        )));
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(3), Duration::from_millis(800));
    }

    #[test]
    fn password_statement_errors_withhold_the_server_message() {
        let account = Account::new("ro", "%").unwrap();
        let pw = Password::new("Q".repeat(40)).unwrap();
        let stmt = statements::alter_password(&account, &pw);
        let err = statement_error(
            &stmt,
            &mysql_async::Error::Server(mysql_async::ServerError {
                code: 1064,
                message: format!("syntax error near '{}'", "Q".repeat(40)),
                state: "42000".into(),
            }),
        );
        let text = err.to_string();
        assert!(!text.contains("QQQQ"), "{text}");
        assert!(
            text.contains("1064") && text.contains("<password>"),
            "{text}"
        );
        assert_eq!(err.server_code(), Some(1064));
    }
}
