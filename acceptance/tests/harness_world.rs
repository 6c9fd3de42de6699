//! Checks that the acceptance world `make up` starts has the shape the provider tests rely on.
//! Each test FAILS (never skips) with a `make up` hint when its service is not running.

mod mysql_common;

use acceptance::harness::{Service, World};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::admin_opts;

#[tokio::test]
async fn mariadb_speaks_verified_tls_and_has_an_rds_like_admin_and_the_schema() {
    let world = World::require(&[Service::Mysql]);
    assert_eq!(
        world.get("TREEHERDER_MYSQL_TLS_MODE"),
        Some("verify_identity")
    );
    let mut conn = Conn::new(admin_opts(&world, true))
        .await
        .expect("TLS connection as th_admin");

    let tls: Option<(String, String)> = conn
        .query_first("SHOW STATUS LIKE 'Ssl_version'")
        .await
        .unwrap();
    let version = tls.map(|(_, v)| v).unwrap_or_default();
    assert!(
        version.starts_with("TLSv1."),
        "session is not encrypted: {version:?}"
    );

    let grants: Vec<String> = conn.query("SHOW GRANTS").await.unwrap();
    let all = grants.join("\n");
    for needed in [
        "CREATE USER",
        "SELECT",
        "RELOAD",
        "PROCESS",
        "SHOW DATABASES",
        "WITH GRANT OPTION",
        "REQUIRE SSL",
    ] {
        assert!(all.contains(needed), "th_admin lacks {needed}: {all}");
    }
    for forbidden in ["ALL PRIVILEGES", "SUPER", "SHUTDOWN", "FILE,"] {
        assert!(
            !all.contains(forbidden),
            "th_admin must not have {forbidden}: {all}"
        );
    }

    let anonymous: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM mysql.user WHERE User = ''")
        .await
        .unwrap();
    assert_eq!(
        anonymous,
        Some(0),
        "anonymous users would shadow 'user'@'%' logins"
    );

    let tables: Vec<String> = conn
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'treeherder' ORDER BY TABLE_NAME")
        .await
        .unwrap();
    assert_eq!(tables.len(), 58, "{tables:?}");
    let app_tables = tables
        .iter()
        .filter(|t| !t.starts_with("django_") && !t.starts_with("auth_"))
        .count();
    assert_eq!(app_tables, 50);
    for reserved in ["group", "option"] {
        assert!(tables.iter().any(|t| t == reserved), "missing `{reserved}`");
    }

    let columns: Vec<String> = conn
        .query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = 'treeherder' AND TABLE_NAME = 'auth_user' ORDER BY ORDINAL_POSITION",
        )
        .await
        .unwrap();
    assert_eq!(
        columns,
        [
            "id",
            "password",
            "last_login",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined"
        ]
    );
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn mariadb_refuses_th_admin_without_tls() {
    let world = World::require(&[Service::Mysql]);
    let err = Conn::new(admin_opts(&world, false))
        .await
        .expect_err("REQUIRE SSL must refuse a plain connection");
    match err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1045, "{}", e.message),
        other => panic!("expected access denied, got {other}"),
    }
}

#[tokio::test]
async fn moto_has_the_production_instance_and_its_snapshots() {
    let world = World::require(&[Service::Moto]);
    let url = world
        .get("TREEHERDER_MOTO_URL")
        .expect("moto URL")
        .to_string();
    let describe = |action: &str| {
        reqwest::Client::new()
            .post(format!("{url}/"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            // moto routes unsigned query-protocol calls by the credential scope's service.
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(format!("Action={action}&Version=2014-10-31&DBInstanceIdentifier=treeherder-prod"))
            .send()
    };
    let snapshots = describe("DescribeDBSnapshots")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        snapshots.contains("<DBSnapshotIdentifier>rds:treeherder-prod-"),
        "{snapshots}"
    );
    assert!(
        snapshots.contains("<SnapshotType>automated</SnapshotType>"),
        "{snapshots}"
    );
    assert!(
        snapshots.contains("<DBSnapshotIdentifier>treeherder-prod-manual-2</DBSnapshotIdentifier>")
    );

    let instance = describe("DescribeDBInstances")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for fact in [
        "<DBInstanceClass>db.m4.xlarge</DBInstanceClass>",
        "<Engine>mysql</Engine>",
        "<DBSubnetGroupName>treeherder-dbgrp</DBSubnetGroupName>",
        "<DBParameterGroupName>treeherder-mysql57</DBParameterGroupName>",
    ] {
        assert!(instance.contains(fact), "missing {fact}: {instance}");
    }
}

#[tokio::test]
async fn sandbox_serves_the_heroku_api_with_the_sandbox_key_only() {
    let world = World::require(&[Service::Sandbox]);
    let url = world.get("HEROKU_API_URL").expect("URL");
    let key = world.get("HEROKU_API_KEY").expect("key");
    let client = reqwest::Client::new();
    let get = || {
        client
            .get(format!("{url}/apps"))
            .header("Accept", "application/vnd.heroku+json; version=3")
    };
    let denied = get().send().await.unwrap();
    assert_eq!(denied.status().as_u16(), 401);
    let allowed = get().bearer_auth(key).send().await.unwrap();
    assert_eq!(allowed.status().as_u16(), 200);
    let apps: serde_json::Value = allowed.json().await.unwrap();
    assert!(apps.is_array(), "{apps}");
    assert_eq!(
        world.get("HEROKU_SCHEDULER_URL").map(str::to_string),
        Some(format!("{url}/scheduler"))
    );
}
