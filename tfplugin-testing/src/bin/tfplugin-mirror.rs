//! Lays out a local provider mirror and the Terraform CLI configuration that installs from it
//! (the same [`LocalMirror::build`] test cases use), for scripts: prints the configuration's
//! path, for `TF_CLI_CONFIG_FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tfplugin_testing::{LocalMirror, OtherProviders, ProviderUnderTest};

/// Install a provider binary into a filesystem mirror and write a CLI configuration for it.
#[derive(Parser)]
#[command(name = "tfplugin-mirror")]
struct Args {
    /// Directory to lay out (`DIR/mirror`, `DIR/terraformrc`).
    #[arg(long)]
    dir: PathBuf,
    /// Source address of the provider, `[HOST/]NAMESPACE/TYPE`.
    #[arg(long)]
    source: String,
    /// The provider executable.
    #[arg(long)]
    binary: PathBuf,
    /// The version to offer it as.
    #[arg(long)]
    version: String,
    /// Let other providers install from their registries (the mirrored namespace never does).
    #[arg(long)]
    registry_for_others: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let others = if args.registry_for_others {
        OtherProviders::FromRegistry
    } else {
        OtherProviders::Refused
    };
    let provider = ProviderUnderTest::new(args.source, args.binary, args.version);
    match LocalMirror::build(&args.dir, &[provider], others) {
        Ok(mirror) => {
            println!("{}", mirror.cli_config.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tfplugin-mirror: {e}");
            ExitCode::FAILURE
        }
    }
}
