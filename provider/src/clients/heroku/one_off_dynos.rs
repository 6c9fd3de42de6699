//! Following a one-off dyno to its end: log sessions (`POST /apps/{app}/log-sessions`),
//! streaming the session's `logplex_url`, reading Heroku's log line format, finding a
//! one-off dyno whose create answer was lost, and recognising the run a killed apply started.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::own_objects::{is_recent, ADOPTION_WINDOW};
use super::transport::Api;
use super::{
    decode, default_user_agent, parse_body, Dyno, HerokuClient, HerokuError, RequestContext,
    TransportFailure,
};

/// How long connecting to a log stream may take; the stream itself has no overall timeout
/// (it lasts as long as the dyno runs).
const STREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest silence on a log stream before it is given up and reopened.
const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// A log session (`POST /apps/{app}/log-sessions` answer).
#[derive(Clone, Deserialize)]
pub struct LogSession {
    /// Session UUID.
    pub id: Uuid,
    /// Where the session's lines are streamed. Holds the session's credential: never logged.
    pub logplex_url: String,
}

impl std::fmt::Debug for LogSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSession")
            .field("id", &self.id)
            .field("logplex_url", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize)]
struct NewLogSession<'a> {
    /// Heroku's schema names the dyno filter `dyno_name`; none: the whole app's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    dyno_name: Option<&'a str>,
    tail: bool,
    lines: u32,
}

/// Past log lines read when looking for the run a killed apply started: Heroku keeps the
/// last 1500 lines of an app's log.
const OWN_RUN_HISTORY: u32 = 1500;

/// A one-off run found on Heroku rather than started by this apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRun {
    /// Dyno name (`run.1234`).
    pub name: String,
    /// Dyno UUID; `None` when the dyno already finished (Heroku's logs name a dyno, not its
    /// UUID, and a finished one-off dyno is no longer listed).
    pub id: Option<Uuid>,
}

impl From<Dyno> for FoundRun {
    fn from(dyno: Dyno) -> Self {
        FoundRun {
            name: dyno.name,
            id: Some(dyno.id),
        }
    }
}

/// The key under which a destroyed run's dyno is remembered (see `forget_object`).
pub fn run_key(dyno: &str) -> String {
    format!("dyno {dyno}")
}

/// One line of a Heroku log stream: `2026-12-02T10:00:00.000000+00:00 app[run.1234]: text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Timestamp as Heroku wrote it.
    pub timestamp: String,
    /// `app` (the process's own output), `heroku` (the platform), or another source.
    pub source: String,
    /// Dyno (`run.1234`), empty when the line names none.
    pub dyno: String,
    /// The text after `]: `.
    pub message: String,
}

/// What a platform line (`heroku[run.N]: ...`) says about a one-off dyno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DynoEvent {
    /// `Process exited with status N`.
    Exited(i64),
    /// `State changed from A to B`.
    StateChanged {
        /// Previous state.
        from: String,
        /// New state (`up`, `complete`, `crashed`, `down`).
        to: String,
    },
}

impl LogLine {
    /// Parses a logplex line; `None` for lines not in Heroku's format.
    pub fn parse(line: &str) -> Option<LogLine> {
        let (timestamp, rest) = line.split_once(' ')?;
        let (tag, message) = rest.split_once(": ").or_else(|| {
            // A line whose message is empty ends with ":".
            rest.strip_suffix(':').map(|tag| (tag, ""))
        })?;
        let (source, dyno) = match tag.split_once('[') {
            Some((source, dyno)) => (source, dyno.strip_suffix(']')?),
            None => (tag, ""),
        };
        if source.is_empty() || source.contains(' ') || dyno.contains(' ') {
            return None;
        }
        Some(LogLine {
            timestamp: timestamp.to_string(),
            source: source.to_string(),
            dyno: dyno.to_string(),
            message: message.to_string(),
        })
    }

    /// For Heroku's `Starting process with command `…` by user …` line: the command and the
    /// account that started the dyno.
    pub fn started_by(&self) -> Option<(&str, &str)> {
        if self.source != "heroku" {
            return None;
        }
        let rest = self
            .message
            .strip_prefix("Starting process with command `")?;
        rest.rsplit_once("` by user ")
    }

    /// The platform event this line reports, for `heroku` lines.
    pub fn event(&self) -> Option<DynoEvent> {
        if self.source != "heroku" {
            return None;
        }
        if let Some(status) = self.message.strip_prefix("Process exited with status ") {
            return status.trim().parse().ok().map(DynoEvent::Exited);
        }
        let change = self.message.strip_prefix("State changed from ")?;
        let (from, to) = change.split_once(" to ")?;
        Some(DynoEvent::StateChanged {
            from: from.trim().to_string(),
            to: to.trim().to_string(),
        })
    }
}

/// An open log stream, read line by line.
pub struct LogStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    done: bool,
}

impl LogStream {
    /// The next line; `Ok(None)` when the stream ended.
    pub async fn next_line(&mut self) -> Result<Option<String>, HerokuError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let text = String::from_utf8_lossy(&line);
                return Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()));
            }
            if self.done {
                if self.buffer.is_empty() {
                    return Ok(None);
                }
                let rest = std::mem::take(&mut self.buffer);
                return Ok(Some(String::from_utf8_lossy(&rest).into_owned()));
            }
            let chunk = tokio::time::timeout(STREAM_READ_TIMEOUT, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.extend_from_slice(&bytes),
                Ok(Ok(None)) => self.done = true,
                Ok(Err(e)) => return Err(stream_error(TransportFailure::Other, &e.to_string())),
                Err(_) => {
                    return Err(stream_error(
                        TransportFailure::Timeout,
                        "no log line for 5 minutes",
                    ))
                }
            }
        }
    }
}

fn stream_error(kind: TransportFailure, detail: &str) -> HerokuError {
    HerokuError::Transport {
        context: RequestContext::new("reading the log stream"),
        kind,
        detail: detail.to_string(),
    }
}

impl HerokuClient {
    /// Opens a log session on one dyno: `tail` follows new lines, `lines` is how many past
    /// lines come first. A session only reads logs, so repeating the POST is harmless.
    pub async fn create_log_session(
        &self,
        app_id: Uuid,
        dyno: &str,
        tail: bool,
        lines: u32,
    ) -> Result<LogSession, HerokuError> {
        self.open_log_session(app_id, Some(dyno), tail, lines).await
    }

    /// Opens a log session on one dyno, or on the whole app's log when `dyno` is `None`.
    async fn open_log_session(
        &self,
        app_id: Uuid,
        dyno: Option<&str>,
        tail: bool,
        lines: u32,
    ) -> Result<LogSession, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "log-sessions"])?;
        let context = RequestContext::on_app(
            match dyno {
                Some(dyno) => format!("opening a log session on dyno {dyno}"),
                None => "opening a log session".to_string(),
            },
            self.app_label(app_id),
        );
        let body = NewLogSession {
            dyno_name: dyno,
            tail,
            lines,
        };
        let response = self
            .send_write(
                Api::Platform,
                Method::POST,
                url,
                Some(&body),
                true,
                &context,
            )
            .await?;
        let value = parse_body(&response.body, &context, response.status)?;
        let session: LogSession = decode(&value, &context, response.status)?;
        // The URL is the session's credential: masked in every log line from now on.
        tfplugin::log::register_secret(&session.logplex_url);
        Ok(session)
    }

    /// Starts streaming a log session. The stream is not authenticated with the API key
    /// (the URL is its own credential), so the key is not sent to the log host.
    pub async fn open_log_stream(&self, session: &LogSession) -> Result<LogStream, HerokuError> {
        self.open_stream_url(&session.logplex_url, "opening the log stream")
            .await
    }

    /// Opens a text stream at `url` without the API key (the URL is its own credential).
    pub(crate) async fn open_stream_url(
        &self,
        url: &str,
        action: &str,
    ) -> Result<LogStream, HerokuError> {
        let context = RequestContext::new(action);
        let http = reqwest::Client::builder()
            .user_agent(default_user_agent())
            .connect_timeout(STREAM_CONNECT_TIMEOUT)
            .build()
            .map_err(|e| HerokuError::Config(format!("cannot build HTTP client: {e}")))?;
        let response = http
            .get(url)
            .send()
            .await
            .map_err(|e| HerokuError::Transport {
                context: context.clone(),
                kind: if e.is_connect() {
                    TransportFailure::Connect
                } else {
                    TransportFailure::Other
                },
                // Without the URL: it is the session's credential.
                detail: e.without_url().to_string(),
            })?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(HerokuError::Api {
                context,
                status,
                id: "log_stream".to_string(),
                message: format!("the log stream answered HTTP {status}"),
            });
        }
        Ok(LogStream {
            response,
            buffer: Vec::new(),
            done: false,
        })
    }

    /// One dyno, read fresh; `Ok(None)` once it is gone (a finished one-off dyno).
    pub async fn dyno(&self, app_id: Uuid, name: &str) -> Result<Option<Dyno>, HerokuError> {
        Ok(self
            .dynos(app_id)
            .await?
            .into_iter()
            .find(|d| d.name == name))
    }

    /// The run of `command` an earlier, killed apply of this configuration started: a `run`
    /// dyno whose start line in the app's log (`Starting process with command `…` by user
    /// …`; dynos themselves do not say who started them) names this command and this API
    /// key's account, and that still runs or started within [`ADOPTION_WINDOW`]; the newest
    /// such run, never one whose resource this process just destroyed. Looks only at the
    /// app's last 1500 log lines (what Heroku keeps).
    pub async fn find_own_recent_run(
        &self,
        app_id: Uuid,
        command: &str,
    ) -> Result<Option<FoundRun>, HerokuError> {
        let account = self.account().await?;
        let session = self
            .open_log_session(app_id, None, false, OWN_RUN_HISTORY)
            .await?;
        let mut stream = self.open_log_stream(&session).await?;
        // (dyno, start timestamp), oldest first.
        let mut starts: Vec<(String, String)> = Vec::new();
        while let Some(raw) = stream.next_line().await? {
            let Some(line) = LogLine::parse(&raw) else {
                continue;
            };
            if let Some((started, user)) = line.started_by() {
                if started == command && account.is_email(user) && !line.dyno.is_empty() {
                    starts.push((line.dyno.clone(), line.timestamp.clone()));
                }
            }
        }
        if starts.is_empty() {
            return Ok(None);
        }
        let running = self.dynos(app_id).await?;
        for (name, started_at) in starts.into_iter().rev() {
            if self.is_forgotten(&run_key(&name)) {
                continue;
            }
            if let Some(dyno) = running
                .iter()
                .find(|d| d.name == name && d.command == command)
            {
                return Ok(Some(dyno.clone().into()));
            }
            if is_recent(&started_at, ADOPTION_WINDOW) {
                return Ok(Some(FoundRun { name, id: None }));
            }
        }
        Ok(None)
    }

    /// The one-off dyno a POST whose answer was lost started, if it can be seen: a `run`
    /// dyno with this command that was not there before the POST (`before`: the ids then).
    /// Read fresh, never posting again.
    pub async fn find_one_off_since(
        &self,
        app_id: Uuid,
        before: &BTreeSet<Uuid>,
        command: &str,
    ) -> Result<Option<Dyno>, HerokuError> {
        Ok(self
            .dynos(app_id)
            .await?
            .into_iter()
            .filter(|d| !before.contains(&d.id))
            .filter(|d| d.command == command)
            .filter(|d| d.process_type.as_deref().is_none_or(|t| t == "run"))
            .min_by(|a, b| a.created_at.cmp(&b.created_at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heroku_log_lines() {
        let line = LogLine::parse(
            "2026-12-02T10:00:01.123456+00:00 app[run.1234]: Cache cleared: 12 keys",
        )
        .unwrap();
        assert_eq!(line.source, "app");
        assert_eq!(line.dyno, "run.1234");
        assert_eq!(line.message, "Cache cleared: 12 keys");
        assert_eq!(line.event(), None);

        let exit = LogLine::parse(
            "2026-12-02T10:00:02+00:00 heroku[run.1234]: Process exited with status 3",
        )
        .unwrap();
        assert_eq!(exit.event(), Some(DynoEvent::Exited(3)));
        let state = LogLine::parse(
            "2026-12-02T10:00:02+00:00 heroku[run.1234]: State changed from up to complete",
        )
        .unwrap();
        assert_eq!(
            state.event(),
            Some(DynoEvent::StateChanged {
                from: "up".into(),
                to: "complete".into()
            })
        );
        let start = LogLine::parse(
            "2026-12-02T10:00:00+00:00 heroku[run.1234]: Starting process with command `./manage.py x --y` by user ci@example.com",
        )
        .unwrap();
        assert_eq!(
            start.started_by(),
            Some(("./manage.py x --y", "ci@example.com"))
        );
        assert_eq!(start.event(), None);
        let empty = LogLine::parse("2026-12-02T10:00:02+00:00 app[run.1]:").unwrap();
        assert_eq!(empty.message, "");
        // Output that merely looks like a platform line is not one.
        let fake =
            LogLine::parse("2026-12-02T10:00:02+00:00 app[run.1]: Process exited with status 0")
                .unwrap();
        assert_eq!(fake.event(), None);
        assert_eq!(LogLine::parse("not a log line"), None);
    }
}
