//! Where a test finds Terraform and puts its files: [`Settings`], read from environment
//! variables whose names share a prefix the project chooses (`<PREFIX>_TERRAFORM`, ...), and
//! [`TerraformVersion`], which Terraform a case runs.

use std::path::{Path, PathBuf};

use crate::error::HarnessError;

/// The oldest Terraform release [`TerraformVersion::Latest`] accepts (major, minor): write-only
/// attributes and ephemeral resources need 1.11.
pub const TERRAFORM_LATEST_MINIMUM: (u64, u64) = (1, 11);

/// Where a project's tests find Terraform and keep their files. Every value comes from an
/// environment variable named after `prefix` (read when a case runs, not when it is built):
///
/// - `<PREFIX>_TERRAFORM`: the Terraform of [`TerraformVersion::Default`], else
///   [`Settings::default_terraform`], else `terraform` on the `PATH`;
/// - `<PREFIX>_TERRAFORM_LATEST`: the Terraform >= 1.11 of [`TerraformVersion::Latest`]
///   (required by cases that ask for it: they fail, never skip, without it);
/// - `<PREFIX>_TEST_TMPDIR`: where per-case directories go, else [`Settings::work_root`];
/// - `<PREFIX>_KEEP_TEST_DIRS`: set, a passing case keeps its directory too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The prefix of the variable names, e.g. `TF_ACC` or a project's own.
    pub prefix: String,
    /// The Terraform used when `<PREFIX>_TERRAFORM` is unset (e.g. a pinned copy in the
    /// checkout); `None` looks for `terraform` on the `PATH`.
    pub default_terraform: Option<PathBuf>,
    /// Where per-case directories go when `<PREFIX>_TEST_TMPDIR` is unset.
    pub work_root: PathBuf,
}

impl Default for Settings {
    /// Prefix `TF_ACC`, Terraform from the `PATH`, directories under the system's temporary
    /// folder.
    fn default() -> Self {
        Settings::with_prefix("TF_ACC", std::env::temp_dir().join("tfplugin-testing"))
    }
}

impl Settings {
    /// Settings reading `<prefix>_*` variables, keeping case directories under `work_root`.
    pub fn with_prefix(prefix: impl Into<String>, work_root: impl Into<PathBuf>) -> Self {
        Settings {
            prefix: prefix.into(),
            default_terraform: None,
            work_root: work_root.into(),
        }
    }

    /// Uses `binary` when `<PREFIX>_TERRAFORM` is unset.
    pub fn default_terraform(mut self, binary: impl Into<PathBuf>) -> Self {
        self.default_terraform = Some(binary.into());
        self
    }

    /// The name of the variable `<PREFIX>_<NAME>`.
    pub fn variable(&self, name: &str) -> String {
        format!("{}_{name}", self.prefix)
    }

    fn var(&self, name: &str) -> Option<PathBuf> {
        std::env::var_os(self.variable(name))
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }

    /// The Terraform of [`TerraformVersion::Default`]: `<PREFIX>_TERRAFORM`, else the default
    /// binary, else `terraform` on the `PATH`. It must exist.
    pub fn terraform(&self) -> Result<PathBuf, HarnessError> {
        let path = match self
            .var("TERRAFORM")
            .or_else(|| self.default_terraform.clone())
        {
            Some(path) => path,
            None => find_on_path("terraform").ok_or_else(|| HarnessError::TerraformMissing {
                path: PathBuf::from("terraform"),
                variable: self.variable("TERRAFORM"),
            })?,
        };
        if path.is_file() {
            Ok(path)
        } else {
            Err(HarnessError::TerraformMissing {
                path,
                variable: self.variable("TERRAFORM"),
            })
        }
    }

    /// The recent Terraform of [`TerraformVersion::Latest`]: `<PREFIX>_TERRAFORM_LATEST`.
    /// Unset, not a file, not runnable or older than [`TERRAFORM_LATEST_MINIMUM`] is an error,
    /// so a case needing it fails instead of silently running an older Terraform or skipping.
    pub fn terraform_latest(&self) -> Result<PathBuf, HarnessError> {
        let variable = self.variable("TERRAFORM_LATEST");
        let unavailable = |reason: String| HarnessError::TerraformLatestUnavailable {
            reason,
            variable: variable.clone(),
        };
        let path = self
            .var("TERRAFORM_LATEST")
            .ok_or_else(|| unavailable(format!("{variable} is not set")))?;
        if !path.is_file() {
            return Err(unavailable(format!(
                "{variable}={} is not a file",
                path.display()
            )));
        }
        let version = terraform_version(&path).map_err(unavailable)?;
        let (major, minor) = TERRAFORM_LATEST_MINIMUM;
        if version < (major, minor, 0) {
            return Err(unavailable(format!(
                "{variable}={} is Terraform v{}.{}.{}, older than {major}.{minor}",
                path.display(),
                version.0,
                version.1,
                version.2
            )));
        }
        Ok(path)
    }

    /// Where per-case directories are created: `<PREFIX>_TEST_TMPDIR`, else the work root.
    pub fn test_tmp_root(&self) -> PathBuf {
        self.var("TEST_TMPDIR")
            .unwrap_or_else(|| self.work_root.clone())
    }

    /// Whether `<PREFIX>_KEEP_TEST_DIRS` asks to keep the directories of passing cases.
    pub fn keep_test_dirs(&self) -> bool {
        std::env::var_os(self.variable("KEEP_TEST_DIRS")).is_some()
    }
}

/// Which Terraform a case runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TerraformVersion {
    /// [`Settings::terraform`].
    #[default]
    Default,
    /// [`Settings::terraform_latest`]: >= 1.11, for write-only attributes and ephemeral
    /// resources. The case fails when it is unavailable.
    Latest,
    /// This binary.
    Binary(PathBuf),
}

impl TerraformVersion {
    /// The binary this choice names under `settings`.
    pub fn resolve(&self, settings: &Settings) -> Result<PathBuf, HarnessError> {
        match self {
            TerraformVersion::Default => settings.terraform(),
            TerraformVersion::Latest => settings.terraform_latest(),
            TerraformVersion::Binary(path) => Ok(path.clone()),
        }
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// (major, minor, patch) from `BINARY version -json` (Terraform >= 0.13).
pub fn terraform_version(binary: &Path) -> Result<(u64, u64, u64), String> {
    let mut cmd = std::process::Command::new(binary);
    cmd.args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(std::process::Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("TF_") {
            cmd.env_remove(&key);
        }
    }
    let output = cmd
        .output()
        .map_err(|e| format!("running {} version -json: {e}", binary.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "{} version -json printed no JSON ({e}): {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })?;
    let text = json["terraform_version"].as_str().ok_or_else(|| {
        format!(
            "{} version -json has no terraform_version",
            binary.display()
        )
    })?;
    parse_version(text).ok_or_else(|| {
        format!(
            "{}: unreadable Terraform version {text:?}",
            binary.display()
        )
    })
}

/// `1.11.4` or `1.12.0-beta1` -> (1, 11, 4) / (1, 12, 0).
fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let core = text.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().unwrap_or(Some(0))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_and_without_pre_release_parts() {
        assert_eq!(parse_version("1.11.4"), Some((1, 11, 4)));
        assert_eq!(parse_version("1.12.0-beta1"), Some((1, 12, 0)));
        assert_eq!(parse_version("1.0.3"), Some((1, 0, 3)));
        assert_eq!(parse_version("v1"), None);
        assert!(parse_version("1.0.3").unwrap() < (1, 11, 0));
    }

    #[test]
    fn variables_are_named_after_the_prefix() {
        let settings = Settings::with_prefix("ACME", "/tmp/acme");
        assert_eq!(settings.variable("TERRAFORM"), "ACME_TERRAFORM");
        let missing = Settings::with_prefix("TFPLUGIN_TESTING_UNSET_PREFIX", "/tmp/x")
            .default_terraform("/nonexistent/terraform");
        match missing.terraform() {
            Err(HarnessError::TerraformMissing { path, variable }) => {
                assert_eq!(path, PathBuf::from("/nonexistent/terraform"));
                assert_eq!(variable, "TFPLUGIN_TESTING_UNSET_PREFIX_TERRAFORM");
            }
            other => panic!("expected TerraformMissing, got {other:?}"),
        }
        assert!(matches!(
            missing.terraform_latest(),
            Err(HarnessError::TerraformLatestUnavailable { .. })
        ));
    }
}
