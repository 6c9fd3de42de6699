//! An example provider built on `tfplugin`: files on the local disk as resources.
//! It proves the SDK end to end with real Terraform (see `acceptance/tests/example_provider.rs`).

mod file_data_source;
mod file_resource;
mod token_ephemeral;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use tfplugin::framework::{
    data_source, ephemeral_resource, resource, DynDataSource, DynEphemeralResource, DynResource,
    Provider,
};
use tfplugin::schema::SchemaDeriveError;
use tfplugin::{Diagnostic, Diagnostics};

/// Configuration of the example provider.
#[derive(Debug, Deserialize, JsonSchema, tfplugin::Model)]
struct ExampleConfig {
    /// Directory every `path` is relative to.
    root: String,
}

/// What resources get: the root directory.
pub struct FileRoot(PathBuf);

impl FileRoot {
    fn join(&self, path: &str) -> Result<PathBuf, Diagnostics> {
        if path.is_empty() || path.starts_with('/') || path.split('/').any(|part| part == "..") {
            return Err(Diagnostic::error(
                "Invalid path",
                format!("{path:?} must be relative and stay inside the root"),
            )
            .into());
        }
        Ok(self.0.join(path))
    }
}

struct ExampleProvider;

#[async_trait]
impl Provider for ExampleProvider {
    type Config = ExampleConfig;
    type Client = FileRoot;

    fn type_name(&self) -> &'static str {
        "example"
    }

    async fn configure(
        &self,
        config: ExampleConfig,
        _terraform_version: &str,
    ) -> Result<FileRoot, Diagnostics> {
        Ok(FileRoot(PathBuf::from(config.root)))
    }

    fn resources(&self) -> Result<Vec<Arc<dyn DynResource<FileRoot>>>, SchemaDeriveError> {
        Ok(vec![resource(file_resource::File)?])
    }

    fn data_sources(&self) -> Result<Vec<Arc<dyn DynDataSource<FileRoot>>>, SchemaDeriveError> {
        Ok(vec![data_source(file_data_source::FileContent)?])
    }

    fn ephemeral_resources(
        &self,
    ) -> Result<Vec<Arc<dyn DynEphemeralResource<FileRoot>>>, SchemaDeriveError> {
        Ok(vec![ephemeral_resource(token_ephemeral::Token)?])
    }
}

fn main() -> ExitCode {
    tfplugin::cli::main(
        ExampleProvider,
        tfplugin::cli::ProviderInfo {
            address: "registry.terraform.io/tfplugin/example",
            binary: "terraform-provider-example",
            version: "0.1.0",
            display_name: "Example",
        },
    )
}
