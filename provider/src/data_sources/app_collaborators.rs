//! `treeherder_app_collaborators`: every collaborator of an app, each with the id that
//! imports it into `treeherder_app_collaborator`.

use std::collections::BTreeSet;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::{Diagnostics, Field};

use crate::clients::heroku::{AppIdentity, Collaborator, CollaboratorApp};
use crate::clients::Clients;

/// The collaborators of a Heroku app, for adopting them: each with its import id and its
/// permissions as `treeherder_app_collaborator` reads them after an import, so a
/// configuration made of these values plans no change.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct AppCollaboratorsModel {
    /// The app, by name (`treeherder-prod`) or UUID. The import ids name it as written here.
    pub app: Field<AppIdentity>,
    /// The app's collaborators, by e-mail.
    // A list of plain objects, not nested attributes: Terraform 1.0.3 rejects references
    // into computed nested attributes.
    #[serde(default)]
    #[tf(computed)]
    pub collaborators: Field<Vec<ListedCollaborator>>,
}

/// One collaborator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListedCollaborator {
    /// E-mail of the collaborator's Heroku account, as Heroku spells it.
    pub email: Option<String>,
    /// Permissions on a team app (`view`, `deploy`, `operate`, `manage`); null on a personal
    /// app, which has none (leave `permissions` out of the resource then).
    pub permissions: Option<BTreeSet<String>>,
    /// The id `terraform import treeherder_app_collaborator.<name> <import_id>` takes:
    /// `<app>:<email>`, with `app` as written in this data source.
    pub import_id: Option<String>,
}

impl ListedCollaborator {
    /// The collaborator as `treeherder_app_collaborator`'s import reads it.
    fn of(app: &AppIdentity, on: &CollaboratorApp, collaborator: &Collaborator) -> Self {
        let email = collaborator.user.email.clone();
        ListedCollaborator {
            import_id: Some(format!("{}:{email}", app.as_str())),
            permissions: on.team.is_some().then(|| collaborator.permission_names()),
            email: Some(email),
        }
    }
}

/// The `treeherder_app_collaborators` data source.
pub struct AppCollaboratorsDataSource;

#[async_trait]
impl DataSource for AppCollaboratorsDataSource {
    type Model = AppCollaboratorsModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_app_collaborators"
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: AppCollaboratorsModel,
    ) -> Result<AppCollaboratorsModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app = config.app.value()?.clone();
        let on = CollaboratorApp::of(&heroku.app(app.as_str()).await?);
        let mut listed: Vec<ListedCollaborator> = heroku
            .collaborators(&on)
            .await?
            .iter()
            .map(|c| ListedCollaborator::of(&app, &on, c))
            .collect();
        listed.sort_by(|a, b| a.email.cmp(&b.email));
        config.collaborators.set(listed);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collaborator(permissions: &[&str]) -> Collaborator {
        serde_json::from_value(serde_json::json!({
            "id": "5b3a3c0e-1f4e-4a57-9f67-0c6a2f0f1d11",
            "user": {"email": "Alice@Example.com"},
            "permissions": permissions.iter().map(|p| serde_json::json!({"name": p})).collect::<Vec<_>>(),
            "role": "member",
        }))
        .unwrap()
    }

    fn app(team: Option<&str>) -> CollaboratorApp {
        CollaboratorApp {
            id: uuid::Uuid::nil(),
            name: "treeherder-prod".into(),
            team: team.map(str::to_string),
        }
    }

    #[test]
    fn lists_the_import_id_and_permissions_only_on_team_apps() {
        let ident = AppIdentity::parse("treeherder-prod").unwrap();
        let c = collaborator(&["view", "deploy"]);
        let listed = ListedCollaborator::of(&ident, &app(Some("mozilla")), &c);
        assert_eq!(
            listed.import_id.as_deref(),
            Some("treeherder-prod:Alice@Example.com")
        );
        assert_eq!(
            listed.permissions,
            Some(BTreeSet::from(["deploy".to_string(), "view".to_string()]))
        );
        assert_eq!(
            ListedCollaborator::of(&ident, &app(None), &c).permissions,
            None
        );
    }

    #[test]
    fn schema_derives_with_a_computed_list() {
        let schema = AppCollaboratorsDataSource.schema().unwrap();
        assert!(schema.block.attribute("app").unwrap().required);
        assert!(schema.block.attribute("collaborators").unwrap().computed);
    }
}
