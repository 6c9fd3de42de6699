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

/// Heroku's app name rule: lowercase letters, digits and dashes, starting with a letter and
/// not ending with a dash, 3 to 30 characters.
const APP_NAME_PATTERN: &str = r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$";
/// A hyphenated UUID, any case.
const UUID_PATTERN: &str =
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";
/// What an app attribute accepts, as shown in diagnostics.
pub const APP_FORMS: &str = "an app name (3 to 30 lowercase letters, digits and dashes, starting with a letter, e.g. \"treeherder-prod\") or an app UUID";

/// An app as written in a configuration: its name or its UUID, checked before any request
/// (an empty or `..` name would otherwise become a request for another path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIdentity(String);

/// Why an app identity was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Expected {APP_FORMS}; got {}.", tfplugin::types::quote(.0))]
pub struct AppIdentityError(String);

impl AppIdentity {
    /// Parses an app name or UUID.
    pub fn parse(text: &str) -> Result<AppIdentity, AppIdentityError> {
        if is_app_name(text) || Uuid::try_parse(text).is_ok_and(|_| text.len() == 36) {
            Ok(AppIdentity(text.to_string()))
        } else {
            Err(AppIdentityError(text.to_string()))
        }
    }

    /// The app's UUID when it is written as one.
    pub fn uuid(&self) -> Option<Uuid> {
        Uuid::try_parse(&self.0).ok()
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_app_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    (3..=30).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

impl From<Uuid> for AppIdentity {
    fn from(id: Uuid) -> Self {
        AppIdentity(id.to_string())
    }
}

impl From<AppIdentity> for String {
    fn from(app: AppIdentity) -> Self {
        app.0
    }
}

impl AsRef<str> for AppIdentity {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An app identity is text wherever text is wanted (a URL segment, a message), so code that
/// took the configured `String` takes it unchanged.
impl std::ops::Deref for AppIdentity {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

tfplugin::text_value!(
    AppIdentity,
    schema = {
        let pattern = format!(
            "^(?:{}|{})$",
            &APP_NAME_PATTERN[1..APP_NAME_PATTERN.len() - 1],
            &UUID_PATTERN[1..UUID_PATTERN.len() - 1]
        );
        schemars::json_schema!({
            "type": "string",
            "pattern": pattern,
            "examples": ["treeherder-prod"]
        })
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_identities_are_names_or_uuids() {
        for good in [
            "treeherder-prod",
            "abc",
            "a1-2",
            &"a".repeat(30),
            "6f1c1e5e-0000-4000-8000-000000000001",
            "6F1C1E5E-0000-4000-8000-00000000000A",
        ] {
            assert!(AppIdentity::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "ab",
            &"a".repeat(31),
            "Treeherder-prod",
            "1app",
            "app-",
            "app_name",
            "app/x",
            " app",
            "6f1c1e5e00004000800000000000000a",
            "../apps/treeherder-prod",
            "treeherder-stage?x=1",
            " treeherder-stage",
            "treeherder-stage\n",
        ] {
            assert!(AppIdentity::parse(bad).is_err(), "{bad:?}");
        }
        let err = AppIdentity::parse(&"x".repeat(10_000))
            .unwrap_err()
            .to_string();
        assert!(
            err.len() < 500 && err.contains("lowercase letters"),
            "{err}"
        );
        let pattern = regex::Regex::new(
            schemars::SchemaGenerator::default()
                .subschema_for::<AppIdentity>()
                .get("pattern")
                .and_then(|p| p.as_str())
                .unwrap(),
        )
        .unwrap();
        assert!(pattern.is_match("treeherder-prod") && !pattern.is_match(".."));
    }
}
