//! The local provider mirror: [`ProviderUnderTest`] binaries installed into a filesystem
//! mirror, and the CLI configuration that installs only from it. [`LocalMirror::build`] is the
//! one place that lays both out, for test cases and (through the `tfplugin-mirror` binary) for
//! scripts.

use std::path::{Path, PathBuf};

use crate::error::HarnessError;

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
    pub fn include_pattern(&self) -> Result<String, HarnessError> {
        let (host, ns, _) = self.address()?;
        Ok(format!("{host}/{ns}/*"))
    }

    /// Like [`ProviderUnderTest::install_into`], removing an earlier copy of this source and
    /// version first: it may be a hard link to the previous binary, which copying over it
    /// would overwrite.
    pub fn reinstall_into(&self, mirror: &Path) -> Result<PathBuf, HarnessError> {
        let (host, ns, ty) = self.address()?;
        let version = mirror.join(host).join(ns).join(ty).join(&self.version);
        if version.exists() {
            std::fs::remove_dir_all(&version)
                .map_err(|e| HarnessError::io("removing", &version, e))?;
        }
        self.install_into(mirror)
    }

    /// Installs the binary into `mirror` in the unpacked layout
    /// `HOST/NS/TYPE/VERSION/linux_amd64/terraform-provider-TYPE_vVERSION`, hard-linking when
    /// possible and copying otherwise. Returns the installed path.
    pub fn install_into(&self, mirror: &Path) -> Result<PathBuf, HarnessError> {
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

/// What Terraform may install besides the providers of a [`LocalMirror`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OtherProviders {
    /// Nothing: installation is offline and can never pick a published provider instead of
    /// the one under test (test cases).
    #[default]
    Refused,
    /// Other providers come from their registries as usual; the mirrored namespaces never do
    /// (a person trying a local build beside published providers).
    FromRegistry,
}

/// A filesystem mirror holding providers under test and the Terraform CLI configuration that
/// installs them from it (`TF_CLI_CONFIG_FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMirror {
    /// The mirror directory (`filesystem_mirror.path`).
    pub mirror: PathBuf,
    /// The CLI configuration file.
    pub cli_config: PathBuf,
}

impl LocalMirror {
    /// Lays out `dir/mirror` with `providers` (replacing an earlier copy of the same version,
    /// so a rebuilt binary is picked up) and writes `dir/terraformrc`.
    pub fn build(
        dir: &Path,
        providers: &[ProviderUnderTest],
        others: OtherProviders,
    ) -> Result<LocalMirror, HarnessError> {
        let mirror = dir.join("mirror");
        std::fs::create_dir_all(&mirror).map_err(|e| HarnessError::io("creating", &mirror, e))?;
        let mut includes = Vec::new();
        for provider in providers {
            provider.reinstall_into(&mirror)?;
            let pattern = provider.include_pattern()?;
            if !includes.contains(&pattern) {
                includes.push(pattern);
            }
        }
        let cli_config = dir.join("terraformrc");
        std::fs::write(&cli_config, cli_config_text(&mirror, &includes, others))
            .map_err(|e| HarnessError::io("writing", &cli_config, e))?;
        Ok(LocalMirror { mirror, cli_config })
    }
}

/// The CLI configuration installing the `includes` patterns (`HOST/NAMESPACE/*` or full
/// sources) from the filesystem mirror at `mirror`, packed (zip) or unpacked layout alike.
pub fn cli_config_text(mirror: &Path, includes: &[String], others: OtherProviders) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let list = includes
        .iter()
        .map(|i| quote(i))
        .collect::<Vec<_>>()
        .join(", ");
    let include = if includes.is_empty() {
        String::new()
    } else {
        format!("    include = [{list}]\n")
    };
    let direct = match others {
        OtherProviders::Refused => String::new(),
        OtherProviders::FromRegistry if includes.is_empty() => "  direct {}\n".to_string(),
        OtherProviders::FromRegistry => format!("  direct {{\n    exclude = [{list}]\n  }}\n"),
    };
    format!(
        "disable_checkpoint = true\n\nprovider_installation {{\n  filesystem_mirror {{\n    path    = {}\n{include}  }}\n{direct}}}\n",
        quote(&mirror.to_string_lossy())
    )
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
        let p = ProviderUnderTest::new("acme/thing", "/x", "0.1.0");
        assert_eq!(
            p.address().unwrap(),
            (
                "registry.terraform.io".into(),
                "acme".into(),
                "thing".into()
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
        let p = ProviderUnderTest::new("registry.terraform.io/acme/thing", &bin, "0.1.0");
        let mirror = tmp.path().join("mirror");
        let dest = p.install_into(&mirror).unwrap();
        assert_eq!(
            dest,
            mirror.join(format!(
                "registry.terraform.io/acme/thing/0.1.0/{}/terraform-provider-thing_v0.1.0",
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

    #[test]
    fn cli_config_lists_only_the_mirror_unless_others_may_come_from_registries() {
        let includes = ["registry.terraform.io/acme/*".to_string()];
        let text = cli_config_text(Path::new("/m/ir\"ror"), &includes, OtherProviders::Refused);
        assert!(text.contains("path    = \"/m/ir\\\"ror\""), "{text}");
        assert!(
            text.contains("include = [\"registry.terraform.io/acme/*\"]"),
            "{text}"
        );
        assert!(!text.contains("direct"), "{text}");
        let text = cli_config_text(Path::new("/m"), &includes, OtherProviders::FromRegistry);
        assert!(
            text.contains("direct {\n    exclude = [\"registry.terraform.io/acme/*\"]"),
            "{text}"
        );
    }

    #[test]
    fn a_rebuilt_binary_replaces_the_mirrored_one_without_touching_the_old_file() {
        let tmp = tempfile::tempdir().unwrap();
        let old = tmp.path().join("old");
        let new = tmp.path().join("new");
        std::fs::write(&old, b"old").unwrap();
        std::fs::write(&new, b"new").unwrap();
        let dir = tmp.path().join("m");
        LocalMirror::build(
            &dir,
            &[ProviderUnderTest::new("acme/thing", &old, "1.0.0")],
            OtherProviders::Refused,
        )
        .unwrap();
        let built = LocalMirror::build(
            &dir,
            &[ProviderUnderTest::new("acme/thing", &new, "1.0.0")],
            OtherProviders::Refused,
        )
        .unwrap();
        let installed = built.mirror.join(format!(
            "registry.terraform.io/acme/thing/1.0.0/{}/terraform-provider-thing_v1.0.0",
            platform()
        ));
        assert_eq!(std::fs::read(installed).unwrap(), b"new");
        assert_eq!(std::fs::read(old).unwrap(), b"old");
        assert!(std::fs::read_to_string(built.cli_config)
            .unwrap()
            .contains("filesystem_mirror"));
    }
}
