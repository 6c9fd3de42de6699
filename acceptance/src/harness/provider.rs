//! The provider binary a test case installs into its private filesystem mirror.

use std::path::{Path, PathBuf};

use super::error::HarnessError;
use super::paths::target_dir;

/// The `terraform` block requiring the provider under test and an empty `provider` block:
/// the provider then takes its settings from the environment (the world's).
pub const PROVIDER_CONFIG: &str = r#"
terraform {
  required_providers {
    treeherder = { source = "treeherder/treeherder" }
  }
}
provider "treeherder" {}
"#;

/// [`PROVIDER_CONFIG`] with a `heroku` block: `max_retries` retries, the first after
/// `retry_base_delay_ms` (small delays keep fault tests fast).
pub fn heroku_provider_config(max_retries: u32, retry_base_delay_ms: u32) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}
provider "treeherder" {{
  heroku {{
    max_retries         = {max_retries}
    retry_base_delay_ms = {retry_base_delay_ms}
  }}
}}
"#
    )
}

/// The default registry host Terraform assumes for `NAMESPACE/TYPE` sources.
const DEFAULT_HOST: &str = "registry.terraform.io";

/// A provider build under test, installed as `source` at `version` from `binary`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUnderTest {
    /// Source address, `HOST/NAMESPACE/TYPE` or `NAMESPACE/TYPE` (registry.terraform.io).
    pub source: String,
    /// The executable to install.
    pub binary: PathBuf,
    /// The version to install it as (configs may pin it with `required_providers`).
    pub version: String,
}

impl ProviderUnderTest {
    /// A provider from explicit parts, e.g. an example provider built from the tfplugin crate.
    pub fn new(
        source: impl Into<String>,
        binary: impl Into<PathBuf>,
        version: impl Into<String>,
    ) -> Self {
        ProviderUnderTest {
            source: source.into(),
            binary: binary.into(),
            version: version.into(),
        }
    }

    /// `registry.terraform.io/treeherder/treeherder` at the workspace's version from `$TREEHERDER_PROVIDER_BIN`, else
    /// `<target>/debug/terraform-provider-treeherder`. That default is only as fresh as the last
    /// `cargo build` of the provider; tests inside the provider package should prefer
    /// [`ProviderUnderTest::treeherder_from`] with
    /// `env!("CARGO_BIN_EXE_terraform-provider-treeherder")`, which cargo rebuilds first.
    pub fn treeherder() -> Self {
        let binary = match std::env::var_os("TREEHERDER_PROVIDER_BIN") {
            Some(path) => PathBuf::from(path),
            None => target_dir().join("debug/terraform-provider-treeherder"),
        };
        ProviderUnderTest::treeherder_from(binary)
    }

    /// `registry.terraform.io/treeherder/treeherder` at the workspace's version from `binary`.
    pub fn treeherder_from(binary: impl Into<PathBuf>) -> Self {
        ProviderUnderTest::new(
            "registry.terraform.io/treeherder/treeherder",
            binary,
            env!("CARGO_PKG_VERSION"),
        )
    }

    /// `(host, namespace, type)` of the source address.
    pub fn address(&self) -> Result<(String, String, String), HarnessError> {
        let parts: Vec<&str> = self.source.split('/').collect();
        let valid = |s: &&&str| !s.is_empty() && !s.contains(char::is_whitespace);
        match parts.as_slice() {
            [ns, ty] if [ns, ty].iter().all(valid) => Ok((
                DEFAULT_HOST.to_string(),
                ns.to_lowercase(),
                ty.to_lowercase(),
            )),
            [host, ns, ty] if [host, ns, ty].iter().all(valid) => {
                Ok((host.to_lowercase(), ns.to_lowercase(), ty.to_lowercase()))
            }
            _ => Err(HarnessError::InvalidSource(self.source.clone())),
        }
    }

    /// The `include` pattern of the mirror block: `HOST/NAMESPACE/*`.
    pub(crate) fn include_pattern(&self) -> Result<String, HarnessError> {
        let (host, ns, _) = self.address()?;
        Ok(format!("{host}/{ns}/*"))
    }

    /// Installs the binary into `mirror` in the unpacked layout
    /// `HOST/NS/TYPE/VERSION/linux_amd64/terraform-provider-TYPE_vVERSION`, hard-linking when
    /// possible and copying otherwise. Returns the installed path.
    pub(crate) fn install_into(&self, mirror: &Path) -> Result<PathBuf, HarnessError> {
        if !self.binary.is_file() {
            return Err(HarnessError::ProviderMissing(self.binary.clone()));
        }
        let (host, ns, ty) = self.address()?;
        let dir = mirror
            .join(host)
            .join(ns)
            .join(&ty)
            .join(&self.version)
            .join(platform());
        std::fs::create_dir_all(&dir).map_err(|e| HarnessError::io("creating", &dir, e))?;
        let dest = dir.join(format!("terraform-provider-{ty}_v{}", self.version));
        if std::fs::hard_link(&self.binary, &dest).is_err() {
            std::fs::copy(&self.binary, &dest)
                .map_err(|e| HarnessError::io("copying provider to", &dest, e))?;
        }
        Ok(dest)
    }
}

/// Terraform's `OS_ARCH` name of this machine.
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_two_and_three_part_sources() {
        let p = ProviderUnderTest::new("treeherder/treeherder", "/x", "0.1.0");
        assert_eq!(
            p.address().unwrap(),
            (
                "registry.terraform.io".into(),
                "treeherder".into(),
                "treeherder".into()
            )
        );
        let p = ProviderUnderTest::new("example.com/Acme/Thing", "/x", "1.2.3");
        assert_eq!(
            p.address().unwrap(),
            ("example.com".into(), "acme".into(), "thing".into())
        );
        assert_eq!(p.include_pattern().unwrap(), "example.com/acme/*");
        assert!(ProviderUnderTest::new("just-one", "/x", "1")
            .address()
            .is_err());
        assert!(ProviderUnderTest::new("a//b", "/x", "1").address().is_err());
    }

    #[test]
    fn installs_in_the_unpacked_mirror_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("built");
        std::fs::write(&bin, b"#!/bin/sh\n").unwrap();
        let p =
            ProviderUnderTest::new("registry.terraform.io/treeherder/treeherder", &bin, "0.1.0");
        let mirror = tmp.path().join("mirror");
        let dest = p.install_into(&mirror).unwrap();
        assert_eq!(
            dest,
            mirror.join(format!(
                "registry.terraform.io/treeherder/treeherder/0.1.0/{}/terraform-provider-treeherder_v0.1.0",
                platform()
            ))
        );
        assert_eq!(std::fs::read(dest).unwrap(), b"#!/bin/sh\n");
        let missing = ProviderUnderTest::new("a/b", tmp.path().join("nope"), "1.0.0");
        assert!(matches!(
            missing.install_into(&mirror),
            Err(HarnessError::ProviderMissing(_))
        ));
    }
}
