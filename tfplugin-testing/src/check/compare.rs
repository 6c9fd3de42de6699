//! [`CompareValue`]: one value compared across steps, like terraform-plugin-testing's
//! `statecheck.CompareValue` (an id that must survive an update, or change on replacement).

use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::StateCheck;
use crate::state::State;

/// How each recorded value must relate to the ones recorded before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Every value equals the first.
    Same,
    /// Every value differs from each earlier one.
    Different,
}

/// Values collected by [`CompareValue::add`] in the steps that run it, compared as they come.
/// Clones share the recorded values.
#[derive(Debug, Clone)]
pub struct CompareValue {
    comparison: Comparison,
    seen: Arc<Mutex<Vec<(String, Value)>>>,
}

impl CompareValue {
    /// A comparison with nothing recorded yet.
    pub fn new(comparison: Comparison) -> Self {
        CompareValue {
            comparison,
            seen: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Values that must stay the same.
    pub fn same() -> Self {
        CompareValue::new(Comparison::Same)
    }

    /// Values that must all differ.
    pub fn different() -> Self {
        CompareValue::new(Comparison::Different)
    }

    /// A state check recording `path` of `address` and comparing it with the values recorded
    /// by the earlier steps. The value must be present and not null.
    pub fn add(&self, address: impl Into<String>, path: impl Into<String>) -> StateCheck {
        let this = self.clone();
        let (address, path) = (address.into(), path.into());
        StateCheck::sync(move |state: &State| this.record(state, &address, &path))
    }

    /// Records `path` of `address` in `state` and compares it (what [`Self::add`] runs).
    pub fn record(&self, state: &State, address: &str, path: &str) -> Result<(), String> {
        let value = match state.attr(address, path) {
            None | Some(Value::Null) => return Err(format!("{address}.{path} is not set")),
            Some(value) => value,
        };
        let label = format!("{address}.{path}");
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| "an earlier comparison panicked".to_string())?;
        let sensitive = state
            .resource(address)
            .and_then(|r| crate::state::lookup(&r.sensitive_values, path).cloned())
            .is_some_and(|mask| mask != Value::Bool(false));
        let show = |v: &Value| {
            if sensitive {
                "(sensitive)".to_string()
            } else {
                v.to_string()
            }
        };
        let result = match self.comparison {
            Comparison::Same => match seen.first() {
                Some((first_label, first)) if first != &value => Err(format!(
                    "{label} is {}, expected the same value as {first_label} earlier ({})",
                    show(&value),
                    show(first)
                )),
                _ => Ok(()),
            },
            Comparison::Different => match seen.iter().find(|(_, v)| v == &value) {
                Some((earlier, _)) => Err(format!(
                    "{label} is {}, expected a value different from {earlier} earlier",
                    show(&value)
                )),
                None => Ok(()),
            },
        };
        seen.push((label, value));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(id: &str) -> State {
        State::from_json(json!({"values": {"root_module": {"resources": [
            {"address": "t.x", "mode": "managed", "type": "t", "values": {"id": id}, "sensitive_values": {}}
        ]}}}))
    }

    #[test]
    fn same_and_different_across_steps() {
        let same = CompareValue::same();
        same.record(&state("1"), "t.x", "id").unwrap();
        same.record(&state("1"), "t.x", "id").unwrap();
        let err = same.record(&state("2"), "t.x", "id").unwrap_err();
        assert!(err.contains("expected the same value"), "{err}");

        let different = CompareValue::different();
        different.record(&state("1"), "t.x", "id").unwrap();
        different.record(&state("2"), "t.x", "id").unwrap();
        assert!(different.record(&state("1"), "t.x", "id").is_err());
        assert!(different.record(&state("3"), "t.x", "missing").is_err());
    }
}
