//! Amazon RDS: the snapshots of an instance, and restoring, modifying, rebooting and deleting
//! the instances made from them.
//!
//! Waiting is ours ([`poll`]), not the SDK's waiters: those poll at least every 30 s and take
//! a modify's stale `available` for done. Retries of throttling, 5xx and lost connections are
//! the SDK's standard retry policy; a restore whose answer was lost, or whose apply was killed,
//! is recognised afterwards by the token it was tagged with ([`RESTORE_TOKEN_TAG`],
//! [`restore_token`]), never restored twice.

mod error;
mod list;
pub mod poll;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_sdk_rds::primitives::DateTimeFormat;
use aws_sdk_rds::types::{DbInstance, DbSnapshot, Tag};

pub use error::RdsError;
pub use poll::{Settled, WaitLimits};

/// The region used when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Tag holding the token of the restore that made an instance ([`restore_token`]).
pub const RESTORE_TOKEN_TAG: &str = "treeherder:restore-token";

/// The token of restoring `snapshot` (the resolved id, never "the latest") as `identifier`:
/// derived from both, not random, so a later apply of the same configuration recognises an
/// instance an earlier one restored and then lost track of (Terraform killed before it saved
/// the state), while an instance from another snapshot or made by hand is never taken for it.
pub fn restore_token(identifier: &str, snapshot: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"treeherder-restore-v1\0")
        .chain_update(identifier.as_bytes())
        .chain_update(b"\0")
        .chain_update(snapshot.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Settings of the RDS client.
#[derive(Debug, Clone)]
pub struct RdsConfig {
    /// AWS region, e.g. `us-east-1`.
    pub region: String,
    /// Another endpoint than AWS's (moto); https://, or http:// to a loopback host.
    pub endpoint_url: Option<String>,
    /// Shared-config profile to take credentials from.
    pub profile: Option<String>,
    /// Attempts after the first for throttling, 5xx and lost connections.
    pub max_retries: u32,
    /// Time between two polls of an instance's status.
    pub poll_interval: Duration,
}

impl Default for RdsConfig {
    fn default() -> Self {
        RdsConfig {
            region: DEFAULT_REGION.to_owned(),
            endpoint_url: None,
            profile: None,
            max_retries: 5,
            poll_interval: Duration::from_secs(15),
        }
    }
}

/// Which snapshots count as candidates for "latest".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotType {
    /// RDS's nightly snapshots.
    Automated,
    /// Snapshots taken by hand.
    Manual,
    /// Both.
    Any,
}

impl SnapshotType {
    /// The attribute value: `automated`, `manual` or `any`.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotType::Automated => "automated",
            SnapshotType::Manual => "manual",
            SnapshotType::Any => "any",
        }
    }
}

/// One DB snapshot, as RDS describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `rds:treeherder-prod-2026-12-01-03-10` or a manual snapshot's name.
    pub id: String,
    /// The snapshot's ARN.
    pub arn: String,
    /// The instance it was taken of.
    pub instance: String,
    /// `available`, `creating`, …
    pub status: String,
    /// `automated` or `manual`.
    pub snapshot_type: String,
    /// When it was taken (RFC 3339); RDS leaves it out while the snapshot is being created.
    pub created_at: Option<String>,
    /// Its creation time in seconds since the epoch, to compare.
    created_epoch: Option<f64>,
    /// Engine, e.g. `mysql`.
    pub engine: String,
    /// Engine version, e.g. `5.7.23`.
    pub engine_version: String,
    /// Allocated storage in GiB.
    pub allocated_storage: i64,
}

/// A DB parameter group of an instance and whether its settings are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterGroupStatus {
    /// Group name.
    pub name: String,
    /// `in-sync`, `applying` or `pending-reboot`.
    pub apply_status: String,
}

/// One DB instance, as RDS describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Identifier (lower case).
    pub identifier: String,
    /// `creating`, `available`, `modifying`, …
    pub status: String,
    /// The instance's ARN.
    pub arn: String,
    /// Instance class, e.g. `db.m4.xlarge`.
    pub class: String,
    /// DNS name of the endpoint, once there is one.
    pub address: Option<String>,
    /// Port of the endpoint.
    pub port: Option<u16>,
    /// Whether it has a public address.
    pub publicly_accessible: bool,
    /// DB subnet group.
    pub subnet_group: Option<String>,
    /// Parameter groups and their apply status.
    pub parameter_groups: Vec<ParameterGroupStatus>,
    /// VPC security group ids, sorted.
    pub security_group_ids: Vec<String>,
    /// The master user (the snapshot's).
    pub master_username: Option<String>,
    /// The initial database (the snapshot's).
    pub db_name: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Whether RDS lists modifications not applied yet.
    pub has_pending_changes: bool,
}

impl Instance {
    /// Whether a parameter group waits for a reboot to apply.
    pub fn needs_reboot(&self) -> bool {
        self.parameter_groups
            .iter()
            .any(|g| g.apply_status == "pending-reboot")
    }

    /// Whether the instance was restored with `token` ([`RESTORE_TOKEN_TAG`]).
    pub fn restored_with(&self, token: &str) -> bool {
        self.tags.get(RESTORE_TOKEN_TAG).map(String::as_str) == Some(token)
    }

    /// `address:port`, once the instance has an endpoint.
    pub fn endpoint(&self) -> Option<String> {
        Some(format!("{}:{}", self.address.as_ref()?, self.port?))
    }
}

/// What a restore sets besides the snapshot.
#[derive(Debug, Clone, Default)]
pub struct RestoreRequest {
    /// The new instance's identifier.
    pub identifier: String,
    /// Snapshot id or ARN.
    pub snapshot: String,
    /// Instance class.
    pub class: Option<String>,
    /// DB subnet group.
    pub subnet_group: Option<String>,
    /// Public address or not.
    pub publicly_accessible: Option<bool>,
    /// DB parameter group.
    pub parameter_group: Option<String>,
    /// VPC security groups, replacing the default one.
    pub security_group_ids: Option<Vec<String>>,
    /// Tags ([`RdsClient::restore`] adds [`RESTORE_TOKEN_TAG`]).
    pub tags: BTreeMap<String, String>,
}

/// A modification applied immediately; `None` leaves a setting alone.
#[derive(Default)]
pub struct ModifyRequest {
    /// Instance class.
    pub class: Option<String>,
    /// VPC security groups (replaces the list).
    pub security_group_ids: Option<Vec<String>>,
    /// Public address or not.
    pub publicly_accessible: Option<bool>,
    /// DB parameter group.
    pub parameter_group: Option<String>,
    /// New master password. Never logged.
    pub master_password: Option<String>,
}

impl ModifyRequest {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.class.is_none()
            && self.security_group_ids.is_none()
            && self.publicly_accessible.is_none()
            && self.parameter_group.is_none()
            && self.master_password.is_none()
    }

    /// The settings it changes, by attribute name, for logs (never the password itself).
    pub fn describe(&self) -> Vec<&'static str> {
        [
            (self.class.is_some(), "instance_class"),
            (self.security_group_ids.is_some(), "vpc_security_group_ids"),
            (self.publicly_accessible.is_some(), "publicly_accessible"),
            (self.parameter_group.is_some(), "parameter_group_name"),
            (self.master_password.is_some(), "master password"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }
}

/// The RDS API client.
#[derive(Clone)]
pub struct RdsClient {
    client: aws_sdk_rds::Client,
    poll_interval: Duration,
}

impl std::fmt::Debug for RdsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RdsClient").finish_non_exhaustive()
    }
}

fn text(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

fn sdk_error<E>(action: &'static str, id: &str, error: aws_sdk_rds::error::SdkError<E>) -> RdsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match error.code() {
        Some(code) => RdsError::Api {
            action,
            id: id.to_owned(),
            code: code.to_owned(),
            message: error.message().unwrap_or_default().to_owned(),
        },
        None => RdsError::Transport {
            action,
            id: id.to_owned(),
            message: aws_sdk_rds::error::DisplayErrorContext(&error).to_string(),
        },
    }
}

impl From<&DbSnapshot> for Snapshot {
    fn from(s: &DbSnapshot) -> Self {
        let created = s.snapshot_create_time();
        Snapshot {
            id: text(s.db_snapshot_identifier()),
            arn: text(s.db_snapshot_arn()),
            instance: text(s.db_instance_identifier()),
            status: text(s.status()),
            snapshot_type: text(s.snapshot_type()),
            created_at: created.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
            created_epoch: created.map(|t| t.as_secs_f64()),
            engine: text(s.engine()),
            engine_version: text(s.engine_version()),
            allocated_storage: i64::from(s.allocated_storage().unwrap_or_default()),
        }
    }
}

impl From<&DbInstance> for Instance {
    fn from(i: &DbInstance) -> Self {
        let mut security_group_ids: Vec<String> = i
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_owned))
            .collect();
        security_group_ids.sort();
        let endpoint = i.endpoint();
        Instance {
            identifier: text(i.db_instance_identifier()),
            status: text(i.db_instance_status()),
            arn: text(i.db_instance_arn()),
            class: text(i.db_instance_class()),
            address: endpoint.and_then(|e| e.address()).map(str::to_owned),
            port: endpoint
                .and_then(|e| e.port())
                .and_then(|p| u16::try_from(p).ok()),
            publicly_accessible: i.publicly_accessible().unwrap_or(false),
            subnet_group: i
                .db_subnet_group()
                .and_then(|g| g.db_subnet_group_name())
                .map(str::to_owned),
            parameter_groups: i
                .db_parameter_groups()
                .iter()
                .map(|g| ParameterGroupStatus {
                    name: text(g.db_parameter_group_name()),
                    apply_status: text(g.parameter_apply_status()),
                })
                .collect(),
            security_group_ids,
            master_username: i.master_username().map(str::to_owned),
            db_name: i.db_name().map(str::to_owned),
            tags: i
                .tag_list()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), text(t.value()))))
                .collect(),
            has_pending_changes: i.pending_modified_values().is_some_and(has_pending_values),
        }
    }
}

/// Whether RDS lists a modification not applied yet (it sends an empty element when none).
fn has_pending_values(p: &aws_sdk_rds::types::PendingModifiedValues) -> bool {
    p.db_instance_class().is_some()
        || p.master_user_password().is_some()
        || p.db_instance_identifier().is_some()
        || p.allocated_storage().is_some()
        || p.engine_version().is_some()
        || p.port().is_some()
        || p.db_subnet_group_name().is_some()
        || p.multi_az().is_some()
}

/// The newest snapshot with status `available` (one still being created has no time and is
/// never chosen).
pub fn newest_available(snapshots: impl IntoIterator<Item = Snapshot>) -> Option<Snapshot> {
    snapshots
        .into_iter()
        .filter(|s| s.status == "available")
        .filter(|s| s.created_epoch.is_some())
        .max_by(|a, b| {
            a.created_epoch
                .partial_cmp(&b.created_epoch)
                .unwrap_or(std::cmp::Ordering::Equal)
                // Same second: the larger id, so the choice never depends on list order.
                .then_with(|| a.id.cmp(&b.id))
        })
}

impl RdsClient {
    /// A client for `config`, with credentials from the standard AWS chain (environment,
    /// shared profile, web identity, container and instance metadata).
    pub async fn new(config: &RdsConfig) -> Result<RdsClient, RdsError> {
        if let Some(url) = &config.endpoint_url {
            crate::clients::heroku::parse_base_url(url).map_err(|e| RdsError::Config {
                message: e.to_string(),
            })?;
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(config.region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(config.max_retries + 1));
        if let Some(profile) = &config.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let shared = loader.load().await;
        Ok(RdsClient {
            client: aws_sdk_rds::Client::new(&shared),
            poll_interval: config.poll_interval,
        })
    }

    /// Time between two polls.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// Every snapshot of `instance` of the given type, all pages.
    pub async fn snapshots(
        &self,
        instance: &str,
        snapshot_type: SnapshotType,
    ) -> Result<Vec<Snapshot>, RdsError> {
        let mut request = self
            .client
            .describe_db_snapshots()
            .db_instance_identifier(instance);
        if snapshot_type != SnapshotType::Any {
            request = request.snapshot_type(snapshot_type.as_str());
        }
        let mut pages = request.into_paginator().send();
        let mut snapshots = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("DescribeDBSnapshots", instance, e))?;
            snapshots.extend(page.db_snapshots().iter().map(Snapshot::from));
        }
        Ok(snapshots)
    }

    /// The newest available snapshot of `instance`, or an error naming it.
    pub async fn latest_snapshot(
        &self,
        instance: &str,
        snapshot_type: SnapshotType,
    ) -> Result<Snapshot, RdsError> {
        let snapshots = self.snapshots(instance, snapshot_type).await?;
        let seen = snapshots.len();
        newest_available(snapshots).ok_or_else(|| RdsError::NoSnapshot {
            instance: instance.to_owned(),
            snapshot_type: snapshot_type.as_str(),
            seen,
        })
    }

    /// One snapshot by id or ARN; `None` when RDS has none of that name.
    pub async fn snapshot(&self, id: &str) -> Result<Option<Snapshot>, RdsError> {
        match self
            .client
            .describe_db_snapshots()
            .db_snapshot_identifier(id)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_snapshots().first().map(Snapshot::from)),
            Err(e) if e.code() == Some("DBSnapshotNotFound") => Ok(None),
            Err(e) => Err(sdk_error("DescribeDBSnapshots", id, e)),
        }
    }

    /// The instance; `None` when RDS has none of that name.
    pub async fn instance(&self, id: &str) -> Result<Option<Instance>, RdsError> {
        match self
            .client
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_instances().first().map(Instance::from)),
            Err(e) if e.code() == Some("DBInstanceNotFound") => Ok(None),
            Err(e) => Err(sdk_error("DescribeDBInstances", id, e)),
        }
    }

    /// Starts a restore, tagged with `token`. When RDS says the instance exists and it carries
    /// that token, it is this restore's (the SDK sent it again after a lost answer): `Ok`.
    /// Any other instance of that name is [`RdsError::AlreadyExists`].
    pub async fn restore(&self, request: &RestoreRequest, token: &str) -> Result<(), RdsError> {
        let id = request.identifier.as_str();
        let mut request = request.clone();
        request
            .tags
            .insert(RESTORE_TOKEN_TAG.to_owned(), token.to_owned());
        match self.send_restore(&request).await {
            Err(RdsError::AlreadyExists { .. })
                if self
                    .instance(id)
                    .await?
                    .is_some_and(|i| i.restored_with(token)) =>
            {
                tfplugin::info!("{id}: the restore's answer was lost; the instance is ours");
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    async fn send_restore(&self, request: &RestoreRequest) -> Result<Instance, RdsError> {
        let id = request.identifier.as_str();
        let tags = request
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build());
        let out = self
            .client
            .restore_db_instance_from_db_snapshot()
            .db_instance_identifier(id)
            .db_snapshot_identifier(&request.snapshot)
            .set_db_instance_class(request.class.clone())
            .set_db_subnet_group_name(request.subnet_group.clone())
            .set_publicly_accessible(request.publicly_accessible)
            .set_db_parameter_group_name(request.parameter_group.clone())
            .set_vpc_security_group_ids(request.security_group_ids.clone())
            .set_tags(Some(tags.collect()))
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("DBInstanceAlreadyExists") => RdsError::AlreadyExists { id: id.to_owned() },
                _ => sdk_error("RestoreDBInstanceFromDBSnapshot", id, e),
            })?;
        out.db_instance()
            .map(Instance::from)
            .ok_or_else(|| RdsError::Empty {
                action: "RestoreDBInstanceFromDBSnapshot",
                id: id.to_owned(),
            })
    }

    /// Applies `request` immediately.
    pub async fn modify(&self, id: &str, request: ModifyRequest) -> Result<(), RdsError> {
        if let Some(password) = &request.master_password {
            tfplugin::log::register_secret(password);
        }
        tfplugin::info!("modifying {id}: {}", request.describe().join(", "));
        self.client
            .modify_db_instance()
            .db_instance_identifier(id)
            .apply_immediately(true)
            .set_db_instance_class(request.class)
            .set_vpc_security_group_ids(request.security_group_ids)
            .set_publicly_accessible(request.publicly_accessible)
            .set_db_parameter_group_name(request.parameter_group)
            .set_master_user_password(request.master_password)
            .send()
            .await
            .map_err(|e| sdk_error("ModifyDBInstance", id, e))?;
        Ok(())
    }

    /// Reboots the instance (to apply a parameter group in `pending-reboot`).
    pub async fn reboot(&self, id: &str) -> Result<(), RdsError> {
        tfplugin::info!("rebooting {id} to apply its parameter group");
        self.client
            .reboot_db_instance()
            .db_instance_identifier(id)
            .send()
            .await
            .map_err(|e| sdk_error("RebootDBInstance", id, e))?;
        Ok(())
    }

    /// Sets tags on the instance (by ARN).
    pub async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), RdsError> {
        self.client
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| sdk_error("AddTagsToResource", arn, e))?;
        Ok(())
    }

    /// Removes tags from the instance (by ARN).
    pub async fn untag(&self, arn: &str, keys: &[&str]) -> Result<(), RdsError> {
        self.client
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(keys.iter().map(|k| (*k).to_owned()).collect()))
            .send()
            .await
            .map_err(|e| sdk_error("RemoveTagsFromResource", arn, e))?;
        Ok(())
    }

    /// Starts deleting the instance: with a final snapshot of that name, or none. `Ok(false)`
    /// when it was already gone.
    pub async fn delete(&self, id: &str, final_snapshot: Option<&str>) -> Result<bool, RdsError> {
        let request = self
            .client
            .delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(final_snapshot.is_none())
            .set_final_db_snapshot_identifier(final_snapshot.map(str::to_owned))
            .delete_automated_backups(true);
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("DBInstanceNotFound") => Ok(false),
            // Already being deleted (by an earlier, interrupted destroy): wait for it.
            Err(e)
                if e.code() == Some("InvalidDBInstanceState")
                    && e.message().is_some_and(|m| m.contains("deleting")) =>
            {
                Ok(true)
            }
            Err(e) => Err(sdk_error("DeleteDBInstance", id, e)),
        }
    }
}
