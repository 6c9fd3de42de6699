//! Planning a change: a promotion is replaced only when an argument names another object
//! or value, not another spelling of the same one.

use std::collections::BTreeSet;

use tfplugin::framework::ResourcePlan;
use tfplugin::{attr, Diagnostics, Field};

use super::check::lookup_app;
use super::{PipelinePromotionModel, Targets};
use crate::clients::heroku::{AppIdentity, HerokuClient};

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
pub(super) async fn same_pipeline(
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
pub(super) async fn same_apps(
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

/// Replaces the promotion only when an argument names another object or value: another
/// spelling of the same pipeline or app, a `release_id` equal to the release that was
/// promoted, or triggers set where there were none (an import) change nothing remotely.
pub(super) async fn replacement(
    client: Option<&HerokuClient>,
    prior: &PipelinePromotionModel,
    plan: &mut ResourcePlan<PipelinePromotionModel>,
) -> Result<(), Diagnostics> {
    let config = &plan.config;
    let pipeline = same_pipeline(client, prior.pipeline.as_str(), config.pipeline.as_str()).await?;
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
