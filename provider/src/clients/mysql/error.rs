//! Typed errors of the MySQL client.
//!
//! No variant carries a password: statement failures carry the statement's display text (with
//! the password replaced by a placeholder) and drop the server's message for password-bearing
//! statements, because MySQL echoes part of the statement in syntax errors ("near '...'").

use std::path::PathBuf;

use thiserror::Error;

/// A configuration problem found before any connection is attempted.
///
/// [`ConfigError::attribute`] names the provider attribute at fault, so the resource can attach
/// the diagnostic to it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The endpoint is not `host:port` (or `[ipv6]:port`).
    #[error("endpoint {endpoint:?} is not valid: {reason}; expected \"host:port\"")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// Why it was rejected.
        reason: String,
    },
    /// `tls_mode = "disabled"` with a host that is not loopback.
    #[error(
        "tls_mode \"disabled\" is only allowed for loopback hosts (localhost, 127.0.0.0/8, ::1), \
         not {host:?}: connections to RDS must use TLS, otherwise the credentials are sent in \
         plain text before the server refuses them; use tls_mode \"verify_identity\" with \
         tls_ca_file pointing at the RDS CA bundle"
    )]
    TlsRequired {
        /// The non-loopback host.
        host: String,
    },
    /// A CA file was given although TLS is disabled, which is contradictory.
    #[error("tls_ca_file is set but tls_mode is \"disabled\"; remove one of them")]
    CaFileWithoutTls,
    /// The CA file could not be read or holds no certificate.
    #[error("tls_ca_file {path:?} cannot be used: {reason}")]
    CaFileUnusable {
        /// The configured path.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The admin user name is empty or unusable.
    #[error("username is not valid: {reason}")]
    InvalidUsername {
        /// Why it was rejected.
        reason: String,
    },
    /// The database name is not a valid identifier.
    #[error("database is not valid: {0}")]
    InvalidDatabase(IdentifierError),
    /// An entry of `tunnels` is unusable.
    #[error(
        "tunnels entry {endpoint:?} = {local:?} is not valid: {reason}; each entry maps an \
         endpoint \"host:port\" (as RDS reports it; the port defaults to 3306) to the local \
         address \"host:port\" that reaches it, e.g. \"127.0.0.1:13306\""
    )]
    InvalidTunnel {
        /// The entry's endpoint (key), as given.
        endpoint: String,
        /// The entry's local address (value), as given.
        local: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An unknown TLS mode string.
    #[error("tls_mode {value:?} is not one of \"verify_identity\", \"verify_ca\", \"disabled\"")]
    UnknownTlsMode {
        /// The value as given.
        value: String,
    },
}

impl ConfigError {
    /// The provider attribute this error is about.
    pub fn attribute(&self) -> &'static str {
        match self {
            ConfigError::InvalidEndpoint { .. } => "endpoint",
            ConfigError::TlsRequired { .. } | ConfigError::UnknownTlsMode { .. } => "tls_mode",
            ConfigError::CaFileWithoutTls | ConfigError::CaFileUnusable { .. } => "tls_ca_file",
            ConfigError::InvalidUsername { .. } => "username",
            ConfigError::InvalidDatabase(_) => "database",
            ConfigError::InvalidTunnel { .. } => "tunnels",
        }
    }
}

/// What kind of name an [`IdentifierError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// An account's user name.
    User,
    /// An account's host pattern.
    Host,
    /// A database (schema) name.
    Database,
    /// A table name.
    Table,
    /// A column name.
    Column,
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameKind::User => "user name",
            NameKind::Host => "host",
            NameKind::Database => "database name",
            NameKind::Table => "table name",
            NameKind::Column => "column name",
        })
    }
}

/// A name that cannot be quoted safely or that the server would reject.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IdentifierError {
    /// The name is empty.
    #[error("{kind} must not be empty")]
    Empty {
        /// Which kind of name.
        kind: NameKind,
    },
    /// The name is longer than the server accepts.
    #[error("{kind} {name:?} is {length} characters long; the limit is {max}{context}")]
    TooLong {
        /// Which kind of name.
        kind: NameKind,
        /// The name (names are not secret).
        name: String,
        /// Its length in characters.
        length: usize,
        /// The limit.
        max: usize,
        /// Extra context, e.g. " on MySQL".
        context: &'static str,
    },
    /// The name contains NUL or another control character.
    #[error("{kind} {name:?} contains a NUL or control character")]
    ControlCharacter {
        /// Which kind of name.
        kind: NameKind,
        /// The name, Debug-escaped in the message.
        name: String,
    },
    /// The name contains a character outside the Basic Multilingual Plane, which MySQL
    /// identifiers cannot hold.
    #[error("{kind} {name:?} contains a character outside the Unicode Basic Multilingual Plane")]
    SupplementaryCharacter {
        /// Which kind of name.
        kind: NameKind,
        /// The name.
        name: String,
    },
    /// Database, table and column names cannot end with a space.
    #[error("{kind} {name:?} ends with a space, which MySQL does not allow")]
    TrailingSpace {
        /// Which kind of name.
        kind: NameKind,
        /// The name.
        name: String,
    },
}

/// Why a read-only-user password was rejected. Never contains the password itself.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PasswordError {
    /// Shorter than the runbook's minimum.
    #[error("password is {length} characters long; at least {min} are required. {ACCEPTED}")]
    TooShort {
        /// Its length in characters.
        length: usize,
        /// The minimum.
        min: usize,
    },
    /// Longer than MySQL accepts.
    #[error(
        "password is {length} characters long; at most {max} are accepted: MySQL 8's default \
         authentication (caching_sha2_password, also RDS's) refuses longer passwords, and \
         Heroku keeps at most 32 KB of config vars per app. {ACCEPTED}"
    )]
    TooLong {
        /// Its length in characters.
        length: usize,
        /// The maximum.
        max: usize,
    },
    /// Contains a character that breaks Django's `DATABASE_URL` parsing or SQL quoting.
    #[error("password contains {description}, which breaks DATABASE_URL parsing. {ACCEPTED}")]
    DisallowedCharacter {
        /// A name for the character class (e.g. "a percent sign '%'"), never the password.
        description: &'static str,
    },
}

/// What [`PasswordError`] messages say is accepted.
const ACCEPTED: &str = "Accepted characters: ASCII letters A-Z a-z, digits 0-9 and - _ . ~ ! $ & ( ) * + , ; = \
                        (for example 60 hex digits from `python3 -c 'import secrets; print(secrets.token_hex(30))'`).";

/// Every error the client returns.
#[derive(Debug, Error)]
pub enum MysqlError {
    /// Bad configuration; nothing was sent over the network.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A user, host, table, column or database name was rejected.
    #[error(transparent)]
    Identifier(#[from] IdentifierError),
    /// A password was rejected.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Connecting (TCP, TLS, authentication) failed.
    #[error("cannot connect to MySQL at {endpoint}: {message}")]
    Connect {
        /// The configured endpoint.
        endpoint: String,
        /// The driver's description (never contains the password).
        message: String,
    },
    /// The server is read-only, i.e. most likely the replica.
    #[error(
        "the MySQL server at {endpoint} is read-only ({variable} = ON), so it is most likely the \
         read-only replica (e.g. treeherder-prod-ro): accounts must be created on the master \
         (primary) production instance, not the replica. The replica copies accounts from the \
         master, and the runbook warns the same credentials then work on both"
    )]
    ReadOnlyServer {
        /// The configured endpoint.
        endpoint: String,
        /// Which variable was on (`read_only`, `super_read_only` or `innodb_read_only`).
        variable: String,
    },
    /// The admin account cannot read the privilege tables, so grants cannot be known.
    #[error(
        "the admin account cannot read {table} (MySQL error {code}); it needs SELECT on mysql.* \
         to read accounts and grants. Refusing to report \"no grants\" for a state that cannot \
         be seen"
    )]
    PrivilegeTablesUnreadable {
        /// The table that could not be read.
        table: &'static str,
        /// The server error code (1142, 1143 or 1044).
        code: u16,
    },
    /// The database does not exist or the admin account cannot see it.
    #[error("database {database:?} does not exist or is not visible to the admin account")]
    DatabaseNotFound {
        /// The database name.
        database: String,
    },
    /// A read query failed.
    #[error("query {what} failed: {message}")]
    Query {
        /// What was being read.
        what: &'static str,
        /// MySQL error code, if the server sent one.
        code: Option<u16>,
        /// The driver's message.
        message: String,
    },
    /// A statement of [`super::apply`](super::MysqlClient::apply) failed.
    #[error("statement `{statement}` failed: {message}")]
    Statement {
        /// The statement's display text (password replaced by a placeholder).
        statement: String,
        /// MySQL error code, if the server sent one.
        code: Option<u16>,
        /// The driver's message, or only the code for password-bearing statements.
        message: String,
    },
    /// A value read from the server had an unexpected shape.
    #[error("unexpected value in {what}: {detail}")]
    UnexpectedValue {
        /// Where.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl MysqlError {
    /// The MySQL server error code, when the error came from the server.
    pub fn server_code(&self) -> Option<u16> {
        match self {
            MysqlError::Query { code, .. } | MysqlError::Statement { code, .. } => *code,
            MysqlError::PrivilegeTablesUnreadable { code, .. } => Some(*code),
            _ => None,
        }
    }
}
