//! `treeherder_mysql_tables`: the base tables of a database, filtered by regular expressions.

use async_trait::async_trait;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::schema::{Schema, SchemaDeriveError};
use tfplugin::validators::CheckFn;
use tfplugin::value::Value;
use tfplugin::{AttributePath, Diagnostic, Diagnostics};

use crate::clients::Clients;

/// The base tables (not views) of a MySQL database, sorted, e.g. to review what a
/// `treeherder_readonly_user` would be granted.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MysqlTablesModel {
    /// Database to list; defaults to the provider's `mysql.database`.
    #[schemars(extend("x-terraform" = { "computed": true, "optional": true }))]
    pub database: Option<String>,
    /// Regular expression (Rust `regex` syntax); only matching tables are listed.
    pub include: Option<String>,
    /// Regular expression (Rust `regex` syntax); matching tables are left out.
    pub exclude: Option<String>,
    /// Sorted table names.
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub names: Option<Vec<String>>,
}

/// The `treeherder_mysql_tables` data source.
pub struct MysqlTables;

fn compile(attribute: &str, pattern: Option<&str>) -> Result<Option<Regex>, Diagnostics> {
    pattern
        .map(|p| {
            Regex::new(p).map_err(|e| {
                Diagnostics::from(
                    Diagnostic::error(
                        format!("Invalid {attribute}"),
                        format!("not a valid regular expression: {e}"),
                    )
                    .at(AttributePath::root(attribute)),
                )
            })
        })
        .transpose()
}

/// `tables` kept by the filters, in order.
pub fn filter_tables(
    tables: Vec<String>,
    include: Option<&Regex>,
    exclude: Option<&Regex>,
) -> Vec<String> {
    tables
        .into_iter()
        .filter(|t| include.is_none_or(|r| r.is_match(t)))
        .filter(|t| !exclude.is_some_and(|r| r.is_match(t)))
        .collect()
}

fn check_regex(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(p) => Regex::new(p)
            .map(|_| ())
            .map_err(|e| format!("not a valid regular expression: {e}")),
        None => Ok(()),
    }
}

#[async_trait]
impl DataSource for MysqlTables {
    type Model = MysqlTablesModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_mysql_tables"
    }

    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<MysqlTablesModel>()?
            .with_validator("include", CheckFn::new("a regular expression", check_regex))?
            .with_validator("exclude", CheckFn::new("a regular expression", check_regex))
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: MysqlTablesModel,
    ) -> Result<MysqlTablesModel, Diagnostics> {
        let clients = ctx.client()?;
        let include = compile("include", config.include.as_deref())?;
        let exclude = compile("exclude", config.exclude.as_deref())?;
        let database = config
            .database
            .clone()
            .or_else(|| clients.default_database().map(str::to_owned))
            .ok_or_else(|| {
                Diagnostics::from(
                    Diagnostic::error(
                        "No database",
                        "Set `database` here or `mysql.database` in the provider.",
                    )
                    .at(AttributePath::root("database")),
                )
            })?;
        let tables = clients.mysql().await?.list_tables(&database).await?;
        config.names = Some(filter_tables(tables, include.as_ref(), exclude.as_ref()));
        config.database = Some(database);
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
        let include = Regex::new("^job").unwrap();
        let exclude = Regex::new("_log$").unwrap();
        assert_eq!(
            filter_tables(tables.clone(), Some(&include), Some(&exclude)),
            ["job"]
        );
        assert_eq!(filter_tables(tables.clone(), None, None).len(), 4);
        assert!(check_regex(&Value::String("[".into())).is_err());
    }
}
