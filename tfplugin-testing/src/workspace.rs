//! [`Workspace`]: one Terraform working directory of a [`Terraform`] root, and the commands a
//! test runs in it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diagnostics::{diagnostics_from_json_lines, Diagnostic};
use crate::error::HarnessError;
use crate::plan::Plan;
use crate::state::State;
use crate::terraform::{Background, Capture, CommandOutput, PlanOutcome, Terraform};

/// One Terraform working directory of a [`Terraform`] root.
#[derive(Debug)]
pub struct Workspace<'a> {
    tf: &'a Terraform,
    dir: PathBuf,
}

impl<'a> Workspace<'a> {
    pub(crate) fn new(tf: &'a Terraform, dir: PathBuf) -> Self {
        Workspace { tf, dir }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The owning environment.
    pub fn terraform(&self) -> &Terraform {
        self.tf
    }

    /// Replaces the configuration with `hcl` as `main.tf` (other `.tf` files are removed).
    pub fn write_config(&self, hcl: &str) -> Result<(), HarnessError> {
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| HarnessError::io("listing", &self.dir, e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| HarnessError::io("listing", &self.dir, e))?
                .path();
            if path.extension().is_some_and(|ext| ext == "tf") {
                std::fs::remove_file(&path).map_err(|e| HarnessError::io("removing", &path, e))?;
            }
        }
        let path = self.dir.join("main.tf");
        std::fs::write(&path, hcl).map_err(|e| HarnessError::io("writing", &path, e))
    }

    /// Runs `terraform ARGS` here; non-zero exits are returned, not raised.
    pub async fn run(&self, args: &[&str]) -> Result<CommandOutput, HarnessError> {
        self.tf.run(&self.dir, args).await
    }

    /// `terraform init`, which fails unless the providers resolve from the mirror.
    pub async fn init(&self) -> Result<CommandOutput, HarnessError> {
        let out = self.run(&["init", "-input=false", "-no-color"]).await?;
        self.tf.require_success(out)
    }

    /// `terraform apply -auto-approve` (returned even when it fails, for expected errors).
    pub async fn apply(&self) -> Result<CommandOutput, HarnessError> {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
            .await
    }

    /// `terraform apply -auto-approve` started in the background, to be killed
    /// ([`Background::kill`]) at a moment the test chooses.
    pub fn spawn_apply(&self) -> Result<Background, HarnessError> {
        self.tf.spawn(
            &self.dir,
            &["apply", "-auto-approve", "-input=false", "-no-color"],
        )
    }

    /// `terraform apply -refresh-only -auto-approve`.
    pub async fn apply_refresh_only(&self) -> Result<CommandOutput, HarnessError> {
        self.run(&[
            "apply",
            "-refresh-only",
            "-auto-approve",
            "-input=false",
            "-no-color",
        ])
        .await
    }

    /// `terraform apply PLANFILE`: applies exactly that saved plan (Terraform refuses a stale
    /// one); returned even when it fails.
    pub async fn apply_plan_file(&self, plan_file: &Path) -> Result<CommandOutput, HarnessError> {
        let file = plan_file.to_string_lossy().into_owned();
        self.run(&["apply", "-input=false", "-no-color", &file])
            .await
    }

    /// `terraform plan -detailed-exitcode` (with `-refresh=false` unless `refresh`).
    pub async fn plan(&self, refresh: bool) -> Result<PlanOutcome, HarnessError> {
        let mut args = vec!["plan", "-input=false", "-no-color", "-detailed-exitcode"];
        if !refresh {
            args.push("-refresh=false");
        }
        let out = self.run(&args).await?;
        match out.code {
            Some(0) => Ok(PlanOutcome {
                has_changes: false,
                text: out.stdout,
            }),
            Some(2) => Ok(PlanOutcome {
                has_changes: true,
                text: out.stdout,
            }),
            _ => Err(self.tf.failed(&out)),
        }
    }

    /// `terraform plan -out=FILE` into a new plan file of this directory: the file and the
    /// command's output, returned even when planning fails (for expected errors); the file
    /// exists only when it succeeded. Apply it with [`Workspace::apply_plan_file`].
    pub async fn plan_file(&self, refresh: bool) -> Result<(PathBuf, CommandOutput), HarnessError> {
        let n = self.tf.commands_run();
        let plan_file = self.dir.join(format!("plan-{n:03}.tfplan"));
        let out_arg = format!("-out={}", plan_file.to_string_lossy());
        let mut args = vec!["plan", "-input=false", "-no-color", out_arg.as_str()];
        if !refresh {
            args.push("-refresh=false");
        }
        let out = self.run(&args).await?;
        Ok((plan_file, out))
    }

    /// Plans into a plan file (returned) and reads it back as JSON.
    pub async fn plan_to_file(&self, refresh: bool) -> Result<(PathBuf, Plan), HarnessError> {
        let (plan_file, out) = self.plan_file(refresh).await?;
        self.tf.require_success(out)?;
        let file = plan_file.to_string_lossy().into_owned();
        let json = self.show_json(&["show", "-json", &file]).await?;
        Ok((plan_file, Plan::from_json(json)))
    }

    /// A JSON plan of the current configuration (refreshed when `refresh`).
    pub async fn plan_json(&self, refresh: bool) -> Result<Plan, HarnessError> {
        Ok(self.plan_to_file(refresh).await?.1)
    }

    /// The current state from `terraform show -json`.
    pub async fn state(&self) -> Result<State, HarnessError> {
        Ok(State::from_json(self.show_json(&["show", "-json"]).await?))
    }

    /// `terraform plan -json`: whether it succeeded, and its diagnostics.
    pub async fn plan_diagnostics(&self) -> Result<(bool, Vec<Diagnostic>), HarnessError> {
        let out = self.run(&["plan", "-input=false", "-json"]).await?;
        Ok((out.success(), diagnostics_from_json_lines(&out.stdout)))
    }

    /// Rewrites the local state file through `edit` (given its JSON), raising its serial as
    /// Terraform requires of a changed state: to stand for state an earlier provider wrote.
    pub fn edit_state(&self, edit: impl FnOnce(&mut Value)) -> Result<(), HarnessError> {
        let path = self.dir.join("terraform.tfstate");
        let io = |action, source| HarnessError::Io {
            action,
            path: path.clone(),
            source,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| io("reading", e))?;
        let mut state: Value =
            serde_json::from_str(&text).map_err(|source| HarnessError::Json {
                command: format!("reading {}", path.display()),
                source,
            })?;
        edit(&mut state);
        let serial = state["serial"].as_u64().unwrap_or(0);
        state["serial"] = Value::from(serial + 1);
        let text = serde_json::to_string_pretty(&state).map_err(|source| HarnessError::Json {
            command: format!("writing {}", path.display()),
            source,
        })?;
        std::fs::write(&path, text).map_err(|e| io("writing", e))
    }

    async fn show_json(&self, args: &[&str]) -> Result<Value, HarnessError> {
        let out = self
            .tf
            .run_captured(&self.dir, args, Capture::StateDump)
            .await?;
        let out = self.tf.require_success(out)?;
        serde_json::from_str(&out.stdout).map_err(|source| HarnessError::Json {
            command: out.command,
            source,
        })
    }

    /// `terraform import ADDRESS ID` (returned even when it fails).
    pub async fn import(&self, address: &str, id: &str) -> Result<CommandOutput, HarnessError> {
        self.run(&["import", "-input=false", "-no-color", address, id])
            .await
    }

    /// `terraform destroy -auto-approve`.
    pub async fn destroy(&self) -> Result<CommandOutput, HarnessError> {
        let out = self
            .run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
            .await?;
        self.tf.require_success(out)
    }
}
