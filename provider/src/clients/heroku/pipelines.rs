//! Pipelines, couplings, releases and promotions (Platform API).

use std::future::Future;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Check, Polled, Poller};
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::transport::Api;
use super::{decode, parse_body, HerokuClient, HerokuError, RequestContext};

/// Reference to an object by id (`{"id": "<uuid>"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    /// Object UUID.
    pub id: Uuid,
}

/// Reference to an app; Heroku includes the name in some responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRef {
    /// App UUID.
    pub id: Uuid,
    /// App name, when the response carries it.
    #[serde(default)]
    pub name: Option<String>,
}

/// Reference to a pipeline; real responses often include the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineRef {
    /// Pipeline UUID.
    pub id: Uuid,
    /// Pipeline name, when the response carries it.
    #[serde(default)]
    pub name: Option<String>,
}

/// Owner of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineOwner {
    /// Team or user UUID.
    pub id: Uuid,
    /// "team" or "user".
    #[serde(rename = "type")]
    pub owner_type: String,
}

/// A pipeline (`GET /pipelines/{id_or_name}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Pipeline UUID.
    pub id: Uuid,
    /// Pipeline name.
    pub name: String,
    /// Owner, if any.
    #[serde(default)]
    pub owner: Option<PipelineOwner>,
    /// Platform generation of the pipeline.
    #[serde(default)]
    pub generation: Option<super::NamedRef>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Membership of an app in a pipeline stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineCoupling {
    /// Coupling UUID.
    pub id: Uuid,
    /// Coupled app.
    pub app: AppRef,
    /// Pipeline.
    pub pipeline: PipelineRef,
    /// Stage: test, review, development, staging or production.
    pub stage: String,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Status of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseStatus {
    /// Release phase still running.
    Pending,
    /// Release is live (or was).
    Succeeded,
    /// Release phase failed.
    Failed,
    /// Release expired.
    Expired,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

/// A release of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Release UUID.
    pub id: Uuid,
    /// Version number ("v42" is 42).
    pub version: u64,
    /// Release status.
    pub status: ReleaseStatus,
    /// Whether this release is the app's current one.
    #[serde(default)]
    pub current: bool,
    /// Slug run by the release (none for releases without code).
    #[serde(default)]
    pub slug: Option<IdRef>,
    /// App of the release.
    #[serde(default)]
    pub app: Option<AppRef>,
    /// Description ("Deploy 1a2b3c", "Promote treeherder-stage v12").
    #[serde(default)]
    pub description: Option<String>,
    /// Release-phase output stream.
    #[serde(default)]
    pub output_stream_url: Option<String>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Account that made the release.
    #[serde(default)]
    pub user: Option<super::own_objects::UserRef>,
}

/// Status of a promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromotionStatus {
    /// Targets are still being released.
    Pending,
    /// All targets are done (each may have succeeded or failed).
    Completed,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

/// Source of a promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionSource {
    /// App promoted from.
    pub app: IdRef,
    /// Release promoted.
    #[serde(default)]
    pub release: Option<IdRef>,
}

/// A pipeline promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    /// Promotion UUID.
    pub id: Uuid,
    /// Pipeline.
    pub pipeline: IdRef,
    /// Source app and release.
    pub source: PromotionSource,
    /// Overall status.
    pub status: PromotionStatus,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Status of one promotion target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromotionTargetStatus {
    /// Not released yet.
    Pending,
    /// Released on the target app.
    Succeeded,
    /// Failed; see the error message.
    Failed,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

/// One target app of a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionTarget {
    /// Target UUID.
    pub id: Uuid,
    /// Target app.
    pub app: IdRef,
    /// Target status.
    pub status: PromotionTargetStatus,
    /// Release created on the target app, once there is one.
    #[serde(default)]
    pub release: Option<IdRef>,
    /// Why the target failed.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Promotion the target belongs to.
    #[serde(default)]
    pub pipeline_promotion: Option<IdRef>,
}

#[derive(Serialize)]
struct PromotionSourceBody {
    app: IdRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<IdRef>,
}

#[derive(Serialize)]
struct PromotionTargetBody {
    app: IdRef,
}

/// Body of `POST /pipeline-promotions` (schema: pipeline, source, targets required;
/// source.release optional, defaulting to the source's current release).
#[derive(Serialize)]
struct PromotionCreateBody {
    pipeline: IdRef,
    source: PromotionSourceBody,
    targets: Vec<PromotionTargetBody>,
}

/// Releases per page when looking for the current release.
const CURRENT_RELEASE_WINDOW: u32 = 25;

impl HerokuClient {
    /// Reads a pipeline by UUID or name (a pipeline without apps cannot be found by
    /// name on Heroku). Cached when read by UUID.
    pub async fn pipeline(&self, name_or_id: &str) -> Result<Pipeline, HerokuError> {
        let (scope, reuse) = match Uuid::parse_str(name_or_id) {
            Ok(id) => (Scope::Pipeline(id), Reuse::Cache),
            Err(_) => (Scope::Unscoped, Reuse::InFlightOnly),
        };
        let url = self.platform_url(&["pipelines", name_or_id])?;
        let context = RequestContext::new(format!("reading pipeline {name_or_id}"));
        self.get_object(Api::Platform, url, scope, reuse, context)
            .await
    }

    /// All couplings (app + stage) of a pipeline, cached per pipeline.
    pub async fn pipeline_couplings(
        &self,
        pipeline_id: Uuid,
    ) -> Result<Vec<PipelineCoupling>, HerokuError> {
        let url =
            self.platform_url(&["pipelines", &pipeline_id.to_string(), "pipeline-couplings"])?;
        let context = RequestContext::new(format!("listing couplings of pipeline {pipeline_id}"));
        let couplings: Vec<PipelineCoupling> = self
            .get_list(
                url,
                None,
                true,
                Scope::Pipeline(pipeline_id),
                Reuse::Cache,
                context,
            )
            .await?;
        for coupling in &couplings {
            if let Some(name) = &coupling.app.name {
                self.remember_app(coupling.app.id, name);
            }
        }
        Ok(couplings)
    }

    /// The pipeline coupling of an app, or `None` when the app is in no pipeline
    /// (`GET /apps/{app}/pipeline-couplings`). Cached per app.
    pub async fn app_pipeline_coupling(
        &self,
        app_id: Uuid,
    ) -> Result<Option<PipelineCoupling>, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "pipeline-couplings"])?;
        let context = RequestContext::on_app("reading pipeline coupling", self.app_label(app_id));
        match self
            .get_object::<PipelineCoupling>(
                Api::Platform,
                url,
                Scope::App(app_id),
                Reuse::Cache,
                context,
            )
            .await
        {
            Ok(coupling) => Ok(Some(coupling)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The `max` newest releases of an app, newest first (one request with
    /// `Range: version ..; max=<max>,order=desc`). Cached per app until a write to it.
    pub async fn releases(&self, app_id: Uuid, max: u32) -> Result<Vec<Release>, HerokuError> {
        let max = max.clamp(1, 1000);
        let url = self.platform_url(&["apps", &app_id.to_string(), "releases"])?;
        let context = RequestContext::on_app("listing releases", self.app_label(app_id));
        self.get_list(
            url,
            Some(format!("version ..; max={max},order=desc")),
            false,
            Scope::App(app_id),
            Reuse::Cache,
            context,
        )
        .await
    }

    /// The app's current release (the newest one flagged `current`). An app without a
    /// current release gives an error for which `is_not_found()` is true.
    pub async fn current_release(&self, app_id: Uuid) -> Result<Release, HerokuError> {
        let recent = self.releases(app_id, CURRENT_RELEASE_WINDOW).await?;
        let window_was_empty = recent.is_empty();
        if let Some(release) = recent.into_iter().find(|r| r.current) {
            return Ok(release);
        }
        let context = RequestContext::on_app("reading current release", self.app_label(app_id));
        if !window_was_empty {
            // Many newer failed/pending releases, or a server with smaller pages than
            // asked for: walk the whole history.
            let url = self.platform_url(&["apps", &app_id.to_string(), "releases"])?;
            let all: Vec<Release> = self
                .get_list(
                    url,
                    Some("version ..; max=1000,order=desc".to_string()),
                    true,
                    Scope::App(app_id),
                    Reuse::Cache,
                    context.clone(),
                )
                .await?;
            if let Some(release) = all.into_iter().find(|r| r.current) {
                return Ok(release);
            }
        }
        Err(HerokuError::Api {
            context,
            status: 404,
            id: "not_found".to_string(),
            message: "the app has no current release".to_string(),
        })
    }

    /// One release of an app, by UUID or version number. Not cached (its status is
    /// polled), only coalesced.
    pub async fn release(&self, app_id: Uuid, release: &str) -> Result<Release, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "releases", release])?;
        let context =
            RequestContext::on_app(format!("reading release {release}"), self.app_label(app_id));
        self.get_object(
            Api::Platform,
            url,
            Scope::App(app_id),
            Reuse::InFlightOnly,
            context,
        )
        .await
    }

    /// Promotes `release_id` (default: the source's current release) from the source app
    /// to the target apps.
    ///
    /// A POST with an unknown outcome is not retried: Heroku offers no way to list a
    /// pipeline's promotions, so a duplicate could not be detected. The error says the
    /// outcome is unknown ([`HerokuError::outcome_unknown`]).
    pub async fn create_promotion(
        &self,
        pipeline_id: Uuid,
        source_app_id: Uuid,
        targets: &[Uuid],
        release_id: Option<Uuid>,
    ) -> Result<Promotion, HerokuError> {
        let context = RequestContext::on_app(
            format!("promoting through pipeline {pipeline_id}"),
            self.app_label(source_app_id),
        );
        let body = PromotionCreateBody {
            pipeline: IdRef { id: pipeline_id },
            source: PromotionSourceBody {
                app: IdRef { id: source_app_id },
                release: release_id.map(|id| IdRef { id }),
            },
            targets: targets
                .iter()
                .map(|&id| PromotionTargetBody { app: IdRef { id } })
                .collect(),
        };
        let url = self.platform_url(&["pipeline-promotions"])?;
        let result = self
            .send_write(
                Api::Platform,
                Method::POST,
                url,
                Some(&body),
                false,
                &context,
            )
            .await;
        for target in targets {
            self.invalidate_app_data(*target);
        }
        let response = result?;
        let value = parse_body(&response.body, &context, response.status)?;
        decode(&value, &context, response.status)
    }

    /// Reads a promotion. Not cached (its status is polled).
    pub async fn promotion(&self, promotion_id: Uuid) -> Result<Promotion, HerokuError> {
        let url = self.platform_url(&["pipeline-promotions", &promotion_id.to_string()])?;
        let context = RequestContext::new(format!("reading promotion {promotion_id}"));
        self.get_object(
            Api::Platform,
            url,
            Scope::Unscoped,
            Reuse::InFlightOnly,
            context,
        )
        .await
    }

    /// Targets of a promotion with their status. Not cached (polled while waiting).
    pub async fn promotion_targets(
        &self,
        promotion_id: Uuid,
    ) -> Result<Vec<PromotionTarget>, HerokuError> {
        let url = self.platform_url(&[
            "pipeline-promotions",
            &promotion_id.to_string(),
            "promotion-targets",
        ])?;
        let context = RequestContext::new(format!("reading targets of promotion {promotion_id}"));
        self.get_list(
            url,
            None,
            true,
            Scope::Unscoped,
            Reuse::InFlightOnly,
            context,
        )
        .await
    }

    /// Polls promotion `id` with `poller` until no target is pending and Heroku marks the
    /// promotion no longer pending, or the poller gives up; `stop` resolves on a stop request
    /// (Ctrl-C). Every outcome carries the progress last read.
    pub async fn wait_for_promotion(
        &self,
        id: Uuid,
        poller: &Poller,
        stop: impl Future<Output = ()>,
    ) -> Polled<PromotionProgress, HerokuError> {
        poller
            .run(stop, || async {
                let progress = PromotionProgress {
                    promotion: self.promotion(id).await?,
                    targets: self.promotion_targets(id).await?,
                };
                let pending = progress
                    .targets
                    .iter()
                    .filter(|t| t.status == PromotionTargetStatus::Pending)
                    .count();
                let status = serde_json::to_value(progress.promotion.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "unknown".to_string());
                let text = format!(
                    "{pending} of {} target(s) pending, promotion {status}",
                    progress.targets.len()
                );
                Ok(Check::new(progress.is_done(), text, progress))
            })
            .await
    }
}

/// A promotion and its targets as one read saw them.
#[derive(Debug, Clone)]
pub struct PromotionProgress {
    /// The promotion.
    pub promotion: Promotion,
    /// Its targets.
    pub targets: Vec<PromotionTarget>,
}

impl PromotionProgress {
    /// No target is pending and Heroku marks the promotion no longer pending.
    pub fn is_done(&self) -> bool {
        self.promotion.status != PromotionStatus::Pending
            && !self
                .targets
                .iter()
                .any(|t| t.status == PromotionTargetStatus::Pending)
    }
}
