//! Where the harness finds the checkout, Terraform and build outputs.

use std::path::{Path, PathBuf};

use super::error::HarnessError;

/// The repository root: `$TREEHERDER_REPO_ROOT`, else the parent of this crate's manifest dir.
pub fn repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os("TREEHERDER_REPO_ROOT") {
        return PathBuf::from(root);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, else `<repo>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        }
        None => repo_root().join("target"),
    }
}

/// The Terraform every test runs with unless it asks for another: `$TREEHERDER_TERRAFORM`, else
/// `<repo>/.tools/bin/terraform` (1.0.3, installed by `scripts/install-terraform.sh`). Never the
/// machine's own terraform. `make test` runs the acceptance tests once with 1.0.3 and once with
/// `TREEHERDER_TERRAFORM` set to the recent Terraform of [`terraform_latest_binary`].
pub fn terraform_binary() -> Result<PathBuf, HarnessError> {
    let path = match std::env::var_os("TREEHERDER_TERRAFORM") {
        Some(path) => PathBuf::from(path),
        None => repo_root().join(".tools/bin/terraform"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::TerraformMissing(path))
    }
}

/// The oldest Terraform release [`terraform_latest_binary`] accepts (major, minor): write-only
/// attributes and ephemeral resources need 1.11.
pub const TERRAFORM_LATEST_MINIMUM: (u64, u64) = (1, 11);

/// The recent Terraform for tests that need Terraform >= 1.11 (write-only attributes, ephemeral
/// resources): `$TREEHERDER_TERRAFORM_LATEST`, which the Makefile exports (`make tools` checks
/// it). Unset, not a file, not runnable or older than [`TERRAFORM_LATEST_MINIMUM`] is an
/// error, so such a test fails instead of silently running with an older Terraform or skipping.
pub fn terraform_latest_binary() -> Result<PathBuf, HarnessError> {
    let unavailable = |reason: String| HarnessError::TerraformLatestUnavailable(reason);
    let path = match std::env::var_os("TREEHERDER_TERRAFORM_LATEST") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => return Err(unavailable("TREEHERDER_TERRAFORM_LATEST is not set".into())),
    };
    if !path.is_file() {
        return Err(unavailable(format!(
            "TREEHERDER_TERRAFORM_LATEST={} is not a file",
            path.display()
        )));
    }
    let version = terraform_version(&path).map_err(unavailable)?;
    let (major, minor) = TERRAFORM_LATEST_MINIMUM;
    if version < (major, minor, 0) {
        return Err(unavailable(format!(
            "TREEHERDER_TERRAFORM_LATEST={} is Terraform v{}.{}.{}, older than {major}.{minor}",
            path.display(),
            version.0,
            version.1,
            version.2
        )));
    }
    Ok(path)
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

/// Where per-test directories are created: `$TREEHERDER_TEST_TMPDIR`, else `<repo>/.run/tests`.
pub(crate) fn test_tmp_root() -> PathBuf {
    match std::env::var_os("TREEHERDER_TEST_TMPDIR") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join(".run/tests"),
    }
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
}
