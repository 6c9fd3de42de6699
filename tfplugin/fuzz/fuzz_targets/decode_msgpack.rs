//! Feeds arbitrary bytes to the msgpack value decoder against a few fixed types.
//! The decoder must never panic, overflow the stack or allocate beyond the input;
//! whatever it accepts must re-encode, and re-encoding must be canonical.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tfplugin::value::{msgpack, Type};

fn types() -> Vec<Type> {
    vec![
        Type::Dynamic,
        Type::Number,
        Type::list(Type::Dynamic),
        Type::map(Type::set(Type::String)),
        Type::tuple([Type::Bool, Type::Number, Type::Dynamic]),
        Type::object([
            ("id", Type::String),
            ("count", Type::Number),
            ("tags", Type::map(Type::String)),
            ("items", Type::list(Type::object([("v", Type::Dynamic)]))),
        ]),
    ]
}

fuzz_target!(|data: &[u8]| {
    for ty in types() {
        if let Ok(value) = msgpack::decode(data, &ty) {
            // Re-encoding is canonical (typed nulls and unknowns under a dynamic type
            // are written bare), so one more decode/encode cycle must be a fixpoint.
            let bytes = msgpack::encode(&value, &ty).expect("a decoded value re-encodes");
            let again = msgpack::decode(&bytes, &ty).expect("re-encoded bytes decode");
            let bytes_again = msgpack::encode(&again, &ty).expect("re-decoded value re-encodes");
            assert_eq!(bytes_again, bytes);
        }
    }
});
