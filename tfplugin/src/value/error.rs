//! Errors shared by the msgpack and JSON value codecs, each saying where in the
//! value (a path like `.a[2].b`) something went wrong.
//!
//! Messages never include string contents of values (they may be secrets); they
//! name only schema attribute names, map keys, types and lengths.

use std::fmt;

use super::number::NumberError;
use super::types::TypeError;

/// Values nest at most this deep (each list, set, map, object, tuple or dynamic
/// wrapper is one level). A dynamic type can nest without limit in untrusted input,
/// so decoding must stop somewhere; real schemas stay far below this.
pub const MAX_VALUE_DEPTH: usize = 100;

/// One step of the path to a nested value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathStep {
    Attr(String),
    Index(usize),
    Key(String),
}

/// The path to the value being worked on, rendered only when an error occurs.
#[derive(Debug, Default)]
pub(crate) struct Path(Vec<PathStep>);

impl Path {
    pub(crate) fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }

    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }

    pub(crate) fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for step in &self.0 {
            // Writing into a String cannot fail.
            let _ = match step {
                PathStep::Attr(name) => write!(out, ".{name}"),
                PathStep::Index(i) => write!(out, "[{i}]"),
                PathStep::Key(key) => write!(out, "[{key:?}]"),
            };
        }
        out
    }
}

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The input ended in the middle of a value.
    #[error("unexpected end of input")]
    Truncated,
    /// Bytes remained after the top-level value.
    #[error("{0} unexpected trailing byte(s) after the value")]
    TrailingBytes(usize),
    /// A byte that is not a valid msgpack marker.
    #[error("invalid msgpack marker 0x{0:02x}")]
    InvalidMarker(u8),
    /// The encoded shape does not match the type.
    #[error("expected {expected}, found {found}")]
    Mismatch {
        /// What the type called for.
        expected: String,
        /// What the input held.
        found: &'static str,
    },
    /// The value nests deeper than [`MAX_VALUE_DEPTH`].
    #[error("value nests deeper than {MAX_VALUE_DEPTH} levels")]
    TooDeep,
    /// A string is not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A number is malformed or out of range.
    #[error("invalid number: {0}")]
    Number(NumberError),
    /// An object has a key its type does not declare.
    #[error("unsupported attribute {0:?}")]
    UnsupportedAttribute(String),
    /// A map or object has the same key twice.
    #[error("duplicate key {0:?}")]
    DuplicateKey(String),
    /// A tuple has the wrong number of elements.
    #[error("a tuple of {expected} element(s) is required, found {found}")]
    TupleLength {
        /// Elements in the tuple type.
        expected: usize,
        /// Elements in the input.
        found: usize,
    },
    /// The type half of a dynamic value is not a valid type.
    #[error("invalid type in dynamic value: {0}")]
    DynamicType(TypeError),
    /// A JSON dynamic value is not `{"type": ..., "value": ...}`.
    #[error("a dynamic value must be an object with exactly \"type\" and \"value\"")]
    DynamicShape,
    /// The input is not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
}

/// A decoding failure and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    path: String,
    kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) fn new(path: &Path, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            path: path.render(),
            kind,
        }
    }

    /// Where the error happened, e.g. `.a[2].b` (empty for the top-level value).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "at {}: {}", self.path, self.kind)
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// What went wrong while encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeErrorKind {
    /// The value does not conform to the type.
    #[error("expected {expected}, found {found}")]
    Mismatch {
        /// What the type called for.
        expected: String,
        /// What the value held.
        found: &'static str,
    },
    /// An object value has an attribute its type does not declare.
    #[error("unsupported attribute {0:?}")]
    UnsupportedAttribute(String),
    /// A tuple value has the wrong number of elements.
    #[error("a tuple of {expected} element(s) is required, found {found}")]
    TupleLength {
        /// Elements in the tuple type.
        expected: usize,
        /// Elements in the value.
        found: usize,
    },
    /// A value under a dynamic type whose type cannot be inferred; wrap it in
    /// [`super::Value::Dynamic`].
    #[error("a {0} value under a dynamic type needs Value::Dynamic to give its type")]
    DynamicNeedsType(&'static str),
    /// An unknown value where none can be represented (JSON).
    #[error("unknown values cannot be represented here")]
    Unknown,
    /// The value nests deeper than [`MAX_VALUE_DEPTH`].
    #[error("value nests deeper than {MAX_VALUE_DEPTH} levels")]
    TooDeep,
    /// A collection or string longer than msgpack can express.
    #[error("length exceeds the msgpack limit")]
    TooLong,
    /// The output could not be written (not expected for in-memory buffers).
    #[error("write failed: {0}")]
    Write(String),
}

/// An encoding failure and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    path: String,
    kind: EncodeErrorKind,
}

impl EncodeError {
    pub(crate) fn new(path: &Path, kind: EncodeErrorKind) -> EncodeError {
        EncodeError {
            path: path.render(),
            kind,
        }
    }

    /// Where the error happened, e.g. `.a[2].b` (empty for the top-level value).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What went wrong.
    pub fn kind(&self) -> &EncodeErrorKind {
        &self.kind
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "at {}: {}", self.path, self.kind)
        }
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// A short name of a type's kind, for "expected ..." messages.
pub(crate) fn type_kind(ty: &super::Type) -> String {
    use super::Type;
    match ty {
        Type::String => "string".into(),
        Type::Number => "number".into(),
        Type::Bool => "bool".into(),
        Type::Dynamic => "a dynamic [type, value] pair".into(),
        Type::List(_) => "list".into(),
        Type::Set(_) => "set".into(),
        Type::Map(_) => "map".into(),
        Type::Object(_) => "object".into(),
        Type::Tuple(t) => format!("tuple of {} element(s)", t.len()),
    }
}

/// A short name of a value's kind, for "found ..." messages.
pub(crate) fn value_kind(value: &super::Value) -> &'static str {
    use super::Value;
    match value {
        Value::Unknown => "unknown",
        Value::Null => "null",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
        Value::Dynamic(_, _) => "dynamic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_terraform() {
        let mut path = Path::default();
        assert_eq!(path.render(), "");
        path.push(PathStep::Attr("a".into()));
        path.push(PathStep::Index(2));
        path.push(PathStep::Attr("b".into()));
        path.push(PathStep::Key("k\"1".into()));
        assert_eq!(path.render(), r#".a[2].b["k\"1"]"#);
        path.pop();
        let err = DecodeError::new(&path, DecodeErrorKind::Truncated);
        assert_eq!(err.to_string(), "at .a[2].b: unexpected end of input");
        assert_eq!(err.path(), ".a[2].b");
        let top = EncodeError::new(&Path::default(), EncodeErrorKind::Unknown);
        assert_eq!(top.to_string(), "unknown values cannot be represented here");
    }
}
