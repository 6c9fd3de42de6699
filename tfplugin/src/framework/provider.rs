//! The typed provider interface.

use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::{DynDataSource, DynEphemeralResource, DynResource};
use crate::diag::Diagnostics;
use crate::function::DynFunction;
use crate::schema::{Schema, SchemaDeriveError};
use crate::value::Value;

/// A provider: its configuration, the client it builds, and its resources.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider block's model.
    type Config: DeserializeOwned + JsonSchema + Send;
    /// What configuration produces, handed to every resource operation.
    type Client: Send + Sync + 'static;

    /// The provider's type name, e.g. `treeherder`.
    fn type_name(&self) -> &'static str;

    /// The provider block's schema; by default derived from the config model.
    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_provider_model::<Self::Config>()
    }

    /// Checks of the provider block (values may be unknown).
    fn validate(&self, _config: &Value, _diagnostics: &mut Diagnostics) {}

    /// Builds the client from a configuration with unknown values turned into nulls.
    async fn configure(
        &self,
        config: Self::Config,
        terraform_version: &str,
    ) -> Result<Self::Client, Diagnostics>;

    /// The resources, each wrapped with [`super::resource`].
    fn resources(&self) -> Result<Vec<Arc<dyn DynResource<Self::Client>>>, SchemaDeriveError>;

    /// The data sources, each wrapped with [`super::data_source`].
    fn data_sources(&self) -> Result<Vec<Arc<dyn DynDataSource<Self::Client>>>, SchemaDeriveError>;

    /// The ephemeral resources, each wrapped with [`super::ephemeral_resource`].
    fn ephemeral_resources(
        &self,
    ) -> Result<Vec<Arc<dyn DynEphemeralResource<Self::Client>>>, SchemaDeriveError> {
        Ok(Vec::new())
    }

    /// The provider-defined functions, each wrapped with [`crate::function::function`]
    /// (Terraform ≥ 1.8 calls them; older versions never ask).
    fn functions(&self) -> Vec<Arc<dyn DynFunction>> {
        Vec::new()
    }
}
