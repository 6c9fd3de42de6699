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

/// The Terraform 1.0.3 binary: `$TREEHERDER_TERRAFORM`, else `<repo>/.tools/bin/terraform`
/// (installed by `scripts/install-terraform.sh`). Never the machine's own terraform.
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

/// Where per-test directories are created: `$TREEHERDER_TEST_TMPDIR`, else `<repo>/.run/tests`.
pub(crate) fn test_tmp_root() -> PathBuf {
    match std::env::var_os("TREEHERDER_TEST_TMPDIR") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join(".run/tests"),
    }
}
