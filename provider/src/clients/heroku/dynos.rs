//! Config vars, dyno restarts, one-off dynos and rollbacks (Platform API): the
//! runbook's operations beyond scheduler jobs and promotions.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::pipelines::{AppRef, Release};
use super::transport::Api;
use super::{decode, parse_body, HerokuClient, HerokuError, RequestContext};

/// Release a dyno runs (`{id, version}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynoRelease {
    /// Release UUID.
    pub id: Uuid,
    /// Release version.
    pub version: u64,
}

/// A dyno (`POST /apps/{app}/dynos` answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dyno {
    /// Dyno UUID.
    pub id: Uuid,
    /// Dyno name ("run.1234").
    pub name: String,
    /// Command the dyno runs.
    pub command: String,
    /// State: crashed, down, idle, starting or up.
    #[serde(default)]
    pub state: Option<String>,
    /// Dyno size.
    #[serde(default)]
    pub size: Option<String>,
    /// Process type ("run").
    #[serde(rename = "type", default)]
    pub process_type: Option<String>,
    /// Release the dyno runs.
    #[serde(default)]
    pub release: Option<DynoRelease>,
    /// App of the dyno.
    #[serde(default)]
    pub app: Option<AppRef>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last change, of the state among others (ISO 8601, whole seconds).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Body of `POST /apps/{app}/dynos` for a detached one-off dyno. `Debug` hides `env`
/// values (they may be secrets).
#[derive(Clone, PartialEq, Eq, Serialize, Default)]
pub struct NewOneOffDyno {
    /// Command to run (required).
    pub command: String,
    /// Dyno size ("standard-2X"); Heroku's default when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Seconds before the dyno is stopped (max 86400).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_live: Option<u32>,
    /// Whether to attach (always false for the provider: nobody reads the output).
    pub attach: bool,
    /// Environment of the process, on top of the app's config vars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<std::collections::BTreeMap<String, String>>,
}

impl std::fmt::Debug for NewOneOffDyno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOneOffDyno")
            .field("command", &self.command)
            .field("size", &self.size)
            .field("time_to_live", &self.time_to_live)
            .field("attach", &self.attach)
            .field(
                "env",
                &self.env.as_ref().map(|env| env.keys().collect::<Vec<_>>()),
            )
            .finish()
    }
}

#[derive(Serialize)]
struct RollbackBody {
    release: Uuid,
}

impl HerokuClient {
    /// Restarts all dynos of an app, or those of one process type. Restarting twice is
    /// harmless, so the DELETE is retried like any idempotent request.
    pub async fn restart_dynos(
        &self,
        app_id: Uuid,
        process_type: Option<&str>,
    ) -> Result<(), HerokuError> {
        let app = app_id.to_string();
        let (url, action) = match process_type {
            Some(kind) => (
                self.platform_url(&["apps", &app, "formations", kind])?,
                format!("restarting {kind} dynos"),
            ),
            None => (
                self.platform_url(&["apps", &app, "dynos"])?,
                "restarting all dynos".to_string(),
            ),
        };
        let context = RequestContext::on_app(action, self.app_label(app_id));
        let result = self
            .send_write::<()>(Api::Platform, Method::DELETE, url, None, true, &context)
            .await;
        self.invalidate_app_data(app_id);
        result.map(|_| ())
    }

    /// Starts a detached one-off dyno. Never retried after an unknown outcome: running a
    /// command such as a migration twice is not harmless.
    pub async fn run_one_off_dyno(
        &self,
        app_id: Uuid,
        dyno: &NewOneOffDyno,
    ) -> Result<Dyno, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "dynos"])?;
        let context = RequestContext::on_app("starting one-off dyno", self.app_label(app_id));
        let response = self
            .send_write(
                Api::Platform,
                Method::POST,
                url,
                Some(dyno),
                false,
                &context,
            )
            .await?;
        let value = parse_body(&response.body, &context, response.status)?;
        decode(&value, &context, response.status)
    }

    /// Rolls an app back to an earlier release (`POST /apps/{app}/releases` with
    /// `{release: <uuid>}`), which creates a new release. Not retried after an unknown
    /// outcome.
    pub async fn rollback(&self, app_id: Uuid, release_id: Uuid) -> Result<Release, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "releases"])?;
        let context = RequestContext::on_app(
            format!("rolling back to release {release_id}"),
            self.app_label(app_id),
        );
        let body = RollbackBody {
            release: release_id,
        };
        let result = self
            .send_write(
                Api::Platform,
                Method::POST,
                url,
                Some(&body),
                false,
                &context,
            )
            .await;
        self.invalidate_app_data(app_id);
        let response = result?;
        let value = parse_body(&response.body, &context, response.status)?;
        decode(&value, &context, response.status)
    }
}

impl HerokuClient {
    /// Every dyno of an app, read fresh (states are polled), only coalesced.
    pub async fn dynos(&self, app_id: Uuid) -> Result<Vec<Dyno>, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "dynos"])?;
        let context = RequestContext::on_app("listing dynos", self.app_label(app_id));
        self.get_list(
            url,
            None,
            true,
            Scope::App(app_id),
            Reuse::InFlightOnly,
            context,
        )
        .await
    }
}
