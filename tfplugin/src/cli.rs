//! The provider binary's entry point: serve Terraform, or answer a human.

use std::path::Path;
use std::process::ExitCode;

use crate::framework::Provider;
use crate::server::{self, ServeConfig, ServeError};
use crate::service::ProviderService;

/// Who the provider is, for `--version`, debug mode and schema output.
#[derive(Debug, Clone, Copy)]
pub struct ProviderInfo {
    /// The source address, e.g. `registry.terraform.io/treeherder/treeherder`.
    pub address: &'static str,
    /// The binary's name, e.g. `terraform-provider-treeherder`.
    pub binary: &'static str,
    /// The version, e.g. `0.1.0`.
    pub version: &'static str,
    /// The name in titles of the generated docs, e.g. `Treeherder`.
    pub display_name: &'static str,
}

impl ProviderInfo {
    /// The provider's local name, which prefixes its type names: the binary's name without
    /// `terraform-provider-`.
    pub fn local_name(&self) -> &'static str {
        self.binary
            .strip_prefix("terraform-provider-")
            .unwrap_or(self.binary)
    }
}

const USAGE: &str = "usage: BINARY [--version | --debug | schema | schema-files DIR | docs ROOT]

  (no arguments)     serve Terraform (only when started by Terraform)
  --version          print the version
  --debug            serve in plaintext for TF_REATTACH_PROVIDERS (debuggers)
  schema             print the provider schema as `terraform providers schema -json` does
  schema-files DIR   write DIR/provider.json and one JSON Schema per resource model
  docs ROOT          write ROOT/docs from the schemas, ROOT/examples and ROOT/templates";

/// Runs the provider binary: parses the arguments, then serves or answers.
pub fn main<P: Provider>(provider: P, info: ProviderInfo) -> ExitCode {
    install_panic_hook();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{}: cannot start the async runtime: {e}", info.binary);
            return ExitCode::FAILURE;
        }
    };
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["--version"] | ["version"] => {
            println!("{} {}", info.binary, info.version);
            ExitCode::SUCCESS
        }
        ["schema"] => {
            let service = ProviderService::new(provider);
            print_json(&service.schema_json(info.address));
            exit_for(service.setup_errors())
        }
        ["schema-files", dir] => {
            let service = ProviderService::new(provider);
            match write_schema_files(&service, info, Path::new(dir)) {
                Ok(()) => exit_for(service.setup_errors()),
                Err(e) => {
                    eprintln!("{}: cannot write schema files to {dir}: {e}", info.binary);
                    ExitCode::FAILURE
                }
            }
        }
        ["docs", root] => {
            let service = ProviderService::new(provider);
            let catalog = service.docs_catalog(info.local_name(), info.display_name);
            let root = Path::new(root);
            let written = crate::docs::generate(&catalog, root)
                .map_err(|e| e.to_string())
                .and_then(|pages| {
                    crate::docs::write(&pages, &root.join("docs")).map_err(|e| e.to_string())
                });
            match written {
                Ok(()) => exit_for(service.setup_errors()),
                Err(e) => {
                    eprintln!("{}: cannot generate docs: {e}", info.binary);
                    ExitCode::FAILURE
                }
            }
        }
        ["--debug"] => {
            let service = ProviderService::new(provider);
            let result = runtime.block_on(server::serve_debug(
                service,
                info.address,
                std::io::stdout(),
            ));
            report(result, info)
        }
        [] => match ServeConfig::from_env() {
            Ok(config) => {
                let service = ProviderService::new(provider);
                let result = runtime.block_on(server::serve(service, config, std::io::stdout()));
                report(result, info)
            }
            Err(e) => report(Err(e), info),
        },
        _ => {
            eprintln!("{}", USAGE.replace("BINARY", info.binary));
            ExitCode::from(2)
        }
    }
}

fn report(result: Result<(), ServeError>, info: ProviderInfo) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::NotLaunchedByTerraform) => {
            eprintln!("{}", ServeError::NotLaunchedByTerraform);
            ExitCode::FAILURE
        }
        Err(e) => {
            crate::error!("{}: {e}", info.binary);
            eprintln!("{}: {e}", info.binary);
            ExitCode::FAILURE
        }
    }
}

fn exit_for(errors: &crate::diag::Diagnostics) -> ExitCode {
    if errors.has_errors() {
        eprintln!("{errors}");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_json(value: &serde_json::Value) {
    use std::io::Write;
    match serde_json::to_string_pretty(value) {
        // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
        Ok(text) => drop(writeln!(std::io::stdout(), "{text}")),
        Err(e) => eprintln!("cannot render JSON: {e}"),
    }
}

fn write_schema_files<P: Provider>(
    service: &ProviderService<P>,
    info: ProviderInfo,
    dir: &Path,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let pretty = |value: &serde_json::Value| {
        serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(std::io::Error::other)
    };
    std::fs::write(
        dir.join("provider.json"),
        pretty(&service.schema_json(info.address))?,
    )?;
    for (name, schema) in service.model_json_schemas() {
        std::fs::write(dir.join(format!("{name}.schema.json")), pretty(&schema)?)?;
    }
    Ok(())
}

/// Panics are logged through the masking logger, never printed raw (they may quote secrets).
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|panic| {
        let message = panic
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let place = panic
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::error!("panic{place}: {message}");
    }));
}
