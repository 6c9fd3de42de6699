//! The world's moto holds production-like, dated RDS snapshots (scripts/moto_seed.py) and its
//! control route (scripts/moto_server.py) really changes what DescribeDBSnapshots answers.

use acceptance::harness::{
    xml_element, MotoControl, Service, SnapshotSeed, SnapshotStatus, SnapshotType, World,
};
use regex::Regex;
use serde_json::Value;

const INSTANCE: &str = "treeherder-prod";

/// One `<DBSnapshot>` of a DescribeDBSnapshots answer.
#[derive(Debug, PartialEq)]
struct Described {
    id: String,
    snapshot_type: String,
    status: String,
    created_at: Option<String>,
}

async fn describe_snapshots(moto: &MotoControl) -> Vec<Described> {
    let xml = moto
        .rds_query("DescribeDBSnapshots", &[("DBInstanceIdentifier", INSTANCE)])
        .await
        .expect("moto answers DescribeDBSnapshots");
    let snapshot = Regex::new(r"(?s)<DBSnapshot>(.*?)</DBSnapshot>").expect("a valid pattern");
    snapshot
        .captures_iter(&xml)
        .map(|c| Described {
            id: xml_element(&c[1], "DBSnapshotIdentifier").expect("an id"),
            snapshot_type: xml_element(&c[1], "SnapshotType").expect("a type"),
            status: xml_element(&c[1], "Status").expect("a status"),
            // moto writes e.g. 2026-11-30T03:00:00.000Z; the seed writes whole seconds.
            created_at: xml_element(&c[1], "SnapshotCreateTime").map(|t| {
                let whole = t.split('.').next().unwrap_or(&t).trim_end_matches('Z');
                format!("{whole}Z")
            }),
        })
        .collect()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

#[tokio::test]
async fn the_seed_holds_dated_snapshots_and_one_still_creating() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed = moto.seed().expect("the seed summary");
    let described = describe_snapshots(&moto).await;

    let seeded: Vec<Described> = seed["snapshots"]
        .as_array()
        .expect("a snapshot list")
        .iter()
        .map(|s| Described {
            id: text(s, "id").to_string(),
            snapshot_type: text(s, "type").to_string(),
            status: text(s, "status").to_string(),
            created_at: s["created_at"].as_str().map(str::to_string),
        })
        .collect();
    for snapshot in &seeded {
        assert!(
            described.contains(snapshot),
            "{snapshot:?} not in {described:?}"
        );
    }

    let backups: Vec<&Described> = seeded
        .iter()
        .filter(|s| s.snapshot_type == "automated" && s.status == "available")
        .collect();
    assert!(backups.len() >= 3, "{seeded:?}");
    assert!(
        backups.iter().all(|s| s
            .created_at
            .as_deref()
            .is_some_and(|t| t.ends_with("T03:00:00Z"))),
        "{backups:?}"
    );
    let creating: Vec<&Described> = seeded.iter().filter(|s| s.status == "creating").collect();
    assert!(
        matches!(creating.as_slice(), [one] if one.created_at.is_none() && one.snapshot_type == "automated"),
        "{creating:?}"
    );
    // The creating backup is the newest by name: what "latest available" logic must skip.
    let newest_backup = backups.iter().map(|s| &s.id).max().expect("backups");
    assert!(
        &creating[0].id > newest_backup,
        "{creating:?} {newest_backup}"
    );

    // The expected answers are the newest available snapshot of each kind.
    let latest = |kind: Option<&str>| {
        seeded
            .iter()
            .filter(|s| s.status == "available" && kind.is_none_or(|k| s.snapshot_type == k))
            .max_by_key(|s| s.created_at.clone())
            .map(|s| s.id.as_str())
    };
    assert_eq!(
        Some(text(&seed, "latest_automated")),
        latest(Some("automated"))
    );
    assert_eq!(Some(text(&seed, "latest_manual")), latest(Some("manual")));
    assert_eq!(Some(text(&seed, "latest_any")), latest(None));
    assert_ne!(text(&seed, "latest_automated"), text(&seed, "latest_any"));
}

#[tokio::test]
async fn put_snapshot_creates_a_creating_snapshot_without_a_create_time() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    // A manual id of this test's own, ending dated long ago: the seed's answers stay true.
    let id = "moto-world-test-snapshot";
    let put = |status, created_at: Option<&str>| SnapshotSeed {
        instance: INSTANCE.to_string(),
        id: id.to_string(),
        snapshot_type: SnapshotType::Manual,
        status,
        created_at: created_at.map(str::to_string),
    };

    let answer = moto
        .put_snapshot(put(SnapshotStatus::Creating, None))
        .await
        .expect("the control route takes a creating snapshot");
    assert_eq!(answer.status, SnapshotStatus::Creating);
    assert_eq!(answer.created_at, None);
    let described = describe_snapshots(&moto).await;
    let expected = Described {
        id: id.to_string(),
        snapshot_type: "manual".to_string(),
        status: "creating".to_string(),
        created_at: None,
    };
    assert!(described.contains(&expected), "{described:?}");

    let answer = moto
        .put_snapshot(put(SnapshotStatus::Available, Some("2000-01-02T03:04:05Z")))
        .await
        .expect("the control route re-dates it");
    assert_eq!(answer.created_at.as_deref(), Some("2000-01-02T03:04:05Z"));
    let described = describe_snapshots(&moto).await;
    let expected = Described {
        status: "available".to_string(),
        created_at: Some("2000-01-02T03:04:05Z".to_string()),
        ..expected
    };
    assert!(described.contains(&expected), "{described:?}");

    let refused = moto
        .put_snapshot(SnapshotSeed {
            instance: "no-such-instance".to_string(),
            ..put(SnapshotStatus::Available, None)
        })
        .await
        .expect_err("an unknown instance is refused");
    assert!(refused.to_string().contains("404"), "{refused}");
}

/// The automated snapshots of `instance`, as DescribeDBSnapshots lists them.
async fn automated_snapshots_of(moto: &MotoControl, instance: &str) -> Vec<String> {
    let xml = moto
        .rds_query(
            "DescribeDBSnapshots",
            &[
                ("DBInstanceIdentifier", instance),
                ("SnapshotType", "automated"),
            ],
        )
        .await
        .expect("moto answers DescribeDBSnapshots");
    acceptance::harness::xml_elements(&xml, "DBSnapshotIdentifier")
}

async fn create_instance(moto: &MotoControl, id: &str) {
    moto.rds_query(
        "CreateDBInstance",
        &[
            ("DBInstanceIdentifier", id),
            ("DBInstanceClass", "db.m4.xlarge"),
            ("Engine", "mysql"),
            ("AllocatedStorage", "20"),
            ("MasterUsername", "th_admin"),
            ("MasterUserPassword", "an-instance-made-twice-password"),
        ],
    )
    .await
    .unwrap_or_else(|e| panic!("moto creates {id}: {e}"));
}

/// RDS deletes an instance's automated snapshots with it (DeleteAutomatedBackups defaults to
/// true); moto kept them, so an instance made again under the same name within the same minute
/// failed on its own automated snapshot's name.
#[tokio::test]
async fn deleting_an_instance_drops_its_automated_snapshots_so_its_name_can_be_reused() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let id = format!("th-twice-{}", std::process::id());
    for round in 0..2 {
        create_instance(&moto, &id).await;
        assert_eq!(
            automated_snapshots_of(&moto, &id).await.len(),
            1,
            "round {round}: moto makes one automated snapshot at creation"
        );
        moto.rds_query(
            "DeleteDBInstance",
            &[("DBInstanceIdentifier", &id), ("SkipFinalSnapshot", "true")],
        )
        .await
        .expect("moto deletes the instance");
        assert_eq!(
            automated_snapshots_of(&moto, &id).await,
            Vec::<String>::new(),
            "round {round}: the automated snapshots went with the instance"
        );
    }
}
