//! [`Field`]: a model field whose value may be unknown or null, as every configurable
//! attribute may be at plan time.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::tree::UNKNOWN_TOKEN;
use crate::schema::FIELD_MARKER;

/// A model field that may be unknown ("known after apply") or null, like
/// terraform-plugin-framework's `types.String`.
///
/// Models use it for every attribute that configuration may set or that the provider
/// computes, so one model serves `validate`, `modify_plan` and apply alike. A required
/// attribute is a plain `Field<T>`; an optional one carries `#[serde(default)]` (null when
/// absent) or a `#[serde(default = "...")]` that becomes the planned default.
///
/// An unknown anywhere inside a collection of primitives (`Field<Vec<String>>` with one
/// unknown element) makes the whole field unknown.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    /// Not known until apply.
    Unknown,
    /// Not set.
    #[default]
    Null,
    /// A known value.
    Known(T),
}

impl<T> Field<T> {
    /// A known value.
    pub fn known(value: impl Into<T>) -> Self {
        Field::Known(value.into())
    }

    /// The value, when known.
    pub fn get(&self) -> Option<&T> {
        match self {
            Field::Known(value) => Some(value),
            _ => None,
        }
    }

    /// The value of an attribute Terraform guarantees known (a required one, at apply).
    pub fn value(&self) -> Result<&T, NotKnown> {
        self.get().ok_or(NotKnown {
            unknown: self.is_unknown(),
        })
    }

    /// The value, mutably, when known.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Field::Known(value) => Some(value),
            _ => None,
        }
    }

    /// The value, when known, taking it out of the field.
    pub fn into_option(self) -> Option<T> {
        match self {
            Field::Known(value) => Some(value),
            _ => None,
        }
    }

    /// True until apply.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }

    /// True when not set.
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// True when known (not null, not unknown).
    pub fn is_known(&self) -> bool {
        matches!(self, Field::Known(_))
    }

    /// Sets a known value.
    pub fn set(&mut self, value: impl Into<T>) {
        *self = Field::Known(value.into());
    }

    /// Marks the value unknown ("known after apply"): only computed attributes may be.
    pub fn set_unknown(&mut self) {
        *self = Field::Unknown;
    }

    /// A field of references to the value.
    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Unknown => Field::Unknown,
            Field::Null => Field::Null,
            Field::Known(value) => Field::Known(value),
        }
    }

    /// The field with its known value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Unknown => Field::Unknown,
            Field::Null => Field::Null,
            Field::Known(value) => Field::Known(f(value)),
        }
    }

    /// This field when it is not null, else `other` (keeps a prior value the plan left unset).
    pub fn or(self, other: Field<T>) -> Field<T> {
        match self {
            Field::Null => other,
            this => this,
        }
    }
}

/// A value that had to be known was unknown or null: a provider bug, since validation and
/// Terraform guarantee required values at apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a value required here was {}", if *.unknown { "unknown" } else { "null" })]
pub struct NotKnown {
    unknown: bool,
}

impl From<NotKnown> for crate::Diagnostics {
    fn from(e: NotKnown) -> Self {
        crate::Diagnostic::error(
            "Internal error: missing value",
            format!("{e}; this is a provider bug."),
        )
        .into()
    }
}

impl<T: AsRef<str>> Field<T> {
    /// The text, when known (for `String` and text domain values alike).
    pub fn as_str(&self) -> Option<&str> {
        self.get().map(AsRef::as_ref)
    }
}

impl<T> From<Option<T>> for Field<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Field::Null, Field::Known)
    }
}

impl<T: fmt::Debug> fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Unknown => f.write_str("(unknown)"),
            Field::Null => f.write_str("null"),
            Field::Known(value) => value.fmt(f),
        }
    }
}

// serde: the unknown travels as a private newtype struct (see `tree.rs`), which only the
// framework's tree answers; to any other format (serde_json for state and private data) a
// field is a plain optional value, and an unknown writes as null.
impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Unknown => serializer.serialize_newtype_struct(UNKNOWN_TOKEN, &()),
            Field::Null => serializer.serialize_none(),
            Field::Known(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(UNKNOWN_TOKEN, FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    /// Every format answers the newtype hint with the value itself.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Option::<T>::deserialize(d).map(Field::from)
    }

    /// The framework's tree answers it with the token where the value is unknown; a string
    /// a user wrote never arrives here (it comes through `visit_newtype_struct`).
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v == UNKNOWN_TOKEN {
            Ok(Field::Unknown)
        } else {
            Err(E::invalid_type(serde::de::Unexpected::Str(v), &self))
        }
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
}

impl<T: JsonSchema> JsonSchema for Field<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Field_{}", T::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = T::json_schema(generator);
        schema.insert(FIELD_MARKER.into(), serde_json::Value::Bool(true));
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_unknown_null_and_known() {
        for field in [Field::<u64>::Null, Field::Known(7)] {
            let json = serde_json::to_value(&field).unwrap();
            let back: Field<u64> = serde_json::from_value(json).unwrap();
            assert_eq!(back, field);
        }
        // To serde_json an unknown is null: state never holds one.
        assert_eq!(
            serde_json::to_value(Field::<String>::Unknown).unwrap(),
            serde_json::Value::Null
        );
    }

    #[test]
    fn inner_errors_reach_the_caller() {
        let err = serde_json::from_value::<Field<u64>>(serde_json::json!("x")).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
