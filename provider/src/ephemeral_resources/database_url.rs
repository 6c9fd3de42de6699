//! `treeherder_database_url`: an app's `DATABASE_URL` config var and its parts, only while
//! Terraform runs, to hand the app's MySQL credentials to write-only attributes without a copy
//! at rest.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, EphemeralResource, Opened};
use tfplugin::types::quote;
use tfplugin::{attr, Diagnostic, Diagnostics, Field, Sensitive};

use crate::clients::database_url::{DatabaseUrl, DATABASE_URL};
use crate::clients::heroku::AppIdentity;
use crate::clients::Clients;

/// The app's `DATABASE_URL` and its parts (percent-decoded), never stored.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct DatabaseUrlModel {
    /// The Heroku app, by name (`treeherder-stage`) or UUID.
    pub app: Field<AppIdentity>,
    /// The whole `DATABASE_URL`, as the app holds it.
    #[serde(default)]
    #[tf(computed)]
    pub url: Field<Sensitive>,
    /// Host name of the database server.
    #[serde(default)]
    #[tf(computed)]
    pub host: Field<String>,
    /// Port; 3306 when the URL names none.
    #[serde(default)]
    #[tf(computed)]
    pub port: Field<u64>,
    /// MySQL user name (percent-decoded).
    #[serde(default)]
    #[tf(computed)]
    pub username: Field<String>,
    /// MySQL password (percent-decoded).
    #[serde(default)]
    #[tf(computed)]
    pub password: Field<Sensitive>,
    /// Database name (the URL's path without its `/`, percent-decoded).
    #[serde(default)]
    #[tf(computed)]
    pub database: Field<String>,
}

/// The `treeherder_database_url` ephemeral resource.
pub struct DatabaseUrlEphemeralResource;

#[async_trait]
impl EphemeralResource for DatabaseUrlEphemeralResource {
    type Model = DatabaseUrlModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_database_url"
    }

    async fn open(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: DatabaseUrlModel,
    ) -> Result<Opened<DatabaseUrlModel>, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app = config.app.value()?.clone();
        let app_id = heroku.resolve_app_id(&app).await?;
        // Fresh: an ephemeral value is read when needed, not from a cache of this run.
        let vars = heroku.read_config_vars(app_id, true).await?;
        let Some(text) = vars.get(DATABASE_URL) else {
            return Err(Diagnostic::error(
                "No DATABASE_URL",
                format!("The app {} has no {DATABASE_URL} config var.", quote(&app)),
            )
            .at(attr!(DatabaseUrlModel, app))
            .into());
        };
        tfplugin::log::register_secret(text);
        let parsed = DatabaseUrl::parse(text).map_err(|e| {
            Diagnostic::error(
                "Unusable DATABASE_URL",
                format!(
                    "The {DATABASE_URL} of {} cannot be used: {e}. Expected \
                     mysql://user:password@host:port/database.",
                    quote(&app)
                ),
            )
            .at(attr!(DatabaseUrlModel, app))
        })?;
        tfplugin::log::register_secret(&parsed.password);
        config.url.set(Sensitive::new(text.as_str()));
        config.host.set(parsed.host);
        config.port.set(u64::from(parsed.port));
        config.username.set(parsed.username);
        config.password.set(Sensitive::new(parsed.password));
        config.database.set(parsed.database);
        Ok(Opened::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_marks_the_secrets_sensitive() {
        let schema = DatabaseUrlEphemeralResource.schema().unwrap();
        for name in ["url", "password"] {
            let a = schema.block.attribute(name).unwrap();
            assert!(a.sensitive && a.computed, "{name}");
        }
        for name in ["host", "port", "username", "database"] {
            assert!(!schema.block.attribute(name).unwrap().sensitive, "{name}");
        }
        assert!(schema.block.attribute("app").unwrap().required);
    }
}
