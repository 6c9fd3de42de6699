//! `treeherder_one_off_dyno`: runs a command in a one-off dyno (the runbook's "Running
//! one-off commands", `heroku run:detached`, and "Resetting the Redis cache" =
//! `./manage.py clear_cache`), and unless detached follows it to its exit status.
//!
//! A run is an event: every argument forces a new one, destroying only forgets it. It is
//! not importable. Starting a dyno is not idempotent, so the POST is never repeated after
//! an unknown outcome: the run it may have started is looked for among the app's dynos
//! (a `run` dyno with the same command that was not there before the POST).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Check, Context, Operation, Polled, Poller, ResourcePlan, TimeLimit};
use tfplugin::types::{quote, CreateTimeout, Triggers};
use tfplugin::{attr, Diagnostic, Diagnostics, Field, Sensitive};
use tokio::time::Instant;

use crate::clients::heroku::{
    run_key, AppIdentity, DynoEvent, FoundRun, HerokuClient, HerokuError, LogLine, NewOneOffDyno,
};
use crate::clients::Clients;
use crate::diagnostics::app_error_at;
use crate::resources::scheduler_job::DynoSize;

/// Heroku's longest `time_to_live`, in seconds (a day).
pub const MAX_TIME_TO_LIVE: i64 = 86_400;
/// Output lines kept in `output_tail` and shown in a failure.
const TAIL_LINES: usize = 20;
/// Past lines asked for when the log session opens, so lines written before it are seen.
const HISTORY_LINES: u32 = 1500;
/// Pause before reopening a log stream that ended while the dyno still ran.
const REOPEN_PAUSE: Duration = Duration::from_secs(2);

fn default_detached() -> Field<bool> {
    Field::known(false)
}

/// A command run once in a one-off dyno of a Heroku app. Unless `detached`, the apply
/// follows the dyno until the command exits, streams its output into Terraform's log and
/// fails when the exit status is not 0. Changing any argument runs the command again;
/// destroying only removes the run from the state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OneOffDynoModel {
    /// App name or UUID, e.g. `treeherder-stage`.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub app: Field<AppIdentity>,
    /// Command to run, e.g. `./manage.py clear_cache`.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub command: Field<String>,
    /// Dyno size, e.g. `standard-2x` (any case). Checked when planning against the sizes
    /// available to the app. Default: Heroku's default size for one-off dynos.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub size: Field<DynoSize>,
    /// Environment of the command, on top of the app's config vars. Sensitive: values
    /// never show in plans or logs.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub env: Field<BTreeMap<String, Sensitive>>,
    /// `false` (default): wait until the command exits and report its exit status.
    /// `true`: return as soon as the dyno is started (`heroku run:detached`).
    #[serde(default = "default_detached")]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub detached: Field<bool>,
    /// Seconds after which Heroku stops the dyno (1 to 86400). Default: Heroku's (a day).
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub time_to_live: Field<i64>,
    /// Arbitrary values whose change runs the command again, e.g. `{ snapshot = "2026-12-02" }`.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub triggers: Field<Triggers>,
    /// UUID of the dyno that ran the command (null when the run was taken over after it had
    /// already finished: Heroku's logs name a finished dyno, not its UUID).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub id: Field<String>,
    /// Name of that dyno, e.g. `run.1234` (for `heroku logs --dyno`).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub name: Field<String>,
    /// Exit status of the command (null when detached, or when the apply stopped waiting).
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub exit_status: Field<i64>,
    /// The last lines (up to 20) the command wrote, when waited for; values of registered
    /// secrets (such as `env`'s) are masked.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    #[serde(default)]
    pub output_tail: Field<String>,
    /// How long operations may take (`create` defaults to `"30m"`): the whole run when not
    /// detached.
    #[schemars(extend("x-terraform" = { "block": "single" }))]
    pub timeouts: Option<CreateTimeout>,
}

/// The `treeherder_one_off_dyno` resource.
pub struct OneOffDynoResource;

/// The app's id and the size in Heroku's spelling, checked: `Ok(None)` when the app or
/// the size is unknown at plan.
async fn check_app_and_size(
    client: &HerokuClient,
    model: &OneOffDynoModel,
) -> Result<Option<(uuid::Uuid, String, Option<String>)>, Diagnostics> {
    let Some(app) = model.app.get() else {
        return Ok(None);
    };
    if model.size.is_unknown() {
        return Ok(None);
    }
    let app_id = client
        .resolve_app_id(app.as_str())
        .await
        .map_err(|e| app_error_at(e, app.as_str(), attr!(OneOffDynoModel, app)))?;
    let Some(size) = model.size.get() else {
        return Ok(Some((app_id, app.as_str().to_string(), None)));
    };
    let available = client.available_dyno_sizes(app_id).await?;
    match available.iter().find(|a| size.is(&a.name)) {
        Some(found) => Ok(Some((
            app_id,
            app.as_str().to_string(),
            Some(found.name.clone()),
        ))),
        None => {
            let names: Vec<&str> = available.iter().map(|a| a.name.as_str()).collect();
            Err(Diagnostic::error(
                "Dyno size not available",
                format!(
                    "Dyno size {} is not available to app {}; available sizes: {}.",
                    quote(size.as_str()),
                    app.as_str(),
                    names.join(", ")
                ),
            )
            .at(attr!(OneOffDynoModel, size))
            .into())
        }
    }
}

/// Starts the dyno. When the answer is lost, finds the dyno it started by listing the app's
/// dynos; never posts again, since running the command twice is not harmless.
async fn start_dyno(
    client: &HerokuClient,
    app_id: uuid::Uuid,
    app: &str,
    request: &NewOneOffDyno,
) -> Result<FoundRun, Diagnostics> {
    if let Some(run) = client.find_own_recent_run(app_id, &request.command).await? {
        tfplugin::warn!(
            "dyno {} of {app} runs (or ran moments ago) {}, started by this account: an earlier apply started it and was stopped before saving it; following it instead of starting the command again",
            run.name,
            quote(&request.command)
        );
        return Ok(run);
    }
    let before: BTreeSet<uuid::Uuid> = client.dynos(app_id).await?.iter().map(|d| d.id).collect();
    let error = match client.run_one_off_dyno(app_id, request).await {
        Ok(dyno) => return Ok(dyno.into()),
        Err(e) => e,
    };
    if !error.outcome_unknown() {
        return Err(start_error(app, &request.command, &error, false));
    }
    tfplugin::warn!(
        "the answer to starting {} on {app} was lost; looking for the dyno it started",
        quote(&request.command)
    );
    match client
        .find_one_off_since(app_id, &before, &request.command)
        .await
    {
        Ok(Some(dyno)) => {
            tfplugin::info!("found dyno {} of {app}: the command was started", dyno.name);
            Ok(dyno.into())
        }
        Ok(None) | Err(_) => Err(start_error(app, &request.command, &error, true)),
    }
}

fn start_error(app: &str, command: &str, error: &HerokuError, unknown: bool) -> Diagnostics {
    let mut detail = format!(
        "Starting {} in a one-off dyno of {app} failed: {}",
        quote(command),
        tfplugin::log::mask(&error.to_string())
    );
    if unknown {
        detail.push_str(&format!(
            " The command may have started anyway (and may even have finished already): check `heroku ps --app {app}` and `heroku logs --app {app} --ps run` before applying again. It was not started a second time."
        ));
    }
    Diagnostic::error("Cannot start the one-off dyno", detail).into()
}

/// What following a dyno found.
struct Followed {
    exit_status: Option<i64>,
    tail: VecDeque<String>,
    problem: Option<Diagnostic>,
}

impl Followed {
    fn push(&mut self, line: String) {
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }

    fn tail_text(&self) -> String {
        self.tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// Follows a dyno through log sessions until it exits: the command's lines go to the log at
/// INFO, `Process exited with status N` gives the exit status, and a state change to
/// `complete`, `crashed` or `down` ends the run. A stream that ends while the dyno still
/// runs is reopened after a pause.
async fn follow(
    ctx: &Context<'_, Clients>,
    client: &HerokuClient,
    app_id: uuid::Uuid,
    app: &str,
    dyno: &str,
    limit: &TimeLimit,
) -> Followed {
    let poller = Poller::new(format!("dyno {dyno} of {app}"), limit.limit).backoff(
        REOPEN_PAUSE,
        1,
        REOPEN_PAUSE,
    );
    let deadline = poller.deadline();
    // Shared by the polls, one at a time; a tokio lock, held across the session's awaits.
    let state = tokio::sync::Mutex::new(Followed {
        exit_status: None,
        tail: VecDeque::new(),
        problem: None,
    });
    let history = AtomicU32::new(HISTORY_LINES);
    let polled = ctx
        .poll(&poller, || async {
            let mut followed = state.lock().await;
            // A reopened stream starts without history: those lines were seen.
            let lines = history.swap(0, Ordering::Relaxed);
            let session =
                follow_session(client, app_id, app, dyno, lines, deadline, &mut followed).await;
            match session {
                Ok(SessionEnd::Finished) => return Ok(Check::done("finished", ())),
                Ok(SessionEnd::TimedOut) => {
                    return Ok(Check::waiting("still running at the deadline", ()))
                }
                Ok(SessionEnd::StreamEnded) => {}
                Err(e) => {
                    tfplugin::warn!(
                        "following dyno {dyno} of {app}: {}",
                        tfplugin::log::mask(&e.to_string())
                    );
                }
            }
            // The stream ended (or failed) before the dyno did: is it still there?
            let problem = match client.dyno(app_id, dyno).await {
                Ok(Some(d)) if d.state.as_deref() == Some("crashed") => {
                    crashed(app, dyno, &followed)
                }
                Ok(Some(_)) => {
                    return Ok(Check::waiting(
                        "still running; reopening its log stream",
                        (),
                    ))
                }
                Ok(None) => Diagnostic::error(
                    "Exit status unknown",
                    format!(
                        "Dyno {dyno} of {app} ended, but its log stream did not say how. See `heroku logs --app {app} --dyno {dyno}`. The run was saved in the state as tainted."
                    ),
                ),
                Err(e) => Diagnostic::error(
                    "Cannot follow the one-off dyno",
                    format!(
                        "Dyno {dyno} of {app} was started, but following it failed: {}. It may still be running; the run was saved in the state as tainted.",
                        tfplugin::log::mask(&e.to_string())
                    ),
                ),
            };
            followed.problem = Some(problem);
            Ok::<_, Infallible>(Check::done("ended", ()))
        })
        .await;
    let mut followed = state.into_inner();
    match polled {
        Polled::Done(()) | Polled::Failed { .. } => {}
        Polled::TimedOut { .. } => {
            followed.problem = Some(Diagnostic::error(
                "Timed out waiting for the one-off dyno",
                format!(
                    "Dyno {dyno} of {app} was still running after {} ({}). It keeps running on Heroku (see `heroku ps --app {app}`); the run was saved in the state as tainted.",
                    limit.text,
                    TimeLimit::path()
                ),
            ));
        }
        Polled::Stopped { .. } => followed.problem = Some(interrupted(app, dyno)),
    }
    followed
}

enum SessionEnd {
    Finished,
    StreamEnded,
    TimedOut,
}

fn interrupted(app: &str, dyno: &str) -> Diagnostic {
    Diagnostic::error(
        "Interrupted while waiting for the one-off dyno",
        format!("Dyno {dyno} of {app} was still running (it keeps running on Heroku); the run was saved in the state as tainted."),
    )
}

fn crashed(app: &str, dyno: &str, followed: &Followed) -> Diagnostic {
    Diagnostic::error(
        format!("Dyno {dyno} crashed"),
        format!(
            "Dyno {dyno} of {app} crashed before the command exited. Last lines:\n{}\n\nSee `heroku logs --app {app} --dyno {dyno}`. The run was saved in the state as tainted.",
            followed.tail_text()
        ),
    )
}

/// Reads one log session of the dyno until the dyno ends, the stream ends or the deadline
/// passes (a stop request cancels it through the poller).
async fn follow_session(
    client: &HerokuClient,
    app_id: uuid::Uuid,
    app: &str,
    dyno: &str,
    history: u32,
    deadline: Instant,
    followed: &mut Followed,
) -> Result<SessionEnd, HerokuError> {
    if Instant::now() >= deadline {
        return Ok(SessionEnd::TimedOut);
    }
    let session = client
        .create_log_session(app_id, dyno, true, history)
        .await?;
    let mut stream = client.open_log_stream(&session).await?;
    loop {
        let next = tokio::select! {
            next = stream.next_line() => next?,
            () = tokio::time::sleep_until(deadline) => return Ok(SessionEnd::TimedOut),
        };
        let Some(raw) = next else {
            return Ok(SessionEnd::StreamEnded);
        };
        let Some(line) = LogLine::parse(&raw) else {
            continue;
        };
        if !line.dyno.is_empty() && line.dyno != dyno {
            continue;
        }
        if line.source == "app" {
            let text = tfplugin::log::mask(&line.message);
            tfplugin::info!("{dyno}: {text}");
            followed.push(text);
            continue;
        }
        match line.event() {
            Some(DynoEvent::Exited(status)) => {
                tfplugin::info!("{dyno} of {app}: process exited with status {status}");
                followed.exit_status = Some(status);
            }
            Some(DynoEvent::StateChanged { from, to }) => {
                tfplugin::info!("{dyno} of {app}: state changed from {from} to {to}");
                match to.as_str() {
                    "crashed" if followed.exit_status.is_none() => {
                        followed.problem = Some(crashed(app, dyno, followed));
                        return Ok(SessionEnd::Finished);
                    }
                    "complete" | "crashed" | "down" => {
                        if followed.exit_status.is_none() {
                            followed.problem = Some(Diagnostic::error(
                                "Exit status unknown",
                                format!(
                                    "Dyno {dyno} of {app} ended ({to}) without reporting an exit status. See `heroku logs --app {app} --dyno {dyno}`. The run was saved in the state as tainted."
                                ),
                            ));
                        }
                        return Ok(SessionEnd::Finished);
                    }
                    _ => {}
                }
            }
            None => tfplugin::debug!("{dyno}: {}", tfplugin::log::mask(&line.message)),
        }
    }
}

#[async_trait]
impl Operation for OneOffDynoResource {
    type Model = OneOffDynoModel;
    type Client = Clients;
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    fn type_name(&self) -> &'static str {
        "treeherder_one_off_dyno"
    }

    fn timeouts(model: &OneOffDynoModel) -> Option<&CreateTimeout> {
        model.timeouts.as_ref()
    }

    fn validate(&self, config: &OneOffDynoModel, diagnostics: &mut Diagnostics) {
        if let Some(command) = config.command.get() {
            if command.trim().is_empty() {
                diagnostics.push(
                    Diagnostic::error(
                        "Empty command",
                        "command must name the command to run, e.g. \"./manage.py clear_cache\".",
                    )
                    .at(attr!(OneOffDynoModel, command)),
                );
            }
        }
        if let Some(ttl) = config.time_to_live.get() {
            if !(1..=MAX_TIME_TO_LIVE).contains(ttl) {
                diagnostics.push(
                    Diagnostic::error(
                        "Invalid time_to_live",
                        format!(
                            "time_to_live is in seconds, from 1 to {MAX_TIME_TO_LIVE} (Heroku's maximum, a day); got {ttl}."
                        ),
                    )
                    .at(attr!(OneOffDynoModel, time_to_live)),
                );
            }
        }
        if let Some(env) = config.env.get() {
            for key in env.keys() {
                if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    diagnostics.push(
                        Diagnostic::error(
                            "Invalid environment variable name",
                            format!(
                                "env names may contain only letters, digits and underscores; got {}.",
                                quote(key)
                            ),
                        )
                        .at(attr!(OneOffDynoModel, env)),
                    );
                }
            }
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<OneOffDynoModel>,
    ) -> Result<(), Diagnostics> {
        // A replacement is planned again as a create, which is checked.
        if plan.prior.is_some() {
            return Ok(());
        }
        if plan.config.detached.get().copied().unwrap_or(false) {
            // Nothing waits for the exit: these stay null.
            plan.planned.exit_status = Field::Null;
            plan.planned.output_tail = Field::Null;
        }
        let Some(clients) = ctx.try_client() else {
            return Ok(());
        };
        check_app_and_size(clients.heroku()?, &plan.config).await?;
        Ok(())
    }

    fn forget_warning(&self, prior: &OneOffDynoModel) -> Diagnostic {
        let name = prior.name.as_str().unwrap_or("(unknown)");
        Diagnostic::warning(
            "Destroying only forgets the one-off run",
            format!("A command that ran cannot be undone: destroying the run on dyno {name} only removes it from the state. No dyno is stopped or touched."),
        )
    }

    async fn run(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: OneOffDynoModel,
        limit: &TimeLimit,
    ) -> Result<OneOffDynoModel, Diagnostics> {
        let client = ctx.client()?.heroku()?;
        let Some((app_id, app, size)) = check_app_and_size(client, &plan).await? else {
            return Err(Diagnostic::error(
                "Invalid one-off dyno",
                format!(
                    "{} or {} is unknown at apply time.",
                    attr!(OneOffDynoModel, app),
                    attr!(OneOffDynoModel, size)
                ),
            )
            .into());
        };
        let command = plan.command.value()?.clone();
        let time_to_live = plan.time_to_live.get().and_then(|t| u32::try_from(*t).ok());
        let env = plan.env.get().map(|env| {
            env.iter()
                .map(|(k, v)| (k.clone(), v.expose().to_string()))
                .collect()
        });
        let request = NewOneOffDyno {
            command: command.clone(),
            size,
            time_to_live,
            attach: false,
            env,
        };
        let dyno = start_dyno(client, app_id, &app, &request).await?;
        tfplugin::info!("running {} on {app} in dyno {}", quote(&command), dyno.name);
        match dyno.id {
            Some(id) => plan.id.set(id.to_string()),
            None => plan.id = Field::Null,
        }
        plan.name.set(dyno.name.clone());
        if plan.detached.get().copied().unwrap_or(false) {
            plan.exit_status = Field::Null;
            plan.output_tail = Field::Null;
            return Ok(plan);
        }
        let followed = follow(ctx, client, app_id, &app, &dyno.name, limit).await;
        plan.output_tail.set(followed.tail_text());
        match followed.exit_status {
            Some(status) => plan.exit_status.set(status),
            None => plan.exit_status = Field::Null,
        }
        if let Some(problem) = followed.problem {
            ctx.add(problem);
        } else if let Some(status) = followed.exit_status.filter(|s| *s != 0) {
            ctx.add(Diagnostic::error(
                format!("{} exited with status {status}", quote(&command)),
                format!(
                    "The command ran in dyno {} of {app} and exited with status {status}. Last lines:\n{}\n\nThe run was saved in the state as tainted, so the next apply runs it again.",
                    dyno.name,
                    followed.tail_text()
                ),
            ));
        }
        Ok(plan)
    }

    async fn forget(&self, ctx: &Context<'_, Clients>, state: &OneOffDynoModel) {
        // A replacement's create must not take this run as its own half-made one.
        let heroku = ctx.try_client().and_then(|c| c.heroku().ok());
        if let (Some(name), Some(heroku)) = (state.name.as_str(), heroku) {
            heroku.forget_object(&run_key(name));
        }
    }

    async fn import(
        &self,
        _ctx: &Context<'_, Clients>,
        _id: &str,
    ) -> Result<OneOffDynoModel, Diagnostics> {
        Err(Diagnostic::error(
            "Import not supported",
            "treeherder_one_off_dyno cannot be imported: a one-off run is an event recorded only by the apply that made it. Heroku forgets a one-off dyno once it exits, with its exit status, so there is nothing to import.",
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use tfplugin::framework::{OperationResource, Resource};

    use super::*;

    #[test]
    fn schema_marks_env_sensitive_and_results_computed() {
        let schema = OperationResource(OneOffDynoResource).schema().unwrap();
        assert!(schema.block.attribute("env").unwrap().sensitive);
        for name in ["id", "name", "exit_status", "output_tail"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        for name in ["app", "command", "size", "time_to_live", "triggers"] {
            assert!(!schema.block.attribute(name).unwrap().computed, "{name}");
        }
        let limit = TimeLimit::of(None, OneOffDynoResource::DEFAULT_TIMEOUT);
        assert_eq!(limit.text, "30m");
    }

    #[test]
    fn the_tail_keeps_the_last_lines() {
        let mut followed = Followed {
            exit_status: None,
            tail: VecDeque::new(),
            problem: None,
        };
        for i in 0..25 {
            followed.push(format!("line {i}"));
        }
        let text = followed.tail_text();
        assert!(
            text.starts_with("line 5\n") && text.ends_with("line 24"),
            "{text}"
        );
    }
}
