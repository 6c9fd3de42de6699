//! The model of `treeherder_readonly_user` and its defaults.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tfplugin::{Field, Sensitive, WriteOnly};

use crate::clients::mysql::identifiers::{
    ColumnName, DatabaseName, HostPattern, TableName, TablePattern, UserName,
};
use crate::clients::mysql::Password;
use crate::resources::password_arguments::{PasswordArguments, PasswordRules};

/// The runbook's exclusion, anchored (its unanchored `django_|auth_` would also skip tables
/// such as `oauth_token`).
pub const DEFAULT_EXCLUDE_TABLES: &str = "^(django_|auth_)";

/// Tables that get SELECT on some columns only, table → columns.
pub type ColumnGrants = BTreeMap<TableName, Vec<ColumnName>>;

// Defaults parse constants; a failure would only drop the default (the tests check them).
pub(super) fn default_host() -> Field<HostPattern> {
    HostPattern::parse("%").ok().into()
}

pub(super) fn default_true() -> Field<bool> {
    Field::known(true)
}

pub(super) fn default_exclude_tables() -> Field<TablePattern> {
    TablePattern::parse(DEFAULT_EXCLUDE_TABLES).ok().into()
}

/// The runbook's `SELECT (id, username, email) ON auth_user`.
pub(super) fn runbook_column_grants() -> Option<ColumnGrants> {
    let columns = ["id", "username", "email"]
        .into_iter()
        .map(ColumnName::parse)
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(BTreeMap::from([(
        TableName::parse("auth_user").ok()?,
        columns,
    )]))
}

pub(super) fn default_column_grants() -> Field<ColumnGrants> {
    runbook_column_grants().into()
}

/// The account's password, checked against the runbook's rules when the configuration is
/// read; sensitive. No `Debug`, like [`Password`].
#[derive(Clone, PartialEq, Eq)]
pub struct AccountPassword(Password);

impl AccountPassword {
    /// The validated password.
    pub fn password(&self) -> &Password {
        &self.0
    }
}

impl Serialize for AccountPassword {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.expose())
    }
}

impl<'de> Deserialize<'de> for AccountPassword {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // PasswordError names the rule broken, never the password.
        Password::new(text)
            .map(AccountPassword)
            .map_err(D::Error::custom)
    }
}

impl JsonSchema for AccountPassword {
    fn schema_name() -> Cow<'static, str> {
        "AccountPassword".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        // Sensitive's schema, so the attribute is marked sensitive the SDK's way.
        Sensitive::json_schema(generator)
    }
}

/// A read-only MySQL account for the Treeherder database, created on the **primary** instance
/// (the read-only replica copies it). It gets `SELECT` on every table of `database` whose name
/// does not match `exclude_tables`, and `SELECT` on only some columns of the tables in
/// `column_grants`. Tables created later appear in the next plan as a change of
/// `granted_tables`, and `grant_statements` shows the SQL the apply will run.
// No Debug: the model holds the password, and nothing should be able to print it.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
#[tf(validator = PasswordArguments::rules(
    "Remove `password` to keep the password out of the state (Terraform 1.11 or later), or \
     remove `password_wo` and `password_wo_version` to keep using `password`."
))]
pub struct ReadonlyUserModel {
    /// MySQL user name (at most 32 characters on MySQL, 80 on MariaDB). Changing it replaces
    /// the account.
    #[tf(requires_replace)]
    pub name: Field<UserName>,
    /// Host pattern of the account, `%` (any host) by default. Changing it replaces the
    /// account.
    #[serde(default = "default_host")]
    #[tf(requires_replace)]
    pub host: Field<HostPattern>,
    /// The account's password: 30 to 256 characters of `A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; =`
    /// (MySQL refuses longer ones; characters such as `%`, `@`, `:`, `/`, `?`, `#`, quotes, backslash and whitespace
    /// break Django's `DATABASE_URL` parsing). Changing it runs `ALTER USER … IDENTIFIED BY`.
    /// Stored in state (as a sensitive value). It cannot be read back from the server: after
    /// an import it is null in state. Set at most one of `password` and `password_wo`; with
    /// neither, the password is not managed (never set nor changed), which only an existing,
    /// imported account allows: a new one needs a password.
    #[serde(default)]
    pub password: Field<AccountPassword>,
    /// The account's password, write-only (Terraform ≥ 1.11): never stored in state or plan
    /// files, e.g. `ephemeral.treeherder_password.x.result`. Same rules as `password`. It is
    /// only sent when the account is created or `password_wo_version` changes.
    #[serde(default)]
    #[tf(validator = PasswordRules)]
    pub password_wo: Field<WriteOnly>,
    /// Version of `password_wo`, required with it: changing it sets the account's password to
    /// `password_wo` again (`ALTER USER … IDENTIFIED BY`), which is how to rotate it.
    #[serde(default)]
    pub password_wo_version: Field<u64>,
    /// Whether the account must connect over TLS (`REQUIRE SSL`). Changed with
    /// `ALTER USER … REQUIRE`, never with `GRANT`.
    #[serde(default = "default_true")]
    pub require_ssl: Field<bool>,
    /// Database whose tables are granted; defaults to the provider's `mysql.database` as it
    /// was when the account was created. Changing it replaces the account.
    #[serde(default)]
    #[tf(computed, optional)]
    pub database: Field<DatabaseName>,
    /// Regular expression (Rust `regex` syntax) of table names that get no table-level grant.
    #[serde(default = "default_exclude_tables")]
    pub exclude_tables: Field<TablePattern>,
    /// Tables that get `SELECT` on some columns only, table → columns. These tables never get a
    /// table-level grant, whatever `exclude_tables` says. Every table named must exist.
    #[serde(default = "default_column_grants")]
    pub column_grants: Field<ColumnGrants>,
    /// `name@host`, also the import id.
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub id: Field<String>,
    /// Sorted names of the tables granted `SELECT` in full, as read from `mysql.tables_priv`.
    #[serde(default)]
    #[tf(computed)]
    pub granted_tables: Field<Vec<String>>,
    /// The SQL statements still to run, in the order the apply runs them, with the password
    /// shown as `'<password>'`: empty in state after every refresh, so a plan with changes
    /// shows exactly what the coming apply will run, for review.
    #[serde(default)]
    #[tf(computed)]
    pub grant_statements: Field<Vec<String>>,
}
