//! Changing accounts: planning the statements for a desired account and running them, each
//! converging when retried after a lost connection.

use std::sync::atomic::Ordering;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::*;

impl MysqlClient {
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
    pub(super) async fn ensure_writable(&self, conn: &mut Conn) -> Result<(), MysqlError> {
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

    pub(super) async fn execute(
        &self,
        conn: &mut Conn,
        statement: &Statement,
    ) -> Result<(), MysqlError> {
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
pub(super) fn statement_error(statement: &Statement, error: &mysql_async::Error) -> MysqlError {
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
