//! `treeherder_pipeline_promotion`: promotes a release from one app of a Heroku pipeline
//! to others (stage → prod) and waits until every target is released.
//!
//! A promotion is an event: every argument forces a new one, deleting only forgets it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::schema::{Schema, SchemaDeriveError};
use tfplugin::validators::CheckFn;
use tfplugin::value::Value;
use tfplugin::{AttributePath, Diagnostic, Diagnostics};
use tokio::time::Instant;
use uuid::Uuid;

use crate::clients::heroku::{
    HerokuClient, HerokuError, PipelineCoupling, Promotion, PromotionStatus, PromotionTarget,
    PromotionTargetStatus,
};
use crate::clients::Clients;

/// Create timeout when the `timeouts` block does not set one.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// First pause between two polls of a pending promotion.
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Longest pause between two polls.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// A promotion of a release through a Heroku pipeline (e.g. `treeherder-stage` →
/// `treeherder-prod`). Applying it promotes and waits until no target is pending.
/// Changing any argument makes a new promotion; destroying it only removes it from the
/// state (nothing is rolled back).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PipelinePromotionModel {
    /// Pipeline name or UUID, e.g. `treeherder`.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub pipeline: String,
    /// App promoted from (name or UUID), e.g. `treeherder-stage`. It must be in the pipeline.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub source_app: String,
    /// Apps promoted to (names or UUIDs), e.g. `["treeherder-prod"]`. Each must be in the
    /// pipeline and differ from `source_app`.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub targets: Vec<String>,
    /// UUID of the source app's release to promote. Default: the source app's current
    /// release at apply time.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub release_id: Option<String>,
    /// Arbitrary values whose change makes a new promotion, e.g. `{ commit = var.commit_sha }`.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub triggers: Option<BTreeMap<String, String>>,
    /// The promotion's UUID.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub id: Option<String>,
    /// Heroku's status of the promotion: `completed` once every target is done (`pending` only
    /// if the apply was interrupted or timed out).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub status: Option<String>,
    /// UUID of the source release that was promoted.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub source_release_id: Option<String>,
    /// Per target app, keyed as written in `targets`: the release created on it, its version
    /// and the target's status (`succeeded`, `failed` or `pending`).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub promoted_releases: Option<BTreeMap<String, PromotedRelease>>,
    /// How long operations may take.
    #[schemars(extend("x-terraform" = { "block": "single" }))]
    pub timeouts: Option<Timeouts>,
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

/// Operation time limits.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Timeouts {
    /// How long to wait for the promotion to finish, e.g. `"90s"`, `"30m"`, `"1h"`. Default `"30m"`.
    pub create: Option<String>,
}

/// The `treeherder_pipeline_promotion` resource.
pub struct PipelinePromotion;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: expected a whole number followed by a unit (ms, s, m or h), e.g. \"90s\", \"30m\", \"1h\" or \"1h30m\"")]
pub struct DurationError {
    /// The rejected text.
    pub text: String,
}

/// Parses durations like `"90s"`, `"30m"`, `"1h"`, `"1h30m"` or `"500ms"`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError {
        text: text.to_string(),
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(error());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(error());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| error())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = rest.split_at(unit_len);
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.checked_mul(60).ok_or_else(error)?),
            "h" => Duration::from_secs(number.checked_mul(3600).ok_or_else(error)?),
            _ => return Err(error()),
        };
        total = total.checked_add(part).ok_or_else(error)?;
        rest = tail;
    }
    Ok(total)
}

/// The create timeout of a model's `timeouts` block.
fn create_timeout(timeouts: Option<&Timeouts>) -> Result<Duration, Diagnostics> {
    match timeouts.and_then(|t| t.create.as_deref()) {
        None => Ok(DEFAULT_CREATE_TIMEOUT),
        Some(text) => parse_duration(text).map_err(|e| {
            Diagnostic::error("Invalid timeouts.create", e.to_string())
                .at(AttributePath::root("timeouts").attribute("create"))
                .into()
        }),
    }
}

/// The text Heroku uses for a status enum (`"pending"`, `"succeeded"`, ...).
fn status_text<T: Serialize>(status: &T) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_string(),
    }
}

/// App and pipeline identities as written in the configuration; `None` = unknown at plan.
struct Spelled<'a> {
    pipeline: Option<&'a str>,
    source: Option<&'a str>,
    targets: Vec<Option<&'a str>>,
    release_id: Option<&'a str>,
}

/// The UUIDs the configuration names, once every one is known and valid.
struct Resolved {
    pipeline_id: Uuid,
    source_id: Uuid,
    target_ids: Vec<Uuid>,
}

fn target_path(index: usize) -> AttributePath {
    AttributePath::root("targets").index(index as i64)
}

/// An app that is looked up: `Ok(None)` when Heroku does not know it.
async fn lookup_app(client: &HerokuClient, name_or_id: &str) -> Result<Option<Uuid>, Diagnostics> {
    match client.resolve_app_id(name_or_id).await {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Checks that the pipeline exists and that every app exists, is coupled to it and that
/// no target is the source or repeated. Values unknown at plan are skipped; the result
/// is `Some` only when everything was known and valid.
async fn check_apps(
    client: &HerokuClient,
    spelled: &Spelled<'_>,
) -> Result<Option<Resolved>, Diagnostics> {
    let mut problems = Diagnostics::new();
    let mut complete = true;

    let pipeline = match spelled.pipeline {
        None => {
            complete = false;
            None
        }
        Some(name) => match client.pipeline(name).await {
            Ok(p) => Some(p),
            Err(e) if e.is_not_found() => {
                problems.push(
                    Diagnostic::error(
                        "Unknown pipeline",
                        format!("Heroku has no pipeline {name:?} (or this API key cannot see it)."),
                    )
                    .at(AttributePath::root("pipeline")),
                );
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let couplings: Option<Vec<PipelineCoupling>> = match &pipeline {
        Some(p) => Some(client.pipeline_couplings(p.id).await?),
        None => None,
    };

    let mut apps: Vec<(&str, AttributePath, Option<&str>)> = vec![(
        "source_app",
        AttributePath::root("source_app"),
        spelled.source,
    )];
    for (i, t) in spelled.targets.iter().enumerate() {
        apps.push(("targets", target_path(i), *t));
    }
    let mut ids: Vec<Option<Uuid>> = Vec::new();
    for (attribute, path, spelling) in &apps {
        let Some(spelling) = spelling else {
            complete = false;
            ids.push(None);
            continue;
        };
        let Some(id) = lookup_app(client, spelling).await? else {
            problems.push(
                Diagnostic::error(
                    "Unknown app",
                    format!(
                        "{attribute}: Heroku has no app {spelling:?} (or this API key cannot see it)."
                    ),
                )
                .at(path.clone()),
            );
            ids.push(None);
            continue;
        };
        ids.push(Some(id));
        let (Some(pipeline), Some(couplings)) = (&pipeline, &couplings) else {
            continue;
        };
        if couplings.iter().any(|c| c.app.id == id) {
            continue;
        }
        let members: Vec<String> = couplings
            .iter()
            .map(|c| {
                let name = c.app.name.clone().unwrap_or_else(|| c.app.id.to_string());
                format!("{name} ({})", c.stage)
            })
            .collect();
        let members = if members.is_empty() {
            "none".to_string()
        } else {
            members.join(", ")
        };
        let detail = match client.app_pipeline_coupling(id).await? {
            Some(other) => {
                let other_name = other
                    .pipeline
                    .name
                    .clone()
                    .unwrap_or_else(|| other.pipeline.id.to_string());
                format!(
                    "{attribute}: app {spelling:?} belongs to pipeline {other_name:?}, not to pipeline {:?}; all apps of a promotion must be in the same pipeline. Apps in {:?}: {members}.",
                    pipeline.name, pipeline.name
                )
            }
            None => format!(
                "{attribute}: app {spelling:?} is not in pipeline {:?}. Apps in it: {members}.",
                pipeline.name
            ),
        };
        problems.push(Diagnostic::error("App not in the pipeline", detail).at(path.clone()));
    }

    if spelled.targets.is_empty() {
        problems.push(
            Diagnostic::error("No target", "targets must name at least one app.")
                .at(AttributePath::root("targets")),
        );
    }
    let source_id = ids.first().copied().flatten();
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().skip(1).enumerate() {
        let Some(id) = id else { continue };
        if Some(*id) == source_id {
            problems.push(
                Diagnostic::error(
                    "Target is the source app",
                    format!(
                        "targets[{i}]: {:?} is the source app; an app cannot be promoted to itself.",
                        spelled.targets[i].unwrap_or_default()
                    ),
                )
                .at(target_path(i)),
            );
        } else if !seen.insert(*id) {
            problems.push(
                Diagnostic::error(
                    "Duplicate target",
                    format!(
                        "targets[{i}]: {:?} is listed more than once.",
                        spelled.targets[i].unwrap_or_default()
                    ),
                )
                .at(target_path(i)),
            );
        }
    }

    match (spelled.release_id, source_id) {
        (Some(release), Some(source_id)) => match Uuid::parse_str(release) {
            // The format is reported by the attribute's validator.
            Err(_) => complete = false,
            Ok(_) => match client.release(source_id, release).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => problems.push(
                    Diagnostic::error(
                        "Unknown release",
                        format!(
                            "release_id: {release} is not a release of the source app {:?}.",
                            spelled.source.unwrap_or_default()
                        ),
                    )
                    .at(AttributePath::root("release_id")),
                ),
                Err(e) => return Err(e.into()),
            },
        },
        (None, _) => {}
        (Some(_), None) => complete = false,
    }

    if problems.has_errors() {
        return Err(problems);
    }
    match (complete, pipeline, source_id) {
        (true, Some(pipeline), Some(source_id)) => Ok(Some(Resolved {
            pipeline_id: pipeline.id,
            source_id,
            target_ids: ids.iter().skip(1).flatten().copied().collect(),
        })),
        _ => Ok(None),
    }
}

/// A known string of a plan value (`None` when unknown or null).
fn known_str(value: &Value) -> Option<&str> {
    value.as_str()
}

/// Where waiting for a promotion ended.
struct Waited {
    promotion: Promotion,
    targets: Vec<PromotionTarget>,
    /// Why the wait stopped before the promotion finished.
    incomplete: Option<Diagnostic>,
}

fn done(promotion: &Promotion, targets: &[PromotionTarget]) -> bool {
    promotion.status != PromotionStatus::Pending
        && !targets
            .iter()
            .any(|t| t.status == PromotionTargetStatus::Pending)
}

/// Polls a promotion until no target is pending (and Heroku marks it no longer pending),
/// the timeout passes, Terraform asks to stop, or a read fails.
async fn wait_for_promotion(
    ctx: &Context<'_, Clients>,
    client: &HerokuClient,
    mut promotion: Promotion,
    timeout: Duration,
    timeout_label: &str,
) -> Waited {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut interval = FIRST_POLL_INTERVAL;
    let mut targets: Vec<PromotionTarget> = Vec::new();
    let id = promotion.id;
    loop {
        let polled = async {
            let p = client.promotion(id).await?;
            let t = client.promotion_targets(id).await?;
            Ok::<_, HerokuError>((p, t))
        }
        .await;
        match polled {
            Ok((p, t)) => {
                promotion = p;
                targets = t;
            }
            Err(e) => {
                return Waited {
                    promotion,
                    targets,
                    incomplete: Some(Diagnostic::error(
                        "Cannot follow the promotion",
                        format!(
                            "Promotion {id} was created, but reading its progress failed: {}. It stays in the state; run `terraform apply` again to refresh it, or taint it to promote again.",
                            tfplugin::log::mask(&e.to_string())
                        ),
                    )),
                };
            }
        }
        let pending = targets
            .iter()
            .filter(|t| t.status == PromotionTargetStatus::Pending)
            .count();
        tfplugin::info!(
            "promotion {id}: {pending} of {} target(s) pending, promotion {} ({}s elapsed)",
            targets.len(),
            status_text(&promotion.status),
            started.elapsed().as_secs()
        );
        if done(&promotion, &targets) {
            return Waited {
                promotion,
                targets,
                incomplete: None,
            };
        }
        let now = Instant::now();
        if now >= deadline {
            return Waited {
                promotion,
                targets,
                incomplete: Some(Diagnostic::error(
                    "Timed out waiting for the promotion",
                    format!(
                        "Promotion {id} was still pending after {timeout_label} (timeouts.create). It was saved in the state as tainted; Heroku may still finish it."
                    ),
                )),
            };
        }
        let pause = interval.min(deadline - now);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = ctx.stopped() => {
                return Waited {
                    promotion,
                    targets,
                    incomplete: Some(Diagnostic::error(
                        "Interrupted while waiting for the promotion",
                        format!("Promotion {id} was created and is still pending; it was saved in the state as tainted."),
                    )),
                };
            }
        }
        interval = (interval * 2).min(MAX_POLL_INTERVAL);
    }
}

/// True when `spelling` names the pipeline `id` (by UUID or by its name).
async fn names_pipeline(
    client: &HerokuClient,
    spelling: &str,
    id: Uuid,
) -> Result<bool, Diagnostics> {
    if let Ok(uuid) = Uuid::parse_str(spelling) {
        return Ok(uuid == id);
    }
    match client.pipeline(&id.to_string()).await {
        Ok(p) => Ok(p.name == spelling),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn same_uuid(text: &str, id: Uuid) -> bool {
    Uuid::parse_str(text).is_ok_and(|u| u == id)
}

impl PipelinePromotion {
    /// Fills the model from Heroku's view of the promotion, keeping the user's spelling of
    /// every identity that still names the same object and using UUIDs where it does not.
    async fn refresh(
        &self,
        client: &HerokuClient,
        model: &mut PipelinePromotionModel,
        promotion: &Promotion,
        targets: &[PromotionTarget],
    ) -> Result<(), Diagnostics> {
        model.id = Some(promotion.id.to_string());
        if !names_pipeline(client, &model.pipeline, promotion.pipeline.id).await? {
            model.pipeline = promotion.pipeline.id.to_string();
        }
        if lookup_app(client, &model.source_app).await? != Some(promotion.source.app.id) {
            model.source_app = promotion.source.app.id.to_string();
        }
        let mut spelled_ids = Vec::with_capacity(model.targets.len());
        for spelling in &model.targets {
            spelled_ids.push(lookup_app(client, spelling).await?);
        }
        let remote_ids: Vec<Uuid> = targets.iter().map(|t| t.app.id).collect();
        let same_targets = spelled_ids.len() == remote_ids.len()
            && spelled_ids
                .iter()
                .all(|id| id.is_some_and(|id| remote_ids.contains(&id)));
        if !same_targets && !targets.is_empty() {
            model.targets = remote_ids.iter().map(Uuid::to_string).collect();
            spelled_ids = remote_ids.iter().copied().map(Some).collect();
        }

        let source_release = promotion.source.release.map(|r| r.id);
        if let (Some(written), Some(remote)) = (&model.release_id, source_release) {
            if !same_uuid(written, remote) {
                model.release_id = Some(remote.to_string());
            }
        }
        model.source_release_id = source_release.map(|id| id.to_string());
        model.status = Some(status_text(&promotion.status));

        let prior = model.promoted_releases.take().unwrap_or_default();
        let mut promoted = BTreeMap::new();
        for target in targets {
            let key = spelled_ids
                .iter()
                .position(|id| *id == Some(target.app.id))
                .and_then(|i| model.targets.get(i).cloned())
                .unwrap_or_else(|| target.app.id.to_string());
            let release_id = target.release.map(|r| r.id.to_string());
            // Release ids and versions never change: reuse the version already known.
            let known_version = prior
                .get(&key)
                .filter(|p| p.release_id == release_id)
                .and_then(|p| p.version);
            let version = match (known_version, target.release) {
                (Some(v), _) => Some(v),
                (None, Some(release)) => Some(
                    client
                        .release(target.app.id, &release.id.to_string())
                        .await?
                        .version,
                ),
                (None, None) => None,
            };
            promoted.insert(
                key,
                PromotedRelease {
                    release_id,
                    version,
                    status: status_text(&target.status),
                },
            );
        }
        model.promoted_releases = Some(promoted);
        Ok(())
    }
}

#[async_trait]
impl Resource for PipelinePromotion {
    type Model = PipelinePromotionModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_pipeline_promotion"
    }

    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<PipelinePromotionModel>()?
            .with_validator(
                "release_id",
                CheckFn::new("a release UUID", |v: &Value| match v.as_str() {
                    Some(s) if Uuid::parse_str(s).is_ok() => Ok(()),
                    Some(s) => Err(format!(
                        "release_id must be a release UUID (as `heroku releases:info --json` shows it), got {s:?}."
                    )),
                    None => Ok(()),
                }),
            )?
            .with_validator(
                "targets",
                CheckFn::new("a non-empty list of apps", |v: &Value| match v {
                    Value::List(items) if items.is_empty() => {
                        Err("targets must name at least one app.".to_string())
                    }
                    _ => Ok(()),
                }),
            )
    }

    fn validate(&self, config: &Value, diagnostics: &mut Diagnostics) {
        let create = config
            .get_attr("timeouts")
            .and_then(|t| t.get_attr("create"))
            .and_then(Value::as_str);
        if let Some(text) = create {
            if let Err(e) = parse_duration(text) {
                diagnostics.push(
                    Diagnostic::error("Invalid timeouts.create", e.to_string())
                        .at(AttributePath::root("timeouts").attribute("create")),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan,
    ) -> Result<(), Diagnostics> {
        // Existing promotions are not re-checked: a change replaces them, and the
        // replacement is planned as a create, which is checked.
        if !plan.is_create() {
            return Ok(());
        }
        let Some(clients) = ctx.try_client() else {
            return Ok(());
        };
        let client = clients.heroku()?;
        let targets_value = plan.config("targets").clone();
        let targets: Vec<Option<&str>> = match &targets_value {
            Value::List(items) => items.iter().map(known_str).collect(),
            // An unknown list: nothing to check yet.
            _ => return Ok(()),
        };
        let release_value = plan.config("release_id").clone();
        let spelled = Spelled {
            pipeline: known_str(plan.config("pipeline")),
            source: known_str(plan.config("source_app")),
            targets,
            release_id: known_str(&release_value),
        };
        check_apps(client, &spelled).await?;
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: PipelinePromotionModel,
    ) -> Result<PipelinePromotionModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let timeout = create_timeout(plan.timeouts.as_ref())?;
        let spelled = Spelled {
            pipeline: Some(&plan.pipeline),
            source: Some(&plan.source_app),
            targets: plan.targets.iter().map(|t| Some(t.as_str())).collect(),
            release_id: plan.release_id.as_deref(),
        };
        let resolved = check_apps(client, &spelled).await?.ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Invalid promotion",
                "pipeline, source_app, targets or release_id could not be resolved.",
            ))
        })?;
        let release = match plan.release_id.as_deref() {
            Some(text) => Some(Uuid::parse_str(text).map_err(|_| {
                Diagnostics::from(
                    Diagnostic::error("Invalid release_id", "release_id must be a release UUID.")
                        .at(AttributePath::root("release_id")),
                )
            })?),
            None => None,
        };
        let created = client
            .create_promotion(
                resolved.pipeline_id,
                resolved.source_id,
                &resolved.target_ids,
                release,
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
            plan.source_app,
            plan.targets.len()
        );
        let timeout_label = plan
            .timeouts
            .as_ref()
            .and_then(|t| t.create.clone())
            .unwrap_or_else(|| "30m".to_string());
        let waited = wait_for_promotion(ctx, client, created, timeout, &timeout_label).await;
        if let Err(errors) = self
            .refresh(client, &mut plan, &waited.promotion, &waited.targets)
            .await
        {
            // The promotion exists: keep what is known rather than lose it.
            for error in errors.iter() {
                ctx.add(error.clone());
            }
        }
        // Every computed attribute must be known, even when following the promotion failed.
        plan.id = Some(waited.promotion.id.to_string());
        plan.status
            .get_or_insert_with(|| status_text(&waited.promotion.status));
        if plan.source_release_id.is_none() {
            plan.source_release_id = waited.promotion.source.release.map(|r| r.id.to_string());
        }
        plan.promoted_releases.get_or_insert_with(BTreeMap::new);
        if plan.source_release_id.is_none() {
            // Heroku did not say which release it promoted: ask for the current one.
            if let Ok(current) = client.current_release(resolved.source_id).await {
                plan.source_release_id = Some(current.id.to_string());
            } else {
                plan.source_release_id = Some(String::new());
            }
        }
        if let Some(problem) = waited.incomplete {
            ctx.add(problem);
        }
        for target in &waited.targets {
            if target.status != PromotionTargetStatus::Failed {
                continue;
            }
            let index = resolved
                .target_ids
                .iter()
                .position(|id| *id == target.app.id);
            let name = index
                .and_then(|i| plan.targets.get(i).cloned())
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
        let Some(id) = state.id.as_deref() else {
            return Ok(None);
        };
        let Ok(id) = Uuid::parse_str(id) else {
            return Err(Diagnostic::error(
                "Invalid promotion id in state",
                format!("{id:?} is not a UUID."),
            )
            .into());
        };
        let promotion = match client.promotion(id).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let targets = client.promotion_targets(id).await?;
        self.refresh(client, &mut state, &promotion, &targets)
            .await?;
        Ok(Some(state))
    }

    async fn update(
        &self,
        _ctx: &Context<'_, Clients>,
        prior: PipelinePromotionModel,
        mut plan: PipelinePromotionModel,
    ) -> Result<PipelinePromotionModel, Diagnostics> {
        // Every argument forces replacement, so only `timeouts` can change in place.
        plan.id = plan.id.or(prior.id);
        plan.status = plan.status.or(prior.status);
        plan.source_release_id = plan.source_release_id.or(prior.source_release_id);
        plan.promoted_releases = plan.promoted_releases.or(prior.promoted_releases);
        Ok(plan)
    }

    async fn delete(
        &self,
        _ctx: &Context<'_, Clients>,
        state: PipelinePromotionModel,
    ) -> Result<(), Diagnostics> {
        // A promotion cannot be undone: forgetting it is all a destroy does.
        tfplugin::info!(
            "forgetting promotion {}; the releases it created stay on the target apps",
            state.id.as_deref().unwrap_or("(no id)")
        );
        Ok(())
    }

    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<PipelinePromotionModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let promotion_id = Uuid::parse_str(id.trim()).map_err(|_| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import id",
                format!("Expected a pipeline promotion UUID, got {id:?}."),
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
        let mut model = PipelinePromotionModel {
            pipeline: promotion.pipeline.id.to_string(),
            source_app: promotion.source.app.id.to_string(),
            targets: targets.iter().map(|t| t.app.id.to_string()).collect(),
            release_id: None,
            triggers: None,
            id: Some(promotion.id.to_string()),
            status: None,
            source_release_id: None,
            promoted_releases: None,
            timeouts: None,
        };
        self.refresh(client, &mut model, &promotion, &targets)
            .await?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in [
            "",
            "30",
            "m",
            "1d",
            "-5s",
            "1.5h",
            "5 m",
            "99999999999999999999h",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.to_string().contains("\"30m\""), "{bad}: {err}");
        }
    }

    #[test]
    fn invalid_timeout_names_the_attribute() {
        let errors = create_timeout(Some(&Timeouts {
            create: Some("soon".into()),
        }))
        .unwrap_err();
        let d = errors.iter().next().unwrap();
        assert_eq!(d.attribute.as_ref().unwrap().to_string(), "timeouts.create");
        assert!(d.detail.contains("\"soon\""));
        assert_eq!(create_timeout(None).unwrap(), DEFAULT_CREATE_TIMEOUT);
    }

    #[test]
    fn schema_forces_replacement_on_every_argument() {
        let schema = PipelinePromotion.schema().unwrap();
        for name in [
            "pipeline",
            "source_app",
            "targets",
            "release_id",
            "triggers",
        ] {
            let attribute = schema.block.attribute(name).unwrap();
            assert!(!attribute.plan_modifiers.is_empty(), "{name}");
        }
        for name in ["id", "status", "source_release_id", "promoted_releases"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        assert!(schema.block.block_type("timeouts").is_some());
    }

    #[test]
    fn status_text_is_herokus_spelling() {
        assert_eq!(status_text(&PromotionTargetStatus::Succeeded), "succeeded");
        assert_eq!(status_text(&PromotionStatus::Completed), "completed");
    }
}
