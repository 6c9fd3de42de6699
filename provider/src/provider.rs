//! The Treeherder provider: its configuration and its resources.

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::framework::{DynDataSource, DynEphemeralResource, DynResource, Provider};
use tfplugin::function::DynFunction;
use tfplugin::schema::SchemaDeriveError;
use tfplugin::Diagnostics;

use crate::clients::Clients;
use crate::config::ProviderConfig;

/// The provider's source address.
pub const ADDRESS: &str = "registry.terraform.io/treeherder/treeherder";

/// The Treeherder provider.
pub struct TreeherderProvider;

#[async_trait]
impl Provider for TreeherderProvider {
    type Config = ProviderConfig;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder"
    }

    async fn configure(
        &self,
        config: ProviderConfig,
        _terraform_version: &str,
    ) -> Result<Clients, Diagnostics> {
        Clients::from_config(config)
    }

    fn resources(&self) -> Result<Vec<Arc<dyn DynResource<Clients>>>, SchemaDeriveError> {
        Ok(vec![
            tfplugin::framework::resource(crate::resources::scheduler_job::SchedulerJobResource)?,
            tfplugin::framework::operation(
                crate::resources::pipeline_promotion::PipelinePromotionResource,
            )?,
            tfplugin::framework::resource(crate::resources::readonly_user::ReadonlyUserResource)?,
            tfplugin::framework::resource(crate::resources::formation::FormationResource)?,
            tfplugin::framework::resource(crate::resources::config_vars::ConfigVarsResource)?,
            tfplugin::framework::operation(
                crate::resources::release_rollback::ReleaseRollbackResource,
            )?,
            tfplugin::framework::operation(crate::resources::dyno_restart::DynoRestartResource)?,
            tfplugin::framework::resource(
                crate::resources::app_collaborator::AppCollaboratorResource,
            )?,
            tfplugin::framework::operation(crate::resources::one_off_dyno::OneOffDynoResource)?,
            tfplugin::framework::resource(
                crate::resources::database_password::DatabasePasswordResource,
            )?,
            tfplugin::framework::resource(
                crate::resources::rds_snapshot_instance::RdsSnapshotInstanceResource,
            )?,
            tfplugin::framework::resource(crate::resources::app_github::AppGithubResource)?,
            tfplugin::framework::operation(crate::resources::deployment::DeploymentResource)?,
        ])
    }

    fn data_sources(&self) -> Result<Vec<Arc<dyn DynDataSource<Clients>>>, SchemaDeriveError> {
        Ok(vec![
            tfplugin::framework::data_source(
                crate::data_sources::mysql_tables::MysqlTablesDataSource,
            )?,
            tfplugin::framework::data_source(
                crate::data_sources::mysql_accounts::MysqlAccountsDataSource,
            )?,
            tfplugin::framework::data_source(crate::data_sources::app::AppDataSource)?,
            tfplugin::framework::data_source(
                crate::data_sources::rds_snapshot::RdsSnapshotDataSource,
            )?,
            tfplugin::framework::data_source(
                crate::data_sources::scheduler_jobs::SchedulerJobsDataSource,
            )?,
            tfplugin::framework::data_source(
                crate::data_sources::rds_instances::RdsInstancesDataSource,
            )?,
            tfplugin::framework::data_source(
                crate::data_sources::app_collaborators::AppCollaboratorsDataSource,
            )?,
        ])
    }

    fn functions(&self) -> Vec<Arc<dyn DynFunction>> {
        vec![
            tfplugin::function::function(crate::functions::database_url::DatabaseUrlFunction),
            tfplugin::function::function(crate::functions::readonly_grants::ReadonlyGrantsFunction),
        ]
    }

    fn ephemeral_resources(
        &self,
    ) -> Result<Vec<Arc<dyn DynEphemeralResource<Clients>>>, SchemaDeriveError> {
        Ok(vec![
            tfplugin::framework::ephemeral_resource(
                crate::ephemeral_resources::password::PasswordEphemeralResource,
            )?,
            tfplugin::framework::ephemeral_resource(
                crate::ephemeral_resources::database_url::DatabaseUrlEphemeralResource,
            )?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every resource, data source and ephemeral resource derives its schema: a misspelt or
    /// setting naming no attribute, or a plain field where a `Field` belongs, fails here.
    #[test]
    fn every_registered_schema_derives() {
        let service = tfplugin::service::ProviderService::new(TreeherderProvider);
        let errors: Vec<String> = service
            .setup_errors()
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        let schemas = service.model_json_schemas();
        assert!(schemas.len() >= 4, "{:?}", schemas.keys());
    }
}
