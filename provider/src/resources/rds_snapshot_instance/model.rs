//! The model of `treeherder_rds_snapshot_instance`: its attributes and their defaults.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::types::Timeouts;
use tfplugin::{Field, Sensitive, WriteOnly};

use crate::resources::readonly_user::AccountPassword;

pub(super) fn default_snapshot_type() -> Field<String> {
    Field::known("automated".to_owned())
}

pub(super) fn default_skip_final_snapshot() -> Field<bool> {
    Field::known(false)
}

/// An RDS instance restored from a snapshot: the most recent available one of
/// `source_instance`, or `snapshot_identifier`. One apply restores it with its class, subnet
/// group, public access, parameter group and security groups, waits until it is available,
/// sets the master password, reboots it when its parameter group waits for a reboot, and
/// reads its endpoint.
// No Debug: the model holds the password.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct RdsSnapshotInstanceModel {
    /// The new instance's identifier, e.g. `treeherder-dev-bug1469837`: 1 to 63 lower-case
    /// letters, digits and single hyphens, starting with a letter. Also the import id.
    /// Changing it replaces the instance.
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z]([a-z0-9]|-[a-z0-9])*$")
    )]
    #[tf(requires_replace)]
    pub identifier: Field<String>,
    /// Restore from the most recent available snapshot of this instance, e.g.
    /// `treeherder-prod`. Resolved when the instance is planned for creation and kept in
    /// `restored_snapshot_id`: newer snapshots do not change the plan. Set exactly one of
    /// `source_instance` and `snapshot_identifier` to create the instance; an imported one
    /// (e.g. restored by hand) may have neither, and then cannot be replaced. Changing it
    /// replaces the instance.
    #[serde(default)]
    #[tf(requires_replace)]
    pub source_instance: Field<String>,
    /// With `source_instance`: which of its snapshots count, `automated` (default), `manual`
    /// or `any`. Changing it replaces the instance.
    #[serde(default = "default_snapshot_type")]
    #[schemars(extend("enum" = ["automated", "manual", "any"]))]
    #[tf(requires_replace)]
    pub snapshot_type: Field<String>,
    /// Restore from this snapshot (identifier or ARN) instead. Changing it replaces the
    /// instance.
    #[serde(default)]
    #[tf(requires_replace)]
    pub snapshot_identifier: Field<String>,
    /// Instance class, e.g. `db.m4.xlarge`. Default: the snapshot's. Changed in place.
    #[serde(default)]
    #[tf(computed, optional, use_state_for_unknown)]
    pub instance_class: Field<String>,
    /// DB subnet group, e.g. `treeherder-dbgrp`. Default: the source's. Changing it replaces
    /// the instance.
    #[serde(default)]
    #[tf(computed, optional, use_state_for_unknown, requires_replace)]
    pub db_subnet_group_name: Field<String>,
    /// Whether the instance gets a public address. Default: the source's. Changed in place.
    #[serde(default)]
    #[tf(computed, optional, use_state_for_unknown)]
    pub publicly_accessible: Field<bool>,
    /// DB parameter group, e.g. `treeherder-mysql57`. When RDS leaves it `pending-reboot`,
    /// the instance is rebooted in the same apply. Changed in place.
    #[serde(default)]
    #[tf(computed, optional, use_state_for_unknown)]
    pub parameter_group_name: Field<String>,
    /// VPC security group ids, replacing the default group (e.g. `treeherder_heroku-sg`'s
    /// id). Changed in place.
    #[serde(default)]
    #[tf(computed, optional, use_state_for_unknown)]
    pub vpc_security_group_ids: Field<BTreeSet<String>>,
    /// The master password (Terraform < 1.11), stored in state as a sensitive value: 30 to 41
    /// characters of `A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; =` (safe in a `DATABASE_URL`).
    /// Without it (or `master_password_wo`), the instance keeps the snapshot's password.
    #[serde(default)]
    pub master_password: Field<AccountPassword>,
    /// The master password, write-only (Terraform ≥ 1.11): never stored in state or plan
    /// files, e.g. `ephemeral.treeherder_password.tmp.result`. Same rules as
    /// `master_password`. Sent on create and when `master_password_wo_version` changes.
    #[serde(default)]
    pub master_password_wo: Field<WriteOnly>,
    /// Version of `master_password_wo`, required with it: changing it sets the password again.
    #[serde(default)]
    pub master_password_wo_version: Field<u64>,
    /// Bug number the instance is for, tagged on it as `bug` (the runbook's reminder to
    /// delete the instance when the bug is closed). Changed in place.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub bug: Field<i64>,
    /// Arbitrary values whose change restores the instance again from the then-latest
    /// snapshot of `source_instance` (the dev/stage reset), e.g. `{ requested = "2026-12-01" }`.
    #[serde(default)]
    #[tf(requires_replace)]
    pub reset_triggers: Field<BTreeMap<String, String>>,
    /// `false` (default): destroying takes a final snapshot named
    /// `<identifier>-final-<UTC time>` first. `true`: no final snapshot.
    #[serde(default = "default_skip_final_snapshot")]
    pub skip_final_snapshot: Field<bool>,
    /// The identifier.
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub id: Field<String>,
    /// The snapshot the instance was restored from.
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub restored_snapshot_id: Field<String>,
    /// The instance's ARN.
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub arn: Field<String>,
    /// `address:port` of the instance.
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub endpoint: Field<String>,
    /// DNS name of the instance.
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub address: Field<String>,
    /// Port of the instance.
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub port: Field<i64>,
    /// The master user, the snapshot's (`th_admin`).
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub master_username: Field<String>,
    /// The instance's status as last read (`available`).
    #[serde(default)]
    #[tf(computed)]
    pub status: Field<String>,
    /// `mysql://<master user>:<master_password>@<endpoint>/<database>` for the app's
    /// `DATABASE_URL`. With `master_password_wo` (or no password) the password part is left
    /// out: it is never stored.
    #[serde(default)]
    #[tf(computed)]
    pub database_url: Field<Sensitive>,
    /// Limits of create (default 40m), update (80m) and delete (60m).
    #[tf(block = single)]
    pub timeouts: Option<Timeouts>,
}
