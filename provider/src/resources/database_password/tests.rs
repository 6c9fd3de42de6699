//! Unit tests of treeherder_database_password.

use crate::clients::mysql::MysqlConfig;

use super::*;

#[test]
fn digests_recognise_the_password_without_holding_it() {
    let digest = PasswordDigest::of("Rotated-Password-0123456789abcdef");
    assert!(digest.matches("Rotated-Password-0123456789abcdef"));
    assert!(!digest.matches("Rotated-Password-0123456789abcdeF"));
    let json = serde_json::to_string(&digest).unwrap();
    assert!(!json.contains("Rotated"), "{json}");
    // Salted: the same password gives another hash.
    assert_ne!(
        PasswordDigest::of("x").sha256,
        PasswordDigest::of("x").sha256
    );
}

#[test]
fn schema_hides_passwords_and_marks_the_write_only_one() {
    let schema = DatabasePasswordResource.schema().unwrap();
    assert!(schema.block.attribute("password").unwrap().sensitive);
    assert!(schema.block.attribute("password_wo").unwrap().write_only);
    for name in ["id", "host", "rotated_at", "in_sync"] {
        assert!(schema.block.attribute(name).unwrap().computed, "{name}");
    }
    assert!(schema.block.attribute("app").unwrap().required);
}

#[test]
fn logins_keep_the_provider_tunnels() {
    let rds = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306";
    let mut base = MysqlConfig::new(rds, "th_admin", "admin-password");
    base.tunnels = crate::clients::mysql::Tunnels::parse([(rds, "127.0.0.1:13306")]).unwrap();
    let target = Target {
        base: base.clone(),
        admin: None,
    };
    let login = target.login("th_user", "user-password");
    assert_eq!(login.tunnels, base.tunnels);
    let dial = login.dial_target().unwrap();
    assert_eq!((dial.host.as_str(), dial.port), ("127.0.0.1", 13306));
}
