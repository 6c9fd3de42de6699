//! Following a promotion and reading it back: the wait (through the pipelines client) and
//! the state built from Heroku's view of the promotion.

use std::collections::BTreeMap;

use tfplugin::framework::{Context, Polled, Poller, TimeLimit};
use tfplugin::Diagnostic;
use tfplugin::Diagnostics;

use super::check::lookup_app;
use super::{status_text, PipelinePromotionModel, PromotedRelease, Targets, FIRST_POLL_INTERVAL};
use crate::clients::heroku::{
    AppIdentity, HerokuClient, Promotion, PromotionProgress, PromotionTarget,
};
use crate::clients::Clients;

/// Waits for a promotion through the pipelines client; returns what was last read, with
/// why the wait stopped before the promotion finished.
pub(super) async fn wait_for_promotion(
    ctx: &Context<'_, Clients>,
    client: &HerokuClient,
    created: Promotion,
    limit: &TimeLimit,
) -> (PromotionProgress, Option<Diagnostic>) {
    let id = created.id;
    let poller = Poller::new(format!("promotion {id}"), limit.limit).backoff(
        FIRST_POLL_INTERVAL,
        2,
        Poller::DEFAULT_CAP,
    );
    let started = PromotionProgress {
        promotion: created,
        targets: Vec::new(),
    };
    match client.wait_for_promotion(id, &poller, ctx.stopped()).await {
        Polled::Done(progress) => (progress, None),
        Polled::TimedOut { last, .. } => (
            last.unwrap_or(started),
            Some(Diagnostic::error(
                "Timed out waiting for the promotion",
                format!(
                    "Promotion {id} was still pending after {} ({}). It was saved in the state as tainted; Heroku may still finish it.",
                    limit.text,
                    TimeLimit::path()
                ),
            )),
        ),
        Polled::Stopped { last } => (
            last.unwrap_or(started),
            Some(Diagnostic::error(
                "Interrupted while waiting for the promotion",
                format!("Promotion {id} was created and is still pending; it was saved in the state as tainted."),
            )),
        ),
        Polled::Failed { error, last } => (
            last.unwrap_or(started),
            Some(Diagnostic::error(
                "Cannot follow the promotion",
                format!(
                    "Promotion {id} was created, but reading its progress failed: {}. It stays in the state; run `terraform apply` again to refresh it, or taint it to promote again.",
                    tfplugin::log::mask(&error.to_string())
                ),
            )),
        ),
    }
}

/// True when `spelling` names the pipeline `id` (by UUID or by its name).
pub(super) async fn names_pipeline(
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

/// The app's name as Heroku has it (a cached read), or its UUID when the app is gone.
pub(super) async fn app_name(
    client: &HerokuClient,
    id: uuid::Uuid,
) -> Result<AppIdentity, Diagnostics> {
    match client.app(&id.to_string()).await {
        Ok(app) => Ok(AppIdentity::parse(&app.name).unwrap_or_else(|_| AppIdentity::from(id))),
        Err(e) if e.is_not_found() => Ok(AppIdentity::from(id)),
        Err(e) => Err(e.into()),
    }
}

/// The pipeline's name as Heroku has it, or its UUID when it is gone.
pub(super) async fn pipeline_name(
    client: &HerokuClient,
    id: uuid::Uuid,
) -> Result<String, Diagnostics> {
    match client.pipeline(&id.to_string()).await {
        Ok(pipeline) => Ok(pipeline.name),
        Err(e) if e.is_not_found() => Ok(id.to_string()),
        Err(e) => Err(e.into()),
    }
}

/// Fills the model from Heroku's view of the promotion, keeping the user's spelling of
/// every identity that still names the same object and using Heroku's names where it
/// does not. `promoted_releases` is keyed by app name.
pub(super) async fn refresh(
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
