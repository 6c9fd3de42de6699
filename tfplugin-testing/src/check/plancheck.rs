//! Checks over the plan a step is about to apply, like terraform-plugin-testing's `plancheck`.
//! Each returns a [`PlanCheck`] for [`crate::Step::plan_checks`]; the `*_in` functions are the
//! same checks as plain functions, for a closure that checks more.

use serde_json::Value;

use super::PlanCheck;
use crate::plan::{Action, Plan, ResourceChange};

/// The action a check expects for a resource instance. `Replace` accepts either order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedAction {
    /// Nothing changes (`no-op`).
    NoOp,
    /// Created.
    Create,
    /// Updated in place.
    Update,
    /// Destroyed and created again, in either order.
    Replace,
    /// Replaced, the old object destroyed first.
    DestroyBeforeCreate,
    /// Replaced, the new object created first.
    CreateBeforeDestroy,
    /// Destroyed.
    Delete,
    /// A data source read during apply.
    Read,
}

impl ExpectedAction {
    fn accepts(self, action: Action) -> bool {
        match self {
            ExpectedAction::NoOp => action == Action::NoOp,
            ExpectedAction::Create => action == Action::Create,
            ExpectedAction::Update => action == Action::Update,
            ExpectedAction::Replace => action.is_replace(),
            ExpectedAction::DestroyBeforeCreate => action == Action::DestroyBeforeCreate,
            ExpectedAction::CreateBeforeDestroy => action == Action::CreateBeforeDestroy,
            ExpectedAction::Delete => action == Action::Delete,
            ExpectedAction::Read => action == Action::Read,
        }
    }
}

fn change_of<'p>(plan: &'p [ResourceChange], address: &str) -> Result<&'p ResourceChange, String> {
    plan.iter()
        .find(|c| c.address == address)
        .ok_or_else(|| format!("{address} is not in the plan"))
}

/// Checks that the plan does `expected` to `address`.
pub fn expect_resource_action_in(
    plan: &Plan,
    address: &str,
    expected: ExpectedAction,
) -> Result<(), String> {
    let changes = plan.resource_changes();
    let change = change_of(&changes, address)?;
    match change.action() {
        Some(action) if expected.accepts(action) => Ok(()),
        _ => Err(format!(
            "{address}: expected {expected:?}, the plan does {:?}",
            change.actions
        )),
    }
}

/// Expects the plan to do `expected` to `address`.
pub fn expect_resource_action(address: impl Into<String>, expected: ExpectedAction) -> PlanCheck {
    let address = address.into();
    PlanCheck::sync(move |plan| expect_resource_action_in(plan, &address, expected))
}

/// Checks that the plan changes nothing (every resource a no-op or a read; no output change).
pub fn expect_empty_plan_in(plan: &Plan) -> Result<(), String> {
    let effective: Vec<String> = plan
        .effective_changes()
        .into_iter()
        .map(|c| format!("{} {:?}", c.address, c.actions))
        .collect();
    let outputs: Vec<String> = plan
        .raw()
        .get("output_changes")
        .and_then(Value::as_object)
        .map(|outputs| {
            outputs
                .iter()
                .filter(|(_, change)| change["actions"] != serde_json::json!(["no-op"]))
                .map(|(name, change)| format!("output {name} {}", change["actions"]))
                .collect()
        })
        .unwrap_or_default();
    if effective.is_empty() && outputs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "expected an empty plan, it changes: {}",
            [effective, outputs].concat().join(", ")
        ))
    }
}

/// Expects the plan to change nothing.
pub fn expect_empty_plan() -> PlanCheck {
    PlanCheck::sync(expect_empty_plan_in)
}

/// Expects the plan to change something.
pub fn expect_non_empty_plan() -> PlanCheck {
    PlanCheck::sync(|plan: &Plan| match expect_empty_plan_in(plan) {
        Ok(()) => Err("expected a non-empty plan, the plan changes nothing".to_string()),
        Err(_) => Ok(()),
    })
}

/// Checks that the planned value at `path` of `address` is known and equals `expected`
/// (sensitive values are not printed when they differ).
pub fn expect_known_value_in(
    plan: &Plan,
    address: &str,
    path: &str,
    expected: &Value,
) -> Result<(), String> {
    let changes = plan.resource_changes();
    let change = change_of(&changes, address)?;
    if change.is_unknown(path) {
        return Err(format!(
            "{address}.{path}: expected {expected}, the value is unknown until apply"
        ));
    }
    match change.after_value(path) {
        Some(actual) if actual == expected => Ok(()),
        _ if change.is_sensitive(path) => Err(format!(
            "{address}.{path}: the planned (sensitive) value differs from the expected one"
        )),
        Some(actual) => Err(format!(
            "{address}.{path}: expected {expected}, planned {actual}"
        )),
        None => Err(format!(
            "{address}.{path}: expected {expected}, the planned value is absent"
        )),
    }
}

/// Expects the planned value at `path` of `address` to be known and equal `expected`.
pub fn expect_known_value(
    address: impl Into<String>,
    path: impl Into<String>,
    expected: impl Into<Value>,
) -> PlanCheck {
    let (address, path, expected) = (address.into(), path.into(), expected.into());
    PlanCheck::sync(move |plan| expect_known_value_in(plan, &address, &path, &expected))
}

/// Checks that the value at `path` of `address` is unknown until apply.
pub fn expect_unknown_value_in(plan: &Plan, address: &str, path: &str) -> Result<(), String> {
    let changes = plan.resource_changes();
    let change = change_of(&changes, address)?;
    if change.is_unknown(path) {
        Ok(())
    } else if change.is_sensitive(path) {
        Err(format!(
            "{address}.{path}: expected an unknown value, it is known"
        ))
    } else {
        Err(format!(
            "{address}.{path}: expected an unknown value, it is known: {}",
            change.after_value(path).unwrap_or(&Value::Null)
        ))
    }
}

/// Expects the value at `path` of `address` to be unknown until apply.
pub fn expect_unknown_value(address: impl Into<String>, path: impl Into<String>) -> PlanCheck {
    let (address, path) = (address.into(), path.into());
    PlanCheck::sync(move |plan| expect_unknown_value_in(plan, &address, &path))
}

/// Checks that the planned value at `path` of `address` is marked sensitive.
pub fn expect_sensitive_value_in(plan: &Plan, address: &str, path: &str) -> Result<(), String> {
    let changes = plan.resource_changes();
    let change = change_of(&changes, address)?;
    if change.is_sensitive(path) {
        Ok(())
    } else {
        Err(format!(
            "{address}.{path}: expected a sensitive value, the plan does not mark it"
        ))
    }
}

/// Expects the planned value at `path` of `address` to be marked sensitive.
pub fn expect_sensitive_value(address: impl Into<String>, path: impl Into<String>) -> PlanCheck {
    let (address, path) = (address.into(), path.into());
    PlanCheck::sync(move |plan| expect_sensitive_value_in(plan, &address, &path))
}

/// Checks that the change of `address` touches exactly `attributes` (top-level names, in any
/// order): values that differ between before and after, or are unknown until apply.
pub fn expect_changed_attributes_in(
    plan: &Plan,
    address: &str,
    attributes: &[&str],
) -> Result<(), String> {
    let changes = plan.resource_changes();
    let change = change_of(&changes, address)?;
    let changed: Vec<String> = change.changed_attributes().into_iter().collect();
    let mut expected: Vec<String> = attributes.iter().map(|a| a.to_string()).collect();
    expected.sort();
    if changed == expected {
        Ok(())
    } else {
        Err(format!(
            "{address}: expected changes of {expected:?}, the plan changes {changed:?}"
        ))
    }
}

/// Expects the change of `address` to touch exactly `attributes`.
pub fn expect_changed_attributes<I, S>(address: impl Into<String>, attributes: I) -> PlanCheck
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let address = address.into();
    let attributes: Vec<String> = attributes.into_iter().map(Into::into).collect();
    PlanCheck::sync(move |plan| {
        let names: Vec<&str> = attributes.iter().map(String::as_str).collect();
        expect_changed_attributes_in(plan, &address, &names)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan() -> Plan {
        Plan::from_json(json!({
            "resource_changes": [
                {"address": "t.new", "change": {"actions": ["create"], "before": null,
                    "after": {"name": "a", "password": "pw-1234567"},
                    "after_unknown": {"id": true}, "after_sensitive": {"password": true}}},
                {"address": "t.moved", "change": {"actions": ["create", "delete"],
                    "before": {"name": "x"}, "after": {"name": "y"}, "after_unknown": {}}},
                {"address": "t.same", "change": {"actions": ["no-op"], "before": {}, "after": {}, "after_unknown": {}}}
            ],
            "output_changes": {"o": {"actions": ["no-op"]}}
        }))
    }

    #[test]
    fn resource_actions_match_by_address_and_replace_takes_either_order() {
        let plan = plan();
        expect_resource_action_in(&plan, "t.new", ExpectedAction::Create).unwrap();
        expect_resource_action_in(&plan, "t.moved", ExpectedAction::Replace).unwrap();
        expect_resource_action_in(&plan, "t.moved", ExpectedAction::CreateBeforeDestroy).unwrap();
        expect_resource_action_in(&plan, "t.same", ExpectedAction::NoOp).unwrap();
        let err = expect_resource_action_in(&plan, "t.moved", ExpectedAction::DestroyBeforeCreate)
            .unwrap_err();
        assert!(err.contains("[\"create\", \"delete\"]"), "{err}");
        let err = expect_resource_action_in(&plan, "t.gone", ExpectedAction::Delete).unwrap_err();
        assert!(err.contains("not in the plan"), "{err}");
    }

    #[test]
    fn known_unknown_and_sensitive_values() {
        let plan = plan();
        expect_known_value_in(&plan, "t.new", "name", &json!("a")).unwrap();
        let err = expect_known_value_in(&plan, "t.new", "id", &json!("1")).unwrap_err();
        assert!(err.contains("unknown until apply"), "{err}");
        let err = expect_known_value_in(&plan, "t.new", "password", &json!("x")).unwrap_err();
        assert!(!err.contains("pw-1234567"), "{err}");
        expect_unknown_value_in(&plan, "t.new", "id").unwrap();
        assert!(expect_unknown_value_in(&plan, "t.new", "name").is_err());
        let err = expect_unknown_value_in(&plan, "t.new", "password").unwrap_err();
        assert!(!err.contains("pw-1234567"), "{err}");
        expect_sensitive_value_in(&plan, "t.new", "password").unwrap();
        assert!(expect_sensitive_value_in(&plan, "t.new", "name").is_err());
    }

    #[test]
    fn empty_plans_and_changed_attributes() {
        let plan = plan();
        assert!(expect_empty_plan_in(&plan).unwrap_err().contains("t.new"));
        let empty = Plan::from_json(json!({"resource_changes": [
            {"address": "t.same", "change": {"actions": ["no-op"], "before": {}, "after": {}, "after_unknown": {}}}
        ], "output_changes": {"o": {"actions": ["no-op"]}}}));
        expect_empty_plan_in(&empty).unwrap();
        let output_only =
            Plan::from_json(json!({"output_changes": {"o": {"actions": ["update"]}}}));
        assert!(expect_empty_plan_in(&output_only)
            .unwrap_err()
            .contains("output o"));
        expect_changed_attributes_in(&plan, "t.moved", &["name"]).unwrap();
        assert!(expect_changed_attributes_in(&plan, "t.new", &["name"]).is_err());
    }
}
