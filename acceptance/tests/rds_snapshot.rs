//! `data "treeherder_rds_snapshot"` through real Terraform against the world's moto: each
//! snapshot type picks the newest *available* snapshot of `treeherder-prod` (the seeded
//! `creating` one, newest by name and without a create time, is skipped), with the attributes
//! moto describes; an instance with no usable snapshot and an unknown `snapshot_type` are
//! diagnostics naming what is wrong.
//!
//! Expectations come from a second client (moto's Query API and `.run/moto/seed.json`), never
//! from the provider. Run with `TREEHERDER_TERRAFORM` set to 1.0.3 and to a recent Terraform.

use acceptance::harness::treeherder_case;
use acceptance::harness::{
    xml_element, MotoControl, Service, SnapshotSeed, SnapshotStatus, SnapshotType, Step, World,
    RDS_PROVIDER_CONFIG,
};
use regex::Regex;
use serde_json::Value;

const INSTANCE: &str = "treeherder-prod";
/// This test's own source instance, so treeherder-prod's seeded answers stay true.
const EMPTY_INSTANCE: &str = "rds-snapshot-test-empty";

/// One `<DBSnapshot>` of moto's DescribeDBSnapshots, as the data source should report it.
#[derive(Debug, Clone)]
struct Described {
    id: String,
    arn: String,
    status: String,
    created_at: Option<String>,
    engine: String,
    engine_version: String,
    allocated_storage: i64,
}

async fn describe_snapshots(moto: &MotoControl, instance: &str) -> Vec<Described> {
    let xml = moto
        .rds_query("DescribeDBSnapshots", &[("DBInstanceIdentifier", instance)])
        .await
        .expect("moto answers DescribeDBSnapshots");
    let snapshot = Regex::new(r"(?s)<DBSnapshot>(.*?)</DBSnapshot>").expect("a valid pattern");
    snapshot
        .captures_iter(&xml)
        .map(|c| {
            let field =
                |name| xml_element(&c[1], name).unwrap_or_else(|| panic!("{name} in {xml}"));
            Described {
                id: field("DBSnapshotIdentifier"),
                arn: field("DBSnapshotArn"),
                status: field("Status"),
                created_at: xml_element(&c[1], "SnapshotCreateTime"),
                engine: field("Engine"),
                engine_version: field("EngineVersion"),
                allocated_storage: field("AllocatedStorage")
                    .parse()
                    .expect("AllocatedStorage is a number"),
            }
        })
        .collect()
}

fn seed_text(seed: &Value, key: &str) -> String {
    seed[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in the seed summary"))
        .to_string()
}

fn config(body: &str) -> String {
    format!("{RDS_PROVIDER_CONFIG}\n{body}")
}

const LATEST_OF_EACH_TYPE: &str = r#"
data "treeherder_rds_snapshot" "automated" {
  db_instance_identifier = "treeherder-prod"
}

data "treeherder_rds_snapshot" "manual" {
  db_instance_identifier = "treeherder-prod"
  snapshot_type          = "manual"
}

data "treeherder_rds_snapshot" "any" {
  db_instance_identifier = "treeherder-prod"
  snapshot_type          = "any"
}
"#;

/// The state's attributes of `address` equal `expected`, the snapshot moto describes.
fn expect_snapshot(
    state: &acceptance::harness::State,
    address: &str,
    expected: &Described,
) -> Result<(), String> {
    state.expect_attr(address, "id", expected.id.as_str())?;
    state.expect_attr(address, "arn", expected.arn.as_str())?;
    let created_at = expected
        .created_at
        .as_deref()
        .ok_or_else(|| format!("{address}: moto gives {} no create time", expected.id))?;
    state.expect_attr(address, "created_at", created_at)?;
    state.expect_attr(address, "engine", expected.engine.as_str())?;
    state.expect_attr(address, "engine_version", expected.engine_version.as_str())?;
    state.expect_attr(address, "allocated_storage", expected.allocated_storage)?;
    state.expect_attr(address, "db_instance_identifier", INSTANCE)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_type_picks_the_newest_available_snapshot_and_skips_the_creating_one() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let described = describe_snapshots(&moto, INSTANCE).await;
    let find = |id: &str| {
        described
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not described by moto: {described:?}"))
    };
    let automated = find(&seed_text(&seed, "latest_automated"));
    let manual = find(&seed_text(&seed, "latest_manual"));
    let any = find(&seed_text(&seed, "latest_any"));
    // The case is only meaningful while moto holds a creating automated snapshot newer by
    // name than the answer, and the three answers are not all the same.
    let creating: Vec<&Described> = described
        .iter()
        .filter(|s| s.status == "creating" && s.created_at.is_none())
        .collect();
    assert!(
        creating.iter().any(|s| s.id > automated.id),
        "no creating snapshot newer by name than {}: {described:?}",
        automated.id
    );
    assert_ne!(automated.id, any.id);

    treeherder_case()
        .envs(world.env().clone())
        .step(
            Step::config(config(LATEST_OF_EACH_TYPE)).check(move |state| {
                // snapshot_type is left unset: the default is "automated".
                expect_snapshot(state, "data.treeherder_rds_snapshot.automated", &automated)?;
                expect_snapshot(state, "data.treeherder_rds_snapshot.manual", &manual)?;
                expect_snapshot(state, "data.treeherder_rds_snapshot.any", &any)
            }),
        )
        .run()
        .await;
}

/// Makes [`EMPTY_INSTANCE`] (once per moto) holding only a `creating` snapshot: moto's own
/// automatic snapshot of it is deleted, so nothing of it is usable.
async fn instance_without_available_snapshot(moto: &MotoControl) {
    let existing = moto
        .rds_query(
            "DescribeDBInstances",
            &[("DBInstanceIdentifier", EMPTY_INSTANCE)],
        )
        .await;
    if existing.is_err() {
        moto.rds_query(
            "CreateDBInstance",
            &[
                ("DBInstanceIdentifier", EMPTY_INSTANCE),
                ("DBInstanceClass", "db.t3.micro"),
                ("Engine", "mysql"),
                ("EngineVersion", "8.0.35"),
                ("AllocatedStorage", "20"),
                ("MasterUsername", "admin"),
                ("MasterUserPassword", "moto-ignores-this"),
            ],
        )
        .await
        .expect("moto creates the test's instance");
    }
    let creating_id = format!("rds:{EMPTY_INSTANCE}-2000-01-01-03-00");
    for snapshot in describe_snapshots(moto, EMPTY_INSTANCE).await {
        if snapshot.id != creating_id {
            moto.rds_query(
                "DeleteDBSnapshot",
                &[("DBSnapshotIdentifier", snapshot.id.as_str())],
            )
            .await
            .expect("moto deletes the automatic snapshot");
        }
    }
    moto.put_snapshot(SnapshotSeed {
        instance: EMPTY_INSTANCE.to_string(),
        id: creating_id,
        snapshot_type: SnapshotType::Automated,
        status: SnapshotStatus::Creating,
        created_at: None,
    })
    .await
    .expect("the control route takes a creating snapshot");
    let described = describe_snapshots(moto, EMPTY_INSTANCE).await;
    assert!(
        matches!(described.as_slice(), [only] if only.status == "creating"),
        "{described:?}"
    );
}

fn one_snapshot(name: &str, instance: &str, snapshot_type: &str) -> String {
    config(&format!(
        r#"
data "treeherder_rds_snapshot" "{name}" {{
  db_instance_identifier = "{instance}"
  snapshot_type          = "{snapshot_type}"
}}
"#
    ))
}

/// The error's source context is the `db_instance_identifier` line (the diagnostic's
/// attribute path) and its detail names the instance; Terraform may wrap the detail anywhere.
fn no_snapshot_error(instance: &str, snapshot_type: &str) -> Regex {
    Regex::new(&format!(
        r#"(?s)No snapshot to choose.*\d+:\s+db_instance_identifier\s+=\s+"{instance}".*{instance}\s+has\s+no\s+available\s+{snapshot_type}\s+snapshot"#
    ))
    .expect("a valid pattern")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_an_available_snapshot_is_an_error_at_db_instance_identifier() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    instance_without_available_snapshot(&moto).await;
    let latest_automated = seed_text(&moto.seed().expect("the seed summary"), "latest_automated");

    treeherder_case()
        .envs(world.env().clone())
        // Only a creating snapshot: skipped, and reported as none (not a crash).
        .step(
            Step::config(one_snapshot("empty", EMPTY_INSTANCE, "automated"))
                .expect_error(no_snapshot_error(EMPTY_INSTANCE, "automated")),
        )
        .step(
            Step::config(one_snapshot("empty", EMPTY_INSTANCE, "any"))
                .expect_error(no_snapshot_error(EMPTY_INSTANCE, "any")),
        )
        // RDS lists no snapshots at all for an unknown instance.
        .step(
            Step::config(one_snapshot("missing", "no-such-instance", "manual"))
                .expect_error(no_snapshot_error("no-such-instance", "manual")),
        )
        .step(
            Step::config(one_snapshot("prod", INSTANCE, "automated")).check(move |state| {
                state.expect_attr(
                    "data.treeherder_rds_snapshot.prod",
                    "id",
                    latest_automated.as_str(),
                )
            }),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_snapshot_type_is_refused_naming_the_accepted_values() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let latest_manual = seed_text(&moto.seed().expect("the seed summary"), "latest_manual");

    treeherder_case()
        .envs(world.env().clone())
        .step(
            Step::config(one_snapshot("weekly", INSTANCE, "weekly"))
                .plan_only()
                .expect_error(
                    Regex::new(
                        r#"(?s)Invalid value for snapshot_type.*\d+:\s+snapshot_type\s+=\s+"weekly".*one\s+of\s+"automated",\s+"manual",\s+"any""#,
                    )
                        .expect("a valid pattern"),
                ),
        )
        .step(
            Step::config(one_snapshot("weekly", INSTANCE, "manual")).check(move |state| {
                state.expect_attr(
                    "data.treeherder_rds_snapshot.weekly",
                    "id",
                    latest_manual.as_str(),
                )
            }),
        )
        .run()
        .await;
}
