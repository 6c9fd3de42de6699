//! `/apps/{app}/config-vars`: PATCH merges, `null` deletes, each change makes a release.
//! When the app's code has a `release` process type, that release is `pending` while its
//! release phase runs (see `releases::run_release_phase`); a failed release phase leaves
//! the vars set and the previous release current.

use serde_json::{Map, Value};

use super::releases::{find_release, has_release_phase, run_release_phase};
use super::{app_index, Ctx};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::state::SandboxState;

fn vars_json(vars: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(
        vars.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
    )
}

/// `GET /apps/{app}/config-vars`.
pub fn get(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    Ok(Reply::ok(vars_json(&state.apps[i].config_vars)))
}

/// `GET /apps/{app}/releases/{release}/config-vars`.
pub fn for_release(state: &SandboxState, ident: &str, release: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let r = find_release(&state.apps[i], release)?;
    Ok(Reply::ok(vars_json(&state.apps[i].releases[r].config_vars)))
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// `PATCH /apps/{app}/config-vars`.
pub fn update(ctx: &Ctx<'_>, state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    // Validate everything before changing anything.
    let mut changes: Vec<(String, Option<String>)> = Vec::new();
    for (key, value) in &body {
        if !valid_key(key) {
            return Err(ApiError::invalid(format!(
                "Invalid config var name: {key}. Names may only contain letters, digits and underscores."
            )));
        }
        match value {
            Value::Null => changes.push((key.clone(), None)),
            Value::String(s) => changes.push((key.clone(), Some(s.clone()))),
            Value::Number(n) => changes.push((key.clone(), Some(n.to_string()))),
            Value::Bool(b) => changes.push((key.clone(), Some(b.to_string()))),
            _ => {
                return Err(ApiError::invalid(format!(
                    "Config var {key} must be a string or null."
                )))
            }
        }
    }
    let release_phase = has_release_phase(state, &state.apps[i]);
    let app = &mut state.apps[i];
    let mut set = Vec::new();
    let mut removed = Vec::new();
    for (key, value) in changes {
        match value {
            Some(v) => {
                if app.config_vars.get(&key) != Some(&v) {
                    app.config_vars.insert(key.clone(), v);
                    set.push(key);
                }
            }
            None => {
                if app.config_vars.remove(&key).is_some() {
                    removed.push(key);
                }
            }
        }
    }
    if !set.is_empty() || !removed.is_empty() {
        let description = match (set.is_empty(), removed.is_empty()) {
            (false, true) => format!("Set {} config vars", set.join(", ")),
            (true, false) => format!("Remove {} config vars", removed.join(", ")),
            _ => format!(
                "Set {}; Remove {} config vars",
                set.join(", "),
                removed.join(", ")
            ),
        };
        let slug = app.current_release().and_then(|r| r.slug_id);
        let vars = app.config_vars.clone();
        let r = app.push_release(description, slug, vars);
        if release_phase {
            run_release_phase(ctx.shared, state, i, r);
        }
    }
    Ok(Reply::ok(vars_json(&state.apps[i].config_vars)))
}
