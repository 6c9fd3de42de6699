//! The resource framework: typed resources, data sources, ephemeral resources and
//! providers, in the spirit of HashiCorp's terraform-plugin-framework.
//!
//! A provider implements [`Provider`]; each resource implements [`Resource`] over a serde
//! model from which its schema is derived. The same model, with [`Field`]s for values that
//! may be unknown, is what `validate`, `modify_plan` and every operation see. The framework
//! runs Terraform's plan rules, validators and plan modifiers at every depth, and converts
//! values at one boundary.

mod context;
mod data_source;
mod ephemeral;
mod field;
pub(crate) mod model;
mod operation;
mod plan;
mod poll;
mod provider;
mod registered;
mod resource;
mod tree;
mod upgrade;
pub(crate) mod view;

pub use context::{Context, Private};
pub use data_source::DataSource;
pub use ephemeral::{EphemeralResource, Opened};
pub use field::{Field, NotKnown};
pub use operation::{operation, Operation, OperationResource, TimeLimit};
pub use plan::ResourcePlan;
pub use poll::{Check, Elapsed, Polled, Poller};
pub use provider::Provider;
pub use registered::{
    data_source, ephemeral_resource, resource, ApplyOutcome, DynDataSource, DynEphemeralResource,
    DynResource, EphemeralOutcome, PlanOutcome, Registered,
};
pub use resource::Resource;
pub use upgrade::StateUpgrader;

pub(crate) use plan::validate_attributes as validate_block_at;

/// Runs every attribute validator of `block` over `config` (unknown and null values skipped).
pub fn validate_block(
    block: &crate::schema::Block,
    config: &crate::value::Value,
    diagnostics: &mut crate::diag::Diagnostics,
) {
    validate_block_at(
        block,
        config,
        crate::diag::AttributePath::default(),
        diagnostics,
    );
}

/// The path of a model's top-level attribute, checked by the compiler: a renamed or
/// misspelt field is a build error. `attr!(SchedulerJobModel, frequency)` is the path
/// `frequency`; models name attributes by their field names (no serde renames).
#[macro_export]
macro_rules! attr {
    ($model:ty, $field:ident) => {{
        let _checked = |model: &$model| {
            let _ = &model.$field;
        };
        // A raw identifier (`r#type`) names the attribute `type`.
        $crate::AttributePath::root(stringify!($field).trim_start_matches("r#"))
    }};
}

#[cfg(test)]
mod tests {
    #[allow(dead_code)]
    struct Model {
        app: u8,
        r#type: u8,
    }

    #[test]
    fn attr_names_fields_raw_identifiers_included() {
        assert_eq!(crate::attr!(Model, app).to_string(), "app");
        assert_eq!(crate::attr!(Model, r#type).to_string(), "type");
    }
}
