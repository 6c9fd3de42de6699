//! Every directory under `examples/` is code: `terraform fmt -check` and `terraform validate`
//! pass on it alone, against the provider built from this checkout. `make test` runs this with
//! Terraform 1.0.3 and again with 1.11.4.

use std::path::{Path, PathBuf};

use acceptance::harness::{repo_root, ProviderUnderTest, Terraform};

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

#[tokio::test]
async fn every_example_is_formatted_and_validates_on_its_own() {
    let provider = ProviderUnderTest::treeherder();
    assert!(
        provider.binary.exists(),
        "{} is missing: run `cargo build -p terraform-provider-treeherder`",
        provider.binary.display()
    );
    let tf = Terraform::new(&[provider], Default::default(), Vec::new()).expect("terraform");
    let dirs = example_dirs();
    assert!(dirs.len() >= 6, "examples found: {dirs:?}");
    let mut problems = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let name = dir
            .strip_prefix(repo_root())
            .unwrap_or(dir)
            .display()
            .to_string();
        let ws = tf.workspace(&format!("example-{i}")).expect("workspace");
        copy_tf_files(dir, ws.dir());
        let fmt = ws.run(&["fmt", "-check", "-diff"]).await.expect("terraform fmt");
        if !fmt.success() {
            problems.push(format!("{name}: terraform fmt -check:\n{}", fmt.stdout));
        }
        let init = ws.init().await;
        if let Err(e) = init {
            problems.push(format!("{name}: terraform init: {e}"));
            continue;
        }
        let validate = ws.run(&["validate", "-no-color"]).await.expect("terraform validate");
        if !validate.success() {
            problems.push(format!("{name}: terraform validate:\n{}", validate.stderr));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
