//! The typed view of a value: a cty object of a schema block as the resource's model, and
//! back. Unknowns travel as [`Field::Unknown`](super::Field), out of band (see `tree.rs`); a model that
//! rejects a value (a domain newtype whose parsing is its validation) yields a diagnostic at
//! that attribute, with the newtype's own message.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use super::tree::{to_tree, Node, PathStep, Tree};
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

/// The model's serde form of `value`, an object of `level`.
pub(crate) fn encode(level: Level<'_>, value: &Value) -> Result<Tree, Diagnostics> {
    let entries = match value {
        Value::Unknown => return Ok(Tree::Unknown),
        Value::Null => return Ok(Tree::Known(Json::Null)),
        Value::Object(entries) => entries,
        _ => return Err(internal("a block value is not an object")),
    };
    let mut out = BTreeMap::new();
    for attribute in level.attributes {
        let v = entries.get(&attribute.name).unwrap_or(&Value::Null);
        let encoded = match Level::nested(attribute) {
            // Plain fields cannot hold an unknown: a configurable one makes the whole nested
            // attribute unknown (a computed one just reads as absent, for the provider to set).
            Some((_, inner)) if configurable_unknown(inner, v) => Tree::Unknown,
            Some((nesting, inner)) => encode_nested(nesting, inner, v)?,
            None if v.is_unknown() || !v.is_wholly_known() => Tree::Unknown,
            None => {
                Tree::Known(json::to_serde(v, &attribute.ty).map_err(|e| internal(&e.to_string()))?)
            }
        };
        if level.plain && encoded.is_null_or_unknown() {
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
    Ok(Tree::Map(out))
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

fn encode_nested(nesting: Nesting, level: Level<'_>, value: &Value) -> Result<Tree, Diagnostics> {
    match (nesting, value) {
        (_, Value::Unknown) => Ok(Tree::Unknown),
        (_, Value::Null) => Ok(Tree::Known(Json::Null)),
        (Nesting::Single, v) => encode(level, v),
        (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => items
            .iter()
            .map(|item| encode(level, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Tree::Seq),
        (Nesting::Map, Value::Map(items)) => items
            .iter()
            .map(|(k, item)| Ok((k.clone(), encode(level, item)?)))
            .collect::<Result<BTreeMap<_, _>, Diagnostics>>()
            .map(Tree::Map),
        _ => Err(internal("a nested value does not fit its nesting")),
    }
}

/// The value of `level` that the model's serde form `node` stands for.
pub(crate) fn decode(level: Level<'_>, node: Node<'_>) -> Result<Value, Diagnostics> {
    match node {
        Node::Unknown => return Ok(Value::Unknown),
        n if n.is_null() => return Ok(Value::Null),
        Node::Map(_) | Node::Json(Json::Object(_)) => {}
        _ => return Err(internal("a model does not encode as an object")),
    }
    let mut out = BTreeMap::new();
    for attribute in level.attributes {
        let n = node.entry(&attribute.name);
        let decoded = match Level::nested(attribute) {
            Some((nesting, inner)) => decode_nested(nesting, inner, n, false)?,
            None => decode_attribute(n, &attribute.ty).map_err(|e| {
                internal(&format!(
                    "attribute {} does not fit its schema: {e}",
                    attribute.name
                ))
            })?,
        };
        out.insert(attribute.name.clone(), decoded);
    }
    for nested in level.blocks {
        let n = node.entry(&nested.type_name);
        out.insert(
            nested.type_name.clone(),
            decode_nested(nested.nesting, Level::of(&nested.block), n, true)?,
        );
    }
    Ok(Value::Object(out))
}

/// The value of type `ty` of an attribute's serde form: known JSON as `json::from_serde`
/// reads it; a collection holding unknowns element by element.
fn decode_attribute(node: Node<'_>, ty: &Type) -> Result<Value, String> {
    let parts = |node: Node<'_>, ty: &Type| decode_attribute(node, ty);
    match (node, ty) {
        (Node::Unknown, _) => Ok(Value::Unknown),
        (Node::Json(j), _) => json::from_serde(j, ty).map_err(|e| e.to_string()),
        (Node::Seq(_), Type::List(element) | Type::Set(element)) => {
            let items = node.items().unwrap_or_default();
            let items = items
                .into_iter()
                .map(|i| parts(i, element))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(match ty {
                Type::Set(_) => Value::Set(items),
                _ => Value::List(items),
            })
        }
        (Node::Map(entries), Type::Map(element)) => entries
            .iter()
            .map(|(k, v)| Ok((k.clone(), parts(v.node(), element)?)))
            .collect::<Result<BTreeMap<_, _>, String>>()
            .map(Value::Map),
        (Node::Map(_), Type::Object(fields)) => fields
            .iter()
            .map(|(k, t)| Ok((k.clone(), parts(node.entry(k), t)?)))
            .collect::<Result<BTreeMap<_, _>, String>>()
            .map(Value::Object),
        _ => Err("a partly unknown value of this type cannot be written".into()),
    }
}

/// `is_block`: Terraform represents absent repeated blocks as empty collections, never null.
fn decode_nested(
    nesting: Nesting,
    level: Level<'_>,
    node: Node<'_>,
    is_block: bool,
) -> Result<Value, Diagnostics> {
    if let Node::Unknown = node {
        return Ok(Value::Unknown);
    }
    if node.is_null() {
        return Ok(match (nesting, is_block) {
            (Nesting::List, true) => Value::List(Vec::new()),
            (Nesting::Set, true) => Value::Set(Vec::new()),
            (Nesting::Map, true) => Value::Map(BTreeMap::new()),
            _ => Value::Null,
        });
    }
    match nesting {
        Nesting::Single => decode(level, node),
        Nesting::List | Nesting::Set => {
            let Some(items) = node.items() else {
                return Err(internal("a nested model value does not fit its nesting"));
            };
            let items = items
                .into_iter()
                .map(|item| decode(level, item))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if nesting == Nesting::List {
                Value::List(items)
            } else {
                Value::Set(items)
            })
        }
        Nesting::Map => {
            let Some(entries) = node.entries() else {
                return Err(internal("a nested model value does not fit its nesting"));
            };
            entries
                .into_iter()
                .map(|(k, item)| Ok((k.to_string(), decode(level, item)?)))
                .collect::<Result<BTreeMap<_, _>, Diagnostics>>()
                .map(Value::Map)
        }
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
    let mut tree = encode(Level::of(block), value)?;
    let mut errors = Diagnostics::new();
    // Where an unknown was stood in for a rejected value. Each round stands one in to find
    // the next rejected value; where the stand-in is itself rejected (a plain type, or an
    // element of a list), the next one up takes it. Bounded: each round stands one in.
    let mut stood_in: Vec<Vec<PathStep>> = Vec::new();
    for _ in 0..=MAX_ROUNDS {
        match serde_path_to_error::deserialize::<_, M>(&tree) {
            Ok(model) if errors.is_empty() => return Ok(model),
            Ok(_) => return Err(errors),
            Err(e) => {
                let steps = path_steps(e.path());
                if !stood_in.contains(&steps) {
                    let path = attribute_path(ty, e.path());
                    let message = clean_message(&e.inner().to_string());
                    if path.0.is_empty() {
                        errors.push(Diagnostic::error("Invalid configuration", message));
                        return Err(errors);
                    }
                    errors.push(
                        Diagnostic::error(format!("Invalid value for {path}"), message).at(path),
                    );
                }
                let Some(at) = stand_in_unknown(&mut tree, &steps) else {
                    return Err(errors);
                };
                stood_in.push(steps[..at].to_vec());
            }
        }
    }
    Err(errors)
}

/// How many rounds one decoding takes at most (a rejected value may take two).
const MAX_ROUNDS: usize = 64;

/// Makes the part at `steps`, or the nearest one up that is not unknown yet, unknown; how
/// many steps its path has. `None` at the top (the model itself cannot be unknown).
fn stand_in_unknown(tree: &mut Tree, steps: &[PathStep]) -> Option<usize> {
    for at in (1..=steps.len()).rev() {
        match tree.part_mut(&steps[..at]) {
            Some(Tree::Unknown) | None => continue,
            Some(part) => {
                *part = Tree::Unknown;
                return Some(at);
            }
        }
    }
    None
}

/// A serde path as steps into the tree.
fn path_steps(path: &serde_path_to_error::Path) -> Vec<PathStep> {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|segment| match segment {
            Segment::Map { key } => PathStep::Key(key.clone()),
            Segment::Seq { index } => PathStep::Index(*index),
            Segment::Enum { variant } => PathStep::Key(variant.clone()),
            Segment::Unknown => PathStep::Key("?".into()),
        })
        .collect()
}

/// The value of the model `M`, an object of `block`.
pub(crate) fn from_model<M: Serialize>(block: &Block, model: &M) -> Result<Value, Diagnostics> {
    let tree = to_tree(model).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Internal error: the resource model cannot be encoded",
            e.to_string(),
        ))
    })?;
    decode(Level::of(block), tree.node())
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
            // A set's elements have no index Terraform could show: the set is the place.
            (Segment::Seq { index }, Some(Type::List(element))) => {
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
