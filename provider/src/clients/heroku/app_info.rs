//! What the `treeherder_app` data source reads beyond `apps.rs`: slugs (for a release's
//! commit) and the names, never the values, of an app's config vars.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::transport::Api;
use super::{HerokuClient, HerokuError, RequestContext};

/// A slug (`GET /apps/{app}/slugs/{slug}`); only the fields the provider uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slug {
    /// Slug UUID.
    pub id: Uuid,
    /// Commit the slug was built from (a git SHA), if Heroku knows it.
    #[serde(default)]
    pub commit: Option<String>,
    /// The commit's message.
    #[serde(default)]
    pub commit_description: Option<String>,
    /// Process type → command, from the Procfile.
    #[serde(default)]
    pub process_types: BTreeMap<String, String>,
}

impl HerokuClient {
    /// One slug of an app (slugs never change; cached per app).
    pub async fn slug(&self, app_id: Uuid, slug_id: Uuid) -> Result<Slug, HerokuError> {
        let url =
            self.platform_url(&["apps", &app_id.to_string(), "slugs", &slug_id.to_string()])?;
        let context =
            RequestContext::on_app(format!("reading slug {slug_id}"), self.app_label(app_id));
        self.get_object(
            Api::Platform,
            url,
            Scope::App(app_id),
            Reuse::Cache,
            context,
        )
        .await
    }

    /// The names of an app's config vars, sorted. The values are dropped here, inside the
    /// client, so no caller can show or log them.
    pub async fn config_var_names(&self, app_id: Uuid) -> Result<Vec<String>, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "config-vars"])?;
        let context = RequestContext::on_app("reading config var names", self.app_label(app_id));
        let vars: BTreeMap<String, Value> = self
            .get_object(
                Api::Platform,
                url,
                Scope::App(app_id),
                Reuse::Cache,
                context,
            )
            .await?;
        Ok(vars.into_keys().collect())
    }
}
