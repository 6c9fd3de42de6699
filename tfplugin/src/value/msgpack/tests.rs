//! Unit tests of the msgpack codec.

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
        Type::String => Value::String(["", "a", "hello", "ünï", "x y"][rng.below(5)].to_owned()),
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
        Type::List(e) => Value::List((0..len).map(|_| random_value(e, rng, depth + 1)).collect()),
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
