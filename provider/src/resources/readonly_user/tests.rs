//! Unit tests of treeherder_readonly_user.

use std::collections::BTreeMap;

use crate::clients::mysql::identifiers::{TableName, TablePattern};
use crate::clients::mysql::Identifier;

use super::*;

fn runbook() -> ColumnGrants {
    runbook_column_grants().unwrap()
}

fn spec(exclude: &str) -> Spec {
    Spec {
        account: Account::new("reader", "%").unwrap(),
        exclude: TablePattern::parse(exclude).unwrap(),
        column_grants: runbook(),
        require_ssl: true,
    }
}

fn db() -> DatabaseName {
    DatabaseName::parse("treeherder").unwrap()
}

fn tables(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn model(overrides: serde_json::Value) -> Result<ReadonlyUserModel, String> {
    let mut json = serde_json::json!({
        "name": "r", "host": "%", "password": "a".repeat(30), "require_ssl": true,
        "database": "treeherder", "exclude_tables": "^x", "column_grants": {},
        "id": null, "granted_tables": null, "grant_statements": null
    });
    for (k, v) in overrides.as_object().unwrap() {
        json[k] = v.clone();
    }
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// The message a refused model gives ("" when accepted).
fn refused(overrides: serde_json::Value) -> String {
    model(overrides).err().unwrap_or_default()
}

fn auth_user_columns() -> BTreeMap<String, Vec<String>> {
    let columns = ["id", "password", "username", "email"];
    BTreeMap::from([(
        "auth_user".to_string(),
        columns.iter().map(|c| c.to_string()).collect(),
    )])
}

#[test]
fn missing_columns_are_an_error_naming_them_and_listing_the_table() {
    let mut s = spec(DEFAULT_EXCLUDE_TABLES);
    let long = "c".repeat(64);
    s.column_grants.insert(
        TableName::parse("auth_user").unwrap(),
        vec![
            ColumnName::parse("id").unwrap(),
            ColumnName::parse("no_such_column").unwrap(),
            ColumnName::parse(&long).unwrap(),
        ],
    );
    let mut columns = auth_user_columns();
    columns
        .get_mut("auth_user")
        .unwrap()
        .extend((0..100).map(|i| format!("{}{i}", "x".repeat(60))));
    let err = s
        .desired(&db(), &tables(&["auth_user", "job"]), &columns, None)
        .unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(
        d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
        Some("column_grants[\"auth_user\"]")
    );
    assert!(
        d.detail.contains("no column \"no_such_column\""),
        "{}",
        d.detail
    );
    assert!(d.detail.contains("\"username\""), "{}", d.detail);
    assert!(d.detail.contains("and 64 more"), "{}", d.detail);
    assert!(d.detail.len() < 4000, "{}", d.detail.len());
}

#[test]
fn repeated_columns_fail_validation_at_their_entry() {
    let config = model(serde_json::json!({
        "column_grants": { "auth_user": ["id", "email", "id"] }
    }))
    .unwrap();
    let mut diagnostics = Diagnostics::new();
    ReadonlyUserResource.validate(&config, &mut diagnostics);
    let d = diagnostics.iter().next().expect("an error");
    assert!(d.detail.contains("\"id\" more than once"), "{}", d.detail);
    assert_eq!(
        d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
        Some("column_grants[\"auth_user\"]")
    );
}

#[test]
fn names_the_server_cannot_compare_are_refused_and_echoes_are_cut() {
    let err = refused(serde_json::json!({ "name": "reader\u{1F600}" }));
    assert!(err.contains("Basic Multilingual Plane"), "{err}");
    let err = refused(serde_json::json!({ "host": "\u{1F600}.example.com" }));
    assert!(err.contains("Basic Multilingual Plane"), "{err}");
    let huge = "n".repeat(1_000_000);
    for field in ["name", "host", "database"] {
        let err = refused(serde_json::json!({ field: huge.clone() }));
        assert!(
            !err.is_empty() && err.len() < 1000,
            "{field}: {} bytes",
            err.len()
        );
    }
    let err = refused(serde_json::json!({ "exclude_tables": format!("({huge}") }));
    assert!(!err.is_empty() && err.len() < 1000, "{} bytes", err.len());
    let err = refused(serde_json::json!({ "column_grants": { huge.clone(): ["id"] } }));
    assert!(!err.is_empty() && err.len() < 1000, "{} bytes", err.len());
    let err = refused(serde_json::json!({ "column_grants": { "t": [huge.clone()] } }));
    assert!(!err.is_empty() && err.len() < 1000, "{} bytes", err.len());
}

#[test]
fn desired_follows_the_runbook_shape() {
    let t = tables(&[
        "auth_group",
        "auth_user",
        "django_migrations",
        "group",
        "job",
        "oauth_token",
    ]);
    let password = Password::new("a".repeat(30)).unwrap();
    let d = spec(DEFAULT_EXCLUDE_TABLES)
        .desired(&db(), &t, &auth_user_columns(), Some(&password))
        .unwrap();
    assert_eq!(granted_list(&d), ["group", "job", "oauth_token"]);
    let cols: Vec<&str> = d.column_grants[&Identifier::table("auth_user").unwrap()]
        .iter()
        .map(Identifier::as_str)
        .collect();
    assert_eq!(cols, ["email", "id", "username"]);
}

#[test]
fn column_grant_tables_are_never_granted_in_full() {
    let mut s = spec("^django_");
    s.column_grants.insert(
        TableName::parse("job").unwrap(),
        vec![
            ColumnName::parse("id").unwrap(),
            ColumnName::parse("guid").unwrap(),
        ],
    );
    let d = s
        .desired(
            &db(),
            &tables(&["auth_user", "job", "push"]),
            &BTreeMap::new(),
            None,
        )
        .unwrap();
    assert_eq!(granted_list(&d), ["push"]);
    assert_eq!(d.column_grants.len(), 2);
}

#[test]
fn missing_column_grant_table_is_an_error_at_its_attribute() {
    let err = spec(DEFAULT_EXCLUDE_TABLES)
        .desired(&db(), &tables(&["job"]), &BTreeMap::new(), None)
        .unwrap_err();
    let at = err.iter().next().and_then(|d| d.attribute.clone());
    assert_eq!(
        at.map(|p| p.to_string()).as_deref(),
        Some("column_grants[\"auth_user\"]")
    );
}

#[test]
fn read_keeps_prior_column_spelling_when_equivalent() {
    let server = BTreeMap::from([(
        "auth_user".to_string(),
        BTreeSet::from([
            "email".to_string(),
            "id".to_string(),
            "username".to_string(),
        ]),
    )]);
    assert_eq!(
        column_grants_read(&server, Some(&runbook())).unwrap(),
        runbook()
    );
    let mut fewer = server.clone();
    fewer.get_mut("auth_user").unwrap().remove("email");
    let read = column_grants_read(&fewer, Some(&runbook())).unwrap();
    let columns: Vec<&str> = read.values().flatten().map(ColumnName::as_str).collect();
    assert_eq!(columns, ["id", "username"]);
}

#[test]
fn bad_values_are_refused_when_read_without_echoing_the_password() {
    let err = refused(serde_json::json!({ "password": "short%SECRETVALUE" }));
    assert!(
        err.contains("percent sign") && !err.contains("SECRETVALUE"),
        "{err}"
    );
    let err = refused(serde_json::json!({ "exclude_tables": "(" }));
    assert!(err.contains("not a valid regular expression"), "{err}");
    assert!(model(serde_json::json!({ "name": "" })).is_err());
    assert!(model(serde_json::json!({ "host": "a\nb" })).is_err());
    let bad = serde_json::json!({ "column_grants": { "auth_user": ["a\u{0}b"] } });
    assert!(refused(bad).contains("column name"));
}

#[test]
fn empty_column_lists_fail_validation_at_their_entry() {
    let config = model(serde_json::json!({ "column_grants": { "auth_user": [] } })).unwrap();
    let mut diagnostics = Diagnostics::new();
    ReadonlyUserResource.validate(&config, &mut diagnostics);
    let d = diagnostics.iter().next().expect("an error");
    assert!(d.detail.contains("no columns"), "{}", d.detail);
    assert_eq!(
        d.attribute.as_ref().map(|p| p.to_string()).as_deref(),
        Some("column_grants[\"auth_user\"]")
    );
}

#[test]
fn null_password_round_trips_as_null_and_the_schema_marks_the_passwords() {
    let model = model(serde_json::json!({ "password": null })).unwrap();
    assert!(model.password.is_null());
    assert_eq!(
        serde_json::to_value(&model).unwrap()["password"],
        serde_json::Value::Null
    );
    let schema = ReadonlyUserResource.schema().unwrap();
    let attribute = |name: &str| schema.block.attribute(name).unwrap();
    let password = attribute("password");
    assert!(password.optional && password.sensitive && !password.write_only);
    let password_wo = attribute("password_wo");
    assert!(password_wo.optional && password_wo.sensitive && password_wo.write_only);
    let version = attribute("password_wo_version");
    assert!(version.optional && !version.write_only && !version.sensitive);
    assert!(attribute("name").required);
    for defaulted in ["host", "require_ssl", "exclude_tables", "column_grants"] {
        assert!(attribute(defaulted).default.is_some(), "{defaulted}");
    }
    let database = attribute("database");
    assert!(database.optional && database.computed);
}

/// A configuration object: every attribute null but `pairs`.
fn config(pairs: &[(&str, tfplugin::value::Value)]) -> tfplugin::value::Value {
    use tfplugin::value::Value;
    let mut entries: BTreeMap<String, Value> = ReadonlyUserResource
        .schema()
        .unwrap()
        .block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), Value::Null))
        .collect();
    for (k, v) in pairs {
        entries.insert(k.to_string(), v.clone());
    }
    Value::Object(entries)
}

#[test]
fn validation_reports_the_password_rule_and_a_null_password_at_the_attribute() {
    use tfplugin::value::Value;
    let registered = tfplugin::framework::resource(ReadonlyUserResource).unwrap();
    let name = ("name", Value::String("r".into()));
    let short = config(&[
        name.clone(),
        ("password", Value::String("short-password-1".into())),
    ]);
    let diagnostics = registered.validate(&short, true);
    let errors: Vec<_> = diagnostics.iter().collect();
    assert_eq!(errors.len(), 1, "{diagnostics:?}");
    assert_eq!(
        errors[0].attribute,
        Some(attr!(ReadonlyUserModel, password))
    );
    assert!(
        errors[0].detail.contains("16 characters long; at least 30"),
        "{}",
        errors[0].detail
    );
    assert!(!errors[0].detail.contains("short-password-1"));

    // No password passes validate: an imported account may omit it (a create is refused
    // at plan, see a_create_plan_without_a_password_is_refused_at_password).
    let null = config(std::slice::from_ref(&name));
    assert!(registered.validate(&null, true).iter().next().is_none());

    let good = config(&[name, ("password", Value::String("a".repeat(30)))]);
    assert!(registered.validate(&good, true).iter().next().is_none());
}

#[test]
fn at_most_one_password_and_password_wo_needs_its_version() {
    use tfplugin::value::Value;
    let registered = tfplugin::framework::resource(ReadonlyUserResource).unwrap();
    let name = ("name", Value::String("r".into()));
    let good = Value::String("b".repeat(30));
    let errors_of = |pairs: &[(&str, Value)], write_only_allowed: bool| {
        let diagnostics = registered.validate(&config(pairs), write_only_allowed);
        diagnostics
            .iter()
            .map(|d| {
                let at = d
                    .attribute
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                (at, format!("{}: {}", d.summary, d.detail))
            })
            .collect::<Vec<_>>()
    };
    let version = ("password_wo_version", Value::Number(1u64.into()));
    let wo = ("password_wo", good.clone());
    assert!(errors_of(&[name.clone(), wo.clone(), version.clone()], true).is_empty());
    // An ephemeral value is unknown at validate: it counts as set.
    let unknown = ("password_wo", Value::Unknown);
    assert!(errors_of(&[name.clone(), unknown, version.clone()], true).is_empty());

    let neither = errors_of(std::slice::from_ref(&name), true);
    assert!(neither.is_empty(), "{neither:?}");

    let both = errors_of(
        &[
            name.clone(),
            ("password", good.clone()),
            wo.clone(),
            version.clone(),
        ],
        true,
    );
    assert_eq!(both.len(), 1, "{both:?}");
    assert_eq!(both[0].0, "password_wo");
    assert!(both[0].1.contains("only one of"), "{}", both[0].1);

    // At the attribute set, the line Terraform can quote, naming the one missing.
    let unversioned = errors_of(&[name.clone(), wo.clone()], true);
    assert_eq!(unversioned.len(), 1, "{unversioned:?}");
    assert_eq!(unversioned[0].0, "password_wo");
    assert!(
        unversioned[0].1.starts_with("Missing password_wo_version"),
        "{}",
        unversioned[0].1
    );

    let stray = errors_of(&[name.clone(), ("password", good), version.clone()], true);
    assert_eq!(stray.len(), 1, "{stray:?}");
    assert_eq!(stray[0].0, "password_wo_version");

    let bad = (
        "password_wo",
        Value::String("short%SECRETVALUE-short%SECRETVALUE".into()),
    );
    let invalid = errors_of(&[name.clone(), bad, version.clone()], true);
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    assert_eq!(invalid[0].0, "password_wo");
    assert!(invalid[0].1.contains("percent sign"), "{}", invalid[0].1);
    assert!(!invalid[0].1.contains("SECRETVALUE"), "{}", invalid[0].1);

    // Terraform < 1.11 cannot send write-only values: the SDK refuses them by name.
    let old = errors_of(&[name, wo, version], false);
    assert!(
        old.iter()
            .any(|(at, text)| at == "password_wo" && text.contains("1.11")),
        "{old:?}"
    );
}

#[test]
fn the_password_is_set_on_create_and_when_password_or_its_version_changes() {
    let base = model(serde_json::json!({})).unwrap();
    assert!(password_changes(None, &base));
    assert!(!password_changes(Some(&base), &base.clone()));
    let mut other = base.clone();
    other.password = model(serde_json::json!({ "password": "c".repeat(31) }))
        .unwrap()
        .password;
    assert!(password_changes(Some(&base), &other));
    let wo = model(serde_json::json!({
        "password": null, "password_wo": "d".repeat(30), "password_wo_version": 1
    }))
    .unwrap();
    let mut same_version = wo.clone();
    same_version.password_wo = Field::Null;
    assert!(!password_changes(Some(&same_version), &wo));
    let mut bumped = wo.clone();
    bumped.password_wo_version = Field::known(2u64);
    assert!(password_changes(Some(&wo), &bumped));
    assert_eq!(
        configured_password(&bumped).unwrap().expose(),
        "d".repeat(30)
    );
    let mut none = wo;
    none.password_wo = Field::Null;
    assert!(configured_password(&none).is_err());
}

#[tokio::test]
async fn a_create_plan_without_a_password_is_refused_at_password() {
    use tfplugin::value::Value;
    let registered = tfplugin::framework::resource(ReadonlyUserResource).unwrap();
    let config = config(&[("name", Value::String("r".into()))]);
    let (_tx, stop) = tokio::sync::watch::channel(false);
    let outcome = registered
        .plan(
            None,
            stop,
            &Value::Null,
            &config,
            &config,
            Default::default(),
        )
        .await;
    let errors: Vec<_> = outcome.diagnostics.iter().collect();
    assert_eq!(errors.len(), 1, "{:?}", outcome.diagnostics);
    assert_eq!(
        errors[0].attribute,
        Some(attr!(ReadonlyUserModel, password))
    );
    assert!(
        errors[0].detail.contains("to create an account"),
        "{}",
        errors[0].detail
    );
}

#[tokio::test]
async fn a_create_plan_without_provider_settings_plans_the_defaults() {
    use tfplugin::value::Value;
    let registered = tfplugin::framework::resource(ReadonlyUserResource).unwrap();
    let config = config(&[
        ("name", Value::String("r".into())),
        ("password", Value::String("a".repeat(30))),
    ]);
    let (_tx, stop) = tokio::sync::watch::channel(false);
    let outcome = registered
        .plan(
            None,
            stop,
            &Value::Null,
            &config,
            &config,
            Default::default(),
        )
        .await;
    assert!(
        outcome.diagnostics.iter().next().is_none(),
        "{:?}",
        outcome.diagnostics
    );
    let planned = |name: &str| outcome.planned.get_attr(name).cloned();
    assert_eq!(planned("host"), Some(Value::String("%".into())));
    assert_eq!(
        planned("exclude_tables"),
        Some(Value::String(DEFAULT_EXCLUDE_TABLES.into()))
    );
    assert_eq!(planned("require_ssl"), Some(Value::Bool(true)));
    assert_eq!(planned("grant_statements"), Some(Value::Unknown));
    assert_eq!(planned("database"), Some(Value::Unknown));
}
