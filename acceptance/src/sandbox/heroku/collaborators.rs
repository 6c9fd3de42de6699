//! App collaborators: `/apps/{app}/collaborators` (any app) and the team-app collaborator
//! endpoints `/teams/apps/{app}/collaborators` with permissions (apps owned by a team).
//!
//! Only accounts Heroku knows can be added (the account itself and `state.users`); any
//! other e-mail is a 404 for the user. Like Heroku, a just-deleted collaborator is still
//! shown for a short while: here for `state.collaborator_linger_gets` more GETs, so tests
//! control the window without clocks.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{app_index, app_ref};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::state::{now, App, Collaborator, SandboxState};

/// Sortable fields of collaborator lists.
pub const COLLABORATOR_RANGES: &[&str] = &["id", "created_at"];

/// Team-app permissions, in Heroku's order, with what each allows.
pub const PERMISSIONS: &[(&str, &str)] = &[
    (
        "view",
        "Can see the app: its dynos, add-ons, activity, collaborators and settings.",
    ),
    (
        "deploy",
        "Can deploy and roll back code, change config vars and run one-off dynos.",
    ),
    (
        "operate",
        "Can scale and restart dynos and manage add-ons and domains.",
    ),
    (
        "manage",
        "Can manage the app's collaborators, rename it and delete it.",
    ),
];

fn permission_json(name: &str) -> Value {
    let description = PERMISSIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, d)| d);
    json!({ "name": name, "description": description })
}

/// The collaborator resource (the same shape for both endpoint families).
pub fn collaborator_json(app: &App, c: &Collaborator) -> Value {
    let permissions: Vec<Value> = c.permissions.iter().map(|p| permission_json(p)).collect();
    json!({
        "app": app_ref(app),
        "created_at": c.created_at,
        "id": c.id,
        "permissions": permissions,
        "role": c.role,
        "updated_at": c.updated_at,
        "user": { "email": c.email, "federated": false, "id": c.user_id },
    })
}

fn matches(c: &Collaborator, ident: &str) -> bool {
    c.email.eq_ignore_ascii_case(ident)
        || c.id.to_string().eq_ignore_ascii_case(ident)
        || c.user_id.to_string().eq_ignore_ascii_case(ident)
}

fn is_live(c: &Collaborator) -> bool {
    c.lingering_gets.is_none()
}

fn is_visible(c: &Collaborator) -> bool {
    c.lingering_gets.is_none_or(|n| n > 0)
}

/// A collaborator that has not been deleted.
fn find_live(app: &App, ident: &str) -> Result<usize, ApiError> {
    app.collaborators
        .iter()
        .position(|c| is_live(c) && matches(c, ident))
        .ok_or_else(|| ApiError::not_found("collaborator", "collaborator"))
}

/// Counts one GET that showed the collaborator at `index`; a deleted one whose GETs are
/// used up disappears.
fn count_get(app: &mut App, index: usize) {
    if let Some(n) = app.collaborators[index].lingering_gets.as_mut() {
        *n = n.saturating_sub(1);
    }
}

fn drop_expired(app: &mut App) {
    app.collaborators.retain(is_visible);
}

fn list_of(state: &mut SandboxState, i: usize) -> ApiResult {
    let app = &mut state.apps[i];
    let items = app
        .collaborators
        .iter()
        .filter(|c| is_visible(c))
        .map(|c| collaborator_json(app, c))
        .collect();
    for index in 0..app.collaborators.len() {
        if is_visible(&app.collaborators[index]) {
            count_get(app, index);
        }
    }
    drop_expired(app);
    Ok(Reply::list(items, COLLABORATOR_RANGES))
}

fn info_of(state: &mut SandboxState, i: usize, collaborator: &str) -> ApiResult {
    let app = &mut state.apps[i];
    let index = app
        .collaborators
        .iter()
        .position(|c| is_visible(c) && matches(c, collaborator))
        .ok_or_else(|| ApiError::not_found("collaborator", "collaborator"))?;
    let out = collaborator_json(app, &app.collaborators[index]);
    count_get(app, index);
    drop_expired(app);
    Ok(Reply::ok(out))
}

/// The `user` of a create body: an e-mail, an account UUID, `~`, or `{email|id}`.
fn user_of(body: &serde_json::Map<String, Value>) -> Result<String, ApiError> {
    match body.get("user") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Object(map)) => map
            .get("email")
            .or_else(|| map.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::invalid("user must be an email address or an id.")),
        None | Some(Value::Null) => Err(ApiError::invalid("Missing required param: user.")),
        Some(_) => Err(ApiError::invalid("user must be an email address or an id.")),
    }
}

fn silent_ok(body: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    match body.get("silent") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => Ok(()),
        Some(_) => Err(ApiError::invalid("silent must be a boolean.")),
    }
}

/// The account named by `user`: (user id, e-mail, role on `app`). Unknown accounts are a
/// 404, as on Heroku.
fn resolve_user(
    state: &SandboxState,
    app: &App,
    user: &str,
) -> Result<(Uuid, String, String), ApiError> {
    let account = &state.account;
    if user == "~"
        || account.email.eq_ignore_ascii_case(user)
        || account.id.to_string().eq_ignore_ascii_case(user)
    {
        let role = if app.team.is_some() { "admin" } else { "owner" };
        return Ok((account.id, account.email.clone(), role.to_string()));
    }
    let found = state.users.iter().find(|u| {
        u.email.eq_ignore_ascii_case(user) || u.id.to_string().eq_ignore_ascii_case(user)
    });
    let Some(found) = found else {
        return Err(ApiError::not_found("user", "user"));
    };
    let role = app
        .team
        .as_ref()
        .and_then(|t| found.team_roles.get(&t.name))
        .cloned()
        .unwrap_or_else(|| "collaborator".to_string());
    Ok((found.id, found.email.clone(), role))
}

/// Reads `permissions`: known names only, `view` among them (every collaborator of a team app
/// can view it). Returned sorted, without repeats.
fn permissions_of(body: &serde_json::Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let list = match body.get("permissions") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(ApiError::invalid(
                "permissions must be an array of permission names.",
            ))
        }
    };
    let mut names = Vec::new();
    for item in list {
        let name = item
            .as_str()
            .filter(|n| PERMISSIONS.iter().any(|(p, _)| p == n))
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "Invalid permission {item}; permissions are view, deploy, operate and manage."
                ))
            })?;
        names.push(name.to_string());
    }
    names.sort();
    names.dedup();
    if !names.iter().any(|n| n == "view") {
        return Err(ApiError::invalid("The view permission is required."));
    }
    Ok(Some(names))
}

fn add(state: &mut SandboxState, i: usize, body: &[u8], team_endpoint: bool) -> ApiResult {
    let body = json_object(body)?;
    let user = user_of(&body)?;
    silent_ok(&body)?;
    let permissions = if team_endpoint {
        permissions_of(&body)?
    } else {
        None
    };
    let (user_id, email, role) = resolve_user(state, &state.apps[i], &user)?;
    let app = &mut state.apps[i];
    if app
        .collaborators
        .iter()
        .any(|c| is_live(c) && c.email.eq_ignore_ascii_case(&email))
    {
        return Err(ApiError::invalid(format!(
            "{email} is already a collaborator on this app."
        )));
    }
    // Adding someone back ends the lingering of their deleted entry.
    app.collaborators
        .retain(|c| !c.email.eq_ignore_ascii_case(&email));
    let permissions = match (&app.team, permissions) {
        (Some(_), Some(p)) => p,
        // Heroku gives team-app collaborators added without permissions the view permission.
        (Some(_), None) => vec!["view".to_string()],
        (None, _) => Vec::new(),
    };
    let now = now();
    let c = Collaborator {
        id: Uuid::new_v4(),
        user_id,
        email,
        role,
        created_at: now.clone(),
        updated_at: now,
        permissions,
        lingering_gets: None,
    };
    let out = collaborator_json(app, &c);
    app.collaborators.push(c);
    Ok(Reply::created(out))
}

fn remove(state: &mut SandboxState, i: usize, collaborator: &str) -> ApiResult {
    let linger = state.collaborator_linger_gets;
    let app = &mut state.apps[i];
    let c = find_live(app, collaborator)?;
    if app.collaborators[c].role == "owner" {
        return Err(ApiError::invalid("The app owner cannot be removed."));
    }
    let out = collaborator_json(app, &app.collaborators[c]);
    if linger == 0 {
        app.collaborators.remove(c);
    } else {
        app.collaborators[c].lingering_gets = Some(linger);
    }
    Ok(Reply::ok(out))
}

/// `GET /apps/{app}/collaborators`.
pub fn list(state: &mut SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    list_of(state, i)
}

/// `GET /apps/{app}/collaborators/{email|id}`.
pub fn info(state: &mut SandboxState, ident: &str, collaborator: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    info_of(state, i, collaborator)
}

/// `POST /apps/{app}/collaborators` with `{"user": email | id | "~", "silent": bool}`.
pub fn create(state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    add(state, i, body, false)
}

/// `DELETE /apps/{app}/collaborators/{email|id}`.
pub fn delete(state: &mut SandboxState, ident: &str, collaborator: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    remove(state, i, collaborator)
}

/// The app of a team-app endpoint: by name (the schema's team-app identity), owned by a team.
fn team_app_index(state: &SandboxState, name: &str) -> Result<usize, ApiError> {
    let i = state
        .apps
        .iter()
        .position(|a| a.name == name)
        .ok_or_else(|| ApiError::not_found("app", "app"))?;
    if state.apps[i].team.is_none() {
        return Err(ApiError::invalid(format!(
            "App {name} is not owned by a team; its collaborators are at /apps/{name}/collaborators."
        )));
    }
    Ok(i)
}

/// `GET /teams/apps/{app}/collaborators`.
pub fn team_list(state: &mut SandboxState, name: &str) -> ApiResult {
    let i = team_app_index(state, name)?;
    list_of(state, i)
}

/// `GET /teams/apps/{app}/collaborators/{email}`.
pub fn team_info(state: &mut SandboxState, name: &str, email: &str) -> ApiResult {
    let i = team_app_index(state, name)?;
    info_of(state, i, email)
}

/// `POST /teams/apps/{app}/collaborators` with `{"user", "permissions", "silent"}`.
pub fn team_create(state: &mut SandboxState, name: &str, body: &[u8]) -> ApiResult {
    let i = team_app_index(state, name)?;
    add(state, i, body, true)
}

/// `PATCH /teams/apps/{app}/collaborators/{email}` with `{"permissions": [...]}` (required).
pub fn team_update(state: &mut SandboxState, name: &str, email: &str, body: &[u8]) -> ApiResult {
    let i = team_app_index(state, name)?;
    let body = json_object(body)?;
    let permissions = permissions_of(&body)?
        .ok_or_else(|| ApiError::invalid("Missing required param: permissions."))?;
    let app = &mut state.apps[i];
    let c = find_live(app, email)?;
    app.collaborators[c].permissions = permissions;
    app.collaborators[c].updated_at = now();
    Ok(Reply::ok(collaborator_json(app, &app.collaborators[c])))
}

/// `DELETE /teams/apps/{app}/collaborators/{email}`.
pub fn team_delete(state: &mut SandboxState, name: &str, email: &str) -> ApiResult {
    let i = team_app_index(state, name)?;
    remove(state, i, email)
}

/// `GET /teams/permissions`.
pub fn permissions() -> Reply {
    let items = PERMISSIONS
        .iter()
        .map(|(name, _)| permission_json(name))
        .collect();
    Reply::list(items, &["name"])
}

/// `POST /__control/collaborator-linger` `{"gets": N}`: how many GETs show a collaborator
/// deleted from now on.
pub fn set_linger(
    state: &mut SandboxState,
    request: crate::sandbox::control::CollaboratorLinger,
) -> Result<Value, String> {
    if request.gets > 1000 {
        return Err("gets must be a number from 0 to 1000".to_string());
    }
    state.collaborator_linger_gets = request.gets;
    Ok(json!({ "gets": request.gets }))
}
