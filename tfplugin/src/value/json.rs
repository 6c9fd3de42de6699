//! The JSON form of cty values: `RawState.json` in UpgradeResourceState, the JSON
//! alternative of `DynamicValue`, and the bridge to typed serde models.
//!
//! Type-directed like go-cty's `cty/json`: null is `null`, numbers are JSON numbers
//! of full precision (serde_json's `arbitrary_precision` is on), sets and tuples are
//! arrays, maps and objects are JSON objects, and a value of dynamic type is
//! `{"type": <type json>, "value": <value>}`. JSON cannot hold unknowns.
//!
//! As in go-cty, decoding is lenient about primitives: a string type accepts a JSON
//! number or bool (as its text), a number type accepts a numeric string, and a bool
//! type accepts `"true"`/`"false"`.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::error::{type_kind, value_kind, Path, PathStep, MAX_VALUE_DEPTH};
pub use super::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use super::{Number, Type, Value};

/// Decodes JSON `bytes` as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::new(&Path::default(), DecodeErrorKind::Json(e.to_string())))?;
    from_serde(&json, ty)
}

/// Encodes `value` as JSON bytes according to `ty`. Fails on any unknown.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let json = to_serde(value, ty)?;
    serde_json::to_vec(&json)
        .map_err(|e| EncodeError::new(&Path::default(), EncodeErrorKind::Write(e.to_string())))
}

/// Converts a wholly known value into a `serde_json::Value` according to `ty`
/// (e.g. to deserialize it into a typed model). Fails on any unknown.
pub fn to_serde(value: &Value, ty: &Type) -> Result<Json, EncodeError> {
    to_json(value, ty, &mut Path::default(), 0)
}

/// Converts a `serde_json::Value` into a value of type `ty` (e.g. from a serialized
/// typed model). Object attributes absent from the JSON become null.
pub fn from_serde(json: &Json, ty: &Type) -> Result<Value, DecodeError> {
    from_json(json, ty, &mut Path::default(), 0)
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn from_json(json: &Json, ty: &Type, path: &mut Path, depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(DecodeError::new(path, DecodeErrorKind::TooDeep));
    }
    let mismatch = |path: &Path| {
        DecodeError::new(
            path,
            DecodeErrorKind::Mismatch {
                expected: type_kind(ty),
                found: json_kind(json),
            },
        )
    };
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::String => match json {
            Json::String(s) => Ok(Value::String(s.clone())),
            Json::Number(n) => Ok(Value::String(n.to_string())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(mismatch(path)),
        },
        Type::Number => {
            let text = match json {
                Json::Number(n) => n.to_string(),
                Json::String(s) => s.clone(),
                _ => return Err(mismatch(path)),
            };
            text.parse::<Number>()
                .map(Value::Number)
                .map_err(|e| DecodeError::new(path, DecodeErrorKind::Number(e)))
        }
        Type::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" => Ok(Value::Bool(true)),
            Json::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(mismatch(path)),
        },
        Type::List(elem) | Type::Set(elem) => {
            let Json::Array(items) = json else {
                return Err(mismatch(path));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                out.push(from_json(item, elem, path, depth + 1)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        Type::Tuple(types) => {
            let Json::Array(items) = json else {
                return Err(mismatch(path));
            };
            if items.len() != types.len() {
                return Err(DecodeError::new(
                    path,
                    DecodeErrorKind::TupleLength {
                        expected: types.len(),
                        found: items.len(),
                    },
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, item_ty)) in items.iter().zip(types).enumerate() {
                path.push(PathStep::Index(i));
                out.push(from_json(item, item_ty, path, depth + 1)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(elem) => {
            let Json::Object(entries) = json else {
                return Err(mismatch(path));
            };
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                path.push(PathStep::Key(key.clone()));
                let value = from_json(item, elem, path, depth + 1)?;
                path.pop();
                out.insert(key.clone(), value);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Json::Object(entries) = json else {
                return Err(mismatch(path));
            };
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                let Some(attr_ty) = attrs.get(key) else {
                    return Err(DecodeError::new(
                        path,
                        DecodeErrorKind::UnsupportedAttribute(key.clone()),
                    ));
                };
                path.push(PathStep::Attr(key.clone()));
                let value = from_json(item, attr_ty, path, depth + 1)?;
                path.pop();
                out.insert(key.clone(), value);
            }
            for name in attrs.keys() {
                if !out.contains_key(name) {
                    out.insert(name.clone(), Value::Null);
                }
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            let Json::Object(entries) = json else {
                return Err(mismatch(path));
            };
            let (Some(type_json), Some(value_json), 2) =
                (entries.get("type"), entries.get("value"), entries.len())
            else {
                return Err(DecodeError::new(path, DecodeErrorKind::DynamicShape));
            };
            let concrete = Type::from_json(type_json)
                .map_err(|e| DecodeError::new(path, DecodeErrorKind::DynamicType(e)))?;
            let inner = from_json(value_json, &concrete, path, depth + 1)?;
            Ok(Value::Dynamic(concrete, Box::new(inner)))
        }
    }
}

fn to_json(value: &Value, ty: &Type, path: &mut Path, depth: usize) -> Result<Json, EncodeError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(EncodeError::new(path, EncodeErrorKind::TooDeep));
    }
    let mismatch = |path: &Path| {
        EncodeError::new(
            path,
            EncodeErrorKind::Mismatch {
                expected: type_kind(ty),
                found: value_kind(value),
            },
        )
    };
    // As in go-cty, a null is plain `null` even inside a dynamic wrapper.
    if value.is_null() {
        return Ok(Json::Null);
    }
    if value.is_unknown() {
        return Err(EncodeError::new(path, EncodeErrorKind::Unknown));
    }
    if let Type::Dynamic = ty {
        let (concrete, inner) = match value {
            Value::Dynamic(t, inner) => (t.clone(), inner.as_ref()),
            Value::String(_) => (Type::String, value),
            Value::Number(_) => (Type::Number, value),
            Value::Bool(_) => (Type::Bool, value),
            other => {
                return Err(EncodeError::new(
                    path,
                    EncodeErrorKind::DynamicNeedsType(value_kind(other)),
                ))
            }
        };
        let inner_json = to_json(inner, &concrete, path, depth + 1)?;
        let mut out = serde_json::Map::new();
        out.insert("type".into(), concrete.to_json());
        out.insert("value".into(), inner_json);
        return Ok(Json::Object(out));
    }
    match (ty, value) {
        (_, Value::Dynamic(_, inner)) => to_json(inner, ty, path, depth),
        (Type::String, Value::String(s)) => Ok(Json::String(s.clone())),
        (Type::Number, Value::Number(n)) => Ok(Json::Number(n.to_json_number())),
        (Type::Bool, Value::Bool(b)) => Ok(Json::Bool(*b)),
        (Type::List(elem) | Type::Set(elem), Value::List(items) | Value::Set(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                out.push(to_json(item, elem, path, depth + 1)?);
                path.pop();
            }
            Ok(Json::Array(out))
        }
        (Type::Tuple(types), Value::Tuple(items) | Value::List(items)) => {
            if types.len() != items.len() {
                return Err(EncodeError::new(
                    path,
                    EncodeErrorKind::TupleLength {
                        expected: types.len(),
                        found: items.len(),
                    },
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, item_ty)) in items.iter().zip(types).enumerate() {
                path.push(PathStep::Index(i));
                out.push(to_json(item, item_ty, path, depth + 1)?);
                path.pop();
            }
            Ok(Json::Array(out))
        }
        (Type::Map(elem), Value::Map(entries) | Value::Object(entries)) => {
            let mut out = serde_json::Map::new();
            for (key, item) in entries {
                path.push(PathStep::Key(key.clone()));
                let json = to_json(item, elem, path, depth + 1)?;
                path.pop();
                out.insert(key.clone(), json);
            }
            Ok(Json::Object(out))
        }
        (Type::Object(attrs), Value::Object(entries) | Value::Map(entries)) => {
            if let Some(extra) = entries.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(EncodeError::new(
                    path,
                    EncodeErrorKind::UnsupportedAttribute(extra.clone()),
                ));
            }
            let mut out = serde_json::Map::new();
            for (name, attr_ty) in attrs {
                path.push(PathStep::Attr(name.clone()));
                let json = to_json(
                    entries.get(name).unwrap_or(&Value::Null),
                    attr_ty,
                    path,
                    depth + 1,
                )?;
                path.pop();
                out.insert(name.clone(), json);
            }
            Ok(Json::Object(out))
        }
        _ => Err(mismatch(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn num(s: &str) -> Value {
        Value::Number(s.parse().unwrap())
    }

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    fn obj<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    fn sample_type() -> Type {
        Type::object([
            ("s", Type::String),
            ("n", Type::Number),
            ("b", Type::Bool),
            ("l", Type::list(Type::object([("x", Type::Number)]))),
            ("set", Type::set(Type::String)),
            ("m", Type::map(Type::Bool)),
            ("t", Type::tuple([Type::String, Type::Number])),
            ("d", Type::Dynamic),
            ("z", Type::String),
        ])
    }

    fn sample_value() -> Value {
        obj([
            ("s", s("hello")),
            ("n", num("123456789012345678901234567890.123456789")),
            ("b", Value::Bool(true)),
            (
                "l",
                Value::List(vec![obj([("x", num("-0.5"))]), obj([("x", Value::Null)])]),
            ),
            ("set", Value::Set(vec![s("a"), s("b")])),
            (
                "m",
                Value::Map([("k".to_owned(), Value::Bool(false))].into()),
            ),
            ("t", Value::Tuple(vec![s("x"), num("18446744073709551616")])),
            (
                "d",
                Value::Dynamic(
                    Type::list(Type::String),
                    Box::new(Value::List(vec![s("q")])),
                ),
            ),
            ("z", Value::Null),
        ])
    }

    #[test]
    fn encodes_expected_json() {
        let bytes = encode(&sample_value(), &sample_type()).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            concat!(
                r#"{"b":true,"d":{"type":["list","string"],"value":["q"]},"l":[{"x":-0.5},{"x":null}],"#,
                r#""m":{"k":false},"n":123456789012345678901234567890.123456789,"s":"hello","#,
                r#""set":["a","b"],"t":["x",18446744073709551616],"z":null}"#
            )
        );
    }

    #[test]
    fn round_trips() {
        let bytes = encode(&sample_value(), &sample_type()).unwrap();
        assert_eq!(decode(&bytes, &sample_type()).unwrap(), sample_value());
        let serde = to_serde(&sample_value(), &sample_type()).unwrap();
        assert_eq!(from_serde(&serde, &sample_type()).unwrap(), sample_value());
        for n in [
            "0",
            "-1",
            "1.5",
            "1e-300",
            "-123456789012345678901234567890.123456789",
            "0.1",
        ] {
            let bytes = encode(&num(n), &Type::Number).unwrap();
            assert_eq!(decode(&bytes, &Type::Number).unwrap(), num(n));
        }
        let nested = Value::Dynamic(
            Type::Dynamic,
            Box::new(Value::Dynamic(Type::Bool, Box::new(Value::Bool(true)))),
        );
        let bytes = encode(&nested, &Type::Dynamic).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"type":"dynamic","value":{"type":"bool","value":true}}"#
        );
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), nested);
    }

    #[test]
    fn missing_attributes_are_null_and_extra_are_errors() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        assert_eq!(
            from_serde(&json!({"a": "x"}), &ty).unwrap(),
            obj([("a", s("x")), ("b", Value::Null)])
        );
        let err = from_serde(&json!({"a": "x", "gone": 1}), &ty).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::UnsupportedAttribute("gone".into())
        );
        let err = to_serde(&obj([("c", Value::Null)]), &ty).unwrap_err();
        assert_eq!(
            err.kind(),
            &EncodeErrorKind::UnsupportedAttribute("c".into())
        );
        assert_eq!(
            to_serde(&obj([]), &ty).unwrap(),
            json!({"a": null, "b": null})
        );
    }

    #[test]
    fn unknowns_cannot_be_json() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let err = to_serde(
            &obj([("a", Value::List(vec![s("x"), Value::Unknown]))]),
            &ty,
        )
        .unwrap_err();
        assert_eq!(err.kind(), &EncodeErrorKind::Unknown);
        assert_eq!(err.path(), ".a[1]");
    }

    #[test]
    fn lenient_primitives_like_go_cty() {
        assert_eq!(from_serde(&json!(12), &Type::String).unwrap(), s("12"));
        assert_eq!(from_serde(&json!(true), &Type::String).unwrap(), s("true"));
        assert_eq!(
            from_serde(&json!("1.25"), &Type::Number).unwrap(),
            num("1.25")
        );
        assert_eq!(
            from_serde(&json!("false"), &Type::Bool).unwrap(),
            Value::Bool(false)
        );
        assert!(from_serde(&json!("yes"), &Type::Bool).is_err());
        assert!(from_serde(&json!("abc"), &Type::Number).is_err());
    }

    #[test]
    fn big_numbers_keep_precision() {
        let text = br#"{"n": 123456789012345678901234567890.123456789e-5}"#;
        let ty = Type::object([("n", Type::Number)]);
        let value = decode(text, &ty).unwrap();
        assert_eq!(
            value,
            obj([("n", num("1234567890123456789012345.67890123456789"))])
        );
        assert_eq!(
            encode(&value, &ty).unwrap(),
            br#"{"n":1234567890123456789012345.67890123456789}"#
        );
    }

    #[test]
    fn errors_say_where_and_what() {
        let ty = Type::object([("a", Type::list(Type::map(Type::Number)))]);
        let err = from_serde(&json!({"a": [{}, {"k": [1]}]}), &ty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "at .a[1][\"k\"]: expected number, found array"
        );
        let err = from_serde(&json!([1, 2]), &Type::tuple([Type::Number])).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::TupleLength {
                expected: 1,
                found: 2
            }
        );
        let err = from_serde(&json!({"type": "string"}), &Type::Dynamic).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::DynamicShape);
        let err = from_serde(&json!({"type": "strang", "value": "x"}), &Type::Dynamic).unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::DynamicType(_)));
        assert!(matches!(
            decode(b"{", &Type::String).unwrap_err().kind(),
            DecodeErrorKind::Json(_)
        ));
        let err = to_serde(&s("x"), &Type::Bool).unwrap_err();
        assert_eq!(err.to_string(), "expected bool, found string");
    }

    #[test]
    fn deep_json_is_rejected_not_overflowed() {
        let mut json = json!(1);
        let mut ty = Type::Number;
        for _ in 0..(MAX_VALUE_DEPTH + 5) {
            json = Json::Array(vec![json]);
            ty = Type::list(ty);
        }
        assert_eq!(
            from_serde(&json, &ty).unwrap_err().kind(),
            &DecodeErrorKind::TooDeep
        );
        // serde_json itself refuses input nested beyond its own limit.
        let deep = "[".repeat(100_000);
        assert!(decode(deep.as_bytes(), &Type::Dynamic).is_err());
    }

    #[test]
    fn null_is_null_for_every_type() {
        for ty in [
            Type::String,
            Type::Dynamic,
            sample_type(),
            Type::list(Type::Number),
        ] {
            assert_eq!(decode(b"null", &ty).unwrap(), Value::Null);
            assert_eq!(encode(&Value::Null, &ty).unwrap(), b"null");
            let typed_null = Value::Dynamic(Type::String, Box::new(Value::Null));
            assert_eq!(encode(&typed_null, &ty).unwrap(), b"null");
        }
    }
}
