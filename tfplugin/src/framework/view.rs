//! The typed view of a value: a cty object of a schema block as the resource's model, and
//! back. Unknowns travel as [`Field::Unknown`](super::Field) (see `field.rs`); a model that
//! rejects a value (a domain newtype whose parsing is its validation) yields a diagnostic at
//! that attribute, with the newtype's own message.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use super::field::{is_unknown_json, unknown_json};
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::{Attribute, Block, NestedBlock, Nesting};
use crate::value::{json, Type, Value};

/// The attributes and nested blocks of one object level of a schema.
#[derive(Clone, Copy)]
pub(crate) struct Level<'a> {
    pub attributes: &'a [Attribute],
    pub blocks: &'a [NestedBlock],
    /// Inside nested attributes models may use plain types, so a null or unknown is left out
    /// and the field's serde default (or `None`) applies.
    pub plain: bool,
}

impl<'a> Level<'a> {
    pub(crate) fn of(block: &'a Block) -> Self {
        Level {
            attributes: &block.attributes,
            blocks: &block.block_types,
            plain: false,
        }
    }

    /// The level of a nested attribute's objects (nested attributes have no blocks).
    pub(crate) fn nested(attribute: &'a Attribute) -> Option<(Nesting, Self)> {
        attribute.nested.as_ref().map(|n| {
            (
                n.nesting,
                Level {
                    attributes: &n.attributes,
                    blocks: &[],
                    plain: true,
                },
            )
        })
    }
}

/// The model's JSON form of `value`, an object of `level` (unknowns as the stand-in).
pub(crate) fn encode(level: Level<'_>, value: &Value) -> Result<Json, Diagnostics> {
    let entries = match value {
        Value::Unknown => return Ok(unknown_json()),
        Value::Null => return Ok(Json::Null),
        Value::Object(entries) => entries,
        _ => return Err(internal("a block value is not an object")),
    };
    let mut out = serde_json::Map::new();
    for attribute in level.attributes {
        let v = entries.get(&attribute.name).unwrap_or(&Value::Null);
        let encoded = match Level::nested(attribute) {
            // Plain fields cannot hold an unknown: a configurable one makes the whole nested
            // attribute unknown (a computed one just reads as absent, for the provider to set).
            Some((_, inner)) if configurable_unknown(inner, v) => unknown_json(),
            Some((nesting, inner)) => encode_nested(nesting, inner, v)?,
            None if v.is_unknown() || !v.is_wholly_known() => unknown_json(),
            None => json::to_serde(v, &attribute.ty).map_err(|e| internal(&e.to_string()))?,
        };
        if level.plain && (encoded.is_null() || is_unknown_json(&encoded)) {
            continue;
        }
        out.insert(attribute.name.clone(), encoded);
    }
    for nested in level.blocks {
        let v = entries.get(&nested.type_name).unwrap_or(&Value::Null);
        out.insert(
            nested.type_name.clone(),
            encode_nested(nested.nesting, Level::of(&nested.block), v)?,
        );
    }
    Ok(Json::Object(out))
}

/// True when a configurable (not computed) attribute somewhere in the
/// objects of `value` is unknown.
fn configurable_unknown(level: Level<'_>, value: &Value) -> bool {
    let check = |object: &Value| {
        level.attributes.iter().any(|a| {
            let v = object.get_attr(&a.name).unwrap_or(&Value::Null);
            match Level::nested(a) {
                _ if !a.computed && !v.is_wholly_known() => true,
                Some((_, inner)) => configurable_unknown(inner, v),
                None => false,
            }
        })
    };
    match value {
        Value::Unknown => true,
        Value::Object(_) => check(value),
        Value::List(items) | Value::Set(items) => items.iter().any(|i| i.is_unknown() || check(i)),
        Value::Map(items) => items.values().any(|i| i.is_unknown() || check(i)),
        _ => false,
    }
}

fn encode_nested(nesting: Nesting, level: Level<'_>, value: &Value) -> Result<Json, Diagnostics> {
    match (nesting, value) {
        (_, Value::Unknown) => Ok(unknown_json()),
        (_, Value::Null) => Ok(Json::Null),
        (Nesting::Single, v) => encode(level, v),
        (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => items
            .iter()
            .map(|item| encode(level, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Json::Array),
        (Nesting::Map, Value::Map(items)) => items
            .iter()
            .map(|(k, item)| Ok((k.clone(), encode(level, item)?)))
            .collect::<Result<serde_json::Map<_, _>, Diagnostics>>()
            .map(Json::Object),
        _ => Err(internal("a nested value does not fit its nesting")),
    }
}

/// The value of `level` that the model's JSON form `json` stands for.
pub(crate) fn decode(level: Level<'_>, json: &Json) -> Result<Value, Diagnostics> {
    let entries = match json {
        j if is_unknown_json(j) => return Ok(Value::Unknown),
        Json::Null => return Ok(Value::Null),
        Json::Object(entries) => entries,
        _ => return Err(internal("a model does not encode as an object")),
    };
    let mut out = BTreeMap::new();
    for attribute in level.attributes {
        let j = entries.get(&attribute.name).unwrap_or(&Json::Null);
        let decoded = match Level::nested(attribute) {
            Some((nesting, inner)) => decode_nested(nesting, inner, j, false)?,
            None if is_unknown_json(j) => Value::Unknown,
            None => json::from_serde(j, &attribute.ty).map_err(|e| {
                internal(&format!(
                    "attribute {} does not fit its schema: {e}",
                    attribute.name
                ))
            })?,
        };
        out.insert(attribute.name.clone(), decoded);
    }
    for nested in level.blocks {
        let j = entries.get(&nested.type_name).unwrap_or(&Json::Null);
        out.insert(
            nested.type_name.clone(),
            decode_nested(nested.nesting, Level::of(&nested.block), j, true)?,
        );
    }
    Ok(Value::Object(out))
}

/// `is_block`: Terraform represents absent repeated blocks as empty collections, never null.
fn decode_nested(
    nesting: Nesting,
    level: Level<'_>,
    json: &Json,
    is_block: bool,
) -> Result<Value, Diagnostics> {
    if is_unknown_json(json) {
        return Ok(Value::Unknown);
    }
    match (nesting, json) {
        (Nesting::Single, j) => decode(level, j),
        (Nesting::List, Json::Null) if is_block => Ok(Value::List(Vec::new())),
        (Nesting::Set, Json::Null) if is_block => Ok(Value::Set(Vec::new())),
        (Nesting::Map, Json::Null) if is_block => Ok(Value::Map(BTreeMap::new())),
        (_, Json::Null) => Ok(Value::Null),
        (Nesting::List | Nesting::Set, Json::Array(items)) => {
            let items = items
                .iter()
                .map(|item| decode(level, item))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if nesting == Nesting::List {
                Value::List(items)
            } else {
                Value::Set(items)
            })
        }
        (Nesting::Map, Json::Object(items)) => items
            .iter()
            .map(|(k, item)| Ok((k.clone(), decode(level, item)?)))
            .collect::<Result<BTreeMap<_, _>, Diagnostics>>()
            .map(Value::Map),
        _ => Err(internal("a nested model value does not fit its nesting")),
    }
}

fn internal(detail: &str) -> Diagnostics {
    Diagnostic::error(
        "Internal error: value does not fit the resource model",
        format!("{detail}; this is a provider bug."),
    )
    .into()
}

/// The model `M` of `value`, an object of `block` of type `ty`. A value the model rejects is
/// an error at the attribute that holds it, with the model's message; every rejected
/// attribute is reported, not only the first.
pub(crate) fn to_model<M: DeserializeOwned>(
    block: &Block,
    ty: &Type,
    value: &Value,
) -> Result<M, Diagnostics> {
    let mut json = encode(Level::of(block), value)?;
    let mut errors = Diagnostics::new();
    // Each round stands an unknown in for the rejected value (every attribute is a `Field`)
    // to find the next one; bounded by the number of values that can be rejected.
    for _ in 0..=MAX_REPORTED {
        match serde_path_to_error::deserialize::<_, M>(&json) {
            Ok(model) if errors.is_empty() => return Ok(model),
            Ok(_) => return Err(errors),
            Err(e) => {
                let path = attribute_path(ty, e.path());
                let message = clean_message(&e.inner().to_string());
                if path.0.is_empty() {
                    errors.push(Diagnostic::error("Invalid configuration", message));
                    return Err(errors);
                }
                errors
                    .push(Diagnostic::error(format!("Invalid value for {path}"), message).at(path));
                match json.pointer_mut(&json_pointer(e.path())) {
                    Some(slot) if !is_unknown_json(slot) => *slot = unknown_json(),
                    _ => return Err(errors),
                }
            }
        }
    }
    Err(errors)
}

/// How many rejected values one decoding reports at most.
const MAX_REPORTED: usize = 32;

/// The JSON pointer of a serde path.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// The value of the model `M`, an object of `block`.
pub(crate) fn from_model<M: Serialize>(block: &Block, model: &M) -> Result<Value, Diagnostics> {
    let json = serde_json::to_value(model).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Internal error: the resource model cannot be encoded",
            e.to_string(),
        ))
    })?;
    decode(Level::of(block), &json)
}

/// serde_path_to_error's path, read against the value's type: struct fields and object
/// attributes are attributes, map entries keys, sequence entries indexes.
fn attribute_path(ty: &Type, path: &serde_path_to_error::Path) -> AttributePath {
    use serde_path_to_error::Segment;
    let mut out = AttributePath::default();
    let mut ty = Some(ty);
    for segment in path.iter() {
        match (segment, ty) {
            (Segment::Map { key }, Some(Type::Object(fields))) => {
                out = out.attribute(key.clone());
                ty = fields.get(key);
            }
            (Segment::Map { key }, Some(Type::Map(element))) => {
                out = out.key(key.clone());
                ty = Some(element);
            }
            (Segment::Seq { index }, Some(Type::List(element) | Type::Set(element))) => {
                out = out.index(*index as i64);
                ty = Some(element);
            }
            _ => break,
        }
    }
    out
}

/// serde's messages with serde_json's position suffix dropped.
fn clean_message(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    };
    let mut out = message.to_string();
    if let Some(first) = out.get(..1) {
        out.replace_range(..1, &first.to_uppercase());
    }
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// `original` where the model left it as it was: the typed view cannot hold everything a
/// value can (a list with one unknown element reads as unknown), so only what the resource
/// changed is taken from `after`, at any object depth.
pub(crate) fn keep_unchanged(original: &Value, before: &Value, after: Value) -> Value {
    if before == &after {
        return original.clone();
    }
    match (original, before, after) {
        (Value::Object(o), Value::Object(b), Value::Object(mut a)) => {
            for (name, original_value) in o {
                let Some(after_value) = a.remove(name) else {
                    continue;
                };
                let merged = match b.get(name) {
                    Some(before_value) => keep_unchanged(original_value, before_value, after_value),
                    None => after_value,
                };
                a.insert(name.clone(), merged);
            }
            Value::Object(a)
        }
        (_, _, after) => after,
    }
}

/// Every attribute of `level` marked by `pick` set to null, at any depth.
pub(crate) fn null_attributes(
    level: Level<'_>,
    value: &mut Value,
    pick: &dyn Fn(&Attribute) -> bool,
) {
    let Value::Object(entries) = value else {
        return;
    };
    for attribute in level.attributes {
        let Some(v) = entries.get_mut(&attribute.name) else {
            continue;
        };
        if pick(attribute) {
            *v = Value::Null;
        } else if let Some((_, inner)) = Level::nested(attribute) {
            for_each_element(v, |e| null_attributes(inner, e, pick));
        }
    }
    for nested in level.blocks {
        if let Some(v) = entries.get_mut(&nested.type_name) {
            for_each_element(v, |e| null_attributes(Level::of(&nested.block), e, pick));
        }
    }
}

/// Every attribute of `level` marked by `pick` copied from `from` into `into`, at any depth
/// where both hold objects in the same places (lists by index, maps by key).
pub(crate) fn copy_attributes(
    level: Level<'_>,
    from: &Value,
    into: &mut Value,
    pick: &dyn Fn(&Attribute) -> bool,
) {
    let (Value::Object(source), Value::Object(target)) = (from, into) else {
        return;
    };
    for attribute in level.attributes {
        let (Some(s), Some(t)) = (source.get(&attribute.name), target.get_mut(&attribute.name))
        else {
            continue;
        };
        if pick(attribute) {
            *t = s.clone();
        } else if let Some((_, inner)) = Level::nested(attribute) {
            zip_elements(s, t, |s, t| copy_attributes(inner, s, t, pick));
        }
    }
    for nested in level.blocks {
        let (Some(s), Some(t)) = (
            source.get(&nested.type_name),
            target.get_mut(&nested.type_name),
        ) else {
            continue;
        };
        zip_elements(s, t, |s, t| {
            copy_attributes(Level::of(&nested.block), s, t, pick)
        });
    }
}

/// Calls `f` on the object, or on each object of a collection.
pub(crate) fn for_each_element(value: &mut Value, mut f: impl FnMut(&mut Value)) {
    match value {
        Value::Object(_) => f(value),
        Value::List(items) | Value::Set(items) => items.iter_mut().for_each(f),
        Value::Map(items) => items.values_mut().for_each(f),
        _ => {}
    }
}

/// Calls `f` on matching pairs: the objects themselves, list/set elements by position, map
/// entries by key.
pub(crate) fn zip_elements(from: &Value, into: &mut Value, mut f: impl FnMut(&Value, &mut Value)) {
    match (from, into) {
        (Value::Object(_), into @ Value::Object(_)) => f(from, into),
        (Value::List(a) | Value::Set(a), Value::List(b) | Value::Set(b)) => {
            a.iter().zip(b.iter_mut()).for_each(|(a, b)| f(a, b))
        }
        (Value::Map(a), Value::Map(b)) => {
            for (key, b) in b.iter_mut() {
                if let Some(a) = a.get(key) {
                    f(a, b);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use crate::types::{CreateTimeout, Duration, Uuid};
    use crate::Field;
    use schemars::JsonSchema;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize, JsonSchema, tfplugin::Model)]
    struct Model {
        release: Field<Uuid>,
        wait: Field<Duration>,
        #[tf(block = single)]
        timeouts: Option<CreateTimeout>,
    }

    #[test]
    fn every_rejected_value_is_reported_at_its_attribute() {
        let schema = Schema::from_model::<Model>().unwrap();
        let ty = schema.value_type();
        let value = Value::Object(BTreeMap::from([
            ("release".to_string(), Value::String("v12".into())),
            ("wait".to_string(), Value::String("soon".into())),
            (
                "timeouts".to_string(),
                Value::Object(BTreeMap::from([(
                    "create".to_string(),
                    Value::String("1d".into()),
                )])),
            ),
        ]));
        let errors = to_model::<Model>(&schema.block, &ty, &value).unwrap_err();
        let mut found: Vec<(String, String)> = errors
            .iter()
            .map(|d| (d.attribute.as_ref().unwrap().to_string(), d.detail.clone()))
            .collect();
        found.sort();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].0, "release");
        assert!(found[0].1.starts_with("Expected a UUID"), "{found:?}");
        assert_eq!(found[1].0, "timeouts.create");
        assert!(found[1].1.contains("\"1d\""), "{found:?}");
        assert_eq!(found[2].0, "wait");

        let unknown = Value::Object(BTreeMap::from([
            ("release".to_string(), Value::Unknown),
            ("wait".to_string(), Value::Null),
            ("timeouts".to_string(), Value::Null),
        ]));
        let model = to_model::<Model>(&schema.block, &ty, &unknown).unwrap();
        assert!(model.release.is_unknown() && model.wait.is_null() && model.timeouts.is_none());
    }
}

#[cfg(test)]
mod nested_tests {
    use super::*;
    use crate::schema::Schema;
    use crate::Field;
    use schemars::JsonSchema;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize, JsonSchema, tfplugin::Model)]
    struct Secret {
        value: String,
        #[tf(computed)]
        length: Option<u64>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize, JsonSchema, tfplugin::Model)]
    struct Model {
        #[tf(nested = map)]
        #[serde(default)]
        secrets: Field<BTreeMap<String, Secret>>,
    }

    fn secrets(value: Value, length: Value) -> Value {
        Value::Object(BTreeMap::from([(
            "secrets".to_string(),
            Value::Map(BTreeMap::from([(
                "A".to_string(),
                Value::Object(BTreeMap::from([
                    ("value".to_string(), value),
                    ("length".to_string(), length),
                ])),
            )])),
        )]))
    }

    #[test]
    fn unknowns_inside_nested_attributes() {
        let schema = Schema::from_model::<Model>().unwrap();
        let ty = schema.value_type();
        // A configurable value unknown at plan: the whole attribute is unknown.
        let model: Model =
            to_model(&schema.block, &ty, &secrets(Value::Unknown, Value::Null)).unwrap();
        assert!(model.secrets.is_unknown());
        // A computed one unknown: it reads as absent, the rest is there.
        let model: Model = to_model(
            &schema.block,
            &ty,
            &secrets(Value::String("x".into()), Value::Unknown),
        )
        .unwrap();
        let a = &model.secrets.get().unwrap()["A"];
        assert_eq!((a.value.as_str(), a.length), ("x", None));
    }
}
