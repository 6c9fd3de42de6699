//! The typed data source interface.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Context;
use crate::diag::Diagnostics;
use crate::schema::{Schema, SchemaDeriveError};

/// A data source over a typed model: configuration in, wholly known state out.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// Arguments and results; the schema is derived from it.
    type Model: Serialize + DeserializeOwned + JsonSchema + crate::ModelSettings + Send + Sync;
    /// What the provider's configuration produced.
    type Client: Send + Sync + 'static;

    /// The full type name, e.g. `treeherder_mysql_tables`.
    fn type_name(&self) -> &'static str;

    /// The schema; by default derived from the model.
    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<Self::Model>()
    }

    /// Data-source-level checks of a configuration (values may be unknown). Runs after the
    /// schema's validators and only when the configuration fits the model.
    fn validate(&self, _config: &Self::Model, _diagnostics: &mut Diagnostics) {}

    /// Reads the data; every computed attribute must be set.
    async fn read(
        &self,
        ctx: &Context<'_, Self::Client>,
        config: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;
}
