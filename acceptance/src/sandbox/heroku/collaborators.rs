//! `/apps/{app}/collaborators`.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{app_index, app_ref};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::state::{now, App, Collaborator, SandboxState};

/// Sortable fields of collaborator lists.
pub const COLLABORATOR_RANGES: &[&str] = &["id", "created_at"];

/// The collaborator resource.
pub fn collaborator_json(app: &App, c: &Collaborator) -> Value {
    json!({
        "app": app_ref(app),
        "created_at": c.created_at,
        "id": c.id,
        "permissions": [],
        "role": c.role,
        "updated_at": c.updated_at,
        "user": { "email": c.email, "federated": false, "id": c.user_id },
    })
}

fn find(app: &App, ident: &str) -> Result<usize, ApiError> {
    app.collaborators
        .iter()
        .position(|c| {
            c.email.eq_ignore_ascii_case(ident)
                || c.id.to_string().eq_ignore_ascii_case(ident)
                || c.user_id.to_string().eq_ignore_ascii_case(ident)
        })
        .ok_or_else(|| ApiError::not_found("collaborator", "collaborator"))
}

/// `GET /apps/{app}/collaborators`.
pub fn list(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let items = app
        .collaborators
        .iter()
        .map(|c| collaborator_json(app, c))
        .collect();
    Ok(Reply::list(items, COLLABORATOR_RANGES))
}

/// `GET /apps/{app}/collaborators/{email|id}`.
pub fn info(state: &SandboxState, ident: &str, collaborator: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let c = find(app, collaborator)?;
    Ok(Reply::ok(collaborator_json(app, &app.collaborators[c])))
}

/// `POST /apps/{app}/collaborators` with `{"user": email | "~", "silent": bool}`.
pub fn create(state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let user = match body.get("user") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(map)) => match map.get("email").and_then(Value::as_str) {
            Some(s) => s.to_string(),
            None => return Err(ApiError::invalid("user must be an email address.")),
        },
        _ => return Err(ApiError::invalid("Missing required param: user.")),
    };
    match body.get("silent") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(_) => return Err(ApiError::invalid("silent must be a boolean.")),
    }
    let email = if user == "~" {
        state.account.email.clone()
    } else if user.contains('@') && !user.starts_with('@') && !user.ends_with('@') {
        user
    } else {
        return Err(ApiError::invalid("user must be an email address."));
    };
    let app = &mut state.apps[i];
    if app
        .collaborators
        .iter()
        .any(|c| c.email.eq_ignore_ascii_case(&email))
    {
        return Err(ApiError::invalid(format!(
            "{email} is already a collaborator on this app."
        )));
    }
    let now = now();
    let c = Collaborator {
        id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        email,
        role: "collaborator".to_string(),
        created_at: now.clone(),
        updated_at: now,
    };
    let out = collaborator_json(app, &c);
    app.collaborators.push(c);
    Ok(Reply::created(out))
}

/// `DELETE /apps/{app}/collaborators/{email|id}`.
pub fn delete(state: &mut SandboxState, ident: &str, collaborator: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &mut state.apps[i];
    let c = find(app, collaborator)?;
    if app.collaborators[c].role == "owner" {
        return Err(ApiError::invalid("The app owner cannot be removed."));
    }
    let out = collaborator_json(app, &app.collaborators[c]);
    app.collaborators.remove(c);
    Ok(Reply::ok(out))
}
