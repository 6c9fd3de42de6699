//! The Treeherder provider under test, and test cases and Terraform environments set up with
//! this project's [`super::settings`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use tfplugin_testing::{HarnessError, ProviderUnderTest, Terraform, TerraformVersion, TestCase};

use super::paths::{settings, target_dir};

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

/// The source address configurations require the provider as.
pub const TREEHERDER_SOURCE: &str = "registry.terraform.io/treeherder/treeherder";

/// The Treeherder provider at the workspace's version from `$TREEHERDER_PROVIDER_BIN`, else
/// `<target>/debug/terraform-provider-treeherder`. That default is only as fresh as the last
/// `cargo build` of the provider; tests inside the provider package should prefer
/// [`treeherder_provider_from`] with `env!("CARGO_BIN_EXE_terraform-provider-treeherder")`,
/// which cargo rebuilds first.
pub fn treeherder_provider() -> ProviderUnderTest {
    let binary = match std::env::var_os("TREEHERDER_PROVIDER_BIN") {
        Some(path) => PathBuf::from(path),
        None => target_dir().join("debug/terraform-provider-treeherder"),
    };
    treeherder_provider_from(binary)
}

/// The Treeherder provider at the workspace's version from `binary`.
pub fn treeherder_provider_from(binary: impl Into<PathBuf>) -> ProviderUnderTest {
    ProviderUnderTest::new(TREEHERDER_SOURCE, binary, env!("CARGO_PKG_VERSION"))
}

/// A test case for [`treeherder_provider`] with this project's settings.
pub fn treeherder_case() -> TestCase {
    TestCase::new(treeherder_provider()).settings(settings())
}

/// A test case for `provider` (e.g. an example provider) with this project's settings.
pub fn case_for(provider: ProviderUnderTest) -> TestCase {
    TestCase::new(provider).settings(settings())
}

/// A provider-less test case with this project's settings.
pub fn case_without_providers() -> TestCase {
    TestCase::without_providers().settings(settings())
}

/// A Terraform environment for driving Terraform by hand, with the default Terraform
/// (`$TREEHERDER_TERRAFORM`): a mirror holding `providers`, `env` for every command, and
/// `redactions` removed from error texts.
pub fn terraform_for(
    providers: &[ProviderUnderTest],
    env: BTreeMap<String, String>,
    redactions: Vec<String>,
) -> Result<Terraform, HarnessError> {
    Terraform::new(
        &settings(),
        &TerraformVersion::Default,
        providers,
        env,
        redactions,
    )
}

/// Like [`terraform_for`] with the recent Terraform (`$TREEHERDER_TERRAFORM_LATEST`, >= 1.11).
pub fn terraform_latest_for(
    providers: &[ProviderUnderTest],
    env: BTreeMap<String, String>,
    redactions: Vec<String>,
) -> Result<Terraform, HarnessError> {
    Terraform::new(
        &settings(),
        &TerraformVersion::Latest,
        providers,
        env,
        redactions,
    )
}
