//! `treeherder_dyno_restart`: restarts an app's dynos, all or those of some process types
//! (the runbook's "Restarting dynos", `heroku ps:restart`), and waits until they are up.
//!
//! A restart is an event: every argument forces a new one, destroying only forgets it.
//! It is not importable.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Check, Context, Operation, Polled, Poller, ResourcePlan, TimeLimit};
use tfplugin::types::{quote, CreateTimeout, Triggers};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::heroku::{AppIdentity, Dyno, HerokuClient, HerokuError, RestartWatch};
use crate::clients::timestamp::utc_seconds;
use crate::clients::Clients;
use crate::diagnostics::app_error_at;

fn default_wait() -> Field<bool> {
    Field::known(true)
}

/// A restart of a Heroku app's dynos: all of them, or those of `process_types`. With
/// `wait`, the apply ends when every restarted dyno is up again. Changing any argument
/// makes a new restart; destroying it only removes it from the state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DynoRestartModel {
    /// App name or UUID, e.g. `treeherder-prod`.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub app: Field<AppIdentity>,
    /// Process types to restart, e.g. `["worker_log_parser", "worker_misc"]`. Default: every
    /// dyno of the app. Each must be one of the app's process types; an empty list is
    /// refused.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub process_types: Field<BTreeSet<String>>,
    /// Arbitrary values whose change makes a new restart, e.g. `{ at = "2026-12-02T10:00Z" }`.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub triggers: Field<Triggers>,
    /// Wait until every restarted dyno is `up` again after the restart (default `true`); a
    /// `crashed` one is an error. A dyno counts as restarted when it has a new id, a later
    /// `created_at` or `updated_at` than before the restart, or was seen `starting` since.
    #[serde(default = "default_wait")]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub wait: Field<bool>,
    /// Identifier of this restart (`<app>@<restarted_at>`).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub id: Field<String>,
    /// When the restart was requested (RFC 3339, UTC).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub restarted_at: Field<String>,
    /// State of each restarted dyno after the restart, by dyno name (`worker_misc.1` →
    /// `up`), as last seen by the apply.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub dynos: Field<BTreeMap<String, String>>,
    /// How long operations may take (`create` defaults to `"10m"`).
    #[schemars(extend("x-terraform" = { "block": "single" }))]
    pub timeouts: Option<CreateTimeout>,
}

/// The `treeherder_dyno_restart` resource.
pub struct DynoRestartResource;

/// The app's id and its process types, checked against `process_types`: `Ok(None)` when a
/// value is unknown at plan.
async fn check_types(
    client: &HerokuClient,
    model: &DynoRestartModel,
) -> Result<Option<(uuid::Uuid, String, Option<Vec<String>>)>, Diagnostics> {
    let Some(app) = model.app.get() else {
        return Ok(None);
    };
    if model.process_types.is_unknown() {
        return Ok(None);
    }
    let app_id = client
        .resolve_app_id(app.as_str())
        .await
        .map_err(|e| app_error_at(e, app.as_str(), attr!(DynoRestartModel, app)))?;
    let Some(wanted) = model.process_types.get() else {
        return Ok(Some((app_id, app.as_str().to_string(), None)));
    };
    let known: BTreeSet<String> = client
        .formations(app_id)
        .await?
        .into_iter()
        .map(|f| f.process_type)
        .collect();
    let unknown: Vec<&String> = wanted.iter().filter(|t| !known.contains(*t)).collect();
    if !unknown.is_empty() {
        let list = |items: Vec<&String>| {
            items
                .iter()
                .map(|t| quote(t))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Diagnostic::error(
            "Unknown process type",
            format!(
                "App {} has no process type {}. Its process types are: {}.",
                app.as_str(),
                list(unknown),
                list(known.iter().collect())
            ),
        )
        .at(attr!(DynoRestartModel, process_types))
        .into());
    }
    Ok(Some((
        app_id,
        app.as_str().to_string(),
        Some(wanted.iter().cloned().collect()),
    )))
}

fn of_types<'a>(dynos: &'a [Dyno], types: Option<&'a [String]>) -> impl Iterator<Item = &'a Dyno> {
    dynos.iter().filter(move |d| match types {
        None => true,
        Some(types) => d
            .process_type
            .as_ref()
            .is_some_and(|t| types.iter().any(|w| w == t)),
    })
}

/// The restarted dynos as one poll saw them.
struct Seen {
    /// State of each, by name.
    states: BTreeMap<String, String>,
    /// Those restarted and now crashed.
    crashed: Vec<String>,
    /// Those not restarted and up yet.
    waiting: Vec<String>,
}

impl Seen {
    fn of<'a>(watch: &RestartWatch, mine: impl Iterator<Item = &'a Dyno>) -> Seen {
        let mut seen = Seen {
            states: BTreeMap::new(),
            crashed: Vec::new(),
            waiting: Vec::new(),
        };
        for d in mine {
            let state = d.state.clone().unwrap_or_else(|| "unknown".to_string());
            let restarted = watch.restarted(d);
            if restarted && state == "crashed" {
                seen.crashed.push(d.name.clone());
            }
            if !(restarted && state == "up") {
                seen.waiting.push(d.name.clone());
            }
            seen.states.insert(d.name.clone(), state);
        }
        seen
    }

    fn progress(&self) -> String {
        let total = self.states.len();
        let mut text = format!("{} of {total} dyno(s) up", total - self.waiting.len());
        if !self.waiting.is_empty() {
            text.push_str(&format!("; waiting for {}", self.waiting.join(", ")));
        }
        text
    }

    fn waiting_text(seen: Option<&Seen>) -> String {
        seen.map_or_else(|| "(not listed)".to_string(), |s| s.waiting.join(", "))
    }
}

#[async_trait]
impl Operation for DynoRestartResource {
    type Model = DynoRestartModel;
    type Client = Clients;
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

    fn type_name(&self) -> &'static str {
        "treeherder_dyno_restart"
    }

    fn timeouts(model: &DynoRestartModel) -> Option<&CreateTimeout> {
        model.timeouts.as_ref()
    }

    fn validate(&self, config: &DynoRestartModel, diagnostics: &mut Diagnostics) {
        // An empty list would restart nothing and still record a restart.
        if config.process_types.get().is_some_and(BTreeSet::is_empty) {
            diagnostics.push(
                Diagnostic::error(
                    "No process type to restart",
                    format!(
                        "{} is empty, so nothing would be restarted. List at least one process type (e.g. [\"web\"]), or leave {} out to restart every dyno of the app.",
                        attr!(DynoRestartModel, process_types),
                        attr!(DynoRestartModel, process_types)
                    ),
                )
                .at(attr!(DynoRestartModel, process_types)),
            );
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<DynoRestartModel>,
    ) -> Result<(), Diagnostics> {
        if plan.prior.is_some() {
            return Ok(());
        }
        let Some(clients) = ctx.try_client() else {
            return Ok(());
        };
        check_types(clients.heroku()?, &plan.config).await?;
        Ok(())
    }

    fn forget_warning(&self, prior: &DynoRestartModel) -> Diagnostic {
        let at = prior.restarted_at.as_str().unwrap_or("(unknown)");
        Diagnostic::warning(
            "Destroying only forgets the restart",
            format!("A restart cannot be undone: destroying the restart of {at} only removes it from the state. No dyno is touched."),
        )
    }

    async fn run(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: DynoRestartModel,
        limit: &TimeLimit,
    ) -> Result<DynoRestartModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let Some((app_id, app, types)) = check_types(client, &plan).await? else {
            return Err(Diagnostic::error(
                "Invalid restart",
                format!(
                    "{} or {} is unknown at apply time.",
                    attr!(DynoRestartModel, app),
                    attr!(DynoRestartModel, process_types)
                ),
            )
            .into());
        };
        let watch = RestartWatch::new(&client.dynos(app_id).await?);
        let restarted_at = utc_seconds(SystemTime::now());
        match &types {
            None => client.restart_dynos(app_id, None).await?,
            Some(types) => {
                for t in types {
                    client.restart_dynos(app_id, Some(t)).await?;
                }
            }
        }
        tfplugin::info!(
            "restarted {} of {app}",
            types.as_ref().map_or_else(
                || "every dyno".to_string(),
                |t| format!("{} dynos", t.join(", "))
            )
        );
        plan.id.set(format!("{app}@{restarted_at}"));
        plan.restarted_at.set(restarted_at);
        let wait = plan.wait.get().copied().unwrap_or(true);
        let poller = Poller::new(format!("restart of {app}"), limit.limit);
        let watch = Mutex::new(watch);
        let polled = ctx
            .poll(&poller, || async {
                let dynos = client.dynos(app_id).await?;
                let mut watch = watch.lock().unwrap_or_else(PoisonError::into_inner);
                watch.observe(&dynos);
                let seen = Seen::of(&watch, of_types(&dynos, types.as_deref()));
                let done = !wait || !seen.crashed.is_empty() || seen.waiting.is_empty();
                Ok::<_, HerokuError>(Check::new(done, seen.progress(), seen))
            })
            .await;
        let (seen, problem) = match polled {
            Polled::Done(seen) if wait && !seen.crashed.is_empty() => {
                let crashed = seen.crashed.join(", ");
                let problem = Diagnostic::error(
                    format!("Dyno {crashed} crashed"),
                    format!(
                        "After the restart of {app}, dyno {crashed} crashed. See `heroku logs --app {app} --dyno {}`. The restart is saved in the state as tainted.",
                        seen.crashed[0]
                    ),
                );
                (Some(seen), Some(problem))
            }
            Polled::Done(seen) => (Some(seen), None),
            Polled::TimedOut { last, .. } => {
                let problem = Diagnostic::error(
                    "Timed out waiting for the restart",
                    format!(
                        "Dyno(s) {} of {app} were not up after {} ({}). The restart is saved in the state as tainted.",
                        Seen::waiting_text(last.as_ref()),
                        limit.text,
                        TimeLimit::path()
                    ),
                );
                (last, Some(problem))
            }
            Polled::Stopped { last } => {
                let problem = Diagnostic::error(
                    "Interrupted while waiting for the restart",
                    format!(
                        "Dyno(s) {} of {app} were not up yet; the restart is saved in the state as tainted.",
                        Seen::waiting_text(last.as_ref())
                    ),
                );
                (last, Some(problem))
            }
            Polled::Failed { error, .. } => {
                let problem = Diagnostic::error(
                    "Cannot follow the restart",
                    format!(
                        "The dynos of {app} were restarted, but listing them failed: {}.",
                        tfplugin::log::mask(&error.to_string())
                    ),
                );
                (None, Some(problem))
            }
        };
        plan.dynos.set(seen.map(|s| s.states).unwrap_or_default());
        if let Some(problem) = problem {
            ctx.add(problem);
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use tfplugin::framework::{OperationResource, Resource};

    use super::*;

    #[test]
    fn schema_has_computed_results_and_a_create_timeout() {
        let schema = OperationResource(DynoRestartResource).schema().unwrap();
        for name in ["id", "restarted_at", "dynos"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        let limit = TimeLimit::of(None, DynoRestartResource::DEFAULT_TIMEOUT);
        assert_eq!(limit.text, "10m");
    }
}
