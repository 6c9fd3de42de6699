//! Plans as `terraform show -json PLANFILE` prints them.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::HarnessError;
use crate::state::lookup;
use crate::workspace::Workspace;

/// A parsed JSON plan.
#[derive(Debug, Clone)]
pub struct Plan {
    raw: Value,
}

/// One entry of a plan's `resource_changes`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// Full resource instance address.
    pub address: String,
    /// Actions: `["no-op"]`, `["create"]`, `["update"]`, `["delete"]`, `["read"]`,
    /// `["delete","create"]` or `["create","delete"]`.
    pub actions: Vec<String>,
    /// Prior values (null on create).
    pub before: Value,
    /// Planned values, with unknown values absent or null.
    pub after: Value,
    /// Mask of values unknown until apply.
    pub after_unknown: Value,
    /// Terraform's sensitivity mask for `after` (true where a value is sensitive).
    pub after_sensitive: Value,
}

/// What a plan does to one resource instance, from its `actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `["no-op"]`.
    NoOp,
    /// `["create"]`.
    Create,
    /// `["read"]` (a data source read during apply).
    Read,
    /// `["update"]`: in place.
    Update,
    /// `["delete", "create"]`: replaced, the old object destroyed first.
    DestroyBeforeCreate,
    /// `["create", "delete"]`: replaced, the new object created first.
    CreateBeforeDestroy,
    /// `["delete"]`.
    Delete,
}

impl Action {
    /// The action of Terraform's `actions` list, `None` for a list Terraform does not print.
    pub fn from_actions<S: AsRef<str>>(actions: &[S]) -> Option<Action> {
        let actions: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
        Some(match actions.as_slice() {
            ["no-op"] => Action::NoOp,
            ["create"] => Action::Create,
            ["read"] => Action::Read,
            ["update"] => Action::Update,
            ["delete", "create"] => Action::DestroyBeforeCreate,
            ["create", "delete"] => Action::CreateBeforeDestroy,
            ["delete"] => Action::Delete,
            _ => return None,
        })
    }

    /// True for both orders of replacement.
    pub fn is_replace(self) -> bool {
        matches!(
            self,
            Action::DestroyBeforeCreate | Action::CreateBeforeDestroy
        )
    }
}

impl Plan {
    /// Wraps the parsed JSON document.
    pub fn from_json(raw: Value) -> Self {
        Plan { raw }
    }

    /// The raw JSON document.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Every resource change, no-ops included.
    pub fn resource_changes(&self) -> Vec<ResourceChange> {
        let Some(changes) = self.raw.get("resource_changes").and_then(Value::as_array) else {
            return Vec::new();
        };
        changes
            .iter()
            .map(|c| {
                let change = c.get("change").cloned().unwrap_or(Value::Null);
                ResourceChange {
                    address: c
                        .get("address")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    actions: change
                        .get("actions")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    before: change.get("before").cloned().unwrap_or(Value::Null),
                    after: change.get("after").cloned().unwrap_or(Value::Null),
                    after_unknown: change.get("after_unknown").cloned().unwrap_or(Value::Null),
                    after_sensitive: change
                        .get("after_sensitive")
                        .cloned()
                        .unwrap_or(Value::Null),
                }
            })
            .collect()
    }

    /// The change of `address`, if the plan mentions it.
    pub fn change(&self, address: &str) -> Option<ResourceChange> {
        self.resource_changes()
            .into_iter()
            .find(|c| c.address == address)
    }

    /// The changes whose actions are not `no-op` (nor `read` of a data source).
    pub fn effective_changes(&self) -> Vec<ResourceChange> {
        self.resource_changes()
            .into_iter()
            .filter(|c| !c.is_no_op())
            .collect()
    }
}

impl ResourceChange {
    /// The action, `None` when Terraform printed an unexpected list.
    pub fn action(&self) -> Option<Action> {
        Action::from_actions(&self.actions)
    }

    /// The planned value at a dotted `path` (`name`, `vars.KEY`, `rules.0.port`), `None` when
    /// absent (an unknown value is absent or null in `after`; see [`Self::is_unknown`]).
    pub fn after_value(&self, path: &str) -> Option<&Value> {
        lookup(&self.after, path)
    }

    /// The prior value at a dotted `path`.
    pub fn before_value(&self, path: &str) -> Option<&Value> {
        lookup(&self.before, path)
    }

    /// True when the value at `path` is unknown until apply (the path itself or a parent is
    /// marked in `after_unknown`).
    pub fn is_unknown(&self, path: &str) -> bool {
        mask_marks(&self.after_unknown, path)
    }

    /// True when the planned value at `path` is sensitive (the path or a parent is marked in
    /// `after_sensitive`).
    pub fn is_sensitive(&self, path: &str) -> bool {
        mask_marks(&self.after_sensitive, path)
    }

    /// True for `no-op` and `read`.
    pub fn is_no_op(&self) -> bool {
        self.actions.iter().all(|a| a == "no-op" || a == "read")
    }

    /// Top-level attribute names the change touches: values that differ between `before` and
    /// `after`, plus values unknown until apply.
    pub fn changed_attributes(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let empty = serde_json::Map::new();
        let before = self.before.as_object().unwrap_or(&empty);
        let after = self.after.as_object().unwrap_or(&empty);
        for key in before.keys().chain(after.keys()) {
            let b = before.get(key).unwrap_or(&Value::Null);
            let a = after.get(key).unwrap_or(&Value::Null);
            if a != b {
                names.insert(key.clone());
            }
        }
        if let Some(unknown) = self.after_unknown.as_object() {
            for (key, mask) in unknown {
                if mask_has_true(mask) {
                    names.insert(key.clone());
                }
            }
        }
        names
    }
}

/// True when `mask` holds `true` at `path` or at one of its parents.
fn mask_marks(mask: &Value, path: &str) -> bool {
    if mask == &Value::Bool(true) {
        return true;
    }
    let mut current = mask;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let next = match current {
            Value::Object(map) => map.get(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(Value::Bool(true)) => return true,
            Some(value) => current = value,
            None => return false,
        }
    }
    false
}

fn mask_has_true(mask: &Value) -> bool {
    match mask {
        Value::Bool(b) => *b,
        Value::Array(items) => items.iter().any(mask_has_true),
        Value::Object(map) => map.values().any(mask_has_true),
        _ => false,
    }
}

/// Plans `workspace` (with refresh) into a plan file and returns it as JSON, so a test can
/// assert exactly which attributes a configuration change touches.
pub async fn plan_json(workspace: &Workspace<'_>) -> Result<Plan, HarnessError> {
    workspace.plan_json(true).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_changed_and_unknown_attributes() {
        let plan = Plan::from_json(json!({"resource_changes": [
            {"address": "a.x", "change": {"actions": ["update"],
                "before": {"name": "x", "size": 1, "id": "1", "vars": {"A": "1"}},
                "after": {"name": "x", "size": 2, "id": "1", "vars": {"A": "1"}},
                "after_unknown": {"vars": {}, "updated_at": true}}},
            {"address": "a.y", "change": {"actions": ["no-op"], "before": {}, "after": {}, "after_unknown": {}}}
        ]}));
        let change = plan.change("a.x").unwrap();
        assert_eq!(
            change.changed_attributes().into_iter().collect::<Vec<_>>(),
            vec!["size".to_string(), "updated_at".to_string()]
        );
        assert_eq!(plan.effective_changes().len(), 1);
        assert!(plan.change("a.y").unwrap().is_no_op());
        assert!(Plan::from_json(json!({})).resource_changes().is_empty());
        assert_eq!(change.action(), Some(Action::Update));
        assert!(change.is_unknown("updated_at"));
        assert!(!change.is_unknown("size"));
        assert_eq!(change.after_value("vars.A"), Some(&json!("1")));
    }

    #[test]
    fn masks_mark_nested_values_and_whole_parents() {
        let change = ResourceChange {
            address: "a.x".into(),
            actions: vec!["create".into()],
            before: Value::Null,
            after: json!({"block": [{"port": 1}]}),
            after_unknown: json!({"block": [{"id": true}], "all": true}),
            after_sensitive: json!({"secret": true, "block": [{}]}),
        };
        assert!(change.is_unknown("block.0.id"));
        assert!(change.is_unknown("all.anything"));
        assert!(!change.is_unknown("block.0.port"));
        assert!(change.is_sensitive("secret"));
        assert!(!change.is_sensitive("block.0.port"));
        assert_eq!(
            Action::from_actions(&["create", "delete"]),
            Some(Action::CreateBeforeDestroy)
        );
        assert!(Action::CreateBeforeDestroy.is_replace());
        assert_eq!(Action::from_actions(&["dance"]), None);
    }
}
