//! `/apps` and `/account`.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{json, Value};
use uuid::Uuid;

use super::catalog::{find_region, find_stack, generation_ref, region_ref, stack_ref};
use super::{app_index, opt_str};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::state::{now, App, SandboxState};

/// Sortable fields of the app list (schema `ranges`).
pub const APP_RANGES: &[&str] = &["id", "name", "updated_at"];

/// The app resource.
pub fn app_json(state: &SandboxState, app: &App) -> Value {
    let slug_size = app
        .current_release()
        .and_then(|r| r.slug_id)
        .and_then(|id| state.find_slug(id))
        .map(|s| s.size);
    json!({
        "acm": false,
        "archived_at": null,
        "buildpack_provided_description": "heroku/python",
        "build_stack": stack_ref(&app.build_stack),
        "created_at": app.created_at,
        "generation": generation_ref(),
        "git_url": format!("https://git.heroku.com/{}.git", app.name),
        "id": app.id,
        "internal_routing": null,
        "maintenance": app.maintenance,
        "name": app.name,
        "owner": owner_json(state, app),
        "organization": app.team.as_ref().map(|t| json!({ "id": t.id, "name": t.name })),
        "team": app.team.as_ref().map(|t| json!({ "id": t.id, "name": t.name })),
        "region": region_ref(&app.region),
        "released_at": app.released_at,
        "repo_size": null,
        "slug_size": slug_size,
        "space": null,
        "stack": stack_ref(&app.stack),
        "updated_at": app.updated_at,
        "web_url": format!("https://{}.herokuapp.com/", app.name),
    })
}

/// The app's owner: the account for a personal app; for a team app Heroku names the team
/// through a pseudo-account `<team>@herokumanager.com` (the CLI recognises team apps by it).
fn owner_json(state: &SandboxState, app: &App) -> Value {
    match &app.team {
        Some(team) => json!({ "email": format!("{}@herokumanager.com", team.name), "id": team.id }),
        None => json!({ "email": state.account.email, "id": state.account.id }),
    }
}

/// `GET /account`.
pub fn account(state: &SandboxState) -> Reply {
    let a = &state.account;
    Reply::ok(json!({
        "allow_tracking": false,
        "beta": false,
        "country_of_residence": null,
        "created_at": a.created_at,
        "default_organization": null,
        "default_team": null,
        "delinquent_at": null,
        "email": a.email,
        "federated": false,
        "id": a.id,
        "identity_provider": null,
        "last_login": a.created_at,
        "name": a.name,
        "sms_number": null,
        "suspended_at": null,
        "two_factor_authentication": false,
        "updated_at": a.created_at,
        "verified": true,
    }))
}

/// `GET /apps`.
pub fn list(state: &SandboxState) -> Reply {
    let items = state.apps.iter().map(|a| app_json(state, a)).collect();
    Reply::list(items, APP_RANGES)
}

/// `GET /apps/{app}`.
pub fn info(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    Ok(Reply::ok(app_json(state, &state.apps[i])))
}

fn valid_name(name: &str) -> bool {
    Regex::new(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$").is_ok_and(|re| re.is_match(name))
}

fn check_name(state: &SandboxState, name: &str, except: Option<Uuid>) -> Result<(), ApiError> {
    if !valid_name(name) {
        return Err(ApiError::invalid(
            "Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes.",
        ));
    }
    if state
        .apps
        .iter()
        .any(|a| a.name == name && Some(a.id) != except)
    {
        return Err(ApiError::invalid("Name is already taken"));
    }
    Ok(())
}

/// `POST /apps`.
pub fn create(state: &mut SandboxState, body: &[u8]) -> ApiResult {
    let body = json_object(body)?;
    let id = Uuid::new_v4();
    let name = match opt_str(&body, "name")? {
        Some(n) => n.to_string(),
        None => format!("sandbox-{}", &id.simple().to_string()[..12]),
    };
    check_name(state, &name, None)?;
    let region = match opt_str(&body, "region")? {
        Some(r) => find_region(r).ok_or_else(|| ApiError::invalid("Couldn't find that region."))?,
        None => "us",
    };
    let stack = match opt_str(&body, "stack")? {
        Some(s) => find_stack(s).ok_or_else(|| ApiError::invalid("Couldn't find that stack."))?,
        None => "heroku-24",
    };
    let now = now();
    let app = App {
        id,
        name,
        region: region.to_string(),
        stack: stack.to_string(),
        build_stack: stack.to_string(),
        maintenance: false,
        created_at: now.clone(),
        updated_at: now,
        released_at: None,
        config_vars: BTreeMap::new(),
        formations: Vec::new(),
        dynos: Vec::new(),
        releases: Vec::new(),
        slugs: Vec::new(),
        collaborators: Vec::new(),
        addons: Vec::new(),
        jobs: Vec::new(),
        team: None,
        builds: Vec::new(),
    };
    state.apps.push(app);
    let idx = state.apps.len() - 1;
    // Heroku creates v1 "Initial release" right away.
    state.apps[idx].push_release("Initial release".to_string(), None, BTreeMap::new());
    Ok(Reply::created(app_json(state, &state.apps[idx])))
}

/// `PATCH /apps/{app}`.
pub fn update(state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let name = opt_str(&body, "name")?.map(str::to_string);
    if let Some(n) = &name {
        check_name(state, n, Some(state.apps[i].id))?;
    }
    let maintenance = match body.get("maintenance") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(ApiError::invalid("maintenance must be a boolean.")),
    };
    let build_stack = match body.get("build_stack") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let ident = super::identity_of(v)
                .ok_or_else(|| ApiError::invalid("build_stack must be a stack id or name."))?;
            Some(find_stack(ident).ok_or_else(|| ApiError::invalid("Couldn't find that stack."))?)
        }
    };
    let app = &mut state.apps[i];
    if let Some(n) = name {
        app.name = n;
    }
    if let Some(m) = maintenance {
        app.maintenance = m;
    }
    if let Some(s) = build_stack {
        app.build_stack = s.to_string();
    }
    app.updated_at = now();
    Ok(Reply::ok(app_json(state, &state.apps[i])))
}

/// `DELETE /apps/{app}`: also removes its pipeline coupling.
pub fn delete(state: &mut SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = app_json(state, &state.apps[i]);
    let app = state.apps.remove(i);
    state.couplings.retain(|c| c.app_id != app.id);
    Ok(Reply::ok(body))
}
