//! `treeherder_rds_instances`: the RDS instances whose identifier starts with a prefix, each
//! with the id that imports it into `treeherder_rds_snapshot_instance`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::{Diagnostics, Field};

use crate::clients::rds::Instance;
use crate::clients::Clients;

/// The RDS instances whose identifier starts with a prefix, e.g. the temporary
/// `treeherder-dev-bugNNNNNN` instances restored by hand, for adopting them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct RdsInstancesModel {
    /// The start of the identifiers to list, e.g. `treeherder-dev-bug` (compared in lower
    /// case, as RDS stores identifiers); `""` lists every instance.
    #[schemars(length(max = 63))]
    pub identifier_prefix: Field<String>,
    /// The matching instances, by identifier.
    // A list of plain objects, not nested attributes: Terraform 1.0.3 rejects references
    // into computed nested attributes.
    #[serde(default)]
    #[tf(computed)]
    pub instances: Field<Vec<ListedInstance>>,
}

/// One DB instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListedInstance {
    /// The instance's identifier.
    pub identifier: Option<String>,
    /// The id `terraform import treeherder_rds_snapshot_instance.<name> <import_id>` takes
    /// (the identifier).
    pub import_id: Option<String>,
    /// `available`, `creating`, `modifying`, …
    pub status: Option<String>,
    /// `address:port`; null until the instance has an endpoint.
    pub endpoint: Option<String>,
    /// Instance class, e.g. `db.m5.xlarge`.
    pub instance_class: Option<String>,
}

impl From<&Instance> for ListedInstance {
    fn from(i: &Instance) -> Self {
        ListedInstance {
            identifier: Some(i.identifier.clone()),
            import_id: Some(i.identifier.clone()),
            status: Some(i.status.clone()),
            endpoint: i.endpoint(),
            instance_class: Some(i.class.clone()),
        }
    }
}

/// The `treeherder_rds_instances` data source.
pub struct RdsInstancesDataSource;

#[async_trait]
impl DataSource for RdsInstancesDataSource {
    type Model = RdsInstancesModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_rds_instances"
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: RdsInstancesModel,
    ) -> Result<RdsInstancesModel, Diagnostics> {
        let rds = ctx.client()?.rds().await?;
        let instances = rds
            .instances_with_prefix(config.identifier_prefix.value()?)
            .await?;
        config.instances.set(
            instances
                .iter()
                .map(ListedInstance::from)
                .collect::<Vec<_>>(),
        );
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_derives_with_a_computed_list() {
        let schema = RdsInstancesDataSource.schema().unwrap();
        assert!(
            schema
                .block
                .attribute("identifier_prefix")
                .unwrap()
                .required
        );
        assert!(schema.block.attribute("instances").unwrap().computed);
    }
}
