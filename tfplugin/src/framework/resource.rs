//! The typed resource interface.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Context, ResourcePlan, StateUpgrader};
use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::{Schema, SchemaDeriveError};

/// A managed resource over a typed model.
///
/// One model serves every phase: `validate` sees the configuration, `modify_plan` the
/// configuration, prior state and plan, and the operations the plan and state. Attributes
/// that may be unknown at plan time are [`Field`](super::Field)s; in `create` and `update`
/// computed attributes still unknown in the plan arrive as `Field::Unknown` and must be set.
/// Every value that was known in the plan is kept as planned, so the user's spelling
/// survives. Write-only attributes reach `create` and `update` from the configuration and
/// are never stored. Errors are returned as diagnostics.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The resource's attributes; its schema is derived from it.
    type Model: Serialize + DeserializeOwned + JsonSchema + crate::ModelSettings + Send + Sync;
    /// What the provider's configuration produced (API clients).
    type Client: Send + Sync + 'static;

    /// The full type name, e.g. `treeherder_scheduler_job`.
    fn type_name(&self) -> &'static str;

    /// The schema; by default derived from the model. Its version is always
    /// [`Resource::schema_version`], whatever this returns.
    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<Self::Model>()
    }

    /// Resource-level checks of a configuration (values may be unknown). Runs after the
    /// schema's validators and only when the configuration fits the model.
    fn validate(&self, _config: &Self::Model, _diagnostics: &mut Diagnostics) {}

    /// Adjusts a create or update plan after defaults, unknown-marking and attribute plan
    /// modifiers.
    async fn modify_plan(
        &self,
        _ctx: &Context<'_, Self::Client>,
        _plan: &mut ResourcePlan<Self::Model>,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Runs when a destroy is planned; warnings added to `ctx` show in the plan (e.g. that
    /// destroying only forgets the object).
    async fn plan_destroy(
        &self,
        _ctx: &Context<'_, Self::Client>,
        _prior: &Self::Model,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Creates the remote object and returns its state.
    async fn create(
        &self,
        ctx: &Context<'_, Self::Client>,
        plan: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;

    /// Reads the remote object; `None` when it no longer exists.
    async fn read(
        &self,
        ctx: &Context<'_, Self::Client>,
        state: Self::Model,
    ) -> Result<Option<Self::Model>, Diagnostics>;

    /// Changes the remote object in place.
    async fn update(
        &self,
        ctx: &Context<'_, Self::Client>,
        prior: Self::Model,
        plan: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;

    /// Deletes the remote object.
    async fn delete(
        &self,
        ctx: &Context<'_, Self::Client>,
        state: Self::Model,
    ) -> Result<(), Diagnostics>;

    /// Builds the state of an existing object from an import id; Terraform then reads it.
    async fn import(
        &self,
        _ctx: &Context<'_, Self::Client>,
        _id: &str,
    ) -> Result<Self::Model, Diagnostics> {
        Err(Diagnostic::error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
        )
        .into())
    }

    /// The schema version of the stored state; the schema carries it. Raise it when the
    /// stored shape changes (an attribute renamed, retyped or restructured) and add an
    /// upgrader from the prior version to [`Resource::state_upgraders`]. Adding or removing
    /// attributes needs no new version: missing ones read as null, removed ones are dropped.
    fn schema_version(&self) -> i64 {
        0
    }

    /// The upgraders of state written by earlier schema versions, each keyed by the version
    /// it reads (at most one per version). State of the current version needs none; state of
    /// an earlier version without an upgrader is an error naming the resource and version.
    fn state_upgraders(&self) -> Vec<StateUpgrader<Self::Model>> {
        Vec::new()
    }
}
