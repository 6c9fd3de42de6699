//! `treeherder_rds_snapshot_instance` through real Terraform against the world's moto: the
//! runbook's temporary instance in one apply (every setting checked with a second client, not
//! the provider), a newer snapshot that changes nothing, a reset by trigger, an in-place class
//! change, import, and destroy with and without a final snapshot.
//!
//! Each test restores from a source instance of its own, so the snapshots it adds never
//! change what other tests expect of `treeherder-prod`. moto has no state transitions: the
//! poller's waits are proven in the provider's unit tests (provider/src/clients/rds/poll).

use acceptance::harness::plancheck::{
    expect_resource_action, expect_resource_action_in, ExpectedAction,
};
use acceptance::harness::{treeherder_case, treeherder_provider};
use acceptance::harness::{
    xml_element, xml_elements, MotoControl, Service, SnapshotSeed, SnapshotStatus, SnapshotType,
    Step, World, RDS_PROVIDER_CONFIG,
};
use regex::Regex;
use serde_json::Value;

const ADDR: &str = "treeherder_rds_snapshot_instance.tmp";
const PASSWORD: &str = "Temporary-instance-password-0123456789";

fn seed_text(seed: &Value, key: &str) -> String {
    seed[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in the seed"))
        .to_string()
}

/// A short random suffix, so reruns against the same moto never collide.
fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// A source instance of the test's own, with manual snapshots at the given times.
async fn source_with_snapshots(
    moto: &MotoControl,
    seed: &Value,
    times: &[&str],
) -> (String, Vec<String>) {
    let source = format!("th-source-{}", suffix());
    moto.rds_query(
        "CreateDBInstance",
        &[
            ("DBInstanceIdentifier", &source),
            ("DBInstanceClass", "db.m4.xlarge"),
            ("Engine", "mysql"),
            ("EngineVersion", "5.7.23"),
            ("DBName", "treeherder"),
            ("AllocatedStorage", "20"),
            ("MasterUsername", "th_admin"),
            ("MasterUserPassword", "the-source-instance-password"),
            ("DBSubnetGroupName", &seed_text(seed, "db_subnet_group")),
            ("PubliclyAccessible", "true"),
        ],
    )
    .await
    .expect("moto creates the source instance");
    let mut ids = Vec::new();
    for time in times {
        ids.push(add_snapshot(moto, &source, time).await);
    }
    (source, ids)
}

async fn add_snapshot(moto: &MotoControl, source: &str, time: &str) -> String {
    let id = format!(
        "{source}-{}",
        time.replace([':', 'T', 'Z'], "-").trim_end_matches('-')
    );
    moto.put_snapshot(SnapshotSeed {
        instance: source.to_string(),
        id: id.clone(),
        snapshot_type: SnapshotType::Manual,
        status: SnapshotStatus::Available,
        created_at: Some(time.to_string()),
    })
    .await
    .expect("moto takes the snapshot");
    id
}

/// DescribeDBInstances of `id` by a second client; `None` when moto has no such instance.
async fn describe(moto: &MotoControl, id: &str) -> Option<String> {
    moto.rds_query("DescribeDBInstances", &[("DBInstanceIdentifier", id)])
        .await
        .ok()
}

#[derive(Clone)]
struct Settings {
    identifier: String,
    source: String,
    class: String,
    security_group: String,
    triggers: String,
    skip_final_snapshot: bool,
}

fn config(s: &Settings) -> String {
    format!(
        r#"{RDS_PROVIDER_CONFIG}

resource "treeherder_rds_snapshot_instance" "tmp" {{
  identifier             = "{identifier}"
  source_instance        = "{source}"
  snapshot_type          = "manual"
  instance_class         = "{class}"
  db_subnet_group_name   = "treeherder-dbgrp"
  publicly_accessible    = true
  parameter_group_name   = "treeherder-mysql57"
  vpc_security_group_ids = ["{security_group}"]
  master_password        = "{PASSWORD}"
  bug                    = 1469837
  reset_triggers         = {{ requested = "{triggers}" }}
  skip_final_snapshot    = {skip}

  timeouts {{
    create = "5m"
    delete = "5m"
  }}
}}
"#,
        identifier = s.identifier,
        source = s.source,
        class = s.class,
        security_group = s.security_group,
        triggers = s.triggers,
        skip = s.skip_final_snapshot,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runbook_temporary_instance_then_a_reset_an_update_and_import() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let (source, snapshots) = source_with_snapshots(
        &moto,
        &seed,
        &["2026-11-01T03:00:00Z", "2026-11-02T03:00:00Z"],
    )
    .await;
    let settings = Settings {
        identifier: format!("treeherder-dev-bug{}", suffix()),
        source: source.clone(),
        class: "db.m4.xlarge".to_string(),
        security_group: seed_text(&seed, "security_group_id"),
        triggers: "2026-12-01".to_string(),
        skip_final_snapshot: true,
    };
    let id = settings.identifier.clone();
    let newest_at_create = snapshots[1].clone();
    let later = format!("{source}-2026-11-03-03-00-00");

    let first = {
        let moto = moto.clone();
        let id = id.clone();
        let settings = settings.clone();
        let newest = newest_at_create.clone();
        Step::config(config(&settings)).check_async(move |state| {
            let moto = moto.clone();
            let id = id.clone();
            let settings = settings.clone();
            let newest = newest.clone();
            async move {
                state.expect_attr(ADDR, "restored_snapshot_id", newest.as_str())?;
                state.expect_attr(ADDR, "status", "available")?;
                let endpoint = state.attr_str(ADDR, "endpoint").ok_or("no endpoint")?;
                let url = state
                    .attr_str(ADDR, "database_url")
                    .ok_or("no database_url")?;
                if url != format!("mysql://th_admin:{PASSWORD}@{endpoint}/treeherder") {
                    return Err(format!("database_url is {url}"));
                }
                let xml = describe(&moto, &id).await.ok_or("moto has no instance")?;
                let expect = |name: &str, wanted: &str| -> Result<(), String> {
                    match xml_element(&xml, name) {
                        Some(v) if v == wanted => Ok(()),
                        other => Err(format!("{name} is {other:?}, not {wanted}")),
                    }
                };
                expect("DBInstanceClass", "db.m4.xlarge")?;
                expect("DBSubnetGroupName", "treeherder-dbgrp")?;
                expect("PubliclyAccessible", "true")?;
                expect("DBParameterGroupName", "treeherder-mysql57")?;
                let groups = xml_elements(&xml, "VpcSecurityGroupId");
                if groups != vec![settings.security_group.clone()] {
                    return Err(format!(
                        "security groups {groups:?}: the default was not replaced"
                    ));
                }
                let arn = xml_element(&xml, "DBInstanceArn").ok_or("no ARN")?;
                let tags = moto
                    .rds_query("ListTagsForResource", &[("ResourceName", &arn)])
                    .await
                    .map_err(|e| e.to_string())?;
                if !tags.contains("<Key>bug</Key>") || !tags.contains("<Value>1469837</Value>") {
                    return Err(format!("no bug tag in {tags}"));
                }
                Ok::<(), String>(())
            }
        })
    };

    // A newer snapshot appears: nothing to do (the harness also checks the plan is empty).
    let newer_snapshot = {
        let moto = moto.clone();
        let source = source.clone();
        Step::config(config(&settings))
            .pre_step_async(move || {
                let moto = moto.clone();
                let source = source.clone();
                async move {
                    add_snapshot(&moto, &source, "2026-11-03T03:00:00Z").await;
                    Ok::<(), String>(())
                }
            })
            .check({
                let newest = newest_at_create.clone();
                move |state| state.expect_attr(ADDR, "restored_snapshot_id", newest.as_str())
            })
    };

    // The reset: a new trigger restores again, from the then-latest snapshot.
    let reset = Settings {
        triggers: "2026-12-03".to_string(),
        ..settings.clone()
    };
    let reset_step = Step::config(config(&reset))
        .plan_checks([expect_resource_action(ADDR, ExpectedAction::Replace)])
        .check({
            let later = later.clone();
            move |state| state.expect_attr(ADDR, "restored_snapshot_id", later.as_str())
        });

    // The class changes in place.
    let smaller = Settings {
        class: "db.m4.large".to_string(),
        ..reset.clone()
    };
    let resize = {
        let moto = moto.clone();
        let id = id.clone();
        Step::config(config(&smaller))
            .plan_checks([expect_resource_action(ADDR, ExpectedAction::Update)])
            .check_async(move |_state| {
                let moto = moto.clone();
                let id = id.clone();
                async move {
                    let xml = describe(&moto, &id).await.ok_or("moto has no instance")?;
                    match xml_element(&xml, "DBInstanceClass").as_deref() {
                        Some("db.m4.large") => Ok::<(), String>(()),
                        other => Err(format!("class {other:?}")),
                    }
                }
            })
    };

    // A class changed by hand shows as drift and is set back.
    let drift = {
        let moto = moto.clone();
        let id = id.clone();
        let check_moto = moto.clone();
        let check_id = id.clone();
        Step::config(config(&smaller))
            .pre_step_async(move || {
                let moto = moto.clone();
                let id = id.clone();
                async move {
                    moto.rds_query(
                        "ModifyDBInstance",
                        &[
                            ("DBInstanceIdentifier", &id),
                            ("DBInstanceClass", "db.m4.2xlarge"),
                            ("ApplyImmediately", "true"),
                        ],
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
                }
            })
            .plan_check(|plan| {
                expect_resource_action_in(plan, ADDR, ExpectedAction::Update)?;
                let change = plan.change(ADDR).ok_or("no change")?;
                match (
                    change.before["instance_class"].as_str(),
                    change.after["instance_class"].as_str(),
                ) {
                    (Some("db.m4.2xlarge"), Some("db.m4.large")) => Ok(()),
                    other => Err(format!("instance_class change {other:?}")),
                }
            })
            .check_async(move |_state| {
                let moto = check_moto.clone();
                let id = check_id.clone();
                async move {
                    let xml = describe(&moto, &id).await.ok_or("moto has no instance")?;
                    match xml_element(&xml, "DBInstanceClass").as_deref() {
                        Some("db.m4.large") => Ok::<(), String>(()),
                        other => Err(format!("class {other:?} after the apply")),
                    }
                }
            })
    };

    treeherder_case()
        .envs(world.env().clone())
        .sensitive(PASSWORD)
        .step(first)
        .step(newer_snapshot)
        .step(reset_step)
        .step(resize)
        .step(drift)
        // The password and the timeouts cannot be read back.
        .step(Step::import(ADDR).verify_import([
            "master_password",
            "database_url",
            "timeouts",
            "skip_final_snapshot",
        ]))
        .check_destroy_async({
            let moto = moto.clone();
            let id = id.clone();
            move |_state| {
                let moto = moto.clone();
                let id = id.clone();
                async move {
                    if describe(&moto, &id).await.is_some() {
                        return Err(format!("{id} still exists"));
                    }
                    let finals = moto
                        .rds_query("DescribeDBSnapshots", &[("DBInstanceIdentifier", &id)])
                        .await
                        .map_err(|e| e.to_string())?;
                    if finals.contains("-final-") {
                        return Err("a final snapshot was taken despite skip_final_snapshot".into());
                    }
                    Ok::<(), String>(())
                }
            }
        })
        .run()
        .await;
}

fn invalid(body: &str) -> String {
    format!(
        r#"{RDS_PROVIDER_CONFIG}

resource "treeherder_rds_snapshot_instance" "tmp" {{
  identifier = "treeherder-dev-bug1"
{body}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_and_destroy_keeps_a_final_snapshot() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let identifier = format!("treeherder-stage-{}", suffix());
    let snapshot = seed_text(&seed, "latest_manual");
    let valid = format!(
        r#"{RDS_PROVIDER_CONFIG}

resource "treeherder_rds_snapshot_instance" "tmp" {{
  identifier          = "{identifier}"
  snapshot_identifier = "{snapshot}"
}}
"#
    );
    let error = |body: &str, pattern: &str| {
        Step::config(invalid(body))
            .plan_only()
            .expect_error(Regex::new(pattern).expect("a valid pattern"))
    };
    treeherder_case()
        .envs(world.env().clone())
        .step(error("", "(?s)source_instance.*snapshot_identifier"))
        .step(error(
            "source_instance = \"a\"\nsnapshot_identifier = \"b\"",
            "(?s)only one of",
        ))
        .step(error(
            "source_instance = \"a\"\nmaster_password = \"short\"",
            "(?s)master_password.*30",
        ))
        .step(error(
            &format!(
                "source_instance = \"a\"\nmaster_password = \"{}\"",
                "p".repeat(45)
            ),
            "(?s)master_password.*at most 41",
        ))
        .step(error(
            "source_instance = \"a\"\nsnapshot_type = \"weekly\"",
            "(?s)automated.*manual.*any",
        ))
        .step(error(
            "source_instance = \"a\"\nidentifier = \"Bad--Name\"",
            "(?s)identifier",
        ))
        .step(Step::config(valid).check({
            let snapshot = snapshot.clone();
            move |state| {
                state.expect_attr(ADDR, "restored_snapshot_id", snapshot.as_str())?;
                // Unset settings are the snapshot source's.
                state.expect_attr(ADDR, "db_subnet_group_name", "treeherder-dbgrp")?;
                // No password set: the URL carries none.
                match state.attr_str(ADDR, "database_url") {
                    Some(url) if url.starts_with("mysql://th_admin@") => Ok(()),
                    other => Err(format!("database_url {other:?}")),
                }
            }
        }))
        .check_destroy_async({
            let moto = moto.clone();
            let identifier = identifier.clone();
            move |_state| {
                let moto = moto.clone();
                let identifier = identifier.clone();
                async move {
                    if describe(&moto, &identifier).await.is_some() {
                        return Err(format!("{identifier} still exists"));
                    }
                    let snapshots = moto
                        .rds_query(
                            "DescribeDBSnapshots",
                            &[
                                ("DBInstanceIdentifier", &identifier),
                                ("SnapshotType", "manual"),
                            ],
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    let final_name = format!("{identifier}-final-");
                    if xml_elements(&snapshots, "DBSnapshotIdentifier")
                        .iter()
                        .any(|s| s.starts_with(&final_name))
                    {
                        Ok::<(), String>(())
                    } else {
                        Err(format!("no final snapshot in {snapshots}"))
                    }
                }
            }
        })
        .run()
        .await;
}

fn write_only(identifier: &str, snapshot: &str, version: u32) -> String {
    format!(
        r#"{RDS_PROVIDER_CONFIG}

ephemeral "treeherder_password" "master" {{
  length = 40
}}

resource "treeherder_rds_snapshot_instance" "tmp" {{
  identifier                 = "{identifier}"
  snapshot_identifier        = "{snapshot}"
  master_password_wo         = ephemeral.treeherder_password.master.result
  master_password_wo_version = {version}
  skip_final_snapshot        = true
}}
"#
    )
}

/// Terraform ≥ 1.11: the write-only master password is never in state, and a new version
/// sets it again in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_only_master_password_is_never_stored_and_a_new_version_updates_in_place() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let identifier = format!("treeherder-dev-wo{}", suffix());
    let snapshot = seed_text(&seed, "latest_automated");
    fn no_password(state: &acceptance::harness::State) -> Result<(), String> {
        state.expect_attr(ADDR, "master_password_wo", Value::Null)?;
        state.expect_attr(ADDR, "master_password", Value::Null)?;
        match state.attr_str(ADDR, "database_url") {
            Some(url) if url.starts_with("mysql://th_admin@") => Ok(()),
            other => Err(format!("database_url {other:?}")),
        }
    }
    treeherder_case()
        .terraform_latest()
        .envs(world.env().clone())
        .step(Step::config(write_only(&identifier, &snapshot, 1)).check(no_password))
        .step(
            Step::config(write_only(&identifier, &snapshot, 2))
                .plan_checks([expect_resource_action(ADDR, ExpectedAction::Update)])
                .check(no_password),
        )
        .run()
        .await;
}

/// A create that runs out of time fails saying what it waited for, and leaves the instance in
/// state (tainted): the next apply replaces it. moto holds the instance in `creating` through
/// its control route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_timeout_keeps_the_instance_in_state_and_the_next_apply_replaces_it() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let identifier = format!("treeherder-dev-slow{}", suffix());
    let snapshot = seed_text(&seed, "latest_automated");
    let config = format!(
        r#"{RDS_PROVIDER_CONFIG}
resource "treeherder_rds_snapshot_instance" "tmp" {{
  identifier          = "{identifier}"
  snapshot_identifier = "{snapshot}"
  skip_final_snapshot = true

  timeouts {{
    create = "2s"
  }}
}}
"#
    );
    moto.hold_status(&identifier, Some("creating"))
        .await
        .expect("moto holds the instance");
    let release = {
        let moto = moto.clone();
        let identifier = identifier.clone();
        move || {
            let moto = moto.clone();
            let identifier = identifier.clone();
            async move {
                moto.hold_status(&identifier, None)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    };
    treeherder_case()
        .envs(world.env().clone())
        .step(
            Step::config(config.clone()).expect_error(
                Regex::new(r"(?s)timed out after .*creating").expect("a valid pattern"),
            ),
        )
        .step(
            Step::config(config)
                .pre_step_async(release)
                .plan_checks([expect_resource_action(ADDR, ExpectedAction::Replace)])
                .check(|state| state.expect_attr(ADDR, "status", "available")),
        )
        .run()
        .await;
}

/// How long a test waits for moto to show something Terraform does.
const OBSERVE_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The identifiers of moto's DB instances that contain `part`.
async fn instances_named(moto: &MotoControl, part: &str) -> Vec<String> {
    let xml = moto
        .rds_query("DescribeDBInstances", &[])
        .await
        .expect("moto lists its instances");
    xml_elements(&xml, "DBInstanceIdentifier")
        .into_iter()
        .filter(|id| id.contains(part))
        .collect()
}

fn latest_of(identifier: &str, source: &str) -> String {
    format!(
        r#"{RDS_PROVIDER_CONFIG}
resource "treeherder_rds_snapshot_instance" "tmp" {{
  identifier          = "{identifier}"
  source_instance     = "{source}"
  snapshot_type       = "manual"
  skip_final_snapshot = true
}}
"#
    )
}

/// Terraform (and the provider) killed with SIGKILL while the create waits for the restored
/// instance, before any state is saved; the next apply recognises the instance by the token of
/// this identifier and snapshot and adopts it: one instance, no error, an empty plan after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_during_the_create_is_adopted_by_the_next_apply_without_a_second_restore() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let tag = suffix();
    let identifier = format!("treeherder-dev-kill{tag}");
    // The latest of two: the restore source is the snapshot resolved at plan time.
    let (source, snapshots) = source_with_snapshots(
        &moto,
        &seed,
        &["2026-11-01T03:00:00Z", "2026-11-02T03:00:00Z"],
    )
    .await;
    let config = latest_of(&identifier, &source);
    assert!(instances_named(&moto, &tag).await.is_empty());
    moto.hold_status(&identifier, Some("creating"))
        .await
        .expect("moto holds the instance");

    let tf = acceptance::harness::terraform_for(
        &[treeherder_provider()],
        world.env().clone(),
        Vec::new(),
    )
    .expect("terraform");
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config).expect("config");
    work.init().await.expect("init");
    let mut apply = work.spawn_apply().expect("terraform apply starts");
    // Observable: the restore was made (moto describes the instance) while Terraform waits.
    let deadline = std::time::Instant::now() + OBSERVE_LIMIT;
    while describe(&moto, &identifier).await.is_none() {
        assert!(
            apply.is_running(),
            "terraform apply ended before the restore"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no restore after {OBSERVE_LIMIT:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    apply.kill().await.expect("terraform killed");
    let state = work.state().await.expect("state");
    assert!(
        state.resource(ADDR).is_none(),
        "the killed apply saved the instance; nothing would be adopted"
    );
    moto.hold_status(&identifier, None)
        .await
        .expect("moto releases the instance");

    let out = work.apply().await.expect("apply runs");
    tf.require_success(out)
        .unwrap_or_else(|e| panic!("the apply after the kill: {e}"));
    assert_eq!(
        instances_named(&moto, &tag).await,
        vec![identifier.clone()],
        "exactly one instance"
    );
    let state = work.state().await.expect("state");
    state.expect_attr(ADDR, "status", "available").unwrap();
    state
        .expect_attr(ADDR, "restored_snapshot_id", snapshots[1].as_str())
        .unwrap();
    for refresh in [false, true] {
        let plan = work.plan(refresh).await.expect("plan");
        assert!(
            !plan.has_changes,
            "refresh={refresh}: plan after adopting:\n{}",
            plan.text
        );
    }
    tf.require_success(work.destroy().await.expect("destroy runs"))
        .expect("destroy");
    assert!(instances_named(&moto, &tag).await.is_empty());
}

/// An instance of the identifier without this configuration's token (none, or another
/// snapshot's) is never adopted: the apply fails at `identifier` saying to import it, and the
/// instance is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_this_configurations_token_is_not_adopted() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let tag = suffix();
    let (source, snapshots) = source_with_snapshots(
        &moto,
        &seed,
        &["2026-11-01T03:00:00Z", "2026-11-02T03:00:00Z"],
    )
    .await;
    let mut case = treeherder_case().envs(world.env().clone());
    for (n, token) in [None, Some("another-configurations-token")]
        .into_iter()
        .enumerate()
    {
        let identifier = format!("treeherder-dev-byhand{n}{tag}");
        let mut params = vec![
            ("DBInstanceIdentifier", identifier.clone()),
            ("DBSnapshotIdentifier", snapshots[1].clone()),
        ];
        if let Some(token) = token {
            params.push(("Tags.Tag.1.Key", "treeherder:restore-token".into()));
            params.push(("Tags.Tag.1.Value", token.into()));
        }
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        moto.rds_query("RestoreDBInstanceFromDBSnapshot", &params)
            .await
            .expect("moto restores by hand");
        case = case.step(
            Step::config(latest_of(&identifier, &source)).expect_error(
                Regex::new(&format!(
                    r"(?s)DB instance already exists.*identifier.*not\s+restored\s+from.*terraform\s+import\s+<address>\s+{identifier}"
                ))
                .expect("a valid pattern"),
            ),
        );
    }
    case.step(Step::config(RDS_PROVIDER_CONFIG)).run().await;
    let left = instances_named(&moto, &tag).await;
    assert_eq!(left.len(), 2, "the instances made by hand stay: {left:?}");
    for id in left {
        moto.rds_query(
            "DeleteDBInstance",
            &[("DBInstanceIdentifier", &id), ("SkipFinalSnapshot", "true")],
        )
        .await
        .expect("moto deletes the instance made by hand");
    }
}
