//! Reading the server's catalog: tables, columns, and an account's grants and TLS setting, each
//! in a constant number of queries.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

use super::*;

pub(super) fn value_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::NULL => None,
        Value::Bytes(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_owned()),
    }
}

/// Privileges from the `*_priv = 'Y'` columns of a `mysql.user` or `mysql.db` row, named by
/// the column stem (`Create_user_priv` → `CREATE USER`).
pub(super) fn y_privileges(row: &Row) -> BTreeSet<String> {
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

pub(super) fn column_text(row: &Row, name: &str) -> Option<String> {
    let index = row
        .columns_ref()
        .iter()
        .position(|c| c.name_str().eq_ignore_ascii_case(name))?;
    value_text(row.as_ref(index))
}

pub(super) fn set_members(set: &str) -> impl Iterator<Item = &str> {
    set.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A `*_priv` column stem as a privilege name (`GRANT` is `GRANT OPTION`).
pub(super) fn global_name(stem: &str) -> String {
    if stem == "GRANT" {
        "GRANT OPTION".to_owned()
    } else {
        stem.to_owned()
    }
}

pub(super) fn privilege_name(member: &str) -> String {
    if member.eq_ignore_ascii_case("Grant") {
        "GRANT OPTION".to_owned()
    } else {
        member.to_ascii_uppercase()
    }
}

impl MysqlClient {
    /// Runs a read query with retries. `privilege_table` names the mysql.* table being read,
    /// so that access-denied errors become [`MysqlError::PrivilegeTablesUnreadable`].
    pub(super) async fn read_rows(
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
}
