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
mod tests {
    use super::*;

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

    fn enc(value: &Value, ty: &Type) -> Vec<u8> {
        encode(value, ty).unwrap()
    }

    /// Encodes, checks the exact bytes, and checks they decode back to `value`.
    fn golden(value: Value, ty: Type, bytes: &[u8]) {
        assert_eq!(enc(&value, &ty), bytes, "encoding {value:?} as {ty}");
        assert_eq!(
            decode(bytes, &ty).unwrap(),
            value,
            "decoding {bytes:02x?} as {ty}"
        );
    }

    fn round_trip(value: Value, ty: Type) {
        let bytes = enc(&value, &ty);
        assert_eq!(
            decode(&bytes, &ty).unwrap(),
            value,
            "round trip of {value:?} as {ty}"
        );
    }

    #[test]
    fn golden_null_and_unknown() {
        for ty in [
            Type::String,
            Type::Number,
            Type::list(Type::Bool),
            Type::Dynamic,
            Type::object([("a", Type::String)]),
        ] {
            golden(Value::Null, ty.clone(), &[0xc0]);
            golden(Value::Unknown, ty, &[0xd4, 0x00, 0x00]);
        }
    }

    #[test]
    fn golden_integers() {
        let cases: &[(i128, &[u8])] = &[
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0xcc, 0x80]),
            (255, &[0xcc, 0xff]),
            (256, &[0xcd, 0x01, 0x00]),
            (65536, &[0xce, 0x00, 0x01, 0x00, 0x00]),
            (1 << 32, &[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
            (-1, &[0xff]),
            (-32, &[0xe0]),
            (-33, &[0xd0, 0xdf]),
            (-128, &[0xd0, 0x80]),
            (-129, &[0xd1, 0xff, 0x7f]),
            (-32769, &[0xd2, 0xff, 0xff, 0x7f, 0xff]),
            (
                -(1 << 31) - 1,
                &[0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff],
            ),
            (
                i64::MAX as i128,
                &[0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
            // 2^63 does not fit i64 but is an exact u64
            (1 << 63, &[0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            (
                u64::MAX as i128,
                &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
        ];
        for (n, bytes) in cases {
            golden(num(&n.to_string()), Type::Number, bytes);
        }
    }

    #[test]
    fn golden_floats_and_decimal_strings() {
        golden(
            num("1.5"),
            Type::Number,
            &[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
        );
        golden(
            num("-0.25"),
            Type::Number,
            &[0xcb, 0xbf, 0xd0, 0, 0, 0, 0, 0, 0],
        );
        // 2^64 is not an int64/uint64 but is an exact float64 (0x43f0000000000000).
        golden(
            num("18446744073709551616"),
            Type::Number,
            &[0xcb, 0x43, 0xf0, 0, 0, 0, 0, 0, 0],
        );
        // 0.1 is not exact in binary: a decimal string "0.1" (fixstr of 3).
        golden(num("0.1"), Type::Number, &[0xa3, b'0', b'.', b'1']);
        let big = "123456789012345678901234567890.123456789";
        let mut expected = vec![0xd9, big.len() as u8];
        expected.extend_from_slice(big.as_bytes());
        golden(num(big), Type::Number, &expected);
    }

    #[test]
    fn golden_primitives() {
        golden(Value::Bool(true), Type::Bool, &[0xc3]);
        golden(Value::Bool(false), Type::Bool, &[0xc2]);
        golden(s(""), Type::String, &[0xa0]);
        golden(s("hi"), Type::String, &[0xa2, b'h', b'i']);
        let long = "x".repeat(40);
        let mut expected = vec![0xd9, 40];
        expected.extend_from_slice(long.as_bytes());
        golden(s(&long), Type::String, &expected);
    }

    #[test]
    fn golden_object_sorted_with_null_attribute() {
        let ty = Type::object([
            ("name", Type::String),
            ("age", Type::Number),
            ("id", Type::String),
        ]);
        let value = obj([("age", num("3")), ("id", Value::Null), ("name", s("a"))]);
        golden(
            value,
            ty,
            &[
                0x83, // fixmap of 3
                0xa3, b'a', b'g', b'e', 0x03, //
                0xa2, b'i', b'd', 0xc0, //
                0xa4, b'n', b'a', b'm', b'e', 0xa1, b'a',
            ],
        );
    }

    #[test]
    fn object_missing_attributes_encode_as_nil() {
        let ty = Type::object([("a", Type::String), ("b", Type::Bool)]);
        let bytes = enc(&obj([("b", Value::Bool(true))]), &ty);
        assert_eq!(bytes, [0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xc3]);
        let err = encode(&obj([("zz", Value::Null)]), &ty).unwrap_err();
        assert_eq!(
            err.kind(),
            &EncodeErrorKind::UnsupportedAttribute("zz".into())
        );
    }

    #[test]
    fn golden_collections() {
        golden(
            Value::List(vec![s("a"), s("b")]),
            Type::list(Type::String),
            &[0x92, 0xa1, b'a', 0xa1, b'b'],
        );
        golden(
            Value::Set(vec![num("1"), num("2")]),
            Type::set(Type::Number),
            &[0x92, 0x01, 0x02],
        );
        golden(
            Value::Map([("k".to_owned(), Value::Bool(true))].into()),
            Type::map(Type::Bool),
            &[0x81, 0xa1, b'k', 0xc3],
        );
        golden(
            Value::Tuple(vec![s("x"), num("7"), Value::Null]),
            Type::tuple([Type::String, Type::Number, Type::Bool]),
            &[0x93, 0xa1, b'x', 0x07, 0xc0],
        );
        golden(Value::List(vec![]), Type::list(Type::String), &[0x90]);
    }

    #[test]
    fn golden_dynamic() {
        let mut expected = vec![0x92, 0xc4, 8];
        expected.extend_from_slice(b"\"string\"");
        expected.extend_from_slice(&[0xa2, b'h', b'i']);
        golden(
            Value::Dynamic(Type::String, Box::new(s("hi"))),
            Type::Dynamic,
            &expected,
        );

        let list_ty = Type::list(Type::Number);
        let type_json = br#"["list","number"]"#;
        let mut expected = vec![0x92, 0xc4, type_json.len() as u8];
        expected.extend_from_slice(type_json);
        expected.extend_from_slice(&[0x91, 0x05]);
        golden(
            Value::Dynamic(list_ty, Box::new(Value::List(vec![num("5")]))),
            Type::Dynamic,
            &expected,
        );
        // Primitives under a dynamic type get their type inferred.
        let mut expected = vec![0x92, 0xc4, 6];
        expected.extend_from_slice(b"\"bool\"");
        expected.push(0xc3);
        assert_eq!(enc(&Value::Bool(true), &Type::Dynamic), expected);
        // The type may come as str instead of bin.
        let mut as_str = vec![0x92, 0xa6];
        as_str.extend_from_slice(b"\"bool\"");
        as_str.push(0xc3);
        assert_eq!(
            decode(&as_str, &Type::Dynamic).unwrap(),
            Value::Dynamic(Type::Bool, Box::new(Value::Bool(true)))
        );
        assert!(matches!(
            encode(&Value::List(vec![]), &Type::Dynamic)
                .unwrap_err()
                .kind(),
            EncodeErrorKind::DynamicNeedsType("list")
        ));
    }

    #[test]
    fn round_trip_every_type() {
        let inner = Type::object([("x", Type::Number), ("y", Type::list(Type::String))]);
        let ty = Type::object([
            ("s", Type::String),
            ("n", Type::Number),
            ("b", Type::Bool),
            ("l", Type::list(inner.clone())),
            ("set", Type::set(Type::String)),
            ("m", Type::map(Type::Number)),
            ("t", Type::tuple([Type::String, Type::Bool])),
            ("d", Type::Dynamic),
            ("dn", Type::Dynamic),
            ("u", Type::String),
        ]);
        let value = obj([
            ("s", s("hello ✓")),
            ("n", num("-123456789012345678901234567890.123456789")),
            ("b", Value::Bool(false)),
            (
                "l",
                Value::List(vec![
                    obj([
                        ("x", num("0.5")),
                        ("y", Value::List(vec![s("a"), Value::Unknown])),
                    ]),
                    obj([("x", Value::Unknown), ("y", Value::Null)]),
                ]),
            ),
            ("set", Value::Set(vec![s("p"), s("q")])),
            (
                "m",
                Value::Map([("a".to_owned(), num("1e40")), ("b".to_owned(), num("-7"))].into()),
            ),
            ("t", Value::Tuple(vec![s(""), Value::Bool(true)])),
            (
                "d",
                Value::Dynamic(
                    inner.clone(),
                    Box::new(obj([("x", num("3")), ("y", Value::Null)])),
                ),
            ),
            ("dn", Value::Null),
            ("u", Value::Unknown),
        ]);
        round_trip(value, ty);
        for n in [
            "0",
            "-1",
            "1.25",
            "-0.001",
            "3.14159",
            "123456789012345678901234567890.123456789",
            "-123456789012345678901234567890",
            "1e-300",
            "9007199254740993",
            "18446744073709551615",
            "-9223372036854775808",
            "-9223372036854775809",
            "0.30000000000000004",
        ] {
            round_trip(num(n), Type::Number);
        }
    }

    #[test]
    fn nested_dynamic_round_trips() {
        let value = Value::Dynamic(
            Type::Dynamic,
            Box::new(Value::Dynamic(Type::String, Box::new(s("deep")))),
        );
        round_trip(value, Type::Dynamic);
    }

    #[test]
    fn typed_null_and_unknown_under_dynamic_are_bare() {
        for inner in [Value::Null, Value::Unknown] {
            let expected = enc(&inner, &Type::Dynamic);
            for wrapped in [
                Value::Dynamic(Type::String, Box::new(inner.clone())),
                Value::Dynamic(
                    Type::Dynamic,
                    Box::new(Value::Dynamic(
                        Type::list(Type::Bool),
                        Box::new(inner.clone()),
                    )),
                ),
            ] {
                assert_eq!(enc(&wrapped, &Type::Dynamic), expected);
                let in_object = Type::object([("d", Type::Dynamic)]);
                let bytes = enc(&obj([("d", wrapped)]), &in_object);
                assert_eq!(
                    decode(&bytes, &in_object).unwrap(),
                    obj([("d", inner.clone())])
                );
            }
        }
        assert_eq!(enc(&Value::Null, &Type::Dynamic), [0xc0]);
        assert_eq!(enc(&Value::Unknown, &Type::Dynamic), UNKNOWN_BYTES);
        // A typed null sent by a peer is kept with its type when decoding.
        let mut bytes = vec![0x92, 0xc4, 8];
        bytes.extend_from_slice(b"\"string\"");
        bytes.push(0xc0);
        assert_eq!(
            decode(&bytes, &Type::Dynamic).unwrap(),
            Value::Dynamic(Type::String, Box::new(Value::Null))
        );
    }

    #[test]
    fn decodes_every_number_width() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x05], "5"),
            (&[0xcc, 0xfe], "254"),
            (&[0xcd, 0xff, 0xfe], "65534"),
            (&[0xce, 0xff, 0xff, 0xff, 0xfe], "4294967294"),
            (
                &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
                "18446744073709551614",
            ),
            (&[0xd0, 0xfe], "-2"),
            (&[0xd1, 0xff, 0xfe], "-2"),
            (&[0xd2, 0xff, 0xff, 0xff, 0xfe], "-2"),
            (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], "-9223372036854775808"),
            (&[0xd0, 0x05], "5"),
            (&[0xf0], "-16"),
            (&[0xca, 0x3f, 0xc0, 0x00, 0x00], "1.5"),
            (&[0xca, 0xc0, 0x20, 0x00, 0x00], "-2.5"),
            (
                &[0xcb, 0x40, 0x09, 0x21, 0xf9, 0xf0, 0x1b, 0x86, 0x6e],
                "3.14159",
            ),
            (&[0xa4, b'1', b'e', b'2', b'0'], "100000000000000000000"),
            (&[0xc4, 0x03, b'-', b'.', b'5'], "-0.5"),
        ];
        for (bytes, expected) in cases {
            let got = decode(bytes, &Type::Number).unwrap();
            let Value::Number(n) = &got else {
                panic!("{got:?}")
            };
            if bytes[0] == 0xcb {
                assert_eq!(n.as_f64(), expected.parse::<f64>().unwrap());
            } else {
                assert_eq!(got, num(expected), "{bytes:02x?}");
            }
        }
        // NaN and bad strings are errors, not panics.
        assert!(decode(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], &Type::Number).is_err());
        assert!(matches!(
            decode(&[0xa3, b'a', b'b', b'c'], &Type::Number)
                .unwrap_err()
                .kind(),
            DecodeErrorKind::Number(_)
        ));
    }

    #[test]
    fn any_extension_is_unknown() {
        let cases: &[&[u8]] = &[
            &[0xd4, 0x00, 0x00],
            &[0xd4, 0x05, 0xaa],
            &[0xd5, 0x01, 0xaa, 0xbb],
            &[0xd6, 0x7f, 1, 2, 3, 4],
            &[0xd7, 0xff, 1, 2, 3, 4, 5, 6, 7, 8],
            &[0xd8, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0xc7, 0x00, 0x0c],
            // ext type 12 (refined unknown) with a map payload {1: false}
            &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
            &[0xc8, 0x00, 0x01, 0x0c, 0x80],
            &[0xc9, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x80],
        ];
        for bytes in cases {
            for ty in [
                Type::String,
                Type::Number,
                Type::Dynamic,
                Type::map(Type::String),
                Type::Object(BTreeMap::new()),
            ] {
                assert_eq!(
                    decode(bytes, &ty).unwrap(),
                    Value::Unknown,
                    "{bytes:02x?} as {ty}"
                );
            }
        }
        // An unknown nested in a list.
        assert_eq!(
            decode(
                &[0x92, 0xd4, 0x00, 0x00, 0xa1, b'z'],
                &Type::list(Type::String)
            )
            .unwrap(),
            Value::List(vec![Value::Unknown, s("z")])
        );
        // Truncated extension payload.
        assert_eq!(
            decode(&[0xd5, 0x00, 0x00], &Type::String)
                .unwrap_err()
                .kind(),
            &DecodeErrorKind::Truncated
        );
    }

    #[test]
    fn object_keys_missing_and_extra() {
        let ty = Type::object([
            ("a", Type::String),
            ("b", Type::list(Type::object([("c", Type::Bool)]))),
        ]);
        // Only "a" present: "b" is filled with null.
        let got = decode(&[0x81, 0xa1, b'a', 0xa1, b'x'], &ty).unwrap();
        assert_eq!(got, obj([("a", s("x")), ("b", Value::Null)]));
        // An unknown key is an error naming it.
        let err = decode(&[0x81, 0xa3, b'z', b'z', b'z', 0xc0], &ty).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::UnsupportedAttribute("zzz".into())
        );
        assert!(err.to_string().contains("\"zzz\""), "{err}");
        // ... and nested, with a path.
        let err = decode(
            &[
                0x81, 0xa1, b'b', 0x92, 0x81, 0xa1, b'c', 0xc3, 0x81, 0xa1, b'd', 0xc3,
            ],
            &ty,
        )
        .unwrap_err();
        assert_eq!(err.path(), ".b[1]");
        assert_eq!(err.to_string(), "at .b[1]: unsupported attribute \"d\"");
        // Duplicate key.
        let err = decode(&[0x82, 0xa1, b'a', 0xc0, 0xa1, b'a', 0xc0], &ty).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::DuplicateKey("a".into()));
    }

    #[test]
    fn mismatches_say_where_and_what() {
        let ty = Type::object([("a", Type::list(Type::object([("b", Type::Number)])))]);
        let bytes = [0x81, 0xa1, b'a', 0x91, 0x81, 0xa1, b'b', 0xc3];
        let err = decode(&bytes, &ty).unwrap_err();
        assert_eq!(err.path(), ".a[0].b");
        assert_eq!(err.to_string(), "at .a[0].b: expected number, found bool");

        let err = decode(&[0x92, 0x01, 0x02], &Type::tuple([Type::Number])).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::TupleLength {
                expected: 1,
                found: 2
            }
        );
        let err = decode(&[0x81, 0xa1, b'k', 0x01], &Type::map(Type::String)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "at [\"k\"]: expected string, found integer"
        );
        assert_eq!(
            decode(&[0xc0, 0xc0], &Type::String).unwrap_err().kind(),
            &DecodeErrorKind::TrailingBytes(1)
        );
        assert_eq!(
            decode(&[], &Type::String).unwrap_err().kind(),
            &DecodeErrorKind::Truncated
        );
        assert_eq!(
            decode(&[0xc1], &Type::String).unwrap_err().kind(),
            &DecodeErrorKind::InvalidMarker(0xc1)
        );
        assert_eq!(
            decode(&[0xa2, 0xff, 0xfe], &Type::String)
                .unwrap_err()
                .kind(),
            &DecodeErrorKind::InvalidUtf8
        );
        let err = decode(
            &[0x92, 0xa5, b'"', b'f', b'o', b'o', b'"', 0xc0],
            &Type::Dynamic,
        )
        .unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::DynamicType(_)));

        let err = encode(&obj([("a", Value::List(vec![obj([("b", s("x"))])]))]), &ty).unwrap_err();
        assert_eq!(err.to_string(), "at .a[0].b: expected number, found string");
        let err = encode(&Value::Tuple(vec![]), &Type::tuple([Type::Bool])).unwrap_err();
        assert_eq!(
            err.kind(),
            &EncodeErrorKind::TupleLength {
                expected: 1,
                found: 0
            }
        );
    }

    #[test]
    fn huge_lengths_do_not_preallocate() {
        // array32 claiming 4 billion elements with 1 byte of input.
        let err = decode(
            &[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01],
            &Type::list(Type::Number),
        )
        .unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::Truncated);
        assert_eq!(err.path(), "[1]");
        let err = decode(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'], &Type::String).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::Truncated);
        let err = decode(&[0xdf, 0xff, 0xff, 0xff, 0xff], &Type::map(Type::String)).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::Truncated);
    }

    /// Builds a dynamic value nested `levels` deep: [`"dynamic"`, [`"dynamic"`, ... nil]].
    fn nested_dynamic(levels: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for _ in 0..levels {
            bytes.extend_from_slice(&[0x92, 0xc4, 9]);
            bytes.extend_from_slice(b"\"dynamic\"");
        }
        bytes.push(0xc0);
        bytes
    }

    #[test]
    fn depth_is_bounded() {
        assert!(decode(&nested_dynamic(10), &Type::Dynamic).is_ok());
        let err = decode(&nested_dynamic(100_000), &Type::Dynamic).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::TooDeep);

        // Deep arrays against a deep list type.
        let mut ty = Type::Number;
        for _ in 0..(MAX_VALUE_DEPTH + 5) {
            ty = Type::list(ty);
        }
        let mut bytes = vec![0x91; MAX_VALUE_DEPTH + 5];
        bytes.push(0x01);
        assert_eq!(
            decode(&bytes, &ty).unwrap_err().kind(),
            &DecodeErrorKind::TooDeep
        );
        let mut deep_value = num("1");
        for _ in 0..(MAX_VALUE_DEPTH + 5) {
            deep_value = Value::List(vec![deep_value]);
        }
        assert_eq!(
            encode(&deep_value, &ty).unwrap_err().kind(),
            &EncodeErrorKind::TooDeep
        );
    }

    /// xorshift64*: deterministic pseudo-random bytes without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A pseudo-random value of type `ty` (unknowns and nulls included).
    fn random_value(ty: &Type, rng: &mut Rng, depth: usize) -> Value {
        match rng.below(12) {
            0 => return Value::Null,
            1 => return Value::Unknown,
            _ => {}
        }
        let len = if depth > 3 { 0 } else { rng.below(4) };
        match ty {
            Type::String => {
                Value::String(["", "a", "hello", "ünï", "x y"][rng.below(5)].to_owned())
            }
            Type::Number => {
                let texts = [
                    "0",
                    "-1",
                    "127",
                    "-33",
                    "65536",
                    "1.5",
                    "0.1",
                    "-1e30",
                    "18446744073709551615",
                    "123456789012345678901234567890.123456789",
                ];
                num(texts[rng.below(texts.len())])
            }
            Type::Bool => Value::Bool(rng.below(2) == 1),
            Type::List(e) => {
                Value::List((0..len).map(|_| random_value(e, rng, depth + 1)).collect())
            }
            Type::Set(e) => Value::Set((0..len).map(|_| random_value(e, rng, depth + 1)).collect()),
            Type::Map(e) => Value::Map(
                (0..len)
                    .map(|i| (format!("k{i}"), random_value(e, rng, depth + 1)))
                    .collect(),
            ),
            Type::Object(attrs) => Value::Object(
                attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), random_value(t, rng, depth + 1)))
                    .collect(),
            ),
            Type::Tuple(types) => Value::Tuple(
                types
                    .iter()
                    .map(|t| random_value(t, rng, depth + 1))
                    .collect(),
            ),
            Type::Dynamic => {
                let choices = [
                    Type::String,
                    Type::Number,
                    Type::list(Type::Bool),
                    Type::object([("o", Type::Dynamic)]),
                ];
                let concrete = choices[rng.below(if depth > 3 { 3 } else { 4 })].clone();
                let inner = random_value(&concrete, rng, depth + 1);
                // Null and unknown are written bare, so they decode unwrapped.
                if matches!(inner, Value::Null | Value::Unknown) {
                    return inner;
                }
                Value::Dynamic(concrete, Box::new(inner))
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let types = [
            Type::Dynamic,
            Type::String,
            Type::Number,
            Type::list(Type::Dynamic),
            Type::map(Type::list(Type::Number)),
            Type::tuple([Type::String, Type::set(Type::Bool)]),
            Type::object([
                ("a", Type::String),
                ("b", Type::list(Type::object([("c", Type::Dynamic)]))),
                ("d", Type::map(Type::Number)),
            ]),
        ];
        let sample = obj([
            ("a", s("hello")),
            (
                "b",
                Value::List(vec![obj([(
                    "c",
                    Value::Dynamic(
                        Type::list(Type::Number),
                        Box::new(Value::List(vec![num("1.5"), num("0.1")])),
                    ),
                )])]),
            ),
            ("d", Value::Map([("k".to_owned(), num("-70000"))].into())),
        ]);
        let seed_bytes = enc(&sample, &types[6]);
        let mut seeds = vec![
            seed_bytes,
            nested_dynamic(50),
            vec![0x91; 5000],
            vec![0xdd, 0xff, 0xff, 0xff, 0xff],
        ];
        seeds.push([vec![0x81; 3000], vec![0xa1, b'a']].concat());

        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..3000 {
            let len = rng.below(64);
            inputs.push((0..len).map(|_| rng.next() as u8).collect());
        }
        // Valid encodings of random values: they must round-trip, and mutating them
        // exercises the decoder deep inside well-formed structure.
        for ty in &types {
            for _ in 0..100 {
                let value = random_value(ty, &mut rng, 0);
                let bytes = enc(&value, ty);
                assert_eq!(decode(&bytes, ty).unwrap(), value, "round trip as {ty}");
                seeds.push(bytes);
            }
        }
        for seed in &seeds {
            inputs.push(seed.clone());
            for _ in 0..20 {
                let mut m = seed.clone();
                for _ in 0..=rng.below(4) {
                    match rng.below(4) {
                        0 if !m.is_empty() => {
                            let i = rng.below(m.len());
                            m[i] = rng.next() as u8;
                        }
                        1 if !m.is_empty() => {
                            let i = rng.below(m.len());
                            m.truncate(i);
                        }
                        2 => {
                            let i = rng.below(m.len() + 1);
                            m.insert(i, rng.next() as u8);
                        }
                        _ if !m.is_empty() => {
                            let i = rng.below(m.len());
                            m.remove(i);
                        }
                        _ => {}
                    }
                }
                inputs.push(m);
            }
        }
        let mut decoded = 0;
        for input in &inputs {
            for ty in &types {
                if let Ok(value) = decode(input, ty) {
                    decoded += 1;
                    // Whatever decodes must re-encode, and re-encoding is canonical: a
                    // second decode/encode cycle reproduces the same bytes.
                    let again = encode(&value, ty).unwrap();
                    let value2 = decode(&again, ty).unwrap();
                    assert_eq!(encode(&value2, ty).unwrap(), again);
                }
            }
        }
        // The mutated seeds must exercise the success path too.
        assert!(decoded > 1000, "only {decoded} inputs decoded");
    }
}
