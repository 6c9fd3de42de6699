//! Type-erased resources and data sources: the value-level operations the gRPC layer calls.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::model::{from_model, keep_planned, register_sensitive, render, to_model, unknown_paths};
use super::plan::{computed_as_unknown, plan_attributes, validate_attributes};
use super::{Context, DataSource, Private, Resource};
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::{Schema, SchemaDeriveError};
use crate::value::{Type, Value};

/// The result of planning a resource change.
#[derive(Debug, Default)]
pub struct PlanOutcome {
    /// The planned state (null for a destroy).
    pub planned: Value,
    /// Attributes whose change replaces the resource.
    pub requires_replace: Vec<AttributePath>,
    /// Private state to carry to apply.
    pub private: Private,
    /// Problems found.
    pub diagnostics: Diagnostics,
}

/// The result of applying, reading or importing.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    /// The new state (null when the object is gone).
    pub state: Value,
    /// Private state to store.
    pub private: Private,
    /// Problems found.
    pub diagnostics: Diagnostics,
}

/// A resource as the protocol layer sees it: values in, values out.
#[async_trait]
pub trait DynResource<C>: Send + Sync {
    /// The full type name.
    fn type_name(&self) -> &'static str;
    /// The schema (derived once).
    fn schema(&self) -> &Schema;
    /// The object type the schema implies (derived once).
    fn value_type(&self) -> &Type;
    /// The JSON Schema of the model, for `schemas/`.
    fn json_schema(&self) -> serde_json::Value;
    /// Validates a configuration.
    fn validate(&self, config: &Value) -> Diagnostics;
    /// Plans a change.
    async fn plan(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        prior: &Value,
        proposed: &Value,
        config: &Value,
        private: Private,
    ) -> PlanOutcome;
    /// Applies a planned change.
    async fn apply(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        prior: &Value,
        planned: &Value,
        private: Private,
    ) -> ApplyOutcome;
    /// Refreshes state.
    async fn read(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        state: &Value,
        private: Private,
    ) -> ApplyOutcome;
    /// Imports by id.
    async fn import(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        id: &str,
    ) -> ApplyOutcome;
    /// Upgrades stored JSON state to the current schema version.
    fn upgrade(&self, version: i64, state: serde_json::Value) -> Result<Value, Diagnostics>;
}

/// A data source as the protocol layer sees it.
#[async_trait]
pub trait DynDataSource<C>: Send + Sync {
    /// The full type name.
    fn type_name(&self) -> &'static str;
    /// The schema (derived once).
    fn schema(&self) -> &Schema;
    /// The object type the schema implies (derived once).
    fn value_type(&self) -> &Type;
    /// The JSON Schema of the model, for `schemas/`.
    fn json_schema(&self) -> serde_json::Value;
    /// Validates a configuration.
    fn validate(&self, config: &Value) -> Diagnostics;
    /// Reads the data.
    async fn read(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        config: &Value,
    ) -> ApplyOutcome;
}

struct TypedResource<R> {
    inner: R,
    schema: Schema,
    ty: Type,
}

/// Wraps a typed resource for registration; fails only on a model the schema cannot express.
pub fn resource<R: Resource>(
    inner: R,
) -> Result<Arc<dyn DynResource<R::Client>>, SchemaDeriveError> {
    let schema = inner.schema()?;
    let ty = schema.value_type();
    Ok(Arc::new(TypedResource { inner, schema, ty }))
}

/// The outcome of an operation: `state`, with the context's private state and diagnostics
/// followed by `extra`.
fn finish<C>(ctx: Context<'_, C>, state: Value, extra: Diagnostics) -> ApplyOutcome {
    let (mut diagnostics, private) = ctx.finish();
    diagnostics.extend(extra);
    ApplyOutcome {
        state,
        private,
        diagnostics,
    }
}

#[async_trait]
impl<R: Resource> DynResource<R::Client> for TypedResource<R> {
    fn type_name(&self) -> &'static str {
        self.inner.type_name()
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn value_type(&self) -> &Type {
        &self.ty
    }

    fn json_schema(&self) -> serde_json::Value {
        crate::schema::model_json_schema::<R::Model>()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        register_sensitive(&self.schema.block, config);
        let mut diagnostics = Diagnostics::new();
        validate_attributes(
            &self.schema.block,
            config,
            AttributePath::default(),
            &mut diagnostics,
        );
        self.inner.validate(config, &mut diagnostics);
        diagnostics
    }

    async fn plan(
        &self,
        client: Option<&R::Client>,
        stop: watch::Receiver<bool>,
        prior: &Value,
        proposed: &Value,
        config: &Value,
        private: Private,
    ) -> PlanOutcome {
        register_sensitive(&self.schema.block, config);
        register_sensitive(&self.schema.block, prior);
        if proposed.is_null() {
            return PlanOutcome {
                planned: Value::Null,
                private,
                ..PlanOutcome::default()
            };
        }
        let (mut plan, mut diagnostics) =
            match plan_attributes(&self.schema.block, prior, proposed, config) {
                Ok(result) => result,
                Err(diagnostics) => {
                    return PlanOutcome {
                        planned: proposed.clone(),
                        private,
                        diagnostics,
                        ..PlanOutcome::default()
                    }
                }
            };
        let ctx = Context::new(client, private, stop);
        if let Err(errors) = self.inner.modify_plan(&ctx, &mut plan).await {
            diagnostics.extend(errors);
        }
        let (planned, requires_replace) = plan.into_parts();
        crate::trace!(
            "planned {}: {}",
            self.type_name(),
            render(&self.schema.block, &planned)
        );
        let (ctx_diagnostics, private) = ctx.finish();
        diagnostics.extend(ctx_diagnostics);
        PlanOutcome {
            planned,
            requires_replace,
            private,
            diagnostics,
        }
    }

    async fn apply(
        &self,
        client: Option<&R::Client>,
        stop: watch::Receiver<bool>,
        prior: &Value,
        planned: &Value,
        private: Private,
    ) -> ApplyOutcome {
        register_sensitive(&self.schema.block, prior);
        register_sensitive(&self.schema.block, planned);
        let ctx = Context::new(client, private, stop);
        if planned.is_null() {
            crate::debug!("deleting {}", self.type_name());
            let result = match to_model(prior, &self.ty) {
                Ok(model) => self.inner.delete(&ctx, model).await,
                Err(e) => Err(e),
            };
            return match result {
                Ok(()) => finish(ctx, Value::Null, Diagnostics::new()),
                // The object may still exist: keep its state so nothing is lost.
                Err(errors) => finish(ctx, prior.clone(), errors),
            };
        }
        let creating = prior.is_null();
        crate::debug!(
            "{} {}",
            if creating { "creating" } else { "updating" },
            self.type_name()
        );
        let result = match to_model::<R::Model>(planned, &self.ty) {
            Ok(plan_model) if creating => self.inner.create(&ctx, plan_model).await,
            Ok(plan_model) => match to_model(prior, &self.ty) {
                Ok(prior_model) => self.inner.update(&ctx, prior_model, plan_model).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let model = match result {
            Ok(model) => model,
            // Nothing was created, or the update failed: Terraform keeps the prior state.
            Err(errors) => return finish(ctx, prior.clone(), errors),
        };
        let state = match from_model(&model, &self.ty) {
            Ok(state) => keep_planned(planned, state),
            Err(errors) => return finish(ctx, prior.clone(), errors),
        };
        register_sensitive(&self.schema.block, &state);
        let mut extra = Diagnostics::new();
        let mut unknown = Vec::new();
        unknown_paths(&state, AttributePath::default(), &mut unknown);
        for path in unknown {
            extra.push(
                Diagnostic::error(
                    "Provider left a value unknown after apply",
                    format!(
                        "{} did not set {path}; this is a provider bug.",
                        self.type_name()
                    ),
                )
                .at(path),
            );
        }
        crate::trace!(
            "applied {}: {}",
            self.type_name(),
            render(&self.schema.block, &state)
        );
        finish(ctx, state, extra)
    }

    async fn read(
        &self,
        client: Option<&R::Client>,
        stop: watch::Receiver<bool>,
        state: &Value,
        private: Private,
    ) -> ApplyOutcome {
        register_sensitive(&self.schema.block, state);
        let ctx = Context::new(client, private, stop);
        if state.is_null() {
            return finish(ctx, Value::Null, Diagnostics::new());
        }
        let result = match to_model(state, &self.ty) {
            Ok(model) => self.inner.read(&ctx, model).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(Some(model)) => match from_model(&model, &self.ty) {
                Ok(new_state) => {
                    crate::trace!(
                        "read {}: {}",
                        self.type_name(),
                        render(&self.schema.block, &new_state)
                    );
                    finish(ctx, new_state, Diagnostics::new())
                }
                Err(errors) => finish(ctx, state.clone(), errors),
            },
            Ok(None) => {
                crate::info!(
                    "{} no longer exists remotely; Terraform will plan to create it",
                    self.type_name()
                );
                finish(ctx, Value::Null, Diagnostics::new())
            }
            Err(errors) => finish(ctx, state.clone(), errors),
        }
    }

    async fn import(
        &self,
        client: Option<&R::Client>,
        stop: watch::Receiver<bool>,
        id: &str,
    ) -> ApplyOutcome {
        let ctx = Context::new(client, Private::default(), stop);
        let result = self.inner.import(&ctx, id).await;
        match result.and_then(|model| from_model(&model, &self.ty)) {
            Ok(state) => finish(ctx, state, Diagnostics::new()),
            Err(errors) => finish(ctx, Value::Null, errors),
        }
    }

    fn upgrade(&self, version: i64, state: serde_json::Value) -> Result<Value, Diagnostics> {
        let state = if version == self.schema.version {
            state
        } else {
            self.inner.upgrade_state(version, state)?
        };
        upgrade_json(&state, &self.ty)
    }
}

/// Decodes stored JSON state leniently: attributes no longer in the schema are dropped
/// and missing ones become null, as Terraform expects of UpgradeResourceState.
fn upgrade_json(state: &serde_json::Value, ty: &Type) -> Result<Value, Diagnostics> {
    let cleaned = match (state, ty) {
        (serde_json::Value::Object(entries), Type::Object(fields)) => serde_json::Value::Object(
            entries
                .iter()
                .filter(|(k, _)| fields.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        (other, _) => other.clone(),
    };
    crate::value::json::from_serde(&cleaned, ty).map_err(|e| {
        Diagnostic::error("Stored state does not fit the schema", e.to_string()).into()
    })
}

struct TypedDataSource<D> {
    inner: D,
    schema: Schema,
    ty: Type,
}

/// Wraps a typed data source for registration.
pub fn data_source<D: DataSource>(
    inner: D,
) -> Result<Arc<dyn DynDataSource<D::Client>>, SchemaDeriveError> {
    let schema = inner.schema()?;
    let ty = schema.value_type();
    Ok(Arc::new(TypedDataSource { inner, schema, ty }))
}

#[async_trait]
impl<D: DataSource> DynDataSource<D::Client> for TypedDataSource<D> {
    fn type_name(&self) -> &'static str {
        self.inner.type_name()
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn value_type(&self) -> &Type {
        &self.ty
    }

    fn json_schema(&self) -> serde_json::Value {
        crate::schema::model_json_schema::<D::Model>()
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        validate_attributes(
            &self.schema.block,
            config,
            AttributePath::default(),
            &mut diagnostics,
        );
        self.inner.validate(config, &mut diagnostics);
        diagnostics
    }

    async fn read(
        &self,
        client: Option<&D::Client>,
        stop: watch::Receiver<bool>,
        config: &Value,
    ) -> ApplyOutcome {
        register_sensitive(&self.schema.block, config);
        let ctx = Context::new(client, Private::default(), stop);
        let result = match to_model(config, &self.ty) {
            Ok(model) => self.inner.read(&ctx, model).await,
            Err(e) => Err(e),
        };
        match result.and_then(|model| from_model(&model, &self.ty)) {
            Ok(state) => {
                let planned = computed_as_unknown(&self.schema.block, config);
                finish(ctx, keep_planned(&planned, state), Diagnostics::new())
            }
            Err(errors) => finish(ctx, Value::Null, errors),
        }
    }
}
