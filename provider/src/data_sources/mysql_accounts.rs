//! `treeherder_mysql_accounts`: the server's accounts, with what adopting each one as a
//! `treeherder_readonly_user` would take (its import id, whether it may be adopted, the
//! tables of the runbook's set it lacks).

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::mysql::identifiers::{DatabaseName, TablePattern};
use crate::clients::mysql::AccountSummary;
use crate::clients::Clients;
use crate::data_sources::mysql_tables::{database_or_default, filter_tables};
use crate::diagnostics::database_error_at;
use crate::resources::readonly_user::DEFAULT_EXCLUDE_TABLES;

/// The MySQL accounts of the provider's server, e.g. to import the read-only ones into
/// `treeherder_readonly_user` with an `import` block's `for_each`. Left out: `root`, the
/// server's and RDS's own accounts (`mariadb.sys`, `mysql.sys`, `mysql.session`,
/// `mysql.infoschema`, `rdsadmin`, `rdsrepladmin`, `rdstopmgr`), anonymous accounts, roles, and
/// the account the provider logs in with (its `mysql.username`, on any host).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct MysqlAccountsModel {
    /// Regular expression (Rust `regex` syntax) over user names; only matching accounts are
    /// listed, e.g. `^(activedata|redash)$`.
    #[serde(default)]
    pub name_regex: Field<TablePattern>,
    /// Database whose grants are reported; defaults to the provider's `mysql.database`.
    #[serde(default)]
    #[tf(computed, optional)]
    pub database: Field<DatabaseName>,
    /// The accounts, sorted by name then host, each an object of `name`, `host`, `import_id`
    /// (`name@host`, what `treeherder_readonly_user` import accepts), `require_ssl`,
    /// `select_only` (only SELECT/USAGE: the resource may adopt it), `granted_tables` (tables of
    /// `database` with SELECT in full) and `missing_tables` (tables of the runbook's set, all but
    /// `django_*` and `auth_*`, it lacks).
    // A list of plain objects, not nested attributes: Terraform 1.0.3 rejects references into
    // computed nested attributes.
    #[serde(default)]
    #[tf(computed)]
    pub accounts: Field<Vec<MysqlAccount>>,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MysqlAccount {
    /// User name.
    pub name: String,
    /// Host pattern (`%` for any host).
    pub host: String,
    /// `name@host`, what `treeherder_readonly_user` import accepts.
    pub import_id: String,
    /// Whether the account must connect over TLS (`REQUIRE SSL` or stricter).
    pub require_ssl: bool,
    /// Whether it holds only SELECT and USAGE, so `treeherder_readonly_user` may adopt it (the
    /// rule by which that resource refuses an import).
    pub select_only: bool,
    /// Tables of `database` it has SELECT on in full, sorted.
    pub granted_tables: Vec<String>,
    /// Tables of the runbook's set (every table of `database` but `django_*` and `auth_*`) it
    /// has no table-level SELECT on, sorted: what adopting it would grant.
    pub missing_tables: Vec<String>,
}

/// The `treeherder_mysql_accounts` data source.
pub struct MysqlAccountsDataSource;

/// The data source's entry for an account, given the runbook's set of tables.
fn entry(summary: AccountSummary, runbook_tables: &[String]) -> MysqlAccount {
    let missing_tables = runbook_tables
        .iter()
        .filter(|t| !summary.table_grants.contains(t))
        .cloned()
        .collect();
    let (name, host) = (summary.account.user(), summary.account.host());
    MysqlAccount {
        name: name.to_owned(),
        host: host.to_owned(),
        import_id: format!("{name}@{host}"),
        require_ssl: summary.require_ssl,
        select_only: summary.beyond_select.is_empty(),
        granted_tables: summary.table_grants,
        missing_tables,
    }
}

#[async_trait]
impl DataSource for MysqlAccountsDataSource {
    type Model = MysqlAccountsModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_mysql_accounts"
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: MysqlAccountsModel,
    ) -> Result<MysqlAccountsModel, Diagnostics> {
        let clients = ctx.client()?;
        let path = attr!(MysqlAccountsModel, database);
        let database = database_or_default(clients, config.database.get(), &path)?;
        let mysql = clients.mysql().await?;
        let tables = mysql
            .list_tables(database.as_str())
            .await
            .map_err(|e| database_error_at(e, path.clone()))?;
        let runbook = TablePattern::parse(DEFAULT_EXCLUDE_TABLES).map_err(|e| {
            Diagnostic::error("Invalid runbook exclusion", e.to_string()).at(path.clone())
        })?;
        let runbook_tables = filter_tables(tables, None, Some(&runbook));
        let mut accounts = Vec::new();
        for account in mysql.list_accounts().await? {
            if !config
                .name_regex
                .get()
                .is_none_or(|r| r.is_match(account.user()))
            {
                continue;
            }
            if let Some(summary) = mysql
                .account_summary(&account, database.identifier())
                .await?
            {
                accounts.push(entry(summary, &runbook_tables));
            }
        }
        config.accounts.set(accounts);
        config.database.set(database);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::mysql::Account;

    #[test]
    fn an_entry_lists_the_missing_runbook_tables_and_the_import_id() {
        let summary = AccountSummary {
            account: Account::new("redash", "%").unwrap(),
            require_ssl: true,
            table_grants: vec!["job".into(), "push".into()],
            beyond_select: Vec::new(),
        };
        let runbook: Vec<String> = ["group", "job", "push"].map(String::from).to_vec();
        let e = entry(summary.clone(), &runbook);
        assert_eq!(e.import_id, "redash@%");
        assert!(e.select_only && e.require_ssl);
        assert_eq!(e.missing_tables, ["group"]);
        let privileged = AccountSummary {
            beyond_select: vec!["INSERT on `treeherder`.`job`".into()],
            ..summary
        };
        assert!(!entry(privileged, &runbook).select_only);
    }

    #[test]
    fn a_bad_name_regex_is_refused_when_the_configuration_is_read() {
        let err = serde_json::from_value::<MysqlAccountsModel>(serde_json::json!({
            "name_regex": "(", "database": null, "accounts": null
        }))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("not a valid regular expression"), "{err}");
    }
}
