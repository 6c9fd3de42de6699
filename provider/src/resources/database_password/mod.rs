//! `treeherder_database_password`: the MySQL password of the account in an app's
//! `DATABASE_URL`, and that URL, changed together (the runbook's "Changing MySQL passwords"
//! and, without a password, its first step after a reset from a production snapshot).
//!
//! Order of a rotation: log in over TLS, set the password, prove the new one logs in over TLS,
//! and only then write `DATABASE_URL` (only its password part) and wait for the release. When
//! MySQL holds the new password but Heroku refused the write, the error says so, private state
//! records it, and the next apply finds that the password already logs in and only writes
//! `DATABASE_URL`. With `password_wo` nothing about the password is kept but a salted hash.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::{quote, timeout_or};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::database_url::{with_password, DATABASE_URL};
use crate::clients::heroku::{ConfigChange, HerokuClient, ReleaseWaitError};
use crate::clients::mysql::config::parse_endpoint;
use crate::clients::mysql::{AccountSession, Password};
use crate::clients::timestamp::utc_seconds;
use crate::clients::Clients;
use crate::resources::password_arguments::write_only_password;

mod digest;
mod model;
mod target;
#[cfg(test)]
mod tests;

use digest::*;
pub use model::*;
use target::*;

/// How long an apply waits for the release its `DATABASE_URL` change makes, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Private-state key: a rotation whose MySQL change was made and whose `DATABASE_URL` write
/// failed ([`Pending`]).
const PENDING: &str = "pending_database_url";
/// Private-state key: the salted hash of the password this resource last set ([`Digest`]).
const LAST_SET: &str = "last_set_password";

/// The `treeherder_database_password` resource.
pub struct DatabasePasswordResource;

/// The password configured to rotate to, if any: `password`, else `password_wo`.
fn configured_password(model: &DatabasePasswordModel) -> Result<Option<Password>, Diagnostics> {
    if let Some(password) = model.password.get() {
        return Ok(Some(password.password().clone()));
    }
    match model.password_wo.get() {
        Some(secret) => {
            write_only_password(secret, attr!(DatabasePasswordModel, password_wo)).map(Some)
        }
        None => Ok(None),
    }
}

/// Whether the configuration rotates (a password is given) rather than syncs.
fn rotates(model: &DatabasePasswordModel) -> bool {
    !model.password.is_null() || !model.password_wo.is_null()
}

/// Whether an apply must work on MySQL and `DATABASE_URL`: a create, an account out of sync
/// as last read, or (when `rotating`) a changed `password` or `password_wo_version`.
fn must_act(
    prior: Option<&DatabasePasswordModel>,
    planned: &DatabasePasswordModel,
    rotating: bool,
) -> bool {
    let Some(prior) = prior else {
        return true;
    };
    let new_password = prior.password != planned.password
        || prior.password_wo_version != planned.password_wo_version;
    prior.in_sync.get() != Some(&true) || (rotating && new_password)
}

fn timeout(model: &DatabasePasswordModel, update: bool) -> Duration {
    model.timeouts.as_ref().map_or(DEFAULT_TIMEOUT, |t| {
        timeout_or(if update { &t.update } else { &t.create }, DEFAULT_TIMEOUT)
    })
}

/// What a converge did.
struct Converged {
    /// Whether MySQL's password was set.
    set: bool,
}

impl DatabasePasswordResource {
    /// Brings MySQL and `DATABASE_URL` in step for `model` and fills its computed attributes.
    /// A half-done rotation (MySQL set, `DATABASE_URL` not) is returned as `Ok` with an error
    /// on `ctx` and `in_sync = false`, so Terraform saves it.
    async fn converge(
        &self,
        ctx: &Context<'_, Clients>,
        mut model: DatabasePasswordModel,
        act: bool,
        limit: Duration,
    ) -> Result<DatabasePasswordModel, Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let app = model.app.value()?.clone();
        let url = read_url(heroku, &app, true).await?;
        check_username(&model, &url, &app)?;
        let target = target_of(clients, &model, &url, &app)?;
        let user = url.parsed.username.clone();
        model.id.set(app.clone());
        model.host.set(url.parsed.host.clone());
        model.username.set(user.clone());
        if !act {
            // Nothing asked of MySQL or DATABASE_URL (e.g. only `timeouts` changed).
            return Ok(model);
        }
        let converged = match configured_password(&model)? {
            Some(password) => {
                tfplugin::log::register_secret(password.expose());
                self.rotate(ctx, heroku, &target, &url, &app, &password, limit)
                    .await?
            }
            None => sync(&target, &url).await?,
        };
        if converged.set {
            model.rotated_at.set(utc_seconds(SystemTime::now()));
        } else if model.rotated_at.is_unknown() {
            model.rotated_at = Field::Null;
        }
        let pending = ctx.private::<Pending>(PENDING).is_some();
        model.in_sync.set(!pending);
        Ok(model)
    }

    /// Rotation to `password`; see the module docs for the order.
    #[allow(clippy::too_many_arguments)]
    async fn rotate(
        &self,
        ctx: &Context<'_, Clients>,
        heroku: &HerokuClient,
        target: &Target,
        url: &AppUrl,
        app: &str,
        password: &Password,
        limit: Duration,
    ) -> Result<Converged, Diagnostics> {
        let user = &url.parsed.username;
        // MySQL may already hold it: the previous apply set it and could not write
        // DATABASE_URL, or someone set it by hand. Then MySQL is not changed again.
        let mut set = false;
        if logs_in(target, user, password.expose()).await? {
            tfplugin::info!("the new password of {user} already logs in; MySQL is not changed");
        } else {
            set = true;
            self.set_password(target, url, password).await?;
            // Proof before DATABASE_URL is touched.
            if !logs_in(target, user, password.expose()).await? {
                return Err(Diagnostic::error(
                    "The new password does not log in",
                    format!(
                        "The password of {} was set, but logging in with it was refused, so \
                         {DATABASE_URL} of {} was not changed. Check the account's host \
                         patterns and authentication plugin.",
                        quote(user),
                        quote(app)
                    ),
                )
                .into());
            }
        }
        let digest = PasswordDigest::of(password.expose());
        ctx.set_private(LAST_SET, &digest);
        let new_url = with_password(&url.text, password.expose()).ok_or_else(|| {
            at_app(
                "Unusable DATABASE_URL",
                format!("The {DATABASE_URL} of {} has no password part.", quote(app)),
            )
        })?;
        tfplugin::log::register_secret(&new_url);
        if new_url != url.text {
            let change: ConfigChange = [(DATABASE_URL.to_owned(), Some(new_url))]
                .into_iter()
                .collect();
            let applied = match heroku.change_config_vars(url.app_id, &change).await {
                Ok(applied) => applied,
                Err(e) => {
                    let reason = tfplugin::log::mask(&e.to_string());
                    ctx.set_private(
                        PENDING,
                        &Pending {
                            digest,
                            reason: reason.clone(),
                        },
                    );
                    ctx.add(Diagnostic::error(
                        "MySQL has the new password, DATABASE_URL does not",
                        format!(
                            "The password of {} was {} in MySQL and logs in, but writing \
                             {DATABASE_URL} of {} failed: {reason}. The app cannot connect to \
                             MySQL until {DATABASE_URL} is written. Run `terraform apply` \
                             again: it writes {DATABASE_URL} without changing MySQL again \
                             (with `password_wo`, give it the same value).",
                            quote(user),
                            if set { "changed" } else { "already set" },
                            quote(app)
                        ),
                    ));
                    return Ok(Converged { set });
                }
            };
            if let Some(release) = applied.release {
                let version = release.version;
                tfplugin::info!("{DATABASE_URL} of {app} changed: waiting for release v{version}");
                match heroku
                    .wait_for_release(url.app_id, app, version, limit, || ctx.is_stopping())
                    .await
                {
                    Ok(_) => {}
                    Err(ReleaseWaitError::Heroku(e)) => ctx.add(Diagnostic::error(
                        "Could not follow the release",
                        format!(
                            "{DATABASE_URL} of {} is written and MySQL has its password, but \
                             watching release v{version} failed: {}",
                            quote(app),
                            tfplugin::log::mask(&e.to_string())
                        ),
                    )),
                    Err(e) => ctx.add(Diagnostic::error(
                        "Release did not succeed",
                        tfplugin::log::mask(&e.to_string()),
                    )),
                }
            }
        }
        remove_pending(ctx);
        Ok(Converged { set })
    }

    /// Sets the password in MySQL: logged in with `DATABASE_URL`'s password (the runbook's
    /// way), or, when that no longer logs in, with the provider's admin login.
    async fn set_password(
        &self,
        target: &Target,
        url: &AppUrl,
        password: &Password,
    ) -> Result<(), Diagnostics> {
        let user = &url.parsed.username;
        let config = target.login(user, &url.parsed.password);
        match AccountSession::open(&config).await? {
            Some(mut session) => {
                tfplugin::info!("setting the password of {user}, logged in as {user}");
                let set = session.set_own_password(password).await;
                session.close().await;
                if let Err(e) = set {
                    // A lost answer may hide a change that was made.
                    if logs_in(target, user, password.expose()).await? {
                        return Ok(());
                    }
                    return Err(e.into());
                }
                Ok(())
            }
            None => {
                let why = format!(
                    "The password in {DATABASE_URL} no longer logs in as {}",
                    quote(user)
                );
                set_with_admin(target, user, password, &why).await
            }
        }
    }
}

/// Drops the record of a half-done rotation.
fn remove_pending(ctx: &Context<'_, Clients>) {
    // Private state has no removal through the context: a null value reads as absent.
    ctx.set_private(PENDING, &serde_json::Value::Null);
}

#[async_trait]
impl Resource for DatabasePasswordResource {
    type Model = DatabasePasswordModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_database_password"
    }

    fn validate(&self, config: &DatabasePasswordModel, diagnostics: &mut Diagnostics) {
        if let Some(endpoint) = config.endpoint.get() {
            if let Err(e) = parse_endpoint(endpoint) {
                diagnostics.push(
                    Diagnostic::error("Invalid endpoint", e.to_string())
                        .at(attr!(DatabasePasswordModel, endpoint)),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<DatabasePasswordModel>,
    ) -> Result<(), Diagnostics> {
        // The write-only value is only in the configuration (validate may not have seen it).
        if let Some(secret) = plan.config.password_wo.get() {
            tfplugin::log::register_secret(secret.expose());
            write_only_password(secret, attr!(DatabasePasswordModel, password_wo))?;
        }
        if let Some(pending) = ctx.private::<Pending>(PENDING) {
            let again = if rotates(&plan.config) {
                "This apply writes DATABASE_URL; MySQL is not changed again if the password \
                 given is the one set then (with `password_wo` from a new ephemeral password it \
                 is not, and the password is rotated again)."
            } else {
                "Without a password in the configuration, this apply makes MySQL accept the \
                 password DATABASE_URL holds."
            };
            ctx.add(Diagnostic::warning(
                "The last rotation did not write DATABASE_URL",
                format!(
                    "The previous apply set the password in MySQL, but writing DATABASE_URL \
                     failed ({}). {again}",
                    pending.reason
                ),
            ));
        }
        let planned = &mut plan.planned;
        planned.in_sync.set(true);
        if let Some(app) = plan.config.app.get() {
            planned.id.set(app.clone());
        }
        let act = must_act(plan.prior.as_ref(), planned, rotates(&plan.config));
        match &plan.prior {
            Some(prior) if !act => planned.rotated_at = prior.rotated_at.clone(),
            _ => planned.rotated_at.set_unknown(),
        }
        if let Some(prior) = &plan.prior {
            planned.host = prior.host.clone();
        }
        // Values unknown until apply, or a provider configured only then: nothing to check.
        let (Some(clients), Some(app)) = (ctx.try_client(), plan.config.app.get().cloned()) else {
            return Ok(());
        };
        let heroku = clients.heroku()?;
        let url = read_url(heroku, &app, false).await?;
        check_username(&plan.config, &url, &app)?;
        target_of(clients, &plan.config, &url, &app)?;
        let planned = &mut plan.planned;
        planned.host.set(url.parsed.host.clone());
        if plan.config.username.is_null() {
            planned.username.set(url.parsed.username.clone());
        }
        Ok(())
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, Clients>,
        prior: &DatabasePasswordModel,
    ) -> Result<(), Diagnostics> {
        let app = prior.app.as_str().unwrap_or("(unknown)");
        ctx.add(Diagnostic::warning(
            "Destroying only forgets the password",
            format!(
                "Destroying this resource removes it from the state only: the MySQL password \
                 and the DATABASE_URL of {} stay as they are.",
                quote(app)
            ),
        ));
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        plan: DatabasePasswordModel,
    ) -> Result<DatabasePasswordModel, Diagnostics> {
        let limit = timeout(&plan, false);
        self.converge(ctx, plan, true, limit).await
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: DatabasePasswordModel,
    ) -> Result<Option<DatabasePasswordModel>, Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let app = state.app.value()?.clone();
        if let Some(password) = state.password.get() {
            tfplugin::log::register_secret(password.password().expose());
        }
        let url = match read_url(heroku, &app, false).await {
            Ok(url) => url,
            Err(_) => match heroku.resolve_app_id(&app).await {
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e.into()),
                // An app without a usable DATABASE_URL: out of sync; the plan says why.
                Ok(_) => {
                    state.in_sync.set(false);
                    return Ok(Some(state));
                }
            },
        };
        state.id.set(app.clone());
        state.host.set(url.parsed.host.clone());
        state.username.set(url.parsed.username.clone());
        // A server the provider may not reach is not connected to; the plan says why.
        let Ok(target) = target_of(clients, &state, &url, &app) else {
            state.in_sync.set(false);
            return Ok(Some(state));
        };
        let works = logs_in(&target, &url.parsed.username, &url.parsed.password).await?;
        // With a password configured, DATABASE_URL must hold the one this resource set.
        let ours = !rotates_state(&state)
            || ctx
                .private::<PasswordDigest>(LAST_SET)
                .is_none_or(|digest| digest.matches(&url.parsed.password));
        let pending = ctx.private::<Pending>(PENDING).is_some();
        state.in_sync.set(works && ours && !pending);
        Ok(Some(state))
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: DatabasePasswordModel,
        plan: DatabasePasswordModel,
    ) -> Result<DatabasePasswordModel, Diagnostics> {
        let limit = timeout(&plan, true);
        let act = must_act(Some(&prior), &plan, rotates(&plan));
        self.converge(ctx, plan, act, limit).await
    }

    async fn delete(
        &self,
        _ctx: &Context<'_, Clients>,
        _state: DatabasePasswordModel,
    ) -> Result<(), Diagnostics> {
        // Only forgets: the password and DATABASE_URL stay (see plan_destroy).
        Ok(())
    }

    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<DatabasePasswordModel, Diagnostics> {
        let app = crate::clients::heroku::AppIdentity::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import id",
                format!("The import id is the app's name or UUID, whose DATABASE_URL holds the account. {e}"),
            )
        })?;
        let heroku = ctx.client()?.heroku()?;
        let url = read_url(heroku, &app, true).await.map_err(|mut diags| {
            for d in diags.0.iter_mut() {
                d.attribute = None;
            }
            diags.push(Diagnostic::error(
                "Invalid import id",
                "The import id is the app's name or UUID, whose DATABASE_URL holds the account.",
            ));
            diags
        })?;
        Ok(DatabasePasswordModel {
            app: Field::known(app),
            username: Field::known(url.parsed.username),
            endpoint: Field::Null,
            password: Field::Null,
            password_wo: Field::Null,
            password_wo_version: Field::Null,
            id: Field::known(id.to_owned()),
            host: Field::known(url.parsed.host),
            rotated_at: Field::Null,
            in_sync: Field::Null,
            timeouts: None,
        })
    }
}

/// Whether the state is of a rotating configuration (a password or its version is stored).
fn rotates_state(state: &DatabasePasswordModel) -> bool {
    !state.password.is_null() || !state.password_wo_version.is_null()
}
