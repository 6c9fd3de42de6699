//! Conversions between cty values and typed serde models, and value walks the framework needs.

use serde::de::DeserializeOwned;

use super::view::Level;
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::Block;
use crate::value::{json, Type, Value};

/// `value` with every unknown, at any depth, replaced by null.
pub(crate) fn unknowns_to_null(value: &Value) -> Value {
    match value {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(items.iter().map(unknowns_to_null).collect()),
        Value::Set(items) => Value::Set(items.iter().map(unknowns_to_null).collect()),
        Value::Tuple(items) => Value::Tuple(items.iter().map(unknowns_to_null).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), unknowns_to_null(v)))
                .collect(),
        ),
        Value::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), unknowns_to_null(v)))
                .collect(),
        ),
        Value::Dynamic(ty, inner) => Value::Dynamic(ty.clone(), Box::new(unknowns_to_null(inner))),
        other => other.clone(),
    }
}

/// Decodes a value (unknowns read as null) into the model `M`.
pub(crate) fn to_model<M: DeserializeOwned>(value: &Value, ty: &Type) -> Result<M, Diagnostics> {
    let json = json::to_serde(&unknowns_to_null(value), ty).map_err(|e| {
        Diagnostic::error(
            "Internal error: value does not fit the schema",
            e.to_string(),
        )
    })?;
    serde_json::from_value(json).map_err(|e| {
        Diagnostic::error(
            "Internal error: value does not fit the resource model",
            e.to_string(),
        )
        .into()
    })
}

/// `result` with every value that was known in `planned` taken from `planned`, at any depth
/// where the shapes agree: Terraform requires known planned values to come back unchanged,
/// and this keeps the user's spelling.
pub(crate) fn keep_planned(planned: &Value, result: Value) -> Value {
    match (planned, result) {
        (Value::Unknown, result) => result,
        (Value::Object(plan), Value::Object(mut got)) => {
            for (name, planned_value) in plan {
                let merged = match got.remove(name) {
                    Some(value) => keep_planned(planned_value, value),
                    None => planned_value.clone(),
                };
                got.insert(name.clone(), merged);
            }
            Value::Object(got)
        }
        (planned, result) if planned.is_wholly_known() => {
            if planned != &result {
                crate::trace!(
                    "keeping the planned value where the resource returned a different one"
                );
            }
            planned.clone()
        }
        (Value::List(plan), Value::List(got)) if plan.len() == got.len() => Value::List(
            plan.iter()
                .zip(got)
                .map(|(p, g)| keep_planned(p, g))
                .collect(),
        ),
        (Value::Map(plan), Value::Map(mut got)) => {
            for (key, planned_value) in plan {
                if let Some(value) = got.remove(key) {
                    got.insert(key.clone(), keep_planned(planned_value, value));
                }
            }
            Value::Map(got)
        }
        (_, result) => result,
    }
}

/// Paths of every unknown left in `value` (reported as a provider bug after apply).
pub(crate) fn unknown_paths(value: &Value, path: AttributePath, out: &mut Vec<AttributePath>) {
    match value {
        Value::Unknown => out.push(path),
        Value::Object(entries) => {
            for (name, v) in entries {
                unknown_paths(v, path.clone().attribute(name), out);
            }
        }
        Value::Map(entries) => {
            for (key, v) in entries {
                unknown_paths(v, path.clone().key(key), out);
            }
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            for (i, v) in items.iter().enumerate() {
                unknown_paths(v, path.clone().index(i as i64), out);
            }
        }
        _ => {}
    }
}

/// Registers every sensitive string in `value` (an object of `block`) with the log masker, at
/// every depth of nested blocks and nested attributes.
pub(crate) fn register_sensitive(block: &Block, value: &Value) {
    register_level(Level::of(block), value);
}

fn register_level(level: Level<'_>, value: &Value) {
    let Value::Object(entries) = value else {
        return;
    };
    for attribute in level.attributes {
        let Some(v) = entries.get(&attribute.name) else {
            continue;
        };
        if attribute.sensitive {
            register_strings(v);
        } else if let Some((_, inner)) = Level::nested(attribute) {
            each_object(v, |o| register_level(inner, o));
        }
    }
    for nested in level.blocks {
        if let Some(v) = entries.get(&nested.type_name) {
            each_object(v, |o| register_level(Level::of(&nested.block), o));
        }
    }
}

/// Calls `f` on the object, or on each object of a collection.
fn each_object(value: &Value, mut f: impl FnMut(&Value)) {
    match value {
        Value::Object(_) => f(value),
        Value::List(items) | Value::Set(items) => items.iter().for_each(f),
        Value::Map(items) => items.values().for_each(f),
        _ => {}
    }
}

fn register_strings(value: &Value) {
    match value {
        Value::String(s) => crate::log::register_secret(s),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter().for_each(register_strings)
        }
        Value::Map(entries) | Value::Object(entries) => entries.values().for_each(register_strings),
        Value::Dynamic(_, inner) => register_strings(inner),
        _ => {}
    }
}

/// A compact rendering of a value for TRACE logs; sensitive attributes of `block` are hidden
/// at every depth.
pub(crate) fn render(block: &Block, value: &Value) -> String {
    render_level(Level::of(block), value)
}

fn render_level(level: Level<'_>, value: &Value) -> String {
    let Value::Object(entries) = value else {
        return render_plain(value);
    };
    let parts: Vec<String> = entries
        .iter()
        .map(|(name, v)| {
            let attribute = level.attributes.iter().find(|a| &a.name == name);
            let nested_block = level.blocks.iter().find(|b| &b.type_name == name);
            let text = match (attribute, nested_block) {
                (Some(a), _) if a.sensitive && !v.is_null() => "(sensitive)".to_string(),
                (Some(a), _) => match Level::nested(a) {
                    Some((_, inner)) => render_nested(inner, v),
                    None => render_plain(v),
                },
                (None, Some(b)) => render_nested(Level::of(&b.block), v),
                (None, None) => render_plain(v),
            };
            format!("{name}={text}")
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn render_nested(level: Level<'_>, value: &Value) -> String {
    match value {
        Value::Object(_) => render_level(level, value),
        Value::List(items) | Value::Set(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| render_level(level, i))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Map(items) => format!(
            "{{{}}}",
            items
                .iter()
                .map(|(k, i)| format!("{k}={}", render_level(level, i)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => render_plain(other),
    }
}

fn render_plain(value: &Value) -> String {
    match value {
        Value::Unknown => "(unknown)".into(),
        Value::Null => "null".into(),
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            format!(
                "[{}]",
                items
                    .iter()
                    .map(render_plain)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Map(entries) | Value::Object(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{k}={}", render_plain(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Dynamic(_, inner) => render_plain(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn keep_planned_keeps_spelling_and_fills_unknowns() {
        let planned = object(&[
            ("frequency", Value::String("every_day_at_4:30".into())),
            ("id", Value::Unknown),
        ]);
        let result = object(&[
            ("frequency", Value::String("every_day_at_04:30".into())),
            ("id", Value::String("7".into())),
        ]);
        let merged = keep_planned(&planned, result);
        assert_eq!(
            merged.get_attr("frequency"),
            Some(&Value::String("every_day_at_4:30".into()))
        );
        assert_eq!(merged.get_attr("id"), Some(&Value::String("7".into())));
    }

    #[test]
    fn secrets_inside_nested_attributes_are_registered_and_hidden() {
        use crate::schema::{Attribute, NestedAttributes, Nesting};
        let inner = vec![Attribute::new("value", Type::String).sensitive()];
        let mut vars = Attribute::new(
            "vars",
            Type::map(Type::object([("value".to_string(), Type::String)])),
        );
        vars.nested = Some(NestedAttributes {
            nesting: Nesting::Map,
            attributes: inner,
        });
        let block = Block {
            attributes: vec![vars],
            ..Block::default()
        };
        let value = object(&[(
            "vars",
            Value::Map(BTreeMap::from([(
                "PULSE_AUTH".to_string(),
                object(&[("value", Value::String("nested-secret-8812".into()))]),
            )])),
        )]);
        let shown = render(&block, &value);
        assert!(
            shown.contains("PULSE_AUTH") && !shown.contains("nested-secret-8812"),
            "{shown}"
        );
        register_sensitive(&block, &value);
        assert!(!crate::log::mask("x nested-secret-8812 y").contains("nested-secret-8812"));
    }

    #[test]
    fn finds_unknowns() {
        let value = object(&[
            ("a", Value::Unknown),
            ("b", Value::List(vec![Value::Null, Value::Unknown])),
        ]);
        let mut paths = Vec::new();
        unknown_paths(&value, AttributePath::default(), &mut paths);
        assert_eq!(paths.len(), 2);
        assert_eq!(paths[1].to_string(), "b[1]");
    }
}
