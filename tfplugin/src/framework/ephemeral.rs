//! The typed ephemeral resource interface (Terraform ≥ 1.10): values that exist only while
//! Terraform runs, never in state or plan files.

use std::time::SystemTime;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Context;
use crate::diag::Diagnostics;
use crate::schema::{Schema, SchemaDeriveError};

/// What opening an ephemeral resource produced.
#[derive(Debug)]
pub struct Opened<M> {
    /// The result: the configuration with every computed attribute set.
    pub result: M,
    /// When Terraform should call `renew` if it still needs the value; `None`: never.
    pub renew_at: Option<SystemTime>,
}

impl<M> Opened<M> {
    /// A result that needs no renewal.
    pub fn new(result: M) -> Self {
        Opened {
            result,
            renew_at: None,
        }
    }
}

/// An ephemeral resource over a typed model. Whatever `open` must hand to `renew` and
/// `close` (a lease id, say) goes in private data through the context.
#[async_trait]
pub trait EphemeralResource: Send + Sync + 'static {
    /// Arguments and results; the schema is derived from it.
    type Model: Serialize + DeserializeOwned + JsonSchema + crate::ModelSettings + Send + Sync;
    /// What the provider's configuration produced.
    type Client: Send + Sync + 'static;

    /// The full type name, e.g. `treeherder_database_url`.
    fn type_name(&self) -> &'static str;

    /// The schema; by default derived from the model.
    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<Self::Model>()
    }

    /// Checks of a configuration (values may be unknown), after the schema's validators.
    fn validate(&self, _config: &Self::Model, _diagnostics: &mut Diagnostics) {}

    /// Produces the value.
    async fn open(
        &self,
        ctx: &Context<'_, Self::Client>,
        config: Self::Model,
    ) -> Result<Opened<Self::Model>, Diagnostics>;

    /// Extends the value's life; returns the next renewal time, if any.
    async fn renew(
        &self,
        _ctx: &Context<'_, Self::Client>,
    ) -> Result<Option<SystemTime>, Diagnostics> {
        Ok(None)
    }

    /// Releases whatever `open` acquired.
    async fn close(&self, _ctx: &Context<'_, Self::Client>) -> Result<(), Diagnostics> {
        Ok(())
    }
}
