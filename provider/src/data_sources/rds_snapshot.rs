//! `treeherder_rds_snapshot`: the most recent available snapshot of an RDS instance.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::rds::{RdsClient, RdsError, Snapshot, SnapshotType};
use crate::clients::Clients;

fn default_snapshot_type() -> Field<String> {
    Field::known("automated".to_owned())
}

/// The most recent snapshot of an RDS instance whose status is `available`, e.g. last night's
/// automated snapshot of `treeherder-prod`. A snapshot still being created (it has no creation
/// time yet) is never chosen.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct RdsSnapshotModel {
    /// The instance the snapshots were taken of, e.g. `treeherder-prod`.
    #[schemars(length(min = 1, max = 63))]
    pub db_instance_identifier: Field<String>,
    /// Which snapshots to choose from: `automated` (RDS's nightly ones), `manual` or `any`.
    #[serde(default = "default_snapshot_type")]
    #[schemars(extend("enum" = ["automated", "manual", "any"]))]
    pub snapshot_type: Field<String>,
    /// The snapshot's identifier (`rds:treeherder-prod-2026-12-01-03-10` for an automated one).
    #[serde(default)]
    #[tf(computed)]
    pub id: Field<String>,
    /// The snapshot's ARN.
    #[serde(default)]
    #[tf(computed)]
    pub arn: Field<String>,
    /// When the snapshot was taken (RFC 3339, UTC).
    #[serde(default)]
    #[tf(computed)]
    pub created_at: Field<String>,
    /// Database engine, e.g. `mysql`.
    #[serde(default)]
    #[tf(computed)]
    pub engine: Field<String>,
    /// Engine version, e.g. `5.7.23`.
    #[serde(default)]
    #[tf(computed)]
    pub engine_version: Field<String>,
    /// Storage allocated to the instance when the snapshot was taken, in GiB.
    #[serde(default)]
    #[tf(computed)]
    pub allocated_storage: Field<i64>,
}

/// The `treeherder_rds_snapshot` data source.
pub struct RdsSnapshotDataSource;

/// `automated`, `manual` or `any` (the schema's validator has refused anything else).
pub(crate) fn snapshot_type(text: &str) -> SnapshotType {
    match text {
        "manual" => SnapshotType::Manual,
        "any" => SnapshotType::Any,
        _ => SnapshotType::Automated,
    }
}

/// The newest available snapshot of `instance`; none is an error at `at`, the attribute
/// naming the instance.
pub(crate) async fn latest_snapshot(
    rds: &RdsClient,
    instance: &str,
    kind: SnapshotType,
    at: tfplugin::AttributePath,
) -> Result<Snapshot, Diagnostics> {
    match rds.latest_snapshot(instance, kind).await {
        Ok(snapshot) => Ok(snapshot),
        Err(e @ RdsError::NoSnapshot { .. }) => {
            Err(Diagnostic::error("No snapshot to choose", e.to_string())
                .at(at)
                .into())
        }
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl DataSource for RdsSnapshotDataSource {
    type Model = RdsSnapshotModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_rds_snapshot"
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: RdsSnapshotModel,
    ) -> Result<RdsSnapshotModel, Diagnostics> {
        let rds = ctx.client()?.rds().await?;
        let instance = config.db_instance_identifier.value()?.clone();
        let kind = snapshot_type(
            config
                .snapshot_type
                .get()
                .map_or("automated", String::as_str),
        );
        let snapshot = latest_snapshot(
            rds,
            &instance,
            kind,
            attr!(RdsSnapshotModel, db_instance_identifier),
        )
        .await?;
        config.id.set(snapshot.id);
        config.arn.set(snapshot.arn);
        config.created_at = snapshot.created_at.into();
        config.engine.set(snapshot.engine);
        config.engine_version.set(snapshot.engine_version);
        config.allocated_storage.set(snapshot.allocated_storage);
        Ok(config)
    }
}
