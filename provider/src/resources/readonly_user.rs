//! `treeherder_readonly_user`: a read-only MySQL account on the primary instance, with SELECT on
//! every table of the database but the excluded ones, and column-level SELECT on a few tables
//! (the runbook's "Granting access to the read-only replica").
//!
//! Planning lists the database's tables, so a table created since the last apply shows up as
//! a planned change of `granted_tables`, and `grant_statements` shows the SQL the apply runs.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::schema::{Schema, SchemaDeriveError};
use tfplugin::validators::CheckFn;
use tfplugin::value::Value;
use tfplugin::{AttributePath, Diagnostic, Diagnostics};

use crate::clients::mysql::statements::display_texts;
use crate::clients::mysql::{
    plan_statements, validate_password, Account, DesiredUser, Identifier, MysqlClient, Password,
    UserState,
};
use crate::clients::Clients;

/// The runbook's exclusion, anchored (its unanchored `django_|auth_` would also skip tables
/// such as `oauth_token`).
pub const DEFAULT_EXCLUDE_TABLES: &str = "^(django_|auth_)";

fn default_host() -> String {
    "%".to_owned()
}

fn default_true() -> bool {
    true
}

fn default_exclude_tables() -> String {
    DEFAULT_EXCLUDE_TABLES.to_owned()
}

fn default_column_grants() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        "auth_user".to_owned(),
        vec!["id".to_owned(), "username".to_owned(), "email".to_owned()],
    )])
}

/// A null password (state after import: it cannot be read back) reads as "".
fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// "" (no known password) is stored as null; a valid password is never empty.
fn empty_as_null<S: Serializer>(value: &str, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.serialize_str(value)
    }
}

/// A read-only MySQL account for the Treeherder database, created on the **primary** instance
/// (the read-only replica copies it). It gets `SELECT` on every table of `database` whose name
/// does not match `exclude_tables`, and `SELECT` on only some columns of the tables in
/// `column_grants`. Tables created later appear in the next plan as a change of
/// `granted_tables`, and `grant_statements` shows the SQL the apply will run.
// No Debug: the model holds the password, and nothing should be able to print it.
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReadonlyUserModel {
    /// MySQL user name (at most 32 characters on MySQL, 80 on MariaDB). Changing it replaces
    /// the account.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub name: String,
    /// Host pattern of the account, `%` (any host) by default. Changing it replaces the
    /// account.
    #[serde(default = "default_host")]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub host: String,
    /// The account's password: at least 30 characters of `A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; =`
    /// (characters such as `%`, `@`, `:`, `/`, `?`, `#`, quotes, backslash and whitespace
    /// break Django's `DATABASE_URL` parsing). Changing it runs `ALTER USER … IDENTIFIED BY`.
    /// It cannot be read back from the server: after an import it is null in state.
    #[serde(deserialize_with = "null_as_empty", serialize_with = "empty_as_null")]
    #[schemars(with = "String", extend("x-terraform" = { "sensitive": true }))]
    pub password: String,
    /// Whether the account must connect over TLS (`REQUIRE SSL`). Changed with
    /// `ALTER USER … REQUIRE`, never with `GRANT`.
    #[serde(default = "default_true")]
    pub require_ssl: bool,
    /// Database whose tables are granted; defaults to the provider's `mysql.database` as it
    /// was when the account was created. Changing it replaces the account.
    #[schemars(extend("x-terraform" = { "computed": true, "optional": true }))]
    pub database: Option<String>,
    /// Regular expression (Rust `regex` syntax) of table names that get no table-level grant.
    #[serde(default = "default_exclude_tables")]
    pub exclude_tables: String,
    /// Tables that get `SELECT` on some columns only, table → columns. These tables never get a
    /// table-level grant, whatever `exclude_tables` says. Every table named must exist.
    #[serde(default = "default_column_grants")]
    pub column_grants: BTreeMap<String, Vec<String>>,
    /// `name@host`, also the import id.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub id: Option<String>,
    /// Sorted names of the tables granted `SELECT` in full, as read from `mysql.tables_priv`.
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub granted_tables: Option<Vec<String>>,
    /// The SQL statements the most recent apply ran, with the password shown as
    /// `'<password>'`. In a plan with changes it shows the statements the coming apply will
    /// run, for review.
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub grant_statements: Option<Vec<String>>,
}

/// The `treeherder_readonly_user` resource.
pub struct ReadonlyUser;

/// What the account should look like, before the table list is known.
struct Spec {
    account: Account,
    database: Identifier,
    exclude: Regex,
    column_grants: BTreeMap<String, Vec<String>>,
    require_ssl: bool,
}

fn at(attribute: &str, summary: &str, detail: impl Into<String>) -> Diagnostics {
    Diagnostic::error(summary, detail)
        .at(AttributePath::root(attribute))
        .into()
}

fn account_of(name: &str, host: &str) -> Result<Account, Diagnostics> {
    Account::new(name, host).map_err(|e| at("name", "Invalid account", e.to_string()))
}

fn exclude_regex(pattern: &str) -> Result<Regex, Diagnostics> {
    Regex::new(pattern).map_err(|e| {
        at(
            "exclude_tables",
            "Invalid exclude_tables",
            format!("not a valid regular expression: {e}"),
        )
    })
}

fn database_of(model: &ReadonlyUserModel, clients: &Clients) -> Result<Identifier, Diagnostics> {
    let name = model
        .database
        .as_deref()
        .or_else(|| clients.default_database())
        .ok_or_else(|| {
            at(
                "database",
                "No database",
                "Set `database` here or `mysql.database` in the provider.",
            )
        })?;
    Identifier::database(name).map_err(|e| at("database", "Invalid database", e.to_string()))
}

impl Spec {
    fn from_model(model: &ReadonlyUserModel, database: Identifier) -> Result<Spec, Diagnostics> {
        Ok(Spec {
            account: account_of(&model.name, &model.host)?,
            database,
            exclude: exclude_regex(&model.exclude_tables)?,
            column_grants: model.column_grants.clone(),
            require_ssl: model.require_ssl,
        })
    }

    /// The desired account for the database's current `tables`.
    fn desired(&self, tables: &[String], password: &str) -> Result<DesiredUser, Diagnostics> {
        let mut column_grants = BTreeMap::new();
        for (table, columns) in &self.column_grants {
            if !tables.iter().any(|t| t == table) {
                return Err(at(
                    "column_grants",
                    "Unknown table in column_grants",
                    format!(
                        "table {table:?} does not exist in database {:?}",
                        self.database.as_str()
                    ),
                ));
            }
            let table_id = Identifier::table(table)
                .map_err(|e| at("column_grants", "Invalid column_grants", e.to_string()))?;
            let columns = columns
                .iter()
                .map(|c| Identifier::column(c))
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(|e| at("column_grants", "Invalid column_grants", e.to_string()))?;
            if !columns.is_empty() {
                column_grants.insert(table_id, columns);
            }
        }
        let mut table_grants = BTreeSet::new();
        for table in tables {
            if self.exclude.is_match(table) || self.column_grants.contains_key(table) {
                continue;
            }
            // Names the client cannot quote safely are refused rather than skipped silently.
            let id = Identifier::table(table).map_err(|e| {
                at(
                    "exclude_tables",
                    "Table name cannot be granted",
                    format!("{e}; exclude it with exclude_tables"),
                )
            })?;
            table_grants.insert(id);
        }
        // A placeholder keeps planning possible when the password is not known; it is never
        // sent (statements with a password are only executed from create/update).
        let password = if password.is_empty() {
            Password::new("x".repeat(30))
        } else {
            Password::new(password.to_owned())
        }
        .map_err(|e| at("password", "Invalid password", e.to_string()))?;
        Ok(DesiredUser {
            account: self.account.clone(),
            database: self.database.clone(),
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

fn string_list(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::String(s.clone())).collect())
}

/// The server's column grants, keeping the prior spelling (column order) when equivalent.
fn column_grants_read(
    server: &BTreeMap<String, BTreeSet<String>>,
    prior: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    server
        .iter()
        .map(|(table, columns)| {
            let same = prior.get(table).filter(|p| {
                p.len() == columns.len() && p.iter().all(|c| columns.contains(c.as_str()))
            });
            let list = match same {
                Some(p) => p.clone(),
                None => columns.iter().cloned().collect(),
            };
            (table.clone(), list)
        })
        .collect()
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
        password_changed: bool,
    ) -> Result<ReadonlyUserModel, Diagnostics> {
        let clients = ctx.client()?;
        let database = database_of(&model, clients)?;
        let spec = Spec::from_model(&model, database.clone())?;
        let tables = mysql.list_tables(database.as_str()).await?;
        if model.password.is_empty() {
            return Err(at(
                "password",
                "Password not known",
                "Set `password` in the configuration.",
            ));
        }
        let mut desired = spec.desired(&tables, &model.password)?;
        desired.password_changed = password_changed;
        let statements = plan_statements(current, &desired);
        let texts = display_texts(&statements);
        if let Some(planned) = &model.grant_statements {
            if planned != &texts {
                ctx.add(Diagnostic::warning(
                    "The account changed between plan and apply",
                    format!(
                        "The apply ran {} statement(s) instead of the {} planned ones, to reach \
                         the configured state from what the server held at apply time. \
                         grant_statements keeps the planned list; run `terraform plan` to review.",
                        texts.len(),
                        planned.len()
                    ),
                ));
            }
        }
        mysql.apply(&statements).await?;
        model.database = Some(database.as_str().to_owned());
        model.id = Some(format!("{}@{}", model.name, model.host));
        model.granted_tables = Some(granted_list(&desired));
        model.grant_statements = Some(texts);
        Ok(model)
    }

    /// The planning work that needs the server; see [`Resource::modify_plan`].
    async fn plan_with_server(
        &self,
        clients: &Clients,
        plan: &mut ResourcePlan,
    ) -> Result<(), Diagnostics> {
        let text = |plan: &ResourcePlan, name: &str| plan.planned(name).as_str().map(str::to_owned);
        let (Some(name), Some(host), Some(exclude)) = (
            text(plan, "name"),
            text(plan, "host"),
            text(plan, "exclude_tables"),
        ) else {
            return Ok(());
        };
        let require_ssl = match plan.planned("require_ssl") {
            Value::Bool(b) => *b,
            _ => return Ok(()),
        };
        let column_grants = match column_grants_value(plan.planned("column_grants")) {
            Some(c) => c,
            None => return Ok(()),
        };

        // database: the configured one, else the prior one, else the provider's.
        let database = match plan.config("database") {
            Value::String(s) => s.clone(),
            Value::Unknown => return Ok(()),
            _ => match plan.prior("database").and_then(Value::as_str) {
                Some(prior) => prior.to_owned(),
                None => match clients.default_database() {
                    Some(d) => d.to_owned(),
                    None => return Ok(()),
                },
            },
        };
        plan.set_planned("database", Value::String(database.clone()));
        let replacing = match plan.prior("database") {
            None => false,
            Some(prior) => {
                let db_changed = prior.as_str().is_some_and(|p| p != database);
                if db_changed {
                    plan.require_replace("database");
                }
                db_changed
                    || plan.prior("name").and_then(Value::as_str) != Some(name.as_str())
                    || plan.prior("host").and_then(Value::as_str) != Some(host.as_str())
            }
        };
        plan.set_planned("id", Value::String(format!("{name}@{host}")));

        let database_id = Identifier::database(&database)
            .map_err(|e| at("database", "Invalid database", e.to_string()))?;
        let spec = Spec {
            account: account_of(&name, &host)?,
            database: database_id,
            exclude: exclude_regex(&exclude)?,
            column_grants,
            require_ssl,
        };
        let mysql = clients.mysql().await?;
        let tables = mysql.list_tables(&database).await?;
        let password = plan.planned("password").as_str().unwrap_or("").to_owned();
        let mut desired = spec.desired(&tables, &password)?;
        plan.set_planned("granted_tables", string_list(&granted_list(&desired)));

        if !plan.has_changes() {
            return Ok(());
        }
        if plan.planned("password").is_unknown() {
            plan.set_unknown("grant_statements");
            return Ok(());
        }
        // Refuse at plan time rather than halfway through an apply.
        mysql.check_writable().await?;
        let existing = mysql.read_user_in(&spec.account, &spec.database).await?;
        if plan.is_create() && existing.is_some() {
            // CREATE USER would fail with 1396 at apply; say so now, with the way out.
            return Err(Diagnostic::error(
                "The account already exists",
                format!(
                    "{} exists on the server. Import it with `terraform import <address> '{}@{}'` \
                     instead of creating it.",
                    spec.account, name, host
                ),
            )
            .at(AttributePath::root("name"))
            .into());
        }
        let current = if plan.is_create() || replacing {
            None
        } else {
            existing
        };
        desired.password_changed = plan.prior("password") != Some(plan.planned("password"));
        let statements = plan_statements(current.as_ref(), &desired);
        plan.set_planned("grant_statements", string_list(&display_texts(&statements)));
        Ok(())
    }
}

fn column_grants_value(value: &Value) -> Option<BTreeMap<String, Vec<String>>> {
    let Value::Map(entries) = value else {
        return None;
    };
    let mut out = BTreeMap::new();
    for (table, columns) in entries {
        let Value::List(items) = columns else {
            return None;
        };
        let names = items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()?;
        out.insert(table.clone(), names);
    }
    Some(out)
}

fn check_password(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(password) => validate_password(password).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

fn check_regex(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(pattern) => Regex::new(pattern)
            .map(|_| ())
            .map_err(|e| format!("not a valid regular expression: {e}")),
        None => Ok(()),
    }
}

fn check_user(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(name) => Account::new(name, "%")
            .map(|_| ())
            .map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

fn check_host(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(host) => Account::new("u", host)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

fn check_column_grants(value: &Value) -> Result<(), String> {
    let Value::Map(entries) = value else {
        return Ok(());
    };
    for (table, columns) in entries {
        Identifier::table(table).map_err(|e| e.to_string())?;
        // An empty list would grant nothing, and so never match what Read finds.
        if matches!(columns, Value::List(items) if items.is_empty()) {
            return Err(format!(
                "table {table:?} lists no columns; name at least one or remove the entry"
            ));
        }
        if let Value::List(items) = columns {
            for column in items.iter().filter_map(Value::as_str) {
                Identifier::column(column).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Resource for ReadonlyUser {
    type Model = ReadonlyUserModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_readonly_user"
    }

    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<ReadonlyUserModel>()?
            .with_validator(
                "password",
                CheckFn::new(
                    "at least 30 characters of A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; =",
                    check_password,
                ),
            )?
            .with_validator(
                "exclude_tables",
                CheckFn::new("a regular expression", check_regex),
            )?
            .with_validator(
                "name",
                CheckFn::new(
                    "a non-empty user name without control characters",
                    check_user,
                ),
            )?
            .with_validator(
                "host",
                CheckFn::new(
                    "a non-empty host pattern without control characters",
                    check_host,
                ),
            )?
            .with_validator(
                "column_grants",
                CheckFn::new(
                    "table and column names MySQL can quote (no control characters, at most 64 characters, no trailing space)",
                    check_column_grants,
                ),
            )
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan,
    ) -> Result<(), Diagnostics> {
        // Without a configured provider (its settings unknown until apply) the framework's
        // unknown-marking stands.
        let Some(clients) = ctx.try_client() else {
            return Ok(());
        };
        self.plan_with_server(clients, plan).await
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        plan: ReadonlyUserModel,
    ) -> Result<ReadonlyUserModel, Diagnostics> {
        let mysql = ctx.client()?.mysql().await?;
        self.converge(ctx, mysql, plan, None, true)
            .await
            .map_err(|mut diags| {
                if diags.0.iter().any(|d| d.detail.contains("1396")) {
                    diags.push(Diagnostic::error(
                        "The account may already exist",
                        "MySQL error 1396 on CREATE USER means the account exists: import it with \
                         `terraform import <address> 'name@host'`.",
                    ));
                }
                diags
            })
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: ReadonlyUserModel,
    ) -> Result<Option<ReadonlyUserModel>, Diagnostics> {
        let clients = ctx.client()?;
        let mysql = clients.mysql().await?;
        let database = database_of(&state, clients)?;
        let account = account_of(&state.name, &state.host)?;
        let Some(server) = mysql.read_user_in(&account, &database).await? else {
            return Ok(None);
        };
        if server.has_unmanaged_privileges() {
            ctx.add(Diagnostic::warning(
                format!("{account} holds privileges this resource does not manage"),
                "Besides table and column SELECT it has global, database-level or non-SELECT \
                 privileges; a read-only account should not. Revoke them by hand.",
            ));
        }
        state.require_ssl = server.require_ssl;
        state.granted_tables = Some(server.table_grants.iter().cloned().collect());
        state.column_grants = column_grants_read(&server.column_grants, &state.column_grants);
        state.database = Some(database.as_str().to_owned());
        state.id = Some(format!("{}@{}", state.name, state.host));
        if state.grant_statements.is_none() {
            state.grant_statements = Some(Vec::new());
        }
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
        let account = account_of(&plan.name, &plan.host)?;
        let current = mysql.read_user_in(&account, &database).await?;
        let password_changed = prior.password != plan.password;
        self.converge(ctx, mysql, plan, current.as_ref(), password_changed)
            .await
    }

    async fn delete(
        &self,
        ctx: &Context<'_, Clients>,
        state: ReadonlyUserModel,
    ) -> Result<(), Diagnostics> {
        let mysql = ctx.client()?.mysql().await?;
        let account = account_of(&state.name, &state.host)?;
        mysql.drop_user(&account).await?;
        Ok(())
    }

    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<ReadonlyUserModel, Diagnostics> {
        // User names may contain '@'; host patterns do not.
        let (name, host) = id.rsplit_once('@').ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import id",
                format!("expected \"name@host\" (e.g. 'redash@%'), got {id:?}"),
            ))
        })?;
        account_of(name, host)?;
        let database = ctx
            .client()?
            .default_database()
            .map(str::to_owned)
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "No database",
                    "Importing needs `mysql.database` (or its default) in the provider.",
                ))
            })?;
        Ok(ReadonlyUserModel {
            name: name.to_owned(),
            host: host.to_owned(),
            password: String::new(),
            require_ssl: true,
            database: Some(database),
            exclude_tables: default_exclude_tables(),
            column_grants: default_column_grants(),
            id: Some(id.to_owned()),
            granted_tables: None,
            grant_statements: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(exclude: &str) -> Spec {
        Spec {
            account: Account::new("reader", "%").unwrap(),
            database: Identifier::database("treeherder").unwrap(),
            exclude: Regex::new(exclude).unwrap(),
            column_grants: default_column_grants(),
            require_ssl: true,
        }
    }

    fn tables(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
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
        let d = spec(DEFAULT_EXCLUDE_TABLES)
            .desired(&t, &"a".repeat(30))
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
        s.column_grants
            .insert("job".into(), vec!["id".into(), "guid".into()]);
        let d = s
            .desired(&tables(&["auth_user", "job", "push"]), "")
            .unwrap();
        assert_eq!(granted_list(&d), ["push"]);
        assert_eq!(d.column_grants.len(), 2);
    }

    #[test]
    fn missing_column_grant_table_is_an_error_at_its_attribute() {
        let err = spec(DEFAULT_EXCLUDE_TABLES)
            .desired(&tables(&["job"]), "")
            .unwrap_err();
        let text = format!("{err:?}");
        assert!(
            text.contains("auth_user") && text.contains("column_grants"),
            "{text}"
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
            column_grants_read(&server, &default_column_grants()),
            default_column_grants()
        );
        let mut fewer = server.clone();
        fewer.get_mut("auth_user").unwrap().remove("email");
        assert_eq!(
            column_grants_read(&fewer, &default_column_grants())["auth_user"],
            ["id", "username"]
        );
    }

    #[test]
    fn password_validator_names_the_rule_without_the_password() {
        let err = check_password(&Value::String("short%SECRETVALUE".into())).unwrap_err();
        assert!(!err.contains("SECRETVALUE"), "{err}");
        assert!(check_password(&Value::String("a".repeat(30))).is_ok());
        assert!(check_regex(&Value::String("(".into())).is_err());
        assert!(check_user(&Value::String(String::new())).is_err());
        let empty = Value::Map(BTreeMap::from([("auth_user".into(), Value::List(vec![]))]));
        assert!(check_column_grants(&empty)
            .unwrap_err()
            .contains("no columns"));
        let bad = Value::Map(BTreeMap::from([(
            "auth_user".into(),
            Value::List(vec![Value::String("a\0b".into())]),
        )]));
        assert!(check_column_grants(&bad).is_err());
    }

    #[test]
    fn null_password_round_trips_as_null() {
        let json = serde_json::json!({
            "name": "r", "host": "%", "password": null, "require_ssl": true,
            "database": "treeherder", "exclude_tables": "^x", "column_grants": {},
            "id": null, "granted_tables": null, "grant_statements": null
        });
        let model: ReadonlyUserModel = serde_json::from_value(json).unwrap();
        assert!(model.password.is_empty());
        assert_eq!(
            serde_json::to_value(&model).unwrap()["password"],
            serde_json::Value::Null
        );
        let schema = ReadonlyUser.schema().unwrap();
        let password = schema
            .block
            .attributes
            .iter()
            .find(|a| a.name == "password")
            .unwrap();
        assert!(password.required && password.sensitive);
    }
}
