//! Every directory under `examples/` is code: `terraform fmt -check` and `terraform validate`
//! pass on it alone, against the provider built from this checkout. `make test` runs this with
//! Terraform 1.0.3 and again with 1.11.4. Examples of ephemeral resources and write-only
//! attributes (Terraform ≥ 1.11) are skipped with an older Terraform, which cannot parse them,
//! and so is an example whose `required_version = ">= X.Y"` the Terraform does not meet.

use std::path::{Path, PathBuf};

use acceptance::harness::repo_root;
use acceptance::harness::{terraform_for, treeherder_provider};

/// The example directories: each one holding `.tf` files.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut has_tf = false;
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir.to_path_buf());
        }
    }
    let mut out = Vec::new();
    walk(&repo_root().join("examples"), &mut out);
    out
}

fn copy_tf_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("example dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "tf") {
            let name = path.file_name().expect("file name");
            std::fs::copy(&path, to.join(name)).expect("copy");
        }
    }
}

/// The Terraform's version as (major, minor), from `terraform version -json`.
async fn terraform_version(ws: &acceptance::harness::Workspace<'_>) -> (u64, u64) {
    let out = ws
        .run(&["version", "-json"])
        .await
        .expect("terraform version");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("version JSON");
    let version = json["terraform_version"]
        .as_str()
        .expect("terraform_version");
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Whether the example needs Terraform ≥ 1.11: it is under `examples/ephemeral-resources/`,
/// or one of its files uses an `ephemeral` block or value or a write-only (`_wo`) attribute.
fn needs_terraform_1_11(dir: &Path) -> bool {
    if dir.starts_with(repo_root().join("examples/ephemeral-resources")) {
        return true;
    }
    let uses =
        regex::Regex::new(r"(?m)^\s*ephemeral\s|\bephemeral\.|\b[a-z0-9_]+_wo(_version)?\s*=")
            .expect("regex");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .any(|p| std::fs::read_to_string(p).is_ok_and(|text| uses.is_match(&text)))
}

/// The lowest Terraform the example declares with `required_version = ">= X.Y"`, if any.
fn required_minimum(dir: &Path) -> Option<(u64, u64)> {
    let declared =
        regex::Regex::new(r#"(?m)^\s*required_version\s*=\s*">=\s*(\d+)\.(\d+)"#).expect("regex");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|text| {
            let c = declared.captures(&text)?;
            Some((c[1].parse().ok()?, c[2].parse().ok()?))
        })
        .max()
}

/// Whether a `.tf` file of `dir` declares a state backend (`backend "NAME" {`).
fn declares_backend(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .any(|text| {
            text.lines()
                .any(|l| l.trim_start().starts_with("backend \""))
        })
}

#[test]
fn backends_are_recognised() {
    let root = repo_root().join("examples");
    assert!(declares_backend(&root.join("ci")));
    assert!(!declares_backend(&root.join("treeherder")));
}

#[test]
fn required_versions_are_read() {
    let root = repo_root().join("examples");
    assert_eq!(required_minimum(&root.join("adopt")), Some((1, 5)));
    assert_eq!(
        required_minimum(&root.join("resources/treeherder_scheduler_job")),
        None
    );
}

#[test]
fn examples_needing_terraform_1_11_are_recognised() {
    let root = repo_root().join("examples");
    assert!(needs_terraform_1_11(
        &root.join("ephemeral-resources/treeherder_password")
    ));
    assert!(!needs_terraform_1_11(
        &root.join("resources/treeherder_scheduler_job")
    ));
}

#[tokio::test]
async fn every_example_is_formatted_and_validates_on_its_own() {
    let provider = treeherder_provider();
    assert!(
        provider.binary.exists(),
        "{} is missing: run `cargo build -p terraform-provider-treeherder`",
        provider.binary.display()
    );
    let tf = terraform_for(&[provider], Default::default(), Vec::new()).expect("terraform");
    let dirs = example_dirs();
    assert!(dirs.len() >= 6, "examples found: {dirs:?}");
    let version = terraform_version(&tf.workspace("version").expect("workspace")).await;
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let name = dir
            .strip_prefix(repo_root())
            .unwrap_or(dir)
            .display()
            .to_string();
        if version < (1, 11) && needs_terraform_1_11(dir) {
            skipped.push(name);
            continue;
        }
        // An example may declare the Terraform it needs (e.g. import blocks, 1.5).
        if let Some(minimum) = required_minimum(dir).filter(|m| version < *m) {
            skipped.push(format!(
                "{name} (required_version >= {}.{})",
                minimum.0, minimum.1
            ));
            continue;
        }
        let ws = tf.workspace(&format!("example-{i}")).expect("workspace");
        copy_tf_files(dir, ws.dir());
        let fmt = ws
            .run(&["fmt", "-check", "-diff"])
            .await
            .expect("terraform fmt");
        if !fmt.success() {
            problems.push(format!("{name}: terraform fmt -check:\n{}", fmt.stdout));
        }
        // A remote state backend (examples/ci/, `pg`) is configured at `init` time in CI;
        // validating needs none of it.
        let init = if declares_backend(dir) {
            ws.run(&["init", "-backend=false", "-input=false", "-no-color"])
                .await
                .and_then(|out| tf.require_success(out))
        } else {
            ws.init().await
        };
        if let Err(e) = init {
            problems.push(format!("{name}: terraform init: {e}"));
            continue;
        }
        let validate = ws
            .run(&["validate", "-no-color"])
            .await
            .expect("terraform validate");
        if !validate.success() {
            problems.push(format!("{name}: terraform validate:\n{}", validate.stderr));
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "skipped with Terraform {}.{} (they need a newer one): {skipped:?}",
            version.0, version.1
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
