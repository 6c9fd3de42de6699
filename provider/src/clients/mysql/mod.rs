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

mod apply;
mod catalog;

use catalog::value_text;

use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mysql_async::{Conn, OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts};
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
    use super::apply::statement_error;
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
