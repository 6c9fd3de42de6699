//! The server's accounts, as `treeherder_mysql_accounts` lists them for adoption.

use super::catalog::column_text;
use super::identifiers::{Account, Identifier};
use super::{MysqlClient, MysqlError};

/// User names never listed: the server's own accounts (MariaDB's and MySQL's) and the ones RDS
/// keeps for itself. The provider's own login is left out as well (see
/// [`MysqlClient::list_accounts`]).
pub const SYSTEM_USERS: [&str; 8] = [
    "root",
    "mariadb.sys",
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
    "rdsadmin",
    "rdsrepladmin",
    "rdstopmgr",
];

/// Whether a user name is one this provider never offers to adopt.
pub fn is_system_user(user: &str, login_user: &str) -> bool {
    user.is_empty() || user == login_user || SYSTEM_USERS.contains(&user)
}

/// One account as the data source reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    /// The account.
    pub account: Account,
    /// Whether it must connect over TLS.
    pub require_ssl: bool,
    /// Tables of the database with a table-level SELECT, sorted.
    pub table_grants: Vec<String>,
    /// Privileges beyond SELECT and USAGE, as `treeherder_readonly_user` refuses them.
    pub beyond_select: Vec<String>,
}

impl MysqlClient {
    /// The accounts of the server, sorted by user and host, without roles, anonymous
    /// accounts, [`SYSTEM_USERS`] and the provider's own login (any host). Accounts whose
    /// names the client cannot quote are left out: no resource could manage them. One query.
    pub async fn list_accounts(&self) -> Result<Vec<Account>, MysqlError> {
        let rows = self
            .read_rows(
                "SELECT * FROM mysql.user ORDER BY User, Host",
                "mysql.user",
                Vec::new(),
                Some("mysql.user"),
            )
            .await?;
        let mut accounts = Vec::new();
        for row in &rows {
            let user = column_text(row, "User").unwrap_or_default();
            let host = column_text(row, "Host").unwrap_or_default();
            // MariaDB lists roles in mysql.user too; they log nobody in.
            let role = column_text(row, "is_role").is_some_and(|v| v.eq_ignore_ascii_case("Y"));
            if role || is_system_user(&user, self.login_user()) {
                continue;
            }
            if let Ok(account) = Account::new(&user, &host) {
                accounts.push(account);
            }
        }
        Ok(accounts)
    }

    /// What the data source reports of `account` for `database`, with the same reads as
    /// `treeherder_readonly_user` (its state and its refusal rule): eight queries. `None` if
    /// the account disappeared meanwhile.
    pub async fn account_summary(
        &self,
        account: &Account,
        database: &Identifier,
    ) -> Result<Option<AccountSummary>, MysqlError> {
        let Some(state) = self.read_user_in(account, database).await? else {
            return Ok(None);
        };
        let beyond_select = self.privileges_beyond_select(account).await?;
        Ok(Some(AccountSummary {
            account: account.clone(),
            require_ssl: state.require_ssl,
            table_grants: state.table_grants.into_iter().collect(),
            beyond_select,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_accounts_and_the_login_are_not_offered() {
        for user in ["root", "mariadb.sys", "rdsadmin", "", "admin"] {
            assert!(is_system_user(user, "admin"), "{user:?}");
        }
        for user in ["activedata", "redash", "root2"] {
            assert!(!is_system_user(user, "admin"), "{user:?}");
        }
    }
}
