//! `terraform apply` as a child a test kills with SIGKILL mid-operation, as a CI runner's
//! `kill -9` does: Terraform and the provider plugins it started die without cleaning up.

use std::process::Stdio;

use super::{HarnessError, Workspace};

/// A `terraform apply -auto-approve` running in its own process group (its provider plugins
/// join it). Dropping it kills the group, so no test leaves Terraform running.
#[derive(Debug)]
pub struct KillableApply {
    child: tokio::process::Child,
}

impl Workspace<'_> {
    /// Starts `terraform apply -auto-approve` here without waiting for it. Its TRACE log,
    /// stdout and stderr go to the logs folder, which the secret scan reads.
    pub fn spawn_killable_apply(&self) -> Result<KillableApply, HarnessError> {
        let tf = self.tf;
        let n = tf.counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let stem = format!("{n:03}-apply-killable");
        let args = ["apply", "-auto-approve", "-input=false", "-no-color"];
        let output = |stream: &str| {
            let path = tf.logs.join(format!("{stem}.{stream}"));
            std::fs::File::create(&path)
                .map(Stdio::from)
                .map_err(|e| HarnessError::io("creating", &path, e))
        };
        let mut cmd = tokio::process::Command::new(&tf.binary);
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(output("stdout")?)
            .stderr(output("stderr")?)
            // Its own group: one signal reaches Terraform and its plugins, not this test.
            .process_group(0);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("TF_") {
                cmd.env_remove(&key);
            }
        }
        cmd.envs(&tf.env)
            .env("TF_CLI_CONFIG_FILE", &tf.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_LOG", "TRACE")
            .env("TF_LOG_PATH", tf.logs.join(format!("{stem}.tflog")));
        let child = cmd.spawn().map_err(|source| HarnessError::Spawn {
            command: args.join(" "),
            source,
        })?;
        Ok(KillableApply { child })
    }
}

impl KillableApply {
    /// Whether Terraform is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL to Terraform's process group, then waits until Terraform is reaped.
    pub async fn kill(mut self) -> Result<(), HarnessError> {
        self.kill_group()?;
        self.child
            .wait()
            .await
            .map(|_| ())
            .map_err(|source| HarnessError::Spawn {
                command: "waiting for the killed terraform".into(),
                source,
            })
    }

    fn kill_group(&mut self) -> Result<(), HarnessError> {
        // Reaped already: its id could be another process's by now.
        let Some(pid) = self.child.id() else {
            return Ok(());
        };
        // The group id is Terraform's pid (`process_group(0)`).
        let group = format!("-{pid}");
        std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|_| ())
            .map_err(|source| HarnessError::Spawn {
                command: format!("kill -KILL -- {group}"),
                source,
            })
    }
}

impl Drop for KillableApply {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.kill_group();
        }
    }
}
