//! Checks over the state after a step, like terraform-plugin-testing's `statecheck`. Each
//! returns a [`StateCheck`] for [`crate::Step::state_checks`] (or
//! [`crate::TestCase::check_destroy`]); [`crate::State`]'s `expect_*` methods are the same
//! checks as plain functions.

use serde_json::Value;

use super::StateCheck;
use crate::state::{lookup, State};

/// Expects `path` of `address` to equal `expected` (sensitive values are not printed).
pub fn expect_known_value(
    address: impl Into<String>,
    path: impl Into<String>,
    expected: impl Into<Value>,
) -> StateCheck {
    let (address, path, expected) = (address.into(), path.into(), expected.into());
    StateCheck::sync(move |state: &State| state.expect_attr(&address, &path, expected.clone()))
}

/// Expects `path` of `address` to be set: present, not null, not an empty string.
pub fn expect_value_set(address: impl Into<String>, path: impl Into<String>) -> StateCheck {
    let (address, path) = (address.into(), path.into());
    StateCheck::sync(move |state: &State| state.expect_attr_set(&address, &path))
}

/// Checks that `path` of `address` is marked sensitive in the state.
pub fn expect_sensitive_value_in(state: &State, address: &str, path: &str) -> Result<(), String> {
    let resource = state
        .resource(address)
        .ok_or_else(|| format!("resource {address} is not in the state"))?;
    let mut mask = &resource.sensitive_values;
    if mask == &Value::Bool(true) {
        return Ok(());
    }
    for part in path.split('.') {
        match lookup(mask, part) {
            Some(Value::Bool(true)) => return Ok(()),
            Some(inner) => mask = inner,
            None => break,
        }
    }
    Err(format!(
        "{address}.{path}: expected a sensitive value, the state does not mark it"
    ))
}

/// Expects `path` of `address` to be marked sensitive in the state.
pub fn expect_sensitive_value(address: impl Into<String>, path: impl Into<String>) -> StateCheck {
    let (address, path) = (address.into(), path.into());
    StateCheck::sync(move |state: &State| expect_sensitive_value_in(state, &address, &path))
}

/// Expects no resource instance at `address`.
pub fn expect_no_resource(address: impl Into<String>) -> StateCheck {
    let address = address.into();
    StateCheck::sync(move |state: &State| state.expect_no_resource(&address))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_values_by_path_and_parent() {
        let state = State::from_json(json!({"values": {"root_module": {"resources": [
            {"address": "t.x", "mode": "managed", "type": "t",
             "values": {"pw": "secret", "name": "a", "block": [{"token": "t"}], "all": {"k": "v"}},
             "sensitive_values": {"pw": true, "block": [{"token": true}], "all": true}}
        ]}}}));
        expect_sensitive_value_in(&state, "t.x", "pw").unwrap();
        expect_sensitive_value_in(&state, "t.x", "block.0.token").unwrap();
        expect_sensitive_value_in(&state, "t.x", "all.k").unwrap();
        assert!(expect_sensitive_value_in(&state, "t.x", "name").is_err());
        assert!(expect_sensitive_value_in(&state, "t.y", "pw").is_err());
    }
}
