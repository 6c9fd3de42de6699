//! Tests of the schema derivation: flags, validators as values, rules over several attributes.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;
use crate::value::Value;
use crate::Field;

fn default_host() -> Field<String> {
    Field::known("%")
}

/// A model using every derivation rule.
#[allow(dead_code)]
#[derive(Serialize, Deserialize, JsonSchema, crate::Model)]
struct Everything {
    /// The account name.
    #[tf(requires_replace)]
    name: Field<String>,
    /// Where from.
    #[serde(default = "default_host")]
    host: Field<String>,
    /// Secret.
    #[schemars(length(min = 30))]
    password: Field<crate::Sensitive>,
    /// Optional tags.
    #[serde(default)]
    tags: Field<BTreeMap<String, String>>,
    /// Unique names.
    #[serde(default)]
    names: Field<BTreeSet<String>>,
    /// Grants per table.
    #[serde(default)]
    columns: Field<BTreeMap<String, Vec<String>>>,
    /// Old knob.
    #[deprecated]
    #[serde(default)]
    legacy: Field<bool>,
    /// Set by the server.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    id: Field<String>,
    /// Optional and computed.
    #[tf(computed, optional)]
    #[serde(default)]
    database: Field<String>,
    /// Nested attributes, one per target.
    #[tf(computed, nested = map)]
    #[serde(default)]
    targets: Field<BTreeMap<String, Target>>,
    /// A nested block.
    #[tf(block = single)]
    timeouts: Option<Timeouts>,
}

/// One target.
#[derive(Serialize, Deserialize, JsonSchema, crate::Model)]
struct Target {
    /// Its release.
    release_id: Option<String>,
    /// Its version.
    version: Option<i64>,
}

/// Time limits.
#[derive(Serialize, Deserialize, JsonSchema, crate::Model)]
struct Timeouts {
    /// Create limit.
    #[serde(default)]
    create: Field<String>,
}

#[test]
fn derives_flags_types_defaults_validators_and_nesting() {
    let schema = Schema::from_model::<Everything>().expect("derive");
    let block = &schema.block;
    let attr = |name: &str| block.attribute(name).unwrap_or_else(|| panic!("no {name}"));

    let name = attr("name");
    assert!(name.required && !name.optional && !name.computed);
    assert_eq!(name.description, "The account name.");
    assert_eq!(name.plan_modifiers.len(), 1);

    let host = attr("host");
    assert!(host.optional && host.computed && !host.required);
    assert_eq!(host.default, Some(Value::String("%".into())));

    let password = attr("password");
    assert!(password.sensitive && password.required);
    assert_eq!(
        password.validators[0].description(),
        "a string of at least 30 characters"
    );

    assert_eq!(attr("tags").ty, Type::Map(Box::new(Type::String)));
    assert!(attr("tags").optional);
    assert_eq!(attr("names").ty, Type::Set(Box::new(Type::String)));
    assert_eq!(
        attr("columns").ty,
        Type::Map(Box::new(Type::List(Box::new(Type::String))))
    );
    assert!(attr("legacy").deprecated);

    let id = attr("id");
    assert!(id.computed && !id.optional && !id.required);
    let database = attr("database");
    assert!(database.computed && database.optional);

    let targets = attr("targets");
    let nested = targets.nested.as_ref().expect("nested attributes");
    assert_eq!(nested.nesting, Nesting::Map);
    assert_eq!(
        targets.ty,
        Type::Map(Box::new(Type::object([
            ("release_id".to_string(), Type::String),
            ("version".to_string(), Type::Number),
        ])))
    );

    let timeouts = block.block_type("timeouts").expect("block");
    assert_eq!(timeouts.nesting, Nesting::Single);
    assert!(timeouts
        .block
        .attribute("create")
        .is_some_and(|a| a.optional));
    assert!(block.attribute("timeouts").is_none());
}

#[test]
fn a_map_of_sensitive_values_is_a_sensitive_attribute() {
    #[derive(Serialize, Deserialize, JsonSchema, crate::Model)]
    struct Env {
        /// Secret values.
        #[serde(default)]
        env: Field<BTreeMap<String, crate::Sensitive>>,
        /// Plain values.
        #[serde(default)]
        tags: Field<BTreeMap<String, String>>,
    }
    let schema = Schema::from_model::<Env>().expect("derive");
    let env = schema.block.attribute("env").expect("env");
    assert!(env.sensitive && !env.write_only);
    assert_eq!(env.ty, Type::Map(Box::new(Type::String)));
    assert!(!schema.block.attribute("tags").expect("tags").sensitive);
}

#[test]
fn a_model_the_schema_cannot_express_is_an_error() {
    #[allow(dead_code)]
    #[derive(JsonSchema, crate::Model)]
    struct Bad {
        either: Field<Either>,
    }
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    enum Either {
        A(String),
        B(i64),
    }
    let error = Schema::from_model::<Bad>().expect_err("an untyped union has no cty type");
    assert!(error.to_string().contains("either"), "{error}");

    #[allow(dead_code)]
    #[derive(JsonSchema, crate::Model)]
    struct Plain {
        app: String,
    }
    let error = Schema::from_model::<Plain>().expect_err("a plain field");
    assert!(
        matches!(error, SchemaDeriveError::NotAField(ref f) if f == "app"),
        "{error}"
    );
    assert!(Schema::from_provider_model::<Plain>().is_ok());
}

/// A model with validators, a plan modifier and rules over several attributes as values.
#[allow(dead_code)]
#[derive(Serialize, Deserialize, JsonSchema, crate::Model)]
#[tf(conflicts_with(password, password_wo), hint = "Keep one.")]
#[tf(also_requires(password_wo => password_wo_version))]
#[tf(exactly_one_of(name, r#type))]
struct Account {
    /// Name.
    #[serde(default)]
    #[tf(validator = crate::validators::StringLength::at_least(3))]
    #[tf(plan_modifier = crate::modifiers::RequiresReplace)]
    name: Field<String>,
    /// A keyword field.
    #[serde(default)]
    r#type: Field<String>,
    /// Stored secret.
    #[serde(default)]
    password: Field<crate::Sensitive>,
    /// Write-only secret.
    #[serde(default)]
    password_wo: Field<crate::WriteOnly>,
    /// Its version.
    #[serde(default)]
    password_wo_version: Field<u64>,
    /// Limits, with a rule of their own.
    #[tf(block = list)]
    #[serde(default)]
    limits: Vec<Limit>,
}

/// One limit.
#[allow(dead_code)]
#[derive(Serialize, Deserialize, JsonSchema, crate::Model)]
#[tf(exactly_one_of(soft, hard))]
struct Limit {
    /// Soft.
    #[serde(default)]
    soft: Field<u64>,
    /// Hard.
    #[serde(default)]
    hard: Field<u64>,
}

fn config(pairs: &[(&str, Value)]) -> Value {
    let schema = Schema::from_model::<Account>().expect("derive");
    let mut object: BTreeMap<String, Value> = schema
        .block
        .value_type()
        .attributes()
        .into_iter()
        .flat_map(|attributes| attributes.keys())
        .map(|k| (k.clone(), Value::Null))
        .collect();
    object.insert("limits".into(), Value::List(Vec::new()));
    for (name, value) in pairs {
        object.insert(name.to_string(), value.clone());
    }
    Value::Object(object)
}

/// (path, summary, detail) of each diagnostic of validating `config`.
fn diagnostics_of(config: &Value) -> Vec<(String, String, String)> {
    let schema = Schema::from_model::<Account>().expect("derive");
    let mut diagnostics = crate::Diagnostics::new();
    crate::framework::validate_block(&schema.block, config, &mut diagnostics);
    diagnostics
        .iter()
        .map(|d| {
            let at = d
                .attribute
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default();
            (at, d.summary.clone(), d.detail.clone())
        })
        .collect()
}

#[test]
fn validators_and_plan_modifiers_are_values_after_the_json_schemas() {
    let schema = Schema::from_model::<Account>().expect("derive");
    let name = schema.block.attribute("name").expect("name");
    assert_eq!(
        name.validators
            .iter()
            .map(|v| v.description())
            .collect::<Vec<_>>(),
        ["a string of at least 3 characters"]
    );
    assert_eq!(name.plan_modifiers.len(), 1);
    assert_eq!(schema.block.validators.len(), 3);
    let short = diagnostics_of(&config(&[("name", Value::String("ab".into()))]));
    assert_eq!(short.len(), 1, "{short:?}");
    assert_eq!(short[0].0, "name");
}

#[test]
fn rules_over_several_attributes_report_at_the_attribute_to_change() {
    let text = |t: &str| Value::String(t.into());
    let one = 1u64;
    assert!(diagnostics_of(&config(&[("name", text("abc"))])).is_empty());

    // Exactly one of name and type: neither is reported at the first, both at the second.
    let neither = diagnostics_of(&config(&[]));
    assert_eq!(neither.len(), 1, "{neither:?}");
    assert_eq!(neither[0].0, "name");
    assert!(neither[0].2.contains("`name` or `type`"), "{neither:?}");
    let both = diagnostics_of(&config(&[("name", text("abc")), ("type", text("x"))]));
    assert_eq!(both.len(), 1, "{both:?}");
    assert_eq!(both[0].0, "type");

    // Conflicts: at the later one, with the hint; an unknown counts as set.
    let conflict = diagnostics_of(&config(&[
        ("name", text("abc")),
        ("password", text("p")),
        ("password_wo", Value::Unknown),
        ("password_wo_version", Value::Number(one.into())),
    ]));
    assert_eq!(conflict.len(), 1, "{conflict:?}");
    assert_eq!(conflict[0].0, "password_wo");
    assert_eq!(conflict[0].1, "Conflicting arguments");
    assert!(
        conflict[0]
            .2
            .ends_with("`password` and `password_wo`. Keep one."),
        "{conflict:?}"
    );

    // Also requires: at the attribute set, naming the one missing.
    let unversioned = diagnostics_of(&config(&[
        ("name", text("abc")),
        ("password_wo", text("p")),
    ]));
    assert_eq!(unversioned.len(), 1, "{unversioned:?}");
    assert_eq!(unversioned[0].0, "password_wo");
    assert_eq!(unversioned[0].1, "Missing password_wo_version");

    // Rules of a nested block run at each element, at its path.
    let limits = Value::List(vec![
        Value::Object(BTreeMap::from([
            ("soft".to_string(), Value::Number(one.into())),
            ("hard".to_string(), Value::Null),
        ])),
        Value::Object(BTreeMap::from([
            ("soft".to_string(), Value::Number(one.into())),
            ("hard".to_string(), Value::Number(one.into())),
        ])),
    ]);
    let nested = diagnostics_of(&config(&[("name", text("abc")), ("limits", limits)]));
    assert_eq!(nested.len(), 1, "{nested:?}");
    assert_eq!(nested[0].0, "limits[1].hard");
}

#[test]
fn settings_naming_no_attribute_are_an_error() {
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Plain {
        app: Field<String>,
    }
    impl ModelSettings for Plain {
        fn model_settings() -> BlockSettings {
            let mut settings = BlockSettings::new();
            settings.field("ap").computed();
            settings
        }
    }
    let error = Schema::from_model::<Plain>().expect_err("no attribute `ap`");
    assert!(
        matches!(error, SchemaDeriveError::UnknownField { ref field, .. } if field == "ap"),
        "{error}"
    );
}
