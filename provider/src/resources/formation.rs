//! `treeherder_formation`: the quantity and dyno size of one process type of an app.
//!
//! Heroku has no create or delete for formations: process types come from the released
//! slug's Procfile. Create and update set quantity and size; destroy does what `on_destroy`
//! says. Every read goes through the app's one shared formation listing.

use async_trait::async_trait;
use schemars::{json_schema, JsonSchema};
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::{quote, Uuid};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::heroku::{
    ConfigChange, Formation, FormationUpdate, HerokuClient, ReleaseWaitError,
};
use crate::clients::Clients;
use crate::resources::scheduler_job::DynoSize;

/// Heroku's process type grammar, also the attribute's JSON Schema `pattern`.
const PROCESS_TYPE_PATTERN: &str = r"^[-A-Za-z0-9_]{1,128}$";

/// The runbook's advice on concurrency, quoted by the size-change warning.
pub const CONCURRENCY_ADVICE: &str = "Treeherder's runbook: a larger or smaller dyno needs its concurrency adjusted to the dyno's resources. For gunicorn (web) that is the WEB_CONCURRENCY config var (the Python buildpack only sets a default per dyno size); for Celery workers it is --concurrency in the Procfile, which Terraform cannot change.";

/// The config var gunicorn reads its worker count from.
const WEB_CONCURRENCY: &str = "WEB_CONCURRENCY";

/// How long an apply waits for the release a `WEB_CONCURRENCY` change creates (its release
/// phase runs migrations).
const RELEASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20 * 60);

/// Writes `WEB_CONCURRENCY` through the config-vars client (one PATCH, nothing when it holds
/// the value already) and waits for the release it creates.
async fn write_web_concurrency(
    ctx: &Context<'_, Clients>,
    heroku: &HerokuClient,
    app_id: uuid::Uuid,
    value: u32,
) -> Result<(), Diagnostics> {
    let change: ConfigChange = [(WEB_CONCURRENCY.to_string(), Some(value.to_string()))]
        .into_iter()
        .collect();
    let applied = heroku.change_config_vars(app_id, &change).await?;
    let Some(release) = applied.release else {
        return Ok(());
    };
    let app = heroku.app_label(app_id);
    tfplugin::info!(
        "WEB_CONCURRENCY={value} on {app}: waiting for release v{}",
        release.version
    );
    match heroku
        .wait_for_release(app_id, &app, release.version, RELEASE_TIMEOUT, || {
            ctx.is_stopping()
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(ReleaseWaitError::Heroku(e)) => Err(e.into()),
        Err(e) => Err(Diagnostic::error("Release did not succeed", e.to_string())
            .at(attr!(FormationModel, web_concurrency))
            .into()),
    }
}

fn default_on_destroy() -> Field<OnDestroy> {
    Field::known(OnDestroy::Keep)
}

/// The dynos of one process type of a Heroku app: how many, and how large.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct FormationModel {
    /// The app, by name (`treeherder-prod`) or UUID. Another app replaces the resource;
    /// naming the same app differently (name ↔ UUID) changes nothing remotely.
    pub app: Field<crate::clients::heroku::AppIdentity>,
    /// The process type, as named in the app's Procfile (`web`, `worker_log_parser`).
    /// Changing it replaces the resource. A type the app does not have fails the plan,
    /// listing the app's types.
    #[tf(requires_replace)]
    pub r#type: Field<ProcessType>,
    /// Number of dynos.
    pub quantity: Field<u32>,
    /// Dyno size, e.g. `Standard-2X`, in Heroku's spelling or any case (your spelling is
    /// kept). Checked when planning against the sizes available to the app.
    pub size: Field<DynoSize>,
    /// What destroying the resource does: `keep` (default: the dynos keep running as they
    /// are, the resource is only forgotten) or `scale_to_zero` (quantity set to 0).
    #[serde(default = "default_on_destroy")]
    pub on_destroy: Field<OnDestroy>,
    /// Gunicorn's worker count for this process: when set, written as the app's
    /// `WEB_CONCURRENCY` config var in the same apply (which waits for the release that
    /// creates). A value changed by hand shows in the plan. Unset, `WEB_CONCURRENCY` is left
    /// alone; destroy leaves it as it is.
    #[serde(default)]
    pub web_concurrency: Field<u32>,
    /// The formation's UUID.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub id: Field<String>,
    /// UUID of the app.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub app_id: Field<Uuid>,
}

/// What destroying a formation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnDestroy {
    // Plain comments: doc comments would make the schema a `oneOf` without a type.
    // Leave the dynos as they are.
    Keep,
    // Scale the process type to zero dynos.
    ScaleToZero,
}

/// A process type name (`^[-\w]{1,128}$`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessType(String);

/// Why a process type was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Expected a process type of 1 to 128 letters, digits, `_` or `-` (e.g. web, worker_log_parser); got {}.", quote(.0))]
pub struct ProcessTypeError(String);

impl ProcessType {
    /// Parses a process type name.
    pub fn parse(text: &str) -> Result<ProcessType, ProcessTypeError> {
        let valid = (1..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(ProcessType(text.to_string()))
        } else {
            Err(ProcessTypeError(text.to_string()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

tfplugin::text_value!(
    ProcessType,
    schema = json_schema!({
        "type": "string",
        "pattern": PROCESS_TYPE_PATTERN,
        "examples": ["web", "worker_log_parser"]
    })
);

/// The path of `type`. `attr!` spells a raw identifier `r#type` (an SDK gap), so the
/// compiler-checked path is corrected here.
fn type_path() -> tfplugin::AttributePath {
    attr!(FormationModel, r#type)
}

/// True when the process runs gunicorn, whose worker count is `WEB_CONCURRENCY`.
fn runs_gunicorn(formation: &Formation) -> bool {
    formation
        .command
        .as_deref()
        .is_some_and(|c| c.split_whitespace().any(|word| word == "gunicorn"))
}

impl FormationModel {
    /// Copies the remote formation into the model, keeping the user's size spelling when
    /// it names the same size.
    fn absorb(&mut self, app_id: uuid::Uuid, formation: &Formation) {
        self.id.set(formation.id.to_string());
        self.app_id.set(app_id);
        self.r#type.set(ProcessType(formation.process_type.clone()));
        self.quantity.set(formation.quantity);
        match formation.size_name() {
            Some(remote) if self.size.get().is_some_and(|s| s.is(remote)) => {}
            Some(remote) => self.size.set(remote),
            None => self.size = Field::Null,
        }
    }
}

fn missing(what: &str) -> Diagnostics {
    Diagnostic::error(
        "Formation without its app or process type",
        format!(
            "The state has no {what}; remove the resource from the state and import it (`terraform import ADDRESS <app>:<process type>`)."
        ),
    )
    .into()
}

/// The app UUID stored in state, else the app resolved by name or UUID.
async fn app_id_of(
    heroku: &HerokuClient,
    model: &FormationModel,
) -> Result<uuid::Uuid, Diagnostics> {
    if let Some(id) = model.app_id.get() {
        return Ok(id.get());
    }
    Ok(heroku.resolve_app_id(model.app.value()?).await?)
}

/// The app's process types, for messages.
fn type_list(formations: &[Formation]) -> String {
    let mut types: Vec<&str> = formations.iter().map(|f| f.process_type.as_str()).collect();
    types.sort_unstable();
    if types.is_empty() {
        "none (nothing has been released yet)".to_string()
    } else {
        types.join(", ")
    }
}

/// The `treeherder_formation` resource.
pub struct FormationResource;

impl FormationResource {
    /// Checks the planned type and size against the app, and warns about a size change
    /// that leaves gunicorn's concurrency as it was.
    async fn check_against_app(
        &self,
        ctx: &Context<'_, Clients>,
        heroku: &HerokuClient,
        app_id: uuid::Uuid,
        plan: &ResourcePlan<FormationModel>,
    ) -> Result<(), Diagnostics> {
        let Some(process_type) = plan.config.r#type.get() else {
            return Ok(());
        };
        let formations = heroku.formations(app_id).await?;
        let Some(remote) = formations
            .iter()
            .find(|f| f.process_type == process_type.as_str())
        else {
            return Err(Diagnostic::error(
                "Unknown process type",
                format!(
                    "App {} has no process type {}; its process types are: {}. Process types come from the Procfile of the app's release.",
                    heroku.app_label(app_id),
                    quote(process_type.as_str()),
                    type_list(&formations)
                ),
            )
            .at(type_path())
            .into());
        };
        let Some(size) = plan.config.size.get() else {
            return Ok(());
        };
        let remote_size = remote.size_name();
        if remote_size.is_some_and(|r| size.is(r)) {
            // Heroku runs this size already: nothing to check or warn about.
            return Ok(());
        }
        let available = heroku.available_dyno_sizes(app_id).await?;
        if !available.iter().any(|a| size.is(&a.name)) {
            let names: Vec<&str> = available.iter().map(|a| a.name.as_str()).collect();
            return Err(Diagnostic::error(
                "Dyno size not available",
                format!(
                    "Dyno size {} is not available to app {}; available sizes: {}.",
                    quote(size.as_str()),
                    heroku.app_label(app_id),
                    names.join(", ")
                ),
            )
            .at(attr!(FormationModel, size))
            .into());
        }
        // With web_concurrency set, the worker count follows the change in the same apply.
        if runs_gunicorn(remote) && plan.config.web_concurrency.is_null() {
            ctx.add(
                Diagnostic::warning(
                    "Dyno size changes without a concurrency change",
                    format!(
                        "{} dynos of {} change from {} to {} and run gunicorn, whose worker count (WEB_CONCURRENCY) stays as it is. {CONCURRENCY_ADVICE}",
                        process_type.as_str(),
                        heroku.app_label(app_id),
                        remote_size.unwrap_or("an unknown size"),
                        size.as_str()
                    ),
                )
                .at(attr!(FormationModel, size)),
            );
        }
        Ok(())
    }
}

#[async_trait]
impl Resource for FormationResource {
    type Model = FormationModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_formation"
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<FormationModel>,
    ) -> Result<(), Diagnostics> {
        let Some(heroku) = ctx.try_client().and_then(|c| c.heroku().ok()) else {
            return Ok(());
        };
        let Some(app) = plan.config.app.as_str().map(str::to_string) else {
            // Not known until apply: it may be another app.
            if plan.prior.is_some() {
                plan.require_replace(attr!(FormationModel, app));
            }
            return Ok(());
        };
        let prior = plan
            .prior
            .as_ref()
            .and_then(|p| Some((p.app.as_str()?.to_string(), p.app_id.get()?.get())));
        // Resolved once per name and process; an unknown app fails the plan here.
        let app_id = match &prior {
            Some((prior_app, prior_id)) if *prior_app == app => *prior_id,
            _ => heroku.resolve_app_id(&app).await?,
        };
        if let Some((_, prior_id)) = prior {
            if prior_id != app_id {
                plan.require_replace(attr!(FormationModel, app));
            }
        }
        self.check_against_app(ctx, heroku, app_id, plan).await
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, Clients>,
        prior: &FormationModel,
    ) -> Result<(), Diagnostics> {
        if prior.on_destroy.get() != Some(&OnDestroy::ScaleToZero) {
            ctx.add(Diagnostic::warning(
                "Destroying a formation keeps its dynos",
                format!(
                    "With on_destroy = \"keep\", the {} dynos of {} keep running as they are; Terraform only forgets them. Set on_destroy = \"scale_to_zero\" (and apply) first to stop them.",
                    prior.r#type.get().map(ProcessType::as_str).unwrap_or("?"),
                    prior.app.as_str().unwrap_or("?")
                ),
            ));
        }
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: FormationModel,
    ) -> Result<FormationModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app_id = heroku.resolve_app_id(plan.app.value()?).await?;
        let process_type = plan.r#type.value()?.as_str().to_string();
        let update = FormationUpdate::new(
            Some(*plan.quantity.value()?),
            Some(
                canonical_size(heroku, app_id, plan.size.value()?)
                    .await?
                    .as_str(),
            ),
        );
        let formation = heroku
            .update_formation(app_id, &process_type, &update)
            .await?;
        tfplugin::debug!(
            "formation {process_type} of {}: {} × {}",
            heroku.app_label(app_id),
            formation.quantity,
            formation.size_name().unwrap_or("?")
        );
        if let Some(value) = plan.web_concurrency.get() {
            write_web_concurrency(ctx, heroku, app_id, *value).await?;
        }
        plan.id.set(formation.id.to_string());
        plan.app_id.set(app_id);
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: FormationModel,
    ) -> Result<Option<FormationModel>, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let process_type = state
            .r#type
            .get()
            .map(|t| t.as_str().to_string())
            .ok_or_else(|| missing("process type"))?;
        if state.app.is_null() && state.app_id.is_null() {
            return Err(missing("app"));
        }
        let app_id = app_id_of(heroku, &state).await?;
        // Every formation of the app is read through one shared, cached listing.
        match heroku.formation(app_id, &process_type).await {
            Ok(Some(formation)) => {
                state.absorb(app_id, &formation);
                if !state.web_concurrency.is_null() {
                    state.web_concurrency = read_web_concurrency(heroku, app_id).await?;
                }
                if state.on_destroy.is_null() {
                    state.on_destroy = default_on_destroy();
                }
                Ok(Some(state))
            }
            // The process type left the Procfile, or the app is gone.
            Ok(None) => Ok(None),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: FormationModel,
        mut plan: FormationModel,
    ) -> Result<FormationModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app_id = app_id_of(heroku, &prior).await?;
        let process_type = plan.r#type.value()?.as_str().to_string();
        let quantity = *plan.quantity.value()?;
        let size = plan.size.value()?;
        let quantity_changed = prior.quantity.get() != Some(&quantity);
        let size_changed = !prior.size.get().is_some_and(|s| s.is(size.as_str()));
        // A change of spelling only (`standard-2x`, `app` by UUID) needs no request.
        if quantity_changed || size_changed {
            // Quantity is always sent: Heroku may otherwise reset it (terraform-provider-heroku #351).
            let size = if size_changed {
                Some(canonical_size(heroku, app_id, size).await?)
            } else {
                None
            };
            let update = FormationUpdate::new(Some(quantity), size.as_deref());
            let formation = heroku
                .update_formation(app_id, &process_type, &update)
                .await?;
            plan.id.set(formation.id.to_string());
        } else if let Some(id) = prior.id.get() {
            plan.id.set(id.clone());
        }
        if plan.id.is_unknown() {
            let formation = heroku
                .formation(app_id, &process_type)
                .await?
                .ok_or_else(|| missing("formation id"))?;
            plan.id.set(formation.id.to_string());
        }
        if let Some(value) = plan.web_concurrency.get() {
            if prior.web_concurrency.get() != Some(value) {
                write_web_concurrency(ctx, heroku, app_id, *value).await?;
            }
        }
        plan.app_id.set(app_id);
        Ok(plan)
    }

    async fn delete(
        &self,
        ctx: &Context<'_, Clients>,
        state: FormationModel,
    ) -> Result<(), Diagnostics> {
        if state.on_destroy.get() != Some(&OnDestroy::ScaleToZero) {
            tfplugin::debug!(
                "formation {} of {} kept as it is (on_destroy = keep)",
                state.r#type.get().map(ProcessType::as_str).unwrap_or("?"),
                state.app.as_str().unwrap_or("?")
            );
            return Ok(());
        }
        let heroku = ctx.client()?.heroku()?;
        let Some(process_type) = state.r#type.get() else {
            return Ok(());
        };
        let app_id = app_id_of(heroku, &state).await?;
        let update = FormationUpdate::new(Some(0), None);
        match heroku
            .update_formation(app_id, process_type.as_str(), &update)
            .await
        {
            Ok(_) => Ok(()),
            // The app or the process type is gone, and with it the dynos.
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<FormationModel, Diagnostics> {
        let parsed = id
            .split_once(':')
            .filter(|(app, kind)| !app.is_empty() && !kind.contains(':'))
            .and_then(|(app, kind)| {
                let app = crate::clients::heroku::AppIdentity::parse(app).ok()?;
                Some((app, ProcessType::parse(kind).ok()?))
            });
        let Some((app, process_type)) = parsed else {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!(
                    "Expected `<app name or UUID>:<process type>`, e.g. `treeherder-prod:web`; got {}.",
                    quote(id)
                ),
            )
            .into());
        };
        let mut model = FormationModel {
            app: Field::known(app),
            r#type: Field::known(process_type.clone()),
            quantity: Field::Null,
            size: Field::Null,
            on_destroy: default_on_destroy(),
            web_concurrency: Field::Null,
            id: Field::Null,
            app_id: Field::Null,
        };
        // Read fills in the rest from the app's formation listing. It refreshes
        // web_concurrency only when the state manages it, so import reads it here for a
        // process that runs gunicorn: the configuration that set it then plans no change.
        let heroku = ctx.client()?.heroku()?;
        let app_id = app_id_of(heroku, &model).await?;
        match heroku.formation(app_id, process_type.as_str()).await {
            Ok(Some(formation)) if runs_gunicorn(&formation) => {
                model.web_concurrency = read_web_concurrency(heroku, app_id).await?;
            }
            // Read reports a missing process type or app.
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        Ok(model)
    }
}

/// The app's `WEB_CONCURRENCY` as a worker count; null when unset or not a number.
async fn read_web_concurrency(
    heroku: &HerokuClient,
    app_id: uuid::Uuid,
) -> Result<Field<u32>, Diagnostics> {
    // Cached per app: every formation of the app shares one read.
    let vars = heroku.read_config_vars(app_id, false).await?;
    Ok(vars
        .get(WEB_CONCURRENCY)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .into())
}

/// The size in the spelling the app's available sizes use (the API is case-sensitive);
/// a size Heroku does not list is sent as written, for Heroku to judge.
async fn canonical_size(
    heroku: &HerokuClient,
    app_id: uuid::Uuid,
    size: &DynoSize,
) -> Result<String, Diagnostics> {
    let available = heroku.available_dyno_sizes(app_id).await?;
    Ok(available
        .into_iter()
        .find(|a| size.is(&a.name))
        .map(|a| a.name)
        .unwrap_or_else(|| size.canonical().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formation(process_type: &str, size: &str, command: &str) -> Formation {
        serde_json::from_value(serde_json::json!({
            "id": "7e4e0000-0002-4000-8000-000000000001",
            "type": process_type,
            "quantity": 3,
            "size": size,
            "dyno_size": {"id": null, "name": size},
            "command": command,
        }))
        .unwrap()
    }

    #[test]
    fn process_types_follow_herokus_grammar() {
        for good in ["web", "worker_log_parser", "a-b", &"x".repeat(128)] {
            assert!(ProcessType::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "web worker", "web.1", "wéb", &"x".repeat(129)] {
            assert!(ProcessType::parse(bad).is_err(), "{bad}");
        }
        let err = serde_json::from_value::<ProcessType>(serde_json::json!("web.1"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("e.g. web, worker_log_parser"), "{err}");
    }

    #[test]
    fn read_keeps_the_size_spelling_but_reports_real_changes() {
        let mut model = FormationModel {
            app: Field::known(
                crate::clients::heroku::AppIdentity::parse("treeherder-prod").unwrap(),
            ),
            r#type: Field::known(ProcessType::parse("web").unwrap()),
            quantity: Field::known(2u32),
            size: Field::known("standard-2x"),
            on_destroy: default_on_destroy(),
            web_concurrency: Field::Null,
            id: Field::Null,
            app_id: Field::Null,
        };
        let app = uuid::Uuid::nil();
        model.absorb(app, &formation("web", "Standard-2X", "gunicorn x"));
        assert_eq!(model.size.get().map(DynoSize::as_str), Some("standard-2x"));
        assert_eq!(model.quantity.get(), Some(&3));
        model.absorb(app, &formation("web", "Performance-M", "gunicorn x"));
        assert_eq!(
            model.size.get().map(DynoSize::as_str),
            Some("Performance-M")
        );
        assert_eq!(model.app_id.get().map(Uuid::get), Some(app));
    }

    #[test]
    fn gunicorn_is_recognised_in_the_procfile_command() {
        assert!(runs_gunicorn(&formation(
            "web",
            "Standard-1X",
            "newrelic-admin run-program gunicorn treeherder.config.wsgi:application"
        )));
        assert!(!runs_gunicorn(&formation(
            "worker",
            "Standard-1X",
            "celery worker -A treeherder --concurrency=3"
        )));
    }

    #[test]
    fn schema_derives_with_replacement_on_type_and_keep_by_default() {
        let schema = FormationResource.schema().unwrap();
        let kind = schema.block.attribute("type").unwrap();
        assert!(kind.required);
        assert!(!kind.plan_modifiers.is_empty(), "requires replacement");
        let on_destroy = schema.block.attribute("on_destroy").unwrap();
        assert_eq!(
            on_destroy.default,
            Some(tfplugin::value::Value::String("keep".into()))
        );
        for name in ["id", "app_id"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
    }
}
