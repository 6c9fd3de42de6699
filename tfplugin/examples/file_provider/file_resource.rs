//! `example_file`: a file with content, permissions and tags.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource};
use tfplugin::types::CreateTimeout;
use tfplugin::{Diagnostic, Diagnostics, Field, Sensitive, WriteOnly};

use crate::FileRoot;

fn default_permissions() -> Field<String> {
    Field::known("0644")
}

fn default_mode() -> String {
    "append".into()
}

/// A file under the provider's root directory.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct FileModel {
    /// Path relative to the provider's root. Changing it replaces the file.
    #[tf(requires_replace)]
    path: Field<String>,
    /// The file's content.
    content: Field<String>,
    /// A secret kept in `<path>.secret` beside the file; never shown in plans or logs.
    #[serde(default)]
    secret: Field<Sensitive>,
    /// A secret written to `<path>.token` and never stored in state (Terraform ≥ 1.11).
    #[serde(default)]
    token_wo: Field<WriteOnly>,
    /// Bump to write `token_wo` again.
    #[serde(default)]
    token_wo_version: Field<u64>,
    /// Octal permissions.
    #[serde(default = "default_permissions")]
    #[schemars(pattern(r"^0[0-7]{3}$"))]
    permissions: Field<String>,
    /// Labels kept in state only.
    #[serde(default)]
    tags: Field<BTreeMap<String, String>>,
    /// Lines appended after the content, each with a mode and a computed length.
    #[tf(nested = list)]
    #[serde(default)]
    lines: Field<Vec<Line>>,
    /// The file's path, as its id.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    id: Field<String>,
    /// Size in bytes.
    #[tf(computed)]
    #[serde(default)]
    size: Field<u64>,
    /// How long operations may take.
    #[tf(block = single)]
    timeouts: Option<CreateTimeout>,
}

/// One line after the content.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct Line {
    /// The text.
    text: String,
    /// `append` (default) or `shout` (upper-cased).
    #[serde(default = "default_mode")]
    #[schemars(extend("enum" = ["append", "shout"]))]
    mode: String,
    /// Bytes the line takes, newline included.
    #[tf(computed)]
    length: Option<u64>,
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

fn token_path(full: &std::path::Path) -> std::path::PathBuf {
    let mut name = full.as_os_str().to_owned();
    name.push(".token");
    name.into()
}

fn line_text(line: &Line) -> String {
    match line.mode.as_str() {
        "shout" => line.text.to_uppercase(),
        _ => line.text.clone(),
    }
}

impl File {
    async fn write(&self, root: &FileRoot, model: &mut FileModel) -> Result<(), Diagnostics> {
        let path = model.path.value()?.clone();
        let full = root.join(&path)?;
        let mut body = model.content.value()?.clone();
        if let Some(lines) = model.lines.get_mut() {
            for line in lines {
                let text = line_text(line);
                body.push_str(&text);
                body.push('\n');
                line.length = Some(text.len() as u64 + 1);
            }
        }
        tokio::fs::write(&full, &body)
            .await
            .map_err(|e| io_error("write", &path, e))?;
        let secret_file = secret_path(&full);
        let written = match model.secret.get() {
            Some(secret) => tokio::fs::write(&secret_file, secret.expose()).await,
            None => remove_if_present(&secret_file).await,
        };
        written.map_err(|e| io_error("write the secret of", &path, e))?;
        if let Some(token) = model.token_wo.get() {
            tokio::fs::write(token_path(&full), token.expose())
                .await
                .map_err(|e| io_error("write the token of", &path, e))?;
        }
        let mode = u32::from_str_radix(model.permissions.value()?, 8)
            .map_err(|_| Diagnostic::error("Invalid permissions", "expected octal such as 0644"))?;
        tokio::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode))
            .await
            .map_err(|e| io_error("set permissions of", &path, e))?;
        model.id.set(path);
        model.size.set(body.len() as u64);
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
        let path = state.path.value()?.clone();
        let full = ctx.client()?.join(&path)?;
        let body = match tokio::fs::read_to_string(&full).await {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("read", &path, e)),
        };
        let metadata = tokio::fs::metadata(&full)
            .await
            .map_err(|e| io_error("inspect", &path, e))?;
        state.secret = match tokio::fs::read_to_string(secret_path(&full)).await {
            Ok(secret) => Field::known(Sensitive::new(secret)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Field::Null,
            Err(e) => return Err(io_error("read the secret of", &path, e)),
        };
        // The lines are part of the file: what precedes them is the content.
        let tail: String = state
            .lines
            .get()
            .map(|lines| lines.iter().map(|l| line_text(l) + "\n").collect())
            .unwrap_or_default();
        match body.strip_suffix(tail.as_str()) {
            Some(content) => state.content.set(content),
            None => {
                state.content.set(body.clone());
                state.lines = Field::Null;
            }
        }
        state
            .permissions
            .set(format!("{:04o}", metadata.permissions().mode() & 0o777));
        state.size.set(body.len() as u64);
        state.id.set(path);
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
        let path = state.path.value()?;
        let full = ctx.client()?.join(path)?;
        for extra in [secret_path(&full), token_path(&full)] {
            remove_if_present(&extra)
                .await
                .map_err(|e| io_error("delete the extras of", path, e))?;
        }
        remove_if_present(&full)
            .await
            .map_err(|e| io_error("delete", path, e))
    }

    async fn import(
        &self,
        _ctx: &Context<'_, FileRoot>,
        id: &str,
    ) -> Result<FileModel, Diagnostics> {
        Ok(FileModel {
            path: Field::known(id),
            content: Field::known(""),
            secret: Field::Null,
            token_wo: Field::Null,
            token_wo_version: Field::Null,
            permissions: default_permissions(),
            tags: Field::Null,
            lines: Field::Null,
            id: Field::known(id),
            size: Field::Null,
            timeouts: None,
        })
    }
}
