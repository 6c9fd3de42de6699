//! `treeherder_pipeline_promotion`: promotes a release from one app of a Heroku pipeline
//! to others (stage → prod) and waits until every target is released.
//!
//! A promotion is an event: every argument forces a new one, deleting only forgets it. Apps
//! and the pipeline compare by identity (a name and the UUID of the same app are the same),
//! so an imported promotion (which has names) plans no new promotion.

mod apply;
mod check;
mod plan;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use schemars::{json_schema, JsonSchema, SchemaGenerator};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use tfplugin::framework::{Context, Operation, ResourcePlan, TimeLimit};
use tfplugin::types::{CreateTimeout, Triggers, Uuid};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::heroku::{AppIdentity, PromotionTargetStatus};
use crate::clients::Clients;
use apply::{app_name, pipeline_name, wait_for_promotion};
use check::{check_apps, target_path, Spelled};

/// First pause between two polls of a pending promotion.
pub(super) const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A promotion of a release through a Heroku pipeline (e.g. `treeherder-stage` →
/// `treeherder-prod`). Applying it promotes and waits until no target is pending.
/// Changing any argument makes a new promotion; destroying it only removes it from the
/// state (nothing is rolled back).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PipelinePromotionModel {
    /// Pipeline name or UUID, e.g. `treeherder`.
    pub pipeline: Field<String>,
    /// App promoted from (name or UUID), e.g. `treeherder-stage`. It must be in the pipeline.
    pub source_app: Field<AppIdentity>,
    /// Apps promoted to (names or UUIDs), e.g. `["treeherder-prod"]`. Each must be in the
    /// pipeline and differ from `source_app`.
    pub targets: Field<Targets>,
    /// UUID of the source app's release to promote (as `heroku releases:info --json` shows
    /// it). Default: the source app's current release at apply time.
    #[serde(default)]
    pub release_id: Field<Uuid>,
    /// Arbitrary values whose change makes a new promotion, e.g. `{ commit = var.commit_sha }`.
    /// Setting them on a promotion that has none (e.g. after an import) records them without
    /// promoting again.
    #[serde(default)]
    pub triggers: Field<Triggers>,
    /// The promotion's UUID.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub id: Field<Uuid>,
    /// Heroku's status of the promotion: `completed` once every target is done (`pending` only
    /// if the apply was interrupted or timed out).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub status: Field<String>,
    /// UUID of the source release that was promoted.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub source_release_id: Field<String>,
    /// Per target app, keyed by the app's name (however `targets` names it, and after an
    /// import too): the release created on it, its version
    /// and the target's status (`succeeded`, `failed` or `pending`).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub promoted_releases: Field<BTreeMap<String, PromotedRelease>>,
    /// How long operations may take (`create` defaults to `"30m"`).
    #[schemars(extend("x-terraform" = { "block": "single" }))]
    pub timeouts: Option<CreateTimeout>,
}

/// What a promotion did to one target app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PromotedRelease {
    /// UUID of the release created on the target (null when the target failed).
    pub release_id: Option<String>,
    /// Version of that release (`42` for v42; null when the target failed).
    pub version: Option<u64>,
    /// `succeeded`, `failed` or `pending`.
    pub status: String,
}

/// The apps promoted to, as written: at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Targets(Vec<AppIdentity>);

impl Targets {
    /// The apps, when there is at least one.
    pub fn new(apps: Vec<AppIdentity>) -> Option<Targets> {
        (!apps.is_empty()).then_some(Targets(apps))
    }

    /// The apps as written.
    pub fn as_slice(&self) -> &[AppIdentity] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Targets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Targets::new(Vec::deserialize(deserializer)?).ok_or_else(|| {
            D::Error::custom("Expected at least one app (name or UUID), e.g. [\"treeherder-prod\"]")
        })
    }
}

impl JsonSchema for Targets {
    fn schema_name() -> Cow<'static, str> {
        "Targets".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> schemars::Schema {
        let items = AppIdentity::json_schema(generator);
        json_schema!({ "type": "array", "items": items, "minItems": 1 })
    }
}

/// The `treeherder_pipeline_promotion` resource.
pub struct PipelinePromotionResource;

/// The text Heroku uses for a status enum (`"pending"`, `"succeeded"`, ...).
pub(super) fn status_text<T: Serialize>(status: &T) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_string(),
    }
}

#[async_trait]
impl Operation for PipelinePromotionResource {
    type Model = PipelinePromotionModel;
    type Client = Clients;
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    fn type_name(&self) -> &'static str {
        "treeherder_pipeline_promotion"
    }

    fn timeouts(model: &PipelinePromotionModel) -> Option<&CreateTimeout> {
        model.timeouts.as_ref()
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<PipelinePromotionModel>,
    ) -> Result<(), Diagnostics> {
        let client = ctx.try_client().and_then(|c| c.heroku().ok());
        // Existing promotions are not re-checked: a change replaces them, and the
        // replacement is planned as a create, which is checked.
        if let Some(prior) = plan.prior.clone() {
            return plan::replacement(client, &prior, plan).await;
        }
        let Some(clients) = ctx.try_client() else {
            return Ok(());
        };
        check_apps(clients.heroku()?, &Spelled::of(&plan.config)).await?;
        Ok(())
    }

    fn forget_warning(&self, prior: &PipelinePromotionModel) -> Diagnostic {
        let id = prior
            .id
            .get()
            .map_or_else(|| "(no id)".to_string(), ToString::to_string);
        let targets = prior.targets.get().map_or_else(String::new, |t| {
            let apps: Vec<&str> = t.as_slice().iter().map(AppIdentity::as_str).collect();
            format!(" ({})", apps.join(", "))
        });
        Diagnostic::warning(
            "Destroying only forgets the promotion",
            format!(
                "A promotion cannot be undone: destroying promotion {id} only removes it from the state. The releases it made stay on the target apps{targets}."
            ),
        )
    }

    async fn run(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: PipelinePromotionModel,
        limit: &TimeLimit,
    ) -> Result<PipelinePromotionModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let resolved = check_apps(client, &Spelled::of(&plan))
            .await?
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Invalid promotion",
                    format!(
                        "{}, {}, {} or {} could not be resolved.",
                        attr!(PipelinePromotionModel, pipeline),
                        attr!(PipelinePromotionModel, source_app),
                        attr!(PipelinePromotionModel, targets),
                        attr!(PipelinePromotionModel, release_id),
                    ),
                ))
            })?;
        let created = client
            .create_promotion(
                resolved.pipeline_id,
                resolved.source_id,
                &resolved.target_ids,
                plan.release_id.get().map(Uuid::get),
            )
            .await
            .map_err(|e| {
                let unknown = e.outcome_unknown();
                let mut detail = tfplugin::log::mask(&e.to_string());
                if unknown {
                    detail.push_str(" The promotion may have been created anyway: check the pipeline's activity before applying again.");
                }
                Diagnostics::from(Diagnostic::error("Cannot create the promotion", detail))
            })?;
        tfplugin::info!(
            "created promotion {} from {} to {} target(s)",
            created.id,
            plan.source_app
                .get()
                .map(AppIdentity::as_str)
                .unwrap_or_default(),
            resolved.target_ids.len()
        );
        let (waited, incomplete) = wait_for_promotion(ctx, client, created, limit).await;
        if let Err(errors) =
            apply::refresh(client, &mut plan, &waited.promotion, &waited.targets).await
        {
            // The promotion exists: keep what is known rather than lose it.
            for error in errors.iter() {
                ctx.add(error.clone());
            }
        }
        // Every computed attribute must be known, even when following the promotion failed.
        plan.id.set(waited.promotion.id);
        if !plan.status.is_known() {
            plan.status.set(status_text(&waited.promotion.status));
        }
        if !plan.source_release_id.is_known() {
            plan.source_release_id = waited
                .promotion
                .source
                .release
                .map(|r| r.id.to_string())
                .into();
        }
        if !plan.promoted_releases.is_known() {
            plan.promoted_releases.set(BTreeMap::new());
        }
        if !plan.source_release_id.is_known() {
            // Heroku did not say which release it promoted: ask for the current one.
            match client.current_release(resolved.source_id).await {
                Ok(current) => plan.source_release_id.set(current.id.to_string()),
                Err(_) => plan.source_release_id.set(String::new()),
            }
        }
        if let Some(problem) = incomplete {
            ctx.add(problem);
        }
        let written = plan
            .targets
            .get()
            .map(Targets::as_slice)
            .unwrap_or_default();
        for target in &waited.targets {
            if target.status != PromotionTargetStatus::Failed {
                continue;
            }
            let index = resolved
                .target_ids
                .iter()
                .position(|id| *id == target.app.id);
            let name = index
                .and_then(|i| written.get(i).map(ToString::to_string))
                .unwrap_or_else(|| client.app_label(target.app.id));
            let message = target
                .error_message
                .clone()
                .unwrap_or_else(|| "Heroku gave no error message.".to_string());
            let mut diagnostic = Diagnostic::error(
                format!("Promotion to {name} failed"),
                format!(
                    "Heroku reported for target {name} of promotion {}: {message}\n\nThe promotion is saved in the state as tainted, so the next plan replaces it (a new promotion).",
                    waited.promotion.id
                ),
            );
            if let Some(i) = index {
                diagnostic = diagnostic.at(target_path(i));
            }
            ctx.add(diagnostic);
        }
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: PipelinePromotionModel,
    ) -> Result<Option<PipelinePromotionModel>, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let Some(id) = state.id.get().map(Uuid::get) else {
            return Ok(None);
        };
        let promotion = match client.promotion(id).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let targets = client.promotion_targets(id).await?;
        apply::refresh(client, &mut state, &promotion, &targets).await?;
        Ok(Some(state))
    }

    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<PipelinePromotionModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let promotion_id = uuid::Uuid::parse_str(id.trim()).map_err(|_| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import id",
                format!(
                    "Expected a pipeline promotion UUID, got {}.",
                    tfplugin::types::quote(id)
                ),
            ))
        })?;
        let promotion = match client.promotion(promotion_id).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => {
                return Err(Diagnostic::error(
                    "Promotion not found",
                    format!("Heroku has no pipeline promotion {promotion_id}."),
                )
                .into())
            }
            Err(e) => return Err(e.into()),
        };
        let targets = client.promotion_targets(promotion_id).await?;
        // Names, as a configuration usually has them (UUIDs plan the same, see modify_plan).
        let mut target_names = Vec::with_capacity(targets.len());
        for target in &targets {
            target_names.push(app_name(client, target.app.id).await?);
        }
        let mut model = PipelinePromotionModel {
            pipeline: Field::known(pipeline_name(client, promotion.pipeline.id).await?),
            source_app: Field::known(app_name(client, promotion.source.app.id).await?),
            targets: Targets::new(target_names).into(),
            release_id: Field::Null,
            triggers: Field::Null,
            id: Field::known(promotion.id),
            status: Field::Null,
            source_release_id: Field::Null,
            promoted_releases: Field::Null,
            timeouts: None,
        };
        apply::refresh(client, &mut model, &promotion, &targets).await?;
        Ok(model)
    }
}
