//! Config vars and the releases their changes create (Platform API).
//!
//! Values are secrets as far as this client knows: they never appear in log lines or
//! errors (decode errors name keys only), and callers register them for log masking.
//!
//! A change is one `PATCH /apps/{app}/config-vars` holding every key to set and every key
//! to remove (`null`). It is not retried blindly after an unknown outcome: on Heroku each
//! PATCH makes a release, so a repeat would run the release phase twice. Instead the vars
//! are read again; when they already hold the change, it happened (lost answer); when not,
//! it is sent again. 429s are retried by the transport (Heroku acted on nothing).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::pipelines::{Release, ReleaseStatus};
use super::transport::Api;
use super::{parse_body, HerokuClient, HerokuError, RequestContext};

/// Config vars of an app, key → value.
pub type ConfigVars = BTreeMap<String, String>;

/// What one change should do: keys to set (`Some`) and to remove (`None`).
pub type ConfigChange = BTreeMap<String, Option<String>>;

/// Releases listed when looking for the one a change created.
const RELEASE_WINDOW: u32 = 20;

/// Longest pause between two polls of a release.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// The outcome of [`HerokuClient::change_config_vars`].
#[derive(Debug, Clone)]
pub struct AppliedChange {
    /// The app's vars after the change.
    pub vars: ConfigVars,
    /// The release the change created, when Heroku made one (none when nothing changed).
    pub release: Option<Release>,
}

/// Why waiting for a release ended without success.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReleaseWaitError {
    /// Heroku could not be asked.
    #[error(transparent)]
    Heroku(#[from] HerokuError),
    /// The release phase failed or the release expired.
    #[error("release v{version} of app {app} is {status}: its release phase (the Procfile's `release` command) did not succeed, so the app keeps running the previous release. The config vars are set on Heroku; see `heroku releases:output v{version} --app {app}`, fix the cause and create a new release (e.g. `heroku releases:retry --app {app}`)")]
    Failed {
        /// App name (or id).
        app: String,
        /// Release version.
        version: u64,
        /// `failed` or `expired`.
        status: &'static str,
    },
    /// The time limit passed while the release was still pending.
    #[error("release v{version} of app {app} was still pending after {waited:?}; the config vars are set on Heroku and the release phase may still finish (raise the `timeouts` of the resource to wait longer)")]
    TimedOut {
        /// App name (or id).
        app: String,
        /// Release version.
        version: u64,
        /// How long we waited.
        waited: Duration,
    },
    /// Terraform asked the provider to stop.
    #[error("stopped while waiting for release v{version} of app {app}")]
    Stopped {
        /// App name (or id).
        app: String,
        /// Release version.
        version: u64,
    },
}

/// Decodes a config-var object without ever echoing a value.
fn decode_vars(
    value: &Value,
    context: &RequestContext,
    status: u16,
) -> Result<ConfigVars, HerokuError> {
    let object = value.as_object().ok_or_else(|| HerokuError::Decode {
        context: context.clone(),
        status,
        detail: "expected a JSON object of config vars".to_string(),
    })?;
    let mut vars = ConfigVars::new();
    for (key, value) in object {
        match value {
            Value::String(text) => {
                vars.insert(key.clone(), text.clone());
            }
            // Heroku never stores null; a key mapped to null is absent.
            Value::Null => {}
            Value::Number(_) | Value::Bool(_) => {
                vars.insert(key.clone(), value.to_string());
            }
            _ => {
                return Err(HerokuError::Decode {
                    context: context.clone(),
                    status,
                    detail: format!("config var {key} is not a string"),
                })
            }
        }
    }
    Ok(vars)
}

/// True when `vars` already hold every effect of `change`.
pub fn holds(vars: &ConfigVars, change: &ConfigChange) -> bool {
    change
        .iter()
        .all(|(key, wanted)| vars.get(key) == wanted.as_ref())
}

impl HerokuClient {
    /// All config vars of an app. With `fresh`, read from Heroku even when a response is
    /// cached (identical reads in flight are still shared); otherwise cached per app until
    /// a write to it, so refreshing many resources of one app costs one request.
    pub async fn read_config_vars(
        &self,
        app_id: Uuid,
        fresh: bool,
    ) -> Result<ConfigVars, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "config-vars"])?;
        let context = RequestContext::on_app("reading config vars", self.app_label(app_id));
        let reuse = if fresh {
            Reuse::InFlightOnly
        } else {
            Reuse::Cache
        };
        let value = self
            .get_value(Api::Platform, url, Scope::App(app_id), reuse, &context)
            .await?;
        decode_vars(&value, &context, 200)
    }

    /// The newest release's version, if the app has any release.
    async fn newest_release_version(&self, app_id: Uuid) -> Result<Option<u64>, HerokuError> {
        self.invalidate_app_data(app_id);
        Ok(self
            .releases(app_id, 1)
            .await?
            .into_iter()
            .map(|r| r.version)
            .max())
    }

    /// Applies `change` in one PATCH (see the module docs for lost answers) and finds the
    /// release it created. Keys whose remote value already matches are left out; when
    /// nothing differs no request is made and no release is created.
    pub async fn change_config_vars(
        &self,
        app_id: Uuid,
        change: &ConfigChange,
    ) -> Result<AppliedChange, HerokuError> {
        // One change per app at a time, so the releases after our snapshot are ours.
        let lock = self.write_lock(app_id);
        let _guard = lock.lock().await;
        let app = self.app_label(app_id);
        let current = self.read_config_vars(app_id, true).await?;
        let needed: ConfigChange = change
            .iter()
            .filter(|(key, wanted)| current.get(*key) != wanted.as_ref())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if needed.is_empty() {
            super::log(
                super::LogLevel::Debug,
                &format!("config vars of {app} already hold the change; nothing sent"),
            );
            return Ok(AppliedChange {
                vars: current,
                release: None,
            });
        }
        let before = self.newest_release_version(app_id).await?;
        let context = RequestContext::on_app("updating config vars", app.clone());
        let url = self.platform_url(&["apps", &app_id.to_string(), "config-vars"])?;
        let max_attempts = self.inner.transport.max_retries() + 1;
        let mut attempt = 0;
        let vars = loop {
            attempt += 1;
            let result = self
                .send_write(
                    Api::Platform,
                    Method::PATCH,
                    url.clone(),
                    Some(&needed),
                    false,
                    &context,
                )
                .await;
            self.invalidate_app_data(app_id);
            let error = match result {
                Ok(response) => {
                    let value = parse_body(&response.body, &context, response.status)?;
                    break decode_vars(&value, &context, response.status)?;
                }
                Err(e) if e.outcome_unknown() => e,
                Err(e) => return Err(e),
            };
            // The answer was lost: look whether the change happened before sending again.
            let delay = self.inner.transport.backoff(attempt - 1);
            super::log(
                super::LogLevel::Warn,
                &format!(
                    "{context}: no answer ({error}); reading the config vars to see whether the change was made"
                ),
            );
            tokio::time::sleep(delay).await;
            let now = self.read_config_vars(app_id, true).await?;
            if holds(&now, &needed) {
                super::log(
                    super::LogLevel::Warn,
                    &format!("{context}: the change was made; not sending it again"),
                );
                break now;
            }
            if attempt >= max_attempts {
                return Err(error);
            }
        };
        let release = self.release_after(app_id, before, &needed).await?;
        Ok(AppliedChange { vars, release })
    }

    /// The release created after version `before` that holds `change`, oldest first.
    async fn release_after(
        &self,
        app_id: Uuid,
        before: Option<u64>,
        change: &ConfigChange,
    ) -> Result<Option<Release>, HerokuError> {
        self.invalidate_app_data(app_id);
        let mut newer: Vec<Release> = self
            .releases(app_id, RELEASE_WINDOW)
            .await?
            .into_iter()
            .filter(|r| before.is_none_or(|v| r.version > v))
            .collect();
        newer.sort_by_key(|r| r.version);
        if newer.len() <= 1 {
            return Ok(newer.pop());
        }
        // Someone else released too: ours is the first whose vars hold the change.
        for release in &newer {
            let vars = self.release_config_vars(app_id, release.version).await?;
            if holds(&vars, change) {
                return Ok(Some(release.clone()));
            }
        }
        Ok(newer.into_iter().next())
    }

    /// Config vars as of a release.
    async fn release_config_vars(
        &self,
        app_id: Uuid,
        version: u64,
    ) -> Result<ConfigVars, HerokuError> {
        let version = version.to_string();
        let url = self.platform_url(&[
            "apps",
            &app_id.to_string(),
            "releases",
            &version,
            "config-vars",
        ])?;
        let context = RequestContext::on_app(
            format!("reading config vars of release v{version}"),
            self.app_label(app_id),
        );
        let value = self
            .get_value(
                Api::Platform,
                url,
                Scope::App(app_id),
                Reuse::Cache,
                &context,
            )
            .await?;
        decode_vars(&value, &context, 200)
    }

    /// Polls a release until it is no longer pending, with growing pauses (logged), and
    /// returns it once `succeeded`. `stopping` is checked between polls; `app` names the
    /// app in messages.
    pub async fn wait_for_release(
        &self,
        app_id: Uuid,
        app: &str,
        version: u64,
        limit: Duration,
        stopping: impl Fn() -> bool + Send,
    ) -> Result<Release, ReleaseWaitError> {
        let app = app.to_string();
        let started = Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            let release = self.release(app_id, &version.to_string()).await?;
            match release.status {
                ReleaseStatus::Succeeded => {
                    tfplugin::info!("release v{version} of {app} succeeded");
                    return Ok(release);
                }
                ReleaseStatus::Failed | ReleaseStatus::Expired => {
                    let status = if release.status == ReleaseStatus::Failed {
                        "failed"
                    } else {
                        "expired"
                    };
                    return Err(ReleaseWaitError::Failed {
                        app,
                        version,
                        status,
                    });
                }
                ReleaseStatus::Pending | ReleaseStatus::Unknown => {}
            }
            let waited = started.elapsed();
            if waited >= limit {
                return Err(ReleaseWaitError::TimedOut {
                    app,
                    version,
                    waited,
                });
            }
            if stopping() {
                return Err(ReleaseWaitError::Stopped { app, version });
            }
            let next = pause.min(limit - waited);
            tfplugin::info!(
                "release v{version} of {app} is pending (release phase running) after {:.1}s; next check in {:.1}s",
                waited.as_secs_f64(),
                next.as_secs_f64()
            );
            tokio::time::sleep(next).await;
            pause = (pause * 2).min(MAX_POLL_INTERVAL);
        }
    }
}
