//! The multi-platform release pipeline, as far as this machine can check it (it cannot build
//! other platforms): `.github/workflows/release.yml` passes actionlint (`make tools` installs it
//! into `.tools/bin/`), builds the five platforms users run, and hands them to
//! scripts/release.sh in a layout whose packaging step is dry-run here on linux_amd64 with the
//! debug build the other tests use (no release build): artifacts as the workflow downloads
//! them (`binaries/<platform>/`, mode lost in transit), then the zip, checksums and signature.
//! A binary filed under the wrong platform is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use acceptance::harness::{repo_root, treeherder_provider};

const NAME: &str = "terraform-provider-treeherder";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const PLATFORMS: [&str; 5] = [
    "darwin_amd64",
    "darwin_arm64",
    "linux_amd64",
    "linux_arm64",
    "windows_amd64",
];

fn workflow() -> PathBuf {
    repo_root().join(".github/workflows/release.yml")
}

fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"))
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn workflows_pass_actionlint() {
    let actionlint = repo_root().join(".tools/bin/actionlint");
    assert!(
        actionlint.exists(),
        "{} is missing: run `make tools` (scripts/install-actionlint.sh)",
        actionlint.display()
    );
    let out = output(
        Command::new(&actionlint)
            .current_dir(repo_root())
            .args(["-no-color"]),
    );
    assert!(out.status.success(), "actionlint: {}", text(&out));
}

#[test]
fn workflow_builds_every_platform_and_packages_with_release_sh() {
    let yaml = std::fs::read_to_string(workflow()).expect("read release.yml");
    let platforms = regex::Regex::new(r"(?m)^\s*- platform: (\S+)$").expect("regex");
    let mut built: Vec<&str> = platforms
        .captures_iter(&yaml)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    built.sort();
    assert_eq!(built, PLATFORMS, "the build matrix's platforms");
    // The package step is the script dry-run below, fed the downloaded artifacts.
    assert!(yaml.contains("RELEASE_BINARIES_DIR: binaries"), "{yaml}");
    assert!(yaml.contains("run: scripts/release.sh"), "{yaml}");
    assert!(yaml.contains("GPG_PRIVATE_KEY: ${{ secrets.GPG_PRIVATE_KEY }}"));
}

/// A throwaway signing key, armored, made in `home`.
fn signing_key(home: &Path) -> String {
    std::fs::create_dir(home).expect("mkdir gnupg");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700))
            .expect("chmod gnupg");
    }
    let gpg = |args: &[&str]| {
        let out = output(
            Command::new("gpg")
                .env("GNUPGHOME", home)
                .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                .args(args),
        );
        assert!(out.status.success(), "gpg {args:?}: {}", text(&out));
        out.stdout
    };
    gpg(&[
        "--quick-gen-key",
        "Treeherder pipeline test <pipeline-test@invalid>",
        "ed25519",
        "sign",
        "never",
    ]);
    String::from_utf8(gpg(&["--armor", "--export-secret-keys"])).expect("armored key")
}

/// Files `binary` as the artifact of `platform` under `binaries`, without its execute bit (as
/// actions/download-artifact delivers it).
fn file_artifact(binaries: &Path, platform: &str, binary: &Path) {
    let dir = binaries.join(platform);
    std::fs::create_dir_all(&dir).expect("mkdir platform");
    let to = dir.join(NAME);
    std::fs::copy(binary, &to).expect("copy the binary");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
}

fn release_sh(key: &str, binaries: &Path, dist: &Path) -> Output {
    output(
        Command::new(repo_root().join("scripts/release.sh"))
            .env("GPG_PRIVATE_KEY", key)
            .env("RELEASE_BINARIES_DIR", binaries)
            .env("DIST_DIR", dist)
            .env_remove("GPG_FINGERPRINT")
            .env_remove("RELEASE_BINARY"),
    )
}

#[test]
fn packaging_step_dry_run_on_linux_amd64() {
    let provider = treeherder_provider();
    assert!(
        provider.binary.exists(),
        "{} is missing: run `cargo build -p terraform-provider-treeherder`",
        provider.binary.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let key = signing_key(&dir.path().join("gnupg"));
    let binaries = dir.path().join("binaries");
    let dist = dir.path().join("dist");
    file_artifact(&binaries, "linux_amd64", &provider.binary);

    let out = release_sh(&key, &binaries, &dist);
    assert!(out.status.success(), "release.sh: {}", text(&out));
    let file = |suffix: &str| dist.join(format!("{NAME}_{VERSION}_{suffix}"));
    let listing = output(
        Command::new("unzip")
            .arg("-Z1")
            .arg(file("linux_amd64.zip")),
    );
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        format!("{NAME}_v{VERSION}")
    );
    // The packaged binary is executable again whatever mode the artifact had.
    let mode = output(Command::new("unzip").arg("-Z").arg(file("linux_amd64.zip")));
    assert!(
        String::from_utf8_lossy(&mode.stdout).contains("-rwxr-xr-x"),
        "{}",
        text(&mode)
    );
    let sums = std::fs::read_to_string(file("SHA256SUMS")).expect("sums");
    let named: Vec<&str> = sums
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(
        named,
        [
            format!("{NAME}_{VERSION}_linux_amd64.zip"),
            format!("{NAME}_{VERSION}_manifest.json")
        ]
    );
    let check = output(
        Command::new("sha256sum")
            .arg("--check")
            .arg(file("SHA256SUMS"))
            .current_dir(&dist),
    );
    assert!(check.status.success(), "{}", text(&check));
    let verifier = dir.path().join("verifier");
    std::fs::create_dir(&verifier).expect("mkdir");
    let gpg = |args: &[&Path]| {
        output(
            Command::new("gpg")
                .env("GNUPGHOME", &verifier)
                .arg("--batch")
                .args(args),
        )
    };
    assert!(gpg(&[Path::new("--import"), &file("signing-key.asc")])
        .status
        .success());
    let verify = gpg(&[
        Path::new("--verify"),
        &file("SHA256SUMS.sig"),
        &file("SHA256SUMS"),
    ]);
    assert!(verify.status.success(), "{}", text(&verify));

    // The same (Linux) binary filed as a macOS one is refused, naming the platform.
    file_artifact(&binaries, "darwin_arm64", &provider.binary);
    let out = release_sh(&key, &binaries, &dist);
    assert!(
        !out.status.success(),
        "a Linux binary was packaged as darwin_arm64"
    );
    assert!(
        text(&out).contains("is not a darwin_arm64 executable"),
        "{}",
        text(&out)
    );
}
