//! Dyno sizes an app may use, and one formation of an app read through the app's shared
//! formation listing (see `coalesce.rs`): N formations of one app cost one listing per
//! provider process, not N requests.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::{Formation, HerokuClient, HerokuError, RequestContext};

/// A dyno size (`GET /apps/{app}/available-dyno-sizes`); only the fields the provider uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailableDynoSize {
    /// Size name in Heroku's spelling ("Standard-2X").
    pub name: String,
    /// Compute units.
    #[serde(default)]
    pub compute: Option<f64>,
    /// Memory in GB.
    #[serde(default)]
    pub memory: Option<f64>,
}

impl HerokuClient {
    /// The dyno sizes the app may use (cached per app until a write to it).
    pub async fn available_dyno_sizes(
        &self,
        app_id: Uuid,
    ) -> Result<Vec<AvailableDynoSize>, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "available-dyno-sizes"])?;
        let context =
            RequestContext::on_app("listing available dyno sizes", self.app_label(app_id));
        self.get_list(url, None, true, Scope::App(app_id), Reuse::Cache, context)
            .await
    }

    /// The formation of one process type, from the app's cached formation listing; `None`
    /// when the app has no such process type.
    pub async fn formation(
        &self,
        app_id: Uuid,
        process_type: &str,
    ) -> Result<Option<Formation>, HerokuError> {
        Ok(self
            .formations(app_id)
            .await?
            .into_iter()
            .find(|f| f.process_type == process_type))
    }
}
