//! The resource framework: typed resources, data sources and providers, in the spirit
//! of HashiCorp's terraform-plugin-framework.
//!
//! A provider implements [`Provider`]; each resource implements [`Resource`] over a serde
//! model from which its schema is derived; the framework runs Terraform's plan rules,
//! validators and plan modifiers, and converts values at one boundary.

mod context;
mod data_source;
pub(crate) mod model;
mod plan;
mod provider;
mod registered;
mod resource;

pub use context::{Context, Private};
pub use data_source::DataSource;
pub use plan::ResourcePlan;
pub use provider::Provider;
pub use registered::{
    data_source, resource, ApplyOutcome, DynDataSource, DynResource, PlanOutcome,
};
pub use resource::Resource;

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
