//! `treeherder_app`: what is deployed on an app, and how it runs.
//!
//! Config vars are read by name only: their values never leave the Heroku client.

use std::collections::BTreeMap;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::{Diagnostics, Field};

use crate::clients::heroku::{AppIdentity, Formation, HerokuClient, Release};
use crate::clients::Clients;

/// A Heroku app: where it runs, its current release and commit, its process types and the
/// names of its config vars.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct AppModel {
    /// The app, by name (`treeherder-prod`) or UUID.
    pub name: Field<AppIdentity>,
    /// UUID of the app.
    #[serde(default)]
    #[tf(computed)]
    pub id: Field<String>,
    /// Region the app runs in (`us`, `eu`).
    #[serde(default)]
    #[tf(computed)]
    pub region: Field<String>,
    /// Stack of the current release (`heroku-18`).
    #[serde(default)]
    #[tf(computed)]
    pub stack: Field<String>,
    /// The app's URL (`https://treeherder-prod.herokuapp.com/`).
    #[serde(default)]
    #[tf(computed)]
    pub web_url: Field<String>,
    /// Team owning the app; null for a personal app.
    #[serde(default)]
    #[tf(computed)]
    pub team: Field<String>,
    /// The current release; null when the app has none.
    // A plain object type, not nested attributes: Terraform 1.0.3 rejects references into
    // computed nested attributes ("This value does not have any attributes").
    #[serde(default)]
    #[tf(computed)]
    pub release: Field<AppRelease>,
    /// Process type → its formation, e.g. `process_types["web"].quantity`.
    #[serde(default)]
    #[tf(computed)]
    pub process_types: Field<BTreeMap<String, ProcessTypeInfo>>,
    /// Names of the app's config vars, sorted; values are never read into Terraform.
    #[serde(default)]
    #[tf(computed)]
    pub config_var_keys: Field<Vec<String>>,
    /// Names of the config vars that belong to the app's add-ons (`REDIS_URL`,
    /// `DATABASE_URL`), sorted: an add-on sets and rotates them, so they are never to be
    /// adopted into `treeherder_config_vars`.
    #[serde(default)]
    #[tf(computed)]
    pub addon_config_var_keys: Field<Vec<String>>,
}

/// The current release of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppRelease {
    /// Release UUID.
    pub id: Option<String>,
    /// Release version (`v42` is 42).
    pub version: Option<u64>,
    /// Description (`Deploy 9f04d1ab`, `Promote treeherder-stage v12`).
    pub description: Option<String>,
    /// When the release was made (ISO 8601).
    pub created_at: Option<String>,
    /// Git commit of the release's slug; null for a release without code.
    pub commit: Option<String>,
}

/// One process type of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessTypeInfo {
    /// Number of dynos.
    pub quantity: Option<u32>,
    /// Dyno size, in Heroku's spelling.
    pub size: Option<String>,
    /// Command from the Procfile.
    pub command: Option<String>,
}

impl From<&Formation> for ProcessTypeInfo {
    fn from(f: &Formation) -> Self {
        ProcessTypeInfo {
            quantity: Some(f.quantity),
            size: f.size_name().map(str::to_string),
            command: f.command.clone(),
        }
    }
}

/// The current release with its slug's commit, or `None` when the app has no release.
async fn current_release(
    heroku: &HerokuClient,
    app_id: uuid::Uuid,
) -> Result<Option<AppRelease>, Diagnostics> {
    let release: Release = match heroku.current_release(app_id).await {
        Ok(release) => release,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let commit = match &release.slug {
        Some(slug) => heroku.slug(app_id, slug.id).await?.commit,
        None => None,
    };
    Ok(Some(AppRelease {
        id: Some(release.id.to_string()),
        version: Some(release.version),
        description: release.description,
        created_at: release.created_at,
        commit,
    }))
}

/// The `treeherder_app` data source.
pub struct AppDataSource;

#[async_trait]
impl DataSource for AppDataSource {
    type Model = AppModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_app"
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: AppModel,
    ) -> Result<AppModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app = heroku.app(config.name.value()?).await?;
        let (release, formations, keys, addon_keys) = tokio::try_join!(
            current_release(heroku, app.id),
            async { Ok::<_, Diagnostics>(heroku.formations(app.id).await?) },
            async { Ok::<_, Diagnostics>(heroku.config_var_names(app.id).await?) },
            async { Ok::<_, Diagnostics>(heroku.addon_config_var_keys(app.id).await?) },
        )?;
        config.id.set(app.id.to_string());
        config.region = app.region.and_then(|r| r.name).into();
        config.stack = app.stack.and_then(|s| s.name).into();
        config.web_url = app.web_url.into();
        config.team = app.team.and_then(|t| t.name).into();
        config.release = release.into();
        config.process_types.set(
            formations
                .iter()
                .map(|f| (f.process_type.clone(), ProcessTypeInfo::from(f)))
                .collect::<BTreeMap<_, _>>(),
        );
        config.config_var_keys.set(keys);
        config.addon_config_var_keys.set(addon_keys);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_derives_with_nested_release_and_process_types() {
        let schema = AppDataSource.schema().unwrap();
        assert!(schema.block.attribute("name").unwrap().required);
        for name in [
            "id",
            "region",
            "stack",
            "web_url",
            "team",
            "release",
            "process_types",
            "config_var_keys",
            "addon_config_var_keys",
        ] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
    }
}
