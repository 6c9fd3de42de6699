//! [`Step`]: one step of a [`super::TestCase`] (apply a configuration, plan only, refresh, or
//! import), with its checks and hooks.

use std::future::Future;

use regex::Regex;

use crate::check::{CheckError, Hook, PlanCheck, StateCheck};
use crate::plan::Plan;
use crate::state::State;

/// An import step: `terraform import` into a fresh working directory with the same config.
#[derive(Debug, Clone, Default)]
pub struct ImportStep {
    /// Address to import into, e.g. `example_thing.web`.
    pub resource_address: String,
    /// The import id; `None` takes the `id` attribute of that resource in the previous state,
    /// after `id_prefix`.
    pub id: Option<String>,
    /// Put before the `id` attribute when `id` is `None` (e.g. `app:` before a job id).
    pub id_prefix: String,
    /// Compare the imported attributes with the previous step's state.
    pub verify: bool,
    /// Attribute paths (flatmap keys or their prefixes at a `.`) the comparison skips.
    pub ignore: Vec<String>,
    /// Import in place in the main working directory instead: `state rm` the address, import
    /// it, then plan with the same configuration, which must be empty (with and without
    /// refresh) apart from `plan_may_change`.
    pub in_place: bool,
    /// Top-level attributes the plan after an in-place import may update in place (values
    /// that cannot be read back); empty means the plan must have no change at all.
    pub plan_may_change: Vec<String>,
}

/// One step of a [`TestCase`](super::TestCase). Build with [`Step::config`], [`Step::import`] or
/// [`Step::refresh`] and the chained setters.
#[derive(Default)]
pub struct Step {
    /// HCL configuration; `None` reuses the previous step's.
    pub config: Option<String>,
    /// Checks over the state after the step, in order.
    pub checks: Vec<StateCheck>,
    /// Checks over the plan before it is applied (config steps) or the refreshed plan
    /// (plan-only), in order.
    pub plan_checks: Vec<PlanCheck>,
    /// The step must fail (apply, plan or import) with an error matching this.
    pub expect_error: Option<Regex>,
    /// The refreshed plan after the step must have changes.
    pub expect_non_empty_plan: bool,
    /// Only plan; nothing is applied.
    pub plan_only: bool,
    /// `terraform apply -refresh-only` instead of a normal apply.
    pub refresh_only: bool,
    /// Plan-only: `terraform plan -destroy` (it must succeed) instead of a normal plan.
    pub destroy_plan: bool,
    /// Plan-only steps: the plan's text must match this (a warning the provider gives).
    pub expect_plan_output: Option<Regex>,
    /// Makes this an import step.
    pub import: Option<ImportStep>,
    /// Makes this an adoption step: `(address, id)` pairs imported in place.
    pub adopt: Vec<(String, String)>,
    /// Runs before the step.
    pub pre_step: Option<Hook>,
    /// Applying steps: runs once the plan is saved to a file, before that file is applied
    /// (the world changing between a reviewed plan and its apply).
    pub after_plan: Option<Hook>,
}

impl Step {
    /// A step applying `hcl`.
    pub fn config(hcl: impl Into<String>) -> Self {
        Step {
            config: Some(hcl.into()),
            ..Step::default()
        }
    }

    /// An import step for `resource_address`, with the previous step's config.
    pub fn import(resource_address: impl Into<String>) -> Self {
        Step {
            import: Some(ImportStep {
                resource_address: resource_address.into(),
                ..ImportStep::default()
            }),
            ..Step::default()
        }
    }

    /// An in-place import step (terraform-plugin-testing's ImportStateVerify as a plan): in the
    /// main working directory, `terraform state rm` then `terraform import` of
    /// `resource_address`, then plans with the previous step's config (or
    /// [`Step::with_config`]) must be empty. Set the id with [`Step::import_id`].
    pub fn reimport(resource_address: impl Into<String>) -> Self {
        Step {
            import: Some(ImportStep {
                resource_address: resource_address.into(),
                in_place: true,
                ..ImportStep::default()
            }),
            ..Step::default()
        }
    }

    /// Lets the plan after an in-place import update only these attributes of the imported
    /// resource (values that cannot be read back, as its import docs say).
    pub fn plan_may_change<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Some(import) = self.import.as_mut() {
            import.plan_may_change = attributes.into_iter().map(Into::into).collect();
        }
        self
    }

    /// An adoption step: with `hcl` (objects that exist but are not in the state yet, e.g.
    /// written from a data source's listing) in the main working directory, `terraform import`
    /// of each `(address, id)`, then the non-refresh and refreshed plans must be empty; the
    /// state checks run last, so they also see what planning did (e.g. no writes).
    pub fn adopt<I, A, B>(hcl: impl Into<String>, imports: I) -> Self
    where
        I: IntoIterator<Item = (A, B)>,
        A: Into<String>,
        B: Into<String>,
    {
        Step {
            config: Some(hcl.into()),
            adopt: imports
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect(),
            ..Step::default()
        }
    }

    /// A refresh-only step with the previous step's config.
    pub fn refresh() -> Self {
        Step {
            refresh_only: true,
            ..Step::default()
        }
    }

    /// Sets the import id (import steps).
    pub fn import_id(mut self, id: impl Into<String>) -> Self {
        if let Some(import) = self.import.as_mut() {
            import.id = Some(id.into());
        }
        self
    }

    /// Imports by `prefix` followed by the resource's `id` in the previous state (import steps).
    pub fn import_id_prefix(mut self, prefix: impl Into<String>) -> Self {
        if let Some(import) = self.import.as_mut() {
            import.id_prefix = prefix.into();
        }
        self
    }

    /// Verifies imported attributes against the previous state, skipping `ignore` (import steps).
    pub fn verify_import<I, S>(mut self, ignore: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Some(import) = self.import.as_mut() {
            import.verify = true;
            import.ignore = ignore.into_iter().map(Into::into).collect();
        }
        self
    }

    /// Uses `hcl` instead of the previous config (import, refresh steps).
    pub fn with_config(mut self, hcl: impl Into<String>) -> Self {
        self.config = Some(hcl.into());
        self
    }

    /// Adds a synchronous state check.
    pub fn check<F, E>(mut self, f: F) -> Self
    where
        F: Fn(&State) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        self.checks.push(StateCheck::sync(f));
        self
    }

    /// Adds state checks, e.g. from [`crate::statecheck`] or [`crate::CompareValue::add`].
    pub fn state_checks(mut self, checks: impl IntoIterator<Item = StateCheck>) -> Self {
        self.checks.extend(checks);
        self
    }

    /// Adds plan checks, e.g. from [`crate::plancheck`].
    pub fn plan_checks(mut self, checks: impl IntoIterator<Item = PlanCheck>) -> Self {
        self.plan_checks.extend(checks);
        self
    }

    /// Adds an asynchronous state check.
    pub fn check_async<F, Fut, E>(mut self, f: F) -> Self
    where
        F: Fn(State) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        self.checks.push(StateCheck::future(f));
        self
    }

    /// Adds a plan check.
    pub fn plan_check<F, E>(mut self, f: F) -> Self
    where
        F: Fn(&Plan) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        self.plan_checks.push(PlanCheck::sync(f));
        self
    }

    /// Expects the step to fail with an error matching `pattern`.
    pub fn expect_error(mut self, pattern: Regex) -> Self {
        self.expect_error = Some(pattern);
        self
    }

    /// Expects the refreshed plan after the step to have changes.
    pub fn expect_non_empty_plan(mut self) -> Self {
        self.expect_non_empty_plan = true;
        self
    }

    /// A plan-only step planning `terraform plan -destroy` with the previous config, which
    /// must succeed; nothing is destroyed (check its text with [`Step::expect_plan_output`]).
    pub fn destroy_plan() -> Self {
        Step {
            plan_only: true,
            destroy_plan: true,
            ..Step::default()
        }
    }

    /// Plan-only steps: expects the plan's text to match `pattern`.
    pub fn expect_plan_output(mut self, pattern: Regex) -> Self {
        self.expect_plan_output = Some(pattern);
        self
    }

    /// Only plans.
    pub fn plan_only(mut self) -> Self {
        self.plan_only = true;
        self
    }

    /// Runs `f` before the step.
    pub fn pre_step<F, E>(mut self, f: F) -> Self
    where
        F: Fn() -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        self.pre_step = Some(Hook::sync(f));
        self
    }

    /// Runs the future of `f` after the step's plan was saved to a file and before that file
    /// is applied (applying steps; see [`Step::after_plan`]).
    pub fn after_plan_async<F, Fut, E>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        self.after_plan = Some(Hook::future(f));
        self
    }

    /// Runs the future of `f` before the step.
    pub fn pre_step_async<F, Fut, E>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        self.pre_step = Some(Hook::future(f));
        self
    }
}
