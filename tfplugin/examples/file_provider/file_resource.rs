//! `example_file`: a file with content, permissions and tags.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource};
use tfplugin::{Diagnostic, Diagnostics, Sensitive};

use crate::FileRoot;

fn default_permissions() -> String {
    "0644".into()
}

/// A file under the provider's root directory.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct FileModel {
    /// Path relative to the provider's root. Changing it replaces the file.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    path: String,
    /// The file's content.
    content: String,
    /// A secret kept in `<path>.secret` beside the file; never shown in plans or logs.
    secret: Option<Sensitive>,
    /// Octal permissions.
    #[serde(default = "default_permissions")]
    #[schemars(pattern(r"^0[0-7]{3}$"))]
    permissions: String,
    /// Labels kept in state only.
    tags: Option<BTreeMap<String, String>>,
    /// The file's path, as its id.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    id: Option<String>,
    /// Size in bytes.
    #[schemars(extend("x-terraform" = { "computed": true }))]
    size: Option<u64>,
    /// How long operations may take.
    #[schemars(extend("x-terraform" = { "block": "single" }))]
    timeouts: Option<Timeouts>,
}

/// Operation time limits.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Timeouts {
    /// Limit for create, e.g. "30s".
    create: Option<String>,
}

pub struct File;

fn secret_path(full: &std::path::Path) -> std::path::PathBuf {
    let mut name = full.as_os_str().to_owned();
    name.push(".secret");
    name.into()
}

async fn remove_if_present(path: &std::path::Path) -> std::io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn io_error(action: &str, path: &str, e: std::io::Error) -> Diagnostics {
    Diagnostic::error(format!("Cannot {action} {path}"), e.to_string()).into()
}

impl File {
    async fn write(&self, root: &FileRoot, model: &mut FileModel) -> Result<(), Diagnostics> {
        let full = root.join(&model.path)?;
        let body = model.content.clone();
        tokio::fs::write(&full, &body)
            .await
            .map_err(|e| io_error("write", &model.path, e))?;
        let secret_file = secret_path(&full);
        let written = match &model.secret {
            Some(secret) => tokio::fs::write(&secret_file, secret.expose()).await,
            None => remove_if_present(&secret_file).await,
        };
        written.map_err(|e| io_error("write the secret of", &model.path, e))?;
        let mode = u32::from_str_radix(&model.permissions, 8)
            .map_err(|_| Diagnostic::error("Invalid permissions", "expected octal such as 0644"))?;
        tokio::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode))
            .await
            .map_err(|e| io_error("set permissions of", &model.path, e))?;
        model.id = Some(model.path.clone());
        model.size = Some(body.len() as u64);
        Ok(())
    }
}

#[async_trait]
impl Resource for File {
    type Model = FileModel;
    type Client = FileRoot;

    fn type_name(&self) -> &'static str {
        "example_file"
    }

    async fn create(
        &self,
        ctx: &Context<'_, FileRoot>,
        mut plan: FileModel,
    ) -> Result<FileModel, Diagnostics> {
        self.write(ctx.client()?, &mut plan).await?;
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, FileRoot>,
        mut state: FileModel,
    ) -> Result<Option<FileModel>, Diagnostics> {
        let full = ctx.client()?.join(&state.path)?;
        let body = match tokio::fs::read_to_string(&full).await {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("read", &state.path, e)),
        };
        let metadata = tokio::fs::metadata(&full)
            .await
            .map_err(|e| io_error("inspect", &state.path, e))?;
        state.secret = match tokio::fs::read_to_string(secret_path(&full)).await {
            Ok(secret) => Some(Sensitive::new(secret)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error("read the secret of", &state.path, e)),
        };
        state.content = body.clone();
        state.permissions = format!("{:04o}", metadata.permissions().mode() & 0o777);
        state.size = Some(body.len() as u64);
        state.id = Some(state.path.clone());
        Ok(Some(state))
    }

    async fn update(
        &self,
        ctx: &Context<'_, FileRoot>,
        _prior: FileModel,
        mut plan: FileModel,
    ) -> Result<FileModel, Diagnostics> {
        self.write(ctx.client()?, &mut plan).await?;
        Ok(plan)
    }

    async fn delete(
        &self,
        ctx: &Context<'_, FileRoot>,
        state: FileModel,
    ) -> Result<(), Diagnostics> {
        let full = ctx.client()?.join(&state.path)?;
        remove_if_present(&secret_path(&full))
            .await
            .map_err(|e| io_error("delete the secret of", &state.path, e))?;
        remove_if_present(&full)
            .await
            .map_err(|e| io_error("delete", &state.path, e))
    }

    async fn import(
        &self,
        _ctx: &Context<'_, FileRoot>,
        id: &str,
    ) -> Result<FileModel, Diagnostics> {
        Ok(FileModel {
            path: id.to_string(),
            content: String::new(),
            secret: None,
            permissions: default_permissions(),
            tags: None,
            id: Some(id.to_string()),
            size: None,
            timeouts: None,
        })
    }
}
