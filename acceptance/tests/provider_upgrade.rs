//! State survives provider upgrades: `examples/treeherder/` of a base revision (the previous
//! release) applied with the provider built there, then this checkout's example planned with
//! this checkout's build, must plan empty without new errors or warnings. A change of a stored shape without a state
//! upgrader (tfplugin's `StateUpgrader`) fails here.
//!
//! The base revision is `TREEHERDER_UPGRADE_BASE`, by default `DEFAULT_BASE` of
//! scripts/build-upgrade-base.sh, which builds it (`make test` runs the script first; this
//! test never runs cargo). Runs against the world's MariaDB and moto and a sandbox of its own,
//! with Terraform 1.0.3 and again with 1.11.4 (the example needs nothing newer).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use futures::FutureExt;

use acceptance::harness::{repo_root, SandboxWorld, Service, Workspace, World};
use acceptance::harness::{terraform_for, treeherder_provider, treeherder_provider_from};

const API_KEY: &str = "upgrade-test-api-key-0123";

/// The base revision: `$TREEHERDER_UPGRADE_BASE`, else the build script's default (one place).
fn base_revision() -> String {
    if let Ok(base) = std::env::var("TREEHERDER_UPGRADE_BASE") {
        if !base.is_empty() {
            return base;
        }
    }
    let script = repo_root().join("scripts/build-upgrade-base.sh");
    let text = std::fs::read_to_string(&script).expect("scripts/build-upgrade-base.sh");
    text.lines()
        .find_map(|l| l.strip_prefix("DEFAULT_BASE="))
        .map(|v| v.trim().to_string())
        .expect("DEFAULT_BASE= in scripts/build-upgrade-base.sh")
}

/// The base commit and its build, where scripts/build-upgrade-base.sh puts it (keyed by the
/// full hash).
fn base_build() -> (String, PathBuf) {
    let base = base_revision();
    let out = Command::new("git")
        .arg("-C")
        .arg(repo_root())
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{base}^{{commit}}"))
        .output()
        .expect("git runs");
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && !commit.is_empty(),
        "upgrade base revision {base:?} (TREEHERDER_UPGRADE_BASE) is not in this repository: \
         run `git fetch --unshallow` (a shallow clone lacks it), then scripts/build-upgrade-base.sh"
    );
    let binary = repo_root()
        .join(".run/upgrade-base/bin")
        .join(&commit)
        .join("terraform-provider-treeherder");
    assert!(
        binary.is_file(),
        "the provider built at the upgrade base {base} ({commit}) is missing: {} \
         (run scripts/build-upgrade-base.sh; `make test` does)",
        binary.display()
    );
    (commit, binary)
}

/// `git ARGS` in the checkout, its stdout.
fn git(args: &[&str]) -> Vec<u8> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo_root())
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?} failed");
    out.stdout
}

/// Replaces the workspace's `.tf`/`.tfvars` files with `examples/treeherder/` as of `commit`:
/// the base's own example, which later commits may extend with new resources. The upgraded
/// build plans that same configuration, as a user who only upgrades the provider does.
fn copy_example(ws: &Workspace<'_>, commit: &str) {
    for entry in std::fs::read_dir(ws.dir()).expect("workspace") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "tf" || e == "tfvars") {
            std::fs::remove_file(&path).expect("remove");
        }
    }
    let is_config = |name: &str| name.ends_with(".tf") || name.ends_with(".tfvars");
    let listing = git(&["ls-tree", "--name-only", commit, "examples/treeherder/"]);
    for path in String::from_utf8_lossy(&listing)
        .lines()
        .filter(|p| is_config(p))
    {
        let text = git(&["show", &format!("{commit}:{path}")]);
        let name = Path::new(path).file_name().expect("name");
        std::fs::write(ws.dir().join(name), text).expect("write");
    }
}

/// `(address, id)` of the example's `# terraform import ADDRESS ID` lines.
fn documented_imports(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("workspace") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("example file");
        for line in text.lines() {
            let rest = line.trim_start_matches('#').trim();
            if let Some(rest) = rest.strip_prefix("terraform import ") {
                let mut parts = rest.split_whitespace();
                if let (Some(address), Some(id)) = (parts.next(), parts.next()) {
                    out.push((address.to_string(), id.to_string()));
                }
            }
        }
    }
    out
}

/// The `Warning: ...` and `Error: ...` summary lines of a command's output.
fn diagnostics(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵', ' ']).trim())
        .filter(|l| l.starts_with("Warning:") || l.starts_with("Error:"))
        .map(str::to_string)
        .collect()
}

async fn plan(ws: &Workspace<'_>) -> acceptance::harness::CommandOutput {
    ws.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
        .await
        .expect("terraform plan runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_applied_by_the_base_build_plans_empty_with_this_build() {
    let (base_commit, base_binary) = base_build();
    let old = treeherder_provider_from(base_binary);
    let new = treeherder_provider();
    assert!(
        new.binary.is_file(),
        "{} is missing: run `cargo build -p terraform-provider-treeherder`",
        new.binary.display()
    );
    let world = World::require(&[Service::Mysql, Service::Moto]);
    let sandbox = SandboxWorld::start(API_KEY).await;
    let mut env: BTreeMap<String, String> = world.env().clone();
    env.extend(sandbox.env());
    let mut secrets = world.secrets().to_vec();
    secrets.push(API_KEY.to_string());
    let tf = terraform_for(std::slice::from_ref(&old), env, secrets).expect("terraform");
    let ws = tf.workspace("treeherder").expect("workspace");
    copy_example(&ws, &base_commit);

    // The checks run to the end or their first failure; the destroy follows either way, so a
    // failure leaves no MySQL accounts behind in the shared world.
    let checks = std::panic::AssertUnwindSafe(async {
        // The world as the base build leaves it, imports included (as `make demo` does).
        ws.init().await.expect("init with the base build");
        let imports = documented_imports(ws.dir());
        assert!(!imports.is_empty(), "the example documents its imports");
        for (address, id) in &imports {
            let out = ws.import(address, id).await.expect("import runs");
            tf.require_success(out).expect("import with the base build");
        }
        let applied = ws.apply().await.expect("apply runs");
        let applied = tf
            .require_success(applied)
            .expect("apply with the base build");
        // What the example normally shows: the base build's own second plan, which must be empty
        // too (else this test could not tell an upgrade problem from a base build problem).
        let before = plan(&ws).await;
        assert_eq!(
            before.code,
            Some(0),
            "the base build's own second plan is not empty:\n{}\n{}",
            before.stdout,
            tf.redact(&before.stderr)
        );
        let mut expected = diagnostics(&applied.stdout);
        expected.extend(diagnostics(&applied.stderr));
        expected.extend(diagnostics(&before.stdout));
        expected.extend(diagnostics(&before.stderr));

        // This build, offered under the same version. The lock file holds the base binary's `h1:`
        // hash, and a mirror's package must match it: init would refuse the new binary ("does not
        // match any of the checksums"). A user upgrading gets a new version (and `init -upgrade`
        // rewrites the lock); here the lock file and the installed copy are dropped and init
        // records the new build's hash.
        let installed = tf.reinstall(&new).expect("install this build");
        std::fs::remove_file(ws.dir().join(".terraform.lock.hcl")).expect("remove the lock file");
        let cached = ws.dir().join(".terraform/providers");
        std::fs::remove_dir_all(&cached).expect("remove the installed provider");
        ws.init().await.expect("init with this build");
        let in_use = cached
            .join("registry.terraform.io/treeherder/treeherder")
            .join(&new.version)
            .join(
                installed
                    .parent()
                    .and_then(Path::file_name)
                    .expect("platform"),
            )
            .join(installed.file_name().expect("file name"));
        assert!(
            std::fs::read(&in_use).expect("the installed provider")
                == std::fs::read(&new.binary).expect("this build"),
            "Terraform does not run this checkout's build after the swap"
        );

        let after = plan(&ws).await;
        let mut seen = diagnostics(&after.stdout);
        seen.extend(diagnostics(&after.stderr));
        let new_diagnostics: Vec<&String> = seen.iter().filter(|d| !expected.contains(d)).collect();
        assert!(
            after.code == Some(0) && new_diagnostics.is_empty(),
            "state written by the base build does not plan empty with this build (exit {:?}; \
             new diagnostics {new_diagnostics:?}): a stored shape changed without a state upgrader?\n{}\n{}",
            after.code,
            after.stdout,
            tf.redact(&after.stderr)
        );
    })
    .catch_unwind()
    .await;
    let destroyed = ws.destroy().await;
    if let Err(panic) = checks {
        std::panic::resume_unwind(panic);
    }
    destroyed.expect("destroy with this build");
    let scan = tf.scan(&[API_KEY.to_string()]).expect("scan");
    assert!(scan.leaks.is_empty(), "API key leaked: {:?}", scan.leaks);
}
