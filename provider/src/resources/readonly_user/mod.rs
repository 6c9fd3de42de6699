//! `treeherder_readonly_user`: a read-only MySQL account on the primary instance, with SELECT on
//! every table of the database but the excluded ones, and column-level SELECT on a few tables
//! (the runbook's "Granting access to the read-only replica").
//!
//! Planning lists the database's tables, so a table created since the last apply shows up as
//! a planned change of `granted_tables`, and `grant_statements` shows the SQL the apply runs.

use std::collections::BTreeSet;

use async_trait::async_trait;
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::quote;
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::mysql::identifiers::{ColumnName, DatabaseName, HostPattern, UserName};
use crate::clients::mysql::statements::display_texts;
use crate::clients::mysql::{plan_statements, Account, MysqlClient, Password, UserState};
use crate::clients::Clients;
use crate::diagnostics::database_error_at;
use crate::resources::password_arguments::write_only_password;

mod model;
mod ownership;
mod password_mode;
mod spec;
#[cfg(test)]
mod tests;

pub use model::*;
use ownership::*;
use password_mode::{password_changes, require_password_to_create};
use spec::*;

/// The `treeherder_readonly_user` resource.
pub struct ReadonlyUserResource;

/// What a converge did.
struct Converged {
    model: ReadonlyUserModel,
    /// Set when a statement failed: the model then describes the account as far as it was
    /// made (for a create, the account exists once CREATE USER ran).
    failure: Option<(usize, Diagnostics)>,
}

impl ReadonlyUserResource {
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

#[async_trait]
impl Resource for ReadonlyUserResource {
    type Model = ReadonlyUserModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_readonly_user"
    }

    fn validate(&self, config: &ReadonlyUserModel, diagnostics: &mut Diagnostics) {
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
