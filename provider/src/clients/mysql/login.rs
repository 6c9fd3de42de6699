//! One connection logged in as a given account, for `treeherder_database_password`: whether a
//! password still logs in, changing an account's own password (the runbook's `SET PASSWORD`
//! as `th_admin`), and changing another account's password from the admin login.
//!
//! The TLS policy and tunnels are the admin client's ([`MysqlConfig::validate`] before any
//! socket, then [`super::connection_opts`]), so a password is never sent in plaintext to a remote host. No
//! password-bearing statement is retried on the same login: once it ran, the old password may
//! no longer work; callers find out which password logs in instead.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::config::MysqlConfig;
use super::identifiers::{quote_string, Account};
use super::password::Password;
use super::statements::{alter_password, PASSWORD_PLACEHOLDER};
use super::{backoff, is_transient, server_code, MysqlError, CONNECT_TIMEOUT, MAX_ATTEMPTS};

/// Server codes of a refused login: wrong password or unknown user (1045), or a login the
/// account's authentication plugin refuses (1698).
const LOGIN_REFUSED_CODES: [u16; 2] = [1045, 1698];

/// An open connection logged in as one account.
pub struct AccountSession {
    conn: Conn,
    endpoint: String,
    is_mariadb: bool,
}

impl std::fmt::Debug for AccountSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountSession")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

fn refused(error: &mysql_async::Error) -> bool {
    matches!(error, mysql_async::Error::Server(e) if LOGIN_REFUSED_CODES.contains(&e.code))
}

impl AccountSession {
    /// Logs in with `config`'s user and password (its database is not selected). `Ok(None)`
    /// when the server refuses the login; transient failures are retried.
    pub async fn open(config: &MysqlConfig) -> Result<Option<AccountSession>, MysqlError> {
        let (opts, target) = super::connection_opts(config)?;
        let connect_error = |message: String| MysqlError::Connect {
            endpoint: config.endpoint.clone(),
            message: target.describe(message),
        };
        let mut attempt = 1;
        let mut conn = loop {
            let result = tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts.clone())).await;
            match result {
                Ok(Ok(conn)) => break conn,
                Ok(Err(e)) if refused(&e) => return Ok(None),
                Ok(Err(e)) if is_transient(&e) && attempt < MAX_ATTEMPTS => {}
                Ok(Err(e)) => return Err(connect_error(e.to_string())),
                Err(_) if attempt < MAX_ATTEMPTS => {}
                Err(_) => return Err(connect_error("connection timed out".to_owned())),
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        };
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(|e| query_error("server version", &e))?;
        Ok(Some(AccountSession {
            conn,
            endpoint: config.endpoint.clone(),
            is_mariadb: version.is_some_and(|v| v.contains("MariaDB")),
        }))
    }

    /// Whether this connection is encrypted (its session's `Ssl_cipher` is set).
    pub async fn uses_tls(&mut self) -> Result<bool, MysqlError> {
        let cipher: Option<(String, String)> = self
            .conn
            .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            .await
            .map_err(|e| query_error("Ssl_cipher", &e))?;
        Ok(cipher.is_some_and(|(_, c)| !c.is_empty()))
    }

    /// The account the server matched the login to (`CURRENT_USER()`).
    pub async fn current_account(&mut self) -> Result<Account, MysqlError> {
        let current: Option<String> = self
            .conn
            .query_first("SELECT CURRENT_USER()")
            .await
            .map_err(|e| query_error("CURRENT_USER()", &e))?;
        let current = current.unwrap_or_default();
        let (user, host) = current
            .rsplit_once('@')
            .ok_or_else(|| MysqlError::UnexpectedValue {
                what: "CURRENT_USER()",
                detail: "no user@host".to_owned(),
            })?;
        Ok(Account::new(user, host)?)
    }

    /// Sets the logged-in account's own password, which needs no privilege: MariaDB's
    /// `SET PASSWORD = PASSWORD(…)`, MySQL's `ALTER USER USER() IDENTIFIED BY …`.
    pub async fn set_own_password(&mut self, password: &Password) -> Result<(), MysqlError> {
        let (sql, display) = if self.is_mariadb {
            let render = |pw: &str| format!("SET PASSWORD = PASSWORD({pw})");
            (
                render(&quote_string(password.expose())),
                render(PASSWORD_PLACEHOLDER),
            )
        } else {
            let render = |pw: &str| format!("ALTER USER USER() IDENTIFIED BY {pw}");
            (
                render(&quote_string(password.expose())),
                render(PASSWORD_PLACEHOLDER),
            )
        };
        self.conn
            .query_drop(sql)
            .await
            .map_err(|e| secret_statement_error(display, &e))
    }

    /// Sets another account's password (`ALTER USER … IDENTIFIED BY`), as the admin login.
    pub async fn set_password_of(
        &mut self,
        account: &Account,
        password: &Password,
    ) -> Result<(), MysqlError> {
        let statement = alter_password(account, password);
        self.conn
            .query_drop(statement.sql())
            .await
            .map_err(|e| secret_statement_error(statement.display_text().to_owned(), &e))
    }

    /// Host patterns of the accounts named `user` (from `mysql.user`), sorted.
    pub async fn account_hosts(&mut self, user: &str) -> Result<Vec<String>, MysqlError> {
        let mut hosts: Vec<String> = self
            .conn
            .exec("SELECT Host FROM mysql.user WHERE User = ?", (user,))
            .await
            .map_err(|e| match server_code(&e) {
                Some(code @ (1142 | 1143 | 1044)) => MysqlError::PrivilegeTablesUnreadable {
                    table: "mysql.user",
                    code,
                },
                _ => query_error("mysql.user", &e),
            })?;
        hosts.sort();
        Ok(hosts)
    }

    /// Closes the connection (errors closing are of no consequence).
    pub async fn close(self) {
        let _ = self.conn.disconnect().await;
    }
}

fn query_error(what: &'static str, error: &mysql_async::Error) -> MysqlError {
    MysqlError::Query {
        what,
        code: server_code(error),
        message: error.to_string(),
    }
}

/// A failed password-bearing statement: the server's message may quote it, so only its code.
fn secret_statement_error(display: String, error: &mysql_async::Error) -> MysqlError {
    let message = match error {
        mysql_async::Error::Server(e) => format!(
            "server error {} (SQLSTATE {}); message withheld because the statement contains a password",
            e.code, e.state
        ),
        _ => "connection failed while running a password-bearing statement".to_owned(),
    };
    MysqlError::Statement {
        statement: display,
        code: server_code(error),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_errors_never_carry_the_password() {
        let error = mysql_async::Error::Server(mysql_async::ServerError {
            code: 1064,
            message: "near 'SECRETSECRET'".into(),
            state: "42000".into(),
        });
        let text = secret_statement_error("SET PASSWORD = PASSWORD('<password>')".into(), &error)
            .to_string();
        assert!(!text.contains("SECRETSECRET"), "{text}");
        assert!(
            text.contains("1064") && text.contains("<password>"),
            "{text}"
        );
    }

    #[test]
    fn only_refused_logins_count_as_refused() {
        let server = |code| {
            mysql_async::Error::Server(mysql_async::ServerError {
                code,
                message: String::new(),
                state: "28000".into(),
            })
        };
        assert!(refused(&server(1045)));
        assert!(refused(&server(1698)));
        assert!(!refused(&server(1040)));
    }
}
