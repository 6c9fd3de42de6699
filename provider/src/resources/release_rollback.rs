//! `treeherder_release_rollback`: rolls an app back to an earlier release (the runbook's
//! "Reverting deployments", `heroku rollback`) and waits until the new release is live.
//!
//! A rollback is an event: every argument forces a new one, destroying only forgets it.
//! It is not importable.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use schemars::{json_schema, JsonSchema, SchemaGenerator};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use tfplugin::framework::{Check, Context, Operation, Polled, Poller, ResourcePlan, TimeLimit};
use tfplugin::types::{quote, CreateTimeout, Triggers};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::heroku::{
    AppIdentity, HerokuClient, HerokuError, Release, ReleaseStatus, RollbackCandidate,
};
use crate::clients::Clients;
use crate::diagnostics::app_error_at;

/// A rollback of a Heroku app to an earlier release. Applying it creates a new release
/// running the target's code and config vars and waits until its release phase succeeded.
/// Changing any argument makes a new rollback; destroying it only removes it from the state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReleaseRollbackModel {
    /// App name or UUID, e.g. `treeherder-prod`.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub app: Field<AppIdentity>,
    /// The release to roll back to: a version (`v1234` or `1234`) or a release UUID. It must
    /// exist and be eligible for rollback (not the current release, and with code).
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub release: Field<TargetRelease>,
    /// Arbitrary values whose change makes a new rollback, e.g. `{ reason = "bug 1800000" }`.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub triggers: Field<Triggers>,
    /// UUID of the release the rollback created.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub id: Field<String>,
    /// Version of the release the rollback created (`1235` for v1235).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub version: Field<u64>,
    /// Version of the release rolled back to.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub target_version: Field<u64>,
    /// Status of the new release: `succeeded`, `failed` (release phase failed) or
    /// `pending` (the apply timed out or was interrupted).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub status: Field<String>,
    /// How long operations may take (`create` defaults to `"20m"`).
    #[schemars(extend("x-terraform" = { "block": "single" }))]
    pub timeouts: Option<CreateTimeout>,
}

/// A release as written: `v1234`, `1234` or a UUID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TargetRelease(String);

const RELEASE_PATTERN: &str =
    r"^([vV]?[0-9]+|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$";

impl TargetRelease {
    /// A release version (`v12`, `12`) or UUID.
    pub fn parse(text: &str) -> Option<TargetRelease> {
        let digits = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let version = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        (version || uuid::Uuid::parse_str(text).is_ok() && text.len() == 36)
            .then(|| TargetRelease(text.to_string()))
    }

    /// How Heroku's API names it: the version number or the UUID.
    pub fn api_ident(&self) -> &str {
        self.0.strip_prefix(['v', 'V']).unwrap_or(&self.0)
    }

    /// As written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for TargetRelease {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TargetRelease::parse(&text).ok_or_else(|| {
            D::Error::custom(format!(
                "Expected a release version (e.g. \"v1234\" or \"1234\") or a release UUID, got {}",
                quote(&text)
            ))
        })
    }
}

impl JsonSchema for TargetRelease {
    fn schema_name() -> Cow<'static, str> {
        "TargetRelease".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> schemars::Schema {
        json_schema!({ "type": "string", "pattern": RELEASE_PATTERN })
    }
}

/// The `treeherder_release_rollback` resource.
pub struct ReleaseRollbackResource;

fn status_text(status: ReleaseStatus) -> &'static str {
    match status {
        ReleaseStatus::Pending => "pending",
        ReleaseStatus::Succeeded => "succeeded",
        ReleaseStatus::Failed => "failed",
        ReleaseStatus::Expired => "expired",
        ReleaseStatus::Unknown => "unknown",
    }
}

/// The app and the target, checked: the app exists, the release exists and is eligible.
/// `Ok(None)` when a value is unknown at plan.
async fn check_target(
    client: &HerokuClient,
    model: &ReleaseRollbackModel,
) -> Result<Option<(uuid::Uuid, String, RollbackCandidate)>, Diagnostics> {
    let (Some(app), Some(release)) = (model.app.get(), model.release.get()) else {
        return Ok(None);
    };
    let app_id = client
        .resolve_app_id(app.as_str())
        .await
        .map_err(|e| app_error_at(e, app.as_str(), attr!(ReleaseRollbackModel, app)))?;
    let candidate = match client.rollback_candidate(app_id, release.api_ident()).await {
        Ok(c) => c,
        Err(e) if e.is_not_found() => {
            return Err(Diagnostic::error(
                "Unknown release",
                format!(
                    "App {} has no release {}.",
                    app.as_str(),
                    quote(release.as_str())
                ),
            )
            .at(attr!(ReleaseRollbackModel, release))
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    if !candidate.eligible_for_rollback {
        let why = if candidate.current {
            "it is the app's current release"
        } else {
            "Heroku does not allow rolling back to it (a release without code, for example)"
        };
        return Err(Diagnostic::error(
            "Release not eligible for rollback",
            format!(
                "Release {} (v{}) of {} is not eligible for rollback: {why}.",
                quote(release.as_str()),
                candidate.version,
                app.as_str()
            ),
        )
        .at(attr!(ReleaseRollbackModel, release))
        .into());
    }
    Ok(Some((app_id, app.as_str().to_string(), candidate)))
}

/// Posts the rollback; when the answer is lost, finds the release it made by listing
/// releases (never posting again).
async fn post_rollback(
    client: &HerokuClient,
    app_id: uuid::Uuid,
    app: &str,
    target: &RollbackCandidate,
) -> Result<Release, Diagnostics> {
    if let Some(release) = client
        .find_own_recent_rollback(app_id, target.version)
        .await?
    {
        tfplugin::warn!(
            "release v{} of {app} is a rollback to v{} this account made moments ago, and nothing was released since: an earlier apply made it and was stopped before saving it; taking it instead of rolling back again",
            release.version,
            target.version
        );
        return Ok(release);
    }
    let before = client.latest_release_version(app_id).await?;
    let error = match client.rollback(app_id, target.id).await {
        Ok(release) => return Ok(release),
        Err(e) => e,
    };
    if !error.outcome_unknown() {
        return Err(rollback_error(app, target, &error, false));
    }
    tfplugin::warn!(
        "the answer to the rollback of {app} to v{} was lost; looking for the release it made",
        target.version
    );
    match client
        .find_rollback_since(app_id, before, target.version)
        .await
    {
        Ok(Some(release)) => {
            tfplugin::info!(
                "found release v{} of {app}: the rollback was made",
                release.version
            );
            Ok(release)
        }
        Ok(None) => Err(rollback_error(app, target, &error, false)),
        Err(_) => Err(rollback_error(app, target, &error, true)),
    }
}

fn rollback_error(
    app: &str,
    target: &RollbackCandidate,
    error: &HerokuError,
    unknown: bool,
) -> Diagnostics {
    let mut detail = format!(
        "Rolling {app} back to v{} failed: {}",
        target.version,
        tfplugin::log::mask(&error.to_string())
    );
    if unknown {
        detail.push_str(" The rollback may have been made anyway: check `heroku releases` before applying again.");
    }
    Diagnostic::error("Cannot roll back", detail).into()
}

/// Polls the new release until it is no longer pending. Returns it, with a problem when it
/// did not succeed in time.
async fn wait_for_release(
    ctx: &Context<'_, Clients>,
    client: &HerokuClient,
    app_id: uuid::Uuid,
    app: &str,
    created: Release,
    limit: &TimeLimit,
) -> (Release, Option<Diagnostic>) {
    let version = created.version;
    let poller = Poller::new(
        format!("release v{version} of {app} (rollback)"),
        limit.limit,
    );
    // The answer to the rollback is the first read.
    let first = Mutex::new(Some(created.clone()));
    let polled = ctx
        .poll(&poller, || async {
            let answer = first.lock().unwrap_or_else(PoisonError::into_inner).take();
            let release = match answer {
                Some(r) => r,
                None => client.release(app_id, &version.to_string()).await?,
            };
            let pending = matches!(
                release.status,
                ReleaseStatus::Pending | ReleaseStatus::Unknown
            );
            let progress = status_text(release.status);
            Ok::<_, HerokuError>(Check::new(!pending, progress, release))
        })
        .await;
    match polled {
        Polled::Done(release) => match release.status {
            ReleaseStatus::Failed | ReleaseStatus::Expired => {
                let stream = release.output_stream_url.clone().map_or_else(
                    || "Heroku gave no output stream URL.".to_string(),
                    |url| format!("Release phase output: {url}"),
                );
                let problem = Diagnostic::error(
                    format!("Release v{version} of {app} failed"),
                    format!(
                        "The rollback created release v{version}, whose release phase ended {}. {stream}\n\nThe rollback is saved in the state as tainted, so the next plan makes a new one.",
                        status_text(release.status)
                    ),
                );
                (release, Some(problem))
            }
            _ => (release, None),
        },
        Polled::TimedOut { last, .. } => (
            last.unwrap_or(created),
            Some(Diagnostic::error(
                "Timed out waiting for the rollback",
                format!(
                    "Release v{version} of {app} was still pending after {} ({}). It was saved in the state as tainted; Heroku may still finish it.",
                    limit.text,
                    TimeLimit::path()
                ),
            )),
        ),
        Polled::Stopped { last } => (
            last.unwrap_or(created),
            Some(Diagnostic::error(
                "Interrupted while waiting for the rollback",
                format!("Release v{version} of {app} was still pending; it was saved in the state as tainted."),
            )),
        ),
        Polled::Failed { error, last } => (
            last.unwrap_or(created),
            Some(Diagnostic::error(
                "Cannot follow the rollback",
                format!(
                    "Release v{version} of {app} was created, but reading its status failed: {}. It was saved in the state as tainted.",
                    tfplugin::log::mask(&error.to_string())
                ),
            )),
        ),
    }
}

#[async_trait]
impl Operation for ReleaseRollbackResource {
    type Model = ReleaseRollbackModel;
    type Client = Clients;
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

    fn type_name(&self) -> &'static str {
        "treeherder_release_rollback"
    }

    fn timeouts(model: &ReleaseRollbackModel) -> Option<&CreateTimeout> {
        model.timeouts.as_ref()
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<ReleaseRollbackModel>,
    ) -> Result<(), Diagnostics> {
        // A replacement is planned again as a create, which is checked.
        if plan.prior.is_some() {
            return Ok(());
        }
        let app = plan
            .config
            .app
            .get()
            .map_or_else(|| "the app".to_string(), |a| a.as_str().to_string());
        ctx.add(Diagnostic::warning(
            "A rollback lasts until the next deploy",
            format!(
                "Rolling {app} back does not change the branch it deploys from: the next automatic deploy from that branch replaces the rollback. Fix (revert) the branch first, or turn automatic deploys off until it is fixed."
            ),
        ));
        let Some(clients) = ctx.try_client() else {
            return Ok(());
        };
        if let Some((_, _, target)) = check_target(clients.heroku()?, &plan.config).await? {
            plan.planned.target_version.set(target.version);
        }
        Ok(())
    }

    fn forget_warning(&self, prior: &ReleaseRollbackModel) -> Diagnostic {
        let version = prior
            .version
            .get()
            .map_or_else(|| "(unknown)".to_string(), |v| format!("v{v}"));
        let app = prior
            .app
            .get()
            .map(AppIdentity::as_str)
            .unwrap_or("the app");
        Diagnostic::warning(
            "Destroying only forgets the rollback",
            format!(
                "A rollback cannot be undone by Terraform: destroying it only removes it from the state. Release {version} stays {app}'s release until the next deploy or rollback."
            ),
        )
    }

    async fn run(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: ReleaseRollbackModel,
        limit: &TimeLimit,
    ) -> Result<ReleaseRollbackModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let Some((app_id, app, target)) = check_target(client, &plan).await? else {
            return Err(Diagnostic::error(
                "Invalid rollback",
                format!(
                    "{} or {} is unknown at apply time.",
                    attr!(ReleaseRollbackModel, app),
                    attr!(ReleaseRollbackModel, release)
                ),
            )
            .into());
        };
        let created = post_rollback(client, app_id, &app, &target).await?;
        tfplugin::info!(
            "rolled {app} back to v{}: new release v{} ({})",
            target.version,
            created.version,
            created.id
        );
        let (release, problem) = wait_for_release(ctx, client, app_id, &app, created, limit).await;
        plan.id.set(release.id.to_string());
        plan.version.set(release.version);
        plan.target_version.set(target.version);
        plan.status.set(status_text(release.status).to_string());
        if let Some(problem) = problem {
            ctx.add(problem);
        }
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: ReleaseRollbackModel,
    ) -> Result<Option<ReleaseRollbackModel>, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let (Some(app), Some(id)) = (state.app.get(), state.id.as_str()) else {
            return Ok(Some(state));
        };
        let app_id = match client.resolve_app_id(app.as_str()).await {
            Ok(id) => id,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match client.release(app_id, id).await {
            Ok(release) => {
                state.status.set(status_text(release.status).to_string());
                Ok(Some(state))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn forget(&self, ctx: &Context<'_, Clients>, state: &ReleaseRollbackModel) {
        // A replacement's create must not take this release as its own half-made one.
        let heroku = ctx.try_client().and_then(|c| c.heroku().ok());
        if let (Some(id), Some(heroku)) = (state.id.as_str(), heroku) {
            heroku.forget_object(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use tfplugin::framework::{OperationResource, Resource};

    use super::*;
    use serde_json::json;

    #[test]
    fn target_release_accepts_versions_and_uuids() {
        for ok in ["v12", "12", "V3", "01234567-89ab-cdef-0123-456789abcdef"] {
            assert!(TargetRelease::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "v",
            "vv1",
            "12a",
            "latest",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(TargetRelease::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            TargetRelease::parse("v12").map(|r| r.api_ident().to_string()),
            Some("12".into())
        );
        let err = serde_json::from_value::<TargetRelease>(json!("latest")).unwrap_err();
        assert!(err.to_string().contains("release version"), "{err}");
        let pattern = regex::Regex::new(RELEASE_PATTERN).unwrap();
        assert!(pattern.is_match("v12") && !pattern.is_match("latest"));
    }

    #[test]
    fn every_argument_forces_a_new_rollback() {
        let schema = OperationResource(ReleaseRollbackResource).schema().unwrap();
        for name in ["app", "release", "triggers"] {
            assert!(!schema.block.attribute(name).unwrap().computed, "{name}");
        }
        for name in ["id", "version", "target_version", "status"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        let limit = TimeLimit::of(None, ReleaseRollbackResource::DEFAULT_TIMEOUT);
        assert_eq!(limit.text, "20m");
    }
}
