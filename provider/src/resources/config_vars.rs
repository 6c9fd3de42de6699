//! `treeherder_config_vars`: some config vars of a Heroku app, and only those.
//!
//! The resource owns the keys it lists; every other key of the app (add-ons' `DATABASE_URL`,
//! the dashboard's) is never read into state, shown as drift or removed. `sensitive_vars`
//! is a map of objects whose `value` is sensitive, so Terraform's plan names each added,
//! changed or removed key while hiding its value. Each apply is one PATCH (removals as
//! `null`) and waits for the release it created to pass its release phase.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use schemars::{json_schema, JsonSchema};
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::{quote, timeout_or, Timeouts, Uuid};
use tfplugin::{attr, Diagnostic, Diagnostics, Field, Sensitive};

use crate::clients::heroku::{
    holds, AppIdentity, ConfigChange, ConfigVars, HerokuClient, ReleaseWaitError,
};
use crate::clients::Clients;

/// How long an apply waits for its release by default (Heroku's release phase runs
/// migrations, which can be slow).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The accepted key form, as shown in messages and the schema.
const KEY_PATTERN: &str = r"^\w+$";

/// The name of a config var: ASCII letters, digits and underscores (`^\w+$`, as Heroku
/// checks it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigVarKey(String);

/// Why a config var name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Config var names may contain only letters, digits and underscores ({KEY_PATTERN}); got {}.", quote(.0))]
pub struct KeyError(String);

impl ConfigVarKey {
    /// Parses a name.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let valid =
            !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            Ok(ConfigVarKey(text.to_string()))
        } else {
            Err(KeyError(text.to_string()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// No `pattern`: as a map key it would turn the map into `patternProperties`, which has no
// Terraform type. Deserialize checks every key.
tfplugin::text_value!(ConfigVarKey, schema = json_schema!({ "type": "string" }));

/// One sensitive config var.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct SensitiveVar {
    /// The value; never shown in plans or logs.
    pub value: Sensitive,
}

/// Config vars of one Heroku app that this resource manages.
#[derive(Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct ConfigVarsModel {
    /// The app, by name (`treeherder-stage`) or UUID. Another app replaces the resource;
    /// the same app by its other identifier changes nothing remotely.
    pub app: Field<AppIdentity>,
    /// Plain config vars, name → value. Values show in plans.
    #[serde(default)]
    pub vars: Field<BTreeMap<ConfigVarKey, String>>,
    /// Secret config vars, name → `{ value = "..." }`. Plans name each added, changed or
    /// removed key and hide its value. A key may not be in both maps.
    #[tf(nested = map)]
    #[serde(default)]
    pub sensitive_vars: Field<BTreeMap<ConfigVarKey, SensitiveVar>>,
    /// `<app>:<keys of vars>[:<keys of sensitive_vars>]`, the import id.
    #[tf(computed)]
    #[serde(default)]
    pub id: Field<String>,
    /// UUID of the app.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub app_id: Field<Uuid>,
    /// Version of the release the last change made by this resource created (null when
    /// imported, or when no change was needed).
    #[tf(computed)]
    #[serde(default)]
    pub release_version: Field<u64>,
    /// How long create, update and delete wait for the release phase (default 20m).
    #[tf(block = single)]
    pub timeouts: Option<Timeouts>,
}

impl ConfigVarsModel {
    fn plain(&self) -> impl Iterator<Item = (&ConfigVarKey, &String)> {
        self.vars.get().into_iter().flatten()
    }

    fn secret(&self) -> impl Iterator<Item = (&ConfigVarKey, &SensitiveVar)> {
        self.sensitive_vars.get().into_iter().flatten()
    }

    /// Every managed key.
    fn keys(&self) -> BTreeSet<&str> {
        self.plain()
            .map(|(k, _)| k.as_str())
            .chain(self.secret().map(|(k, _)| k.as_str()))
            .collect()
    }

    /// Masks every sensitive value in this process's logs.
    fn register_secrets(&self) {
        for (_, var) in self.secret() {
            tfplugin::log::register_secret(var.value.expose());
        }
    }

    /// The values this model sets, key → value.
    fn desired(&self) -> Result<ConfigChange, Diagnostics> {
        let plain = self.vars.as_ref();
        let secret = self.sensitive_vars.as_ref();
        if plain.is_unknown() || secret.is_unknown() {
            return Err(Diagnostic::error(
                "Config vars not known",
                "The config vars are still unknown at apply; this is a provider bug.",
            )
            .into());
        }
        Ok(self
            .plain()
            .map(|(k, v)| (k.0.clone(), Some(v.clone())))
            .chain(
                self.secret()
                    .map(|(k, v)| (k.0.clone(), Some(v.value.expose().to_string()))),
            )
            .collect())
    }

    /// The import id form of this model's app and keys, if they are known.
    fn canonical_id(&self) -> Option<String> {
        let app = self.app.as_str()?;
        if self.vars.is_unknown() || self.sensitive_vars.is_unknown() {
            return None;
        }
        let plain: Vec<&str> = self.plain().map(|(k, _)| k.as_str()).collect();
        let secret: Vec<&str> = self.secret().map(|(k, _)| k.as_str()).collect();
        let mut id = format!("{app}:{}", plain.join(","));
        if !secret.is_empty() {
            id.push(':');
            id.push_str(&secret.join(","));
        }
        Some(id)
    }

    /// Copies Heroku's values of the managed keys into the model; a key gone from Heroku
    /// leaves the model (the next plan sets it again). Other keys are ignored.
    fn absorb(&mut self, remote: &ConfigVars) {
        if let Some(vars) = self.vars.get_mut() {
            vars.retain(|k, _| remote.contains_key(k.as_str()));
            for (k, v) in vars.iter_mut() {
                if let Some(value) = remote.get(k.as_str()) {
                    v.clone_from(value);
                }
            }
        }
        if let Some(vars) = self.sensitive_vars.get_mut() {
            vars.retain(|k, _| remote.contains_key(k.as_str()));
            for (k, v) in vars.iter_mut() {
                if let Some(value) = remote.get(k.as_str()) {
                    tfplugin::log::register_secret(value);
                    if v.value.expose() != value {
                        v.value = Sensitive::new(value.clone());
                    }
                }
            }
        }
    }

    fn timeout(&self, pick: impl Fn(&Timeouts) -> &Field<tfplugin::types::Duration>) -> Duration {
        self.timeouts
            .as_ref()
            .map_or(DEFAULT_TIMEOUT, |t| timeout_or(pick(t), DEFAULT_TIMEOUT))
    }
}

/// The `treeherder_config_vars` resource.
pub struct ConfigVarsResource;

/// The app UUID stored in state, else the app resolved by name or UUID.
async fn app_id_of(
    heroku: &HerokuClient,
    model: &ConfigVarsModel,
) -> Result<uuid::Uuid, Diagnostics> {
    if let Some(id) = model.app_id.get() {
        return Ok(id.get());
    }
    Ok(heroku.resolve_app_id(model.app.value()?).await?)
}

/// Applies `change`, waits for its release and returns the release version. A failed
/// release phase is reported on `ctx` as an error while the state of what Heroku holds is
/// returned (`Ok`), so Terraform records the vars that are set; when Heroku holds
/// something else, the error is returned and Terraform keeps the prior state.
async fn apply_change(
    ctx: &Context<'_, Clients>,
    heroku: &HerokuClient,
    app: &str,
    app_id: uuid::Uuid,
    change: &ConfigChange,
    limit: Duration,
) -> Result<Option<u64>, Diagnostics> {
    let applied = heroku.change_config_vars(app_id, change).await?;
    let Some(release) = applied.release else {
        return Ok(None);
    };
    let version = release.version;
    tfplugin::info!("config vars of {app}: waiting for release v{version}");
    match heroku
        .wait_for_release(app_id, app, version, limit, || ctx.is_stopping())
        .await
    {
        Ok(_) => Ok(Some(version)),
        Err(ReleaseWaitError::Heroku(e)) => Err(e.into()),
        Err(e) => {
            let failure = Diagnostic::error("Release did not succeed", e.to_string());
            let now = heroku.read_config_vars(app_id, true).await?;
            if holds(&now, change) {
                ctx.add(failure);
                Ok(Some(version))
            } else {
                Err(failure.into())
            }
        }
    }
}

#[async_trait]
impl Resource for ConfigVarsResource {
    type Model = ConfigVarsModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_config_vars"
    }

    fn validate(&self, config: &ConfigVarsModel, diagnostics: &mut Diagnostics) {
        config.register_secrets();
        let Some(plain) = config.vars.get() else {
            return;
        };
        for (key, _) in config.secret() {
            if plain.contains_key(key) {
                diagnostics.push(
                    Diagnostic::error(
                        "Config var in both maps",
                        format!(
                            "{} is in vars and in sensitive_vars; a config var is either plain or sensitive.",
                            key.as_str()
                        ),
                    )
                    .at(attr!(ConfigVarsModel, sensitive_vars).key(key.as_str())),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<ConfigVarsModel>,
    ) -> Result<(), Diagnostics> {
        plan.config.register_secrets();
        plan.planned.register_secrets();
        match plan.planned.canonical_id() {
            Some(id) => plan.planned.id.set(id),
            None => plan.planned.id.set_unknown(),
        }
        let Some(prior) = &plan.prior else {
            plan.planned.release_version.set_unknown();
            return Ok(());
        };
        prior.register_secrets();
        // A new release only when a value is set or removed.
        let changes = prior.desired().ok() != plan.planned.desired().ok()
            || plan.planned.vars.is_unknown()
            || plan.planned.sensitive_vars.is_unknown();
        if changes {
            plan.planned.release_version.set_unknown();
        } else {
            plan.planned.release_version = prior.release_version.clone();
        }
        let Some(prior_app) = prior.app.as_str() else {
            return Ok(());
        };
        let prior_id = prior.app_id.get().map(Uuid::get);
        let same_app = match plan.config.app.as_str() {
            Some(new_app) if new_app == prior_app => return Ok(()),
            Some(new_app) => {
                let heroku = ctx.try_client().and_then(|c| c.heroku().ok());
                match (prior_id, heroku) {
                    (Some(prior_id), Some(heroku)) => {
                        heroku.resolve_app_id(new_app).await? == prior_id
                    }
                    _ => false,
                }
            }
            None => false,
        };
        if !same_app {
            plan.require_replace(attr!(ConfigVarsModel, app));
        }
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: ConfigVarsModel,
    ) -> Result<ConfigVarsModel, Diagnostics> {
        plan.register_secrets();
        let heroku = ctx.client()?.heroku()?;
        let app_id = heroku.resolve_app_id(plan.app.value()?).await?;
        let change = plan.desired()?;
        let limit = plan.timeout(|t| &t.create);
        let version = apply_change(ctx, heroku, plan.app.value()?, app_id, &change, limit).await?;
        plan.app_id.set(app_id);
        plan.release_version = version.into();
        plan.id = plan.canonical_id().into();
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: ConfigVarsModel,
    ) -> Result<Option<ConfigVarsModel>, Diagnostics> {
        state.register_secrets();
        let heroku = ctx.client()?.heroku()?;
        let app_id = match app_id_of(heroku, &state).await {
            Ok(id) => id,
            Err(e) => return Err(e),
        };
        // One cached listing serves every resource of the app in this refresh.
        let remote = match heroku.read_config_vars(app_id, false).await {
            Ok(vars) => vars,
            Err(e) if e.is_not_found() => {
                tfplugin::debug!(
                    "app {} is gone, and its config vars",
                    heroku.app_label(app_id)
                );
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        state.absorb(&remote);
        state.app_id.set(app_id);
        state.id = state.canonical_id().into();
        Ok(Some(state))
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: ConfigVarsModel,
        mut plan: ConfigVarsModel,
    ) -> Result<ConfigVarsModel, Diagnostics> {
        prior.register_secrets();
        plan.register_secrets();
        let heroku = ctx.client()?.heroku()?;
        let app_id = app_id_of(heroku, &prior).await?;
        let mut change = plan.desired()?;
        // Keys no longer managed are removed in the same PATCH.
        for key in prior.keys() {
            change.entry(key.to_string()).or_insert(None);
        }
        let limit = plan.timeout(|t| &t.update);
        let version = apply_change(ctx, heroku, plan.app.value()?, app_id, &change, limit).await?;
        plan.app_id.set(app_id);
        plan.release_version = match version {
            Some(v) => Field::known(v),
            None => prior.release_version,
        };
        plan.id = plan.canonical_id().into();
        Ok(plan)
    }

    /// Removes the managed keys only; every other config var of the app stays.
    async fn delete(
        &self,
        ctx: &Context<'_, Clients>,
        state: ConfigVarsModel,
    ) -> Result<(), Diagnostics> {
        state.register_secrets();
        let heroku = ctx.client()?.heroku()?;
        let app_id = match app_id_of(heroku, &state).await {
            Ok(id) => id,
            Err(e) => return Err(e),
        };
        let change: ConfigChange = state
            .keys()
            .into_iter()
            .map(|k| (k.to_string(), None))
            .collect();
        if change.is_empty() {
            return Ok(());
        }
        let limit = state.timeout(|t| &t.delete);
        match apply_change(ctx, heroku, state.app.value()?, app_id, &change, limit).await {
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `<app>:<KEY,...>[:<SECRET_KEY,...>]`: the keys of `vars`, then those of
    /// `sensitive_vars`.
    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<ConfigVarsModel, Diagnostics> {
        let invalid = |detail: String| -> Diagnostics {
            Diagnostic::error(
                "Invalid import id",
                format!("Expected `<app name or UUID>:<keys of vars>[:<keys of sensitive_vars>]`, keys separated by commas, e.g. `treeherder-stage:NEW_RELIC_APP_NAME:PULSE_AUTH`; {detail}"),
            )
            .into()
        };
        let mut parts = id.split(':');
        let app = parts.next().unwrap_or_default();
        let plain = parts.next().unwrap_or_default();
        let secret = parts.next().unwrap_or_default();
        if app.is_empty() || parts.next().is_some() || (plain.is_empty() && secret.is_empty()) {
            return Err(invalid(format!("got {}.", quote(id))));
        }
        let app = AppIdentity::parse(app).map_err(|e| invalid(e.to_string()))?;
        let parse = |list: &str| -> Result<Vec<ConfigVarKey>, Diagnostics> {
            list.split(',')
                .filter(|k| !k.is_empty())
                .map(|k| ConfigVarKey::parse(k).map_err(|e| invalid(e.to_string())))
                .collect()
        };
        let plain = parse(plain)?;
        let secret = parse(secret)?;
        if let Some(both) = plain.iter().find(|k| secret.contains(k)) {
            return Err(invalid(format!("{} is listed twice.", both.as_str())));
        }
        let heroku = ctx.client()?.heroku()?;
        let app_id = heroku.resolve_app_id(&app).await?;
        let remote = heroku.read_config_vars(app_id, true).await?;
        let missing: Vec<&str> = plain
            .iter()
            .chain(&secret)
            .map(ConfigVarKey::as_str)
            .filter(|k| !remote.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            return Err(Diagnostic::error(
                "Config vars not found",
                format!(
                    "App {app} has no config var {}; import only keys the app has.",
                    missing.join(", ")
                ),
            )
            .into());
        }
        // The values are Heroku's already, so the read that follows finds no difference.
        let value = |k: &ConfigVarKey| remote.get(k.as_str()).cloned().unwrap_or_default();
        for k in &secret {
            tfplugin::log::register_secret(&value(k));
        }
        let mut model = ConfigVarsModel {
            app: Field::known(app),
            vars: if plain.is_empty() {
                Field::Null
            } else {
                Field::known(
                    plain
                        .into_iter()
                        .map(|k| {
                            let v = value(&k);
                            (k, v)
                        })
                        .collect::<BTreeMap<_, _>>(),
                )
            },
            sensitive_vars: if secret.is_empty() {
                Field::Null
            } else {
                Field::known(
                    secret
                        .into_iter()
                        .map(|k| {
                            let v = Sensitive::new(value(&k));
                            (k, SensitiveVar { value: v })
                        })
                        .collect::<BTreeMap<_, _>>(),
                )
            },
            id: Field::Null,
            app_id: Field::known(app_id),
            release_version: Field::Null,
            timeouts: None,
        };
        model.id = model.canonical_id().into();
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(plain: &[(&str, &str)], secret: &[(&str, &str)]) -> ConfigVarsModel {
        ConfigVarsModel {
            app: Field::known(AppIdentity::parse("treeherder-stage").unwrap()),
            vars: Field::known(
                plain
                    .iter()
                    .map(|(k, v)| (ConfigVarKey::parse(k).unwrap(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            sensitive_vars: Field::known(
                secret
                    .iter()
                    .map(|(k, v)| {
                        (
                            ConfigVarKey::parse(k).unwrap(),
                            SensitiveVar {
                                value: Sensitive::new(*v),
                            },
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
            ),
            id: Field::Null,
            app_id: Field::Null,
            release_version: Field::Null,
            timeouts: None,
        }
    }

    #[test]
    fn keys_are_word_characters_only() {
        for ok in ["A", "NEW_RELIC_APP_NAME", "a1_b", "_"] {
            assert!(ConfigVarKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A-B", "A B", "É", "A.B", "A=B"] {
            let err = ConfigVarKey::parse(bad).unwrap_err().to_string();
            assert!(err.contains(r"^\w+$"), "{err}");
        }
    }

    #[test]
    fn canonical_id_lists_plain_then_sensitive_keys() {
        let m = model(&[("B", "1"), ("A", "2")], &[("S", "secret-1")]);
        assert_eq!(m.canonical_id().as_deref(), Some("treeherder-stage:A,B:S"));
        let m = model(&[("A", "2")], &[]);
        assert_eq!(m.canonical_id().as_deref(), Some("treeherder-stage:A"));
    }

    #[test]
    fn absorb_takes_remote_values_of_managed_keys_only() {
        let mut m = model(&[("A", "1"), ("GONE", "x")], &[("S", "old-secret")]);
        let remote: ConfigVars = [
            ("A".to_string(), "changed".to_string()),
            ("S".to_string(), "new-secret".to_string()),
            ("DATABASE_URL".to_string(), "mysql://other".to_string()),
        ]
        .into_iter()
        .collect();
        m.absorb(&remote);
        let plain: Vec<(String, String)> = m
            .plain()
            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
            .collect();
        assert_eq!(plain, vec![("A".to_string(), "changed".to_string())]);
        let secret: Vec<String> = m
            .secret()
            .map(|(_, v)| v.value.expose().to_string())
            .collect();
        assert_eq!(secret, vec!["new-secret".to_string()]);
    }

    #[test]
    fn a_key_in_both_maps_is_an_error_at_its_path() {
        let m = model(&[("A", "1")], &[("A", "secret-1")]);
        let mut diagnostics = Diagnostics::new();
        ConfigVarsResource.validate(&m, &mut diagnostics);
        assert_eq!(diagnostics.iter().count(), 1);
    }
}
