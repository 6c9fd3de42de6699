//! Runs the Terraform steps of examples/ci/'s workflows as GitHub would: each step's `run:`
//! block read from the YAML, in a file run by `bash --noprofile --norc -eo pipefail` (GitHub's
//! `shell: bash`), with the environment of the workflow, the job and the step, whose
//! `${{ ... }}` values are the contexts a test gives ([`Github`]). Terraform is the one under
//! test, installing the provider from the harness's local mirror; `gh` is a stub that records
//! what it was asked. Every step's output and TRACE log go to the harness's logs folder, which
//! its secret scan reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use acceptance::harness::{repo_root, terraform_for, treeherder_provider, Terraform};
use yaml_rust2::{Yaml, YamlLoader};

/// One workflow file of examples/ci/.github/workflows/.
pub struct Workflow {
    pub file: String,
    doc: Yaml,
}

/// A step's `run:` block and its environment (workflow, then job, then step: the later wins),
/// values as written in the YAML.
pub struct Step {
    pub id: String,
    pub run: String,
    pub env: BTreeMap<String, String>,
}

impl Workflow {
    /// The directory of the workflows.
    pub fn dir() -> PathBuf {
        repo_root().join("examples/ci/.github/workflows")
    }

    pub fn load(file: &str) -> Workflow {
        let path = Workflow::dir().join(file);
        let text = std::fs::read_to_string(&path).expect("read the workflow");
        let mut docs = YamlLoader::load_from_str(&text).expect("the workflow is YAML");
        assert_eq!(docs.len(), 1, "{file}: one document");
        Workflow {
            file: file.to_string(),
            doc: docs.remove(0),
        }
    }

    pub fn doc(&self) -> &Yaml {
        &self.doc
    }

    /// The workflow's only job.
    pub fn job(&self) -> &Yaml {
        let jobs = self.doc["jobs"].as_hash().expect("jobs");
        assert_eq!(jobs.len(), 1, "{}: one job", self.file);
        jobs.values().next().expect("a job")
    }

    pub fn steps(&self) -> &[Yaml] {
        self.job()["steps"].as_vec().expect("steps")
    }

    /// The step whose `id` is `id`, which must have a `run:` block.
    pub fn step(&self, id: &str) -> Step {
        let step = self
            .steps()
            .iter()
            .find(|s| s["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("{}: no step with id {id}", self.file));
        let run = step["run"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: step {id} has no run block", self.file))
            .to_string();
        let mut env = BTreeMap::new();
        for scope in [&self.doc["env"], &self.job()["env"], &step["env"]] {
            for (key, value) in scope.as_hash().into_iter().flatten() {
                let value = match value {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    other => panic!("{}: env value {other:?}", self.file),
                };
                env.insert(key.as_str().expect("env name").to_string(), value);
            }
        }
        Step {
            id: id.to_string(),
            run,
            env,
        }
    }
}

/// The values of the `${{ ... }}` expressions the workflows use, by expression text
/// (`secrets.HEROKU_API_KEY`): the repository's secrets and variables and the event.
/// [`Github::overriding`] changes a value the workflow writes in (e.g. its `LOCK_TIMEOUT`).
#[derive(Clone, Default)]
pub struct Github {
    expressions: BTreeMap<String, String>,
    overrides: BTreeMap<String, String>,
}

impl Github {
    pub fn with(mut self, expression: &str, value: &str) -> Github {
        self.expressions
            .insert(expression.to_string(), value.to_string());
        self
    }

    /// The same run with the workflow's variable `name` set to `value`.
    pub fn overriding(&self, name: &str, value: &str) -> Github {
        let mut github = self.clone();
        github.overrides.insert(name.to_string(), value.to_string());
        github
    }

    /// `value` with its `${{ expression }}` (the whole value) replaced; an expression the
    /// test did not give fails the test, so every secret a step reads is accounted for.
    fn resolve(&self, value: &str) -> String {
        let trimmed = value.trim();
        let Some(inner) = trimmed
            .strip_prefix("${{")
            .and_then(|v| v.strip_suffix("}}"))
        else {
            assert!(!value.contains("${{"), "a partial expression: {value}");
            return value.to_string();
        };
        let expression = inner.trim();
        self.expressions
            .get(expression)
            .unwrap_or_else(|| panic!("the test gives no value for ${{{{ {expression} }}}}"))
            .clone()
    }
}

/// What a step printed and how it ended.
#[derive(Debug)]
pub struct StepOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// What the step wrote to `$GITHUB_OUTPUT`.
    pub outputs: String,
}

impl StepOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn text(&self) -> String {
        format!("exit {:?}\n{}\n{}", self.code, self.stdout, self.stderr)
    }
}

/// A step started in the background.
pub struct Running {
    child: tokio::process::Child,
    stdout: PathBuf,
    stderr: PathBuf,
    outputs: PathBuf,
}

impl Running {
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What it printed so far.
    pub fn output_so_far(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!("{}\n{}", read(&self.stdout), read(&self.stderr))
    }

    pub async fn wait(mut self) -> StepOutput {
        let status = tokio::time::timeout(std::time::Duration::from_secs(300), self.child.wait())
            .await
            .expect("the step ends within 300 s")
            .expect("wait for the step");
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        StepOutput {
            code: status.code(),
            stdout: read(&self.stdout),
            stderr: read(&self.stderr),
            outputs: read(&self.outputs),
        }
    }
}

/// A runner: Terraform under test (the harness's, for its mirror, logs and secret scan), a
/// `bin/` put first on the PATH (`terraform`, the `gh` stub) and the runner's environment.
pub struct Runner {
    pub tf: Terraform,
    bin: PathBuf,
    /// Where the `gh` stub files what it was asked.
    pub gh_dir: PathBuf,
    /// Environment of the machine the steps run on (not from the workflow).
    machine_env: BTreeMap<String, String>,
    counter: AtomicUsize,
}

/// `gh`, as far as the workflows use it: `pr comment N --repo R --body-file F` keeps the body
/// and the arguments; `run list ...` prints the file `run-id` (nothing when absent). Both need `GH_TOKEN`.
const GH_STUB: &str = r#"#!/usr/bin/env bash
set -euo pipefail
[[ -n "${GH_TOKEN:-}" ]] || { echo "gh: GH_TOKEN is not set" >&2; exit 4; }
n=$(find "$GH_STUB_DIR" -name '*.args' | wc -l)
printf '%s\n' "$@" >"$GH_STUB_DIR/$n.args"
case "$1 $2" in
  "pr comment")
    while (($#)); do
      if [[ "$1" == --body-file ]]; then cp "$2" "$GH_STUB_DIR/$n.body"; fi
      shift
    done ;;
  "run list") cat "$GH_STUB_DIR/run-id" 2>/dev/null || true ;;
  *) echo "gh stub: unexpected $*" >&2; exit 2 ;;
esac
"#;

impl Runner {
    /// A runner whose machine has `machine_env` (the sandbox's URLs: on GitHub the provider's
    /// defaults reach the real APIs). `secrets` are removed from error texts.
    pub fn new(machine_env: BTreeMap<String, String>, secrets: Vec<String>) -> Runner {
        let tf = terraform_for(&[treeherder_provider()], BTreeMap::new(), secrets)
            .expect("terraform (make tools)");
        let bin = tf.root().join("bin");
        let gh_dir = tf.root().join("gh");
        for dir in [&bin, &gh_dir, &tf.root().join("home")] {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::os::unix::fs::symlink(tf.binary(), bin.join("terraform")).expect("link terraform");
        let gh = bin.join("gh");
        std::fs::write(&gh, GH_STUB).expect("write the gh stub");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Runner {
            tf,
            bin,
            gh_dir,
            machine_env,
            counter: AtomicUsize::new(0),
        }
    }

    /// A fresh checkout of the example's repository (its `.tf` files), as actions/checkout
    /// gives each job; `edit` changes main.tf as a pull request would.
    pub fn checkout(&self, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
        let dir = self.tf.root().join("checkouts").join(name);
        std::fs::create_dir_all(&dir).expect("mkdir checkout");
        let example = repo_root().join("examples/ci");
        for entry in std::fs::read_dir(&example).expect("examples/ci") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "tf") {
                let mut text = std::fs::read_to_string(&path).expect("read .tf");
                if path.file_name().is_some_and(|n| n == "main.tf") {
                    text = edit(text);
                }
                std::fs::write(dir.join(path.file_name().expect("name")), text).expect("copy");
            }
        }
        dir
    }

    /// Starts step `id` of `workflow` in `dir` with the contexts `github`.
    pub fn spawn(&self, dir: &Path, workflow: &Workflow, id: &str, github: &Github) -> Running {
        let step = workflow.step(id);
        assert!(
            !step.run.contains("${{"),
            "{} step {id}: expressions belong in env, not in the script",
            workflow.file
        );
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let stem = format!("ci-{n:03}-{id}");
        let logs = self.tf.logs_dir();
        let script = self.tf.root().join(format!("{stem}.sh"));
        std::fs::write(&script, &step.run).expect("write the step's script");
        let outputs = self.tf.root().join(format!("{stem}.github_output"));
        std::fs::write(&outputs, "").expect("create GITHUB_OUTPUT");
        let (stdout, stderr) = (
            logs.join(format!("{stem}.stdout")),
            logs.join(format!("{stem}.stderr")),
        );
        let file = |p: &Path| std::fs::File::create(p).expect("create the step's log");
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = tokio::process::Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(dir)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.tf.root().join("home"))
            .envs(&self.machine_env)
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_REPOSITORY", "mozilla/treeherder-infra")
            .env("GITHUB_WORKSPACE", dir)
            .env("GITHUB_OUTPUT", &outputs)
            .env("GH_STUB_DIR", &self.gh_dir)
            // setup-terraform and the registry on GitHub; the local mirror here.
            .env("TF_CLI_CONFIG_FILE", self.tf.cli_config())
            .env("TF_LOG", "TRACE")
            .env("TF_LOG_PATH", logs.join(format!("{stem}.tflog")));
        for (key, value) in &step.env {
            cmd.env(key, github.resolve(value));
        }
        for (key, value) in &github.overrides {
            assert!(step.env.contains_key(key), "the workflow sets no {key}");
            cmd.env(key, value);
        }
        cmd.stdin(Stdio::null())
            .stdout(file(&stdout))
            .stderr(file(&stderr))
            .kill_on_drop(true);
        let child = cmd.spawn().expect("start bash");
        Running {
            child,
            stdout,
            stderr,
            outputs,
        }
    }

    /// Runs step `id` of `workflow` in `dir` to its end.
    pub async fn run(
        &self,
        dir: &Path,
        workflow: &Workflow,
        id: &str,
        github: &Github,
    ) -> StepOutput {
        self.spawn(dir, workflow, id, github).wait().await
    }

    /// Runs the steps `ids` in order; each must succeed.
    pub async fn run_ok(&self, dir: &Path, workflow: &Workflow, ids: &[&str], github: &Github) {
        for id in ids {
            let out = self.run(dir, workflow, id, github).await;
            assert!(
                out.success(),
                "{} step {id}: {}",
                workflow.file,
                self.tf.redact(&out.text())
            );
        }
    }

    /// The bodies the `gh` stub was given for `pr comment`, with their arguments, in order.
    pub fn comments(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut n = 0;
        loop {
            let args = self.gh_dir.join(format!("{n}.args"));
            let Ok(args) = std::fs::read_to_string(&args) else {
                return found;
            };
            if let Ok(body) = std::fs::read_to_string(self.gh_dir.join(format!("{n}.body"))) {
                found.push((args, body));
            }
            n += 1;
        }
    }
}
