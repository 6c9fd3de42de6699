//! Apps and formations (Platform API).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::pipelines::AppRef;
use super::transport::Api;
use super::{HerokuClient, HerokuError, RequestContext};

/// Reference to a named Heroku object (`{id, name}`), e.g. region, stack, team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NamedRef {
    /// Object id (a UUID for all objects this provider reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A Heroku app (`GET /apps/{app}`); only the fields the provider uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    /// App UUID.
    pub id: Uuid,
    /// App name.
    pub name: String,
    /// Whether maintenance mode is on.
    #[serde(default)]
    pub maintenance: bool,
    /// Region the app runs in.
    #[serde(default)]
    pub region: Option<NamedRef>,
    /// Stack of the current release.
    #[serde(default)]
    pub stack: Option<NamedRef>,
    /// Stack used for new builds.
    #[serde(default)]
    pub build_stack: Option<NamedRef>,
    /// Platform generation ("cedar" or "fir").
    #[serde(default)]
    pub generation: Option<NamedRef>,
    /// Owning team, if any.
    #[serde(default)]
    pub team: Option<NamedRef>,
    /// Web URL of the app.
    #[serde(default)]
    pub web_url: Option<String>,
    /// Git URL of the app.
    #[serde(default)]
    pub git_url: Option<String>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Time of the last release (ISO 8601).
    #[serde(default)]
    pub released_at: Option<String>,
}

/// A process type's formation (`GET /apps/{app}/formation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formation {
    /// Formation UUID.
    pub id: Uuid,
    /// Process type ("web", "worker_log_parser").
    #[serde(rename = "type")]
    pub process_type: String,
    /// Number of dynos.
    pub quantity: u32,
    /// Dyno size (`{id, name}`), newer field.
    #[serde(default)]
    pub dyno_size: Option<NamedRef>,
    /// Dyno size name, deprecated field kept by Heroku.
    #[serde(default)]
    pub size: Option<String>,
    /// Command run by the dynos.
    #[serde(default)]
    pub command: Option<String>,
    /// App of the formation.
    #[serde(default)]
    pub app: Option<AppRef>,
    /// Last update time (ISO 8601).
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl Formation {
    /// The dyno size name, whichever field carries it.
    pub fn size_name(&self) -> Option<&str> {
        self.dyno_size
            .as_ref()
            .and_then(|d| d.name.as_deref())
            .or(self.size.as_deref())
    }
}

/// Body of `PATCH /apps/{app}/formation/{type}`; absent fields are left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct FormationUpdate {
    /// New dyno count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// New dyno size, sent as `dyno_size: {name}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dyno_size: Option<NamedRef>,
}

impl FormationUpdate {
    /// An update setting quantity and/or size by name.
    pub fn new(quantity: Option<u32>, size: Option<&str>) -> Self {
        Self {
            quantity,
            dyno_size: size.map(|name| NamedRef {
                id: None,
                name: Some(name.to_string()),
            }),
        }
    }
}

impl HerokuClient {
    /// Reads an app by name or UUID. Results are cached per app until a write to it.
    pub async fn app(&self, name_or_id: &str) -> Result<App, HerokuError> {
        let known = Uuid::parse_str(name_or_id)
            .ok()
            .or_else(|| self.known_app_id(name_or_id));
        // Until the id is known there is no scope to invalidate by, so an app read by
        // a new name is only coalesced; the name is then remembered.
        let (scope, reuse) = match known {
            Some(id) => (Scope::App(id), Reuse::Cache),
            None => (Scope::Unscoped, Reuse::InFlightOnly),
        };
        let url = self.platform_url(&["apps", name_or_id])?;
        let context = RequestContext::on_app("reading app", name_or_id);
        let value = self
            .get_value(Api::Platform, url.clone(), scope, reuse, &context)
            .await?;
        let app: App = super::decode(&value, &context, 200)?;
        self.remember_app(app.id, &app.name);
        if known.is_none() {
            self.inner
                .store
                .put(super::object_key(&url), Scope::App(app.id), value);
        }
        Ok(app)
    }

    /// App UUID for a name or UUID. A UUID is returned as is; a name is looked up once
    /// per process.
    pub async fn resolve_app_id(&self, name_or_id: &str) -> Result<Uuid, HerokuError> {
        if let Ok(id) = Uuid::parse_str(name_or_id) {
            return Ok(id);
        }
        if let Some(id) = self.known_app_id(name_or_id) {
            return Ok(id);
        }
        Ok(self.app(name_or_id).await?.id)
    }

    /// All formations of an app (cached per app until a write to it).
    pub async fn formations(&self, app_id: Uuid) -> Result<Vec<Formation>, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "formation"])?;
        let context = RequestContext::on_app("listing formations", self.app_label(app_id));
        self.get_list(url, None, true, Scope::App(app_id), Reuse::Cache, context)
            .await
    }

    /// Sets quantity and/or size of one process type. The body holds absolute values,
    /// so the PATCH is retried like an idempotent request.
    pub async fn update_formation(
        &self,
        app_id: Uuid,
        process_type: &str,
        update: &FormationUpdate,
    ) -> Result<Formation, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "formation", process_type])?;
        let context = RequestContext::on_app(
            format!("updating formation {process_type}"),
            self.app_label(app_id),
        );
        let result = self
            .send_write(
                Api::Platform,
                Method::PATCH,
                url,
                Some(update),
                true,
                &context,
            )
            .await;
        self.invalidate_app_data(app_id);
        let response = result?;
        let value = super::parse_body(&response.body, &context, response.status)?;
        super::decode(&value, &context, response.status)
    }

    /// Drops cached responses of an app after a write, keeping its name mapping.
    pub(crate) fn invalidate_app_data(&self, app_id: Uuid) {
        self.inner.store.invalidate(Scope::App(app_id));
    }
}
