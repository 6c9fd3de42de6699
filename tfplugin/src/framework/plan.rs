//! The plan pipeline, obeying Terraform's rules for planned values.
//!
//! Order (as terraform-plugin-framework does it): start from the proposed new state;
//! plan defaults where configuration is null; if the plan differs from prior state, mark
//! computed attributes that configuration leaves null as unknown; run attribute plan
//! modifiers; then the resource's own `modify_plan`.

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::modifiers::AttributePlan;
use crate::schema::{Attribute, Block, Nesting};
use crate::value::Value;

use super::view::Level;

/// A resource plan under construction, as the resource's `modify_plan` sees it: the
/// resource's own model for configuration, prior state and plan.
///
/// Only computed attributes may be given planned values different from configuration
/// (Terraform rejects anything else); `Field::set_unknown` marks one "known after apply".
#[derive(Debug, Clone)]
pub struct ResourcePlan<M> {
    /// The configuration (unknown values as `Field::Unknown`).
    pub config: M,
    /// The prior state; `None` when the resource is being created.
    pub prior: Option<M>,
    /// The plan after defaults, unknown-marking and attribute plan modifiers.
    pub planned: M,
    requires_replace: Vec<AttributePath>,
}

impl<M> ResourcePlan<M> {
    pub(crate) fn new(config: M, prior: Option<M>, planned: M) -> Self {
        ResourcePlan {
            config,
            prior,
            planned,
            requires_replace: Vec::new(),
        }
    }

    /// True when the resource does not exist yet.
    pub fn is_create(&self) -> bool {
        self.prior.is_none()
    }

    /// Says a change at `path` replaces the resource (build it with [`crate::attr!`]).
    pub fn require_replace(&mut self, path: AttributePath) {
        if !self.requires_replace.contains(&path) {
            self.requires_replace.push(path);
        }
    }

    pub(crate) fn take_requires_replace(&mut self) -> Vec<AttributePath> {
        std::mem::take(&mut self.requires_replace)
    }
}

/// What the framework planned before the resource's `modify_plan`.
pub(crate) struct AttributesPlanned {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub diagnostics: Diagnostics,
}

/// The framework's part of planning, at every depth of nested attributes and blocks:
/// defaults where configuration is null; if the plan differs from prior state, computed
/// attributes that configuration leaves null marked unknown; then attribute plan modifiers.
pub(crate) fn plan_attributes(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> AttributesPlanned {
    let level = Level::of(block);
    let prior = (!prior.is_null()).then_some(prior);
    let mut planned = proposed.clone();

    walk(
        level,
        config,
        None,
        &mut planned,
        &AttributePath::default(),
        &mut |a, c, _, p, _| {
            if let (Some(default), true) = (&a.default, c.is_null()) {
                *p = default.clone();
            }
        },
    );

    if prior != Some(&planned) {
        walk(
            level,
            config,
            None,
            &mut planned,
            &AttributePath::default(),
            &mut |a, c, _, p, _| {
                if a.computed && a.default.is_none() && c.is_null() {
                    *p = Value::Unknown;
                }
            },
        );
    }

    let mut requires_replace = Vec::new();
    let mut diagnostics = Diagnostics::new();
    walk(
        level,
        config,
        prior,
        &mut planned,
        &AttributePath::default(),
        &mut |a, c, pr, p, path| {
            if a.plan_modifiers.is_empty() {
                return;
            }
            let mut plan = AttributePlan {
                path,
                config: c,
                prior: pr,
                planned: std::mem::take(p),
                requires_replace: false,
                diagnostics: Diagnostics::new(),
            };
            for modifier in &a.plan_modifiers {
                modifier.modify(&mut plan);
            }
            if plan.requires_replace {
                requires_replace.push(path.clone());
            }
            diagnostics.extend(plan.diagnostics);
            *p = plan.planned;
        },
    );

    AttributesPlanned {
        planned,
        requires_replace,
        diagnostics,
    }
}

type Visit<'v> = dyn FnMut(&Attribute, &Value, Option<&Value>, &mut Value, &AttributePath) + 'v;

/// Visits every attribute of `planned` (an object of `level`) with its configuration and prior
/// values, then descends into nested attributes and blocks. Elements are matched by position
/// in lists and sets and by key in maps; a set element has no prior counterpart.
fn walk(
    level: Level<'_>,
    config: &Value,
    prior: Option<&Value>,
    planned: &mut Value,
    path: &AttributePath,
    visit: &mut Visit<'_>,
) {
    let Value::Object(entries) = planned else {
        return;
    };
    for attribute in level.attributes {
        let attribute_path = path.clone().attribute(&attribute.name);
        let c = config.get_attr(&attribute.name).unwrap_or(&Value::Null);
        let pr = prior.map(|p| p.get_attr(&attribute.name).unwrap_or(&Value::Null));
        let p = entries.entry(attribute.name.clone()).or_insert(Value::Null);
        visit(attribute, c, pr, p, &attribute_path);
        if let Some((nesting, inner)) = Level::nested(attribute) {
            walk_nested(nesting, inner, c, pr, p, &attribute_path, visit);
        }
    }
    for nested in level.blocks {
        let block_path = path.clone().attribute(&nested.type_name);
        let c = config.get_attr(&nested.type_name).unwrap_or(&Value::Null);
        let pr = prior.map(|p| p.get_attr(&nested.type_name).unwrap_or(&Value::Null));
        if let Some(p) = entries.get_mut(&nested.type_name) {
            walk_nested(
                nested.nesting,
                Level::of(&nested.block),
                c,
                pr,
                p,
                &block_path,
                visit,
            );
        }
    }
}

fn walk_nested(
    nesting: Nesting,
    level: Level<'_>,
    config: &Value,
    prior: Option<&Value>,
    planned: &mut Value,
    path: &AttributePath,
    visit: &mut Visit<'_>,
) {
    let null = Value::Null;
    match (nesting, planned) {
        (Nesting::Single, planned @ Value::Object(_)) => {
            walk(level, config, prior, planned, path, visit)
        }
        (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                let c = element_at(config, i).unwrap_or(&null);
                let pr = match nesting {
                    Nesting::List => prior.map(|p| element_at(p, i).unwrap_or(&null)),
                    _ => None,
                };
                walk(level, c, pr, item, &path.clone().index(i as i64), visit);
            }
        }
        (Nesting::Map, Value::Map(items)) => {
            for (key, item) in items.iter_mut() {
                let c = entry_at(config, key).unwrap_or(&null);
                let pr = prior.map(|p| entry_at(p, key).unwrap_or(&null));
                walk(level, c, pr, item, &path.clone().key(key), visit);
            }
        }
        _ => {}
    }
}

fn element_at(value: &Value, index: usize) -> Option<&Value> {
    match value {
        Value::List(items) | Value::Set(items) => items.get(index),
        _ => None,
    }
}

fn entry_at<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Map(entries) => entries.get(key),
        _ => None,
    }
}

/// `config` with every computed attribute it leaves null marked unknown, at any depth: what
/// a data source's read must fill in.
pub(crate) fn computed_as_unknown(block: &Block, config: &Value) -> Value {
    let mut out = config.clone();
    walk(
        Level::of(block),
        config,
        None,
        &mut out,
        &AttributePath::default(),
        &mut |a, c, _, p, _| {
            if a.computed && c.is_null() {
                *p = Value::Unknown;
            }
        },
    );
    out
}

/// Runs every attribute's validators over a configuration, at every depth (unknown and null
/// values skipped), and reports required attributes set to an explicit null.
pub(crate) fn validate_attributes(
    block: &Block,
    config: &Value,
    path: AttributePath,
    diagnostics: &mut Diagnostics,
) {
    validate_blocks(block, config, &path, diagnostics);
    let mut scratch = config.clone();
    walk(
        Level::of(block),
        config,
        None,
        &mut scratch,
        &path,
        &mut |a, c, _, _, at| {
            if c.is_null() {
                if a.required {
                    diagnostics.push(
                        Diagnostic::error(
                            "Missing required argument",
                            format!("{at} is required: set it to a value (null is not accepted)."),
                        )
                        .at(at.clone()),
                    );
                }
                return;
            }
            if c.is_unknown() {
                return;
            }
            for validator in &a.validators {
                validator.validate(at, c, diagnostics);
            }
        },
    );
}

/// Runs the rules over several attributes of `block` and of its nested blocks, at every
/// element.
fn validate_blocks(
    block: &Block,
    config: &Value,
    path: &AttributePath,
    diagnostics: &mut Diagnostics,
) {
    let Value::Object(attributes) = config else {
        return;
    };
    for validator in &block.validators {
        validator.validate(path, attributes, diagnostics);
    }
    for nested in &block.block_types {
        let block_path = path.clone().attribute(&nested.type_name);
        match attributes.get(&nested.type_name) {
            Some(single @ Value::Object(_)) => {
                validate_blocks(&nested.block, single, &block_path, diagnostics)
            }
            Some(Value::List(items) | Value::Set(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let at = block_path.clone().index(i as i64);
                    validate_blocks(&nested.block, item, &at, diagnostics);
                }
            }
            Some(Value::Map(items)) => {
                for (key, item) in items {
                    let at = block_path.clone().key(key);
                    validate_blocks(&nested.block, item, &at, diagnostics);
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

    fn planned(
        block: &Block,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> AttributesPlanned {
        plan_attributes(block, prior, proposed, config)
    }

    #[test]
    fn create_marks_computed_unknown_and_plans_defaults() {
        let config = obj(&[
            ("name", s("a")),
            ("size", Value::Null),
            ("id", Value::Null),
            ("status", Value::Null),
        ]);
        let plan = planned(&block(), &Value::Null, &config, &config).planned;
        assert_eq!(plan.get_attr("size"), Some(&s("Standard-1X")));
        assert_eq!(plan.get_attr("id"), Some(&Value::Unknown));
        assert_eq!(plan.get_attr("status"), Some(&Value::Unknown));
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
        let plan = planned(&block(), &prior, &prior, &config);
        assert_eq!(plan.planned, prior);
        assert!(plan.requires_replace.is_empty());
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
        let plan = planned(&block(), &prior, &proposed, &config);
        assert_eq!(plan.planned.get_attr("id"), Some(&s("1")));
        assert_eq!(plan.planned.get_attr("status"), Some(&Value::Unknown));
        assert_eq!(plan.requires_replace, vec![AttributePath::root("name")]);
    }

    /// A block `rules` (list) and a nested-attribute map `slots`, each with a default, a
    /// computed attribute and a replacing one.
    fn nested() -> Block {
        let inner = || {
            vec![
                Attribute::new("name", Type::String)
                    .required()
                    .plan_modifier(RequiresReplace),
                Attribute::new("size", Type::String).default_value(s("small")),
                Attribute::new("id", Type::String).computed_only(),
                Attribute::new("serial", Type::String)
                    .computed_only()
                    .plan_modifier(UseStateForUnknown),
            ]
        };
        let slot_type = Type::object(
            inner()
                .into_iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect::<Vec<_>>(),
        );
        let mut slots = Attribute::new("slots", Type::map(slot_type));
        slots.nested = Some(crate::schema::NestedAttributes {
            nesting: Nesting::Map,
            attributes: inner(),
        });
        Block {
            attributes: vec![Attribute::new("label", Type::String), slots],
            block_types: vec![crate::schema::NestedBlock {
                type_name: "rules".into(),
                block: Block {
                    attributes: inner(),
                    ..Block::default()
                },
                nesting: Nesting::List,
                min_items: 0,
                max_items: 0,
            }],
            ..Block::default()
        }
    }

    fn element(name: &str, size: Value, id: Value, serial: Value) -> Value {
        obj(&[
            ("name", s(name)),
            ("size", size),
            ("id", id),
            ("serial", serial),
        ])
    }

    #[test]
    fn defaults_unknowns_and_modifiers_apply_at_every_depth() {
        let null = || Value::Null;
        let config = obj(&[
            ("label", s("x")),
            (
                "slots",
                Value::Map([("a".to_string(), element("a", null(), null(), null()))].into()),
            ),
            (
                "rules",
                Value::List(vec![element("r", null(), null(), null())]),
            ),
        ]);
        let plan = planned(&nested(), &Value::Null, &config, &config).planned;
        let slot = &plan.get_attr("slots").and_then(|m| match m {
            Value::Map(m) => m.get("a").cloned(),
            _ => None,
        });
        let rule = match plan.get_attr("rules") {
            Some(Value::List(items)) => items[0].clone(),
            other => panic!("rules: {other:?}"),
        };
        for (what, v) in [("slot", slot.clone().expect("slot a")), ("rule", rule)] {
            assert_eq!(v.get_attr("size"), Some(&s("small")), "{what}");
            assert_eq!(v.get_attr("id"), Some(&Value::Unknown), "{what}");
            assert_eq!(v.get_attr("serial"), Some(&Value::Unknown), "{what}");
        }

        // An update: a nested name change replaces; the serial keeps its prior value.
        let prior = obj(&[
            ("label", s("x")),
            (
                "slots",
                Value::Map([("a".to_string(), element("a", s("small"), s("1"), s("S1")))].into()),
            ),
            (
                "rules",
                Value::List(vec![element("r", s("small"), s("2"), s("S2"))]),
            ),
        ]);
        let config = obj(&[
            ("label", s("x")),
            (
                "slots",
                Value::Map([("a".to_string(), element("a", null(), null(), null()))].into()),
            ),
            (
                "rules",
                Value::List(vec![element("q", null(), null(), null())]),
            ),
        ]);
        let proposed = obj(&[
            ("label", s("x")),
            (
                "slots",
                Value::Map([("a".to_string(), element("a", null(), s("1"), s("S1")))].into()),
            ),
            (
                "rules",
                Value::List(vec![element("q", null(), s("2"), s("S2"))]),
            ),
        ]);
        let plan = planned(&nested(), &prior, &proposed, &config);
        let rules_name = AttributePath::root("rules").index(0).attribute("name");
        assert_eq!(plan.requires_replace, vec![rules_name]);
        let rule = match plan.planned.get_attr("rules") {
            Some(Value::List(items)) => items[0].clone(),
            other => panic!("rules: {other:?}"),
        };
        assert_eq!(rule.get_attr("serial"), Some(&s("S2")));
        assert_eq!(rule.get_attr("id"), Some(&Value::Unknown));
        assert_eq!(rule.get_attr("size"), Some(&s("small")));
    }

    #[test]
    fn explicit_null_for_a_required_attribute_is_an_error_at_any_depth() {
        let config = obj(&[
            ("label", Value::Null),
            ("slots", Value::Null),
            (
                "rules",
                Value::List(vec![obj(&[
                    ("name", Value::Null),
                    ("size", Value::Null),
                    ("id", Value::Null),
                    ("serial", Value::Null),
                ])]),
            ),
        ]);
        let mut diagnostics = Diagnostics::new();
        validate_attributes(
            &nested(),
            &config,
            AttributePath::default(),
            &mut diagnostics,
        );
        let paths: Vec<String> = diagnostics
            .iter()
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(paths, vec!["rules[0].name".to_string()]);
        assert!(diagnostics
            .iter()
            .next()
            .unwrap()
            .detail
            .contains("null is not accepted"));
    }
}
