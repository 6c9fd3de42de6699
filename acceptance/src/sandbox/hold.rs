//! Holding an answer, so a test can kill the client between the server's action and its
//! answer (`kill -9` of Terraform after a POST, before it saved the state).
//!
//! A hold (`POST /__control/holds {"method":"POST","path_prefix":"/apps/x/dynos"}`) catches
//! the next Heroku or Scheduler request with that method whose path starts with the prefix:
//! the request is performed and logged as usual, then its answer is not sent until the hold
//! is released (`DELETE /__control/holds`, or `POST /__control/reset`) or the client's
//! connection closes (the hold is then dropped). `GET
//! /__control/holds` says whether each hold caught its request, which tests poll on. A held
//! answer is given up after [`MAX_HOLD`], so a forgotten hold cannot wedge the sandbox.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::server::{Shared, World};

/// Longest time an answer is held when nobody releases it.
pub const MAX_HOLD: Duration = Duration::from_secs(180);

/// A hold and, once it caught one, the request it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub id: u64,
    pub method: String,
    pub path_prefix: String,
    /// The caught request: its sequence number in the request log, path and answer status.
    pub caught: Option<CaughtRequest>,
}

/// The request a hold caught.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtRequest {
    pub seq: u64,
    pub path: String,
    pub status: u16,
}

/// `POST /__control/holds`: hold the answer to the next `method` request under `path_prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    pub method: String,
    pub path_prefix: String,
}

/// `POST /__control/holds`.
pub fn add(shared: &Shared, body: &[u8]) -> (StatusCode, Value) {
    let request: HoldRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "id": "invalid_params", "message": format!("invalid control request: {e}") }),
            )
        }
    };
    if request.method.trim().is_empty() || !request.path_prefix.starts_with('/') {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "id": "invalid_params", "message": "method must not be blank and path_prefix must start with /" }),
        );
    }
    let mut world = shared.lock();
    let hold = Hold {
        id: world.next_hold_id,
        method: request.method.to_ascii_uppercase(),
        path_prefix: request.path_prefix,
        caught: None,
    };
    world.next_hold_id += 1;
    world.holds.push(hold.clone());
    (StatusCode::CREATED, json!(hold))
}

/// `GET /__control/holds`.
pub fn list(shared: &Shared) -> Value {
    json!(shared.lock().holds)
}

/// `DELETE /__control/holds` (and reset): every held answer goes out, every hold is dropped.
pub fn release_all(shared: &Shared, world: &mut World) {
    world.holds.clear();
    shared.holds_changed.notify_waiters();
}

/// After a request was performed and logged: the id of the first free hold it matches,
/// which now holds it.
pub fn catch(
    world: &mut World,
    method: &str,
    paths: [&str; 2],
    seq: u64,
    status: u16,
) -> Option<u64> {
    let hold = world.holds.iter_mut().find(|h| {
        h.caught.is_none()
            && h.method.eq_ignore_ascii_case(method)
            && paths.iter().any(|p| p.starts_with(&h.path_prefix))
    })?;
    hold.caught = Some(CaughtRequest {
        seq,
        path: paths[1].to_string(),
        status,
    });
    Some(hold.id)
}

/// Drops hold `id` when the held request's handler ends without a release: hyper drops the
/// handler when the client's connection closes, and nothing is left to hold then.
struct DropWhenGone<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for DropWhenGone<'_> {
    fn drop(&mut self) {
        let mut world = self.shared.lock();
        world.holds.retain(|h| h.id != self.id);
    }
}

/// Waits until hold `id` is released (or [`MAX_HOLD`] passed, or the client is gone).
pub async fn wait_released(shared: &Arc<Shared>, id: u64) {
    let _gone = DropWhenGone { shared, id };
    let deadline = tokio::time::Instant::now() + MAX_HOLD;
    loop {
        let changed = shared.holds_changed.notified();
        tokio::pin!(changed);
        // Registered before looking, so a release between the look and the wait is not lost.
        changed.as_mut().enable();
        if !shared.lock().holds.iter().any(|h| h.id == id) {
            return;
        }
        tokio::select! {
            () = changed => {}
            () = tokio::time::sleep_until(deadline) => return,
        }
    }
}
