//! One-off dynos that "run" their command, and log sessions that stream what they print.
//!
//! What a command does comes from a table (command → output lines, exit status, duration
//! in steps, or a crash), seeded with `./manage.py clear_cache` exiting 0 and set through
//! `POST /__control/one-off-commands`; any other command is `bash: …: command not found`,
//! exit 127, as on Heroku. A run is a timeline of steps, each one Heroku log line (or a
//! silent step of work) and maybe a state change:
//!
//! 1. `heroku[run.N]: Starting process with command `…` by user <account e-mail>` (state
//!    `starting`, at creation; dynos do not say who started them, this line does)
//! 2. `heroku[run.N]: State changed from starting to up` (state `up`)
//! 3. one `app[run.N]: …` line per output line, then silent steps up to `steps`
//! 4. `heroku[run.N]: Process exited with status S`
//! 5. `heroku[run.N]: State changed from up to complete` (the dyno is gone)
//!
//! or, for a crash, `State changed from up to crashed` after the output (the dyno stays,
//! `crashed`). Time is steps, not the clock: a run moves one step each time its dyno is
//! read or listed through the Platform API, and each time a log stream following it has
//! shown every line so far. Nothing moves a dyno nobody looks at, so tests need no sleeps.
//!
//! Log sessions (`POST /apps/{app}/log-sessions` with `dyno_name` — or the older `dyno` —,
//! `tail`, `lines`) answer with a `logplex_url` on this sandbox:
//! `GET /logplex/sessions/{id}` streams the dyno's past lines (the last `lines`, default
//! 100) then, with `tail`, each new one until the run ends. The URL is the credential: no
//! auth header is needed, as with Heroku's logplex.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{app_index, opt_str};
use crate::sandbox::http::{json_object, ApiError, ApiResult, Reply};
use crate::sandbox::server::Shared;
use crate::sandbox::state::{now, App, SandboxState};

/// Path prefix of log streams on the sandbox's listener.
pub const LOGPLEX_BASE: &str = "/logplex/sessions";
/// Past lines a log session starts with when the request names no `lines`.
const DEFAULT_HISTORY: usize = 100;

/// What a command does when a one-off dyno runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneOffCommand {
    /// Lines the command prints, one per step.
    #[serde(default)]
    pub output: Vec<String>,
    /// Exit status (ignored when `crash`).
    #[serde(default)]
    pub exit_status: i64,
    /// Steps the command runs (at least one per output line; more adds silent steps).
    #[serde(default)]
    pub steps: Option<u32>,
    /// The dyno crashes after its output instead of exiting.
    #[serde(default)]
    pub crash: bool,
}

/// `POST /__control/one-off-commands` body: a command and what it does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneOffCommandRequest {
    pub command: String,
    #[serde(flatten)]
    pub behaviour: OneOffCommandFields,
}

/// [`OneOffCommand`]'s fields as the control API takes them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OneOffCommandFields {
    #[serde(default)]
    pub output: Vec<String>,
    #[serde(default)]
    pub exit_status: i64,
    #[serde(default)]
    pub steps: Option<u32>,
    #[serde(default)]
    pub crash: bool,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStep {
    /// `heroku` or `app`, with the message; none for a silent step.
    pub line: Option<(String, String)>,
    /// The dyno's state after the step; `gone` removes it.
    pub state: Option<String>,
}

/// A one-off dyno's run: its timeline and how far it got.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OneOffRun {
    pub app_id: Uuid,
    pub dyno_id: Uuid,
    pub dyno: String,
    pub command: String,
    pub steps: Vec<RunStep>,
    /// Steps done.
    pub position: usize,
    /// Log lines written so far, in logplex format.
    pub lines: Vec<String>,
}

impl OneOffRun {
    fn finished(&self) -> bool {
        self.position >= self.steps.len()
    }
}

/// An open log session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSession {
    pub id: Uuid,
    pub app_id: Uuid,
    pub dyno: Option<String>,
    pub tail: bool,
    pub lines: usize,
    pub created_at: String,
}

/// The seeded table: the runbook's "Resetting the Redis cache".
pub fn seed_commands() -> BTreeMap<String, OneOffCommand> {
    BTreeMap::from([(
        "./manage.py clear_cache".to_string(),
        OneOffCommand {
            output: vec![
                "Clearing the Redis cache".to_string(),
                "Cache cleared.".to_string(),
            ],
            exit_status: 0,
            steps: None,
            crash: false,
        },
    )])
}

/// What a command not in the table does: what bash says on Heroku.
fn unknown_command(command: &str) -> OneOffCommand {
    let program = command.split_whitespace().next().unwrap_or(command);
    OneOffCommand {
        output: vec![format!("bash: {program}: command not found")],
        exit_status: 127,
        steps: None,
        crash: false,
    }
}

fn timeline(command: &str, user: &str, behaviour: &OneOffCommand) -> Vec<RunStep> {
    let heroku = |message: String, state: &str| RunStep {
        line: Some(("heroku".to_string(), message)),
        state: Some(state.to_string()),
    };
    let mut steps = vec![
        heroku(
            format!("Starting process with command `{command}` by user {user}"),
            "starting",
        ),
        heroku("State changed from starting to up".to_string(), "up"),
    ];
    for line in &behaviour.output {
        steps.push(RunStep {
            line: Some(("app".to_string(), line.clone())),
            state: None,
        });
    }
    let wanted = behaviour.steps.map_or(0, |s| s as usize);
    for _ in behaviour.output.len()..wanted {
        steps.push(RunStep {
            line: None,
            state: None,
        });
    }
    if behaviour.crash {
        steps.push(heroku(
            "State changed from up to crashed".to_string(),
            "crashed",
        ));
    } else {
        steps.push(RunStep {
            line: Some((
                "heroku".to_string(),
                format!("Process exited with status {}", behaviour.exit_status),
            )),
            state: None,
        });
        steps.push(heroku(
            "State changed from up to complete".to_string(),
            "gone",
        ));
    }
    steps
}

/// Heroku's log timestamp (`2026-12-02T10:00:00.000000+00:00`).
fn log_time() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000000+00:00".to_string())
}

/// Starts the run of a just-created one-off dyno (its first step is done: `starting`).
pub fn start_run(state: &mut SandboxState, app_index: usize, dyno_index: usize) {
    let app = &mut state.apps[app_index];
    let dyno = &mut app.dynos[dyno_index];
    let behaviour = state
        .one_off_commands
        .get(&dyno.command)
        .cloned()
        .unwrap_or_else(|| unknown_command(&dyno.command));
    let mut run = OneOffRun {
        app_id: app.id,
        dyno_id: dyno.id,
        dyno: dyno.name.clone(),
        command: dyno.command.clone(),
        steps: timeline(&dyno.command, &state.account.email, &behaviour),
        position: 0,
        lines: Vec::new(),
    };
    step(app, &mut run);
    state.one_off_runs.push(run);
}

/// Does the next step of a run on its app.
fn step(app: &mut App, run: &mut OneOffRun) {
    let Some(next) = run.steps.get(run.position).cloned() else {
        return;
    };
    run.position += 1;
    let Some(d) = app.dynos.iter().position(|d| d.id == run.dyno_id) else {
        // Stopped (or restarted away) behind the run's back: it is over.
        run.position = run.steps.len();
        return;
    };
    if let Some((source, message)) = next.line {
        run.lines
            .push(format!("{} {source}[{}]: {message}", log_time(), run.dyno));
    }
    match next.state.as_deref() {
        Some("gone") => {
            app.dynos.remove(d);
        }
        Some(new_state) => {
            app.dynos[d].state = new_state.to_string();
            app.dynos[d].updated_at = now();
        }
        None => {}
    }
}

/// Moves every unfinished run of the app one step (its dynos are being looked at).
pub fn advance_app(state: &mut SandboxState, ident: &str) {
    let Some(i) = state.app_index(ident) else {
        return;
    };
    let app_id = state.apps[i].id;
    let app = &mut state.apps[i];
    for run in state
        .one_off_runs
        .iter_mut()
        .filter(|r| r.app_id == app_id && !r.finished())
    {
        step(app, run);
    }
}

/// `POST /apps/{app}/log-sessions`.
pub fn create_log_session(
    ctx: &super::Ctx<'_>,
    state: &mut SandboxState,
    ident: &str,
    body: &[u8],
) -> ApiResult {
    let i = app_index(state, ident)?;
    let body = json_object(body)?;
    let dyno = match opt_str(&body, "dyno_name")? {
        Some(d) => Some(d),
        None => opt_str(&body, "dyno")?,
    }
    .map(str::to_string);
    let tail = match body.get("tail") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::invalid("tail must be a boolean.")),
    };
    let lines = match body.get("lines") {
        None | Some(Value::Null) => DEFAULT_HISTORY,
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| ApiError::invalid("lines must be a non-negative integer."))?,
    };
    let host = ctx.req.header("host").unwrap_or("127.0.0.1").to_string();
    let now = now();
    let session = LogSession {
        id: Uuid::new_v4(),
        app_id: state.apps[i].id,
        dyno,
        tail,
        lines,
        created_at: now.clone(),
    };
    let out = json!({
        "id": session.id,
        "logplex_url": format!("http://{host}{LOGPLEX_BASE}/{}", session.id),
        "created_at": now,
        "updated_at": now,
    });
    state.log_sessions.push(session);
    Ok(Reply::created(out))
}

/// Where a stream is: its session and how many lines of the run it has shown.
struct StreamCursor {
    shared: Arc<Shared>,
    session: LogSession,
    /// Index into the run's lines; `None` before the first read (history not applied).
    shown: Option<usize>,
}

/// The next line a stream shows, moving the run when every line so far was shown; `None`
/// when the stream ends.
fn next_line(cursor: &mut StreamCursor) -> Option<String> {
    let shared = Arc::clone(&cursor.shared);
    let mut world = shared.lock();
    let state = &mut world.state;
    let Some(dyno) = cursor.session.dyno.clone() else {
        // No dyno filter: the app's one-off lines so far, then the end.
        let all: Vec<String> = state
            .one_off_runs
            .iter()
            .filter(|r| r.app_id == cursor.session.app_id)
            .flat_map(|r| r.lines.iter().cloned())
            .collect();
        let start = *cursor
            .shown
            .get_or_insert(all.len().saturating_sub(cursor.session.lines));
        let line = all.get(start).cloned();
        cursor.shown = Some(start + 1);
        return line;
    };
    let run_index = state
        .one_off_runs
        .iter()
        .rposition(|r| r.app_id == cursor.session.app_id && r.dyno == dyno)?;
    let a = state.app_index_by_id(cursor.session.app_id)?;
    loop {
        let run = &mut state.one_off_runs[run_index];
        let shown = *cursor
            .shown
            .get_or_insert(run.lines.len().saturating_sub(cursor.session.lines));
        if let Some(line) = run.lines.get(shown) {
            cursor.shown = Some(shown + 1);
            return Some(line.clone());
        }
        if !cursor.session.tail || run.finished() {
            return None;
        }
        step(&mut state.apps[a], &mut state.one_off_runs[run_index]);
        shared.persist(state);
    }
}

/// `GET /logplex/sessions/{id}`: the session's lines, streamed.
pub fn stream(shared: &Arc<Shared>, rest: &str) -> axum::response::Response {
    let id = rest.trim_matches('/');
    let session = id.parse::<Uuid>().ok().and_then(|id| {
        shared
            .lock()
            .state
            .log_sessions
            .iter()
            .find(|s| s.id == id)
            .cloned()
    });
    let Some(session) = session else {
        let mut response = axum::response::Response::new(axum::body::Body::from(
            "no such log session\n".to_string(),
        ));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    };
    let cursor = StreamCursor {
        shared: Arc::clone(shared),
        session,
        shown: None,
    };
    let lines = futures::stream::unfold(cursor, |mut cursor| async move {
        let line = next_line(&mut cursor)?;
        Some((
            Ok::<_, std::convert::Infallible>(format!("{line}\n")),
            cursor,
        ))
    });
    let mut response = axum::response::Response::new(axum::body::Body::from_stream(lines));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `GET /__control/one-off-commands`: the table.
pub fn commands_json(shared: &Shared) -> Value {
    json!(shared.lock().state.one_off_commands)
}

/// `POST /__control/one-off-commands`: sets what a command does.
pub fn set_command(shared: &Shared, request: &OneOffCommandRequest) -> (StatusCode, Value) {
    if request.command.trim().is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "id": "invalid_params", "message": "command must not be blank" }),
        );
    }
    let f = &request.behaviour;
    let behaviour = OneOffCommand {
        output: f.output.clone(),
        exit_status: f.exit_status,
        steps: f.steps,
        crash: f.crash,
    };
    let mut world = shared.lock();
    world
        .state
        .one_off_commands
        .insert(request.command.clone(), behaviour.clone());
    shared.persist(&world.state);
    (
        StatusCode::CREATED,
        json!({ "command": request.command, "behaviour": behaviour }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_moves_from_starting_to_up_to_exit_and_is_gone() {
        let behaviour = OneOffCommand {
            output: vec!["one".into(), "two".into()],
            exit_status: 3,
            steps: Some(4),
            crash: false,
        };
        let steps = timeline("./x", "me@example.com", &behaviour);
        // start, up, 2 lines, 2 silent, exit, complete
        assert_eq!(steps.len(), 8);
        assert_eq!(steps[0].state.as_deref(), Some("starting"));
        assert_eq!(
            steps[0].line.as_ref().map(|l| l.1.as_str()),
            Some("Starting process with command `./x` by user me@example.com")
        );
        assert_eq!(steps[1].state.as_deref(), Some("up"));
        assert_eq!(
            steps[6].line.as_ref().map(|l| l.1.as_str()),
            Some("Process exited with status 3")
        );
        assert_eq!(steps[7].state.as_deref(), Some("gone"));
        let crash = timeline(
            "./x",
            "me@example.com",
            &OneOffCommand {
                crash: true,
                ..behaviour
            },
        );
        assert_eq!(crash.last().unwrap().state.as_deref(), Some("crashed"));
        assert_eq!(unknown_command("./nope --x").exit_status, 127);
    }
}
