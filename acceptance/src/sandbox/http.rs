//! Protocol plumbing shared by the APIs: replies and Heroku errors, Accept and auth
//! checks, the rate-limit token bucket, Range pagination and ETags.

use std::cmp::Ordering;
use std::time::Instant;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use serde_json::{json, Value};

/// A parsed incoming request, with the API base prefix already stripped from `path`.
pub struct ApiRequest {
    pub method: String,
    /// Path relative to the API base, e.g. `/apps/x`.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// Path segments, percent-decoded, without empty ones.
    pub fn segments(&self) -> Vec<String> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect()
    }

    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a handler answers, before the protocol layer adds headers and paging.
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: ReplyBody,
}

/// Reply payloads.
pub enum ReplyBody {
    Json(Value),
    /// A list subject to Range pagination: `ranges` are the sortable fields, the first
    /// being the default order.
    List {
        items: Vec<Value>,
        ranges: &'static [&'static str],
    },
}

impl Reply {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Self {
        Self::with_status(StatusCode::OK, body)
    }

    /// 201 with a JSON body.
    pub fn created(body: Value) -> Self {
        Self::with_status(StatusCode::CREATED, body)
    }

    /// Any status with a JSON body.
    pub fn with_status(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: ReplyBody::Json(body),
        }
    }

    /// 200 with a Range-paginated list.
    pub fn list(items: Vec<Value>, ranges: &'static [&'static str]) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::List { items, ranges },
        }
    }
}

/// A Heroku-style error: `{"id","message","url"}` plus an optional `resource`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub id: &'static str,
    pub message: String,
    pub resource: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, id: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            id,
            message: message.into(),
            resource: None,
        }
    }

    /// 404 for a missing resource, phrased like Heroku ("Couldn't find that app.").
    pub fn not_found(resource: &'static str, what: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            id: "not_found",
            message: format!("Couldn't find that {what}."),
            resource: Some(resource),
        }
    }

    /// 422 `invalid_params`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_params", message)
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// The error for a bare status code (used by injected faults).
    pub fn for_status(status: StatusCode, message: Option<String>) -> Self {
        let (id, default_message) = match status.as_u16() {
            400 => ("bad_request", "Bad request."),
            401 => ("unauthorized", "Invalid credentials provided."),
            403 => ("forbidden", "You do not have access to this resource."),
            404 => ("not_found", "Couldn't find that resource."),
            409 => ("conflict", "A conflicting change is in progress."),
            422 => ("invalid_params", "Invalid parameters."),
            429 => (
                "rate_limit",
                "Your account reached the API rate limit\nPlease wait a few minutes before making new requests",
            ),
            500 => ("internal_server_error", "Internal server error."),
            502 => ("bad_gateway", "Bad gateway."),
            503 => ("service_unavailable", "Service unavailable, please try again."),
            504 => ("gateway_timeout", "Gateway timeout."),
            _ => ("error", "Injected error."),
        };
        Self::new(
            status,
            id,
            message.unwrap_or_else(|| default_message.to_string()),
        )
    }

    /// The Heroku error body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "id": self.id,
            "message": self.message,
            "url": format!("https://devcenter.heroku.com/articles/platform-api-reference#error-{}", self.id),
        });
        if let (Some(resource), Some(map)) = (self.resource, body.as_object_mut()) {
            map.insert("resource".to_string(), json!(resource));
        }
        body
    }

    pub fn into_reply(self) -> Reply {
        Reply::with_status(self.status, self.body())
    }
}

/// Handler result for the Heroku API.
pub type ApiResult = Result<Reply, ApiError>;

/// Parses a JSON request body; an empty body counts as `{}`.
pub fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON in request body: {e}")))
}

/// Parses a JSON body that must be an object.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match json_body(body)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::invalid("Request body must be a JSON object.")),
    }
}

/// True when `Accept` asks for Heroku's v3 media type (any `3.x` variant).
pub fn accepts_heroku_v3(headers: &HeaderMap) -> bool {
    headers
        .get_all("accept")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("application/vnd.heroku+json")
                && v.split(';').any(|p| {
                    let p = p.trim();
                    p == "version=3" || p.starts_with("version=3.")
                })
        })
}

/// True when `Authorization` carries `token` as a Bearer token or as the Basic password.
pub fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return constant_time_eq(rest.as_bytes(), token.as_bytes());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest) else {
            return false;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return false;
        };
        let password = text.split_once(':').map(|(_, p)| p).unwrap_or("");
        return constant_time_eq(password.as_bytes(), token.as_bytes());
    }
    false
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Heroku's per-account token bucket.
#[derive(Debug)]
pub struct RateBucket {
    capacity: f64,
    tokens: f64,
    refill_per_sec: f64,
    last: Instant,
}

impl RateBucket {
    pub fn new(capacity: u32, refill_per_minute: f64) -> Self {
        Self {
            capacity: f64::from(capacity),
            tokens: f64::from(capacity),
            refill_per_sec: if refill_per_minute.is_finite() && refill_per_minute > 0.0 {
                refill_per_minute / 60.0
            } else {
                0.0
            },
            last: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_per_sec).min(self.capacity);
        self.last = now;
    }

    /// Whole tokens left.
    pub fn remaining(&mut self) -> u64 {
        self.refill();
        // Truncation intended: a partial token is not spendable.
        self.tokens.max(0.0).floor() as u64
    }

    /// Spends one token; false when the bucket is empty.
    pub fn take(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Sets the token count (control API), clamped to the capacity.
    pub fn set(&mut self, tokens: u64) {
        self.refill();
        self.tokens = (tokens as f64).min(self.capacity);
    }

    /// Refills completely.
    pub fn fill(&mut self) {
        self.tokens = self.capacity;
        self.last = Instant::now();
    }
}

/// A parsed `Range` header.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSpec {
    pub field: String,
    /// Lower bound (in iteration order); `true` = exclusive (`]value`).
    pub start: Option<(String, bool)>,
    pub end: Option<String>,
    pub max: usize,
    pub desc: bool,
}

/// Default and maximum page sizes.
pub const DEFAULT_PAGE: usize = 200;
pub const MAX_PAGE: usize = 1000;

/// Parses `<field> [start]..[end][; max=N][, order=asc|desc]`, accepting `;` or `,`
/// between parameters.
pub fn parse_range(header: &str) -> Option<RangeSpec> {
    let header = header.trim();
    let split_at = header.find([';', ',']).unwrap_or(header.len());
    let (head, params) = header.split_at(split_at);
    let mut head_parts = head.trim().splitn(2, char::is_whitespace);
    let field = head_parts.next()?.trim().to_string();
    if field.is_empty() {
        return None;
    }
    let bounds = head_parts.next().unwrap_or("").trim();
    let (start, end) = if bounds.is_empty() {
        (None, None)
    } else {
        let (s, e) = bounds.split_once("..")?;
        let start = match s.trim() {
            "" => None,
            s => match s.strip_prefix(']') {
                Some(rest) => Some((rest.to_string(), true)),
                None => Some((s.strip_prefix('[').unwrap_or(s).to_string(), false)),
            },
        };
        let end = match e.trim() {
            "" => None,
            e => Some(e.strip_suffix(']').unwrap_or(e).to_string()),
        };
        (start, end)
    };
    let mut spec = RangeSpec {
        field,
        start,
        end,
        max: DEFAULT_PAGE,
        desc: false,
    };
    for param in params
        .split([';', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (key, value) = param.split_once('=')?;
        match key.trim() {
            "max" => {
                let n: usize = value.trim().parse().ok()?;
                if n == 0 {
                    return None;
                }
                spec.max = n.min(MAX_PAGE);
            }
            "order" => match value.trim() {
                "asc" => spec.desc = false,
                "desc" => spec.desc = true,
                _ => return None,
            },
            _ => {}
        }
    }
    Some(spec)
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => value_text(a).cmp(&value_text(b)),
    }
}

fn compare_to_bound(v: &Value, bound: &str) -> Ordering {
    match (v.as_f64(), bound.parse::<f64>()) {
        (Some(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => value_text(v).as_str().cmp(bound),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One page of a list and, when truncated, the `Next-Range` value.
pub struct Page {
    pub items: Vec<Value>,
    pub next_range: Option<String>,
}

/// Sorts, filters and truncates `items` according to `spec`.
pub fn paginate(mut items: Vec<Value>, spec: &RangeSpec) -> Page {
    let field = spec.field.as_str();
    let key = |v: &Value| v.get(field).cloned().unwrap_or(Value::Null);
    items.sort_by(|a, b| {
        let o = compare_values(&key(a), &key(b));
        if spec.desc {
            o.reverse()
        } else {
            o
        }
    });
    let directed = |o: Ordering| if spec.desc { o.reverse() } else { o };
    let mut selected: Vec<Value> = items
        .into_iter()
        .filter(|item| {
            let k = key(item);
            let after_start = match &spec.start {
                None => true,
                Some((bound, exclusive)) => {
                    let o = directed(compare_to_bound(&k, bound));
                    if *exclusive {
                        o == Ordering::Greater
                    } else {
                        o != Ordering::Less
                    }
                }
            };
            let before_end = match &spec.end {
                None => true,
                Some(bound) => directed(compare_to_bound(&k, bound)) != Ordering::Greater,
            };
            after_start && before_end
        })
        .collect();
    let mut next_range = None;
    if selected.len() > spec.max {
        selected.truncate(spec.max);
        if let Some(last) = selected.last() {
            let end = spec.end.clone().unwrap_or_default();
            let order = if spec.desc { ", order=desc" } else { "" };
            next_range = Some(format!(
                "{field} ]{}..{end}; max={}{order}",
                value_text(&key(last)),
                spec.max
            ));
        }
    }
    Page {
        items: selected,
        next_range,
    }
}

/// A strong ETag for a response body (FNV-1a; stable across runs).
pub fn etag(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

/// True when `If-None-Match` lists `tag` (or `*`).
pub fn if_none_match(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all("if-none-match")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == tag)
}

/// Decodes `%XX` escapes; invalid escapes are kept literally.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heroku_go_and_devcenter_range_forms() {
        let a = parse_range("version ..; max=1,order=desc").unwrap();
        assert_eq!(a.field, "version");
        assert_eq!(a.max, 1);
        assert!(a.desc);
        let b = parse_range("id ]abc..; max=10, order=asc").unwrap();
        assert_eq!(b.start, Some(("abc".to_string(), true)));
        assert!(!b.desc);
        let c = parse_range("name").unwrap();
        assert_eq!(c.max, DEFAULT_PAGE);
        assert_eq!(parse_range("id ..; max=5000").unwrap().max, MAX_PAGE);
        assert!(parse_range("id ..; max=zero").is_none());
        assert!(parse_range("").is_none());
    }

    #[test]
    fn paginates_desc_with_exclusive_start() {
        let items: Vec<Value> = (1..=5).map(|v| json!({ "version": v })).collect();
        let spec = parse_range("version ..; max=2, order=desc").unwrap();
        let page = paginate(items.clone(), &spec);
        assert_eq!(page.items, vec![json!({"version":5}), json!({"version":4})]);
        let next = parse_range(page.next_range.as_deref().unwrap()).unwrap();
        let page2 = paginate(items, &next);
        assert_eq!(
            page2.items,
            vec![json!({"version":3}), json!({"version":2})]
        );
    }

    #[test]
    fn percent_decoding_never_panics() {
        assert_eq!(percent_decode("a%40b"), "a@b");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
