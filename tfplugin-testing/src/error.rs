//! Error types: [`HarnessError`] for the machinery, [`TestFailure`] for a failed test case.

use std::fmt;
use std::path::PathBuf;

use crate::secrets::Leak;

/// Something went wrong running Terraform or preparing its environment.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A file-system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What the harness was doing.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The Terraform binary is not installed where the harness looks for it.
    #[error("terraform not found at {} (install it there, or set {variable} to its path)", path.display())]
    TerraformMissing {
        /// Where it was looked for.
        path: PathBuf,
        /// The variable that chooses it.
        variable: String,
    },
    /// The recent Terraform (>= 1.11) a test asked for is not available.
    #[error("{reason}: tests needing Terraform >= 1.11 do not skip; set {variable} to the path of Terraform >= 1.11")]
    TerraformLatestUnavailable {
        /// What is wrong with it.
        reason: String,
        /// The variable that chooses it.
        variable: String,
    },
    /// The provider binary does not exist.
    #[error("provider binary {} not found (build it first)", .0.display())]
    ProviderMissing(PathBuf),
    /// A provider source address is not `[HOST/]NAMESPACE/TYPE`.
    #[error("invalid provider source address {0:?} (expected HOST/NAMESPACE/TYPE)")]
    InvalidSource(String),
    /// Terraform could not be started.
    #[error("could not start terraform {command}: {source}")]
    Spawn {
        /// The sub-command line.
        command: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A Terraform command ran past its time limit and was killed.
    #[error("terraform {command} did not finish within {seconds} s")]
    Timeout {
        /// The sub-command line.
        command: String,
        /// The limit.
        seconds: u64,
    },
    /// A Terraform command exited unsuccessfully. Output is already redacted.
    #[error("terraform {command} failed (exit code {code:?})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")]
    CommandFailed {
        /// The sub-command line.
        command: String,
        /// The exit code (None when killed by a signal).
        code: Option<i32>,
        /// Redacted standard output.
        stdout: String,
        /// Redacted standard error.
        stderr: String,
    },
    /// Terraform printed JSON the harness could not parse.
    #[error("could not parse the JSON of terraform {command}: {source}")]
    Json {
        /// The sub-command line.
        command: String,
        /// The underlying error.
        source: serde_json::Error,
    },
}

impl HarnessError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        HarnessError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// One thing that went wrong in a test case.
#[derive(Debug)]
pub enum Problem {
    /// The harness could not prepare the test (tools missing, I/O).
    Setup(String),
    /// A step failed; `step` counts from 1 like terraform-plugin-testing's messages.
    Step {
        /// 1-based step number.
        step: usize,
        /// What failed (redacted).
        reason: String,
    },
    /// The final `terraform destroy` failed.
    Destroy(String),
    /// The destroy check found leftovers.
    CheckDestroy(String),
    /// The check over the logs failed.
    CheckLogs(String),
    /// Sensitive values appeared in logs or captured output.
    SecretLeak(Vec<Leak>),
    /// Terraform reported that the provider did not exit after Shutdown.
    UncleanExit(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Setup(reason) => write!(f, "setup failed: {reason}"),
            Problem::Step { step, reason } => write!(f, "step {step} failed: {reason}"),
            Problem::Destroy(reason) => write!(f, "destroy failed: {reason}"),
            Problem::CheckDestroy(reason) => write!(f, "check_destroy failed: {reason}"),
            Problem::CheckLogs(reason) => write!(f, "check_logs failed: {reason}"),
            Problem::UncleanExit(place) => {
                write!(
                    f,
                    "Terraform reports the provider failed to exit gracefully ({place})"
                )
            }
            Problem::SecretLeak(leaks) => {
                writeln!(f, "{} sensitive value occurrence(s) leaked:", leaks.len())?;
                for leak in leaks {
                    writeln!(f, "  {leak}")?;
                }
                Ok(())
            }
        }
    }
}

/// A failed test case: every problem found, and where its files were kept for inspection.
#[derive(Debug)]
pub struct TestFailure {
    /// The problems, in the order they were found.
    pub problems: Vec<Problem>,
    /// The kept test directory (configs, TRACE logs, captured output), if it could be kept.
    pub kept_dir: Option<PathBuf>,
}

impl TestFailure {
    /// The leaks found by the secret scan, if any.
    pub fn leaks(&self) -> Vec<&Leak> {
        self.problems
            .iter()
            .filter_map(|p| match p {
                Problem::SecretLeak(leaks) => Some(leaks.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// True when a step failed (as opposed to destroy, scan or setup problems).
    pub fn has_step_failure(&self) -> bool {
        self.problems
            .iter()
            .any(|p| matches!(p, Problem::Step { .. }))
    }
}

impl fmt::Display for TestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "acceptance test failed:")?;
        for problem in &self.problems {
            writeln!(f, "- {problem}")?;
        }
        if let Some(dir) = &self.kept_dir {
            writeln!(
                f,
                "test files (configs, TRACE logs, output) kept in {}",
                dir.display()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for TestFailure {}
