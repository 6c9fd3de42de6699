//! Add-ons: list per app and globally, info by id or name, create and delete.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{app_index, app_ref, identity_of, opt_str};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::state::{now, Addon, App, SandboxState};

/// Sortable fields of add-on lists.
pub const ADDON_RANGES: &[&str] = &["id", "name"];

/// The add-on resource.
pub fn addon_json(app: &App, a: &Addon) -> Value {
    json!({
        "actions": [],
        "addon_service": { "id": a.service_id, "name": a.service_name },
        "app": app_ref(app),
        "billed_price": { "cents": a.cents, "contract": false, "unit": "month" },
        "billing_entity": { "id": app.id, "name": app.name, "type": "app" },
        "config_vars": a.config_vars,
        "created_at": a.created_at,
        "id": a.id,
        "name": a.name,
        "plan": { "id": a.plan_id, "name": a.plan_name },
        "provider_id": format!("resource{}@{}.sandbox.invalid", a.id.simple(), a.service_name),
        "provision_message": "Provisioned by treeherder-sandbox.",
        "state": "provisioned",
        "updated_at": a.updated_at,
        "web_url": format!("https://addons-sso.heroku.com/apps/{}/addons/{}", app.id, a.id),
    })
}

fn matches(a: &Addon, ident: &str) -> bool {
    a.name == ident || a.id.to_string().eq_ignore_ascii_case(ident)
}

/// `GET /apps/{app}/addons`.
pub fn list_for_app(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let items = app.addons.iter().map(|a| addon_json(app, a)).collect();
    Ok(Reply::list(items, ADDON_RANGES))
}

/// `GET /apps/{app}/addons/{addon}` (also accepts the service name, e.g. `scheduler`).
pub fn info_for_app(state: &SandboxState, ident: &str, addon: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    app.addons
        .iter()
        .find(|a| matches(a, addon) || a.service_name == addon)
        .map(|a| Reply::ok(addon_json(app, a)))
        .ok_or_else(|| ApiError::not_found("add-on", "add-on"))
}

/// `GET /addons`.
pub fn list_all(state: &SandboxState) -> Reply {
    let items = state
        .apps
        .iter()
        .flat_map(|app| app.addons.iter().map(move |a| addon_json(app, a)))
        .collect();
    Reply::list(items, ADDON_RANGES)
}

/// `GET /addons/{id|name}`.
pub fn info(state: &SandboxState, ident: &str) -> ApiResult {
    state
        .apps
        .iter()
        .find_map(|app| {
            app.addons
                .iter()
                .find(|a| matches(a, ident))
                .map(|a| Reply::ok(addon_json(app, a)))
        })
        .ok_or_else(|| ApiError::not_found("add-on", "add-on"))
}

/// `POST /apps/{app}/addons` with `{"plan": "service[:plan]", "name"?}`; provisioned at once.
pub fn create(state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let plan = match body.get("plan") {
        Some(v) => identity_of(v).ok_or_else(|| ApiError::invalid("plan must be a plan name."))?,
        None => return Err(ApiError::invalid("Missing required param: plan.")),
    };
    let (service, plan_name) = match plan.split_once(':') {
        Some((s, p)) if !s.is_empty() && !p.is_empty() => (s.to_string(), plan.to_string()),
        None if !plan.is_empty() => (plan.to_string(), format!("{plan}:standard")),
        _ => return Err(ApiError::invalid(format!("Couldn't find the plan {plan}."))),
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == ':')
    };
    if !valid(&plan_name) {
        return Err(ApiError::invalid(format!("Couldn't find the plan {plan}.")));
    }
    let app = &mut state.apps[i];
    let id = Uuid::new_v4();
    let name = match opt_str(&body, "name")? {
        Some(n) => n.to_string(),
        None => format!("{service}-{}", &id.simple().to_string()[..8]),
    };
    if app.addons.iter().any(|a| a.name == name) {
        return Err(ApiError::invalid("Name is already taken"));
    }
    let now = now();
    let addon = Addon {
        id,
        name,
        service_id: Uuid::new_v4(),
        service_name: service,
        plan_id: Uuid::new_v4(),
        plan_name,
        config_vars: Vec::new(),
        cents: 0,
        created_at: now.clone(),
        updated_at: now,
    };
    let out = addon_json(app, &addon);
    app.addons.push(addon);
    Ok(Reply::created(out))
}

/// `DELETE /apps/{app}/addons/{addon}`.
pub fn delete(state: &mut SandboxState, ident: &str, addon: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &mut state.apps[i];
    let a = app
        .addons
        .iter()
        .position(|a| matches(a, addon))
        .ok_or_else(|| ApiError::not_found("add-on", "add-on"))?;
    let mut out = addon_json(app, &app.addons[a]);
    if let Some(map) = out.as_object_mut() {
        map.insert("state".to_string(), json!("deprovisioned"));
    }
    app.addons.remove(a);
    Ok(Reply::ok(out))
}
