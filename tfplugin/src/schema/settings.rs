//! The Terraform-only facts of a model, as typed values: what `#[derive(tfplugin::Model)]`
//! builds from `#[tf(...)]` attributes and [`Schema::from_model`](super::Schema::from_model)
//! merges with the model's JSON Schema (types, docs, `Option` → optional, defaults).
//!
//! Each flag is a method, so a misspelt one does not compile.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::Nesting;
use crate::modifiers::{PlanModifier, RequiresReplace, UseStateForUnknown};
use crate::validators::{AlsoRequires, BlockValidator, ConflictsWith, ExactlyOneOf, Validator};

/// A model's settings; implemented by `#[derive(tfplugin::Model)]`.
pub trait ModelSettings {
    /// The settings of the model's block and its attributes.
    fn model_settings() -> BlockSettings;
}

/// The settings of the element model of a nested block or nested attribute, found through
/// the wrappers a field declares it in (`Option`, `Field`, `Vec`, `BTreeSet`, `BTreeMap`).
pub trait NestedModel {
    /// The element model's settings.
    fn nested_settings() -> BlockSettings;
}

impl<T: NestedModel> NestedModel for Option<T> {
    fn nested_settings() -> BlockSettings {
        T::nested_settings()
    }
}

impl<T: NestedModel> NestedModel for crate::Field<T> {
    fn nested_settings() -> BlockSettings {
        T::nested_settings()
    }
}

impl<T: NestedModel> NestedModel for Vec<T> {
    fn nested_settings() -> BlockSettings {
        T::nested_settings()
    }
}

impl<T: NestedModel> NestedModel for BTreeSet<T> {
    fn nested_settings() -> BlockSettings {
        T::nested_settings()
    }
}

impl<K, T: NestedModel> NestedModel for BTreeMap<K, T> {
    fn nested_settings() -> BlockSettings {
        T::nested_settings()
    }
}

/// Whether a field is a nested block or nested attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NestedKind {
    /// `block = mode`
    Block,
    /// `nested = mode`
    Attributes,
}

/// A field's nesting: its kind, mode and the element model's settings.
#[derive(Clone)]
pub(crate) struct Nested {
    pub(crate) kind: NestedKind,
    pub(crate) nesting: Nesting,
    pub(crate) element: fn() -> BlockSettings,
}

/// The settings of one attribute (or nested block), by field.
#[derive(Clone, Default)]
pub struct AttributeSettings {
    pub(crate) computed: bool,
    pub(crate) optional: bool,
    pub(crate) nested: Option<Nested>,
    pub(crate) validators: Vec<Arc<dyn Validator>>,
    pub(crate) plan_modifiers: Vec<Arc<dyn PlanModifier>>,
}

impl AttributeSettings {
    /// The provider may decide the value (alone: not settable in configuration).
    pub fn computed(&mut self) -> &mut Self {
        self.computed = true;
        self
    }

    /// With `computed`: settable in configuration too (otherwise an `Option` or serde default
    /// already makes an attribute optional).
    pub fn optional(&mut self) -> &mut Self {
        self.optional = true;
        self
    }

    /// A change of the value replaces the resource.
    pub fn requires_replace(&mut self) -> &mut Self {
        self.plan_modifier(RequiresReplace)
    }

    /// An update plans the prior state's value instead of unknown (for values set once).
    pub fn use_state_for_unknown(&mut self) -> &mut Self {
        self.plan_modifier(UseStateForUnknown)
    }

    /// Adds a validator, run on known, non-null configuration values after the JSON Schema's.
    pub fn validator(&mut self, validator: impl Validator + 'static) -> &mut Self {
        self.validators.push(Arc::new(validator));
        self
    }

    /// Adds a plan modifier, run in declaration order.
    pub fn plan_modifier(&mut self, modifier: impl PlanModifier + 'static) -> &mut Self {
        self.plan_modifiers.push(Arc::new(modifier));
        self
    }

    /// The field is a nested block of `nesting`, each element of the model `element`.
    pub fn block(&mut self, nesting: Nesting, element: fn() -> BlockSettings) -> &mut Self {
        self.nested = Some(Nested {
            kind: NestedKind::Block,
            nesting,
            element,
        });
        self
    }

    /// The field holds nested attributes of `nesting`, each element of the model `element`.
    pub fn nested(&mut self, nesting: Nesting, element: fn() -> BlockSettings) -> &mut Self {
        self.nested = Some(Nested {
            kind: NestedKind::Attributes,
            nesting,
            element,
        });
        self
    }
}

/// The settings of a block: its attributes' by field name, and rules over several attributes.
#[derive(Clone, Default)]
pub struct BlockSettings {
    pub(crate) fields: BTreeMap<String, AttributeSettings>,
    conflicts: Vec<ConflictsWith>,
    exactly_one: Vec<ExactlyOneOf>,
    also_requires: Vec<AlsoRequires>,
    others: Vec<Arc<dyn BlockValidator>>,
}

impl BlockSettings {
    /// No settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The settings of the attribute `name` (created empty).
    pub fn field(&mut self, name: &str) -> &mut AttributeSettings {
        self.fields.entry(name.to_string()).or_default()
    }

    /// At most one of `attributes` may be set.
    pub fn conflicts_with(&mut self, attributes: &[&str]) -> &mut ConflictsWith {
        self.conflicts.push(ConflictsWith::new(attributes));
        let last = self.conflicts.len() - 1;
        &mut self.conflicts[last]
    }

    /// Exactly one of `attributes` must be set.
    pub fn exactly_one_of(&mut self, attributes: &[&str]) -> &mut ExactlyOneOf {
        self.exactly_one.push(ExactlyOneOf::new(attributes));
        let last = self.exactly_one.len() - 1;
        &mut self.exactly_one[last]
    }

    /// Each of `attributes` set needs every one of `requires` set.
    pub fn also_requires(&mut self, attributes: &[&str], requires: &[&str]) -> &mut AlsoRequires {
        self.also_requires
            .push(AlsoRequires::new(attributes, requires));
        let last = self.also_requires.len() - 1;
        &mut self.also_requires[last]
    }

    /// Adds any other rule over the block's attributes.
    pub fn validator(&mut self, validator: impl BlockValidator + 'static) -> &mut Self {
        self.others.push(Arc::new(validator));
        self
    }

    /// Every rule over several attributes, as values for the schema's block.
    pub(crate) fn block_validators(&self) -> Vec<Arc<dyn BlockValidator>> {
        let mut out: Vec<Arc<dyn BlockValidator>> = Vec::new();
        out.extend(
            self.conflicts
                .iter()
                .map(|v| Arc::new(v.clone()) as Arc<dyn BlockValidator>),
        );
        out.extend(
            self.exactly_one
                .iter()
                .map(|v| Arc::new(v.clone()) as Arc<dyn BlockValidator>),
        );
        out.extend(
            self.also_requires
                .iter()
                .map(|v| Arc::new(v.clone()) as Arc<dyn BlockValidator>),
        );
        out.extend(self.others.iter().cloned());
        out
    }
}
