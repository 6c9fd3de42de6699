//! Resources that are events (a restart, a rollback, a deploy): the skeleton they share.
//!
//! Applying such a resource *does* something once; there is nothing to update or delete
//! remotely. An [`Operation`] writes only its own logic (checks, the run, an optional
//! read); [`operation`] registers it as a resource that
//! - warns when a destroy is planned that destroying only forgets the event
//!   ([`Operation::forget_warning`]),
//! - runs it on create with its time limit resolved from the `timeouts` block
//!   ([`Operation::timeouts`], [`Operation::DEFAULT_TIMEOUT`]),
//! - updates in place (only `timeouts` can change: every argument forces a new event)
//!   keeping every computed result of the prior state,
//! - deletes by forgetting ([`Operation::forget`] for local bookkeeping).
//!
//! The model of an operation declares its arguments with `requires_replace` (a change runs
//! the operation again), a `triggers` map of arbitrary values whose change does the same
//! (`Field<Triggers>`), its results as computed attributes with `use_state_for_unknown`,
//! and an optional `timeouts` block of type [`CreateTimeout`].

use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::tree::{to_tree, Tree};
use super::{Context, Resource, ResourcePlan};
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::{Schema, SchemaDeriveError};
use crate::types::CreateTimeout;

/// An event a resource records: see the [module documentation](self).
#[async_trait]
pub trait Operation: Send + Sync + 'static {
    /// The operation's attributes; its schema is derived from it.
    type Model: Serialize + DeserializeOwned + JsonSchema + crate::ModelSettings + Send + Sync;
    /// What the provider's configuration produced (API clients).
    type Client: Send + Sync + 'static;

    /// How long the run may take when the `timeouts` block does not say.
    const DEFAULT_TIMEOUT: Duration;

    /// The full type name, e.g. `treeherder_dyno_restart`.
    fn type_name(&self) -> &'static str;

    /// The model's `timeouts` block, if it has one and it is set.
    fn timeouts(model: &Self::Model) -> Option<&CreateTimeout>;

    /// Checks of a configuration (values may be unknown), as [`Resource::validate`].
    fn validate(&self, _config: &Self::Model, _diagnostics: &mut Diagnostics) {}

    /// Adjusts a plan, as [`Resource::modify_plan`]; `plan.prior` is `None` for a new run
    /// (a replacement is planned as one).
    async fn modify_plan(
        &self,
        _ctx: &Context<'_, Self::Client>,
        _plan: &mut ResourcePlan<Self::Model>,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// The warning shown when a destroy is planned: that it only forgets the event, and
    /// what stays as it is.
    fn forget_warning(&self, prior: &Self::Model) -> Diagnostic;

    /// Does the operation and returns the state, every computed attribute known. An error
    /// added to `ctx` with a state returned saves the state as tainted (the next apply runs
    /// the operation again); an error returned saves nothing.
    async fn run(
        &self,
        ctx: &Context<'_, Self::Client>,
        plan: Self::Model,
        limit: &TimeLimit,
    ) -> Result<Self::Model, Diagnostics>;

    /// Refreshes the state; by default the state is all there is. `None` when the event's
    /// trace is gone (the next plan runs it again).
    async fn read(
        &self,
        _ctx: &Context<'_, Self::Client>,
        state: Self::Model,
    ) -> Result<Option<Self::Model>, Diagnostics> {
        Ok(Some(state))
    }

    /// Runs when the event is forgotten (destroyed or replaced): local bookkeeping only,
    /// nothing remote changes.
    async fn forget(&self, _ctx: &Context<'_, Self::Client>, _state: &Self::Model) {}

    /// Builds the state of a past event from an import id, as [`Resource::import`]; by
    /// default events are not importable.
    async fn import(
        &self,
        _ctx: &Context<'_, Self::Client>,
        _id: &str,
    ) -> Result<Self::Model, Diagnostics> {
        Err(Diagnostic::error(
            "Import not supported",
            format!(
                "{} cannot be imported: it is an event recorded only by the apply that made it.",
                self.type_name()
            ),
        )
        .into())
    }
}

/// The time limit of a run: the `timeouts.create` set, else the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLimit {
    /// How long.
    pub limit: Duration,
    /// The limit as written (or the default's text, e.g. `"10m"`), for messages.
    pub text: String,
}

impl TimeLimit {
    /// The limit a `timeouts` block sets, else `default`.
    pub fn of(block: Option<&CreateTimeout>, default: Duration) -> TimeLimit {
        let (limit, text) = CreateTimeout::limit(block, default, &duration_text(default));
        TimeLimit { limit, text }
    }

    /// Where the limit is set: `timeouts.create`, for messages that say how to raise it.
    pub fn path() -> AttributePath {
        AttributePath::root("timeouts").attribute("create")
    }
}

/// A whole number of hours, minutes or seconds as a `timeouts` value is written (`"30m"`).
fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else if d.subsec_millis() == 0 {
        format!("{s}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// An [`Operation`] as a [`Resource`]; register it with [`operation`].
pub struct OperationResource<O>(pub O);

/// Wraps an operation for registration, as [`resource`](super::resource) does a resource.
pub fn operation<O: Operation>(
    inner: O,
) -> Result<std::sync::Arc<dyn super::DynResource<O::Client>>, SchemaDeriveError> {
    super::resource(OperationResource(inner))
}

#[async_trait]
impl<O: Operation> Resource for OperationResource<O> {
    type Model = O::Model;
    type Client = O::Client;

    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<O::Model>()
    }

    fn validate(&self, config: &O::Model, diagnostics: &mut Diagnostics) {
        self.0.validate(config, diagnostics);
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, O::Client>,
        plan: &mut ResourcePlan<O::Model>,
    ) -> Result<(), Diagnostics> {
        self.0.modify_plan(ctx, plan).await
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, O::Client>,
        prior: &O::Model,
    ) -> Result<(), Diagnostics> {
        ctx.add(self.0.forget_warning(prior));
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, O::Client>,
        plan: O::Model,
    ) -> Result<O::Model, Diagnostics> {
        let limit = TimeLimit::of(O::timeouts(&plan), O::DEFAULT_TIMEOUT);
        self.0.run(ctx, plan, &limit).await
    }

    async fn read(
        &self,
        ctx: &Context<'_, O::Client>,
        state: O::Model,
    ) -> Result<Option<O::Model>, Diagnostics> {
        self.0.read(ctx, state).await
    }

    async fn update(
        &self,
        _ctx: &Context<'_, O::Client>,
        prior: O::Model,
        plan: O::Model,
    ) -> Result<O::Model, Diagnostics> {
        // Every argument forces a new run, so only `timeouts` changes in place: the results
        // stay those of the run.
        keep_prior_where_unknown(plan, &prior)
    }

    async fn delete(
        &self,
        ctx: &Context<'_, O::Client>,
        state: O::Model,
    ) -> Result<(), Diagnostics> {
        self.0.forget(ctx, &state).await;
        crate::info!(
            "forgetting this {}: nothing changes remotely",
            self.0.type_name()
        );
        Ok(())
    }

    async fn import(
        &self,
        ctx: &Context<'_, O::Client>,
        id: &str,
    ) -> Result<O::Model, Diagnostics> {
        self.0.import(ctx, id).await
    }
}

/// `plan` with every top-level attribute unknown in it taken from `prior`.
fn keep_prior_where_unknown<M: Serialize + DeserializeOwned>(
    plan: M,
    prior: &M,
) -> Result<M, Diagnostics> {
    let broken = |e: serde_json::Error| {
        Diagnostics::from(Diagnostic::error(
            "Cannot keep the prior results",
            format!(
                "The planned state did not convert back to its model: {e}. This is a provider bug."
            ),
        ))
    };
    let Tree::Map(mut fields) = to_tree(&plan).map_err(broken)? else {
        // Wholly known: nothing to take.
        return Ok(plan);
    };
    let prior = to_tree(prior).map_err(broken)?;
    let mut changed = false;
    for (name, value) in fields.iter_mut() {
        if let (Tree::Unknown, Some(old)) = (&*value, prior.node().get(name)) {
            *value = old.to_tree();
            changed = true;
        }
    }
    if !changed {
        return Ok(plan);
    }
    M::deserialize(&Tree::Map(fields)).map_err(broken)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::Field;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Model {
        app: Field<String>,
        id: Field<String>,
        status: Field<String>,
        note: Field<String>,
    }

    #[test]
    fn an_update_keeps_the_prior_results_where_the_plan_has_unknowns() {
        let prior = Model {
            app: Field::known("a"),
            id: Field::known("1"),
            status: Field::known("up"),
            note: Field::Null,
        };
        let plan = Model {
            app: Field::known("a"),
            id: Field::Unknown,
            status: Field::known("planned"),
            note: Field::Unknown,
        };
        let kept = keep_prior_where_unknown(plan, &prior).unwrap();
        assert_eq!(
            kept,
            Model {
                app: Field::known("a"),
                id: Field::known("1"),
                status: Field::known("planned"),
                note: Field::Null,
            }
        );
    }

    #[test]
    fn time_limits_default_and_read_as_written() {
        let default = TimeLimit::of(None, Duration::from_secs(600));
        assert_eq!(
            (default.limit.as_secs(), default.text.as_str()),
            (600, "10m")
        );
        assert_eq!(duration_text(Duration::from_secs(7200)), "2h");
        assert_eq!(duration_text(Duration::from_secs(90)), "90s");
        assert_eq!(duration_text(Duration::from_millis(1500)), "1500ms");
        let block = CreateTimeout {
            create: Field::Known(crate::types::Duration::parse("1h30m").unwrap()),
        };
        let set = TimeLimit::of(Some(&block), Duration::from_secs(600));
        assert_eq!((set.limit.as_secs(), set.text.as_str()), (5400, "1h30m"));
        assert_eq!(TimeLimit::path().to_string(), "timeouts.create");
    }
}
