//! Pipeline promotions: created `pending`; after the configured delay each target either
//! gets a new release copying the source release's slug (`succeeded`) or `failed` (when a
//! failure was queued through the control API), and the promotion becomes `completed`.

use std::sync::Arc;

use serde_json::{json, Value};
use uuid::Uuid;

use super::{app_index, identity_of};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::server::Shared;
use crate::sandbox::state::{now, Promotion, PromotionTarget, SandboxState};

const TARGET_RANGES: &[&str] = &["id"];

/// The pipeline-promotion resource.
pub fn promotion_json(p: &Promotion) -> Value {
    json!({
        "created_at": p.created_at,
        "id": p.id,
        "pipeline": { "id": p.pipeline_id },
        "source": {
            "app": { "id": p.source_app_id },
            "release": { "id": p.source_release_id },
        },
        "status": p.status,
        "updated_at": p.updated_at,
    })
}

/// The pipeline-promotion-target resource.
pub fn target_json(p: &Promotion, t: &PromotionTarget) -> Value {
    json!({
        "app": { "id": t.app_id },
        "error_message": t.error_message,
        "id": t.id,
        "pipeline_promotion": { "id": p.id },
        "release": t.release_id.map(|id| json!({ "id": id })),
        "status": t.status,
    })
}

fn nested_id<'a>(body: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = body;
    for key in path {
        v = v.get(*key)?;
    }
    identity_of(v)
}

/// `POST /pipeline-promotions`.
pub fn create(shared: &Arc<Shared>, state: &mut SandboxState, body: &[u8]) -> ApiResult {
    let body = Value::Object(json_object(body)?);
    let pipeline = nested_id(&body, &["pipeline"])
        .ok_or_else(|| ApiError::invalid("Missing required param: pipeline.id."))?;
    let source = nested_id(&body, &["source", "app"])
        .ok_or_else(|| ApiError::invalid("Missing required param: source.app.id."))?;
    let Some(Value::Array(targets)) = body.get("targets") else {
        return Err(ApiError::invalid("Missing required param: targets."));
    };
    if targets.is_empty() {
        return Err(ApiError::invalid("targets must list at least one app."));
    }
    let p = super::pipelines::find_pipeline(state, pipeline)?;
    let pipeline_id = state.pipelines[p].id;
    let coupled = |state: &SandboxState, app_id: Uuid| {
        state
            .couplings
            .iter()
            .any(|c| c.app_id == app_id && c.pipeline_id == pipeline_id)
    };
    let s = app_index(state, source)?;
    let source_app = &state.apps[s];
    if !coupled(state, source_app.id) {
        return Err(ApiError::invalid(format!(
            "App {} is not part of this pipeline.",
            source_app.name
        )));
    }
    let source_release = match nested_id(&body, &["source", "release"]) {
        Some(r) => {
            let idx = super::releases::find_release(source_app, r)?;
            &source_app.releases[idx]
        }
        None => source_app
            .current_release()
            .ok_or_else(|| ApiError::invalid("The source app has no release to promote."))?,
    };
    let source_release_id = source_release.id;
    let source_app_id = source_app.id;
    let mut target_rows = Vec::new();
    for t in targets {
        let ident =
            nested_id(t, &["app"]).ok_or_else(|| ApiError::invalid("Each target needs app.id."))?;
        let ti = app_index(state, ident)?;
        let app = &state.apps[ti];
        if app.id == source_app_id {
            return Err(ApiError::invalid("An app cannot be promoted to itself."));
        }
        if !coupled(state, app.id) {
            return Err(ApiError::invalid(format!(
                "App {} is not part of this pipeline.",
                app.name
            )));
        }
        if target_rows
            .iter()
            .any(|r: &PromotionTarget| r.app_id == app.id)
        {
            return Err(ApiError::invalid("Duplicate target app."));
        }
        target_rows.push(PromotionTarget {
            id: Uuid::new_v4(),
            app_id: app.id,
            release_id: None,
            status: "pending".to_string(),
            error_message: None,
        });
    }
    let promotion = Promotion {
        id: Uuid::new_v4(),
        pipeline_id,
        source_app_id,
        source_release_id,
        status: "pending".to_string(),
        created_at: now(),
        updated_at: None,
        targets: target_rows,
    };
    let out = promotion_json(&promotion);
    schedule(shared, promotion.id);
    state.promotions.push(promotion);
    Ok(Reply::created(out))
}

fn find(state: &SandboxState, ident: &str) -> Result<usize, ApiError> {
    state
        .promotions
        .iter()
        .position(|p| p.id.to_string().eq_ignore_ascii_case(ident))
        .ok_or_else(|| ApiError::not_found("pipeline_promotion", "pipeline promotion"))
}

/// `GET /pipeline-promotions/{id}`.
pub fn info(state: &SandboxState, ident: &str) -> ApiResult {
    let p = find(state, ident)?;
    Ok(Reply::ok(promotion_json(&state.promotions[p])))
}

/// `GET /pipeline-promotions/{id}/promotion-targets`.
pub fn targets(state: &SandboxState, ident: &str) -> ApiResult {
    let p = find(state, ident)?;
    let promotion = &state.promotions[p];
    let items = promotion
        .targets
        .iter()
        .map(|t| target_json(promotion, t))
        .collect();
    Ok(Reply::list(items, TARGET_RANGES))
}

/// Settles promotion `id` after the configured delay, unless the sandbox stops first.
fn schedule(shared: &Arc<Shared>, id: Uuid) {
    let shared = Arc::clone(shared);
    let mut shutdown = shared.shutdown.clone();
    let delay = shared.promotion_delay;
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(delay) => settle(&shared, id),
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    });
}

/// Re-arms timers for promotions still pending in loaded state.
pub fn resume_pending(shared: &Arc<Shared>) {
    let pending: Vec<Uuid> = {
        let world = shared.lock();
        world
            .state
            .promotions
            .iter()
            .filter(|p| p.status == "pending")
            .map(|p| p.id)
            .collect()
    };
    for id in pending {
        schedule(shared, id);
    }
}

fn settle(shared: &Shared, id: Uuid) {
    let mut world = shared.lock();
    let world = &mut *world;
    let state = &mut world.state;
    let Some(p) = state.promotions.iter().position(|p| p.id == id) else {
        return;
    };
    let source_release = state
        .app_index_by_id(state.promotions[p].source_app_id)
        .and_then(|s| {
            let app = &state.apps[s];
            app.releases
                .iter()
                .find(|r| r.id == state.promotions[p].source_release_id)
                .map(|r| (r.slug_id, r.version, app.name.clone()))
        });
    let targets = state.promotions[p].targets.clone();
    let mut settled = Vec::new();
    for mut t in targets {
        if t.status != "pending" {
            settled.push(t);
            continue;
        }
        let app_index = state.app_index_by_id(t.app_id);
        let queued = app_index.and_then(|ai| {
            let app = &state.apps[ai];
            world
                .promotion_failures
                .iter()
                .position(|f| f.app == app.name || f.app.eq_ignore_ascii_case(&app.id.to_string()))
        });
        match (queued, app_index, &source_release) {
            (Some(f), _, _) => {
                let failure = world.promotion_failures.remove(f);
                t.status = "failed".to_string();
                t.error_message = Some(failure.message);
            }
            (None, None, _) => {
                t.status = "failed".to_string();
                t.error_message = Some("Couldn't find that app.".to_string());
            }
            (None, _, None) | (None, _, Some((None, _, _))) => {
                t.status = "failed".to_string();
                t.error_message = Some("The source release has no slug to promote.".to_string());
            }
            (None, Some(ai), Some((Some(slug_id), version, source_name))) => {
                let slug = state.find_slug(*slug_id).cloned();
                let app = &mut state.apps[ai];
                let vars = app.config_vars.clone();
                let idx = app.push_release(
                    format!("Promote {source_name} v{version}"),
                    Some(*slug_id),
                    vars,
                );
                if let Some(slug) = slug {
                    app.ensure_formations(&slug);
                    if !app.slugs.iter().any(|s| s.id == slug.id) {
                        app.slugs.push(slug);
                    }
                }
                t.release_id = Some(app.releases[idx].id);
                t.status = "succeeded".to_string();
            }
        }
        settled.push(t);
    }
    let promotion = &mut state.promotions[p];
    promotion.targets = settled;
    promotion.status = "completed".to_string();
    promotion.updated_at = Some(now());
    shared.persist(state);
}
