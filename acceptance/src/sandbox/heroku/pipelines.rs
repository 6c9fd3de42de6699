//! Pipelines and pipeline couplings (read-only: the seed defines them).

use serde_json::{json, Value};

use super::app_index;
use super::catalog::generation_ref;
use crate::sandbox::http::{ApiError, ApiResult, Reply};
use crate::sandbox::state::{Coupling, Pipeline, SandboxState};

/// Sortable fields of pipeline and coupling lists.
pub const PIPELINE_RANGES: &[&str] = &["id", "name"];
const COUPLING_RANGES: &[&str] = &["id", "stage"];

/// The pipeline resource.
pub fn pipeline_json(state: &SandboxState, p: &Pipeline) -> Value {
    json!({
        "created_at": p.created_at,
        "generation": generation_ref(),
        "id": p.id,
        "name": p.name,
        "owner": { "id": state.account.id, "type": "user" },
        "updated_at": p.updated_at,
    })
}

/// The coupling resource; like the real API (which the CLI relies on) it also carries
/// the app and pipeline names.
pub fn coupling_json(state: &SandboxState, c: &Coupling) -> Value {
    let app_name = state
        .app_index_by_id(c.app_id)
        .map(|i| state.apps[i].name.clone());
    let pipeline_name = state
        .pipelines
        .iter()
        .find(|p| p.id == c.pipeline_id)
        .map(|p| p.name.clone());
    json!({
        "app": { "id": c.app_id, "name": app_name },
        "created_at": c.created_at,
        "id": c.id,
        "pipeline": { "id": c.pipeline_id, "name": pipeline_name },
        "stage": c.stage,
        "updated_at": c.updated_at,
    })
}

/// Finds a pipeline by id or name.
pub fn find_pipeline(state: &SandboxState, ident: &str) -> Result<usize, ApiError> {
    state
        .pipelines
        .iter()
        .position(|p| p.name == ident || p.id.to_string().eq_ignore_ascii_case(ident))
        .ok_or_else(|| ApiError::not_found("pipeline", "pipeline"))
}

/// `GET /pipelines`.
pub fn list(state: &SandboxState) -> Reply {
    let items = state
        .pipelines
        .iter()
        .map(|p| pipeline_json(state, p))
        .collect();
    Reply::list(items, PIPELINE_RANGES)
}

/// `GET /pipelines/{id|name}`.
pub fn info(state: &SandboxState, ident: &str) -> ApiResult {
    let p = find_pipeline(state, ident)?;
    Ok(Reply::ok(pipeline_json(state, &state.pipelines[p])))
}

/// `GET /pipeline-couplings`.
pub fn couplings(state: &SandboxState) -> Reply {
    let items = state
        .couplings
        .iter()
        .map(|c| coupling_json(state, c))
        .collect();
    Reply::list(items, COUPLING_RANGES)
}

/// `GET /pipelines/{pipeline}/pipeline-couplings`.
pub fn couplings_for(state: &SandboxState, ident: &str) -> ApiResult {
    let p = find_pipeline(state, ident)?;
    let id = state.pipelines[p].id;
    let items = state
        .couplings
        .iter()
        .filter(|c| c.pipeline_id == id)
        .map(|c| coupling_json(state, c))
        .collect();
    Ok(Reply::list(items, COUPLING_RANGES))
}

/// `GET /pipeline-couplings/{id}`.
pub fn coupling_info(state: &SandboxState, ident: &str) -> ApiResult {
    state
        .couplings
        .iter()
        .find(|c| c.id.to_string().eq_ignore_ascii_case(ident))
        .map(|c| Reply::ok(coupling_json(state, c)))
        .ok_or_else(|| ApiError::not_found("pipeline_coupling", "pipeline coupling"))
}

/// `GET /apps/{app}/pipeline-couplings` (a single object).
pub fn coupling_for_app(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let id = state.apps[i].id;
    state
        .couplings
        .iter()
        .find(|c| c.app_id == id)
        .map(|c| Reply::ok(coupling_json(state, c)))
        .ok_or_else(|| ApiError::not_found("pipeline_coupling", "pipeline coupling"))
}
