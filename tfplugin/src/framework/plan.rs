//! The plan pipeline, obeying Terraform's rules for planned values.
//!
//! Order (as terraform-plugin-framework does it): start from the proposed new state;
//! plan defaults where configuration is null; if the plan differs from prior state, mark
//! computed attributes that configuration leaves null as unknown; run attribute plan
//! modifiers; then the resource's own `modify_plan`.

use std::collections::BTreeMap;

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::modifiers::AttributePlan;
use crate::schema::Block;
use crate::value::Value;

/// A resource plan under construction, as the resource's `modify_plan` sees it.
#[derive(Debug, Clone)]
pub struct ResourcePlan {
    config: BTreeMap<String, Value>,
    prior: Option<BTreeMap<String, Value>>,
    planned: BTreeMap<String, Value>,
    requires_replace: Vec<AttributePath>,
}

impl ResourcePlan {
    /// True when the resource does not exist yet.
    pub fn is_create(&self) -> bool {
        self.prior.is_none()
    }

    /// The configuration value of a top-level attribute (null when absent).
    pub fn config(&self, name: &str) -> &Value {
        self.config.get(name).unwrap_or(&Value::Null)
    }

    /// The prior state value of a top-level attribute; `None` on create.
    pub fn prior(&self, name: &str) -> Option<&Value> {
        self.prior
            .as_ref()
            .map(|p| p.get(name).unwrap_or(&Value::Null))
    }

    /// The planned value of a top-level attribute.
    pub fn planned(&self, name: &str) -> &Value {
        self.planned.get(name).unwrap_or(&Value::Null)
    }

    /// The planned string of a top-level attribute, when known.
    pub fn planned_str(&self, name: &str) -> Option<&str> {
        self.planned(name).as_str()
    }

    /// Sets the planned value of a top-level attribute. Only computed attributes (or values
    /// equal to configuration) may be planned: Terraform rejects anything else.
    pub fn set_planned(&mut self, name: &str, value: Value) {
        self.planned.insert(name.to_string(), value);
    }

    /// Marks a top-level attribute unknown ("known after apply").
    pub fn set_unknown(&mut self, name: &str) {
        self.set_planned(name, Value::Unknown);
    }

    /// Says a change of `name` replaces the resource.
    pub fn require_replace(&mut self, name: &str) {
        let path = AttributePath::root(name);
        if !self.requires_replace.contains(&path) {
            self.requires_replace.push(path);
        }
    }

    /// True when the planned object differs from prior state (always true on create).
    pub fn has_changes(&self) -> bool {
        match &self.prior {
            None => true,
            Some(prior) => prior != &self.planned,
        }
    }
}

/// The outcome of the framework's part of planning, before `modify_plan`.
pub(crate) fn plan_attributes(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> Result<(ResourcePlan, Diagnostics), Diagnostics> {
    let as_object = |value: &Value, what: &str| -> Result<BTreeMap<String, Value>, Diagnostics> {
        match value {
            Value::Object(entries) => Ok(entries.clone()),
            _ => Err(
                Diagnostic::error("Internal error", format!("the {what} is not an object")).into(),
            ),
        }
    };
    let config_object = as_object(config, "configuration")?;
    let prior_object = if prior.is_null() {
        None
    } else {
        Some(as_object(prior, "prior state")?)
    };
    let mut planned = as_object(proposed, "proposed new state")?;

    for attribute in &block.attributes {
        let configured = config_object.get(&attribute.name).unwrap_or(&Value::Null);
        if let (Some(default), true) = (&attribute.default, configured.is_null()) {
            planned.insert(attribute.name.clone(), default.clone());
        }
    }

    let changed = match &prior_object {
        None => true,
        Some(prior) => prior != &planned,
    };
    if changed {
        for attribute in &block.attributes {
            let configured = config_object.get(&attribute.name).unwrap_or(&Value::Null);
            if attribute.computed && attribute.default.is_none() && configured.is_null() {
                planned.insert(attribute.name.clone(), Value::Unknown);
            }
        }
    }

    let mut requires_replace = Vec::new();
    let mut diagnostics = Diagnostics::new();
    for attribute in block
        .attributes
        .iter()
        .filter(|a| !a.plan_modifiers.is_empty())
    {
        let path = AttributePath::root(&attribute.name);
        let configured = config_object.get(&attribute.name).unwrap_or(&Value::Null);
        let prior_value = prior_object
            .as_ref()
            .map(|p| p.get(&attribute.name).unwrap_or(&Value::Null));
        let mut plan = AttributePlan {
            path: &path,
            config: configured,
            prior: prior_value,
            planned: planned.get(&attribute.name).cloned().unwrap_or(Value::Null),
            requires_replace: false,
            diagnostics: Diagnostics::new(),
        };
        for modifier in &attribute.plan_modifiers {
            modifier.modify(&mut plan);
        }
        if plan.requires_replace {
            requires_replace.push(path.clone());
        }
        diagnostics.extend(plan.diagnostics);
        planned.insert(attribute.name.clone(), plan.planned);
    }

    Ok((
        ResourcePlan {
            config: config_object,
            prior: prior_object,
            planned,
            requires_replace,
        },
        diagnostics,
    ))
}

impl ResourcePlan {
    pub(crate) fn into_parts(self) -> (Value, Vec<AttributePath>) {
        (Value::Object(self.planned), self.requires_replace)
    }
}

/// `config` with every computed attribute it leaves null marked unknown: what a data
/// source's read must fill in.
pub(crate) fn computed_as_unknown(block: &Block, config: &Value) -> Value {
    let Value::Object(entries) = config else {
        return config.clone();
    };
    let mut out = entries.clone();
    for attribute in block.attributes.iter().filter(|a| a.computed) {
        if out.get(&attribute.name).is_none_or(Value::is_null) {
            out.insert(attribute.name.clone(), Value::Unknown);
        }
    }
    Value::Object(out)
}

/// Runs every attribute's validators over a configuration; unknown and null values are skipped.
pub(crate) fn validate_attributes(
    block: &Block,
    config: &Value,
    path: AttributePath,
    diagnostics: &mut Diagnostics,
) {
    let Value::Object(entries) = config else {
        return;
    };
    for attribute in &block.attributes {
        let Some(value) = entries.get(&attribute.name) else {
            continue;
        };
        if value.is_null() || value.is_unknown() {
            continue;
        }
        let attribute_path = path.clone().attribute(&attribute.name);
        for validator in &attribute.validators {
            validator.validate(&attribute_path, value, diagnostics);
        }
    }
    for nested in &block.block_types {
        let Some(value) = entries.get(&nested.type_name) else {
            continue;
        };
        let nested_path = path.clone().attribute(&nested.type_name);
        match value {
            Value::Object(_) => validate_attributes(&nested.block, value, nested_path, diagnostics),
            Value::List(items) | Value::Set(items) => {
                for (i, item) in items.iter().enumerate() {
                    validate_attributes(
                        &nested.block,
                        item,
                        nested_path.clone().index(i as i64),
                        diagnostics,
                    );
                }
            }
            Value::Map(items) => {
                for (key, item) in items {
                    validate_attributes(
                        &nested.block,
                        item,
                        nested_path.clone().key(key),
                        diagnostics,
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modifiers::{RequiresReplace, UseStateForUnknown};
    use crate::schema::Attribute;
    use crate::value::Type;

    fn block() -> Block {
        Block {
            attributes: vec![
                Attribute::new("name", Type::String)
                    .required()
                    .plan_modifier(RequiresReplace),
                Attribute::new("size", Type::String)
                    .default_value(Value::String("Standard-1X".into())),
                Attribute::new("id", Type::String)
                    .computed_only()
                    .plan_modifier(UseStateForUnknown),
                Attribute::new("status", Type::String).computed_only(),
            ],
            ..Block::default()
        }
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    #[test]
    fn create_marks_computed_unknown_and_plans_defaults() {
        let config = obj(&[
            ("name", s("a")),
            ("size", Value::Null),
            ("id", Value::Null),
            ("status", Value::Null),
        ]);
        let (plan, _) = plan_attributes(&block(), &Value::Null, &config, &config).unwrap();
        assert_eq!(plan.planned("size"), &s("Standard-1X"));
        assert_eq!(plan.planned("id"), &Value::Unknown);
        assert_eq!(plan.planned("status"), &Value::Unknown);
    }

    #[test]
    fn unchanged_plan_keeps_prior_values() {
        let prior = obj(&[
            ("name", s("a")),
            ("size", s("Standard-1X")),
            ("id", s("1")),
            ("status", s("ok")),
        ]);
        let config = obj(&[
            ("name", s("a")),
            ("size", Value::Null),
            ("id", Value::Null),
            ("status", Value::Null),
        ]);
        let (plan, _) = plan_attributes(&block(), &prior, &prior, &config).unwrap();
        let (planned, replace) = plan.into_parts();
        assert_eq!(planned, prior);
        assert!(replace.is_empty());
    }

    #[test]
    fn change_marks_unknown_but_ids_stay_and_replacement_is_flagged() {
        let prior = obj(&[
            ("name", s("a")),
            ("size", s("Standard-1X")),
            ("id", s("1")),
            ("status", s("ok")),
        ]);
        let config = obj(&[
            ("name", s("b")),
            ("size", Value::Null),
            ("id", Value::Null),
            ("status", Value::Null),
        ]);
        let proposed = obj(&[
            ("name", s("b")),
            ("size", s("Standard-1X")),
            ("id", s("1")),
            ("status", s("ok")),
        ]);
        let (plan, _) = plan_attributes(&block(), &prior, &proposed, &config).unwrap();
        assert_eq!(plan.planned("id"), &s("1"));
        assert_eq!(plan.planned("status"), &Value::Unknown);
        let (_, replace) = plan.into_parts();
        assert_eq!(replace, vec![AttributePath::root("name")]);
    }
}
