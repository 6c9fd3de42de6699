//! `treeherder_dyno_restart`: restarts an app's dynos, all or those of some process types
//! (the runbook's "Restarting dynos", `heroku ps:restart`), and waits until they are up.
//!
//! A restart is an event: every argument forces a new one, destroying only forgets it.
//! It is not importable.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::{quote, CreateTimeout};
use tfplugin::{attr, AttributePath, Diagnostic, Diagnostics, Field};
use tokio::time::Instant;

use crate::clients::heroku::{AppIdentity, Dyno, HerokuClient, RestartWatch};
use crate::clients::timestamp::utc_seconds;
use crate::clients::Clients;
use crate::diagnostics::app_error_at;

const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DEFAULT_CREATE_TIMEOUT_TEXT: &str = "10m";
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(250);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

fn default_wait() -> Field<bool> {
    Field::known(true)
}

/// A restart of a Heroku app's dynos: all of them, or those of `process_types`. With
/// `wait`, the apply ends when every restarted dyno is up again. Changing any argument
/// makes a new restart; destroying it only removes it from the state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct DynoRestartModel {
    /// App name or UUID, e.g. `treeherder-prod`.
    #[tf(requires_replace)]
    pub app: Field<AppIdentity>,
    /// Process types to restart, e.g. `["worker_log_parser", "worker_misc"]`. Default: every
    /// dyno of the app. Each must be one of the app's process types; an empty list is
    /// refused.
    #[serde(default)]
    #[tf(requires_replace)]
    pub process_types: Field<BTreeSet<String>>,
    /// Arbitrary values whose change makes a new restart, e.g. `{ at = "2026-12-02T10:00Z" }`.
    #[serde(default)]
    #[tf(requires_replace)]
    pub triggers: Field<BTreeMap<String, String>>,
    /// Wait until every restarted dyno is `up` again after the restart (default `true`); a
    /// `crashed` one is an error. A dyno counts as restarted when it has a new id, a later
    /// `created_at` or `updated_at` than before the restart, or was seen `starting` since.
    #[serde(default = "default_wait")]
    #[tf(requires_replace)]
    pub wait: Field<bool>,
    /// Identifier of this restart (`<app>@<restarted_at>`).
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub id: Field<String>,
    /// When the restart was requested (RFC 3339, UTC).
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub restarted_at: Field<String>,
    /// State of each restarted dyno after the restart, by dyno name (`worker_misc.1` →
    /// `up`), as last seen by the apply.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub dynos: Field<BTreeMap<String, String>>,
    /// How long operations may take (`create` defaults to `"10m"`).
    #[tf(block = single)]
    pub timeouts: Option<CreateTimeout>,
}

/// The `treeherder_dyno_restart` resource.
pub struct DynoRestartResource;

fn create_timeout(timeouts: Option<&CreateTimeout>) -> (Duration, String) {
    CreateTimeout::limit(
        timeouts,
        DEFAULT_CREATE_TIMEOUT,
        DEFAULT_CREATE_TIMEOUT_TEXT,
    )
}

fn create_timeout_path() -> AttributePath {
    let mut path = attr!(DynoRestartModel, timeouts);
    path.0.extend(attr!(CreateTimeout, create).0);
    path
}

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

#[async_trait]
impl Resource for DynoRestartResource {
    type Model = DynoRestartModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_dyno_restart"
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

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, Clients>,
        prior: &DynoRestartModel,
    ) -> Result<(), Diagnostics> {
        let at = prior.restarted_at.as_str().unwrap_or("(unknown)");
        ctx.add(Diagnostic::warning(
            "Destroying only forgets the restart",
            format!("A restart cannot be undone: destroying the restart of {at} only removes it from the state. No dyno is touched."),
        ));
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: DynoRestartModel,
    ) -> Result<DynoRestartModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let (timeout, timeout_label) = create_timeout(plan.timeouts.as_ref());
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
        let mut watch = RestartWatch::new(&client.dynos(app_id).await?);
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
        let started = Instant::now();
        let deadline = started + timeout;
        let mut interval = FIRST_POLL_INTERVAL;
        loop {
            let dynos = match client.dynos(app_id).await {
                Ok(d) => d,
                Err(e) => {
                    plan.dynos.set(BTreeMap::new());
                    ctx.add(Diagnostic::error(
                        "Cannot follow the restart",
                        format!(
                            "The dynos of {app} were restarted, but listing them failed: {}.",
                            tfplugin::log::mask(&e.to_string())
                        ),
                    ));
                    return Ok(plan);
                }
            };
            watch.observe(&dynos);
            let mine: Vec<&Dyno> = of_types(&dynos, types.as_deref()).collect();
            let states: BTreeMap<String, String> = mine
                .iter()
                .map(|d| {
                    let state = d.state.clone().unwrap_or_else(|| "unknown".to_string());
                    (d.name.clone(), state)
                })
                .collect();
            plan.dynos.set(states.clone());
            if !wait {
                return Ok(plan);
            }
            let crashed: Vec<&str> = mine
                .iter()
                .filter(|d| watch.restarted(d) && d.state.as_deref() == Some("crashed"))
                .map(|d| d.name.as_str())
                .collect();
            if !crashed.is_empty() {
                ctx.add(Diagnostic::error(
                    format!("Dyno {} crashed", crashed.join(", ")),
                    format!(
                        "After the restart of {app}, dyno {} crashed. See `heroku logs --app {app} --dyno {}`. The restart is saved in the state as tainted.",
                        crashed.join(", "),
                        crashed[0]
                    ),
                ));
                return Ok(plan);
            }
            let waiting: Vec<&str> = mine
                .iter()
                .filter(|d| !(watch.restarted(d) && d.state.as_deref() == Some("up")))
                .map(|d| d.name.as_str())
                .collect();
            tfplugin::info!(
                "restart of {app}: {} of {} dyno(s) up after {:.1}s{}",
                mine.len() - waiting.len(),
                mine.len(),
                started.elapsed().as_secs_f64(),
                if waiting.is_empty() {
                    String::new()
                } else {
                    format!("; waiting for {}", waiting.join(", "))
                }
            );
            if waiting.is_empty() {
                return Ok(plan);
            }
            let now = Instant::now();
            if now >= deadline {
                ctx.add(Diagnostic::error(
                    "Timed out waiting for the restart",
                    format!(
                        "Dyno(s) {} of {app} were not up after {timeout_label} ({}). The restart is saved in the state as tainted.",
                        waiting.join(", "),
                        create_timeout_path()
                    ),
                ));
                return Ok(plan);
            }
            tokio::select! {
                () = tokio::time::sleep(interval.min(deadline - now)) => {}
                () = ctx.stopped() => {
                    ctx.add(Diagnostic::error(
                        "Interrupted while waiting for the restart",
                        format!("Dyno(s) {} of {app} were not up yet; the restart is saved in the state as tainted.", waiting.join(", ")),
                    ));
                    return Ok(plan);
                }
            }
            interval = (interval * 2).min(MAX_POLL_INTERVAL);
        }
    }

    async fn read(
        &self,
        _ctx: &Context<'_, Clients>,
        state: DynoRestartModel,
    ) -> Result<Option<DynoRestartModel>, Diagnostics> {
        // Nothing on Heroku records a restart: the state is all there is.
        Ok(Some(state))
    }

    async fn update(
        &self,
        _ctx: &Context<'_, Clients>,
        prior: DynoRestartModel,
        mut plan: DynoRestartModel,
    ) -> Result<DynoRestartModel, Diagnostics> {
        // Every argument forces replacement, so only `timeouts` can change in place.
        if !plan.id.is_known() {
            plan.id = prior.id;
        }
        if !plan.restarted_at.is_known() {
            plan.restarted_at = prior.restarted_at;
        }
        if !plan.dynos.is_known() {
            plan.dynos = prior.dynos;
        }
        Ok(plan)
    }

    async fn delete(
        &self,
        _ctx: &Context<'_, Clients>,
        state: DynoRestartModel,
    ) -> Result<(), Diagnostics> {
        tfplugin::info!(
            "forgetting restart {}; nothing is changed on Heroku",
            state.id.as_str().unwrap_or("(no id)")
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_has_computed_results_and_a_create_timeout() {
        let schema = DynoRestartResource.schema().unwrap();
        for name in ["id", "restarted_at", "dynos"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        assert_eq!(create_timeout(None).1, "10m");
        assert_eq!(create_timeout_path().to_string(), "timeouts.create");
    }
}
