//! What the account should look like: the configuration resolved against the server's tables.

use std::collections::{BTreeMap, BTreeSet};

use tfplugin::framework::NotKnown;
use tfplugin::types::quote;
use tfplugin::{attr, Diagnostic, Diagnostics};

use crate::clients::mysql::identifiers::{ColumnName, DatabaseName, TableName, TablePattern};
use crate::clients::mysql::{Account, DesiredUser, Identifier, IdentifierError, Password};
use crate::clients::Clients;
use crate::resources::password_arguments::write_only_password;

use super::model::*;
use super::ownership::some_of;
use super::password_mode::missing_password;

/// What the account should look like, before the database and its tables are known.
pub(super) struct Spec {
    pub(super) account: Account,
    pub(super) exclude: TablePattern,
    pub(super) column_grants: ColumnGrants,
    pub(super) require_ssl: bool,
}

pub(super) fn account_of(model: &ReadonlyUserModel) -> Result<Account, NotKnown> {
    Ok(Account::of(model.name.value()?, model.host.value()?))
}

/// The password to set at apply: `password`, else `password_wo`.
pub(super) fn configured_password(model: &ReadonlyUserModel) -> Result<Password, Diagnostics> {
    if let Some(password) = model.password.get() {
        return Ok(password.password().clone());
    }
    match model.password_wo.get() {
        Some(secret) => write_only_password(secret, attr!(ReadonlyUserModel, password_wo)),
        None => Err(missing_password()),
    }
}

/// The provider's database, for a model that names none.
pub(super) fn provider_database(clients: &Clients) -> Result<DatabaseName, Diagnostics> {
    let path = attr!(ReadonlyUserModel, database);
    let name = clients.default_database().ok_or_else(|| {
        Diagnostic::error(
            "No database",
            format!("Set `{path}` here or `mysql.database` in the provider."),
        )
        .at(path.clone())
    })?;
    DatabaseName::parse(name).map_err(|e| {
        Diagnostic::error("Invalid database", e.to_string())
            .at(path)
            .into()
    })
}

pub(super) fn database_of(
    model: &ReadonlyUserModel,
    clients: &Clients,
) -> Result<DatabaseName, Diagnostics> {
    match model.database.get() {
        Some(database) => Ok(database.clone()),
        None => provider_database(clients),
    }
}

impl Spec {
    /// Fails while a value it needs is unknown (at plan time).
    pub(super) fn of(model: &ReadonlyUserModel) -> Result<Spec, NotKnown> {
        Ok(Spec {
            account: account_of(model)?,
            exclude: model.exclude_tables.value()?.clone(),
            column_grants: model.column_grants.value()?.clone(),
            require_ssl: *model.require_ssl.value()?,
        })
    }

    /// The desired account for the database's current `tables`. Without a `password` (not
    /// known at plan time) a placeholder stands in.
    /// The tables of `column_grants`, whose columns [`Spec::desired`] checks.
    pub(super) fn column_tables(&self) -> Vec<&Identifier> {
        self.column_grants
            .keys()
            .map(TableName::identifier)
            .collect()
    }

    /// `columns` holds the columns of the `column_grants` tables (table → columns).
    pub(super) fn desired(
        &self,
        database: &DatabaseName,
        tables: &[String],
        columns_of: &BTreeMap<String, Vec<String>>,
        password: Option<&Password>,
    ) -> Result<DesiredUser, Diagnostics> {
        let mut column_grants = BTreeMap::new();
        for (table, columns) in &self.column_grants {
            let at = attr!(ReadonlyUserModel, column_grants).key(table.as_str());
            if let Some(existing) = columns_of.get(table.as_str()) {
                let missing: Vec<String> = columns
                    .iter()
                    .filter(|c| !existing.iter().any(|e| e == c.as_str()))
                    .map(|c| quote(c.as_str()))
                    .collect();
                if !missing.is_empty() {
                    let listed: Vec<String> = existing.iter().map(|c| quote(c)).collect();
                    return Err(Diagnostic::error(
                        "Unknown column",
                        format!(
                            "table {} of database {} has no column {}; its columns are {}",
                            quote(table.as_str()),
                            quote(database.as_str()),
                            some_of(&missing, 8),
                            some_of(&listed, 40)
                        ),
                    )
                    .at(at)
                    .into());
                }
            }
            if !tables.iter().any(|t| t == table.as_str()) {
                return Err(Diagnostic::error(
                    "Unknown table",
                    format!(
                        "table {} does not exist in database {}",
                        quote(table.as_str()),
                        quote(database.as_str())
                    ),
                )
                .at(at)
                .into());
            }
            let columns: BTreeSet<Identifier> =
                columns.iter().map(|c| c.identifier().clone()).collect();
            if !columns.is_empty() {
                column_grants.insert(table.identifier().clone(), columns);
            }
        }
        let mut table_grants = BTreeSet::new();
        for table in tables {
            if self.exclude.is_match(table) || self.column_grants.contains_key(table.as_str()) {
                continue;
            }
            // Names the client cannot quote safely are refused rather than skipped silently.
            let id = Identifier::table(table).map_err(|e| {
                let path = attr!(ReadonlyUserModel, exclude_tables);
                Diagnostic::error(
                    "Table name cannot be granted",
                    format!("{e}; exclude it with {path}"),
                )
                .at(path)
            })?;
            table_grants.insert(id);
        }
        // The placeholder keeps planning possible; it is never sent (statements with a
        // password are only executed from create/update, which have the real one).
        let password = match password {
            Some(password) => password.clone(),
            None => Password::new("x".repeat(30)).map_err(|e| {
                Diagnostic::error("Invalid password", e.to_string())
                    .at(attr!(ReadonlyUserModel, password))
            })?,
        };
        Ok(DesiredUser {
            account: self.account.clone(),
            database: database.identifier().clone(),
            password,
            password_changed: false,
            require_ssl: self.require_ssl,
            table_grants,
            column_grants,
        })
    }
}

pub(super) fn granted_list(desired: &DesiredUser) -> Vec<String> {
    desired
        .table_grants
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect()
}

/// The server's column grants, keeping the prior spelling (column order) when equivalent.
pub(super) fn column_grants_read(
    server: &BTreeMap<String, BTreeSet<String>>,
    prior: Option<&ColumnGrants>,
) -> Result<ColumnGrants, IdentifierError> {
    server
        .iter()
        .map(|(table, columns)| {
            let same = prior.and_then(|p| p.get(table.as_str())).filter(|p| {
                p.len() == columns.len() && p.iter().all(|c| columns.contains(c.as_str()))
            });
            let list = match same {
                Some(p) => p.clone(),
                None => columns
                    .iter()
                    .map(|c| ColumnName::parse(c))
                    .collect::<Result<_, _>>()?,
            };
            Ok((TableName::parse(table)?, list))
        })
        .collect()
}
