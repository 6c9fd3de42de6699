use super::*;

fn instance() -> Instance {
    Instance {
        identifier: "treeherder-dev-bug1".into(),
        status: "available".into(),
        arn: "arn:aws:rds:us-east-1:123456789012:db:treeherder-dev-bug1".into(),
        class: "db.m4.xlarge".into(),
        address: Some("treeherder-dev-bug1.x.rds.amazonaws.com".into()),
        port: Some(3306),
        publicly_accessible: true,
        subnet_group: Some("treeherder-dbgrp".into()),
        parameter_groups: vec![],
        security_group_ids: vec!["sg-1".into()],
        master_username: Some("th_admin".into()),
        db_name: Some("treeherder".into()),
        tags: BTreeMap::new(),
        has_pending_changes: false,
    }
}

#[test]
fn database_url_holds_the_password_only_when_it_is_kept() {
    let i = instance();
    assert_eq!(
        database_url(&i, Some("p")).as_deref(),
        Some("mysql://th_admin:p@treeherder-dev-bug1.x.rds.amazonaws.com:3306/treeherder")
    );
    assert_eq!(
        database_url(&i, None).as_deref(),
        Some("mysql://th_admin@treeherder-dev-bug1.x.rds.amazonaws.com:3306/treeherder")
    );
}

#[test]
fn schema_marks_the_passwords_and_replacement_attributes() {
    let schema = RdsSnapshotInstanceResource.schema().unwrap();
    let a = |n: &str| schema.block.attribute(n).unwrap();
    assert!(a("master_password").sensitive);
    assert!(a("master_password_wo").write_only);
    assert!(a("database_url").sensitive);
    assert!(a("identifier").required);
    for name in ["restored_snapshot_id", "endpoint", "arn", "status"] {
        assert!(a(name).computed, "{name}");
    }
}
