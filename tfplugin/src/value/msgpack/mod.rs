//! The msgpack form of cty values, as Terraform sends and expects in
//! `DynamicValue.msgpack`.
//!
//! The encoding is type-directed exactly like go-cty's `cty/msgpack`: null is nil,
//! unknown is an extension (`d4 00 00` when we write it; any extension when we read,
//! including refined unknowns of ext type 12), numbers are ints when integral,
//! float64 when exact and decimal strings otherwise, objects are maps with one key
//! per attribute (sorted), and a value of dynamic type is `[json type bytes, value]`.
//!
//! Decoding never panics on any input: recursion is bounded by
//! [`MAX_VALUE_DEPTH`](super::error::MAX_VALUE_DEPTH) and no buffer is sized from an
//! untrusted length beyond the bytes actually remaining.

use std::collections::BTreeMap;
use std::fmt::Debug;

use super::error::{type_kind, value_kind, Path, PathStep, MAX_VALUE_DEPTH};
pub use super::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use super::{Number, Type, Value};

/// The bytes we write for an unknown value: fixext1, type 0, payload 0.
pub const UNKNOWN_BYTES: [u8; 3] = [0xd4, 0x00, 0x00];

/// Encodes `value` as msgpack according to `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder {
        out: Vec::new(),
        path: Path::default(),
    };
    encoder.value(value, ty, 0)?;
    Ok(encoder.out)
}

/// Decodes msgpack `bytes` as a value of type `ty`. The whole input must be one value.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut decoder = Decoder {
        input: bytes,
        pos: 0,
        path: Path::default(),
    };
    let value = decoder.value(ty, 0)?;
    let trailing = bytes.len() - decoder.pos;
    if trailing != 0 {
        return Err(decoder.err(DecodeErrorKind::TrailingBytes(trailing)));
    }
    Ok(value)
}

// ---------------------------------------------------------------------------
// Encoding

struct Encoder {
    out: Vec<u8>,
    path: Path,
}

impl Encoder {
    fn err(&self, kind: EncodeErrorKind) -> EncodeError {
        EncodeError::new(&self.path, kind)
    }

    fn mismatch(&self, ty: &Type, value: &Value) -> EncodeError {
        self.err(EncodeErrorKind::Mismatch {
            expected: type_kind(ty),
            found: value_kind(value),
        })
    }

    /// Maps an rmp write error (impossible for a `Vec`, but typed).
    fn wrote<T, E: Debug>(&self, result: Result<T, E>) -> Result<(), EncodeError> {
        result
            .map(|_| ())
            .map_err(|e| self.err(EncodeErrorKind::Write(format!("{e:?}"))))
    }

    fn len32(&self, len: usize) -> Result<u32, EncodeError> {
        u32::try_from(len).map_err(|_| self.err(EncodeErrorKind::TooLong))
    }

    fn value(&mut self, value: &Value, ty: &Type, depth: usize) -> Result<(), EncodeError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(self.err(EncodeErrorKind::TooDeep));
        }
        // Like go-cty, a null or unknown is written bare even inside a dynamic wrapper:
        // Terraform compares values with their types, and a null it sent as plain nil
        // must come back as plain nil.
        if value.is_null() {
            let r = rmp::encode::write_nil(&mut self.out);
            return self.wrote(r);
        }
        if value.is_unknown() {
            self.out.extend_from_slice(&UNKNOWN_BYTES);
            return Ok(());
        }
        if let Type::Dynamic = ty {
            return self.dynamic(value, depth);
        }
        match (ty, value) {
            // A concretely typed value where the schema names a concrete type: the
            // schema's type governs.
            (_, Value::Dynamic(_, inner)) => self.value(inner, ty, depth),
            (Type::String, Value::String(s)) => {
                self.len32(s.len())?;
                let r = rmp::encode::write_str(&mut self.out, s);
                self.wrote(r)
            }
            (Type::Number, Value::Number(n)) => self.number(n),
            (Type::Bool, Value::Bool(b)) => {
                let r = rmp::encode::write_bool(&mut self.out, *b);
                self.wrote(r)
            }
            (Type::List(elem) | Type::Set(elem), Value::List(items) | Value::Set(items)) => {
                self.array_header(items.len())?;
                for (i, item) in items.iter().enumerate() {
                    self.path.push(PathStep::Index(i));
                    self.value(item, elem, depth + 1)?;
                    self.path.pop();
                }
                Ok(())
            }
            (Type::Tuple(types), Value::Tuple(items) | Value::List(items)) => {
                if types.len() != items.len() {
                    return Err(self.err(EncodeErrorKind::TupleLength {
                        expected: types.len(),
                        found: items.len(),
                    }));
                }
                self.array_header(items.len())?;
                for (i, (item, item_ty)) in items.iter().zip(types).enumerate() {
                    self.path.push(PathStep::Index(i));
                    self.value(item, item_ty, depth + 1)?;
                    self.path.pop();
                }
                Ok(())
            }
            (Type::Map(elem), Value::Map(entries) | Value::Object(entries)) => {
                self.map_header(entries.len())?;
                for (key, item) in entries {
                    self.key(key)?;
                    self.path.push(PathStep::Key(key.clone()));
                    self.value(item, elem, depth + 1)?;
                    self.path.pop();
                }
                Ok(())
            }
            (Type::Object(attrs), Value::Object(entries) | Value::Map(entries)) => {
                if let Some(extra) = entries.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(self.err(EncodeErrorKind::UnsupportedAttribute(extra.clone())));
                }
                // go-cty requires exactly one key per attribute, so absent attributes
                // are written as nil; BTreeMap order is go-cty's sorted order.
                self.map_header(attrs.len())?;
                for (name, attr_ty) in attrs {
                    self.key(name)?;
                    self.path.push(PathStep::Attr(name.clone()));
                    self.value(
                        entries.get(name).unwrap_or(&Value::Null),
                        attr_ty,
                        depth + 1,
                    )?;
                    self.path.pop();
                }
                Ok(())
            }
            _ => Err(self.mismatch(ty, value)),
        }
    }

    fn dynamic(&mut self, value: &Value, depth: usize) -> Result<(), EncodeError> {
        let (concrete, inner) = match value {
            Value::Dynamic(t, inner) => (t.clone(), inner.as_ref()),
            Value::String(_) => (Type::String, value),
            Value::Number(_) => (Type::Number, value),
            Value::Bool(_) => (Type::Bool, value),
            other => return Err(self.err(EncodeErrorKind::DynamicNeedsType(value_kind(other)))),
        };
        self.array_header(2)?;
        let type_json = concrete.to_json_bytes();
        self.len32(type_json.len())?;
        let r = rmp::encode::write_bin(&mut self.out, &type_json);
        self.wrote(r)?;
        self.value(inner, &concrete, depth + 1)
    }

    fn number(&mut self, n: &Number) -> Result<(), EncodeError> {
        if let Some(i) = n.as_i64() {
            let r = rmp::encode::write_sint(&mut self.out, i);
            self.wrote(r)
        } else if let Some(u) = n.as_u64() {
            let r = rmp::encode::write_uint(&mut self.out, u);
            self.wrote(r)
        } else if let Some(f) = n.as_f64_exact() {
            let r = rmp::encode::write_f64(&mut self.out, f);
            self.wrote(r)
        } else {
            let text = n.to_string();
            self.len32(text.len())?;
            let r = rmp::encode::write_str(&mut self.out, &text);
            self.wrote(r)
        }
    }

    fn key(&mut self, key: &str) -> Result<(), EncodeError> {
        self.len32(key.len())?;
        let r = rmp::encode::write_str(&mut self.out, key);
        self.wrote(r)
    }

    fn array_header(&mut self, len: usize) -> Result<(), EncodeError> {
        let len = self.len32(len)?;
        let r = rmp::encode::write_array_len(&mut self.out, len);
        self.wrote(r)
    }

    fn map_header(&mut self, len: usize) -> Result<(), EncodeError> {
        let len = self.len32(len)?;
        let r = rmp::encode::write_map_len(&mut self.out, len);
        self.wrote(r)
    }
}

// ---------------------------------------------------------------------------
// Decoding

/// The start of one msgpack item: its kind plus any length or scalar payload.
enum Head {
    Nil,
    Bool(bool),
    Uint(u64),
    Int(i64),
    F32(f32),
    F64(f64),
    Str(usize),
    Bin(usize),
    Array(usize),
    Map(usize),
    Ext(usize),
}

impl Head {
    fn name(&self) -> &'static str {
        match self {
            Head::Nil => "nil",
            Head::Bool(_) => "bool",
            Head::Uint(_) | Head::Int(_) => "integer",
            Head::F32(_) | Head::F64(_) => "float",
            Head::Str(_) => "string",
            Head::Bin(_) => "binary",
            Head::Array(_) => "array",
            Head::Map(_) => "map",
            Head::Ext(_) => "extension",
        }
    }
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    path: Path,
}

impl<'a> Decoder<'a> {
    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(&self.path, kind)
    }

    fn mismatch(&self, ty: &Type, head: &Head) -> DecodeError {
        self.err(DecodeErrorKind::Mismatch {
            expected: type_kind(ty),
            found: head.name(),
        })
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.err(DecodeErrorKind::Truncated));
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take_array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(u16::from_be_bytes(self.take_array()?)))
    }

    fn u32(&mut self) -> Result<usize, DecodeError> {
        let n = u32::from_be_bytes(self.take_array()?);
        // A length that does not fit in memory cannot be satisfied by the input.
        usize::try_from(n).map_err(|_| self.err(DecodeErrorKind::Truncated))
    }

    fn head(&mut self) -> Result<Head, DecodeError> {
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Head::Uint(u64::from(marker)),
            0x80..=0x8f => Head::Map(usize::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(marker & 0x0f)),
            0xa0..=0xbf => Head::Str(usize::from(marker & 0x1f)),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(usize::from(self.u8()?)),
            0xc5 => Head::Bin(self.u16()?),
            0xc6 => Head::Bin(self.u32()?),
            0xc7 => {
                let len = usize::from(self.u8()?);
                self.u8()?; // extension type: every extension means unknown
                Head::Ext(len)
            }
            0xc8 => {
                let len = self.u16()?;
                self.u8()?;
                Head::Ext(len)
            }
            0xc9 => {
                let len = self.u32()?;
                self.u8()?;
                Head::Ext(len)
            }
            0xca => Head::F32(f32::from_be_bytes(self.take_array()?)),
            0xcb => Head::F64(f64::from_be_bytes(self.take_array()?)),
            0xcc => Head::Uint(u64::from(self.u8()?)),
            0xcd => Head::Uint(u64::from(u16::from_be_bytes(self.take_array()?))),
            0xce => Head::Uint(u64::from(u32::from_be_bytes(self.take_array()?))),
            0xcf => Head::Uint(u64::from_be_bytes(self.take_array()?)),
            0xd0 => Head::Int(i64::from(i8::from_be_bytes(self.take_array()?))),
            0xd1 => Head::Int(i64::from(i16::from_be_bytes(self.take_array()?))),
            0xd2 => Head::Int(i64::from(i32::from_be_bytes(self.take_array()?))),
            0xd3 => Head::Int(i64::from_be_bytes(self.take_array()?)),
            0xd4..=0xd8 => {
                self.u8()?;
                Head::Ext(1usize << (marker - 0xd4))
            }
            0xd9 => Head::Str(usize::from(self.u8()?)),
            0xda => Head::Str(self.u16()?),
            0xdb => Head::Str(self.u32()?),
            0xdc => Head::Array(self.u16()?),
            0xdd => Head::Array(self.u32()?),
            0xde => Head::Map(self.u16()?),
            0xdf => Head::Map(self.u32()?),
            0xe0..=0xff => Head::Int(i64::from(marker as i8)),
            0xc1 => return Err(self.err(DecodeErrorKind::InvalidMarker(marker))),
        })
    }

    /// Reads the bytes of a str or bin item whose head was already read.
    fn text_bytes(&mut self, ty: &Type, head: &Head) -> Result<&'a [u8], DecodeError> {
        match *head {
            Head::Str(len) | Head::Bin(len) => self.take(len),
            _ => Err(self.mismatch(ty, head)),
        }
    }

    fn string(&mut self, ty: &Type, head: &Head) -> Result<String, DecodeError> {
        let bytes = self.text_bytes(ty, head)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| self.err(DecodeErrorKind::InvalidUtf8))
    }

    /// A map or object key (go-cty reads keys as strings, accepting str or bin).
    fn key(&mut self) -> Result<String, DecodeError> {
        let head = self.head()?;
        self.string(&Type::String, &head)
    }

    /// Capacity for a collection of `len` items: each item takes at least one byte,
    /// so never more than the bytes remaining.
    fn capacity(&self, len: usize) -> usize {
        len.min(self.remaining())
    }

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(self.err(DecodeErrorKind::TooDeep));
        }
        let head = self.head()?;
        match head {
            Head::Nil => return Ok(Value::Null),
            Head::Ext(len) => {
                // Payload (e.g. refinements of ext type 12) is skipped, not interpreted.
                self.take(len)?;
                return Ok(Value::Unknown);
            }
            _ => {}
        }
        match ty {
            Type::String => self.string(ty, &head).map(Value::String),
            Type::Number => self.number(ty, &head).map(Value::Number),
            Type::Bool => match head {
                Head::Bool(b) => Ok(Value::Bool(b)),
                _ => Err(self.mismatch(ty, &head)),
            },
            Type::List(elem) | Type::Set(elem) => {
                let Head::Array(len) = head else {
                    return Err(self.mismatch(ty, &head));
                };
                let mut items = Vec::with_capacity(self.capacity(len));
                for i in 0..len {
                    self.path.push(PathStep::Index(i));
                    items.push(self.value(elem, depth + 1)?);
                    self.path.pop();
                }
                Ok(if matches!(ty, Type::Set(_)) {
                    Value::Set(items)
                } else {
                    Value::List(items)
                })
            }
            Type::Tuple(types) => {
                let Head::Array(len) = head else {
                    return Err(self.mismatch(ty, &head));
                };
                if len != types.len() {
                    return Err(self.err(DecodeErrorKind::TupleLength {
                        expected: types.len(),
                        found: len,
                    }));
                }
                let mut items = Vec::with_capacity(types.len());
                for (i, item_ty) in types.iter().enumerate() {
                    self.path.push(PathStep::Index(i));
                    items.push(self.value(item_ty, depth + 1)?);
                    self.path.pop();
                }
                Ok(Value::Tuple(items))
            }
            Type::Map(elem) => {
                let Head::Map(len) = head else {
                    return Err(self.mismatch(ty, &head));
                };
                let mut entries = BTreeMap::new();
                for _ in 0..len {
                    let key = self.key()?;
                    if entries.contains_key(&key) {
                        return Err(self.err(DecodeErrorKind::DuplicateKey(key)));
                    }
                    self.path.push(PathStep::Key(key.clone()));
                    let item = self.value(elem, depth + 1)?;
                    self.path.pop();
                    entries.insert(key, item);
                }
                Ok(Value::Map(entries))
            }
            Type::Object(attrs) => {
                let Head::Map(len) = head else {
                    return Err(self.mismatch(ty, &head));
                };
                let mut entries = BTreeMap::new();
                for _ in 0..len {
                    let key = self.key()?;
                    let Some(attr_ty) = attrs.get(&key) else {
                        return Err(self.err(DecodeErrorKind::UnsupportedAttribute(key)));
                    };
                    if entries.contains_key(&key) {
                        return Err(self.err(DecodeErrorKind::DuplicateKey(key)));
                    }
                    self.path.push(PathStep::Attr(key.clone()));
                    let item = self.value(attr_ty, depth + 1)?;
                    self.path.pop();
                    entries.insert(key, item);
                }
                // Tolerate absent attributes as null (go-cty would reject the count;
                // being lenient here costs nothing and keeps Value::Object complete).
                for name in attrs.keys() {
                    if !entries.contains_key(name) {
                        entries.insert(name.clone(), Value::Null);
                    }
                }
                Ok(Value::Object(entries))
            }
            Type::Dynamic => {
                let Head::Array(2) = head else {
                    return Err(self.mismatch(ty, &head));
                };
                let type_head = self.head()?;
                let type_bytes = self.text_bytes(&Type::Dynamic, &type_head)?;
                let concrete = Type::from_json_bytes(type_bytes)
                    .map_err(|e| self.err(DecodeErrorKind::DynamicType(e)))?;
                let inner = self.value(&concrete, depth + 1)?;
                Ok(Value::Dynamic(concrete, Box::new(inner)))
            }
        }
    }

    fn number(&mut self, ty: &Type, head: &Head) -> Result<Number, DecodeError> {
        let number = match *head {
            Head::Uint(u) => Ok(Number::from(u)),
            Head::Int(i) => Ok(Number::from(i)),
            Head::F32(f) => Number::try_from(f64::from(f)),
            Head::F64(f) => Number::try_from(f),
            Head::Str(_) | Head::Bin(_) => {
                let bytes = self.text_bytes(ty, head)?;
                std::str::from_utf8(bytes)
                    .map_err(|_| self.err(DecodeErrorKind::InvalidUtf8))?
                    .parse()
            }
            _ => return Err(self.mismatch(ty, head)),
        };
        number.map_err(|e| self.err(DecodeErrorKind::Number(e)))
    }
}

#[cfg(test)]
mod tests;
