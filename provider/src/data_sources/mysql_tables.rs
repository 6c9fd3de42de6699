//! `treeherder_mysql_tables`: the base tables of a database, filtered by regular expressions.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::{attr, AttributePath, Diagnostic, Diagnostics, Field};

use crate::clients::mysql::identifiers::{DatabaseName, TablePattern};
use crate::clients::Clients;
use crate::diagnostics::database_error_at;

/// The base tables (not views) of a MySQL database, sorted, e.g. to review what a
/// `treeherder_readonly_user` would be granted.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct MysqlTablesModel {
    /// Database to list; defaults to the provider's `mysql.database`.
    #[serde(default)]
    #[tf(computed, optional)]
    pub database: Field<DatabaseName>,
    /// Regular expression (Rust `regex` syntax); only matching tables are listed.
    #[serde(default)]
    pub include: Field<TablePattern>,
    /// Regular expression (Rust `regex` syntax); matching tables are left out.
    #[serde(default)]
    pub exclude: Field<TablePattern>,
    /// Sorted table names.
    #[serde(default)]
    #[tf(computed)]
    pub names: Field<Vec<String>>,
}

/// The `treeherder_mysql_tables` data source.
pub struct MysqlTablesDataSource;

/// `tables` kept by the filters, in order.
pub fn filter_tables(
    tables: Vec<String>,
    include: Option<&TablePattern>,
    exclude: Option<&TablePattern>,
) -> Vec<String> {
    tables
        .into_iter()
        .filter(|t| include.is_none_or(|r| r.is_match(t)))
        .filter(|t| !exclude.is_some_and(|r| r.is_match(t)))
        .collect()
}

/// The configured database, else the provider's `mysql.database`; errors at `path`.
pub(crate) fn database_or_default(
    clients: &Clients,
    configured: Option<&DatabaseName>,
    path: &AttributePath,
) -> Result<DatabaseName, Diagnostics> {
    if let Some(database) = configured {
        return Ok(database.clone());
    }
    let default = clients.default_database().ok_or_else(|| {
        Diagnostic::error(
            "No database",
            format!("Set `{path}` here or `mysql.database` in the provider."),
        )
        .at(path.clone())
    })?;
    DatabaseName::parse(default).map_err(|e| {
        Diagnostic::error("Invalid provider database", e.to_string())
            .at(path.clone())
            .into()
    })
}

#[async_trait]
impl DataSource for MysqlTablesDataSource {
    type Model = MysqlTablesModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_mysql_tables"
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: MysqlTablesModel,
    ) -> Result<MysqlTablesModel, Diagnostics> {
        let clients = ctx.client()?;
        let path = attr!(MysqlTablesModel, database);
        let database = database_or_default(clients, config.database.get(), &path)?;
        let tables = clients
            .mysql()
            .await?
            .list_tables(database.as_str())
            .await
            .map_err(|e| database_error_at(e, attr!(MysqlTablesModel, database)))?;
        config.names.set(filter_tables(
            tables,
            config.include.get(),
            config.exclude.get(),
        ));
        config.database.set(database);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_then_exclude() {
        let tables: Vec<String> = ["auth_user", "job", "job_log", "push"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let include = TablePattern::parse("^job").unwrap();
        let exclude = TablePattern::parse("_log$").unwrap();
        assert_eq!(
            filter_tables(tables.clone(), Some(&include), Some(&exclude)),
            ["job"]
        );
        assert_eq!(filter_tables(tables.clone(), None, None).len(), 4);
    }

    #[test]
    fn a_bad_pattern_is_refused_when_the_configuration_is_read() {
        let err = serde_json::from_value::<MysqlTablesModel>(serde_json::json!({
            "database": null, "include": "(unclosed", "exclude": null, "names": null
        }))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("not a valid regular expression"), "{err}");
        let schema = MysqlTablesDataSource.schema().unwrap();
        let database = schema.block.attribute("database").unwrap();
        assert!(database.optional && database.computed);
    }
}
