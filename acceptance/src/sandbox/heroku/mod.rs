//! Heroku Platform API v3 routes. Handlers are synchronous and run under the world lock.

pub mod addons;
pub mod apps;
pub mod builds;
pub mod catalog;
pub mod collaborators;
pub mod config_vars;
pub mod dynos;
pub mod formation;
pub mod one_off;
pub mod pipelines;
pub mod promotions;
pub mod releases;

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::http::{ApiError, ApiRequest, ApiResult, Reply};
use super::server::Shared;
use super::state::{App, SandboxState};

/// What a handler may use besides the state.
pub struct Ctx<'a> {
    pub shared: &'a Arc<Shared>,
    pub req: &'a ApiRequest,
}

/// Routes one request.
pub fn dispatch(ctx: &Ctx<'_>, state: &mut SandboxState) -> ApiResult {
    let segs = ctx.req.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let body = ctx.req.body.as_slice();
    match (ctx.req.method.as_str(), segs.as_slice()) {
        ("GET", ["account"]) => Ok(apps::account(state)),
        ("GET", ["account", "rate-limits"]) => Ok(Reply::ok(json!({}))), // filled by the server
        ("GET", ["dyno-sizes"]) => Ok(dynos::list_sizes()),
        ("GET", ["dyno-sizes", size]) => dynos::size_info(size),
        ("GET", ["apps"]) => Ok(apps::list(state)),
        ("POST", ["apps"]) => apps::create(state, body),
        ("GET", ["apps", app]) => apps::info(state, app),
        ("PATCH", ["apps", app]) => apps::update(state, app, body),
        ("DELETE", ["apps", app]) => apps::delete(state, app),
        ("GET", ["apps", app, "config-vars"]) => config_vars::get(state, app),
        ("PATCH", ["apps", app, "config-vars"]) => config_vars::update(ctx, state, app, body),
        ("GET", ["apps", app, "releases", rel, "config-vars"]) => {
            config_vars::for_release(state, app, rel)
        }
        ("GET", ["apps", app, "formation"]) => formation::list(state, app),
        ("PATCH", ["apps", app, "formation"]) => formation::batch_update(state, app, body),
        ("GET", ["apps", app, "formation", f]) => formation::info(state, app, f),
        ("PATCH", ["apps", app, "formation", f]) => formation::update(state, app, f, body),
        ("GET", ["apps", app, "dynos"]) => {
            one_off::advance_app(state, app);
            let reply = dynos::list(state, app);
            dynos::count_read(state, app);
            reply
        }
        ("POST", ["apps", app, "dynos"]) => dynos::create(state, app, body),
        ("DELETE", ["apps", app, "dynos"]) => dynos::restart_all(state, app),
        ("GET", ["apps", app, "dynos", d]) => {
            one_off::advance_app(state, app);
            let reply = dynos::info(state, app, d);
            dynos::count_read(state, app);
            reply
        }
        ("DELETE", ["apps", app, "dynos", d]) => dynos::restart_one(state, app, d),
        ("POST", ["apps", app, "dynos", d, "actions", "stop"]) => dynos::stop_one(state, app, d),
        ("DELETE", ["apps", app, "formations", t]) => dynos::restart_type(state, app, t),
        ("POST", ["apps", app, "formations", t, "actions", "stop"]) => {
            dynos::restart_type(state, app, t)
        }
        ("GET", ["apps", app, "builds"]) => builds::list(state, app),
        ("POST", ["apps", app, "builds"]) => builds::create(ctx, state, app, body),
        ("GET", ["apps", app, "builds", b]) => builds::info(state, app, b),
        ("GET", ["apps", app, "releases"]) => releases::list(state, app),
        ("POST", ["apps", app, "releases"]) => {
            releases::create_or_rollback_with_phase(ctx, state, app, body)
        }
        ("GET", ["apps", app, "releases", rel]) => releases::info(state, app, rel),
        ("POST", ["apps", app, "slugs"]) => releases::create_slug(state, app, body),
        ("GET", ["apps", app, "slugs", slug]) => releases::slug_info(state, app, slug),
        ("GET", ["apps", app, "collaborators"]) => collaborators::list(state, app),
        ("POST", ["apps", app, "collaborators"]) => collaborators::create(state, app, body),
        ("GET", ["apps", app, "collaborators", c]) => collaborators::info(state, app, c),
        ("DELETE", ["apps", app, "collaborators", c]) => collaborators::delete(state, app, c),
        ("GET", ["apps", app, "addons"]) => addons::list_for_app(state, app),
        ("POST", ["apps", app, "addons"]) => addons::create(state, app, body),
        ("GET", ["apps", app, "addons", a]) => addons::info_for_app(state, app, a),
        ("DELETE", ["apps", app, "addons", a]) => addons::delete(state, app, a),
        ("GET", ["apps", _app, "available-dyno-sizes"]) => Ok(dynos::list_sizes()),
        ("GET", ["addons"]) => Ok(addons::list_all(state)),
        ("GET", ["addons", a]) => addons::info(state, a),
        ("GET", ["apps", app, "pipeline-couplings"]) => pipelines::coupling_for_app(state, app),
        ("GET", ["pipelines"]) => Ok(pipelines::list(state)),
        ("GET", ["pipelines", p]) => pipelines::info(state, p),
        ("GET", ["pipelines", p, "pipeline-couplings"]) => pipelines::couplings_for(state, p),
        ("GET", ["pipeline-couplings"]) => Ok(pipelines::couplings(state)),
        ("GET", ["users", "~", "pipeline-couplings"]) => Ok(pipelines::couplings(state)),
        ("GET", ["pipeline-couplings", c]) => pipelines::coupling_info(state, c),
        ("POST", ["pipeline-promotions"]) => promotions::create(ctx.shared, state, body),
        ("GET", ["pipeline-promotions", p]) => promotions::info(state, p),
        ("GET", ["pipeline-promotions", p, "promotion-targets"]) => {
            promotions::targets(state, p)
        }
        ("GET", ["teams", "permissions"]) => Ok(collaborators::permissions()),
        ("GET", ["teams", "apps", app, "collaborators"]) => collaborators::team_list(state, app),
        ("POST", ["teams", "apps", app, "collaborators"]) => {
            collaborators::team_create(state, app, body)
        }
        ("GET", ["teams", "apps", app, "collaborators", c]) => {
            collaborators::team_info(state, app, c)
        }
        ("PATCH", ["teams", "apps", app, "collaborators", c]) => {
            collaborators::team_update(state, app, c, body)
        }
        ("DELETE", ["teams", "apps", app, "collaborators", c]) => {
            collaborators::team_delete(state, app, c)
        }
        ("POST", ["apps", app, "log-sessions"]) => {
            one_off::create_log_session(ctx, state, app, body)
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your API version?",
        )),
    }
}

/// Index of the app named by `ident` (id or name), or Heroku's 404.
pub fn app_index(state: &SandboxState, ident: &str) -> Result<usize, ApiError> {
    state
        .app_index(ident)
        .ok_or_else(|| ApiError::not_found("app", "app"))
}

/// `{id, name}` reference to an app.
pub fn app_ref(app: &App) -> Value {
    json!({ "id": app.id, "name": app.name })
}

/// Reads an optional string field; a non-string non-null value is a 422.
pub fn opt_str<'a>(
    body: &'a serde_json::Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ApiError::invalid(format!("{field} must be a string."))),
    }
}

/// Reads an `{id|name}` identity that may also be given as a bare string.
pub fn identity_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s.as_str()),
        Value::Object(map) => map
            .get("id")
            .and_then(Value::as_str)
            .or_else(|| map.get("name").and_then(Value::as_str)),
        _ => None,
    }
}
