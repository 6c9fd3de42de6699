//! HTTP transport for the Heroku APIs: authentication, headers, rate-limit pacing and
//! retries.
//!
//! Retry policy (why each case is safe):
//! * `429 Too Many Requests` is retried for every method: Heroku rejected the call
//!   before acting on it. The wait is the larger of `Retry-After` and the exponential
//!   backoff, capped by `max_backoff`.
//! * Connection failures (the request never left) are retried for every method.
//! * `5xx`, timeouts and broken connections after sending are retried only when the
//!   request is idempotent. The client marks GET, PUT and DELETE idempotent, and PATCH
//!   only where the body sets absolute values (scheduler job updates, formation
//!   updates), which makes repeating it harmless. POST never is: creators that must
//!   survive a lost response reconcile on their own (see `scheduler.rs`).
//!
//! Pacing: every response carries `RateLimit-Remaining`. When it falls below
//! `rate_limit_low_water`, requests are serialised and each waits a delay that grows as
//! the bucket empties, up to one refill interval when it is empty, so a long plan slows
//! down instead of hitting 429s.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use uuid::Uuid;

use super::error::{api_error, HerokuError, RequestContext, TransportFailure};
use super::{log, HerokuConfig, LogLevel};

/// Media type of the Platform API, version 3.
pub(crate) const PLATFORM_ACCEPT: &str = "application/vnd.heroku+json; version=3";
/// Media type of the Scheduler API (JSON:API).
pub(crate) const SCHEDULER_MEDIA_TYPE: &str = "application/vnd.api+json";

/// Which Heroku API a request is for; decides media types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// api.heroku.com, `application/vnd.heroku+json; version=3`.
    Platform,
    /// particleboard.heroku.com, JSON:API.
    Scheduler,
    /// Heroku's GitHub integration service (kolkrabbi): the Platform API's media type and key.
    GitHubIntegration,
    /// GitHub's API, `application/vnd.github+json`, authorized by the request's own
    /// [`RequestSpec::authorization`] (the linked GitHub account's token), never the Heroku key.
    GitHub,
}

/// Media type of GitHub's REST API.
pub(crate) const GITHUB_ACCEPT: &str = "application/vnd.github+json";

/// One request to send.
#[derive(Debug, Clone)]
pub(crate) struct RequestSpec {
    pub api: Api,
    pub method: Method,
    pub url: Url,
    /// Serialized JSON body, if any.
    pub body: Option<Vec<u8>>,
    /// `Range` header for list pagination.
    pub range: Option<String>,
    /// Whether repeating the request after an unknown outcome is harmless.
    pub idempotent: bool,
    pub context: RequestContext,
    /// Authorization sent instead of the Heroku API key (GitHub's token), marked sensitive.
    pub authorization: Option<HeaderValue>,
}

impl RequestSpec {
    /// A GET (idempotent) without body.
    pub fn get(api: Api, url: Url, context: RequestContext) -> Self {
        Self {
            api,
            method: Method::GET,
            url,
            body: None,
            range: None,
            idempotent: true,
            context,
            authorization: None,
        }
    }
}

/// A successful (2xx) response.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub status: u16,
    /// `Next-Range` header of a `206 Partial Content` list page.
    pub next_range: Option<String>,
    pub body: Vec<u8>,
}

/// Outcome of one attempt, before the retry decision.
enum Attempt {
    Answer {
        status: u16,
        headers: HeaderMap,
        body: Vec<u8>,
    },
    Failed {
        kind: TransportFailure,
        detail: String,
    },
}

/// Sends requests with authentication, standard headers, pacing and retries.
pub(crate) struct Transport {
    http: reqwest::Client,
    authorization: HeaderValue,
    max_retries: u32,
    base_backoff: Duration,
    max_backoff: Duration,
    low_water: u32,
    refill_interval: Duration,
    /// Last `RateLimit-Remaining` seen; negative when unknown.
    remaining: AtomicI64,
    /// Serialises paced requests so parallel callers do not all spend the last tokens.
    pace_lock: tokio::sync::Mutex<()>,
}

impl Transport {
    /// Builds the HTTP client from the configuration.
    pub fn new(config: &HerokuConfig) -> Result<Self, HerokuError> {
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose_secret())).map_err(
                |_| {
                    HerokuError::Config(
                        "the API key contains characters not allowed in an HTTP header".into(),
                    )
                },
            )?;
        // Keeps the header out of any debug output of the HTTP stack.
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| HerokuError::Config(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            http,
            authorization,
            max_retries: config.max_retries,
            base_backoff: config.base_backoff,
            max_backoff: config.max_backoff,
            low_water: config.rate_limit_low_water,
            refill_interval: config.rate_limit_refill_interval,
            remaining: AtomicI64::new(-1),
            pace_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Maximum number of retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Sends `spec`, retrying as described in the module documentation, and returns the
    /// first 2xx response or the final error.
    pub async fn send(&self, spec: &RequestSpec) -> Result<RawResponse, HerokuError> {
        let mut attempt: u32 = 0;
        loop {
            self.pace().await;
            let outcome = self.attempt(spec).await;
            let can_retry = attempt < self.max_retries;
            match outcome {
                Attempt::Answer {
                    status,
                    headers,
                    body,
                } => {
                    if (200..300).contains(&status) {
                        if let Some(warning) = header_str(&headers, "x-heroku-warning") {
                            log(
                                LogLevel::Warn,
                                &format!("{}: Heroku warning: {warning}", spec.context),
                            );
                        }
                        return Ok(RawResponse {
                            status,
                            next_range: header_str(&headers, "next-range").map(str::to_string),
                            body,
                        });
                    }
                    let error = api_error(spec.context.clone(), status, &body);
                    if status == 429 && can_retry {
                        let retry_after =
                            header_str(&headers, "retry-after").and_then(parse_retry_after);
                        // Retry-After is honoured up to max_backoff, so a bogus value
                        // cannot stall the provider for hours.
                        let delay = self
                            .backoff(attempt)
                            .max(retry_after.unwrap_or_default().min(self.max_backoff));
                        log(
                            LogLevel::Warn,
                            &format!(
                                "{} {}: rate limited by Heroku, retry {} of {} in {:?}",
                                spec.method,
                                spec.url,
                                attempt + 1,
                                self.max_retries,
                                delay
                            ),
                        );
                        tokio::time::sleep(delay).await;
                    } else if status >= 500 && spec.idempotent && can_retry {
                        let delay = self.backoff(attempt);
                        log(
                            LogLevel::Warn,
                            &format!(
                                "{} {}: HTTP {status}, retry {} of {} in {:?}",
                                spec.method,
                                spec.url,
                                attempt + 1,
                                self.max_retries,
                                delay
                            ),
                        );
                        tokio::time::sleep(delay).await;
                    } else {
                        return Err(error);
                    }
                }
                Attempt::Failed { kind, detail } => {
                    let safe = spec.idempotent || kind == TransportFailure::Connect;
                    if safe && can_retry {
                        let delay = self.backoff(attempt);
                        log(
                            LogLevel::Warn,
                            &format!(
                                "{} {}: {detail}, retry {} of {} in {:?}",
                                spec.method,
                                spec.url,
                                attempt + 1,
                                self.max_retries,
                                delay
                            ),
                        );
                        tokio::time::sleep(delay).await;
                    } else {
                        return Err(HerokuError::Transport {
                            context: spec.context.clone(),
                            kind,
                            detail,
                        });
                    }
                }
            }
            attempt += 1;
        }
    }

    /// Exponential backoff for the given retry number, with ±25 % jitter, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(20));
        let base = self.base_backoff.saturating_mul(factor);
        // Jitter spreads retries of parallel requests; a v4 UUID is a ready random source.
        let random = (Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
        let jittered = base.mul_f64(0.75 + random * 0.5);
        jittered.min(self.max_backoff)
    }

    /// Waits before sending when the rate-limit bucket is running low.
    async fn pace(&self) {
        let Some(delay) = self.pacing_delay() else {
            return;
        };
        let _turn = self.pace_lock.lock().await;
        // Re-read: the requests we queued behind may have refreshed the count.
        if let Some(delay) = self.pacing_delay().map(|d| d.min(delay)) {
            log(
                LogLevel::Debug,
                &format!(
                    "Heroku rate limit low ({} calls left), waiting {:?}",
                    self.remaining.load(Ordering::Relaxed),
                    delay
                ),
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn pacing_delay(&self) -> Option<Duration> {
        let remaining = self.remaining.load(Ordering::Relaxed);
        let low_water = i64::from(self.low_water);
        if remaining < 0 || remaining >= low_water || low_water == 0 {
            return None;
        }
        let scarcity = (low_water - remaining) as f64 / low_water as f64;
        Some(self.refill_interval.mul_f64(scarcity))
    }

    /// One HTTP exchange, without retries.
    async fn attempt(&self, spec: &RequestSpec) -> Attempt {
        let request_id = Uuid::new_v4();
        let accept = match spec.api {
            Api::Platform | Api::GitHubIntegration => PLATFORM_ACCEPT,
            Api::Scheduler => SCHEDULER_MEDIA_TYPE,
            Api::GitHub => GITHUB_ACCEPT,
        };
        let authorization = spec
            .authorization
            .clone()
            .unwrap_or_else(|| self.authorization.clone());
        let mut request = self
            .http
            .request(spec.method.clone(), spec.url.clone())
            .header(ACCEPT, accept)
            .header(AUTHORIZATION, authorization)
            .header("Request-Id", request_id.to_string());
        if let Some(range) = &spec.range {
            request = request.header("Range", range.as_str());
        }
        if let Some(body) = &spec.body {
            let content_type = match spec.api {
                Api::Scheduler => SCHEDULER_MEDIA_TYPE,
                Api::Platform | Api::GitHubIntegration | Api::GitHub => "application/json",
            };
            request = request
                .header(CONTENT_TYPE, content_type)
                .body(body.clone());
        }
        log(
            LogLevel::Debug,
            &format!("{} {} (Request-Id {request_id})", spec.method, spec.url),
        );
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return failed(&e),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(remaining) =
            header_str(&headers, "ratelimit-remaining").and_then(|v| v.trim().parse::<i64>().ok())
        {
            self.remaining.store(remaining.max(0), Ordering::Relaxed);
        }
        match response.bytes().await {
            Ok(body) => {
                log(
                    LogLevel::Debug,
                    &format!(
                        "{} {} -> HTTP {status} (Request-Id {request_id})",
                        spec.method, spec.url
                    ),
                );
                Attempt::Answer {
                    status,
                    headers,
                    body: body.to_vec(),
                }
            }
            Err(e) => failed(&e),
        }
    }
}

fn failed(error: &reqwest::Error) -> Attempt {
    let kind = if error.is_connect() {
        TransportFailure::Connect
    } else if error.is_timeout() {
        TransportFailure::Timeout
    } else {
        TransportFailure::Other
    };
    // Error text names the URL at most; the Authorization header is never part of it.
    Attempt::Failed {
        kind,
        detail: error_chain(error),
    }
}

/// The error and its sources on one line ("error sending request: connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Retry-After` in delta-seconds. The HTTP-date form is not used by Heroku and is
/// ignored (the exponential backoff applies instead).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}
