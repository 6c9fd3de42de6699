//! `/apps/{app}/formation`: list, info, per-type and batch update. No create/delete:
//! process types come from the released slug.

use serde_json::{json, Map, Value};

use super::catalog::{canonical_size, dyno_size_ref};
use super::{app_index, app_ref, identity_of};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::state::{now, App, SandboxState};

/// Sortable fields of formation lists.
pub const FORMATION_RANGES: &[&str] = &["id", "type"];

/// The formation resource.
pub fn formation_json(app: &App, index: usize) -> Value {
    let f = &app.formations[index];
    json!({
        "app": app_ref(app),
        "command": f.command,
        "created_at": f.created_at,
        "dyno_size": dyno_size_ref(&f.size),
        "id": f.id,
        "quantity": f.quantity,
        "size": f.size,
        "type": f.process_type,
        "updated_at": f.updated_at,
    })
}

/// Finds a formation by id or process type.
pub fn find_formation(app: &App, ident: &str) -> Result<usize, ApiError> {
    app.formations
        .iter()
        .position(|f| f.process_type == ident || f.id.to_string().eq_ignore_ascii_case(ident))
        .ok_or_else(|| ApiError::not_found("formation", "formation"))
}

/// `GET /apps/{app}/formation`.
pub fn list(state: &SandboxState, ident: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let app = &state.apps[i];
    let items = (0..app.formations.len())
        .map(|f| formation_json(app, f))
        .collect();
    Ok(Reply::list(items, FORMATION_RANGES))
}

/// `GET /apps/{app}/formation/{type}`.
pub fn info(state: &SandboxState, ident: &str, formation: &str) -> ApiResult {
    let i = app_index(state, ident)?;
    let f = find_formation(&state.apps[i], formation)?;
    Ok(Reply::ok(formation_json(&state.apps[i], f)))
}

/// A validated change to one formation.
struct Change {
    index: usize,
    quantity: Option<i64>,
    size: Option<&'static str>,
}

fn parse_change(index: usize, body: &Map<String, Value>) -> Result<Change, ApiError> {
    let quantity = match body.get("quantity") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(q) if (0..=100).contains(&q) => Some(q),
            _ => {
                return Err(ApiError::invalid(
                    "quantity must be an integer between 0 and 100.",
                ))
            }
        },
    };
    // v6 clients send dyno_size {id|name}; v5 clients send size "standard-2X".
    let size_ident = match (body.get("dyno_size"), body.get("size")) {
        (Some(v), _) if !v.is_null() => Some(
            identity_of(v)
                .ok_or_else(|| ApiError::invalid("dyno_size must have an id or name."))?,
        ),
        (_, Some(Value::String(s))) => Some(s.as_str()),
        (_, Some(v)) if !v.is_null() => return Err(ApiError::invalid("size must be a string.")),
        _ => None,
    };
    let size = match size_ident {
        Some(s) => Some(canonical_size(s).ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid dyno size: {s}. Please check the available dyno sizes."
            ))
        })?),
        None => None,
    };
    Ok(Change {
        index,
        quantity,
        size,
    })
}

fn apply(app: &mut App, change: &Change) {
    let now = now();
    let f = &mut app.formations[change.index];
    if let Some(q) = change.quantity {
        f.quantity = q;
    }
    if let Some(s) = change.size {
        f.size = s.to_string();
    }
    f.updated_at = now;
    let t = f.process_type.clone();
    app.sync_dynos(&t);
}

/// `PATCH /apps/{app}/formation/{type}`.
pub fn update(state: &mut SandboxState, ident: &str, formation: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let app = &mut state.apps[i];
    let f = find_formation(app, formation)?;
    let change = parse_change(f, &body)?;
    apply(app, &change);
    Ok(Reply::ok(formation_json(app, f)))
}

/// `PATCH /apps/{app}/formation` with `{"updates":[{type, quantity, dyno_size}]}`;
/// all-or-nothing.
pub fn batch_update(state: &mut SandboxState, ident: &str, body: &[u8]) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let Some(Value::Array(updates)) = body.get("updates") else {
        return Err(ApiError::invalid(
            "Missing required param: updates (an array).",
        ));
    };
    let app = &mut state.apps[i];
    let mut changes = Vec::new();
    for update in updates {
        let Value::Object(update) = update else {
            return Err(ApiError::invalid("Each update must be an object."));
        };
        let Some(Value::String(t)) = update.get("type") else {
            return Err(ApiError::invalid("Each update must have a type."));
        };
        let f = find_formation(app, t)
            .map_err(|_| ApiError::not_found("formation", &format!("process type ({t})")))?;
        changes.push(parse_change(f, update)?);
    }
    for change in &changes {
        apply(app, change);
    }
    let items: Vec<Value> = changes
        .iter()
        .map(|c| formation_json(app, c.index))
        .collect();
    Ok(Reply::ok(Value::Array(items)))
}
