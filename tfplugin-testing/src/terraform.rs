//! Running the Terraform CLI: a per-test root with a private provider mirror, a CLI config that
//! installs only from that mirror (offline), TRACE logs per command, and captured output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tempfile::TempDir;

use crate::error::HarnessError;
use crate::mirror::{LocalMirror, OtherProviders, ProviderUnderTest};
use crate::secrets::{redact, scan_for_secrets, SecretScan};
use crate::settings::{Settings, TerraformVersion};
use crate::workspace::Workspace;

/// A test's Terraform environment: a temporary root holding the provider mirror, the CLI
/// config, the working directories and the `logs/` folder (TRACE logs and captured
/// stdout/stderr, all of which the secret scan reads).
pub struct Terraform {
    binary: PathBuf,
    root: TempDir,
    mirror: LocalMirror,
    logs: PathBuf,
    dumps: PathBuf,
    env: BTreeMap<String, String>,
    redactions: Vec<String>,
    timeout: Duration,
    counter: AtomicUsize,
}

/// Lists variable names and the number of redactions, never their values (they hold secrets).
impl std::fmt::Debug for Terraform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terraform")
            .field("binary", &self.binary)
            .field("root", &self.root.path())
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("redactions", &self.redactions.len())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The result of one Terraform command.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// The sub-command line, e.g. `plan -refresh=false`.
    pub command: String,
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Standard output (raw: may hold secrets; use [`Terraform::redact`] before printing).
    pub stdout: String,
    /// Standard error (raw, like stdout).
    pub stderr: String,
}

impl CommandOutput {
    /// True for exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// The outcome of `terraform plan -detailed-exitcode`.
#[derive(Debug, Clone)]
pub struct PlanOutcome {
    /// True when the plan has changes (exit code 2).
    pub has_changes: bool,
    /// The plan's text (raw).
    pub text: String,
}

/// Whether a command's stdout may be scanned for secrets. State and plan JSON legitimately
/// hold sensitive values, so it goes to a folder the scan skips.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capture {
    Scanned,
    StateDump,
}

impl Terraform {
    /// Prepares a root under `settings`' test directory with a mirror holding `providers`, a
    /// CLI config pointing at it, and the environment every command gets (`env` on top of
    /// this process's environment without its `TF_*` variables). `redactions` are removed
    /// from error texts. Terraform is the one `version` names under `settings`.
    pub fn new(
        settings: &Settings,
        version: &TerraformVersion,
        providers: &[ProviderUnderTest],
        env: BTreeMap<String, String>,
        redactions: Vec<String>,
    ) -> Result<Terraform, HarnessError> {
        let binary = version.resolve(settings)?;
        let base = settings.test_tmp_root();
        std::fs::create_dir_all(&base).map_err(|e| HarnessError::io("creating", &base, e))?;
        let root = tempfile::Builder::new()
            .prefix("tf-")
            .tempdir_in(&base)
            .map_err(|e| HarnessError::io("creating a temporary directory in", &base, e))?;
        let logs = root.path().join("logs");
        let dumps = root.path().join("state-dumps");
        for dir in [&logs, &dumps] {
            std::fs::create_dir_all(dir).map_err(|e| HarnessError::io("creating", dir, e))?;
        }
        let mirror = LocalMirror::build(root.path(), providers, OtherProviders::Refused)?;
        Ok(Terraform {
            binary,
            root,
            mirror,
            logs,
            dumps,
            env,
            redactions,
            timeout: Duration::from_secs(300),
            counter: AtomicUsize::new(0),
        })
    }

    /// Replaces the mirror's copy of `provider`'s source and version with its binary (a new
    /// build offered under the same version). The old file is removed first: it may be a hard
    /// link to the previous binary, which copying over it would overwrite. Returns the path.
    pub fn reinstall(&self, provider: &ProviderUnderTest) -> Result<PathBuf, HarnessError> {
        provider.reinstall_into(&self.mirror.mirror)
    }

    /// How many commands have run (numbering logs and plan files).
    pub(crate) fn commands_run(&self) -> usize {
        self.counter.load(Ordering::SeqCst)
    }

    /// Sets the time limit of each command (default 300 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The Terraform binary every command runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The test root directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The folder of TRACE logs and captured output.
    pub fn logs_dir(&self) -> &Path {
        &self.logs
    }

    /// The CLI config file (`TF_CLI_CONFIG_FILE`).
    pub fn cli_config(&self) -> &Path {
        &self.mirror.cli_config
    }

    /// A new working directory `name` under the root.
    pub fn workspace(&self, name: &str) -> Result<Workspace<'_>, HarnessError> {
        let dir = self.root.path().join(name);
        std::fs::create_dir_all(&dir).map_err(|e| HarnessError::io("creating", &dir, e))?;
        Ok(Workspace::new(self, dir))
    }

    /// Removes the configured secrets from `text`.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.redactions)
    }

    /// Scans the logs folder for `secrets`.
    pub fn scan(&self, secrets: &[String]) -> Result<SecretScan, HarnessError> {
        scan_for_secrets(&self.logs, secrets)
    }

    /// Every file of the logs folder (TRACE logs, captured output), concatenated in name order.
    pub fn logs_text(&self) -> Result<String, HarnessError> {
        let entries = std::fs::read_dir(&self.logs)
            .map_err(|e| HarnessError::io("listing", &self.logs, e))?;
        let mut paths = Vec::new();
        for entry in entries {
            paths.push(
                entry
                    .map_err(|e| HarnessError::io("listing", &self.logs, e))?
                    .path(),
            );
        }
        paths.sort();
        let mut text = String::new();
        for path in paths.iter().filter(|p| p.is_file()) {
            let bytes = std::fs::read(path).map_err(|e| HarnessError::io("reading", path, e))?;
            text.push_str(&String::from_utf8_lossy(&bytes));
            text.push('\n');
        }
        Ok(text)
    }

    /// Keeps the root directory on disk (it is deleted on drop otherwise) and returns its path.
    pub fn keep(self) -> PathBuf {
        self.root.keep()
    }

    /// Runs `terraform ARGS` in `dir`. A non-zero exit is returned as output, not as an error.
    pub async fn run(&self, dir: &Path, args: &[&str]) -> Result<CommandOutput, HarnessError> {
        self.run_captured(dir, args, Capture::Scanned).await
    }

    pub(crate) async fn run_captured(
        &self,
        dir: &Path,
        args: &[&str],
        capture: Capture,
    ) -> Result<CommandOutput, HarnessError> {
        let (stem, command, mut cmd) = self.command(dir, args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().map_err(|source| HarnessError::Spawn {
            command: command.clone(),
            source,
        })?;
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(result) => result.map_err(|source| HarnessError::Spawn {
                command: command.clone(),
                source,
            })?,
            Err(_) => {
                return Err(HarnessError::Timeout {
                    command,
                    seconds: self.timeout.as_secs(),
                })
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let stdout_dir = match capture {
            Capture::Scanned => &self.logs,
            Capture::StateDump => &self.dumps,
        };
        let stdout_path = stdout_dir.join(format!("{stem}.stdout"));
        std::fs::write(&stdout_path, &stdout)
            .map_err(|e| HarnessError::io("writing", &stdout_path, e))?;
        let stderr_path = self.logs.join(format!("{stem}.stderr"));
        std::fs::write(&stderr_path, &stderr)
            .map_err(|e| HarnessError::io("writing", &stderr_path, e))?;
        Ok(CommandOutput {
            command,
            code: output.status.code(),
            stdout,
            stderr,
        })
    }

    /// `terraform ARGS` in `dir`, ready to spawn: the log stem, the sub-command line and the
    /// command, with this environment's variables and a TRACE log.
    fn command(&self, dir: &Path, args: &[&str]) -> (String, String, tokio::process::Command) {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let verb = args.first().copied().unwrap_or("terraform");
        let stem = format!("{n:03}-{verb}");
        let command = args.join(" ");
        let mut cmd = tokio::process::Command::new(&self.binary);
        cmd.args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        // Inherited TF_* variables (TF_CLI_ARGS, TF_DATA_DIR, TF_REATTACH_PROVIDERS, ...) would
        // change what the test exercises.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("TF_") {
                cmd.env_remove(&key);
            }
        }
        cmd.envs(&self.env)
            .env("TF_CLI_CONFIG_FILE", &self.mirror.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_LOG", "TRACE")
            .env("TF_LOG_PATH", self.logs.join(format!("{stem}.tflog")));
        (stem, command, cmd)
    }

    /// Starts `terraform ARGS` in `dir` without waiting for it, in its own process group
    /// (so [`Background::kill`] reaches the provider plugins Terraform started too). Its
    /// stdout and stderr go to the logs folder, which the secret scan reads.
    pub fn spawn(&self, dir: &Path, args: &[&str]) -> Result<Background, HarnessError> {
        let (stem, command, mut cmd) = self.command(dir, args);
        let mut output = Vec::new();
        for stream in ["stdout", "stderr"] {
            let path = self.logs.join(format!("{stem}.{stream}"));
            let file =
                std::fs::File::create(&path).map_err(|e| HarnessError::io("creating", &path, e))?;
            output.push(file);
        }
        let stderr = output.pop().map(Stdio::from).unwrap_or_else(Stdio::null);
        let stdout = output.pop().map(Stdio::from).unwrap_or_else(Stdio::null);
        cmd.stdout(stdout).stderr(stderr).process_group(0);
        let child = cmd.spawn().map_err(|source| HarnessError::Spawn {
            command: command.clone(),
            source,
        })?;
        Ok(Background { command, child })
    }

    /// Turns an unsuccessful output into [`HarnessError::CommandFailed`] (redacted).
    pub fn require_success(&self, output: CommandOutput) -> Result<CommandOutput, HarnessError> {
        if output.success() {
            Ok(output)
        } else {
            Err(self.failed(&output))
        }
    }

    pub(crate) fn failed(&self, output: &CommandOutput) -> HarnessError {
        HarnessError::CommandFailed {
            command: output.command.clone(),
            code: output.code,
            stdout: self.redact(&output.stdout),
            stderr: self.redact(&output.stderr),
        }
    }
}

/// A Terraform command running in the background in its own process group, for tests that
/// kill Terraform mid-operation (`kill -9` of a CI runner). Dropping it kills the group too.
#[derive(Debug)]
pub struct Background {
    command: String,
    child: tokio::process::Child,
}

impl Background {
    /// The sub-command line.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Whether Terraform is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGKILL to the whole process group (Terraform and the providers it started, which
    /// die without cleaning up, like a killed CI runner's) and waits for Terraform to exit.
    pub async fn kill(mut self) -> Result<(), HarnessError> {
        self.kill_group()?;
        self.child
            .wait()
            .await
            .map_err(|source| HarnessError::Spawn {
                command: self.command.clone(),
                source,
            })?;
        Ok(())
    }

    fn kill_group(&mut self) -> Result<(), HarnessError> {
        let Some(pid) = self.child.id() else {
            return Ok(()); // already reaped
        };
        // The group's id is Terraform's pid (`process_group(0)`); `kill -KILL -- -PGID`.
        std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|source| HarnessError::Spawn {
                command: format!("kill -KILL -- -{pid}"),
                source,
            })?;
        Ok(())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.kill_group();
        }
    }
}
