//! cty values: the type system Terraform uses for configuration, plans and state.
//!
//! A [`Value`] carries no type of its own (except under a dynamic type); the
//! codecs in [`msgpack`] and [`json`] are driven by the [`Type`] the schema implies,
//! exactly as go-cty's are.

mod error;
mod number;
mod types;

pub mod json;
pub mod msgpack;

pub use error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, MAX_VALUE_DEPTH};
pub use number::{Number, NumberError, MAX_DECIMAL_EXPONENT, MAX_SIGNIFICANT_DIGITS};
pub use types::{Type, TypeError};

use std::collections::BTreeMap;

/// A cty value. Null and unknown are untyped here: the schema gives their type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Not yet known (decided at apply time).
    Unknown,
    /// Known to be absent.
    Null,
    /// A string.
    String(String),
    /// A number of arbitrary precision.
    Number(Number),
    /// A boolean.
    Bool(bool),
    /// Elements of a list, in order.
    List(Vec<Value>),
    /// Elements of a set, in the order they were decoded (duplicates are not removed here).
    Set(Vec<Value>),
    /// Entries of a map.
    Map(BTreeMap<String, Value>),
    /// Always carries every attribute of its object type, nulls included.
    Object(BTreeMap<String, Value>),
    /// Elements of a tuple, in order.
    Tuple(Vec<Value>),
    /// A value found where the schema says `dynamic`, with its concrete type.
    Dynamic(Type, Box<Value>),
}

impl Value {
    /// True for [`Value::Null`] (a dynamic wrapping a null counts too).
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dynamic(_, inner) => inner.is_null(),
            _ => false,
        }
    }

    /// True for [`Value::Unknown`] at the top level.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::Dynamic(_, inner) => inner.is_unknown(),
            _ => false,
        }
    }

    /// True when no unknown appears anywhere inside this value.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
            _ => true,
        }
    }

    /// The string inside a known string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Dynamic(_, inner) => inner.as_str(),
            _ => None,
        }
    }

    /// The attribute `name` of an object value.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            Value::Dynamic(_, inner) => inner.get_attr(name),
            _ => None,
        }
    }
}

impl Default for Value {
    /// Null: the value of anything not set.
    fn default() -> Self {
        Value::Null
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(Number::from(n))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` is null.
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_and_accessors() {
        assert_eq!(Value::from("a"), Value::String("a".into()));
        assert_eq!(Value::from(Some(3i64)), Value::Number(Number::from(3)));
        assert_eq!(Value::from(None::<bool>), Value::Null);
        let wrapped = Value::Dynamic(Type::String, Box::new(Value::from("x")));
        assert_eq!(wrapped.as_str(), Some("x"));
        assert!(Value::Dynamic(Type::Bool, Box::new(Value::Null)).is_null());
        let obj = Value::Object([("k".to_owned(), Value::Unknown)].into());
        assert!(!obj.is_wholly_known());
        assert_eq!(obj.get_attr("k"), Some(&Value::Unknown));
    }
}
