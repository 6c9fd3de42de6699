//! Typed state upgraders: a resource at schema version 2 reads state stored at versions 0, 1
//! and 2 as Terraform's UpgradeResourceState hands it over (raw JSON plus its version).

use std::collections::BTreeMap;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tfplugin::framework::{resource, Context, Resource, StateUpgrader};
use tfplugin::value::Value;
use tfplugin::{Diagnostic, Diagnostics, Field, WriteOnly};

/// Version 0 stored a `title` and a size with its unit, e.g. "10MB".
#[derive(Deserialize)]
struct DiskV0 {
    title: String,
    size: String,
}

/// Version 1 renamed `title` to `name`.
#[derive(Serialize, Deserialize)]
struct DiskV1 {
    name: String,
    size: String,
}

/// Version 2, current: the size in megabytes as a number.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
struct DiskModel {
    /// The name.
    name: Field<String>,
    /// The size in MB.
    size_mb: Field<i64>,
    /// Set by the server.
    #[tf(computed)]
    #[serde(default)]
    id: Field<String>,
    /// Never stored.
    #[serde(default)]
    token_wo: Field<WriteOnly>,
}

/// Which upgraders the resource declares.
#[derive(Clone, Copy)]
enum Upgraders {
    /// 0 → 1 → current.
    Chained,
    /// Only 1 → current: state of version 0 cannot be read.
    FromOneOnly,
}

struct Disk(Upgraders);

fn megabytes(size: &str) -> Result<i64, Diagnostics> {
    size.strip_suffix("MB")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            Diagnostic::error("Bad stored size", format!("{size:?} is not N\"MB\"")).into()
        })
}

#[async_trait]
impl Resource for Disk {
    type Model = DiskModel;
    type Client = ();

    fn type_name(&self) -> &'static str {
        "test_disk"
    }

    fn schema_version(&self) -> i64 {
        2
    }

    fn state_upgraders(&self) -> Vec<StateUpgrader<DiskModel>> {
        let one = StateUpgrader::to_current(1, |prior: DiskV1| {
            Ok(DiskModel {
                name: Field::known(prior.name),
                size_mb: Field::known(megabytes(&prior.size)?),
                id: Field::Null,
                // Set to check that the framework never stores write-only values.
                token_wo: Field::known(WriteOnly::new("leak".to_string())),
            })
        });
        let zero = StateUpgrader::to_version(0, 1, |prior: DiskV0| {
            Ok(DiskV1 {
                name: prior.title,
                size: prior.size,
            })
        });
        match self.0 {
            Upgraders::Chained => vec![zero, one],
            Upgraders::FromOneOnly => vec![one],
        }
    }

    async fn create(&self, _: &Context<'_, ()>, plan: DiskModel) -> Result<DiskModel, Diagnostics> {
        Ok(plan)
    }

    async fn read(
        &self,
        _: &Context<'_, ()>,
        state: DiskModel,
    ) -> Result<Option<DiskModel>, Diagnostics> {
        Ok(Some(state))
    }

    async fn update(
        &self,
        _: &Context<'_, ()>,
        _: DiskModel,
        plan: DiskModel,
    ) -> Result<DiskModel, Diagnostics> {
        Ok(plan)
    }

    async fn delete(&self, _: &Context<'_, ()>, _: DiskModel) -> Result<(), Diagnostics> {
        Ok(())
    }
}

fn disk(name: &str, size_mb: i64, id: Value) -> Value {
    Value::Object(BTreeMap::from([
        ("name".to_string(), Value::String(name.to_string())),
        ("size_mb".to_string(), Value::Number(size_mb.into())),
        ("id".to_string(), id),
        ("token_wo".to_string(), Value::Null),
    ]))
}

fn upgrade(
    upgraders: Upgraders,
    version: i64,
    json: serde_json::Value,
) -> Result<Value, Diagnostics> {
    resource(Disk(upgraders))
        .expect("schema")
        .upgrade(version, json)
}

fn error_text(result: Result<Value, Diagnostics>) -> String {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(errors) => errors
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn the_schema_carries_the_declared_version() {
    let registered = resource(Disk(Upgraders::Chained)).expect("schema");
    assert_eq!(registered.schema().version, 2);
}

#[test]
fn state_of_version_0_goes_through_version_1_to_the_current_model() {
    // `legacy` is an attribute version 0 stored that no model names: Terraform passes the raw
    // JSON of an older version unfiltered, so the prior model ignores it.
    let upgraded = upgrade(
        Upgraders::Chained,
        0,
        json!({"title": "data", "size": "10MB", "legacy": true}),
    )
    .expect("upgraded");
    assert_eq!(upgraded, disk("data", 10, Value::Null));
}

#[test]
fn state_of_version_1_upgrades_to_the_current_model_without_write_only_values() {
    let upgraded = upgrade(
        Upgraders::Chained,
        1,
        json!({"name": "logs", "size": "512MB"}),
    )
    .expect("upgraded");
    assert_eq!(upgraded, disk("logs", 512, Value::Null));
}

#[test]
fn state_of_the_current_version_drops_removed_attributes_and_fills_new_ones_with_null() {
    let upgraded = upgrade(
        Upgraders::FromOneOnly,
        2,
        json!({"name": "x", "size_mb": 3, "removed": "gone"}),
    )
    .expect("upgraded");
    assert_eq!(upgraded, disk("x", 3, Value::Null));
}

#[test]
fn a_missing_upgrader_is_an_error_naming_the_resource_and_version() {
    let text = error_text(upgrade(
        Upgraders::FromOneOnly,
        0,
        json!({"title": "data", "size": "10MB"}),
    ));
    assert!(
        text.contains("test_disk") && text.contains("schema version 0"),
        "{text}"
    );
}

#[test]
fn state_from_a_newer_schema_version_is_an_error() {
    let text = error_text(upgrade(
        Upgraders::Chained,
        3,
        json!({"name": "x", "size_mb": 3}),
    ));
    assert!(
        text.contains("test_disk") && text.contains("version 3"),
        "{text}"
    );
}

#[test]
fn state_not_fitting_its_prior_model_is_an_error_naming_the_version() {
    // Version 0 state must have `title`; this one has version 1's shape.
    let text = error_text(upgrade(
        Upgraders::Chained,
        0,
        json!({"name": "x", "size": "1MB"}),
    ));
    assert!(
        text.contains("schema version 0") && text.contains("title"),
        "{text}"
    );
}

#[test]
fn an_upgrader_error_is_returned_as_is() {
    let text = error_text(upgrade(
        Upgraders::Chained,
        1,
        json!({"name": "x", "size": "big"}),
    ));
    assert!(text.contains("Bad stored size"), "{text}");
}
