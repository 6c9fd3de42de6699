//! The tree between cty values and models: unknowns out of band, user values never taken
//! for one.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{to_tree, Tree, UNKNOWN_TOKEN};
use crate::framework::view::{from_model, to_model};
use crate::schema::Schema;
use crate::value::Value;
use crate::Field;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Owner {
    name: String,
    #[serde(default)]
    extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
struct Entry {
    value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
struct Model {
    #[serde(default)]
    flags: Field<BTreeMap<String, bool>>,
    #[serde(default)]
    labels: Field<BTreeMap<String, String>>,
    #[serde(default)]
    names: Field<Vec<String>>,
    #[serde(default)]
    owner: Field<Owner>,
    #[tf(nested = map)]
    #[serde(default)]
    entries: Field<BTreeMap<String, Entry>>,
    #[tf(computed)]
    #[serde(default)]
    id: Field<String>,
}

fn string(s: &str) -> Value {
    Value::String(s.into())
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn object(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// Every key and string a user might write to imitate an unknown: the old in-band key, and
/// the token that now names it.
const IMITATIONS: [&str; 2] = ["$tfplugin-unknown", UNKNOWN_TOKEN];

#[test]
fn user_values_shaped_like_an_unknown_stay_known() {
    let schema = Schema::from_model::<Model>().unwrap();
    let ty = schema.value_type();
    for key in IMITATIONS {
        let value = object(&[
            ("flags", map(&[(key, Value::Bool(true))])),
            ("labels", map(&[(key, string("true"))])),
            ("names", Value::List(vec![string(key)])),
            (
                "owner",
                object(&[("name", string(key)), ("extra", map(&[(key, string(key))]))]),
            ),
            ("entries", map(&[(key, object(&[("value", string(key))]))])),
            ("id", string(key)),
        ]);
        let model: Model = to_model(&schema.block, &ty, &value).unwrap();
        assert_eq!(model.flags.get().unwrap().get(key), Some(&true), "{key}");
        assert_eq!(model.labels.get().unwrap()[key], "true");
        assert_eq!(model.names.get().unwrap(), &vec![key.to_string()]);
        let owner = model.owner.get().unwrap();
        assert_eq!((owner.name.as_str(), owner.extra[key].as_str()), (key, key));
        assert_eq!(model.entries.get().unwrap()[key].value, key);
        assert_eq!(model.id.as_str(), Some(key));
        // And back: the same value, nothing unknown in it.
        let back = from_model(&schema.block, &model).unwrap();
        assert!(back.is_wholly_known(), "{key}: {back:?}");
        assert_eq!(back, schema_normal(&value, &back), "{key}");
    }
}

/// `value` as the decoder spells it (absent object attributes as null).
fn schema_normal(value: &Value, decoded: &Value) -> Value {
    match (value, decoded) {
        (Value::Object(v), Value::Object(d)) => Value::Object(
            d.iter()
                .map(|(k, dv)| {
                    let vv = v.get(k).map_or(Value::Null, |vv| schema_normal(vv, dv));
                    (k.clone(), vv)
                })
                .collect(),
        ),
        (Value::Map(v), Value::Map(d)) => Value::Map(
            v.iter()
                .map(|(k, vv)| {
                    (
                        k.clone(),
                        d.get(k).map_or(vv.clone(), |dv| schema_normal(vv, dv)),
                    )
                })
                .collect(),
        ),
        _ => value.clone(),
    }
}

#[test]
fn unknowns_reach_the_model_and_come_back() {
    let schema = Schema::from_model::<Model>().unwrap();
    let ty = schema.value_type();
    let value = object(&[
        ("flags", Value::Unknown),
        // An unknown element makes the whole list unknown.
        ("names", Value::List(vec![string("a"), Value::Unknown])),
        ("owner", object(&[("name", Value::Unknown)])),
        ("labels", map(&[("a", string("b"))])),
        ("id", Value::Unknown),
    ]);
    let model: Model = to_model(&schema.block, &ty, &value).unwrap();
    assert!(model.flags.is_unknown() && model.names.is_unknown() && model.owner.is_unknown());
    assert!(model.id.is_unknown() && model.entries.is_null());
    assert_eq!(model.labels.get().unwrap()["a"], "b");
    let back = from_model(&schema.block, &model).unwrap();
    for name in ["flags", "names", "owner", "id"] {
        assert_eq!(back.get_attr(name), Some(&Value::Unknown), "{name}");
    }
    assert_eq!(back.get_attr("entries"), Some(&Value::Null));
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Inner {
    a: Field<String>,
    list: Vec<Field<u64>>,
}

#[test]
fn the_tree_round_trips_unknowns_at_any_depth() {
    let value = Inner {
        a: Field::Unknown,
        list: vec![Field::Known(1), Field::Unknown, Field::Null],
    };
    let tree = to_tree(&value).unwrap();
    let Tree::Map(entries) = &tree else {
        panic!("{tree:?}")
    };
    assert_eq!(entries["a"], Tree::Unknown);
    assert!(matches!(&entries["list"], Tree::Seq(items) if items[1] == Tree::Unknown));
    assert_eq!(Inner::deserialize(&tree).unwrap(), value);
    // Wholly known parts are plain JSON, as serde_json writes them.
    let known = Inner {
        a: Field::known("x"),
        list: vec![Field::Known(2)],
    };
    assert_eq!(
        to_tree(&known).unwrap(),
        Tree::Known(serde_json::to_value(&known).unwrap())
    );
}

#[test]
fn a_plain_type_rejects_an_unknown() {
    let err = String::deserialize(&Tree::Unknown).unwrap_err();
    assert!(err.to_string().contains("unknown"), "{err}");
    // Even a string spelling the token is a string to a field.
    let tree = Tree::Known(serde_json::json!(UNKNOWN_TOKEN));
    assert_eq!(
        Field::<String>::deserialize(&tree).unwrap(),
        Field::known(UNKNOWN_TOKEN)
    );
}

#[test]
fn full_precision_numbers_survive() {
    let digits = "123456789012345678901234567890.5";
    let number: serde_json::Number = digits.parse().unwrap();
    let tree = to_tree(&Field::Known(number.clone())).unwrap();
    assert_eq!(tree, Tree::Known(serde_json::Value::Number(number)));
}
