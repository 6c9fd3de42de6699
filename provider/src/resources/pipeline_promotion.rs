//! `treeherder_pipeline_promotion`: promotes a release from one app of a Heroku pipeline
//! to others (stage → prod) and waits until every target is released.
//!
//! A promotion is an event: every argument forces a new one, deleting only forgets it. Apps
//! and the pipeline compare by identity (a name and the UUID of the same app are the same),
//! so an imported promotion (which has names) plans no new promotion.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use schemars::{json_schema, JsonSchema, SchemaGenerator};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use tfplugin::framework::{Context, Resource};
use tfplugin::types::{quote, CreateTimeout, Uuid};
use tfplugin::{attr, AttributePath, Diagnostic, Diagnostics, Field};
use tokio::time::Instant;

use crate::clients::heroku::{
    AppIdentity, HerokuClient, HerokuError, PipelineCoupling, Promotion, PromotionStatus,
    PromotionTarget, PromotionTargetStatus,
};
use crate::clients::Clients;

/// Create timeout when the `timeouts` block does not set one, and how it is shown.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const DEFAULT_CREATE_TIMEOUT_TEXT: &str = "30m";
/// First pause between two polls of a pending promotion.
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Longest pause between two polls.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// A promotion of a release through a Heroku pipeline (e.g. `treeherder-stage` →
/// `treeherder-prod`). Applying it promotes and waits until no target is pending.
/// Changing any argument makes a new promotion; destroying it only removes it from the
/// state (nothing is rolled back).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
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
    pub triggers: Field<BTreeMap<String, String>>,
    /// The promotion's UUID.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub id: Field<Uuid>,
    /// Heroku's status of the promotion: `completed` once every target is done (`pending` only
    /// if the apply was interrupted or timed out).
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub status: Field<String>,
    /// UUID of the source release that was promoted.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub source_release_id: Field<String>,
    /// Per target app, keyed by the app's name (however `targets` names it, and after an
    /// import too): the release created on it, its version
    /// and the target's status (`succeeded`, `failed` or `pending`).
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub promoted_releases: Field<BTreeMap<String, PromotedRelease>>,
    /// How long operations may take (`create` defaults to `"30m"`).
    #[tf(block = single)]
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

/// The create limit of a `timeouts` block, and the limit as written (for messages).
fn create_timeout(timeouts: Option<&CreateTimeout>) -> (Duration, String) {
    CreateTimeout::limit(
        timeouts,
        DEFAULT_CREATE_TIMEOUT,
        DEFAULT_CREATE_TIMEOUT_TEXT,
    )
}

/// `timeouts.create`.
fn create_timeout_path() -> AttributePath {
    let mut path = attr!(PipelinePromotionModel, timeouts);
    path.0.extend(attr!(CreateTimeout, create).0);
    path
}

/// The text Heroku uses for a status enum (`"pending"`, `"succeeded"`, ...).
fn status_text<T: Serialize>(status: &T) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_string(),
    }
}

/// App and pipeline identities as written in the configuration; `None` = unknown at plan
/// (or, for `release_id`, not set).
struct Spelled<'a> {
    pipeline: Option<&'a str>,
    source: Option<&'a str>,
    targets: Option<&'a [AppIdentity]>,
    release_id: Option<&'a Uuid>,
}

impl<'a> Spelled<'a> {
    fn of(model: &'a PipelinePromotionModel) -> Self {
        Spelled {
            pipeline: model.pipeline.as_str(),
            source: model.source_app.get().map(AppIdentity::as_str),
            targets: model.targets.get().map(Targets::as_slice),
            release_id: model.release_id.get(),
        }
    }
}

/// The UUIDs the configuration names, once every one is known and valid.
struct Resolved {
    pipeline_id: uuid::Uuid,
    source_id: uuid::Uuid,
    target_ids: Vec<uuid::Uuid>,
}

fn target_path(index: usize) -> AttributePath {
    attr!(PipelinePromotionModel, targets).index(index as i64)
}

/// An app that is looked up: `Ok(None)` when Heroku does not know it.
async fn lookup_app(
    client: &HerokuClient,
    name_or_id: &str,
) -> Result<Option<uuid::Uuid>, Diagnostics> {
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
    let mut complete = spelled.targets.is_some();

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
                        format!(
                            "Heroku has no pipeline {} (or this API key cannot see it).",
                            quote(name)
                        ),
                    )
                    .at(attr!(PipelinePromotionModel, pipeline)),
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

    // (what the message calls the attribute, where it is, its value)
    let source_path = attr!(PipelinePromotionModel, source_app);
    let mut apps: Vec<(String, AttributePath, Option<&str>)> =
        vec![(source_path.to_string(), source_path, spelled.source)];
    let targets_label = attr!(PipelinePromotionModel, targets).to_string();
    let targets = spelled.targets.unwrap_or_default();
    for (i, t) in targets.iter().enumerate() {
        apps.push((targets_label.clone(), target_path(i), Some(t.as_str())));
    }
    let mut ids: Vec<Option<uuid::Uuid>> = Vec::new();
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
                        "{attribute}: Heroku has no app {} (or this API key cannot see it).",
                        quote(spelling)
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
                    "{attribute}: app {} belongs to pipeline {other_name:?}, not to pipeline {:?}; all apps of a promotion must be in the same pipeline. Apps in {:?}: {members}.",
                    quote(spelling), pipeline.name, pipeline.name
                )
            }
            None => format!(
                "{attribute}: app {} is not in pipeline {:?}. Apps in it: {members}.",
                quote(spelling),
                pipeline.name
            ),
        };
        problems.push(Diagnostic::error("App not in the pipeline", detail).at(path.clone()));
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
                        "{}: {} is the source app; an app cannot be promoted to itself.",
                        target_path(i),
                        quote(targets[i].as_str())
                    ),
                )
                .at(target_path(i)),
            );
        } else if !seen.insert(*id) {
            problems.push(
                Diagnostic::error(
                    "Duplicate target",
                    format!(
                        "{}: {} is listed more than once.",
                        target_path(i),
                        quote(targets[i].as_str())
                    ),
                )
                .at(target_path(i)),
            );
        }
    }

    match (spelled.release_id, source_id) {
        (Some(release), Some(source_id)) => match client.release(source_id, release.as_str()).await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {
                let path = attr!(PipelinePromotionModel, release_id);
                problems.push(
                    Diagnostic::error(
                        "Unknown release",
                        format!(
                            "{path}: {release} is not a release of the source app {}.",
                            quote(spelled.source.unwrap_or_default())
                        ),
                    )
                    .at(path),
                )
            }
            Err(e) => return Err(e.into()),
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
                        "Promotion {id} was still pending after {timeout_label} ({}). It was saved in the state as tainted; Heroku may still finish it.",
                        create_timeout_path()
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
    id: uuid::Uuid,
) -> Result<bool, Diagnostics> {
    if let Ok(uuid) = uuid::Uuid::parse_str(spelling) {
        return Ok(uuid == id);
    }
    match client.pipeline(&id.to_string()).await {
        Ok(p) => Ok(p.name == spelling),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// `planned` when known, else the prior value.
fn known_or<T>(planned: Field<T>, prior: Field<T>) -> Field<T> {
    if planned.is_known() {
        planned
    } else {
        prior
    }
}

/// The app's name as Heroku has it (a cached read), or its UUID when the app is gone.
async fn app_name(client: &HerokuClient, id: uuid::Uuid) -> Result<AppIdentity, Diagnostics> {
    match client.app(&id.to_string()).await {
        Ok(app) => Ok(AppIdentity::parse(&app.name).unwrap_or_else(|_| AppIdentity::from(id))),
        Err(e) if e.is_not_found() => Ok(AppIdentity::from(id)),
        Err(e) => Err(e.into()),
    }
}

/// The pipeline's name as Heroku has it, or its UUID when it is gone.
async fn pipeline_name(client: &HerokuClient, id: uuid::Uuid) -> Result<String, Diagnostics> {
    match client.pipeline(&id.to_string()).await {
        Ok(pipeline) => Ok(pipeline.name),
        Err(e) if e.is_not_found() => Ok(id.to_string()),
        Err(e) => Err(e.into()),
    }
}

/// The pipeline a spelling names, `None` when Heroku does not know it.
async fn pipeline_id(
    client: &HerokuClient,
    spelling: &str,
) -> Result<Option<uuid::Uuid>, Diagnostics> {
    if let Ok(id) = uuid::Uuid::parse_str(spelling) {
        return Ok(Some(id));
    }
    match client.pipeline(spelling).await {
        Ok(p) => Ok(Some(p.id)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// True when the prior and configured pipelines are the same pipeline. Without a client
/// (provider not configured yet) only the same spelling is.
async fn same_pipeline(
    client: Option<&HerokuClient>,
    prior: Option<&str>,
    config: Option<&str>,
) -> Result<bool, Diagnostics> {
    match (prior, config, client) {
        (Some(a), Some(b), _) if a == b => Ok(true),
        (Some(a), Some(b), Some(client)) => {
            let (a, b) = (pipeline_id(client, a).await?, pipeline_id(client, b).await?);
            Ok(a.is_some() && a == b)
        }
        _ => Ok(false),
    }
}

/// Like [`same_pipeline`], for lists of apps (in any order).
async fn same_apps(
    client: Option<&HerokuClient>,
    prior: Option<&[AppIdentity]>,
    config: Option<&[AppIdentity]>,
) -> Result<bool, Diagnostics> {
    let (Some(prior), Some(config)) = (prior, config) else {
        return Ok(false);
    };
    if prior == config {
        return Ok(true);
    }
    let Some(client) = client else {
        return Ok(false);
    };
    if prior.len() != config.len() {
        return Ok(false);
    }
    let mut ids = [BTreeSet::new(), BTreeSet::new()];
    for (set, apps) in ids.iter_mut().zip([prior, config]) {
        for app in apps {
            match lookup_app(client, app.as_str()).await? {
                Some(id) => set.insert(id),
                None => return Ok(false),
            };
        }
    }
    Ok(ids[0] == ids[1] && ids[0].len() == prior.len())
}

impl PipelinePromotionResource {
    /// Replaces the promotion only when an argument names another object or value: another
    /// spelling of the same pipeline or app, a `release_id` equal to the release that was
    /// promoted, or triggers set where there were none (an import) change nothing remotely.
    async fn plan_replacement(
        &self,
        client: Option<&HerokuClient>,
        prior: &PipelinePromotionModel,
        plan: &mut tfplugin::framework::ResourcePlan<PipelinePromotionModel>,
    ) -> Result<(), Diagnostics> {
        let config = &plan.config;
        let pipeline =
            same_pipeline(client, prior.pipeline.as_str(), config.pipeline.as_str()).await?;
        let source = same_apps(
            client,
            prior.source_app.get().map(std::slice::from_ref),
            config.source_app.get().map(std::slice::from_ref),
        )
        .await?;
        let targets = same_apps(
            client,
            prior.targets.get().map(Targets::as_slice),
            config.targets.get().map(Targets::as_slice),
        )
        .await?;
        let release = match (&prior.release_id, &config.release_id) {
            (_, Field::Unknown) => false,
            (Field::Known(a), Field::Known(b)) => a.get() == b.get(),
            (Field::Known(_), _) => false,
            (_, Field::Known(b)) => prior
                .source_release_id
                .as_str()
                .is_some_and(|promoted| promoted.eq_ignore_ascii_case(b.as_str())),
            _ => true,
        };
        let triggers = match (&prior.triggers, &config.triggers) {
            (_, Field::Unknown) => false,
            (Field::Null, _) => true,
            (a, b) => a.get() == b.get(),
        };
        for (same, path) in [
            (pipeline, attr!(PipelinePromotionModel, pipeline)),
            (source, attr!(PipelinePromotionModel, source_app)),
            (targets, attr!(PipelinePromotionModel, targets)),
            (release, attr!(PipelinePromotionModel, release_id)),
            (triggers, attr!(PipelinePromotionModel, triggers)),
        ] {
            if !same {
                plan.require_replace(path);
            }
        }
        Ok(())
    }

    /// Fills the model from Heroku's view of the promotion, keeping the user's spelling of
    /// every identity that still names the same object and using Heroku's names where it
    /// does not. `promoted_releases` is keyed by app name.
    async fn refresh(
        &self,
        client: &HerokuClient,
        model: &mut PipelinePromotionModel,
        promotion: &Promotion,
        targets: &[PromotionTarget],
    ) -> Result<(), Diagnostics> {
        model.id.set(promotion.id);
        let same_pipeline = match model.pipeline.as_str() {
            Some(spelling) => names_pipeline(client, spelling, promotion.pipeline.id).await?,
            None => false,
        };
        if !same_pipeline {
            model
                .pipeline
                .set(pipeline_name(client, promotion.pipeline.id).await?);
        }
        let source = match model.source_app.get() {
            Some(spelling) => lookup_app(client, spelling.as_str()).await?,
            None => None,
        };
        if source != Some(promotion.source.app.id) {
            model
                .source_app
                .set(app_name(client, promotion.source.app.id).await?);
        }
        let written: Vec<AppIdentity> = model
            .targets
            .get()
            .map(|t| t.as_slice().to_vec())
            .unwrap_or_default();
        let mut spelled_ids = Vec::with_capacity(written.len());
        for spelling in &written {
            spelled_ids.push(lookup_app(client, spelling.as_str()).await?);
        }
        let remote_ids: Vec<uuid::Uuid> = targets.iter().map(|t| t.app.id).collect();
        let same_targets = spelled_ids.len() == remote_ids.len()
            && spelled_ids
                .iter()
                .all(|id| id.is_some_and(|id| remote_ids.contains(&id)));
        if !same_targets {
            let mut names = Vec::with_capacity(remote_ids.len());
            for id in &remote_ids {
                names.push(app_name(client, *id).await?);
            }
            if let Some(remote) = Targets::new(names) {
                model.targets.set(remote);
            }
        }

        let source_release = promotion.source.release.map(|r| r.id);
        if let (Some(written), Some(remote)) = (model.release_id.get(), source_release) {
            if written.get() != remote {
                model.release_id.set(remote);
            }
        }
        model.source_release_id = source_release.map(|id| id.to_string()).into();
        model.status.set(status_text(&promotion.status));

        let prior = std::mem::take(&mut model.promoted_releases)
            .into_option()
            .unwrap_or_default();
        let mut promoted = BTreeMap::new();
        for target in targets {
            let key = app_name(client, target.app.id).await?.to_string();
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
        model.promoted_releases.set(promoted);
        Ok(())
    }
}

#[async_trait]
impl Resource for PipelinePromotionResource {
    type Model = PipelinePromotionModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_pipeline_promotion"
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut tfplugin::framework::ResourcePlan<PipelinePromotionModel>,
    ) -> Result<(), Diagnostics> {
        let client = ctx.try_client().and_then(|c| c.heroku().ok());
        // Existing promotions are not re-checked: a change replaces them, and the
        // replacement is planned as a create, which is checked.
        if let Some(prior) = plan.prior.clone() {
            return self.plan_replacement(client, &prior, plan).await;
        }
        let Some(clients) = ctx.try_client() else {
            return Ok(());
        };
        check_apps(clients.heroku()?, &Spelled::of(&plan.config)).await?;
        Ok(())
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, Clients>,
        prior: &PipelinePromotionModel,
    ) -> Result<(), Diagnostics> {
        let id = prior
            .id
            .get()
            .map_or_else(|| "(no id)".to_string(), ToString::to_string);
        let targets = prior.targets.get().map_or_else(String::new, |t| {
            let apps: Vec<&str> = t.as_slice().iter().map(AppIdentity::as_str).collect();
            format!(" ({})", apps.join(", "))
        });
        ctx.add(Diagnostic::warning(
            "Destroying only forgets the promotion",
            format!(
                "A promotion cannot be undone: destroying promotion {id} only removes it from the state. The releases it made stay on the target apps{targets}."
            ),
        ));
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: PipelinePromotionModel,
    ) -> Result<PipelinePromotionModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let (timeout, timeout_label) = create_timeout(plan.timeouts.as_ref());
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
        if let Some(problem) = waited.incomplete {
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
        plan.id = known_or(plan.id, prior.id);
        plan.status = known_or(plan.status, prior.status);
        plan.source_release_id = known_or(plan.source_release_id, prior.source_release_id);
        plan.promoted_releases = known_or(plan.promoted_releases, prior.promoted_releases);
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
            state
                .id
                .get()
                .map_or_else(|| "(no id)".to_string(), ToString::to_string)
        );
        Ok(())
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
        self.refresh(client, &mut model, &promotion, &targets)
            .await?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(extra: serde_json::Value) -> serde_json::Value {
        let mut config = json!({
            "pipeline": "treeherder",
            "source_app": "treeherder-stage",
            "targets": ["treeherder-prod"],
            "release_id": null,
            "triggers": null,
            "id": null,
            "status": null,
            "source_release_id": null,
            "promoted_releases": null,
            "timeouts": null,
        });
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        config
    }

    fn model(extra: serde_json::Value) -> Result<PipelinePromotionModel, serde_json::Error> {
        serde_json::from_value(config(extra))
    }

    #[test]
    fn create_timeout_is_parsed_once_and_defaults_to_30m() {
        let m = model(json!({ "timeouts": { "create": "1h30m" } })).unwrap();
        let (limit, label) = create_timeout(m.timeouts.as_ref());
        assert_eq!(limit, Duration::from_secs(5400));
        assert_eq!(label, "1h30m");
        let m = model(json!({ "timeouts": { "create": null } })).unwrap();
        assert_eq!(
            create_timeout(m.timeouts.as_ref()),
            (DEFAULT_CREATE_TIMEOUT, "30m".to_string())
        );
        assert_eq!(create_timeout(None).0, DEFAULT_CREATE_TIMEOUT);
        // A bad limit is rejected by the model (at timeouts.create, by the framework).
        let err = model(json!({ "timeouts": { "create": "soon" } })).unwrap_err();
        assert!(
            err.to_string().contains("invalid duration \"soon\""),
            "{err}"
        );
        assert_eq!(create_timeout_path().to_string(), "timeouts.create");
    }

    #[test]
    fn targets_and_release_id_are_checked_by_the_model() {
        let err = model(json!({ "targets": [] })).unwrap_err();
        assert!(err.to_string().contains("at least one app"), "{err}");
        let err = model(json!({ "release_id": "v42" })).unwrap_err();
        assert!(err.to_string().contains("expected a UUID"), "{err}");
        let id = "01234567-89AB-cdef-0123-456789abcdef";
        let m = model(json!({ "release_id": id })).unwrap();
        assert_eq!(m.release_id.get().map(Uuid::as_str), Some(id));
        assert_eq!(serde_json::to_value(&m).unwrap()["release_id"], json!(id));
        assert_eq!(target_path(1).to_string(), "targets[1]");
    }

    #[test]
    fn schema_leaves_replacement_to_modify_plan() {
        let schema = PipelinePromotionResource.schema().unwrap();
        // Replacement is decided by identity in modify_plan, not by spelling.
        for name in [
            "pipeline",
            "source_app",
            "targets",
            "release_id",
            "triggers",
        ] {
            let attribute = schema.block.attribute(name).unwrap();
            assert!(!attribute.computed, "{name}");
        }
        for name in ["id", "status", "source_release_id", "promoted_releases"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        let timeouts = schema.block.block_type("timeouts").unwrap();
        assert!(timeouts.block.attribute("create").unwrap().optional);
        let err = model(json!({ "targets": [".."] })).unwrap_err();
        assert!(err.to_string().contains("lowercase letters"), "{err}");
        let err = model(json!({ "source_app": "" })).unwrap_err();
        assert!(err.to_string().contains("app UUID"), "{err}");
    }

    #[tokio::test]
    async fn without_a_client_only_the_same_spelling_is_the_same() {
        assert!(same_pipeline(None, Some("treeherder"), Some("treeherder"))
            .await
            .unwrap());
        assert!(!same_pipeline(None, Some("treeherder"), Some("other"))
            .await
            .unwrap());
        let app = |s: &str| AppIdentity::parse(s).unwrap();
        let (a, b) = ([app("treeherder-prod")], [app("treeherder-stage")]);
        assert!(same_apps(None, Some(&a), Some(&a)).await.unwrap());
        assert!(!same_apps(None, Some(&a), Some(&b)).await.unwrap());
        assert!(!same_apps(None, Some(&a), None).await.unwrap());
    }

    #[test]
    fn status_text_is_herokus_spelling() {
        assert_eq!(status_text(&PromotionTargetStatus::Succeeded), "succeeded");
        assert_eq!(status_text(&PromotionStatus::Completed), "completed");
    }
}
