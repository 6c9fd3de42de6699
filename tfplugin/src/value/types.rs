//! cty types and their JSON type-constraint form (as used in schemas and in the
//! first element of an encoded dynamic value).

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// Types nest this deep at most when read from JSON; deeper input is rejected so that
/// recursion over an untrusted type stays bounded.
pub(crate) const MAX_TYPE_DEPTH: usize = 64;

/// A cty type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// A Unicode string.
    String,
    /// An arbitrary-precision number.
    Number,
    /// A boolean.
    Bool,
    /// cty's DynamicPseudoType: any type, decided by the value.
    Dynamic,
    /// An ordered sequence of elements of one type.
    List(Box<Type>),
    /// An unordered collection of distinct elements of one type.
    Set(Box<Type>),
    /// String-keyed elements of one type.
    Map(Box<Type>),
    /// Named attributes, each with its own type.
    Object(BTreeMap<String, Type>),
    /// A fixed-length sequence, each element with its own type.
    Tuple(Vec<Type>),
}

/// Why a JSON type constraint could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// The JSON is neither a primitive type name nor a `[kind, ...]` array.
    #[error("invalid type constraint: {0}")]
    Invalid(String),
    /// A type name that cty does not have.
    #[error("unknown type name {0:?}")]
    UnknownName(String),
    /// The type nests deeper than we accept.
    #[error("type nests deeper than {MAX_TYPE_DEPTH} levels")]
    TooDeep,
    /// The bytes were not JSON at all.
    #[error("type is not valid JSON: {0}")]
    Json(String),
}

impl Type {
    /// `list(element)`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `set(element)`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// `map(element)`.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// `object({name = type, ...})`.
    pub fn object<I, S>(attributes: I) -> Type
    where
        I: IntoIterator<Item = (S, Type)>,
        S: Into<String>,
    {
        Type::Object(
            attributes
                .into_iter()
                .map(|(name, ty)| (name.into(), ty))
                .collect(),
        )
    }

    /// `tuple([type, ...])`.
    pub fn tuple(elements: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elements.into_iter().collect())
    }

    /// True for the primitive types string, number and bool.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// The attribute types of an object type.
    pub fn attributes(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    /// The element type of a list, set or map type.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => Some(e),
            _ => None,
        }
    }

    /// An object value of this (object) type with every attribute null.
    ///
    /// Returns `None` when `self` is not an object type.
    pub fn null_object_value(&self) -> Option<super::Value> {
        self.attributes().map(|attrs| {
            super::Value::Object(
                attrs
                    .keys()
                    .map(|name| (name.clone(), super::Value::Null))
                    .collect(),
            )
        })
    }

    /// Terraform's JSON type constraint: `"string"`, `["list","string"]`,
    /// `["object",{"a":"string"}]`, `["tuple",[...]]`, `"dynamic"`.
    pub fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(e) => Json::Array(vec![Json::from("list"), e.to_json()]),
            Type::Set(e) => Json::Array(vec![Json::from("set"), e.to_json()]),
            Type::Map(e) => Json::Array(vec![Json::from("map"), e.to_json()]),
            Type::Object(attrs) => Json::Array(vec![
                Json::from("object"),
                Json::Object(
                    attrs
                        .iter()
                        .map(|(name, ty)| (name.clone(), ty.to_json()))
                        .collect(),
                ),
            ]),
            Type::Tuple(elems) => Json::Array(vec![
                Json::from("tuple"),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The compact JSON bytes of [`Type::to_json`] (as stored in a dynamic value).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serialising a serde_json::Value into memory cannot fail.
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }

    /// Reads a JSON type constraint. The optional-attributes third element of an
    /// object type is accepted and ignored.
    pub fn from_json(json: &Json) -> Result<Type, TypeError> {
        Self::from_json_at(json, 0)
    }

    /// Reads a JSON type constraint from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, TypeError> {
        let json: Json =
            serde_json::from_slice(bytes).map_err(|e| TypeError::Json(e.to_string()))?;
        Self::from_json(&json)
    }

    fn from_json_at(json: &Json, depth: usize) -> Result<Type, TypeError> {
        if depth > MAX_TYPE_DEPTH {
            return Err(TypeError::TooDeep);
        }
        match json {
            Json::String(name) => match name.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeError::UnknownName(other.to_owned())),
            },
            Json::Array(items) => {
                let kind = items
                    .first()
                    .and_then(Json::as_str)
                    .ok_or_else(|| TypeError::Invalid("array must start with a kind".into()))?;
                let arg = items
                    .get(1)
                    .ok_or_else(|| TypeError::Invalid(format!("{kind} needs an argument")))?;
                let max_len = if kind == "object" { 3 } else { 2 };
                if items.len() > max_len {
                    return Err(TypeError::Invalid(format!(
                        "{kind} takes {} argument(s)",
                        max_len - 1
                    )));
                }
                match kind {
                    "list" => Ok(Type::list(Self::from_json_at(arg, depth + 1)?)),
                    "set" => Ok(Type::set(Self::from_json_at(arg, depth + 1)?)),
                    "map" => Ok(Type::map(Self::from_json_at(arg, depth + 1)?)),
                    "object" => {
                        let attrs = arg.as_object().ok_or_else(|| {
                            TypeError::Invalid("object attributes must be a JSON object".into())
                        })?;
                        let mut out = BTreeMap::new();
                        for (name, ty) in attrs {
                            out.insert(name.clone(), Self::from_json_at(ty, depth + 1)?);
                        }
                        // The third element lists optional attributes (type constraints
                        // only); it has no meaning for values, so it is checked and dropped.
                        if let Some(optional) = items.get(2) {
                            if !optional.is_array() {
                                return Err(TypeError::Invalid(
                                    "optional attributes must be an array".into(),
                                ));
                            }
                        }
                        Ok(Type::Object(out))
                    }
                    "tuple" => {
                        let elems = arg.as_array().ok_or_else(|| {
                            TypeError::Invalid("tuple elements must be a JSON array".into())
                        })?;
                        elems
                            .iter()
                            .map(|e| Self::from_json_at(e, depth + 1))
                            .collect::<Result<Vec<_>, _>>()
                            .map(Type::Tuple)
                    }
                    other => Err(TypeError::UnknownName(other.to_owned())),
                }
            }
            _ => Err(TypeError::Invalid(
                "expected a type name or a [kind, ...] array".into(),
            )),
        }
    }
}

impl std::fmt::Display for Type {
    /// Terraform's type-expression syntax, e.g. `list(object({a=string}))`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Set(e) => write!(f, "set({e})"),
            Type::Map(e) => write!(f, "map({e})"),
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, (name, ty)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={ty}")?;
                }
                f.write_str("})")
            }
            Type::Tuple(elems) => {
                f.write_str("tuple([")?;
                for (i, ty) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{ty}")?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn primitives_to_json() {
        assert_eq!(Type::String.to_json(), json!("string"));
        assert_eq!(Type::Number.to_json(), json!("number"));
        assert_eq!(Type::Bool.to_json(), json!("bool"));
        assert_eq!(Type::Dynamic.to_json(), json!("dynamic"));
    }

    #[test]
    fn complex_to_json() {
        let ty = Type::object([
            ("b", Type::list(Type::String)),
            ("a", Type::tuple([Type::Number, Type::map(Type::Bool)])),
            ("c", Type::set(Type::Dynamic)),
        ]);
        assert_eq!(
            ty.to_json(),
            json!(["object", {
                "a": ["tuple", ["number", ["map", "bool"]]],
                "b": ["list", "string"],
                "c": ["set", "dynamic"],
            }])
        );
        assert_eq!(
            String::from_utf8(ty.to_json_bytes()).unwrap(),
            r#"["object",{"a":["tuple",["number",["map","bool"]]],"b":["list","string"],"c":["set","dynamic"]}]"#
        );
    }

    #[test]
    fn json_round_trip() {
        let ty = Type::object([
            ("id", Type::String),
            ("n", Type::Number),
            ("nested", Type::list(Type::object([("x", Type::Bool)]))),
            ("t", Type::tuple([])),
            ("d", Type::Dynamic),
        ]);
        assert_eq!(Type::from_json(&ty.to_json()).unwrap(), ty);
        assert_eq!(Type::from_json_bytes(&ty.to_json_bytes()).unwrap(), ty);
    }

    #[test]
    fn optional_attributes_are_ignored() {
        let ty =
            Type::from_json(&json!(["object", {"a": "string", "b": "number"}, ["b"]])).unwrap();
        assert_eq!(ty, Type::object([("a", Type::String), ("b", Type::Number)]));
    }

    #[test]
    fn invalid_types_are_rejected() {
        for bad in [
            json!("strung"),
            json!(42),
            json!([]),
            json!(["list"]),
            json!(["list", "string", "extra"]),
            json!(["object", ["a"]]),
            json!(["object", {}, "notarray"]),
            json!(["tuple", {}]),
            json!(["frob", "string"]),
            json!([1, "string"]),
        ] {
            assert!(Type::from_json(&bad).is_err(), "{bad} accepted");
        }
        assert!(matches!(
            Type::from_json_bytes(b"[\"list\""),
            Err(TypeError::Json(_))
        ));
    }

    #[test]
    fn deep_types_are_rejected() {
        let mut json = json!("string");
        for _ in 0..(MAX_TYPE_DEPTH + 2) {
            json = json!(["list", json]);
        }
        assert_eq!(Type::from_json(&json), Err(TypeError::TooDeep));
    }

    #[test]
    fn display_uses_terraform_syntax() {
        let ty = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::tuple([Type::Bool, Type::Number])),
        ]);
        assert_eq!(
            ty.to_string(),
            "object({a=list(string),b=tuple([bool,number])})"
        );
    }

    #[test]
    fn null_object_value_has_every_attribute() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let v = ty.null_object_value().unwrap();
        assert_eq!(v.get_attr("a"), Some(&super::super::Value::Null));
        assert_eq!(v.get_attr("b"), Some(&super::super::Value::Null));
        assert!(Type::String.null_object_value().is_none());
    }
}
