//! The account state read from the privilege tables, the desired state, and their difference.

use std::collections::{BTreeMap, BTreeSet};

use super::error::PasswordError;
use super::identifiers::{Account, Identifier};
use super::password::Password;

/// Tables the runbook keeps out of read-only accounts (Django's and auth tables), matched as a
/// prefix: the runbook's unanchored `REGEXP 'django_|auth_'` would also drop e.g. `oauth_token`.
pub const EXCLUDED_TABLE_PREFIXES: [&str; 2] = ["django_", "auth_"];
/// The table that gets a column-level grant instead.
pub const AUTH_USER_TABLE: &str = "auth_user";
/// The `auth_user` columns read-only accounts may see (the runbook's list).
pub const AUTH_USER_COLUMNS: [&str; 3] = ["id", "username", "email"];

/// What the server says about one account, for the configured database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserState {
    /// Whether the account must use TLS (`ssl_type` is not empty).
    pub require_ssl: bool,
    /// Raw `mysql.user.ssl_type`: `""`, `ANY` (REQUIRE SSL), `X509` or `SPECIFIED`.
    pub ssl_type: String,
    /// Tables with a table-level SELECT grant.
    pub table_grants: BTreeSet<String>,
    /// Column-level SELECT grants, table → columns.
    pub column_grants: BTreeMap<String, BTreeSet<String>>,
    /// Global privileges (from `mysql.user`'s `*_priv = 'Y'` columns), e.g. `SELECT`,
    /// `CREATE USER`. Reported, not managed.
    pub global_privileges: BTreeSet<String>,
    /// Database-level privileges on the configured database (from `mysql.db`). Reported, not
    /// managed.
    pub database_privileges: BTreeSet<String>,
    /// Table- and column-level privileges other than SELECT, table → privileges such as
    /// `INSERT` or `UPDATE (email)`. Reported, not managed.
    pub other_table_privileges: BTreeMap<String, BTreeSet<String>>,
}

impl UserState {
    /// Whether the account holds anything beyond table/column SELECT on the configured
    /// database (which a read-only account should not).
    pub fn has_unmanaged_privileges(&self) -> bool {
        !(self.global_privileges.is_empty()
            && self.database_privileges.is_empty()
            && self.other_table_privileges.is_empty())
    }
}

/// The state a read-only account should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredUser {
    /// The account.
    pub account: Account,
    /// Database holding the granted tables.
    pub database: Identifier,
    /// The account's password.
    pub password: Password,
    /// Whether to set the password on an existing account (a rotation); new accounts always
    /// get it. The server cannot tell whether a password matches, so this comes from config.
    pub password_changed: bool,
    /// Whether the account must use TLS (`REQUIRE SSL`).
    pub require_ssl: bool,
    /// Tables to grant SELECT on in full.
    pub table_grants: BTreeSet<Identifier>,
    /// Tables to grant SELECT on some columns only, table → columns.
    pub column_grants: BTreeMap<Identifier, BTreeSet<Identifier>>,
}

/// The runbook's grant shape for a database's tables: SELECT on every table except those
/// starting with `django_` or `auth_`, plus SELECT on `auth_user (id, username, email)` when
/// that table exists.
pub fn runbook_grants(
    tables: &[Identifier],
) -> (
    BTreeSet<Identifier>,
    BTreeMap<Identifier, BTreeSet<Identifier>>,
) {
    let table_grants = tables
        .iter()
        .filter(|t| {
            !EXCLUDED_TABLE_PREFIXES
                .iter()
                .any(|p| t.as_str().starts_with(p))
        })
        .cloned()
        .collect();
    let mut column_grants = BTreeMap::new();
    if let Some(auth_user) = tables.iter().find(|t| t.as_str() == AUTH_USER_TABLE) {
        let columns = AUTH_USER_COLUMNS
            .iter()
            .filter_map(|c| Identifier::column(c).ok())
            .collect();
        column_grants.insert(auth_user.clone(), columns);
    }
    (table_grants, column_grants)
}

/// The GRANT statements `treeherder_readonly_user` runs for a new account given a
/// database's `tables` (the runbook's shape, see [`runbook_grants`]), as display texts.
pub fn readonly_grant_statements(
    account: &Account,
    database: &Identifier,
    tables: &[Identifier],
    require_ssl: bool,
) -> Result<Vec<String>, PasswordError> {
    let (table_grants, column_grants) = runbook_grants(tables);
    let desired = DesiredUser {
        account: account.clone(),
        database: database.clone(),
        // Only GRANT statements are returned: the password is never part of them.
        password: Password::new("x".repeat(30))?,
        password_changed: false,
        require_ssl,
        table_grants,
        column_grants,
    };
    Ok(crate::clients::mysql::plan_statements(None, &desired)
        .iter()
        .filter(|s| s.kind() == crate::clients::mysql::StatementKind::Grant)
        .map(|s| s.display_text().to_string())
        .collect())
}

/// What has to change to go from the current to the desired state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantDiff {
    /// The account does not exist and must be created.
    pub create: bool,
    /// The password of the existing account must be set.
    pub set_password: bool,
    /// New `REQUIRE` setting for an existing account.
    pub set_require_ssl: Option<bool>,
    /// Table-level SELECT grants to revoke (including stale grants on dropped tables).
    pub revoke_tables: BTreeSet<String>,
    /// Column-level SELECT grants to revoke, table → columns.
    pub revoke_columns: BTreeMap<String, BTreeSet<String>>,
    /// Table-level SELECT grants to add.
    pub grant_tables: BTreeSet<Identifier>,
    /// Column-level SELECT grants to add, table → columns.
    pub grant_columns: BTreeMap<Identifier, BTreeSet<Identifier>>,
}

impl GrantDiff {
    /// Computes the difference.
    ///
    /// A table-level `REVOKE SELECT` also removes that table's column grants (tested on
    /// MariaDB 10.11), so for a table losing its table grant no column revoke is planned and
    /// every desired column is granted again afterwards.
    pub fn between(current: Option<&UserState>, desired: &DesiredUser) -> GrantDiff {
        let empty = UserState::default();
        let state = current.unwrap_or(&empty);
        let desired_tables: BTreeSet<&str> = desired
            .table_grants
            .iter()
            .map(Identifier::as_str)
            .collect();

        let revoke_tables: BTreeSet<String> = state
            .table_grants
            .iter()
            .filter(|t| !desired_tables.contains(t.as_str()))
            .cloned()
            .collect();

        let mut revoke_columns = BTreeMap::new();
        for (table, columns) in &state.column_grants {
            if revoke_tables.contains(table) {
                continue;
            }
            let wanted: BTreeSet<&str> = desired
                .column_grants
                .iter()
                .find(|(t, _)| t.as_str() == table)
                .map(|(_, cols)| cols.iter().map(Identifier::as_str).collect())
                .unwrap_or_default();
            let extra: BTreeSet<String> = columns
                .iter()
                .filter(|c| !wanted.contains(c.as_str()))
                .cloned()
                .collect();
            if !extra.is_empty() {
                revoke_columns.insert(table.clone(), extra);
            }
        }

        let grant_tables = desired
            .table_grants
            .iter()
            .filter(|t| !state.table_grants.contains(t.as_str()))
            .cloned()
            .collect();

        let mut grant_columns = BTreeMap::new();
        for (table, columns) in &desired.column_grants {
            let wiped = revoke_tables.contains(table.as_str());
            let have = state.column_grants.get(table.as_str());
            let missing: BTreeSet<Identifier> = columns
                .iter()
                .filter(|c| wiped || !have.is_some_and(|h| h.contains(c.as_str())))
                .cloned()
                .collect();
            if !missing.is_empty() {
                grant_columns.insert(table.clone(), missing);
            }
        }

        GrantDiff {
            create: current.is_none(),
            set_password: current.is_some() && desired.password_changed,
            set_require_ssl: current
                .filter(|s| s.require_ssl != desired.require_ssl)
                .map(|_| desired.require_ssl),
            revoke_tables,
            revoke_columns,
            grant_tables,
            grant_columns,
        }
    }

    /// Whether nothing has to change.
    pub fn is_empty(&self) -> bool {
        *self == GrantDiff::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<Identifier> {
        names
            .iter()
            .map(|n| Identifier::table(n).unwrap())
            .collect()
    }

    fn desired(tables: &[&str]) -> DesiredUser {
        let (table_grants, column_grants) = runbook_grants(&ids(tables));
        DesiredUser {
            account: Account::new("reader", "%").unwrap(),
            database: Identifier::database("treeherder").unwrap(),
            password: Password::new("p".repeat(30)).unwrap(),
            password_changed: false,
            require_ssl: true,
            table_grants,
            column_grants,
        }
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn in_sync_state() -> UserState {
        UserState {
            require_ssl: true,
            ssl_type: "ANY".into(),
            table_grants: set(&["group", "job"]),
            column_grants: [("auth_user".to_string(), set(&["email", "id", "username"]))]
                .into_iter()
                .collect(),
            ..UserState::default()
        }
    }

    const TABLES: [&str; 6] = [
        "auth_user",
        "auth_group",
        "django_migrations",
        "group",
        "job",
        "oauth_token",
    ];

    #[test]
    fn runbook_shape_anchors_the_prefixes() {
        let (tables, columns) = runbook_grants(&ids(&TABLES));
        let names: Vec<&str> = tables.iter().map(Identifier::as_str).collect();
        assert_eq!(names, ["group", "job", "oauth_token"]);
        let auth: Vec<&str> = columns[&Identifier::table("auth_user").unwrap()]
            .iter()
            .map(Identifier::as_str)
            .collect();
        assert_eq!(auth, ["email", "id", "username"]);
        assert!(runbook_grants(&ids(&["job"])).1.is_empty());
    }

    #[test]
    fn new_account_grants_everything() {
        let d = desired(&TABLES);
        let diff = GrantDiff::between(None, &d);
        assert!(diff.create && !diff.set_password && diff.set_require_ssl.is_none());
        assert_eq!(diff.grant_tables.len(), 3);
        assert_eq!(diff.grant_columns.len(), 1);
        assert!(diff.revoke_tables.is_empty() && diff.revoke_columns.is_empty());
    }

    #[test]
    fn in_sync_is_empty_and_rotation_only_sets_password() {
        let d = desired(&["auth_user", "group", "job"]);
        assert!(GrantDiff::between(Some(&in_sync_state()), &d).is_empty());
        let rotated = DesiredUser {
            password_changed: true,
            ..d
        };
        let diff = GrantDiff::between(Some(&in_sync_state()), &rotated);
        assert!(diff.set_password && !diff.create);
        assert!(diff.grant_tables.is_empty() && diff.revoke_tables.is_empty());
    }

    #[test]
    fn drift_is_repaired() {
        let d = desired(&["auth_user", "group", "job", "push"]);
        let mut state = in_sync_state();
        state.require_ssl = false;
        state.ssl_type.clear();
        state.table_grants.remove("job");
        state.table_grants.insert("dropped_table".into());
        state
            .column_grants
            .get_mut("auth_user")
            .unwrap()
            .insert("password".into());
        state
            .column_grants
            .get_mut("auth_user")
            .unwrap()
            .remove("email");
        let diff = GrantDiff::between(Some(&state), &d);
        assert_eq!(diff.set_require_ssl, Some(true));
        assert_eq!(diff.revoke_tables, set(&["dropped_table"]));
        assert_eq!(
            diff.revoke_columns,
            [("auth_user".to_string(), set(&["password"]))]
                .into_iter()
                .collect()
        );
        let granted: Vec<&str> = diff.grant_tables.iter().map(Identifier::as_str).collect();
        assert_eq!(granted, ["job", "push"]);
        let cols: Vec<&str> = diff.grant_columns[&Identifier::table("auth_user").unwrap()]
            .iter()
            .map(Identifier::as_str)
            .collect();
        assert_eq!(cols, ["email"]);
    }

    #[test]
    fn full_auth_user_grant_is_narrowed_to_columns() {
        // The treeherder PR #6276 mistake: SELECT on all of auth_user, password included.
        let d = desired(&["auth_user", "group", "job"]);
        let mut state = in_sync_state();
        state.table_grants.insert("auth_user".into());
        let diff = GrantDiff::between(Some(&state), &d);
        assert_eq!(diff.revoke_tables, set(&["auth_user"]));
        assert!(diff.revoke_columns.is_empty());
        // The table revoke wipes the column grants, so all three are granted again.
        assert_eq!(
            diff.grant_columns[&Identifier::table("auth_user").unwrap()].len(),
            3
        );
    }
}
