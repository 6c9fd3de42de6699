//! `example_file` data source: reads a file's content.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::{Diagnostic, Diagnostics, Field};

use crate::FileRoot;

/// A file's content.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct FileContentModel {
    /// Path relative to the provider's root.
    path: Field<String>,
    /// The content.
    #[tf(computed)]
    #[serde(default)]
    content: Field<String>,
}

pub struct FileContent;

#[async_trait]
impl DataSource for FileContent {
    type Model = FileContentModel;
    type Client = FileRoot;

    fn type_name(&self) -> &'static str {
        "example_file"
    }

    async fn read(
        &self,
        ctx: &Context<'_, FileRoot>,
        mut config: FileContentModel,
    ) -> Result<FileContentModel, Diagnostics> {
        let path = config.path.value()?;
        let full = ctx.client()?.join(path)?;
        let body = tokio::fs::read_to_string(&full)
            .await
            .map_err(|e| Diagnostic::error(format!("Cannot read {path}"), e.to_string()))?;
        config.content.set(body);
        Ok(config)
    }
}
