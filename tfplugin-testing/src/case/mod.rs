//! [`TestCase`]: the terraform-plugin-testing lifecycle over the real CLI. Steps run in one
//! working directory; then destroy, the destroy check and the secret scan of every log.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use crate::check::{CheckError, Hook, StateCheck};
use crate::error::{HarnessError, Problem, TestFailure};
use crate::mirror::ProviderUnderTest;
use crate::settings::{Settings, TerraformVersion};
use crate::state::State;
use crate::terraform::Terraform;

mod import;
mod run;
mod step;

pub use step::{ImportStep, Step};

use run::StepRunner;

/// A check over a case's logs and captured output, concatenated.
pub type LogCheck = Box<dyn Fn(&str) -> Result<(), CheckError> + Send + Sync>;

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
    /// Runs just before the final destroy (e.g. to forget the requests seen so far).
    pub pre_destroy: Option<Hook>,
    /// Runs at the end over every TRACE log and captured output of the case, concatenated
    /// (what the provider logged, e.g. progress while it waited).
    pub check_logs: Option<LogCheck>,
    /// Time limit of each Terraform command.
    pub command_timeout: Duration,
    /// The Terraform that runs the case.
    pub terraform: TerraformVersion,
    /// Where Terraform is found and the case's files go.
    pub settings: Settings,
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
            pre_destroy: None,
            check_logs: None,
            command_timeout: Duration::from_secs(300),
            terraform: TerraformVersion::Default,
            settings: Settings::default(),
        }
    }

    /// Runs the case with the recent Terraform ([`Settings::terraform_latest`], >= 1.11), for
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

    /// Chooses where Terraform is found and the case's files go (a project's own variable
    /// names and directories).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
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

    /// Adds environment variables (e.g. the services a test world started).
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

    /// Runs the future of `f` just before the final destroy.
    pub fn pre_destroy_async<F, Fut, E>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        self.pre_destroy = Some(Hook::future(f));
        self
    }

    /// Checks the case's logs and captured output at the end (see [`TestCase::check_logs`]).
    pub fn check_logs<F, E>(mut self, f: F) -> Self
    where
        F: Fn(&str) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        self.check_logs = Some(Box::new(move |text| f(text).map_err(Into::into)));
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
        let created = Terraform::new(
            &self.settings,
            &self.terraform,
            &self.providers,
            self.env.clone(),
            secrets.clone(),
        );
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
            if let Some(hook) = &self.pre_destroy {
                if let Err(reason) = hook.run().await {
                    problems.push(Problem::Destroy(format!("pre_destroy hook: {reason}")));
                }
            }
            let before_destroy = match work.state().await {
                Ok(state) => Some(state),
                Err(e) => {
                    problems.push(Problem::Destroy(format!(
                        "reading the state before destroy: {e}"
                    )));
                    runner.last_state.clone()
                }
            };
            // Nothing managed, nothing to destroy: a configuration that never planned (an
            // expected error) would fail `terraform destroy` the same way.
            let nothing_managed = before_destroy
                .as_ref()
                .is_some_and(|state| state.resources().iter().all(|r| r.mode != "managed"));
            let destroyed = if nothing_managed {
                Ok(())
            } else {
                work.destroy().await.map(|_| ())
            };
            match destroyed {
                Ok(()) => {
                    if let Some(check) = &self.check_destroy {
                        let state = before_destroy.unwrap_or_default();
                        if let Err(reason) = check.run(state).await {
                            problems.push(Problem::CheckDestroy(tf.redact(&reason)));
                        }
                    }
                }
                Err(e) => problems.push(Problem::Destroy(e.to_string())),
            }
        }

        if let Some(check) = &self.check_logs {
            match tf.logs_text() {
                Ok(text) => {
                    if let Err(reason) = check(&text) {
                        problems.push(Problem::CheckLogs(tf.redact(&reason.to_string())));
                    }
                }
                Err(e) => problems.push(Problem::Setup(format!("reading the logs: {e}"))),
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
            if self.settings.keep_test_dirs() {
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

    #[test]
    fn env_values_with_secret_names_become_sensitive() {
        let case = TestCase::without_providers()
            .env("EXAMPLE_DB_PASSWORD", "a-long-password")
            .env("EXAMPLE_API_KEY", "short")
            .env("EXAMPLE_API_URL", "http://127.0.0.1:1")
            .sensitive("explicit-value");
        assert_eq!(
            case.secrets(),
            vec!["explicit-value".to_string(), "a-long-password".to_string()]
        );
    }
}
