//! `treeherder_deployment`: deploying a revision of the app's GitHub repository, as the
//! dashboard's "Deploy Branch" does, with the commit named in the plan.
//!
//! Plan resolves `ref` (branch, tag or SHA) to a commit SHA, so review sees what will be
//! deployed; later pushes plan nothing (a changed `ref` or `triggers` deploys again). Create
//! builds the repository's tarball for that commit (a link from Heroku's GitHub integration
//! service, so private repositories work), streams the build's output into Terraform's log at
//! INFO, then follows the release the build created through its release phase. A failed build
//! or release phase is an error showing the last lines, saved as tainted. Never twice: see
//! `clients/heroku/builds.rs`. Destroy only forgets; not importable.

use std::collections::VecDeque;
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Check, Context, Operation, Polled, Poller, ResourcePlan, TimeLimit};
use tfplugin::types::{quote, CreateTimeout, Triggers};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};
use tokio::time::Instant;

use crate::clients::heroku::{
    AppIdentity, Build, BuildOrigin, BuildStatus, HerokuClient, HerokuError, NewBuild,
    NewBuildSource, Release, ReleaseStatus,
};
use crate::clients::Clients;
use crate::diagnostics::{app_error_at, github_error_at};

/// Lines of output kept for errors and `output_tail`.
const TAIL_LINES: usize = 20;

/// A deployment of one commit of the app's GitHub repository: a Heroku build of its tarball,
/// then the release it creates, followed through its release phase. Changing `app`, `ref`,
/// `repo` or `triggers` deploys again; destroying it only removes it from the state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct DeploymentModel {
    /// App name or UUID, e.g. `treeherder-stage`.
    #[tf(requires_replace)]
    pub app: Field<AppIdentity>,
    /// What to deploy: a branch (`master`), a tag or a commit SHA of the repository. It is
    /// resolved to a commit when planning; "the former code revision" is its SHA.
    #[tf(requires_replace)]
    pub r#ref: Field<String>,
    /// The GitHub repository, `owner/name`. Default: the repository the app is linked to
    /// (`treeherder_app_github`, the Deploy tab).
    #[serde(default)]
    #[tf(optional, computed, use_state_for_unknown, requires_replace)]
    pub repo: Field<String>,
    /// Arbitrary values whose change deploys again, e.g. `{ reset = "2026-12-01" }`.
    #[serde(default)]
    #[tf(requires_replace)]
    pub triggers: Field<Triggers>,
    /// The commit deployed: `ref` resolved when planning.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub commit: Field<String>,
    /// UUID of the Heroku build.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub build_id: Field<String>,
    /// Version of the release the build created (`1235` for v1235).
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub release_version: Field<u64>,
    /// `succeeded`; `build_failed` or `release_failed` (the apply failed and the deployment
    /// is tainted); `pending` (the apply timed out or was interrupted).
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub status: Field<String>,
    /// The last lines of the build's output (and of the release phase's, when it has one).
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub output_tail: Field<String>,
    /// How long the build and release phase may take (`create` defaults to `"30m"`).
    #[tf(block = single)]
    pub timeouts: Option<CreateTimeout>,
}

/// The `treeherder_deployment` resource.
pub struct DeploymentResource;

/// Whether `text` is a full 40-hex commit SHA.
fn is_full_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The app's UUID and the repository (configured, else the app's link), checked.
async fn app_and_repo(
    heroku: &HerokuClient,
    model: &DeploymentModel,
) -> Result<(uuid::Uuid, String), Diagnostics> {
    let app = model.app.value()?;
    let app_id = heroku
        .resolve_app_id(app.as_str())
        .await
        .map_err(|e| app_error_at(e, app.as_str(), attr!(DeploymentModel, app)))?;
    if let Some(repo) = model.repo.as_str() {
        return Ok((app_id, repo.to_string()));
    }
    match heroku.app_github_link(app_id).await {
        Ok(Some(link)) => Ok((app_id, link.repo)),
        Ok(None) => Err(Diagnostic::error(
            "No repository to deploy from",
            format!(
                "App {} is not linked to a GitHub repository: set repo (e.g. \"mozilla/treeherder\"), or link the app with treeherder_app_github.",
                app.as_str()
            ),
        )
        .at(attr!(DeploymentModel, repo))
        .into()),
        Err(e) => Err(github_error_at(e, Some(attr!(DeploymentModel, repo)), None)),
    }
}

/// `ref` of `repo` as a commit SHA.
async fn resolve(
    heroku: &HerokuClient,
    repo: &str,
    reference: &str,
) -> Result<String, Diagnostics> {
    heroku
        .resolve_github_ref(repo, reference)
        .await
        .map_err(|e| {
            github_error_at(
                e,
                Some(attr!(DeploymentModel, repo)),
                Some(attr!(DeploymentModel, r#ref)),
            )
        })
}

/// The last lines of some output.
#[derive(Default)]
struct Tail(VecDeque<String>);

impl Tail {
    fn push(&mut self, line: String) {
        if self.0.len() == TAIL_LINES {
            self.0.pop_front();
        }
        self.0.push_back(line);
    }

    fn text(&self) -> String {
        self.0.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// Why following an output stream ended early.
enum StreamEnd {
    /// It ended (or could not be read: the status is polled anyway).
    Finished,
    TimedOut,
    Stopped,
}

/// Copies an output stream into the log at INFO (prefixed with `label`) and into `tail`,
/// until it ends, the deadline passes or Terraform asks to stop.
async fn follow_output(
    ctx: &Context<'_, Clients>,
    heroku: &HerokuClient,
    url: &str,
    label: &str,
    tail: &mut Tail,
    deadline: Instant,
) -> StreamEnd {
    let read = async {
        let mut stream = match heroku.open_output_stream(url).await {
            Ok(stream) => stream,
            Err(e) => {
                tfplugin::warn!("{label}: cannot read the output ({e}); following the status only");
                return;
            }
        };
        loop {
            match stream.next_line().await {
                Ok(Some(line)) => {
                    tfplugin::info!("{label}: {line}");
                    tail.push(line);
                }
                Ok(None) => return,
                Err(e) => {
                    tfplugin::warn!(
                        "{label}: the output stream broke ({e}); following the status only"
                    );
                    return;
                }
            }
        }
    };
    tokio::select! {
        () = read => StreamEnd::Finished,
        () = tokio::time::sleep_until(deadline) => StreamEnd::TimedOut,
        () = ctx.stopped() => StreamEnd::Stopped,
    }
}

/// What the apply ends with: the state to save and, when it did not succeed, the error.
struct Outcome {
    status: &'static str,
    release_version: Option<u64>,
    problem: Option<Diagnostic>,
}

fn unfinished(what: &str, end: &StreamEnd, timeout_label: &str) -> Diagnostic {
    match end {
        StreamEnd::Stopped => Diagnostic::error(
            "Interrupted while deploying",
            format!("{what} was still running when Terraform stopped; the deployment was saved in the state as tainted, and Heroku may still finish it."),
        ),
        _ => Diagnostic::error(
            "Timed out deploying",
            format!(
                "{what} was still running after {timeout_label} ({}); the deployment was saved in the state as tainted, and Heroku may still finish it.",
                TimeLimit::path()
            ),
        ),
    }
}

/// The app being deployed to: its UUID and how it is named in messages.
struct Target<'a> {
    id: uuid::Uuid,
    name: &'a str,
}

/// Follows the build to its end, then its release through the release phase.
async fn follow(
    ctx: &Context<'_, Clients>,
    heroku: &HerokuClient,
    target: Target<'_>,
    build: Build,
    deadline: Instant,
    timeout_label: &str,
    tail: &mut Tail,
) -> Outcome {
    let (app_id, app) = (target.id, target.name);
    let pending = |problem| Outcome {
        status: "pending",
        release_version: None,
        problem: Some(problem),
    };
    let build_label = format!("build of {app}");
    if let Some(url) = build.output_stream_url.as_deref() {
        let end = follow_output(ctx, heroku, url, &build_label, tail, deadline).await;
        if !matches!(end, StreamEnd::Finished) {
            return pending(unfinished(
                &format!("Build {} of {app}", build.id),
                &end,
                timeout_label,
            ));
        }
    }
    let poller = Poller::until(build_label.clone(), deadline);
    let build_id = build.id;
    // A closure returning an owned future (not an `async` closure), so the future is Send.
    let read_build = || {
        let heroku = heroku.clone();
        async move {
            let b = heroku.build(app_id, build_id).await?;
            let status = b.status.as_str();
            Ok::<_, HerokuError>(Check::new(
                b.status != BuildStatus::Pending,
                format!("build is {status}"),
                b,
            ))
        }
    };
    let build = match ctx.poll(&poller, read_build).await {
        Polled::Done(b) => b,
        Polled::TimedOut { .. } => {
            return pending(unfinished(
                &format!("Build {} of {app}", build.id),
                &StreamEnd::TimedOut,
                timeout_label,
            ))
        }
        Polled::Stopped { .. } => {
            return pending(unfinished(
                &format!("Build {} of {app}", build.id),
                &StreamEnd::Stopped,
                timeout_label,
            ))
        }
        Polled::Failed { error, .. } => return pending(follow_error(&error, "the build")),
    };
    if build.status != BuildStatus::Succeeded {
        return Outcome {
            status: "build_failed",
            release_version: None,
            problem: Some(Diagnostic::error(
                format!("Build of {app} failed"),
                format!(
                    "Heroku build {} ended {}. Its last lines:\n\n{}\n\nThe deployment is saved in the state as tainted, so the next apply deploys again.",
                    build.id,
                    build.status.as_str(),
                    tail.text()
                ),
            )),
        };
    }
    let Some(release_ref) = build.release else {
        return Outcome {
            status: "build_failed",
            release_version: None,
            problem: Some(Diagnostic::error(
                format!("Build of {app} made no release"),
                format!("Heroku build {} succeeded without a release.", build.id),
            )),
        };
    };
    let release_id = release_ref.id.to_string();
    let release = match heroku.release(app_id, &release_id).await {
        Ok(r) => r,
        Err(e) => return pending(follow_error(&e, "the release")),
    };
    let version = release.version;
    let release_label = format!("release v{version} of {app}");
    let mut phase_tail = Tail::default();
    if release.status == ReleaseStatus::Pending {
        if let Some(url) = release.output_stream_url.as_deref() {
            let end =
                follow_output(ctx, heroku, url, &release_label, &mut phase_tail, deadline).await;
            if !matches!(end, StreamEnd::Finished) {
                let mut outcome = pending(unfinished(
                    &format!("The release phase of v{version} of {app}"),
                    &end,
                    timeout_label,
                ));
                outcome.release_version = Some(version);
                return outcome;
            }
        }
    }
    let poller = Poller::until(release_label, deadline);
    let read_release = || {
        let heroku = heroku.clone();
        let release_id = release_id.clone();
        async move {
            let r = heroku.release(app_id, &release_id).await?;
            let done = r.status != ReleaseStatus::Pending && r.status != ReleaseStatus::Unknown;
            Ok::<_, HerokuError>(Check::new(
                done,
                format!("release is {:?}", r.status).to_lowercase(),
                r,
            ))
        }
    };
    let settled: Release = match ctx.poll(&poller, read_release).await {
        Polled::Done(r) => r,
        Polled::TimedOut { .. } | Polled::Stopped { .. } => {
            let end = if ctx.is_stopping() {
                StreamEnd::Stopped
            } else {
                StreamEnd::TimedOut
            };
            let mut outcome = pending(unfinished(
                &format!("The release phase of v{version} of {app}"),
                &end,
                timeout_label,
            ));
            outcome.release_version = Some(version);
            return outcome;
        }
        Polled::Failed { error, .. } => {
            let mut outcome = pending(follow_error(&error, "the release"));
            outcome.release_version = Some(version);
            return outcome;
        }
    };
    for line in phase_tail.0 {
        tail.push(line);
    }
    if settled.status == ReleaseStatus::Succeeded {
        return Outcome {
            status: "succeeded",
            release_version: Some(version),
            problem: None,
        };
    }
    Outcome {
        status: "release_failed",
        release_version: Some(version),
        problem: Some(Diagnostic::error(
            format!("Release v{version} of {app} failed"),
            format!(
                "The build succeeded, but the release phase of v{version} ended {}: the new code is not running. Its last lines:\n\n{}\n\nThe deployment is saved in the state as tainted, so the next apply deploys again.",
                format!("{:?}", settled.status).to_lowercase(),
                tail.text()
            ),
        )),
    }
}

fn follow_error(error: &HerokuError, what: &str) -> Diagnostic {
    Diagnostic::error(
        "Cannot follow the deployment",
        format!(
            "Reading {what} failed: {}. The deployment was saved in the state as tainted.",
            tfplugin::log::mask(&error.to_string())
        ),
    )
}

#[async_trait]
impl Operation for DeploymentResource {
    type Model = DeploymentModel;
    type Client = Clients;
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    fn type_name(&self) -> &'static str {
        "treeherder_deployment"
    }

    fn timeouts(model: &DeploymentModel) -> Option<&CreateTimeout> {
        model.timeouts.as_ref()
    }

    fn validate(&self, config: &DeploymentModel, diagnostics: &mut Diagnostics) {
        if config.r#ref.as_str().is_some_and(|r| r.trim().is_empty()) {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid ref",
                    "Expected a branch, tag or commit SHA of the repository, e.g. \"master\"; got an empty string.",
                )
                .at(attr!(DeploymentModel, r#ref)),
            );
        }
        if let Some(repo) = config.repo.as_str() {
            if crate::clients::heroku::split_repo(repo).is_none() {
                diagnostics.push(
                    Diagnostic::error(
                        "Invalid repository",
                        format!(
                            "Expected a GitHub repository as `owner/name`, e.g. \"mozilla/treeherder\"; got {}.",
                            quote(repo)
                        ),
                    )
                    .at(attr!(DeploymentModel, repo)),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<DeploymentModel>,
    ) -> Result<(), Diagnostics> {
        // An existing deployment keeps its commit: a later push to the branch deploys nothing.
        // A replacement is planned again as a create, which resolves the ref anew.
        if plan.prior.is_some() {
            return Ok(());
        }
        let Some(reference) = plan.config.r#ref.as_str().map(str::to_string) else {
            return Ok(());
        };
        if plan.config.app.is_unknown() || plan.config.repo.is_unknown() {
            return Ok(());
        }
        let Some(heroku) = ctx.try_client().and_then(|c| c.heroku().ok()) else {
            return Ok(());
        };
        let (_, repo) = app_and_repo(heroku, &plan.config).await?;
        let commit = resolve(heroku, &repo, &reference).await?;
        if !is_full_sha(&reference) {
            tfplugin::info!("{reference} of {repo} is commit {commit}");
        }
        plan.planned.repo.set(repo);
        plan.planned.commit.set(commit);
        Ok(())
    }

    fn forget_warning(&self, prior: &DeploymentModel) -> Diagnostic {
        let app = prior.app.as_str().unwrap_or("the app");
        Diagnostic::warning(
            "Destroying only forgets the deployment",
            format!(
                "A deployment cannot be undone by Terraform: destroying it only removes it from the state. {app} keeps running commit {} until the next deploy or rollback.",
                prior.commit.as_str().unwrap_or("(unknown)")
            ),
        )
    }

    async fn run(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: DeploymentModel,
        limit: &TimeLimit,
    ) -> Result<DeploymentModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let deadline = Instant::now() + limit.limit;
        let app = plan.app.value()?.as_str().to_string();
        let (app_id, repo) = app_and_repo(heroku, &plan).await?;
        let commit = match plan.commit.as_str() {
            Some(sha) => sha.to_string(),
            None => resolve(heroku, &repo, plan.r#ref.value()?).await?,
        };
        let url = heroku
            .github_tarball_link(&repo, &commit)
            .await
            .map_err(|e| github_error_at(e, Some(attr!(DeploymentModel, repo)), None))?;
        let new = NewBuild {
            source_blob: NewBuildSource {
                url,
                version: commit.clone(),
                version_description: format!("{repo}@{commit}"),
            },
        };
        let (build, origin) = heroku.create_build_once(app_id, &new).await.map_err(|e| {
            let mut detail = format!(
                "Building {repo}@{commit} on {app} failed: {}",
                tfplugin::log::mask(&e.to_string())
            );
            if e.outcome_unknown() {
                detail.push_str(" The build may have been started anyway: look at the app's Activity tab (or `heroku builds`) before applying again.");
            }
            Diagnostics::from(Diagnostic::error("Cannot build", detail))
        })?;
        match origin {
            BuildOrigin::Created => tfplugin::info!("building {repo}@{commit} on {app}: build {}", build.id),
            BuildOrigin::Reconciled => tfplugin::warn!(
                "the answer to the build request was lost; build {} of {commit} found in {app}'s builds, not started again",
                build.id
            ),
            BuildOrigin::Adopted => tfplugin::warn!(
                "build {} of {commit} on {app} was started moments ago by this account: an earlier apply was stopped before saving it; following it instead of building again",
                build.id
            ),
        }
        plan.build_id.set(build.id.to_string());
        plan.repo.set(repo);
        plan.commit.set(commit);
        let mut tail = Tail::default();
        let outcome = follow(
            ctx,
            heroku,
            Target {
                id: app_id,
                name: &app,
            },
            build,
            deadline,
            &limit.text,
            &mut tail,
        )
        .await;
        plan.status.set(outcome.status.to_string());
        plan.release_version = outcome.release_version.into();
        plan.output_tail.set(tail.text());
        if let Some(problem) = outcome.problem {
            ctx.add(problem);
        }
        Ok(plan)
    }

    async fn forget(&self, ctx: &Context<'_, Clients>, state: &DeploymentModel) {
        // A replacement's run must not take this build as a killed apply's own.
        let heroku = ctx.try_client().and_then(|c| c.heroku().ok());
        if let (Some(id), Some(heroku)) = (state.build_id.as_str(), heroku) {
            heroku.forget_object(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::framework::Resource;

    #[test]
    fn schema_has_the_computed_results() {
        let schema = tfplugin::framework::OperationResource(DeploymentResource)
            .schema()
            .unwrap();
        for name in [
            "commit",
            "build_id",
            "release_version",
            "status",
            "output_tail",
        ] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        assert!(schema.block.attribute("ref").unwrap().required);
        assert!(schema.block.attribute("repo").unwrap().optional);
        let limit = TimeLimit::of(None, DeploymentResource::DEFAULT_TIMEOUT);
        assert_eq!(limit.text, "30m");
    }

    #[test]
    fn the_tail_keeps_the_last_lines() {
        let mut tail = Tail::default();
        for i in 0..(TAIL_LINES + 5) {
            tail.push(format!("line {i}"));
        }
        let text = tail.text();
        assert!(text.starts_with("line 5\n"), "{text}");
        assert!(
            text.ends_with(&format!("line {}", TAIL_LINES + 4)),
            "{text}"
        );
        assert!(is_full_sha(&"a".repeat(40)) && !is_full_sha("master"));
    }
}
