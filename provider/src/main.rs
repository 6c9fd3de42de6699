//! `terraform-provider-treeherder`: the binary Terraform starts.

use std::process::ExitCode;

use terraform_provider_treeherder::provider::{TreeherderProvider, ADDRESS};

fn main() -> ExitCode {
    tfplugin::cli::main(
        TreeherderProvider,
        tfplugin::cli::ProviderInfo {
            address: ADDRESS,
            binary: "terraform-provider-treeherder",
            version: env!("CARGO_PKG_VERSION"),
            display_name: "Treeherder",
        },
    )
}
