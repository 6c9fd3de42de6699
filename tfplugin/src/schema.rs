//! Terraform schemas: what a provider, resource or data source accepts and stores.
//!
//! A schema is usually derived from the typed model (see [`Schema::from_model`]), so
//! each resource is declared once. Validators and plan modifiers are values attached
//! to attributes.

mod derive;
mod json;
mod settings;

pub(crate) use derive::FIELD_MARKER;
pub use derive::{model_json_schema, SchemaDeriveError};
pub use settings::{AttributeSettings, BlockSettings, ModelSettings, NestedModel};

use std::sync::Arc;

use crate::modifiers::PlanModifier;
use crate::validators::{BlockValidator, Validator};
use crate::value::{Type, Value};

/// How a nested block or nested attribute repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one, as an object.
    Single,
    /// An ordered list.
    List,
    /// An unordered set.
    Set,
    /// A map keyed by label.
    Map,
}

impl Nesting {
    pub(crate) fn wrap(self, object: Type) -> Type {
        match self {
            Nesting::Single => object,
            Nesting::List => Type::List(Box::new(object)),
            Nesting::Set => Type::Set(Box::new(object)),
            Nesting::Map => Type::Map(Box::new(object)),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Nesting::Single => "single",
            Nesting::List => "list",
            Nesting::Set => "set",
            Nesting::Map => "map",
        }
    }
}

/// Attributes nested inside an attribute (protocol 6 `nested_type`).
#[derive(Clone, Debug)]
pub struct NestedAttributes {
    /// How the nested object repeats.
    pub nesting: Nesting,
    /// The attributes of each nested object.
    pub attributes: Vec<Attribute>,
}

/// One attribute of a block.
#[derive(Clone)]
pub struct Attribute {
    /// The attribute's name in configuration.
    pub name: String,
    /// Its cty type (for nested attributes, the type they imply).
    pub ty: Type,
    /// Nested attributes, when the attribute is an object of attributes.
    pub nested: Option<NestedAttributes>,
    /// Markdown description.
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// The provider may decide its value.
    pub computed: bool,
    /// Hidden in plans and masked in logs.
    pub sensitive: bool,
    /// Sent by Terraform ≥ 1.11 to the provider and never stored: always null in plan and state.
    pub write_only: bool,
    /// Still accepted, but due to go.
    pub deprecated: bool,
    /// Value planned when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// Checks run on known, non-null configuration values.
    pub validators: Vec<Arc<dyn Validator>>,
    /// Adjustments to the planned value, run in order.
    pub plan_modifiers: Vec<Arc<dyn PlanModifier>>,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .field("sensitive", &self.sensitive)
            .field("write_only", &self.write_only)
            .field(
                "validators",
                &self
                    .validators
                    .iter()
                    .map(|v| v.description())
                    .collect::<Vec<_>>(),
            )
            .field(
                "plan_modifiers",
                &self
                    .plan_modifiers
                    .iter()
                    .map(|m| m.description())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Attribute {
    /// A new optional attribute of type `ty`.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty,
            nested: None,
            description: String::new(),
            required: false,
            optional: true,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            default: None,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
        }
    }

    /// Marks the attribute required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }

    /// Marks the attribute computed (and optional only if it already was).
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Marks the attribute computed and not settable in configuration.
    pub fn computed_only(mut self) -> Self {
        self.computed = true;
        self.optional = false;
        self.required = false;
        self
    }

    /// Marks the attribute sensitive.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the attribute write-only (and sensitive).
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self.sensitive = true;
        self
    }

    /// Sets the markdown description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Plans `value` when configuration leaves the attribute null (implies optional + computed).
    pub fn default_value(mut self, value: Value) -> Self {
        self.default = Some(value);
        self.optional = true;
        self.required = false;
        self.computed = true;
        self
    }

    /// Adds a validator.
    pub fn validator(mut self, validator: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }

    /// Adds a plan modifier.
    pub fn plan_modifier(mut self, modifier: impl PlanModifier + 'static) -> Self {
        self.plan_modifiers.push(Arc::new(modifier));
        self
    }
}

/// A nested block type of a block.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    /// The block's type name in configuration.
    pub type_name: String,
    /// What the block contains.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
    /// Fewest blocks accepted (0 = no minimum).
    pub min_items: i64,
    /// Most blocks accepted (0 = no maximum).
    pub max_items: i64,
}

/// A block: attributes and nested blocks.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// The block's attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// The block's nested block types.
    pub block_types: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Still accepted, but due to go.
    pub deprecated: bool,
    /// Rules over several of the block's attributes, run on its configuration.
    pub validators: Vec<Arc<dyn BlockValidator>>,
}

impl Block {
    /// The object type this block implies.
    pub fn value_type(&self) -> Type {
        let mut fields = std::collections::BTreeMap::new();
        for attribute in &self.attributes {
            fields.insert(attribute.name.clone(), attribute.ty.clone());
        }
        for nested in &self.block_types {
            fields.insert(
                nested.type_name.clone(),
                nested.nesting.wrap(nested.block.value_type()),
            );
        }
        Type::Object(fields)
    }

    /// The attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The nested block type called `name`.
    pub fn block_type(&self, name: &str) -> Option<&NestedBlock> {
        self.block_types.iter().find(|b| b.type_name == name)
    }
}

/// A versioned schema of a provider, resource or data source.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// State version; raise it when stored state needs an upgrade.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// The object type of configuration and state.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}
