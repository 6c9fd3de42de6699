//! Attribute plan modifiers: values that adjust one attribute's planned value.

use crate::diag::{AttributePath, Diagnostics};
use crate::value::Value;

/// What a plan modifier sees of one attribute.
#[derive(Debug)]
pub struct AttributePlan<'a> {
    /// The attribute's path.
    pub path: &'a AttributePath,
    /// Its configuration value (may be unknown or null).
    pub config: &'a Value,
    /// Its prior state value; `None` when the resource is being created.
    pub prior: Option<&'a Value>,
    /// Its planned value so far; a modifier may replace it.
    pub planned: Value,
    /// Set to true when a change of this attribute must replace the resource.
    pub requires_replace: bool,
    /// Problems found.
    pub diagnostics: Diagnostics,
}

/// Adjusts the planned value of one attribute.
pub trait PlanModifier: Send + Sync {
    /// What the modifier does, in words.
    fn description(&self) -> String;

    /// Adjusts `plan`.
    fn modify(&self, plan: &mut AttributePlan<'_>);
}

/// Keeps the prior state value of a computed attribute instead of showing
/// "(known after apply)", for values that never change once set (ids).
#[derive(Debug, Clone, Copy)]
pub struct UseStateForUnknown;

impl PlanModifier for UseStateForUnknown {
    fn description(&self) -> String {
        "once set, the value does not change".into()
    }

    fn modify(&self, plan: &mut AttributePlan<'_>) {
        let Some(prior) = plan.prior else { return };
        if prior.is_null() || !plan.planned.is_unknown() || plan.config.is_unknown() {
            return;
        }
        plan.planned = prior.clone();
    }
}

/// A change of the attribute replaces the resource.
#[derive(Debug, Clone, Copy)]
pub struct RequiresReplace;

impl PlanModifier for RequiresReplace {
    fn description(&self) -> String {
        "a change forces a new resource".into()
    }

    fn modify(&self, plan: &mut AttributePlan<'_>) {
        let Some(prior) = plan.prior else { return };
        if &plan.planned != prior {
            plan.requires_replace = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan<'a>(
        path: &'a AttributePath,
        config: &'a Value,
        prior: Option<&'a Value>,
        planned: Value,
    ) -> AttributePlan<'a> {
        AttributePlan {
            path,
            config,
            prior,
            planned,
            requires_replace: false,
            diagnostics: Diagnostics::new(),
        }
    }

    #[test]
    fn use_state_for_unknown_only_on_update_with_unknown_plan() {
        let path = AttributePath::root("id");
        let prior = Value::String("42".into());
        let mut p = plan(&path, &Value::Null, Some(&prior), Value::Unknown);
        UseStateForUnknown.modify(&mut p);
        assert_eq!(p.planned, prior);
        let mut p = plan(&path, &Value::Null, None, Value::Unknown);
        UseStateForUnknown.modify(&mut p);
        assert_eq!(p.planned, Value::Unknown);
    }

    #[test]
    fn requires_replace_only_when_changed() {
        let path = AttributePath::root("name");
        let prior = Value::String("a".into());
        let mut p = plan(&path, &Value::Null, Some(&prior), Value::String("a".into()));
        RequiresReplace.modify(&mut p);
        assert!(!p.requires_replace);
        let mut p = plan(&path, &Value::Null, Some(&prior), Value::String("b".into()));
        RequiresReplace.modify(&mut p);
        assert!(p.requires_replace);
        let mut p = plan(&path, &Value::Null, None, Value::String("b".into()));
        RequiresReplace.modify(&mut p);
        assert!(!p.requires_replace);
    }
}
