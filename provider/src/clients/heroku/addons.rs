//! Add-ons of an app, read only for the config vars they own (`DATABASE_URL`, `REDIS_URL`):
//! keys that an add-on sets and rotates, never to be managed as the app's own.

use std::collections::BTreeSet;

use serde::Deserialize;
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::{HerokuClient, HerokuError, RequestContext};

/// An add-on (`GET /apps/{app}/addons`); only the field the provider uses.
#[derive(Debug, Clone, Deserialize)]
struct AddonVars {
    /// Config vars the add-on exposes to the app.
    #[serde(default)]
    config_vars: Vec<String>,
}

impl HerokuClient {
    /// The config var keys that belong to the app's add-ons, sorted, from the add-on list
    /// (every page; cached until a write to the app).
    pub async fn addon_config_var_keys(&self, app_id: Uuid) -> Result<Vec<String>, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "addons"])?;
        let context = RequestContext::on_app("listing add-ons", self.app_label(app_id));
        let addons: Vec<AddonVars> = self
            .get_list(url, None, true, Scope::App(app_id), Reuse::Cache, context)
            .await?;
        Ok(addons
            .into_iter()
            .flat_map(|a| a.config_vars)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect())
    }
}
