//! [`TestCase`] and [`Step`]: the terraform-plugin-testing lifecycle over the real CLI.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use regex::Regex;
use serde_json::Value;

use super::error::{HarnessError, Problem, TestFailure};
use super::paths::{terraform_binary, terraform_latest_binary};
use super::plan::Plan;
use super::provider::ProviderUnderTest;
use super::state::{flatten_attributes, State};
use super::terraform::{CommandOutput, Terraform, Workspace};

/// The error a check returns; anything convertible, including `String` and `&str`.
pub type CheckError = Box<dyn std::error::Error + Send + Sync>;
/// The result of a check or hook.
pub type CheckResult = Result<(), CheckError>;

type BoxFuture = Pin<Box<dyn Future<Output = CheckResult> + Send>>;

/// A check over a state (after a step, or the last state before destroy for `check_destroy`).
pub struct StateCheck(Box<dyn Fn(State) -> BoxFuture + Send + Sync>);
/// A check over the JSON plan a step is about to apply.
pub struct PlanCheck(Box<dyn Fn(Plan) -> BoxFuture + Send + Sync>);
/// A hook run before a step, e.g. to change the world behind Terraform's back (drift).
pub struct Hook(Box<dyn Fn() -> BoxFuture + Send + Sync>);

impl StateCheck {
    /// A synchronous check.
    pub fn sync<F, E>(f: F) -> Self
    where
        F: Fn(&State) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        let f = Arc::new(f);
        StateCheck(Box::new(move |state| {
            let f = Arc::clone(&f);
            Box::pin(async move { f(&state).map_err(Into::into) })
        }))
    }

    /// An asynchronous check (it gets its own copy of the state).
    pub fn future<F, Fut, E>(f: F) -> Self
    where
        F: Fn(State) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        StateCheck(Box::new(move |state| {
            let fut = f(state);
            Box::pin(async move { fut.await.map_err(Into::into) })
        }))
    }
}

impl PlanCheck {
    /// A synchronous plan check.
    pub fn sync<F, E>(f: F) -> Self
    where
        F: Fn(&Plan) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        let f = Arc::new(f);
        PlanCheck(Box::new(move |plan| {
            let f = Arc::clone(&f);
            Box::pin(async move { f(&plan).map_err(Into::into) })
        }))
    }
}

impl Hook {
    /// A synchronous hook.
    pub fn sync<F, E>(f: F) -> Self
    where
        F: Fn() -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        let f = Arc::new(f);
        Hook(Box::new(move || {
            let f = Arc::clone(&f);
            Box::pin(async move { f().map_err(Into::into) })
        }))
    }

    /// An asynchronous hook.
    pub fn future<F, Fut, E>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        Hook(Box::new(move || {
            let fut = f();
            Box::pin(async move { fut.await.map_err(Into::into) })
        }))
    }
}

/// Runs a boxed check, turning a panic (e.g. a failed `assert!`) into an error so the case
/// still destroys what it created.
async fn guarded(fut: BoxFuture) -> Result<(), String> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(match panic.downcast_ref::<String>() {
            Some(s) => format!("panicked: {s}"),
            None => match panic.downcast_ref::<&str>() {
                Some(s) => format!("panicked: {s}"),
                None => "panicked".to_string(),
            },
        }),
    }
}

/// An import step: `terraform import` into a fresh working directory with the same config.
#[derive(Debug, Clone, Default)]
pub struct ImportStep {
    /// Address to import into, e.g. `treeherder_heroku_app.web`.
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

/// One step of a [`TestCase`]. Build with [`Step::config`], [`Step::import`] or
/// [`Step::refresh`] and the chained setters.
#[derive(Default)]
pub struct Step {
    /// HCL configuration; `None` reuses the previous step's.
    pub config: Option<String>,
    /// Check over the state after the step.
    pub check: Option<StateCheck>,
    /// Check over the plan before it is applied (config steps) or the refreshed plan (plan-only).
    pub plan_check: Option<PlanCheck>,
    /// The step must fail (apply, plan or import) with an error matching this.
    pub expect_error: Option<Regex>,
    /// The refreshed plan after the step must have changes.
    pub expect_non_empty_plan: bool,
    /// Only plan; nothing is applied.
    pub plan_only: bool,
    /// `terraform apply -refresh-only` instead of a normal apply.
    pub refresh_only: bool,
    /// Makes this an import step.
    pub import: Option<ImportStep>,
    /// Runs before the step.
    pub pre_step: Option<Hook>,
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
        self.check = Some(StateCheck::sync(f));
        self
    }

    /// Adds an asynchronous state check.
    pub fn check_async<F, Fut, E>(mut self, f: F) -> Self
    where
        F: Fn(State) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        self.check = Some(StateCheck::future(f));
        self
    }

    /// Adds a plan check.
    pub fn plan_check<F, E>(mut self, f: F) -> Self
    where
        F: Fn(&Plan) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        self.plan_check = Some(PlanCheck::sync(f));
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

/// What a successful run did, for tests that want to prove the harness looked.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Steps run.
    pub steps: usize,
    /// Files the secret scan read (TRACE logs and captured output).
    pub files_scanned: usize,
    /// Bytes the secret scan read.
    pub bytes_scanned: u64,
    /// Sensitive values searched for.
    pub secrets_checked: usize,
}

/// Which Terraform a [`TestCase`] runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TerraformVersion {
    /// [`super::terraform_binary`]: `$TREEHERDER_TERRAFORM`, else `.tools/bin/terraform`
    /// (1.0.3; `make test` runs the acceptance tests a second time with it set to >= 1.11).
    #[default]
    Default,
    /// [`super::terraform_latest_binary`]: `$TREEHERDER_TERRAFORM_LATEST`, >= 1.11, for
    /// write-only attributes and ephemeral resources. The case fails when it is unavailable.
    Latest,
    /// This binary.
    Binary(PathBuf),
}

impl TerraformVersion {
    /// The binary this choice names on this machine.
    pub fn resolve(&self) -> Result<PathBuf, HarnessError> {
        match self {
            TerraformVersion::Default => terraform_binary(),
            TerraformVersion::Latest => terraform_latest_binary(),
            TerraformVersion::Binary(path) => Ok(path.clone()),
        }
    }
}

/// An acceptance test: steps against the providers under test, then destroy, the destroy
/// check and the secret scan.
pub struct TestCase {
    /// Providers installed into the private mirror (empty for provider-less configs).
    pub providers: Vec<ProviderUnderTest>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Extra environment for every Terraform command (and so the providers).
    pub env: BTreeMap<String, String>,
    /// Values that must never appear in logs or output. Values of `env` whose names contain
    /// PASSWORD, SECRET, TOKEN or API_KEY (and are at least 8 characters) are added automatically.
    pub sensitive_values: Vec<String>,
    /// Runs after the final destroy with the last state before it.
    pub check_destroy: Option<StateCheck>,
    /// Time limit of each Terraform command.
    pub command_timeout: Duration,
    /// The Terraform that runs the case.
    pub terraform: TerraformVersion,
}

impl TestCase {
    /// A case for one provider.
    pub fn new(provider: ProviderUnderTest) -> Self {
        TestCase {
            providers: vec![provider],
            ..TestCase::without_providers()
        }
    }

    /// A case whose configs use no providers.
    pub fn without_providers() -> Self {
        TestCase {
            providers: Vec::new(),
            steps: Vec::new(),
            env: BTreeMap::new(),
            sensitive_values: Vec::new(),
            check_destroy: None,
            command_timeout: Duration::from_secs(300),
            terraform: TerraformVersion::Default,
        }
    }

    /// Runs the case with the recent Terraform (`$TREEHERDER_TERRAFORM_LATEST`, >= 1.11), for
    /// configurations that use write-only attributes or ephemeral resources. When it is
    /// unavailable the case fails (it never skips).
    pub fn terraform_latest(self) -> Self {
        self.terraform(TerraformVersion::Latest)
    }

    /// Chooses the Terraform that runs the case.
    pub fn terraform(mut self, terraform: TerraformVersion) -> Self {
        self.terraform = terraform;
        self
    }

    /// Adds a provider.
    pub fn provider(mut self, provider: ProviderUnderTest) -> Self {
        self.providers.push(provider);
        self
    }

    /// Adds a step.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Adds environment variables (e.g. [`super::World::env`]).
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Adds a value that must never appear in logs or output.
    pub fn sensitive(mut self, value: impl Into<String>) -> Self {
        self.sensitive_values.push(value.into());
        self
    }

    /// Sets a synchronous destroy check.
    pub fn check_destroy<F, E>(mut self, f: F) -> Self
    where
        F: Fn(&State) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        self.check_destroy = Some(StateCheck::sync(f));
        self
    }

    /// Sets an asynchronous destroy check.
    pub fn check_destroy_async<F, Fut, E>(mut self, f: F) -> Self
    where
        F: Fn(State) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        self.check_destroy = Some(StateCheck::future(f));
        self
    }

    /// Runs the case and panics with every problem found (like `t.Fatal`).
    pub async fn run(self) -> RunReport {
        match self.try_run().await {
            Ok(report) => report,
            Err(failure) => panic!("{failure}"),
        }
    }

    /// Runs the case on a new runtime; for plain `#[test]` functions (not inside a runtime).
    pub fn run_blocking(self) -> RunReport {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(self.run()),
            Err(e) => panic!("could not start a tokio runtime: {e}"),
        }
    }

    /// All secrets: the explicit ones plus secret-looking env values.
    fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = self
            .sensitive_values
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        for (key, value) in &self.env {
            let key = key.to_ascii_uppercase();
            let secret_name = ["PASSWORD", "SECRET", "TOKEN", "API_KEY"]
                .iter()
                .any(|m| key.contains(m));
            if secret_name && value.len() >= 8 && !secrets.contains(value) {
                secrets.push(value.clone());
            }
        }
        secrets
    }

    /// Runs the case and returns every problem instead of panicking.
    pub async fn try_run(self) -> Result<RunReport, TestFailure> {
        let secrets = self.secrets();
        let created = self.terraform.resolve().and_then(|binary| {
            Terraform::with_binary(binary, &self.providers, self.env.clone(), secrets.clone())
        });
        let mut tf = match created {
            Ok(tf) => tf,
            Err(e) => {
                return Err(TestFailure {
                    problems: vec![Problem::Setup(e.to_string())],
                    kept_dir: None,
                })
            }
        };
        tf.set_timeout(self.command_timeout);
        let mut problems = Vec::new();
        let mut runner = StepRunner {
            tf: &tf,
            last_state: None,
            last_config: None,
            initialized: false,
        };
        let work = match tf.workspace("work") {
            Ok(ws) => ws,
            Err(e) => {
                problems.push(Problem::Setup(e.to_string()));
                return Err(finish_failure(tf, problems));
            }
        };
        for (index, step) in self.steps.iter().enumerate() {
            if let Err(reason) = runner.run_step(&work, index, step).await {
                problems.push(Problem::Step {
                    step: index + 1,
                    reason: tf.redact(&reason),
                });
                break;
            }
        }

        if runner.initialized {
            let before_destroy = match work.state().await {
                Ok(state) => Some(state),
                Err(e) => {
                    problems.push(Problem::Destroy(format!(
                        "reading the state before destroy: {e}"
                    )));
                    runner.last_state.clone()
                }
            };
            match work.destroy().await {
                Ok(_) => {
                    if let Some(check) = &self.check_destroy {
                        let state = before_destroy.unwrap_or_default();
                        if let Err(reason) = guarded((check.0)(state)).await {
                            problems.push(Problem::CheckDestroy(tf.redact(&reason)));
                        }
                    }
                }
                Err(e) => problems.push(Problem::Destroy(e.to_string())),
            }
        }

        let mut report = RunReport {
            steps: self.steps.len(),
            secrets_checked: secrets.len(),
            ..RunReport::default()
        };
        match tf.scan(&secrets) {
            Ok(scan) => {
                report.files_scanned = scan.files_scanned;
                report.bytes_scanned = scan.bytes_scanned;
                if !scan.leaks.is_empty() {
                    problems.push(Problem::SecretLeak(scan.leaks));
                }
                if let Some((file, line)) = scan.unclean_exits.first() {
                    problems.push(Problem::UncleanExit(format!("{}:{line}", file.display())));
                }
            }
            Err(e) => problems.push(Problem::Setup(format!("secret scan: {e}"))),
        }

        if problems.is_empty() {
            if std::env::var_os("TREEHERDER_KEEP_TEST_DIRS").is_some() {
                let kept = tf.keep();
                eprintln!("test files kept in {}", kept.display());
            }
            Ok(report)
        } else {
            Err(finish_failure(tf, problems))
        }
    }
}

fn finish_failure(tf: Terraform, problems: Vec<Problem>) -> TestFailure {
    let kept: PathBuf = tf.keep();
    TestFailure {
        problems,
        kept_dir: Some(kept),
    }
}

/// The mutable progress of a case through its steps.
struct StepRunner<'a> {
    tf: &'a Terraform,
    last_state: Option<State>,
    last_config: Option<String>,
    initialized: bool,
}

impl StepRunner<'_> {
    async fn run_step(
        &mut self,
        work: &Workspace<'_>,
        index: usize,
        step: &Step,
    ) -> Result<(), String> {
        if let Some(hook) = &step.pre_step {
            guarded((hook.0)())
                .await
                .map_err(|e| format!("pre_step hook: {e}"))?;
        }
        let config = step
            .config
            .clone()
            .or_else(|| self.last_config.clone())
            .ok_or("the first step needs a config")?;
        if let Some(import) = &step.import {
            if import.in_place {
                return self.import_in_place(work, step, import, &config).await;
            }
            return self.import_step(index, step, import, &config).await;
        }

        work.write_config(&config).map_err(|e| e.to_string())?;
        if let Err(e) = work.init().await {
            // A config that does not even parse fails at init; that can be the expected error.
            let text = e.to_string();
            return match &step.expect_error {
                Some(pattern) if pattern.is_match(&text) => Ok(()),
                Some(pattern) => Err(format!(
                    "expected an error matching /{pattern}/, got:\n{text}"
                )),
                None => Err(text),
            };
        }
        self.initialized = true;
        self.last_config = Some(config);

        if let Some(pattern) = &step.expect_error {
            let out = if step.plan_only {
                work.run(&["plan", "-input=false", "-no-color"]).await
            } else if step.refresh_only {
                work.apply_refresh_only().await
            } else {
                work.apply().await
            }
            .map_err(|e| e.to_string())?;
            expect_failure(self.tf, &out, pattern)?;
            self.last_state = Some(work.state().await.map_err(|e| e.to_string())?);
            return Ok(());
        }

        if step.plan_only {
            let plain = work.plan(false).await.map_err(|e| e.to_string())?;
            if plain.has_changes && !step.expect_non_empty_plan {
                return Err(format!(
                    "plan-only step: the non-refresh plan was not empty:\n{}",
                    plain.text
                ));
            }
            if let Some(check) = &step.plan_check {
                let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
                guarded((check.0)(plan))
                    .await
                    .map_err(|e| format!("plan check: {e}"))?;
            }
            return self.refreshed_plan(work, step).await;
        }

        let applied = if step.refresh_only {
            work.apply_refresh_only().await
        } else if let Some(check) = &step.plan_check {
            let (file, plan) = work.plan_to_file(true).await.map_err(|e| e.to_string())?;
            guarded((check.0)(plan))
                .await
                .map_err(|e| format!("plan check: {e}"))?;
            work.apply_plan_file(&file).await
        } else {
            work.apply().await
        }
        .map_err(|e| e.to_string())?;
        self.tf
            .require_success(applied)
            .map_err(|e| e.to_string())?;

        let state = work.state().await.map_err(|e| e.to_string())?;
        self.last_state = Some(state.clone());
        if let Some(check) = &step.check {
            guarded((check.0)(state))
                .await
                .map_err(|e| format!("check: {e}"))?;
        }
        if !step.refresh_only {
            // Read must return exactly what apply stored: without a refresh nothing may change.
            let plain = work.plan(false).await.map_err(|e| e.to_string())?;
            if plain.has_changes {
                return Err(format!(
                    "after applying this step, the non-refresh plan was not empty:\n{}",
                    plain.text
                ));
            }
        }
        self.refreshed_plan(work, step).await
    }

    async fn refreshed_plan(&self, work: &Workspace<'_>, step: &Step) -> Result<(), String> {
        let refreshed = work.plan(true).await.map_err(|e| e.to_string())?;
        match (refreshed.has_changes, step.expect_non_empty_plan) {
            (true, false) => Err(format!(
                "after this step and a refresh, the plan was not empty:\n{}",
                refreshed.text
            )),
            (false, true) => {
                Err("expected a non-empty plan, but the refreshed plan was empty".to_string())
            }
            _ => Ok(()),
        }
    }

    async fn import_in_place(
        &mut self,
        work: &Workspace<'_>,
        step: &Step,
        import: &ImportStep,
        config: &str,
    ) -> Result<(), String> {
        let address = &import.resource_address;
        let previous = self.last_state.clone().unwrap_or_default();
        let id = import_id(&previous, import)?;
        work.write_config(config).map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        self.initialized = true;
        self.last_config = Some(config.to_string());
        let removed = work
            .run(&["state", "rm", address])
            .await
            .map_err(|e| e.to_string())?;
        self.tf
            .require_success(removed)
            .map_err(|e| e.to_string())?;
        let out = work.import(address, &id).await.map_err(|e| e.to_string())?;
        if let Some(pattern) = &step.expect_error {
            return expect_failure(self.tf, &out, pattern);
        }
        self.tf.require_success(out).map_err(|e| e.to_string())?;
        let imported = work.state().await.map_err(|e| e.to_string())?;
        self.last_state = Some(imported.clone());
        if import.verify {
            verify_import(&previous, &imported, import)?;
        }
        if let Some(check) = &step.check {
            guarded((check.0)(imported))
                .await
                .map_err(|e| format!("check: {e}"))?;
        }
        if import.plan_may_change.is_empty() {
            for refresh in [false, true] {
                let plan = work.plan(refresh).await.map_err(|e| e.to_string())?;
                if plan.has_changes {
                    return Err(format!(
                        "after importing {address} as {id:?}, the plan (refresh: {refresh}) was not empty:\n{}",
                        plan.text
                    ));
                }
            }
            return Ok(());
        }
        let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
        only_updates_of(&plan, address, &import.plan_may_change)
            .map_err(|e| format!("after importing {address} as {id:?}: {e}"))
    }

    async fn import_step(
        &mut self,
        index: usize,
        step: &Step,
        import: &ImportStep,
        config: &str,
    ) -> Result<(), String> {
        let dir = self
            .tf
            .workspace(&format!("import-{}", index + 1))
            .map_err(|e| e.to_string())?;
        dir.write_config(config).map_err(|e| e.to_string())?;
        dir.init().await.map_err(|e| e.to_string())?;
        let previous = self.last_state.clone().unwrap_or_default();
        let id = import_id(&previous, import)?;
        let out = dir
            .import(&import.resource_address, &id)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(pattern) = &step.expect_error {
            return expect_failure(self.tf, &out, pattern);
        }
        self.tf.require_success(out).map_err(|e| e.to_string())?;
        let imported = dir.state().await.map_err(|e| e.to_string())?;
        if import.verify {
            verify_import(&previous, &imported, import)?;
        }
        if let Some(check) = &step.check {
            guarded((check.0)(imported))
                .await
                .map_err(|e| format!("check: {e}"))?;
        }
        // The imported copy is discarded, not destroyed: it is the same real object the main
        // working directory destroys at the end.
        Ok(())
    }
}

fn expect_failure(tf: &Terraform, out: &CommandOutput, pattern: &Regex) -> Result<(), String> {
    let combined = format!("{}\n{}", out.stdout, out.stderr);
    if out.success() {
        return Err(format!(
            "expected an error matching /{pattern}/, but terraform {} succeeded",
            out.command
        ));
    }
    if pattern.is_match(&combined) {
        Ok(())
    } else {
        Err(format!(
            "expected an error matching /{pattern}/, got:\n{}",
            tf.redact(&combined)
        ))
    }
}

/// The id an import step imports by: the given one, or the prefix and the previous `id`.
fn import_id(previous: &State, import: &ImportStep) -> Result<String, String> {
    if let Some(id) = &import.id {
        return Ok(id.clone());
    }
    let address = &import.resource_address;
    let id = previous.attr_str(address, "id").ok_or_else(|| {
        format!("no import id given and {address} has no id in the previous state")
    })?;
    Ok(format!("{}{id}", import.id_prefix))
}

/// Checks that `plan` changes nothing but `allowed` attributes of `address`, in place.
fn only_updates_of(plan: &Plan, address: &str, allowed: &[String]) -> Result<(), String> {
    for change in plan.effective_changes() {
        if change.address != address {
            return Err(format!(
                "the plan changes {} ({:?})",
                change.address, change.actions
            ));
        }
        if change.actions != ["update"] {
            return Err(format!(
                "the plan does {:?} to {address}, not an update in place",
                change.actions
            ));
        }
        let unexpected: Vec<String> = change
            .changed_attributes()
            .into_iter()
            .filter(|a| !allowed.contains(a))
            .collect();
        if !unexpected.is_empty() {
            return Err(format!(
                "the plan changes {unexpected:?} of {address}; only {allowed:?} may change"
            ));
        }
    }
    Ok(())
}

/// Compares the imported instance with the previous state's, attribute by attribute.
fn verify_import(previous: &State, imported: &State, import: &ImportStep) -> Result<(), String> {
    let address = &import.resource_address;
    let before = previous
        .resource(address)
        .ok_or_else(|| format!("import verify: {address} is not in the previous state"))?;
    let after = imported
        .resource(address)
        .ok_or_else(|| format!("import verify: {address} is not in the imported state"))?;
    let ignored = |key: &str| {
        import
            .ignore
            .iter()
            .map(String::as_str)
            .chain(["timeouts"])
            .any(|ign| key == ign || key.starts_with(&format!("{ign}.")))
    };
    let sensitive = flatten_attributes(&before.sensitive_values);
    let is_sensitive = |key: &str| {
        sensitive.iter().any(|(k, v)| {
            v == &Value::Bool(true) && (key == k || key.starts_with(&format!("{k}.")))
        })
    };
    let expected = flatten_attributes(&before.values);
    let actual = flatten_attributes(&after.values);
    let mut diffs = Vec::new();
    for key in expected.keys().chain(actual.keys()) {
        if ignored(key) || diffs.iter().any(|(k, _): &(String, String)| k == key) {
            continue;
        }
        let e = expected.get(key);
        let a = actual.get(key);
        if e != a {
            let show = |v: Option<&Value>| match v {
                None => "(absent)".to_string(),
                Some(_) if is_sensitive(key) => "(sensitive)".to_string(),
                Some(v) => v.to_string(),
            };
            diffs.push((
                key.clone(),
                format!("  {key}: state {} / imported {}", show(e), show(a)),
            ));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        let lines: Vec<String> = diffs.into_iter().map(|(_, line)| line).collect();
        Err(format!(
            "import verify: imported {address} differs from the state (ignore list: {:?}):\n{}",
            import.ignore,
            lines.join("\n")
        ))
    }
}

impl From<HarnessError> for TestFailure {
    fn from(e: HarnessError) -> Self {
        TestFailure {
            problems: vec![Problem::Setup(e.to_string())],
            kept_dir: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(values: Value, sensitive: Value) -> State {
        State::from_json(json!({"values": {"root_module": {"resources": [
            {"address": "t.x", "mode": "managed", "type": "t", "values": values, "sensitive_values": sensitive}
        ]}}}))
    }

    #[test]
    fn import_verify_reports_differences_but_not_ignored_or_sensitive_values() {
        let previous = state(
            json!({"id": "1", "name": "a", "password": "pw-secret-1", "tags": {"k": "v"}}),
            json!({"password": true}),
        );
        let imported = state(
            json!({"id": "1", "name": "b", "password": "pw-secret-2", "tags": {}}),
            json!({"password": true}),
        );
        let import = ImportStep {
            resource_address: "t.x".into(),
            verify: true,
            ..ImportStep::default()
        };
        let err = verify_import(&previous, &imported, &import).unwrap_err();
        assert!(err.contains("name: state \"a\" / imported \"b\""), "{err}");
        assert!(err.contains("tags.%"), "{err}");
        assert!(err.contains("password: state (sensitive)"), "{err}");
        assert!(!err.contains("pw-secret"), "{err}");

        let import = ImportStep {
            ignore: vec!["name".into(), "password".into(), "tags".into()],
            ..import
        };
        verify_import(&previous, &imported, &import).unwrap();
    }

    #[test]
    fn the_plan_after_an_in_place_import_may_update_only_the_allowed_attributes() {
        let plan = |address: &str, actions: Value, after: Value| {
            Plan::from_json(json!({"resource_changes": [
                {"address": address, "change": {"actions": actions,
                    "before": {"id": "1", "password": null, "size": 1},
                    "after": after, "after_unknown": {}}},
                {"address": "t.other", "change": {"actions": ["no-op"], "before": {}, "after": {}, "after_unknown": {}}}
            ]}))
        };
        let allowed = vec!["password".to_string()];
        let password_only = json!({"id": "1", "password": "x", "size": 1});
        only_updates_of(
            &plan("t.x", json!(["update"]), password_only.clone()),
            "t.x",
            &allowed,
        )
        .unwrap();
        let err = only_updates_of(
            &plan(
                "t.x",
                json!(["update"]),
                json!({"id": "1", "password": "x", "size": 2}),
            ),
            "t.x",
            &allowed,
        )
        .unwrap_err();
        assert!(err.contains("[\"size\"]"), "{err}");
        let err = only_updates_of(
            &plan("t.x", json!(["delete", "create"]), password_only.clone()),
            "t.x",
            &allowed,
        )
        .unwrap_err();
        assert!(err.contains("not an update in place"), "{err}");
        let err = only_updates_of(
            &plan("t.y", json!(["update"]), password_only),
            "t.x",
            &allowed,
        )
        .unwrap_err();
        assert!(err.contains("t.y"), "{err}");
    }

    #[test]
    fn env_values_with_secret_names_become_sensitive() {
        let case = TestCase::without_providers()
            .env("TREEHERDER_MYSQL_PASSWORD", "a-long-password")
            .env("HEROKU_API_KEY", "short")
            .env("HEROKU_API_URL", "http://127.0.0.1:1")
            .sensitive("explicit-value");
        assert_eq!(
            case.secrets(),
            vec!["explicit-value".to_string(), "a-long-password".to_string()]
        );
    }
}
