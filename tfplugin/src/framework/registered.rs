//! Type-erased resources and data sources: the value-level operations the gRPC layer calls.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::model::{keep_planned, register_sensitive, render, unknown_paths};
use super::plan::{computed_as_unknown, plan_attributes, validate_attributes};
use super::upgrade::{run_chain, Upgraded};
use super::view::{self, Level};
use super::{Context, DataSource, EphemeralResource, Private, Resource, ResourcePlan};
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::{Attribute, Nesting, Schema, SchemaDeriveError};
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

/// The result of opening or renewing an ephemeral resource.
#[derive(Debug, Default)]
pub struct EphemeralOutcome {
    /// The result (null on renew and on failure).
    pub result: Value,
    /// When Terraform should renew.
    pub renew_at: Option<std::time::SystemTime>,
    /// Private data for renew and close.
    pub private: Private,
    /// Problems found.
    pub diagnostics: Diagnostics,
}

/// What every registered resource, data source and ephemeral resource describes of itself.
pub trait Registered: Send + Sync {
    /// The full type name.
    fn type_name(&self) -> &'static str;
    /// The schema (derived once).
    fn schema(&self) -> &Schema;
    /// The object type the schema implies (derived once).
    fn value_type(&self) -> &Type;
    /// The JSON Schema of the model, for `schemas/`.
    fn json_schema(&self) -> serde_json::Value;
    /// Validates a configuration; `write_only_allowed` is what Terraform announced.
    fn validate(&self, config: &Value, write_only_allowed: bool) -> Diagnostics;
}

/// A resource as the protocol layer sees it: values in, values out.
#[async_trait]
pub trait DynResource<C>: Registered {
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
    /// Applies a planned change; `config` carries the write-only values.
    async fn apply(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        prior: &Value,
        planned: &Value,
        config: &Value,
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
pub trait DynDataSource<C>: Registered {
    /// Reads the data.
    async fn read(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        config: &Value,
    ) -> ApplyOutcome;
}

/// An ephemeral resource as the protocol layer sees it.
#[async_trait]
pub trait DynEphemeralResource<C>: Registered {
    /// Opens it.
    async fn open(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        config: &Value,
    ) -> EphemeralOutcome;
    /// Renews it.
    async fn renew(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        private: Private,
    ) -> EphemeralOutcome;
    /// Closes it.
    async fn close(
        &self,
        client: Option<&C>,
        stop: watch::Receiver<bool>,
        private: Private,
    ) -> Diagnostics;
}

/// A typed resource, data source or ephemeral resource (`K` says which) with its schema
/// derived once.
struct Typed<T, K> {
    inner: T,
    schema: Schema,
    ty: Type,
    kind: PhantomData<fn() -> K>,
}

/// The kinds of [`Typed`], so each gets its own trait implementations.
struct ResourceKind;
struct DataSourceKind;
struct EphemeralKind;

impl<T, K> Typed<T, K> {
    fn new(inner: T, schema: Schema) -> Self {
        let ty = schema.value_type();
        Typed {
            inner,
            schema,
            ty,
            kind: PhantomData,
        }
    }

    fn model_of<M: DeserializeOwned>(&self, value: &Value) -> Result<M, Diagnostics> {
        view::to_model(&self.schema.block, &self.ty, value)
    }

    fn model_value<M: Serialize>(&self, model: &M) -> Result<Value, Diagnostics> {
        view::from_model(&self.schema.block, model)
    }

    fn render(&self, value: &Value) -> String {
        render(&self.schema.block, value)
    }

    /// The schema's checks, then the model's own parsing of the configuration; `Some` model
    /// when it fits, for the type's own `validate`.
    fn check_config<M: DeserializeOwned>(
        &self,
        config: &Value,
        write_only_allowed: bool,
        diagnostics: &mut Diagnostics,
    ) -> Option<M> {
        register_sensitive(&self.schema.block, config);
        validate_attributes(
            &self.schema.block,
            config,
            AttributePath::default(),
            diagnostics,
        );
        if !write_only_allowed {
            reject_write_only(
                Level::of(&self.schema.block),
                config,
                AttributePath::default(),
                diagnostics,
            );
        }
        match self.model_of::<M>(config) {
            Ok(model) => Some(model),
            Err(errors) => {
                // One problem, one message: the model's parsing speaks for its attribute, in
                // the words it also uses at plan and apply.
                for error in errors.iter() {
                    if error.attribute.is_some() {
                        diagnostics.0.retain(|d| d.attribute != error.attribute);
                    }
                    diagnostics.push(error.clone());
                }
                None
            }
        }
    }
}

/// Write-only values set while Terraform did not announce write-only support: such a
/// Terraform would store them in the plan and state.
fn reject_write_only(
    level: Level<'_>,
    config: &Value,
    path: AttributePath,
    diagnostics: &mut Diagnostics,
) {
    let Value::Object(entries) = config else {
        return;
    };
    for attribute in level.attributes {
        let Some(value) = entries.get(&attribute.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let at = path.clone().attribute(&attribute.name);
        if attribute.write_only {
            diagnostics.push(
                Diagnostic::error(
                    "Write-only attribute needs Terraform 1.11 or later",
                    format!("{at} is write-only: Terraform 1.11 and later pass it to the provider without storing it, and this Terraform does not support write-only attributes. Upgrade Terraform, or use the plain (stored, sensitive) alternative to {at} where the resource has one."),
                )
                .at(at),
            );
        } else if let Some((nesting, inner)) = Level::nested(attribute) {
            each_nested(nesting, value, at, |v, p| {
                reject_write_only(inner, v, p, diagnostics)
            });
        }
    }
    for nested in level.blocks {
        if let Some(value) = entries.get(&nested.type_name) {
            let at = path.clone().attribute(&nested.type_name);
            each_nested(nested.nesting, value, at, |v, p| {
                reject_write_only(Level::of(&nested.block), v, p, diagnostics)
            });
        }
    }
}

/// Calls `f` on each object of a nested value with its path.
fn each_nested(
    nesting: Nesting,
    value: &Value,
    path: AttributePath,
    mut f: impl FnMut(&Value, AttributePath),
) {
    match (nesting, value) {
        (Nesting::Single, v) => f(v, path),
        (_, Value::List(items) | Value::Set(items)) => {
            for (i, item) in items.iter().enumerate() {
                f(item, path.clone().index(i as i64));
            }
        }
        (_, Value::Map(items)) => {
            for (key, item) in items {
                f(item, path.clone().key(key));
            }
        }
        _ => {}
    }
}

/// Write-only attributes are null in every planned and new state.
fn is_write_only(attribute: &Attribute) -> bool {
    attribute.write_only
}

/// Wraps a typed resource for registration; fails only on a model the schema cannot express.
pub fn resource<R: Resource>(
    inner: R,
) -> Result<Arc<dyn DynResource<R::Client>>, SchemaDeriveError> {
    let mut schema = inner.schema()?;
    schema.version = inner.schema_version();
    Ok(Arc::new(Typed::<R, ResourceKind>::new(inner, schema)))
}

/// Wraps a typed data source for registration.
pub fn data_source<D: DataSource>(
    inner: D,
) -> Result<Arc<dyn DynDataSource<D::Client>>, SchemaDeriveError> {
    let schema = inner.schema()?;
    Ok(Arc::new(Typed::<D, DataSourceKind>::new(inner, schema)))
}

/// Wraps a typed ephemeral resource for registration.
pub fn ephemeral_resource<E: EphemeralResource>(
    inner: E,
) -> Result<Arc<dyn DynEphemeralResource<E::Client>>, SchemaDeriveError> {
    let schema = inner.schema()?;
    Ok(Arc::new(Typed::<E, EphemeralKind>::new(inner, schema)))
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

/// `Registered` for each kind, over its model type.
macro_rules! registered {
    ($bound:ident, $kind:ident) => {
        impl<T: $bound> Registered for Typed<T, $kind> {
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
                crate::schema::model_json_schema::<T::Model>()
            }

            fn validate(&self, config: &Value, write_only_allowed: bool) -> Diagnostics {
                let mut diagnostics = Diagnostics::new();
                if let Some(model) =
                    self.check_config::<T::Model>(config, write_only_allowed, &mut diagnostics)
                {
                    self.inner.validate(&model, &mut diagnostics);
                }
                diagnostics
            }
        }
    };
}

registered!(Resource, ResourceKind);
registered!(DataSource, DataSourceKind);
registered!(EphemeralResource, EphemeralKind);

impl<R: Resource> Typed<R, ResourceKind> {
    /// The model of stored state. The state was written by this provider, so a value the
    /// model rejects is one an earlier version accepted: say so, and how to get past it,
    /// rather than report it as a configuration error.
    fn state_model_of<M: DeserializeOwned>(&self, state: &Value) -> Result<M, Diagnostics> {
        self.model_of(state).map_err(|errors| {
            Diagnostics(
                errors
                    .0
                    .into_iter()
                    .map(|error| match error.attribute.clone() {
                        Some(path) => Diagnostic::error(
                            format!("Stored {path} no longer accepted"),
                            format!(
                                "The state of this {} holds a value of {path} that this version of the provider rejects: {} An earlier version accepted it; nothing was sent. Remove the object from the state (`terraform state rm <address>`), correct {path} in the configuration, then import the object again or let Terraform create it.",
                                self.inner.type_name(),
                                error.detail
                            ),
                        )
                        .at(path),
                        None => error,
                    })
                    .collect(),
            )
        })
    }
}

#[async_trait]
impl<R: Resource> DynResource<R::Client> for Typed<R, ResourceKind> {
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
        let ctx = Context::new(client, private, stop);
        if proposed.is_null() {
            let result = match self.state_model_of::<R::Model>(prior) {
                Ok(model) => self.inner.plan_destroy(&ctx, &model).await,
                Err(e) => Err(e),
            };
            let (mut diagnostics, private) = ctx.finish();
            diagnostics.extend(result.err().unwrap_or_default());
            return PlanOutcome {
                planned: Value::Null,
                private,
                diagnostics,
                ..PlanOutcome::default()
            };
        }
        // Write-only values never take part in planning: a plan that differs from the prior
        // state only by them is no change.
        let mut proposed = proposed.clone();
        view::null_attributes(Level::of(&self.schema.block), &mut proposed, &is_write_only);
        let framework = plan_attributes(&self.schema.block, prior, &proposed, config);
        let mut diagnostics = framework.diagnostics;
        let mut requires_replace = framework.requires_replace;
        let mut planned = framework.planned;
        let typed = (|| {
            Ok::<_, Diagnostics>((
                self.model_of::<R::Model>(config)?,
                if prior.is_null() {
                    None
                } else {
                    Some(self.state_model_of::<R::Model>(prior)?)
                },
                self.model_of::<R::Model>(&planned)?,
            ))
        })();
        match typed {
            Ok((config_model, prior_model, planned_model)) => {
                let before = self.model_value(&planned_model);
                let mut plan = ResourcePlan::new(config_model, prior_model, planned_model);
                if let Err(errors) = self.inner.modify_plan(&ctx, &mut plan).await {
                    diagnostics.extend(errors);
                }
                for path in plan.take_requires_replace() {
                    if !requires_replace.contains(&path) {
                        requires_replace.push(path);
                    }
                }
                match (before, self.model_value(&plan.planned)) {
                    (Ok(before), Ok(after)) => {
                        planned = view::keep_unchanged(&planned, &before, after)
                    }
                    (Err(e), _) | (_, Err(e)) => diagnostics.extend(e),
                }
            }
            Err(errors) => diagnostics.extend(errors),
        }
        view::null_attributes(Level::of(&self.schema.block), &mut planned, &is_write_only);
        crate::trace!("planned {}: {}", self.type_name(), self.render(&planned));
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
        config: &Value,
        private: Private,
    ) -> ApplyOutcome {
        register_sensitive(&self.schema.block, prior);
        register_sensitive(&self.schema.block, planned);
        register_sensitive(&self.schema.block, config);
        let ctx = Context::new(client, private, stop);
        if planned.is_null() {
            crate::debug!("deleting {}", self.type_name());
            let result = match self.state_model_of(prior) {
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
        let level = Level::of(&self.schema.block);
        // Write-only values are only in the configuration.
        let mut with_secrets = planned.clone();
        view::copy_attributes(level, config, &mut with_secrets, &is_write_only);
        let result = match self.model_of::<R::Model>(&with_secrets) {
            Ok(plan_model) if creating => self.inner.create(&ctx, plan_model).await,
            Ok(plan_model) => match self.state_model_of(prior) {
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
        // After a failed apply Terraform does not hold the result to the plan, and the
        // result is what is true (a half-done change): it is saved as returned.
        let failed = ctx.has_errors();
        let mut state = match self.model_value(&model) {
            Ok(state) if failed => state,
            Ok(state) => keep_planned(planned, state),
            Err(errors) => return finish(ctx, prior.clone(), errors),
        };
        view::null_attributes(level, &mut state, &is_write_only);
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
        crate::trace!("applied {}: {}", self.type_name(), self.render(&state));
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
        let result = match self.state_model_of(state) {
            Ok(model) => self.inner.read(&ctx, model).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(Some(model)) => match self.model_value(&model) {
                Ok(mut new_state) => {
                    view::null_attributes(
                        Level::of(&self.schema.block),
                        &mut new_state,
                        &is_write_only,
                    );
                    crate::trace!("read {}: {}", self.type_name(), self.render(&new_state));
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
        match result.and_then(|model| self.model_value(&model)) {
            Ok(mut state) => {
                view::null_attributes(Level::of(&self.schema.block), &mut state, &is_write_only);
                finish(ctx, state, Diagnostics::new())
            }
            Err(errors) => finish(ctx, Value::Null, errors),
        }
    }

    fn upgrade(&self, version: i64, state: serde_json::Value) -> Result<Value, Diagnostics> {
        let upgraders = if version == self.schema.version {
            Vec::new()
        } else {
            self.inner.state_upgraders()
        };
        match run_chain(
            self.type_name(),
            self.schema.version,
            &upgraders,
            version,
            state,
        )? {
            Upgraded::Current(model) => {
                // Write-only values are never stored, whatever the upgrader set.
                let mut state = self.model_value(&model)?;
                view::null_attributes(Level::of(&self.schema.block), &mut state, &is_write_only);
                Ok(state)
            }
            Upgraded::Version(_, json) => upgrade_json(&json, &self.ty),
        }
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

#[async_trait]
impl<D: DataSource> DynDataSource<D::Client> for Typed<D, DataSourceKind> {
    async fn read(
        &self,
        client: Option<&D::Client>,
        stop: watch::Receiver<bool>,
        config: &Value,
    ) -> ApplyOutcome {
        register_sensitive(&self.schema.block, config);
        let ctx = Context::new(client, Private::default(), stop);
        let result = match self.model_of(config) {
            Ok(model) => self.inner.read(&ctx, model).await,
            Err(e) => Err(e),
        };
        match result.and_then(|model| self.model_value(&model)) {
            Ok(state) => {
                let planned = computed_as_unknown(&self.schema.block, config);
                finish(ctx, keep_planned(&planned, state), Diagnostics::new())
            }
            Err(errors) => finish(ctx, Value::Null, errors),
        }
    }
}

#[async_trait]
impl<E: EphemeralResource> DynEphemeralResource<E::Client> for Typed<E, EphemeralKind> {
    async fn open(
        &self,
        client: Option<&E::Client>,
        stop: watch::Receiver<bool>,
        config: &Value,
    ) -> EphemeralOutcome {
        register_sensitive(&self.schema.block, config);
        let ctx = Context::new(client, Private::default(), stop);
        let result = match self.model_of(config) {
            Ok(model) => self.inner.open(&ctx, model).await,
            Err(e) => Err(e),
        };
        let (result, renew_at, extra) = match result {
            Ok(opened) => match self.model_value(&opened.result) {
                Ok(value) => {
                    let planned = computed_as_unknown(&self.schema.block, config);
                    let value = keep_planned(&planned, value);
                    register_sensitive(&self.schema.block, &value);
                    (value, opened.renew_at, Diagnostics::new())
                }
                Err(errors) => (Value::Null, None, errors),
            },
            Err(errors) => (Value::Null, None, errors),
        };
        let (mut diagnostics, private) = ctx.finish();
        diagnostics.extend(extra);
        EphemeralOutcome {
            result,
            renew_at,
            private,
            diagnostics,
        }
    }

    async fn renew(
        &self,
        client: Option<&E::Client>,
        stop: watch::Receiver<bool>,
        private: Private,
    ) -> EphemeralOutcome {
        let ctx = Context::new(client, private, stop);
        let result = self.inner.renew(&ctx).await;
        let (mut diagnostics, private) = ctx.finish();
        let renew_at = match result {
            Ok(at) => at,
            Err(errors) => {
                diagnostics.extend(errors);
                None
            }
        };
        EphemeralOutcome {
            renew_at,
            private,
            diagnostics,
            ..EphemeralOutcome::default()
        }
    }

    async fn close(
        &self,
        client: Option<&E::Client>,
        stop: watch::Receiver<bool>,
        private: Private,
    ) -> Diagnostics {
        let ctx = Context::new(client, private, stop);
        let result = self.inner.close(&ctx).await;
        let (mut diagnostics, _) = ctx.finish();
        diagnostics.extend(result.err().unwrap_or_default());
        diagnostics
    }
}
