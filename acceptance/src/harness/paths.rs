//! Where Treeherder's tests find the checkout, Terraform and build outputs: the
//! [`tfplugin_testing::Settings`] of this project (`TREEHERDER_*` variables).

use std::path::{Path, PathBuf};

use tfplugin_testing::{HarnessError, Settings};

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

/// This project's settings: `TREEHERDER_TERRAFORM` (else `<repo>/.tools/bin/terraform`, the
/// 1.0.3 of `make tools`, never the machine's own), `TREEHERDER_TERRAFORM_LATEST` (>= 1.11,
/// which the Makefile exports), `TREEHERDER_TEST_TMPDIR` (else `<repo>/.run/tests`) and
/// `TREEHERDER_KEEP_TEST_DIRS`. `make test` runs the acceptance tests once with 1.0.3 and once
/// with `TREEHERDER_TERRAFORM` set to the recent Terraform.
pub fn settings() -> Settings {
    let root = repo_root();
    Settings::with_prefix("TREEHERDER", root.join(".run/tests"))
        .default_terraform(root.join(".tools/bin/terraform"))
}

/// The Terraform every test runs with unless it asks for another ([`Settings::terraform`]).
pub fn terraform_binary() -> Result<PathBuf, HarnessError> {
    settings().terraform()
}

/// The recent Terraform (>= 1.11) for write-only attributes and ephemeral resources
/// ([`Settings::terraform_latest`]); unavailable is an error, never a skip.
pub fn terraform_latest_binary() -> Result<PathBuf, HarnessError> {
    settings().terraform_latest()
}
