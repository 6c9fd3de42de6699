//! `treeherder_readonly_user`: a read-only MySQL account on the primary instance, with SELECT on
//! every table of the database but the excluded ones, and column-level SELECT on a few tables
//! (the runbook's "Granting access to the read-only replica").
//!
//! Planning lists the database's tables, so a table created since the last apply shows up as
//! a planned change of `granted_tables`, and `grant_statements` shows the SQL the apply runs.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tfplugin::framework::{Context, NotKnown, Resource, ResourcePlan};
use tfplugin::types::quote;
use tfplugin::{attr, Diagnostic, Diagnostics, Field, Sensitive, WriteOnly};

use crate::clients::mysql::identifiers::{
    ColumnName, DatabaseName, HostPattern, TableName, TablePattern, UserName,
};
use crate::clients::mysql::statements::display_texts;
use crate::clients::mysql::{
    plan_statements, Account, DesiredUser, Identifier, IdentifierError, MysqlClient, Password,
    UserState,
};
use crate::clients::Clients;
use crate::diagnostics::database_error_at;
use crate::resources::password_arguments::{write_only_password, PasswordArguments};

mod password_mode;

use password_mode::{missing_password, password_changes, require_password_to_create};

/// The runbook's exclusion, anchored (its unanchored `django_|auth_` would also skip tables
/// such as `oauth_token`).
pub const DEFAULT_EXCLUDE_TABLES: &str = "^(django_|auth_)";

/// Tables that get SELECT on some columns only, table → columns.
pub type ColumnGrants = BTreeMap<TableName, Vec<ColumnName>>;

// Defaults parse constants; a failure would only drop the default (the tests check them).
fn default_host() -> Field<HostPattern> {
    HostPattern::parse("%").ok().into()
}

fn default_true() -> Field<bool> {
    Field::known(true)
}

fn default_exclude_tables() -> Field<TablePattern> {
    TablePattern::parse(DEFAULT_EXCLUDE_TABLES).ok().into()
}

/// The runbook's `SELECT (id, username, email) ON auth_user`.
fn runbook_column_grants() -> Option<ColumnGrants> {
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

fn default_column_grants() -> Field<ColumnGrants> {
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
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReadonlyUserModel {
    /// MySQL user name (at most 32 characters on MySQL, 80 on MariaDB). Changing it replaces
    /// the account.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub name: Field<UserName>,
    /// Host pattern of the account, `%` (any host) by default. Changing it replaces the
    /// account.
    #[serde(default = "default_host")]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
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
    #[schemars(extend("x-terraform" = { "computed": true, "optional": true }))]
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
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub id: Field<String>,
    /// Sorted names of the tables granted `SELECT` in full, as read from `mysql.tables_priv`.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub granted_tables: Field<Vec<String>>,
    /// The SQL statements still to run, in the order the apply runs them, with the password
    /// shown as `'<password>'`: empty in state after every refresh, so a plan with changes
    /// shows exactly what the coming apply will run, for review.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub grant_statements: Field<Vec<String>>,
}

/// The `treeherder_readonly_user` resource.
pub struct ReadonlyUser;

/// What the account should look like, before the database and its tables are known.
struct Spec {
    account: Account,
    exclude: TablePattern,
    column_grants: ColumnGrants,
    require_ssl: bool,
}

/// `name@host`, the id.
fn id_of(account: &Account) -> String {
    format!("{}@{}", account.user(), account.host())
}

/// Private-state key of the account this resource instance's state holds (see
/// [`remember_account`]).
const PRIOR_ACCOUNT: &str = "prior_account";

/// Records the account in private state. Terraform plans a replacement's create half with a
/// null prior but with the instance's private state (the state's for a tainted object, the
/// first plan call's for `-replace` or a changed attribute): an existing account recorded
/// there is the one being replaced, which the apply drops first, not a stranger's.
fn remember_account(ctx: &Context<'_, Clients>, account: &Account) {
    ctx.set_private(PRIOR_ACCOUNT, &account_key(account));
}

/// Accounts this provider process has refreshed from some resource's state, by endpoint. A
/// tainted object is planned as a plain create (null prior, no private state), after Terraform
/// refreshed it in the same run: an account listed here is in this configuration's state, and
/// will be dropped before it is created again.
static REFRESHED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn refreshed_key(mysql: &MysqlClient, account: &Account) -> String {
    format!("{}|{}", mysql.endpoint(), account_key(account))
}

fn note_refreshed(mysql: &MysqlClient, account: &Account) {
    let mut set = REFRESHED.lock().unwrap_or_else(|p| p.into_inner());
    set.insert(refreshed_key(mysql, account));
}

fn was_refreshed(mysql: &MysqlClient, account: &Account) -> bool {
    let set = REFRESHED.lock().unwrap_or_else(|p| p.into_inner());
    set.contains(&refreshed_key(mysql, account))
}

/// An account as the server identifies it: hosts are case-insensitive.
fn account_key(account: &Account) -> String {
    format!("{}@{}", account.user(), account.host().to_lowercase())
}

/// At most `max` items of a list for a message, then how many more.
fn some_of(items: &[String], max: usize) -> String {
    let mut text = items
        .iter()
        .take(max)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        text.push_str(&format!(" and {} more", items.len() - max));
    }
    text
}

/// Refuses the provider's own login: managing it would ALTER or DROP the account the provider
/// works with.
fn refuse_login_account(mysql: &MysqlClient, account: &Account) -> Result<(), Diagnostics> {
    if account.user() != mysql.login_user() {
        return Ok(());
    }
    Err(Diagnostic::error(
        "The provider's own account cannot be managed",
        format!(
            "{account} is the account the provider logs in with (its `mysql.username`). \
             A read-only user resource would change its password, REQUIRE setting and grants, \
             or drop it on destroy. Use another name."
        ),
    )
    .at(attr!(ReadonlyUserModel, name))
    .into())
}

/// Refuses an account holding more than SELECT: this resource would rewrite its password and
/// REQUIRE setting, so it must only ever own read-only accounts.
async fn refuse_privileged(mysql: &MysqlClient, account: &Account) -> Result<(), Diagnostics> {
    let extra = mysql.privileges_beyond_select(account).await?;
    if extra.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Not a read-only account",
        format!(
            "{account} holds privileges beyond SELECT and USAGE ({}), so it is not a read-only \
             account and this resource will not manage it (it would change its password and \
             REQUIRE setting). Revoke them by hand first, or use another name.",
            some_of(&extra, 8)
        ),
    )
    .at(attr!(ReadonlyUserModel, name))
    .into())
}

fn account_of(model: &ReadonlyUserModel) -> Result<Account, NotKnown> {
    Ok(Account::of(model.name.value()?, model.host.value()?))
}

/// The password to set at apply: `password`, else `password_wo`.
fn configured_password(model: &ReadonlyUserModel) -> Result<Password, Diagnostics> {
    if let Some(password) = model.password.get() {
        return Ok(password.password().clone());
    }
    match model.password_wo.get() {
        Some(secret) => write_only_password(secret, attr!(ReadonlyUserModel, password_wo)),
        None => Err(missing_password()),
    }
}

/// The provider's database, for a model that names none.
fn provider_database(clients: &Clients) -> Result<DatabaseName, Diagnostics> {
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

fn database_of(model: &ReadonlyUserModel, clients: &Clients) -> Result<DatabaseName, Diagnostics> {
    match model.database.get() {
        Some(database) => Ok(database.clone()),
        None => provider_database(clients),
    }
}

impl Spec {
    /// Fails while a value it needs is unknown (at plan time).
    fn of(model: &ReadonlyUserModel) -> Result<Spec, NotKnown> {
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
    fn column_tables(&self) -> Vec<&Identifier> {
        self.column_grants
            .keys()
            .map(TableName::identifier)
            .collect()
    }

    /// `columns` holds the columns of the `column_grants` tables (table → columns).
    fn desired(
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

fn granted_list(desired: &DesiredUser) -> Vec<String> {
    desired
        .table_grants
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect()
}

/// The server's column grants, keeping the prior spelling (column order) when equivalent.
fn column_grants_read(
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

/// What a converge did.
struct Converged {
    model: ReadonlyUserModel,
    /// Set when a statement failed: the model then describes the account as far as it was
    /// made (for a create, the account exists once CREATE USER ran).
    failure: Option<(usize, Diagnostics)>,
}

impl ReadonlyUser {
    /// Runs the statements that bring the account to the model and fills the computed
    /// attributes. `current` is the account as it is now (None: it does not exist).
    async fn converge(
        &self,
        ctx: &Context<'_, Clients>,
        mysql: &MysqlClient,
        mut model: ReadonlyUserModel,
        current: Option<&UserState>,
        password: Option<&Password>,
    ) -> Result<Converged, Diagnostics> {
        let clients = ctx.client()?;
        let database = database_of(&model, clients)?;
        let spec = Spec::of(&model)?;
        let tables = mysql
            .list_tables(database.as_str())
            .await
            .map_err(|e| database_error_at(e, attr!(ReadonlyUserModel, database)))?;
        let columns = mysql
            .list_columns(database.identifier(), &spec.column_tables())
            .await?;
        // Without a password to set a placeholder stands in; it is never sent.
        let mut desired = spec.desired(&database, &tables, &columns, password)?;
        desired.password_changed = password.is_some();
        let statements = plan_statements(current, &desired);
        let texts = display_texts(&statements);
        if let Some(planned) = model.grant_statements.get() {
            if planned != &texts {
                ctx.add(Diagnostic::warning(
                    "The account changed between plan and apply",
                    format!(
                        "The apply ran {} statement(s) instead of the {} planned ones, to reach \
                         the configured state from what the server held at apply time. \
                         {} keeps the planned list; run `terraform plan` to review.",
                        texts.len(),
                        planned.len(),
                        attr!(ReadonlyUserModel, grant_statements),
                    ),
                ));
            }
        }
        let mut done = 0;
        let failure = match mysql.apply_counted(&statements, &mut done).await {
            Ok(()) => None,
            Err(e) => Some((done, Diagnostics::from(e))),
        };
        model.id.set(id_of(&spec.account));
        model.database.set(database);
        model.granted_tables.set(granted_list(&desired));
        model.grant_statements.set(texts);
        Ok(Converged { model, failure })
    }

    /// The planning work that needs the server; see [`Resource::modify_plan`].
    async fn plan_with_server(
        &self,
        ctx: &Context<'_, Clients>,
        clients: &Clients,
        plan: &mut ResourcePlan<ReadonlyUserModel>,
    ) -> Result<(), Diagnostics> {
        // Values unknown until apply: the framework's unknown-marking stands.
        let Ok(spec) = Spec::of(&plan.planned) else {
            return Ok(());
        };
        // database: the configured one, else the prior one, else the provider's.
        let prior_database = plan.prior.as_ref().and_then(|p| p.database.get()).cloned();
        let database = match &plan.config.database {
            Field::Known(database) => database.clone(),
            Field::Unknown => return Ok(()),
            Field::Null => match &prior_database {
                Some(prior) => prior.clone(),
                None if clients.default_database().is_some() => provider_database(clients)?,
                None => return Ok(()),
            },
        };
        plan.planned.database.set(database.clone());
        let replacing = match &plan.prior {
            None => false,
            Some(prior) => {
                prior_database.as_ref().is_some_and(|p| p != &database)
                    || prior.name != plan.planned.name
                    || prior.host != plan.planned.host
            }
        };
        if prior_database.is_some_and(|p| p != database) {
            plan.require_replace(attr!(ReadonlyUserModel, database));
        }
        plan.planned.id.set(id_of(&spec.account));

        let mysql = clients.mysql().await?;
        refuse_login_account(mysql, &spec.account)?;
        let tables = mysql
            .list_tables(database.as_str())
            .await
            .map_err(|e| database_error_at(e, attr!(ReadonlyUserModel, database)))?;
        let columns = mysql
            .list_columns(database.identifier(), &spec.column_tables())
            .await?;
        let password = plan.planned.password.get().map(AccountPassword::password);
        let mut desired = spec.desired(&database, &tables, &columns, password)?;
        plan.planned.granted_tables.set(granted_list(&desired));

        if plan.prior.as_ref() == Some(&plan.planned) {
            return Ok(());
        }
        if plan.planned.password.is_unknown() || plan.planned.password_wo_version.is_unknown() {
            plan.planned.grant_statements.set_unknown();
            return Ok(());
        }
        // Refuse at plan time rather than halfway through an apply.
        mysql.check_writable().await?;
        let existing = mysql
            .read_user_in(&spec.account, database.identifier())
            .await?;
        if plan.is_create() && existing.is_some() {
            let replaced = ctx.private::<String>(PRIOR_ACCOUNT).as_deref()
                == Some(account_key(&spec.account).as_str())
                || was_refreshed(mysql, &spec.account);
            if !replaced {
                // Not the account this resource's state holds: CREATE USER would fail at
                // apply (after destroying the old account of a replacement); say so now.
                return Err(already_exists(&spec.account));
            }
        }
        if !plan.is_create() && !replacing && existing.is_some() {
            refuse_privileged(mysql, &spec.account).await?;
        }
        let current = if plan.is_create() || replacing {
            None
        } else {
            existing
        };
        desired.password_changed = password_changes(plan.prior.as_ref(), &plan.planned);
        let statements = plan_statements(current.as_ref(), &desired);
        plan.planned
            .grant_statements
            .set(display_texts(&statements));
        Ok(())
    }
}

/// The error for a create whose account exists and is not in this resource's state.
fn already_exists(account: &Account) -> Diagnostics {
    Diagnostic::error(
        "The account already exists",
        format!(
            "{account} exists on the server and is not the account in this resource's state. \
             Import it with `terraform import <address> '{}'` instead of creating it.",
            id_of(account)
        ),
    )
    .at(attr!(ReadonlyUserModel, name))
    .into()
}

#[async_trait]
impl Resource for ReadonlyUser {
    type Model = ReadonlyUserModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_readonly_user"
    }

    fn validate(&self, config: &ReadonlyUserModel, diagnostics: &mut Diagnostics) {
        PasswordArguments {
            password: (&config.password, attr!(ReadonlyUserModel, password)),
            password_wo: (&config.password_wo, attr!(ReadonlyUserModel, password_wo)),
            password_wo_version: (
                &config.password_wo_version,
                attr!(ReadonlyUserModel, password_wo_version),
            ),
        }
        .validate(
            ": remove `password` to keep the password out of the state (Terraform 1.11 or later), or remove `password_wo` and `password_wo_version` to keep using `password`.",
            diagnostics,
        );
        for (table, columns) in config.column_grants.get().into_iter().flatten() {
            let at = attr!(ReadonlyUserModel, column_grants).key(table.as_str());
            // An empty list would grant nothing, and so never match what Read finds.
            if columns.is_empty() {
                diagnostics.push(
                    Diagnostic::error(
                        "No columns",
                        format!(
                            "table {} lists no columns; name at least one or remove the entry",
                            quote(table.as_str())
                        ),
                    )
                    .at(at.clone()),
                );
            }
            // The server keeps one grant per column: a repeated one would never match Read.
            let mut seen = BTreeSet::new();
            let repeated: BTreeSet<&str> = columns
                .iter()
                .map(ColumnName::as_str)
                .filter(|c| !seen.insert(*c))
                .collect();
            if !repeated.is_empty() {
                let repeated: Vec<String> = repeated.into_iter().map(quote).collect();
                diagnostics.push(
                    Diagnostic::error(
                        "Repeated column",
                        format!(
                            "table {} lists {} more than once; name each column once",
                            quote(table.as_str()),
                            some_of(&repeated, 8)
                        ),
                    )
                    .at(at),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<ReadonlyUserModel>,
    ) -> Result<(), Diagnostics> {
        // The write-only value is only in the configuration (validate may not have seen it).
        if let Some(secret) = plan.config.password_wo.get() {
            write_only_password(secret, attr!(ReadonlyUserModel, password_wo))?;
        }
        require_password_to_create(plan.prior.as_ref(), &plan.config)?;
        // Handed to the create half if Terraform replaces the object (see PRIOR_ACCOUNT).
        if let Some(Ok(account)) = plan.prior.as_ref().map(account_of) {
            remember_account(ctx, &account);
        }
        // Without a configured provider (its settings unknown until apply) the framework's
        // unknown-marking stands.
        let Some(clients) = ctx.try_client() else {
            return Ok(());
        };
        self.plan_with_server(ctx, clients, plan).await
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, Clients>,
        prior: &ReadonlyUserModel,
    ) -> Result<(), Diagnostics> {
        let (Some(clients), Ok(account)) = (ctx.try_client(), account_of(prior)) else {
            return Ok(());
        };
        if let Ok(mysql) = clients.mysql().await {
            refuse_login_account(mysql, &account).map_err(|mut diags| {
                diags.push(Diagnostic::error(
                    "Refusing to drop the provider's own account",
                    "Remove it from the state with `terraform state rm <address>` instead.",
                ));
                diags
            })?;
        }
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        plan: ReadonlyUserModel,
    ) -> Result<ReadonlyUserModel, Diagnostics> {
        let clients = ctx.client()?;
        let mysql = clients.mysql().await?;
        let database = database_of(&plan, clients)?;
        let account = account_of(&plan)?;
        refuse_login_account(mysql, &account)?;
        // At apply a replaced account is already dropped: one found now is someone else's.
        if mysql
            .read_user_in(&account, database.identifier())
            .await?
            .is_some()
        {
            return Err(already_exists(&account));
        }
        let password = configured_password(&plan)?;
        let converged = self
            .converge(ctx, mysql, plan, None, Some(&password))
            .await?;
        let Some((done, mut diags)) = converged.failure else {
            remember_account(ctx, &account);
            return Ok(converged.model);
        };
        // CREATE USER is the first statement: once it ran, the account exists, so the
        // state is saved (tainted by Terraform) and the next apply replaces it.
        if done == 0 {
            if diags.iter().any(|d| d.detail.contains("1396")) {
                diags.push(Diagnostic::error(
                    "The account may already exist",
                    "MySQL error 1396 on CREATE USER means the account exists: import it with \
                     `terraform import <address> 'name@host'`.",
                ));
            }
            return Err(diags);
        }
        remember_account(ctx, &account);
        for d in diags.iter() {
            ctx.add(d.clone());
        }
        ctx.add(Diagnostic::error(
            "The account was created but not completely granted",
            format!(
                "{account} exists after {done} statement(s) of the create; it is saved in the \
                 state (tainted) so the next apply replaces it, or `terraform destroy` drops it."
            ),
        ));
        Ok(converged.model)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: ReadonlyUserModel,
    ) -> Result<Option<ReadonlyUserModel>, Diagnostics> {
        let clients = ctx.client()?;
        let mysql = clients.mysql().await?;
        let database = database_of(&state, clients)?;
        let account = account_of(&state)?;
        let Some(server) = mysql.read_user_in(&account, database.identifier()).await? else {
            return Ok(None);
        };
        remember_account(ctx, &account);
        note_refreshed(mysql, &account);
        if server.has_unmanaged_privileges() {
            ctx.add(Diagnostic::warning(
                format!("{account} holds privileges this resource does not manage"),
                "Besides table and column SELECT it has global, database-level or non-SELECT \
                 privileges; a read-only account should not. Revoke them by hand.",
            ));
        }
        let column_grants = column_grants_read(&server.column_grants, state.column_grants.get())
            .map_err(|e| {
                Diagnostic::error("Unexpected column grant on the server", e.to_string())
                    .at(attr!(ReadonlyUserModel, column_grants))
            })?;
        state.require_ssl.set(server.require_ssl);
        state
            .granted_tables
            .set(server.table_grants.iter().cloned().collect::<Vec<_>>());
        state.column_grants.set(column_grants);
        state.database.set(database);
        state.id.set(id_of(&account));
        // Statements still to run: none once the server is read. A plan then shows only the
        // statements its apply will run, not those of the previous apply.
        state.grant_statements.set(Vec::new());
        Ok(Some(state))
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: ReadonlyUserModel,
        plan: ReadonlyUserModel,
    ) -> Result<ReadonlyUserModel, Diagnostics> {
        let clients = ctx.client()?;
        let mysql = clients.mysql().await?;
        let database = database_of(&plan, clients)?;
        let account = account_of(&plan)?;
        refuse_login_account(mysql, &account)?;
        let current = mysql.read_user_in(&account, database.identifier()).await?;
        let password = match password_changes(Some(&prior), &plan) {
            true => Some(configured_password(&plan)?),
            false => None,
        };
        let converged = self
            .converge(ctx, mysql, plan, current.as_ref(), password.as_ref())
            .await?;
        remember_account(ctx, &account);
        match converged.failure {
            None => Ok(converged.model),
            Some((_, diags)) => Err(diags),
        }
    }

    async fn delete(
        &self,
        ctx: &Context<'_, Clients>,
        state: ReadonlyUserModel,
    ) -> Result<(), Diagnostics> {
        let mysql = ctx.client()?.mysql().await?;
        let account = account_of(&state)?;
        refuse_login_account(mysql, &account)?;
        mysql.drop_user(&account).await?;
        Ok(())
    }

    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<ReadonlyUserModel, Diagnostics> {
        let invalid = |detail: String| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import id",
                format!("{detail}; expected \"name@host\" (e.g. 'redash@%')"),
            ))
        };
        // User names may contain '@'; host patterns do not.
        let (name, host) = id
            .rsplit_once('@')
            .ok_or_else(|| invalid(format!("got {}", quote(id))))?;
        let name = UserName::parse(name).map_err(|e| invalid(e.to_string()))?;
        let host = HostPattern::parse(host).map_err(|e| invalid(e.to_string()))?;
        let clients = ctx.client()?;
        let database = clients.default_database().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "No database",
                "Importing needs `mysql.database` (or its default) in the provider.",
            ))
        })?;
        let database = DatabaseName::parse(database)
            .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid database", e.to_string())))?;
        let account = Account::of(&name, &host);
        let mysql = clients.mysql().await?;
        // Import diagnostics have no attribute to point at.
        let unpointed = |mut diags: Diagnostics| {
            for d in diags.0.iter_mut() {
                d.attribute = None;
            }
            diags
        };
        refuse_login_account(mysql, &account).map_err(unpointed)?;
        if mysql
            .read_user_in(&account, database.identifier())
            .await?
            .is_none()
        {
            return Err(Diagnostic::error(
                "No such account",
                format!("{account} does not exist on the server."),
            )
            .into());
        }
        refuse_privileged(mysql, &account)
            .await
            .map_err(unpointed)?;
        Ok(ReadonlyUserModel {
            name: Field::known(name),
            host: Field::known(host),
            password: Field::Null,
            password_wo: Field::Null,
            password_wo_version: Field::Null,
            require_ssl: Field::known(true),
            database: Field::known(database),
            exclude_tables: default_exclude_tables(),
            column_grants: default_column_grants(),
            id: Field::known(id_of(&account)),
            granted_tables: Field::Null,
            grant_statements: Field::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runbook() -> ColumnGrants {
        runbook_column_grants().unwrap()
    }

    fn spec(exclude: &str) -> Spec {
        Spec {
            account: Account::new("reader", "%").unwrap(),
            exclude: TablePattern::parse(exclude).unwrap(),
            column_grants: runbook(),
            require_ssl: true,
        }
    }

    fn db() -> DatabaseName {
        DatabaseName::parse("treeherder").unwrap()
    }

    fn tables(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn model(overrides: serde_json::Value) -> Result<ReadonlyUserModel, String> {
        let mut json = serde_json::json!({
            "name": "r", "host": "%", "password": "a".repeat(30), "require_ssl": true,
            "database": "treeherder", "exclude_tables": "^x", "column_grants": {},
            "id": null, "granted_tables": null, "grant_statements": null
        });
        for (k, v) in overrides.as_object().unwrap() {
            json[k] = v.clone();
        }
        serde_json::from_value(json).map_err(|e| e.to_string())
    }

    /// The message a refused model gives ("" when accepted).
    fn refused(overrides: serde_json::Value) -> String {
        model(overrides).err().unwrap_or_default()
    }

    fn auth_user_columns() -> BTreeMap<String, Vec<String>> {
        let columns = ["id", "password", "username", "email"];
        BTreeMap::from([(
            "auth_user".to_string(),
            columns.iter().map(|c| c.to_string()).collect(),
        )])
    }

    #[test]
    fn missing_columns_are_an_error_naming_them_and_listing_the_table() {
        let mut s = spec(DEFAULT_EXCLUDE_TABLES);
        let long = "c".repeat(64);
        s.column_grants.insert(
            TableName::parse("auth_user").unwrap(),
            vec![
                ColumnName::parse("id").unwrap(),
                ColumnName::parse("no_such_column").unwrap(),
                ColumnName::parse(&long).unwrap(),
            ],
        );
        let mut columns = auth_user_columns();
        columns
            .get_mut("auth_user")
            .unwrap()
            .extend((0..100).map(|i| format!("{}{i}", "x".repeat(60))));
        let err = s
            .desired(&db(), &tables(&["auth_user", "job"]), &columns, None)
            .unwrap_err();
        let d = err.iter().next().unwrap();
        assert_eq!(
            d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
            Some("column_grants[\"auth_user\"]")
        );
        assert!(
            d.detail.contains("no column \"no_such_column\""),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("\"username\""), "{}", d.detail);
        assert!(d.detail.contains("and 64 more"), "{}", d.detail);
        assert!(d.detail.len() < 4000, "{}", d.detail.len());
    }

    #[test]
    fn repeated_columns_fail_validation_at_their_entry() {
        let config = model(serde_json::json!({
            "column_grants": { "auth_user": ["id", "email", "id"] }
        }))
        .unwrap();
        let mut diagnostics = Diagnostics::new();
        ReadonlyUser.validate(&config, &mut diagnostics);
        let d = diagnostics.iter().next().expect("an error");
        assert!(d.detail.contains("\"id\" more than once"), "{}", d.detail);
        assert_eq!(
            d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
            Some("column_grants[\"auth_user\"]")
        );
    }

    #[test]
    fn names_the_server_cannot_compare_are_refused_and_echoes_are_cut() {
        let err = refused(serde_json::json!({ "name": "reader\u{1F600}" }));
        assert!(err.contains("Basic Multilingual Plane"), "{err}");
        let err = refused(serde_json::json!({ "host": "\u{1F600}.example.com" }));
        assert!(err.contains("Basic Multilingual Plane"), "{err}");
        let huge = "n".repeat(1_000_000);
        for field in ["name", "host", "database"] {
            let err = refused(serde_json::json!({ field: huge.clone() }));
            assert!(
                !err.is_empty() && err.len() < 1000,
                "{field}: {} bytes",
                err.len()
            );
        }
        let err = refused(serde_json::json!({ "exclude_tables": format!("({huge}") }));
        assert!(!err.is_empty() && err.len() < 1000, "{} bytes", err.len());
        let err = refused(serde_json::json!({ "column_grants": { huge.clone(): ["id"] } }));
        assert!(!err.is_empty() && err.len() < 1000, "{} bytes", err.len());
        let err = refused(serde_json::json!({ "column_grants": { "t": [huge.clone()] } }));
        assert!(!err.is_empty() && err.len() < 1000, "{} bytes", err.len());
    }

    #[test]
    fn desired_follows_the_runbook_shape() {
        let t = tables(&[
            "auth_group",
            "auth_user",
            "django_migrations",
            "group",
            "job",
            "oauth_token",
        ]);
        let password = Password::new("a".repeat(30)).unwrap();
        let d = spec(DEFAULT_EXCLUDE_TABLES)
            .desired(&db(), &t, &auth_user_columns(), Some(&password))
            .unwrap();
        assert_eq!(granted_list(&d), ["group", "job", "oauth_token"]);
        let cols: Vec<&str> = d.column_grants[&Identifier::table("auth_user").unwrap()]
            .iter()
            .map(Identifier::as_str)
            .collect();
        assert_eq!(cols, ["email", "id", "username"]);
    }

    #[test]
    fn column_grant_tables_are_never_granted_in_full() {
        let mut s = spec("^django_");
        s.column_grants.insert(
            TableName::parse("job").unwrap(),
            vec![
                ColumnName::parse("id").unwrap(),
                ColumnName::parse("guid").unwrap(),
            ],
        );
        let d = s
            .desired(
                &db(),
                &tables(&["auth_user", "job", "push"]),
                &BTreeMap::new(),
                None,
            )
            .unwrap();
        assert_eq!(granted_list(&d), ["push"]);
        assert_eq!(d.column_grants.len(), 2);
    }

    #[test]
    fn missing_column_grant_table_is_an_error_at_its_attribute() {
        let err = spec(DEFAULT_EXCLUDE_TABLES)
            .desired(&db(), &tables(&["job"]), &BTreeMap::new(), None)
            .unwrap_err();
        let at = err.iter().next().and_then(|d| d.attribute.clone());
        assert_eq!(
            at.map(|p| p.to_string()).as_deref(),
            Some("column_grants[\"auth_user\"]")
        );
    }

    #[test]
    fn read_keeps_prior_column_spelling_when_equivalent() {
        let server = BTreeMap::from([(
            "auth_user".to_string(),
            BTreeSet::from([
                "email".to_string(),
                "id".to_string(),
                "username".to_string(),
            ]),
        )]);
        assert_eq!(
            column_grants_read(&server, Some(&runbook())).unwrap(),
            runbook()
        );
        let mut fewer = server.clone();
        fewer.get_mut("auth_user").unwrap().remove("email");
        let read = column_grants_read(&fewer, Some(&runbook())).unwrap();
        let columns: Vec<&str> = read.values().flatten().map(ColumnName::as_str).collect();
        assert_eq!(columns, ["id", "username"]);
    }

    #[test]
    fn bad_values_are_refused_when_read_without_echoing_the_password() {
        let err = refused(serde_json::json!({ "password": "short%SECRETVALUE" }));
        assert!(
            err.contains("percent sign") && !err.contains("SECRETVALUE"),
            "{err}"
        );
        let err = refused(serde_json::json!({ "exclude_tables": "(" }));
        assert!(err.contains("not a valid regular expression"), "{err}");
        assert!(model(serde_json::json!({ "name": "" })).is_err());
        assert!(model(serde_json::json!({ "host": "a\nb" })).is_err());
        let bad = serde_json::json!({ "column_grants": { "auth_user": ["a\u{0}b"] } });
        assert!(refused(bad).contains("column name"));
    }

    #[test]
    fn empty_column_lists_fail_validation_at_their_entry() {
        let config = model(serde_json::json!({ "column_grants": { "auth_user": [] } })).unwrap();
        let mut diagnostics = Diagnostics::new();
        ReadonlyUser.validate(&config, &mut diagnostics);
        let d = diagnostics.iter().next().expect("an error");
        assert!(d.detail.contains("no columns"), "{}", d.detail);
        assert_eq!(
            d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
            Some("column_grants[\"auth_user\"]")
        );
    }

    #[test]
    fn null_password_round_trips_as_null_and_the_schema_marks_the_passwords() {
        let model = model(serde_json::json!({ "password": null })).unwrap();
        assert!(model.password.is_null());
        assert_eq!(
            serde_json::to_value(&model).unwrap()["password"],
            serde_json::Value::Null
        );
        let schema = ReadonlyUser.schema().unwrap();
        let attribute = |name: &str| schema.block.attribute(name).unwrap();
        let password = attribute("password");
        assert!(password.optional && password.sensitive && !password.write_only);
        let password_wo = attribute("password_wo");
        assert!(password_wo.optional && password_wo.sensitive && password_wo.write_only);
        let version = attribute("password_wo_version");
        assert!(version.optional && !version.write_only && !version.sensitive);
        assert!(attribute("name").required);
        for defaulted in ["host", "require_ssl", "exclude_tables", "column_grants"] {
            assert!(attribute(defaulted).default.is_some(), "{defaulted}");
        }
        let database = attribute("database");
        assert!(database.optional && database.computed);
    }

    /// A configuration object: every attribute null but `pairs`.
    fn config(pairs: &[(&str, tfplugin::value::Value)]) -> tfplugin::value::Value {
        use tfplugin::value::Value;
        let mut entries: BTreeMap<String, Value> = ReadonlyUser
            .schema()
            .unwrap()
            .block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null))
            .collect();
        for (k, v) in pairs {
            entries.insert(k.to_string(), v.clone());
        }
        Value::Object(entries)
    }

    #[test]
    fn validation_reports_the_password_rule_and_a_null_password_at_the_attribute() {
        use tfplugin::value::Value;
        let registered = tfplugin::framework::resource(ReadonlyUser).unwrap();
        let name = ("name", Value::String("r".into()));
        let short = config(&[
            name.clone(),
            ("password", Value::String("short-password-1".into())),
        ]);
        let diagnostics = registered.validate(&short, true);
        let errors: Vec<_> = diagnostics.iter().collect();
        assert_eq!(errors.len(), 1, "{diagnostics:?}");
        assert_eq!(
            errors[0].attribute,
            Some(attr!(ReadonlyUserModel, password))
        );
        assert!(
            errors[0].detail.contains("16 characters long; at least 30"),
            "{}",
            errors[0].detail
        );
        assert!(!errors[0].detail.contains("short-password-1"));

        // No password passes validate: an imported account may omit it (a create is refused
        // at plan, see a_create_plan_without_a_password_is_refused_at_password).
        let null = config(std::slice::from_ref(&name));
        assert!(registered.validate(&null, true).iter().next().is_none());

        let good = config(&[name, ("password", Value::String("a".repeat(30)))]);
        assert!(registered.validate(&good, true).iter().next().is_none());
    }

    #[test]
    fn at_most_one_password_and_password_wo_needs_its_version() {
        use tfplugin::value::Value;
        let registered = tfplugin::framework::resource(ReadonlyUser).unwrap();
        let name = ("name", Value::String("r".into()));
        let good = Value::String("b".repeat(30));
        let errors_of = |pairs: &[(&str, Value)], write_only_allowed: bool| {
            let diagnostics = registered.validate(&config(pairs), write_only_allowed);
            diagnostics
                .iter()
                .map(|d| {
                    let at = d
                        .attribute
                        .as_ref()
                        .map(|p| p.to_string())
                        .unwrap_or_default();
                    (at, format!("{}: {}", d.summary, d.detail))
                })
                .collect::<Vec<_>>()
        };
        let version = ("password_wo_version", Value::Number(1u64.into()));
        let wo = ("password_wo", good.clone());
        assert!(errors_of(&[name.clone(), wo.clone(), version.clone()], true).is_empty());
        // An ephemeral value is unknown at validate: it counts as set.
        let unknown = ("password_wo", Value::Unknown);
        assert!(errors_of(&[name.clone(), unknown, version.clone()], true).is_empty());

        let neither = errors_of(std::slice::from_ref(&name), true);
        assert!(neither.is_empty(), "{neither:?}");

        let both = errors_of(
            &[
                name.clone(),
                ("password", good.clone()),
                wo.clone(),
                version.clone(),
            ],
            true,
        );
        assert_eq!(both.len(), 1, "{both:?}");
        assert_eq!(both[0].0, "password_wo");
        assert!(both[0].1.contains("only one of"), "{}", both[0].1);

        let unversioned = errors_of(&[name.clone(), wo.clone()], true);
        assert_eq!(unversioned.len(), 1, "{unversioned:?}");
        assert_eq!(unversioned[0].0, "password_wo_version");

        let stray = errors_of(&[name.clone(), ("password", good), version.clone()], true);
        assert_eq!(stray.len(), 1, "{stray:?}");
        assert_eq!(stray[0].0, "password_wo_version");

        let bad = (
            "password_wo",
            Value::String("short%SECRETVALUE-short%SECRETVALUE".into()),
        );
        let invalid = errors_of(&[name.clone(), bad, version.clone()], true);
        assert_eq!(invalid.len(), 1, "{invalid:?}");
        assert_eq!(invalid[0].0, "password_wo");
        assert!(invalid[0].1.contains("percent sign"), "{}", invalid[0].1);
        assert!(!invalid[0].1.contains("SECRETVALUE"), "{}", invalid[0].1);

        // Terraform < 1.11 cannot send write-only values: the SDK refuses them by name.
        let old = errors_of(&[name, wo, version], false);
        assert!(
            old.iter()
                .any(|(at, text)| at == "password_wo" && text.contains("1.11")),
            "{old:?}"
        );
    }

    #[test]
    fn the_password_is_set_on_create_and_when_password_or_its_version_changes() {
        let base = model(serde_json::json!({})).unwrap();
        assert!(password_changes(None, &base));
        assert!(!password_changes(Some(&base), &base.clone()));
        let mut other = base.clone();
        other.password = model(serde_json::json!({ "password": "c".repeat(31) }))
            .unwrap()
            .password;
        assert!(password_changes(Some(&base), &other));
        let wo = model(serde_json::json!({
            "password": null, "password_wo": "d".repeat(30), "password_wo_version": 1
        }))
        .unwrap();
        let mut same_version = wo.clone();
        same_version.password_wo = Field::Null;
        assert!(!password_changes(Some(&same_version), &wo));
        let mut bumped = wo.clone();
        bumped.password_wo_version = Field::known(2u64);
        assert!(password_changes(Some(&wo), &bumped));
        assert_eq!(
            configured_password(&bumped).unwrap().expose(),
            "d".repeat(30)
        );
        let mut none = wo;
        none.password_wo = Field::Null;
        assert!(configured_password(&none).is_err());
    }

    #[tokio::test]
    async fn a_create_plan_without_a_password_is_refused_at_password() {
        use tfplugin::value::Value;
        let registered = tfplugin::framework::resource(ReadonlyUser).unwrap();
        let config = config(&[("name", Value::String("r".into()))]);
        let (_tx, stop) = tokio::sync::watch::channel(false);
        let outcome = registered
            .plan(
                None,
                stop,
                &Value::Null,
                &config,
                &config,
                Default::default(),
            )
            .await;
        let errors: Vec<_> = outcome.diagnostics.iter().collect();
        assert_eq!(errors.len(), 1, "{:?}", outcome.diagnostics);
        assert_eq!(
            errors[0].attribute,
            Some(attr!(ReadonlyUserModel, password))
        );
        assert!(
            errors[0].detail.contains("to create an account"),
            "{}",
            errors[0].detail
        );
    }

    #[tokio::test]
    async fn a_create_plan_without_provider_settings_plans_the_defaults() {
        use tfplugin::value::Value;
        let registered = tfplugin::framework::resource(ReadonlyUser).unwrap();
        let config = config(&[
            ("name", Value::String("r".into())),
            ("password", Value::String("a".repeat(30))),
        ]);
        let (_tx, stop) = tokio::sync::watch::channel(false);
        let outcome = registered
            .plan(
                None,
                stop,
                &Value::Null,
                &config,
                &config,
                Default::default(),
            )
            .await;
        assert!(
            outcome.diagnostics.iter().next().is_none(),
            "{:?}",
            outcome.diagnostics
        );
        let planned = |name: &str| outcome.planned.get_attr(name).cloned();
        assert_eq!(planned("host"), Some(Value::String("%".into())));
        assert_eq!(
            planned("exclude_tables"),
            Some(Value::String(DEFAULT_EXCLUDE_TABLES.into()))
        );
        assert_eq!(planned("require_ssl"), Some(Value::Bool(true)));
        assert_eq!(planned("grant_statements"), Some(Value::Unknown));
        assert_eq!(planned("database"), Some(Value::Unknown));
    }
}
