//! The checks of a new promotion: the pipeline and every app exist, the apps are coupled
//! to the pipeline, no target is the source or repeated, the release is the source's.

use std::collections::BTreeSet;

use tfplugin::types::{quote, Uuid};
use tfplugin::{attr, AttributePath, Diagnostic, Diagnostics};

use super::{PipelinePromotionModel, Targets};
use crate::clients::heroku::{AppIdentity, HerokuClient, PipelineCoupling};

/// App and pipeline identities as written in the configuration; `None` = unknown at plan
/// (or, for `release_id`, not set).
pub(super) struct Spelled<'a> {
    pipeline: Option<&'a str>,
    source: Option<&'a str>,
    targets: Option<&'a [AppIdentity]>,
    release_id: Option<&'a Uuid>,
}

impl<'a> Spelled<'a> {
    pub(super) fn of(model: &'a PipelinePromotionModel) -> Self {
        Spelled {
            pipeline: model.pipeline.as_str(),
            source: model.source_app.get().map(AppIdentity::as_str),
            targets: model.targets.get().map(Targets::as_slice),
            release_id: model.release_id.get(),
        }
    }
}

/// The UUIDs the configuration names, once every one is known and valid.
pub(super) struct Resolved {
    pub(super) pipeline_id: uuid::Uuid,
    pub(super) source_id: uuid::Uuid,
    pub(super) target_ids: Vec<uuid::Uuid>,
}

pub(super) fn target_path(index: usize) -> AttributePath {
    attr!(PipelinePromotionModel, targets).index(index as i64)
}

/// An app that is looked up: `Ok(None)` when Heroku does not know it.
pub(super) async fn lookup_app(
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
pub(super) async fn check_apps(
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
