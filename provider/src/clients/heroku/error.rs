//! Typed errors of the Heroku client.
//!
//! Every error names the action and, when known, the app it concerned, so that a
//! Terraform diagnostic reads like "creating scheduler job on app treeherder-prod:
//! invalid_params: every must be one of 10, 60, 1440". Errors never carry the API key:
//! they are built from Heroku's response body, the HTTP status and our own context.

use std::fmt;

/// What the client was doing when an error happened ("creating scheduler job") and on
/// which app (name when known, otherwise its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Human description of the action, in the progressive form ("reading app").
    pub action: String,
    /// App name (or id when the name is unknown) the action concerned, if any.
    pub app: Option<String>,
}

impl RequestContext {
    /// Context for an action that concerns one app.
    pub fn on_app(action: impl Into<String>, app: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            app: Some(app.into()),
        }
    }

    /// Context for an action that concerns no particular app.
    pub fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            app: None,
        }
    }
}

impl fmt::Display for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.app {
            Some(app) => write!(f, "{} on app {}", self.action, app),
            None => f.write_str(&self.action),
        }
    }
}

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be established, so the request was never sent.
    Connect,
    /// The request was sent (or being sent) but no complete answer arrived in time.
    Timeout,
    /// Any other I/O failure while sending the request or reading the response.
    Other,
}

/// An error returned by the Heroku client.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HerokuError {
    /// Heroku answered with a non-success status.
    #[error("{context}: {id}: {message}")]
    Api {
        /// Action and app the request was for.
        context: RequestContext,
        /// HTTP status code.
        status: u16,
        /// Heroku's machine-readable error id ("not_found", "invalid_params", ...).
        id: String,
        /// Heroku's human-readable message.
        message: String,
    },
    /// No usable HTTP answer (connection refused, timeout, reset).
    #[error("{context}: request to Heroku failed ({kind:?}): {detail}")]
    Transport {
        /// Action and app the request was for.
        context: RequestContext,
        /// Which kind of failure happened.
        kind: TransportFailure,
        /// Description of the underlying error.
        detail: String,
    },
    /// Heroku answered with success but the body was not what the API documents.
    #[error("{context}: unexpected response from Heroku (HTTP {status}): {detail}")]
    Decode {
        /// Action and app the request was for.
        context: RequestContext,
        /// HTTP status code of the response.
        status: u16,
        /// What could not be decoded.
        detail: String,
    },
    /// A create whose answer was lost, and whose effect could not be checked: the object
    /// may exist. Never retried blindly (that could duplicate it).
    #[error("{context}: the request may have created the job, and checking failed ({cause}). The job may exist: look at the app's Scheduler in the dashboard before applying again; if the job is there, import it with `terraform import ADDRESS {app}:<job id>` instead of creating it again.")]
    CreateUnverified {
        /// Action and app the request was for.
        context: RequestContext,
        /// The app as named in the import id (its name when known, else its UUID).
        app: String,
        /// Why the outcome is unknown and why checking failed.
        cause: String,
    },
    /// The client configuration is unusable (bad URL, unencodable header).
    #[error("invalid Heroku client configuration: {0}")]
    Config(String),
}

impl HerokuError {
    /// True when Heroku said the object does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, HerokuError::Api { status: 404, .. })
    }

    /// HTTP status of an API error, if the failure was an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            HerokuError::Api { status, .. } | HerokuError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Heroku's error id ("invalid_params"), for API errors.
    pub fn api_id(&self) -> Option<&str> {
        match self {
            HerokuError::Api { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Heroku's error message, for API errors.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            HerokuError::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Action and app the failing request was for.
    pub fn context(&self) -> Option<&RequestContext> {
        match self {
            HerokuError::Api { context, .. }
            | HerokuError::Transport { context, .. }
            | HerokuError::Decode { context, .. }
            | HerokuError::CreateUnverified { context, .. } => Some(context),
            HerokuError::Config(_) => None,
        }
    }

    /// True when the server may have acted on the request even though we got no
    /// success answer: a 5xx, a timeout or a broken connection after sending.
    /// Such outcomes make blind retries of non-idempotent requests unsafe.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            HerokuError::Api { status, .. } => *status >= 500,
            HerokuError::Transport { kind, .. } => *kind != TransportFailure::Connect,
            HerokuError::CreateUnverified { .. } => true,
            _ => false,
        }
    }

    /// Replaces the context of this error, keeping everything else.
    pub(crate) fn with_context(mut self, new_context: RequestContext) -> Self {
        match &mut self {
            HerokuError::Api { context, .. }
            | HerokuError::Transport { context, .. }
            | HerokuError::Decode { context, .. }
            | HerokuError::CreateUnverified { context, .. } => *context = new_context,
            HerokuError::Config(_) => {}
        }
        self
    }
}

/// Body shapes Heroku uses for errors: the Platform API's `{id, message}` object and
/// the Scheduler's JSON:API `{errors: [{title, detail, code}]}` document.
#[derive(serde::Deserialize)]
struct PlatformErrorBody {
    id: Option<String>,
    message: Option<String>,
    #[serde(default)]
    errors: Vec<JsonApiErrorObject>,
}

#[derive(serde::Deserialize)]
struct JsonApiErrorObject {
    code: Option<String>,
    title: Option<String>,
    detail: Option<String>,
}

/// Heroku's documented error id for a status, used when the body names none.
fn default_error_id(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        402 => "delinquent",
        403 => "forbidden",
        404 => "not_found",
        406 => "not_acceptable",
        409 => "conflict",
        410 => "gone",
        416 => "requested_range_not_satisfiable",
        422 => "invalid_params",
        429 => "rate_limit",
        500..=599 => "server_error",
        _ => "http_error",
    }
}

/// Builds an API error from an unsuccessful response body.
pub(crate) fn api_error(context: RequestContext, status: u16, body: &[u8]) -> HerokuError {
    let parsed: Option<PlatformErrorBody> = serde_json::from_slice(body).ok();
    let (id, message) = match parsed {
        Some(PlatformErrorBody {
            id: Some(id),
            message,
            ..
        }) => (id, message.unwrap_or_default()),
        Some(PlatformErrorBody {
            id: None,
            message,
            errors,
        }) if !errors.is_empty() || message.is_some() => {
            let id = errors
                .iter()
                .find_map(|e| e.code.clone())
                .unwrap_or_else(|| default_error_id(status).to_string());
            // A title that is only the HTTP reason phrase adds nothing to the detail.
            let generic = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason());
            let mut parts: Vec<String> = errors
                .iter()
                .map(|e| match (&e.title, &e.detail) {
                    (Some(t), Some(d)) if generic.is_some_and(|g| g.eq_ignore_ascii_case(t)) => {
                        d.clone()
                    }
                    (Some(t), Some(d)) => format!("{t} ({d})"),
                    (Some(t), None) => t.clone(),
                    (None, Some(d)) => d.clone(),
                    (None, None) => String::new(),
                })
                .filter(|s| !s.is_empty())
                .collect();
            if let Some(m) = message {
                parts.insert(0, m);
            }
            (id, parts.join("; "))
        }
        _ => {
            // Not JSON (a proxy's HTML page, an empty 503): keep a short excerpt.
            let text = String::from_utf8_lossy(body);
            let excerpt: String = text.trim().chars().take(200).collect();
            let message = if excerpt.is_empty() {
                format!("HTTP {status}")
            } else {
                excerpt
            };
            (default_error_id(status).to_string(), message)
        }
    };
    HerokuError::Api {
        context,
        status,
        id,
        message,
    }
}
